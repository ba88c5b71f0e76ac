"""Precision, recall and F-score per class, and their micro, macro and weighted averages."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from mlcanon._validation import check_option, check_scalar

from ._checks import UndefinedMetricWarning, check_zero_division, contains
from ._targets import Targets, as_target, check_class_targets, check_label_kinds

__all__ = [
    "f1_score",
    "fbeta_score",
    "precision_recall_fscore_support",
    "precision_score",
    "recall_score",
]

AVERAGES = ("binary", "micro", "macro", "weighted", "samples", None)
Scores = tuple[Any, Any, Any, Any]


def _binary_label(t: Targets, pos_label: Any) -> np.ndarray:
    """``[pos_label]``, checked against a binary target, for ``average='binary'``."""
    if t.kind != "binary":
        options = [None, "micro", "macro", "weighted", "samples"]
        if t.kind == "multiclass":
            options.remove("samples")
        raise ValueError(
            f"Target is {t.kind} but average='binary'. Please choose another average "
            f"setting, one of {options}."
        )
    if t.labels.size == 2 and not contains(t.labels, pos_label):
        raise ValueError(
            f"pos_label={pos_label!r} is not a valid label. It should be one of {t.labels}"
        )
    chosen = np.asarray([pos_label])
    check_label_kinds(y_true=t.y_true, pos_label=chosen)
    return chosen


def _chosen_labels(labels: Any, t: Targets) -> np.ndarray:
    """``labels`` as given: class labels, or column indices of an indicator matrix."""
    labels = as_target(labels, "labels").reshape(-1)
    if t.kind != "multilabel-indicator":
        check_label_kinds(y_true=t.y_true, labels=labels)
        return labels
    n = t.y_true.shape[1]
    if labels.dtype.kind not in "iu":
        raise ValueError(
            f"labels must be column indices of the multilabel indicator, got {labels.tolist()}"
        )
    if labels.size and labels.max() >= n:
        raise ValueError(
            f"All labels must be in [0, n labels) for multilabel targets. Got {labels.max()} "
            f"> {n - 1}"
        )
    if labels.size and labels.min() < 0:
        raise ValueError(
            f"All labels must be in [0, n labels) for multilabel targets. Got {labels.min()} < 0"
        )
    return labels


def _set_wise_labels(t: Targets, average: str | None, labels: Any, pos_label: Any) -> np.ndarray:
    """The classes to score: ``[pos_label]`` for a binary average, else ``labels`` or all."""
    if average == "binary":
        return _binary_label(t, pos_label)
    if pos_label not in (None, 1):
        warnings.warn(
            f"Note that pos_label (set to {pos_label!r}) is ignored when average != 'binary' "
            f"(got {average!r}). You may use labels=[pos_label] to specify a single positive "
            "class.",
            UserWarning,
            stacklevel=4,
        )
    if average == "samples" and t.kind != "multilabel-indicator":
        raise ValueError(
            "Sample-based precision, recall, fscore is not meaningful outside multilabel "
            f"classification (the target is {t.kind}). See the accuracy_score instead."
        )
    return t.labels if labels is None else _chosen_labels(labels, t)


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


def _indicator_sums(
    t: Targets, labels: np.ndarray, samplewise: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The same sums from 0/1 indicator columns: per column, or per sample (row)."""
    yt, yp = t.y_true[:, labels], t.y_pred[:, labels]
    if samplewise:  # per row; sample weights enter the average instead
        return (yt & yp).sum(axis=1), yp.sum(axis=1), yt.sum(axis=1)
    w = np.ones(yt.shape[0], np.int64) if t.sample_weight is None else t.sample_weight
    return w @ (yt & yp), w @ yp, w @ yt


