"""Gaussian mixture fitted by expectation-maximization."""

from __future__ import annotations

import math
import numbers
import time
import warnings
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator, DensityMixin
from sklearn.utils.validation import check_is_fitted

from mlcanon._estimator import ConvergenceWarning, check_X, float_dtype, store_params
from mlcanon._special import logsumexp
from mlcanon._validation import (
    BOOL,
    RANDOM_STATE,
    ArrayLike,
    Interval,
    Options,
    check_random_state,
    check_scalar,
    validate_params,
)
from mlcanon.cluster import KMeans, kmeans_plusplus

from ._gaussian import (
    COVARIANCE_TYPES,
    estimate_gaussian_parameters,
    log_gaussian_prob,
    precision_cholesky,
    precision_cholesky_from_precisions,
)

__all__ = ["GaussianMixture"]


def _exp(log_p: np.ndarray) -> np.ndarray:
    """Probabilities from log-probabilities; those below the smallest float become 0."""
    with np.errstate(under="ignore"):
        return np.exp(log_p)


INIT_PARAMS = ("kmeans", "k-means++", "random", "random_from_data")


def _check_init_array(value: Any, param: str, shape: tuple[int, ...]) -> np.ndarray:
    """A user-given starting parameter of the expected shape, float32 if given as float32, else
    float64 (``param`` is its name in scikit-learn's messages: 'weights', 'means', ...)."""
    arr = np.array(value)
    arr = arr.astype(float_dtype(arr))
    if arr.shape != shape:
        raise ValueError(
            f"The parameter '{param}' should have the shape of {shape}, but got {arr.shape}"
        )
    if not np.isfinite(arr).all():
        raise ValueError(f"The parameter '{param}' contains NaN or infinity")
    return arr


def _check_weights(value: Any, k: int) -> np.ndarray:
    w = _check_init_array(value, "weights", (k,))
    if np.any(w < 0) or np.any(w > 1):
        raise ValueError(
            "The parameter 'weights' should be in the range [0, 1], but got "
            f"min value {w.min():.5f}, max value {w.max():.5f}"
        )
    # float32 weights sum to 1 only within float32 rounding (scikit-learn's tolerances)
    atol = 1e-6 if w.dtype == np.float32 else 1e-8
    if not np.isclose(w.sum(), 1.0, rtol=0, atol=atol):
        raise ValueError(
            f"The parameter 'weights' should be normalized, but got sum(weights) = {w.sum():.5f}"
        )
    return w


def _check_precisions(value: Any, covariance_type: str, k: int, d: int) -> np.ndarray:
    shape = {"full": (k, d, d), "tied": (d, d), "diag": (k, d), "spherical": (k,)}
    p = _check_init_array(value, f"{covariance_type} precision", shape[covariance_type])
    if covariance_type in ("full", "tied"):
        mats = p if p.ndim == 3 else p[None]
        sym = all(np.allclose(m, m.T) for m in mats)
        if not sym or any(np.linalg.eigvalsh(m).min() <= 0 for m in mats):
            raise ValueError(
                f"'{covariance_type} precision' should be symmetric, positive-definite"
            )
    elif np.any(p <= 0):
        raise ValueError(f"'{covariance_type} precision' should be positive")
    return p


