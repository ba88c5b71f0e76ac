r"""ROC AUC beyond one binary problem: one-vs-rest, one-vs-one (Hand & Till) and multilabel.

Each is an average of binary AUCs (:func:`mlcanon.metrics.roc_auc_score` on one column; the
label-wise averages are those of :mod:`._average`):

- one-vs-rest and multilabel: class :math:`k` against the others, scored by column :math:`k`;
  ``'macro'`` is the plain mean, ``'weighted'`` weights by the (weighted) support,
  ``'micro'`` pools every (sample, class) pair into one binary problem, ``'samples'`` ranks the
  classes of each sample and averages over samples, ``None`` returns one AUC per class;
- one-vs-one: for each pair of classes :math:`(a, b)`, restricted to the samples of :math:`a`
  and :math:`b`, :math:`\hat A(a, b) = \tfrac12 [A(a \mid b) + A(b \mid a)]` where
  :math:`A(a \mid b)` ranks by the score of :math:`a`; the mean over pairs (``'macro'``) or
  weighted by the share of samples in the pair (``'weighted'``).

References
----------
.. [1] D. J. Hand and R. J. Till, "A simple generalisation of the area under the ROC curve for
   multiple class classification problems", Machine Learning 45(2), 171-186, 2001.
.. [2] F. Provost and P. Domingos, "Well-trained PETs: improving probability estimation trees",
   CeDER working paper IS-00-04, NYU, 2000 (prevalence-weighted one-vs-rest AUC).
"""

from __future__ import annotations

from itertools import combinations
from typing import Any

import numpy as np

from ._average import BinaryMetric, average_binary_score
from ._checks import check_score_matrix, classes_of_columns
from ._targets import check_lengths, check_weights

__all__ = ["multiclass_roc_auc"]


_COUNT_MESSAGES = (
    "Number of classes in y_true not equal to the number of columns in 'y_score' "
    "({n} != {n_columns}); pass the classes of the columns as labels",
    "Number of given labels, {n}, not equal to the number of columns in 'y_score', {n_columns}",
)


def multiclass_roc_auc(
    binary: BinaryMetric,
    y: np.ndarray,
    y_score: Any,
    *,
    labels: Any,
    multi_class: str,
    average: Any,
    sample_weight: Any,
) -> Any:
    """One-vs-rest or one-vs-one AUC of class labels ``y`` and probability columns."""
    S = check_score_matrix(y_score)
    if not np.allclose(S.sum(axis=1), 1.0):
        raise ValueError(
            "Target scores need to be probabilities for multiclass roc_auc, i.e. they should "
            "sum up to 1.0 over classes"
        )
    options = ("macro", "weighted", None)
    if multi_class == "ovr":
        options = ("micro", *options)
    if average not in options:
        raise ValueError(f"average must be one of {options} for multiclass problems")
    if multi_class not in ("ovr", "ovo"):
        raise ValueError(f"multi_class must be in ('ovo', 'ovr'), got {multi_class!r}")
    if average is None and multi_class == "ovo":
        raise NotImplementedError(
            "average=None is not implemented for multi_class='ovo'. Use average='macro' or "
            "'weighted'"
        )
    if multi_class == "ovo" and sample_weight is not None:  # after the above, as scikit-learn
        raise ValueError(
            "sample_weight is not supported for multiclass one-vs-one ROC AUC, "
            "'sample_weight' must be None in this case"
        )
    w = check_weights(sample_weight, check_lengths(y, S, sample_weight), column=True)
    classes = classes_of_columns(y, labels, S.shape[1], _COUNT_MESSAGES)
    if multi_class == "ovr":
        Y = (y[:, None] == classes).astype(int)
        return average_binary_score(binary, Y, S, average, w, labels=classes)
    present = np.unique(y)
    index = {c: k for k, c in enumerate(classes.tolist())}
    pair_auc, prevalence = [], []
    for a, b in combinations(present.tolist(), 2):
        in_pair = (y == a) | (y == b)
        is_a = y[in_pair] == a
        a_vs_b = binary(is_a, S[in_pair, index[a]], None)
        b_vs_a = binary(~is_a, S[in_pair, index[b]], None)
        pair_auc.append((a_vs_b + b_vs_a) / 2)
        prevalence.append(in_pair.mean())
    return float(np.average(pair_auc, weights=prevalence if average == "weighted" else None))
