r"""Forward-backward with per-step scaling (Rabiner's scaled variables), hmmlearn's "scaling".

Instead of logarithms, each forward variable is normalized to sum to one,

.. math::
    \hat\alpha_t(j) = \frac{b_j(x_t) \sum_i \hat\alpha_{t-1}(i) a_{ij}}{c_t}, \qquad
    \log P(x) = \sum_t \log c_t,

and the backward variables reuse the same constants,
:math:`\hat\beta_t(i) = \sum_j a_{ij} b_j(x_{t+1}) \hat\beta_{t+1}(j) / c_{t+1}`. Then
:math:`\gamma_t(i) = \hat\alpha_t(i) \hat\beta_t(i)` and
:math:`\xi_t(i, j) = \hat\alpha_t(i) a_{ij} b_j(x_{t+1}) \hat\beta_{t+1}(j) / c_{t+1}`. The
emission probabilities enter as :math:`b_j(x_t) e^{-m_t}` with :math:`m_t = \max_j \log
b_j(x_t)` (the shift is added back to the log-likelihood), so an emission density far below
the smallest float does not underflow. Results equal the log-space kernels' (``_kernels``)
up to rounding; this one needs no exponential or logarithm inside the N^2 loops. A sequence
whose scaled recursion reaches :math:`c_t = 0` (its probability is 0, or underflowed in the
products of transitions and shifted densities) is done again by the log-space kernels, which
tell the two apart: the results are then the log-space ones (-inf and NaN posteriors for a
sequence of probability 0, as hmmlearn's log implementation gives).

References
----------
Rabiner, "A tutorial on hidden Markov models and selected applications in speech recognition",
Proc. IEEE 77(2), 1989, section V.A (scaling).
"""

from __future__ import annotations

import itertools

import numpy as np
from numba import njit

from . import _kernels


@njit(cache=True)
def _forward(startprob, transmat, frameprob, alpha, scale):  # pragma: no cover
    """Scaled forward pass of one sequence; returns ``sum log c_t`` (-inf if P(x) = 0)."""
    T, N = frameprob.shape
    log_prob = 0.0
    for t in range(T):
        c = 0.0
        for j in range(N):
            if t == 0:
                v = startprob[j]
            else:
                v = 0.0
                for i in range(N):
                    v += alpha[t - 1, i] * transmat[i, j]
            v *= frameprob[t, j]
            alpha[t, j] = v
            c += v
        if c == 0.0:
            return -np.inf
        for j in range(N):
            alpha[t, j] /= c
        scale[t] = c
        log_prob += np.log(c)
    return log_prob


@njit(cache=True)
def _backward(transmat, frameprob, scale, beta):  # pragma: no cover
    T, N = frameprob.shape
    for i in range(N):
        beta[T - 1, i] = 1.0
    for t in range(T - 2, -1, -1):
        for i in range(N):
            v = 0.0
            for j in range(N):
                v += transmat[i, j] * frameprob[t + 1, j] * beta[t + 1, j]
            beta[t, i] = v / scale[t + 1]


@njit(cache=True)
def _posteriors(alpha, beta, out):  # pragma: no cover
    T, N = alpha.shape
    for t in range(T):
        s = 0.0
        for i in range(N):
            out[t, i] = alpha[t, i] * beta[t, i]
            s += out[t, i]
        for i in range(N):
            out[t, i] /= s


@njit(cache=True)
def _add_xi_sum(alpha, transmat, frameprob, beta, scale, xi_sum):  # pragma: no cover
    T, N = alpha.shape
    for t in range(T - 1):
        for i in range(N):
            for j in range(N):
                xi_sum[i, j] += (
                    alpha[t, i] * transmat[i, j] * frameprob[t + 1, j] * beta[t + 1, j]
                ) / scale[t + 1]


@njit(cache=True)
def _one_sequence(
    startprob, transmat, frameprob, alpha, beta, scale, posteriors, xi_sum
):  # pragma: no cover
    """Forward (and, when ``posteriors`` has rows, backward) over one sequence."""
    lp = _forward(startprob, transmat, frameprob, alpha, scale)
    if posteriors.shape[0] > 0 and np.isfinite(lp):
        _backward(transmat, frameprob, scale, beta)
        _posteriors(alpha, beta, posteriors)
        if xi_sum.shape[0] > 0:
            _add_xi_sum(alpha, transmat, frameprob, beta, scale, xi_sum)
    return lp


def _shifted(log_frameprob: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``exp(log b - m_t)`` per row, and ``m_t`` to add back to the log-likelihood."""
    m = log_frameprob.max(axis=1)
    m = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(under="ignore"):  # a state far below the best one gets probability 0
        return np.exp(log_frameprob - m[:, None]), m


def _logs(startprob: np.ndarray, transmat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    with np.errstate(divide="ignore"):
        return np.log(startprob), np.log(transmat)


def score_sequences(startprob, transmat, log_frameprob, bounds, posteriors):
    """Total log-likelihood of all sequences; fills ``posteriors`` unless it has 0 rows."""
    frameprob, shift = _shifted(log_frameprob)
    alpha, beta, scale = (
        np.empty_like(frameprob),
        np.empty_like(frameprob),
        np.empty(len(frameprob)),
    )
    no_xi = np.zeros((0, 0))
    total = 0.0
    for a, b in itertools.pairwise(bounds):
        post = posteriors[a:b] if posteriors.shape[0] else posteriors
        lp = _one_sequence(
            startprob, transmat, frameprob[a:b], alpha[a:b], beta[a:b], scale[a:b], post, no_xi
        )
        if lp == -np.inf:  # probability 0 or underflow: the log-space kernels tell which
            log_start, log_trans = _logs(startprob, transmat)
            lp = _kernels.score_sequences(
                log_start, transmat, log_trans, log_frameprob[a:b], np.array([0, b - a]), post
            )
        else:
            lp += shift[a:b].sum()
        total += lp
    return total


def estep(startprob, transmat, log_frameprob, bounds):
    """E-step of Baum-Welch: as :func:`mlcanon.hmm._kernels.estep`, with scaled variables."""
    frameprob, shift = _shifted(log_frameprob)
    T, N = frameprob.shape
    alpha, beta, scale = np.empty_like(frameprob), np.empty_like(frameprob), np.empty(T)
    posteriors, start, xi_sum = np.empty((T, N)), np.zeros(N), np.zeros((N, N))
    total = 0.0
    for a, b in itertools.pairwise(bounds):
        lp = _one_sequence(
            startprob,
            transmat,
            frameprob[a:b],
            alpha[a:b],
            beta[a:b],
            scale[a:b],
            posteriors[a:b],
            xi_sum,
        )
        if lp == -np.inf:  # probability 0 or underflow: the log-space kernels tell which
            log_start, log_trans = _logs(startprob, transmat)
            lp, posteriors[a:b], _, xi = _kernels.estep(
                log_start, transmat, log_trans, log_frameprob[a:b], np.array([0, b - a])
            )
            xi_sum += xi
        else:
            lp += shift[a:b].sum()
        start += posteriors[a]
        total += lp
    return total, posteriors, start, xi_sum
