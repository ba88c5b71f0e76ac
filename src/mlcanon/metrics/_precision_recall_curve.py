"""Precision-recall curve and average precision (the step-wise area under it)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from mlcanon._validation import check_option

from ._average import AVERAGES, average_binary_score
from ._checks import (
    UndefinedMetricWarning,
    check_bool,
    check_pos_label,
    check_score_matrix,
    contains,
    positive_mask,
    score_dtype,
)
from ._ranking import _binary_inputs, _counts_at_thresholds, _drop_flat_tps
from ._targets import as_target, check_lengths, check_weights, target_type

__all__ = ["average_precision_score", "precision_recall_curve"]


def _warn_no_positive() -> None:
    warnings.warn(
        "No positive class found in y_true: recall is 0/0 and is set to 1 at every threshold",
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
        Increasing distinct scores, in the dtype of ``y_score`` (as scikit-learn).

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
    is_pos, score, w = _binary_inputs(positive_mask(y_true, pos_label), y_score, sample_weight)
    fps, tps, thresholds = _counts_at_thresholds(is_pos, score, w)
    if drop_intermediate:
        fps, tps, thresholds = _drop_flat_tps(fps, tps, thresholds)
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
        thresholds[::-1].astype(score_dtype(y_score)),
    )


def _binary_average_precision(is_pos: np.ndarray, y_score: Any, sample_weight: Any) -> float:
    """AP of one binary problem given as a positive mask (0 with a warning if no positive)."""
    is_pos, score, w = _binary_inputs(np.asarray(is_pos, dtype=bool), y_score, sample_weight)
    fps, tps, _ = _counts_at_thresholds(is_pos, score, w)
    if tps[-1] == 0:
        _warn_no_positive()
        return 0.0
    precision = tps / (tps + fps)
    recall_gain = np.diff(tps, prepend=0)
    return float(np.dot(recall_gain, precision) / tps[-1])


def _indicator_target(y: np.ndarray, kind: str, pos_label: Any) -> np.ndarray:
    """The 0/1 indicator of a multilabel or multiclass ``y_true`` (one column per class)."""
    if pos_label != 1:
        raise ValueError(
            f"Parameter pos_label is fixed to 1 for {kind} y_true. Do not set pos_label or set "
            "pos_label to 1."
        )
    if kind == "multilabel-indicator":
        return y
    y = y.reshape(-1)
    return (y[:, None] == np.unique(y)).astype(np.int64)


def average_precision_score(
    y_true: Any,
    y_score: Any,
    *,
    average: str | None = "macro",
    pos_label: Any = 1,
    sample_weight: Any = None,
) -> Any:
    r"""Average precision: the precision at each threshold weighted by the recall it adds.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_classes)
        Binary labels, multiclass labels (scored one-vs-rest, each class against the others)
        or a 0/1 label-indicator matrix (multilabel).
    y_score : array-like of shape (n_samples,) or (n_samples, n_classes)
        Finite scores, higher meaning more positive; one column per class (in sorted class
        order) unless ``y_true`` is binary.
    average : {'macro', 'weighted', 'micro', 'samples'} or None, default='macro'
        How the per-class APs of a multiclass or multilabel target are combined (see
        :mod:`mlcanon.metrics._average`); ignored for a binary target.
    pos_label : int, float, bool or str, default=1
        The positive class of a binary target; must stay 1 otherwise.
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative weights.

    Returns
    -------
    float, or ndarray of shape (n_classes,) for ``average=None``
        AP in [0, 1]; 0 (with a warning) when there is no positive sample.

    Notes
    -----
    Going down the distinct scores :math:`t_1 > t_2 > \dots`, with precision :math:`P_k` and
    recall :math:`R_k` at :math:`t_k` and :math:`R_0 = 0`,

    .. math:: \mathrm{AP} = \sum_k (R_k - R_{k-1})\, P_k
              = \frac{1}{P}\sum_k (T_k - T_{k-1})\, \frac{T_k}{T_k + F_k}.

    This is the area under the step function that holds each precision until recall next
    grows. Joining PR points by straight lines (trapezoids) is not a valid interpolation in
    precision-recall space and overstates the area [2]_.

    References
    ----------
    .. [1] C. D. Manning, P. Raghavan and H. Schütze, *Introduction to Information Retrieval*,
       Cambridge University Press, 2008, Section 8.4.
    .. [2] J. Davis and M. Goadrich, "The relationship between precision-recall and ROC
       curves", ICML 2006.
    """
    average = check_option(average, "average", AVERAGES)
    pos_label = check_pos_label(pos_label)
    if pos_label is None:  # scikit-learn's constraint: one class, no "None means 1"
        raise ValueError(
            "The 'pos_label' parameter of average_precision_score must be an int, float, bool "
            "or str (the positive class). Got None instead."
        )
    y = as_target(y_true, "y_true")
    kind = target_type(y, "y_true")
    if kind == "binary":
        y = y.reshape(-1)
        present = np.unique(y)
        if present.size == 2 and not contains(present, pos_label):
            raise ValueError(
                f"pos_label={pos_label!r} is not a valid label. It should be one of {present}"
            )
        return _binary_average_precision(np.asarray(y == pos_label), y_score, sample_weight)
    if kind not in ("multiclass", "multilabel-indicator"):
        raise ValueError(
            f"{kind} format is not supported: y_true must be binary, multiclass or a "
            "multilabel indicator"
        )
    Y = _indicator_target(y, kind, pos_label)
    S = check_score_matrix(y_score)
    if S.shape != Y.shape:
        raise ValueError(
            "`y_score` needs to be of shape `(n_samples, n_classes)`, since `y_true` contains "
            f"multiple classes. Got `y_score.shape={S.shape}` for {Y.shape[1]} classes."
        )
    w = check_weights(sample_weight, check_lengths(Y, S, sample_weight), column=True)
    return average_binary_score(_binary_average_precision, Y, S, average, w)
