"""Estimator glue shared by every scikit-learn style estimator of the package.

The value checks live in :mod:`mlcanon._validation`; this module adds what a scikit-learn style
estimator needs around them: a float matrix with messages scikit-learn users recognise,
``n_features_in_`` and a pandas data frame's column names (``feature_names_in_``) recorded at
fit and checked afterwards, class labels turned into indices, sample weights and class priors
checked, and a typed warning for EM or Lloyd iterations that stop before converging. Every
family imports these from here; none borrows another family's copy.
"""

from __future__ import annotations

import numbers
import sys
import warnings
from typing import Any

import numpy as np
from sklearn import get_config
from sklearn.exceptions import ConvergenceWarning as _SklearnConvergenceWarning
from sklearn.exceptions import DataConversionWarning
from sklearn.utils import _safe_indexing
from sklearn.utils.metadata_routing import process_routing
from sklearn.utils.validation import check_is_fitted

from mlcanon._validation import (
    check_array,
    check_consistent_length,
    check_sample_weight,
    pandas_nullable_as_float,
)

__all__ = [
    "ConvergenceWarning",
    "as_float_array",
    "check_X",
    "check_X_y",
    "check_feature_names",
    "check_labels",
    "check_priors",
    "check_y",
    "class_weight_by_label",
    "class_weights",
    "encode_labels",
    "float_dtype",
    "input_feature_names",
    "is_pandas",
    "route",
    "routing_enabled",
    "rows_of",
    "sample_weight_array",
    "sample_weight_or_none",
    "store_params",
    "warn_column_vector_y",
    "weight_params",
]


def store_params(estimator: Any, arguments: dict[str, Any]) -> None:
    """Store each constructor argument (the constructor's ``locals()``) as an attribute of the
    same name, unvalidated, as scikit-learn's ``get_params``/``clone`` expect."""
    for name, value in arguments.items():
        if name not in ("self", "__class__"):
            setattr(estimator, name, value)


class ConvergenceWarning(_SklearnConvergenceWarning):
    """An iterative fit (Lloyd, EM, Baum-Welch, a solver) stopped before meeting its tolerance.

    Subclasses scikit-learn's ``ConvergenceWarning`` so that one warning filter silences both.
    """


def float_dtype(X: Any) -> type:
    """``np.float32`` for float32 input (dense, sparse, or a data frame of float32 columns),
    else ``np.float64``: the dtype an estimator that keeps float32 as float32 works in."""
    if is_pandas(X, "DataFrame"):
        return np.float32 if len(X.dtypes) and all(X.dtypes == np.float32) else np.float64
    return np.float32 if getattr(X, "dtype", None) == np.float32 else np.float64


