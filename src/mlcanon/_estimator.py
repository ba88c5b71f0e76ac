"""Estimator glue shared by every scikit-learn style estimator of the package.

The value checks live in :mod:`mlcanon._validation`; this module adds what a scikit-learn style
estimator needs around them: a float matrix with messages scikit-learn users recognise,
``n_features_in_`` recorded at fit and checked afterwards, and a typed warning for EM or Lloyd
iterations that stop before converging.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.exceptions import ConvergenceWarning as _SklearnConvergenceWarning
from sklearn.utils.validation import check_is_fitted

from mlcanon._validation import check_array

__all__ = ["ConvergenceWarning", "as_float_array", "check_X"]


class ConvergenceWarning(_SklearnConvergenceWarning):
    """An iterative fit (Lloyd, EM, Baum-Welch, a solver) stopped before meeting its tolerance.

    Subclasses scikit-learn's ``ConvergenceWarning`` so that one warning filter silences both.
    """


def as_float_array(X: Any, name: str, dtype: Any = np.float64) -> np.ndarray:
    if hasattr(X, "toarray") or hasattr(X, "tocsr"):
        raise TypeError(f"{name} must be a dense array; sparse input is not supported")
    raw = X if isinstance(X, np.ndarray) else np.asarray(X)
    if raw.dtype.kind == "c":
        raise ValueError(f"Complex data not supported: {name} has dtype {raw.dtype}")
    if dtype is None:
        return raw
    try:
        return np.asarray(raw, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be array-like of numbers: {exc}") from exc


def check_X(
    estimator: Any,
    X: Any,
    *,
    reset: bool,
    min_samples: int = 1,
    dtype: Any = np.float64,
    name: str = "X",
) -> np.ndarray:
    """Validate a 2-D sample matrix; at fit (``reset=True``) record ``n_features_in_``.

    After fit the estimator must be fitted and ``X`` must have as many columns as the training
    data. A 1-D ``X`` is refused (a single sample and a single feature look the same).
    """
    if not reset:
        check_is_fitted(estimator)
    arr = as_float_array(X, name, dtype)
    if arr.ndim != 2:
        raise ValueError(
            f"{name} must be 2-D, got {arr.ndim}-D array of shape {arr.shape}. Reshape your "
            "data with array.reshape(-1, 1) if it has a single feature or array.reshape(1, -1) "
            "if it is a single sample."
        )
    arr = check_array(arr, name, ndim=2, dtype=dtype, min_samples=min_samples)
    n_features = arr.shape[1]
    if reset:
        if n_features == 0:
            raise ValueError(
                f"{name} has 0 feature(s) (shape={arr.shape}) while a minimum of 1 is required."
            )
        estimator.n_features_in_ = n_features
    elif n_features != estimator.n_features_in_:
        raise ValueError(
            f"X has {n_features} features, but {type(estimator).__name__} is expecting "
            f"{estimator.n_features_in_} features as input"
        )
    return arr
