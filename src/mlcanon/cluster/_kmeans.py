"""K-means: greedy k-means++ seeding and Lloyd's algorithm (hard-assignment EM).

Lloyd alternates an assignment step (each sample goes to its nearest center) and an update step
(each center moves to the weighted mean of its samples). Distances use the expanded form
``||x - c||^2 = ||x||^2 - 2 x.c + ||c||^2``: the cross term for all samples is one BLAS product,
and ``||x||^2`` is the same for every center so the argmin does not need it. A numba kernel
then takes the argmin and accumulates the new centers in a single pass over the data.
"""

from __future__ import annotations

import functools
import numbers
import warnings
from typing import Any, ClassVar

import numpy as np
from numba import njit
from sklearn.base import BaseEstimator, ClusterMixin, TransformerMixin

from mlcanon._estimator import ConvergenceWarning, check_X
from mlcanon._validation import (
    Interval,
    Options,
    check_option,
    check_random_state,
    check_sample_weight,
    check_scalar,
    validate_params,
)

__all__ = ["KMeans", "kmeans_plusplus"]


@njit(cache=True)
def _assign(
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
def _inertia(X, sample_weight, centers, labels):  # pragma: no cover
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
def _threadpools() -> Any:
    """The process's thread pools (inspecting the loaded libraries takes milliseconds: once)."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def _sq_distances(X: np.ndarray, x_sq_norms: np.ndarray, C: np.ndarray) -> np.ndarray:
    """Squared distances (n_centers, n_samples) by the expanded form, clipped at 0."""
    d = x_sq_norms[None, :] - 2.0 * (C @ X.T) + np.einsum("ij,ij->i", C, C)[:, None]
    return np.maximum(d, 0.0, out=d)


def kmeans_plusplus(
    X: Any,
    n_clusters: int,
    *,
    sample_weight: Any = None,
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
    X : array-like of shape (n_samples, n_features)
    n_clusters : int
    sample_weight : array-like of shape (n_samples,), default=None
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
    X = np.asarray(X, dtype=np.float64)
    w = check_sample_weight(sample_weight, X.shape[0])
    if not w.sum() > 0:
        raise ValueError("sample_weight must not be all zero")
    check_scalar(n_clusters, "n_clusters", kind=numbers.Integral, low=1, high=X.shape[0])
    rng = check_random_state(random_state)
    return _kmeans_plusplus(X, n_clusters, w, rng, n_local_trials)


def _kmeans_plusplus(X, n_clusters, w, rng, n_local_trials=None):
    n_samples = X.shape[0]
    trials = 2 + int(np.log(n_clusters)) if n_local_trials is None else n_local_trials
    x_sq = np.einsum("ij,ij->i", X, X)
    indices = np.empty(n_clusters, dtype=np.intp)
    indices[0] = rng.choice(n_samples, p=w / w.sum())
    closest = _sq_distances(X, x_sq, X[indices[:1]])[0]
    potential = closest @ w
    for c in range(1, n_clusters):
        # sample candidates proportionally to w * D^2 by inverting the cumulative sum
        draws = rng.uniform(size=trials) * potential
        cand = np.minimum(np.searchsorted(np.cumsum(w * closest), draws), n_samples - 1)
        dist = np.minimum(closest, _sq_distances(X, x_sq, X[cand]))  # (trials, n_samples)
        pots = dist @ w
        best = int(np.argmin(pots))
        potential, closest, indices[c] = pots[best], dist[best], cand[best]
    return X[indices].copy(), indices


def _relocate_empty(X, w, centers_old, labels, sums, weights):
    """Give each empty cluster the sample farthest from its current center (as scikit-learn)."""
    empty = np.flatnonzero(weights == 0)
    if empty.size == 0:
        return
    dist = ((X - centers_old[labels]) ** 2).sum(axis=1)
    if dist.max() == 0:  # fewer distinct points than clusters: nothing to move
        return
    far = np.argsort(-dist, kind="stable")[: empty.size]
    for new, i in zip(empty, far, strict=True):
        old = labels[i]
        sums[old] -= w[i] * X[i]
        sums[new] = w[i] * X[i]
        weights[old] -= w[i]
        weights[new] = w[i]


def _lloyd(X, w, centers, max_iter, tol):
    """One run of Lloyd's algorithm from ``centers``; returns labels, inertia, centers, n_iter."""
    n, k = X.shape[0], centers.shape[0]
    labels = np.full(n, -1, dtype=np.int64)
    labels_old = labels.copy()
    sums, weights = np.zeros_like(centers), np.zeros(k)
    dots = np.empty((k, n))  # C X^T: BLAS is ~3x faster with the long axis last
    strict = False
    for it in range(max_iter):  # noqa: B007 (it + 1 is the iteration count)
        np.dot(centers, X.T, out=dots)  # (k, n) cross terms by BLAS
        _assign(X, w, dots, np.einsum("ij,ij->i", centers, centers), labels, sums, weights, True)
        _relocate_empty(X, w, centers, labels, sums, weights)
        # a cluster left empty (fewer distinct points than clusters) keeps its center
        new = centers.copy()
        np.divide(sums, weights[:, None], out=new, where=weights[:, None] > 0)
        shift = ((new - centers) ** 2).sum()
        centers = new
        if np.array_equal(labels, labels_old):
            strict = True  # labels did not move: a fixed point of both steps
            break
        if shift <= tol:
            break
        labels_old[:] = labels
    if not strict:  # make the labels consistent with the final centers
        np.dot(centers, X.T, out=dots)
        _assign(X, w, dots, np.einsum("ij,ij->i", centers, centers), labels, sums, weights, False)
    return labels, _inertia(X, w, centers, labels), centers, it + 1


def _same_clustering(a: np.ndarray, b: np.ndarray, k: int) -> bool:
    """Whether every label of ``a`` maps to a single label of ``b`` (same clustering)."""
    return np.unique(a * k + b).size == np.unique(a).size


class KMeans(ClusterMixin, TransformerMixin, BaseEstimator):
    r"""K-means clustering by Lloyd's algorithm with greedy k-means++ seeding.

    Parameters
    ----------
    n_clusters : int, default=8
        Number of clusters :math:`k`.
    init : {'k-means++', 'random'}, callable or array-like of shape (n_clusters, n_features)
        Seeding: greedy k-means++, ``k`` distinct samples drawn at random, given centers, or
        ``init(X, n_clusters, random_state)`` returning the centers (as in scikit-learn; it
        receives the random generator of the fit).
    n_init : 'auto' or int, default='auto'
        Number of seedings; the run with the lowest inertia is kept. ``'auto'`` means 1 for
        k-means++ and given centers, 10 for random and a callable.
    max_iter : int, default=300
        Maximum number of Lloyd iterations per run.
    tol : float, default=1e-4
        Stop when the squared Frobenius norm of the center shift is at most ``tol`` times the
        mean per-feature variance of ``X``.
    random_state : None, int or numpy.random.Generator
        Seed of the seeding.
    algorithm : {'lloyd', 'elkan'}, default='lloyd'
        Lloyd's iterations computing every sample-center distance, or Elkan's, which skips
        most of them with triangle-inequality bounds (:mod:`mlcanon.cluster._elkan`); both
        give the same clustering.

    Attributes
    ----------
    cluster_centers_ : ndarray of shape (n_clusters, n_features)
    labels_ : ndarray of shape (n_samples,)
    inertia_ : float
        :math:`\sum_i w_i \lVert x_i - \mu_{z_i} \rVert^2` at the returned centers.
    n_iter_ : int
    n_features_in_ : int

    Notes
    -----
    K-means minimizes the inertia

    .. math:: J(z, \mu) = \sum_i w_i \lVert x_i - \mu_{z_i} \rVert^2 .

    The assignment step minimizes :math:`J` over :math:`z` for fixed centers, the update step
    :math:`\mu_k = \sum_{z_i = k} w_i x_i / \sum_{z_i = k} w_i` minimizes it over :math:`\mu`,
    so :math:`J` never increases: it is EM for a mixture of equal spherical Gaussians in the
    limit of zero variance, where the posterior responsibilities become hard 0/1 assignments.
    The data are centered before fitting (distances do not change, rounding error does).

    References
    ----------
    Lloyd, "Least squares quantization in PCM", IEEE Trans. Inf. Theory 28(2), 1982.
    Arthur & Vassilvitskii, "k-means++: the advantages of careful seeding", SODA 2007.
    """

    def __init__(
        self,
        n_clusters: int = 8,
        *,
        init: str | Any = "k-means++",
        n_init: str | int = "auto",
        max_iter: int = 300,
        tol: float = 1e-4,
        random_state: Any = None,
        algorithm: str = "lloyd",
    ) -> None:
        self.n_clusters = n_clusters
        self.init = init
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.algorithm = algorithm

    # init may also be an array of centers, n_init also "auto": checked with the data below
    _parameter_constraints: ClassVar[dict[str, Any]] = {
        "n_clusters": Interval(numbers.Integral, low=1),
        "max_iter": Interval(numbers.Integral, low=1),
        "tol": Interval(low=0.0),
        "algorithm": Options("lloyd", "elkan"),
    }

    def _check_params(self, X: np.ndarray) -> tuple[np.ndarray | None, int]:
        validate_params(self)
        if X.shape[0] < self.n_clusters:
            raise ValueError(f"n_samples={X.shape[0]} should be >= n_clusters={self.n_clusters}.")
        init = None
        if isinstance(self.init, str):
            check_option(self.init, "init", ("k-means++", "random"))
        elif not callable(self.init):
            init = self._check_centers(self.init, X.shape[1])
        if self.n_init == "auto":
            n_init = 10 if init is None and self.init != "k-means++" else 1
        else:
            n_init = check_scalar(self.n_init, "n_init", kind=numbers.Integral, low=1)
            if init is not None and n_init != 1:
                warnings.warn(
                    f"init is an array of centers: performing one run instead of n_init={n_init}",
                    RuntimeWarning,
                    stacklevel=3,
                )
                n_init = 1
        return init, n_init

    def _check_centers(self, init: Any, n_features: int) -> np.ndarray:
        centers = np.array(init, dtype=np.float64)
        if centers.shape != (self.n_clusters, n_features):
            raise ValueError(
                f"init must have shape (n_clusters, n_features)=({self.n_clusters}, "
                f"{n_features}), got {centers.shape}"
            )
        if not np.isfinite(centers).all():
            raise ValueError("init contains NaN or infinity")
        return centers

    def _seed(self, Xc, w, init, mean, rng) -> np.ndarray:
        """Initial centers (in the centered coordinates of ``Xc``)."""
        if init is not None:
            return init - mean
        if callable(self.init):
            centers = self.init(Xc + mean, self.n_clusters, rng)
            return self._check_centers(centers, Xc.shape[1]) - mean
        if self.init == "k-means++":
            return _kmeans_plusplus(Xc, self.n_clusters, w, rng)[0]
        idx = rng.choice(Xc.shape[0], size=self.n_clusters, replace=False, p=w / w.sum())
        return Xc[idx].copy()

    def _run(self, Xc, w, centers, tol):
        if self.algorithm == "elkan" and self.n_clusters > 1:
            from ._elkan import elkan

            return elkan(Xc, w, centers, self.max_iter, tol, _relocate_empty, _inertia)
        return _lloyd(Xc, w, centers, self.max_iter, tol)

    def fit(self, X: Any, y: Any = None, sample_weight: Any = None) -> KMeans:
        """Run ``n_init`` seedings of Lloyd's algorithm and keep the lowest inertia.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : ignored
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sample in the means and the inertia (not used by a given ``init``).
        """
        X = check_X(self, X, reset=True, accept_sparse=True)
        init, n_init = self._check_params(X)
        w = check_sample_weight(sample_weight, X.shape[0])
        if not w.sum() > 0:
            raise ValueError("sample_weight must not be all zero: the cluster means are undefined")
        rng = check_random_state(self.random_state)
        mean = X.mean(axis=0)
        Xc = X - mean  # centering keeps the expanded distance accurate far from the origin
        tol = self.tol * np.var(X, axis=0).mean()
        # one BLAS thread: an (n, d) x (d, k) product per iteration is too small to pay for
        # waking threads, and on a busy machine idle BLAS threads spin (scikit-learn does the same)
        with _threadpools().limit(limits=1, user_api="blas"):
            best = None
            for _ in range(n_init):
                run = self._run(Xc, w, self._seed(Xc, w, init, mean, rng), tol)
                if best is None or (
                    run[1] < best[1] and not _same_clustering(run[0], best[0], self.n_clusters)
                ):
                    best = run
        labels, inertia, centers, n_iter = best
        n_distinct = np.unique(labels).size
        if n_distinct < self.n_clusters:
            warnings.warn(
                f"Number of distinct clusters ({n_distinct}) found smaller than n_clusters "
                f"({self.n_clusters}). Possibly due to duplicate points in X.",
                ConvergenceWarning,
                stacklevel=2,
            )
        self.cluster_centers_ = centers + mean
        self.labels_ = labels
        self.inertia_ = float(inertia)
        self.n_iter_ = int(n_iter)
        return self

    def _labels(self, X: np.ndarray) -> np.ndarray:
        C = self.cluster_centers_
        labels = np.empty(X.shape[0], dtype=np.int64)
        no_sums, no_weights = np.empty((0, 0)), np.empty(0)
        c_sq = np.einsum("ij,ij->i", C, C)
        _assign(X, no_weights, C @ X.T, c_sq, labels, no_sums, no_weights, False)
        return labels

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True  # scipy.sparse X is densified
        return tags

    def predict(self, X: Any) -> np.ndarray:
        """Index of the nearest center for each sample, shape (n_samples,)."""
        return self._labels(check_X(self, X, reset=False, accept_sparse=True))

    def transform(self, X: Any) -> np.ndarray:
        """Euclidean distance of each sample to each center, shape (n_samples, n_clusters)."""
        X = check_X(self, X, reset=False, accept_sparse=True)
        C = self.cluster_centers_
        sq = _sq_distances(C, np.einsum("ij,ij->i", C, C), X)  # (n_samples, n_clusters)
        return np.sqrt(sq)

    def score(self, X: Any, y: Any = None, sample_weight: Any = None) -> float:
        """Opposite of the inertia of ``X`` under the fitted centers (higher is better)."""
        X = check_X(self, X, reset=False, accept_sparse=True)
        w = check_sample_weight(sample_weight, X.shape[0])
        return -float(_inertia(X, w, self.cluster_centers_, self._labels(X)))
