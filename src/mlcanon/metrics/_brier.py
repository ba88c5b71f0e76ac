"""The Brier score: mean squared error of predicted class probabilities."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._checks import check_labels, check_pos_label
from ._cross_entropy import _check_probabilities, probability_targets
from ._targets import check_lengths, check_weights, target_type

__all__ = ["brier_score_loss", "brier_targets"]


def _binary_positive(y: np.ndarray, pos_label: Any) -> np.ndarray:
    """Positive mask; without ``pos_label``, 1 for {0, 1} or {-1, 1}, else the greater label."""
    kind = target_type(y, "y_true")
    if kind != "binary":
        raise ValueError(
            f"The type of the target inferred from y_true is {kind} but should be binary "
            "according to the shape of y_prob."
        )
    if check_pos_label(pos_label) is not None:
        return y == pos_label
    classes = np.unique(y)
    if classes.dtype.kind in "US":
        shown = ", ".join(repr(c) for c in classes.tolist())
        raise ValueError(
            f"y_true takes value in {{{shown}}} and pos_label is not specified: either make "
            "y_true take value in {0, 1} or {-1, 1} or pass pos_label explicitly."
        )
    if set(classes.tolist()) <= {0, 1} or set(classes.tolist()) <= {-1, 1}:
        return y == 1
    return y == classes[-1]


def brier_targets(
    y_true: Any, y_proba: Any, sample_weight: Any, pos_label: Any, labels: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """One-hot targets and probabilities, one column per class (two for a 1-D binary score)."""
    if not (np.ndim(y_proba) == 1 or (np.ndim(y_proba) == 2 and np.shape(y_proba)[1] == 1)):
        return probability_targets(y_true, y_proba, sample_weight, labels)
    p = _check_probabilities(y_proba).reshape(-1)
    y = check_labels(y_true, "y_true")
    w = check_weights(sample_weight, check_lengths(p, y, sample_weight))
    is_pos = _binary_positive(y, pos_label).astype(np.float64)
    return np.column_stack((1 - is_pos, is_pos)), np.column_stack((1 - p, p)), w


def brier_score_loss(
    y_true: Any,
    y_proba: Any,
    *,
    sample_weight: Any = None,
    pos_label: Any = None,
    labels: Any = None,
    scale_by_half: bool | str = "auto",
) -> float:
    r"""Brier score: the mean squared distance between the one-hot target and the probabilities.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_classes)
        Class labels, or a one-hot (indicator) matrix.
    y_proba : array-like of shape (n_samples,) or (n_samples, n_classes)
        Probabilities in [0, 1]: of the positive class (1-D, binary ``y_true``), or one column
        per class in sorted class order.
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative weights.
    pos_label : int, float, bool or str, default=None
        Binary only: the positive class. Default 1 for {0, 1} or {-1, 1} targets, else the
        greater label (strings need it given).
    labels : array-like, default=None
        Multiclass: all classes, when ``y_true`` does not show them all.
    scale_by_half : bool or 'auto', default='auto'
        Halve the sum over classes, so a binary score is the squared error of the positive
        probability alone and lies in [0, 1]; 'auto' halves for one or two columns.

    Returns
    -------
    float

    Notes
    -----
    .. math:: \mathrm{BS} = \frac{1}{\sum_i w_i}\sum_i w_i \sum_c (p_{ic} - [y_i = c])^2,

    times 1/2 when scaled. It is a strictly proper scoring rule: its expectation is minimised
    by the true class probabilities, and it decomposes into calibration and refinement.

    References
    ----------
    .. [1] G. W. Brier, "Verification of forecasts expressed in terms of probability", Monthly
       Weather Review 78(1), 1-3, 1950.
    """
    if scale_by_half not in ("auto", True, False):
        raise ValueError(f"scale_by_half must be True, False or 'auto', got {scale_by_half!r}")
    T, P, w = brier_targets(y_true, y_proba, sample_weight, pos_label, labels)
    score = float(np.average(((T - P) ** 2).sum(axis=1), weights=w))
    if scale_by_half is True or (scale_by_half == "auto" and P.shape[1] < 3):
        score *= 0.5
    return score
