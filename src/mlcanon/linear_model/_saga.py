r"""SAG and SAGA: incremental gradient methods with a table of past per-sample gradients.

For an objective written as a mean over samples,
:math:`f(w) = \frac1n \sum_i f_i(w) + \frac{\lambda_2}{2} \lVert W \rVert^2 +
\lambda_1 \lVert W \rVert_1` with :math:`f_i = n \tfrac{s_i}{S} \ell(y_i, W x_i + b)` (``ℓ`` the
logistic, softmax or half squared loss), each step draws one sample :math:`j`, computes
:math:`g_j = \nabla f_j(w)` and, with the stored :math:`m_j` and the table mean
:math:`\bar m = \frac1n \sum_i m_i`,

.. math::
    \text{SAGA:}\; w \leftarrow \operatorname{prox}_{\gamma \lambda_1}\!\big(w - \gamma
        (g_j - m_j + \bar m + \lambda_2 W)\big), \qquad
    \text{SAG:}\; w \leftarrow w - \gamma \big(\bar m' + \lambda_2 W\big),

where :math:`\bar m'` already holds :math:`g_j` in place of :math:`m_j`; then
:math:`m_j \leftarrow g_j`. The gradient of a linear model is a multiple of :math:`x_j`, so the
table stores one number per sample and score column. The step is scikit-learn's (see
:func:`step_size`): :math:`1 / L` for SAG and :math:`1 / (2L + \min(2 n \lambda_2, L))` for
SAGA, with :math:`L` the largest per-sample smoothness constant (the loss curvature times the
largest squared row norm plus one for the intercept) plus :math:`\lambda_2`. The L1 term (SAGA
only) is handled by soft-thresholding, the intercept is not penalized. An epoch is ``n`` draws;
the run stops when an epoch moves no weight by more than ``tol`` times the largest weight.

References
----------
A. Defazio, F. Bach and S. Lacoste-Julien, "SAGA: a fast incremental gradient method with
support for non-strongly convex composite objectives", NeurIPS 2014.
M. Schmidt, N. Le Roux and F. Bach, "Minimizing finite sums with the stochastic average
gradient", Mathematical Programming 162, 2017.
"""

from __future__ import annotations

import numpy as np
from numba import njit

LOGISTIC, SOFTMAX, SQUARED = 0, 1, 2  # the loss codes the kernel reads
# the loss curvature scikit-learn's step assumes (it uses the binary 1/4 for softmax too)
_CURVATURE = {LOGISTIC: 0.25, SOFTMAX: 0.25, SQUARED: 1.0}


def step_size(X, weight, l2, fit_intercept, loss, unbiased):
    """scikit-learn's step: ``1 / L`` (SAG) or ``1 / (2L + min(2 n l2, L))`` (SAGA).

    ``L = max_i n w_i c (||x_i||^2 + fit_intercept) + l2`` with ``c`` the loss curvature;
    with unit weights it is scikit-learn's constant, and the weights ``n w_i`` keep it an upper
    bound on the smoothness of every ``f_i`` when they are not all one.
    """
    n = X.shape[0]
    sq = np.einsum("ij,ij->i", X, X) + float(fit_intercept)
    lipschitz = _CURVATURE[loss] * float(np.max(n * weight * sq)) + l2
    if unbiased:
        return 1.0 / (2.0 * lipschitz + min(2.0 * n * l2, lipschitz))
    return 1.0 / lipschitz


@njit(cache=True)
def _score_gradient(z, y, loss, out):  # pragma: no cover
    """d loss / d z for one sample: ``p - y`` (logistic), ``softmax(z) - y`` or ``z - y``."""
    if loss == 2:  # SQUARED
        for k in range(z.shape[0]):
            out[k] = z[k] - y[k]
        return
    if loss == 0:  # LOGISTIC
        out[0] = 1.0 / (1.0 + np.exp(-z[0])) - y[0]
        return
    top = z.max()
    total = 0.0
    for k in range(z.shape[0]):
        out[k] = np.exp(z[k] - top)
        total += out[k]
    for k in range(z.shape[0]):
        out[k] = out[k] / total - y[k]


@njit(cache=True)
def saga(
    X, Y, weight, l1, l2, fit_intercept, W, b, max_epochs, tol, unbiased, seed, loss, step
):  # pragma: no cover
    """Run SAGA (``unbiased``) or SAG in place on ``W`` (K, d) and ``b`` (K,).

    ``weight`` are the sample weights divided by their sum, ``loss`` one of the codes above,
    ``step`` from :func:`step_size`. Returns ``(epochs, converged)``.
    """
    np.random.seed(seed)  # noqa: NPY002 (numba has no Generator; this seeds its own RNG)
    n, d = X.shape
    K = Y.shape[1]
    table = np.zeros((n, K))
    mean_w = np.zeros((K, d))
    mean_b = np.zeros(K)
    z = np.empty(K)
    g = np.empty(K)
    W_start = W.copy()
    b_start = b.copy()
    for epoch in range(1, max_epochs + 1):
        W_start[:, :] = W
        b_start[:] = b
        for _ in range(n):
            j = np.random.randint(n)  # noqa: NPY002 (numba: the generator seeded above)
            for k in range(K):
                z[k] = b[k]
                for f in range(d):
                    z[k] += W[k, f] * X[j, f]
            _score_gradient(z, Y[j], loss, g)
            for k in range(K):
                delta = n * weight[j] * g[k] - table[j, k]
                table[j, k] += delta
                for f in range(d):
                    grad = mean_w[k, f] + l2 * W[k, f]
                    if unbiased:
                        grad += delta * X[j, f]
                    mean_w[k, f] += delta * X[j, f] / n
                    if not unbiased:
                        grad += delta * X[j, f] / n
                    v = W[k, f] - step * grad
                    if l1 > 0.0:  # soft-thresholding: the proximal step of the L1 term
                        v = np.sign(v) * max(abs(v) - step * l1, 0.0)
                    W[k, f] = v
                if fit_intercept:
                    grad_b = mean_b[k] + (delta if unbiased else delta / n)
                    mean_b[k] += delta / n
                    b[k] -= step * grad_b
        change, largest = 0.0, 0.0
        for k in range(K):
            for f in range(d):
                change = max(change, abs(W[k, f] - W_start[k, f]))
                largest = max(largest, abs(W[k, f]))
            change = max(change, abs(b[k] - b_start[k]))
            largest = max(largest, abs(b[k]))
        if largest == 0.0 or change <= tol * largest:
            return epoch, True
    return max_epochs, False
