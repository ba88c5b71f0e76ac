r"""Averaging a binary ranking metric over the labels (columns) of a multilabel indicator.

A multiclass or multilabel target is scored one label at a time: column :math:`k` of the 0/1
indicator :math:`Y` against column :math:`k` of the scores :math:`S`. The per-label values are
then combined:

- ``None``: one value per label;
- ``'macro'``: their plain mean; ``'weighted'``: the mean weighted by the (weighted) support
  :math:`\sum_i w_i Y_{ik}` (0 when no label has a positive);
- ``'micro'``: one binary problem over every (sample, label) pair, :math:`Y` and :math:`S`
  flattened;
- ``'samples'``: the metric of each sample's row (its labels ranked by its scores), averaged
  over samples with the sample weights.

A label (or sample) of zero weight in the average enters as 0, so a value undefined there
(a ROC AUC without positives) does not spoil the mean.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from mlcanon._validation import check_option

from ._checks import UndefinedMetricWarning

__all__ = ["AVERAGES", "average_binary_score"]

AVERAGES = ("micro", "macro", "weighted", "samples", None)
BinaryMetric = Callable[[np.ndarray, np.ndarray, np.ndarray | None], float]


def average_binary_score(
    binary: BinaryMetric,
    Y: np.ndarray,
    S: np.ndarray,
    average: Any,
    w: np.ndarray | None,
    labels: np.ndarray | None = None,
) -> Any:
    """Average of ``binary(y_column, score_column, w)`` over the columns of 0/1 ``Y``.

    ``labels`` names the columns in an error (default: their indices). With
    ``average='weighted'`` a label of zero support weighs 0, so its value may be undefined: a
    metric that needs positives (ROC AUC) does not raise for it, as scikit-learn's NaN there
    does not spread either. (It is still computed, for the warnings it draws.)
    """
    average = check_option(average, "average", AVERAGES)
    if average == "micro":
        ww = None if w is None else np.repeat(w, Y.shape[1])
        return binary(Y.ravel(), S.ravel(), ww)
    if average == "samples":
        weightless = np.zeros(Y.shape[0], bool) if w is None else w == 0
        per_row = [
            _scored(f"row {i} of y_true", binary, Y[i], S[i], None, weightless[i])
            for i in range(Y.shape[0])
        ]
        keep = ~weightless
        return float(np.average(np.asarray(per_row)[keep], weights=None if w is None else w[keep]))
    support = Y.sum(axis=0) if w is None else w @ Y
    if average == "weighted" and support.sum() == 0:
        return 0.0
    names = range(Y.shape[1]) if labels is None else labels.tolist()
    weightless = support == 0 if average == "weighted" else np.zeros(Y.shape[1], bool)
    scores = np.zeros(Y.shape[1])
    for k in range(Y.shape[1]):
        where = f"label {names[k]!r} (column {k} of y_score)"
        scores[k] = _scored(where, binary, Y[:, k], S[:, k], w, may_be_undefined=weightless[k])
    if average is None:
        return scores
    if average == "macro":
        return float(scores.mean())
    scores[weightless] = 0.0
    return float(np.average(scores, weights=support))


def _scored(
    where: str,
    binary: BinaryMetric,
    y: np.ndarray,
    s: np.ndarray,
    w: np.ndarray | None,
    may_be_undefined: bool = False,
) -> float:
    """``binary(y, s, w)``; an error names ``where`` (the label or sample) it comes from, unless
    the value may be undefined (its weight in the average is 0): then it is 0, with the
    ``UndefinedMetricWarning`` scikit-learn gives for its NaN there."""
    try:
        return binary(y, s, w)
    except ValueError as err:
        if may_be_undefined:
            warnings.warn(
                f"{where}: {err}; it weighs 0 in the average, which leaves it out",
                UndefinedMetricWarning,
                stacklevel=4,
            )
            return 0.0
        raise ValueError(f"{where}: {err}") from err
