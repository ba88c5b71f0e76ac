"""Numba kernels of the second-order histogram booster (parallel over nodes x features).

A node's samples are a contiguous range ``idx[start:end]`` of row ids. Its histogram holds, for
every feature and bin, the sums of the gradients ``g`` and hessians ``h`` of its samples; the
last bin (``missing_bin``) collects the samples whose value is missing. The split search scans
the bins of a feature twice (missing samples right, then left) and scores each boundary by

.. math::

    \\text{gain} = \\frac{T_\\alpha(G_L)^2}{H_L + \\lambda}
                 + \\frac{T_\\alpha(G_R)^2}{H_R + \\lambda}
                 - \\frac{T_\\alpha(G)^2}{H + \\lambda},
    \\qquad T_\\alpha(G) = \\operatorname{sign}(G)\\max(|G| - \\alpha, 0),

which is twice the decrease of the second-order objective (the paper's
:math:`\\tfrac12[\\dots] - \\gamma`); as in xgboost, ``gamma`` is compared with this quantity.

References
----------
Chen, Guestrin (2016). XGBoost: A Scalable Tree Boosting System, KDD, eq. (7) and Alg. 3.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import njit, prange

from mlcanon._special import soft_threshold

LEAF = -1


@njit(cache=True, nogil=True, inline="always")
def score(G, H, lam, alpha):
    """Structure score T(G)^2 / (H + lambda) of a leaf (twice its objective decrease)."""
    t = soft_threshold(G, alpha)
    return t * t / (H + lam)


@njit(cache=True, nogil=True, inline="always")
def leaf_weight(G, H, lam, alpha, min_child_weight):
    """Optimal leaf value -T(G) / (H + lambda) of the second-order objective; 0 when the node's
    hessian sum is below ``min_child_weight`` (or not positive), as xgboost's ``CalcWeight``
    (3.2, the pinned reference; 3.4 dropped the check): a node too light to split does not
    move the margins."""
    if H < min_child_weight or H <= 0.0:
        return 0.0
    return -soft_threshold(G, alpha) / (H + lam)


def _build_histograms(rows, gh, starts, ends, nodes, features, n_blocks, hist, slots):
    """``hist[slots[j], f, b] = (sum g, sum h)`` over samples of node ``nodes[j]`` in bin ``b``.

    ``rows[k]`` holds the bins of the ``k``-th sample in node order and ``gh[k]`` its
    gradient pair: the partition moves them with the samples, so a node's samples are one
    contiguous block, read sequentially, and a sample's bins are read together with its pair
    read once per block of features (as LightGBM's and xgboost's row-wise histograms do).
    Jobs are (node, block of features) pairs.
    """
    n_f = features.shape[0]
    width = (n_f + n_blocks - 1) // n_blocks
    n_bins = hist.shape[2]
    # unsigned indices into flat histograms: numba then emits no negative-index wraparound,
    # which more than halves the instructions of the innermost loop
    feature_u = features.astype(np.uint64)
    offset_u = feature_u * np.uint64(2 * n_bins)  # (g, h) of bin b of feature f: offset + 2b
    for job in prange(nodes.shape[0] * n_blocks):
        j = job // n_blocks
        f0 = (job % n_blocks) * width
        f1 = min(f0 + width, n_f)
        out = hist[slots[j]].reshape(-1)
        feats, offsets = feature_u[f0:f1], offset_u[f0:f1]  # loops from 0: indices >= 0
        for q in range(offsets.shape[0]):
            for b in range(2 * n_bins):
                out[offsets[q] + b] = 0.0
        node = nodes[j]
        for k in range(starts[node], ends[node]):
            row = rows[k]
            gk, hk = gh[k, 0], gh[k, 1]
            for q in range(offsets.shape[0]):
                o = offsets[q] + np.uint64(2) * row[feats[q]]
                out[o] += gk
                out[o + np.uint64(1)] += hk


# One body, two compilations: threads pay off only when a level has enough samples, and on a
# busy machine every parallel launch waits for both cores (measured: 20 ms per launch at a load
# of 14 on 2 cores), which is also why the small kernels below run on one thread.
# (numba's on-disk cache keys on the function's name, not on the compile options: only one of
# the two compilations may be cached, so the small serial one is compiled per process)
_hist_parallel = njit(cache=True, nogil=True, parallel=True)(_build_histograms)
_hist_serial = njit(nogil=True)(_build_histograms)
PARALLEL_WORK = 1 << 18  # samples x features below which one thread is faster


def build_histograms(rows, gh, starts, ends, nodes, features, hist, slots=None):
    """Histograms of ``nodes`` into ``hist[slots]`` (default: ``hist[0..]``); threaded when the
    level is large (see ``_build_histograms``)."""
    slots = np.arange(nodes.shape[0]) if slots is None else slots
    work = int(np.sum(ends[nodes] - starts[nodes])) * features.shape[0]
    if work < PARALLEL_WORK:
        _hist_serial(rows, gh, starts, ends, nodes, features, 1, hist, slots)
        return
    # enough (node, block) jobs to keep every thread busy, blocks of at least 8 features
    threads = numba.get_num_threads()
    n_blocks = 1
    if threads > 1:  # each block rereads the rows: worth it only to feed more threads
        n_blocks = max(1, min(-(-2 * threads // nodes.shape[0]), features.shape[0] // 8))
    _hist_parallel(rows, gh, starts, ends, nodes, features, n_blocks, hist, slots)


@njit(cache=True, nogil=True)
def leaf_weights(G, H, lam, alpha, min_child_weight, out):
    """``out[v]`` = :func:`leaf_weight` of every node ``v``."""
    for v in range(G.shape[0]):
        out[v] = leaf_weight(G[v], H[v], lam, alpha, min_child_weight)


@njit(cache=True, nogil=True)
def child_sums(hist, pos, feature, split_bin, default_left, missing_bin, out):
    """``out[k] = (G, H)`` of the left child of split ``k`` (of the node whose histogram is
    ``hist[pos[k]]``): bins ``<= split_bin[k]`` of its feature, plus missing if they go left."""
    for k in range(pos.shape[0]):
        hst = hist[pos[k], feature[k]]
        GL, HL = hst[0, 0], hst[0, 1]
        for b in range(1, split_bin[k] + 1):
            GL += hst[b, 0]
            HL += hst[b, 1]
        if default_left[k]:
            GL += hst[missing_bin, 0]
            HL += hst[missing_bin, 1]
        out[k, 0], out[k, 1] = GL, HL


@njit(cache=True, nogil=True)
def subtract_siblings(parent_hist, hist, parent_pos, small_is_left, features):
    """Each pair ``hist[2k], hist[2k+1]`` holds the smaller child (as built); fill the other
    with parent - smaller."""
    for k in range(parent_pos.shape[0]):
        s = 2 * k if small_is_left[k] else 2 * k + 1
        o = 2 * k + 1 if small_is_left[k] else 2 * k
        parent, small, other = parent_hist[parent_pos[k]], hist[s], hist[o]
        for fi in range(features.shape[0]):
            f = features[fi]
            for b in range(hist.shape[2]):  # explicit loops: no temporary array per feature
                other[f, b, 0] = parent[f, b, 0] - small[f, b, 0]
                other[f, b, 1] = parent[f, b, 1] - small[f, b, 1]


# error_model="numpy": a division by zero gives inf/nan instead of raising, which lets LLVM put
# the divisions of the scores on vector registers (scores of too-light children are dropped)
@njit(cache=True, nogil=True, error_model="numpy")
def find_splits(
    hist,
    totals,
    features,
    n_bins,
    missing_bin,
    lam,
    alpha,
    min_child_weight,
    gain,
    split_bin,
    default_left,
):
    """Best boundary of every (node, feature) pair; ``gain = -inf`` where none is valid.

    ``n_bins[f]`` counts the non-missing bins of feature ``f``; ``totals[j] = (G, H)``.
    A boundary ``t`` sends bins ``<= t`` left. Missing samples go right in the first scan
    (so "all non-missing left | missing right" is a candidate) and left in the second; on a
    tie the first scan wins, so a node without missing values sends them right, like xgboost.
    """
    n_f = features.shape[0]
    min_h = max(min_child_weight, 1e-12)
    cum = np.empty((hist.shape[2], 2))
    scores = np.empty(hist.shape[2])
    for job in range(gain.shape[0] * n_f):
        j = job // n_f
        fi = job % n_f
        f = features[fi]
        hst = hist[j, f]
        G, H = totals[j, 0], totals[j, 1]
        parent = score(G, H, lam, alpha)
        Gm, Hm = hst[missing_bin, 0], hst[missing_bin, 1]
        has_missing = Hm > 0.0 or Gm != 0.0
        last = n_bins[f] if has_missing else n_bins[f] - 1
        best, best_bin = _best_boundary(
            hst, 0.0, 0.0, last, G, H, parent, lam, alpha, min_h, cum, scores
        )
        best_left = False
        if has_missing:
            s, t = _best_boundary(
                hst, Gm, Hm, n_bins[f] - 1, G, H, parent, lam, alpha, min_h, cum, scores
            )
            if s > best:
                best, best_bin, best_left = s, t, True
        gain[j, fi] = best
        split_bin[j, fi] = best_bin
        default_left[j, fi] = best_left


@njit(cache=True, nogil=True, inline="always")
def _best_boundary(hst, G0, H0, n_t, G, H, parent, lam, alpha, min_h, cum, scores):
    """Best of the boundaries ``t < n_t`` (left: ``(G0, H0)`` plus bins ``<= t``): gain, t.

    Three passes (running sums, scores, first maximum) rather than one, so that the middle
    one, which holds the divisions, runs on vector registers; each score is computed exactly
    as in a single pass.
    """
    GL, HL = G0, H0
    for t in range(n_t):
        GL += hst[t, 0]
        HL += hst[t, 1]
        cum[t, 0], cum[t, 1] = GL, HL
    for t in range(n_t):
        GL, HL = cum[t, 0], cum[t, 1]
        HR = H - HL
        s = score(GL, HL, lam, alpha) + score(G - GL, HR, lam, alpha) - parent
        scores[t] = -np.inf if (HL < min_h or HR < min_h) else s
    best, best_bin = -np.inf, -1
    for t in range(n_t):
        if scores[t] > best:
            best, best_bin = scores[t], t
    return best, best_bin


@njit(cache=True, nogil=True)
def partition(
    rows,
    records,
    gh,
    idx,
    starts,
    ends,
    nodes,
    feature,
    split_bin,
    default_left,
    missing_bin,
    moved,
    mids,
):
    """Partition each split node's range: left samples first; ``mids[j]`` = first right one.

    The samples' ids ``idx`` are partitioned in place. When ``moved`` is given, their bins and
    gradient pairs are written in the same order to ``moved = (records, gh, idx scratch)``,
    the next level's arrays, so each child's samples are contiguous there; ``records`` is
    ``rows`` seen as one fixed-size record per sample, copied as a block. Without ``moved``
    (the children are leaves, whose histograms are never built) only ``idx`` is partitioned.
    """
    new_records, new_gh, buf_idx = moved
    move = new_records.shape[0] > 0
    to_left = np.empty(missing_bin + 1, np.int64)  # 1 where a bin goes left
    for j in range(nodes.shape[0]):
        node = nodes[j]
        f = feature[j]
        for b in range(missing_bin):
            to_left[b] = b <= split_bin[j]
        to_left[missing_bin] = default_left[j]
        s, e = starts[node], ends[node]
        left, right = s, e - 1  # lefts fill forwards, rights backwards
        # branch-free: the side of a sample is a table look-up, its slot an arithmetic select
        # (a split sends about half the samples each way, so a branch would mispredict often)
        if move:
            for k in range(s, e):
                go = to_left[rows[k, f]]
                p = right + go * (left - right)
                new_records[p] = records[k]
                new_gh[p, 0] = gh[k, 0]
                new_gh[p, 1] = gh[k, 1]
                buf_idx[p] = idx[k]
                left += go
                right -= 1 - go
        else:
            for k in range(s, e):
                go = to_left[rows[k, f]]
                p = right + go * (left - right)
                buf_idx[p] = idx[k]
                left += go
                right -= 1 - go
        idx[s:e] = buf_idx[s:e]
        mids[j] = left


@njit(cache=True, nogil=True)
def add_leaf_values(idx, starts, ends, leaves, value, out):
    """``out[idx[k]] += value[leaf]`` for the samples ``idx[starts[leaf]:ends[leaf]]`` of each
    leaf: the margins update after a tree grown on every row, without walking the tree."""
    for j in range(leaves.shape[0]):
        leaf = leaves[j]
        v = value[leaf]
        for k in range(starts[leaf], ends[leaf]):
            out[idx[k]] += v


@njit(cache=True, nogil=True, parallel=True)
def add_tree_binned(binned, missing_bin, left, right, feature, split_bin, default_left, value, out):
    """``out[i] += value of the leaf row i reaches`` (binned data, one tree)."""
    for i in prange(out.shape[0]):
        node = 0
        while left[node] != LEAF:
            b = binned[feature[node], i]
            go_left = default_left[node] if b == missing_bin else b <= split_bin[node]
            node = left[node] if go_left else right[node]
        out[i] += value[node]


@njit(cache=True, nogil=True, inline="always")
def _leaf(X, i, left, right, feature, threshold, default_left, base):
    """The leaf (an id relative to ``base``) that row ``i`` of ``X`` reaches in the tree whose
    nodes start at ``base`` of the concatenated node arrays."""
    node = 0
    while left[base + node] != LEAF:
        x = X[i, feature[base + node]]
        if np.isnan(x):
            go_left = default_left[base + node]
        else:
            go_left = x <= threshold[base + node]
        node = left[base + node] if go_left else right[base + node]
    return node


@njit(cache=True, nogil=True, parallel=True)
def predict_raw(
    X, left, right, feature, threshold, default_left, value, offsets, n_outputs, first, stop, out
):
    """Raw margins: ``out[i, t % n_outputs] += leaf value`` of trees ``first <= t < stop``.

    Node arrays of all trees are concatenated; tree ``t`` owns ``offsets[t]:offsets[t + 1]``
    and its child ids are relative to ``offsets[t]``.
    """
    for i in prange(X.shape[0]):
        for t in range(first, stop):
            base = offsets[t]
            node = _leaf(X, i, left, right, feature, threshold, default_left, base)
            out[i, t % n_outputs] += value[base + node]


@njit(cache=True, nogil=True, parallel=True)
def predict_leaves(X, left, right, feature, threshold, default_left, offsets, first, stop, out):
    """``out[i, t - first]`` = the leaf (its id within tree ``t``) that row ``i`` reaches, for
    the trees ``first <= t < stop`` (node arrays as in :func:`predict_raw`)."""
    for i in prange(X.shape[0]):
        for t in range(first, stop):
            base = offsets[t]
            out[i, t - first] = _leaf(X, i, left, right, feature, threshold, default_left, base)
