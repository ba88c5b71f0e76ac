"""``minimize``: one entry point to the smooth unconstrained minimizers, plus gradient descent and
Newton's method written out. BFGS and L-BFGS live in ``_quasi_newton``, nonlinear conjugate
gradient in ``_cg``."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.linalg import cho_factor, cho_solve

from .._validation import check_option
from ._cg import minimize_cg
from ._objective import OptimizeResult, _Run
from ._quasi_newton import minimize_bfgs, minimize_lbfgs

__all__ = ["minimize", "minimize_gd", "minimize_newton"]


def minimize_gd(
    fun: Callable[[np.ndarray], Any],
    x0: Any,
    jac: Callable[[np.ndarray], Any] | bool | None = None,
    *,
    tol: float = 1e-5,
    max_iter: int | None = None,
    callback: Callable[[np.ndarray], Any] | None = None,
    return_path: bool = False,
    line_search: str = "wolfe",
    c1: float = 1e-4,
    c2: float = 0.9,
) -> OptimizeResult:
    r"""Steepest descent with a line search.

    Parameters
    ----------
    fun : callable
        Objective ``fun(x) -> float`` (or ``-> (float, gradient)`` with ``jac=True``).
    x0 : array-like of shape (n,)
        Starting point.
    jac : callable, True or None, default=None
        Gradient; ``None`` uses central differences (:func:`approx_gradient`).
    tol : float, default=1e-5
        Stop when :math:`\max_i |\nabla f(x)_i| \le` ``tol``.
    max_iter : int >= 0, optional
        Iteration limit (default ``max(1000, 200 n)``); 0 evaluates ``x0`` and returns it.
    callback : callable, optional
        Called as ``callback(x)`` after each iteration; raising ``StopIteration`` stops. As in
        SciPy, a callback whose only parameter is named ``intermediate_result`` is called as
        ``callback(intermediate_result=res)``, ``res`` an :class:`OptimizeResult` of the
        current iterate (``x``, ``fun``, ``jac``, ``nit``, evaluation counts; ``status`` -1).
    return_path : bool, default=False
        Keep every iterate in ``result.path``.
    line_search : {'wolfe', 'armijo'}, default='wolfe'
        Strong Wolfe search or backtracking on sufficient decrease alone.
    c1, c2 : float
        Line-search constants.

    Returns
    -------
    OptimizeResult

    Notes
    -----
    :math:`x_{k+1} = x_k - \alpha_k \nabla f(x_k)`, with :math:`\alpha_k` from the line search and
    its first trial :math:`\min(1, 2.02 (f_k - f_{k-1}) / \nabla f_k^\top p_k)` (N&W eq. 3.60). On
    a quadratic the error contracts by :math:`(\kappa - 1)/(\kappa + 1)` per exact step, so slow
    progress on ill-conditioned problems (Rosenbrock's valley) is expected.

    References
    ----------
    .. [1] J. Nocedal and S. J. Wright, *Numerical Optimization*, 2nd ed., Springer, 2006,
       Sections 3.1 and 3.3.
    """
    check_option(line_search, "line_search", ("wolfe", "armijo"))
    run = _Run.start(locals())
    while run.going():
        p = -run.g
        ls = run.search(p, run.initial_step(p), armijo=line_search == "armijo")
        if ls is not None:
            run.accept(run.x + ls.alpha * p, ls.fun, ls.jac)
    return run.result()


def _damped_cholesky(A: np.ndarray, beta: float = 1e-3) -> tuple[Any, float]:
    """Cholesky factor of ``A + tau I`` with the smallest tried ``tau >= 0`` that makes it positive
    definite (N&W Algorithm 3.3); returns the factor and ``tau``."""
    min_diag = float(np.min(np.diag(A)))
    tau = 0.0 if min_diag > 0 else beta - min_diag
    eye = np.eye(A.shape[0])
    while True:
        try:
            return cho_factor(A + tau * eye, lower=True, check_finite=False), tau
        except np.linalg.LinAlgError:
            tau = max(2.0 * tau, beta)


def minimize_newton(
    fun: Callable[[np.ndarray], Any],
    x0: Any,
    jac: Callable[[np.ndarray], Any] | bool | None = None,
    hess: Callable[[np.ndarray], Any] | None = None,
    *,
    tol: float = 1e-5,
    max_iter: int | None = None,
    callback: Callable[[np.ndarray], Any] | None = None,
    return_path: bool = False,
    c1: float = 1e-4,
    c2: float = 0.9,
) -> OptimizeResult:
    r"""Newton's method with a line search and a Hessian modification.

    Parameters
    ----------
    fun, x0, jac, tol, max_iter, callback, return_path, c1, c2
        As in :func:`minimize_gd`.
    hess : callable
        ``hess(x) -> ndarray of shape (n, n)``, the Hessian of ``fun`` (required).

    Returns
    -------
    OptimizeResult

    Notes
    -----
    The step solves :math:`(\nabla^2 f(x_k) + \tau_k I)\, p_k = -\nabla f(x_k)` with
    :math:`\tau_k = 0` when the Hessian is positive definite; otherwise :math:`\tau_k` grows
    until a Cholesky factorization succeeds, which turns :math:`p_k` into a descent direction.
    The line search tries the full step :math:`\alpha = 1` first, so near a minimizer with a
    positive definite Hessian convergence is quadratic, and on a convex quadratic the first
    step lands on the minimizer.

    References
    ----------
    .. [1] J. Nocedal and S. J. Wright, *Numerical Optimization*, 2nd ed., Springer, 2006,
       Section 3.4 (Algorithm 3.2 and 3.3).
    """
    if hess is None:
        raise ValueError("method 'newton' needs hess, a callable returning the (n, n) Hessian")
    run = _Run.start(locals())
    n = run.x.size
    while run.going():
        H = run.obj.hess(run.x)
        if H.shape != (n, n):
            raise ValueError(f"hess(x) must have shape ({n}, {n}), got {H.shape}")
        if not np.all(np.isfinite(H)):
            raise ValueError(f"hess(x) returned NaN or infinity at iteration {run.nit}")
        factor, _ = _damped_cholesky(0.5 * (H + H.T))
        p = -cho_solve(factor, run.g, check_finite=False)
        ls = run.search(p, 1.0)
        if ls is not None:
            run.accept(run.x + ls.alpha * p, ls.fun, ls.jac)
    return run.result()


_METHODS: dict[str, Callable[..., OptimizeResult]] = {
    "gd": minimize_gd,
    "newton": minimize_newton,
    "bfgs": minimize_bfgs,
    "lbfgs": minimize_lbfgs,
    "cg": minimize_cg,
}


def minimize(
    fun: Callable[[np.ndarray], Any],
    x0: Any,
    jac: Callable[[np.ndarray], Any] | bool | None = None,
    hess: Callable[[np.ndarray], Any] | None = None,
    method: str = "lbfgs",
    tol: float = 1e-5,
    max_iter: int | None = None,
    callback: Callable[[np.ndarray], Any] | None = None,
    return_path: bool = False,
    **options: Any,
) -> OptimizeResult:
    r"""Minimize a smooth function of several variables.

    Parameters
    ----------
    fun : callable
        Objective ``fun(x) -> float``, or ``fun(x) -> (float, ndarray)`` when ``jac=True``.
    x0 : array-like of shape (n,) or scalar
        Starting point (1-D, finite); a scalar is the point of shape (1,), as in SciPy.
    jac : callable, True or None, default=None
        Gradient ``jac(x) -> ndarray of shape (n,)``; ``True`` if ``fun`` returns it; ``None``
        estimates it by central differences (``2n`` extra calls per gradient).
    hess : callable, optional
        Hessian ``hess(x) -> ndarray of shape (n, n)``; required by ``'newton'``.
    method : {'lbfgs', 'bfgs', 'newton', 'cg', 'gd'}, default='lbfgs'
        Limited-memory BFGS, BFGS, Newton, nonlinear conjugate gradient (Polak-Ribière+) or
        gradient descent.
    tol : float, default=1e-5
        Stop when :math:`\max_i |\nabla f(x)_i| \le` ``tol``.
    max_iter : int >= 0, optional
        Iteration limit (default ``max(1000, 200 n)``); 0 evaluates ``x0`` and returns it.
    callback : callable, optional
        ``callback(x)`` after every iteration; raising ``StopIteration`` ends the run. A
        callback whose only parameter is named ``intermediate_result`` gets the current
        :class:`OptimizeResult` instead, as in SciPy (see :func:`minimize_gd`).
    return_path : bool, default=False
        Keep the iterates in ``result.path`` (shape ``(nit + 1, n)``).
    **options
        Method-specific keywords: ``c1``, ``c2`` (line search), ``m`` (L-BFGS memory),
        ``line_search`` (``'gd'``, ``'bfgs'``, ``'lbfgs'``, ``'cg'``), ``restart`` (``'cg'``).

    Returns
    -------
    OptimizeResult
        ``x``, ``fun``, ``jac``, ``nit``, ``nfev``, ``njev``, ``nhev``, ``success``, ``status``,
        ``message`` (and ``hess_inv``, ``path`` when available).

    Notes
    -----
    Every method iterates :math:`x_{k+1} = x_k + \alpha_k p_k` with a descent direction
    :math:`p_k` and a step :math:`\alpha_k` meeting the strong Wolfe conditions; they differ in
    :math:`p_k`: :math:`-\nabla f_k` (gd), :math:`-(\nabla^2 f_k)^{-1}\nabla f_k` (newton),
    :math:`-H_k \nabla f_k` with a secant approximation :math:`H_k` of the inverse Hessian
    (bfgs, lbfgs) or :math:`-\nabla f_k + \beta_k p_{k-1}` (cg).

    References
    ----------
    .. [1] J. Nocedal and S. J. Wright, *Numerical Optimization*, 2nd ed., Springer, 2006.
    """
    check_option(method, "method", tuple(_METHODS))
    params = inspect.signature(_METHODS[method]).parameters.values()
    allowed = sorted(p.name for p in params if p.kind is p.KEYWORD_ONLY)
    allowed = [a for a in allowed if a not in ("tol", "max_iter", "callback", "return_path")]
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise TypeError(f"unknown option(s) {unknown} for method={method!r}; allowed: {allowed}")
    kwargs = dict(tol=tol, max_iter=max_iter, callback=callback, return_path=return_path)
    if method == "newton":
        return minimize_newton(fun, x0, jac, hess, **kwargs, **options)
    if hess is not None:
        raise ValueError(f"hess is only used by method='newton', got method={method!r}")
    return _METHODS[method](fun, x0, jac, **kwargs, **options)
