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
  (:func:`mlcanon.linear_model._proximal.prox_newton`).

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
  derivative ``y_i w̃^T x̃_i + a δ + \log((α_i + δ)/(C_i - α_i - δ))`` is increasing, so a
  bracketed Newton iteration finds its root); the run stops after an epoch in which no dual
  gradient entry exceeded ``tol`` times the largest one of the first epoch (liblinear's
  test). Samples of weight zero drop out (``C_i = 0`` pins
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
def _dual_step(a, b, alpha, rest):
    """The root ``δ ∈ (-α, rest)`` of ``b + a δ + log(α + δ) - log(rest - δ)``, where
    ``rest = C_i - α`` is kept apart from ``α`` so that neither loses digits near a bound."""
    lo, hi, d = -alpha, rest, 0.0
    for _ in range(100):
        za, zb = alpha + d, rest - d
        g = b + a * d + np.log(za) - np.log(zb)
        if g > 0.0:
            hi = d
        else:
            lo = d
        d_new = d - g / (a + 1.0 / za + 1.0 / zb)
        if not lo < d_new < hi:  # Newton left the bracket: bisect instead
            d_new = 0.5 * (lo + hi)
        if d_new == d:
            break
        d = d_new
    return d


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
    first = 0.0
    for epoch in range(max_iter):
        biggest = 0.0
        for i in active[np.random.permutation(active.size)]:  # noqa: NPY002 (numba's RNG)
            b = y[i] * (X[i] @ w)
            biggest = max(biggest, abs(b + np.log(alpha[i]) - np.log(rest[i])))
            d = _dual_step(sq_norms[i], b, alpha[i], rest[i])
            if d != 0.0 and alpha[i] + d > 0.0 and rest[i] - d > 0.0:
                alpha[i] += d
                rest[i] -= d
                w += d * y[i] * X[i]
        if epoch == 0:
            first = biggest
        if biggest <= tol * first:
            return epoch + 1, True
    return max_iter, False


def check_liblinear_data(X, n_classes: int, multi_class: str) -> None:
    """scikit-learn's refusals: several classes (unless ``multi_class='ovr'`` asks for one
    binary fit per class) and values above 1e30."""
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
