"""Lloyd's algorithm: the assignment and update steps of k-means, run to convergence.

The assignment step labels each sample with its nearest center, the update step moves each
center to the weighted mean of its samples. Distances use the expanded form
``||x - c||^2 = ||x||^2 - 2 x.c + ||c||^2``: the cross term for all samples is one BLAS product,
and ``||x||^2`` is the same for every center so the argmin does not need it. A numba kernel
then takes the argmin and accumulates the new centers in a single pass over the data.

A scipy.sparse CSR ``X`` is never densified (the centers stay dense, as scikit-learn's): the
kernels ``*_sparse`` walk each row's stored entries for the cross terms ``x.c`` and for the
weighted sums of the update step, and the inertia is scikit-learn's
``sum_f [(x_f - c_f)^2 - c_f^2] + ||c||^2`` over the stored entries ``f``.

References
----------
Lloyd, "Least squares quantization in PCM", IEEE Trans. Inf. Theory 28(2), 1982.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import scipy.sparse as sp
from numba import njit

__all__ = [
    "Progress",
    "assign",
    "assign_sparse",
    "average_centers",
    "inertia",
    "inertia_sparse",
    "labels_of",
    "lloyd",
    "relocate_empty",
    "row_sq_norms",
    "sparse_rows",
    "sparse_variances",
    "threadpools",
    "total_inertia",
]


@njit(cache=True)
def _nearest(center_sq_norms, dots):  # pragma: no cover
    """The center ``j`` of least ``||c_j||^2 - 2 c_j . x`` (``dots[j] = c_j . x``), the first of
    equal ones."""
    best = center_sq_norms[0] - 2.0 * dots[0]
    label = 0
    for j in range(1, dots.shape[0]):
        dist = center_sq_norms[j] - 2.0 * dots[j]
        if dist < best:
            best = dist
            label = j
    return label


@njit(cache=True)
def assign(
    X, sample_weight, dots, center_sq_norms, labels, sums, weights, update
):  # pragma: no cover
    """Label each sample with its nearest center; if ``update``, sum samples per label.

    ``dots[j, i] = c_j . x_i``, so ``center_sq_norms[j] - 2 dots[j, i]`` ranks the centers by
    distance to ``x_i`` (ties go to the lowest index).
    """
    n = dots.shape[1]
    d = X.shape[1]
    if update:
        sums[:, :] = 0.0
        weights[:] = 0.0
    for i in range(n):
        label = _nearest(center_sq_norms, dots[:, i])
        labels[i] = label
        if update:
            w = sample_weight[i]
            weights[label] += w
            for f in range(d):
                sums[label, f] += w * X[i, f]


@njit(cache=True)
def inertia(X, sample_weight, centers, labels):  # pragma: no cover
    """Weighted sum of squared distances of each sample to its assigned center."""
    total = 0.0
    for i in range(X.shape[0]):
        c = labels[i]
        sq = 0.0
        for f in range(X.shape[1]):
            diff = X[i, f] - centers[c, f]
            sq += diff * diff
        total += sample_weight[i] * sq
    return total


@njit(cache=True)
def assign_sparse(
    data,
    indices,
    indptr,
    sample_weight,
    centers_t,
    center_sq_norms,
    labels,
    sums,
    weights,
    update,
):  # pragma: no cover
    """:func:`assign` for a CSR ``X`` (``data, indices, indptr``): the cross terms ``c_j . x_i``
    are summed over the stored entries of row ``i`` (``centers_t`` is the (n_features,
    n_clusters) transpose of the centers, so that one entry meets every center contiguously;
    measured faster than scikit-learn's center-by-center order, and than transposed sums)."""
    k = centers_t.shape[1]
    n = indptr.shape[0] - 1
    if update:
        sums[:, :] = 0.0
        weights[:] = 0.0
    dots = np.empty(k)
    for i in range(n):
        dots[:] = 0.0
        for p in range(indptr[i], indptr[i + 1]):
            x = data[p]
            f = indices[p]
            for j in range(k):
                dots[j] += centers_t[f, j] * x
        label = _nearest(center_sq_norms, dots)
        labels[i] = label
        if update:
            w = sample_weight[i]
            weights[label] += w
            for p in range(indptr[i], indptr[i + 1]):
                sums[label, indices[p]] += w * data[p]


@njit(cache=True)
def _sq_dist_sparse(data, indices, start, stop, center, center_sq_norm):  # pragma: no cover
    """``||x - c||^2`` of one CSR row as scikit-learn's ``_euclidean_sparse_dense`` sums it:
    ``sum_f [(x_f - c_f)^2 - c_f^2] + ||c||^2`` over the stored entries, clipped at 0."""
    total = 0.0
    for p in range(start, stop):
        c = center[indices[p]]
        diff = data[p] - c
        total += diff * diff - c * c
    total += center_sq_norm
    return max(total, 0.0)


@njit(cache=True)
def inertia_sparse(data, indices, indptr, sample_weight, centers, labels):  # pragma: no cover
    """:func:`inertia` for a CSR ``X``, by scikit-learn's ``_inertia_sparse`` formula."""
    rows = np.arange(indptr.shape[0] - 1)
    sq = _rows_sq_dist_sparse(data, indices, indptr, rows, centers, labels)
    total = 0.0
    for i in range(sq.shape[0]):  # summed in row order, as scikit-learn's
        total += sample_weight[i] * sq[i]
    return total


@njit(cache=True)
def _rows_sq_dist_sparse(data, indices, indptr, rows, centers, labels):  # pragma: no cover
    """``||x_i - c_{labels[i]}||^2`` for the CSR rows ``rows``."""
    k = centers.shape[0]
    sq_norms = np.empty(k)
    for j in range(k):
        sq_norms[j] = np.dot(centers[j], centers[j])
    out = np.empty(rows.shape[0])
    for r in range(rows.shape[0]):
        i = rows[r]
        c = labels[i]
        out[r] = _sq_dist_sparse(data, indices, indptr[i], indptr[i + 1], centers[c], sq_norms[c])
    return out


@njit(cache=True)
def sparse_variances(data, indices, n_samples, n_features):  # pragma: no cover
    """Per-feature variance of a CSR ``X`` (its ``data, indices``) without densifying it, as
    scikit-learn's ``mean_variance_axis`` sums it: the squared deviations of the stored
    entries, plus ``mean^2`` for each implicit zero."""
    mean = np.zeros(n_features)
    stored = np.zeros(n_features)
    for p in range(data.shape[0]):
        mean[indices[p]] += data[p]
        stored[indices[p]] += 1.0
    mean /= n_samples
    sq = np.zeros(n_features)
    for p in range(data.shape[0]):
        dev = data[p] - mean[indices[p]]
        sq[indices[p]] += dev * dev
    return (sq + (n_samples - stored) * mean * mean) / n_samples


@njit(cache=True)
def _row_sq_norms(data, indptr):  # pragma: no cover
    n = indptr.shape[0] - 1
    out = np.zeros(n)
    for i in range(n):
        for p in range(indptr[i], indptr[i + 1]):
            out[i] += data[p] * data[p]
    return out


def row_sq_norms(X) -> np.ndarray:
    """``||x_i||^2`` of each row of a dense or CSR ``X``."""
    if sp.issparse(X):
        return _row_sq_norms(X.data, X.indptr)
    return np.einsum("ij,ij->i", X, X)


def sparse_rows(X, rows) -> np.ndarray:
    """The rows ``rows`` of a dense or CSR ``X`` as a dense (len(rows), n_features) array."""
    rows = np.asarray(rows).reshape(-1)
    if not sp.issparse(X):
        return X[rows].copy()
    out = np.zeros((rows.size, X.shape[1]), dtype=X.dtype)
    for r, i in enumerate(rows):
        start, stop = X.indptr[i], X.indptr[i + 1]
        out[r, X.indices[start:stop]] = X.data[start:stop]  # entries are summed (canonical)
    return out


def total_inertia(X, w, centers, labels) -> float:
    """:func:`inertia` of a dense or CSR ``X``."""
    if sp.issparse(X):
        return inertia_sparse(X.data, X.indices, X.indptr, w, centers, labels)
    return inertia(X, w, centers, labels)


def labels_of(X, centers) -> np.ndarray:
    """Index of the nearest of ``centers`` (float64) for each row of a dense or CSR ``X``."""
    labels = np.empty(X.shape[0], dtype=np.int32)
    _assign_step(X, np.empty(0), centers, labels, np.empty((0, 0)), np.empty(0), False)
    return labels


def _assign_step(X, w, centers, labels, sums, weights, update, dots=None) -> None:
    """:func:`assign` (or :func:`assign_sparse` for a CSR ``X``) against ``centers``; a dense
    ``X`` takes its (k, n) cross terms by BLAS into ``dots`` when given."""
    c_sq = np.einsum("ij,ij->i", centers, centers)
    if sp.issparse(X):
        ct = np.ascontiguousarray(centers.T)
        assign_sparse(X.data, X.indices, X.indptr, w, ct, c_sq, labels, sums, weights, update)
    else:
        dots = np.dot(centers, X.T, out=dots)
        assign(X, w, dots, c_sq, labels, sums, weights, update)


@functools.cache
def threadpools() -> Any:
    """The process's thread pools (inspecting the loaded libraries takes milliseconds: once)."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


class Progress:
    """What a verbose fit prints, in scikit-learn's words: the inertia after each assignment
    step and why the iterations stopped (iterations numbered from 0)."""

    def __init__(self, verbose: Any) -> None:
        self.on = bool(verbose)

    def iteration(self, it: int, X, w, centers, labels) -> None:
        if self.on:
            print(f"Iteration {it}, inertia {total_inertia(X, w, centers, labels)}.")

    def strict(self, it: int) -> None:
        if self.on:
            print(f"Converged at iteration {it}: strict convergence.")

    def shift(self, it: int, shift: float, tol: float) -> None:
        if self.on:
            print(f"Converged at iteration {it}: center shift {shift} within tolerance {tol}.")


def relocate_empty(X, w, centers_old, labels, sums, weights):
    """Give each empty cluster the sample of positive weight farthest from its current center,
    as scikit-learn does on the data without the samples of weight 0 (it takes the farthest
    of any weight: one of weight 0 leaves the cluster empty).

    With fewer samples of positive weight than clusters, some clusters stay empty whatever is
    moved; a sample alone (by weight) in its cluster is then not moved: its distance to the
    cluster's mean, ``(w x) / w``, is rounding, and moving it only emptied its own cluster, so
    the clusters swapped places every iteration until ``max_iter``.
    """
    empty = np.flatnonzero(weights == 0)
    if empty.size == 0:
        return
    pos = np.flatnonzero(w > 0)
    if pos.size < weights.size:
        pos = pos[weights[labels[pos]] > w[pos]]  # those not alone in their cluster
    if sp.issparse(X):  # as scikit-learn's _relocate_empty_clusters_sparse measures them
        dist = _rows_sq_dist_sparse(X.data, X.indices, X.indptr, pos, centers_old, labels)
    else:
        dist = ((X[pos] - centers_old[labels[pos]]) ** 2).sum(axis=1)
    if dist.size == 0 or dist.max() == 0:  # fewer distinct points than clusters: nothing to move
        return
    # the farthest ones as scikit-learn picks them (its argpartition breaks ties alike)
    m = min(empty.size, dist.size)
    far = pos[np.argpartition(dist, -m)[: -m - 1 : -1]]
    for new, i in zip(empty, far, strict=False):
        old = labels[i]
        x = sparse_rows(X, [i])[0] if sp.issparse(X) else X[i]
        sums[old] -= w[i] * x
        sums[new] = w[i] * x
        weights[old] -= w[i]
        weights[new] = w[i]


def average_centers(sums, weights):
    """The new centers: each cluster's weighted mean; a cluster still empty after
    :func:`relocate_empty` (fewer distinct points than clusters) is put at the center of the
    heaviest cluster (the first of equal weight), as scikit-learn puts it."""
    filled = weights > 0
    new = np.zeros_like(sums)
    # times the reciprocal, as scikit-learn scales (one rounding fewer: 3 x -0.4 sums to
    # -1.2000000000000002, whose third is -0.4 this way, -0.4000000000000001 divided)
    with np.errstate(over="ignore"):
        recip = 1.0 / weights[filled]
    new[filled] = sums[filled] * recip[:, None]
    # a subnormal weight (below 2.2e-308) has no finite reciprocal (inf centers): divide
    over = ~np.isfinite(recip)
    if over.any():
        rows = np.flatnonzero(filled)[over]
        new[rows] = sums[rows] / weights[rows, None]
    new[~filled] = new[np.argmax(weights)]
    return new


def lloyd(X, w, centers, max_iter, tol, progress):
    """One run of Lloyd's algorithm from ``centers``; returns labels, inertia, centers, n_iter.

    A CSR ``X`` (canonical, float64 data) takes the same steps, its cross terms and the sums
    of the update step over the stored entries only."""
    n, k = X.shape[0], centers.shape[0]
    labels = np.full(n, -1, dtype=np.int32)
    labels_old = labels.copy()
    sums, weights = np.zeros_like(centers), np.zeros(k)
    # C X^T: BLAS is ~3x faster with the long axis last
    dots = None if sp.issparse(X) else np.empty((k, n))
    strict = False
    for it in range(max_iter):
        _assign_step(X, w, centers, labels, sums, weights, True, dots)
        progress.iteration(it, X, w, centers, labels)
        relocate_empty(X, w, centers, labels, sums, weights)
        new = average_centers(sums, weights)
        shift = ((new - centers) ** 2).sum()
        centers = new
        if np.array_equal(labels, labels_old):
            strict = True  # labels did not move: a fixed point of both steps
            progress.strict(it)
            break
        if shift <= tol:
            progress.shift(it, shift, tol)
            break
        labels_old[:] = labels
    if not strict:  # make the labels consistent with the final centers
        _assign_step(X, w, centers, labels, sums, weights, False, dots)
    return labels, total_inertia(X, w, centers, labels), centers, it + 1
