"""Absolute errors of every prefix and suffix of a sample sequence, in O(n log n) (numba).

The absolute-error criterion ranks the split "first ``j`` samples | the rest" of a node by
``-(AE(prefix_j) + AE(suffix_j))``, where ``AE`` sums :math:`w_i |y_i - \\tilde y|` around the
weighted median :math:`\\tilde y` of the set. Adding the samples one at a time to a Fenwick tree
indexed by the rank of their target keeps prefix sums of the weights and of ``w * y``; the
median is found by a binary search for half the weight, and the error follows from

.. math::

    \\sum_{y_i \\ge m} w_i (y_i - m) + \\sum_{y_i < m} w_i (m - y_i)
    = (S^{wy}_{\\ge} - m S^{w}_{\\ge}) + (m S^{w}_{<} - S^{wy}_{<}).

One pass forwards gives the prefixes, one backwards the suffixes (summed over the outputs);
their medians are kept too (those of the last output: the monotonicity constraints, which
read them, allow one output only).

References
----------
Fenwick (1994). A new data structure for cumulative frequency tables. Software: Practice and
Experience 24(3), 327-336.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ._criterion import WEIGHT, YVAL

# Scratch arrays of the criterion (``mae``): the rank of each sample's target within the node
# (per output), the node's sorted targets, the two Fenwick arrays, the errors and medians of
# the prefixes and of the suffixes (rows ``ERRORS``, ``MEDIANS``), and the sample sequence being
# scanned. (The medians share an array with the errors: every array of the tuple costs the
# split search reference counts at each call, even where it is not read.)
RANKS, SORTED_Y, TREE_W, TREE_WY, AE_PREFIX, AE_SUFFIX, SEQ = 0, 1, 2, 3, 4, 5, 6
ERRORS, MEDIANS = 0, 1


@njit(cache=True, nogil=True)
def new_scratch(n_rows, n, n_outputs):
    """The criterion's arrays for ``n_rows`` rows and nodes of up to ``n`` samples (pass ones
    when unused)."""
    return (
        np.zeros((n_rows, n_outputs), np.int64),
        np.zeros((n, n_outputs)),
        np.zeros(n + 1),
        np.zeros(n + 1),
        np.zeros((2, n)),
        np.zeros((2, n)),
        np.zeros(n, np.int64),
    )


@njit(cache=True, nogil=True)
def rank_targets(target, samples, start, end, mae):
    """Sort the node's targets of each output and record every sample's rank among them."""
    yval, ranks, sorted_y = target[YVAL], mae[RANKS], mae[SORTED_Y]
    node = samples[start:end]
    for k in range(yval.shape[1]):
        yk = yval[node, k]
        order = np.argsort(yk)
        for r in range(order.shape[0]):
            ranks[node[order[r]], k] = r
            sorted_y[r, k] = yk[order[r]]


@njit(cache=True, nogil=True)
def _search(tree_w, size, target_weight, strict):
    """Largest prefix length whose weight is <= (``strict``: <) ``target_weight``, with the
    prefix's weight."""
    pos, cum = 0, 0.0
    step = 1
    while step * 2 <= size:
        step *= 2
    while step > 0:
        nxt = pos + step
        if nxt <= size and (
            cum + tree_w[nxt] < target_weight if strict else cum + tree_w[nxt] <= target_weight
        ):
            pos = nxt
            cum += tree_w[nxt]
        step //= 2
    return pos, cum


@njit(cache=True, nogil=True)
def _prefix_wy(tree_wy, pos):
    acc = 0.0
    while pos > 0:
        acc += tree_wy[pos]
        pos -= pos & -pos
    return acc


@njit(cache=True, nogil=True)
def _pass(target, k, mae, n, forward, out):
    """Add the absolute error (output ``k``) of each prefix (or suffix) of ``mae[SEQ][:n]`` to
    ``out[ERRORS]``; write their medians to ``out[MEDIANS]``."""
    yval, w = target[YVAL], target[WEIGHT]
    ranks, sorted_y, tw, twy, seq = mae[RANKS], mae[SORTED_Y], mae[TREE_W], mae[TREE_WY], mae[SEQ]
    tw[: n + 1] = 0.0
    twy[: n + 1] = 0.0
    total_w, total_wy = 0.0, 0.0
    for step in range(n):
        p = step if forward else n - 1 - step
        i = seq[p]
        r, wi = ranks[i, k], w[i]
        j = r + 1
        while j <= n:
            tw[j] += wi
            twy[j] += wi * yval[i, k]
            j += j & -j
        total_w += wi
        total_wy += wi * yval[i, k]
        half = 0.5 * total_w
        pos, w_left = _search(tw, n, half, False)  # sorted_y[pos] is the median's rank
        median = sorted_y[pos, k]
        if w_left == half and pos > 0:
            prev, _ = _search(tw, n, half, True)
            median = 0.5 * (sorted_y[prev, k] + median)
        wy_left = _prefix_wy(twy, pos)
        err = (total_wy - wy_left - median * (total_w - w_left)) + (median * w_left - wy_left)
        out[ERRORS, p] += err
        out[MEDIANS, p] = median


@njit(cache=True, nogil=True)
def sequence_errors(target, mae, n):
    """``mae[AE_PREFIX][ERRORS, j]``: error of ``SEQ[:j + 1]``; ``mae[AE_SUFFIX][ERRORS, j]``: of
    ``SEQ[j:n]`` (their medians in row ``MEDIANS``)."""
    prefix, suffix = mae[AE_PREFIX], mae[AE_SUFFIX]
    prefix[ERRORS, :n] = 0.0
    suffix[ERRORS, :n] = 0.0
    for k in range(target[YVAL].shape[1]):
        _pass(target, k, mae, n, True, prefix)
        _pass(target, k, mae, n, False, suffix)
