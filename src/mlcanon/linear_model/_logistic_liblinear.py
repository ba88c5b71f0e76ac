r"""The 'liblinear' problem of logistic regression: a binary fit with a penalized intercept.

liblinear appends a synthetic feature of constant value ``intercept_scaling`` (``c`` below) to
every sample and treats its weight like any other, penalty included; the intercept is
``b = c w_{p+1}``. With labels ``y_i ∈ {-1, +1}`` and the augmented samples
``x̃_i = (x_i, c)`` (or ``x_i`` without intercept), it solves

.. math::

    \min_{\tilde w} \; C \sum_i s_i \log(1 + e^{-y_i \tilde w^T \tilde x_i}) + R(\tilde w),
    \qquad R = \tfrac12 \lVert \tilde w \rVert_2^2 \text{ (L2) or } \lVert \tilde w \rVert_1
    \text{ (L1)}.

The objective is strictly convex for L2 and convex for L1, so its minimizer does not depend on
the algorithm: this module reaches liblinear's coefficients with the package's own solvers,
not liblinear's (TRON and newGLMNET).

* L2, primal: Newton's method with conjugate-gradient steps
  (:func:`mlcanon.linear_model._newton.newton`) on the objective divided by ``C S``
  (``S = Σ s_i``).
* L1, primal: proximal Newton with a coordinate-descent inner solver
  (:func:`mlcanon.linear_model._proximal.prox_newton`). It forms the ``p x p`` Hessian of the
  smooth part, so it suits up to a few thousand features, unlike liblinear's own L1 solver,
  which is built for wide sparse data.

  Both stop, as liblinear's primal solvers do, when the largest entry of the gradient (of the
  smallest subgradient for L1) has shrunk below ``tol · max(min(n_+, n_-), 1) / n`` times its
  value at ``w̃ = 0`` (``n_±`` the counts of each label; liblinear measures the shrinking in
  the 2-norm, resp. 1-norm, rather than the largest entry).
* L2, dual: coordinate descent on the dual problem (Yu, Huang & Lin 2011),

  .. math::

      \min_{0 \le \alpha_i \le C_i} \; \tfrac12 \alpha^T Q \alpha
      + \sum_i \big[\alpha_i \log \alpha_i + (C_i - \alpha_i) \log(C_i - \alpha_i)\big],
      \qquad Q_{ij} = y_i y_j \tilde x_i^T \tilde x_j, \quad C_i = C s_i,

  whose solution gives the primal one as ``w̃ = Σ α_i y_i x̃_i``. Each epoch visits the samples
  in an order drawn from ``random_state`` and solves every one-variable problem exactly (its
  derivative ``y_i w̃^T x̃_i + a δ + \log((α_i + δ)/(C_i - α_i - δ))`` is increasing; Newton's
  method runs on whichever of ``α_i`` and ``C_i - α_i`` is nearer zero, as liblinear does, so
  neither loses its digits at a bound); the run stops after an epoch in which no dual gradient
  entry reached ``tol`` (liblinear's test). Samples of weight zero drop out (``C_i = 0`` pins
  ``α_i = 0``).

``max_iter`` bounds Newton steps (primal) or epochs (dual), so ``n_iter_`` counts those and
differs from liblinear's own count.

References
----------
Fan, Chang, Hsieh, Wang & Lin (2008), "LIBLINEAR: a library for large linear classification",
JMLR 9 (the synthetic bias feature, Appendix). Yu, Huang & Lin (2011), "Dual coordinate descent
methods for logistic regression and maximum entropy models", Machine Learning 85, Algorithm 3.
Yuan, Ho & Lin (2012), "An improved GLMNET for L1-regularized logistic regression", JMLR 13.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ._logistic_loss import LogisticLoss
from ._newton import newton
from ._proximal import min_norm_subgradient, prox_newton

__all__ = ["check_liblinear_data", "fit_liblinear"]


@njit(cache=True)
def _dual_step(a, b, alpha, rest, C, eps):
    """One sample's exact dual update: the new ``(α_i, C_i - α_i)``.

    The one-variable problem ``min_z z log z + (C - z) log(C - z) + a/2 (z - z0)^2 + s b (z - z0)``
    is solved by Newton's method on whichever of ``z = α`` (``s = 1``) or ``z = C - α``
    (``s = -1``) the solution is nearer zero, so that ``z`` keeps its digits down to 1e-300 and
    a step past 0 is replaced by ``z / 10`` (Yu, Huang & Lin 2011, Algorithm 3)."""
    sign, z0 = 1.0, alpha
    if 0.5 * a * (rest - alpha) + b < 0.0:  # the solution lies nearer C than 0
        sign, z0 = -1.0, rest
    z = 0.1 * z0 if C - z0 < 0.5 * C else z0
    for _ in range(100):
        gp = a * (z - z0) + sign * b + np.log(z / (C - z))
        if abs(gp) < eps:
            break
        step = z - gp / (a + C / ((C - z) * z))
        z = 0.1 * z if step <= 0.0 else step
    return (z, C - z) if sign > 0.0 else (C - z, z)


@njit(cache=True)
def _dual_cd(X, y, Cs, w, tol, max_iter, seed):
    """Dual coordinate descent from ``α_i = min(C_i / 1000, 1e-8)``; ``w`` (zeros on entry)
    holds ``Σ α_i y_i x_i`` throughout. Returns ``(n_epochs, converged)``."""
    np.random.seed(seed)  # noqa: NPY002 (numba has no Generator; this seeds its own RNG)
    active = np.flatnonzero(Cs > 0.0)
    alpha = np.minimum(1e-3 * Cs, 1e-8)
    rest = Cs - alpha
    for i in active:
        w += alpha[i] * y[i] * X[i]
    sq_norms = (X * X).sum(axis=1)
    inner_eps = min(1e-8, tol)
    for epoch in range(max_iter):
        biggest = 0.0
        for i in active[np.random.permutation(active.size)]:  # noqa: NPY002 (numba's RNG)
            b = y[i] * (X[i] @ w)
            biggest = max(biggest, abs(b + np.log(alpha[i]) - np.log(rest[i])))
            new_alpha, rest[i] = _dual_step(sq_norms[i], b, alpha[i], rest[i], Cs[i], inner_eps)
            w += (new_alpha - alpha[i]) * y[i] * X[i]
            alpha[i] = new_alpha
        if biggest < tol:
            return epoch + 1, True
    return max_iter, False


def check_liblinear_data(
    X, n_classes: int, multi_class: str, intercept_scaling: float | None
) -> None:
    """scikit-learn's refusals: several classes (unless ``multi_class='ovr'`` asks for one
    binary fit per class) and values above 1e30, in ``X`` or in the synthetic intercept feature
    (``intercept_scaling``; None without an intercept), where scikit-learn's fit never ends."""
    if n_classes > 2 and multi_class != "ovr":
        raise ValueError(
            f"The 'liblinear' solver does not support multiclass classification (n_classes="
            f"{n_classes}) with multi_class={multi_class!r}: use multi_class='ovr', another "
            "solver, or wrap the estimator in a OneVsRestClassifier"
        )
    if X.size and np.max(X) > 1e30:
        raise ValueError(
            "Using the 'liblinear' solver while X contains a maximum value > 1e30 results in a "
            "frozen fit. Please choose another solver or rescale the input X."
        )
    if intercept_scaling is not None and intercept_scaling > 1e30:
        raise ValueError(
            "intercept_scaling must be <= 1e30 for solver='liblinear': it is the value of the "
            f"synthetic intercept feature of every sample; got {intercept_scaling!r}"
        )


