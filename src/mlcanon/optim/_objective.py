"""Shared machinery of the minimizers: the result record, input checks, evaluation counting and
the iteration bookkeeping (convergence test, path, callback) that every method repeats."""

from __future__ import annotations

import functools
import inspect
import numbers
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._validation import check_array, check_scalar
from ._line_search import (
    LineSearchResult,
    _armijo_search,
    _check_constants,
    _wolfe_search,
)
from ._numdiff import approx_gradient

__all__ = ["OptimizeResult"]


@dataclass
class OptimizeResult:
    """What a minimizer returns (field names follow ``scipy.optimize.OptimizeResult``).

    Attributes
    ----------
    x : ndarray of shape (n,)
        The final iterate.
    fun : float
        Objective value at ``x``.
    jac : ndarray of shape (n,)
        Gradient at ``x``.
    nit : int
        Iterations (accepted steps).
    nfev, njev, nhev : int
        Evaluations of the objective, its gradient and its Hessian (finite-difference gradients
        count their function calls in ``nfev``).
    success : bool
        True when the gradient test ``max |g_i| <= tol`` was met.
    status : int
        0 converged, 1 ``max_iter`` reached, 2 line search failed, 3 the gradient at ``x`` is
        NaN or infinite (``fun`` is finite there), 99 stopped by the callback.
    message : str
        Why the method stopped.
    hess_inv : ndarray of shape (n, n) or None
        Final inverse-Hessian approximation (BFGS only).
    path : ndarray of shape (nit + 1, n) or None
        Every iterate from ``x0`` on, when ``return_path=True``.
    """

    x: np.ndarray
    fun: float
    jac: np.ndarray
    nit: int
    nfev: int
    njev: int
    nhev: int
    success: bool
    status: int
    message: str
    hess_inv: np.ndarray | None = None
    path: np.ndarray | None = None


def _scalar(f: Any) -> float:
    """The objective's value as a float; an array of several values is refused (as SciPy does)."""
    a = np.asarray(f)
    if a.size != 1:
        raise ValueError(
            f"fun(x) must return a scalar, got an array of shape {a.shape}; reduce it to one "
            "number (e.g. lambda x: np.sum(x**2))"
        )
    try:
        return float(a.reshape(()))
    except (TypeError, ValueError) as exc:
        raise TypeError(f"fun(x) must return a real number, got {f!r}") from exc


