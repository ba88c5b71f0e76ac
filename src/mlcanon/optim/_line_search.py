"""Line searches along a descent direction: strong Wolfe (with zoom) and backtracking Armijo.

Along a direction ``p`` from ``x`` the objective becomes a function of one variable,
``phi(alpha) = f(x + alpha p)`` with slope ``phi'(alpha) = grad f(x + alpha p) . p``; a line
search picks a step ``alpha > 0`` that lowers ``phi`` enough and, for Wolfe, also flattens it.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._validation import check_array, check_option, check_scalar

__all__ = ["LineSearchResult", "line_search_armijo", "line_search_wolfe"]

FunGrad = Callable[[np.ndarray], tuple[float, np.ndarray]]


@dataclass
class LineSearchResult:
    """Outcome of a line search.

    Attributes
    ----------
    alpha : float
        The step taken (``0.0`` when no lower point was found).
    fun : float
        ``f(x + alpha p)``.
    jac : ndarray of shape (n,) or None
        Gradient at ``x + alpha p`` (None for an Armijo search on ``f`` alone).
    nfev : int
        Number of objective evaluations made by the search.
    success : bool
        Whether the returned step satisfies the requested conditions.
    message : str
        Why the search stopped.
    """

    alpha: float
    fun: float
    jac: np.ndarray | None
    nfev: int
    success: bool
    message: str


# --- interpolation (Nocedal & Wright, Section 3.5) --------------------------------------------


def _cubic_min(a: float, fa: float, da: float, b: float, fb: float, db: float) -> float:
    """Minimizer of the cubic matching phi, phi' at ``a`` and ``b`` (N&W eq. 3.59), or NaN."""
    d1 = da + db - 3.0 * (fa - fb) / (a - b)
    disc = d1 * d1 - da * db
    if not np.isfinite(disc) or disc < 0.0:
        return np.nan
    d2 = np.copysign(np.sqrt(disc), b - a)
    denom = db - da + 2.0 * d2
    return b - (b - a) * (db + d2 - d1) / denom if denom != 0.0 else np.nan


def _quadratic_min(a: float, fa: float, da: float, b: float, fb: float) -> float:
    """Minimizer of the parabola matching phi(a), phi'(a) and phi(b); NaN if it opens downwards."""
    curv = (fb - fa - da * (b - a)) / (b - a) ** 2
    return a - da / (2.0 * curv) if curv > 0.0 else np.nan


def _interpolate(lo: tuple[float, ...], hi: tuple[float, ...]) -> float:
    """Trial step inside the bracket: cubic, else quadratic, else the midpoint.

    A trial too close to either end makes slow progress, so the cubic's minimizer is moved
    into the middle 80% of the bracket (then the bracket still shrinks by at least 10% per
    trial, and by 10x when the minimizer lies near one end: a step that must fall from 1 to
    1e-10, on a direction with steep curvature, takes a dozen trials, not 33 halvings); a
    non-finite cubic falls back to the quadratic in the middle 60%, then to the midpoint.
    """
    (a, fa, da), (b, fb, db) = lo, hi
    left, width = min(a, b), abs(b - a)
    cubic = _cubic_min(a, fa, da, b, fb, db)
    if np.isfinite(cubic):
        return float(np.clip(cubic, left + 0.1 * width, left + 0.9 * width))
    quadratic = _quadratic_min(a, fa, da, b, fb)
    if np.isfinite(quadratic) and left + 0.2 * width <= quadratic <= left + 0.8 * width:
        return float(quadratic)
    return 0.5 * (a + b)


# --- strong Wolfe search (N&W Algorithms 3.5 and 3.6) ---------------------------------------


def _zoom(phi, phi0, dphi0, lo, hi, c1, c2, max_iter, extra=None):
    """Algorithm 3.6: shrink the bracket [lo, hi] (``lo`` has the lower phi) to a Wolfe point.

    Each end is a tuple ``(alpha, phi(alpha), phi'(alpha))``; the bracket keeps the invariant that
    ``lo`` satisfies sufficient decrease and ``phi'(lo) (hi - lo) < 0``, so a Wolfe point lies
    between them.
    """
    for _ in range(max_iter):
        if abs(hi[0] - lo[0]) <= 1e-14 * max(abs(lo[0]), abs(hi[0])):
            break  # the bracket vanished in rounding: no Wolfe point is resolvable in it
        a = _interpolate(lo, hi)
        fa, da = phi(a)
        if not np.isfinite(fa) or fa > phi0 + c1 * a * dphi0 or fa >= lo[1]:
            hi = (a, fa, da)
            continue
        if abs(da) <= -c2 * dphi0 and (extra is None or extra(a)):
            return a, True
        if da * (hi[0] - lo[0]) >= 0:
            hi = lo
        lo = (a, fa, da)
    return lo[0], False


