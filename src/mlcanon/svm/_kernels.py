"""Kernel functions for the SVM: linear, polynomial, Gaussian (RBF) and sigmoid.

=========  ===================================
kernel     ``K(x, z)``
=========  ===================================
linear     ``x^T z``
poly       ``(gamma x^T z + coef0)^degree``
rbf        ``exp(-gamma ||x - z||^2)``
sigmoid    ``tanh(gamma x^T z + coef0)``
=========  ===================================

Every kernel is a function of the inner product (and, for the RBF, of the squared norms,
``||x - z||^2 = ||x||^2 + ||z||^2 - 2 x^T z``), so one matrix-vector product gives a whole
kernel row.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["KERNELS", "kernel_matrix", "kernel_row"]

KERNELS = ("linear", "poly", "rbf", "sigmoid", "precomputed")  # index: the code numba reads
LINEAR, POLY, RBF, SIGMOID, PRECOMPUTED = range(5)  # PRECOMPUTED: "X" is the Gram matrix


@njit(cache=True)
def _powi(base, times):
    """``base ** times`` for an integer power by repeated squaring (exact for small powers)."""
    result = 1.0
    t = times
    while t > 0:
        if t % 2 == 1:
            result *= base
        base *= base
        t //= 2
    return result


@njit(cache=True)
def _from_dot(code, dot, sq_a, sq_b, gamma, coef0, degree):
    if code == LINEAR:
        return dot
    if code == POLY:
        return _powi(gamma * dot + coef0, degree)
    if code == RBF:
        return np.exp(-gamma * (sq_a + sq_b - 2.0 * dot))
    return np.tanh(gamma * dot + coef0)


@njit(cache=True)
def kernel_row(i, X, sq, code, gamma, coef0, degree, out):
    """``out[k] = K(x_i, x_k)`` for every row ``k`` of ``X``; ``sq`` holds ``||x_k||^2``."""
    if code == PRECOMPUTED:
        out[:] = X[i]
        return
    dots = X @ X[i]
    for k in range(X.shape[0]):
        out[k] = _from_dot(code, dots[k], sq[i], sq[k], gamma, coef0, degree)


@njit(cache=True)
def kernel_diagonal(X, sq, code, gamma, coef0, degree):
    """``K(x_i, x_i)`` for every row."""
    out = np.empty(X.shape[0])
    for i in range(X.shape[0]):
        if code == PRECOMPUTED:
            out[i] = X[i, i]
        else:
            out[i] = _from_dot(code, sq[i], sq[i], sq[i], gamma, coef0, degree)
    return out


def kernel_matrix(
    A: np.ndarray, B: np.ndarray, kernel: str, gamma: float, coef0: float, degree: int
) -> np.ndarray:
    """Gram matrix ``K[i, j] = K(a_i, b_j)``, shape (n_a, n_b)."""
    dots = A @ B.T
    if kernel == "linear":
        return dots
    if kernel == "poly":
        return (gamma * dots + coef0) ** degree
    if kernel == "rbf":
        sq = (A**2).sum(axis=1)[:, None] + (B**2).sum(axis=1)[None, :] - 2.0 * dots
        return np.exp(-gamma * np.maximum(sq, 0.0))  # rounding can make 0 slightly negative
    return np.tanh(gamma * dots + coef0)
