"""The Jaccard index (intersection over union) of the true and predicted label sets."""

from __future__ import annotations

from typing import Any

import numpy as np

from mlcanon._validation import check_option

from ._checks import check_zero_division
from ._setwise import AVERAGES, divide, set_wise_counts

__all__ = ["jaccard_score"]


def jaccard_score(
    y_true: Any,
    y_pred: Any,
    *,
    labels: Any = None,
    pos_label: Any = 1,
    average: str | None = "binary",
    sample_weight: Any = None,
    zero_division: float | str = "warn",
) -> Any:
    r"""Jaccard index :math:`|A \cap B| / |A \cup B|` per label, or averaged.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,) or (n_samples, n_labels)
        Class labels or 0/1 label-indicator matrices (multilabel).
    labels, pos_label, average, sample_weight, zero_division
        As in :func:`precision_recall_fscore_support`: ``average`` is one of ``'binary'``
        (default), ``'micro'``, ``'macro'``, ``'weighted'``, ``'samples'`` (multilabel) or
        None; ``zero_division`` is the value of 0/0 (a label neither true nor predicted):
        ``"warn"`` (0 with a warning), 0 or 1. NaN is refused, as scikit-learn refuses it here.

    Returns
    -------
    float, or ndarray of shape (n_labels,) for ``average=None``

    Notes
    -----
    For label :math:`k`, with :math:`A_k` the samples that have it and :math:`B_k` those
    predicted to have it,

    .. math:: J_k = \frac{|A_k \cap B_k|}{|A_k \cup B_k|} = \frac{TP_k}{TP_k + FP_k + FN_k}.

    ``'samples'`` takes the same ratio between the true and predicted label sets of each
    sample. :math:`J = F_1 / (2 - F_1)`, so the two rank classifiers alike on one label.

    References
    ----------
    .. [1] P. Jaccard, "Étude comparative de la distribution florale dans une portion des Alpes
       et du Jura", Bulletin de la Société Vaudoise des Sciences Naturelles 37, 547-579, 1901.
    """
    return _jaccard(y_true, y_pred, labels, pos_label, average, sample_weight, zero_division)


def _jaccard(y_true, y_pred, labels, pos_label, average, sample_weight, zero_division) -> Any:
    """The body of :func:`jaccard_score`, one frame below it as :func:`._classification._scores`
    is below the precision-type scores, so that the shared warnings' ``stacklevel`` names the
    caller."""
    average = check_option(average, "average", AVERAGES)
    zero_division = check_zero_division(zero_division, allow_nan=False)
    tp, pred, true, weights = set_wise_counts(
        y_true, y_pred, sample_weight, average, labels, pos_label
    )
    union = pred + true - tp
    if average == "micro":
        tp, union = tp.sum(keepdims=True), union.sum(keepdims=True)
    what = ("Jaccard", "true or predicted", average)
    jaccard = divide(tp, union, zero_division, what, ("jaccard",))
    if average is None:
        return jaccard
    if weights is not None and not np.any(weights):
        weights = None
    return float(np.average(jaccard, weights=weights))
