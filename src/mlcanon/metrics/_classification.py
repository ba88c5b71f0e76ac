"""Precision, recall and F-score per class, and their micro, macro and weighted averages."""

from __future__ import annotations

from typing import Any

import numpy as np

from mlcanon._validation import check_option, check_scalar

from ._checks import check_zero_division
from ._setwise import AVERAGES, divide, nan_average, set_wise_counts

__all__ = [
    "f1_score",
    "fbeta_score",
    "precision_recall_fscore_support",
    "precision_score",
    "recall_score",
]

Scores = tuple[Any, Any, Any, Any]


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
    return _scores(
        warn_for, y_true, y_pred, labels, pos_label, average, sample_weight, zero_division, beta
    )


def _scores(
    warn_for: tuple[str, ...],
    y_true: Any,
    y_pred: Any,
    labels: Any,
    pos_label: Any,
    average: str | None,
    sample_weight: Any,
    zero_division: float | str,
    beta: float = 1.0,
) -> Scores:
    """The body of :func:`precision_recall_fscore_support` and of the four scores built on it,
    one frame below each of them, so that a warning's ``stacklevel`` names their caller."""
    average = check_option(average, "average", AVERAGES)
    zero_division = check_zero_division(zero_division)
    if beta != np.inf:  # F_inf is recall, the limit of the formula
        beta = check_scalar(beta, "beta", low=0.0)
    tp, pred, true, weights = set_wise_counts(
        y_true, y_pred, sample_weight, average, labels, pos_label
    )
    if average == "micro":
        tp, pred, true = tp.sum(keepdims=True), pred.sum(keepdims=True), true.sum(keepdims=True)
    beta2 = beta * beta
    precision = divide(tp, pred, zero_division, ("Precision", "predicted", average), warn_for)
    recall = divide(tp, true, zero_division, ("Recall", "true", average), warn_for)
    if beta == np.inf:
        f_score = recall
    elif beta == 0:  # F_0 is precision: its 0/0 is precision's, warned only as precision
        f_score = precision.copy()
    else:
        f_score = divide(
            (1 + beta2) * tp,
            beta2 * true + pred,
            zero_division,
            ("F-score", "true nor predicted", average),
            warn_for,
        )
    if average is None:
        return precision, recall, f_score, true
    return (
        nan_average(precision, weights),
        nan_average(recall, weights),
        nan_average(f_score, weights),
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
    return _scores(
        ("precision",), y_true, y_pred, labels, pos_label, average, sample_weight, zero_division
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
    return _scores(
        ("recall",), y_true, y_pred, labels, pos_label, average, sample_weight, zero_division
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
    return _scores(
        ("f-score",), y_true, y_pred, labels, pos_label, average, sample_weight, zero_division
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
    return _scores(
        ("f-score",), y_true, y_pred, labels, pos_label, average, sample_weight, zero_division, beta
    )[2]
