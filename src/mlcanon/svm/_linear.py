r"""Linear support vector classification, trained as LIBLINEAR trains it.

Each binary problem has labels ``y_i = ±1`` and per-sample costs ``C_i`` (``C`` times the
sample's weight times its class's weight). The intercept is LIBLINEAR's: every sample gets a
last feature of constant value ``B = intercept_scaling``, whose weight is regularized like any
other, and the intercept is ``B w_{p+1}`` (write ``x`` for the augmented sample below).

* ``penalty='l2'``: :math:`\min_w \tfrac12 \lVert w \rVert^2 + \sum_i C_i\, \ell(1 - y_i w^T x_i)`
  with ``ℓ(m) = max(0, m)`` (hinge) or ``max(0, m)^2`` (squared hinge). Strictly convex, so the
  optimum does not depend on the solver.

  - ``dual=True``: coordinate descent on the dual (Hsieh et al. 2008, Algorithm 1),

    .. math::

        \min_{0 \le \alpha_i \le U_i} \tfrac12 \alpha^T (Q + D) \alpha - e^T \alpha, \qquad
        Q_{ij} = y_i y_j x_i^T x_j, \qquad w = \sum_i \alpha_i y_i x_i,

    with ``U_i = C_i, D_ii = 0`` for the hinge and ``U_i = ∞, D_ii = 1 / (2 C_i)`` for the
    squared hinge. Each step solves one variable exactly, ``α_i ← clip(α_i - G_i / (Q_ii +
    D_ii), 0, U_i)`` with ``G_i = y_i w^T x_i - 1 + D_ii α_i``, and keeps ``w`` up to date, so
    a step costs one pass over a row. Samples at a bound whose gradient points out of the box
    by more than the last epoch's largest violation are shrunk (Section 3.2); the run stops
    when the projected gradient's spread ``max PG - min PG`` is at most ``tol`` over every
    sample.
  - ``dual=False`` (squared hinge): Newton's method on the primal, whose gradient is
    ``w - 2 Σ_{i∈I} C_i y_i m_i x_i`` (``m_i = 1 - y_i w^T x_i``, ``I = {m_i > 0}``) and whose
    generalized Hessian is ``1 + 2 X_I^T diag(C_I) X_I``; each step solves the Newton system by
    conjugate gradients (products with the Hessian only) and backtracks to sufficient decrease.

* ``penalty='l1'`` (squared hinge, primal): :math:`\min_w \lVert w \rVert_1 + \sum_i C_i
  \max(0, 1 - y_i w^T x_i)^2`, by coordinate descent over features with a one-dimensional
  Newton step and a line search (CDN, Yuan et al. 2010, as LIBLINEAR; its margins ``b_i = 1 -
  y_i w^T x_i`` are kept up to date).

  Both primal solvers stop, as LIBLINEAR's, when the norm of the gradient (the 1-norm of the
  minimum-norm subgradient for L1) has shrunk by ``tol · max(min(n_+, n_-), 1) / n``; Newton's
  method also stops when a step no longer changes the objective in double precision (as TRON
  stops when its actual and predicted reductions fall below 1e-12 of the objective).

* ``multi_class='crammer_singer'``: one joint problem over the K classes (Crammer & Singer
  2001), :math:`\min_W \tfrac12 \sum_m \lVert w_m \rVert^2 + \sum_i C_i \max_m (1 - δ_{m,y_i} +
  w_m^T x_i - w_{y_i}^T x_i)`, by coordinate descent on its dual one sample at a time (Keerthi
  et al. 2008, the LIBLINEAR appendix): the sample's K variables solve a small problem in
  closed form after a sort.

Several classes otherwise: one-vs-rest, the class's samples positive; LIBLINEAR weights only the
positive samples by their class weight in these problems (the rest keep ``C``). Samples of weight
zero or less drop out, as LIBLINEAR removes them.

References
----------
Hsieh, Chang, Lin, Keerthi & Sundararajan (2008), "A dual coordinate descent method for
large-scale linear SVM", ICML. Yuan, Chang, Hsieh & Lin (2010), "A comparison of optimization
methods and software for large-scale L1-regularized linear classification", JMLR 11. Keerthi,
Sundararajan, Chang, Hsieh & Lin (2008), "A sequential dual method for large scale multi-class
linear SVMs", KDD. Fan, Chang, Hsieh, Wang & Lin (2008), "LIBLINEAR: a library for large linear
classification", JMLR 9.
"""

