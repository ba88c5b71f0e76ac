"""Precision-recall curve and average precision (the step-wise area under it)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ._checks import UndefinedMetricWarning, check_bool, positive_mask
from ._ranking import _binary_inputs, _counts_at_thresholds

__all__ = ["average_precision_score", "precision_recall_curve"]


def _curve_counts(
    y_true: Any, y_score: Any, pos_label: Any, sample_weight: Any, *, one_vs_rest: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    is_pos = positive_mask(y_true, pos_label, one_vs_rest=one_vs_rest)
    is_pos, score, w = _binary_inputs(is_pos, y_score, sample_weight)
    return _counts_at_thresholds(is_pos, score, w)


def _warn_no_positive() -> None:
    warnings.warn(
        "y_true has no positive sample: recall is 0/0 and is set to 1 at every threshold",
        UndefinedMetricWarning,
        stacklevel=3,
    )


def precision_recall_curve(
    y_true: Any,
    y_score: Any,
    *,
    pos_label: Any = None,
    sample_weight: Any = None,
    drop_intermediate: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Precision and recall of the classifier ``score >= t`` for every distinct score ``t``.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Class labels; {0, 1} or {-1, 1} unless ``pos_label`` is given (then one-vs-rest).
    y_score : array-like of shape (n_samples,)
        Finite scores, higher meaning more positive.
    pos_label : int, float, bool or str, default=None
        The positive class.
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative weights; zero-weight samples are dropped.
    drop_intermediate : bool, default=False
        Keep only the first and last threshold of each run of equal recall (the points of a
        vertical stretch of the plotted curve).

    Returns
    -------
    precision : ndarray of shape (n_thresholds + 1,)
        ``precision[i]`` for ``score >= thresholds[i]``; the last entry is 1 (no threshold).
    recall : ndarray of shape (n_thresholds + 1,)
        Decreasing; the last entry is 0, so the plotted curve reaches the precision axis.
    thresholds : ndarray of shape (n_thresholds,)
        Increasing distinct scores.

    Notes
    -----
    With :math:`T(t), F(t)` the true and false positive weight at threshold :math:`t` and
    :math:`P` the total positive weight,

    .. math:: \mathrm{precision}(t) = \frac{T(t)}{T(t) + F(t)}, \qquad
              \mathrm{recall}(t) = \frac{T(t)}{P}.

    The first point (lowest threshold) predicts every sample positive: its precision is the
    share of positives. When there is no positive, recall is set to 1 and a warning is issued.

    References
    ----------
    .. [1] J. Davis and M. Goadrich, "The relationship between precision-recall and ROC
       curves", ICML 2006.
    """
    drop_intermediate = check_bool(drop_intermediate, "drop_intermediate")
    fps, tps, thresholds = _curve_counts(
        y_true, y_score, pos_label, sample_weight, one_vs_rest=True
    )
    if drop_intermediate and fps.size > 2:
        moves = (np.diff(tps[:-1]) != 0) | (np.diff(tps[1:]) != 0)
        keep = np.concatenate(([True], moves, [True]))
        fps, tps, thresholds = fps[keep], tps[keep], thresholds[keep]
    predicted = tps + fps
    precision = np.divide(
        tps, predicted, out=np.zeros(tps.shape), where=predicted != 0, dtype=np.float64
    )
    if tps[-1] == 0:
        _warn_no_positive()
        recall = np.ones(tps.shape)
    else:
        recall = tps / tps[-1]
    return (
        np.concatenate((precision[::-1], [1.0])),
        np.concatenate((recall[::-1], [0.0])),
        thresholds[::-1].copy(),
    )


def average_precision_score(
    y_true: Any, y_score: Any, *, pos_label: Any = 1, sample_weight: Any = None
) -> float:
    r"""Average precision: the precision at each threshold weighted by the recall it adds.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Binary labels (at most two classes).
    y_score : array-like of shape (n_samples,)
        Finite scores, higher meaning more positive.
    pos_label : int, float, bool or str, default=1
        The positive class.
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative weights.

    Returns
    -------
    float
        AP in [0, 1]; 0 (with a warning) when there is no positive sample.

    Notes
    -----
    Going down the distinct scores :math:`t_1 > t_2 > \dots`, with precision :math:`P_k` and
    recall :math:`R_k` at :math:`t_k` and :math:`R_0 = 0`,

    .. math:: \mathrm{AP} = \sum_k (R_k - R_{k-1})\, P_k
              = \frac{1}{P}\sum_k (T_k - T_{k-1})\, \frac{T_k}{T_k + F_k}.

    This is the area under the step function that holds each precision until recall next
    grows. Joining PR points by straight lines (trapezoids) is not a valid interpolation in
    precision-recall space and overstates the area [2]_. Only the binary case is provided.

    References
    ----------
    .. [1] C. D. Manning, P. Raghavan and H. Schütze, *Introduction to Information Retrieval*,
       Cambridge University Press, 2008, Section 8.4.
    .. [2] J. Davis and M. Goadrich, "The relationship between precision-recall and ROC
       curves", ICML 2006.
    """
    fps, tps, _ = _curve_counts(y_true, y_score, pos_label, sample_weight, one_vs_rest=False)
    if tps[-1] == 0:
        _warn_no_positive()
        return 0.0
    precision = tps / (tps + fps)
    recall_gain = np.diff(tps, prepend=0)
    return float(np.dot(recall_gain, precision) / tps[-1])
