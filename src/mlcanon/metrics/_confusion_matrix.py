"""The confusion matrix: counts of (true class, predicted class) pairs."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from mlcanon._validation import check_option

from ._targets import as_label_kind, as_target, check_class_targets

__all__ = ["confusion_matrix"]


def _index_in(labels: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Position of each ``y`` in ``labels`` (any order), ``len(labels)`` where absent."""
    order = np.argsort(labels, kind="stable")
    ranked = labels[order]
    at = np.minimum(np.searchsorted(ranked, y), labels.size - 1)
    return np.where(ranked[at] == y, order[at], labels.size)


def confusion_matrix(
    y_true: Any,
    y_pred: Any,
    *,
    labels: Any = None,
    sample_weight: Any = None,
    normalize: str | None = None,
) -> np.ndarray:
    r"""Confusion matrix ``C[i, j]``: weight of samples of class ``i`` predicted as class ``j``.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted class labels (numbers or strings, not mixed).
    labels : array-like of shape (n_classes,), default=None
        Classes indexing the rows and columns, in this order. Default: the sorted union of the
        labels in ``y_true`` and ``y_pred``. A subset selects classes: samples whose true or
        predicted class is not listed are left out, as in scikit-learn.
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative weights; the matrix is float for float weights, int64 for integer or
        boolean weights and for no weights (as in scikit-learn).
    normalize : {'true', 'pred', 'all'} or None, default=None
        Divide by the row sums (rates per true class: recall on the diagonal), the column sums
        (per predicted class: precision on the diagonal) or the total. An empty row or column
        gives zeros.

    Returns
    -------
    ndarray of shape (n_classes, n_classes)

    Notes
    -----
    .. math:: C_{ij} = \sum_{k} w_k\, [y_k = c_i]\,[\hat y_k = c_j].

    For a binary problem with classes (negative, positive), ``C.ravel()`` is
    ``(TN, FP, FN, TP)``.

    References
    ----------
    .. [1] T. Fawcett, "An introduction to ROC analysis", Pattern Recognition Letters 27(8),
       861-874, 2006, Section 2.
    """
    normalize = check_option(normalize, "normalize", ("true", "pred", "all", None))
    kind, labels_seen, yt, yp, w = check_class_targets(y_true, y_pred, sample_weight)
    if kind == "multilabel-indicator":
        raise ValueError(
            "multilabel-indicator is not supported: confusion_matrix takes class labels; "
            "score each column of an indicator matrix as its own binary problem"
        )
    other_kind = False
    if labels is None:
        labels = labels_seen
    else:
        labels = as_target(labels, "labels").reshape(-1)
        if labels.size == 0:
            raise ValueError("'labels' should contain at least one label, got an empty list")
        if np.unique(labels).size != labels.size:
            raise ValueError(f"labels must be distinct, got {labels.tolist()}")
        # As in scikit-learn, labels of the other kind (numbers for string classes) pass this
        # check by their string form ('1' for 1), but then count nothing: a 1 is not a '1'.
        seen, asked = as_label_kind(yt, labels)
        other_kind = seen is not yt
        if not np.isin(asked, seen).any():
            raise ValueError(
                f"At least one label specified must be in y_true; none of "
                f"labels={labels.tolist()[:10]} occurs in it"
            )
    n = labels.size
    if other_kind:
        ti = pi = np.full(yt.size, n)
    else:
        ti, pi = _index_in(labels, yt), _index_in(labels, yp)
    keep = (ti < n) & (pi < n)
    cell = ti[keep] * n + pi[keep]
    if w is not None and np.asarray(sample_weight).dtype.kind in "iub":
        # integer weights: counts summed in int64 (wrapping on overflow as scikit-learn does)
        cm = np.zeros(n * n, np.int64)
        np.add.at(cm, cell, np.asarray(sample_weight).astype(np.int64)[keep])
        cm = cm.reshape(n, n)
    else:
        weights = None if w is None else w[keep]
        cm = np.bincount(cell, weights=weights, minlength=n * n).reshape(n, n)
        if weights is not None:  # (bincount of no sample is int64, even with weights)
            cm = cm.astype(np.float64, copy=False)
    if cm.shape == (1, 1):
        warnings.warn(
            "A single label was found in y_true and y_pred: the confusion matrix is 1 x 1. "
            "Pass all known classes through labels for the full matrix.",
            UserWarning,
            stacklevel=2,
        )
    if normalize is None:
        return cm
    if normalize == "true":
        denom = cm.sum(axis=1, keepdims=True)
    elif normalize == "pred":
        denom = cm.sum(axis=0, keepdims=True)
    else:
        denom = np.full((1, 1), cm.sum())
    return np.divide(cm, denom, out=np.zeros(cm.shape), where=denom != 0)
