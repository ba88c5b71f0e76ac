"""Numerically safe special functions on NumPy arrays, shared by every family.

``logsumexp`` shifts by the maximum so nothing overflows, and an all ``-inf`` slice stays
``-inf`` without a NaN; the softmax family is built on it. The logistic sigmoid is SciPy's
``expit``, a ufunc that is exact on both tails. ``soft_threshold`` is a scalar numba kernel,
for the kernels of coordinate descent and of the boosters' L1 term.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from scipy.special import expit

__all__ = ["expit", "log_softmax", "logsumexp", "soft_threshold", "softmax"]


@njit(cache=True, nogil=True, inline="always")
def soft_threshold(z: float, t: float) -> float:
    """The proximal map of ``t |x|`` at ``z``: ``sign(z) max(|z| - t, 0)``."""
    if z > t:
        return z - t
    if z < -t:
        return z + t
    return 0.0


def logsumexp(a: np.ndarray, axis: int) -> np.ndarray:
    """``log(sum(exp(a), axis))`` computed as ``m + log(sum(exp(a - m)))`` with ``m = max``."""
    m = np.max(a, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)  # an all -inf slice stays -inf without nan
    with np.errstate(divide="ignore"):
        out = np.log(np.sum(np.exp(a - m), axis=axis, keepdims=True)) + m
    return np.squeeze(out, axis=axis)


def log_softmax(Z: np.ndarray, axis: int = -1) -> np.ndarray:
    """``Z - logsumexp(Z)`` along ``axis``, formed as ``(Z - m) - log(sum(exp(Z - m)))``.

    Shifting first keeps the result exact to rounding relative to the log-probabilities: with
    ``|Z| ~ 1e14`` (scores of far-off features) ``logsumexp(Z)`` rounds at ``1e14 * eps``, which
    ``Z - logsumexp(Z)`` would carry into every log-probability.
    """
    m = np.max(Z, axis=axis, keepdims=True)
    shifted = Z - np.where(np.isfinite(m), m, 0.0)  # an all -inf slice stays -inf
    with np.errstate(divide="ignore"):
        return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def softmax(Z: np.ndarray, axis: int = -1) -> np.ndarray:
    """``exp(log_softmax(Z))``: non-negative, summing to 1 along ``axis``."""
    return np.exp(log_softmax(Z, axis))
