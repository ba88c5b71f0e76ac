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

A label (or sample) of zero weight in the average enters as 0, so an undefined value there
does not spoil the mean.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from mlcanon._validation import check_option

__all__ = ["AVERAGES", "average_binary_score"]

AVERAGES = ("micro", "macro", "weighted", "samples", None)
BinaryMetric = Callable[[np.ndarray, np.ndarray, np.ndarray | None], float]


def average_binary_score(
    binary: BinaryMetric, Y: np.ndarray, S: np.ndarray, average: Any, w: np.ndarray | None
) -> Any:
    """Average of ``binary(y_column, score_column, w)`` over the columns of 0/1 ``Y``."""
    average = check_option(average, "average", AVERAGES)
    if average == "micro":
        ww = None if w is None else np.repeat(w, Y.shape[1])
        return binary(Y.ravel(), S.ravel(), ww)
    if average == "samples":
        keep = np.ones(Y.shape[0], bool) if w is None else w != 0
        per_row = [binary(Y[i], S[i], None) for i in np.flatnonzero(keep)]
        return float(np.average(per_row, weights=None if w is None else w[keep]))
    scores = np.array([binary(Y[:, k], S[:, k], w) for k in range(Y.shape[1])])
    if average is None:
        return scores
    if average == "weighted":
        support = Y.sum(axis=0) if w is None else w @ Y
        if support.sum() == 0:
            return 0.0
        scores[support == 0] = 0.0
        return float(np.average(scores, weights=support))
    return float(scores.mean())