def _wolfe(phi, phi0, dphi0, alpha0, c1, c2, alpha_max, max_iter, extra=None):
    """Algorithm 3.5: grow the step until a bracket is found, then zoom into it.

    ``phi(alpha)`` returns ``(value, slope)``. Returns ``(alpha, success)``. ``extra(alpha)``,
    if given, must also hold at the step returned (SciPy's ``extra_condition``; a Wolfe point
    failing it is passed over as one failing the curvature condition).
    """
    prev = (0.0, phi0, dphi0)
    a = min(alpha0, alpha_max)
    for i in range(max_iter):
        fa, da = phi(a)
        if not np.isfinite(fa) or fa > phi0 + c1 * a * dphi0 or (i > 0 and fa >= prev[1]):
            return _zoom(phi, phi0, dphi0, prev, (a, fa, da), c1, c2, max_iter, extra)
        if abs(da) <= -c2 * dphi0 and (extra is None or extra(a)):
            return a, True
        if da >= 0:
            return _zoom(phi, phi0, dphi0, (a, fa, da), prev, c1, c2, max_iter, extra)
        if a >= alpha_max:
            return a, False
        prev = (a, fa, da)
        a = min(2.0 * a, alpha_max)  # phi still falls steeply: extrapolate
    return prev[0], False


def _wolfe_search(
    fun_grad: FunGrad,
    x: np.ndarray,
    p: np.ndarray,
    f: float,
    g: np.ndarray,
    *,
    alpha0: float,
    c1: float,
    c2: float,
    alpha_max: float = 1e10,
    max_iter: int = 30,
    method: str = "zoom",
    alpha_min: float = 0.0,
    xtol: float = 0.1,
    extra: Callable[[float, np.ndarray], bool] | None = None,
) -> LineSearchResult:
    """Strong Wolfe search (:func:`line_search_wolfe`) on validated input; ``fun_grad(x)``
    returns ``(f, grad)``. With ``method='more-thuente'`` (:func:`_more_thuente`, ``ftol = c1``,
    ``gtol = c2``), a search that has not ended after ``max_iter`` evaluations returns
    ``alpha = 0`` (no step). ``extra(alpha, grad)``: a further condition a successful step
    must meet (SciPy's ``extra_condition``)."""
    seen: dict[float, tuple[float, np.ndarray]] = {0.0: (f, g)}
    calls = [0]
    last: list[float | None] = [None]

    def phi(alpha: float) -> tuple[float, float]:
        # Moré-Thuente may ask again for the step it just tried (when rounding sends it back
        # to its best point); as scipy's ScalarFunction, which keeps the last point, that
        # repeat is not evaluated (nor counted) again
        if alpha == last[0]:
            fa, ga = seen[alpha]
        else:
            fa, ga = fun_grad(x + alpha * p)
            seen[alpha] = (fa, ga)
            calls[0] += 1
            last[0] = alpha
        return fa, float(ga @ p)

    if method == "more-thuente":
        alpha, status = _more_thuente(
            phi, f, float(g @ p), alpha0, c1, c2, xtol, alpha_min, alpha_max, max_iter
        )
        nfev = len(seen) - 1
        if status in ("max_iter", "non-finite step") or alpha not in seen:
            msg = f"no step met the conditions in {max_iter} evaluations"
            return LineSearchResult(0.0, f, g, nfev, False, msg)
        if status == "convergence" and extra is not None and not extra(alpha, seen[alpha][1]):
            status = "the step fails the extra condition"
        return LineSearchResult(alpha, *seen[alpha], nfev, status == "convergence", status)
    extra_a = None if extra is None else (lambda a: extra(a, seen[a][1]))
    alpha, ok = _wolfe(phi, f, float(g @ p), alpha0, c1, c2, alpha_max, max_iter, extra_a)
    fa, ga = seen[alpha]
    nfev = calls[0]
    if ok:
        return LineSearchResult(alpha, fa, ga, nfev, True, "strong Wolfe conditions hold")
    msg = "no step satisfying the strong Wolfe conditions was found"
    return LineSearchResult(alpha, fa, ga, nfev, False, msg)


