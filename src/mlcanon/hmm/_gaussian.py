"""Hidden Markov model with Gaussian emissions."""

from __future__ import annotations

import numbers
from typing import Any, ClassVar

import numpy as np
from scipy.linalg import solve_triangular

from mlcanon._estimator import check_X, store_params
from mlcanon._validation import Interval, Options, check_option, check_scalar
from mlcanon.cluster import KMeans
from mlcanon.mixture._gaussian import COVARIANCE_TYPES, log_gaussian_prob

from ._base import BaseHMM, chain_constraints, prior_array

__all__ = ["GaussianHMM"]

# Added to a covariance whose Cholesky factorization fails (a state stuck on too few points,
# a constant feature), the retry hmmlearn makes before giving up.
CHOLESKY_RETRY = 1e-7


def _cholesky(cov: np.ndarray, state: str) -> np.ndarray:
    """Lower Cholesky factor of ``cov``, retried once with ``CHOLESKY_RETRY`` on the diagonal."""
    try:
        return np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        pass
    try:
        return np.linalg.cholesky(cov + CHOLESKY_RETRY * np.eye(len(cov)))
    except np.linalg.LinAlgError:
        raise ValueError(
            f"covars_ of {state} is not symmetric positive-definite, even with "
            f"{CHOLESKY_RETRY} added to its diagonal; increase min_covar or covars_prior, or "
            "use fewer hidden states"
        ) from None


def _full_covars(covars: np.ndarray, covariance_type: str, n: int, d: int) -> np.ndarray:
    """The (n_components, n_features, n_features) matrices of a compact ``covars``."""
    if covariance_type == "full":
        return covars
    if covariance_type == "tied":
        return np.tile(covars, (n, 1, 1))
    diag = covars if covariance_type == "diag" else np.repeat(covars[:, None], d, axis=1)
    return diag[:, :, None] * np.eye(d)


def _compact_covars(full: np.ndarray, covariance_type: str) -> np.ndarray:
    """Inverse of :func:`_full_covars` for matrices of that structure."""
    diag = np.diagonal(full, axis1=1, axis2=2)
    compact = {"full": full, "tied": full[0], "diag": diag, "spherical": diag[:, 0]}
    compact = compact[covariance_type]
    if not np.array_equal(_full_covars(compact, covariance_type, *full.shape[:2]), full):
        raise ValueError(
            f"covars_ given as (n_components, n_features, n_features) matrices must have the "
            f"{covariance_type!r} structure (or pass the compact form)"
        )
    return compact


def _per_component(value: Any, name: str, shape: tuple[int, ...]) -> np.ndarray:
    """A prior given as a scalar, one value per state, or in full ``shape``, broadcast."""
    v = np.asarray(value, dtype=np.float64)
    if v.ndim == 1 and v.shape[0] == shape[0] and len(shape) > 1:
        v = v.reshape((-1,) + (1,) * (len(shape) - 1))
    return prior_array(v, name, shape)


