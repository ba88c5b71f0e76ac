"""Accuracy and its complements: zero-one loss, Hamming loss and balanced accuracy."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ._checks import UndefinedMetricWarning, check_bool
from ._confusion_matrix import confusion_matrix
from ._targets import check_class_targets

__all__ = ["accuracy_score", "balanced_accuracy_score", "hamming_loss", "zero_one_loss"]


def _correct(y_true: Any, y_pred: Any, sample_weight: Any) -> tuple[np.ndarray, Any]:
    """Whether each sample is right (all of its labels, for a multilabel target), and weights."""
    t = check_class_targets(y_true, y_pred, sample_weight)
    right = t.y_true == t.y_pred
    if t.kind == "multilabel-indicator":
        right = right.all(axis=1)
    return right, t.sample_weight


def _total(values: np.ndarray, w: np.ndarray | None, normalize: bool) -> float:
    if normalize:
        return float(np.average(values, weights=w))
    return float(values.sum() if w is None else values @ w)


def accuracy_score(
    y_true: Any, y_pred: Any, *, normalize: bool = True, sample_weight: Any = None
) -> float:
    r"""Accuracy: the (weighted) share of samples classified right.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,) or (n_samples, n_labels)
        Class labels, or 0/1 label-indicator matrices (multilabel: a sample counts as right
        only if every one of its labels is, the subset accuracy).
    normalize : bool, default=True
        Return the share; otherwise the (weighted) number of right samples.
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative weights.

    Returns
    -------
    float
        In [0, 1]; with ``normalize=False``, the total weight of the right samples.

    Notes
    -----
    .. math:: \mathrm{acc} = \frac{\sum_i w_i\, [\hat y_i = y_i]}{\sum_i w_i}.

    References
    ----------
    .. [1] T. Hastie, R. Tibshirani and J. Friedman, *The Elements of Statistical Learning*,
       2nd ed., Springer, 2009, Section 7.2 (0-1 loss).
    """
    normalize = check_bool(normalize, "normalize")
    right, w = _correct(y_true, y_pred, sample_weight)
    return _total(right, w, normalize)


def zero_one_loss(
    y_true: Any, y_pred: Any, *, normalize: bool = True, sample_weight: Any = None
) -> float:
    r"""Zero-one loss: the (weighted) share, or number, of misclassified samples.

    :math:`1 - \mathrm{acc}` (see :func:`accuracy_score`, whose parameters it takes); with
    ``normalize=False``, the total weight of the wrong samples.
    """
    normalize = check_bool(normalize, "normalize")
    right, w = _correct(y_true, y_pred, sample_weight)
    return _total(~right, w, normalize)


def hamming_loss(y_true: Any, y_pred: Any, *, sample_weight: Any = None) -> float:
    r"""Hamming loss: the (weighted) share of wrong labels.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,) or (n_samples, n_labels)
        Class labels, or 0/1 label-indicator matrices (multilabel).
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative weights.

    Returns
    -------
    float
        In [0, 1]: the share of wrong (sample, label) entries.

    Notes
    -----
    For :math:`L` labels, :math:`\frac{1}{L \sum_i w_i} \sum_i w_i \sum_k
    [\hat y_{ik} \ne y_{ik}]`, the normalised Hamming distance between the indicator rows;
    for single-label targets (:math:`L = 1`) it equals :func:`zero_one_loss`.

    References
    ----------
    .. [1] G. Tsoumakas, I. Katakis and I. Vlahavas, "Mining multi-label data", in *Data
       Mining and Knowledge Discovery Handbook*, Springer, 2010, Section 7.1.1.
    """
    t = check_class_targets(y_true, y_pred, sample_weight)
    wrong = t.y_true != t.y_pred
    if t.kind == "multilabel-indicator":
        wrong = wrong.mean(axis=1)
    return _total(wrong, t.sample_weight, True)


def balanced_accuracy_score(
    y_true: Any, y_pred: Any, *, sample_weight: Any = None, adjusted: bool = False
) -> float:
    r"""Balanced accuracy: the mean over classes of the recall (the share found of each class).

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        Class labels (not multilabel).
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative weights.
    adjusted : bool, default=False
        Rescale so that chance scores 0 and a perfect classifier 1:
        :math:`(\mathrm{bacc} - 1/K) / (1 - 1/K)`; NaN (with a warning) when :math:`K = 1`.

    Returns
    -------
    float

    Notes
    -----
    With :math:`C` the confusion matrix over the :math:`K` classes that occur in ``y_true``,

    .. math:: \mathrm{bacc} = \frac{1}{K}\sum_k \frac{C_{kk}}{\sum_j C_{kj}}.

    A class predicted but absent from ``y_true`` has no recall; it is left out, with a
    warning. For a binary problem this is the mean of sensitivity and specificity.

    References
    ----------
    .. [1] K. H. Brodersen, C. S. Ong, K. E. Stephan and J. M. Buhmann, "The balanced accuracy
       and its posterior distribution", ICPR 2010.
    """
    adjusted = check_bool(adjusted, "adjusted")
    C = confusion_matrix(y_true, y_pred, sample_weight=sample_weight)
    support = C.sum(axis=1)
    if not support.all():
        warnings.warn("y_pred contains classes not in y_true", UserWarning, stacklevel=2)
    recall = np.diag(C)[support != 0] / support[support != 0]
    score = float(recall.mean())
    if adjusted:
        if recall.size == 1:
            warnings.warn(
                "adjusted balanced accuracy is undefined for a single class in y_true (chance "
                "level 1): returning NaN",
                UndefinedMetricWarning,
                stacklevel=2,
            )
            return float("nan")
        chance = 1 / recall.size
        score = (score - chance) / (1 - chance)
    return score
