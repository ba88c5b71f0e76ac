r"""Elkan's k-means: Lloyd's iterations with distance bounds that skip most distance computations.

For each sample :math:`x` with center :math:`c(x)` it keeps an upper bound
:math:`u(x) \ge d(x, c(x))` and lower bounds :math:`l(x, j) \le d(x, c_j)`. By the triangle
inequality a center :math:`c_j` cannot be closer than :math:`c(x)` when
:math:`u(x) \le l(x, j)` or :math:`u(x) \le \tfrac12 d(c(x), c_j)`, and no other center can be
when :math:`u(x) \le s(c(x)) = \tfrac12 \min_{j' \ne c(x)} d(c(x), c_{j'})`; only the pairs
that survive these tests are measured. After the centers move by :math:`\delta_j`,
:math:`u(x) \mathrel{+}= \delta_{c(x)}` and :math:`l(x, j) \mathrel{-}= \delta_j` keep the bounds
valid. The labels, centers and iteration count are those of Lloyd's algorithm.

References
----------
C. Elkan, "Using the triangle inequality to accelerate k-means", ICML 2003, Algorithm 1.
"""

from __future__ import annotations

import numpy as np

from ._lloyd import average_centers, inertia, relocate_empty


def _center_distances(centers: np.ndarray) -> np.ndarray:
    diff = centers[:, None, :] - centers[None, :, :]  # (k, k, n_features)
    return np.sqrt(np.einsum("ijf,ijf->ij", diff, diff))


def _distances(X: np.ndarray, centers: np.ndarray, rows: np.ndarray, cols: np.ndarray):
    diff = X[rows] - centers[cols]
    return np.sqrt(np.einsum("ij,ij->i", diff, diff))


def _assign_with_bounds(X, centers, labels, upper, lower):
    """One Elkan assignment step; updates ``labels``, ``upper`` and ``lower`` in place."""
    k = centers.shape[0]
    cc = _center_distances(centers)
    half_nearest = 0.5 * np.min(cc + np.diag(np.full(k, np.inf)), axis=1)  # s(j)
    rows = np.flatnonzero(upper > half_nearest[labels])
    if rows.size == 0:
        return
    # tighten the upper bound of the samples that may move
    upper[rows] = _distances(X, centers, rows, labels[rows])
    lower[rows, labels[rows]] = upper[rows]
    u, own = upper[rows, None], labels[rows]
    maybe = (u > lower[rows]) & (u > 0.5 * cc[own]) & (np.arange(k) != own[:, None])
    r, j = np.nonzero(maybe)
    dist = _distances(X, centers, rows[r], j)
    lower[rows[r], j] = dist
    # the closest surviving candidate of each row, compared with its own center
    best = np.full(rows.size, np.inf)
    best_j = own.copy()
    order = np.lexsort((j, dist))  # by distance, then the lowest index among ties
    first = np.unique(r[order], return_index=True)[1]
    best[r[order][first]] = dist[order][first]
    best_j[r[order][first]] = j[order][first]
    moves = best < upper[rows]
    labels[rows[moves]] = best_j[moves]
    upper[rows[moves]] = best[moves]


def elkan(X, w, centers, max_iter, tol, progress):
    """One run from ``centers``; returns ``labels, inertia, centers, n_iter`` as Lloyd's does.

    Empty clusters, the reported inertia and the verbose ``progress`` are those of
    :mod:`._lloyd`, so that both algorithms handle them identically.
    """
    n, k = X.shape[0], centers.shape[0]
    labels = np.zeros(n, dtype=np.int32)
    upper = np.full(n, np.inf)
    lower = np.zeros((n, k))
    labels_old = np.full(n, -1, dtype=np.int32)
    strict = False
    it = 0
    for it in range(1, max_iter + 1):
        _assign_with_bounds(X, centers, labels, upper, lower)
        progress.iteration(it - 1, X, w, centers, labels)
        weights = np.bincount(labels, weights=w, minlength=k)
        sums = np.zeros_like(centers)
        np.add.at(sums, labels, w[:, None] * X)
        relocate_empty(X, w, centers, labels, sums, weights)
        new = average_centers(sums, weights)
        shift = np.sqrt(((new - centers) ** 2).sum(axis=1))
        centers = new
        upper += shift[labels]
        lower = np.maximum(lower - shift, 0.0)
        if np.array_equal(labels, labels_old):
            strict = True
            progress.strict(it - 1)
            break
        if (shift**2).sum() <= tol:
            progress.shift(it - 1, (shift**2).sum(), tol)
            break
        labels_old[:] = labels
    if not strict:  # make the labels consistent with the final centers
        _assign_with_bounds(X, centers, labels, upper, lower)
    return labels, inertia(X, w, centers, labels), centers, it
