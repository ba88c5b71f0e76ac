"""Entropy, Kullback-Leibler and Jensen-Shannon divergence of discrete distributions."""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from mlcanon._validation import check_array, check_scalar

__all__ = ["entropy", "js_divergence", "kl_divergence"]


def _weights(x: Any, name: str) -> np.ndarray:
    """Non-negative finite weights (probabilities or counts), at least 1-D."""
    arr = check_array(x, name)
    if arr.ndim == 0:
        raise ValueError(f"{name} must be at least 1-D, got a scalar")
    if (arr < 0).any():
        raise ValueError(f"{name} must be non-negative, got min {arr.min():g}")
    return arr


def _normalize(arr: np.ndarray, name: str, axis: int) -> np.ndarray:
    """Scale to sum to 1 along ``axis``; a zero total is not a distribution."""
    check_scalar(axis, "axis", kind=numbers.Integral, low=-arr.ndim, high=arr.ndim - 1)
    total = arr.sum(axis=axis, keepdims=True)
    if (total == 0).any():
        raise ValueError(f"{name} sums to 0 along axis={axis}: it is not a distribution")
    return arr / total


def _log_base(base: float | None) -> float:
    if base is None:
        return 1.0
    check_scalar(base, "base", low=0.0, include_low=False)
    if base == 1:
        raise ValueError("base must be a positive number other than 1, got 1")
    return math.log(base)


def _relative_entropy_terms(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Elementwise p log(p / q): 0 where p = 0, +inf where p > 0 = q."""
    with np.errstate(divide="ignore", invalid="ignore"):  # q = 0 cells; masked just below
        terms = p * np.log(np.where(p > 0, p, 1.0) / q)
    return np.where(p > 0, terms, 0.0)


def _pair(p: Any, q: Any, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """Broadcast ``p`` and ``q`` together, then normalize each (as scipy.stats.entropy does)."""
    p, q = _weights(p, "p"), _weights(q, "q")
    try:
        p, q = np.broadcast_arrays(p, q)
    except ValueError:
        raise ValueError(
            f"p of shape {p.shape} and q of shape {q.shape} do not broadcast"
        ) from None
    return _normalize(p, "p", axis), _normalize(q, "q", axis)


def entropy(p: Any, q: Any = None, base: float | None = None, axis: int = 0) -> Any:
    r"""Shannon entropy of ``p``, or the relative entropy (KL divergence) of ``p`` from ``q``.

    Same contract as ``scipy.stats.entropy``: inputs are scaled to sum to 1 along ``axis``.

    Parameters
    ----------
    p : array-like
        Non-negative weights (probabilities or counts) along ``axis``.
    q : array-like, default=None
        Second distribution, broadcast against ``p``; if given, return :math:`D(p \| q)`.
    base : float, default=None
        Logarithm base (2 for bits); natural logarithm (nats) by default.
    axis : int, default=0
        Axis holding the outcomes.

    Returns
    -------
    float or ndarray
        One value per distribution.

    Notes
    -----
    .. math:: H(p) = -\sum_k p_k \log p_k, \qquad D(p \| q) = \sum_k p_k \log\frac{p_k}{q_k},

    with :math:`0 \log 0 = 0`; :math:`D = +\infty` when some :math:`p_k > 0 = q_k`.

    References
    ----------
    .. [1] C. E. Shannon, "A mathematical theory of communication", Bell System Technical
       Journal 27, 379-423, 1948.
    .. [2] T. M. Cover and J. A. Thomas, *Elements of Information Theory*, 2nd ed., Wiley,
       2006, Sections 2.1 and 2.3.
    """
    scale = _log_base(base)
    if q is not None:
        p, q = _pair(p, q, axis)
        return _relative_entropy_terms(p, q).sum(axis=axis) / scale
    p = _normalize(_weights(p, "p"), "p", axis)
    terms = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0)
    return -terms.sum(axis=axis) / scale


def kl_divergence(p: Any, q: Any, base: float | None = None, *, axis: int = 0) -> Any:
    r"""Kullback-Leibler divergence :math:`D(p \| q)`: the extra cost of coding ``p`` with ``q``.

    Parameters
    ----------
    p, q : array-like
        Non-negative weights along ``axis``, each scaled to sum to 1; broadcast together.
    base : float, default=None
        Logarithm base; nats by default.
    axis : int, default=0
        Axis holding the outcomes.

    Returns
    -------
    float or ndarray
        :math:`D(p \| q) \ge 0`, zero iff :math:`p = q`; :math:`+\infty` if ``q`` misses part
        of the support of ``p``.

    Notes
    -----
    .. math:: D(p \| q) = \sum_k p_k \log\frac{p_k}{q_k} = H(p, q) - H(p),

    the cross-entropy :math:`H(p, q) = -\sum_k p_k \log q_k` minus the entropy of ``p``. It is
    not symmetric: :math:`D(p \| q)` punishes ``q`` for putting little mass where ``p`` has
    some, :math:`D(q \| p)` the reverse.

    References
    ----------
    .. [1] S. Kullback and R. A. Leibler, "On information and sufficiency", Annals of
       Mathematical Statistics 22(1), 79-86, 1951.
    .. [2] T. M. Cover and J. A. Thomas, *Elements of Information Theory*, 2nd ed., 2006,
       Section 2.3.
    """
    if q is None:
        raise TypeError("kl_divergence needs q, got None; use entropy(p) for the entropy")
    return entropy(p, q, base=base, axis=axis)


def js_divergence(p: Any, q: Any, base: float | None = None, *, axis: int = 0) -> Any:
    r"""Jensen-Shannon divergence: the mean KL divergence of ``p`` and ``q`` from their mixture.

    Parameters
    ----------
    p, q : array-like
        Non-negative weights along ``axis``, each scaled to sum to 1; broadcast together.
    base : float, default=None
        Logarithm base; with base 2 the divergence lies in [0, 1].
    axis : int, default=0
        Axis holding the outcomes.

    Returns
    -------
    float or ndarray
        Symmetric, finite, at most :math:`\log 2`. Its square root is the metric that
        ``scipy.spatial.distance.jensenshannon`` returns.

    Notes
    -----
    .. math:: \mathrm{JS}(p, q) = \tfrac12 D(p \| m) + \tfrac12 D(q \| m),
              \qquad m = \tfrac12 (p + q).

    References
    ----------
    .. [1] J. Lin, "Divergence measures based on the Shannon entropy", IEEE Transactions on
       Information Theory 37(1), 145-151, 1991.
    .. [2] D. M. Endres and J. E. Schindelin, "A new metric for probability distributions",
       IEEE Transactions on Information Theory 49(7), 1858-1860, 2003.
    """
    scale = _log_base(base)
    p, q = _pair(p, q, axis)
    m = (p + q) / 2.0
    terms = _relative_entropy_terms(p, m) + _relative_entropy_terms(q, m)
    return terms.sum(axis=axis) / (2.0 * scale)
