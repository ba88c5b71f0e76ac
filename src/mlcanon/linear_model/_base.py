"""Data handling of the linear models: centering (and sample-weight rescaling) and prediction.

The array, label and weight checks every estimator shares live in :mod:`mlcanon._estimator`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mlcanon._estimator import check_X, float_dtype

__all__ = ["linear_predict", "preprocess_data"]


def preprocess_data(
    X: np.ndarray,
    y: np.ndarray,
    *,
    fit_intercept: bool,
    sample_weight: np.ndarray | None,
    rescale: bool = True,
    copy: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, Any]:
    """Center ``X`` and ``y`` (weighted means) and fold the weights in as ``sqrt(w)``
    (``rescale=False``: center only, for solvers that take the weights themselves).

    A linear model with an intercept and weights ``w`` solves the same problem as the model
    without intercept on ``sqrt(w) * (X - x̄_w)`` and ``sqrt(w) * (y - ȳ_w)``; the intercept is
    recovered as ``ȳ_w - x̄_w @ coef``.

    Returns ``(Xc, yc, X_offset, y_offset)``; ``Xc`` is a fresh array, or ``X`` itself
    modified in place with ``copy=False`` (``y`` is never modified).
    """
    Xc = X.copy() if copy else X
    if fit_intercept:
        X_offset = np.average(X, axis=0, weights=sample_weight)
        y_offset = np.average(y, axis=0, weights=sample_weight)
        Xc -= X_offset
        yc = y - y_offset
    else:
        X_offset = np.zeros(X.shape[1])
        y_offset = 0.0 if y.ndim == 1 else np.zeros(y.shape[1])
        yc = np.array(y, dtype=np.float64)
    if sample_weight is not None and rescale:
        root = np.sqrt(sample_weight)
        Xc *= root[:, None]
        yc *= root if yc.ndim == 1 else root[:, None]
    return Xc, yc, X_offset, y_offset


def linear_predict(estimator: Any, X: Any) -> np.ndarray:
    """``X @ coef_.T + intercept_`` after the usual predict-time checks (float32 ``X`` stays
    float32 when the model is float32)."""
    X = check_X(estimator, X, reset=False, accept_sparse=True, dtype=float_dtype(X))
    return X @ estimator.coef_.T + estimator.intercept_
