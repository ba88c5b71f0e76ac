"""Lloyd's algorithm: the assignment and update steps of k-means, run to convergence.

The assignment step labels each sample with its nearest center, the update step moves each
center to the weighted mean of its samples. Distances use the expanded form
``||x - c||^2 = ||x||^2 - 2 x.c + ||c||^2``: the cross term for all samples is one BLAS product,
and ``||x||^2`` is the same for every center so the argmin does not need it. A numba kernel
then takes the argmin and accumulates the new centers in a single pass over the data.

References
----------
Lloyd, "Least squares quantization in PCM", IEEE Trans. Inf. Theory 28(2), 1982.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
from numba import njit

__all__ = [
    "Progress",
    "assign",
    "average_centers",
    "inertia",
    "lloyd",
    "relocate_empty",
    "threadpools",
]


@njit(cache=True)
def assign(
    X, sample_weight, dots, center_sq_norms, labels, sums, weights, update
):  # pragma: no cover
    """Label each sample with its nearest center; if ``update``, sum samples per label.

    ``dots[j, i] = c_j . x_i``, so ``center_sq_norms[j] - 2 dots[j, i]`` ranks the centers by
    distance to ``x_i`` (ties go to the lowest index).
    """
    k, n = dots.shape
    d = X.shape[1]
    if update:
        sums[:, :] = 0.0
        weights[:] = 0.0
    for i in range(n):
        best = center_sq_norms[0] - 2.0 * dots[0, i]
        label = 0
        for j in range(1, k):
            dist = center_sq_norms[j] - 2.0 * dots[j, i]
            if dist < best:
                best = dist
                label = j
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
            print(f"Iteration {it}, inertia {inertia(X, w, centers, labels)}.")

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
    dist = ((X[pos] - centers_old[labels[pos]]) ** 2).sum(axis=1)
    if dist.size == 0 or dist.max() == 0:  # fewer distinct points than clusters: nothing to move
        return
    # the farthest ones as scikit-learn picks them (its argpartition breaks ties alike)
    m = min(empty.size, dist.size)
    far = pos[np.argpartition(dist, -m)[: -m - 1 : -1]]
    for new, i in zip(empty, far, strict=False):
        old = labels[i]
        sums[old] -= w[i] * X[i]
        sums[new] = w[i] * X[i]
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
    """One run of Lloyd's algorithm from ``centers``; returns labels, inertia, centers, n_iter."""
    n, k = X.shape[0], centers.shape[0]
    labels = np.full(n, -1, dtype=np.int32)
    labels_old = labels.copy()
    sums, weights = np.zeros_like(centers), np.zeros(k)
    dots = np.empty((k, n))  # C X^T: BLAS is ~3x faster with the long axis last
    strict = False
    for it in range(max_iter):
        np.dot(centers, X.T, out=dots)  # (k, n) cross terms by BLAS
        assign(X, w, dots, np.einsum("ij,ij->i", centers, centers), labels, sums, weights, True)
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
        np.dot(centers, X.T, out=dots)
        assign(X, w, dots, np.einsum("ij,ij->i", centers, centers), labels, sums, weights, False)
    return labels, inertia(X, w, centers, labels), centers, it + 1
