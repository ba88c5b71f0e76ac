"""Error counts at every threshold, and the detection error tradeoff (DET) curve built on them."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._checks import as_target, check_bool, positive_mask, score_dtype, target_type
from ._ranking import _binary_inputs, _counts_at_thresholds, _drop_flat_tps

__all__ = ["confusion_matrix_at_thresholds", "det_curve"]


def confusion_matrix_at_thresholds(
    y_true: Any, y_score: Any, *, pos_label: Any = None, sample_weight: Any = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    r"""True/false negatives and positives of the classifier ``score >= t`` for every score ``t``.

    Parameters
    ----------
    y_true, y_score, pos_label, sample_weight
        As in :func:`precision_recall_curve`.

    Returns
    -------
    tns, fps, fns, tps : ndarray of shape (n_thresholds,)
        (Weighted) counts at each threshold, as float64.
    thresholds : ndarray of shape (n_thresholds,)
        The distinct scores, decreasing, in the dtype of ``y_score`` (as scikit-learn).

    Notes
    -----
    The one sort behind :func:`roc_curve` and :func:`precision_recall_curve`: with the
    scores in decreasing order, :math:`TP(t)` and :math:`FP(t)` are running sums of the
    positive and negative weight, read at the last sample of each run of equal scores;
    :math:`TN(t) = N - FP(t)` and :math:`FN(t) = P - TP(t)`.

    References
    ----------
    .. [1] T. Fawcett, "An introduction to ROC analysis", Pattern Recognition Letters 27(8),
       861-874, 2006, Algorithm 1.
    """
    is_pos, score, w = _binary_inputs(positive_mask(y_true, pos_label), y_score, sample_weight)
    fps, tps, thresholds = _counts_at_thresholds(is_pos, score, w)
    fps, tps = fps.astype(np.float64), tps.astype(np.float64)
    return fps[-1] - fps, fps, tps[-1] - tps, tps, thresholds.astype(score_dtype(y_score))


def det_curve(
    y_true: Any,
    y_score: Any,
    pos_label: Any = None,
    sample_weight: Any = None,
    drop_intermediate: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Detection error tradeoff: false positive rate against false negative rate.

    Parameters
    ----------
    y_true, y_score, pos_label, sample_weight
        As in :func:`precision_recall_curve`.
    drop_intermediate : bool, default=False
        Drop the thresholds at which the true positives change neither before nor after
        (horizontal stretches of the curve).

    Returns
    -------
    fpr : ndarray of shape (n_points,)
        Decreasing false positive rates :math:`FP / N`.
    fnr : ndarray of shape (n_points,)
        Increasing false negative rates :math:`FN / P` (miss rates).
    thresholds : ndarray of shape (n_points,)
        Increasing scores, from the lowest that finds every positive to the lowest at which
        no negative is yet above the threshold.

    Notes
    -----
    The two error rates of the classifier ``score >= t``,

    .. math:: \mathrm{FPR}(t) = \frac{FP(t)}{N}, \qquad \mathrm{FNR}(t) = 1 - \mathrm{TPR}(t),

    from the threshold where FP first stays 0 to the one where FN first reaches 0 (beyond
    them one of the rates is constant at 0). Plotted on normal-deviate axes, the curve is a
    straight line for Gaussian scores of equal variance.

    References
    ----------
    .. [1] A. Martin, G. Doddington, T. Kamm, M. Ordowski and M. Przybocki, "The DET curve in
       assessment of detection task performance", Eurospeech 1997.
    """
    drop_intermediate = check_bool(drop_intermediate, "drop_intermediate")
    is_pos = positive_mask(y_true, pos_label)
    y = as_target(y_true, "y_true")
    if target_type(y, "y_true") == "multiclass":  # scikit-learn reads no one-vs-rest here
        shown = ", ".join(repr(c) for c in np.unique(y).tolist()[:10])
        raise ValueError(
            f"y_true must hold exactly two classes for a detection error tradeoff curve, got "
            f"{len(np.unique(y))} ({shown}); pos_label={pos_label!r} does not make a "
            f"multiclass y_true one-vs-rest here (pass y_true == pos_label for that)"
        )
    if is_pos.all() or not is_pos.any():
        raise ValueError(
            "Only one class is present in y_true. Detection error tradeoff curve is not "
            "defined in that case."
        )
    _, fps, _, tps, thresholds = confusion_matrix_at_thresholds(
        is_pos, y_score, pos_label=True, sample_weight=sample_weight
    )
    # the threshold at +inf predicts nothing positive
    fps, tps = np.concatenate(([0.0], fps)), np.concatenate(([0.0], tps))
    thresholds = np.concatenate(([np.inf], thresholds.astype(np.float64)))
    if drop_intermediate:
        fps, tps, thresholds = _drop_flat_tps(fps, tps, thresholds)
    n_neg, n_pos = fps[-1], tps[-1]
    first = np.searchsorted(fps, 0.0, side="right") - 1  # last point with FP still 0
    last = np.searchsorted(tps, n_pos) + 1  # first point with every positive found
    fps, tps, thresholds = fps[first:last], tps[first:last], thresholds[first:last]
    return fps[::-1] / n_neg, (n_pos - tps)[::-1] / n_pos, thresholds[::-1]
