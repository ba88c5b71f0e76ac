"""K-means: the estimator; seeding in :mod:`._kmeans_plusplus`, the iterations in :mod:`._lloyd`
(Lloyd's algorithm) and :mod:`._elkan` (Elkan's, with triangle-inequality bounds)."""

from __future__ import annotations

import numbers
import warnings
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    ClusterMixin,
    TransformerMixin,
)

from mlcanon._estimator import ConvergenceWarning, check_X, store_params
from mlcanon._validation import (
    BOOL,
    RANDOM_STATE,
    ArrayLike,
    Interval,
    IsCallable,
    Options,
    check_random_state,
    check_sample_weight,
    validate_params,
)

from ._kmeans_plusplus import _kmeans_plusplus, _sq_distances, kmeans_plusplus
from ._lloyd import (
    Progress,
    labels_of,
    lloyd,
    row_sq_norms,
    sparse_rows,
    sparse_variances,
    threadpools,
    total_inertia,
)

__all__ = ["KMeans", "kmeans_plusplus"]

_BLOCK = 1 << 20  # entries of a (rows, n_clusters, n_features) block of differences


def _same_clustering(a: np.ndarray, b: np.ndarray, k: int) -> bool:
    """Whether every label of ``a`` maps to a single label of ``b`` (same clustering)."""
    return np.unique(a * k + b).size == np.unique(a).size