from __future__ import annotations

import numbers
import warnings
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp
from numba import njit
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from mlcanon._estimator import (
    ConvergenceWarning,
    check_X,
    check_X_y,
    class_weights,
    encode_labels,
    store_params,
)
from mlcanon._validation import (
    BOOL,
    CLASS_WEIGHT,
    RANDOM_STATE,
    Interval,
    Options,
    check_array,
    check_consistent_length,
    check_random_state,
    validate_params,
)

__all__ = ["LinearSVC"]

# (loss, penalty) -> the values of ``dual`` LIBLINEAR has a solver for
_SOLVERS = {("hinge", "l2"): (True,), ("squared_hinge", "l2"): (False, True)}
_SOLVERS[("squared_hinge", "l1")] = (False,)


def _unsupported(loss: str, penalty: str, dual: bool) -> str | None:
    """scikit-learn's refusal of a combination LIBLINEAR has no solver for, else None."""
    duals = _SOLVERS.get((loss, penalty))
    if duals is None:
        reason = f"The combination of penalty='{penalty}' and loss='{loss}' is not supported"
    elif dual not in duals:
        reason = (
            f"The combination of penalty='{penalty}' and loss='{loss}' are not supported when "
            f"dual={dual}"
        )
    else:
        return None
    return (
        f"Unsupported set of arguments: {reason}, Parameters: penalty={penalty!r}, "
        f"loss={loss!r}, dual={dual!r}"
    )


# ---------------------------------------------------------------------------------------------
# Solvers. X is given as CSR arrays (a dense X as the CSR arrays of a full matrix), with the
# intercept's feature already appended; each returns the number of epochs / Newton steps.
# ---------------------------------------------------------------------------------------------
@njit(cache=True)
def _dual_cd(indptr, indices, data, y, upper, diag, w, tol, max_iter, seed):
    """Dual coordinate descent with shrinking (Hsieh et al. 2008, Algorithm 1 and Section
    3.2); ``w`` (zeros on entry) is ``Σ α_i y_i x_i`` throughout."""
    np.random.seed(seed)  # noqa: NPY002 (numba has no Generator; this seeds its own RNG)
    n = y.size
    alpha = np.zeros(n)
    qd = diag.copy()  # Q_ii + D_ii
    for i in range(n):
        for k in range(indptr[i], indptr[i + 1]):
            qd[i] += data[k] * data[k]
    order = np.arange(n)
    active = n
    pg_max_old, pg_min_old = np.inf, -np.inf
    epoch = 0
    while epoch < max_iter:
        pg_max, pg_min = -np.inf, np.inf
        for s in range(active):  # a random order of the active samples
            t = s + np.random.randint(active - s)  # noqa: NPY002
            order[s], order[t] = order[t], order[s]
        s = 0
        while s < active:
            i = order[s]
            g = 0.0
            for k in range(indptr[i], indptr[i + 1]):
                g += w[indices[k]] * data[k]
            g = y[i] * g - 1.0 + diag[i] * alpha[i]
            pg = g  # the projected gradient
            if alpha[i] == 0.0:
                if g > pg_max_old:  # at the lower bound and pushed onto it: shrink
                    active -= 1
                    order[s], order[active] = order[active], order[s]
                    continue
                pg = min(g, 0.0)
            elif alpha[i] == upper[i]:
                if g < pg_min_old:  # at the upper bound and pushed onto it: shrink
                    active -= 1
                    order[s], order[active] = order[active], order[s]
                    continue
                pg = max(g, 0.0)
            pg_max, pg_min = max(pg_max, pg), min(pg_min, pg)
            if abs(pg) > 1e-12:
                old = alpha[i]
                # a zero sample (hinge, no intercept) has g = -1: it goes to its bound
                alpha[i] = min(max(old - g / qd[i], 0.0), upper[i]) if qd[i] > 0 else upper[i]
                step = (alpha[i] - old) * y[i]
                for k in range(indptr[i], indptr[i + 1]):
                    w[indices[k]] += step * data[k]
            s += 1
        epoch += 1
        if pg_max - pg_min <= tol:
            if active == n:
                break
            active, pg_max_old, pg_min_old = n, np.inf, -np.inf  # check every sample again
            continue
        pg_max_old = pg_max if pg_max > 0 else np.inf
        pg_min_old = pg_min if pg_min < 0 else -np.inf
    return epoch


