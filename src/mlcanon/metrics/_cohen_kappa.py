"""Cohen's kappa: agreement between two labellings beyond the agreement expected by chance."""

from __future__ import annotations

import numbers
import warnings
from typing import Any

import numpy as np

from mlcanon._validation import check_option

from ._checks import UndefinedMetricWarning
from ._confusion_matrix import confusion_matrix

__all__ = ["cohen_kappa_score"]


def _undefined(why: str, replace_undefined_by: float) -> float:
    warnings.warn(
        f"{why} `cohen_kappa_score` is undefined and set to the value defined by the "
        f"`replace_undefined_by` param, which is set to {replace_undefined_by}.",
        UndefinedMetricWarning,
        stacklevel=3,
    )
    return replace_undefined_by


def cohen_kappa_score(
    y1: Any,
    y2: Any,
    *,
    labels: Any = None,
    weights: str | None = None,
    sample_weight: Any = None,
    replace_undefined_by: float = np.nan,
) -> float:
    r"""Cohen's kappa between two annotators' labels (symmetric in ``y1`` and ``y2``).

    Parameters
    ----------
    y1, y2 : array-like of shape (n_samples,)
        The class each annotator gave each sample.
    labels : array-like of shape (n_classes,), default=None
        Classes to count (in this order for the weighted forms); default all classes seen.
        At least one must occur in ``y1``.
    weights : {None, 'linear', 'quadratic'}, default=None
        Cost of a disagreement between classes :math:`i` and :math:`j` (positions in
        ``labels``): 1 for any (None), :math:`|i - j|` or :math:`(i - j)^2` (ordinal classes).
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative weights.
    replace_undefined_by : float, default=np.nan
        Value returned (with an :class:`UndefinedMetricWarning`) when kappa is 0/0: no
        counted sample, or chance disagreement of 0 (one class only).

    Returns
    -------
    float
        1 for perfect agreement, 0 for chance-level, negative below chance.

    Notes
    -----
    With the confusion matrix :math:`O` of the two labellings, the table
    :math:`E = \mathbf{r}\mathbf{c}^\top / n` that independent annotators with the same
    marginals (row sums :math:`\mathbf{r}`, column sums :math:`\mathbf{c}`, total :math:`n`)
    would produce, and disagreement weights :math:`w_{ij}` (0 on the diagonal),

    .. math:: \kappa = 1 - \frac{\sum_{ij} w_{ij} O_{ij}}{\sum_{ij} w_{ij} E_{ij}}.

    Unweighted, this is :math:`(p_o - p_e) / (1 - p_e)` with observed agreement :math:`p_o`
    and chance agreement :math:`p_e`.

    References
    ----------
    .. [1] J. Cohen, "A coefficient of agreement for nominal scales", Educational and
       Psychological Measurement 20(1), 37-46, 1960.
    .. [2] J. Cohen, "Weighted kappa", Psychological Bulletin 70(4), 213-220, 1968.
    """
    weights = check_option(weights, "weights", (None, "linear", "quadratic"))
    r = replace_undefined_by
    if isinstance(r, bool) or not isinstance(r, numbers.Real) or not (np.isnan(r) or -1 <= r <= 1):
        raise ValueError(
            "The 'replace_undefined_by' parameter of cohen_kappa_score must be a float in the "
            f"range [-1.0, 1.0] or numpy.nan. Got {r!r} instead."
        )
    try:
        observed = confusion_matrix(y1, y2, labels=labels, sample_weight=sample_weight)
    except ValueError as e:  # labels as confusion_matrix matches them (1 is '1' to strings)
        if "At least one label specified must be in y_true" not in str(e):
            raise
        raise ValueError(
            "At least one label in `labels` must be present in `y1` (even though "
            "`cohen_kappa_score` is otherwise agnostic to the order of `y1` and `y2`)."
        ) from e
    observed = observed.astype(np.float64)
    rows, cols = observed.sum(axis=1), observed.sum(axis=0)
    if cols.sum() == 0:
        why = "`y2` contains no labels that are present in both `y1` and `labels`."
        return _undefined(why, replace_undefined_by)
    expected = np.outer(rows, cols) / cols.sum()
    k = np.arange(observed.shape[0])
    gap = np.abs(k[:, None] - k[None, :]).astype(np.float64)
    cost = {None: (gap > 0).astype(np.float64), "linear": gap, "quadratic": gap**2}[weights]
    chance = (cost * expected).sum()
    if chance == 0:
        why = "`y1`, `y2` and `labels` have only one label in common."
        return _undefined(why, replace_undefined_by)
    return float(1 - (cost * observed).sum() / chance)
