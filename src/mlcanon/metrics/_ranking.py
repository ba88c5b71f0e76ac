"""ROC curve and the area under it: by trapezoids over the curve and by ranks (Mann-Whitney).

Everything here rests on one kernel: sort the scores once, in decreasing order, and accumulate
the (weighted) number of positives and negatives ranked at or above each distinct score. A tie
group is one threshold, so tied scores move the ROC curve diagonally.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mlcanon._validation import check_array, check_consistent_length, check_sample_weight

from ._checks import check_bool, check_scores, greater_label_positive, positive_mask

__all__ = ["auc", "auc_mann_whitney", "roc_auc_score", "roc_curve"]


def _counts_at_thresholds(
    is_pos: np.ndarray, y_score: np.ndarray, weight: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """False and true positives at each distinct score, highest score first.

    Returns ``fps, tps, thresholds`` where ``tps[k]`` is the weight of positives scored
    ``>= thresholds[k]``. Unweighted counts are exact integers, so the order of tied samples
    does not matter and the fast unstable sort is used; weighted sums are rounded, so ties keep
    their input order (the order scikit-learn accumulates in) and the sums agree bit for bit.
    """
    if weight is None:
        order = np.argsort(y_score)[::-1]
    else:
        order = np.argsort(-y_score, kind="stable")
    score = y_score[order]
    pos = is_pos[order]
    # last index of every run of equal scores: one threshold per run
    last = np.append(np.flatnonzero(score[1:] != score[:-1]), score.size - 1)
    if weight is None:
        tps = np.cumsum(pos, dtype=np.int64)[last]
        fps = last + 1 - tps
    else:
        w = weight[order]
        tps = np.cumsum(np.where(pos, w, 0.0))[last]
        fps = np.cumsum(np.where(pos, 0.0, w))[last]
    return fps, tps, score[last]


def _binary_inputs(
    is_pos: np.ndarray, y_score: Any, sample_weight: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Check scores and weights against the target; drop zero-weight samples (they add no point)."""
    score = check_scores(y_score)
    check_consistent_length(y_true=is_pos, y_score=score, sample_weight=sample_weight)
    if sample_weight is None:
        return is_pos, score, None
    w = check_sample_weight(sample_weight, score.shape[0])
    keep = w != 0
    if not keep.any():
        raise ValueError("sample_weight is zero for every sample: there is nothing to rank")
    return is_pos[keep], score[keep], w[keep]


def _require_both_classes(fps: np.ndarray, tps: np.ndarray, what: str) -> None:
    if tps[-1] <= 0 or fps[-1] <= 0:
        missing = "positive" if tps[-1] <= 0 else "negative"
        raise ValueError(
            f"{what} needs both classes in y_true, but there is no {missing} sample "
            "(with non-zero weight)"
        )


