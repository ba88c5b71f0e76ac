"""Input checks shared by the trees and the ensembles built on them.

The array checks themselves are :mod:`mlcanon._validation`; this module adds what a tree-based
estimator needs around them: NaN allowed in ``X`` (infinity never), complex and sparse input
refused with a clear message, ``n_features_in_`` recorded at fit and enforced at predict, and the
size parameters (``min_samples_leaf=0.1``, ``max_features=
"sqrt"``) resolved to counts.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from mlcanon._estimator import check_X as _check_X
from mlcanon._estimator import check_X_y as _check_X_y
from mlcanon._validation import check_scalar

__all__ = [
    "check_X",
    "check_X_y",
    "resolve_max_features",
    "resolve_min_samples",
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
