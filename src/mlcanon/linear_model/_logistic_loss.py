r"""The logistic (binary) and softmax (multinomial) log-losses with gradients and Hessians.

Parameters are packed in one flat vector ``w``: for ``K`` score columns (``K = 1`` for the
binary model) it is ``W`` of shape (K, n_features) row by row, followed by the ``K`` intercepts
when ``fit_intercept``. The objective is the sample-weighted mean loss plus an L2 term,

.. math::

    f(w) = \frac{1}{S} \sum_i s_i \, \ell(y_i, z_i) + \frac{\lambda}{2} \lVert W \rVert_F^2,
    \qquad S = \sum_i s_i, \quad z_i = W x_i + b ,

with ``λ = (1 - l1_ratio) / (C S)`` — scikit-learn's objective divided by ``S``, which leaves the
minimizer unchanged and makes ``tol`` comparable across data sizes. The intercept is never
penalized.

Binary (``y ∈ {0, 1}``, ``p = σ(z)``): ``ℓ = log(1 + e^z) - y z``, ``∇_z ℓ = p - y``,
``∇²_z ℓ = p (1 - p)``, so ``∇_W = X^T s (p - y) / S`` — the Bernoulli likelihood's gradient.

Multinomial (one-hot ``Y``, ``P = softmax(Z)``): ``ℓ = logsumexp(z) - z_y``, ``∇_Z = P - Y``,
and the Hessian block of classes ``(k, l)`` is ``X^T diag(s p_k (δ_kl - p_l)) X / S``.

References
----------
Hastie, Tibshirani & Friedman (2009), *The Elements of Statistical Learning*, 2nd ed.,
Section 4.4 (fitting by Newton / IRLS). Bishop (2006), *Pattern Recognition and Machine
Learning*, Sections 4.3.2-4.3.4.
"""

from __future__ import annotations

import numpy as np

from mlcanon._special import expit

__all__ = ["LogisticLoss"]


def _log1pexp(z: np.ndarray) -> np.ndarray:
    """``log(1 + e^z)`` without overflow for large ``z`` or cancellation for very negative z."""
    return np.logaddexp(0.0, z)


