r"""D² scores: the share of a loss that the model explains beyond the class-frequency baseline.

.. math:: D^2 = 1 - \frac{\sum_i w_i\, \ell(y_i, p_i)}{\sum_i w_i\, \ell(y_i, \bar p)},

where :math:`\bar p` is the (weighted) frequency of each class in ``y_true``, the best constant
prediction, so :math:`D^2 = 0` for that baseline, 1 for a perfect model and negative for one
worse than the baseline (for the log loss this is McFadden's pseudo-:math:`R^2`).

References
----------
.. [1] D. McFadden, "Conditional logit analysis of qualitative choice behavior", in *Frontiers
   in Econometrics*, Academic Press, 1974.
.. [2] T. Hastie, R. Tibshirani and M. Wainwright, *Statistical Learning with Sparsity*, CRC
   Press, 2015, Section 3.2 (deviance explained).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ._brier import brier_targets
from ._checks import UndefinedMetricWarning, renamed_y_proba
from ._cross_entropy import proba_eps, probability_targets, sample_log_losses
from ._targets import check_lengths

__all__ = ["d2_brier_score", "d2_log_loss_score"]


def _too_few(y_true: Any, y_proba: Any, sample_weight: Any) -> bool:
    if check_lengths(y_proba, y_true, sample_weight) >= 2:
        return False
    warnings.warn(
        "D^2 score is not well-defined with less than two samples.",
        UndefinedMetricWarning,
        stacklevel=3,
    )
    return True


def _d2(loss: Any, T: np.ndarray, P: np.ndarray, w: np.ndarray | None) -> float:
    """:math:`1 - L(T, P) / L(T, \\bar p)` with the baseline of class frequencies."""
    baseline = np.broadcast_to(np.average(T, axis=0, weights=w), T.shape)
    model, null = np.average(loss(T, P), weights=w), np.average(loss(T, baseline), weights=w)
    return float(1 - model / null)


def d2_log_loss_score(
    y_true: Any,
    y_proba: Any = None,
    *,
    sample_weight: Any = None,
    labels: Any = None,
    y_pred: Any = "deprecated",
) -> float:
    """D² of the log loss (see the module doc); parameters are those of :func:`log_loss`
    (``y_pred``: ``y_proba``'s name before scikit-learn 1.9, taken with a FutureWarning).

    NaN, with an :class:`UndefinedMetricWarning`, for fewer than two samples.
    """
    y_proba = renamed_y_proba(y_proba, y_pred, "d2_log_loss_score")
    if _too_few(y_true, y_proba, sample_weight):
        return float("nan")
    T, P, w = probability_targets(y_true, y_proba, sample_weight, labels)
    baseline = np.broadcast_to(np.average(T, axis=0, weights=w), T.shape)  # float64, as sklearn
    model = np.average(sample_log_losses(T, P, proba_eps(y_proba)), weights=w)
    return float(1 - model / np.average(sample_log_losses(T, baseline), weights=w))


def d2_brier_score(
    y_true: Any,
    y_proba: Any,
    *,
    sample_weight: Any = None,
    pos_label: Any = None,
    labels: Any = None,
) -> float:
    """D² of the Brier score (see the module doc); parameters are those of
    :func:`brier_score_loss`.

    NaN, with an :class:`UndefinedMetricWarning`, for fewer than two samples.
    """
    if _too_few(y_true, y_proba, sample_weight):
        return float("nan")
    T, P, w = brier_targets(y_true, y_proba, sample_weight, pos_label, labels)
    return _d2(lambda t, p: ((t - p) ** 2).sum(axis=1), T, P, w)