def _primal_l2(X, y, C, tol, max_iter):
    """Newton-CG on ``½‖w‖² + Σ C_i max(0, 1 - y_i w^T x_i)²`` (``X`` dense or CSR).

    Returns ``(w, n_steps)``."""
    w = np.zeros(X.shape[1])
    margin = np.ones(y.size)  # 1 - y_i w^T x_i

    def objective(w, margin):
        m = np.maximum(margin, 0.0)
        return 0.5 * w @ w + C @ (m * m)

    def gradient(w, margin):
        return w - 2.0 * (X.T @ (C * y * np.maximum(margin, 0.0)))

    g = gradient(w, margin)
    g0 = np.linalg.norm(g)
    steps = 0
    while steps < max_iter and np.linalg.norm(g) > tol * g0:
        curvature = 2.0 * C * (margin > 0)  # the generalized Hessian's data term
        s, r = np.zeros_like(w), -g  # conjugate gradients on H s = -g
        d, rr = r.copy(), r @ r
        for _ in range(2 * w.size + 10):
            if np.sqrt(rr) <= min(0.1, np.sqrt(np.linalg.norm(g) / g0)) * np.linalg.norm(g):
                break
            Hd = d + X.T @ (curvature * (X @ d))
            a = rr / (d @ Hd)
            s += a * d
            r -= a * Hd
            rr, rr_old = r @ r, rr
            d = r + (rr / rr_old) * d
        f, slope, ys = objective(w, margin), g @ s, y * (X @ s)
        t = 1.0
        while objective(w + t * s, margin - t * ys) > f + 1e-4 * t * slope and t > 1e-10:
            t *= 0.5
        w, margin = w + t * s, margin - t * ys
        g = gradient(w, margin)
        steps += 1
        if abs(f - objective(w, margin)) <= 1e-15 * abs(f):  # at the limit of precision
            break
    return w, steps


@njit(cache=True)
def _l1_cd(indptr, indices, data, y, C, w, tol, max_iter, seed):
    """Coordinate descent with a Newton step and line search per feature (CDN) on
    ``‖w‖₁ + Σ C_i max(0, b_i)²``, ``b = 1 - y ∘ Xw``. The CSC arrays hold ``y_i x_ij``;
    features whose subgradient is well inside ``[-1, 1]`` at ``w_j = 0`` are shrunk."""
    np.random.seed(seed)  # noqa: NPY002
    n, p = y.size, w.size
    b = np.ones(n)
    xj_sq = np.zeros(p)  # Σ C_i x_ij², bounds the second derivative along feature j
    for j in range(p):
        for k in range(indptr[j], indptr[j + 1]):
            xj_sq[j] += C[indices[k]] * data[k] * data[k]
    order = np.arange(p)
    active = p
    g_max_old, g_norm_init = np.inf, -1.0
    epoch = 0
    while epoch < max_iter:
        g_max, g_norm = 0.0, 0.0
        for s in range(active):
            t = s + np.random.randint(active - s)  # noqa: NPY002
            order[s], order[t] = order[t], order[s]
        s = 0
        while s < active:
            j = order[s]
            grad, hess = 0.0, 0.0  # of the loss along feature j
            for k in range(indptr[j], indptr[j + 1]):
                i = indices[k]
                if b[i] > 0:
                    grad -= 2.0 * C[i] * data[k] * b[i]
                    hess += 2.0 * C[i] * data[k] * data[k]
            hess = max(hess, 1e-12)
            gp, gn = grad + 1.0, grad - 1.0  # right and left derivatives at w_j = 0
            if w[j] == 0.0:
                if gp < 0.0:
                    violation = -gp
                elif gn > 0.0:
                    violation = gn
                elif gp > g_max_old / n and gn < -g_max_old / n:  # firmly at 0: shrink
                    active -= 1
                    order[s], order[active] = order[active], order[s]
                    continue
                else:
                    violation = 0.0
            else:
                violation = abs(gp) if w[j] > 0 else abs(gn)
            g_max, g_norm = max(g_max, violation), g_norm + violation
            s += 1
            # Newton step of the one-variable problem, then halve it to sufficient decrease
            if gp < hess * w[j]:
                d = -gp / hess
            elif gn > hess * w[j]:
                d = -gn / hess
            else:
                d = -w[j]
            if abs(d) < 1e-12:
                continue
            delta = abs(w[j] + d) - abs(w[j]) + grad * d
            applied = 0.0  # the part of d already applied to b
            loss_old = -1.0  # the loss of feature j's samples at the current w_j, once needed
            for _ in range(20):
                cond = abs(w[j] + d) - abs(w[j]) - 0.01 * delta
                if xj_sq[j] * d * d + grad * d + cond <= 0:  # an upper bound already decreases
                    for k in range(indptr[j], indptr[j + 1]):
                        b[indices[k]] += (applied - d) * data[k]
                    applied = d
                    break
                loss_new = 0.0
                if loss_old < 0:
                    loss_old = 0.0
                    for k in range(indptr[j], indptr[j + 1]):
                        i = indices[k]
                        if b[i] > 0:
                            loss_old += C[i] * b[i] * b[i]
                for k in range(indptr[j], indptr[j + 1]):
                    i = indices[k]
                    b[i] += (applied - d) * data[k]
                    if b[i] > 0:
                        loss_new += C[i] * b[i] * b[i]
                applied = d
                if cond + loss_new - loss_old <= 0:
                    break
                d *= 0.5
                delta *= 0.5
            else:  # no sufficient decrease in 20 halvings: b holds the last trial, undo it
                for k in range(indptr[j], indptr[j + 1]):
                    b[indices[k]] += applied * data[k]
                continue
            w[j] += d
        if epoch == 0:
            g_norm_init = g_norm
        epoch += 1
        if g_norm <= tol * g_norm_init:
            if active == p:
                break
            active, g_max_old = p, np.inf  # check every feature again
            continue
        g_max_old = g_max
    return epoch