class GaussianHMM(BaseHMM):
    r"""HMM whose state :math:`j` emits :math:`x_t \sim \mathcal N(\mu_j, \Sigma_j)`.

    Parameters
    ----------
    n_components : int, default=1
        Number of hidden states :math:`N`.
    covariance_type : {'spherical', 'diag', 'full', 'tied'}, default='diag'
    min_covar : float, default=1e-3
        Added to the diagonal of the data covariance used as the initial covariances.
    startprob_prior, transmat_prior : float or array-like, default=1.0
        Dirichlet concentrations (1.0 is maximum likelihood).
    means_prior, means_weight : float or array-like, default=0
        Normal prior on the means: prior mean and pseudo-count.
    covars_prior, covars_weight : float or array-like, default=1e-2 and 1
        Inverse-gamma (diag/spherical) or inverse-Wishart (full/tied) prior on the covariances.
    algorithm, random_state, n_iter, tol, verbose, implementation
        As in :class:`~mlcanon.hmm.CategoricalHMM`.
    params, init_params : str, default='stmc'
        's' start probabilities, 't' transitions, 'm' means, 'c' covariances. Means are
        initialized by k-means, covariances by the data covariance.

    Attributes
    ----------
    startprob_, transmat_ : ndarray
    means_ : ndarray of shape (n_components, n_features)
    covars_ : ndarray of shape (n_components, n_features, n_features)
        One full matrix per state whatever the ``covariance_type``, as in hmmlearn. It can be
        set in the compact form of the type -- (n_components,) 'spherical',
        (n_components, n_features) 'diag', (n_components, n_features, n_features) 'full',
        (n_features, n_features) 'tied' -- or as full matrices of that structure.
    lower_bounds_, n_iter_, converged_, monitor_
        As in :class:`~mlcanon.hmm.CategoricalHMM`.

    Notes
    -----
    With posteriors :math:`\gamma_t(j)`, :math:`n_j = \sum_t \gamma_t(j)` and the priors
    :math:`(m_0, \lambda, \Psi, \nu)` = (means_prior, means_weight, covars_prior, covars_weight),

    .. math::
        \mu_j = \frac{\lambda m_0 + \sum_t \gamma_t(j) x_t}{\lambda + n_j}, \qquad
        \Sigma_j = \frac{\Psi + \lambda (\mu_j - m_0)(\mu_j - m_0)^T
            + \sum_t \gamma_t(j) (x_t - \mu_j)(x_t - \mu_j)^T}{\max(\nu - d, 0) + n_j}

    (``diag`` keeps the diagonal and uses :math:`\max(\nu - 1, 0)`; ``tied`` pools the states).

    References
    ----------
    Rabiner 1989, eq. (52)-(53); Huang, Acero & Hon, *Spoken Language Processing*, 2001,
    sec. 8.3 (MAP estimates).
    """

    _param_codes = "stmc"
    _parameter_constraints: ClassVar[dict[str, Any]] = {
        **chain_constraints("stmc"),
        "covariance_type": Options(*COVARIANCE_TYPES),
        "min_covar": Interval(low=0.0),
    }

    def __init__(  # hmmlearn's order: every parameter may be given by position
        self,
        n_components: int = 1,
        covariance_type: str = "diag",
        min_covar: float = 1e-3,
        startprob_prior: Any = 1.0,
        transmat_prior: Any = 1.0,
        means_prior: Any = 0,
        means_weight: Any = 0,
        covars_prior: Any = 1e-2,
        covars_weight: Any = 1,
        algorithm: str = "viterbi",
        random_state: Any = None,
        n_iter: int = 10,
        tol: float = 1e-2,
        verbose: bool = False,
        params: str = "stmc",
        init_params: str = "stmc",
        implementation: str = "log",
    ) -> None:
        store_params(self, locals())

    def _covars_shape(self, d: int) -> tuple[int, ...]:
        n = self.n_components
        return {"spherical": (n,), "diag": (n, d), "full": (n, d, d), "tied": (d, d)}[
            check_option(self.covariance_type, "covariance_type", COVARIANCE_TYPES)
        ]

    def _check_X(self, X: Any, *, reset: bool) -> np.ndarray:
        return check_X(self, X, reset=reset)

    @property
    def n_features(self) -> int:
        """Dimension of the observations, hmmlearn's name for it: ``n_features_in_`` once fitted
        (or scored), else the value set by hand (hmmlearn's users set it to sample from a model
        built by hand), else the width of a ``means_`` set by hand."""
        if hasattr(self, "n_features_in_"):
            return self.n_features_in_
        if hasattr(self, "_n_features"):
            return self._n_features
        if hasattr(self, "means_"):
            return int(np.shape(self.means_)[1])
        raise AttributeError(
            "'GaussianHMM' object has no attribute 'n_features' (it is known once fitted or "
            "once means_ is set)"
        )

    @n_features.setter
    def n_features(self, value: int) -> None:
        self._n_features = check_scalar(value, "n_features", kind=numbers.Integral, low=1)

    @property
    def covars_(self) -> np.ndarray:
        n, d = np.shape(self.means_)
        return _full_covars(self._covars_, self.covariance_type, n, d)

    @covars_.setter
    def covars_(self, covars: Any) -> None:
        covars = np.array(covars, dtype=np.float64)
        if self.covariance_type == "spherical" and covars.ndim > 1 and covars.size == len(covars):
            covars = covars.reshape(-1)  # one variance per state, e.g. (n, 1) or (n, 1, 1)
        elif covars.ndim == 3 and self.covariance_type != "full":
            covars = _compact_covars(covars, self.covariance_type)
        self._covars_ = covars

    def _log_frameprob(self, X: np.ndarray) -> np.ndarray:
        cov_type, covars = self.covariance_type, self._covars_
        if cov_type in ("full", "tied"):
            mats = covars if cov_type == "full" else covars[None]
            eye = np.eye(mats.shape[-1])
            prec_chol = np.stack(
                [
                    solve_triangular(_cholesky(m, f"state {j}"), eye, lower=True).T
                    for j, m in enumerate(mats)
                ]
            )
            prec_chol = prec_chol if cov_type == "full" else prec_chol[0]
        else:
            prec_chol = 1.0 / np.sqrt(covars)
        return log_gaussian_prob(X, self.means_, prec_chol, cov_type)

    def _init_emissions(self, X: np.ndarray, rng: np.random.Generator) -> None:
        d = X.shape[1]
        if self._needs_init("m", "means_"):
            if X.shape[0] < self.n_components:
                raise ValueError(
                    f"n_samples={X.shape[0]} should be >= n_components={self.n_components} "
                    "to initialize the means by k-means"
                )
            km = KMeans(n_clusters=self.n_components, n_init=10, random_state=rng).fit(X)
            self.means_ = km.cluster_centers_
        if self._needs_init("c", "covars_"):
            # One sample has no covariance (np.cov's is NaN, hmmlearn's initial one). A diagonal
            # one is taken as 0, which the first M-step replaces by the prior as hmmlearn's
            # does; a full or tied matrix is refused, as hmmlearn refuses its NaN one.
            if X.shape[0] == 1 and self.covariance_type in ("full", "tied"):
                raise ValueError(
                    f"covariance_type={self.covariance_type!r} needs at least 2 samples to "
                    "initialize covars_ (one sample has no covariance); got 1. Use 'diag' or "
                    "'spherical', or set covars_ and leave 'c' out of init_params"
                )
            spread = np.cov(X.T) if X.shape[0] > 1 else np.zeros((d, d))
            cv = np.atleast_2d(spread) + self.min_covar * np.eye(d)
            self.covars_ = {
                "spherical": np.full(self.n_components, np.diag(cv).mean()),
                "diag": np.tile(np.diag(cv), (self.n_components, 1)),
                "full": np.tile(cv, (self.n_components, 1, 1)),
                "tied": cv,
            }[self.covariance_type]

    def _check_emissions(self) -> None:
        means = np.asarray(self.means_, dtype=np.float64)
        if means.ndim != 2 or means.shape[0] != self.n_components:
            raise ValueError(
                f"means_ must have shape (n_components, n_features) with n_components="
                f"{self.n_components}, got {means.shape}"
            )
        d = getattr(self, "n_features_in_", means.shape[1])
        if means.shape[1] != d:
            raise ValueError(f"means_ has {means.shape[1]} features, expected {d}")
        if not hasattr(self, "_covars_"):
            raise ValueError("covars_ must be set when 'c' is not in init_params")
        covars = np.asarray(self._covars_, dtype=np.float64)
        if covars.shape != self._covars_shape(d):
            raise ValueError(
                f"covars_ must have shape {self._covars_shape(d)} for covariance_type="
                f"{self.covariance_type!r}, got {covars.shape}"
            )
        if not np.isfinite(covars).all():
            raise ValueError("covars_ must be finite")
        if self.covariance_type in ("full", "tied"):
            mats = covars if covars.ndim == 3 else covars[None]
            if not all(np.allclose(m, m.T) for m in mats):
                raise ValueError(f"{self.covariance_type!r} covars_ must be symmetric")
            for j, m in enumerate(mats):
                _cholesky(m, f"state {j}" if self.covariance_type == "full" else "the states")
        elif np.any(covars <= 0):
            raise ValueError(f"{self.covariance_type!r} covars_ must be positive")
        self.means_, self._covars_ = means, covars
        self.n_features_in_ = d

    def _emission_mstep(self, X: np.ndarray, post: np.ndarray) -> None:
        n, d = self.n_components, X.shape[1]
        nk = post.sum(axis=0)  # (n_components,)
        obs = post.T @ X  # (n_components, n_features)
        m0 = _per_component(self.means_prior, "means_prior", (n, d))
        lam = _per_component(self.means_weight, "means_weight", (n, d))
        if "m" in self.params:
            self.means_ = (lam * m0 + obs) / (lam + nk[:, None])
        if "c" not in self.params:
            return
        mu = self.means_
        shape = self._covars_shape(d)
        if self.covariance_type in ("spherical", "diag"):
            c_n = lam * (mu - m0) ** 2 + post.T @ (X * X) - 2 * mu * obs + mu**2 * nk[:, None]
            weight = _per_component(self.covars_weight, "covars_weight", (n, d))
            c_d = np.maximum(weight - 1, 0) + nk[:, None]
            psi = _per_component(self.covars_prior, "covars_prior", (n, d))
            cov = (psi + c_n) / np.maximum(c_d, 1e-5)
            self.covars_ = cov.mean(axis=1) if self.covariance_type == "spherical" else cov
            return
        c_n = np.empty((n, d, d))
        for j in range(n):
            diff0 = mu[j] - m0[j]
            outer_obs = np.outer(obs[j], mu[j])
            c_n[j] = (
                lam[j, 0] * np.outer(diff0, diff0)
                + (X * post[:, j, None]).T @ X
                - outer_obs
                - outer_obs.T
                + np.outer(mu[j], mu[j]) * nk[j]
            )
        nu = np.maximum(_per_component(self.covars_weight, "covars_weight", (n,)) - d, 0)
        psi = _per_component(self.covars_prior, "covars_prior", shape)
        if self.covariance_type == "tied":
            self.covars_ = (psi + c_n.sum(axis=0)) / (nu.max() + nk.sum())
        else:
            self.covars_ = (psi + c_n) / (nu + nk)[:, None, None]

    def _emit(self, states: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        d = self.means_.shape[1]
        X = np.empty((len(states), d))
        covars = self.covars_
        for j in range(self.n_components):
            idx = np.flatnonzero(states == j)
            z = rng.standard_normal((idx.size, d))
            X[idx] = self.means_[j] + z @ _cholesky(covars[j], f"state {j}").T
        return X

    def _n_emission_parameters(self, codes: str) -> int:
        n, d = np.shape(self.means_)
        cov = {
            "spherical": n,
            "diag": n * d,
            "full": n * d * (d + 1) // 2,
            "tied": d * (d + 1) // 2,
        }
        return ("m" in codes) * n * d + ("c" in codes) * cov[self.covariance_type]
