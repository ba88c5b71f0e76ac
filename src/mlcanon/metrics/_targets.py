"""What kind of target a label array is, and the checks every classification metric shares.

A target is one of

- ``'binary'``: at most two distinct labels, 1-D (or a single column);
- ``'multiclass'``: more than two distinct labels, 1-D;
- ``'multilabel-indicator'``: a 2-D 0/1 matrix with more than one column, one column per label
  (dense, a list of rows, or a scipy.sparse matrix);
- ``'continuous'``: floats that are not all whole numbers (scores, not classes);
- ``'multiclass-multioutput'``, ``'continuous-multioutput'``: 2-D arrays of several columns
  that are not 0/1 indicators; ``'unknown'``: anything else (3-D, empty 2-D, objects).

These are scikit-learn's names (``sklearn.utils.multiclass.type_of_target``); the error messages
keep the phrases its users match ("Input y_true contains NaN", "Found input variables with
inconsistent numbers of samples", "Classification metrics can't handle a mix of ...").
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
import scipy.sparse as sp

from mlcanon._validation import pandas_nullable_as_float

__all__ = [
    "Targets",
    "as_label_kind",
    "as_target",
    "check_class_targets",
    "check_weights",
    "target_type",
]

CLASS_KINDS = ("binary", "multiclass", "multilabel-indicator")


def _non_finite(values: np.ndarray, name: str) -> None:
    """Refuse NaN and infinity in a float array, naming the input."""
    if values.dtype.kind != "f" or np.isfinite(values).all():
        return
    if np.isnan(values).any():
        raise ValueError(f"Input {name} contains NaN.")
    raise ValueError(
        f"Input {name} contains infinity or a value too large for dtype({values.dtype.name!r})."
    )


def _object_labels(arr: np.ndarray, name: str) -> np.ndarray:
    """An object array of strings as a str array; mixed strings and numbers are refused.

    Numbers (or anything else) in an object array stay an object array, which
    :func:`target_type` calls ``'unknown'``, as scikit-learn's ``type_of_target`` does: the
    classification metrics refuse it ("unknown is not supported"), as scikit-learn's do and
    as the classifiers here refuse such a ``y``.
    """
    flat = arr.ravel()
    if flat.size and isinstance(flat[0], Sequence | np.ndarray) and not isinstance(flat[0], str):
        raise ValueError(
            f"{name} is a sequence of sequences, the legacy multilabel format; pass a 0/1 "
            "label-indicator matrix of shape (n_samples, n_labels) instead"
        )
    is_str = np.fromiter((isinstance(v, str) for v in flat), bool, flat.size)
    if is_str.all():
        return arr.astype(str)
    if is_str.any():
        raise ValueError(
            f"Mix of label input types (string and number): {name} holds both strings and numbers"
        )
    return arr


def as_target(y: Any, name: str) -> np.ndarray:
    """``y`` as an ndarray: sparse indicators made dense, object strings as a str array.

    Raises
    ------
    ValueError
        For a string or a non-sequence, a ragged nesting (the legacy multilabel format) or
        complex values.
    TypeError
        For labels given as bytes.
    """
    if sp.issparse(y):
        return np.asarray(y.toarray())
    pandas = sys.modules.get("pandas")
    if pandas is not None and isinstance(y, pandas.DataFrame):
        # nullable (Int64, boolean, Float64) columns are an object array of numbers to NumPy;
        # as float, as scikit-learn's check_array reads them (pandas.NA as NaN, then refused)
        y = pandas_nullable_as_float(y)
    if isinstance(y, str) or not (isinstance(y, Sequence) or hasattr(y, "__array__")):
        raise ValueError(f"{name} must be array-like (array or non-string sequence), got {y!r}")
    try:
        arr = np.asarray(y)
    except ValueError:  # ragged nesting: [[1], [2, 3]]
        arr = np.asarray(y, dtype=object)
    if arr.dtype.kind == "c":
        raise ValueError(f"Complex data not supported: {name} has dtype {arr.dtype}")
    if arr.dtype.kind == "S":
        raise TypeError(
            f"Support for labels represented as bytes is not supported: {name} holds bytes; "
            "convert the labels to str or int"
        )
    if arr.dtype == object:
        arr = _object_labels(arr, name)
    return arr


def target_type(y: np.ndarray, name: str) -> str:
    """The kind of target of an array returned by :func:`as_target` (see the module doc)."""
    if y.ndim not in (1, 2) or y.dtype == object:
        return "unknown"
    if y.size == 0:
        return "binary" if y.ndim == 1 else "unknown"
    wide = y.ndim == 2 and y.shape[1] > 1
    if wide and y.dtype.kind in "biuf" and np.isin(y, (0, 1)).all():
        return "multilabel-indicator"
    suffix = "-multioutput" if wide else ""
    if y.dtype.kind == "f" and not (np.isfinite(y).all() and np.all(y == np.round(y))):
        _non_finite(y, name)
        return "continuous" + suffix
    if wide:
        return "multiclass" + suffix
    return "multiclass" if _more_than_two(y.reshape(-1)) else "binary"


def _more_than_two(y: np.ndarray) -> bool:
    """Whether ``y`` holds more than two distinct values, in linear passes (no sort)."""
    rest = y[y != y[0]]
    return bool(rest.size) and bool(np.any(rest != rest[0]))


def n_samples(y: Any) -> int:
    return int(np.shape(y)[0]) if np.ndim(y) else 1


def check_lengths(*arrays: Any) -> int:
    """The common number of samples (rows); None entries are skipped."""
    lengths = [n_samples(a) for a in arrays if a is not None]
    if len(set(lengths)) > 1:
        raise ValueError(
            f"Found input variables with inconsistent numbers of samples: {lengths}; "
            "y_true, y_pred/y_score and sample_weight must have one entry per sample"
        )
    return lengths[0]


def check_weights(sample_weight: Any, n: int, *, column: bool = False) -> np.ndarray | None:
    """``sample_weight`` as 1-D float64 of length ``n`` (a scalar is broadcast), or None.

    ``column=True`` also takes a column vector of shape (n, 1), as scikit-learn's
    threshold-curve metrics (roc_curve, roc_auc_score, precision_recall_curve,
    average_precision_score, det_curve) do through ``column_or_1d``.

    The weights must be finite and non-negative, and not all zero: a weighted mean over no
    weight is undefined. The wording is scikit-learn's ("Sample weights must contain at least
    one non-zero number"), which raises it for the classification and curve metrics; for the
    others its division by the total weight fails (``ZeroDivisionError``, or NaN from
    ``label_ranking_average_precision_score``), where every metric here raises this error.
    """
    if sample_weight is None:
        return None
    w = np.asarray(sample_weight)
    if w.dtype == object:
        w = w.astype(np.float64)
    if w.dtype.kind == "c":
        raise ValueError(f"Complex data not supported: sample_weight has dtype {w.dtype}")
    if w.dtype.kind not in "biuf":
        raise TypeError(f"sample_weight must hold numbers, got dtype={w.dtype}")
    if w.ndim == 0:
        w = np.full(n, w.item())
    if column and w.ndim == 2 and w.shape[1] == 1:
        w = w.ravel()
    if w.ndim != 1:
        raise ValueError(f"Sample weights must be 1D array or scalar, got shape {w.shape}")
    if w.shape[0] != n:
        raise ValueError(f"sample_weight has {w.shape[0]} entries, expected n_samples={n}")
    w = w.astype(np.float64)
    _non_finite(w, "sample_weight")
    if (w < 0).any():
        raise ValueError(f"sample_weight must be non-negative, got min {w.min()!r}")
    if n and not w.any():  # (empty input is refused by each metric in its own words)
        raise ValueError(
            "Sample weights must contain at least one non-zero number: sample_weight is 0 for "
            f"all {n} samples"
        )
    return w


def check_label_kinds(**arrays: np.ndarray) -> None:
    """Refuse a mix of string and numeric labels (they cannot be compared or sorted); an
    empty array (``labels=[]``, float64 to NumPy) holds neither."""
    kinds = {k: "string" if a.dtype.kind in "US" else "number" for k, a in arrays.items() if a.size}
    if len(set(kinds.values())) > 1:
        desc = ", ".join(f"{k} holds {v}s" for k, v in kinds.items())
        raise ValueError(f"Mix of label input types (string and number): {desc}")


def as_label_kind(y: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``y`` and the requested ``labels`` (or ``pos_label``) comparable with one another.

    Labels of the other kind (numbers asked of string labels, or the reverse) are not refused:
    both are read as strings, as NumPy promotes them and scikit-learn compares them, so a
    label ``1`` absent from ``['a', 'b']`` simply counts nothing (and ``1`` matches ``'1'``).
    Labels of one kind are returned unchanged.
    """
    if not (y.size and labels.size) or (y.dtype.kind in "US") == (labels.dtype.kind in "US"):
        return y, labels
    return y.astype(str), labels.astype(str)


