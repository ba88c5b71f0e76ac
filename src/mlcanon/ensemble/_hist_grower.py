"""Depth-wise growth of one regression tree on gradient/hessian histograms.

Level by level: build the histograms of the nodes to split (only the smaller child is built; the
larger one is its parent minus it), score every bin boundary of every feature
(:func:`~mlcanon.ensemble._hist_kernels.find_splits`), split the nodes whose best gain exceeds
``gamma`` (and a tiny tolerance), and partition their samples. Leaves take the Newton step
:math:`w^* = -T_\\alpha(G) / (H + \\lambda)`, shrunk by ``learning_rate`` (0 for a leaf
whose :math:`H` is below ``min_child_weight``: the root of a tree that cannot split, e.g.
once a logistic margin saturates).

Nodes are numbered breadth-first; the tree is returned as parallel arrays.

References
----------
Chen, Guestrin (2016). XGBoost: A Scalable Tree Boosting System, KDD, sec. 2.2 and 3.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._hist_kernels import (
    LEAF,
    add_leaf_values,
    add_tree_binned,
    build_histograms,
    child_sums,
    find_splits,
    leaf_weights,
    partition,
    subtract_siblings,
)

MIN_GAIN = 1e-6  # below this a split is numerical noise (xgboost's kRtEps)
TIE = 1e-10  # relative gap under which two gains are the same up to rounding


@dataclass(frozen=True)
class GrowParams:
    max_depth: int
    learning_rate: float
    reg_lambda: float
    reg_alpha: float
    gamma: float
    min_child_weight: float
    missing_bin: int


def _interleave(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``[a[0], b[0], a[1], b[1], ...]``: the values of left and right children in id order."""
    out = np.empty(2 * a.shape[0], a.dtype)
    out[0::2], out[1::2] = a, b
    return out


