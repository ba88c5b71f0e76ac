"""One 2 x 2 confusion matrix per label: each label against the rest."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._setwise import label_sums, set_wise_labels
from ._targets import check_class_targets

__all__ = ["multilabel_confusion_matrix"]


def multilabel_confusion_matrix(
    y_true: Any,
    y_pred: Any,
    *,
    sample_weight: Any = None,
    labels: Any = None,
    samplewise: bool = False,
) -> np.ndarray:
    r"""Per-label (one-vs-rest) confusion matrices ``[[TN, FP], [FN, TP]]``.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,) or (n_samples, n_labels)
        Class labels (binary or multiclass: each class is read against the others) or 0/1
        label-indicator matrices (multilabel: one column per label).
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative weights.
    labels : array-like, default=None
        Labels to report, in this order (column indices for a multilabel target); default all
        labels seen, sorted.
    samplewise : bool, default=False
        Multilabel only: one matrix per sample, over its labels, instead of one per label.

    Returns
    -------
    ndarray of shape (n_outputs, 2, 2)
        ``M[k] = [[TN_k, FP_k], [FN_k, TP_k]]``; int64 without weights.

    Notes
    -----
    For label :math:`k` with :math:`y_{ik}, \hat y_{ik} \in \{0, 1\}` (sample :math:`i` has /
    is predicted to have label :math:`k`),

    .. math:: TP_k = \sum_i w_i\, y_{ik} \hat y_{ik}, \quad
              FP_k = \sum_i w_i\, (1 - y_{ik}) \hat y_{ik}, \quad
              FN_k = \sum_i w_i\, y_{ik} (1 - \hat y_{ik}),

    and :math:`TN_k` is the rest of the total weight. ``M[:, 1, 1] / M[:, :, 1].sum(1)`` is the
    per-label precision of :func:`precision_score` with ``average=None``.

    References
    ----------
    .. [1] G. Tsoumakas, I. Katakis and I. Vlahavas, "Mining multi-label data", in *Data
       Mining and Knowledge Discovery Handbook*, Springer, 2010, Section 7.1.
    """
    t = check_class_targets(y_true, y_pred, sample_weight)
    chosen = set_wise_labels(t, None, labels, None)
    tp, pred, true = label_sums(t, chosen, samplewise)
    fp, fn = pred - tp, true - tp
    w = t.sample_weight
    if samplewise:  # a sample's cells over its len(chosen) labels, scaled by its weight
        total = len(chosen) if w is None else len(chosen) * w
    else:
        total = t.y_true.shape[0] if w is None else w.sum()
    return np.stack([total - tp - fp - fn, fp, fn, tp], axis=-1).reshape(-1, 2, 2)
