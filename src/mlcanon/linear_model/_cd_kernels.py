r"""Numba kernels: cyclic coordinate descent for the elastic net, with a duality-gap stop.

Both kernels minimize the unscaled objective over the coefficients ``W`` (k targets, one row
each, p features)

.. math::

    P(W) = \tfrac12 \lVert Y - W X^T \rVert_F^2 + \alpha \sum_j \lVert W_{:j} \rVert_2
           + \tfrac{\beta}{2} \lVert W \rVert_F^2

one feature at a time. For one target (k = 1) the penalty is the elastic net's
``alpha ||w||_1``; for several it is the multi-task (group) penalty, which keeps or drops a
feature for all targets at once. With the partial residual correlation
``rho_j = (Y - W X^T) x_j + W_{:j} ||x_j||^2`` (a vector over targets) the exact minimizer over
``W_{:j}`` is the block soft-thresholding

.. math:: W_{:j} \leftarrow \frac{S(\lVert \rho_j \rVert_2, \alpha)}
          {\lVert \rho_j \rVert_2 \, (\lVert x_j \rVert^2 + \beta)}\, \rho_j ,

which for k = 1 is ``S(rho_j, alpha) / (||x_j||^2 + beta)``, ``S(z, t) = sign(z) max(|z| - t, 0)``.

A sweep whose largest relative coefficient change falls below ``tol`` triggers the real test:
the duality gap ``G = P(W) - D(V)`` at the dual point ``V = s R`` (the residual ``R`` scaled
into the dual-feasible set ``max_j ||(X^T V - beta W^T)_j||_2 <= alpha``) must fall below
``tol * ||Y||_F^2``. The gap also drives Gap Safe screening: a feature whose dual constraint is
provably inactive is fixed at zero and skipped.

``enet_cd`` works on the residual (``XT`` is ``X`` transposed, C-ordered, so column ``j`` is the
contiguous row ``XT[j]``; ``Y`` and the residual hold one target per row); ``enet_cd_gram``
works on the Gram matrix ``Q = X^T X`` and ``q = Y X`` (cheaper per sweep when
``n_samples > n_features``).

References
----------
Friedman, Hastie & Tibshirani (2010), "Regularization paths for generalized linear models via
coordinate descent", J. Stat. Softw. 33(1). Obozinski, Taskar & Jordan (2010), "Joint covariate
selection and joint subspace selection for multiple classification problems", Stat. Comput.
20(2) (the multi-task penalty). Fercoq, Gramfort & Salmon (2015), "Mind the duality gap: safer
rules for the Lasso", ICML. Ndiaye, Fercoq, Gramfort & Salmon (2017), "Gap Safe screening rules
for sparsity enforcing penalties", JMLR 18, Eq. (11).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from mlcanon._special import soft_threshold

__all__ = ["enet_cd", "enet_cd_gram"]


@njit(cache=True, nogil=True)
def _gap_from_parts(alpha, beta, w_l1, w_l2sq, R_norm2, Ry, XtA, positive):
    """Duality gap given the pieces; returns ``(gap, dual_norm)``. ``XtA`` holds one entry per
    feature: the dual correlation (k = 1) or its norm over the targets.

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


@njit(cache=True, nogil=True)
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


@njit(cache=True, nogil=True)
def _sweep_order(n_active, random):
    order = np.arange(n_active)
    if random:
        for k in range(n_active):
            order[k] = np.random.randint(0, n_active)  # noqa: NPY002 (numba's RNG)
    return order


@njit(cache=True, nogil=True)
def _sweep(W, active, n_active, random, rows, curvature, acc, q, alpha, beta, positive, rho):
    """One pass of exact block updates over the active features, in place.

    Returns the largest ``|W_tj|`` and the largest change, for the stopping test. ``acc`` is
    what the updates keep current, one row per target: the residual ``R = Y - W X^T`` when
    ``q`` is empty (``rows`` is ``XT``, the correlation ``R_t x_j``), else ``W Q`` (``rows`` is
    ``Q``, the correlation ``q_tj - (WQ)_tj``). ``curvature[j]`` is ``||x_j||^2``; ``rho`` is
    scratch space of one entry per target.

    One target takes a scalar path with the same arithmetic as :func:`_block_update` (so the
    same bits): a loop over targets and a row view per coordinate made the single-target
    residual sweep about a quarter slower.
    """
    gram = q.shape[1] > 0
    w_max = 0.0
    d_w_max = 0.0
    w0, acc0, q0 = W[0], acc[0], q[0]  # one target's rows, taken once rather than per update
    for k in _sweep_order(n_active, random):
        j = active[k]
        if curvature[j] == 0.0:
            continue
        if W.shape[0] > 1:
            d_w, w_abs = _block_update(W, j, rows, curvature, acc, q, alpha, beta, positive, rho)
        else:  # one target: the same update on scalars (the hot loop of Lasso / ElasticNet)
            w_j = w0[j]
            rho0 = (q0[j] - acc0[j] if gram else np.dot(rows[j], acc0)) + w_j * curvature[j]
            w0[j] = _shrink(abs(rho0), positive and rho0 < 0.0, alpha, beta, curvature[j]) * rho0
            if w0[j] != w_j:  # R loses (w' - w) x_j; WQ gains (w' - w) Q_j
                _axpy(w0[j] - w_j if gram else w_j - w0[j], rows[j], acc0)
            d_w, w_abs = abs(w0[j] - w_j), abs(w0[j])
        d_w_max = max(d_w_max, d_w)
        w_max = max(w_max, w_abs)
    return w_max, d_w_max


