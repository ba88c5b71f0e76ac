"""Label ranking metrics for multilabel targets: how a sample's scores order its labels.

Each sample :math:`i` has relevant labels :math:`Y_i` (its 1s) and scores :math:`s_{ij}`; the
scores should put every relevant label above every irrelevant one. A sample with no relevant
label, or only relevant ones, has no ranking error.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from mlcanon._validation import check_array

from ._targets import as_target, check_lengths, check_weights, target_type

__all__ = ["coverage_error", "label_ranking_average_precision_score", "label_ranking_loss"]


def _ranking_inputs(
    y_true: Any, y_score: Any, sample_weight: Any, *, coverage: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """0/1 indicator ``Y`` (bool), scores ``S`` of the same shape, and weights.

    LRAP also takes a single indicator column (every sample then scores 1).
    """
    Y = as_target(y_true, "y_true")
    S = check_array(y_score, "y_score", ndim=(1, 2))
    if coverage and (Y.ndim != 2 or S.ndim != 2):
        raise ValueError(
            f"Expected 2D array, got 1D array instead: y_true has shape {Y.shape} and y_score "
            f"{S.shape}; both must be (n_samples, n_labels)"
        )
    kind = target_type(Y, "y_true")
    if kind != "multilabel-indicator" and not (kind == "binary" and Y.ndim == 2 and not coverage):
        raise ValueError(
            f"{kind} format is not supported: y_true must be a 0/1 label-indicator matrix of "
            "shape (n_samples, n_labels)"
        )
    w = check_weights(sample_weight, check_lengths(Y, S, sample_weight))
    if Y.shape != S.shape:
        raise ValueError(
            f"y_true and y_score have different shape: {Y.shape} and {S.shape}; give one "
            "score per (sample, label)"
        )
    return Y.astype(bool), S, w


def _mean_over_samples(
    y_true: Any,
    y_score: Any,
    sample_weight: Any,
    per_sample: Callable[[np.ndarray, np.ndarray], float],
    mixed_only: float,
) -> float:
    """(Weighted) mean of ``per_sample(y, s)`` over the samples with both relevant and
    irrelevant labels; a sample whose labels are all one or the other scores ``mixed_only``."""
    Y, S, w = _ranking_inputs(y_true, y_score, sample_weight)
    n_rel = Y.sum(axis=1)
    values = np.full(Y.shape[0], mixed_only)
    for i in np.flatnonzero((n_rel > 0) & (n_rel < Y.shape[1])):
        values[i] = per_sample(Y[i], S[i])
    return float(np.average(values, weights=w))


def _misordered_share(y: np.ndarray, s: np.ndarray) -> float:
    """Share of the (relevant, irrelevant) pairs of one sample with the irrelevant scored >=."""
    n_rel = y.sum()
    n_irr = y.size - n_rel
    irrelevant = np.sort(s[~y])
    # irrelevant labels scored at or above each relevant one
    above = n_irr - np.searchsorted(irrelevant, s[y], side="left")
    return above.sum() / (n_rel * n_irr)


def _precision_at_ranks(y: np.ndarray, s: np.ndarray) -> float:
    """Mean over one sample's relevant labels of the share of relevant ones ranked at or above."""
    everything = np.sort(s)
    relevant = np.sort(s[y])
    rank = everything.size - np.searchsorted(everything, s[y], side="left")
    rank_among_relevant = relevant.size - np.searchsorted(relevant, s[y], side="left")
    return (rank_among_relevant / rank).mean()


def coverage_error(y_true: Any, y_score: Any, *, sample_weight: Any = None) -> float:
    r"""Coverage error: how far down its ranking a sample must go to cover all its labels.

    Parameters
    ----------
    y_true : array-like of shape (n_samples, n_labels)
        0/1 label-indicator matrix.
    y_score : array-like of shape (n_samples, n_labels)
        Scores, higher meaning more likely relevant.
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative weights.

    Returns
    -------
    float
        The (weighted) mean over samples of
        :math:`|\{j : s_{ij} \ge \min_{k \in Y_i} s_{ik}\}|` (0 for a sample without labels);
        ties count against the ranking. The best value is the mean number of labels.

    References
    ----------
    .. [1] G. Tsoumakas, I. Katakis and I. Vlahavas, "Mining multi-label data", in *Data
       Mining and Knowledge Discovery Handbook*, Springer, 2010, Section 7.1.2.
    """
    Y, S, w = _ranking_inputs(y_true, y_score, sample_weight, coverage=True)
    lowest_relevant = np.where(Y, S, np.inf).min(axis=1, keepdims=True)
    coverage = (S >= lowest_relevant).sum(axis=1)  # 0 when lowest_relevant is inf
    return float(np.average(coverage, weights=w))


def label_ranking_loss(y_true: Any, y_score: Any, *, sample_weight: Any = None) -> float:
    r"""Ranking loss: the share of (relevant, irrelevant) label pairs that are misordered.

    Parameters are those of :func:`coverage_error`.

    Returns
    -------
    float
        The (weighted) mean over samples of

        .. math:: \frac{|\{(j, k) : j \in Y_i,\ k \notin Y_i,\ s_{ik} \ge s_{ij}\}|}
                  {|Y_i|\,(L - |Y_i|)},

        0 for a sample whose labels are all relevant or all irrelevant. Ties count as errors.

    References
    ----------
    .. [1] G. Tsoumakas, I. Katakis and I. Vlahavas, "Mining multi-label data", in *Data
       Mining and Knowledge Discovery Handbook*, Springer, 2010, Section 7.1.2.
    """
    return _mean_over_samples(y_true, y_score, sample_weight, _misordered_share, 0.0)


def label_ranking_average_precision_score(
    y_true: Any, y_score: Any, *, sample_weight: Any = None
) -> float:
    r"""Label ranking average precision (LRAP).

    Parameters are those of :func:`coverage_error` (a single column is accepted).

    Returns
    -------
    float
        In (0, 1]: the (weighted) mean over samples of

        .. math:: \frac{1}{|Y_i|}\sum_{j \in Y_i}
                  \frac{|\{k \in Y_i : s_{ik} \ge s_{ij}\}|}{|\{k : s_{ik} \ge s_{ij}\}|},

        the precision at each relevant label's rank, averaged; 1 for a sample whose labels
        are all relevant or all irrelevant. Ties share the lowest rank of their group.

    References
    ----------
    .. [1] G. Tsoumakas, I. Katakis and I. Vlahavas, "Mining multi-label data", in *Data
       Mining and Knowledge Discovery Handbook*, Springer, 2010, Section 7.1.2.
    """
    return _mean_over_samples(y_true, y_score, sample_weight, _precision_at_ranks, 1.0)