def fit_liblinear(X, y, sw, *, C, l1, dual, fit_intercept, intercept_scaling, tol, max_iter, seed):
    """One binary problem (``y`` of 0/1, sample weights ``sw`` with class weights applied).

    Returns ``(coef (n_features,), intercept, n_iter, converged)``.
    """
    if fit_intercept:
        X = np.hstack([X, np.full((X.shape[0], 1), float(intercept_scaling))])
    X = np.ascontiguousarray(X, dtype=np.float64)
    w = np.zeros(X.shape[1])
    if max_iter == 0:
        n_iter, ok = 0, False
    elif dual:
        n_iter, ok = _dual_cd(X, 2.0 * y - 1.0, C * sw, w, tol, max_iter, seed)
    else:
        S = sw.sum()
        loss = LogisticLoss(X, y[:, None], sw, 0.0 if l1 else 1.0 / (C * S), False)
        lam = np.full(X.shape[1], 1.0 / (C * S) if l1 else 0.0)
        n_pos = np.count_nonzero(y)
        share = max(min(n_pos, y.size - n_pos), 1) / y.size
        size0 = np.abs(min_norm_subgradient(w, loss.loss_grad(w)[1], lam)).max(initial=0.0)
        tol = tol * share * size0
        if l1:
            w, n_iter, ok = prox_newton(
                loss.loss_grad, loss.hessian, lam, w, tol=tol, max_iter=max_iter
            )
        else:
            w, n_iter, ok, _ = newton(loss.loss_grad, loss.hessian_product, w, tol, max_iter, "cg")
    if fit_intercept:
        return w[:-1], intercept_scaling * w[-1], n_iter, ok
    return w, 0.0, n_iter, ok
