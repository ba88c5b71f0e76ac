"""The hinge loss of decision values: binary, and Crammer-Singer's multiclass form."""

from __future__ import annotations

from typing import Any

import numpy as np

from mlcanon._validation import check_array

from ._checks import check_labels
from ._targets import check_lengths, check_weights

__all__ = ["hinge_loss"]


def _margins(y: np.ndarray, decision: np.ndarray, labels: Any) -> np.ndarray:
    """Signed margin of every sample: how far its true class's score leads."""
    classes = np.unique(y if labels is None else check_labels(labels, "labels"))
    if classes.size <= 2:  # binary: the greater class is +1, the other -1
        score = decision.reshape(-1) if decision.ndim == 2 and decision.shape[1] == 1 else decision
        if score.ndim != 1:
            raise ValueError(
                f"pred_decision must be 1-D for a binary target, got shape {decision.shape}"
            )
        sign = np.where(y == classes[-1], 1.0, -1.0) if classes.size == 2 else -np.ones(y.size)
        return sign * score
    shape = f"({y.shape[0]}, {classes.size})"
    if decision.ndim != 2:
        raise ValueError(
            "The shape of pred_decision cannot be 1d array with a multiclass target. "
            f"pred_decision shape must be (n_samples, n_classes), that is {shape}. Got: "
            f"{decision.shape}"
        )
    if decision.shape[1] != classes.size:
        if labels is None:
            raise ValueError(
                "Please include all labels in y_true or pass labels as third argument "
                f"(y_true shows {classes.size} classes, pred_decision has "
                f"{decision.shape[1]} columns)"
            )
        raise ValueError(
            "The shape of pred_decision is not consistent with the number of classes. With a "
            f"multiclass target, pred_decision shape must be (n_samples, n_classes), that is "
            f"{shape}. Got: {decision.shape}"
        )
    if np.setdiff1d(y, classes).size:
        raise ValueError(f"y_true holds labels that are not in labels={classes.tolist()}")
    rows, true = np.arange(y.shape[0]), np.searchsorted(classes, y)
    true_score = decision[rows, true]
    others = decision.copy()
    others[rows, true] = -np.inf
    return true_score - others.max(axis=1)


def hinge_loss(
    y_true: Any, pred_decision: Any, *, labels: Any = None, sample_weight: Any = None
) -> float:
    r"""Average hinge loss of decision values (the loss a linear SVM minimises).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Class labels. With two classes the greater one is the positive (+1) class.
    pred_decision : array-like of shape (n_samples,) or (n_samples, n_classes)
        Decision values: one per sample for two classes, else one per class (columns in
        sorted class order).
    labels : array-like, default=None
        All classes, when ``y_true`` does not show them all.
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative weights.

    Returns
    -------
    float
        The (weighted) mean of :math:`\max(0, 1 - m_i)`, non-negative.

    Notes
    -----
    With the margin :math:`m_i = y_i f(x_i)` for :math:`y_i \in \{-1, +1\}`, or for several
    classes :math:`m_i = f_{y_i}(x_i) - \max_{c \ne y_i} f_c(x_i)` (Crammer & Singer),

    .. math:: L = \frac{1}{\sum_i w_i}\sum_i w_i \max(0,\ 1 - m_i).

    It is zero once every sample is on the right side with a margin of at least 1, and an
    upper bound on the number of mistakes.

    References
    ----------
    .. [1] K. Crammer and Y. Singer, "On the algorithmic implementation of multiclass
       kernel-based vector machines", JMLR 2, 265-292, 2001.
    """
    y = check_labels(y_true, "y_true")
    decision = check_array(pred_decision, "pred_decision", ndim=(1, 2))
    w = check_weights(sample_weight, check_lengths(y, decision, sample_weight))
    losses = np.maximum(0.0, 1.0 - _margins(y, decision, labels))
    return float(np.average(losses, weights=w))