class Targets(NamedTuple):
    """Validated classification targets (see :func:`check_class_targets`)."""

    kind: str  # 'binary', 'multiclass' or 'multilabel-indicator'
    labels: np.ndarray  # sorted labels seen; column indices for a multilabel indicator
    y_true: np.ndarray  # 1-D labels, or the (n_samples, n_labels) 0/1 matrix
    y_pred: np.ndarray
    sample_weight: np.ndarray | None


def check_class_targets(y_true: Any, y_pred: Any, sample_weight: Any = None) -> Targets:
    """Check that ``y_true`` and ``y_pred`` are targets of one classification task.

    Column vectors are flattened; binary and multiclass mix into multiclass; anything else
    mixed (labels against scores, labels against an indicator matrix) is refused, and so are
    continuous and multioutput targets, empty input, and strings mixed with numbers.
    """
    yt, yp = as_target(y_true, "y_true"), as_target(y_pred, "y_pred")
    n = check_lengths(yt, yp, sample_weight)
    kinds = (target_type(yt, "y_true"), target_type(yp, "y_pred"))
    if n < 1:
        raise ValueError(
            "Found empty input array (e.g., `y_true` or `y_pred`) while a minimum of 1 sample "
            "is required."
        )
    w = check_weights(sample_weight, n)
    mixed_labels = set(kinds) == {"binary", "multiclass"}
    kind = "multiclass" if mixed_labels else kinds[0]
    if kinds[0] != kinds[1] and not mixed_labels:
        raise ValueError(
            f"Classification metrics can't handle a mix of {kinds[0]} and {kinds[1]} targets "
            "(y_true and y_pred must both be class labels, or both label-indicator matrices)"
        )
    if kind not in CLASS_KINDS:
        hint = ""
        if object in (yt.dtype, yp.dtype):
            hint = " (numbers in an object array are not class labels: pass y.astype(int))"
        raise ValueError(
            f"{kind} is not supported: classification metrics take binary, multiclass or "
            f"multilabel-indicator targets{hint}"
        )
    if kind == "multilabel-indicator":
        if yt.shape[1] != yp.shape[1]:
            raise ValueError(
                f"Multi-label binary indicator input with different numbers of labels: y_true "
                f"has {yt.shape[1]} columns, y_pred {yp.shape[1]}"
            )
        return Targets(kind, np.arange(yt.shape[1]), yt.astype(bool), yp.astype(bool), w)
    yt, yp = yt.reshape(-1), yp.reshape(-1)
    check_label_kinds(y_true=yt, y_pred=yp)
    labels = np.union1d(yt, yp)
    if labels.size > 2:
        kind = "multiclass"
    return Targets(kind, labels, yt, yp, w)
