"""Ordinary least squares (QR, with an SVD fallback) and ridge regression (closed form)."""

from __future__ import annotations

import numbers
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
    X = check_X(estimator, X, reset=True, min_samples=2, accept_sparse=True)
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
        tags.input_tags.sparse = True  # scipy.sparse X is densified
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


def _ridge_cg(X: np.ndarray, y: np.ndarray, alpha: float, tol: float, max_iter: int):
    r"""Conjugate gradient on :math:`(X^T X + \alpha I) w = X^T y` with matrix-vector products only.

    Stops when :math:`\lVert r \rVert \le` ``tol`` :math:`\lVert X^T y \rVert` (SciPy's ``cg``
    rule, which scikit-learn's 'sparse_cg' uses).
    """
    b = X.T @ y
    w, r = np.zeros_like(b), b.copy()
    p, rs = r.copy(), r @ r
    stop = tol**2 * rs
    for _ in range(max_iter):
        if rs <= stop:
            break
        Ap = X.T @ (X @ p) + alpha * p
        step = rs / (p @ Ap)
        w += step * p
        r -= step * Ap
        rs_new = r @ r
        p = r + (rs_new / rs) * p
        rs = rs_new
    return w


def _ridge_lsqr(X: np.ndarray, y: np.ndarray, alpha: float, tol: float, max_iter: int):
    r"""LSQR (Paige & Saunders) on :math:`\min_w \lVert Xw - y \rVert^2 + \alpha \lVert w \rVert^2`.

    Golub-Kahan bidiagonalization of ``X`` from ``y``; each step updates the solution by two
    plane rotations, the first folding in the damping :math:`\sqrt\alpha`. Stops when the
    estimated normal-equation residual :math:`\lVert X^T r - \alpha w \rVert` is at most
    ``tol`` times :math:`\lVert X \rVert \lVert r \rVert` (scikit-learn passes its ``tol`` as
    LSQR's ``atol`` and ``btol``). Returns ``(w, n_iter)``.
    """
    damp = np.sqrt(alpha)
    w = np.zeros(X.shape[1])
    u = y.astype(np.float64, copy=True)
    beta = np.linalg.norm(u)
    b_norm = beta
    if beta == 0:
        return w, 0
    u /= beta
    v = X.T @ u
    a = np.linalg.norm(v)
    if a == 0:
        return w, 0
    v /= a
    direction = v.copy()
    phibar, rhobar = beta, a
    x_norm_sq = a_norm_sq = res_damp = 0.0
    it = 0
    for it in range(1, max_iter + 1):  # noqa: B007 (it is the iteration count)
        u = X @ v - a * u
        beta = np.linalg.norm(u)
        if beta > 0:
            u /= beta
        a_norm_sq += a**2 + beta**2 + alpha
        v = X.T @ u - beta * v
        a = np.linalg.norm(v)
        if a > 0:
            v /= a
        rhobar1 = np.hypot(rhobar, damp)  # rotation that folds in the damping row
        cs1, sn1 = rhobar / rhobar1, damp / rhobar1
        res_damp += (sn1 * phibar) ** 2
        phibar *= cs1
        rho = np.hypot(rhobar1, beta)  # rotation that eliminates beta
        cs, sn = rhobar1 / rho, beta / rho
        theta, rhobar, phi = sn * a, -cs * a, cs * phibar
        phibar *= sn
        w += (phi / rho) * direction
        direction = v - (theta / rho) * direction
        x_norm_sq = w @ w
        r_norm = np.sqrt(phibar**2 + res_damp)
        ar_norm = a * abs(sn * phi)
        a_norm = np.sqrt(a_norm_sq)
        if r_norm <= (tol + tol * a_norm * np.sqrt(x_norm_sq) / b_norm) * b_norm:
            break
        if a_norm * r_norm > 0 and ar_norm / (a_norm * r_norm) <= tol:
            break
    return w, it


def _ridge_cd_positive(X: np.ndarray, y: np.ndarray, alpha: float, tol: float, max_iter: int):
    r"""Cyclic coordinate descent for ridge with :math:`w \ge 0`.

    Each coordinate minimizes the quadratic exactly and is clipped at zero,
    :math:`w_j = \max(0, x_j^T (r + x_j w_j) / (\lVert x_j \rVert^2 + \alpha))`; the
    bound-constrained problem is strictly convex for :math:`\alpha > 0`, so this reaches the
    same minimizer as scikit-learn's L-BFGS-B. Stops when no coordinate moves by more than
    ``tol`` times the largest coefficient.
    """
    n_features = X.shape[1]
    norm2 = np.einsum("ij,ij->j", X, X) + alpha
    w, r = np.zeros(n_features), y.copy()
    for _ in range(max_iter):
        largest_step = 0.0
        for j in range(n_features):
            if norm2[j] == 0.0:
                continue
            new = max(0.0, (X[:, j] @ r + (norm2[j] - alpha) * w[j]) / norm2[j])
            if new != w[j]:
                r -= (new - w[j]) * X[:, j]
                largest_step = max(largest_step, abs(new - w[j]))
                w[j] = new
        if largest_step <= tol * max(np.abs(w).max(), 1e-300):
            break
    return w


