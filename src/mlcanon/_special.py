"""Numerically safe special functions on NumPy arrays, shared by every family.

``logsumexp`` shifts by the maximum so nothing overflows, and an all ``-inf`` slice stays
``-inf`` without a NaN; the softmax family is built on it. The logistic sigmoid is SciPy's
``expit``, a ufunc that is exact on both tails.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit

__all__ = ["expit", "log_softmax", "logsumexp", "softmax"]


def logsumexp(a: np.ndarray, axis: int) -> np.ndarray:
    """``log(sum(exp(a), axis))`` computed as ``m + log(sum(exp(a - m)))`` with ``m = max``."""
    m = np.max(a, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)  # an all -inf slice stays -inf without nan
    with np.errstate(divide="ignore"):
        out = np.log(np.sum(np.exp(a - m), axis=axis, keepdims=True)) + m
    return np.squeeze(out, axis=axis)


def log_softmax(Z: np.ndarray, axis: int = -1) -> np.ndarray:
    """``Z - logsumexp(Z)`` along ``axis``."""
    return Z - np.expand_dims(logsumexp(Z, axis), axis)


def softmax(Z: np.ndarray, axis: int = -1) -> np.ndarray:
    """``exp(log_softmax(Z))``: non-negative, summing to 1 along ``axis``."""
    return np.exp(log_softmax(Z, axis))
