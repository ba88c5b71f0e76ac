"""Principal component analysis by eigendecomposition of the covariance or by SVD."""

from __future__ import annotations

import numbers
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from mlcanon._estimator import check_X
from mlcanon._validation import Options, check_array, check_scalar, validate_params

__all__ = ["PCA"]


def _flip_signs(Vt: np.ndarray) -> np.ndarray:
    """Make each component's largest-magnitude entry positive (eigenvectors are defined up to
    sign; fixing it makes the output deterministic and comparable)."""
    biggest = np.argmax(np.abs(Vt), axis=1)
    signs = np.sign(Vt[np.arange(Vt.shape[0]), biggest])
    signs[signs == 0] = 1.0
    return Vt * signs[:, None]


def _spectrum(X: np.ndarray, mean: np.ndarray, solver: str) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(variances, Vt)``: the covariance eigenvalues (decreasing) and eigenvectors.

    'covariance_eigh': ``C = (X^T X - n m m^T) / (n - 1)`` then ``C = V diag(λ) V^T``; cheap when
    ``n_samples >> n_features`` (one pass over X, then a p x p problem) but it squares the
    condition number. 'full': ``X - m = U diag(s) V^T`` and ``λ = s^2 / (n - 1)``; accurate for
    the small components too.
    """
    n_samples = X.shape[0]
    if solver == "full":
        _, s, Vt = np.linalg.svd(X - mean, full_matrices=False)
        return s**2 / (n_samples - 1), Vt
    C = X.T @ X
    C -= n_samples * np.outer(mean, mean)
    C /= n_samples - 1
    lam, V = np.linalg.eigh(C)  # ascending
    lam, V = lam[::-1], V[:, ::-1]
    lam[lam < 0.0] = 0.0  # rounding can make a zero eigenvalue slightly negative
    return lam, V.T


class PCA(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    r"""Project data onto the directions of largest variance.

    Parameters
    ----------
    n_components : int, float in (0, 1) or None, default None
        Number of components to keep; a float keeps the fewest components whose explained
        variance ratio adds up to more than it; None keeps ``min(n_samples, n_features)``.
    whiten : bool, default False
        Scale the projections to unit variance.
    svd_solver : {'auto', 'full', 'covariance_eigh'}, default 'auto'
        'auto' uses 'covariance_eigh' when ``n_features <= 1000`` and
        ``n_samples >= 10 n_features``, else 'full'.

    Attributes
    ----------
    components_ : array of shape (n_components_, n_features)
        Principal axes (unit rows), by decreasing variance.
    explained_variance_ : array of shape (n_components_,)
        Variance along each axis (eigenvalues of the sample covariance, ``ddof=1``).
    explained_variance_ratio_ : array of shape (n_components_,)
        Share of the total variance.
    singular_values_ : array of shape (n_components_,)
        Singular values of the centered data, ``sqrt((n - 1) λ)``.
    mean_ : array of shape (n_features,)
    n_components_ : int
    n_samples_ : int
    noise_variance_ : float
        Mean of the discarded eigenvalues (probabilistic-PCA noise estimate).
    n_features_in_ : int

    Notes
    -----
    With the centered data ``X_c = X - 1 m^T`` and its covariance
    ``C = X_c^T X_c / (n - 1) = V diag(λ) V^T``, the projection is

    .. math:: Z = X_c V_k, \qquad \hat X = Z V_k^T + 1 m^T

    and ``V_k`` maximizes the retained variance ``tr(V_k^T C V_k)`` among orthonormal ``k``-frames.

    References
    ----------
    Pearson (1901), "On lines and planes of closest fit to systems of points in space". Jolliffe
    (2002), *Principal Component Analysis*, 2nd ed., Ch. 1-3. Tipping & Bishop (1999),
    "Probabilistic principal component analysis", JRSS B 61(3) (``noise_variance_``).
    """

    def __init__(
        self,
        n_components: int | float | None = None,
        *,
        whiten: bool = False,
        svd_solver: str = "auto",
    ) -> None:
        self.n_components = n_components
        self.whiten = whiten
        self.svd_solver = svd_solver

    # n_components is checked against the data's rank in _n_kept
    _parameter_constraints: ClassVar[dict[str, Any]] = {
        "svd_solver": Options("auto", "full", "covariance_eigh"),
        "whiten": Options(False, True),
    }

    def _n_kept(self, ratio: np.ndarray, limit: int) -> int:
        k = self.n_components
        if k is None:
            return limit
        if isinstance(k, numbers.Integral) and not isinstance(k, bool):
            check_scalar(k, "n_components", kind=numbers.Integral, low=0, high=limit)
            return int(k)
        check_scalar(k, "n_components", low=0, high=1, include_low=False, include_high=False)
        # the first count whose cumulated ratio exceeds the requested fraction
        return int(np.searchsorted(np.cumsum(ratio), k, side="right") + 1)

    def fit(self, X: Any, y: Any = None) -> PCA:
        """Fit on ``X`` (n_samples, n_features); ``y`` is ignored."""
        validate_params(self)
        if self.n_components is not None and not isinstance(self.n_components, numbers.Real):
            raise TypeError(
                f"n_components must be an int, a float in (0, 1) or None; got {self.n_components!r}"
            )
        X = check_X(self, X, reset=True, min_samples=2)
        n_samples, n_features = X.shape
        solver = self.svd_solver
        if solver == "auto":
            small = n_features <= 1_000 and n_samples >= 10 * n_features
            solver = "covariance_eigh" if small else "full"
        self.mean_ = X.mean(axis=0)
        variances, Vt = _spectrum(X, self.mean_, solver)
        Vt = _flip_signs(Vt)
        total = variances.sum()
        ratio = variances / total if total > 0 else np.zeros_like(variances)
        limit = min(n_samples, n_features)
        k = self._n_kept(ratio, limit)
        self.n_components_ = k
        self.n_samples_ = n_samples
        self.components_ = np.ascontiguousarray(Vt[:k])
        self.explained_variance_ = variances[:k].copy()
        self.explained_variance_ratio_ = ratio[:k].copy()
        self.singular_values_ = np.sqrt(variances[:k] * (n_samples - 1))
        self.noise_variance_ = float(variances[k:limit].mean()) if k < limit else 0.0
        self._fit_solver = solver
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Project ``X`` (n_samples, n_features) to (n_samples, n_components_)."""
        X = check_X(self, X, reset=False)
        Z = X @ self.components_.T - self.mean_ @ self.components_.T  # center after projecting
        if self.whiten:
            # a component with (numerically) zero variance would divide by zero
            Z /= np.maximum(np.sqrt(self.explained_variance_), np.finfo(np.float64).eps)
        return Z

    def inverse_transform(self, X: Any) -> np.ndarray:
        """Map projections (n_samples, n_components_) back to (n_samples, n_features)."""
        check_is_fitted(self)
        Z = check_array(X, "X", ndim=2)
        if Z.shape[1] != self.n_components_:
            raise ValueError(
                f"X has {Z.shape[1]} columns, expected n_components_={self.n_components_}"
            )
        W = self.components_
        if self.whiten:
            W = np.sqrt(self.explained_variance_)[:, None] * W
        return Z @ W + self.mean_

    @property
    def _n_features_out(self) -> int:
        return self.n_components_
