"""Data handling of the linear models: centering (and sample-weight rescaling) and prediction.

The array, label and weight checks every estimator shares live in :mod:`mlcanon._estimator`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.utils.metadata_routing import MetadataRouter, MethodMapping

from mlcanon._estimator import check_X, float_dtype

__all__ = [
    "check_fold_weights",
    "cv_router",
    "linear_predict",
    "preprocess_data",
    "split_params",
]


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


def check_fold_weights(sample_weight, folds, parts=("training", "test"), name="sample_weight"):
    """Each fold's training rows and test rows (``parts``) need some weight: a fold's fit, and
    its test error averaged with those weights, need them (scikit-learn 1.9 stops with a
    ZeroDivisionError or NaN here). ``name`` says what ``sample_weight`` is in the message."""
    if sample_weight is None:
        return
    for k, fold in enumerate(folds):
        for part, rows in zip(("training", "test"), fold, strict=True):
            if part in parts and not sample_weight[rows].sum() > 0:
                raise ValueError(
                    f"{name} is 0 on every {part} row of fold {k} ({len(rows)} rows): "
                    "that fold cannot be fitted or its error weighted; give some of those rows "
                    "a positive weight, or choose other folds (cv)"
                )


def cv_router(estimator: Any, splitter: Any) -> MetadataRouter:
    """Metadata routing of a cross-validated estimator, as scikit-learn's: its own requests
    (``sample_weight``), and ``fit``'s other metadata (``groups``, ...) to the splitter."""
    return (
        MetadataRouter(owner=estimator)
        .add_self_request(estimator)
        .add(splitter=splitter, method_mapping=MethodMapping().add(caller="fit", callee="split"))
    )


def split_params(routed: Any) -> dict:
    """What the splitter's ``split`` is given: as routed, or nothing with routing off."""
    return {} if routed is None else dict(routed.splitter.split)
