"""Input checks shared by the trees and the ensembles built on them.

The array checks themselves are :mod:`mlcanon._validation`; this module adds what a tree-based
estimator needs around them: NaN allowed in ``X`` (infinity never), complex and sparse input
refused with a clear message, scipy.sparse ``X`` densified (the kernels read dense columns),
``y`` with several outputs (one column each), ``n_features_in_`` recorded at fit and enforced at
predict, ``X`` cast to float32 (as scikit-learn's trees do), class labels encoded per output,
class weights turned into per-sample factors, and the size parameters
(``min_samples_leaf=0.1``, ``max_features="sqrt"``) resolved to counts, and the monotonicity
constraints (``monotonic_cst``) checked against the data.
"""

from __future__ import annotations

import numbers
import warnings
from typing import Any

import numpy as np
import scipy.sparse as sp

from mlcanon._estimator import check_X as _check_X
from mlcanon._estimator import check_X_y as _check_X_y
from mlcanon._estimator import check_y, class_weight_by_label, encode_labels

__all__ = [
    "MonotonicCst",
    "as_float32",
    "check_X",
    "check_X_y",
    "check_class_weight",
    "check_class_weighted",
    "check_poisson_targets",
    "class_weight_factors",
    "deprecated_criterion",
    "encode_columns",
    "resolve_max_features",
    "resolve_min_samples",
    "resolve_monotonic_cst",
]


def check_X(
    estimator: Any,
    X: Any,
    *,
    reset: bool,
    allow_nan: bool = True,
    min_samples: int = 1,
    accept_sparse: bool = False,
) -> np.ndarray:
    """:func:`mlcanon._estimator.check_X` with NaN allowed by default (trees route it);
    ``accept_sparse`` densifies scipy.sparse input (trees and forests)."""
    return _check_X(
        estimator,
        X,
        reset=reset,
        allow_nan=allow_nan,
        min_samples=min_samples,
        accept_sparse=accept_sparse,
    )


