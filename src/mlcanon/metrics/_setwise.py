"""Set-wise classification metrics: which labels to score, per-label counts, safe ratios.

Precision, recall, F-score and the Jaccard index are ratios of three counts per label: true
positives, predicted positives and actual positives (for a multilabel target with
``average='samples'``, per sample instead). This module chooses the labels (``average``,
``labels``, ``pos_label``), counts, divides with ``zero_division`` and averages.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ._checks import UndefinedMetricWarning, check_pos_label, contains
from ._targets import Targets, as_label_kind, as_target, check_class_targets

__all__ = ["AVERAGES", "divide", "label_sums", "nan_average", "set_wise_counts", "set_wise_labels"]

AVERAGES = ("binary", "micro", "macro", "weighted", "samples", None)


def _binary_label(t: Targets, pos_label: Any) -> np.ndarray:
    """``[pos_label]``, checked against a binary target, for ``average='binary'``."""
    if t.kind != "binary":
        options = [None, "micro", "macro", "weighted", "samples"]
        if t.kind == "multiclass":
            options.remove("samples")
        raise ValueError(
            f"Target is {t.kind} but average='binary'. Please choose another average "
            f"setting, one of {options}."
        )
    if t.labels.size == 2 and not contains(t.labels, pos_label):
        raise ValueError(
            f"pos_label={pos_label!r} is not a valid label. It should be one of {t.labels}"
        )
    return np.asarray([pos_label])


def _chosen_labels(labels: Any, t: Targets) -> np.ndarray:
    """``labels`` as given: class labels, or column indices of an indicator matrix."""
    labels = as_target(labels, "labels").reshape(-1)
    if t.kind != "multilabel-indicator":
        return labels
    n = t.y_true.shape[1]
    if labels.dtype.kind not in "iu":
        raise ValueError(
            f"labels must be column indices of the multilabel indicator, got {labels.tolist()}"
        )
    if labels.size and labels.max() >= n:
        raise ValueError(
            f"All labels must be in [0, n labels) for multilabel targets. Got {labels.max()} "
            f"> {n - 1}"
        )
    if labels.size and labels.min() < 0:
        raise ValueError(
            f"All labels must be in [0, n labels) for multilabel targets. Got {labels.min()} < 0"
        )
    return labels


def set_wise_labels(t: Targets, average: str | None, labels: Any, pos_label: Any) -> np.ndarray:
    """The classes to score: ``[pos_label]`` for a binary average, else ``labels`` or all."""
    pos_label = check_pos_label(pos_label)
    if average == "binary":
        return _binary_label(t, pos_label)
    if pos_label not in (None, 1):
        warnings.warn(
            f"Note that pos_label (set to {pos_label!r}) is ignored when average != 'binary' "
            f"(got {average!r}). You may use labels=[pos_label] to specify a single positive "
            "class.",
            UserWarning,
            stacklevel=5,
        )
    return t.labels if labels is None else _chosen_labels(labels, t)


def _class_sums(
    yt: np.ndarray, yp: np.ndarray, w: np.ndarray | None, labels: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """True positives, predicted positives and true positives + false negatives per label.

    A label of the other kind than ``yt`` (``pos_label=1`` for string classes) is compared as
    a string (:func:`as_label_kind`): absent, it counts nothing, as in scikit-learn.
    """
    yt, labels = as_label_kind(yt, labels)
    yp, _ = as_label_kind(yp, labels)
    classes = np.union1d(np.union1d(yt, yp), labels)
    ti, pi = np.searchsorted(classes, yt), np.searchsorted(classes, yp)
    hit = ti == pi
    m = classes.size
    tp = np.bincount(ti[hit], weights=None if w is None else w[hit], minlength=m)
    pred = np.bincount(pi, weights=w, minlength=m)
    true = np.bincount(ti, weights=w, minlength=m)
    sel = np.searchsorted(classes, labels)
    return tp[sel], pred[sel], true[sel]


def _indicator_sums(
    t: Targets, labels: np.ndarray, samplewise: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The same sums from 0/1 indicator columns: per column, or per sample (row).

    A sample's own sums are scaled by its weight, as scikit-learn does: a ratio of them is
    unchanged, but a sample of weight 0 has nothing to divide (``zero_division``), so with
    ``zero_division=np.nan`` it drops out of the average rather than entering at weight 0.
    """
    yt, yp = t.y_true[:, labels], t.y_pred[:, labels]
    w = t.sample_weight
    if samplewise:
        tp, pred, true = (yt & yp).sum(axis=1), yp.sum(axis=1), yt.sum(axis=1)
        return (tp, pred, true) if w is None else (tp * w, pred * w, true * w)
    w = np.ones(yt.shape[0], np.int64) if w is None else w
    return w @ (yt & yp), w @ yp, w @ yt