def _divide(
    num: np.ndarray,
    den: np.ndarray,
    zero_division: float | str,
    what: tuple[str, str, str | None],
    warn_for: Any,
) -> np.ndarray:
    """``num / den`` with 0/0 replaced by ``zero_division`` (0 and a warning for 'warn').

    ``what`` is (metric, the missing kind, average) and words the warning.
    """
    empty = den == 0
    out = np.divide(num, den, out=np.zeros(num.shape), where=~empty, dtype=np.float64)
    if not empty.any():
        return out
    out[empty] = 0.0 if zero_division == "warn" else zero_division
    metric, missing, average = what
    if zero_division == "warn" and metric.lower() in warn_for:
        rows, cols = ("labels", "samples") if average == "samples" else ("samples", "labels")
        where = "due to" if empty.size == 1 else f"in {cols} with"
        warnings.warn(
            f"{metric} is ill-defined and being set to 0.0 {where} no {missing} {rows}. "
            "Use `zero_division` parameter to control this behavior.",
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
    y_true, y_pred : array-like of shape (n_samples,) or (n_samples, n_labels)
        True and predicted class labels, or 0/1 label-indicator matrices (multilabel: each
        column is a label that a sample has or not; dense, list of rows or scipy.sparse).
    beta : float, default=1.0
        Weight of recall against precision in the F-score (``beta >= 0``; ``np.inf`` gives
        recall, the limit of the formula).
    labels : array-like, default=None
        Classes to score (and their order when ``average=None``); default all classes seen.
        Classes can be left out, e.g. a majority class from a macro average. For a multilabel
        target, column indices.
    pos_label : int, float, bool or str, default=1
        The class scored when ``average='binary'``; ignored (with a warning) otherwise.
    average : {'binary', 'micro', 'macro', 'weighted', 'samples'} or None, default=None
        ``None``: one value per class. ``'binary'``: the ``pos_label`` class only.
        ``'micro'``: pool the counts of all classes, then divide. ``'macro'``: unweighted mean
        of the per-class values. ``'weighted'``: mean weighted by support. ``'samples'``
        (multilabel only): the value of each sample's set of labels, averaged over samples
        (weighted by ``sample_weight``).
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

    For ``average='samples'`` the same ratios are taken per sample :math:`i` over its label
    sets, :math:`P_i = |Y_i \cap \hat Y_i| / |\hat Y_i|`, :math:`R_i = |Y_i \cap \hat Y_i| / |Y_i|`,
    and averaged over samples.

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
    if beta != np.inf:  # F_inf is recall, the limit of the formula
        beta = check_scalar(beta, "beta", low=0.0)
    t = check_class_targets(y_true, y_pred, sample_weight)
    chosen = _set_wise_labels(t, average, labels, pos_label)
    if t.kind == "multilabel-indicator":
        tp, pred, true = _indicator_sums(t, chosen, samplewise=average == "samples")
    else:
        tp, pred, true = _per_label_sums(t.y_true, t.y_pred, t.sample_weight, chosen)
    if average == "micro":
        tp, pred, true = tp.sum(keepdims=True), pred.sum(keepdims=True), true.sum(keepdims=True)
    beta2 = beta * beta
    precision = _divide(tp, pred, zero_division, ("Precision", "predicted", average), warn_for)
    recall = _divide(tp, true, zero_division, ("Recall", "true", average), warn_for)
    if beta == np.inf:
        f_score = recall
    else:
        f_score = _divide(
            (1 + beta2) * tp,
            beta2 * true + pred,
            zero_division,
            ("F-score", "true nor predicted", average),
            warn_for,
        )
    if average is None:
        return precision, recall, f_score, true
    weights = {"weighted": true, "samples": t.sample_weight}.get(average)
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


def fbeta_score(
    y_true: Any,
    y_pred: Any,
    *,
    beta: float,
    labels: Any = None,
    pos_label: Any = 1,
    average: str | None = "binary",
    sample_weight: Any = None,
    zero_division: float | str = "warn",
) -> Any:
    r"""F-beta score, the weighted harmonic mean of precision and recall.

    .. math:: F_\beta = \frac{(1 + \beta^2) P R}{\beta^2 P + R}
              = \frac{(1 + \beta^2)\, TP}{(1 + \beta^2)\, TP + \beta^2 FN + FP}.

    ``beta > 1`` favours recall, ``beta < 1`` precision; ``beta = 1`` is :func:`f1_score`.
    Other parameters are those of :func:`precision_recall_fscore_support`, with
    ``average='binary'`` by default.

    References
    ----------
    .. [1] C. J. van Rijsbergen, *Information Retrieval*, 2nd ed., Butterworths, 1979, ch. 7.
    """
    return precision_recall_fscore_support(
        y_true,
        y_pred,
        beta=beta,
        labels=labels,
        pos_label=pos_label,
        average=average,
        warn_for=("f-score",),
        sample_weight=sample_weight,
        zero_division=zero_division,
    )[2]
