r"""Newton's method for the logistic objectives, the step solved by Cholesky or by conjugate
gradient.

At :math:`w` the Newton step :math:`d` solves :math:`\nabla^2 f(w)\, d = -\nabla f(w)`; a
line search then picks the step length ('newton-cg': scipy's ``line_search_wolfe1``, a
Moré-Thuente search, as scikit-learn's; else, or if that fails, backtracking with the Armijo
condition), and the
iteration stops when the largest gradient entry is at most ``tol``; 'newton-cholesky' also
asks that half the squared Newton decrement of its last step,
:math:`\lambda^2 / 2 = d^\top \nabla^2 f\, d / 2`, be at most ``tol`` (Boyd & Vandenberghe,
Section 9.5.1), as scikit-learn's does, so it always takes at least one step.

'newton-cholesky' solves for :math:`d` exactly, by a Cholesky factorization. A Hessian that is
singular, or whose reciprocal condition number is below the machine epsilon (more features than
samples, or collinear ones, with little or no penalty), gives no trustworthy step: the iteration
then stops and says so, and :class:`~mlcanon.linear_model.LogisticRegression` goes on with
L-BFGS from there, as scikit-learn's ``NewtonCholeskySolver`` does.

'newton-cg' (truncated Newton) solves it inexactly by conjugate gradient, stopped when the
residual falls below :math:`\eta \lVert \nabla f \rVert_1` with the forcing term
:math:`\eta = \min(0.5, \lVert \nabla f \rVert_1^{1/2})` (superlinear convergence near the
optimum; the 1-norms are scikit-learn's). Only Hessian-vector products are used, so the
Hessian is never formed or factored,
and a singular one is fine; the softmax model's is: adding one vector to every class changes
nothing, and the gradient and every product ``H p`` are orthogonal to those shifts, so the
iterates never move along them (the classes keep summing to zero, as scikit-learn's do). The
products must therefore be the plain Hessian's, not those of one made invertible along those
directions for a factorization: conjugate gradient would then solve for the rounding noise
there too, amplified by the inverse of the small eigenvalue added.

References
----------
Nocedal & Wright, *Numerical Optimization*, 2nd ed., 2006, Algorithms 3.1 (backtracking line
search) and 7.1 (line search Newton-CG), Theorem 7.2 (forcing sequence). Boyd & Vandenberghe,
*Convex Optimization*, 2004, Section 9.5 (Newton decrement).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy.linalg

__all__ = ["newton"]


def _cg_step(hess_vec: Callable[[np.ndarray], np.ndarray], g: np.ndarray) -> np.ndarray:
    """The truncated Newton step as scikit-learn's ``_newton_cg`` takes it: conjugate gradient
    until the residual's 1-norm is at most :math:`\\eta \\lVert g \rVert_1`,
    :math:`\\eta = \\min(0.5, \\lVert g \rVert_1^{1/2})`, at most 200 + 1 products; it stops
    early on a direction of (near) zero curvature, and on a negative one keeps what it has
    (the first: a steepest-descent step scaled by it)."""
    tiny = 16 * np.finfo(g.dtype).eps
    mag = np.abs(g).sum()
    stop = min(0.5, np.sqrt(mag)) * mag
    d, r = np.zeros_like(g), g.copy()  # r = g + H d
    p, rs = -r, r @ r
    for i in range(201):
        if np.abs(r).sum() <= stop:
            break
        Hp = hess_vec(p)
        curvature = p @ Hp
        if 0 <= curvature <= tiny * (p @ p):
            break
        if curvature < 0:
            if i == 0:
                d += rs / curvature * p
            break
        step = rs / curvature
        d += step * p
        r += step * Hp
        rs_new = r @ r
        p = -r + (rs_new / rs) * p
        rs = rs_new
    return d


def _wolfe_step(loss_grad, w, d, f, g, f_before):
    """The step of scikit-learn's newton-cg: scipy's ``line_search_wolfe1`` (Moré-Thuente, c1=1e-4,
    c2=0.9, xtol=1e-14, steps in [1e-8, 50]); where it fails, the full step if the loss changes
    by at most 16 machine epsilons of itself and the gradient's 1-norm falls (a step at the
    precision limit); else ``line_search_wolfe2`` (bracketing and zoom, 10 trials). Each search
    starts from :math:`\\min(1, 2.02 (f_k - f_{k-1}) / g^\top d)` (1 at the first step).
    Returns ``(t, f, g)``, or None if all fail."""
    from mlcanon.optim import line_search_wolfe  # optim imports torch: load it on first use

    slope = float(g @ d)
    t0 = 1.0
    if f_before is not None and slope < 0:
        t0 = min(1.0, 1.01 * 2 * (f - f_before) / slope)
        t0 = 1.0 if t0 < 0 else t0
    # scipy's searches fail at once along a direction that does not descend, or from a zero
    # first step (no decrease at the last one)
    searches = slope < 0 and t0 > 0
    search = dict(gfk=g, old_fval=f, alpha0=t0, c1=1e-4, c2=0.9)
    if searches:
        more_thuente = dict(alpha_max=50.0, max_iter=100, alpha_min=1e-8, xtol=1e-14)
        res = line_search_wolfe(
            loss_grad, True, w, d, method="more-thuente", **search, **more_thuente
        )
        if res.success:
            return res.alpha, res.fun, res.jac
    f_new, g_new = loss_grad(w + d)
    if (
        abs(f_new - f) <= 16 * np.finfo(w.dtype).eps * abs(f)
        and np.abs(g_new).sum() < np.abs(g).sum()
    ):
        return 1.0, f_new, g_new
    if searches:
        res = line_search_wolfe(loss_grad, True, w, d, method="zoom", max_iter=10, **search)
        if res.success:
            return res.alpha, res.fun, res.jac
    return None


def _cholesky_step(H: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Raises LinAlgError: not positive definite, or reciprocal condition number (1-norm, LAPACK's
    estimate) below the machine epsilon.

    The factorization is NumPy's, as are the products that built ``H``: NumPy and SciPy each
    bring an OpenBLAS with its own threads, and alternating between the two at every step made
    SciPy's factorization of a 260 x 260 Hessian ten times slower on two busy cores.
    """
    L = np.linalg.cholesky(H)
    rcond, _ = scipy.linalg.lapack.dpocon(L, np.abs(H).sum(axis=0).max(), uplo="L")
    if not rcond >= np.finfo(H.dtype).eps:
        raise np.linalg.LinAlgError(f"ill-conditioned Hessian (reciprocal condition {rcond:.2e})")
    return scipy.linalg.cho_solve((L, True), -g, check_finite=False)


