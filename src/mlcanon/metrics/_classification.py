"""Precision, recall and F-score per class, and their micro, macro and weighted averages."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from mlcanon._validation import check_option, check_scalar

from ._checks import (
    UndefinedMetricWarning,
    check_label_kinds,
    check_labels,
    check_zero_division,
    contains,
)
from ._confusion_matrix import _class_targets

__all__ = ["f1_score", "precision_recall_fscore_support", "precision_score", "recall_score"]

AVERAGES = ("binary", "micro", "macro", "weighted", None)
Scores = tuple[Any, Any, Any, Any]


def _set_wise_labels(
    yt: np.ndarray, yp: np.ndarray, average: str | None, labels: Any, pos_label: Any
) -> np.ndarray:
    """The classes to score: ``[pos_label]`` for a binary average, else ``labels`` or all."""
    present = np.union1d(yt, yp)
    if average == "binary":
        if present.size > 2:
            raise ValueError(
                f"average='binary' needs a binary target, but y_true and y_pred hold "
                f"{present.size} classes {present.tolist()[:10]}; choose average from "
                "'micro', 'macro', 'weighted' or None"
            )
        if present.size == 2 and not contains(present, pos_label):
            raise ValueError(
                f"pos_label={pos_label!r} is not a valid label; it should be one of "
                f"{present.tolist()}"
            )
        chosen = np.asarray([pos_label])
        check_label_kinds(y_true=yt, pos_label=chosen)
        return chosen
    if pos_label not in (None, 1):
        warnings.warn(
            f"pos_label={pos_label!r} is ignored when average={average!r}; "
            "pass labels=[pos_label] to score that class alone",
            UserWarning,
            stacklevel=4,
        )
    if labels is None:
        return present
    labels = check_labels(labels, "labels")
    check_label_kinds(y_true=yt, labels=labels)
    return labels


def _per_label_sums(
    yt: np.ndarray, yp: np.ndarray, w: np.ndarray | None, labels: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """True positives, predicted positives and true positives + false negatives per label."""
    classes = np.union1d(np.union1d(yt, yp), labels)
    ti, pi = np.searchsorted(classes, yt), np.searchsorted(classes, yp)
    hit = ti == pi
    m = classes.size
    tp = np.bincount(ti[hit], weights=None if w is None else w[hit], minlength=m)
    pred = np.bincount(pi, weights=w, minlength=m)
    true = np.bincount(ti, weights=w, minlength=m)
    sel = np.searchsorted(classes, labels)
    return tp[sel], pred[sel], true[sel]


def _divide(
    num: np.ndarray, den: np.ndarray, zero_division: float | str, metric: str, warn: bool
) -> np.ndarray:
    """``num / den`` with 0/0 replaced by ``zero_division`` (0 and a warning for 'warn')."""
    empty = den == 0
    out = np.divide(num, den, out=np.zeros(num.shape), where=~empty, dtype=np.float64)
    if not empty.any():
        return out
    out[empty] = 0.0 if zero_division == "warn" else zero_division
    if zero_division == "warn" and warn:
        warnings.warn(
            f"{metric} is 0/0 for {int(empty.sum())} of {empty.size} label(s) and is set to 0.0; "
            "use the zero_division parameter to choose the value",
            UndefinedMetricWarning,
            stacklevel=4,
        )
    return out


def _nan_average(values: np.ndarray, weights: np.ndarray | None) -> float:
    """Mean that skips NaN (zero_division=np.nan); falls back to unweighted if weights sum to 0."""
    ok = ~np.isnan(values)
    if not ok.any():
        return float("nan")
    values = values[ok]
    if weights is None or not np.any(weights[ok]):
        return float(values.mean())
    weights = weights[ok]
    return float((values * weights).sum() / weights.sum())


def precision_recall_fscore_support(
    y_true: Any,
    y_pred: Any,
    *,
    beta: float = 1.0,
    labels: Any = None,
    pos_label: Any = 1,
    average: str | None = None,
    warn_for: tuple[str, ...] = ("precision", "recall", "f-score"),
    sample_weight: Any = None,
    zero_division: float | str = "warn",
) -> Scores:
    r"""Precision, recall, F-beta and support, per class or averaged.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted class labels.
    beta : float, default=1.0
        Weight of recall against precision in the F-score (``beta >= 0``).
    labels : array-like, default=None
        Classes to score (and their order when ``average=None``); default all classes seen.
        Classes can be left out, e.g. a majority class from a macro average.
    pos_label : int, float, bool or str, default=1
        The class scored when ``average='binary'``; ignored (with a warning) otherwise.
    average : {'binary', 'micro', 'macro', 'weighted'} or None, default=None
        ``None``: one value per class. ``'binary'``: the ``pos_label`` class only.
        ``'micro'``: pool the counts of all classes, then divide. ``'macro'``: unweighted mean
        of the per-class values. ``'weighted'``: mean weighted by support.
    warn_for : tuple of str, default=('precision', 'recall', 'f-score')
        Which ill-defined quantities warn when ``zero_division='warn'``.
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative weights.
    zero_division : {'warn', 0.0, 1.0, np.nan}, default='warn'
        Value of a 0/0 ratio; 'warn' uses 0 and issues an :class:`UndefinedMetricWarning`.
        NaN values are left out of the averages.

    Returns
    -------
    precision, recall, fbeta : float or ndarray of shape (n_labels,)
    support : ndarray of shape (n_labels,) or None
        Weight of true samples per class; None when averaged.

    Notes
    -----
    With per-class true positives :math:`TP_c`, false positives :math:`FP_c` and false
    negatives :math:`FN_c`,

    .. math:: P_c = \frac{TP_c}{TP_c + FP_c}, \quad R_c = \frac{TP_c}{TP_c + FN_c}, \quad
              F_{\beta,c} = \frac{(1 + \beta^2)\, TP_c}{(1 + \beta^2)\, TP_c + \beta^2 FN_c
              + FP_c}.

    The F-score is computed from counts, so it is defined whenever the class is either true or
    predicted at least once. Micro-averaging sums the counts over classes first; for a
    single-label multiclass problem scored over all classes it equals accuracy.

    References
    ----------
    .. [1] C. J. van Rijsbergen, *Information Retrieval*, 2nd ed., Butterworths, 1979, ch. 7.
    .. [2] M. Sokolova and G. Lapalme, "A systematic analysis of performance measures for
       classification tasks", Information Processing & Management 45(4), 427-437, 2009.
    """
    average = check_option(average, "average", AVERAGES)
    zero_division = check_zero_division(zero_division)
    beta = check_scalar(beta, "beta", low=0.0)
    yt, yp, w = _class_targets(y_true, y_pred, sample_weight)
    chosen = _set_wise_labels(yt, yp, average, labels, pos_label)
    tp, pred, true = _per_label_sums(yt, yp, w, chosen)
    if average == "micro":
        tp, pred, true = tp.sum(keepdims=True), pred.sum(keepdims=True), true.sum(keepdims=True)
    beta2 = beta * beta
    precision = _divide(tp, pred, zero_division, "Precision", "precision" in warn_for)
    recall = _divide(tp, true, zero_division, "Recall", "recall" in warn_for)
    f_den = beta2 * true + pred
    f_score = _divide((1 + beta2) * tp, f_den, zero_division, "F-score", "f-score" in warn_for)
    if average is None:
        return precision, recall, f_score, true
    weights = true if average == "weighted" else None
    return (
        _nan_average(precision, weights),
        _nan_average(recall, weights),
        _nan_average(f_score, weights),
        None,
    )


def precision_score(
    y_true: Any,
    y_pred: Any,
    *,
    labels: Any = None,
    pos_label: Any = 1,
    average: str | None = "binary",
    sample_weight: Any = None,
    zero_division: float | str = "warn",
) -> Any:
    r"""Precision :math:`TP / (TP + FP)`: the share of predicted positives that are right.

    Parameters are those of :func:`precision_recall_fscore_support`, with
    ``average='binary'`` by default. Returns a float, or one value per class for
    ``average=None``.

    References
    ----------
    .. [1] C. J. van Rijsbergen, *Information Retrieval*, 2nd ed., Butterworths, 1979, ch. 7.
    """
    return precision_recall_fscore_support(
        y_true,
        y_pred,
        labels=labels,
        pos_label=pos_label,
        average=average,
        warn_for=("precision",),
        sample_weight=sample_weight,
        zero_division=zero_division,
    )[0]


def recall_score(
    y_true: Any,
    y_pred: Any,
    *,
    labels: Any = None,
    pos_label: Any = 1,
    average: str | None = "binary",
    sample_weight: Any = None,
    zero_division: float | str = "warn",
) -> Any:
    r"""Recall :math:`TP / (TP + FN)`: the share of true positives that are found.

    Parameters are those of :func:`precision_recall_fscore_support`, with
    ``average='binary'`` by default. Returns a float, or one value per class for
    ``average=None``.

    References
    ----------
    .. [1] C. J. van Rijsbergen, *Information Retrieval*, 2nd ed., Butterworths, 1979, ch. 7.
    """
    return precision_recall_fscore_support(
        y_true,
        y_pred,
        labels=labels,
        pos_label=pos_label,
        average=average,
        warn_for=("recall",),
        sample_weight=sample_weight,
        zero_division=zero_division,
    )[1]


def f1_score(
    y_true: Any,
    y_pred: Any,
    *,
    labels: Any = None,
    pos_label: Any = 1,
    average: str | None = "binary",
    sample_weight: Any = None,
    zero_division: float | str = "warn",
) -> Any:
    r"""F1 score, the harmonic mean of precision and recall.

    .. math:: F_1 = \frac{2 P R}{P + R} = \frac{2\, TP}{2\, TP + FP + FN}.

    Parameters are those of :func:`precision_recall_fscore_support`, with
    ``average='binary'`` by default. Returns a float, or one value per class for
    ``average=None``.

    References
    ----------
    .. [1] C. J. van Rijsbergen, *Information Retrieval*, 2nd ed., Butterworths, 1979, ch. 7.
    """
    return precision_recall_fscore_support(
        y_true,
        y_pred,
        labels=labels,
        pos_label=pos_label,
        average=average,
        warn_for=("f-score",),
        sample_weight=sample_weight,
        zero_division=zero_division,
    )[2]