@njit(cache=True)
def _crammer_singer(indptr, indices, data, y, C, W, tol, max_iter, seed):
    """Sequential dual method for the Crammer-Singer problem (Keerthi et al. 2008): for each
    sample, the dual variables ``α_i ∈ R^K`` (``α_im ≤ C_i δ_{m,y_i}``, ``Σ_m α_im = 0``) solve
    ``min ½ A_i ‖α_i‖² + B^T α_i`` exactly; ``W`` (p, K) is ``Σ_i x_i α_i^T`` throughout.
    A sample at ``α_i = 0`` whose margin holds by more than the last epoch's largest violation
    is shrunk; the run stops when no sample's gradient spread exceeds ``tol``, all active."""
    np.random.seed(seed)  # noqa: NPY002
    n, K = y.size, W.shape[1]
    alpha = np.zeros((n, K))
    sq = np.zeros(n)
    for i in range(n):
        for k in range(indptr[i], indptr[i + 1]):
            sq[i] += data[k] * data[k]
    G, B, new = np.empty(K), np.empty(K), np.empty(K)
    order = np.arange(n)
    active, spread_old = n, np.inf
    epoch = 0
    while epoch < max_iter:
        for s in range(active):
            t = s + np.random.randint(active - s)  # noqa: NPY002
            order[s], order[t] = order[t], order[s]
        spread = 0.0
        s = 0
        while s < active:
            i = order[s]
            yi = y[i]
            if sq[i] <= 0:
                s += 1
                continue
            G[:] = 1.0  # gradient: 1 - δ_{m,y_i} + w_m^T x_i
            G[yi] = 0.0
            for k in range(indptr[i], indptr[i + 1]):
                for m in range(K):
                    G[m] += W[indices[k], m] * data[k]
            lo, hi, other = np.inf, -np.inf, -np.inf  # over the movable variables, all, m ≠ y_i
            for m in range(K):
                hi = max(hi, G[m])
                if m != yi:
                    other = max(other, G[m])
                if alpha[i, m] < (C[i] if m == yi else 0.0):
                    lo = min(lo, G[m])
            if alpha[i, yi] == 0.0 and other - G[yi] < -spread_old:  # α_i = 0, margin firm
                active -= 1
                order[s], order[active] = order[active], order[s]
                continue
            s += 1
            if hi - lo <= 1e-12:
                continue
            spread = max(spread, hi - lo)
            # closed form: α_m = min(bound_m, (β - B_m) / A) with β making Σ α_m = 0
            A = sq[i]
            for m in range(K):
                B[m] = G[m] - A * alpha[i, m]
            D = B.copy()
            D[yi] += A * C[i]
            D = -np.sort(-D)
            beta = D[0] - A * C[i]
            r = 1
            while r < K and beta < r * D[r]:
                beta += D[r]
                r += 1
            beta /= r
            for m in range(K):
                new[m] = min((beta - B[m]) / A, C[i] if m == yi else 0.0)
                new[m], alpha[i, m] = new[m] - alpha[i, m], new[m]  # new now holds the step
            for k in range(indptr[i], indptr[i + 1]):
                for m in range(K):
                    W[indices[k], m] += new[m] * data[k]
        epoch += 1
        if spread < tol:
            if active == n:
                break
            active, spread_old = n, np.inf  # check every sample again
            continue
        spread_old = spread
    return epoch


