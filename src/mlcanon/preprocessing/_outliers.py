"""Data cleaning: outlier flags (IQR fences, z-scores) and duplicate rows.

Tukey's fences flag :math:`x < Q_1 - k\\,\\mathrm{IQR}` or :math:`x > Q_3 + k\\,\\mathrm{IQR}`
(:math:`\\mathrm{IQR} = Q_3 - Q_1`, :math:`k = 1.5`); they depend only on quartiles, so the outliers
themselves cannot move them. The z-score rule flags :math:`|x - \\bar x| / s > t`; a single large
outlier inflates :math:`s` and can hide itself (with :math:`n` points no z-score exceeds
:math:`(n-1)/\\sqrt n`). Missing values are never flagged and are ignored by the statistics.

References
----------
Tukey (1977). Exploratory Data Analysis, ch. 2.
Shiffler (1988). Maximum Z scores and outliers. The American Statistician 42(1), 79-80.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from mlcanon._estimator import is_pandas
from mlcanon._validation import (
    check_array,
    check_consistent_length,
    check_option,
    check_scalar,
    is_nullable_number,
    pandas_nullable_as_float,
)

from ._missing import is_scalar_nan

__all__ = ["drop_duplicates", "duplicated", "iqr_outliers", "zscore_outliers"]


def _matrix(X: Any) -> tuple[np.ndarray, bool]:
    arr = check_array(X, "X", ndim=(1, 2), allow_nan=True)
    return (arr[:, None], True) if arr.ndim == 1 else (arr, False)


def iqr_outliers(X: Any, *, k: float = 1.5) -> np.ndarray:
    """Boolean mask of values outside Tukey's fences, column by column.

    Parameters
    ----------
    X : array-like of shape (n_samples,) or (n_samples, n_features)
        NaN allowed (never flagged, ignored by the quartiles).
    k : float, default=1.5
        Fence distance in IQRs (3.0 gives Tukey's "far out" values).

    Returns
    -------
    ndarray of bool, same shape as ``X``.
    """
    check_scalar(k, "k", low=0.0)
    M, flat = _matrix(X)
    with np.errstate(invalid="ignore"):
        q1, q3 = np.nanpercentile(M, [25, 75], axis=0)
    iqr = q3 - q1
    with np.errstate(invalid="ignore"):
        out = (M < q1 - k * iqr) | (M > q3 + k * iqr)
    return out[:, 0] if flat else out


def zscore_outliers(X: Any, *, threshold: float = 3.0, ddof: int = 0) -> np.ndarray:
    """Boolean mask of values whose z-score :math:`|x - \\bar x| / s` exceeds ``threshold``.

    Parameters
    ----------
    X : array-like of shape (n_samples,) or (n_samples, n_features)
        NaN allowed (never flagged, ignored by the mean and standard deviation).
    threshold : float, default=3.0
    ddof : int, default=0
        Delta degrees of freedom of :math:`s` (0: population, 1: sample standard deviation).

    Returns
    -------
    ndarray of bool, same shape as ``X``. A constant column has no outliers.
    """
    check_scalar(threshold, "threshold", low=0.0, include_low=False)
    check_scalar(ddof, "ddof", kind=int, low=0)
    M, flat = _matrix(X)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.nanmean(M, axis=0)
        std = np.nanstd(M, axis=0, ddof=ddof)
        z = np.abs(M - mean) / std
        out = np.where(std > 0, z > threshold, False)
    return out[:, 0] if flat else out


def _nullable_as_float(X: Any) -> Any:
    """A DataFrame's (or Series') nullable numeric columns as float64, pandas.NA becoming NaN
    (as scikit-learn reads them); other columns, and anything else, unchanged."""
    if not is_pandas(X, "DataFrame"):
        return pandas_nullable_as_float(X)  # a Series as a whole, anything else unchanged
    # column by column: pandas_nullable_as_float casts the whole frame (a datetime column too)
    nullable = {
        column: np.float64 for column, dtype in X.dtypes.items() if is_nullable_number(dtype)
    }
    return X.astype(nullable) if nullable else X


def _as_array(X: Any) -> np.ndarray:
    """``X`` as a 1-D or 2-D array of its own dtype (integers stay exact, strings allowed), NaN
    and infinity allowed; an object array (strings or mixed values, as pandas gives them) and
    a DataFrame with such columns are kept as objects."""
    X = _nullable_as_float(X)  # pandas.NA of nullable numbers: NaN, as before
    arr = X.to_numpy() if is_pandas(X, "DataFrame") or is_pandas(X, "Series") else X
    if hasattr(arr, "tocsr") or np.asarray(arr).dtype != np.dtype(object):  # sparse: refused
        return check_array(arr, "X", ndim=(1, 2), dtype=None, allow_nan=True, allow_inf=True)
    arr = np.asarray(arr)
    if arr.ndim not in (1, 2):
        raise ValueError(f"X must be 1-D or 2-D, got {arr.ndim}-D array of shape {arr.shape}")
    return arr


def _is_missing(value: Any) -> bool:
    """Whether ``value`` is a missing marker: None, a NaN, or (pandas loaded) pandas.NA, NaT."""
    if value is None or is_scalar_nan(value):
        return True
    pandas = sys.modules.get("pandas")
    return pandas is not None and (value is pandas.NA or value is pandas.NaT)


def _object_codes(column: np.ndarray, *, missing_equal: bool) -> np.ndarray:
    """Integer codes of the values of an object column, equal values equal codes as in pandas:
    Python equality (1, 1.0 and True are one value), every NaN one value. With
    ``missing_equal`` every missing marker (None, NaN, pandas.NA, NaT) is one value, as pandas'
    ``DataFrame.duplicated`` of several columns (it factorizes each); without, None and NaN
    are two values, as its one-column ``duplicated``."""
    seen: dict[Any, int] = {}
    codes = np.empty(column.shape[0], dtype=np.int64)
    nan = object()  # the key of every NaN (NaN is unequal to itself, and each has its identity)
    for i, value in enumerate(column):
        if missing_equal and _is_missing(value):
            key = nan
        else:
            key = nan if is_scalar_nan(value) else value
        try:
            codes[i] = seen.setdefault(key, len(seen))
        except TypeError:
            raise TypeError(
                f"X must hold hashable values to compare rows, got {type(value).__name__} "
                f"{value!r} in row {i}"
            ) from None
    return codes


def _rows(X: Any) -> np.ndarray:
    """Keys of the rows of ``X``, equal rows equal keys: the values themselves (NaN flagged
    apart, so that NaN equals NaN), or integer codes per column for an object array or a
    DataFrame (each column in its own dtype)."""
    X = _nullable_as_float(X)
    frame = X if is_pandas(X, "DataFrame") else None
    arr = _as_array(X)
    arr = arr[:, None] if arr.ndim == 1 else arr
    if frame is None and arr.dtype != object:
        if arr.dtype.kind == "f":  # NaN is unequal to itself: key by the values and NaN flags
            nan = np.isnan(arr)
            arr = np.hstack([np.where(nan, 0.0, arr), nan])
        return arr
    columns = (
        [frame.iloc[:, j].to_numpy() for j in range(frame.shape[1])]
        if frame is not None
        else list(arr.T)
    )
    codes = np.empty((arr.shape[0], len(columns)), dtype=np.int64)
    for j, column in enumerate(columns):
        if column.dtype == object:
            codes[:, j] = _object_codes(column, missing_equal=len(columns) > 1)
        else:  # np.unique sorts: NaN are one value, and -0.0 equals 0.0, as in pandas
            codes[:, j] = np.unique(column, return_inverse=True)[1].ravel()
    return codes


def duplicated(X: Any, *, keep: str = "first") -> np.ndarray:
    """Mask of rows that repeat another row exactly (NaN equals NaN, as in pandas).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features) or (n_samples,), or a DataFrame
        Numbers (compared in their own dtype: integers are not rounded to float), strings, or
        any hashable values in an object array; a DataFrame's columns each in their own dtype.
        Values compare as in pandas' ``DataFrame.duplicated``.
    keep : {"first", "last", "none"}, default="first"
        Which occurrence is *not* flagged: the first, the last, or none (flag every copy).

    Returns
    -------
    ndarray of bool of shape (n_samples,)
    """
    check_option(keep, "keep", ("first", "last", "none"))
    rows = _rows(X)
    _, first, inverse, counts = np.unique(
        rows, axis=0, return_index=True, return_inverse=True, return_counts=True
    )
    inverse = inverse.ravel()
    if keep == "none":
        return counts[inverse] > 1
    if keep == "first":
        return np.arange(len(inverse)) != first[inverse]
    last = np.zeros_like(first)
    last[inverse] = np.arange(len(inverse))  # later rows overwrite: the last index remains
    return np.arange(len(inverse)) != last[inverse]


def drop_duplicates(X: Any, y: Any = None, *, keep: str = "first") -> Any:
    """Rows of ``X`` (and ``y``) without repeats, in their original order and dtype.

    Returns ``X_unique`` or ``(X_unique, y_unique)`` when ``y`` is given. Rows are compared on
    ``X`` only; with ``y`` given, conflicting labels on equal rows are kept as in ``keep``.
    """
    X_arr = _as_array(X)
    mask = ~duplicated(X, keep=keep)
    if y is None:
        return X_arr[mask]
    y_arr = np.asarray(y)
    check_consistent_length(X=X_arr, y=y_arr)
    return X_arr[mask], y_arr[mask]
