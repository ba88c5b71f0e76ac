"""Hidden Markov model with Gaussian emissions."""

from __future__ import annotations

from typing import Any

import numpy as np

from mlcanon._estimator import check_X
from mlcanon._validation import check_option, check_scalar
from mlcanon.cluster import KMeans
from mlcanon.mixture._gaussian import COVARIANCE_TYPES, log_gaussian_prob, precision_cholesky

from ._base import BaseHMM

__all__ = ["GaussianHMM"]


def _per_component(value: Any, shape: tuple[int, ...]) -> np.ndarray:
    """A prior given as a scalar, one value per state, or in full ``shape``, broadcast."""
    v = np.asarray(value, dtype=np.float64)
    if v.ndim == 1 and v.shape[0] == shape[0] and len(shape) > 1:
        v = v.reshape((-1,) + (1,) * (len(shape) - 1))
    return np.broadcast_to(v, shape)


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
    algorithm, random_state, n_iter, tol
        As in :class:`~mlcanon.hmm.CategoricalHMM`.
    params, init_params : str, default='stmc'
        's' start probabilities, 't' transitions, 'm' means, 'c' covariances. Means are
        initialized by k-means, covariances by the data covariance.

    Attributes
    ----------
    startprob_, transmat_ : ndarray
    means_ : ndarray of shape (n_components, n_features)
    covars_ : ndarray
        (n_components,) 'spherical', (n_components, n_features) 'diag',
        (n_components, n_features, n_features) 'full', (n_features, n_features) 'tied'.
        (hmmlearn's ``covars_`` property returns full matrices; this is the compact form that
        its setter takes.)
    lower_bounds_, n_iter_, converged_
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

    def __init__(
        self,
        n_components: int = 1,
        *,
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
        params: str = "stmc",
        init_params: str = "stmc",
    ) -> None:
        super().__init__(
            n_components,
            startprob_prior=startprob_prior,
            transmat_prior=transmat_prior,
            algorithm=algorithm,
            random_state=random_state,
            n_iter=n_iter,
            tol=tol,
            params=params,
            init_params=init_params,
        )
        self.covariance_type = covariance_type
        self.min_covar = min_covar
        self.means_prior = means_prior
        self.means_weight = means_weight
        self.covars_prior = covars_prior
        self.covars_weight = covars_weight

    def _covars_shape(self, d: int) -> tuple[int, ...]:
        n = self.n_components
        return {"spherical": (n,), "diag": (n, d), "full": (n, d, d), "tied": (d, d)}[
            check_option(self.covariance_type, "covariance_type", COVARIANCE_TYPES)
        ]

    def _check_hyper(self) -> None:
        super()._check_hyper()
        check_option(self.covariance_type, "covariance_type", COVARIANCE_TYPES)
        check_scalar(self.min_covar, "min_covar", low=0.0)

    def _check_X(self, X: Any, *, reset: bool) -> np.ndarray:
        return check_X(self, X, reset=reset, min_samples=2 if reset else 1)

    def _log_frameprob(self, X: np.ndarray) -> np.ndarray:
        prec_chol = precision_cholesky(self.covars_, self.covariance_type)
        return log_gaussian_prob(X, self.means_, prec_chol, self.covariance_type)

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
            cv = np.atleast_2d(np.cov(X.T)) + self.min_covar * np.eye(d)
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
        covars = np.asarray(self.covars_, dtype=np.float64)
        if covars.shape != self._covars_shape(d):
            raise ValueError(
                f"covars_ must have shape {self._covars_shape(d)} for covariance_type="
                f"{self.covariance_type!r}, got {covars.shape}"
            )
        if self.covariance_type in ("full", "tied"):
            mats = covars if covars.ndim == 3 else covars[None]
            sym = all(np.allclose(m, m.T) for m in mats)
            if not sym or any(np.linalg.eigvalsh(m).min() <= 0 for m in mats):
                raise ValueError(
                    f"{self.covariance_type!r} covars_ must be symmetric, positive-definite"
                )
        elif np.any(covars <= 0) or not np.isfinite(covars).all():
            raise ValueError(f"{self.covariance_type!r} covars_ must be positive")
        self.means_, self.covars_ = means, covars
        self.n_features_in_ = d

    def _emission_mstep(self, X: np.ndarray, post: np.ndarray) -> None:
        n, d = self.n_components, X.shape[1]
        nk = post.sum(axis=0)  # (n_components,)
        obs = post.T @ X  # (n_components, n_features)
        m0 = _per_component(self.means_prior, (n, d))
        lam = _per_component(self.means_weight, (n, d))
        if "m" in self.params:
            self.means_ = (lam * m0 + obs) / (lam + nk[:, None])
        if "c" not in self.params:
            return
        mu = self.means_
        shape = self._covars_shape(d)
        if self.covariance_type in ("spherical", "diag"):
            c_n = lam * (mu - m0) ** 2 + post.T @ (X * X) - 2 * mu * obs + mu**2 * nk[:, None]
            c_d = np.maximum(_per_component(self.covars_weight, (n, d)) - 1, 0) + nk[:, None]
            psi = _per_component(self.covars_prior, (n, d))
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
        nu = np.maximum(_per_component(self.covars_weight, (n,)) - d, 0)
        psi = _per_component(self.covars_prior, shape)
        if self.covariance_type == "tied":
            self.covars_ = (psi + c_n.sum(axis=0)) / (nu.max() + nk.sum())
        else:
            self.covars_ = (psi + c_n) / (nu + nk)[:, None, None]

    def _emit(self, states: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        d = self.means_.shape[1]
        X = np.empty((len(states), d))
        for j in range(self.n_components):
            idx = np.flatnonzero(states == j)
            z = rng.standard_normal((idx.size, d))
            if self.covariance_type in ("full", "tied"):
                cov = self.covars_[j] if self.covariance_type == "full" else self.covars_
                X[idx] = self.means_[j] + z @ np.linalg.cholesky(cov).T
            else:
                X[idx] = self.means_[j] + z * np.sqrt(self.covars_[j])
        return X

    def _n_emission_parameters(self) -> int:
        n, d = self.means_.shape
        cov = {
            "spherical": n,
            "diag": n * d,
            "full": n * d * (d + 1) // 2,
            "tied": d * (d + 1) // 2,
        }
        return ("m" in self.params) * n * d + ("c" in self.params) * cov[self.covariance_type]