def check_X_y(
    estimator: Any,
    X: Any,
    y: Any,
    *,
    classifier: bool,
    allow_nan: bool = True,
    accept_sparse: bool = False,
    multi_output: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`mlcanon._estimator.check_X_y` with NaN allowed in ``X`` by default;
    ``accept_sparse`` densifies scipy.sparse ``X`` and ``multi_output`` keeps a 2-D ``y`` (one
    column per output) 2-D, each column checked. A scipy.sparse ``y`` is a TypeError."""
    if sp.issparse(y):
        raise TypeError(
            f"y must be a dense array-like (one column per output); got a scipy.sparse "
            f"{type(y).__name__}: pass y.toarray()"
        )
    y_arr = y if y is None else np.asarray(y)
    kw = dict(classifier=classifier, allow_nan=allow_nan, accept_sparse=accept_sparse)
    if not multi_output or y_arr is None or y_arr.ndim != 2 or y_arr.shape[1] == 1:
        return _check_X_y(estimator, X, y, **kw)
    X_arr, _ = _check_X_y(estimator, X, y_arr[:, 0], **kw)
    return X_arr, np.stack([check_y(c, classifier=classifier) for c in y_arr.T], axis=1)


def as_float32(X: np.ndarray) -> np.ndarray:
    """float32 copy of a validated matrix; values beyond float32's range are refused."""
    with np.errstate(over="ignore"):
        X32 = np.ascontiguousarray(X, dtype=np.float32)
    if np.isinf(X32).any():
        raise ValueError("X contains a value too large for float32 (|x| > 3.4e38)")
    return X32


def check_poisson_targets(y: np.ndarray) -> None:
    """The Poisson deviance needs ``y >= 0`` with a positive sum (per output)."""
    if np.any(y < 0):
        raise ValueError(
            "Some value(s) of y are negative which is not allowed for Poisson regression."
        )
    if np.any(np.sum(y, axis=0) <= 0):
        raise ValueError(
            "Sum of y is not strictly positive which is necessary for Poisson regression."
        )


def encode_columns(y: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """Class labels and codes of each output: ``(classes per output, codes (n, K))``."""
    Y = y.reshape(len(y), -1)
    pairs = [encode_labels(Y[:, k]) for k in range(Y.shape[1])]
    return [c for c, _ in pairs], np.stack([codes for _, codes in pairs], axis=1)


def deprecated_criterion(criterion: Any) -> Any:
    """``"friedman_mse"`` -> ``"squared_error"`` with a FutureWarning, as scikit-learn 1.9 does
    (with one output the two always chose the same splits)."""
    if isinstance(criterion, str) and criterion == "friedman_mse":
        warnings.warn(
            'criterion="friedman_mse" is deprecated (as in scikit-learn): it is the same as '
            '"squared_error", which is used instead',
            FutureWarning,
            stacklevel=3,
        )
        return "squared_error"
    return criterion


def check_class_weight(class_weight: Any, n_outputs: int) -> None:
    """A ``class_weight`` of a declared type (None, "balanced", a dict or a list) checked
    against the outputs: a dict is for one output, a list holds one dict per output."""
    is_list = isinstance(class_weight, list)
    if (isinstance(class_weight, dict) and n_outputs > 1) or (
        is_list and not all(isinstance(d, dict) for d in class_weight)
    ):
        raise ValueError(
            "class_weight must be None, 'balanced', a dict (one output) or a list of one dict per "
            f"output ({n_outputs} outputs); got {class_weight!r}"
        )
    if is_list and len(class_weight) != n_outputs:
        raise ValueError(
            "number of elements in class_weight should match number of outputs. "
            f"Got {len(class_weight)} dicts for {n_outputs} outputs"
        )


def class_weight_factors(
    class_weight: Any,
    classes: list[np.ndarray],
    codes: np.ndarray,
    rows: Any = None,
    sample_weight: np.ndarray | None = None,
) -> np.ndarray:
    """Per-sample product over the outputs of the weight of the sample's class.

    ``"balanced"`` weighs class ``c`` of an output by ``n / (n_present * n_c)``, counted over
    ``rows`` (default: every row; a bootstrap sample for "balanced_subsample"), where
    ``n_present`` is the number of classes among them; with ``sample_weight`` (the forests, as
    scikit-learn's ``compute_class_weight``) ``n`` and ``n_c`` are sums of sample weights. A dict
    maps labels to weights (labels not in it weigh 1, see
    :func:`mlcanon._estimator.class_weight_by_label`).
    """
    rows = slice(None) if rows is None else rows
    w = None if sample_weight is None else sample_weight[rows]
    factors = np.ones(codes.shape[0])
    if class_weight is None:
        return factors
    dicts = class_weight if isinstance(class_weight, list) else [class_weight] * len(classes)
    for k, (labels, spec) in enumerate(zip(classes, dicts, strict=True)):
        if isinstance(spec, str):  # "balanced"
            present = np.count_nonzero(np.bincount(codes[rows, k], minlength=len(labels)))
            counts = np.bincount(codes[rows, k], weights=w, minlength=len(labels))
            per_class = counts.sum() / (present * np.where(counts > 0, counts, 1))
        else:
            per_class = class_weight_by_label(spec, labels)
        factors *= per_class[codes[:, k]]
    return factors


def check_class_weighted(weights: np.ndarray, class_weight: Any) -> None:
    """The sample weights times the class weights must leave some weight to fit."""
    if not weights.sum() > 0:
        raise ValueError(
            f"class_weight={class_weight!r} leaves every sample with weight 0 (the class weights "
            "times sample_weight): at least one class present in y must have a positive weight"
        )


def resolve_min_samples(value: Any, n_samples: int, *, low: int) -> int:
    """An int is a count; a float in (0, 1] is a fraction of ``n_samples`` (at least ``low``).
    The value is one that the estimator's constraints accepted."""
    if isinstance(value, numbers.Integral):
        return int(value)
    return max(low, int(np.ceil(value * n_samples)))


def resolve_max_features(value: Any, n_features: int) -> int:
    """``None`` -> all, ``"sqrt"``/``"log2"``, an int count or a float fraction in (0, 1]
    (a value that the estimator's constraints accepted). An int above ``n_features`` is kept,
    as scikit-learn's trees keep it: the search then visits every feature."""
    if value is None:
        return n_features
    if isinstance(value, str):
        return max(1, int(np.sqrt(n_features) if value == "sqrt" else np.log2(n_features)))
    if isinstance(value, numbers.Integral):
        return int(value)
    return max(1, int(value * n_features))


class MonotonicCst:
    """The ``monotonic_cst`` constraint of ``_parameter_constraints``: an array-like of -1, 0 or
    1 (one per feature: decreasing, unconstrained, increasing). Its length is checked against
    ``X`` at fit (:func:`resolve_monotonic_cst`). The message is scikit-learn's, so that tests
    matching it pass."""

    def check(self, value: Any, name: str) -> Any:
        if isinstance(value, (str, bytes)) or np.ndim(value) == 0:
            raise TypeError(f"{name} must be {self}; got {type(value).__name__} {value!r}")
        arr = np.asarray(value)
        if arr.ndim != 1:
            raise ValueError(f"{name} must be 1-D, {self} (one per feature); got shape {arr.shape}")
        if arr.dtype.kind not in "biuf" or not np.all(np.isin(arr, (-1, 0, 1))):
            raise ValueError(f"{name} must be None or {self}, but got {np.unique(arr)}")
        return value

    def __str__(self) -> str:
        return "an array-like of -1, 0 or 1"


def resolve_monotonic_cst(
    monotonic_cst: Any, n_features: int, n_outputs: int, n_classes: int | None
) -> np.ndarray | None:
    """The constraint of each feature as int8 (None when ``monotonic_cst`` is None), as the
    kernels read it: one output only, and for a classifier (``n_classes`` given) two classes at
    most, with the signs flipped, because the kernels constrain the first class's probability
    while ``monotonic_cst`` speaks of the positive (second) class, as in scikit-learn."""
    if monotonic_cst is None:
        return None
    if n_outputs > 1:
        raise ValueError(
            "Monotonicity constraints are not supported with multiple outputs: monotonic_cst "
            f"must be None when y has {n_outputs} outputs"
        )
    cst = np.asarray(monotonic_cst)
    if cst.shape[0] != n_features:
        raise ValueError(
            f"monotonic_cst has shape {cst.shape[0]} but the input data X has {n_features} "
            "features. It needs one constraint in {-1, 0, 1} per feature"
        )
    cst = cst.astype(np.int8)
    if n_classes is None:
        return cst
    if n_classes > 2:
        raise ValueError(
            "Monotonicity constraints are not supported with multiclass classification: "
            f"monotonic_cst must be None when y has {n_classes} classes (binary only)"
        )
    return -cst
