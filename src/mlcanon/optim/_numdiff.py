"""Numerical gradients by finite differences, and a gradient checker built on them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .._validation import check_array, check_option

__all__ = ["approx_gradient", "check_grad"]

_EPS = np.finfo(np.float64).eps


def _steps(x: np.ndarray, eps: Any, method: str) -> np.ndarray:
    if eps is None:
        # Truncation error is O(h^2) (central) or O(h) (forward) and rounding error O(eps/h);
        # balancing them gives h ~ eps^(1/3) or eps^(1/2), relative to the size of x_i.
        rel = _EPS ** (1 / 3) if method == "central" else _EPS**0.5
        return rel * np.maximum(1.0, np.abs(x))
    h = check_array(eps, "eps", ndim=(0, 1))
    if h.ndim == 1 and h.shape != x.shape:
        raise ValueError(f"eps must be a scalar or have the shape of x {x.shape}, got {h.shape}")
    if np.any(h <= 0):
        raise ValueError(f"eps must be > 0, got {eps!r}")
    return np.broadcast_to(h, x.shape).astype(float)


def _point(x: Any) -> np.ndarray:
    """``x`` as a finite 1-D float array (a copy); a scalar is the point of shape (1,), as
    ``scipy.optimize.approx_fprime`` and ``minimize`` read it."""
    if np.ndim(x) == 0:
        x = np.reshape(x, (1,))
    return check_array(x, "x", ndim=1, copy=True)


def _value(f: Callable, x: np.ndarray) -> float:
    """``f(x)`` as a float, with an error that says what is wrong when ``f`` is vector-valued."""
    v = np.asarray(f(x))
    if v.size != 1:
        raise ValueError(
            f"f(x) must return a scalar, got an array of shape {v.shape}; approx_gradient "
            "differentiates a scalar function (for the Jacobian of a vector-valued one use "
            "scipy.optimize.approx_fprime)"
        )
    return float(v.reshape(()))


def approx_gradient(
    f: Callable[[np.ndarray], float],
    x: Any,
    eps: Any = None,
    *,
    method: str = "central",
) -> np.ndarray:
    r"""Gradient of a scalar function by finite differences.

    Parameters
    ----------
    f : callable
        ``f(x) -> float`` for ``x`` of shape (n,).
    x : array-like of shape (n,) or scalar
        Point at which to differentiate; a scalar is the point of shape (1,), as in SciPy.
    eps : float or array-like of shape (n,), optional
        Absolute step per coordinate. Default: :math:`\epsilon^{1/3} \max(1, |x_i|)` for central
        and :math:`\epsilon^{1/2} \max(1, |x_i|)` for forward differences (:math:`\epsilon` is the
        machine epsilon), which balance truncation against rounding error.
    method : {'central', 'forward'}, default='central'
        Difference formula (``'forward'`` is what ``scipy.optimize.approx_fprime`` uses).

    Returns
    -------
    ndarray of shape (n,)

    Notes
    -----
    .. math::

        \partial_i f(x) \approx \frac{f(x + h_i e_i) - f(x - h_i e_i)}{2 h_i} + O(h_i^2)
        \quad\text{(central)}, \qquad
        \frac{f(x + h_i e_i) - f(x)}{h_i} + O(h_i) \quad\text{(forward)}.

    The step actually used is :math:`(x_i + h_i) - x_i`, computed in floating point, so that the
    divisor is exactly the distance between the points evaluated. Central differences cost
    :math:`2n` calls, forward :math:`n + 1`.

    References
    ----------
    .. [1] J. Nocedal and S. J. Wright, *Numerical Optimization*, 2nd ed., Springer, 2006,
       Section 8.1.
    """
    check_option(method, "method", ("central", "forward"))
    if not callable(f):
        raise TypeError(f"f must be callable, got {type(f).__name__}")
    x = _point(x)
    h = _steps(x, eps, method)
    grad = np.empty_like(x)
    # f sees a fresh copy each time, so a caller that keeps its argument is not surprised later
    f0 = _value(f, x.copy()) if method == "forward" else 0.0
    for i in range(x.size):
        xi = x[i]
        x[i] = xi + h[i]
        hi = x[i] - xi  # the representable step
        f_plus = _value(f, x.copy())
        if method == "central":
            x[i] = xi - hi
            grad[i] = (f_plus - _value(f, x.copy())) / (2.0 * hi)
        else:
            grad[i] = (f_plus - f0) / hi
        x[i] = xi
    return grad


def check_grad(
    fun: Callable[[np.ndarray], float],
    jac: Callable[[np.ndarray], Any],
    x: Any,
    *,
    eps: Any = None,
    method: str = "central",
) -> float:
    r"""Distance between an analytic gradient and its finite-difference estimate.

    Parameters
    ----------
    fun : callable
        ``fun(x) -> float``.
    jac : callable
        The gradient to check, ``jac(x) -> ndarray of shape (n,)``.
    x : array-like of shape (n,) or scalar
        Point of the check (a scalar is the point of shape (1,)).
    eps, method
        Passed to :func:`approx_gradient`.

    Returns
    -------
    float
        :math:`\lVert \nabla f(x) - \widehat{\nabla f}(x) \rVert_2`, as
        ``scipy.optimize.check_grad`` reports; near zero (about ``eps**(2/3)`` times the size of
        the third derivative for central differences) when the gradient is right.

    References
    ----------
    .. [1] J. Nocedal and S. J. Wright, *Numerical Optimization*, 2nd ed., 2006, Section 8.1.
    """
    if not callable(jac):
        raise TypeError(f"jac must be callable, got {type(jac).__name__}")
    x = _point(x)
    g = np.asarray(jac(x.copy()), dtype=float)
    if g.shape != x.shape:
        raise ValueError(f"jac(x) must have the shape of x {x.shape}, got {g.shape}")
    return float(np.linalg.norm(g - approx_gradient(fun, x, eps, method=method)))
