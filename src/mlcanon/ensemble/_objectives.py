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

__all__ = ["METRICS", "OBJECTIVES", "Objective", "metric_sums", "metric_value"]

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


# Per-row losses l(y, F) of the metrics. Every metric is a map of the weighted mean of its
# loss, so sums over row partitions add up to the metric of all rows (see metric_sums).
def _squared(y, F):
    return (y - F[:, 0]) ** 2


def _absolute(y, F):
    return np.abs(y - F[:, 0])


def _logloss(y, F):
    # -log sigma(F) = log(1 + e^-F), computed without overflow
    return np.logaddexp(0, -F[:, 0]) * y + np.logaddexp(0, F[:, 0]) * (1 - y)


def _error(y, F):
    return ((F[:, 0] > 0) != (y > 0.5)).astype(np.float64)


def _mlogloss(y, F):
    return -log_softmax(F, axis=1)[np.arange(len(y)), y.astype(np.int64)]


def _merror(y, F):
    return (np.argmax(F, axis=1) != y).astype(np.float64)


# name -> (per-row loss, map from the weighted mean loss to the metric); every metric is a
# loss (lower is better)
METRICS = {
    "rmse": (_squared, np.sqrt),
    "mae": (_absolute, float),
    "logloss": (_logloss, float),
    "error": (_error, float),
    "mlogloss": (_mlogloss, float),
    "merror": (_merror, float),
}


def metric_sums(name: str, y: np.ndarray, F: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    """``(sum_i w_i l(y_i, F_i), sum_i w_i)`` over the rows given, for the metric ``name``.

    The sums of row partitions add up to those of all rows, which :func:`metric_value` turns
    into the metric: a data-parallel fit evaluates each partition where it lives.
    """
    loss = METRICS[name][0](y, F)
    return float(np.sum(loss * w)), float(np.sum(w))


def metric_value(name: str, sums: tuple[float, float]) -> float:
    """The metric ``name`` from the summed ``(sum w l, sum w)`` of :func:`metric_sums`."""
    total, weight = sums
    return float(METRICS[name][1](total / weight))


DEFAULT_METRIC = {
    "reg:squarederror": "rmse",
    "binary:logistic": "logloss",
    "multi:softprob": "mlogloss",
    "custom": "rmse",
}
