"""Ordinary least squares (QR, with an SVD fallback) and ridge regression (closed form)."""

from __future__ import annotations

import numbers
import warnings
from typing import Any, ClassVar

import numpy as np
import scipy.linalg
import scipy.optimize
from sklearn.base import BaseEstimator, RegressorMixin

from mlcanon._estimator import (
    ConvergenceWarning,
    check_X_y,
    float_dtype,
    sample_weight_or_none,
    store_params,
)
from mlcanon._validation import (
    BOOL,
    RANDOM_STATE,
    ArrayLike,
    Interval,
    Options,
    check_random_state,
    validate_params,
)

from ._base import linear_predict, preprocess_data
from ._saga import SQUARED, saga, step_size

__all__ = ["LinearRegression", "Ridge"]


def _lstsq(X: np.ndarray, y: np.ndarray, cond: float) -> tuple[np.ndarray, int, np.ndarray]:
    """Solve ``min ||Xw - y||`` by Householder QR, ``X = QR``, then the SVD of the small ``R``.

    QR never forms ``X^T X`` (which would square the condition number); the SVD of ``R``
    (``d x d``) gives the singular values of ``X``, and those below ``cond`` times the largest
    are dropped (scipy's ``lstsq(cond=...)``, which scikit-learn calls with ``tol``): the
    minimum-norm solution of the rank-truncated problem.

    Returns ``(coef, rank, s)``: ``rank`` counts the singular values ``s`` kept, as
    :func:`scipy.linalg.lstsq` reports it.
    """
    if X.shape[0] >= X.shape[1]:
        Q, R = np.linalg.qr(X)
        U, s, Vt = np.linalg.svd(R)
        U = Q @ U
    else:
        U, s, Vt = np.linalg.svd(X, full_matrices=False)
    # LAPACK's gelsd (scipy's lstsq) takes a cond outside (0, 1) as machine epsilon: tol >= 1
    # keeps every nonzero singular value rather than none
    rcond = cond if 0 < cond < 1 else np.finfo(np.float64).eps
    keep = s > max(rcond, np.finfo(np.float64).eps) * s[0]
    Uty = U[:, keep].T @ y
    rank = int(np.count_nonzero(keep))
    return Vt[keep].T @ (Uty / (s[keep] if y.ndim == 1 else s[keep, None])), rank, s


def _centered_operator(X: Any, X_offset: np.ndarray, root: np.ndarray | None) -> Any:
    """``diag(root) (X - 1 X_offset^T)`` as a LinearOperator: centering a sparse ``X``
    without densifying it (``root`` the square-root sample weights, or None)."""
    from scipy.sparse.linalg import LinearOperator

    r = np.ones(X.shape[0]) if root is None else root

    def matvec(v):
        return r * (X @ v - X_offset @ v)

    def rmatvec(u):
        return X.T @ (r * u) - X_offset * (r @ u)

    return LinearOperator(X.shape, matvec=matvec, rmatvec=rmatvec, dtype=np.float64)


