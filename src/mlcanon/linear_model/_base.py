"""Input handling shared by the classical estimators (linear models, SVC, PCA, LDA, naive Bayes).

The array checks live in :mod:`mlcanon._validation` and :mod:`mlcanon._estimator`; this module
adds what a supervised estimator needs around them: checking ``X`` with ``y``, turning class
labels into indices, and centering (and sample-weight rescaling) the data of a linear model.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mlcanon._estimator import as_float_array, check_X, check_X_y
from mlcanon._validation import check_sample_weight

__all__ = [
    "check_X",
    "check_X_y",
    "encode_classes",
    "linear_predict",
    "log_softmax",
    "preprocess_data",
    "sample_weight_or_none",
]


def encode_classes(y: np.ndarray, *, min_classes: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(classes_, y_index)``; refuse continuous targets and too few classes."""
    if y.dtype.kind == "f" and not np.all(np.mod(y, 1) == 0):
        raise ValueError(
            "Unknown label type: y has continuous values; a classifier needs discrete class "
            "labels (integers or strings)"
        )
    classes, y_index = np.unique(y, return_inverse=True)
    if len(classes) < min_classes:
        raise ValueError(
            f"a classifier needs samples of at least {min_classes} classes in y, but y "
            f"contains only one class: {classes[0]!r}"
        )
    return classes, y_index.ravel()


def sample_weight_or_none(sample_weight: Any, n_samples: int) -> np.ndarray | None:
    """Validated weights, or ``None`` when none were given (so unweighted code paths stay)."""
    if sample_weight is None:
        return None
    sw = check_sample_weight(as_float_array(sample_weight, "sample_weight"), n_samples)
    if sw.sum() <= 0:
        raise ValueError("sample_weight: all weights are zero; at least one must be positive")
    return sw


def preprocess_data(
    X: np.ndarray, y: np.ndarray, *, fit_intercept: bool, sample_weight: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, Any]:
    """Center ``X`` and ``y`` (weighted means) and fold the weights in as ``sqrt(w)``.

    A linear model with an intercept and weights ``w`` solves the same problem as the model
    without intercept on ``sqrt(w) * (X - x̄_w)`` and ``sqrt(w) * (y - ȳ_w)``; the intercept is
    recovered as ``ȳ_w - x̄_w @ coef``.

    Returns ``(Xc, yc, X_offset, y_offset)`` with fresh arrays (the input is not modified).
    """
    if fit_intercept:
        X_offset = np.average(X, axis=0, weights=sample_weight)
        y_offset = np.average(y, axis=0, weights=sample_weight)
        Xc, yc = X - X_offset, y - y_offset
    else:
        X_offset = np.zeros(X.shape[1])
        y_offset = 0.0 if y.ndim == 1 else np.zeros(y.shape[1])
        Xc, yc = X.copy(), np.array(y, dtype=np.float64)
    if sample_weight is not None:
        root = np.sqrt(sample_weight)
        Xc *= root[:, None]
        yc *= root if yc.ndim == 1 else root[:, None]
    return Xc, yc, X_offset, y_offset


def linear_predict(estimator: Any, X: Any) -> np.ndarray:
    """``X @ coef_.T + intercept_`` after the usual predict-time checks."""
    X = check_X(estimator, X, reset=False)
    return X @ estimator.coef_.T + estimator.intercept_


def log_softmax(Z: np.ndarray) -> np.ndarray:
    """Row-wise ``Z - logsumexp(Z)``, shifted by the row max so nothing overflows."""
    Z = Z - Z.max(axis=1, keepdims=True)
    return Z - np.log(np.exp(Z).sum(axis=1, keepdims=True))
