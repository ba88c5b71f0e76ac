"""The Matthews correlation coefficient, for two or more classes."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._confusion_matrix import confusion_matrix

__all__ = ["matthews_corrcoef"]


def matthews_corrcoef(y_true: Any, y_pred: Any, *, sample_weight: Any = None) -> float:
    r"""Matthews correlation coefficient: the correlation between true and predicted classes.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        Class labels (binary or multiclass).
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative weights.

    Returns
    -------
    float
        In [-1, 1]: 1 for a perfect prediction, 0 for one no better than chance; 0 when
        either side holds a single class (the correlation is 0/0).

    Notes
    -----
    From the confusion matrix :math:`C` with row sums :math:`t_k` (true), column sums
    :math:`p_k` (predicted), trace :math:`c` and total :math:`s` (Gorodkin's :math:`R_K`),

    .. math:: \mathrm{MCC} = \frac{c\, s - \sum_k p_k t_k}
              {\sqrt{(s^2 - \sum_k p_k^2)(s^2 - \sum_k t_k^2)}}.

    For two classes it is :math:`\frac{TP\,TN - FP\,FN}{\sqrt{(TP+FP)(TP+FN)(TN+FP)(TN+FN)}}`,
    Pearson's correlation of the 0/1 indicators.

    References
    ----------
    .. [1] B. W. Matthews, "Comparison of the predicted and observed secondary structure of T4
       phage lysozyme", Biochimica et Biophysica Acta 405(2), 442-451, 1975.
    .. [2] J. Gorodkin, "Comparing two K-category assignments by a K-category correlation
       coefficient", Computational Biology and Chemistry 28(5-6), 367-374, 2004.
    """
    C = confusion_matrix(y_true, y_pred, sample_weight=sample_weight).astype(np.float64)
    t, p = C.sum(axis=1), C.sum(axis=0)
    s, c = p.sum(), np.trace(C)
    cov_tp = c * s - t @ p
    var_pp, var_tt = s * s - p @ p, s * s - t @ t
    if var_pp * var_tt == 0:
        return 0.0
    return float(cov_tp / np.sqrt(var_pp * var_tt))
