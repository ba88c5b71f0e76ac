"""Depth-wise growth of one regression tree on gradient/hessian histograms.

Level by level: build the histograms of the nodes to split (only the smaller child is built; the
larger one is its parent minus it), score every bin boundary of every feature
(:func:`~mlcanon.ensemble._hist_kernels.find_splits`), split the nodes whose best gain exceeds
``gamma`` (and a tiny tolerance), and partition their samples. Leaves take the Newton step
:math:`w^* = -T_\\alpha(G) / (H + \\lambda)`, shrunk by ``learning_rate``.

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
    build_histograms,
    find_splits,
    leaf_weight,
    partition,
    subtract_siblings,
)

MIN_GAIN = 1e-6  # below this a split is numerical noise (xgboost's kRtEps)


@dataclass(frozen=True)
class GrowParams:
    max_depth: int
    learning_rate: float
    reg_lambda: float
    reg_alpha: float
    gamma: float
    min_child_weight: float
    missing_bin: int


@dataclass
class _Nodes:
    """Growing node table (Python lists; a depth-6 tree has at most 127 nodes)."""

    start: list[int]
    end: list[int]
    G: list[float]
    H: list[float]

    def add(self, start: int, end: int, G: float, H: float) -> int:
        self.start.append(start)
        self.end.append(end)
        self.G.append(G)
        self.H.append(H)
        return len(self.start) - 1


def _child_sums(hist_f: np.ndarray, t: int, missing_left: bool, missing_bin: int) -> tuple:
    """(G, H) of the left child from the histogram of the split feature."""
    GL, HL = hist_f[: t + 1].sum(axis=0)
    if missing_left:
        GL, HL = GL + hist_f[missing_bin, 0], HL + hist_f[missing_bin, 1]
    return float(GL), float(HL)


@dataclass(frozen=True)
class LeafRows:
    """Where each node's samples ended up: ``idx[start[node]:end[node]]``."""

    idx: np.ndarray
    start: np.ndarray
    end: np.ndarray


def grow_tree(
    binned: np.ndarray,
    binned_rows: np.ndarray,
    g: np.ndarray,
    h: np.ndarray,
    rows: np.ndarray,
    features: np.ndarray,
    n_bins: np.ndarray,
    edges: np.ndarray,
    p: GrowParams,
) -> tuple[dict[str, np.ndarray], LeafRows]:
    """Grow one tree on the samples ``rows`` using ``features``; return its node arrays.

    ``binned`` is (n_features, n_samples) and ``binned_rows`` the same bins row-major;
    ``g``/``h`` are per-sample gradients/hessians (already multiplied by sample weights).
    Also returns the samples of every node (:class:`LeafRows`).
    """
    n_features, n_total_bins = binned.shape[0], p.missing_bin + 1
    idx = rows.astype(np.int64, copy=True)
    buf = np.empty_like(idx)
    nodes = _Nodes([0], [idx.shape[0]], [float(g[idx].sum())], [float(h[idx].sum())])
    split_of: dict[int, tuple[int, int, bool, float]] = {}
    children: dict[int, tuple[int, int]] = {}
    level = np.array([0])
    hist = np.empty((1, n_features, n_total_bins, 2))
    gh = np.column_stack((g, h))  # (n_samples, 2): a sample's pair in one cache line
    build_histograms(
        binned_rows, gh, idx, np.array(nodes.start), np.array(nodes.end), level, features, hist
    )
    for depth in range(p.max_depth):
        totals = np.column_stack([np.array(nodes.G)[level], np.array(nodes.H)[level]])
        gain = np.empty((level.shape[0], features.shape[0]))
        sbin = np.empty(gain.shape, np.int64)
        dleft = np.empty(gain.shape, np.bool_)
        find_splits(
            hist,
            totals,
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
        best = np.argmax(gain, axis=1)
        chosen = [
            j
            for j in range(level.shape[0])
            if gain[j, best[j]] > MIN_GAIN and gain[j, best[j]] >= p.gamma
        ]
        if not chosen:
            break
        sel = np.array(chosen)
        feats = features[best[sel]]
        bins = sbin[sel, best[sel]]
        lefts = dleft[sel, best[sel]]
        mids = np.empty(sel.shape[0], np.int64)
        partition(
            binned,
            idx,
            np.array(nodes.start),
            np.array(nodes.end),
            level[sel],
            feats,
            bins,
            lefts,
            p.missing_bin,
            buf,
            mids,
        )
        next_level, small, parent_pos, small_is_left = [], [], [], []
        for k, j in enumerate(chosen):
            node = int(level[j])
            GL, HL = _child_sums(hist[j, feats[k]], int(bins[k]), bool(lefts[k]), p.missing_bin)
            G, H = nodes.G[node], nodes.H[node]
            left = nodes.add(nodes.start[node], int(mids[k]), GL, HL)
            right = nodes.add(int(mids[k]), nodes.end[node], G - GL, H - HL)
            split_of[node] = (int(feats[k]), int(bins[k]), bool(lefts[k]), float(gain[j, best[j]]))
            children[node] = (left, right)
            next_level += [left, right]
            n_left, n_right = mids[k] - nodes.start[node], nodes.end[node] - mids[k]
            small.append(left if n_left <= n_right else right)
            parent_pos.append(j)
            small_is_left.append(n_left <= n_right)
        if depth + 1 == p.max_depth:
            break
        hist = _children_histograms(
            binned_rows, gh, idx, nodes, features, hist, small, parent_pos, small_is_left
        )
        level = np.array(next_level)
    where = LeafRows(idx, np.array(nodes.start), np.array(nodes.end))
    return _to_arrays(nodes, split_of, children, edges, p), where


def _children_histograms(
    binned_rows, gh, idx, nodes, features, parent_hist, small, parent_pos, small_is_left
):
    """Histograms of the next level: build the smaller child, subtract it from the parent.

    Pair ``k`` fills ``out[2k]`` (left) and ``out[2k + 1]`` (right); only the histograms of
    the tree's features are filled (colsample_bytree).
    """
    small_is_left = np.array(small_is_left)
    slots = 2 * np.arange(len(small)) + np.where(small_is_left, 0, 1)
    out = np.empty((2 * len(small), *parent_hist.shape[1:]))
    build_histograms(
        binned_rows,
        gh,
        idx,
        np.array(nodes.start),
        np.array(nodes.end),
        np.array(small),
        features,
        out,
        slots,
    )
    subtract_siblings(parent_hist, out, np.array(parent_pos), small_is_left, features)
    return out


def _to_arrays(nodes, split_of, children, edges, p: GrowParams) -> dict[str, np.ndarray]:
    n = len(nodes.start)
    left = np.full(n, LEAF, np.int64)
    right = np.full(n, LEAF, np.int64)
    feature = np.zeros(n, np.int64)
    split_bin = np.zeros(n, np.int64)
    threshold = np.zeros(n)
    default_left = np.zeros(n, np.bool_)
    gain = np.zeros(n)
    G, H = np.array(nodes.G), np.array(nodes.H)
    value = np.array(
        [leaf_weight(Gi, Hi, p.reg_lambda, p.reg_alpha) for Gi, Hi in zip(G, H, strict=True)]
    )
    for node, (f, t, dl, gn) in split_of.items():
        left[node], right[node] = children[node]
        feature[node], split_bin[node], default_left[node], gain[node] = f, t, dl, gn
        threshold[node] = edges[f, t] if t < edges.shape[1] else np.inf
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
