"""Losses of first-order gradient boosting: start value, negative gradient, leaf value.

Each loss :math:`L(y, F)` of the raw prediction :math:`F` provides

- the best constant :math:`F_0 = \\arg\\min_c \\sum_i w_i L(y_i, c)`;
- the pseudo-residuals :math:`r_i = -\\partial L(y_i, F) / \\partial F` the next tree is fit to;
- the value of a leaf :math:`R` once the tree is fixed, the line search
  :math:`\\gamma_R = \\arg\\min_\\gamma \\sum_{i \\in R} w_i L(y_i, F_i + \\gamma)` (exact for the
  squared, absolute and Huber losses, one Newton step for the log-losses).

References
----------
Friedman (2001). Greedy function approximation: a gradient boosting machine. Ann. Statist.
29(5), Algorithms 2-6.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit, log_softmax, softmax

__all__ = ["LOSSES", "weighted_percentile"]


def weighted_percentile(x: np.ndarray, w: np.ndarray, q: float) -> float:
    """Smallest ``x`` whose cumulative weight reaches ``q`` percent of the total (inverse CDF)."""
    order = np.argsort(x, kind="stable")
    cdf = np.cumsum(w[order])
    target = q / 100.0 * cdf[-1]
    if target == 0:
        target = np.nextafter(0.0, 1.0)
    k = min(int(np.searchsorted(cdf, target, side="left")), len(x) - 1)
    return float(x[order[k]])


def median(x: np.ndarray, w: np.ndarray | None) -> float:
    """Weighted median; without weights the usual median (midpoint for an even count)."""
    if w is None:
        return float(np.median(x))
    return weighted_percentile(x, w, 50)


_EPS = np.finfo(np.float64).eps


def _safe_ratio(num: float, den: float) -> float:
    return 0.0 if abs(den) < 1e-150 else num / den


class SquaredError:
    """:math:`L = (y - F)^2`; :math:`r = y - F`; a leaf is the mean residual."""

    n_outputs = 1
    score_factor = 1.0

    def init(self, y, w):
        return np.array([np.average(y, weights=w)])

    def negative_gradient(self, y, F):
        return (y - F[:, 0])[:, None]

    def leaf_value(self, y, F, r, w, k):
        return None  # the tree's own leaf means are already optimal

    def __call__(self, y, F, w):
        return float(np.average((y - F[:, 0]) ** 2, weights=w))


class AbsoluteError:
    """:math:`L = |y - F|`; :math:`r = \\operatorname{sign}(y - F)`, taken as +1 at
    :math:`y = F` (scikit-learn's subgradient there: the initial weighted median is often one
    of the targets); a leaf is a median."""

    n_outputs = 1
    score_factor = 1.0

    def init(self, y, w):
        return np.array([median(y, w)])

    def negative_gradient(self, y, F):
        return np.where(y >= F[:, 0], 1.0, -1.0)[:, None]

    def leaf_value(self, y, F, r, w, k):
        return weighted_percentile(y - F[:, 0], w, 50)

    def __call__(self, y, F, w):
        return float(np.average(np.abs(y - F[:, 0]), weights=w))


class Huber:
    """Squared below :math:`\\delta`, absolute above; :math:`\\delta` is the ``alpha`` quantile
    of :math:`|y - F|`, re-estimated every stage (Friedman 2001, Algorithm 4)."""

    n_outputs = 1
    score_factor = 1.0

    def __init__(self, alpha: float) -> None:
        self.alpha = alpha
        self.delta = np.inf

    def init(self, y, w):
        return np.array([median(y, w)])

    def update_delta(self, y, F, w):
        self.delta = weighted_percentile(np.abs(y - F[:, 0]), w, 100 * self.alpha)

    def negative_gradient(self, y, F):
        r = y - F[:, 0]
        return np.where(np.abs(r) <= self.delta, r, self.delta * np.sign(r))[:, None]

    def leaf_value(self, y, F, r, w, k):
        d = y - F[:, 0]
        med = weighted_percentile(d, w, 50)
        return med + np.average(
            np.sign(d - med) * np.minimum(self.delta, np.abs(d - med)), weights=w
        )

    def __call__(self, y, F, w):
        r = np.abs(y - F[:, 0])
        quad = r <= self.delta
        loss = np.where(quad, 0.5 * r**2, self.delta * (r - 0.5 * self.delta))
        return float(np.average(loss, weights=w))


class BinomialLogLoss:
    """:math:`L = -y F + \\log(1 + e^F)`; :math:`r = y - p`; leaf
    :math:`\\sum w r / \\sum w p(1-p)` (one Newton step). Scores are reported as the
    deviance :math:`2L`, as scikit-learn does."""

    n_outputs = 1
    score_factor = 2.0

    def raw_from_proba(self, P):
        p = np.clip(P[:, 1], _EPS, 1 - _EPS)
        return np.log(p / (1 - p))[:, None]

    def proba(self, F):
        p = expit(F[:, 0])
        return np.column_stack([1 - p, p])

    def init(self, y, w):
        p = np.clip(np.average(y, weights=w), np.finfo(float).eps, 1 - np.finfo(float).eps)
        return np.array([np.log(p / (1 - p))])

    def negative_gradient(self, y, F):
        return (y - expit(F[:, 0]))[:, None]

    def leaf_value(self, y, F, r, w, k):
        p = y - r
        return _safe_ratio(np.average(r, weights=w), np.average(p * (1 - p), weights=w))

    def __call__(self, y, F, w):
        return float(np.average(np.logaddexp(0, F[:, 0]) - y * F[:, 0], weights=w))


class MultinomialLogLoss:
    """:math:`L = -\\sum_k y_k \\log p_k`, :math:`p = \\operatorname{softmax}(F)`; one tree per
    class on :math:`r_k = y_k - p_k`; leaf :math:`\\frac{K-1}{K}\\sum w r_k / \\sum w p_k(1-p_k)`
    (Friedman 2001, Algorithm 6)."""

    score_factor = 1.0

    def __init__(self, n_classes: int) -> None:
        self.n_outputs = n_classes

    def raw_from_proba(self, P):
        logp = np.log(np.clip(P, _EPS, 1 - _EPS))
        return logp - logp.mean(axis=1, keepdims=True)

    def proba(self, F):
        return softmax(F, axis=1)

    def init(self, y, w):
        eps = np.finfo(float).eps
        counts = np.bincount(y.astype(int), weights=w, minlength=self.n_outputs)
        prior = np.clip(counts / counts.sum(), eps, 1 - eps)
        logp = np.log(prior)
        return logp - logp.mean()  # symmetric parametrisation: margins sum to zero

    def negative_gradient(self, y, F):
        Y = np.zeros_like(F)
        Y[np.arange(len(y)), y.astype(int)] = 1.0
        return Y - softmax(F, axis=1)

    def leaf_value(self, y, F, r, w, k):
        yk = (y == k).astype(float)
        p = yk - r
        K = self.n_outputs
        num = np.average(r, weights=w) * (K - 1) / K
        return _safe_ratio(num, np.average(p * (1 - p), weights=w))

    def __call__(self, y, F, w):
        return float(
            -np.average(log_softmax(F, axis=1)[np.arange(len(y)), y.astype(int)], weights=w)
        )


class ExponentialLoss:
    """AdaBoost's loss for two classes, :math:`L = y e^{-F} + (1 - y) e^{F}`; :math:`p =
    \\sigma(2F)`; :math:`F_0 = \\tfrac12 \\log\\frac{p}{1-p}`; leaf: one Newton step
    :math:`\\sum w r / \\sum w |r|`, since the Hessian equals :math:`|r|`."""

    n_outputs = 1
    score_factor = 1.0

    def init(self, y, w):
        p = np.clip(np.average(y, weights=w), _EPS, 1 - _EPS)
        return np.array([0.5 * np.log(p / (1 - p))])

    def raw_from_proba(self, P):
        p = np.clip(P[:, 1], _EPS, 1 - _EPS)
        return 0.5 * np.log(p / (1 - p))[:, None]

    def proba(self, F):
        p = expit(2 * F[:, 0])
        return np.column_stack([1 - p, p])

    def negative_gradient(self, y, F):
        return (y * np.exp(-F[:, 0]) - (1 - y) * np.exp(F[:, 0]))[:, None]

    def leaf_value(self, y, F, r, w, k):
        return _safe_ratio(np.average(r, weights=w), np.average(np.abs(r), weights=w))

    def __call__(self, y, F, w):
        return float(np.average(y * np.exp(-F[:, 0]) + (1 - y) * np.exp(F[:, 0]), weights=w))


class QuantileLoss:
    """Pinball loss :math:`L = \\alpha (y - F)_+ + (1 - \\alpha)(F - y)_+`; :math:`r = \\alpha`
    above the prediction, :math:`\\alpha - 1` below; start and leaves are weighted
    ``alpha`` quantiles (of ``y``, of the residuals)."""

    n_outputs = 1
    score_factor = 1.0

    def __init__(self, alpha: float) -> None:
        self.alpha = alpha

    def init(self, y, w):
        if w is None:
            return np.array([np.percentile(y, 100 * self.alpha)])
        return np.array([weighted_percentile(y, w, 100 * self.alpha)])

    def negative_gradient(self, y, F):
        return np.where(y >= F[:, 0], self.alpha, self.alpha - 1.0)[:, None]

    def leaf_value(self, y, F, r, w, k):
        return weighted_percentile(y - F[:, 0], w, 100 * self.alpha)

    def __call__(self, y, F, w):
        d = y - F[:, 0]
        return float(np.average(np.maximum(self.alpha * d, (self.alpha - 1) * d), weights=w))


LOSSES = {
    "squared_error": SquaredError,
    "absolute_error": AbsoluteError,
    "huber": Huber,
    "log_loss": BinomialLogLoss,
    "exponential": ExponentialLoss,
}