class RowBlock:
    """The rows a tree is grown on, in one process: bins, gradients and each node's samples.

    Node ``v``'s samples are ``idx[start[v]:end[v]]``; children get the next ids, left then
    right for each split node in order, as :func:`grow_tree` numbers them. The data-parallel
    booster holds one block per row partition and sums what the blocks return.
    """

    def __init__(self, binned: np.ndarray, missing_bin: int) -> None:
        """``binned``: the bins, feature-major (n_features, n_samples)."""
        d, n = binned.shape
        width = -(-d * binned.itemsize // 8) * 8 // binned.itemsize  # rows of whole 8-byte words
        self.binned_rows = np.zeros((n, width), binned.dtype)  # row-major
        self.binned_rows[:, :d] = binned.T
        # one record per sample: the partition copies a row as one fixed-size block
        self.record = np.dtype([("bins", binned.dtype, (width,))])
        self.missing_bin = missing_bin
        self._buffers: list = []  # two (rows, gradient pairs) buffers, used in turn

    def start_tree(self, g: np.ndarray, h: np.ndarray, rows: np.ndarray) -> tuple:
        """Begin a tree on ``rows``; return the root's ``(G, H, n_samples)``."""
        self.idx = rows.astype(np.int64, copy=True)
        n = self.idx.shape[0]
        if not self._buffers or self._buffers[0][0].shape[0] != n:
            shape, dtype = (n, self.binned_rows.shape[1]), self.binned_rows.dtype
            self._buffers = [(np.empty(shape, dtype), np.empty((n, 2))) for _ in range(2)]
            self._buf_idx = np.empty_like(self.idx)
        # the tree's samples in node order: bins and gradient pairs move with them
        self.rows, self.gh = self._buffers[0]
        if n == self.binned_rows.shape[0] and np.all(self.idx[1:] > self.idx[:-1]):
            self.rows = self.binned_rows  # every row in order: read them in place
        else:
            np.take(self.binned_rows, self.idx, axis=0, out=self.rows)
        np.take(g, self.idx, out=self.gh[:, 0])
        np.take(h, self.idx, out=self.gh[:, 1])
        self.start, self.end = np.array([0]), np.array([n])
        return float(self.gh[:, 0].sum()), float(self.gh[:, 1].sum()), n

    def histograms(self, nodes, features, out, slots) -> None:
        """``out[slots[j]]`` = histogram of node ``nodes[j]`` over ``features``."""
        build_histograms(
            self.rows,
            self.gh,
            self.start,
            self.end,
            np.asarray(nodes),
            features,
            out,
            np.asarray(slots),
        )

    def split(self, nodes, feats, bins, lefts, last: bool = False) -> np.ndarray:
        """Partition the samples of each node in ``nodes``; return each one's left count.

        ``last``: the children are leaves, so only the sample ids need to move.
        """
        nodes = np.asarray(nodes)
        mids = np.empty(nodes.shape[0], np.int64)
        start, end = self.start, self.end
        if last:
            rows, gh = self.rows[:0], self.gh[:0]
        else:  # the buffer pair not being read
            rows, gh = self._buffers[1] if self.gh is self._buffers[0][1] else self._buffers[0]
        partition(
            self.rows,
            self.rows.view(self.record)[:, 0],
            self.gh,
            self.idx,
            start,
            end,
            nodes,
            feats,
            bins,
            lefts,
            self.missing_bin,
            (rows.view(self.record)[:, 0], gh, self._buf_idx),
            mids,
        )
        if not last:
            self.rows, self.gh = rows, gh
        # the children's ranges, left then right for each node in order
        self.start = np.concatenate([start, _interleave(start[nodes], mids)])
        self.end = np.concatenate([end, _interleave(mids, end[nodes])])
        return mids - start[nodes]

    def add_leaf_values(self, tree: dict[str, np.ndarray], out: np.ndarray) -> None:
        """``out[i] +=`` the value of the leaf holding sample ``i`` (grown on every row)."""
        leaves = np.flatnonzero(tree["left"] == LEAF)
        add_leaf_values(self.idx, self.start, self.end, leaves, tree["value"], out)


def add_tree(binned: np.ndarray, missing_bin: int, tree: dict, out: np.ndarray) -> None:
    """``out[i] +=`` the value of the leaf that sample ``i`` of ``binned`` reaches in ``tree``."""
    add_tree_binned(
        binned,
        missing_bin,
        tree["left"],
        tree["right"],
        tree["feature"],
        tree["split_bin"],
        tree["default_left"],
        tree["value"],
        out,
    )


def grow_tree(
    data: RowBlock,
    g: np.ndarray,
    h: np.ndarray,
    rows: np.ndarray,
    features: np.ndarray,
    n_bins: np.ndarray,
    edges: np.ndarray,
    p: GrowParams,
) -> dict[str, np.ndarray]:
    """Grow one tree on the samples ``rows`` using ``features``; return its node arrays.

    ``g``/``h`` are per-sample gradients/hessians (already multiplied by sample weights).
    ``data`` supplies histograms and partitions (a :class:`RowBlock`, or an object with the
    same methods that sums them over row partitions).
    """
    G, H, n = data.start_tree(g, h, rows)
    return grow_from(data, (G, H, n), features, n_bins, edges, p, edges.shape[0])


def grow_from(data, root: tuple, features, n_bins, edges, p: GrowParams, n_features: int):
    """The level-by-level loop of :func:`grow_tree` once ``data`` holds the tree's gradients.

    Each level is a handful of array operations, whatever its number of nodes: the nodes'
    sums and the chosen splits are kept as one array per level.
    """
    G, H, count = np.array([root[0]]), np.array([root[1]]), np.array([root[2]], np.int64)
    level = np.array([0])  # ids of this level's nodes (breadth-first numbering)
    sums = [(G, H)]  # (G, H) of every level's nodes
    splits = []  # per level: (split nodes, feature, bin, default left, gain)
    hist = np.empty((1, n_features, p.missing_bin + 1, 2))
    data.histograms([0], features, hist, [0])
    for depth in range(p.max_depth):
        gain = np.empty((level.shape[0], features.shape[0]))
        sbin = np.empty(gain.shape, np.int64)
        dleft = np.empty(gain.shape, np.bool_)
        find_splits(
            hist,
            np.column_stack([G, H]),
            features,
            n_bins,
            p.missing_bin,
            p.reg_lambda,
            p.reg_alpha,
            p.min_child_weight,
            gain,
            sbin,
            dleft,
        )
        # the first feature within rounding of the best gain: two features that cut a node into
        # the same two sets tie exactly, and summing in another order (per row partition on a
        # cluster) must not change which one is chosen
        top = gain.max(axis=1, keepdims=True)
        best = np.argmax(gain >= top - TIE * np.abs(top), axis=1)
        best_gain = gain[np.arange(gain.shape[0]), best]
        sel = np.flatnonzero((best_gain > MIN_GAIN) & (best_gain >= p.gamma))
        if sel.shape[0] == 0:
            break
        feats, bins, lefts = features[best[sel]], sbin[sel, best[sel]], dleft[sel, best[sel]]
        n_lefts = np.asarray(data.split(level[sel], feats, bins, lefts, depth + 1 == p.max_depth))
        splits.append((level[sel], feats, bins, lefts, best_gain[sel]))
        GL_HL = np.empty((sel.shape[0], 2))
        child_sums(hist, sel, feats, bins, lefts, p.missing_bin, GL_HL)
        # children: left then right for each split node, numbered after every node so far
        G = _interleave(GL_HL[:, 0], G[sel] - GL_HL[:, 0])
        H = _interleave(GL_HL[:, 1], H[sel] - GL_HL[:, 1])
        n_rights = count[sel] - n_lefts
        count = _interleave(n_lefts, n_rights)
        n_before = sum(g.shape[0] for g, _ in sums)
        level = n_before + np.arange(G.shape[0])
        sums.append((G, H))
        if depth + 1 == p.max_depth:
            break
        small_is_left = n_lefts <= n_rights
        hist = _children_histograms(data, features, hist, sel, level, small_is_left)
    return _to_arrays(sums, splits, edges, p)


def _children_histograms(data, features, parent_hist, parent_pos, children, small_is_left):
    """Histograms of the next level: build the smaller child, subtract it from the parent.

    Pair ``k`` (``children[2k]``, ``children[2k + 1]``, whose parent's histogram is
    ``parent_hist[parent_pos[k]]``) fills ``out[2k]`` (left) and ``out[2k + 1]`` (right);
    only the histograms of the tree's features are filled (colsample_bytree).
    """
    slots = 2 * np.arange(small_is_left.shape[0]) + np.where(small_is_left, 0, 1)
    out = np.empty((2 * small_is_left.shape[0], *parent_hist.shape[1:]))
    data.histograms(children[slots], features, out, slots)
    subtract_siblings(parent_hist, out, parent_pos, small_is_left, features)
    return out


def _to_arrays(sums, splits, edges, p: GrowParams) -> dict[str, np.ndarray]:
    G = np.concatenate([g for g, _ in sums])
    H = np.concatenate([h for _, h in sums])
    n = G.shape[0]
    left = np.full(n, LEAF, np.int64)
    right = np.full(n, LEAF, np.int64)
    feature = np.zeros(n, np.int64)
    split_bin = np.zeros(n, np.int64)
    default_left = np.zeros(n, np.bool_)
    gain = np.zeros(n)
    first_child = 1  # children are numbered in the order their parents split
    for nodes, feats, bins, lefts, gains in splits:
        left[nodes] = first_child + 2 * np.arange(nodes.shape[0])
        right[nodes] = left[nodes] + 1
        feature[nodes], split_bin[nodes], default_left[nodes], gain[nodes] = (
            feats,
            bins,
            lefts,
            gains,
        )
        first_child += 2 * nodes.shape[0]
    # a split on the last bin boundary of a feature has no finite edge
    inner = split_bin < edges.shape[1]
    threshold = np.where(inner, edges[feature, np.where(inner, split_bin, 0)], np.inf)
    threshold[left == LEAF] = 0.0
    value = np.empty(n)
    leaf_weights(G, H, p.reg_lambda, p.reg_alpha, p.min_child_weight, value)
    return {
        "left": left,
        "right": right,
        "feature": feature,
        "split_bin": split_bin,
        "threshold": threshold,
        "default_left": default_left,
        "value": value * p.learning_rate,
        "gain": gain,
        "cover": H,
    }