def roc_curve(
    y_true: Any,
    y_score: Any,
    *,
    pos_label: Any = None,
    sample_weight: Any = None,
    drop_intermediate: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Receiver operating characteristic: true vs false positive rate over all thresholds.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Class labels. Without ``pos_label`` they must be {0, 1} or {-1, 1}; with it, every
        other label counts as negative (one-vs-rest).
    y_score : array-like of shape (n_samples,)
        Scores, higher meaning more positive (probabilities or decision values); finite.
    pos_label : int, float, bool or str, default=None
        The positive class.
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative weights; zero-weight samples are dropped.
    drop_intermediate : bool, default=True
        Drop the points that lie on a straight segment between their neighbours. They change
        neither the picture nor the area.

    Returns
    -------
    fpr, tpr : ndarray of shape (n_points,)
        Increasing rates; ``(fpr[i], tpr[i])`` is the classifier ``score >= thresholds[i]``.
    thresholds : ndarray of shape (n_points,)
        Decreasing; ``thresholds[0] = inf`` is the classifier that predicts nothing positive,
        so the curve starts at (0, 0).

    Raises
    ------
    ValueError
        If ``y_true`` has no positive or no negative sample: one of the rates is 0/0.

    Notes
    -----
    With :math:`P` and :math:`N` the total positive and negative weight and threshold
    :math:`t`,

    .. math:: \mathrm{TPR}(t) = \frac{1}{P}\sum_{i: y_i = 1,\, s_i \ge t} w_i, \qquad
              \mathrm{FPR}(t) = \frac{1}{N}\sum_{i: y_i = 0,\, s_i \ge t} w_i.

    A point is intermediate when both second differences of the (FP, TP) counts vanish there.
    Unlike scikit-learn, a target with a single class raises instead of returning NaN rates.

    References
    ----------
    .. [1] T. Fawcett, "An introduction to ROC analysis", Pattern Recognition Letters 27(8),
       861-874, 2006.
    """
    drop_intermediate = check_bool(drop_intermediate, "drop_intermediate")
    is_pos = positive_mask(y_true, pos_label, one_vs_rest=True)
    is_pos, score, w = _binary_inputs(is_pos, y_score, sample_weight)
    fps, tps, thresholds = _counts_at_thresholds(is_pos, score, w)
    _require_both_classes(fps, tps, "roc_curve")
    if drop_intermediate and fps.size > 2:
        corner = (np.diff(fps, 2) != 0) | (np.diff(tps, 2) != 0)
        keep = np.concatenate(([True], corner, [True]))
        fps, tps, thresholds = fps[keep], tps[keep], thresholds[keep]
    fps = np.concatenate(([0.0], fps))
    tps = np.concatenate(([0.0], tps))
    return fps / fps[-1], tps / tps[-1], np.concatenate(([np.inf], thresholds))


def auc(x: Any, y: Any) -> float:
    r"""Area under a curve given by points, by the trapezoid rule.

    Parameters
    ----------
    x : array-like of shape (n,)
        Abscissae, monotonic (increasing or decreasing), at least 2 points.
    y : array-like of shape (n,)
        Ordinates.

    Returns
    -------
    float
        :math:`\sum_k (x_{k+1} - x_k)(y_{k+1} + y_k)/2`, sign-corrected for decreasing ``x``.

    Notes
    -----
    For a ROC curve the trapezoid is the exact area: between two thresholds the curve is a
    straight segment (diagonal across a tie group). For a precision-recall curve it is not,
    see :func:`average_precision_score`.

    References
    ----------
    .. [1] T. Fawcett, "An introduction to ROC analysis", Pattern Recognition Letters 27(8),
       861-874, 2006, Section 7.
    """
    x = check_array(x, "x", ndim=1)
    y = check_array(y, "y", ndim=1)
    check_consistent_length(x=x, y=y)
    if x.shape[0] < 2:
        raise ValueError(f"auc needs at least 2 points, got x of shape {x.shape}")
    dx = np.diff(x)
    if np.any(dx < 0) and np.any(dx > 0):
        raise ValueError("x must be monotonic (increasing or decreasing), got it going both ways")
    area = float(np.sum(dx * (y[1:] + y[:-1]) / 2.0))
    return -area if np.any(dx < 0) else area


def roc_auc_score(y_true: Any, y_score: Any, *, sample_weight: Any = None) -> float:
    r"""Area under the ROC curve of a binary problem.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Exactly two classes; the greater label (in sorted order) is the positive one.
    y_score : array-like of shape (n_samples,)
        Finite scores, higher meaning more positive.
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative weights.

    Returns
    -------
    float
        The AUC, in [0, 1].

    Raises
    ------
    ValueError
        If ``y_true`` has one class (AUC is undefined; scikit-learn warns and returns NaN) or
        more than two.

    Notes
    -----
    Sum of the trapezoids under the ROC curve. In counts, with :math:`F_k, T_k` the false and
    true positives above the :math:`k`-th distinct score (:math:`F_0 = T_0 = 0`),

    .. math:: \mathrm{AUC} = \frac{1}{PN}\sum_k (F_k - F_{k-1})\,\frac{T_k + T_{k-1}}{2},

    which is the probability that a random positive outscores a random negative, a tie counting
    one half (see :func:`auc_mann_whitney`). Without weights the sum is done in exact integer
    arithmetic and divided once.

    References
    ----------
    .. [1] J. A. Hanley and B. J. McNeil, "The meaning and use of the area under a receiver
       operating characteristic (ROC) curve", Radiology 143(1), 29-36, 1982.
    .. [2] T. Fawcett, "An introduction to ROC analysis", Pattern Recognition Letters 27(8),
       861-874, 2006, Algorithm 3.
    """
    is_pos = greater_label_positive(y_true)
    is_pos, score, w = _binary_inputs(is_pos, y_score, sample_weight)
    fps, tps, _ = _counts_at_thresholds(is_pos, score, w)
    _require_both_classes(fps, tps, "roc_auc_score")
    fps = np.concatenate(([0], fps))
    tps = np.concatenate(([0], tps))
    # twice the area in count units; integer, hence exact, when unweighted
    twice_area = np.sum(np.diff(fps) * (tps[1:] + tps[:-1]))
    return float(twice_area / (2.0 * fps[-1] * tps[-1]))


def auc_mann_whitney(y_true: Any, y_score: Any) -> float:
    r"""AUC as the Mann-Whitney probability that a positive outscores a negative.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Exactly two classes; the greater label is the positive one (as in :func:`roc_auc_score`).
    y_score : array-like of shape (n_samples,)
        Finite scores.

    Returns
    -------
    float
        :math:`P(s^+ > s^-) + \tfrac12 P(s^+ = s^-)` over independent draws of a positive and a
        negative sample.

    Notes
    -----
    Rank all :math:`n = n_1 + n_0` scores from 1 to :math:`n`, tied scores sharing the mean
    of their ranks, and let :math:`R_1` be the rank sum of the positives. Then

    .. math:: U_1 = R_1 - \frac{n_1 (n_1 + 1)}{2}, \qquad \mathrm{AUC} = \frac{U_1}{n_1 n_0}.

    :math:`U_1` counts the (positive, negative) pairs in which the positive scores higher, ties
    counting one half: a positive of rank :math:`r` outranks :math:`r - 1` samples, and
    subtracting the pairs among positives leaves the negatives. Ranks are half-integers, so
    the sums are exact in floating point.

    References
    ----------
    .. [1] H. B. Mann and D. R. Whitney, "On a test of whether one of two random variables is
       stochastically larger than the other", Annals of Mathematical Statistics 18(1), 1947.
    .. [2] J. A. Hanley and B. J. McNeil, Radiology 143(1), 29-36, 1982.
    """
    is_pos = greater_label_positive(y_true)
    score = check_scores(y_score)
    check_consistent_length(y_true=is_pos, y_score=score)
    n = score.shape[0]
    order = np.argsort(score)
    sorted_score = score[order]
    starts_run = np.concatenate(([True], sorted_score[1:] != sorted_score[:-1]))
    first = np.flatnonzero(starts_run)  # 0-based position where each tie run starts
    last = np.append(first[1:], n) - 1
    mean_rank = (first + last) / 2.0 + 1.0
    ranks = mean_rank[np.cumsum(starts_run) - 1]
    n_pos = int(np.count_nonzero(is_pos))
    n_neg = n - n_pos
    u_pos = ranks[is_pos[order]].sum() - n_pos * (n_pos + 1) / 2.0
    return float(u_pos / (n_pos * n_neg))
