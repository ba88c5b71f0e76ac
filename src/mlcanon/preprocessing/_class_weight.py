"""Balanced class weights: each class carries the same total weight in a loss.

References
----------
King & Zeng, "Logistic regression in rare events data", Political Analysis 9(2), 2001.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mlcanon._estimator import class_weight_by_label, warn_column_vector_y
from mlcanon._validation import check_array, check_sample_weight

__all__ = ["compute_class_weight"]


def compute_class_weight(
    class_weight: dict[Any, float] | str | None,
    *,
    classes: Any,
    y: Any,
    sample_weight: Any = None,
) -> np.ndarray:
    r"""Weight of each class, for losses that should not be dominated by the majority.

    ``'balanced'`` gives class :math:`c` the weight :math:`n / (K \, n_c)` (with sample weights,
    :math:`n_c` and :math:`n` are weight sums), so every class carries the same total weight;
    a dict gives weights by label (missing labels get 1); ``None`` gives 1 everywhere.

    Parameters
    ----------
    class_weight : dict, 'balanced' or None
    classes : array-like of shape (n_classes,)
        The labels, in the order of the returned weights.
    y : array-like of shape (n_samples,)
        A column vector (n_samples, 1) is read as its one column, as scikit-learn reads it
        (with a ``DataConversionWarning`` for ``'balanced'``).
    sample_weight : array-like of shape (n_samples,), default=None

    Returns
    -------
    ndarray of shape (n_classes,)

    References
    ----------
    King & Zeng, "Logistic regression in rare events data", Political Analysis 9(2), 2001.
    """
    classes = _labels(classes, "classes")
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        if isinstance(class_weight, str):
            warn_column_vector_y(stacklevel=3)
        y = y.ravel()
    y = _labels(y, "y")
    if np.setdiff1d(y, classes).size:
        raise ValueError(
            f"classes should include all labels of y; missing {np.setdiff1d(y, classes)}"
        )
    if class_weight is None or (isinstance(class_weight, dict) and not class_weight):
        return np.ones(classes.size)
    if isinstance(class_weight, str):
        if class_weight != "balanced":
            raise ValueError(
                f"class_weight must be 'balanced', a dict or None; got {class_weight!r}"
            )
        if not np.isin(classes, y).all():
            raise ValueError("classes should have valid labels that are in y")
        w = check_sample_weight(sample_weight, y.shape[0])
        if not w.any():  # every class would weigh 0 / 0
            raise ValueError(
                "sample_weight must contain at least one non-zero number; got all zeros"
            )
        present, y_ind = np.unique(y, return_inverse=True)
        per_class = np.bincount(y_ind, weights=w)
        recip = per_class.sum() / (present.size * per_class)
        return recip[np.searchsorted(present, classes)]
    if not isinstance(class_weight, dict):
        raise TypeError(f"class_weight must be 'balanced', a dict or None; got {class_weight!r}")
    return class_weight_by_label(class_weight, classes)


def _labels(values: Any, name: str) -> np.ndarray:
    """A 1-D array of labels of any dtype (strings in an object array as well)."""
    arr = np.asarray(values)
    if arr.dtype == object:
        if arr.ndim != 1:
            raise ValueError(f"{name} must be 1-D, got {arr.ndim}-D array of shape {arr.shape}")
        return arr
    return check_array(arr, name, ndim=1, dtype=None)