# --- Moré-Thuente (MINPACK-2 dcsrch, the search of L-BFGS-B) ---------------------------------


def _step_safeguarded(bracket, trial, brackt, stpmin, stpmax):
    """One update of the interval of uncertainty and the next trial step (dcstep).

    ``bracket`` is ``(stx, fx, dx, sty, fy, dy)``: the best step so far and the other end;
    ``trial`` is ``(stp, fp, dp)``. Returns the new bracket, the next step and ``brackt``.
    """
    stx, fx, dx, sty, fy, dy = bracket
    stp, fp, dp = trial
    sgnd = dp * np.sign(dx)
    if fp > fx:  # higher value: the minimum is bracketed; cubic or quadratic step
        theta = 3.0 * (fx - fp) / (stp - stx) + dx + dp
        s = max(abs(theta), abs(dx), abs(dp))
        gamma = s * np.sqrt((theta / s) ** 2 - (dx / s) * (dp / s))
        gamma = -gamma if stp < stx else gamma
        r = ((gamma - dx) + theta) / (((gamma - dx) + gamma) + dp)
        stpc = stx + r * (stp - stx)
        stpq = stx + ((dx / ((fx - fp) / (stp - stx) + dx)) / 2.0) * (stp - stx)
        stpf = stpc if abs(stpc - stx) < abs(stpq - stx) else stpc + (stpq - stpc) / 2.0
        brackt = True
    elif sgnd < 0:  # lower value, slopes of opposite sign: bracketed
        theta = 3.0 * (fx - fp) / (stp - stx) + dx + dp
        s = max(abs(theta), abs(dx), abs(dp))
        gamma = s * np.sqrt((theta / s) ** 2 - (dx / s) * (dp / s))
        gamma = -gamma if stp > stx else gamma
        r = ((gamma - dp) + theta) / (((gamma - dp) + gamma) + dx)
        stpc = stp + r * (stx - stp)
        stpq = stp + (dp / (dp - dx)) * (stx - stp)
        stpf = stpc if abs(stpc - stp) > abs(stpq - stp) else stpq
        brackt = True
    elif abs(dp) < abs(dx):  # lower value, same sign, the slope shrinks
        theta = 3.0 * (fx - fp) / (stp - stx) + dx + dp
        s = max(abs(theta), abs(dx), abs(dp))
        gamma = s * np.sqrt(max(0.0, (theta / s) ** 2 - (dx / s) * (dp / s)))
        gamma = -gamma if stp > stx else gamma
        r = ((gamma - dp) + theta) / ((gamma + (dx - dp)) + gamma)
        if r < 0 and gamma != 0:
            stpc = stp + r * (stx - stp)
        else:
            stpc = stpmax if stp > stx else stpmin
        stpq = stp + (dp / (dp - dx)) * (stx - stp)
        if brackt:
            stpf = stpc if abs(stpc - stp) < abs(stpq - stp) else stpq
            if stp > stx:
                stpf = min(stp + 0.66 * (sty - stp), stpf)
            else:
                stpf = max(stp + 0.66 * (sty - stp), stpf)
        else:
            stpf = stpc if abs(stpc - stp) > abs(stpq - stp) else stpq
            stpf = max(stpmin, min(stpmax, stpf))
    elif brackt:  # lower value, same sign, the slope does not shrink: cubic in [stp, sty]
        theta = 3.0 * (fp - fy) / (sty - stp) + dy + dp
        s = max(abs(theta), abs(dy), abs(dp))
        gamma = s * np.sqrt((theta / s) ** 2 - (dy / s) * (dp / s))
        gamma = -gamma if stp > sty else gamma
        r = ((gamma - dp) + theta) / (((gamma - dp) + gamma) + dy)
        stpf = stp + r * (sty - stp)
    else:
        stpf = stpmax if stp > stx else stpmin
    if fp > fx:
        sty, fy, dy = stp, fp, dp
    else:
        if sgnd < 0:
            sty, fy, dy = stx, fx, dx
        stx, fx, dx = stp, fp, dp
    return (stx, fx, dx, sty, fy, dy), stpf, brackt


