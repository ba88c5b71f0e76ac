"""Discounted cumulative gain (DCG) and its normalised form (NDCG) for graded relevance."""

from __future__ import annotations

from typing import Any

import numpy as np

from mlcanon._validation import check_array, check_integer

from ._targets import as_target, check_lengths, check_weights, target_type

__all__ = ["dcg_score", "ndcg_score"]

RANKING_KINDS = ("multilabel-indicator", "continuous-multioutput", "multiclass-multioutput")


def _relevance(values: Any, name: str) -> np.ndarray:
    """Relevance grades or scores: finite numbers, 1-D or 2-D (strings are not grades)."""
    if as_target(values, name).dtype.kind in "US":
        raise ValueError(f"{name} must hold numbers (relevance grades or scores), got strings")
    return check_array(values, name, ndim=(1, 2))


def _relevance_inputs(
    y_true: Any, y_score: Any, sample_weight: Any, k: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Graded relevance ``R`` and scores ``S`` of shape (n_samples, n_items), and weights."""
    R, S = _relevance(y_true, "y_true"), _relevance(y_score, "y_score")
    w = check_weights(sample_weight, check_lengths(R, S, sample_weight))
    kind = target_type(R, "y_true")
    if kind not in RANKING_KINDS:
        raise ValueError(
            f"Only {RANKING_KINDS} formats are supported. Got {kind} instead: y_true must hold "
            "one relevance per (query, item), shape (n_queries, n_items)"
        )
    if S.shape != R.shape:
        raise ValueError(f"y_true has shape {R.shape} but y_score has shape {S.shape}")
    if k is not None:
        check_integer(k, "k", low=1)
    return R, S, w


def _discounts(n_items: int, k: int | None, log_base: float) -> np.ndarray:
    """:math:`1 / \\log_b(r + 1)` for ranks :math:`r = 1..n`, zero beyond the cut-off ``k``."""
    discount = np.log(log_base) / np.log(np.arange(n_items) + 2.0)
    if k is not None:
        discount[k:] = 0.0
    return discount


def _dcg(R: np.ndarray, S: np.ndarray, discount: np.ndarray, ignore_ties: bool) -> np.ndarray:
    """DCG of every row; a tie group shares the mean of its gains over its ranks."""
    if ignore_ties:
        order = np.argsort(S, axis=1)[:, ::-1]
        return np.take_along_axis(R, order, axis=1) @ discount
    cum_discount = np.concatenate(([0.0], np.cumsum(discount)))
    out = np.empty(R.shape[0])
    for i in range(R.shape[0]):
        _, group, size = np.unique(-S[i], return_inverse=True, return_counts=True)
        mean_gain = np.bincount(group, weights=R[i], minlength=size.size) / size
        end = np.cumsum(size)  # the group occupies ranks end - size + 1 .. end
        out[i] = mean_gain @ (cum_discount[end] - cum_discount[end - size])
    return out


def dcg_score(
    y_true: Any,
    y_score: Any,
    *,
    k: int | None = None,
    log_base: float = 2,
    sample_weight: Any = None,
    ignore_ties: bool = False,
) -> float:
    r"""Discounted cumulative gain of the ranking induced by ``y_score``.

    Parameters
    ----------
    y_true : array-like of shape (n_queries, n_items)
        Graded relevance of each item to each query (non-negative).
    y_score : array-like of shape (n_queries, n_items)
        Scores; items are ranked by decreasing score.
    k : int, default=None
        Count only the top ``k`` ranks (DCG@k).
    log_base : float, default=2
        Base of the logarithm in the discount.
    sample_weight : array-like of shape (n_queries,), default=None
        Non-negative weights of the queries.
    ignore_ties : bool, default=False
        Rank tied scores in an arbitrary order (faster) instead of averaging over their orders.

    Returns
    -------
    float
        The (weighted) mean over queries of

        .. math:: \mathrm{DCG@k} = \sum_{r=1}^{k} \frac{g_{(r)}}{\log_b(r + 1)},

        with :math:`g_{(r)}` the relevance of the item at rank :math:`r`. Tied items share the
        mean of their gains at every rank they occupy (the expectation over tie orders).

    References
    ----------
    .. [1] K. Järvelin and J. Kekäläinen, "Cumulated gain-based evaluation of IR techniques",
       ACM Transactions on Information Systems 20(4), 422-446, 2002.
    .. [2] F. McSherry and M. Najork, "Computing information retrieval performance measures
       efficiently in the presence of tied scores", ECIR 2008.
    """
    R, S, w = _relevance_inputs(y_true, y_score, sample_weight, k)
    discount = _discounts(R.shape[1], k, log_base)
    return float(np.average(_dcg(R, S, discount, ignore_ties), weights=w))


def ndcg_score(
    y_true: Any,
    y_score: Any,
    *,
    k: int | None = None,
    sample_weight: Any = None,
    ignore_ties: bool = False,
) -> float:
    r"""Normalised DCG: the DCG of the ranking divided by the DCG of the ideal ranking.

    Parameters are those of :func:`dcg_score` (base-2 discount); ``y_true`` must be
    non-negative and there must be more than one item.

    Returns
    -------
    float
        In [0, 1]: the (weighted) mean over queries of
        :math:`\mathrm{DCG@k} / \mathrm{IDCG@k}`, where the ideal ranking sorts the items by
        their relevance; 0 for a query whose items are all irrelevant.

    References
    ----------
    .. [1] K. Järvelin and J. Kekäläinen, "Cumulated gain-based evaluation of IR techniques",
       ACM Transactions on Information Systems 20(4), 422-446, 2002.
    """
    R = _relevance(y_true, "y_true")
    if R.min() < 0:
        raise ValueError(
            f"ndcg_score should not be used on negative y_true values (got min {R.min():g})."
        )
    if R.ndim == 2 and R.shape[1] <= 1:
        raise ValueError(
            "Computing NDCG is only meaningful when there is more than 1 document. "
            f"Got {R.shape[1]} instead."
        )
    R, S, w = _relevance_inputs(R, y_score, sample_weight, k)
    discount = _discounts(R.shape[1], k, 2)
    gain = _dcg(R, S, discount, ignore_ties)
    ideal = _dcg(R, R, discount, ignore_ties=True)
    ratio = np.divide(gain, ideal, out=np.zeros_like(gain), where=ideal != 0)
    return float(np.average(ratio, weights=w))
