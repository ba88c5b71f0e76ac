"""Objectives (gradient, hessian, starting margin) and evaluation metrics of the booster.

For a twice-differentiable loss :math:`l(y, F)` of the raw margin :math:`F`, the booster needs
:math:`g_i = \\partial l / \\partial F` and :math:`h_i = \\partial^2 l / \\partial F^2` at the
current margins:

- ``reg:squarederror``: :math:`l = \\tfrac12 (F - y)^2`, :math:`g = F - y`, :math:`h = 1`;
- ``binary:logistic``: :math:`p = \\sigma(F)`, :math:`g = p - y`, :math:`h = p(1 - p)`;
- ``multi:softprob``: :math:`p = \\operatorname{softmax}(F)`, :math:`g_k = p_k - y_k`,
  :math:`h_k = 2 p_k (1 - p_k)` (xgboost's diagonal bound; cross terms are dropped).

References
----------
Friedman, Hastie, Tibshirani (2000). Additive logistic regression, Ann. Statist. 28(2).
Chen, Guestrin (2016). XGBoost, KDD, eq. (2)-(3).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.special import expit, log_softmax, softmax

__all__ = ["METRICS", "OBJECTIVES", "Objective"]

HESS_FLOOR = 1e-16  # keeps a saturated logistic hessian from dividing by zero


class Objective:
    """Gradient/hessian of a loss of the margin and the margin of an intercept-only model."""

    name = "custom"

    def __init__(self, fn: Callable | None = None) -> None:
        self.fn = fn

    def base_margin(self, y: np.ndarray, w: np.ndarray, n_outputs: int) -> np.ndarray:
        return np.zeros(n_outputs)

    def grad_hess(self, y: np.ndarray, F: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        g, h = self.fn(y, F[:, 0] if F.shape[1] == 1 else F)
        g = np.asarray(g, dtype=np.float64).reshape(F.shape)
        h = np.asarray(h, dtype=np.float64).reshape(F.shape)
        if not (np.isfinite(g).all() and np.isfinite(h).all()):
            raise ValueError("the objective callable returned non-finite gradients or hessians")
        return g, h


class SquaredError(Objective):
    name = "reg:squarederror"

    def base_margin(self, y, w, n_outputs):
        return np.array([np.average(y, weights=w)])

    def grad_hess(self, y, F):
        return F - y[:, None], np.ones_like(F)


class Logistic(Objective):
    name = "binary:logistic"

    def base_margin(self, y, w, n_outputs):
        p = np.clip(np.average(y, weights=w), 1e-6, 1 - 1e-6)
        return np.array([np.log(p / (1 - p))])

    def grad_hess(self, y, F):
        p = expit(F)
        return p - y[:, None], np.maximum(p * (1 - p), HESS_FLOOR)


class Softmax(Objective):
    name = "multi:softprob"

    def base_margin(self, y, w, n_outputs):
        return np.zeros(n_outputs)

    def grad_hess(self, y, F):
        P = softmax(F, axis=1)
        Y = np.zeros_like(F)
        Y[np.arange(F.shape[0]), y.astype(np.int64)] = 1.0
        return P - Y, np.maximum(2.0 * P * (1 - P), HESS_FLOOR)


OBJECTIVES = {c.name: c for c in (SquaredError, Logistic, Softmax)}


def _rmse(y, F, w):
    return float(np.sqrt(np.average((y - F[:, 0]) ** 2, weights=w)))


def _mae(y, F, w):
    return float(np.average(np.abs(y - F[:, 0]), weights=w))


def _logloss(y, F, w):
    # -log sigma(F) = log(1 + e^-F), computed without overflow
    return float(
        np.average(np.logaddexp(0, -F[:, 0]) * y + np.logaddexp(0, F[:, 0]) * (1 - y), weights=w)
    )


def _error(y, F, w):
    return float(np.average((F[:, 0] > 0) != (y > 0.5), weights=w))


def _mlogloss(y, F, w):
    logp = log_softmax(F, axis=1)
    return float(-np.average(logp[np.arange(len(y)), y.astype(np.int64)], weights=w))


def _merror(y, F, w):
    return float(np.average(np.argmax(F, axis=1) != y, weights=w))


# name -> function of (y, margins, weights); every one is a loss (lower is better)
METRICS = {
    "rmse": _rmse,
    "mae": _mae,
    "logloss": _logloss,
    "error": _error,
    "mlogloss": _mlogloss,
    "merror": _merror,
}
DEFAULT_METRIC = {
    "reg:squarederror": "rmse",
    "binary:logistic": "logloss",
    "multi:softprob": "mlogloss",
    "custom": "rmse",
}
