"""Input checks shared by the trees and the ensembles built on them.

The array checks themselves are :mod:`mlcanon._validation`; this module adds what a tree-based
estimator needs around them: NaN allowed in ``X`` (infinity never), complex and sparse input
refused with a clear message, ``n_features_in_`` recorded at fit and enforced at predict, class
labels turned into indices, and the size parameters (``min_samples_leaf=0.1``, ``max_features=
"sqrt"``) resolved to counts.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from mlcanon._estimator import as_float_array
from mlcanon._estimator import check_X as _check_X
from mlcanon._estimator import check_X_y as _check_X_y
from mlcanon._validation import (
    check_sample_weight,
    check_scalar,
)

__all__ = [
    "check_X",
    "check_X_y",
    "encode_labels",
    "resolve_max_features",
    "resolve_min_samples",
    "sample_weight_array",
]


def check_X(
    estimator: Any, X: Any, *, reset: bool, allow_nan: bool = True, min_samples: int = 1
) -> np.ndarray:
    """:func:`mlcanon._estimator.check_X` with NaN allowed by default (trees route it)."""
    return _check_X(estimator, X, reset=reset, allow_nan=allow_nan, min_samples=min_samples)


def check_X_y(
    estimator: Any, X: Any, y: Any, *, classifier: bool, allow_nan: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`mlcanon._estimator.check_X_y` with NaN allowed in ``X`` by default."""
    return _check_X_y(estimator, X, y, classifier=classifier, allow_nan=allow_nan)


def encode_labels(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(classes_, codes)`` with ``classes_[codes] == y``; refuse continuous targets."""
    if y.dtype.kind == "f" and not np.all(np.mod(y, 1) == 0):
        raise ValueError(
            "Unknown label type: continuous; a classifier needs discrete labels (integers or "
            "strings), got floating-point values with a fractional part"
        )
    if y.dtype.kind == "O":
        kinds = {type(v).__name__ for v in y}
        if len(kinds) > 1:
            raise ValueError(f"Unknown label type: y mixes label types {sorted(kinds)}")
    classes, codes = np.unique(y, return_inverse=True)
    return classes, codes.ravel().astype(np.int64)


def sample_weight_array(sample_weight: Any, n_samples: int) -> np.ndarray:
    """Validated non-negative weights (ones for ``None``); at least one must be positive."""
    sw = check_sample_weight(
        None if sample_weight is None else as_float_array(sample_weight, "sample_weight"),
        n_samples,
    )
    if not sw.sum() > 0:
        raise ValueError("sample_weight: all weights are zero; at least one must be positive")
    return sw


def resolve_min_samples(value: Any, name: str, n_samples: int, *, low: int) -> int:
    """An int ``>= low`` is a count; a float in (0, 1] is a fraction of ``n_samples``."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(check_scalar(value, name, kind=numbers.Integral, low=low))
    check_scalar(value, name, kind=numbers.Real, low=0.0, high=1.0, include_low=False)
    return max(low, int(np.ceil(value * n_samples)))


def resolve_max_features(value: Any, n_features: int) -> int:
    """``None`` -> all, ``"sqrt"``/``"log2"``, an int count or a float fraction in (0, 1]."""
    if value is None:
        return n_features
    if isinstance(value, str):
        if value == "sqrt":
            return max(1, int(np.sqrt(n_features)))
        if value == "log2":
            return max(1, int(np.log2(n_features)))
        raise ValueError(
            f"max_features must be None, 'sqrt', 'log2', an int or a float; got {value!r}"
        )
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        check_scalar(value, "max_features", kind=numbers.Integral, low=1)
        if value > n_features:
            raise ValueError(f"max_features={value} must be <= n_features={n_features}")
        return int(value)
    check_scalar(value, "max_features", kind=numbers.Real, low=0.0, high=1.0, include_low=False)
    return max(1, int(value * n_features))
