"""Greedy k-means++ seeding.

References
----------
Arthur & Vassilvitskii, "k-means++: the advantages of careful seeding", SODA 2007.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import scipy.sparse as sp

from mlcanon._estimator import as_float_array
from mlcanon._validation import check_random_state, check_sample_weight, check_scalar

from ._lloyd import row_sq_norms, sparse_rows

__all__ = ["kmeans_plusplus"]


def _sq_distances(X: np.ndarray, x_sq_norms: np.ndarray, C: np.ndarray) -> np.ndarray:
    """Squared distances (n_centers, n_samples) by the expanded form, clipped at 0; a CSR
    ``X`` by the sparse-dense product (the centers ``C`` are dense)."""
    cross = (X @ C.T).T if sp.issparse(X) else C @ X.T
    d = x_sq_norms[None, :] - 2.0 * cross + np.einsum("ij,ij->i", C, C)[:, None]
    return np.maximum(d, 0.0, out=d)


def kmeans_plusplus(
    X: Any,
    n_clusters: int,
    *,
    sample_weight: Any = None,
    x_squared_norms: Any = None,
    random_state: Any = None,
    n_local_trials: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Pick ``n_clusters`` seeds by greedy k-means++.

    The first seed is drawn with probability proportional to the sample weight; each next seed
    is drawn with probability proportional to :math:`w_i D(x_i)^2`, the weighted squared distance
    to the nearest seed so far. The greedy variant draws ``n_local_trials`` candidates
    (default :math:`2 + \lfloor\ln k\rfloor`) and keeps the one that lowers the potential
    :math:`\sum_i w_i D(x_i)^2` most.

    Parameters
    ----------
    X : array-like or scipy.sparse matrix of shape (n_samples, n_features)
        A sparse matrix is read as CSR, without densifying it; float32 data give float32
        centers.
    n_clusters : int
    sample_weight : array-like of shape (n_samples,), default=None
    x_squared_norms : array-like of shape (n_samples,), default=None
        :math:`\lVert x_i \rVert^2`, when already computed.
    random_state : None, int or numpy.random.Generator
    n_local_trials : int, default=None

    Returns
    -------
    centers : ndarray of shape (n_clusters, n_features)
    indices : ndarray of shape (n_clusters,)
        Row of ``X`` each seed was taken from.

    References
    ----------
    Arthur & Vassilvitskii, "k-means++: the advantages of careful seeding", SODA 2007.
    """
    dtype = np.float32 if getattr(X, "dtype", None) == np.float32 else np.float64
    X = as_float_array(X, "X", accept_sparse="csr")  # a float64 CSR copy; never densified
    if sp.issparse(X):
        X.sum_duplicates()
    w = check_sample_weight(sample_weight, X.shape[0])
    if not w.sum() > 0:
        raise ValueError("sample_weight must not be all zero")
    check_scalar(n_clusters, "n_clusters", kind=numbers.Integral, low=1, high=X.shape[0])
    if n_local_trials is not None:
        check_scalar(n_local_trials, "n_local_trials", kind=numbers.Integral, low=1)
    if x_squared_norms is not None:
        x_squared_norms = as_float_array(x_squared_norms, "x_squared_norms").ravel()
        if x_squared_norms.shape[0] != X.shape[0]:
            raise ValueError(
                f"The length of x_squared_norms {x_squared_norms.shape[0]} should be equal to "
                f"the length of n_samples {X.shape[0]}."
            )
    rng = check_random_state(random_state)
    centers, indices = _kmeans_plusplus(X, n_clusters, w, rng, n_local_trials, x_squared_norms)
    return centers.astype(dtype, copy=False), indices


def _kmeans_plusplus(X, n_clusters, w, rng, n_local_trials=None, x_sq=None):
    n_samples = X.shape[0]
    trials = 2 + int(np.log(n_clusters)) if n_local_trials is None else n_local_trials
    if x_sq is None:
        x_sq = row_sq_norms(X)
    indices = np.empty(n_clusters, dtype=np.intp)
    indices[0] = rng.choice(n_samples, p=w / w.sum())
    closest = _sq_distances(X, x_sq, sparse_rows(X, indices[:1]))[0]
    potential = closest @ w
    for c in range(1, n_clusters):
        # sample candidates proportionally to w * D^2 by inverting the cumulative sum
        draws = rng.uniform(size=trials) * potential
        cand = np.minimum(np.searchsorted(np.cumsum(w * closest), draws), n_samples - 1)
        dist = np.minimum(closest, _sq_distances(X, x_sq, sparse_rows(X, cand)))  # (trials, n)
        pots = dist @ w
        best = int(np.argmin(pots))
        potential, closest, indices[c] = pots[best], dist[best], cand[best]
    return sparse_rows(X, indices), indices
