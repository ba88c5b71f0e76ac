"""Ordinary least squares (QR, with an SVD fallback) and ridge regression (closed form)."""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.linalg
from sklearn.base import BaseEstimator, RegressorMixin

from mlcanon._estimator import check_X, sample_weight_or_none
from mlcanon._validation import check_array, check_consistent_length, check_option, check_scalar

from ._base import linear_predict, preprocess_data

__all__ = ["LinearRegression", "Ridge"]


def _check_X_y_multi(estimator: Any, X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    """Like ``check_X_y`` but ``y`` may be 2-D (one column per target)."""
    if y is None:
        raise ValueError(
            f"{type(estimator).__name__} requires y to be passed, but the target y is None"
        )
    X = check_X(estimator, X, reset=True, min_samples=2)
    y = check_array(y, "y", ndim=(1, 2))
    check_consistent_length(X=X, y=y)
    return X, y


def _min_norm_lstsq(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Minimum-norm least squares ``V diag(1/s) U^T y`` over the numerically nonzero ``s``."""
    U, s, Vt = np.linalg.svd(X, full_matrices=False)
    keep = s > s[0] * max(X.shape) * np.finfo(np.float64).eps if s.size else s > 0
    Uty = U[:, keep].T @ y
    return Vt[keep].T @ (Uty / (s[keep] if y.ndim == 1 else s[keep, None]))


def _lstsq(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Solve ``min ||Xw - y||`` by Householder QR: ``R w = Q^T y``.

    QR never forms ``X^T X`` (which would square the condition number). A rank-deficient ``X``
    (tiny diagonal of ``R``) has no unique solution; the SVD gives the one of minimum norm.
    """
    n_samples, n_features = X.shape
    if n_samples >= n_features:
        Q, R = np.linalg.qr(X)
        d = np.abs(np.diag(R))
        if d.size and d.min() > d.max() * max(X.shape) * np.finfo(np.float64).eps:
            return scipy.linalg.solve_triangular(R, Q.T @ y)
    return _min_norm_lstsq(X, y)


class _LeastSquaresBase(RegressorMixin, BaseEstimator):
    """What least squares and ridge share: the intercept from the centering offsets, predict,
    and several targets at once."""

    def _set_coef(self, coef: np.ndarray, X_offset: np.ndarray, y_offset: Any) -> Any:
        # coef is (n_features,) or (n_features, n_targets); the intercept undoes the centering
        self.coef_ = coef.T
        self.intercept_ = y_offset - X_offset @ coef
        if coef.ndim == 1:
            self.intercept_ = float(self.intercept_)
        return self

    def predict(self, X: Any) -> np.ndarray:
        """``X @ coef_.T + intercept_``."""
        return linear_predict(self, X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


class LinearRegression(_LeastSquaresBase):
    r"""Ordinary least squares.

    Parameters
    ----------
    fit_intercept : bool, default True

    Attributes
    ----------
    coef_ : array of shape (n_features,) or (n_targets, n_features)
    intercept_ : float or array of shape (n_targets,)
    n_features_in_ : int

    Notes
    -----
    .. math:: \hat w = \arg\min_w \lVert y - Xw \rVert_2^2 = R^{-1} Q^T y, \quad X = QR

    on centered data (the intercept is ``ȳ - x̄^T w``). Sample weights multiply the rows by
    ``sqrt(w_i)``.

    References
    ----------
    Golub & Van Loan (2013), *Matrix Computations*, 4th ed., Section 5.3 (the least-squares
    problem via QR).
    """

    def __init__(self, *, fit_intercept: bool = True) -> None:
        self.fit_intercept = fit_intercept

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> LinearRegression:
        """Fit on ``X`` (n_samples, n_features) and ``y`` (n_samples,) or (n_samples, n_targets)."""
        X, y = _check_X_y_multi(self, X, y)
        sw = sample_weight_or_none(sample_weight, X.shape[0])
        Xc, yc, X_offset, y_offset = preprocess_data(
            X, y, fit_intercept=self.fit_intercept, sample_weight=sw
        )
        return self._set_coef(_lstsq(Xc, yc), X_offset, y_offset)


def _ridge_solve(X: np.ndarray, y: np.ndarray, alpha: float, solver: str) -> np.ndarray:
    """Solve ``(X^T X + alpha I) w = X^T y``; returns ``w`` shaped like ``X^T y``.

    'cholesky' factors the smaller of ``X^T X + alpha I`` (primal) and ``X X^T + alpha I``
    (dual, ``w = X^T (X X^T + alpha I)^{-1} y``); 'svd' filters the singular values,
    ``w = V diag(s / (s^2 + alpha)) U^T y``, and also handles ``alpha = 0``.
    """
    n_samples, n_features = X.shape
    if solver == "cholesky" and alpha > 0:
        try:
            if n_features <= n_samples:
                A = X.T @ X
                A.flat[:: n_features + 1] += alpha
                return scipy.linalg.solve(A, X.T @ y, assume_a="pos", overwrite_a=True)
            K = X @ X.T
            K.flat[:: n_samples + 1] += alpha
            return X.T @ scipy.linalg.solve(K, y, assume_a="pos", overwrite_a=True)
        except (np.linalg.LinAlgError, scipy.linalg.LinAlgWarning):
            pass  # numerically singular system: the SVD below is the robust fallback
    U, s, Vt = np.linalg.svd(X, full_matrices=False)
    nonzero = s > 1e-15
    d = np.zeros_like(s)
    d[nonzero] = s[nonzero] / (s[nonzero] ** 2 + alpha)
    Uty = U.T @ y
    return Vt.T @ (d * Uty if y.ndim == 1 else d[:, None] * Uty)


class Ridge(_LeastSquaresBase):
    r"""Least squares with an L2 penalty, solved in closed form.

    Parameters
    ----------
    alpha : float >= 0, default 1.0
        Penalty strength.
    fit_intercept : bool, default True
    solver : {'auto', 'cholesky', 'svd'}, default 'auto'
        'auto' is 'cholesky' (primal or dual, whichever system is smaller) when ``alpha > 0``,
        else 'svd'.

    Attributes
    ----------
    coef_ : array of shape (n_features,) or (n_targets, n_features)
    intercept_ : float or array of shape (n_targets,)
    n_features_in_ : int

    Notes
    -----
    .. math::

        \hat w = \arg\min_w \lVert y - Xw \rVert_2^2 + \alpha \lVert w \rVert_2^2
               = (X^T X + \alpha I)^{-1} X^T y

    on centered data; the intercept is not penalized. Unlike :class:`ElasticNet`, the squared
    error is not divided by ``n`` (scikit-learn's convention for ``Ridge``).

    References
    ----------
    Hoerl & Kennard (1970), "Ridge regression: biased estimation for nonorthogonal problems",
    Technometrics 12(1).
    """

    def __init__(self, alpha: float = 1.0, *, fit_intercept: bool = True, solver: str = "auto"):
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.solver = solver

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> Ridge:
        """Fit on ``X`` (n_samples, n_features) and ``y`` (n_samples,) or (n_samples, n_targets)."""
        check_scalar(self.alpha, "alpha", low=0)
        check_option(self.solver, "solver", ("auto", "cholesky", "svd"))
        X, y = _check_X_y_multi(self, X, y)
        sw = sample_weight_or_none(sample_weight, X.shape[0])
        Xc, yc, X_offset, y_offset = preprocess_data(
            X, y, fit_intercept=self.fit_intercept, sample_weight=sw
        )
        solver = "cholesky" if self.solver == "auto" else self.solver
        return self._set_coef(_ridge_solve(Xc, yc, float(self.alpha), solver), X_offset, y_offset)
