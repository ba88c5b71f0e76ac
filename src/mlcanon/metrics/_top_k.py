"""Top-k accuracy: a sample counts as right when its class is among its k highest scores."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from mlcanon._validation import check_array, check_integer

from ._accuracy import _total
from ._checks import (
    UndefinedMetricWarning,
    check_bool,
    check_score_matrix,
    classes_of_columns,
)
from ._targets import as_target, check_lengths, check_weights, target_type

__all__ = ["top_k_accuracy_score"]


_COUNT_MESSAGES = (
    "Number of classes in 'y_true' ({n}) not equal to the number of classes in 'y_score' "
    "({n_columns}). You can provide a list of all known classes by assigning it to the "
    "`labels` parameter.",
    "Number of given labels ({n}) not equal to the number of classes in 'y_score' ({n_columns}).",
)


def top_k_accuracy_score(
    y_true: Any,
    y_score: Any,
    *,
    k: int = 2,
    normalize: bool = True,
    sample_weight: Any = None,
    labels: Any = None,
) -> float:
    r"""Top-k accuracy: the (weighted) share of samples whose class is among their k best scores.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Class labels.
    y_score : array-like of shape (n_samples, n_classes) or (n_samples,)
        Scores, one column per class in sorted class order; for two classes, a 1-D score of
        the greater class.
    k : int, default=2
        How many of the highest-scored classes count as a hit.
    normalize : bool, default=True
        Return the share; otherwise the (weighted) number of hits.
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative weights.
    labels : array-like of shape (n_classes,), default=None
        All classes, sorted, when ``y_true`` does not show them all.

    Returns
    -------
    float

    Notes
    -----
    .. math:: \mathrm{acc}_k = \frac{1}{\sum_i w_i}\sum_i w_i\,
              [\, y_i \in \operatorname{top}_k(s_i) \,].

    Among tied scores the class of higher index ranks first. With a 1-D binary score and
    ``k = 1`` the prediction is ``score > 0.5`` for scores in [0, 1] and ``score > 0``
    otherwise; ``k >= n_classes`` always scores 1 (with a warning).

    References
    ----------
    .. [1] O. Russakovsky et al., "ImageNet Large Scale Visual Recognition Challenge",
       International Journal of Computer Vision 115, 211-252, 2015, Section 4.1 (top-5 error).
    """
    k = check_integer(k, "k", low=1)
    normalize = check_bool(normalize, "normalize")
    y = as_target(y_true, "y_true")
    kind = target_type(y, "y_true")
    if kind == "binary" and labels is not None and len(labels) > 2:
        kind = "multiclass"
    if kind not in ("binary", "multiclass"):
        raise ValueError(f"y type must be 'binary' or 'multiclass', got '{kind}' instead.")
    y = y.reshape(-1)
    score = check_array(y_score, "y_score", ndim=(1, 2))
    if kind == "multiclass":
        score = check_score_matrix(score)
    elif score.ndim == 2:
        if score.shape[1] != 1:
            raise ValueError(
                f"`y_true` is binary while y_score is 2d with {score.shape[1]} classes. If "
                "`y_true` does not contain all the labels, `labels` must be provided."
            )
        score = score.ravel()
    w = check_weights(sample_weight, check_lengths(y, score, sample_weight))
    n_columns = score.shape[1] if score.ndim == 2 else 2
    classes = classes_of_columns(y, labels, n_columns, _COUNT_MESSAGES)
    if k >= classes.size:
        warnings.warn(
            f"'k' ({k}) greater than or equal to 'n_classes' ({classes.size}) will result in a "
            "perfect score and is therefore meaningless.",
            UndefinedMetricWarning,
            stacklevel=2,
        )
    index = np.searchsorted(classes, y)
    if score.ndim == 1:
        if k == 1:
            cut = 0.5 if score.min() >= 0 and score.max() <= 1 else 0.0
            hits = (score > cut).astype(np.int64) == index
        else:
            hits = np.ones(y.shape, bool)
    else:
        # stable ascending sort, read backwards: among ties the higher class index comes first
        ranked = np.argsort(score, axis=1, kind="stable")[:, ::-1][:, :k]
        hits = (ranked == index[:, None]).any(axis=1)
    return _total(hits, w, normalize)
