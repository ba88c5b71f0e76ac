r"""Square roots three ways: Newton's method, bisection and gradient descent on
:math:`L(x) = (y - x^2)^2`, each provably convergent for every finite :math:`y \ge 0`.

All three first write :math:`y = m \cdot 4^k` with :math:`m \in [1/4, 1)` exactly (a power of
4 only shifts the exponent), solve :math:`r^2 = m` for :math:`r = \sqrt{m} \in [1/2, 1)`, and
return :math:`r \cdot 2^k`. On that fixed interval one fixed step size and one iteration bound
work for every :math:`y`, from subnormals to ``1e308``. The notes' version (step 0.001 on the
unscaled loss) is kept as :func:`sqrt_gradient_descent_naive` to show why the scaling matters.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, NamedTuple

import numpy as np

from .._validation import check_scalar

__all__ = [
    "NaiveSqrtResult",
    "sqrt_bisection",
    "sqrt_gradient_descent",
    "sqrt_gradient_descent_naive",
    "sqrt_newton",
]

#: fixed step of :func:`sqrt_gradient_descent` on the scaled loss; see its proof
GD_STEP = 0.125
#: iterations after which the proof guarantees full double precision: (3/4)^k <= 2^-53 at k=128
_GD_MAX_ITER = 200


def _check_y(y: Any) -> float:
    check_scalar(y, "y", low=0.0)
    try:
        return float(y)
    except OverflowError:  # a Python int beyond float64
        raise ValueError(
            f"y must fit in a float64 (at most {np.finfo(float).max:.4g}), got an int of "
            f"{len(str(y))} digits"
        ) from None


def _split(y: float) -> tuple[float, int]:
    """``y = m * 4**k`` with ``m`` in [1/4, 1); exact, subnormal ``y`` included."""
    mant, exp = np.frexp(y)  # y = mant * 2**exp, mant in [1/2, 1)
    if exp % 2:
        mant, exp = mant / 2, exp + 1  # halving a normal mantissa is exact
    return float(mant), int(exp) // 2


def _finish(r: float, k: int, n_iter: int, return_n_iter: bool) -> Any:
    x = float(np.ldexp(r, k))  # sqrt(m * 4**k) = sqrt(m) * 2**k, exact scaling
    return (x, n_iter) if return_n_iter else x


def sqrt_newton(y: float, *, return_n_iter: bool = False) -> float | tuple[float, int]:
    r"""Square root by Newton's method on :math:`x^2 - m = 0`.

    Parameters
    ----------
    y : float
        Finite, ``y >= 0``.
    return_n_iter : bool, default=False
        Also return the number of Newton steps.

    Returns
    -------
    x : float
        :math:`\sqrt{y}`, within a few units in the last place.
    n_iter : int
        Only when ``return_n_iter=True``.

    Notes
    -----
    :math:`x_{j+1} = (x_j + m / x_j) / 2` from :math:`x_0 = 1`. Since
    :math:`x_{j+1} - r = (x_j - r)^2 / (2 x_j)`, every iterate stays above :math:`r` and the
    error is squared at each step (:math:`r \ge 1/2`, so :math:`e_{j+1} \le e_j^2`); from
    :math:`e_0 \le 1/2` six steps reach double precision. The loop stops once rounding makes the
    sequence stop decreasing.

    References
    ----------
    .. [1] J. Nocedal and S. J. Wright, *Numerical Optimization*, 2nd ed., 2006, Section 11.1.
    """
    y = _check_y(y)
    if y == 0.0:
        return _finish(0.0, 0, 0, return_n_iter)
    m, k = _split(y)
    x, n_iter = 1.0, 0
    while True:
        x_new = 0.5 * (x + m / x)
        n_iter += 1
        if x_new >= x:
            break
        x = x_new
    return _finish(x, k, n_iter, return_n_iter)


def sqrt_bisection(y: float, *, return_n_iter: bool = False) -> float | tuple[float, int]:
    r"""Square root by bisection on :math:`x^2 - m` over :math:`[1/2, 1]`.

    Parameters
    ----------
    y : float
        Finite, ``y >= 0``.
    return_n_iter : bool, default=False
        Also return the number of halvings.

    Returns
    -------
    x : float
    n_iter : int
        Only when ``return_n_iter=True``.

    Notes
    -----
    Keeps :math:`lo^2 \le m < hi^2` and halves :math:`[lo, hi]` until the midpoint equals an end,
    i.e. the bracket is one unit in the last place wide: one bit per step, about 53 steps.

    References
    ----------
    .. [1] R. L. Burden and J. D. Faires, *Numerical Analysis*, 9th ed., 2010, Section 2.1.
    """
    y = _check_y(y)
    if y == 0.0:
        return _finish(0.0, 0, 0, return_n_iter)
    m, k = _split(y)
    lo, hi, n_iter = 0.5, 1.0, 0
    while True:
        mid = 0.5 * (lo + hi)
        if mid in (lo, hi):
            break
        n_iter += 1
        if mid * mid <= m:
            lo = mid
        else:
            hi = mid
    return _finish(lo, k, n_iter, return_n_iter)


def sqrt_gradient_descent(y: float, *, return_n_iter: bool = False) -> float | tuple[float, int]:
    r"""Square root by fixed-step gradient descent on :math:`L(x) = (m - x^2)^2`.

    Parameters
    ----------
    y : float
        Finite, ``y >= 0``.
    return_n_iter : bool, default=False
        Also return the number of gradient steps.

    Returns
    -------
    x : float
        :math:`\sqrt{y}`, within two units in the last place: the iteration stops moving once
        its step falls below half an ulp, i.e. at :math:`x - r < \text{ulp} / (2 r^2)`.
    n_iter : int
        Only when ``return_n_iter=True``.

    Notes
    -----
    **Update.** :math:`L'(x) = 4x(x^2 - m)`, and with step :math:`\alpha = 1/8`

    .. math::

        x_{j+1} = x_j - \alpha L'(x_j) = x_j - \tfrac{1}{2} x_j (x_j^2 - m),
        \qquad x_0 = 1.

    **Proof of convergence for every y.** Let :math:`r = \sqrt{m} \in [1/2, 1)` and
    :math:`e_j = x_j - r`. Since :math:`x^2 - m = (x - r)(x + r)`,

    .. math::

        e_{j+1} = q(x_j)\, e_j, \qquad q(x) = 1 - \tfrac{1}{2} x (x + r).

    For :math:`x \in [r, 1]`, :math:`x(x + r) \in [2r^2, 1 + r] \subset [1/2, 2)`, hence
    :math:`q(x) \in (0, 3/4]`. So if :math:`x_j \in [r, 1]` then :math:`0 \le e_{j+1} \le
    \tfrac34 e_j`, and :math:`x_{j+1} \in [r, x_j] \subset [r, 1]`. By induction from
    :math:`x_0 = 1` the iterates decrease monotonically to :math:`r` and

    .. math::

        \frac{|x_j - r|}{r} \le \frac{(3/4)^j (1 - r)}{r} \le (3/4)^j,

    which is below ``1e-12`` after 97 steps and below :math:`2^{-53}` after 128, for every
    :math:`m \in [1/4, 1)` and therefore every :math:`y`: scaling by :math:`2^k` is exact, so
    the relative error of :math:`\sqrt{y}` is that of :math:`r`. In floating point the loop ends
    when an iterate no longer decreases (it is within rounding of :math:`r`), or after 200 steps.

    **Why scale first.** Without scaling, :math:`L''(\sqrt{y}) = 8y`, so a fixed step converges
    near the root only if :math:`\alpha < 2 / (8y) = 1/(4y)`: no single step works for all
    :math:`y \in [0, 10^{12}]`, and the notes' :math:`\alpha = 0.001` fails from
    :math:`y = 250` on (see :func:`sqrt_gradient_descent_naive`).

    References
    ----------
    .. [1] J. Nocedal and S. J. Wright, *Numerical Optimization*, 2nd ed., 2006, Section 3.3
       (rate of steepest descent).
    """
    y = _check_y(y)
    if y == 0.0:
        return _finish(0.0, 0, 0, return_n_iter)
    m, k = _split(y)
    x, n_iter = 1.0, 0
    while n_iter < _GD_MAX_ITER:
        x_new = x - GD_STEP * 4.0 * x * (x * x - m)
        n_iter += 1
        if x_new >= x:  # in exact arithmetic x decreases strictly to r: no progress = converged
            break
        x = x_new
    return _finish(x, k, n_iter, return_n_iter)


class NaiveSqrtResult(NamedTuple):
    """Outcome of :func:`sqrt_gradient_descent_naive`."""

    x: float
    n_iter: int
    status: str  # 'converged', 'diverged' (overflow to inf/NaN) or 'max_iter'


def sqrt_gradient_descent_naive(
    y: float,
    *,
    alpha: float = 0.001,
    tol: float = 1e-5,
    x0: float = 1.0,
    max_iter: int = 100_000,
) -> NaiveSqrtResult:
    r"""The notes' version: fixed-step gradient descent on the unscaled :math:`(y - x^2)^2`.

    Parameters
    ----------
    y : float
        Finite, ``y >= 0``.
    alpha : float, default=0.001
        Fixed step.
    tol : float, default=1e-5
        Stop when :math:`|L'(x)| \le` ``tol``.
    x0 : float, default=1.0
        Starting point.
    max_iter : int, default=100_000
        Iteration limit.

    Returns
    -------
    NaiveSqrtResult
        ``(x, n_iter, status)``; ``status`` is ``'diverged'`` once an iterate overflows.

    Notes
    -----
    :math:`x_{j+1} = x_j - 4 \alpha x_j (x_j^2 - y)`. Near :math:`\sqrt{y}` the error is
    multiplied by :math:`1 - 8 \alpha y`, so for :math:`\alpha = 0.001` it converges only for
    :math:`y < 250`; just above, the iterates oscillate forever, and further up the first steps
    overshoot so far that :math:`x^3` overflows. For tiny :math:`y` the gradient test stops
    far from :math:`\sqrt{y}` (at :math:`y = 0` the loss is flat to third order).

    References
    ----------
    .. [1] J. Nocedal and S. J. Wright, *Numerical Optimization*, 2nd ed., 2006, Section 3.3.
    """
    y = _check_y(y)
    check_scalar(alpha, "alpha", low=0.0, include_low=False)
    check_scalar(tol, "tol", low=0.0)
    check_scalar(x0, "x0")
    check_scalar(max_iter, "max_iter", kind=numbers.Integral, low=1)
    # Python floats overflow quietly to inf under * and -, which is the outcome being measured
    x, alpha, tol = float(x0), float(alpha), float(tol)
    for n_iter in range(1, max_iter + 1):
        grad = 4.0 * x * (x * x - y)
        x -= alpha * grad
        if not math.isfinite(x):
            return NaiveSqrtResult(x, n_iter, "diverged")
        if abs(grad) <= tol:
            return NaiveSqrtResult(x, n_iter, "converged")
    return NaiveSqrtResult(x, max_iter, "max_iter")