class GaussianMixture(DensityMixin, BaseEstimator):
    r"""Mixture of Gaussians :math:`p(x) = \sum_k \pi_k \mathcal N(x \mid \mu_k, \Sigma_k)`.

    Parameters
    ----------
    n_components : int, default=1
    covariance_type : {'full', 'tied', 'diag', 'spherical'}, default='full'
        Structure of :math:`\Sigma_k` (see :mod:`mlcanon.mixture._gaussian` for the shapes).
    tol : float, default=1e-3
        EM stops when the mean log-likelihood gains less than ``tol`` in one iteration.
    reg_covar : float, default=1e-6
        Added to the diagonal of every covariance, keeping it positive definite.
    max_iter : int, default=100
    n_init : int, default=1
        Number of initializations; the one with the highest final lower bound is kept.
    init_params : {'kmeans', 'k-means++', 'random', 'random_from_data'}, default='kmeans'
        Initial responsibilities: k-means labels, k-means++ seeds, uniform random weights,
        or random samples as one-hot seeds.
    weights_init, means_init, precisions_init : array-like, default=None
        User-given starting parameters (precisions in the shape of ``covariance_type``);
        when all three are given the initial responsibilities are not needed.
    random_state : None, int or numpy.random.Generator
    warm_start : bool, default=False
        Start a new ``fit`` from the last solution (then ``n_init`` is ignored).
    verbose : int, default=0
        1 prints each initialization, every ``verbose_interval``-th iteration and whether it
        converged; 2 adds the time taken and the change of the lower bound.
    verbose_interval : int, default=10

    Attributes
    ----------
    weights_, means_, covariances_ : ndarray
        float32 for float32 data (and starting values), as scikit-learn's; else float64.
    precisions_, precisions_cholesky_ : ndarray
        :math:`\Lambda_k = \Sigma_k^{-1}` and its factor :math:`U_k` (:math:`\Lambda = U U^T`).
    converged_ : bool
    n_iter_ : int
    lower_bound_ : float
        Mean log-likelihood of the training data at the start of the last EM iteration (a
        numpy scalar of the data's dtype).
    lower_bounds_ : list of float
        That value after every iteration of the best initialization (never decreasing).

    Notes
    -----
    E-step: responsibilities
    :math:`r_{ik} = \pi_k \mathcal N(x_i \mid \mu_k, \Sigma_k) / \sum_j \pi_j
    \mathcal N(x_i \mid \mu_j, \Sigma_j)`, computed in log space with log-sum-exp.
    M-step: :math:`\pi_k = N_k / n` and the weighted means and covariances of
    :func:`~mlcanon.mixture._gaussian.estimate_gaussian_parameters`. Each iteration cannot lower
    :math:`\frac1n \sum_i \log p(x_i)` (Dempster et al. 1977, Theorem 1).

    References
    ----------
    Dempster, Laird & Rubin, "Maximum likelihood from incomplete data via the EM algorithm",
    JRSS B 39(1), 1977. Bishop, *Pattern Recognition and Machine Learning*, 2006, sec. 9.2.
    """

    def __init__(
        self,
        n_components: int = 1,
        *,
        covariance_type: str = "full",
        tol: float = 1e-3,
        reg_covar: float = 1e-6,
        max_iter: int = 100,
        n_init: int = 1,
        init_params: str = "kmeans",
        weights_init: Any = None,
        means_init: Any = None,
        precisions_init: Any = None,
        random_state: Any = None,
        warm_start: bool = False,
        verbose: int = 0,
        verbose_interval: int = 10,
    ) -> None:
        store_params(self, locals())

    # -- parameters --------------------------------------------------------------------------
    _parameter_constraints: ClassVar[dict[str, Any]] = {
        "n_components": Interval(numbers.Integral, low=1),
        "covariance_type": Options(*COVARIANCE_TYPES),
        "init_params": Options(*INIT_PARAMS),
        "tol": Interval(low=0.0),
        "reg_covar": Interval(low=0.0),
        "max_iter": Interval(numbers.Integral, low=0),
        "n_init": Interval(numbers.Integral, low=1),
        "warm_start": BOOL,
        "verbose": (BOOL, Interval(numbers.Integral, low=0)),
        "verbose_interval": Interval(numbers.Integral, low=1),
        "random_state": RANDOM_STATE,
        # the initial values' shapes and sums are checked against the data in _check_params
        "weights_init": (None, ArrayLike()),
        "means_init": (None, ArrayLike()),
        "precisions_init": (None, ArrayLike()),
    }

    def _check_params(self, n_features: int) -> None:
        validate_params(self)
        k = self.n_components
        self._weights_init = self._means_init = self._precisions_init = None
        if self.weights_init is not None:
            self._weights_init = _check_weights(self.weights_init, k)
        if self.means_init is not None:
            self._means_init = _check_init_array(self.means_init, "means", (k, n_features))
        if self.precisions_init is not None:
            self._precisions_init = _check_precisions(
                self.precisions_init, self.covariance_type, k, n_features
            )

    def _initial_resp(self, X: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        n, k = X.shape[0], self.n_components
        resp = np.zeros((n, k), dtype=X.dtype)
        if self.init_params == "kmeans":
            labels = KMeans(n_clusters=k, n_init=1, random_state=rng).fit(X).labels_
            resp[np.arange(n), labels] = 1.0
        elif self.init_params == "k-means++":
            _, idx = kmeans_plusplus(X, k, random_state=rng)
            resp[idx, np.arange(k)] = 1.0
        elif self.init_params == "random":
            resp = rng.uniform(size=(n, k)).astype(X.dtype)
            resp /= resp.sum(axis=1, keepdims=True)
        else:
            resp[rng.choice(n, size=k, replace=False), np.arange(k)] = 1.0
        return resp

    def _initialize(self, X: np.ndarray, rng: np.random.Generator) -> None:
        given = (self._weights_init, self._means_init, self._precisions_init)
        if any(v is None for v in given):
            nk, means, cov = estimate_gaussian_parameters(
                X, self._initial_resp(X, rng), self.reg_covar, self.covariance_type
            )
            self.weights_ = nk / X.shape[0] if self._weights_init is None else given[0]
            self.means_ = means if self._means_init is None else given[1]
            self.covariances_ = cov
        else:
            self.weights_, self.means_ = given[0], given[1]
        if self._precisions_init is None:
            self.precisions_cholesky_ = precision_cholesky(self.covariances_, self.covariance_type)
        else:
            P = self._precisions_init
            self.precisions_cholesky_ = precision_cholesky_from_precisions(P, self.covariance_type)
            # the covariances these precisions stand for (the first M-step replaces them; with
            # max_iter=0 they are the fitted ones, not those of the seeding or an earlier fit)
            full = self.covariance_type in ("full", "tied")
            self.covariances_ = np.linalg.inv(P) if full else 1.0 / P

    # -- EM ----------------------------------------------------------------------------------
    def _weighted_log_prob(self, X: np.ndarray) -> np.ndarray:
        r""":math:`\log \pi_k + \log \mathcal N(x_i \mid \mu_k, \Sigma_k)`, (n, k)."""
        log_prob = log_gaussian_prob(
            X, self.means_, self.precisions_cholesky_, self.covariance_type
        )
        with np.errstate(divide="ignore"):  # a zero weight is a component that never fires
            return log_prob + np.log(self.weights_)

    def _e_step(self, X: np.ndarray) -> tuple[np.floating, np.ndarray]:
        """Mean log-likelihood and log-responsibilities; both in the parameters' dtype, as
        scikit-learn's (for float32 data, numpy's pairwise float32 sum)."""
        wlp = self._weighted_log_prob(X)
        log_norm = logsumexp(wlp, axis=1)
        return np.mean(log_norm), wlp - log_norm[:, None]

    def _m_step(self, X: np.ndarray, log_resp: np.ndarray) -> None:
        nk, self.means_, self.covariances_ = estimate_gaussian_parameters(
            X, _exp(log_resp), self.reg_covar, self.covariance_type
        )
        self.weights_ = nk / nk.sum()
        self.precisions_cholesky_ = precision_cholesky(self.covariances_, self.covariance_type)

    def _run_em(self, X: np.ndarray, lower_bound: float) -> tuple[float, list[float], int, bool]:
        bounds: list[float] = []
        start = last = time.perf_counter()
        for n_iter in range(1, self.max_iter + 1):
            previous = lower_bound
            lower_bound, log_resp = self._e_step(X)
            self._m_step(X, log_resp)
            bounds.append(lower_bound)
            if self.verbose and n_iter % self.verbose_interval == 0:
                now = time.perf_counter()
                extra = f"\t time lapse {now - last:.5f}s\t ll change {lower_bound - previous:.5f}"
                print(f"  Iteration {n_iter}" + (extra if self.verbose >= 2 else ""))
                last = now
            if abs(lower_bound - previous) < self.tol:
                self._report_end(True, start, lower_bound)
                return lower_bound, bounds, n_iter, True
        self._report_end(False, start, lower_bound)
        return lower_bound, bounds, self.max_iter, False

    def _report_end(self, converged: bool, start: float, lower_bound: float) -> None:
        """What scikit-learn's verbose EM prints when an initialization ends."""
        if not self.verbose:
            return
        text = f"Initialization {'converged' if converged else 'did not converge'}."
        if self.verbose >= 2:
            text += (
                f" time lapse {time.perf_counter() - start:.5f}s\t lower bound {lower_bound:.5f}"
            )
        print(text)

    def _params(self) -> tuple[Any, ...]:
        return (
            self.weights_,
            self.means_,
            getattr(self, "covariances_", None),
            self.precisions_cholesky_,
        )

    def fit(self, X: Any, y: Any = None) -> GaussianMixture:
        """Fit by EM from ``n_init`` initializations; keep the best lower bound."""
        self._fit(X)
        return self

    def fit_predict(self, X: Any, y: Any = None) -> np.ndarray:
        """Fit, then return the most responsible component of each training sample."""
        return self._fit(X)

    def _fit(self, X: Any) -> np.ndarray:
        X = check_X(self, X, reset=True, min_samples=2, dtype=float_dtype(X))
        if X.shape[0] < self.n_components:
            raise ValueError(
                f"Expected n_samples >= n_components but got n_components = "
                f"{self.n_components}, n_samples = {X.shape[0]}"
            )
        self._check_params(X.shape[1])
        do_init = not (self.warm_start and hasattr(self, "converged_"))
        if not do_init:
            self._check_warm_start(X.shape[1])
        rng = check_random_state(self.random_state)
        best, best_bound = None, -np.inf
        for init in range(self.n_init if do_init else 1):
            if self.verbose:
                print(f"Initialization {init}")
            if do_init:
                self._initialize(X, rng)
            start = -np.inf if do_init else self.lower_bound_
            if self.max_iter == 0:
                best, best_n_iter, best_bounds, converged = self._params(), 0, [], False
                continue
            bound, bounds, n_iter, conv = self._run_em(X, start)
            if best is None or bound > best_bound:
                best, best_bound, best_n_iter, best_bounds = self._params(), bound, n_iter, bounds
                converged = conv
        if not converged and self.max_iter > 0:
            warnings.warn(
                "Best performing initialization did not converge. Try different init "
                "parameters, or increase max_iter, tol, or check for degenerate data.",
                ConvergenceWarning,
                stacklevel=3,
            )
        self.weights_, self.means_, self.covariances_, self.precisions_cholesky_ = best
        self.precisions_ = self._precisions()
        self.converged_ = converged
        self.n_iter_ = best_n_iter
        self.lower_bound_ = best_bound
        self.lower_bounds_ = best_bounds
        self._fitted_covariance_type = self.covariance_type
        # labels from the final parameters, so fit_predict(X) == fit(X).predict(X)
        return np.argmax(self._e_step(X)[1], axis=1)

    def _check_warm_start(self, n_features: int) -> None:
        """A warm start continues from the last fit: its parameters must have the shapes the
        current settings ask for (scikit-learn failed inside numpy, or with another
        ``n_components`` went on fitting the old number of components)."""
        k, d = self.means_.shape
        fitted_type = getattr(self, "_fitted_covariance_type", self.covariance_type)
        for name, fitted, now in [
            ("n_features", d, n_features),
            ("n_components", k, self.n_components),
            ("covariance_type", fitted_type, self.covariance_type),
        ]:
            if fitted != now:
                raise ValueError(
                    f"warm_start=True continues from the last fit, which had {name}={fitted!r}, "
                    f"but {name}={now!r} now; refit with warm_start=False"
                )

    def _precisions(self) -> np.ndarray:
        U = self.precisions_cholesky_
        if self.covariance_type == "full":
            return U @ np.transpose(U, (0, 2, 1))
        if self.covariance_type == "tied":
            return U @ U.T
        return U**2

    # -- inference ---------------------------------------------------------------------------
    def score_samples(self, X: Any) -> np.ndarray:
        r"""Log density :math:`\log p(x_i)` of each sample, shape (n_samples,)."""
        X = check_X(self, X, reset=False, dtype=float_dtype(X))
        return logsumexp(self._weighted_log_prob(X), axis=1)

    def score(self, X: Any, y: Any = None) -> float:
        """Mean log density of ``X`` under the mixture."""
        return float(np.mean(self.score_samples(X)))

    def predict_proba(self, X: Any) -> np.ndarray:
        r"""Responsibilities :math:`p(z = k \mid x_i)`, shape (n_samples, n_components)."""
        X = check_X(self, X, reset=False, dtype=float_dtype(X))
        return _exp(self._e_step(X)[1])

    def predict(self, X: Any) -> np.ndarray:
        """Most responsible component of each sample."""
        X = check_X(self, X, reset=False, dtype=float_dtype(X))
        return np.argmax(self._weighted_log_prob(X), axis=1)

    def _n_parameters(self) -> int:
        k, d = self.means_.shape
        cov = {"full": k * d * (d + 1) / 2, "diag": k * d, "tied": d * (d + 1) / 2, "spherical": k}[
            self.covariance_type
        ]
        return int(cov + k * d + k - 1)

    def bic(self, X: Any) -> float:
        r"""Bayesian information criterion :math:`-2 \log L + p \log n` (lower is better)."""
        n = np.asarray(X).shape[0]
        # math.log: a Python float, as scikit-learn's (np.log made it a numpy scalar)
        return -2 * self.score(X) * n + self._n_parameters() * math.log(n)

    def aic(self, X: Any) -> float:
        r"""Akaike information criterion :math:`-2 \log L + 2p` (lower is better)."""
        return -2 * self.score(X) * np.asarray(X).shape[0] + 2 * self._n_parameters()

    def sample(self, n_samples: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """Draw ``n_samples`` points: components by the weights, then each Gaussian.

        Returns ``X`` of shape (n_samples, n_features) and the component labels ``y``, grouped
        by component.
        """
        check_is_fitted(self)
        if isinstance(n_samples, numbers.Integral) and n_samples < 1:
            raise ValueError(
                f"Invalid value for 'n_samples': {n_samples}. The sampling requires at least "
                "one sample (n_samples must be >= 1)."
            )
        check_scalar(n_samples, "n_samples", kind=numbers.Integral, low=1)
        rng = check_random_state(self.random_state)
        counts = rng.multinomial(n_samples, self.weights_ / self.weights_.sum())
        d = self.means_.shape[1]
        parts = []
        for k, m in enumerate(counts):
            z = rng.standard_normal((m, d))
            if self.covariance_type in ("full", "tied"):
                cov = self.covariances_[k] if self.covariance_type == "full" else self.covariances_
                parts.append(self.means_[k] + z @ np.linalg.cholesky(cov).T)
            else:
                parts.append(self.means_[k] + z * np.sqrt(self.covariances_[k]))
        y = np.repeat(np.arange(len(counts)), counts)
        return np.vstack(parts), y