def _more_thuente(phi, f0, g0, stp, ftol, gtol, xtol, stpmin, stpmax, max_iter):
    """The search of Moré and Thuente (MINPACK-2's dcsrch): a step with
    ``phi(stp) <= f0 + ftol stp g0`` and ``|phi'(stp)| <= gtol |g0|``, safeguarded cubic and
    quadratic steps inside an interval of uncertainty. Returns ``(stp, status)``: status
    'convergence', 'warning' (rounding or the bounds stop it; the step is still taken, as
    L-BFGS-B takes it) or 'max_iter'."""
    xtrapl, xtrapu = 1.1, 4.0
    brackt, stage = False, 1
    gtest = ftol * g0
    width = stpmax - stpmin
    width1 = width / 0.5
    bracket = (0.0, f0, g0, 0.0, f0, g0)
    stmin, stmax = 0.0, stp + xtrapu * stp
    for _ in range(max_iter):
        f, g = phi(stp)
        ftest = f0 + stp * gtest
        if stage == 1 and f <= ftest and g >= 0:
            stage = 2
        if f <= ftest and abs(g) <= gtol * -g0:
            return stp, "convergence"
        if (
            (brackt and (stp <= stmin or stp >= stmax))
            or (brackt and stmax - stmin <= xtol * stmax)
            or (stp == stpmax and f <= ftest and g <= gtest)
            or (stp == stpmin and (f > ftest or g >= gtest))
        ):
            return stp, "warning"
        stx, fx, gx, sty, fy, gy = bracket
        if stage == 1 and fx >= f > ftest:  # the modified function psi = phi - gtest stp
            shifted = (stx, fx - stx * gtest, gx - gtest, sty, fy - sty * gtest, gy - gtest)
            trial = (stp, f - stp * gtest, g - gtest)
            (stx, fxm, gxm, sty, fym, gym), stp, brackt = _step_safeguarded(
                shifted, trial, brackt, stmin, stmax
            )
            bracket = (stx, fxm + stx * gtest, gxm + gtest, sty, fym + sty * gtest, gym + gtest)
        else:
            bracket, stp, brackt = _step_safeguarded(bracket, (stp, f, g), brackt, stmin, stmax)
        stx, sty = bracket[0], bracket[3]
        if brackt:
            if abs(sty - stx) >= 0.66 * width1:
                stp = stx + 0.5 * (sty - stx)
            width1, width = width, abs(sty - stx)
            stmin, stmax = min(stx, sty), max(stx, sty)
        else:
            stmin, stmax = stp + xtrapl * (stp - stx), stp + xtrapu * (stp - stx)
        stp = min(max(stp, stpmin), stpmax)
        if brackt and (stp <= stmin or stp >= stmax or stmax - stmin <= xtol * stmax):
            stp = stx
        if not np.isfinite(stp):  # an infinite f or slope made the interpolation NaN: stop,
            return stp, "non-finite step"  # as scipy's DCSRCH (no step is taken)
    return stp, "max_iter"


def _armijo_search(
    fun_grad: Callable[[np.ndarray], tuple[float, np.ndarray | None]],
    x: np.ndarray,
    p: np.ndarray,
    f: float,
    slope: float,
    *,
    alpha0: float = 1.0,
    rho: float = 0.5,
    c1: float = 1e-4,
    max_iter: int = 60,
) -> LineSearchResult:
    """Backtracking (N&W Algorithm 3.1) on validated input; ``fun_grad(x)`` returns
    ``(f, grad)``, where ``grad`` may be None, and only ``f`` is compared. A failed search
    returns ``alpha = 0`` and ``f``."""
    alpha = alpha0
    for k in range(1, max_iter + 1):
        fa, ga = fun_grad(x + alpha * p)
        if np.isfinite(fa) and fa <= f + c1 * alpha * slope:
            return LineSearchResult(alpha, fa, ga, k, True, "Armijo condition holds")
        alpha *= rho
    msg = f"no step met the Armijo condition in {max_iter} trials"
    return LineSearchResult(0.0, f, None, max_iter, False, msg)


# --- public entry points -----------------------------------------------------------------------


def _check_point(fun: Any, xk: Any, pk: Any) -> tuple[np.ndarray, np.ndarray]:
    """The entry points' ``fun`` (callable), ``xk`` and ``pk`` (1-D arrays of one shape)."""
    if not callable(fun):
        raise TypeError(f"fun must be callable, got {type(fun).__name__}")
    xk = check_array(xk, "xk", ndim=1)
    pk = check_array(pk, "pk", ndim=1)
    if pk.shape != xk.shape:
        raise ValueError(f"pk must have the shape of xk {xk.shape}, got {pk.shape}")
    return xk, pk