class LogisticLoss:
    """Loss, gradient and Hessian of the penalized logistic objective for fixed data.

    Parameters
    ----------
    X : array of shape (n_samples, n_features)
    Y : array of shape (n_samples, K)
        Targets: one column of 0/1 for the binary model (K = 1), one-hot for softmax.
    sample_weight : array of shape (n_samples,)
    l2 : float
        ``λ``, the L2 coefficient of the scaled objective.
    fit_intercept : bool
    """

    def __init__(self, X, Y, sample_weight, l2, fit_intercept):
        self.X, self.Y, self.l2, self.fit_intercept = X, Y, l2, fit_intercept
        self.s = sample_weight / sample_weight.sum()  # s_i / S
        self.K = Y.shape[1]
        self.binary = self.K == 1
        self._rows, self._label = np.arange(X.shape[0]), Y.argmax(axis=1)

    @property
    def n_params(self) -> int:
        return self.K * (self.X.shape[1] + int(self.fit_intercept))

    def unpack(self, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Flat ``w`` -> ``(W (K, n_features), b (K,))``."""
        p = self.X.shape[1]
        W = w[: self.K * p].reshape(self.K, p)
        b = w[self.K * p :] if self.fit_intercept else np.zeros(self.K)
        return W, b

    def scores(self, w: np.ndarray) -> np.ndarray:
        W, b = self.unpack(w)
        return self.X @ W.T + b  # (n_samples, K)

    def data_loss_grad(self, w: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        """Unpenalized mean loss, its gradient (flat) and ``P`` (n_samples, K)."""
        Z = self.scores(w)
        if self.binary:
            z, y = Z[:, 0], self.Y[:, 0]
            loss = self.s @ (_log1pexp(z) - y * z)
            P = expit(z)[:, None]
        else:
            Z -= Z.max(axis=1, keepdims=True)  # shift for exp; softmax is shift-invariant
            E = np.exp(Z)
            total = E.sum(axis=1)
            loss = self.s @ (np.log(total) - Z[self._rows, self._label])
            P = E / total[:, None]
        R = self.s[:, None] * (P - self.Y)  # (n_samples, K): weighted residuals
        grad_W = R.T @ self.X
        grad = np.concatenate(
            [grad_W.ravel(), R.sum(axis=0)] if self.fit_intercept else [grad_W.ravel()]
        )
        return float(loss), grad, P

    def penalty_grad(self, w: np.ndarray) -> tuple[float, np.ndarray]:
        """``λ/2 ||W||^2`` and its gradient (zero on the intercepts)."""
        nW = self.K * self.X.shape[1]
        g = np.zeros_like(w)
        g[:nW] = self.l2 * w[:nW]
        return 0.5 * self.l2 * float(w[:nW] @ w[:nW]), g

    def loss_grad(self, w: np.ndarray) -> tuple[float, np.ndarray]:
        """Penalized objective and gradient: the ``fun`` handed to the minimizers."""
        loss, grad, _ = self.data_loss_grad(w)
        pen, pen_grad = self.penalty_grad(w)
        return loss + pen, grad + pen_grad

    def hessian_product(self, w: np.ndarray):
        """``v -> H v`` at ``w`` without forming ``H``: O(n_samples n_params) per product, for
        conjugate gradient. It is the plain Hessian, singular along the softmax's class shifts
        (see :mod:`mlcanon.linear_model._newton` for why that matters)."""
        _, _, P = self.data_loss_grad(w)
        sP, nW = self.s[:, None] * P, self.K * self.X.shape[1]

        def product(v: np.ndarray) -> np.ndarray:
            D = self.scores(v)  # (n_samples, K): the scores' change along v
            # binary: s p (1 - p) d; softmax, class k: s p_k (d_k - Σ_l p_l d_l)
            R = sP * ((1.0 - P) * D if self.binary else D - (P * D).sum(axis=1, keepdims=True))
            out = (R.T @ self.X).ravel()
            if self.fit_intercept:
                out = np.concatenate([out, R.sum(axis=0)])
            out[:nW] += self.l2 * v[:nW]
            return out

        return product

    def hessian(self, w: np.ndarray) -> np.ndarray:
        """Full Hessian, shape (n_params, n_params), for Newton / IRLS; made invertible along
        the softmax's class shifts (:meth:`_fix_gauge`) for the Cholesky factorization."""
        _, _, P = self.data_loss_grad(w)
        Xa = np.hstack([self.X, np.ones((self.X.shape[0], 1))]) if self.fit_intercept else self.X
        q = Xa.shape[1]
        H = np.empty((self.K, q, self.K, q))
        for k in range(self.K):
            for l in range(k, self.K):
                # binary: p (1 - p); softmax: p_k (δ_kl - p_l)
                d = P[:, k] * ((k == l) - P[:, l]) if not self.binary else P[:, 0] * (1 - P[:, 0])
                H[k, :, l, :] = Xa.T @ ((self.s * d)[:, None] * Xa)
                H[l, :, k, :] = H[k, :, l, :].T
        H = H.reshape(self.K * q, self.K * q)
        # reorder from per-class [W_k, b_k] blocks to the flat layout [W (row by row), b]
        p = self.X.shape[1]
        order = np.concatenate(
            [np.arange(k * q, k * q + p) for k in range(self.K)]
            + ([np.arange(p, self.K * q, q)] if self.fit_intercept else [])
        )
        H = H[np.ix_(order, order)]
        nW = self.K * p
        H[np.arange(nW), np.arange(nW)] += self.l2
        if not self.binary:
            self._fix_gauge(H, p)
        return H

    def _fix_gauge(self, H: np.ndarray, p: int) -> None:
        """Make the softmax Hessian invertible without changing any Newton step.

        Adding the same constant to every class's intercept (or, without penalty, to every
        class's weight on one feature) leaves the softmax unchanged: ``H`` is singular along
        those directions ``u``, and the gradient is orthogonal to them. Adding ``ε u u^T``
        therefore leaves ``H^{-1} g`` equal to the pseudo-inverse step but lets Cholesky work.
        """
        eps = max(np.trace(H) / H.shape[0], 1e-12) / self.K
        groups = [self.K * p + np.arange(self.K)] if self.fit_intercept else []
        if self.l2 == 0.0:
            groups += [j + p * np.arange(self.K) for j in range(p)]
        for idx in groups:
            H[np.ix_(idx, idx)] += eps