def _csr_arrays(X: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(indptr, indices, data)`` of ``X`` row by row: CSR's own arrays, or those of a dense
    matrix taken as full (every entry stored)."""
    if sp.issparse(X):
        return X.indptr, X.indices, X.data
    n, p = X.shape
    return np.arange(0, n * p + 1, p), np.tile(np.arange(p), n), X.ravel()


class LinearSVC(ClassifierMixin, BaseEstimator):
    r"""Linear support vector classifier, LIBLINEAR's model (scikit-learn's ``LinearSVC``).

    Each one-vs-rest problem, with labels ``y_i = ±1``, costs ``C_i`` (``C`` times the sample's
    weight and, for the positive class, its class weight) and ``x_i`` extended by LIBLINEAR's
    intercept feature of value ``intercept_scaling``, is

    .. math::

        \min_w \; R(w) + \sum_i C_i \max(0, 1 - y_i w^T x_i)^q,

    with ``R(w) = ||w||_2^2 / 2`` (``penalty='l2'``) or ``||w||_1`` (``'l1'``) and ``q = 1``
    (``'hinge'``) or ``2`` (``'squared_hinge'``); ``multi_class='crammer_singer'`` solves instead
    :math:`\min_W \tfrac12 \sum_m \lVert w_m \rVert^2 + \sum_i C_i \max_m (1 - δ_{m,y_i} +
    w_m^T x_i - w_{y_i}^T x_i)`. It predicts the class of largest ``w_m^T x``.

    Parameters
    ----------
    penalty : {'l1', 'l2'}, default 'l2'
        Norm of the regularizer (the intercept's weight included). 'l1' needs
        ``loss='squared_hinge'`` and ``dual=False``.
    loss : {'hinge', 'squared_hinge'}, default 'squared_hinge'
        'hinge' needs ``penalty='l2'`` and ``dual=True``.
    dual : bool or 'auto', default 'auto'
        Solve the dual (coordinate descent over samples) or the primal. 'auto' picks the dual
        when there are fewer samples than features and the combination has a dual solver, else
        the primal when it has one (scikit-learn's rule).
    tol : float > 0, default 1e-4
        Stopping tolerance (see :mod:`mlcanon.svm._linear` for each solver's test).
    C : float > 0, default 1.0
        Cost of the loss; the regularizer has weight 1.
    multi_class : {'ovr', 'crammer_singer'}, default 'ovr'
        One-vs-rest binary problems, or the joint Crammer-Singer problem (which ignores
        ``penalty``, ``loss`` and ``dual``).
    fit_intercept : bool, default True
    intercept_scaling : float > 0, default 1
        Value ``B`` of the synthetic feature that carries the intercept; its weight is
        regularized, so a larger ``B`` regularizes the intercept ``B w_{p+1}`` less.
    class_weight : dict, 'balanced' or None
        Multiplies ``C`` for the samples of each class.
    verbose : int, default 0
        Accepted for scikit-learn's signature (LIBLINEAR's trace); no effect.
    random_state : None, int or Generator
        Order in which coordinate descent visits samples (dual) or features (L1); the optimum
        does not depend on it.
    max_iter : int >= 0, default 1000
        Cap on epochs (coordinate descent) or Newton steps (primal L2) per problem.

    Attributes
    ----------
    coef_ : array of shape (1, n_features) for two classes, else (n_classes, n_features)
    intercept_ : array of shape (1,) or (n_classes,); 0.0 without an intercept
    classes_ : array of shape (n_classes,)
    n_iter_ : int
        The largest number of iterations over the binary problems.
    n_features_in_ : int
    feature_names_in_ : array of shape (n_features_in_,), for ``X`` with string column names

    Notes
    -----
    See :mod:`mlcanon.svm._linear` for the problems and the solvers. With two classes the
    model is positive for ``classes_[1]``. ``n_iter_`` counts this module's iterations, which
    for the primal L2 solver (Newton-CG with a line search, not LIBLINEAR's trust-region
    Newton) are not LIBLINEAR's. With ``multi_class='crammer_singer'`` ``max_iter`` caps the
    epochs, where scikit-learn's LIBLINEAR ignores it (its cap is 100000) yet still warns when
    the count passes it; only samples at ``α_i = 0`` are shrunk (LIBLINEAR also shrinks single
    variables), so on large data that the model does not separate an epoch costs more.

    References
    ----------
    Fan, Chang, Hsieh, Wang & Lin (2008), "LIBLINEAR: a library for large linear
    classification", JMLR 9. Hsieh et al. (2008), "A dual coordinate descent method for
    large-scale linear SVM", ICML. Yuan et al. (2010), JMLR 11 (L1). Crammer & Singer (2001),
    "On the algorithmic implementation of multiclass kernel-based vector machines", JMLR 2.
    """

    def __init__(
        self,
        penalty: str = "l2",
        loss: str = "squared_hinge",
        *,
        dual: Any = "auto",
        tol: float = 1e-4,
        C: float = 1.0,
        multi_class: str = "ovr",
        fit_intercept: bool = True,
        intercept_scaling: float = 1,
        class_weight: Any = None,
        verbose: int = 0,
        random_state: Any = None,
        max_iter: int = 1000,
    ) -> None:
        store_params(self, locals())

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        "penalty": Options("l1", "l2"),
        "loss": Options("hinge", "squared_hinge"),
        "dual": (BOOL, Options("auto")),
        "tol": Interval(low=0, include_low=False),
        "C": Interval(low=0, include_low=False),
        "multi_class": Options("ovr", "crammer_singer"),
        "fit_intercept": BOOL,
        "intercept_scaling": Interval(low=0, include_low=False),
        "class_weight": CLASS_WEIGHT,
        "verbose": (BOOL, Interval(numbers.Integral, low=0)),
        "random_state": RANDOM_STATE,
        "max_iter": Interval(numbers.Integral, low=0),
    }

    def _resolve_dual(self, n_samples: int, n_features: int) -> bool:
        """``dual``, with 'auto' resolved as scikit-learn 1.9 does."""
        if self.dual != "auto":
            return bool(self.dual)
        if self.multi_class == "crammer_singer":
            return n_samples < n_features  # no matter: the problem ignores it
        prefer = n_samples < n_features
        return prefer if _unsupported(self.loss, self.penalty, prefer) is None else not prefer

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> LinearSVC:
        """Fit on ``X`` (n_samples, n_features; dense or scipy.sparse) and labels ``y``;
        ``sample_weight`` multiplies each sample's ``C``."""
        validate_params(self)
        X, y = check_X_y(self, X, y, classifier=True, accept_sparse="csr")
        self.classes_, y_index = encode_labels(y, min_classes=2)
        dual = self._resolve_dual(*X.shape)
        if self.multi_class == "ovr":
            refusal = _unsupported(self.loss, self.penalty, dual)
            if refusal is not None:
                raise ValueError(refusal)
        if sample_weight is None:
            sw = np.ones(X.shape[0])
        else:
            if isinstance(sample_weight, numbers.Number):
                sample_weight = np.full(X.shape[0], float(sample_weight))
            sw = check_array(sample_weight, "sample_weight", ndim=1)
            check_consistent_length(sample_weight=sw, y=y_index)
        cw = class_weights(self.class_weight, self.classes_, y_index, sample_weight=sw)
        keep = sw > 0  # LIBLINEAR removes the samples of weight zero or less
        if not keep.any():
            raise ValueError(
                "sample_weight: every weight is zero or negative; LinearSVC needs at least one "
                "sample of positive weight"
            )
        B = float(self.intercept_scaling) if self.fit_intercept else 0.0
        Xa = self._augment(X, B)
        if not keep.all():
            Xa = Xa[keep]
        y_index, sw = y_index[keep], sw[keep]
        seed = int(check_random_state(self.random_state).integers(2**31 - 1))
        n_classes = len(self.classes_)
        if self.multi_class == "crammer_singer":
            W = np.zeros((Xa.shape[1], n_classes))
            C = self.C * sw * cw[y_index]
            n_iters = [
                _crammer_singer(*_csr_arrays(Xa), y_index, C, W, self.tol, self.max_iter, seed)
            ]
            raw = W.T
            if n_classes == 2:  # scikit-learn keeps one row: the second class's minus the first's
                raw = raw[1:] - raw[:1]
        else:
            tasks = [1] if n_classes == 2 else range(n_classes)
            rows, n_iters = [], []
            for k in tasks:
                y_pm = np.where(y_index == k, 1.0, -1.0)
                # binary: each class its own weight; one-vs-rest: only the positives' (LIBLINEAR)
                rest = cw[y_index] if n_classes == 2 else 1.0
                C = self.C * sw * np.where(y_index == k, cw[k], rest)
                w, n_iter = self._solve(Xa, y_pm, C, dual, seed)
                rows.append(w)
                n_iters.append(n_iter)
            raw = np.array(rows)
        self.coef_ = raw[:, :-1].copy()  # without an intercept the last weight is 0
        self.intercept_ = B * raw[:, -1] if self.fit_intercept else 0.0
        self.n_iter_ = int(max(n_iters))
        if self.n_iter_ >= self.max_iter:
            warnings.warn(
                "Liblinear failed to converge, increase the number of iterations.",
                ConvergenceWarning,
                stacklevel=2,
            )
        return self

    @staticmethod
    def _augment(X: Any, B: float) -> Any:
        """``[X, B]`` (C-ordered float64, or CSR): the intercept's feature appended (B = 0
        without an intercept, a column that keeps its weight at 0)."""
        column = np.full((X.shape[0], 1), B)
        if sp.issparse(X):
            return sp.hstack([X, sp.csr_matrix(column)], format="csr")
        return np.ascontiguousarray(np.hstack([X, column]))

    def _solve(self, X: Any, y: np.ndarray, C: np.ndarray, dual: bool, seed: int):
        """One binary problem: ``(w (n_features + 1,), n_iter)``."""
        w = np.zeros(X.shape[1])
        if self.max_iter == 0:
            return w, 0
        if dual:
            hinge = self.loss == "hinge"
            upper = C if hinge else np.full(C.size, np.inf)
            diag = np.zeros(C.size) if hinge else 0.5 / C
            n_iter = _dual_cd(*_csr_arrays(X), y, upper, diag, w, self.tol, self.max_iter, seed)
            return w, n_iter
        n_pos = int((y > 0).sum())
        tol = self.tol * max(min(n_pos, y.size - n_pos), 1) / y.size  # LIBLINEAR's primal tol
        if self.penalty == "l2":
            return _primal_l2(X, y, C, tol, self.max_iter)
        Xy = sp.csc_matrix(X.multiply(y[:, None]) if sp.issparse(X) else X * y[:, None])
        n_iter = _l1_cd(Xy.indptr, Xy.indices, Xy.data, y, C, w, tol, self.max_iter, seed)
        return w, n_iter

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    def decision_function(self, X: Any) -> np.ndarray:
        """``X coef_^T + intercept_``: (n_samples,) for two classes (positive means
        ``classes_[1]``), else (n_samples, n_classes)."""
        check_is_fitted(self)
        X = check_X(self, X, reset=False, accept_sparse="csr")
        scores = np.asarray(X @ self.coef_.T) + self.intercept_  # coef_ may be sparse
        return scores.ravel() if scores.shape[1] == 1 else scores

    def predict(self, X: Any) -> np.ndarray:
        """The class of the largest score (two classes: ``classes_[1]`` where it is > 0)."""
        scores = self.decision_function(X)
        index = (scores > 0).astype(int) if scores.ndim == 1 else np.argmax(scores, axis=1)
        return self.classes_[index]

    def sparsify(self) -> LinearSVC:
        """Store ``coef_`` as a CSR matrix (predictions unchanged)."""
        check_is_fitted(self)
        self.coef_ = sp.csr_matrix(self.coef_)
        return self

    def densify(self) -> LinearSVC:
        """Store ``coef_`` as a dense array again (undoes :meth:`sparsify`)."""
        check_is_fitted(self)
        if sp.issparse(self.coef_):
            self.coef_ = self.coef_.toarray()
        return self