def _check_slope(gfk: Any, xk: np.ndarray, pk: np.ndarray) -> tuple[np.ndarray, float]:
    """The gradient ``gfk`` at ``xk`` as an array, and the slope ``gfk . pk`` (must be < 0)."""
    gfk = check_array(gfk, "gfk", ndim=1)
    if gfk.shape != xk.shape:
        raise ValueError(f"gfk must have the shape of xk {xk.shape}, got {gfk.shape}")
    slope = float(gfk @ pk)
    if slope >= 0:
        raise ValueError(f"pk must be a descent direction (gfk . pk < 0), got gfk . pk = {slope!r}")
    return gfk, slope


def _fun_grad(fun: Callable, jac: Any) -> FunGrad:
    """``x -> (f(x), grad f(x))`` from ``fun`` and ``jac`` (a callable, or True when ``fun``
    returns the pair)."""
    # fun and jac get their own copy of x and the gradient is copied out (as in scipy): a jac
    # that returns one reused buffer would otherwise overwrite the gradients kept for the
    # bracket, and the result's jac would be that of the last trial, not of x + alpha p
    if jac is True:

        def fun_grad(x):
            f, g = fun(x.copy())
            return float(f), np.array(g, dtype=float)

        return fun_grad
    if callable(jac):
        return lambda x: (float(fun(x.copy())), np.array(jac(x.copy()), dtype=float))
    raise TypeError(f"jac must be callable or True, got {jac!r}")


def _check_constants(c1: float, c2: float | None) -> None:
    check_scalar(c1, "c1", low=0.0, high=1.0, include_low=False, include_high=False)
    if c2 is not None:
        check_scalar(c2, "c2", low=c1, high=1.0, include_low=False, include_high=False)


def line_search_wolfe(
    fun: Callable[[np.ndarray], Any],
    jac: Callable[[np.ndarray], Any] | bool,
    xk: Any,
    pk: Any,
    *,
    gfk: Any = None,
    old_fval: float | None = None,
    alpha0: float = 1.0,
    c1: float = 1e-4,
    c2: float = 0.9,
    alpha_max: float = 1e10,
    max_iter: int = 30,
    method: str = "zoom",
    alpha_min: float = 0.0,
    xtol: float = 0.1,
) -> LineSearchResult:
    r"""Find a step satisfying the strong Wolfe conditions.

    Parameters
    ----------
    fun : callable
        ``fun(x) -> float``, or ``fun(x) -> (float, ndarray)`` when ``jac=True``.
    jac : callable or True
        Gradient ``jac(x) -> ndarray of shape (n,)``; ``True`` if ``fun`` returns it.
    xk, pk : array-like of shape (n,)
        Current point and a descent direction (``gfk . pk < 0``).
    gfk : array-like of shape (n,), optional
        Gradient at ``xk`` (computed if omitted).
    old_fval : float, optional
        ``fun(xk)`` (computed if omitted).
    alpha0 : float, default=1.0
        First trial step (1 is the natural step of Newton and quasi-Newton directions).
    c1, c2 : float, default=1e-4, 0.9
        Sufficient-decrease and curvature constants, ``0 < c1 < c2 < 1``.
    alpha_max : float, default=1e10
        Largest step tried.
    max_iter : int, default=30
        Most trials in each phase (bracketing, zoom); with ``method='more-thuente'``, most
        evaluations in all.
    method : {'zoom', 'more-thuente'}, default='zoom'
        Nocedal and Wright's bracketing and zoom, or the search of Moré and Thuente that
        L-BFGS-B and SciPy's ``line_search_wolfe1`` use (MINPACK-2's ``dcsrch``).
    alpha_min : float, default=0.0
        Smallest step tried (``'more-thuente'`` only).
    xtol : float, default=0.1
        ``'more-thuente'`` stops with a warning once the interval of uncertainty is narrower
        than ``xtol`` times its right end.

    Returns
    -------
    LineSearchResult
        ``nfev`` counts the evaluations of the search (plus one if ``fun(xk)`` was computed).

    Notes
    -----
    With :math:`\phi(\alpha) = f(x_k + \alpha p_k)` the strong Wolfe conditions are

    .. math::

        \phi(\alpha) \le \phi(0) + c_1 \alpha \phi'(0), \qquad
        |\phi'(\alpha)| \le c_2 |\phi'(0)|.

    The step is grown (doubled) until an interval is known to contain such a point, which is then
    narrowed ("zoom") with safeguarded cubic interpolation of :math:`\phi` and :math:`\phi'` at the
    two ends, falling back to quadratic interpolation and to bisection.

    References
    ----------
    .. [1] J. Nocedal and S. J. Wright, *Numerical Optimization*, 2nd ed., Springer, 2006,
       Algorithms 3.5 and 3.6 and Section 3.5.
    """
    _check_constants(c1, c2)
    check_scalar(alpha0, "alpha0", low=0.0, include_low=False)
    check_scalar(alpha_max, "alpha_max", low=0.0, include_low=False)
    check_scalar(max_iter, "max_iter", kind=numbers.Integral, low=1)
    check_option(method, "method", ("zoom", "more-thuente"))
    check_scalar(alpha_min, "alpha_min", low=0.0, high=alpha_max)
    check_scalar(xtol, "xtol", low=0.0)
    xk, pk = _check_point(fun, xk, pk)
    fun_grad = _fun_grad(fun, jac)
    extra = 0
    if old_fval is None or gfk is None:
        f0, g0 = fun_grad(xk)
        extra = 1
        old_fval = f0 if old_fval is None else old_fval
        gfk = g0 if gfk is None else gfk
    gfk, _ = _check_slope(gfk, xk, pk)
    res = _wolfe_search(
        fun_grad,
        xk,
        pk,
        float(old_fval),
        gfk,
        alpha0=alpha0,
        c1=c1,
        c2=c2,
        alpha_max=alpha_max,
        max_iter=max_iter,
        method=method,
        alpha_min=alpha_min,
        xtol=xtol,
    )
    res.nfev += extra
    return res


