"""Quantile binning of features for the histogram booster (numba, one feature per thread).

Each feature gets at most ``max_bin`` bins for its non-missing values, bounded by ``edges``:
bin ``b`` holds :math:`e_{b-1} < x \\le e_b`. With at most ``max_bin`` distinct values every
value gets its own bin (edges at midpoints); otherwise the edges are the empirical quantiles
:math:`j / \\text{max\\_bin}`, so each bin holds about the same number of samples. Missing values
go to bin ``max_bin``, which the split search treats apart. A split "bin <= t" is then the same
as "x <= edges[t]", so a fitted tree predicts from raw values without binning them.

References
----------
Chen, Guestrin (2016). XGBoost: A Scalable Tree Boosting System, KDD, sec. 3.2-3.3.
Ke et al. (2017). LightGBM: A Highly Efficient Gradient Boosting Decision Tree, NeurIPS, sec. 2.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

__all__ = ["apply_bins", "fit_bin_edges"]


@njit(cache=True, nogil=True)
def _edges_of(values, max_bin, out):
    """Write the edges of one feature's sorted non-missing ``values`` into ``out``; count them."""
    n = values.shape[0]
    if n == 0:
        return 0
    n_distinct = 1
    for k in range(1, n):
        if values[k] != values[k - 1]:
            n_distinct += 1
    n_edges = 0
    if n_distinct <= max_bin:
        for k in range(1, n):
            if values[k] != values[k - 1]:
                out[n_edges] = values[k - 1] / 2.0 + values[k] / 2.0
                n_edges += 1
        return n_edges
    for j in range(1, max_bin):
        pos = j * (n - 1) / max_bin
        lo = int(pos)
        frac = pos - lo
        edge = values[lo] + frac * (values[lo + 1] - values[lo])
        if edge >= values[n - 1]:
            break
        if n_edges == 0 or edge > out[n_edges - 1]:
            out[n_edges] = edge
            n_edges += 1
    return n_edges


@njit(cache=True, nogil=True)
def _fit_edges(sorted_values, n_valid, max_bin, edges, n_edges):
    for f in range(sorted_values.shape[0]):
        n_edges[f] = _edges_of(sorted_values[f, : n_valid[f]], max_bin, edges[f])


def fit_bin_edges(
    X: np.ndarray,
    max_bin: int,
    *,
    subsample: int = 200_000,
    rng: np.random.Generator,
    sample_weight: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Bin edges of each column of ``X`` (NaN ignored).

    Rows of zero ``sample_weight`` are left out, as xgboost's weighted sketch leaves them: a
    row of weight 0 then changes nothing, as if it were not there (its value would otherwise
    become a bin boundary that moves the splits' thresholds).

    Returns
    -------
    edges : ndarray of shape (n_features, max_bin - 1)
        Sorted edges of feature ``f`` in ``edges[f, :n_edges[f]]`` (padded with ``inf``).
    n_edges : ndarray of shape (n_features,)
        Feature ``f`` has ``n_edges[f] + 1`` non-missing bins.
    """
    if sample_weight is not None and np.any(sample_weight == 0):
        X = X[sample_weight != 0]
    if X.shape[0] > subsample:  # quantiles of a large sample are as good and much cheaper
        X = X[np.sort(rng.choice(X.shape[0], subsample, replace=False))]
    edges = np.full((X.shape[1], max(max_bin - 1, 1)), np.inf)
    n_edges = np.zeros(X.shape[1], np.int64)
    # NumPy's sort (vectorised) is many times faster than numba's; it puts NaN last
    sorted_values = np.sort(X.T, axis=1)
    n_valid = X.shape[0] - np.isnan(sorted_values).sum(axis=1)
    _fit_edges(sorted_values, n_valid, max_bin, edges, n_edges)
    return edges, n_edges


@njit(cache=True, nogil=True, parallel=True)
def _apply(X, edges, n_edges, missing_bin, out):
    for f in prange(X.shape[1]):
        e, m = edges[f], n_edges[f]
        for i in range(X.shape[0]):
            x = X[i, f]
            # the number of edges below x (np.searchsorted), by a binary search whose steps
            # are selects rather than branches: x falls on either side at random
            base, size = 0, m
            while size > 1:
                half = size >> 1
                base = base + half if e[base + half - 1] < x else base
                size -= half
            if size == 1 and e[base] < x:
                base += 1
            out[f, i] = missing_bin if np.isnan(x) else base


@njit(cache=True, nogil=True)
def _any_nan(X):
    for i in range(X.shape[0]):
        for f in range(X.shape[1]):
            if np.isnan(X[i, f]):
                return True
    return False


def apply_bins(X: np.ndarray, edges: np.ndarray, n_edges: np.ndarray, max_bin: int) -> np.ndarray:
    """Bin index of every value, feature-major: shape (n_features, n_samples).

    uint8 when every bin index fits: ``max_bin < 256`` (the missing bin is ``max_bin``), or
    ``max_bin == 256`` and no value is missing; uint16 otherwise. Half the bytes per sample
    make the histograms and the partition of a tree's samples faster.
    """
    fits = max_bin < 256 or (max_bin == 256 and not _any_nan(X))
    dtype = np.uint8 if fits else np.uint16
    out = np.empty((X.shape[1], X.shape[0]), dtype)
    _apply(X, edges, n_edges, max_bin, out)
    return out
