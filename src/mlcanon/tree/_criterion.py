"""Impurity criteria of CART as numba functions over sufficient statistics.

The targets of a tree travel through the kernels as one tuple, ``target = (crit, is_clf, ycode,
yval, w, stride)``: the criterion code, whether it classifies, the class codes (n, K) or the
targets (n, K) of the ``K`` outputs, the sample weights, and the number of classes per output
block (``stride``, the largest class count). A node is summarised by its weighted sample count
``w`` and a statistics vector ``s``:

- classification: ``s[k * stride + c]`` = weighted count of class ``c`` of output ``k``;
- regression: ``s[k] = sum_i w_i y_ik``, ``s[K] = sum_i w_i sum_k y_ik^2`` and
  ``s[K + 1 + k]`` = number of samples with ``y_ik > 0`` (so that a child whose targets are all
  zero is recognised exactly, not from a difference of sums that rounding leaves at 1e-15), and
  ``s[2K + 1 + k]`` the weighted median of output ``k`` (absolute error only).

.. math::

    \\text{gini} = 1 - \\sum_c p_c^2, \\qquad
    \\text{entropy} = -\\sum_c p_c \\log_2 p_c, \\qquad
    \\text{squared error} = \\frac{1}{w}\\sum_i w_i y_i^2 - \\bar y^2, \\qquad
    \\text{poisson} = \\frac{1}{w}\\sum_i w_i\\, y_i \\log \\frac{y_i}{\\bar y}

with :math:`p_c = s_c / w` and :math:`\tilde y` the weighted median (the smallest value whose
cumulative weight passes half the total, or the midpoint of two values when a cumulative weight
equals half exactly), each averaged over the outputs. Splits are ranked by a *proxy* that
differs from the impurity decrease by terms constant for the node, so it is cheaper:
:math:`-(w_L I_L + w_R I_R)` for the class criteria, :math:`\\sum_k S_{Lk}^2 / w_L +
S_{Rk}^2 / w_R` for squared error and :math:`\\sum_k S_{Lk} \\log \\bar y_{Lk} + S_{Rk} \\log
\\bar y_{Rk}` for the Poisson deviance (a child whose targets sum to zero is refused: its mean
cannot be the rate of a Poisson law).

References
----------
Breiman, Friedman, Olshen, Stone (1984). Classification and Regression Trees, ch. 4 and 8.
"""

from __future__ import annotations

import numpy as np
from numba import njit

GINI, ENTROPY, SQUARED_ERROR, POISSON, ABSOLUTE_ERROR = 0, 1, 2, 3, 4
CRITERIA = {
    "gini": GINI,
    "entropy": ENTROPY,
    "log_loss": ENTROPY,
    "squared_error": SQUARED_ERROR,
    "poisson": POISSON,
    "absolute_error": ABSOLUTE_ERROR,
}
EPSILON = np.finfo(np.float64).eps
# Named slots of the ``target`` tuple.
CRIT, IS_CLF, YCODE, YVAL, WEIGHT, STRIDE = 0, 1, 2, 3, 4, 5


@njit(cache=True, nogil=True, inline="always")
def n_outputs(target):
    return target[YCODE].shape[1] if target[IS_CLF] else target[YVAL].shape[1]


@njit(cache=True, nogil=True)
def add_sample(s, target, i, sign):
    """Add (``sign=1``) or remove (``-1``) sample ``i`` from the statistics ``s``."""
    ycode, yval, stride = target[YCODE], target[YVAL], target[STRIDE]
    wi = sign * target[WEIGHT][i]
    if target[IS_CLF]:
        for k in range(ycode.shape[1]):
            s[k * stride + ycode[i, k]] += wi
    else:
        n_out = yval.shape[1]
        sq = 0.0
        for k in range(n_out):
            y = yval[i, k]
            s[k] += wi * y
            sq += y * y
            if y > 0.0:
                s[n_out + 1 + k] += sign
        s[n_out] += wi * sq


@njit(cache=True, nogil=True, inline="always")
def _class_impurity(crit, s, w, n_out, stride):
    total = 0.0
    for k in range(n_out):
        acc = 0.0
        for c in range(k * stride, (k + 1) * stride):
            if s[c] > 0.0:
                p = s[c] / w
                acc += p * p if crit == GINI else -p * np.log2(p)
        total += 1.0 - acc if crit == GINI else acc
    return total / n_out


@njit(cache=True, nogil=True)
def _poisson_loss(target, s, w, samples, start, end):
    """Half Poisson deviance of ``samples[start:end]`` (``inf`` when an output is all zero)."""
    yval, ww = target[YVAL], target[WEIGHT]
    n_out = yval.shape[1]
    acc = 0.0
    for k in range(n_out):
        if s[n_out + 1 + k] == 0.0 or s[k] <= EPSILON:
            return np.inf
        mean = s[k] / w
        for p in range(start, end):
            y = yval[samples[p], k]
            if y > 0.0:
                acc += ww[samples[p]] * y * np.log(y / mean)
    return acc / (w * n_out)


