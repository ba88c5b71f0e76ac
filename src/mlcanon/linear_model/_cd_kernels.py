r"""Numba kernels: cyclic coordinate descent for the elastic net, with a duality-gap stop.

Both kernels minimize the unscaled objective

.. math::

    P(w) = \tfrac12 \lVert y - Xw \rVert_2^2 + \alpha \lVert w \rVert_1
           + \tfrac{\beta}{2} \lVert w \rVert_2^2

one coordinate at a time. With the partial residual ``rho_j = x_j^T (y - Xw) + w_j ||x_j||^2``
the exact minimizer over ``w_j`` is the soft-thresholded value

.. math:: w_j \leftarrow S(\rho_j, \alpha) / (\lVert x_j \rVert^2 + \beta),
          \qquad S(z, t) = \operatorname{sign}(z) \max(|z| - t, 0).

A sweep whose largest relative coefficient change falls below ``tol`` triggers the real test:
the duality gap ``G = P(w) - D(v)`` at the dual point ``v = s R`` (the residual ``R`` scaled
into the dual-feasible set ``||X^T v - beta w||_inf <= alpha``) must fall below
``tol * ||y||^2``. The gap also drives Gap Safe screening: a feature whose dual constraint is
provably inactive is fixed at zero and skipped.

``enet_cd`` works on the residual (``XT`` is ``X`` transposed, C-ordered, so column ``j`` is the
contiguous row ``XT[j]``); ``enet_cd_gram`` works on the Gram matrix ``Q = X^T X`` and
``q = X^T y`` (cheaper per sweep when ``n_samples > n_features``).

References
----------
Friedman, Hastie & Tibshirani (2010), "Regularization paths for generalized linear models via
coordinate descent", J. Stat. Softw. 33(1). Fercoq, Gramfort & Salmon (2015), "Mind the duality
gap: safer rules for the Lasso", ICML. Ndiaye, Fercoq, Gramfort & Salmon (2017), "Gap Safe
screening rules for sparsity enforcing penalties", JMLR 18, Eq. (11).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from mlcanon._special import soft_threshold

__all__ = ["enet_cd", "enet_cd_gram"]


@njit(cache=True)
def _gap_from_parts(alpha, beta, w_l1, w_l2sq, R_norm2, Ry, XtA, positive):
    """Duality gap given the pieces; returns ``(gap, dual_norm)``.

    alpha > 0: the Lasso dual with the residual rescaled to be feasible.
    alpha = 0 < beta: ridge dual (no feasibility constraint).
    alpha = beta = 0: no dual; the squared gradient norm ``||X^T R||^2`` stands in.
    """
    if alpha == 0.0:
        dual_norm = np.dot(XtA, XtA)
        if beta == 0.0:
            return dual_norm, dual_norm
        return R_norm2 + 0.5 * beta * w_l2sq - Ry + dual_norm / (2.0 * beta), dual_norm
    dual_norm = np.max(XtA) if positive else np.max(np.abs(XtA))
    scale = alpha / dual_norm if dual_norm > alpha else 1.0
    primal = 0.5 * (R_norm2 + beta * w_l2sq) + alpha * w_l1
    dual = -0.5 * scale * scale * (R_norm2 + beta * w_l2sq) + scale * Ry
    return primal - dual, dual_norm


@njit(cache=True)
def _screen(alpha, beta, gap, dual_norm, XtA, diag, excluded, active):
    """Gap Safe rule: keep feature j only if its dual constraint may be active.

    Returns the number of active features; ``excluded`` is updated in place.
    """
    radius = np.sqrt(2.0 * abs(gap)) / alpha
    n_active = 0
    for j in range(XtA.shape[0]):
        if excluded[j]:
            continue
        xj_theta = XtA[j] / max(alpha, dual_norm)
        if (1.0 - abs(xj_theta)) / np.sqrt(diag[j] + beta) <= radius:
            active[n_active] = j
            n_active += 1
        else:
            excluded[j] = True
    return n_active


@njit(cache=True)
def _sweep_order(n_active, random):
    order = np.arange(n_active)
    if random:
        for k in range(n_active):
            order[k] = np.random.randint(0, n_active)  # noqa: NPY002 (numba's RNG)
    return order


@njit(cache=True)
def _sweep(w, active, n_active, random, rows, curvature, acc, q, alpha, beta, positive):
    """One pass of exact coordinate updates over the active features, in place.

    Returns the largest ``|w_j|`` and the largest change, for the stopping test. ``acc`` is
    what the updates keep current: the residual ``R = y - Xw`` when ``q`` is empty (``rows`` is
    ``XT``, the correlation ``x_j^T R``), else ``Qw`` (``rows`` is ``Q``, the correlation
    ``q_j - (Qw)_j``). ``curvature[j]`` is ``||x_j||^2``.
    """
    gram = q.shape[0] > 0
    w_max = 0.0
    d_w_max = 0.0
    for k in _sweep_order(n_active, random):
        j = active[k]
        if curvature[j] == 0.0:
            continue
        w_j = w[j]
        correlation = q[j] - acc[j] if gram else np.dot(rows[j], acc)
        rho = correlation + w_j * curvature[j]
        if positive and rho < 0.0:
            w[j] = 0.0
        else:
            w[j] = soft_threshold(rho, alpha) / (curvature[j] + beta)
        if w[j] != w_j:  # R loses (w_j' - w_j) x_j; Qw gains (w_j' - w_j) Q_j
            _axpy(w[j] - w_j if gram else w_j - w[j], rows[j], acc)
        d_w_max = max(d_w_max, abs(w[j] - w_j))
        w_max = max(w_max, abs(w[j]))
    return w_max, d_w_max


@njit(cache=True)
def enet_cd(w, alpha, beta, XT, y, max_iter, tol, positive, screening, random, seed):
    """Coordinate descent on the residual. ``w`` (n_features,) is updated in place.

    Returns ``(gap, scaled_tol, n_iter, converged)``.
    """
    np.random.seed(seed)  # noqa: NPY002 (numba has no Generator; this seeds its own RNG)
    norm2 = np.empty(XT.shape[0])
    for j in range(XT.shape[0]):
        norm2[j] = np.dot(XT[j], XT[j])
    R = y.copy()
    for j in range(XT.shape[0]):
        if w[j] != 0.0:
            R -= w[j] * XT[j]
    no_gram = np.empty(0)
    return _descend(
        w, alpha, beta, XT, norm2, R, no_gram, y, y @ y, max_iter, tol, positive, screening, random
    )


@njit(cache=True)
def enet_cd_gram(w, alpha, beta, Q, q, y_norm2, max_iter, tol, positive, screening, random, seed):
    """Coordinate descent on ``Q = X^T X``, ``q = X^T y``. ``w`` is updated in place.

    Returns ``(gap, scaled_tol, n_iter, converged)``.
    """
    np.random.seed(seed)  # noqa: NPY002 (numba has no Generator; this seeds its own RNG)
    diag, Qw, no_y = np.diag(Q).copy(), Q @ w, np.empty(0)
    return _descend(
        w, alpha, beta, Q, diag, Qw, q, no_y, y_norm2, max_iter, tol, positive, screening, random
    )


@njit(cache=True)
def _descend(
    w, alpha, beta, rows, curvature, acc, q, y, y_norm2, max_iter, tol, positive, screening, random
):
    """The loop of both kernels: sweeps until the duality gap falls below ``tol * ||y||^2``,
    screening out features between sweeps (``rows``, ``curvature``, ``acc`` and ``q`` as in
    :func:`_sweep`; ``y`` is used on the residual only)."""
    gram = q.shape[0] > 0
    dropped = -1.0 if gram else 1.0  # zeroing w_j adds w_j x_j to R and takes w_j Q_j from Qw
    n_features = w.shape[0]
    XtA = np.empty(n_features)
    d_w_tol = tol
    tol = tol * y_norm2
    screening = screening and alpha > 0.0
    excluded = np.zeros(n_features, dtype=np.bool_)
    active = np.arange(n_features)
    n_active = n_features

    gap, dual_norm = _gap(w, alpha, beta, rows, acc, q, y, y_norm2, XtA, positive)
    if gap <= tol and (gap >= 0.0 or not gram):  # a singular Q can give a slightly negative gap
        return gap, tol, 0, True
    if screening:
        for j in range(n_features):
            if curvature[j] == 0.0:
                w[j] = 0.0
                excluded[j] = True
        n_active = _screen(alpha, beta, gap, dual_norm, XtA, curvature, excluded, active)
        _drop_excluded(w, excluded, rows, acc, dropped)

    for n_iter in range(max_iter):
        w_max, d_w_max = _sweep(
            w, active, n_active, random, rows, curvature, acc, q, alpha, beta, positive
        )
        if w_max == 0.0 or d_w_max / w_max <= d_w_tol or n_iter == max_iter - 1:
            gap, dual_norm = _gap(w, alpha, beta, rows, acc, q, y, y_norm2, XtA, positive)
            if gap <= tol:
                return gap, tol, n_iter + 1, True
            if screening:
                n_active = _screen(alpha, beta, gap, dual_norm, XtA, curvature, excluded, active)
                _drop_excluded(w, excluded, rows, acc, dropped)
    return gap, tol, max_iter, False


@njit(cache=True)
def _gap(w, alpha, beta, rows, acc, q, y, y_norm2, XtA, positive):
    if q.shape[0] > 0:
        return _gram_gap(w, alpha, beta, acc, q, y_norm2, XtA, positive)
    return _residual_gap(w, alpha, beta, rows, y, acc, XtA, positive)


@njit(cache=True)
def _axpy(a, x, y):
    for i in range(y.shape[0]):
        y[i] += a * x[i]


@njit(cache=True)
def _drop_excluded(w, excluded, rows, acc, sign):
    """Zero screened-out coefficients, keeping ``acc`` consistent.

    The residual gains ``w_j x_j`` (``sign=+1``); ``Qw`` loses ``w_j Q_j`` (``sign=-1``).
    """
    for j in range(w.shape[0]):
        if excluded[j] and w[j] != 0.0:
            _axpy(sign * w[j], rows[j], acc)
            w[j] = 0.0


@njit(cache=True)
def _residual_gap(w, alpha, beta, XT, y, R, XtA, positive):
    w_l2sq = np.dot(w, w) if beta > 0.0 else 0.0
    XtA[:] = XT @ R
    if alpha > 0.0:
        XtA -= beta * w
    return _gap_from_parts(
        alpha, beta, np.sum(np.abs(w)), w_l2sq, np.dot(R, R), np.dot(R, y), XtA, positive
    )


@njit(cache=True)
def _gram_gap(w, alpha, beta, Qw, q, y_norm2, XtA, positive):
    w_l2sq = np.dot(w, w) if beta > 0.0 else 0.0
    q_w = np.dot(w, q)
    R_norm2 = y_norm2 + np.dot(w, Qw) - 2.0 * q_w  # ||y - Xw||^2 without X
    XtA[:] = q - Qw
    if alpha > 0.0:
        XtA -= beta * w
    return _gap_from_parts(
        alpha, beta, np.sum(np.abs(w)), w_l2sq, R_norm2, y_norm2 - q_w, XtA, positive
    )