class KMeans(ClassNamePrefixFeaturesOutMixin, ClusterMixin, TransformerMixin, BaseEstimator):
    r"""K-means clustering by Lloyd's algorithm with greedy k-means++ seeding.

    Parameters
    ----------
    n_clusters : int, default=8
        Number of clusters :math:`k`.
    init : {'k-means++', 'random'}, callable or array-like of shape (n_clusters, n_features)
        Seeding: greedy k-means++, ``k`` distinct samples drawn at random, given centers, or
        ``init(X, n_clusters, random_state=rs)`` returning dense centers (called as
        scikit-learn calls it, ``rs`` a ``numpy.random.RandomState`` as there, seeded from
        the fit's generator).
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
    verbose : int, default=0
        Print the inertia after each assignment step and why the iterations stopped.
    copy_x : bool, default=True
        Dense data are centered before fitting (more accurate distances); with ``False`` a
        float64 array is centered in place and restored (up to rounding) before ``fit`` returns.
        A scipy.sparse ``X`` is read as CSR and never densified nor centered (as in
        scikit-learn): the centers are dense, the cross terms sparse products.

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
        verbose: int = 0,
        random_state: Any = None,
        copy_x: bool = True,
        algorithm: str = "lloyd",
    ) -> None:
        store_params(self, locals())

    # init may also be an array of centers, n_init also "auto": checked with the data below
    _parameter_constraints: ClassVar[dict[str, Any]] = {
        "n_clusters": Interval(numbers.Integral, low=1),
        "max_iter": Interval(numbers.Integral, low=1),
        "tol": Interval(low=0.0),
        "algorithm": Options("lloyd", "elkan"),
        "verbose": (BOOL, Interval(numbers.Integral, low=0)),
        "copy_x": BOOL,
        "init": (Options("k-means++", "random"), ArrayLike(), IsCallable()),  # shape: below
        "n_init": (Options("auto"), Interval(numbers.Integral, low=1)),
        "random_state": RANDOM_STATE,
    }

    def _check_params(self, X: np.ndarray, dtype: type) -> tuple[np.ndarray | None, int]:
        validate_params(self)
        if X.shape[0] < self.n_clusters:
            raise ValueError(f"n_samples={X.shape[0]} should be >= n_clusters={self.n_clusters}.")
        init = None
        if not isinstance(self.init, str) and not callable(self.init):
            init = self._check_centers(self.init, X.shape[1], dtype)
        if self.n_init == "auto":
            n_init = 10 if init is None and self.init != "k-means++" else 1
        else:
            n_init = self.n_init
            if init is not None and n_init != 1:
                warnings.warn(
                    "Explicit initial center position passed: performing only one init in "
                    f"KMeans instead of n_init={n_init}.",
                    RuntimeWarning,
                    stacklevel=3,
                )
                n_init = 1
        return init, n_init

    def _check_centers(self, init: Any, n_features: int, dtype: type) -> np.ndarray:
        """Given centers as float64, rounded first to ``dtype``, the data's (scikit-learn
        casts them to X's dtype: float32 data start from float32 centers)."""
        try:
            centers = np.array(init, dtype=dtype).astype(np.float64)
        except (TypeError, ValueError) as exc:  # numpy's class, as scikit-learn raises it
            raise type(exc)(
                "init must give the initial centers as real numbers, shape (n_clusters, "
                f"n_features)=({self.n_clusters}, {n_features}); got {init!r:.80}: {exc}"
            ) from exc
        if centers.shape != (self.n_clusters, n_features):
            which = (
                f"clusters {self.n_clusters}"
                if centers.ndim != 2 or centers.shape[0] != self.n_clusters
                else f"features of the data {n_features}"
            )
            raise ValueError(
                f"The shape of the initial centers {centers.shape} does not match the number "
                f"of {which}: init must have shape (n_clusters, n_features)=({self.n_clusters}, "
                f"{n_features})"
            )
        if not np.isfinite(centers).all():
            raise ValueError("init contains NaN or infinity")
        return centers

    def _seed(self, Xc, w, init, mean, rng, dtype) -> np.ndarray:
        """Initial centers (in the centered coordinates of ``Xc``; a CSR ``Xc`` is not
        centered, ``mean`` is then 0)."""
        if init is not None:
            return init - mean
        if callable(self.init):
            # random_state by keyword (a callable may take it keyword-only) and a RandomState,
            # as scikit-learn passes them: a callable written for it may call randint or
            # scikit-learn's check_random_state, which a Generator does not answer
            data = Xc if sp.issparse(Xc) else Xc + mean
            state = np.random.RandomState(rng.integers(2**32))
            centers = self.init(data, self.n_clusters, random_state=state)
            if sp.issparse(centers):
                raise TypeError(
                    "init (a callable) must return dense centers of shape (n_clusters, "
                    f"n_features), got a sparse {type(centers).__name__}; return "
                    "centers.toarray()"
                )
            return self._check_centers(centers, Xc.shape[1], dtype) - mean
        if self.init == "k-means++":
            return _kmeans_plusplus(Xc, self.n_clusters, w, rng)[0]
        if np.count_nonzero(w) < self.n_clusters:  # numpy: "Fewer non-zero entries in p"
            raise ValueError(
                f"init='random' draws n_clusters={self.n_clusters} distinct samples with "
                f"probabilities proportional to sample_weight, but only {np.count_nonzero(w)} "
                "samples have a positive weight"
            )
        idx = rng.choice(Xc.shape[0], size=self.n_clusters, replace=False, p=w / w.sum())
        return sparse_rows(Xc, idx)

    def _run(self, Xc, w, centers, tol):
        progress = Progress(self.verbose)
        if progress.on:
            print("Initialization complete")
        # on CSR data Elkan's run is Lloyd's sparse one: the same labels, centers, inertia and
        # iteration count as scikit-learn's sparse Elkan (tests/cluster/test_kmeans_sparse.py)
        if self.algorithm == "elkan" and self.n_clusters > 1 and not sp.issparse(Xc):
            from ._elkan import elkan

            return elkan(Xc, w, centers, self.max_iter, tol, progress)
        return lloyd(Xc, w, centers, self.max_iter, tol, progress)

    def fit(self, X: Any, y: Any = None, sample_weight: Any = None) -> KMeans:
        """Run ``n_init`` seedings of Lloyd's algorithm and keep the lowest inertia.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : ignored
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sample in the means and the inertia (not used by a given ``init``).
        """
        dtype = np.float32 if getattr(X, "dtype", None) == np.float32 else np.float64
        X = self._check_X(X, reset=True)
        init, n_init = self._check_params(X, dtype)
        if self.algorithm == "elkan" and self.n_clusters == 1:
            warnings.warn(
                "algorithm='elkan' doesn't make sense for a single cluster. Using 'lloyd' instead.",
                RuntimeWarning,
                stacklevel=2,
            )
        w = check_sample_weight(sample_weight, X.shape[0])
        if not w.sum() > 0:
            raise ValueError("sample_weight must not be all zero: the cluster means are undefined")
        rng = check_random_state(self.random_state)
        if sp.issparse(X):
            # not centered (that would densify X), as in scikit-learn
            mean = np.zeros(X.shape[1])
            tol = self.tol * sparse_variances(X.data, X.indices, *X.shape).mean()
            in_place, Xc = False, X
        else:
            mean = X.mean(axis=0)
            tol = self.tol * np.var(X, axis=0).mean()
            # centering keeps the expanded distance accurate far from the origin; copy_x=False
            # centers the caller's array in place (when it is already float64) and restores it
            in_place = not self.copy_x and X.flags.writeable
            Xc = np.subtract(X, mean, out=X if in_place else None)
        try:
            # one BLAS thread: an (n, d) x (d, k) product per iteration is too small to pay for
            # waking threads, and on a busy machine idle BLAS threads spin (as scikit-learn does)
            with threadpools().limit(limits=1, user_api="blas"):
                best = None
                for _ in range(n_init):
                    run = self._run(Xc, w, self._seed(Xc, w, init, mean, rng, dtype), tol)
                    if best is None or (
                        run[1] < best[1] and not _same_clustering(run[0], best[0], self.n_clusters)
                    ):
                        best = run
        finally:
            if in_place:
                Xc += mean
        labels, total, centers, n_iter = best
        n_distinct = np.unique(labels).size
        if n_distinct < self.n_clusters:
            warnings.warn(
                f"Number of distinct clusters ({n_distinct}) found smaller than n_clusters "
                f"({self.n_clusters}). Possibly due to duplicate points in X.",
                ConvergenceWarning,
                stacklevel=2,
            )
        # float32 data get float32 centers (the iterations run in float64)
        self.cluster_centers_ = (centers + mean).astype(dtype, copy=False)
        self.labels_ = labels
        self.inertia_ = float(total)
        self.n_iter_ = int(n_iter)
        return self

    def _labels(self, X: np.ndarray) -> np.ndarray:
        return labels_of(X, self.cluster_centers_.astype(np.float64))

    def _check_X(self, X: Any, reset: bool = False) -> Any:
        """``X`` checked; a scipy.sparse one as a CSR copy (never densified) in canonical form:
        duplicate entries summed, so that each stored entry is its own feature."""
        X = check_X(self, X, reset=reset, accept_sparse="csr")
        if sp.issparse(X):
            X.sum_duplicates()
        return X

    @property
    def _n_features_out(self) -> int:
        return self.cluster_centers_.shape[0]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True  # scipy.sparse X is read as CSR and never densified
        return tags

    def predict(self, X: Any) -> np.ndarray:
        """Index of the nearest center for each sample, shape (n_samples,)."""
        return self._labels(self._check_X(X))

    def transform(self, X: Any) -> np.ndarray:
        """Euclidean distance of each sample to each center, shape (n_samples, n_clusters).

        Computed from the differences themselves (in blocks of rows), so that a sample equal to
        a center is at distance exactly 0; float32 data and float32 centers give float32
        distances (numpy's promotion of the two, as scikit-learn's). A CSR ``X`` gets
        scikit-learn's ``sqrt(max(||x||^2 - 2 x.c + ||c||^2, 0))`` by a sparse product.
        """
        given = np.float32 if getattr(X, "dtype", None) == np.float32 else np.float64
        X = self._check_X(X)
        dtype = np.result_type(given, self.cluster_centers_.dtype)
        C = self.cluster_centers_.astype(np.float64)
        if sp.issparse(X):  # k-means++'s expanded distances, (n_clusters, n_samples)
            sq = _sq_distances(X, row_sq_norms(X), C)
            return np.sqrt(sq.T).astype(dtype, order="C", copy=False)
        out = np.empty((X.shape[0], C.shape[0]), dtype=dtype)
        step = max(1, _BLOCK // max(1, C.size))
        for start in range(0, X.shape[0], step):
            diff = X[start : start + step, None, :] - C[None]  # (rows, n_clusters, n_features)
            out[start : start + step] = np.sqrt(np.einsum("ijf,ijf->ij", diff, diff))
        return out

    def score(self, X: Any, y: Any = None, sample_weight: Any = None) -> float:
        """Opposite of the inertia of ``X`` under the fitted centers (higher is better)."""
        X = self._check_X(X)
        w = check_sample_weight(sample_weight, X.shape[0])
        C = self.cluster_centers_.astype(np.float64)
        return -float(total_inertia(X, w, C, self._labels(X)))
