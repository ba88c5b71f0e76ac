"""Input checks shared by the metrics: class labels, binary targets and scores.

Each helper validates once and returns plain arrays, so the kernels after it can assume clean
input. Checks that would cost a sort (``np.unique``) are avoided on the hot path of the ranking
metrics: a binary target is recognised with a few linear passes instead.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.exceptions import UndefinedMetricWarning as _SklearnUndefinedMetricWarning

from mlcanon._validation import check_array

from ._targets import check_label_kinds

__all__ = ["UndefinedMetricWarning", "check_label_kinds"]


class UndefinedMetricWarning(_SklearnUndefinedMetricWarning):
    """A metric is ill-defined on the given data (e.g. precision with no predicted positives).

    Subclasses scikit-learn's ``UndefinedMetricWarning`` so that its warning filters catch it.
    """


def check_labels(y: Any, name: str) -> np.ndarray:
    """Return ``y`` as a 1-D array of class labels (numbers or strings).

    Floats are accepted only when they hold whole numbers: ``0.5`` is a score, not a class.
    """
    arr = check_array(y, name, ndim=1, dtype=None)
    if arr.dtype.kind not in "biufUS":
        raise TypeError(f"{name} must hold numbers or strings, got dtype={arr.dtype}")
    if arr.dtype.kind == "f" and not np.all(arr == np.floor(arr)):
        bad = arr[arr != np.floor(arr)][0]
        raise ValueError(f"{name} must hold class labels, got the non-integer value {bad.item()!r}")
    return arr


def contains(values: np.ndarray, item: Any) -> bool:
    """``item in values`` that is False (not an error) when the types cannot be compared."""
    try:
        return bool(np.any(values == item))
    except (TypeError, ValueError):
        return False


def check_scores(y_score: Any, name: str = "y_score") -> np.ndarray:
    """Scores: a 1-D float64 array without NaN or infinity."""
    return check_array(y_score, name, ndim=1)


def check_zero_division(zero_division: Any) -> float | str:
    """``zero_division`` as scikit-learn spells it: ``"warn"``, 0, 1 or ``np.nan``."""
    if isinstance(zero_division, str):
        if zero_division == "warn":
            return zero_division
    elif isinstance(zero_division, int | float) and not isinstance(zero_division, bool):
        if zero_division in (0, 1) or np.isnan(zero_division):
            return float(zero_division)
    raise ValueError(
        f"zero_division must be one of 'warn', 0.0, 1.0, np.nan; got {zero_division!r}"
    )


def check_bool(value: Any, name: str) -> bool:
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be a bool, got {type(value).__name__} {value!r}")
    return bool(value)


def positive_mask(y_true: Any, pos_label: Any, *, one_vs_rest: bool) -> np.ndarray:
    """Boolean mask of the positive samples of a binary target.

    ``pos_label=None`` accepts only {0, 1} or {-1, 1} (positive = 1), as scikit-learn does.
    With an explicit ``pos_label``, a target with more than two classes is read one-vs-rest when
    ``one_vs_rest`` is true and refused otherwise. Linear passes only: no sort of ``y_true``.
    """
    y = check_labels(y_true, "y_true")
    if pos_label is None:
        is_pos = y == 1
        rest = y[~is_pos]
        if y.dtype.kind not in "biuf" or not (np.all(rest == 0) or np.all(rest == -1)):
            raise ValueError(
                f"y_true takes the values {np.unique(y).tolist()[:10]}, not {{0, 1}} or "
                "{-1, 1}; pass pos_label to say which label is the positive class"
            )
        return is_pos
    is_pos = np.asarray(y == pos_label)
    if is_pos.shape != y.shape:  # incomparable types: numpy answers with one scalar
        is_pos = np.zeros(y.shape, bool)
    if not one_vs_rest:
        rest = y[~is_pos]
        if rest.size and bool(np.any(rest != rest[0])):
            classes = np.unique(y).tolist()
            if not is_pos.any() and len(classes) == 2:
                raise ValueError(
                    f"pos_label={pos_label!r} is not a valid label; it should be one of {classes}"
                )
            raise ValueError(f"y_true must be binary, got {len(classes)} classes {classes[:10]}")
    return is_pos


def greater_label_positive(y_true: Any) -> np.ndarray:
    """Positive mask for AUC: exactly two classes, the greater one positive (as sklearn sorts)."""
    y = check_labels(y_true, "y_true")
    if y.dtype.kind in "biuf":
        hi, lo = y.max(), y.min()
        is_pos = y == hi
        two = hi != lo and bool(np.all(y[~is_pos] == lo))
    else:
        classes = np.unique(y)
        is_pos = y == classes[-1]
        two = classes.size == 2
    if not two:
        classes = np.unique(y)
        if classes.size == 1:
            only = classes[0].item()
            raise ValueError(
                f"AUC needs both classes in y_true, but it holds only the label {only!r}"
            )
        raise ValueError(
            f"AUC here is binary: y_true must hold exactly 2 classes, got {classes.size} "
            f"{classes.tolist()[:10]}"
        )
    return is_pos