@njit(cache=True, nogil=True)
def weighted_median(y, w):
    """Weighted median of ``y`` (the scikit-learn rule above) and ``sum_i w_i |y_i - median|``."""
    order = np.argsort(y)
    half = 0.5 * w.sum()
    cum, j = 0.0, 0
    while cum + w[order[j]] <= half and j < len(y) - 1:
        cum += w[order[j]]
        j += 1
    median = y[order[j]]
    if j > 0 and cum == half:
        median = 0.5 * (y[order[j - 1]] + median)
    return median, np.sum(w * np.abs(y - median))


@njit(cache=True, nogil=True)
def absolute_error(target, s, w, ids):
    """Absolute-error impurity of the samples ``ids``; the medians go to ``s[2K + 1 + k]``."""
    yval, ww = target[YVAL], target[WEIGHT]
    n_out = yval.shape[1]
    acc = 0.0
    for k in range(n_out):
        median, err = weighted_median(yval[ids, k], ww[ids])
        s[2 * n_out + 1 + k] = median
        acc += err
    return acc / (w * n_out)


@njit(cache=True, nogil=True)
def impurity(target, s, w, samples, start, end):
    """Impurity of the node ``samples[start:end]`` with statistics ``s`` and weight ``w > 0``."""
    crit = target[CRIT]
    n_out = n_outputs(target)
    if crit == SQUARED_ERROR:
        acc = s[n_out] / w
        for k in range(n_out):
            mean = s[k] / w
            acc -= mean * mean
        return acc / n_out
    if crit == POISSON:
        return _poisson_loss(target, s, w, samples, start, end)
    if crit == ABSOLUTE_ERROR:
        return absolute_error(target, s, w, samples[start:end])
    return _class_impurity(crit, s, w, n_out, target[STRIDE])


@njit(cache=True, nogil=True, inline="always")
def scan_add(left, target, i):
    """Move sample ``i`` into the left child during a scan: only the statistics the proxy
    reads (class counts; target sums, and positive counts for the Poisson deviance)."""
    wi = target[WEIGHT][i]
    if target[IS_CLF]:
        ycode, stride = target[YCODE], target[STRIDE]
        for k in range(ycode.shape[1]):
            left[k * stride + ycode[i, k]] += wi
    else:
        yval = target[YVAL]
        n_out = yval.shape[1]
        for k in range(n_out):
            y = yval[i, k]
            left[k] += wi * y
            if target[CRIT] == POISSON and y > 0.0:
                left[n_out + 1 + k] += 1.0


@njit(cache=True, nogil=True, inline="always")
def class_proxy(crit, left, w_left, total, w_total, right):
    """:func:`proxy_improvement` of one class output (``left``, ``total``: its class counts),
    with the same arithmetic, for the scan's plain case."""
    for c in range(total.shape[0]):
        right[c] = total[c] - left[c]
    w_right = w_total - w_left
    w_imp_left = w_left * _class_impurity(crit, left, w_left, 1, total.shape[0])
    return -w_imp_left - w_right * _class_impurity(crit, right, w_right, 1, total.shape[0])


@njit(cache=True, nogil=True, inline="always")
def proxy_improvement(target, left, w_left, total, w_total, right):
    """Rank of the split ``left | total - left`` (larger is better); ``right`` is scratch."""
    crit, stride = target[CRIT], target[STRIDE]
    n_out = n_outputs(target)
    w_right = w_total - w_left
    if crit == SQUARED_ERROR:
        acc = 0.0
        for k in range(n_out):
            s_right = total[k] - left[k]
            acc += left[k] * left[k] / w_left + s_right * s_right / w_right
        return acc
    if crit == POISSON:
        acc = 0.0
        for k in range(n_out):
            s_left, s_right = left[k], total[k] - left[k]
            n_pos_left, n_pos_right = (
                left[n_out + 1 + k],
                total[n_out + 1 + k] - left[n_out + 1 + k],
            )
            if n_pos_left == 0.0 or n_pos_right == 0.0 or s_left <= EPSILON or s_right <= EPSILON:
                return -np.inf
            acc += s_left * np.log(s_left / w_left) + s_right * np.log(s_right / w_right)
        return acc
    for k in range(total.shape[0]):
        right[k] = total[k] - left[k]
    w_imp_left = w_left * _class_impurity(crit, left, w_left, n_out, stride)
    return -w_imp_left - w_right * _class_impurity(crit, right, w_right, n_out, stride)