def divide(
    num: np.ndarray,
    den: np.ndarray,
    zero_division: float | str,
    what: tuple[str, str, str | None],
    warn_for: Any,
) -> np.ndarray:
    """``num / den`` with 0/0 replaced by ``zero_division`` (0 and a warning for 'warn').

    ``what`` is (metric, the missing kind, average) and words the warning.
    """
    empty = den == 0
    out = np.divide(num, den, out=np.zeros(num.shape), where=~empty, dtype=np.float64)
    if not empty.any():
        return out
    out[empty] = 0.0 if zero_division == "warn" else zero_division
    metric, missing, average = what
    if zero_division == "warn" and metric.lower() in warn_for:
        rows, cols = ("labels", "samples") if average == "samples" else ("samples", "labels")
        where = "due to" if empty.size == 1 else f"in {cols} with"
        warnings.warn(
            f"{metric} is ill-defined and being set to 0.0 {where} no {missing} {rows}. "
            "Use `zero_division` parameter to control this behavior.",
            UndefinedMetricWarning,
            stacklevel=4,
        )
    return out


def nan_average(values: np.ndarray, weights: np.ndarray | None) -> float:
    """Mean that skips NaN (zero_division=np.nan); unweighted if the weights left sum to 0.

    The fallback is scikit-learn's; it serves ``average='weighted'`` (values defined only for
    labels of zero support). For ``'samples'`` it cannot happen: a sample of weight 0 has no
    counts, so with ``zero_division=np.nan`` its value is NaN too."""
    ok = ~np.isnan(values)
    if not ok.any():
        return float("nan")
    values = values[ok]
    if weights is None or not np.any(weights[ok]):
        return float(values.mean())
    weights = weights[ok]
    return float((values * weights).sum() / weights.sum())


def label_sums(
    t: Targets, labels: np.ndarray, samplewise: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """True positives, predicted positives and actual positives of each label (or sample)."""
    if t.kind == "multilabel-indicator":
        return _indicator_sums(t, labels, samplewise)
    if samplewise:
        raise ValueError(
            "Samplewise metrics are not available outside of multilabel classification. The "
            f"target is {t.kind}: average='samples' (samplewise=True) needs a 0/1 label-indicator "
            "matrix"
        )
    return _class_sums(t.y_true, t.y_pred, t.sample_weight, labels)


def set_wise_counts(
    y_true: Any, y_pred: Any, sample_weight: Any, average: str | None, labels: Any, pos_label: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """``tp, pred, true`` of the labels (or samples) that ``average`` scores, and their weights.

    The weights are the support for ``'weighted'``, the sample weights for ``'samples'``, else None.
    """
    t = check_class_targets(y_true, y_pred, sample_weight)
    chosen = set_wise_labels(t, average, labels, pos_label)
    tp, pred, true = label_sums(t, chosen, samplewise=average == "samples")
    weights = {"weighted": true, "samples": t.sample_weight}.get(average)
    return tp, pred, true, weights