def line_search_armijo(
    fun: Callable[[np.ndarray], Any],
    xk: Any,
    pk: Any,
    gfk: Any,
    old_fval: float | None = None,
    *,
    alpha0: float = 1.0,
    rho: float = 0.5,
    c1: float = 1e-4,
    max_iter: int = 60,
) -> LineSearchResult:
    r"""Backtracking line search: shrink the step until it decreases ``fun`` enough.

    Parameters
    ----------
    fun : callable
        ``fun(x) -> float``.
    xk, pk, gfk : array-like of shape (n,)
        Current point, a descent direction and the gradient at ``xk``.
    old_fval : float, optional
        ``fun(xk)`` (computed if omitted).
    alpha0 : float, default=1.0
        First trial step.
    rho : float, default=0.5
        Contraction factor, ``0 < rho < 1``.
    c1 : float, default=1e-4
        Sufficient-decrease constant, ``0 < c1 < 1``.
    max_iter : int, default=60
        Most trials.

    Returns
    -------
    LineSearchResult
        ``jac`` is None: the search looks at function values only.

    Notes
    -----
    Tries :math:`\alpha = \alpha_0, \rho\alpha_0, \rho^2\alpha_0, \dots` and stops at the first
    step meeting the sufficient-decrease (Armijo) condition
    :math:`f(x_k + \alpha p_k) \le f(x_k) + c_1 \alpha \nabla f_k^\top p_k`.

    References
    ----------
    .. [1] L. Armijo, "Minimization of functions having Lipschitz continuous first partial
       derivatives", Pacific J. Math. 16(1), 1966.
    .. [2] J. Nocedal and S. J. Wright, *Numerical Optimization*, 2nd ed., 2006, Algorithm 3.1.
    """
    _check_constants(c1, None)
    check_scalar(rho, "rho", low=0.0, high=1.0, include_low=False, include_high=False)
    check_scalar(alpha0, "alpha0", low=0.0, include_low=False)
    check_scalar(max_iter, "max_iter", kind=numbers.Integral, low=1)
    xk, pk = _check_point(fun, xk, pk)
    _, slope = _check_slope(gfk, xk, pk)
    extra = 0
    if old_fval is None:
        old_fval, extra = float(fun(xk)), 1
    f_only = lambda x: (float(fun(x)), None)  # noqa: E731  (the search compares values only)
    res = _armijo_search(
        f_only, xk, pk, float(old_fval), slope, alpha0=alpha0, c1=c1, rho=rho, max_iter=max_iter
    )
    res.nfev += extra
    return res
