"""Input checks shared by the metrics: class labels, binary targets and scores.

Each helper validates once and returns plain arrays, so the kernels after it can assume clean
input. What kind of target an array is (binary, multiclass, multilabel indicator) is decided in
:mod:`._targets`.
"""

from __future__ import annotations

import numbers
import warnings
from typing import Any

import numpy as np
from sklearn.exceptions import UndefinedMetricWarning as _SklearnUndefinedMetricWarning

from mlcanon._validation import check_array

from ._targets import as_target, check_label_kinds, target_type

__all__ = ["UndefinedMetricWarning", "check_label_kinds"]


class UndefinedMetricWarning(_SklearnUndefinedMetricWarning):
    """A metric is ill-defined on the given data (e.g. precision with no predicted positives).

    Subclasses scikit-learn's ``UndefinedMetricWarning`` so that its warning filters catch it.
    """


def renamed_y_proba(y_proba: Any, y_pred: Any, func: str) -> Any:
    """The probabilities of :func:`log_loss` and :func:`d2_log_loss_score`: scikit-learn 1.9
    renamed their ``y_pred`` to ``y_proba`` and still takes ``y_pred=`` with a FutureWarning
    (until 1.11), as this does."""
    if isinstance(y_pred, str) and y_pred == "deprecated":
        if y_proba is None:
            raise TypeError(f"{func}() missing the required argument 'y_proba'")
        return y_proba
    if y_proba is not None:
        raise ValueError(
            "Cannot use both `y_pred` and `y_proba`. `y_pred` is deprecated, use `y_proba` instead."
        )
    warnings.warn(
        "`y_pred` was renamed to `y_proba` in version 1.9 and will be removed in 1.11. Use "
        "`y_proba` instead.",
        FutureWarning,
        stacklevel=3,
    )
    return y_pred


def check_labels(y: Any, name: str) -> np.ndarray:
    """Return ``y`` as a 1-D array of class labels (numbers or strings; a column is flattened).

    Floats are accepted only when they hold whole numbers: ``0.5`` is a score, not a class.
    """
    arr = as_target(y, name)
    kind = target_type(arr, name)
    if kind not in ("binary", "multiclass"):
        raise ValueError(f"{name} must hold class labels (binary or multiclass), got {kind} values")
    return arr.reshape(-1)


def classes_of_columns(
    y: np.ndarray, labels: Any, n_columns: int, count_messages: tuple[str, str]
) -> np.ndarray:
    """The sorted classes that index the columns of ``y_score``: those of ``y``, or ``labels``,
    which must be unique, sorted, one per column and cover ``y``.

    ``count_messages`` word a class count that does not match the columns (``{n}`` classes,
    ``{n_columns}`` columns), for classes taken from ``y`` and for given labels: the multiclass
    AUC and top-k accuracy each keep scikit-learn's wording, which its users and tests match.
    """
    if labels is None:
        classes = np.unique(y)
    else:
        given = check_labels(labels, "labels")
        classes = np.unique(given)
        if classes.size != given.size:
            raise ValueError(f"Parameter 'labels' must be unique. Got {given.tolist()}")
        if not np.array_equal(classes, given):
            raise ValueError(f"Parameter 'labels' must be ordered. Got {given.tolist()}")
    if classes.size != n_columns:
        message = count_messages[labels is not None]
        raise ValueError(message.format(n=classes.size, n_columns=n_columns))
    if labels is not None and np.setdiff1d(y, classes).size:
        raise ValueError(
            f"'y_true' contains labels not in parameter 'labels'. labels={classes.tolist()}"
        )
    return classes


def contains(values: np.ndarray, item: Any) -> bool:
    """``item in values`` that is False (not an error) when the types cannot be compared."""
    try:
        return bool(np.any(values == item))
    except (TypeError, ValueError):
        return False


def check_scores(y_score: Any, name: str = "y_score") -> np.ndarray:
    """Scores: a 1-D float64 array (a column is flattened) without NaN or infinity."""
    score = check_array(y_score, name, ndim=(1, 2))
    if score.ndim == 2 and score.shape[1] != 1:
        raise ValueError(
            f"{name} must be 1-D (one score per sample), got shape {score.shape}; a 2-D y_score "
            "goes with a multiclass or multilabel y_true"
        )
    return score.reshape(-1)


