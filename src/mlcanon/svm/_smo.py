r"""Sequential minimal optimization for the SVM duals, as in LIBSVM.

LIBSVM's C-SVC and epsilon-SVR duals are one problem: with labels ``y_i = ±1``, a linear term
``p`` and per-variable bounds ``C_i``,

.. math::

    \min_\alpha \tfrac12 \alpha^T Q \alpha + p^T \alpha \quad \text{s.t.} \quad
    0 \le \alpha_i \le C_i, \; y^T \alpha = 0, \qquad
    Q_{ij} = y_i y_j K(x_{m(i)}, x_{m(j)}),

where ``m`` maps each variable to its sample. C-SVC has ``p = -e`` and ``m`` the identity.
Epsilon-SVR with targets ``z`` has ``2n`` variables ``[α; α*]``, ``y = [e; -e]``,
``p = [ε e - z; ε e + z]`` and ``m(i) = m(i + n) = i``: two variables share one kernel row
(Chang & Lin 2011, Section 2.3).

The one-class SVM is the same problem with ``y = e``, ``p = 0`` and ``e^T α = ν Σ C_i`` fixed
by a feasible start (LIBSVM's: the first variables at their bounds until the sum is reached).
The nu-SVMs (nu-SVC, nu-SVR) also fix ``e^T α``: besides ``y^T α = 0`` they keep the sum of
each label's multipliers, so a step pairs two variables of the same label, chosen within each
label apart (LIBSVM's ``Solver_NU``), and the offset comes from two labels' means
(Chang & Lin 2001, 2002).

SMO changes two multipliers at a time (the fewest that can keep ``y^T α = 0``), solving the
two-variable problem in closed form and clipping it to the box. The pair is chosen by the
second-order rule of Fan, Chen & Lin (2005): ``i`` is the most violating index
``argmax_{t in I_up} -y_t ∇f_t``; ``j`` is the partner in ``I_low`` that promises the largest
decrease of the objective, ``-(b_ij^2) / a_ij`` with ``b_ij = -y_i ∇f_i + y_j ∇f_j`` and
``a_ij = K_ii + K_jj - 2 K_ij``. The loop stops when the maximal violation
``m(α) - M(α)`` falls below ``tol``.

Rows are computed on demand and kept in a least-recently-used cache, stored in single precision
as LIBSVM does (half the memory, so twice the rows fit); gradients stay in double. With the
identity map the cache holds rows of ``Q`` themselves; otherwise it holds kernel rows, one per
sample, and a row of ``Q`` is spread from one of them with the signs ``y_i y_j`` (LIBSVM's
``SVC_Q`` and ``SVR_Q``).

References
----------
Platt (1998), "Sequential minimal optimization: a fast algorithm for training support vector
machines", MSR-TR-98-14. Fan, Chen & Lin (2005), "Working set selection using second order
information for training support vector machines", JMLR 6, Algorithm 1 / WSS 3. Chang & Lin
(2011), "LIBSVM: a library for support vector machines", ACM TIST 2(3), Section 4.1. Chang &
Lin (2001), "Training nu-support vector classifiers", Neural Computation 13(9); (2002),
"Training nu-support vector regression", Neural Computation 14(8).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ._kernels import kernel_diagonal, kernel_row

__all__ = ["smo_solve"]

TAU = 1e-12  # stands in for a non-positive curvature a_ij (non-PSD kernels, duplicate points)
LOWER, UPPER, FREE = 0, 1, 2


# Slots of the row cache (a tuple, so that numba keeps each array's own type): the cached rows,
# the slot holding each row (-1 if none), the row held by each slot, each slot's last use, the
# counters, scratch space for one kernel row, and three rows of ``Q`` spread from the cache when
# variables map onto samples many-to-one, filled in turn: ``Q_i`` and ``Q_j`` are used together,
# and nu-SVM's selection reads two candidate rows, the one it picks then used beside ``Q_j``.
ROWS, SLOT_OF, OWNER, LAST_USE, COUNTERS, SCRATCH, SPREAD = 0, 1, 2, 3, 4, 5, 6
# COUNTERS: the clock (one tick per lookup), the number of slots filled so far, the SPREAD row
# to fill next, and whether the map is many-to-one (1) or the identity (0)
TICK, FILLED, NEXT_SPREAD, MAPPED = 0, 1, 2, 3
# kern: the kernel's code and parameters
CODE, GAMMA, COEF0, DEGREE = 0, 1, 2, 3


@njit(cache=True)
def _status(alpha, C):
    if alpha >= C:
        return UPPER
    if alpha <= 0.0:
        return LOWER
    return FREE


@njit(cache=True)
def _q_row(i, X, sq, y, index, kern, cache):
    """Row ``Q[i]`` (float32) from the LRU cache, computing the kernel row on a miss."""
    rows, slot_of, owner = cache[ROWS], cache[SLOT_OF], cache[OWNER]
    last_use, counters, buf = cache[LAST_USE], cache[COUNTERS], cache[SCRATCH]
    mapped = counters[MAPPED] == 1
    r = index[i]  # the sample whose kernel row is needed
    s = slot_of[r]
    if s < 0:
        if counters[FILLED] < rows.shape[0]:  # a free slot is left
            s = counters[FILLED]
            counters[FILLED] += 1
        else:  # evict the least recently used row
            s = np.argmin(last_use)
            slot_of[owner[s]] = -1
        owner[s] = r
        slot_of[r] = s
        degree = int(kern[DEGREE])
        kernel_row(r, X, sq, kern[CODE], kern[GAMMA], kern[COEF0], degree, buf)
        if mapped:
            for k in range(X.shape[0]):
                rows[s, k] = np.float32(buf[k])
        else:
            for k in range(X.shape[0]):
                rows[s, k] = np.float32(y[i] * y[k] * buf[k])
    counters[TICK] += 1
    last_use[s] = counters[TICK]
    if not mapped:
        return rows[s]
    out = cache[SPREAD][counters[NEXT_SPREAD]]
    counters[NEXT_SPREAD] = (counters[NEXT_SPREAD] + 1) % 3
    row = rows[s]
    for k in range(y.shape[0]):  # the signs are exact in float32, as LIBSVM's SVR_Q::get_Q
        out[k] = np.float32(y[i] * y[k]) * row[index[k]]
    return out


@njit(cache=True)
def _select_working_set(G, y, status, QD, tol, X, sq, index, kern, cache):
    """WSS 3 of Fan et al. (2005); returns ``(i, j, Q_i)``, with ``j = -1`` when optimal."""
    g_max, g_max2, i = -np.inf, -np.inf, -1
    for t in range(G.shape[0]):
        if y[t] > 0:
            if status[t] != UPPER and -G[t] >= g_max:
                g_max, i = -G[t], t
        elif status[t] != LOWER and G[t] >= g_max:
            g_max, i = G[t], t
    if i < 0:
        return -1, -1, cache[ROWS][0, :0]
    Qi = _q_row(i, X, sq, y, index, kern, cache)
    j, best = -1, np.inf
    for t in range(G.shape[0]):
        if y[t] > 0:
            if status[t] == LOWER:
                continue
            grad_diff = g_max + G[t]
            g_max2 = max(g_max2, G[t])
            quad = QD[i] + QD[t] - 2.0 * y[i] * Qi[t]
        else:
            if status[t] == UPPER:
                continue
            grad_diff = g_max - G[t]
            g_max2 = max(g_max2, -G[t])
            quad = QD[i] + QD[t] + 2.0 * y[i] * Qi[t]
        if grad_diff > 0.0:
            gain = -(grad_diff * grad_diff) / (quad if quad > 0.0 else TAU)
            if gain <= best:
                j, best = t, gain
    if g_max + g_max2 < tol:
        return i, -1, Qi
    return i, j, Qi


@njit(cache=True)
def _select_working_set_nu(G, y, status, QD, tol, X, sq, index, kern, cache):
    """WSS 3 for the nu-SVM duals (LIBSVM's ``Solver_NU``): with two equality constraints,
    ``y^T α`` and ``e^T α`` fixed, both variables of a step have the same label, so the rule of
    :func:`_select_working_set` runs within each label apart (candidates ``i_+`` and ``i_-``)
    and the partner ``j`` with the largest decrease over both picks the pair. Optimal when the
    violation of each label is below ``tol``; returns ``(i, j, Q_i)``, ``j = -1`` then."""
    gmax_p, gmax_p2, ip = -np.inf, -np.inf, -1
    gmax_n, gmax_n2, i_n = -np.inf, -np.inf, -1
    for t in range(G.shape[0]):
        if y[t] > 0:
            if status[t] != UPPER and -G[t] >= gmax_p:
                gmax_p, ip = -G[t], t
        elif status[t] != LOWER and G[t] >= gmax_n:
            gmax_n, i_n = G[t], t
    empty = cache[ROWS][0, :0]
    Qp = _q_row(ip, X, sq, y, index, kern, cache) if ip >= 0 else empty
    Qn = _q_row(i_n, X, sq, y, index, kern, cache) if i_n >= 0 else empty
    j, best = -1, np.inf
    for t in range(G.shape[0]):
        if y[t] > 0:
            if status[t] == LOWER:
                continue
            grad_diff = gmax_p + G[t]
            gmax_p2 = max(gmax_p2, G[t])
            if grad_diff <= 0.0:  # also when no candidate i_+ exists (gmax_p = -inf)
                continue
            quad = QD[ip] + QD[t] - 2.0 * Qp[t]
        else:
            if status[t] == UPPER:
                continue
            grad_diff = gmax_n - G[t]
            gmax_n2 = max(gmax_n2, -G[t])
            if grad_diff <= 0.0:
                continue
            quad = QD[i_n] + QD[t] - 2.0 * Qn[t]
        gain = -(grad_diff * grad_diff) / (quad if quad > 0.0 else TAU)
        if gain <= best:
            j, best = t, gain
    if max(gmax_p + gmax_p2, gmax_n + gmax_n2) < tol or j < 0:
        return -1, -1, empty
    if y[j] > 0:
        return ip, j, Qp
    return i_n, j, Qn


@njit(cache=True)
def _two_variable_step(i, j, y, alpha, G, QD, Qij, C):
    """Minimize over ``(α_i, α_j)`` on the line ``y_i α_i + y_j α_j = const``, then clip to
    the box (Chang & Lin 2011, Section 4.1.2)."""
    Ci, Cj = C[i], C[j]
    if y[i] != y[j]:
        quad = QD[i] + QD[j] + 2.0 * Qij
        delta = (-G[i] - G[j]) / (quad if quad > 0.0 else TAU)
        diff = alpha[i] - alpha[j]
        alpha[i] += delta
        alpha[j] += delta
        if diff > 0.0:
            if alpha[j] < 0.0:
                alpha[j], alpha[i] = 0.0, diff
        elif alpha[i] < 0.0:
            alpha[i], alpha[j] = 0.0, -diff
        if diff > Ci - Cj:
            if alpha[i] > Ci:
                alpha[i], alpha[j] = Ci, Ci - diff
        elif alpha[j] > Cj:
            alpha[j], alpha[i] = Cj, Cj + diff
    else:
        quad = QD[i] + QD[j] - 2.0 * Qij
        delta = (G[i] - G[j]) / (quad if quad > 0.0 else TAU)
        total = alpha[i] + alpha[j]
        alpha[i] -= delta
        alpha[j] += delta
        if total > Ci:
            if alpha[i] > Ci:
                alpha[i], alpha[j] = Ci, total - Ci
        elif alpha[j] < 0.0:
            alpha[j], alpha[i] = 0.0, total
        if total > Cj:
            if alpha[j] > Cj:
                alpha[j], alpha[i] = Cj, total - Cj
        elif alpha[i] < 0.0:
            alpha[i], alpha[j] = 0.0, total


@njit(cache=True)
def _rho(G, y, status):
    """Offset ``ρ`` (decision ``f(x) = Σ y_i α_i K(x_i, x) - ρ``): the mean of ``y_i ∇f_i`` over
    free multipliers, else the middle of the feasible interval."""
    upper, lower, total, n_free = np.inf, -np.inf, 0.0, 0
    for t in range(G.shape[0]):
        yG = y[t] * G[t]
        if status[t] == UPPER:
            if y[t] < 0:
                upper = min(upper, yG)
            else:
                lower = max(lower, yG)
        elif status[t] == LOWER:
            if y[t] > 0:
                upper = min(upper, yG)
            else:
                lower = max(lower, yG)
        else:
            n_free += 1
            total += yG
    return total / n_free if n_free > 0 else 0.5 * (upper + lower)


@njit(cache=True)
def _rho_nu(G, y, status):
    """nu-SVM's two offsets (LIBSVM's ``Solver_NU::calculate_rho``): ``r_+`` and ``r_-``, each
    the mean of ``∇f`` over its label's free multipliers (else the middle of its feasible
    interval); returns ``ρ = (r_+ - r_-) / 2`` and ``r = (r_+ + r_-) / 2``."""
    ub, lb = np.full(2, np.inf), np.full(2, -np.inf)
    total, n_free = np.zeros(2), np.zeros(2, dtype=np.int64)
    for t in range(G.shape[0]):
        g = 0 if y[t] > 0 else 1
        if status[t] == UPPER:
            lb[g] = max(lb[g], G[t])
        elif status[t] == LOWER:
            ub[g] = min(ub[g], G[t])
        else:
            n_free[g] += 1
            total[g] += G[t]
    r = np.empty(2)
    for g in range(2):
        r[g] = total[g] / n_free[g] if n_free[g] > 0 else (ub[g] + lb[g]) / 2.0
    return (r[0] - r[1]) / 2.0, (r[0] + r[1]) / 2.0


@njit(cache=True)
def smo_solve(X, y, p, index, C, alpha0, nu, code, gamma, coef0, degree, tol, max_iter, n_slots):
    """Solve the dual for samples ``X`` (n, d) (the Gram matrix for a precomputed kernel) and
    variables with labels ``y`` (±1.0), linear term ``p``, samples ``index`` (int64, values in
    ``[0, n)``), bounds ``C`` and feasible starting point ``alpha0``, all of shape (l,).
    C-SVC: ``p = -1``, ``index = arange(n)``, ``alpha0 = 0``. ``nu``: the nu-SVM duals, which
    also fix ``e^T α`` (selection within each label, :func:`_select_working_set_nu`).

    Returns ``(y * alpha, rho, r, n_iter, converged)``; ``r`` is nu-SVM's second offset (0
    otherwise). ``n_slots`` kernel rows are cached.
    """
    n, l = X.shape[0], y.shape[0]
    sq = np.empty(n)
    for k in range(n):
        sq[k] = np.dot(X[k], X[k])
    QD = kernel_diagonal(X, sq, code, gamma, coef0, degree)[index]
    kern = (code, gamma, coef0, float(degree))
    mapped = l != n
    for k in range(l):
        mapped = mapped or index[k] != k
    n_slots = max(2, min(n_slots, n))
    cache = (  # slots ROWS, SLOT_OF, OWNER, LAST_USE, COUNTERS, SCRATCH, SPREAD
        np.empty((n_slots, n), dtype=np.float32),
        np.full(n, -1, dtype=np.int64),
        np.full(n_slots, -1, dtype=np.int64),
        np.zeros(n_slots, dtype=np.int64),
        np.array([0, 0, 0, int(mapped)], dtype=np.int64),
        np.empty(n),
        np.empty((3, l if mapped else 0), dtype=np.float32),
    )

    alpha = alpha0.copy()
    G = p.copy()  # gradient Qα + p, accumulated over the nonzero starting multipliers
    status = np.empty(l, dtype=np.int8)
    for k in range(l):
        status[k] = _status(alpha[k], C[k])
    for k in range(l):
        if status[k] != LOWER:
            Qk = _q_row(k, X, sq, y, index, kern, cache)
            for t in range(l):
                G[t] += alpha[k] * Qk[t]
    n_iter, converged = 0, True
    while True:
        if max_iter >= 0 and n_iter >= max_iter:
            converged = False
            break
        if nu:
            i, j, Qi = _select_working_set_nu(G, y, status, QD, tol, X, sq, index, kern, cache)
        else:
            i, j, Qi = _select_working_set(G, y, status, QD, tol, X, sq, index, kern, cache)
        if j < 0:
            break
        n_iter += 1
        Qj = _q_row(j, X, sq, y, index, kern, cache)
        old_i, old_j = alpha[i], alpha[j]
        _two_variable_step(i, j, y, alpha, G, QD, np.float64(Qi[j]), C)
        d_i, d_j = alpha[i] - old_i, alpha[j] - old_j
        for k in range(l):
            G[k] += Qi[k] * d_i + Qj[k] * d_j
        status[i] = _status(alpha[i], C[i])
        status[j] = _status(alpha[j], C[j])
    if nu:
        rho, r = _rho_nu(G, y, status)
    else:
        rho, r = _rho(G, y, status), 0.0
    return alpha * y, rho, r, n_iter, converged
