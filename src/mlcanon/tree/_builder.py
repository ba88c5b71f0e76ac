"""CART growth, depth-first or best-first, on top of the split search (numba).

Every node, when it is created, gets its statistics, its impurity and its best split (see
:mod:`mlcanon.tree._splitter`); the split is kept when it decreases the weighted impurity by at
least ``min_impurity_decrease``. Then the node's samples are partitioned around the split.

- Depth-first (no ``max_leaf_nodes``): a stack of pending nodes; nodes are numbered in pre-order
  (a node, then its left subtree, then its right subtree), as in scikit-learn.
- Best-first (``max_leaf_nodes`` given): a max-heap of split nodes keyed by their impurity
  decrease; the best one is expanded (its two children created, left first, and evaluated)
  until ``max_leaf_nodes - 1`` splits are made, and the nodes left on the heap become leaves.

Under monotonicity constraints every node also carries bounds on its value, which a child
inherits from its parent when it is linked to it (see :mod:`mlcanon.tree._monotonic`). The
constraints ``cst`` and the ``bounds`` travel as arguments of their own, ``None`` when there are
no constraints: numba then compiles a version of the growth in which every ``cst is None`` test
is decided, and the unconstrained trees run the code they ran before constraints existed.

References
----------
Breiman et al. (1984). Classification and Regression Trees, ch. 2-4.
Friedman, Hastie, Tibshirani (2000). Additive logistic regression (best-first trees), sec. 10.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ._absolute_error import new_scratch
from ._criterion import ABSOLUTE_ERROR, CRIT, EPSILON, WEIGHT, YVAL, add_sample, impurity
from ._monotonic import LOWER, MIDDLE, UPPER, inherit_bounds, middle_value, new_bounds
from ._splitter import LEFT, RIGHT, find_split

LEAF = -1
# Growth settings (``limits``, float64[5]): maximum depth, samples and weight a node needs to be
# split, minimum impurity decrease of a split, and max_leaf_nodes (0: unbounded, depth-first).
MAX_DEPTH, MIN_SPLIT, MIN_WEIGHT_SPLIT, MIN_DECREASE, MAX_LEAF_NODES = 0, 1, 2, 3, 4
# A pending node (int64[5]): its sample range, depth, and either its parent and side
# (depth-first stack) or its own id and the first index of its right child (best-first heap).
START, END, DEPTH, PARENT, IS_LEFT = 0, 1, 2, 3, 4
NODE, MID = 3, 4


@njit(cache=True, nogil=True)
def _node_stats(s, target, samples, start, end):
    s[:] = 0.0
    w, w_node = target[WEIGHT], 0.0
    for p in range(start, end):
        add_sample(s, target, samples[p], 1.0)
        w_node += w[samples[p]]
    return w_node


@njit(cache=True, nogil=True)
def _partition(XT, samples, start, end, feature, threshold, missing_left, buf):
    """Stable partition of ``samples[start:end]``; return the first index of the right child."""
    col = XT[feature]
    n_left = 0
    n_right = 0
    for p in range(start, end):
        i = samples[p]
        x = col[i]
        go_left = missing_left if np.isnan(x) else x <= threshold
        if go_left:
            samples[start + n_left] = i
            n_left += 1
        else:
            buf[n_right] = i
            n_right += 1
    samples[start + n_left : end] = buf[:n_right]
    return start + n_left


@njit(cache=True, nogil=True)
def _decrease(target, samples, start, mid, end, imp, total, w_node, ws, w_root):
    """scikit-learn's weighted impurity decrease of a split:
    ``N_t / N * (impurity - N_tR / N_t * right_impurity - N_tL / N_t * left_impurity)``, and the
    weight of the left child (the children's statistics are left in ``ws[LEFT]``,
    ``ws[RIGHT]``)."""
    s_l, s_r = ws[LEFT], ws[RIGHT]
    w_l = _node_stats(s_l, target, samples, start, mid)
    for c in range(s_r.shape[0]):  # by hand: ``total - s_l`` would allocate at every node
        s_r[c] = total[c] - s_l[c]
    w_r = w_node - w_l
    imp_l = impurity(target, s_l, w_l, samples, start, mid)
    imp_r = impurity(target, s_r, w_r, samples, mid, end)
    return (w_node / w_root) * (imp - w_r / w_node * imp_r - w_l / w_node * imp_l), w_l


@njit(cache=True, nogil=True)
def _new_nodes(cap, n_stats):
    """Empty node arrays: left, right, feature, threshold, missing_left, impurity, n_samples,
    weighted_n_samples, stats (scikit-learn's ``Tree`` fields, and the nodes' statistics)."""
    return (
        np.full(cap, LEAF, np.int64),
        np.full(cap, LEAF, np.int64),
        np.full(cap, -2, np.int64),
        np.full(cap, -2.0),
        np.zeros(cap, np.bool_),
        np.zeros(cap),
        np.zeros(cap, np.int64),
        np.zeros(cap),
        np.zeros((cap, n_stats)),
    )


@njit(cache=True, nogil=True)
def _trim(nodes, n):
    """Copies of the first ``n`` entries of every node array."""
    left, right, feature, threshold, missing_left, imp, n_samples, wn, stats = nodes
    return (
        left[:n].copy(),
        right[:n].copy(),
        feature[:n].copy(),
        threshold[:n].copy(),
        missing_left[:n].copy(),
        imp[:n].copy(),
        n_samples[:n].copy(),
        wn[:n].copy(),
        stats[:n].copy(),
    )


@njit(cache=True, nogil=True)
def _evaluate(data, search, nodes, limits, node, start, end, depth, w_root, cst, bounds):
    """Fill node ``node`` (``samples[start:end]``), find its split and partition its samples.

    Returns ``(mid, decrease)``; ``mid`` is the first sample of the right child, -1 when the
    node stays a leaf. A split node under monotonicity constraints records its children's
    middle value.
    """
    XT, target, samples, buf = data
    features, rules, rng, ws = search
    feat_a, thr_a, miss_a, imp_a, n_a, wn_a, stats_a = nodes[2:]
    total = stats_a[node]
    w_node = _node_stats(total, target, samples, start, end)
    imp = impurity(target, total, w_node, samples, start, end)
    n_node = end - start
    imp_a[node], n_a[node], wn_a[node] = imp, n_node, w_node
    if (
        depth >= limits[MAX_DEPTH]
        or n_node < limits[MIN_SPLIT]
        or w_node < limits[MIN_WEIGHT_SPLIT]
        or imp <= EPSILON
    ):
        return -1, 0.0
    if cst is None:
        lower, upper = -np.inf, np.inf
    else:
        lower, upper = bounds[node, LOWER], bounds[node, UPPER]
    f, thr, mleft, n_left = find_split(
        XT, target, samples, start, end, total, w_node, features, rules, rng, ws, cst, lower, upper
    )
    if f < 0:
        return -1, 0.0
    mid = _partition(XT, samples, start, end, f, thr, mleft, buf)
    if mid != start + n_left:
        raise RuntimeError("partition disagrees with the split search")
    decrease, w_l = _decrease(target, samples, start, mid, end, imp, total, w_node, ws, w_root)
    if decrease + EPSILON < limits[MIN_DECREASE]:
        return -1, 0.0
    feat_a[node], thr_a[node], miss_a[node] = f, thr, mleft
    if cst is not None:
        bounds[node, MIDDLE] = middle_value(target, ws[LEFT], w_l, ws[RIGHT], w_node - w_l)
    return mid, decrease


@njit(cache=True, nogil=True)
def _set(row, a, b, c, d, e):
    row[0], row[1], row[2], row[3], row[4] = a, b, c, d, e


@njit(cache=True, nogil=True)
def _get(row):
    return row[0], row[1], row[2], row[3], row[4]


@njit(cache=True, nogil=True)
def _link(nodes, cst, bounds, parent, is_left, node):
    """Make ``node`` a child of ``parent`` (none for the root), inheriting its bounds."""
    if parent >= 0:
        (nodes[0] if is_left else nodes[1])[parent] = node
        if cst is not None:
            inherit_bounds(bounds, cst, nodes[2], parent, is_left, node)


@njit(cache=True, nogil=True)
def _grow_depth_first(data, search, nodes, limits, n, w_root, cst, bounds):
    stack = np.zeros((n + 1, 5), np.int64)  # pending nodes, columns START ... IS_LEFT
    _set(stack[0], 0, n, 0, -1, 0)
    top, n_nodes = 1, 0
    while top > 0:
        top -= 1
        start, end, depth, parent, is_left = _get(stack[top])
        node = n_nodes
        n_nodes += 1
        _link(nodes, cst, bounds, parent, is_left, node)
        mid, _ = _evaluate(
            data, search, nodes, limits, node, start, end, depth, w_root, cst, bounds
        )
        if mid < 0:
            continue
        _set(stack[top], mid, end, depth + 1, node, 0)  # the right child waits below the left
        _set(stack[top + 1], start, mid, depth + 1, node, 1)
        top += 2
    return n_nodes


@njit(cache=True, nogil=True)
def _heap_swap(key, rec, i, j):
    key[i], key[j] = key[j], key[i]
    for c in range(rec.shape[1]):
        rec[i, c], rec[j, c] = rec[j, c], rec[i, c]


@njit(cache=True, nogil=True)
def _heap_push(key, rec, size, value, start, end, depth, node, mid):
    """Insert a split node keyed by its impurity decrease; return the new heap size."""
    key[size] = value
    _set(rec[size], start, end, depth, node, mid)
    i = size
    while i > 0 and key[(i - 1) // 2] < key[i]:
        _heap_swap(key, rec, i, (i - 1) // 2)
        i = (i - 1) // 2
    return size + 1


@njit(cache=True, nogil=True)
def _heap_pop(key, rec, size):
    """Move the largest entry to position ``size - 1``; return the new heap size."""
    size -= 1
    _heap_swap(key, rec, 0, size)
    i = 0
    while True:
        c = 2 * i + 1
        if c >= size:
            return size
        if c + 1 < size and key[c + 1] > key[c]:
            c += 1
        if key[i] >= key[c]:
            return size
        _heap_swap(key, rec, i, c)
        i = c


@njit(cache=True, nogil=True)
def _grow_best_first(data, search, nodes, limits, n, w_root, cst, bounds):
    key, rec = np.zeros(n + 1), np.zeros((n + 1, 5), np.int64)
    splits_left = int(limits[MAX_LEAF_NODES]) - 1
    mid, gain = _evaluate(data, search, nodes, limits, 0, 0, n, 0, w_root, cst, bounds)
    size = _heap_push(key, rec, 0, gain, 0, n, 0, 0, mid) if mid >= 0 else 0
    n_nodes = 1
    while size > 0:
        size = _heap_pop(key, rec, size)
        start, end, depth, node, mid = _get(rec[size])
        if splits_left <= 0:  # the split stays unmade: the node becomes a leaf
            nodes[2][node], nodes[3][node], nodes[4][node] = -2, -2.0, False
            continue
        splits_left -= 1
        for lo, hi, is_left in ((start, mid, 1), (mid, end, 0)):
            child = n_nodes
            n_nodes += 1
            _link(nodes, cst, bounds, node, is_left, child)
            c_mid, gain = _evaluate(
                data, search, nodes, limits, child, lo, hi, depth + 1, w_root, cst, bounds
            )
            if c_mid >= 0:
                size = _heap_push(key, rec, size, gain, lo, hi, depth + 1, child, c_mid)
    return n_nodes


@njit(cache=True, nogil=True)
def build_tree(XT, target, n_stats, rules, limits, seed, cst):
    """Grow a CART tree on the samples with positive weight; return its node arrays.

    ``target`` is the criterion's tuple (see :mod:`mlcanon.tree._criterion`), ``rules`` the
    split-search settings (see :mod:`mlcanon.tree._splitter`), ``limits`` the growth settings
    (``MAX_DEPTH`` ... ``MAX_LEAF_NODES``) and ``cst`` the monotonicity constraint of each
    feature (int8, or None). Returns ``(left, right, feature, threshold, missing_left,
    impurity, n_samples, weighted_n_samples, stats)`` trimmed to the number of nodes
    (``stats[node]`` holds the node's statistics), and the nodes' bounds (``LOWER``, ``UPPER``,
    ``MIDDLE`` columns; None without constraints).
    """
    w = target[WEIGHT]
    samples = np.flatnonzero(w > 0.0)
    n = samples.shape[0]
    nodes = _new_nodes(2 * n, n_stats)
    data = (XT, target, samples, np.empty(n, np.int64))
    vals, ids = np.empty(n, XT.dtype), np.empty(n, np.int64)
    n_mae = n if target[CRIT] == ABSOLUTE_ERROR else 1
    mae = new_scratch(w.shape[0] if n_mae > 1 else 1, n_mae, target[YVAL].shape[1])
    stats = (np.zeros(n_stats), np.zeros(n_stats), np.zeros(n_stats))  # MISS, LEFT, RIGHT
    ws = (vals, ids, *stats, np.zeros(4), mae, np.empty(128, np.int64))
    rng = np.array([np.uint64(seed) * np.uint64(2) + np.uint64(1)])
    search = (np.arange(XT.shape[0]), rules, rng, ws)
    if cst is None:
        bounds = None
    else:
        bounds = new_bounds(2 * n)
    w_root = 0.0
    for i in samples:
        w_root += w[i]
    if limits[MAX_LEAF_NODES] > 0:
        n_nodes = _grow_best_first(data, search, nodes, limits, n, w_root, cst, bounds)
    else:
        n_nodes = _grow_depth_first(data, search, nodes, limits, n, w_root, cst, bounds)
    if cst is None:
        return _trim(nodes, n_nodes), None
    return _trim(nodes, n_nodes), bounds[:n_nodes].copy()


@njit(cache=True, nogil=True, inline="always")
def _child(X, r, node, left, right, feature, threshold, missing_left):
    """The child of split ``node`` that row ``r`` of ``X`` goes to."""
    x = X[r, feature[node]]
    go_left = missing_left[node] if np.isnan(x) else x <= threshold[node]
    return left[node] if go_left else right[node]


@njit(cache=True, nogil=True)
def apply_tree(X, left, right, feature, threshold, missing_left):
    """Leaf index of every row of ``X`` (float32, n x d)."""
    out = np.empty(X.shape[0], np.int64)
    for r in range(X.shape[0]):
        node = 0
        while left[node] != LEAF:
            node = _child(X, r, node, left, right, feature, threshold, missing_left)
        out[r] = node
    return out


@njit(cache=True, nogil=True)
def path_tree(X, left, right, feature, threshold, missing_left, depth):
    """Nodes visited by every row of ``X``, as CSR ``(indptr, indices)``; paths are at most
    ``depth`` splits long."""
    indptr = np.zeros(X.shape[0] + 1, np.int64)
    indices = np.empty(X.shape[0] * (depth + 1), np.int64)
    k = 0
    for r in range(X.shape[0]):
        node = 0
        indices[k] = 0
        k += 1
        while left[node] != LEAF:
            node = _child(X, r, node, left, right, feature, threshold, missing_left)
            indices[k] = node
            k += 1
        indptr[r + 1] = k
    return indptr, indices[:k]