class _LeastSquaresBase(RegressorMixin, BaseEstimator):
    """What least squares and ridge share: the intercept from the centering offsets, predict,
    and several targets at once."""

    def _set_coef(
        self,
        coef: np.ndarray,
        X_offset: np.ndarray,
        y_offset: Any,
        dtype: Any = np.float64,
        *,
        ravel_column: bool = True,
    ) -> Any:
        # coef is (n_features,) or (n_features, n_targets); the intercept undoes the centering.
        # The solvers run in float64; float32 input gets float32 attributes (as scikit-learn).
        self.coef_ = coef.T.astype(dtype)
        self.intercept_ = np.asarray(y_offset - X_offset @ coef).astype(dtype)
        if ravel_column and self.coef_.ndim == 2 and self.coef_.shape[0] == 1:
            self.coef_ = self.coef_[0]  # y as one column: 1-D coef_ (scikit-learn's Ridge)
        if coef.ndim == 1:
            self.intercept_ = self.intercept_[()]  # a NumPy scalar: a float with a shape
        if not self.fit_intercept:
            self.intercept_ = 0.0  # whatever the shape of y, as scikit-learn
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
    copy_X : bool, default True
        False lets the fit center (and weight) a float64 ``X`` in place instead of in a copy.
    tol : float, default 1e-6
        Dense ``X``: singular values below ``tol`` times the largest are treated as zero (the
        ``cond`` of :func:`scipy.linalg.lstsq`; as LAPACK, ``tol >= 1`` means machine
        epsilon). Sparse ``X``: the ``atol``/``btol`` of LSQR.
    positive : bool, default False
        Constrain the coefficients to be >= 0 (non-negative least squares, Lawson-Hanson, via
        :func:`scipy.optimize.nnls`); dense ``X`` only.
    n_jobs : int or None, default None
        Threads that solve the targets of a sparse ``X`` or of ``positive=True`` (one problem
        per target) in parallel (joblib's convention: None is 1, -1 all cores); the dense
        unconstrained fit solves every target in one factorization.

    Attributes
    ----------
    coef_ : array of shape (n_features,) or (n_targets, n_features)
    intercept_ : float or array of shape (n_targets,)
    rank_ : int
        Rank of the centered (and weighted) ``X``: its singular values above ``tol`` times the
        largest. Dense ``X`` and ``positive=False`` only, as scikit-learn.
    singular_ : array of shape (min(n_samples, n_features),)
        Singular values of the centered (and weighted) ``X``; set with ``rank_``.
    n_features_in_ : int

    Notes
    -----
    .. math:: \hat w = \arg\min_w \lVert y - Xw \rVert_2^2 = R^{-1} Q^T y, \quad X = QR

    on centered data (the intercept is ``ȳ - x̄^T w``). Sample weights multiply the rows by
    ``sqrt(w_i)``. A scipy.sparse ``X`` stays sparse: it is centered implicitly, as a linear
    operator, and solved by LSQR.

    References
    ----------
    Golub & Van Loan (2013), *Matrix Computations*, 4th ed., Section 5.3 (the least-squares
    problem via QR). Lawson & Hanson (1974), *Solving Least Squares Problems*, Chapter 23
    (NNLS). Paige & Saunders (1982), ACM TOMS 8(1) (LSQR).
    """

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        "fit_intercept": BOOL,
        "copy_X": BOOL,
        "tol": Interval(low=0),
        "positive": BOOL,
        "n_jobs": (None, Interval(numbers.Integral)),
    }

    def __init__(
        self,
        *,
        fit_intercept: bool = True,
        copy_X: bool = True,
        tol: float = 1e-6,
        n_jobs: int | None = None,
        positive: bool = False,
    ) -> None:
        store_params(self, locals())

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> LinearRegression:
        """Fit on ``X`` (n_samples, n_features) and ``y`` (n_samples,) or (n_samples, n_targets)."""
        validate_params(self)
        sparse = False if self.positive else "csr"
        dtype = float_dtype(X)  # the solvers run in float64; float32 in gives float32 out
        X, y = check_X_y(self, X, y, classifier=False, accept_sparse=sparse, multi_output=True)
        sw = sample_weight_or_none(sample_weight, X.shape[0])
        if hasattr(X, "tocsr"):
            return self._fit_sparse(X, y, sw, dtype)
        Xc, yc, X_offset, y_offset = preprocess_data(
            X, y, fit_intercept=self.fit_intercept, sample_weight=sw, copy=self.copy_X
        )
        if self.positive:
            Y = yc[:, None] if yc.ndim == 1 else yc
            coef = self._per_target(lambda k: scipy.optimize.nnls(Xc, Y[:, k])[0], Y.shape[1])
            coef = coef[:, 0] if yc.ndim == 1 else coef
        else:
            coef, self.rank_, singular = _lstsq(Xc, yc, self.tol)
            self.singular_ = singular.astype(dtype)  # of the centered (and weighted) X
        # y as one column keeps coef_ (1, n_features), as scikit-learn's LinearRegression
        return self._set_coef(coef, X_offset, y_offset, dtype, ravel_column=False)

    def _per_target(self, solve: Any, n_targets: int) -> np.ndarray:
        """``solve(k)`` for every target ``k`` on ``n_jobs`` threads, as columns."""
        from joblib import Parallel, delayed

        jobs = (delayed(solve)(k) for k in range(n_targets))
        return np.column_stack(Parallel(n_jobs=self.n_jobs, prefer="threads")(jobs))

    def _fit_sparse(
        self, X: Any, y: np.ndarray, sw: np.ndarray | None, dtype: Any
    ) -> LinearRegression:
        """LSQR on the implicitly centered sparse ``X`` (scikit-learn's sparse path)."""
        if self.fit_intercept:
            X_offset = np.asarray(X.T @ (np.ones(X.shape[0]) if sw is None else sw)).ravel()
            X_offset /= X.shape[0] if sw is None else sw.sum()
            y_offset = np.average(y, axis=0, weights=sw)
        else:
            X_offset, y_offset = np.zeros(X.shape[1]), np.zeros(y.shape[1:]) if y.ndim > 1 else 0.0
        root = None if sw is None else np.sqrt(sw)
        A = _centered_operator(X, X_offset, root)
        Y = (y - y_offset).reshape(len(y), -1) * (1.0 if root is None else root[:, None])
        coef = self._per_target(
            lambda k: _ridge_lsqr(A, Y[:, k], 0.0, self.tol, 2 * X.shape[1])[0], Y.shape[1]
        )
        coef = coef[:, 0] if y.ndim == 1 else coef
        return self._set_coef(coef, X_offset, y_offset, dtype, ravel_column=False)


def _ridge_solve(X: np.ndarray, y: np.ndarray, alpha: float, solver: str) -> tuple[Any, str]:
    """Solve ``(X^T X + alpha I) w = X^T y``; returns ``w`` shaped like ``X^T y`` and the solver
    that ran ('svd' when the Cholesky system is singular).

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
                return scipy.linalg.solve(A, X.T @ y, assume_a="pos", overwrite_a=True), solver
            K = X @ X.T
            K.flat[:: n_samples + 1] += alpha
            return X.T @ scipy.linalg.solve(K, y, assume_a="pos", overwrite_a=True), solver
        except (np.linalg.LinAlgError, scipy.linalg.LinAlgWarning):
            pass  # numerically singular system: the SVD below is the robust fallback
    U, s, Vt = np.linalg.svd(X, full_matrices=False)
    nonzero = s > 1e-15
    d = np.zeros_like(s)
    d[nonzero] = s[nonzero] / (s[nonzero] ** 2 + alpha)
    Uty = U.T @ y
    return Vt.T @ (d * Uty if y.ndim == 1 else d[:, None] * Uty), "svd"


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
            return w
    warnings.warn(
        f"Ridge(positive=True): the lbfgs solver did not converge in max_iter={max_iter} "
        f"iterations to tol={tol} (solved here by projected coordinate descent); increase "
        "max_iter",
        ConvergenceWarning,
        stacklevel=4,
    )
    return w


def _ridge_sag(X, y, sw, alpha, tol, max_iter, unbiased, seed) -> tuple[np.ndarray, int]:
    r"""SAG or SAGA (:mod:`mlcanon.linear_model._saga`) on centered data, weights kept apart.

    :math:`\sum_i s_i (y_i - x_i^T w)^2 + \alpha \lVert w \rVert^2` divided by
    :math:`2 \sum_i s_i` is the kernel's mean-of-samples form with :math:`\lambda_2 =
    \alpha / \sum_i s_i`. Returns ``(w, epochs)`` and warns when ``max_iter`` epochs end
    before ``tol`` is met.
    """
    weight = sw / sw.sum()
    l2 = alpha / sw.sum()
    step = step_size(X, weight, l2, False, SQUARED, unbiased)
    W, b = np.zeros((1, X.shape[1])), np.zeros(1)
    Y = np.ascontiguousarray(y, dtype=np.float64)[:, None]
    no_l1, no_intercept = 0.0, False
    n_iter, ok = saga(
        np.ascontiguousarray(X),
        Y,
        weight,
        no_l1,
        l2,
        no_intercept,
        W,
        b,
        max_iter,
        tol,
        unbiased,
        seed,
        SQUARED,
        step,
    )
    if not ok:
        warnings.warn(
            f"{'saga' if unbiased else 'sag'} reached max_iter={max_iter} epochs before "
            f"tol={tol}: the coefficients did not converge",
            ConvergenceWarning,
            stacklevel=4,
        )
    return W[0], n_iter


class Ridge(_LeastSquaresBase):
    r"""Least squares with an L2 penalty.

    Parameters
    ----------
    alpha : float >= 0 or array of shape (n_targets,), default 1.0
        Penalty strength; an array gives each target its own.
    fit_intercept : bool, default True
    copy_X : bool, default True
        False lets the fit center (and weight) a float64 ``X`` in place instead of in a copy.
    solver : {'auto', 'svd', 'cholesky', 'sparse_cg', 'lsqr', 'sag', 'saga', 'lbfgs'}
        'cholesky' solves the normal equations (primal or dual, whichever system is smaller);
        'svd' filters the singular values (also for ``alpha = 0``); 'sparse_cg' is conjugate
        gradient on the normal equations and 'lsqr' is Paige & Saunders' LSQR with damping
        :math:`\sqrt\alpha`, both with matrix-vector products only; 'sag' and 'saga' are the
        incremental gradient methods of :mod:`mlcanon.linear_model._saga` on the squared loss,
        ``max_iter`` counting epochs (default 1000). 'lbfgs' names
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
        Order in which 'sag' and 'saga' draw the samples (the other solvers are
        deterministic).

    Attributes
    ----------
    coef_ : array of shape (n_features,) or (n_targets, n_features)
    intercept_ : float or array of shape (n_targets,)
    n_iter_ : None or array of shape (n_targets,)
        Iterations of 'lsqr', epochs of 'sag' and 'saga'; None for the other solvers (as
        scikit-learn).
    solver_ : str
        The solver that ran: 'auto' resolved ('lbfgs' for ``positive=True``, else
        'cholesky'), and 'cholesky' reported as 'svd' when its system was singular.
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
        copy_X: bool = True,
        max_iter: int | None = None,
        tol: float = 1e-4,
        solver: str = "auto",
        positive: bool = False,
        random_state: Any = None,
    ):
        store_params(self, locals())

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        "fit_intercept": BOOL,
        "copy_X": BOOL,
        "max_iter": (None, Interval(numbers.Integral, low=1)),
        "tol": Interval(low=0),
        "alpha": (Interval(low=0), ArrayLike(low=0)),
        "solver": Options("auto", "svd", "cholesky", "sparse_cg", "lsqr", "sag", "saga", "lbfgs"),
        "positive": BOOL,
        "random_state": RANDOM_STATE,
    }

    def _alphas(self, n_targets: int) -> np.ndarray:
        """One penalty per target, from a scalar or an array of ``n_targets``."""
        if np.ndim(self.alpha) == 0:
            return np.full(n_targets, float(self.alpha))
        alphas = np.asarray(self.alpha, dtype=np.float64).ravel()
        if alphas.shape != (n_targets,):
            raise ValueError(
                "Number of targets and number of penalties do not correspond: "
                f"{alphas.size} != {n_targets} (alpha must be a float or one value per target)"
            )
        return alphas

    def _resolve_solver(self) -> str:
        validate_params(self)
        solver = self.solver
        if self.positive and solver not in ("auto", "lbfgs"):
            raise ValueError(
                f"solver={solver!r} does not support positive fitting: set the solver to "
                "'auto' or 'lbfgs', or set positive=False"
            )
        if solver == "lbfgs" and not self.positive:
            raise ValueError(
                "solver='lbfgs' can be used only when positive=True; use another solver"
            )
        if solver == "auto":
            return "lbfgs" if self.positive else "cholesky"
        return solver

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> Ridge:
        """Fit on ``X`` (n_samples, n_features) and ``y`` (n_samples,) or (n_samples, n_targets)."""
        solver = self._resolve_solver()
        dtype = float_dtype(X)
        X, y = check_X_y(self, X, y, classifier=False, accept_sparse=True, multi_output=True)
        alphas = self._alphas(1 if y.ndim == 1 else y.shape[1])
        sw = sample_weight_or_none(sample_weight, X.shape[0])
        stochastic = solver in ("sag", "saga")
        Xc, yc, X_offset, y_offset = preprocess_data(
            X,
            y,
            fit_intercept=self.fit_intercept,
            sample_weight=sw,
            rescale=not stochastic,
            copy=self.copy_X,
        )
        Y = yc[:, None] if yc.ndim == 1 else yc
        self.n_iter_ = None  # as scikit-learn, which reports iterations only for sag and lsqr
        if solver in ("svd", "cholesky") and np.ptp(alphas) == 0:
            coef, solver = _ridge_solve(Xc, Y, alphas[0], solver)
        elif solver == "lsqr":
            fits = [
                _ridge_lsqr(Xc, Y[:, k], alphas[k], self.tol, self.max_iter or 2 * X.shape[1])
                for k in range(Y.shape[1])
            ]
            coef = np.column_stack([w for w, _ in fits])
            self.n_iter_ = np.array([n for _, n in fits], dtype=np.int32)
        elif stochastic:
            seed = int(check_random_state(self.random_state).integers(np.iinfo(np.int32).max))
            weights = np.ones(X.shape[0]) if sw is None else sw
            settings = (self.tol, self.max_iter or 1000, solver == "saga", seed)
            fits = [_ridge_sag(Xc, Y[:, k], weights, a, *settings) for k, a in enumerate(alphas)]
            coef = np.column_stack([w for w, _ in fits])
            self.n_iter_ = np.array([n for _, n in fits], dtype=np.int32)
        else:  # one target at a time: its own alpha, or an iterative solver
            coef = np.column_stack(
                [self._solve_one(Xc, Y[:, k], alphas[k], solver) for k in range(Y.shape[1])]
            )
        self.solver_ = solver
        return self._set_coef(coef[:, 0] if yc.ndim == 1 else coef, X_offset, y_offset, dtype)

    def _solve_one(self, X: np.ndarray, y: np.ndarray, alpha: float, solver: str) -> np.ndarray:
        if self.positive:
            return _ridge_cd_positive(X, y, alpha, self.tol, self.max_iter or 1000)
        if solver == "sparse_cg":
            return _ridge_cg(X, y, alpha, self.tol, self.max_iter or 10 * X.shape[1])
        return _ridge_solve(X, y, alpha, solver)[0]