def as_float_array(
    X: Any, name: str, dtype: Any = np.float64, accept_sparse: bool | str = False
) -> Any:
    """A float array; a scipy.sparse matrix is densified (``accept_sparse=True``), kept as a
    float CSR copy (``accept_sparse="csr"``) or refused."""
    if hasattr(X, "toarray") or hasattr(X, "tocsr"):
        if not accept_sparse:
            raise TypeError(
                f"Sparse data was passed for {name}, but dense data is required (sparse input "
                "is not supported here)"
            )
        if getattr(X, "dtype", None) is not None and X.dtype.kind == "c":  # astype drops .imag
            raise ValueError(f"Complex data not supported: {name} has dtype {X.dtype}")
        if accept_sparse == "csr":
            return X.tocsr().astype(np.float64 if dtype is None else dtype)
        X = X.toarray()  # the estimators that take scipy.sparse matrices compute densely
    X = pandas_nullable_as_float(X, dtype)  # pandas.NA becomes NaN, as in scikit-learn
    raw = X if isinstance(X, np.ndarray) else np.asarray(X)
    if raw.dtype.kind == "c":
        raise ValueError(f"Complex data not supported: {name} has dtype {raw.dtype}")
    if dtype is None:
        return raw
    try:
        return np.asarray(raw, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be array-like of numbers: {exc}") from exc


def is_pandas(obj: Any, kind: str) -> bool:
    """Whether ``obj`` is a pandas ``kind`` (``"DataFrame"``, ``"Series"``). pandas is not a
    dependency and is not imported here: nothing can be a pandas object unless it is loaded."""
    pandas = sys.modules.get("pandas")
    return pandas is not None and isinstance(obj, getattr(pandas, kind))


def _feature_names(X: Any) -> np.ndarray | None:
    """The column names of a data frame as an object array when they are all strings; None for
    arrays, unnamed or non-string columns. Strings mixed with other names are refused."""
    if not is_pandas(X, "DataFrame") or len(X.columns) == 0:
        return None
    names = np.asarray(X.columns, dtype=object)
    kinds = sorted({type(name).__qualname__ for name in names})
    if len(kinds) > 1 and "str" in kinds:
        raise TypeError(
            "Feature names are only supported if all input features have string names, but "
            f"your input has {kinds} as feature name / column name types. Convert them all to "
            "strings (X.columns = X.columns.astype(str)) or to a non-string type."
        )
    if kinds != ["str"]:
        return None
    if len(set(names)) < len(names):
        repeated = sorted({name for name in names if (names == name).sum() > 1})
        raise ValueError(f"X has repeated column names {repeated}: give every column its own name")
    return names


def _name_list(names: list[Any], most: int = 5) -> str:
    more = "- ...\n" if len(names) > most else ""
    return "".join(f"- {name}\n" for name in names[:most]) + more


def check_feature_names(estimator: Any, X: Any, *, reset: bool) -> None:
    """At fit (``reset=True``) record the string column names of a data frame as
    ``feature_names_in_`` (and forget earlier ones when ``X`` has none); afterwards warn when
    exactly one of the fit data and ``X`` had names, and refuse names that differ from the fit's.
    """
    names = _feature_names(X)
    if reset:
        if names is not None:
            estimator.feature_names_in_ = names
        elif hasattr(estimator, "feature_names_in_"):
            del estimator.feature_names_in_
        return
    fitted = getattr(estimator, "feature_names_in_", None)
    owner = type(estimator).__name__
    if fitted is None and names is not None:
        warnings.warn(
            f"X has feature names, but {owner} was fitted without feature names", stacklevel=3
        )
    elif fitted is not None and names is None:
        warnings.warn(
            f"X does not have valid feature names, but {owner} was fitted with feature names",
            stacklevel=3,
        )
    elif fitted is not None and (len(fitted) != len(names) or np.any(fitted != names)):
        unseen = sorted(set(names) - set(fitted))
        missing = sorted(set(fitted) - set(names))
        message = "The feature names should match those that were passed during fit.\n"
        if unseen:
            message += "Feature names unseen at fit time:\n" + _name_list(unseen)
        if missing:
            message += "Feature names seen at fit time, yet now missing:\n" + _name_list(missing)
        if not unseen and not missing:
            message += "Feature names must be in the same order as they were in fit.\n"
        raise ValueError(message)


def input_feature_names(estimator: Any, input_features: Any = None) -> np.ndarray:
    """The names of the fitted estimator's input columns, for ``get_feature_names_out``:
    ``input_features`` when given (checked against ``feature_names_in_`` and the width), else
    ``feature_names_in_``, else ``x0, x1, ...``."""
    check_is_fitted(estimator)
    fitted = getattr(estimator, "feature_names_in_", None)
    if input_features is None:
        if fitted is not None:
            return fitted
        return np.asarray([f"x{i}" for i in range(estimator.n_features_in_)], dtype=object)
    given = np.asarray(input_features, dtype=object)
    if fitted is not None and not np.array_equal(fitted, given):
        raise ValueError("input_features is not equal to feature_names_in_")
    if len(given) != estimator.n_features_in_:
        raise ValueError(
            f"input_features should have length equal to number of features "
            f"({estimator.n_features_in_}), got {len(given)}"
        )
    return given


def routing_enabled() -> bool:
    """Whether scikit-learn's metadata routing is on (``sklearn.set_config``)."""
    return bool(get_config()["enable_metadata_routing"])


def route(owner: Any, method: str, params: dict, sample_weight: Any = None) -> Any:
    """The metadata passed to ``owner.method`` as routed to its children (``routed[child]
    [callee]``, from ``owner.get_metadata_routing()``), or None when routing is off; then any
    metadata beyond ``sample_weight`` is scikit-learn's ValueError."""
    if not routing_enabled():
        if params:
            raise ValueError(
                f"Passing extra keyword arguments to {type(owner).__name__}.{method} is only "
                "supported if enable_metadata_routing=True, which you can set using "
                f"`sklearn.set_config`. Extra parameters passed are: {set(params)}"
            )
        return None
    return process_routing(owner, method, **weight_params(sample_weight), **params)


def weight_params(sample_weight: Any) -> dict:
    """``{"sample_weight": sample_weight}``, or nothing when it is None."""
    return {} if sample_weight is None else {"sample_weight": sample_weight}


def rows_of(params: dict, n_samples: int, rows: np.ndarray) -> dict:
    """``params`` for a fit on ``rows`` only: a value with one entry per sample is indexed,
    others pass as they are (scikit-learn's rule in cross-validation)."""
    out = {}
    for key, value in params.items():
        if hasattr(value, "__array__") and not hasattr(value, "shape"):
            value = np.asarray(value)  # an array-like known by its __array__ only
        out[key] = _safe_indexing(value, rows) if _n_entries(value) == n_samples else value
    return out


def _n_entries(value: Any) -> int | None:
    """Length of a list, an array or a sparse matrix; None for a str or a scalar."""
    if isinstance(value, str):
        return None
    if hasattr(value, "shape"):
        return value.shape[0] if len(value.shape) else None
    return len(value) if hasattr(value, "__len__") else None


def check_X(
    estimator: Any,
    X: Any,
    *,
    reset: bool,
    min_samples: int = 1,
    dtype: Any = np.float64,
    name: str = "X",
    allow_nan: bool = False,
    accept_sparse: bool | str = False,
    allow_inf: bool = False,
    allow_nd: bool = False,
) -> Any:
    """Validate a 2-D sample matrix; at fit (``reset=True``) record ``n_features_in_`` (and
    ``feature_names_in_``, see :func:`check_feature_names`).

    After fit the estimator must be fitted and ``X`` must have as many columns as the training
    data. A 1-D ``X`` is refused (a single sample and a single feature look the same). With
    ``accept_sparse=True`` a scipy.sparse matrix is converted to a dense array, with
    ``accept_sparse="csr"`` it stays sparse (a float CSR copy, its stored values checked).
    ``allow_nd`` also takes an array of more than two dimensions (for an ensemble whose
    members decide, as scikit-learn's ``allow_nd``); ``shape[1]`` is then its width.
    """
    if not reset:
        check_is_fitted(estimator)
    check_feature_names(estimator, X, reset=reset)
    arr = as_float_array(X, name, dtype, accept_sparse)
    if arr.ndim != 2 and not (allow_nd and arr.ndim > 2):
        raise ValueError(
            f"{name} must be 2-D, got {arr.ndim}-D array of shape {arr.shape}. Reshape your "
            "data with array.reshape(-1, 1) if it has a single feature or array.reshape(1, -1) "
            "if it is a single sample."
        )
    finiteness = {"allow_nan": allow_nan, "allow_inf": allow_inf}
    if hasattr(arr, "tocsr"):
        check_array(arr.data, name, dtype=None, min_samples=0, **finiteness)
        if arr.shape[0] < min_samples:
            raise ValueError(
                f"{name} has {arr.shape[0]} sample(s) (shape={arr.shape}), while at least "
                f"{min_samples} are required"
            )
    else:
        ndim = None if allow_nd else 2
        arr = check_array(arr, name, ndim=ndim, dtype=dtype, min_samples=min_samples, **finiteness)
    n_features = arr.shape[1]
    if reset:
        if n_features == 0:
            raise ValueError(
                f"{name} has 0 feature(s) (shape={arr.shape}) while a minimum of 1 is required."
            )
        estimator.n_features_in_ = n_features
    # a fitted estimator that recorded no width (a subclass may drop it) is not checked, as
    # in scikit-learn
    elif n_features != getattr(estimator, "n_features_in_", n_features):
        raise ValueError(
            f"X has {n_features} features, but {type(estimator).__name__} is expecting "
            f"{estimator.n_features_in_} features as input"
        )
    return arr


def check_X_y(
    estimator: Any,
    X: Any,
    y: Any,
    *,
    classifier: bool,
    allow_nan: bool = False,
    min_samples: int = 1,
    accept_sparse: bool | str = False,
    allow_inf: bool = False,
    multi_output: bool = False,
    allow_nd: bool = False,
    dtype: Any = np.float64,
) -> tuple[np.ndarray, np.ndarray]:
    """Validate training data: ``X`` as in :func:`check_X` (``reset=True``), ``y`` as in
    :func:`check_y`, of equal length."""
    if y is None:
        raise ValueError(
            f"{type(estimator).__name__} requires y to be passed, but the target y is None"
        )
    X = check_X(
        estimator,
        X,
        reset=True,
        allow_nan=allow_nan,
        min_samples=min_samples,
        accept_sparse=accept_sparse,
        allow_inf=allow_inf,
        allow_nd=allow_nd,
        dtype=dtype,
    )
    y_arr = check_y(y, classifier=classifier, multi_output=multi_output)
    check_consistent_length(X=X, y=y_arr)
    return X, y_arr


def warn_column_vector_y(stacklevel: int) -> None:
    """scikit-learn's ``DataConversionWarning`` for a column vector ``y`` of shape (n, 1),
    which the caller then ravels; ``stacklevel`` counts from this function's caller's caller
    (2 names the line that called this function)."""
    warnings.warn(
        "A column-vector y was passed when a 1d array was expected. Please change the shape of "
        "y to (n_samples, ), for example using ravel().",
        DataConversionWarning,
        stacklevel=stacklevel,
    )


def check_y(y: Any, *, classifier: bool, multi_output: bool = False) -> np.ndarray:
    """A target 1-D: float64 for a regressor, labels keeping their dtype for a classifier.

    A column vector ``y`` of shape (n, 1) is accepted with a ``DataConversionWarning``. With
    ``multi_output`` (a regressor's), ``y`` may be 2-D, one float64 column per target, and a
    column vector stays as it is. A pandas Series of a nullable dtype (Int64, boolean,
    Float64) is read as float64, as scikit-learn's check_array reads it (``astype(None)``):
    its labels are floats (0.0, 1.0) there too.
    """
    if multi_output:
        return check_array(y, "y", ndim=(1, 2))
    if is_pandas(y, "Series") and not isinstance(y.dtype, np.dtype) and y.dtype.kind in "biuf":
        y = y.astype(np.float64)  # pd.NA becomes NaN, refused below as scikit-learn does
    y_arr = np.asarray(y)
    if y_arr.ndim == 2 and y_arr.shape[1] == 1:
        warn_column_vector_y(stacklevel=5)
        y_arr = y_arr.ravel()
    if classifier:
        return check_labels(y_arr, ndim=1)
    return check_array(as_float_array(y_arr, "y"), "y", ndim=1)


def check_labels(y: np.ndarray, *, ndim: int) -> np.ndarray:
    """Class labels of ``ndim`` dimensions, keeping their dtype: an object array (as pandas
    gives for strings) stays an object array, as scikit-learn keeps it, once it is seen to hold
    only strings. An object array of numbers (or of anything else) is refused, as scikit-learn
    refuses it (its type of target is 'unknown')."""
    if y.dtype != object:
        return check_array(y, "y", ndim=ndim, dtype=None)
    kinds = _label_kinds(y)
    if kinds and kinds != ["str"]:
        raise ValueError(
            f"Unknown label type: unknown; y is an object array holding {kinds} values, while "
            "a classifier takes class labels as strings (an object or str array) or as a "
            "numeric array (for numbers in an object array: y.astype(int))"
        )
    check_array(y.astype(str), "y", ndim=ndim, dtype=None)
    return y


def _label_kinds(y: np.ndarray) -> list[str]:
    """The kinds of the values of an object array: 'str' for every string (NumPy's str_
    too, a subclass of str), else the type's name."""
    return sorted({"str" if isinstance(v, str) else type(v).__name__ for v in y.ravel()})


def encode_labels(
    y: np.ndarray, *, min_classes: int = 1, object_to_str: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(classes_, codes)`` with ``classes_[codes] == y``; refuse continuous targets.

    ``min_classes=2`` is for the classifiers that cannot learn from a single class (a tree can:
    it predicts that class). ``classes_`` keeps the dtype of ``y`` (object strings stay object,
    as scikit-learn's ``np.unique``), except with ``object_to_str``, for the classifiers whose
    scikit-learn counterpart takes its classes from ``unique_labels`` (a sorted list made an
    array again: object strings come back as a str array).
    """
    if y.dtype.kind == "f" and not np.all(np.mod(y, 1) == 0):
        raise ValueError(
            "Unknown label type: continuous; a classifier needs discrete labels (integers or "
            "strings), got floating-point values with a fractional part"
        )
    if y.dtype.kind == "O":
        kinds = _label_kinds(y)
        if len(kinds) > 1:
            raise ValueError(f"Unknown label type: y mixes label types {kinds}")
    classes, codes = np.unique(y, return_inverse=True)
    if len(classes) < min_classes:
        raise ValueError(
            f"a classifier needs samples of at least {min_classes} classes in y, but y "
            f"contains only one class: {classes[0]!r}"
        )
    if object_to_str and classes.dtype == object:
        classes = classes.astype(str)
    return classes, codes.ravel().astype(np.int64)


def sample_weight_or_none(sample_weight: Any, n_samples: int) -> np.ndarray | None:
    """Validated non-negative weights, at least one positive; ``None`` stays ``None`` (so that
    unweighted code paths stay unweighted), and a number is that weight for every sample (as
    scikit-learn; a 0-D array is still refused)."""
    if sample_weight is None:
        return None
    if isinstance(sample_weight, numbers.Number):
        sample_weight = np.full(n_samples, sample_weight, dtype=np.float64)
    sw = check_sample_weight(as_float_array(sample_weight, "sample_weight"), n_samples)
    if not sw.sum() > 0:
        raise ValueError("sample_weight: all weights are zero; at least one must be positive")
    return sw


def sample_weight_array(sample_weight: Any, n_samples: int) -> np.ndarray:
    """:func:`sample_weight_or_none` with ``None`` read as unit weights."""
    sw = sample_weight_or_none(sample_weight, n_samples)
    return np.ones(n_samples) if sw is None else sw


def class_weights(
    class_weight: Any,
    classes: np.ndarray,
    y_index: np.ndarray,
    sample_weight: np.ndarray | None = None,
) -> np.ndarray:
    """Weight of each class from ``class_weight`` (checked by the estimator's constraints):
    ones for None, ``n / (k n_c)`` for 'balanced' (``y_index``: each sample's class index; with
    ``sample_weight``, ``n`` and ``n_c`` are sums of weights), or a dict by label with 1 for the
    labels it leaves out."""
    if class_weight is None:
        return np.ones(len(classes))
    if isinstance(class_weight, str):  # 'balanced'
        counts = np.bincount(y_index, weights=sample_weight, minlength=len(classes))
        return counts.sum() / (len(classes) * counts)
    return class_weight_by_label(class_weight, classes)


def class_weight_by_label(class_weight: dict, classes: np.ndarray) -> np.ndarray:
    """Weight of each of ``classes`` from a dict by label, 1 for a class it leaves out.

    As in scikit-learn, labels that are not classes are refused when some class is left out
    (they are allowed when every class has its weight, as a cross-validation fold can miss a
    class); every weight must be a finite number >= 0.
    """
    labels = classes.tolist()
    known = set(labels)
    unknown = [c for c in class_weight if c not in known]
    missing = [c for c in labels if c not in class_weight]
    if unknown and missing:
        raise ValueError(
            f"The classes, {missing}, are not in class_weight: class_weight has labels "
            f"{unknown!r} that are not in classes {labels!r}"
        )
    try:
        weights = np.array([float(class_weight.get(c, 1.0)) for c in labels])
    except (TypeError, ValueError):
        raise TypeError(f"class_weight values must be numbers; got {class_weight!r}") from None
    if not np.all(np.isfinite(weights) & (weights >= 0)):
        raise ValueError(
            f"class_weight values must be finite numbers >= 0; got class_weight={class_weight!r}"
        )
    return weights


def check_priors(
    priors: Any, n_classes: int, name: str, *, sum_to_one: bool = True
) -> np.ndarray | None:
    """Validate user class priors: one non-negative entry per class, summing to 1 (unless
    ``sum_to_one=False``: scikit-learn's discrete naive Bayes takes any weights there)."""
    if priors is None:
        return None
    p = check_array(priors, name, ndim=1)
    if p.shape[0] != n_classes:
        raise ValueError(
            f"Number of priors must match number of classes: {name} has {p.shape[0]} entries, "
            f"but y has {n_classes} classes"
        )
    if (p < 0).any():
        raise ValueError(f"Priors must be non-negative: {name} = {p!r}")
    if sum_to_one and not np.isclose(p.sum(), 1.0):
        raise ValueError(f"The sum of the priors should be 1: {name} sums to {float(p.sum())!r}")
    return p