@njit(cache=True, nogil=True)
def _block_update(W, j, rows, curvature, acc, q, alpha, beta, positive, rho):
    """Feature j's block soft-thresholding over all targets (as the scalar update in
    :func:`_sweep`, target by target); returns the largest change and the largest ``|W_tj|``."""
    gram = q.shape[1] > 0
    if not gram:  # R x_j for all targets in one matrix-vector product, not one dot per target
        np.dot(acc, rows[j], rho)
    for t in range(W.shape[0]):
        correlation = q[t, j] - acc[t, j] if gram else rho[t]
        rho[t] = correlation + W[t, j] * curvature[j]
    shrink = _shrink(
        np.sqrt(np.dot(rho, rho)), positive and rho[0] < 0.0, alpha, beta, curvature[j]
    )
    d_w_max = 0.0
    w_max = 0.0
    for t in range(W.shape[0]):
        w_tj = W[t, j]
        W[t, j] = shrink * rho[t]
        if W[t, j] != w_tj:
            _axpy(W[t, j] - w_tj if gram else w_tj - W[t, j], rows[j], acc[t])
        d_w_max = max(d_w_max, abs(W[t, j] - w_tj))
        w_max = max(w_max, abs(W[t, j]))
    return d_w_max, w_max


@njit(cache=True, nogil=True)
def _shrink(norm, negative, alpha, beta, curvature_j):
    """The factor taking ``rho`` (of norm ``norm``) to the new coefficients,
    ``S(norm, alpha) / (norm (||x_j||^2 + beta))``; 0 for a zero or (positive) negative ``rho``.
    Divided in two steps: the product ``norm (||x_j||^2 + beta)`` overflows to inf (and the
    coefficient to 0) for features of magnitude 1e140, where ``S / norm`` is at most 1."""
    if norm == 0.0 or negative:
        return 0.0
    return soft_threshold(norm, alpha) / norm / (curvature_j + beta)


@njit(cache=True, nogil=True)
def enet_cd(W, alpha, beta, XT, Y, max_iter, tol, positive, screening, random, seed):
    """Coordinate descent on the residual. ``W`` (n_targets, n_features) is updated in place;
    ``Y`` is (n_targets, n_samples).

    Returns ``(gap, scaled_tol, n_iter, converged)``.
    """
    np.random.seed(seed)  # noqa: NPY002 (numba has no Generator; this seeds its own RNG)
    norm2 = np.empty(XT.shape[0])
    for j in range(XT.shape[0]):
        norm2[j] = np.dot(XT[j], XT[j])
    R = Y.copy()
    for t in range(Y.shape[0]):
        for j in range(XT.shape[0]):
            if W[t, j] != 0.0:
                _axpy(-W[t, j], XT[j], R[t])
    no_q = np.empty((Y.shape[0], 0))
    y_norm2 = _dot(Y, Y)
    return _descend(
        W, alpha, beta, XT, norm2, R, no_q, Y, y_norm2, max_iter, tol, positive, screening, random
    )


@njit(cache=True, nogil=True)
def enet_cd_gram(W, alpha, beta, Q, q, y_norm2, max_iter, tol, positive, screening, random, seed):
    """Coordinate descent on ``Q = X^T X``, ``q = Y X`` (n_targets, n_features). ``W`` is
    updated in place; ``y_norm2`` is ``||Y||_F^2``.

    Returns ``(gap, scaled_tol, n_iter, converged)``.
    """
    np.random.seed(seed)  # noqa: NPY002 (numba has no Generator; this seeds its own RNG)
    WQ = np.empty_like(W)
    for t in range(W.shape[0]):
        WQ[t] = Q @ W[t]  # Q is symmetric
    diag, no_y = np.diag(Q).copy(), np.empty((W.shape[0], 0))
    return _descend(
        W, alpha, beta, Q, diag, WQ, q, no_y, y_norm2, max_iter, tol, positive, screening, random
    )


