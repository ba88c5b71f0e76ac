"""Univariate imputation: each missing entry of column :math:`j` becomes a statistic of the
observed entries of that column seen at fit.

.. math:: \\hat x_{ij} = s_j(\\{x_{kj} : x_{kj}\\ \\text{observed}\\}),

with :math:`s_j` the mean, the median, the most frequent value (the smallest one on ties), a
constant, or any function of the observed values. Numbers, strings and other Python objects can
be imputed (the mean and the median need numbers); a scipy.sparse matrix is imputed in place of
its stored entries, its implicit zeros counting as observed zeros.

A column with no observed value at fit has no statistic: it is dropped from the output (with a
``UserWarning`` at transform) unless ``keep_empty_features=True``, which fills it with 0 (or
``fill_value`` for the constant strategy).

References
----------
Little, Rubin (2019). Statistical Analysis with Missing Data, 3rd ed., sec. 4.2.
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from mlcanon._estimator import input_feature_names, store_params
from mlcanon._validation import BOOL, AnyValue, IsCallable, Options, validate_params

from ._missing import (
    MISSING_VALUES,
    MissingIndicator,
    as_imputer_input,
    indicator_names,
    is_scalar_nan,
    marks_nan,
    mask_of,
    missing_mask,
    overflow_free_mean,
)

__all__ = ["SimpleImputer"]

_STRATEGIES = ("mean", "median", "most_frequent", "constant")


def most_frequent(values: np.ndarray) -> Any:
    """The most frequent entry of a 1-D array, the smallest one on ties.

    Values that cannot be ordered against each other (a string and a number) are ordered by
    their type name, then their text.
    """
    if values.dtype != object:
        uniques, counts = np.unique(values, return_counts=True)
        return uniques[np.argmax(counts)]  # np.unique sorts: the first maximum is the smallest
    counter = Counter(values)
    top = max(counter.values())
    tied = [v for v, c in counter.items() if c == top]
    try:
        return min(tied)
    except TypeError:
        return min(tied, key=lambda v: (str(type(v)), str(v)))


def _columns_of_stored(X: Any) -> np.ndarray:
    """Column index of every stored entry of a CSC matrix."""
    return np.repeat(np.arange(X.shape[1]), np.diff(X.indptr))


def _observed(X: Any, missing: np.ndarray, j: int) -> np.ndarray:
    """The observed entries of column ``j`` (a sparse column's implicit zeros included).

    ``missing`` is the mask of ``X`` (dense) or of its stored entries ``X.data`` (CSC).
    """
    if not sp.issparse(X):
        return X[~missing[:, j], j]
    lo, hi = X.indptr[j], X.indptr[j + 1]
    stored = X.data[lo:hi][~missing[lo:hi]]
    return np.concatenate([stored, np.zeros(X.shape[0] - (hi - lo), dtype=X.dtype)])


class SimpleImputer(TransformerMixin, BaseEstimator):
    """Fill missing values with a per-column mean, median, most frequent value or constant.

    Parameters
    ----------
    missing_values : number, str, np.nan or None, default=np.nan
        Marker of a missing entry.
    strategy : {"mean", "median", "most_frequent", "constant"} or callable, default="mean"
        A callable receives the observed entries of a column (1-D) and returns its statistic.
    fill_value : scalar, optional
        Value used by ``strategy="constant"`` (default 0 for numbers, ``"missing_value"`` for
        strings and objects); it must be castable to the dtype of ``X``.
    copy : bool, default=True
        With ``False`` a float ndarray or a CSC matrix is imputed in place.
    add_indicator : bool, default=False
        Append a boolean column per feature that had missing values at fit (a
        :class:`MissingIndicator`, kept in ``indicator_``).
    keep_empty_features : bool, default=False
        Keep columns that were entirely missing at fit (filled with 0, or ``fill_value`` for
        ``strategy="constant"``); otherwise they are dropped with a ``UserWarning``.

    Attributes
    ----------
    statistics_ : ndarray of shape (n_features,)
        Fill value of each column (NaN for a column that is dropped).
    indicator_ : MissingIndicator or None

    Notes
    -----
    :math:`\\hat x_{ij} = s_j(\\{x_{kj} : x_{kj}\\text{ observed}\\})` with :math:`s_j` the chosen
    statistic.

    References
    ----------
    Little, Rubin (2019). Statistical Analysis with Missing Data, 3rd ed., sec. 4.2.
    """

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        "missing_values": MISSING_VALUES,
        "strategy": (Options(*_STRATEGIES), IsCallable()),
        "fill_value": AnyValue(),
        "copy": BOOL,
        "add_indicator": BOOL,
        "keep_empty_features": BOOL,
    }

    def __init__(
        self,
        *,
        missing_values: Any = np.nan,
        strategy: str | Callable[[np.ndarray], Any] = "mean",
        fill_value: Any = None,
        copy: bool = True,
        add_indicator: bool = False,
        keep_empty_features: bool = False,
    ) -> None:
        store_params(self, locals())

    def _validate(self, X: Any, *, in_fit: bool, copy: bool) -> Any:
        numeric = not (isinstance(self.strategy, str) and self.strategy in _STRATEGIES[2:])
        dtype = "float" if numeric else None
        if not in_fit and self._fill_dtype == "object":
            dtype = object
        X = as_imputer_input(
            self,
            X,
            reset=in_fit,
            dtype=dtype,
            allowed_kinds="iufO",
            copy=copy,
            sparse=True,
            non_numeric_hint=f"Cannot use {self.strategy} strategy with non-numeric data",
        )
        if self.strategy == "constant":
            if in_fit and self.fill_value is not None:
                source = (
                    np.asarray(self.fill_value).dtype
                    if isinstance(self.fill_value, np.generic)
                    else type(self.fill_value)
                )
                if not np.can_cast(source, X.dtype, casting="same_kind"):
                    raise ValueError(
                        f"fill_value={self.fill_value!r} (of type {type(self.fill_value)!r}) "
                        f"cannot be cast to the input data that is {X.dtype!r}. If fill_value "
                        "is a Python scalar, pass a NumPy scalar of the data's dtype instead "
                        "(e.g. fill_value=np.uint8(0) for np.uint8 data)."
                    )
            elif not in_fit and not np.can_cast(self._fill_dtype, X.dtype, casting="same_kind"):
                raise ValueError(
                    f"The dtype of the filling value (i.e. {self._fill_dtype!r}) cannot be cast "
                    f"to the input data that is {X.dtype!r}. Make sure that the dtypes of the "
                    "input data are of the same kind between fit and transform."
                )
        return X

    def _statistic(self, values: np.ndarray) -> Any:
        if self.strategy == "mean":
            return overflow_free_mean(values.astype(np.float64))
        if self.strategy == "median":
            return np.median(values.astype(np.float64))
        if self.strategy == "most_frequent":
            return most_frequent(values)
        return self.strategy(values)

    def fit(self, X: Any, y: Any = None) -> SimpleImputer:
        """Compute the fill value of every column from its observed entries."""
        validate_params(self)
        X = self._validate(X, in_fit=True, copy=False)
        self._fill_dtype = X.dtype.name
        missing = missing_mask(X.data if sp.issparse(X) else X, self.missing_values)
        if sp.issparse(X):
            n_missing = np.bincount(_columns_of_stored(X)[missing], minlength=X.shape[1])
        else:
            n_missing = missing.sum(axis=0)
        empty = n_missing == X.shape[0]
        fill_value = self.fill_value
        if fill_value is None:
            fill_value = 0 if X.dtype.kind in "iuf" else "missing_value"
        numbers_only = X.dtype.kind in "iuf" or not (
            self.strategy == "most_frequent" or isinstance(fill_value, str)
        )
        stats = np.empty(X.shape[1], dtype=np.float64 if numbers_only else object)
        for j in range(X.shape[1]):
            if self.strategy == "constant":
                stats[j] = fill_value
            elif empty[j]:
                stats[j] = 0 if self.keep_empty_features else np.nan
            else:
                stats[j] = self._statistic(_observed(X, missing, j))
        if not self.keep_empty_features:
            stats[empty] = np.nan
        if not sp.issparse(X):  # scikit-learn's dtypes for dense data:
            if self.strategy == "median" and X.dtype == np.float32:
                stats = stats.astype(np.float32)  # its masked median keeps float32
            elif self.strategy == "constant":
                stats = stats.astype(object)  # the fill value as given: 0 stays the int 0
                stats[~np.array([is_scalar_nan(v) for v in stats], dtype=bool)] = fill_value
        self.statistics_ = stats
        self.indicator_ = None
        if self.add_indicator:
            self.indicator_ = MissingIndicator(
                missing_values=self.missing_values, error_on_new=False
            )
            self.indicator_.n_features_in_ = X.shape[1]
            self.indicator_._fit_mask(mask_of(X, self.missing_values))
        return self

    def _valid(self) -> np.ndarray:
        """Columns that have a statistic (the others are dropped)."""
        return ~np.array([is_scalar_nan(v) for v in self.statistics_], dtype=bool)

    def transform(self, X: Any) -> Any:
        """Replace missing entries by the fitted statistics; the indicators appended if asked."""
        check_is_fitted(self)
        X = self._validate(X, in_fit=False, copy=self.copy)
        valid = self._valid()
        if not valid.all():
            skipped = np.flatnonzero(~valid)
            if hasattr(self, "feature_names_in_"):
                skipped = self.feature_names_in_[skipped]
            warnings.warn(
                f"Skipping features without any observed values: {skipped}. At "
                f"least one non-missing value is needed for imputation with "
                f"strategy={self.strategy!r}.",
                UserWarning,
                stacklevel=2,
            )
        fill = np.where(valid, self.statistics_, 0).astype(self._fill_dtype)
        indicator = (
            self.indicator_._output(mask_of(X, self.missing_values))
            if (self.add_indicator)
            else None
        )
        if sp.issparse(X):
            missing = missing_mask(X.data, self.missing_values)
            X.data[missing] = fill[_columns_of_stored(X)[missing]]
        else:
            rows, cols = np.nonzero(missing_mask(X, self.missing_values))
            X[rows, cols] = fill[cols]
        out = X if valid.all() else X[:, np.flatnonzero(valid)]
        if indicator is None:
            return out
        if sp.issparse(out):
            return sp.hstack([out, sp.csc_matrix(indicator)], format="csc")
        return np.hstack([out, indicator])

    def inverse_transform(self, X: Any) -> np.ndarray:
        """Put the marker back where the indicator columns say a value was missing.

        ``X`` may be the sparse output of :meth:`transform` (the result is dense). Only the
        features with an indicator (missing at fit) can be restored; a column dropped at fit
        (no observed value) comes back filled with the marker.
        """
        check_is_fitted(self)
        if not self.add_indicator:
            raise ValueError(
                "'inverse_transform' works only when 'SimpleImputer' is instantiated with "
                f"'add_indicator=True'. Got 'add_indicator={self.add_indicator}' instead."
            )
        # transform's output for sparse input is a CSC matrix (np.asarray made it a 0-d array)
        X = X.toarray() if sp.issparse(X) else np.asarray(X)
        features = self.indicator_.features_
        n_imputed = X.shape[1] - features.size
        kept = np.flatnonzero(self._valid())
        if n_imputed != kept.size:
            raise ValueError(
                f"X has {X.shape[1]} columns; expected {kept.size} imputed columns followed by "
                f"{features.size} indicator columns"
            )
        dtype = object if X.dtype == object else np.float64
        out = np.empty((X.shape[0], self.n_features_in_), dtype=dtype)
        out[:] = self.missing_values
        out[:, kept] = X[:, :n_imputed]
        missing = X[:, n_imputed:].astype(bool)
        block = out[:, features]
        block[missing] = self.missing_values
        out[:, features] = block
        return out

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """The names of the imputed columns (those with a statistic), then the indicators'."""
        names = input_feature_names(self, input_features)
        kept = names[self._valid()]
        if not self.add_indicator:
            return kept
        return np.concatenate([kept, indicator_names(names[self.indicator_.features_])])

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = marks_nan(self.missing_values)
        tags.input_tags.sparse = True
        return tags