def _converged(g: np.ndarray, tol: float) -> bool:
    return bool(np.abs(g).max(initial=0.0) <= tol)


def newton(loss_grad, hessian, w0: np.ndarray, tol: float, max_iter: int, inner: str):
    """Minimize from ``w0``, each step solved by ``inner``: 'cholesky' (``hessian(w)`` is the
    matrix) or 'cg' (``hessian(w)`` is the function ``v -> H v``).

    Returns ``(w, n_iter, converged, singular)``: ``singular`` says that the Hessian at ``w``
    could not be factored, after ``n_iter`` steps ('cholesky' only).
    """
    step = _cholesky_step if inner == "cholesky" else _cg_step
    w = np.array(w0, dtype=np.float64)
    f, g = loss_grad(w)
    decrement = np.inf if inner == "cholesky" else 0.0  # λ²/2 of the last exact step
    f_before = None  # f one step back, for the first trial step of newton-cg's search
    for it in range(max_iter):
        if _converged(g, tol) and decrement <= tol:
            return w, it, True, False
        try:
            d = step(hessian(w), g)
        except np.linalg.LinAlgError:
            return w, it, False, True
        if inner == "cg":  # as scikit-learn's newton-cg: no step found ends the iteration
            wolfe = _wolfe_step(loss_grad, w, d, f, g, f_before)
            if wolfe is None:
                return w, it, False, False
            t, f_new, g_new = wolfe
            w, f_before, f, g = w + t * d, f, f_new, g_new
            continue
        slope, t = g @ d, 1.0
        while True:
            f_new, g_new = loss_grad(w + t * d)
            if f_new <= f + 1e-4 * t * slope:
                break
            t *= 0.5
            if t < 1e-12:  # no decrease along d: at the precision limit
                return w, it + 1, False, False
        if inner == "cholesky":
            decrement = -0.5 * slope  # d = -H^{-1} g, so -g^T d = d^T H d = λ²
        w, f_before, f, g = w + t * d, f, f_new, g_new
    return w, max_iter, _converged(g, tol) and decrement <= tol, False