class Ridge(_LeastSquaresBase):
    r"""Least squares with an L2 penalty.

    Parameters
    ----------
    alpha : float >= 0 or array of shape (n_targets,), default 1.0
        Penalty strength; an array gives each target its own.
    fit_intercept : bool, default True
    solver : {'auto', 'svd', 'cholesky', 'sparse_cg', 'lsqr', 'lbfgs'}, default 'auto'
        'cholesky' solves the normal equations (primal or dual, whichever system is smaller);
        'svd' filters the singular values (also for ``alpha = 0``); 'sparse_cg' is conjugate
        gradient on the normal equations and 'lsqr' is Paige & Saunders' LSQR with damping
        :math:`\sqrt\alpha`, both with matrix-vector products only. 'lbfgs' names
        scikit-learn's solver for ``positive=True`` and is accepted only with it. 'auto' is
        the positive solver when ``positive=True``, else 'cholesky' when ``alpha > 0``, else
        'svd'.
    max_iter : int, default None
        Iteration limit of 'sparse_cg' (default ``10 * n_features``), 'lsqr' (default
        ``2 * n_features``) and of the positive solver (default 1000).
    tol : float, default 1e-4
        Stopping tolerance of the iterative solvers: relative residual of the normal equations
        for 'sparse_cg', largest coefficient change relative to the largest coefficient for
        ``positive``.
    positive : bool, default False
        Constrain the coefficients to be >= 0. Solved by projected coordinate descent, which
        reaches the same unique minimizer as scikit-learn's L-BFGS-B (``alpha > 0``).
    random_state : None, int or numpy.random.Generator, default None
        Accepted for scikit-learn's signature, where only its stochastic 'sag' and 'saga'
        solvers read it; every solver here is deterministic, so it has no effect.

    Attributes
    ----------
    coef_ : array of shape (n_features,) or (n_targets, n_features)
    intercept_ : float or array of shape (n_targets,)
    n_iter_ : None or array of shape (n_targets,)
        Iterations of 'lsqr'; None for the other solvers (as scikit-learn, which also reports
        them for its 'sag' and 'saga').
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
    Technometrics 12(1). Hestenes & Stiefel (1952), "Methods of conjugate gradients for solving
    linear systems", J. Res. NBS 49(6).
    """

    def __init__(
        self,
        alpha: Any = 1.0,
        *,
        fit_intercept: bool = True,
        max_iter: int | None = None,
        tol: float = 1e-4,
        solver: str = "auto",
        positive: bool = False,
        random_state: Any = None,
    ):
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.solver = solver
        self.positive = positive
        self.random_state = random_state

    def _alphas(self, n_targets: int) -> np.ndarray:
        """One penalty per target, from a scalar or an array of ``n_targets``."""
        if np.ndim(self.alpha) == 0:
            check_scalar(self.alpha, "alpha", low=0)
            return np.full(n_targets, float(self.alpha))
        alphas = np.asarray(self.alpha, dtype=np.float64).ravel()
        if alphas.shape != (n_targets,):
            raise ValueError(
                f"alpha must be a float or an array of one value per target: got {alphas.size} "
                f"values for {n_targets} target(s)"
            )
        if not np.isfinite(alphas).all() or (alphas < 0).any():
            raise ValueError(f"alpha must hold finite values >= 0, got {alphas.tolist()}")
        return alphas

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> Ridge:
        """Fit on ``X`` (n_samples, n_features) and ``y`` (n_samples,) or (n_samples, n_targets)."""
        solver = check_option(
            self.solver, "solver", ("auto", "svd", "cholesky", "sparse_cg", "lsqr", "lbfgs")
        )
        check_scalar(self.tol, "tol", low=0)
        if self.max_iter is not None:
            check_scalar(self.max_iter, "max_iter", kind=numbers.Integral, low=1)
        if self.positive and solver not in ("auto", "lbfgs"):
            raise ValueError(
                f"positive=True needs solver 'auto' or 'lbfgs' (as in scikit-learn), got "
                f"solver={solver!r}"
            )
        if solver == "lbfgs" and not self.positive:
            raise ValueError("solver='lbfgs' is the positive=True solver; set positive=True")
        X, y = _check_X_y_multi(self, X, y)
        alphas = self._alphas(1 if y.ndim == 1 else y.shape[1])
        sw = sample_weight_or_none(sample_weight, X.shape[0])
        Xc, yc, X_offset, y_offset = preprocess_data(
            X, y, fit_intercept=self.fit_intercept, sample_weight=sw
        )
        Y = yc[:, None] if yc.ndim == 1 else yc
        self.n_iter_ = None  # as scikit-learn, which reports iterations only for sag and lsqr
        if not self.positive and solver in ("auto", "svd", "cholesky") and np.ptp(alphas) == 0:
            coef = _ridge_solve(Xc, Y, alphas[0], "cholesky" if solver == "auto" else solver)
        elif solver == "lsqr" and not self.positive:
            fits = [
                _ridge_lsqr(Xc, Y[:, k], alphas[k], self.tol, self.max_iter or 2 * X.shape[1])
                for k in range(Y.shape[1])
            ]
            coef = np.column_stack([w for w, _ in fits])
            self.n_iter_ = np.array([n for _, n in fits], dtype=np.int32)
        else:  # one target at a time: its own alpha, or an iterative solver
            coef = np.column_stack(
                [self._solve_one(Xc, Y[:, k], alphas[k], solver) for k in range(Y.shape[1])]
            )
        return self._set_coef(coef[:, 0] if yc.ndim == 1 else coef, X_offset, y_offset)

    def _solve_one(self, X: np.ndarray, y: np.ndarray, alpha: float, solver: str) -> np.ndarray:
        if self.positive:
            return _ridge_cd_positive(X, y, alpha, self.tol, self.max_iter or 1000)
        if solver == "sparse_cg":
            return _ridge_cg(X, y, alpha, self.tol, self.max_iter or 10 * X.shape[1])
        return _ridge_solve(X, y, alpha, "cholesky" if solver == "auto" else solver)
