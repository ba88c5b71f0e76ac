"""Impurity criteria of CART as numba functions over sufficient statistics.

A node is summarised by its weighted sample count ``w`` and a statistics vector ``s``:

- classification: ``s[k]`` = weighted count of class ``k``;
- regression: ``s = (sum_i w_i y_i, sum_i w_i y_i^2)``.

.. math::

    \\text{gini} = 1 - \\sum_k p_k^2, \\qquad
    \\text{entropy} = -\\sum_k p_k \\log_2 p_k, \\qquad
    \\text{squared error} = \\frac{1}{w}\\sum_i w_i y_i^2 - \\bar y^2

with :math:`p_k = s_k / w`. Splits are ranked by a *proxy* that differs from the impurity decrease
by terms constant for the node, so it is cheaper: :math:`-(w_L I_L + w_R I_R)` for the class
criteria and :math:`S_L^2 / w_L + S_R^2 / w_R` (sums of ``y``) for squared error.

References
----------
Breiman, Friedman, Olshen, Stone (1984). Classification and Regression Trees, ch. 4 and 8.
"""

from __future__ import annotations

import numpy as np
from numba import njit

GINI, ENTROPY, SQUARED_ERROR = 0, 1, 2
CRITERIA = {"gini": GINI, "entropy": ENTROPY, "log_loss": ENTROPY, "squared_error": SQUARED_ERROR}


@njit(cache=True, nogil=True)
def impurity(crit, s, w):
    """Impurity of a node with statistics ``s`` (1-D) and weight ``w > 0``."""
    if crit == SQUARED_ERROR:
        mean = s[0] / w
        return s[1] / w - mean * mean
    acc = 0.0
    for k in range(s.shape[0]):
        if s[k] > 0.0:
            p = s[k] / w
            acc += p * p if crit == GINI else -p * np.log2(p)
    return 1.0 - acc if crit == GINI else acc


@njit(cache=True, nogil=True)
def proxy_improvement(crit, left, w_left, total, w_total, right):
    """Rank of the split ``left | total - left`` (larger is better); ``right`` is scratch."""
    w_right = w_total - w_left
    if crit == SQUARED_ERROR:
        s_right = total[0] - left[0]
        return left[0] * left[0] / w_left + s_right * s_right / w_right
    for k in range(total.shape[0]):
        right[k] = total[k] - left[k]
    return -w_left * impurity(crit, left, w_left) - w_right * impurity(crit, right, w_right)