@njit(cache=True, nogil=True)
def _descend(
    W, alpha, beta, rows, curvature, acc, q, Y, y_norm2, max_iter, tol, positive, screening, random
):
    """The loop of both kernels: sweeps until the duality gap falls below ``tol * ||Y||^2``,
    screening out features between sweeps (``rows``, ``curvature``, ``acc`` and ``q`` as in
    :func:`_sweep`; ``Y`` is used on the residual only)."""
    gram = q.shape[1] > 0
    dropped = -1.0 if gram else 1.0  # zeroing w_tj adds w_tj x_j to R_t, takes w_tj Q_j from WQ_t
    n_targets, n_features = W.shape
    XtA = np.empty((n_targets, n_features))
    scores = np.empty(n_features)
    rho = np.empty(n_targets)
    d_w_tol = tol
    tol = tol * y_norm2
    screening = screening and alpha > 0.0
    excluded = np.zeros(n_features, dtype=np.bool_)
    active = np.arange(n_features)
    n_active = n_features

    gap, dual_norm = _gap(W, alpha, beta, rows, acc, q, Y, y_norm2, XtA, scores, positive)
    if gap <= tol and (gap >= 0.0 or not gram):  # a singular Q can give a slightly negative gap
        return gap, tol, 0, True
    if screening:
        for j in range(n_features):
            if curvature[j] == 0.0:
                W[:, j] = 0.0
                excluded[j] = True
        n_active = _screen(alpha, beta, gap, dual_norm, scores, curvature, excluded, active)
        _drop_excluded(W, excluded, rows, acc, dropped)

    for n_iter in range(max_iter):
        w_max, d_w_max = _sweep(
            W, active, n_active, random, rows, curvature, acc, q, alpha, beta, positive, rho
        )
        if w_max == 0.0 or d_w_max / w_max <= d_w_tol or n_iter == max_iter - 1:
            gap, dual_norm = _gap(W, alpha, beta, rows, acc, q, Y, y_norm2, XtA, scores, positive)
            if gap <= tol:
                return gap, tol, n_iter + 1, True
            if screening:
                n_active = _screen(alpha, beta, gap, dual_norm, scores, curvature, excluded, active)
                _drop_excluded(W, excluded, rows, acc, dropped)
    return gap, tol, max_iter, False


@njit(cache=True, nogil=True)
def _axpy(a, x, y):
    for i in range(y.shape[0]):
        y[i] += a * x[i]


@njit(cache=True, nogil=True)
def _dot(A, B):
    """Frobenius inner product of two arrays of one row per target."""
    total = 0.0
    for t in range(A.shape[0]):
        total += np.dot(A[t], B[t])
    return total


@njit(cache=True, nogil=True)
def _block_norm(A, j):
    """``||A[:, j]||_2``, feature j's block over the targets (``|A[0, j]|`` for one)."""
    if A.shape[0] == 1:
        return abs(A[0, j])
    total = 0.0
    for t in range(A.shape[0]):
        total += A[t, j] * A[t, j]
    return np.sqrt(total)


@njit(cache=True, nogil=True)
def _drop_excluded(W, excluded, rows, acc, sign):
    """Zero screened-out coefficients, keeping ``acc`` consistent.

    The residual gains ``w_tj x_j`` (``sign=+1``); ``WQ`` loses ``w_tj Q_j`` (``sign=-1``).
    """
    for j in range(W.shape[1]):
        if excluded[j]:
            for t in range(W.shape[0]):
                if W[t, j] != 0.0:
                    _axpy(sign * W[t, j], rows[j], acc[t])
                    W[t, j] = 0.0


@njit(cache=True, nogil=True)
def _gap(W, alpha, beta, rows, acc, q, Y, y_norm2, XtA, scores, positive):
    """Duality gap from the residual (``R = acc``) or from the Gram matrix (``WQ = acc``):
    ``||R||^2 = ||Y||^2 + <W, WQ> - 2 <W, q>`` and ``<R, Y> = ||Y||^2 - <W, q>`` need no ``X``.

    ``XtA`` receives ``R X - beta W`` (one row per target) and ``scores`` its per-feature size.
    """
    if q.shape[1] > 0:
        q_w = _dot(W, q)
        R_norm2, Ry = y_norm2 + _dot(W, acc) - 2.0 * q_w, y_norm2 - q_w
        XtA[:] = q - acc
    else:
        R_norm2, Ry = _dot(acc, acc), _dot(acc, Y)
        for t in range(W.shape[0]):
            XtA[t] = rows @ acc[t]
    if alpha > 0.0:
        XtA -= beta * W
    w_l2sq = _dot(W, W) if beta > 0.0 else 0.0
    w_l1 = 0.0
    for j in range(W.shape[1]):
        w_l1 += _block_norm(W, j)
        scores[j] = XtA[0, j] if W.shape[0] == 1 else _block_norm(XtA, j)  # signed for k = 1
    return _gap_from_parts(alpha, beta, w_l1, w_l2sq, R_norm2, Ry, scores, positive)
