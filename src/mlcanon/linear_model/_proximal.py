r"""Proximal methods for a smooth loss plus a weighted L1 penalty: FISTA and proximal Newton.

.. math:: \min_x g(x) + \sum_j \lambda_j |x_j|

Each step is a gradient step on ``g`` followed by the proximal map of the penalty, the
soft-threshold ``S(v, t λ) = sign(v) max(|v| - t λ, 0)``; that is how a non-differentiable
penalty is handled without subgradients, and why exact zeros appear. The step ``1/L`` comes from
backtracking until ``L`` bounds the curvature of ``g`` along the step; Nesterov's momentum is
restarted whenever it points against the latest step (the gradient restart test).

Proximal Newton (:func:`prox_newton`) replaces the gradient step by the L1-penalized quadratic
model ``g(x) + ∇g^T d + d^T ∇²g d / 2 + Σ λ_j |x_j + d_j|``, minimized by cyclic coordinate
descent (each coordinate's exact minimizer is a soft-threshold), then backtracks along ``d``
until the objective decreases enough (Armijo's test with the model's predicted decrease). It
uses the curvature of every coordinate, so it stays fast where features live on very different
scales (FISTA's single step ``1/L`` must suit the stiffest one); it is the scheme of GLMNET and
of liblinear's newGLMNET, without their shrinking heuristics.

Convergence is tested on the smallest subgradient: ``|∇_j g + λ_j sign(x_j)|`` where
``x_j ≠ 0`` and ``max(|∇_j g| - λ_j, 0)`` where ``x_j = 0``; its largest entry must fall below
``tol`` (the non-smooth counterpart of a gradient-norm test).

References
----------
Beck & Teboulle (2009), "A fast iterative shrinkage-thresholding algorithm for linear inverse
problems", SIAM J. Imaging Sci. 2(1). O'Donoghue & Candès (2015), "Adaptive restart for
accelerated gradient schemes", Found. Comput. Math. 15(3). Yuan, Ho & Lin (2012), "An improved
GLMNET for L1-regularized logistic regression", JMLR 13, Section 3 (proximal Newton with a
coordinate-descent inner solver, line search of Eq. (20)).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numba import njit

__all__ = ["fista", "min_norm_subgradient", "prox_newton", "soft_threshold"]


def soft_threshold(v: np.ndarray, thresh: np.ndarray) -> np.ndarray:
    """``sign(v) * max(|v| - thresh, 0)`` elementwise."""
    return np.sign(v) * np.maximum(np.abs(v) - thresh, 0.0)


def min_norm_subgradient(x: np.ndarray, grad: np.ndarray, l1: np.ndarray) -> np.ndarray:
    """The element of ``∇g(x) + ∂(Σ λ_j |x_j|)`` closest to zero."""
    return np.where(
        x != 0, grad + l1 * np.sign(x), np.sign(grad) * np.maximum(np.abs(grad) - l1, 0)
    )


def fista(
    fun_grad: Callable[[np.ndarray], tuple[float, np.ndarray]],
    l1: np.ndarray,
    x0: np.ndarray,
    *,
    tol: float,
    max_iter: int,
) -> tuple[np.ndarray, int, bool]:
    """Minimize ``g(x) + Σ l1_j |x_j|`` from ``x0``; ``fun_grad(x)`` returns ``(g, ∇g)``.

    Returns ``(x, n_iter, converged)``.
    """
    x = np.array(x0, dtype=np.float64)
    _, grad_x = fun_grad(x)
    if np.abs(min_norm_subgradient(x, grad_x, l1)).max(initial=0.0) <= tol:
        return x, 0, True
    y, grad_y = x, grad_x
    L, t = 1.0, 1.0
    for n_iter in range(1, max_iter + 1):
        L *= 0.9  # let the step grow back after a conservative backtrack
        while True:
            x_new = soft_threshold(y - grad_y / L, l1 / L)
            d = x_new - y
            _, grad_new = fun_grad(x_new)
            # step 1/L is safe if L bounds the curvature of g along d; tested on gradients,
            # because near the optimum differences of g values drown in rounding
            if (grad_new - grad_y) @ d <= 0.5 * L * (d @ d):
                break
            L *= 2.0
        if np.abs(min_norm_subgradient(x_new, grad_new, l1)).max(initial=0.0) <= tol:
            return x_new, n_iter, True
        if (y - x_new) @ (x_new - x) > 0:  # momentum points uphill: restart it
            t = 1.0
        t_next = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * t * t))
        y = x_new + ((t - 1.0) / t_next) * (x_new - x)
        x, t = x_new, t_next
        _, grad_y = fun_grad(y)
    return x, max_iter, False


@njit(cache=True)
def _quadratic_l1_cd(H, q, l1, u, tol, max_sweeps):
    """Minimize ``u^T H u / 2 - q^T u + Σ l1_j |u_j|`` in place from ``u`` by cyclic coordinate
    descent, until a sweep moves no coordinate's gradient entry (``H_jj |Δu_j|``) by more than
    ``tol``. ``H`` is symmetric, so its row ``j`` is its column ``j``."""
    grad = H @ u - q
    for _ in range(max_sweeps):
        biggest = 0.0
        for j in range(u.size):
            a = H[j, j]
            if a <= 0.0:  # a feature that is zero on every sample: nothing to fit
                continue
            z = u[j] - grad[j] / a
            new = np.sign(z) * max(abs(z) - l1[j] / a, 0.0)
            step = new - u[j]
            if step != 0.0:
                grad += step * H[j]
                u[j] = new
                biggest = max(biggest, abs(step) * a)
        if biggest <= tol:
            break
    return u


def prox_newton(
    fun_grad: Callable[[np.ndarray], tuple[float, np.ndarray]],
    hessian: Callable[[np.ndarray], np.ndarray],
    l1: np.ndarray,
    x0: np.ndarray,
    *,
    tol: float,
    max_iter: int,
) -> tuple[np.ndarray, int, bool]:
    """Minimize ``g(x) + Σ l1_j |x_j|`` from ``x0`` by proximal Newton; ``fun_grad(x)`` returns
    ``(g, ∇g)`` and ``hessian(x)`` the matrix ``∇²g`` (positive semi-definite).

    Returns ``(x, n_iter, converged)``, ``n_iter`` counting Newton steps.
    """
    x = np.array(x0, dtype=np.float64)
    f, grad = fun_grad(x)
    F = f + l1 @ np.abs(x)
    for n_iter in range(max_iter):
        size = np.abs(min_norm_subgradient(x, grad, l1)).max(initial=0.0)
        if size <= tol:
            return x, n_iter, True
        H = np.ascontiguousarray(hessian(x))
        # the quadratic model in u = x + d: u^T H u / 2 - (H x - ∇g)^T u + Σ λ_j |u_j|
        u = _quadratic_l1_cd(H, H @ x - grad, l1, x.copy(), max(0.1 * tol, 1e-3 * size), 1000)
        d = u - x
        decrease = grad @ d + l1 @ (np.abs(u) - np.abs(x))  # < 0 unless x is optimal
        # a predicted decrease below the rounding of F cannot be tested: the model is exact
        # at that scale, so the full step is taken
        exact = -decrease <= 1e-15 * abs(F)
        t = 1.0
        while True:
            x_new = x + t * d
            f_new, grad_new = fun_grad(x_new)
            F_new = f_new + l1 @ np.abs(x_new)
            if exact or F_new <= F + 0.01 * t * decrease:
                break
            t *= 0.5
            if t < 1e-12:  # no decrease along d: at the precision limit
                converged = np.abs(min_norm_subgradient(x, grad, l1)).max(initial=0.0) <= tol
                return x, n_iter + 1, bool(converged)
        x, grad, F = x_new, grad_new, F_new
    converged = np.abs(min_norm_subgradient(x, grad, l1)).max(initial=0.0) <= tol
    return x, max_iter, bool(converged)
