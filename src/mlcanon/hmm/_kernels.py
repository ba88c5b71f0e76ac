r"""Numba kernels for hidden Markov models: forward-backward in log space, Viterbi, xi sums.

Every lattice is stored as logarithms, so a sequence of any length never underflows. The inner
sum of the forward recursion,

.. math:: \log \alpha_t(j) = \log b_j(x_t) + \log \sum_i \alpha_{t-1}(i) a_{ij},

is evaluated with the log-sum-exp shift taken once per time step rather than once per (i, j)
pair: with :math:`m = \max_i \log\alpha_{t-1}(i)`,

.. math:: \log \sum_i \alpha_{t-1}(i) a_{ij} = m + \log \sum_i e^{\log\alpha_{t-1}(i) - m} a_{ij}.

That is N exponentials and N logarithms per step instead of N^2 of each, and the sum is a
plain matrix-vector product with the transition probabilities. Each term is at most
:math:`a_{ij} \le 1` and the largest state contributes a factor 1, so the sum only leaves the
normal floating-point range when the best previous state cannot move to ``j``; that column
is then redone exactly, term by term, with ``log a_ij``. Sequences are laid end to end in one
array; ``bounds`` holds their start offsets followed by the total length.

References
----------
Rabiner, "A tutorial on hidden Markov models and selected applications in speech recognition",
Proc. IEEE 77(2), 1989, sections III.A-C.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# below this the shifted sum may have lost precision (subnormal): recompute the column exactly
_TINY = 1e-290


@njit(cache=True)
def _logsumexp(v):  # pragma: no cover
    m = v.max()
    if m == -np.inf:
        return -np.inf
    s = 0.0
    for x in v:
        s += np.exp(x - m)
    return m + np.log(s)


@njit(cache=True)
def _forward(log_startprob, transmat, log_transmat, log_frameprob, log_alpha):  # pragma: no cover
    """Fill ``log_alpha`` (T, N) for one sequence and return its log-likelihood."""
    T, N = log_frameprob.shape
    scaled = np.empty(N)
    acc = np.empty(N)
    work = np.empty(N)
    for j in range(N):
        log_alpha[0, j] = log_startprob[j] + log_frameprob[0, j]
    for t in range(1, T):
        m = log_alpha[t - 1].max()
        if m == -np.inf:
            log_alpha[t, :] = -np.inf
            continue
        acc[:] = 0.0
        for i in range(N):
            scaled[i] = np.exp(log_alpha[t - 1, i] - m)
            for j in range(N):
                acc[j] += scaled[i] * transmat[i, j]
        for j in range(N):
            if acc[j] > _TINY:
                log_alpha[t, j] = m + np.log(acc[j]) + log_frameprob[t, j]
            else:
                for i in range(N):
                    work[i] = log_alpha[t - 1, i] + log_transmat[i, j]
                log_alpha[t, j] = _logsumexp(work) + log_frameprob[t, j]
    return _logsumexp(log_alpha[T - 1])


@njit(cache=True)
def _backward(transmat, log_transmat, log_frameprob, log_beta):  # pragma: no cover
    r"""Fill ``log_beta`` (T, N): :math:`\log P(x_{t+1:T} \mid z_t = i)`."""
    T, N = log_frameprob.shape
    v = np.empty(N)
    e = np.empty(N)
    work = np.empty(N)
    log_beta[T - 1, :] = 0.0
    for t in range(T - 2, -1, -1):
        for j in range(N):
            v[j] = log_frameprob[t + 1, j] + log_beta[t + 1, j]
        m = v.max()
        if m == -np.inf:
            log_beta[t, :] = -np.inf
            continue
        for j in range(N):
            e[j] = np.exp(v[j] - m)
        for i in range(N):
            s = 0.0
            for j in range(N):
                s += transmat[i, j] * e[j]
            if s > _TINY:
                log_beta[t, i] = m + np.log(s)
            else:
                for j in range(N):
                    work[j] = log_transmat[i, j] + v[j]
                log_beta[t, i] = _logsumexp(work)


@njit(cache=True)
def _posteriors(log_alpha, log_beta, out):  # pragma: no cover
    r""":math:`\gamma_t(i) \propto \alpha_t(i) \beta_t(i)`, each row normalized to 1."""
    T, N = log_alpha.shape
    g = np.empty(N)
    for t in range(T):
        for i in range(N):
            g[i] = log_alpha[t, i] + log_beta[t, i]
        m = g.max()
        s = 0.0
        for i in range(N):
            g[i] = np.exp(g[i] - m)
            s += g[i]
        for i in range(N):
            out[t, i] = g[i] / s


@njit(cache=True)
def _add_xi_sum(
    log_alpha, log_transmat, log_beta, log_frameprob, log_prob, xi_sum
):  # pragma: no cover
    r"""Add :math:`\sum_t \xi_t(i, j)`, the expected number of i -> j transitions."""
    T, N = log_alpha.shape
    for t in range(T - 1):
        for i in range(N):
            base = log_alpha[t, i] - log_prob
            for j in range(N):
                xi_sum[i, j] += np.exp(
                    base + log_transmat[i, j] + log_frameprob[t + 1, j] + log_beta[t + 1, j]
                )


@njit(cache=True)
def score_sequences(
    log_startprob, transmat, log_transmat, log_frameprob, bounds, posteriors
):  # pragma: no cover
    """Total log-likelihood of all sequences; fills ``posteriors`` unless it has 0 rows."""
    log_alpha = np.empty_like(log_frameprob)
    want = posteriors.shape[0] > 0
    log_beta = np.empty_like(log_frameprob) if want else log_alpha
    total = 0.0
    for s in range(bounds.shape[0] - 1):
        a, b = bounds[s], bounds[s + 1]
        total += _forward(log_startprob, transmat, log_transmat, log_frameprob[a:b], log_alpha[a:b])
        if want:
            _backward(transmat, log_transmat, log_frameprob[a:b], log_beta[a:b])
            _posteriors(log_alpha[a:b], log_beta[a:b], posteriors[a:b])
    return total


@njit(cache=True)
def estep(log_startprob, transmat, log_transmat, log_frameprob, bounds):  # pragma: no cover
    r"""E-step of Baum-Welch over all sequences.

    Returns the total log-likelihood, the posteriors (T, N), the expected initial states
    :math:`\sum_s \gamma^{(s)}_1` and the expected transition counts :math:`\sum \xi`.
    """
    N = log_frameprob.shape[1]
    log_alpha = np.empty_like(log_frameprob)
    log_beta = np.empty_like(log_frameprob)
    posteriors = np.empty_like(log_frameprob)
    start = np.zeros(N)
    xi_sum = np.zeros((N, N))
    total = 0.0
    for s in range(bounds.shape[0] - 1):
        a, b = bounds[s], bounds[s + 1]
        lp = _forward(log_startprob, transmat, log_transmat, log_frameprob[a:b], log_alpha[a:b])
        _backward(transmat, log_transmat, log_frameprob[a:b], log_beta[a:b])
        _posteriors(log_alpha[a:b], log_beta[a:b], posteriors[a:b])
        start += posteriors[a]
        _add_xi_sum(log_alpha[a:b], log_transmat, log_beta[a:b], log_frameprob[a:b], lp, xi_sum)
        total += lp
    return total, posteriors, start, xi_sum


@njit(cache=True)
def viterbi(log_startprob, log_transmat, log_frameprob, bounds):  # pragma: no cover
    r"""Most probable state path of every sequence and the sum of their log-probabilities.

    :math:`\delta_t(j) = \max_i [\delta_{t-1}(i) + \log a_{ij}] + \log b_j(x_t)`; the path is
    traced back from the best final state (the first among ties), recomputing each best
    predecessor (the last among ties) so that no back-pointer table is stored.
    """
    T, N = log_frameprob.shape
    delta = np.empty((T, N))
    path = np.empty(T, dtype=np.int64)
    total = 0.0
    for s in range(bounds.shape[0] - 1):
        a, b = bounds[s], bounds[s + 1]
        for j in range(N):
            delta[a, j] = log_startprob[j] + log_frameprob[a, j]
        for t in range(a + 1, b):
            for j in range(N):
                best = -np.inf
                for i in range(N):
                    v = delta[t - 1, i] + log_transmat[i, j]
                    if v > best:
                        best = v
                delta[t, j] = best + log_frameprob[t, j]
        state = np.argmax(delta[b - 1])
        path[b - 1] = state
        total += delta[b - 1, state]
        for t in range(b - 2, a - 1, -1):
            best = -np.inf
            arg = 0
            for i in range(N):
                v = delta[t, i] + log_transmat[i, state]
                if v >= best:  # among equal predecessors keep the last, as hmmlearn does
                    best = v
                    arg = i
            state = arg
            path[t] = state
    return total, path


@njit(cache=True)
def sample_states(startprob_cdf, transmat_cdf, uniforms, first):  # pragma: no cover
    """Markov chain of ``len(uniforms)`` states by inverse-CDF sampling (``first`` if >= 0)."""
    n = uniforms.shape[0]
    states = np.empty(n, dtype=np.int64)
    state = first if first >= 0 else np.searchsorted(startprob_cdf, uniforms[0], side="right")
    states[0] = state
    for t in range(1, n):
        state = np.searchsorted(transmat_cdf[state], uniforms[t], side="right")
        states[t] = state
    N = startprob_cdf.shape[0]
    for t in range(n):  # guard against a cdf that ends a rounding error below 1
        if states[t] >= N:
            states[t] = N - 1
    return states
