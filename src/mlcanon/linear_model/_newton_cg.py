r"""Truncated Newton (Newton-CG): the Newton step solved inexactly by conjugate gradient.

At :math:`w` the step :math:`d` approximately solves :math:`\nabla^2 f(w)\, d = -\nabla f(w)`
by conjugate gradient, stopped when the residual falls below
:math:`\eta \lVert \nabla f \rVert` with the forcing term
:math:`\eta = \min(0.5, \lVert \nabla f \rVert^{1/2})` (superlinear convergence near the
optimum); a backtracking line search with the Armijo condition then picks the step length.
Only Hessian-vector products are used, so the Hessian is never factored (unlike
'newton-cholesky').

A singular Hessian is fine here, and the softmax model's is: adding one vector to every class
changes nothing, and the gradient and every product ``H p`` are orthogonal to those shifts, so
the iterates never move along them (the classes keep summing to zero, as scikit-learn's do).
The Hessian handed in must therefore be the plain one, not one made invertible along those
directions for a factorization: conjugate gradient would then solve for the rounding noise
there too, amplified by the inverse of the small eigenvalue added.

References
----------
Nocedal & Wright, *Numerical Optimization*, 2nd ed., 2006, Algorithm 7.1 (line search
Newton-CG) and Theorem 7.2 (forcing sequence).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["newton_cg"]


def _cg(hess_vec: Callable[[np.ndarray], np.ndarray], b: np.ndarray, rtol: float) -> np.ndarray:
    """Conjugate gradient for ``H d = b`` from ``d = 0``, to ``||r|| <= rtol ||b||``."""
    d, r = np.zeros_like(b), b.copy()
    p, rs = r.copy(), r @ r
    stop = (rtol**2) * rs
    for _ in range(2 * b.size):
        if rs <= stop:
            break
        Hp = hess_vec(p)
        curvature = p @ Hp
        if curvature <= 0:  # not positive definite along p: keep what we have
            break
        step = rs / curvature
        d += step * p
        r -= step * Hp
        rs_new = r @ r
        p = r + (rs_new / rs) * p
        rs = rs_new
    return d if d.any() else b  # no progress: fall back to steepest descent


def newton_cg(loss_grad, hessian, w0: np.ndarray, tol: float, max_iter: int):
    """Minimize; stops when the largest gradient entry is <= ``tol``.

    Returns ``(w, n_iter, converged)``.
    """
    w = np.array(w0, dtype=np.float64)
    f, g = loss_grad(w)
    for it in range(max_iter):
        gmax = np.abs(g).max() if g.size else 0.0
        if gmax <= tol:
            return w, it, True
        H = hessian(w)
        d = _cg(H.__matmul__, -g, rtol=min(0.5, np.sqrt(np.linalg.norm(g))))
        slope, t = g @ d, 1.0
        while True:
            f_new, g_new = loss_grad(w + t * d)
            if f_new <= f + 1e-4 * t * slope:
                break
            t *= 0.5
            if t < 1e-12:  # no decrease along d: at the precision limit
                return w, it + 1, False
        w, f, g = w + t * d, f_new, g_new
    return w, max_iter, bool(np.abs(g).max() <= tol) if g.size else True
