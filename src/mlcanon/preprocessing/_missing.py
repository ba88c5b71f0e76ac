"""Missing-value markers: which entries are missing, input checks shared by the imputers, and
``MissingIndicator``.

A missing entry is one equal to the marker ``missing_values`` (a number, a string or ``None``),
or, for the marker ``np.nan``, one that is NaN (in an object array: an entry unequal to itself,
the defining property of NaN). The marker ``pandas.NA`` matches NaN in a float array and, in an
object array, what ``pandas.isna`` calls missing (``pandas.NA``, ``None``, NaN); data frames with
pandas' nullable numeric columns become float arrays with NaN where a value is ``pandas.NA``.
In a scipy.sparse matrix only stored entries can be missing; an implicit zero is an observed
zero, which is why the marker 0 is refused for sparse input.
"""

from __future__ import annotations

import numbers
import sys
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from mlcanon._estimator import check_feature_names, input_feature_names, is_pandas, store_params
from mlcanon._validation import BOOL, Options, validate_params

__all__ = ["MissingIndicator", "is_scalar_nan", "missing_mask"]


def is_scalar_nan(value: Any) -> bool:
    """Whether ``value`` is a NaN scalar (``float('nan')``, ``np.nan``, ``np.float32('nan')``)."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and bool(np.isnan(value))


def is_pandas_na(value: Any) -> bool:
    """Whether ``value`` is ``pandas.NA`` (pandas is not imported for this)."""
    pandas = sys.modules.get("pandas")
    return pandas is not None and value is getattr(pandas, "NA", None)


def _unequal_to_itself(X: np.ndarray, missing_values: Any) -> np.ndarray:
    """The NaN entries of an object array: NaN is the one value unequal to itself. An entry
    ``pandas.NA`` (whose comparisons have no truth value) under another marker is refused."""
    try:
        return np.asarray(X != X, dtype=bool)
    except TypeError:
        if not any(is_pandas_na(v) for v in X.flat):
            raise
        raise ValueError(
            f"X holds pandas.NA, which missing_values={missing_values!r} does not mark: pass "
            "missing_values=pandas.NA to treat it as missing"
        ) from None


def marks_nan(value: Any) -> bool:
    """Whether the marker ``value`` matches NaN: ``np.nan`` or ``pandas.NA``."""
    return is_scalar_nan(value) or is_pandas_na(value)


def missing_mask(X: np.ndarray, missing_values: Any) -> np.ndarray:
    """Boolean array of the entries of ``X`` (an ndarray, or a sparse matrix's ``data``)
    equal to the marker."""
    if is_pandas_na(missing_values) and X.dtype.kind == "O":
        return np.asarray(sys.modules["pandas"].isna(X), dtype=bool)
    if marks_nan(missing_values):
        if X.dtype.kind == "f":
            return np.isnan(X)
        if X.dtype.kind in "iub":
            return np.zeros(X.shape, dtype=bool)
        return _unequal_to_itself(X, missing_values)
    return np.asarray(X == missing_values, dtype=bool)


def overflow_free_mean(values: np.ndarray) -> float:
    """Mean of finite float64 values; their sum may overflow where the mean does not (values
    near the float64 maximum), then the values are scaled by the largest magnitude first."""
    with np.errstate(over="ignore"):
        mean = values.mean()
    if np.isfinite(mean):
        return mean
    scale = np.abs(values).max()
    return scale * (values / scale).mean()


class MissingValuesOption:
    """Parameter constraint: a missing-value marker (a number, NaN, ``pandas.NA``, a string or
    ``None``)."""

    def check(self, value: Any, name: str) -> Any:
        number = isinstance(value, numbers.Real) and not isinstance(value, bool)
        if not (number or isinstance(value, str) or is_pandas_na(value)):
            raise TypeError(f"{name} must be {self}; got {type(value).__name__} {value!r}")
        return value

    def __str__(self) -> str:
        return "a number, np.nan, pandas.NA or a string"


MISSING_VALUES = (None, MissingValuesOption())


def _is_zero(marker: Any) -> bool:
    return isinstance(marker, numbers.Real) and marker == 0


def _nullable_to_float(X: Any) -> Any:
    """A data frame whose columns are all numeric, some of them pandas' nullable (extension)
    dtypes, as float64 with NaN for ``pandas.NA``; anything else unchanged."""
    dtypes = list(X.dtypes) if is_pandas(X, "DataFrame") else []
    nullable = [not isinstance(d, np.dtype) for d in dtypes]
    if any(nullable) and all(getattr(d, "kind", "O") in "iufb" for d in dtypes):
        return X.astype(np.float64)
    return X


def as_imputer_input(
    estimator: Any,
    X: Any,
    *,
    reset: bool,
    dtype: Any,
    allowed_kinds: str,
    copy: bool,
    sparse: bool,
    non_numeric_hint: str | None = None,
) -> Any:
    """``X`` as a 2-D ndarray (or a CSC matrix when ``sparse``), checked for the marker.

    ``dtype="float"`` keeps a floating dtype and casts anything else to float64; ``None`` keeps
    the dtype (a list holding strings becomes an object array). Entries equal to NaN or infinity
    are refused unless NaN is the marker; a numeric ``X`` needs a numeric marker. The width and
    column names are recorded (``reset=True``, at fit) or checked against the fit's.
    """
    name = type(estimator).__name__
    check_feature_names(estimator, X, reset=reset)
    X = _nullable_to_float(X)
    if sp.issparse(X):
        if not sparse:
            raise TypeError(f"{name} does not accept sparse input; pass a dense array")
        if _is_zero(estimator.missing_values):
            raise ValueError(
                "Imputation not possible when missing_values == 0 and input is sparse. "
                "Provide a dense array instead."
            )
        was_csc = X.format == "csc"
        X = X.tocsc()
        if dtype == "float" and X.dtype.kind != "f":
            X = X.astype(np.float64)
        elif copy and was_csc:
            X = X.copy()
        values = X.data
    else:
        if isinstance(X, list) and dtype is None and any(isinstance(v, str) for r in X for v in r):
            dtype = object
        try:
            raw = np.asarray(X, dtype=object if dtype is object else None)
            if raw.dtype.kind == "c":
                raise ValueError(f"Complex data not supported: X has dtype {raw.dtype}")
            if dtype == "float":
                want = raw.dtype if raw.dtype.kind == "f" else np.float64
                if raw.dtype.kind == "O" and is_pandas_na(estimator.missing_values):
                    raw = np.where(sys.modules["pandas"].isna(raw), np.nan, raw)
            else:
                want = raw.dtype if dtype is None else dtype
            X = np.array(raw, dtype=want, copy=True) if copy else np.asarray(raw, dtype=want)
        except (TypeError, ValueError) as exc:
            if non_numeric_hint is None or "could not convert" not in str(exc):
                raise
            raise ValueError(f"{non_numeric_hint}:\n{exc}") from None
        if X.ndim != 2:
            raise ValueError(
                f"Expected a 2-D array, got {X.ndim}-D array of shape {X.shape}. Reshape your "
                "data with array.reshape(-1, 1) if it has a single feature or "
                "array.reshape(1, -1) if it is a single sample."
            )
        values = X
    if values.dtype.kind == "f":
        if not marks_nan(estimator.missing_values) and np.isnan(values).any():
            raise ValueError(
                f"Input X contains NaN. {name} does not accept missing values "
                "encoded as NaN unless missing_values=np.nan."
            )
        if np.isinf(values).any():
            raise ValueError(f"Input X contains infinity or a value too large for {X.dtype!r}.")
    elif values.dtype.kind == "O" and not marks_nan(estimator.missing_values):
        if _unequal_to_itself(values, estimator.missing_values).any():
            raise ValueError("Input X contains NaN.")
    numeric_marker = isinstance(estimator.missing_values, numbers.Real)
    if values.dtype.kind in "iuf" and not (
        numeric_marker or is_pandas_na(estimator.missing_values)
    ):
        raise ValueError(
            "'X' and 'missing_values' types are expected to be both numerical. Got "
            f"X.dtype={X.dtype} and type(missing_values)={type(estimator.missing_values)}."
        )
    if values.dtype.kind not in allowed_kinds:
        raise ValueError(
            f"{name} does not support data with dtype {X.dtype}. Please provide either a numeric "
            "array (with a floating point or integer dtype) or categorical data represented "
            "either as an array with integer dtype or an array of string values with an object "
            "dtype."
        )
    check_n_features(estimator, X, reset=reset)
    return X


def indicator_names(names: Any) -> np.ndarray:
    """``missingindicator_<name>``: the output names of missing-value indicator columns."""
    return np.asarray([f"missingindicator_{name}" for name in names], dtype=object)


def check_n_features(estimator: Any, X: Any, *, reset: bool) -> None:
    if reset:
        for axis, what in ((0, "sample"), (1, "feature")):
            if X.shape[axis] < 1:
                raise ValueError(
                    f"Found array with 0 {what}(s) (shape={X.shape}) while a minimum of 1 is "
                    f"required by {type(estimator).__name__}."
                )
        estimator.n_features_in_ = X.shape[1]
    elif X.shape[1] != estimator.n_features_in_:
        raise ValueError(
            f"X has {X.shape[1]} features, but {type(estimator).__name__} is expecting "
            f"{estimator.n_features_in_} features as input"
        )


def mask_of(X: Any, missing_values: Any) -> Any:
    """Missing entries of a dense array, or a CSC boolean matrix of those of a sparse one."""
    if not sp.issparse(X):
        return missing_mask(X, missing_values)
    mask = X.copy()
    mask.data = missing_mask(X.data, missing_values)
    mask.eliminate_zeros()
    return mask.astype(bool)


class MissingIndicator(TransformerMixin, BaseEstimator):
    """Boolean indicators of the missing entries, one column per (selected) feature.

    Parameters
    ----------
    missing_values : number, str, np.nan or None, default=np.nan
    features : {"missing-only", "all"}, default="missing-only"
        Indicate only the features with a missing value at fit, or every feature.
    sparse : bool or "auto", default="auto"
        Return a CSC matrix ("auto": when the input is sparse).
    error_on_new : bool, default=True
        With ``features="missing-only"``, raise if a feature without missing values at fit has
        some at transform.

    Attributes
    ----------
    features_ : ndarray of int
        The indicated features.
    """

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        "missing_values": MISSING_VALUES,
        "features": Options("missing-only", "all"),
        "sparse": (BOOL, Options("auto")),
        "error_on_new": BOOL,
    }

    def __init__(
        self,
        *,
        missing_values: Any = np.nan,
        features: str = "missing-only",
        sparse: bool | str = "auto",
        error_on_new: bool = True,
    ) -> None:
        store_params(self, locals())

    def _mask(self, X: Any, *, reset: bool) -> Any:
        if sp.issparse(X) and _is_zero(self.missing_values):
            raise ValueError(
                "Sparse input with missing_values=0 is not supported. Provide a dense array "
                "instead."
            )
        X = as_imputer_input(
            self, X, reset=reset, dtype=None, allowed_kinds="iufO", copy=False, sparse=True
        )
        return mask_of(X, self.missing_values)

    def _output(self, mask: Any) -> Any:
        mask = mask[:, self.features_]
        want_sparse = sp.issparse(mask) if self.sparse == "auto" else self.sparse
        if want_sparse and not sp.issparse(mask):
            return sp.csc_matrix(mask)
        if not want_sparse and sp.issparse(mask):
            return mask.toarray()
        return mask.tocsc() if want_sparse else mask

    def _fit_mask(self, mask: Any) -> None:
        if self.features == "all":
            self.features_ = np.arange(mask.shape[1])
        else:
            counts = np.asarray(mask.sum(axis=0)).ravel()
            self.features_ = np.flatnonzero(counts)

    def fit(self, X: Any, y: Any = None) -> MissingIndicator:
        """Find the features that have missing values."""
        validate_params(self)
        self._fit_mask(self._mask(X, reset=True))
        return self

    def fit_transform(self, X: Any, y: Any = None) -> Any:
        """Fit, then return the indicators of ``X``."""
        validate_params(self)
        mask = self._mask(X, reset=True)
        self._fit_mask(mask)
        return self._output(mask)

    def transform(self, X: Any) -> Any:
        """Indicators of the missing entries of the features in ``features_``."""
        check_is_fitted(self)
        mask = self._mask(X, reset=False)
        if self.features == "missing-only" and self.error_on_new:
            counts = np.asarray(mask.sum(axis=0)).ravel()
            new = np.setdiff1d(np.flatnonzero(counts), self.features_)
            if new.size:
                raise ValueError(
                    f"The features {new} have missing values in transform but have no missing "
                    "values in fit."
                )
        return self._output(mask)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """``missingindicator_<name>`` for each feature in ``features_``."""
        return indicator_names(input_feature_names(self, input_features)[self.features_])

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = marks_nan(self.missing_values)
        tags.input_tags.sparse = True
        tags.input_tags.string = True
        return tags