def score_dtype(y_score: Any) -> np.dtype:
    """The dtype of the scores as given (bool, int or float; float64 otherwise): the threshold
    arrays of the curves are the scores themselves, returned in it as scikit-learn does."""
    dtype = getattr(y_score, "dtype", None)
    if dtype is None:
        dtype = np.asarray(y_score).dtype
    elif not isinstance(dtype, np.dtype):  # a torch tensor: its NumPy counterpart
        try:
            dtype = np.asarray(y_score[:0].detach().cpu()).dtype
        except (AttributeError, TypeError, RuntimeError):
            dtype = np.dtype(np.float64)
    return dtype if dtype.kind in "biuf" else np.dtype(np.float64)


def check_score_matrix(y_score: Any) -> np.ndarray:
    """Scores of a multiclass or multilabel target: one column per class, finite."""
    score = check_array(y_score, "y_score", ndim=(1, 2))
    if score.ndim != 2:
        raise ValueError(
            "`y_score` needs to be of shape `(n_samples, n_classes)`, since `y_true` contains "
            f"multiple classes. Got `y_score.shape={score.shape}`."
        )
    return score


def check_zero_division(zero_division: Any, *, allow_nan: bool = True) -> float | str:
    """``zero_division`` as scikit-learn spells it: ``"warn"``, 0, 1 or ``np.nan`` (not for
    ``jaccard_score``, whose scikit-learn constraint has no NaN: ``allow_nan=False``)."""
    allowed = "'warn', 0.0, 1.0" + (", np.nan" if allow_nan else "")
    if isinstance(zero_division, str):
        if zero_division == "warn":
            return zero_division
    elif isinstance(zero_division, int | float) and not isinstance(zero_division, bool):
        if zero_division in (0, 1) or (allow_nan and np.isnan(zero_division)):
            return float(zero_division)
    raise ValueError(f"zero_division must be one of {allowed}; got {zero_division!r}")


def check_pos_label(pos_label: Any) -> Any:
    """``pos_label`` as scikit-learn constrains it: a number, bool or str, or None. An array
    or a list would be compared element by element with the labels (broadcast), not as one
    class."""
    if pos_label is None or isinstance(pos_label, numbers.Real | str | np.bool_):
        return pos_label
    raise ValueError(
        "The 'pos_label' parameter must be an int, float, bool or str (one class) or None, got "
        f"{type(pos_label).__name__} {pos_label!r}"
    )


def check_bool(value: Any, name: str) -> bool:
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be a bool, got {type(value).__name__} {value!r}")
    return bool(value)


def positive_mask(y_true: Any, pos_label: Any) -> np.ndarray:
    """Boolean mask of the positive samples of a binary target.

    ``pos_label=None`` accepts only {0, 1} or {-1, 1} (positive = 1), as scikit-learn does.
    With an explicit ``pos_label``, a multiclass target is read one-vs-rest.
    """
    pos_label = check_pos_label(pos_label)
    y = as_target(y_true, "y_true")
    kind = target_type(y, "y_true")
    if kind != "binary" and not (kind == "multiclass" and pos_label is not None):
        raise ValueError(
            f"{kind} format is not supported: y_true must be binary labels (or multiclass "
            "labels with pos_label, read one-vs-rest)"
        )
    y = y.reshape(-1)
    if pos_label is None:
        is_pos = y == 1
        rest = y[~is_pos]
        if y.dtype.kind not in "biuf" or not (np.all(rest == 0) or np.all(rest == -1)):
            shown = ", ".join(repr(c) for c in np.unique(y).tolist())
            raise ValueError(
                f"y_true takes value in {{{shown}}} and pos_label is not specified: either make "
                "y_true take value in {0, 1} or {-1, 1} or pass pos_label explicitly."
            )
        return is_pos
    is_pos = np.asarray(y == pos_label)
    if is_pos.shape != y.shape:  # incomparable types: numpy answers with one scalar
        is_pos = np.zeros(y.shape, bool)
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