class _Objective:
    """``fun``/``jac``/``hess`` behind one ``(f, g)`` call that counts evaluations."""

    def __init__(self, fun: Callable, jac: Any, hess: Any, n: int):
        if not callable(fun):
            raise TypeError(f"fun must be callable, got {type(fun).__name__}")
        if not (jac is None or jac is True or callable(jac)):
            raise TypeError(f"jac must be None, True or a callable, got {jac!r}")
        if hess is not None and not callable(hess):
            raise TypeError(f"hess must be None or a callable, got {type(hess).__name__}")
        self.fun, self.jac, self._hess, self.n = fun, jac, hess, n
        self.nfev = self.njev = self.nhev = 0

    # fun, jac and hess each get their own copy of x, and the gradient is copied out, as
    # scipy.optimize does: an objective that edits its argument in place (clipping, say) would
    # otherwise move the iterate, and a jac that returns one reused buffer would overwrite the
    # previous gradient, so that y = g_new - g_old = 0 and BFGS never updated its matrix

    def _f(self, x: np.ndarray) -> float:
        self.nfev += 1
        return _scalar(self.fun(x.copy()))

    def __call__(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        if self.jac is True:
            self.nfev += 1
            self.njev += 1
            f, g = self.fun(x.copy())
            return _scalar(f), np.array(g, dtype=float)
        f = self._f(x)
        if self.jac is None:
            if not (np.isfinite(f) and np.all(np.isfinite(x))):
                # a trial point off the objective's domain (NaN) or past its range (a line
                # search stepping to infinity): no gradient to take there, and the line search
                # treats a non-finite value as a failed trial, as it does with an analytic jac
                return f, np.full(self.n, np.nan)
            return f, approx_gradient(self._f, x)
        self.njev += 1
        return f, np.array(self.jac(x.copy()), dtype=float)

    def hess(self, x: np.ndarray) -> np.ndarray:
        self.nhev += 1
        return np.array(self._hess(x.copy()), dtype=float)

    def first(self, x0: np.ndarray) -> tuple[float, np.ndarray]:
        """Evaluate at ``x0`` and check what ``fun``/``jac`` return, with clear errors."""
        out = self(x0) if self.jac is not True else self._first_pair(x0)
        f, g = out
        if not np.isfinite(f):
            raise ValueError(f"fun(x0) must be finite, got {f!r}")
        if g.shape != (self.n,):
            raise ValueError(f"the gradient must have shape ({self.n},), got {g.shape}")
        if not np.all(np.isfinite(g)):
            raise ValueError("the gradient at x0 contains NaN or infinity")
        return f, g

    def _first_pair(self, x0: np.ndarray) -> tuple[float, np.ndarray]:
        out = self.fun(x0.copy())
        if not (isinstance(out, tuple | list) and len(out) == 2):
            raise ValueError("with jac=True, fun must return a pair (f, gradient)")
        self.nfev += 1
        self.njev += 1
        return _scalar(out[0]), np.array(out[1], dtype=float)


def _check_inputs(fun, x0, jac, hess, tol, max_iter):
    if np.ndim(x0) == 0:  # a scalar start is a point of R^1, as scipy.optimize.minimize reads it
        x0 = np.reshape(x0, (1,))
    x0 = check_array(x0, "x0", ndim=1, copy=True)
    check_scalar(tol, "tol", low=0.0)
    if max_iter is None:
        max_iter = max(1000, 200 * x0.size)
    # 0 is allowed, as in scipy: the start is evaluated and returned (status 1 unless it passes
    # the gradient test)
    check_scalar(max_iter, "max_iter", kind=numbers.Integral, low=0)
    return _Objective(fun, jac, hess, x0.size), x0, int(max_iter)


def _takes_intermediate_result(callback: Callable) -> bool:
    """scipy's rule: a callback whose one parameter is named ``intermediate_result`` is given
    the current OptimizeResult (by keyword), any other the current ``x``."""
    try:
        params = inspect.signature(callback).parameters
    except (TypeError, ValueError):  # builtins without a signature
        return False
    return set(params) == {"intermediate_result"}


class _Run:
    """The loop around every method: stop tests, line search, path and callback.

    A method asks ``while run.going(): ...``, computes a direction, calls ``run.search`` and
    ``run.accept``; ``run.result()`` fills in the record.
    """

    def __init__(self, fun, x0, jac, hess, *, tol, max_iter, callback, return_path, c1, c2):
        _check_constants(c1, c2)
        self.c1, self.c2 = c1, c2
        if callback is not None and not callable(callback):
            raise TypeError(f"callback must be None or callable, got {type(callback).__name__}")
        self.obj, self.x, self.max_iter = _check_inputs(fun, x0, jac, hess, tol, max_iter)
        self.tol, self.callback = float(tol), callback
        self.callback_takes_result = callback is not None and _takes_intermediate_result(callback)
        self.f, self.g = self.obj.first(self.x)
        self.f_prev = np.nan
        self.nit, self.status, self.message = 0, -1, ""
        self.path = [self.x.copy()] if return_path else None

    @classmethod
    def start(cls, arguments: dict[str, Any]) -> _Run:
        """A run from a solver's own arguments (its ``locals()``): ``fun``, ``x0``, ``jac``,
        ``hess`` (if it takes one), ``tol``, ``max_iter``, ``callback``, ``return_path``, ``c1``,
        ``c2``."""
        options = ("tol", "max_iter", "callback", "return_path", "c1", "c2")
        fun, x0, jac, hess = (arguments.get(k) for k in ("fun", "x0", "jac", "hess"))
        return cls(fun, x0, jac, hess, **{k: arguments[k] for k in options})

    def going(self) -> bool:
        if self.status >= 0:
            return False
        if not np.all(np.isfinite(self.g)):
            # a step landed where f is finite but its gradient is not (sqrt(|x|) at 0, say): no
            # direction can be taken from it, and trying one would call fun at NaN points
            self.status, self.message = 3, "the gradient at x is NaN or infinite"
        elif np.max(np.abs(self.g), initial=0.0) <= self.tol:
            self.status, self.message = 0, "gradient norm (max |g_i|) is below tol"
        elif self.nit >= self.max_iter:
            self.status, self.message = 1, f"max_iter={self.max_iter} iterations reached"
        return self.status < 0

    def initial_step(self, p: np.ndarray) -> float:
        """First trial step for methods whose direction has no natural scale (N&W eq. 3.60)."""
        slope = float(self.g @ p)
        if self.nit == 0 or not np.isfinite(self.f_prev):
            return min(1.0, 1.0 / np.linalg.norm(p))
        alpha0 = min(1.0, 1.01 * 2.0 * (self.f - self.f_prev) / slope)
        return alpha0 if alpha0 > 0 else 1.0  # slope >= 0 cannot happen for a descent direction

    def search(
        self,
        p: np.ndarray,
        alpha0: float,
        *,
        armijo: bool = False,
        max_ls: int | None = None,
        minpack: bool = False,
        extra: Callable[[float, np.ndarray], bool] | None = None,
    ) -> LineSearchResult | None:
        """Line search along ``p``; returns the step or None (and stops) when none lowers f.

        Strong Wolfe with zoom, backtracking Armijo (``armijo``), Moré-Thuente's search
        (L-BFGS-B's) given at most ``max_ls`` evaluations, or (``minpack``) SciPy's
        ``_line_search_wolfe12``: Moré-Thuente with ``xtol=1e-14``, steps in
        ``[1e-100, 1e100]`` and 100 evaluations, and the zoom search from the same first step
        when that one ends without meeting the conditions; ``extra(alpha, grad)`` is a further
        condition on the step there (SciPy's ``extra_condition``)."""
        # the Wolfe searches all start from here, along p, with this first step and c1, c2
        wolfe = functools.partial(
            _wolfe_search,
            self.obj,
            self.x,
            p,
            self.f,
            self.g,
            alpha0=alpha0,
            c1=self.c1,
            c2=self.c2,
        )
        if minpack:
            ls = wolfe(
                alpha_min=1e-100,
                alpha_max=1e100,
                max_iter=100,
                method="more-thuente",
                xtol=1e-14,
                extra=extra,
            )
            # a step to f = -inf (overflow) "converges" there; the zoom search refuses
            # non-finite values, and so the run ends at the last finite point
            if not (ls.success and np.isfinite(ls.fun)):
                ls = wolfe(alpha_max=1e100, extra=extra)
        elif max_ls is not None:
            ls = wolfe(max_iter=max_ls, method="more-thuente")
        elif armijo:
            ls = _armijo_search(
                self.obj, self.x, p, self.f, float(self.g @ p), alpha0=alpha0, c1=self.c1
            )
        else:
            ls = wolfe()
        if ls.alpha > 0 and ls.fun < self.f:
            return ls
        self.status = 2
        self.message = "line search found no lower point (rounding limits further progress)"
        return None

    def accept(self, x_new: np.ndarray, f_new: float, g_new: np.ndarray) -> None:
        self.x, self.f_prev, self.f, self.g = x_new, self.f, f_new, g_new
        self.nit += 1
        if self.path is not None:
            self.path.append(x_new.copy())
        if self.callback is not None:
            try:
                if self.callback_takes_result:
                    self.callback(intermediate_result=self.result(in_progress=True))
                else:
                    self.callback(x_new.copy())
            except StopIteration:
                self.status, self.message = 99, "callback raised StopIteration"

    def result(
        self, hess_inv: np.ndarray | None = None, *, in_progress: bool = False
    ) -> OptimizeResult:
        """The record of the run; ``in_progress``: a copy of the current state for the callback
        (status -1, success False)."""
        o = self.obj
        if in_progress:
            return OptimizeResult(
                x=self.x.copy(),
                fun=self.f,
                jac=self.g.copy(),
                nit=self.nit,
                nfev=o.nfev,
                njev=o.njev,
                nhev=o.nhev,
                success=False,
                status=-1,
                message="in progress",
            )
        return OptimizeResult(
            x=self.x,
            fun=self.f,
            jac=self.g,
            nit=self.nit,
            nfev=o.nfev,
            njev=o.njev,
            nhev=o.nhev,
            success=self.status == 0,
            status=self.status,
            message=self.message,
            hess_inv=hess_inv,
            path=None if self.path is None else np.array(self.path),
        )
