"""ROC curve and the area under it: by trapezoids over the curve and by ranks (Mann-Whitney).

Everything here rests on one kernel: sort the scores once, in decreasing order, and accumulate
the (weighted) number of positives and negatives ranked at or above each distinct score. A tie
group is one threshold, so tied scores move the ROC curve diagonally.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from mlcanon._validation import check_array, check_consistent_length

from ._average import average_binary_score
from ._checks import (
    check_bool,
    check_labels,
    check_score_matrix,
    check_scores,
    greater_label_positive,
    positive_mask,
)
from ._targets import as_target, check_lengths, check_weights, target_type

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


def _drop_flat_tps(
    fps: np.ndarray, tps: np.ndarray, thresholds: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Drop the thresholds at which ``tps`` changes neither before nor after (first and last
    stay): the inner points of a stretch of constant recall."""
    if fps.size <= 2:
        return fps, tps, thresholds
    moves = (np.diff(tps[:-1]) != 0) | (np.diff(tps[1:]) != 0)
    keep = np.concatenate(([True], moves, [True]))
    return fps[keep], tps[keep], thresholds[keep]


def _binary_inputs(
    is_pos: np.ndarray, y_score: Any, sample_weight: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Check scores and weights against the target; drop zero-weight samples (they add no point)."""
    score = check_scores(y_score)
    n = check_lengths(is_pos, score, sample_weight)
    if sample_weight is None:
        return is_pos, score, None
    w = check_weights(sample_weight, n, column=True)
    keep = w != 0
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
    is_pos = positive_mask(y_true, pos_label)
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
    x_given = x
    x = check_array(x, "x", ndim=1)
    y = check_array(y, "y", ndim=1)
    check_consistent_length(x=x, y=y)
    if x.shape[0] < 2:
        raise ValueError(f"auc needs at least 2 points, got x of shape {x.shape}")
    dx = np.diff(x)
    if np.any(dx < 0) and np.any(dx > 0):
        raise ValueError(
            f"x is neither increasing nor decreasing : {np.asarray(x_given)}; auc needs monotonic x"
        )
    area = float(np.sum(dx * (y[1:] + y[:-1]) / 2.0))
    return -area if np.any(dx < 0) else area


def _binary_auc(is_pos: np.ndarray, score: Any, w: Any, max_fpr: float | None = None) -> float:
    """AUC of one binary problem given as a positive mask (optionally up to ``max_fpr``)."""
    is_pos, score, w = _binary_inputs(np.asarray(is_pos, dtype=bool), score, w)
    fps, tps, _ = _counts_at_thresholds(is_pos, score, w)
    _require_both_classes(fps, tps, "roc_auc_score")
    fps = np.concatenate(([0], fps))
    tps = np.concatenate(([0], tps))
    if max_fpr is None or max_fpr == 1:
        # twice the area in count units; integer, hence exact, when unweighted
        twice_area = np.sum(np.diff(fps) * (tps[1:] + tps[:-1]))
        return float(twice_area / (2.0 * fps[-1] * tps[-1]))
    fpr, tpr = fps / fps[-1], tps / tps[-1]
    stop = np.searchsorted(fpr, max_fpr, side="right")
    # the curve up to max_fpr, closed by the linear interpolation at max_fpr
    fpr_cut = np.append(fpr[:stop], max_fpr)
    tpr_cut = np.append(
        tpr[:stop], np.interp(max_fpr, fpr[stop - 1 : stop + 1], tpr[stop - 1 : stop + 1])
    )
    partial = float(np.sum(np.diff(fpr_cut) * (tpr_cut[1:] + tpr_cut[:-1])) / 2)
    # McClish's standardization: 0.5 for a random ranking, 1 for a perfect one
    min_area, max_area = 0.5 * max_fpr**2, max_fpr
    return 0.5 * (1 + (partial - min_area) / (max_area - min_area))


def _check_max_fpr(max_fpr: Any) -> float:
    """``max_fpr`` as a float in (0, 1]: any real number (NumPy's too), not a bool."""
    if isinstance(max_fpr, bool | np.bool_) or not isinstance(max_fpr, numbers.Real):
        raise TypeError(
            f"max_fpr must be a float in (0, 1] or None, got {type(max_fpr).__name__} {max_fpr!r}"
        )
    if not 0 < max_fpr <= 1:
        raise ValueError(f"max_fpr must be a float in (0, 1], got {max_fpr!r}")
    return float(max_fpr)


def roc_auc_score(
    y_true: Any,
    y_score: Any,
    *,
    average: str | None = "macro",
    sample_weight: Any = None,
    max_fpr: float | None = None,
    multi_class: str = "raise",
    labels: Any = None,
) -> Any:
    r"""Area under the ROC curve: binary, multiclass (one-vs-rest or one-vs-one), multilabel.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_classes)
        Class labels (binary: the greater label in sorted order is the positive one), or a 0/1
        label-indicator matrix (multilabel).
    y_score : array-like of shape (n_samples,) or (n_samples, n_classes)
        Binary: finite scores, higher meaning more positive. Multiclass: probabilities (rows
        summing to 1), columns in the order of ``labels``. Multilabel: one score per column.
    average : {'macro', 'weighted', 'micro', 'samples'} or None, default='macro'
        How the per-class AUCs of a multiclass or multilabel problem are combined (see
        :mod:`mlcanon.metrics._ranking_multiclass`); ignored for a binary problem.
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative weights.
    max_fpr : float in (0, 1], default=None
        Binary only: the standardized partial AUC over false positive rates ``[0, max_fpr]``.
        Any real number (a NumPy scalar too) but a bool; it is used as a Python float.
    multi_class : {'raise', 'ovr', 'ovo'}, default='raise'
        Required for multiclass ``y_true``: one-vs-rest or one-vs-one (Hand & Till).
    labels : array-like of shape (n_classes,), default=None
        Multiclass: the sorted classes indexing the columns of ``y_score``.

    Returns
    -------
    float, or ndarray of shape (n_classes,) for ``average=None``
        The AUC, in [0, 1].

    Raises
    ------
    ValueError
        If a binary ``y_true`` has one class (AUC is undefined; scikit-learn 1.9 warns and
        returns NaN -- a deliberate difference: a number that means "undefined" is easy to
        average by mistake). Per label (multilabel, one-vs-rest) the error names the label;
        with ``average='weighted'`` a label of zero support weighs 0 and is left out instead,
        as in scikit-learn. All-zero ``sample_weight`` is refused too.

    Notes
    -----
    Sum of the trapezoids under the ROC curve. In counts, with :math:`F_k, T_k` the false and
    true positives above the :math:`k`-th distinct score (:math:`F_0 = T_0 = 0`),

    .. math:: \mathrm{AUC} = \frac{1}{PN}\sum_k (F_k - F_{k-1})\,\frac{T_k + T_{k-1}}{2},

    which is the probability that a random positive outscores a random negative, a tie counting
    one half (see :func:`auc_mann_whitney`). Without weights the sum is done in exact integer
    arithmetic and divided once. The partial AUC :math:`A_p` up to ``max_fpr`` = :math:`m` is
    standardized as :math:`\tfrac12 (1 + (A_p - m^2/2) / (m - m^2/2))` (McClish).

    References
    ----------
    .. [1] J. A. Hanley and B. J. McNeil, "The meaning and use of the area under a receiver
       operating characteristic (ROC) curve", Radiology 143(1), 29-36, 1982.
    .. [2] T. Fawcett, "An introduction to ROC analysis", Pattern Recognition Letters 27(8),
       861-874, 2006, Algorithm 3.
    .. [3] D. K. McClish, "Analyzing a portion of the ROC curve", Medical Decision Making 9(3),
       190-195, 1989.
    """
    from ._ranking_multiclass import multiclass_roc_auc

    if max_fpr is not None:
        max_fpr = _check_max_fpr(max_fpr)
    y = as_target(y_true, "y_true")
    kind = target_type(y, "y_true")
    if kind == "multilabel-indicator":
        S = check_score_matrix(y_score)
        n = check_lengths(y, S, sample_weight)
        w = check_weights(sample_weight, n, column=True)
        binary = lambda p, s, ww: _binary_auc(p == 1, s, ww, max_fpr)  # noqa: E731
        return average_binary_score(binary, y, S, average, w)
    y = check_labels(y, "y_true")
    if kind == "multiclass" or (np.ndim(y_score) == 2 and np.shape(y_score)[1] > 2):
        if max_fpr is not None and max_fpr != 1:
            raise ValueError(
                "Partial AUC computation not available in multiclass setting, 'max_fpr' must "
                f"be set to `None`, received `max_fpr={max_fpr}` instead"
            )
        if multi_class == "raise":
            raise ValueError(
                "multi_class must be in ('ovo', 'ovr'): y_true has more than two classes, so "
                "pass multi_class='ovr' or 'ovo' (and one probability column per class)"
            )
        return multiclass_roc_auc(
            _binary_auc,
            y,
            y_score,
            labels=labels,
            multi_class=multi_class,
            average=average,
            sample_weight=sample_weight,
        )
    return _binary_auc(greater_label_positive(y), y_score, sample_weight, max_fpr)


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
