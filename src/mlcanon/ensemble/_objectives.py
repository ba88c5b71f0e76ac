"""Objectives (gradient, hessian, starting margin) and evaluation metrics of the booster.

For a twice-differentiable loss :math:`l(y, F)` of the raw margin :math:`F`, the booster needs
:math:`g_i = \\partial l / \\partial F` and :math:`h_i = \\partial^2 l / \\partial F^2` at the
current margins:

- ``reg:squarederror``: :math:`l = \\tfrac12 (F - y)^2`, :math:`g = F - y`, :math:`h = 1`;
- ``binary:logistic``: :math:`p = \\sigma(F)`, :math:`g = p - y`, :math:`h = p(1 - p)`;
- ``multi:softprob``: :math:`p = \\operatorname{softmax}(F)`, :math:`g_k = p_k - y_k`,
  :math:`h_k = 2 p_k (1 - p_k)` (xgboost's diagonal bound; cross terms are dropped).

Boosting starts from xgboost's intercept estimates: the weighted mean of :math:`y`, its log-odds,
or, with :math:`K` classes of weighted frequencies :math:`\\pi_k`,
:math:`F_k = \\log(\\pi_k + \\epsilon) - \\frac1K \\sum_j \\log(\\pi_j + \\epsilon)`,
:math:`\\epsilon = 10^{-6}` (xgboost >= 3.1).

References
----------
Friedman, Hastie, Tibshirani (2000). Additive logistic regression, Ann. Statist. 28(2).
Chen, Guestrin (2016). XGBoost, KDD, eq. (2)-(3).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

import numpy as np
from scipy.special import expit, log_softmax, softmax

__all__ = ["METRICS", "OBJECTIVES", "Objective", "check_metric", "metric_sums", "metric_value"]

HESS_FLOOR = 1e-16  # keeps a saturated logistic hessian from dividing by zero
INTERCEPT_EPS = 1e-6  # keeps the starting margins finite (xgboost's kRtEps)


class Objective:
    """Gradient/hessian of a loss of the margin and the margin of an intercept-only model."""

    name = "custom"

    def __init__(self, fn: Callable | None = None) -> None:
        self.fn = fn

    def base_margin(self, y: np.ndarray, w: np.ndarray, n_outputs: int) -> np.ndarray | None:
        """None: an arbitrary loss has no intercept estimate (the estimator then starts from
        xgboost's default ``base_score``)."""
        return None

    def weighted_grad_hess(
        self, y: np.ndarray, F: np.ndarray, w: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Gradients and hessians of the rows' weighted losses :math:`w_i l(y_i, F_i)`.

        A callable with a ``sample_weight`` parameter receives the weights and applies them
        itself, as in xgboost; the result of one without it is multiplied by them.
        """
        if self.fn is not None and _takes_sample_weight(self.fn):
            return self.grad_hess(y, F, sample_weight=w)
        g, h = self.grad_hess(y, F)
        return g * w[:, None], h * w[:, None]

    def grad_hess(self, y: np.ndarray, F: np.ndarray, **kw) -> tuple[np.ndarray, np.ndarray]:
        g, h = self.fn(y, F[:, 0] if F.shape[1] == 1 else F, **kw)
        g, h = np.asarray(g, dtype=np.float64), np.asarray(h, dtype=np.float64)
        if g.size != F.size or h.size != F.size:
            shape = F.shape[:1] if F.shape[1] == 1 else F.shape
            raise ValueError(
                f"the objective callable must return grad and hess of the margins' shape "
                f"{shape}; got {g.shape} and {h.shape}"
            )
        g, h = g.reshape(F.shape), h.reshape(F.shape)
        if not (np.isfinite(g).all() and np.isfinite(h).all()):
            raise ValueError("the objective callable returned non-finite gradients or hessians")
        return g, h


def _takes_sample_weight(fn: Callable) -> bool:
    try:
        return "sample_weight" in inspect.signature(fn).parameters
    except (TypeError, ValueError):  # a callable without a signature (some builtins)
        return False


class SquaredError(Objective):
    name = "reg:squarederror"

    def base_margin(self, y, w, n_outputs):
        # the weighted mean of each target (one column, or the columns of a 2-D y)
        return np.atleast_1d(np.average(y, axis=0, weights=w))

    def grad_hess(self, y, F):
        return F - y.reshape(F.shape), np.ones_like(F)


class Logistic(Objective):
    name = "binary:logistic"

    def base_margin(self, y, w, n_outputs):
        p = np.clip(np.average(y, weights=w), INTERCEPT_EPS, 1 - INTERCEPT_EPS)
        return np.array([np.log(p / (1 - p))])

    def grad_hess(self, y, F):
        p = expit(F)
        return p - y[:, None], np.maximum(p * (1 - p), HESS_FLOOR)


class Softmax(Objective):
    name = "multi:softprob"

    def base_margin(self, y, w, n_outputs):
        # the log of each class's weighted frequency, centred: their softmax is the frequencies
        # (up to the 1e-6 that keeps the log of a class of zero weight finite)
        freq = np.bincount(y.astype(np.int64), weights=w, minlength=n_outputs) / np.sum(w)
        log_freq = np.log(freq + INTERCEPT_EPS)
        return log_freq - log_freq.mean()

    def grad_hess(self, y, F):
        P = softmax(F, axis=1)
        Y = np.zeros_like(F)
        Y[np.arange(F.shape[0]), y.astype(np.int64)] = 1.0
        return P - Y, np.maximum(2.0 * P * (1 - P), HESS_FLOOR)


OBJECTIVES = {c.name: c for c in (SquaredError, Logistic, Softmax)}


# Per-row losses l(y, F) of the metrics, from the margins F (n, n_outputs) of a task: a
# "regression", "binary" or "multiclass" model. Every metric is a map of the weighted mean of
# its loss, so sums over row partitions add up to the metric of all rows (see metric_sums).
def _residuals(y, F, task):
    """``y`` minus what the model predicts, (n, n_outputs): the targets (one column per
    output of a regression), or P(class 1)."""
    if task == "binary":
        return (y - expit(F[:, 0]))[:, None]
    return y.reshape(F.shape) - F


# With several regression targets a row's loss is the mean over its targets, so the metric
# is the (weighted) mean over all n * n_outputs entries, as xgboost's multi-target metrics.
def _squared(y, F, task):
    return np.mean(_residuals(y, F, task) ** 2, axis=1)


def _absolute(y, F, task):
    return np.mean(np.abs(_residuals(y, F, task)), axis=1)


def _logloss(y, F, task):
    # -log sigma(F) = log(1 + e^-F), computed without overflow
    return np.logaddexp(0, -F[:, 0]) * y + np.logaddexp(0, F[:, 0]) * (1 - y)


def _error(y, F, task):
    return ((F[:, 0] > 0) != (y > 0.5)).astype(np.float64)  # sigma(F) > 1/2


def _mlogloss(y, F, task):
    return -log_softmax(F, axis=1)[np.arange(len(y)), y.astype(np.int64)]


def _merror(y, F, task):
    return (np.argmax(F, axis=1) != y).astype(np.float64)


# name -> (per-row loss, map from the weighted mean loss to the metric, tasks it applies to);
# every metric is a loss (lower is better). As in xgboost, "rmse" and "mae" of a binary
# classifier score its probabilities, and a metric of another task is an error (xgboost also
# scores "logloss" and "error" of a regressor's raw predictions; here they are refused).
METRICS = {
    "rmse": (_squared, np.sqrt, ("regression", "binary")),
    "mae": (_absolute, float, ("regression", "binary")),
    "logloss": (_logloss, float, ("binary",)),
    "error": (_error, float, ("binary",)),
    "mlogloss": (_mlogloss, float, ("multiclass",)),
    "merror": (_merror, float, ("multiclass",)),
}


def check_metric(name: str, task: str, objective: str) -> str:
    """``name`` if the metric applies to ``task``; a ValueError naming the allowed ones if not."""
    if task not in METRICS[name][2]:
        allowed = ", ".join(repr(m) for m, spec in METRICS.items() if task in spec[2])
        raise ValueError(
            f"eval_metric must be None or one of {allowed} for a {task} model (objective "
            f"{objective!r}); got {name!r}"
        )
    return name


def metric_sums(
    name: str, y: np.ndarray, F: np.ndarray, w: np.ndarray, task: str
) -> tuple[float, float]:
    """``(sum_i w_i l(y_i, F_i), sum_i w_i)`` over the rows given, for the metric ``name`` of
    the margins ``F`` of a ``task`` model.

    The sums of row partitions add up to those of all rows, which :func:`metric_value` turns
    into the metric: a data-parallel fit evaluates each partition where it lives.
    """
    loss = METRICS[name][0](y, F, task)
    return float(np.sum(loss * w)), float(np.sum(w))


def metric_value(name: str, sums: tuple[float, float]) -> float:
    """The metric ``name`` from the summed ``(sum w l, sum w)`` of :func:`metric_sums`."""
    total, weight = sums
    return float(METRICS[name][1](total / weight))


DEFAULT_METRIC = {"regression": "rmse", "binary": "logloss", "multiclass": "mlogloss"}
