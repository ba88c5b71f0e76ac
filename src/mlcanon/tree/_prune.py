"""Minimal cost-complexity pruning (CART's weakest-link pruning).

With :math:`R(t) = \\frac{w_t}{w} I_t` the weighted impurity of node :math:`t` and
:math:`R(T_t)` the sum of :math:`R` over the leaves of the branch :math:`T_t` below it, the
branch whose removal costs least per leaf,

.. math:: g(t) = \\frac{R(t) - R(T_t)}{|\\tilde T_t| - 1},

is collapsed into a leaf, again and again. The successive minima of :math:`g` are the
*effective alphas* of the pruning path; pruning with ``ccp_alpha`` keeps collapsing while the
weakest link's :math:`g` is at most ``ccp_alpha``.

References
----------
Breiman, Friedman, Olshen, Stone (1984). Classification and Regression Trees, ch. 3.3.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ._builder import LEAF
from ._tree import Tree

__all__ = ["prune", "pruning_path"]


@njit(cache=True, nogil=True)
def _branches(left, right, r_node):
    """Parent of each node, and the weighted impurity and leaf count of each node's branch."""
    n = left.shape[0]
    parent = np.full(n, -1, np.int64)
    for t in range(n):
        if left[t] != LEAF:
            parent[left[t]] = t
            parent[right[t]] = t
    r_branch, n_leaves = np.zeros(n), np.zeros(n, np.int64)
    for t in range(n - 1, -1, -1):  # children come after their parent
        if left[t] == LEAF:
            r_branch[t], n_leaves[t] = r_node[t], 1
        else:
            r_branch[t] = r_branch[left[t]] + r_branch[right[t]]
            n_leaves[t] = n_leaves[left[t]] + n_leaves[right[t]]
    return parent, r_branch, n_leaves


@njit(cache=True, nogil=True)
def _collapse(t, left, right, parent, r_node, r_branch, n_leaves, kept, candidate):
    """Turn node ``t`` into a leaf: drop its descendants and update its ancestors' branches."""
    stack = [left[t], right[t]]
    while stack:
        u = stack.pop()
        kept[u], candidate[u] = False, False
        if left[u] != LEAF:
            stack.append(left[u])
            stack.append(right[u])
    candidate[t] = False
    lost, r_diff = n_leaves[t] - 1, r_node[t] - r_branch[t]
    n_leaves[t], r_branch[t] = 1, r_node[t]
    u = parent[t]
    while u >= 0:
        n_leaves[u] -= lost
        r_branch[u] += r_diff
        u = parent[u]


@njit(cache=True, nogil=True)
def _weakest_links(left, right, weighted_n, impurity, ccp_alpha):
    """Prune while the weakest link's alpha is <= ``ccp_alpha``; return the kept nodes, the
    effective alphas and the total leaf impurities of the successive subtrees."""
    n = left.shape[0]
    r_node = weighted_n * impurity / weighted_n[0]
    parent, r_branch, n_leaves = _branches(left, right, r_node)
    kept, candidate = np.ones(n, np.bool_), left != LEAF
    alphas, impurities = [0.0], [r_branch[0]]
    while candidate[0]:
        best, alpha = -1, np.inf
        for t in range(n):
            if candidate[t]:
                g = (r_node[t] - r_branch[t]) / (n_leaves[t] - 1)
                if g < alpha:
                    best, alpha = t, g
        if alpha > ccp_alpha:
            break
        _collapse(best, left, right, parent, r_node, r_branch, n_leaves, kept, candidate)
        alphas.append(alpha)
        impurities.append(r_branch[0])
    return kept, candidate, np.array(alphas), np.array(impurities)


def pruning_path(tree: Tree) -> tuple[np.ndarray, np.ndarray]:
    """Effective alphas and subtree leaf impurities of the whole pruning sequence."""
    args = (tree.children_left, tree.children_right, tree.weighted_n_node_samples, tree.impurity)
    _, _, alphas, impurities = _weakest_links(*args, np.inf)
    return alphas, impurities


def prune(tree: Tree, ccp_alpha: float) -> Tree:
    """The subtree kept by pruning with ``ccp_alpha``, its nodes renumbered in pre-order."""
    args = (tree.children_left, tree.children_right, tree.weighted_n_node_samples, tree.impurity)
    _, split, _, _ = _weakest_links(*args, ccp_alpha)  # the splits left uncollapsed
    old = _preorder(tree.children_left, tree.children_right, split)
    new_id = np.full(tree.node_count, -1)
    new_id[old] = np.arange(len(old))
    is_split = split[old]
    arrays = {name: getattr(tree, name)[old].copy() for name in Tree._ARRAYS}
    arrays["children_left"] = np.where(is_split, new_id[tree.children_left[old]], LEAF)
    arrays["children_right"] = np.where(is_split, new_id[tree.children_right[old]], LEAF)
    arrays["feature"] = np.where(is_split, arrays["feature"], -2)
    arrays["threshold"] = np.where(is_split, arrays["threshold"], -2.0)
    arrays["missing_go_to_left"] &= is_split
    return Tree(n_features=tree.n_features, n_classes=tree.n_classes, **arrays)


def _preorder(left: np.ndarray, right: np.ndarray, split: np.ndarray) -> np.ndarray:
    """Node ids in pre-order, descending only into the nodes marked ``split``."""
    order, stack = [], [0]
    while stack:
        t = stack.pop()
        order.append(t)
        if split[t]:
            stack.extend((right[t], left[t]))
    return np.array(order, dtype=np.int64)
