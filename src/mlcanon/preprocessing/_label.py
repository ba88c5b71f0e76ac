"""Label encoding: class labels as the integers 0 .. n_classes - 1, in sorted order."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from mlcanon._estimator import warn_column_vector_y

__all__ = ["LabelEncoder"]


def _column(y: Any, dtype: Any = None) -> np.ndarray:
    """``y`` as a 1-D array; a column vector is raveled with a ``DataConversionWarning``."""
    a = np.asarray(y, dtype=dtype)
    if a.ndim == 2 and a.shape[1] == 1:
        warn_column_vector_y(stacklevel=4)
        return a.ravel()
    if a.ndim != 1:
        raise ValueError(
            f"y should be a 1d array, got an array of shape {a.shape} instead (a column vector "
            f"of shape (n_samples, 1) is raveled)"
        )
    return a


def _is_nan(v: Any) -> bool:
    return isinstance(v, float | np.floating) and math.isnan(v)


def _unique_objects(y: np.ndarray) -> np.ndarray:
    """Sorted distinct values of an object array, then None, then NaN (scikit-learn's order)."""
    values = set(y.tolist())
    missing = [m for m in (None,) if m in values]
    values.discard(None)
    if any(_is_nan(v) for v in values):
        values = {v for v in values if not _is_nan(v)}
        missing.append(np.nan)
    try:
        ordered = sorted(values)
    except TypeError:
        kinds = sorted({type(v).__qualname__ for v in y.tolist()})
        raise TypeError(
            f"Encoders require their input argument must be uniformly strings or numbers. "
            f"Got {kinds}"
        ) from None
    out = np.empty(len(ordered) + len(missing), dtype=object)
    out[:] = ordered + missing
    return out


def _codes(y: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Index of each value of ``y`` in ``classes``; unseen values raise ``ValueError``."""
    if classes.dtype == object:
        table = {v: i for i, v in enumerate(classes.tolist()) if not _is_nan(v)}
        nan_code = next((i for i, v in enumerate(classes.tolist()) if _is_nan(v)), None)
        codes, unseen = np.empty(len(y), dtype=np.int64), []
        for i, v in enumerate(y.tolist()):
            code = nan_code if _is_nan(v) else table.get(v)
            if code is None:
                unseen.append(v)
            else:
                codes[i] = code
        if unseen:
            raise ValueError(f"y contains previously unseen labels: {unseen}")
        return codes
    codes = np.searchsorted(classes, y).clip(0, max(len(classes) - 1, 0))
    found = classes[codes] == y
    if classes.dtype.kind in "fc":
        found |= np.isnan(classes[codes]) & np.isnan(y)
    if not found.all():
        raise ValueError(f"y contains previously unseen labels: {np.unique(y[~found])}")
    return codes.astype(np.int64)


class LabelEncoder(TransformerMixin, BaseEstimator, auto_wrap_output_keys=None):
    """Encode class labels as the integers ``0 .. n_classes - 1`` (scikit-learn's
    ``LabelEncoder``).

    ``classes_`` holds the distinct labels in sorted order (for an object array: sorted, then
    ``None``, then NaN), so that label ``classes_[i]`` is encoded as ``i``.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    """

    _encodes_labels = True  # mlcanon.io: a fitted instance carries classes_ (not a classifier)

    def fit(self, y: Any) -> LabelEncoder:
        """Find the distinct labels of ``y``."""
        y = _column(y)
        self.classes_ = _unique_objects(y) if y.dtype == object else np.unique(y)
        return self

    def fit_transform(self, y: Any) -> np.ndarray:
        """Fit, then return the codes of ``y``."""
        return self.fit(y).transform(y)

    def transform(self, y: Any) -> np.ndarray:
        """The code of each label of ``y`` (converted to the dtype of ``classes_``, as
        scikit-learn); a label not seen in fit raises ``ValueError``."""
        check_is_fitted(self, "classes_")
        y = _column(y, dtype=self.classes_.dtype)
        if y.size == 0:
            return np.array([])
        return _codes(y, self.classes_)

    def inverse_transform(self, y: Any) -> np.ndarray:
        """The labels of the codes ``y``; a code outside ``0 .. n_classes - 1`` raises
        ``ValueError``."""
        check_is_fitted(self, "classes_")
        y = _column(y)
        if y.size == 0:
            return np.array([])
        diff = np.setdiff1d(y, np.arange(len(self.classes_)))
        if len(diff):
            raise ValueError(f"y contains previously unseen labels: {diff}")
        return self.classes_[np.asarray(y, dtype=np.int64)]

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.target_tags.one_d_labels = True
        return tags
