"""Monotonicity constraints of the CART trees (``monotonic_cst``), as in scikit-learn.

A constraint ``c_f`` in {-1, 0, 1} per feature asks the prediction to decrease, be free or
increase along feature ``f``. It is enforced with bounds ``[lower, upper]`` carried by every node
(``[-inf, inf]`` at the root), on the node's *value* :math:`v` (the mean target, the median for
absolute error, the first class's probability for a binary classifier, whose constraints are
flipped accordingly):

- a split on a constrained feature is a candidate only when both children's values lie within
  the node's bounds and are ordered, :math:`c_f (v_L - v_R) \\le 0`;
- its children inherit the node's bounds, split at the middle value
  :math:`m = v_L / 2 + v_R / 2`: for :math:`c_f = 1` the left child gets ``[lower, m]`` and the
  right one ``[m, upper]`` (the other way round for -1); a split on a free feature passes the
  node's bounds to both children;
- every node's value is clipped into its bounds (``value < lower`` gives ``lower``, then
  ``value > upper`` gives ``upper``); a classifier's second class then gets one minus the first.

The bounds keep every leaf of the right subtree of an increasing split at or above every leaf of
its left subtree, so predictions are monotone along each constrained feature.

References
----------
scikit-learn 1.9, ``sklearn/tree/_criterion.pyx`` (``check_monotonicity``, ``middle_value``,
``clip_node_value``) and ``_tree.pyx`` (the bounds of the children).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ._criterion import ABSOLUTE_ERROR, CRIT, YVAL

# Columns of the node bounds (float64[capacity, 3]): the node's bounds and, once it is split,
# the middle value of its children.
LOWER, UPPER, MIDDLE = 0, 1, 2


@njit(cache=True, nogil=True, inline="always")
def split_ok(bounds, value_left, value_right):
    """scikit-learn's check of a split on a feature with constraint ``sign``: ``bounds`` is
    ``(sign, lower, upper)``; a free feature (sign 0) passes, a constrained one when both
    children's values lie within ``[lower, upper]`` and are ordered as ``sign`` asks."""
    sign, lower, upper = bounds
    if sign == 0:
        return True
    return (
        value_left >= lower
        and value_right >= lower
        and value_left <= upper
        and value_right <= upper
        and (value_left - value_right) * sign <= 0.0
    )


@njit(cache=True, nogil=True)
def new_bounds(capacity):
    """Bounds of ``capacity`` nodes, ``[-inf, inf]``."""
    bounds = np.empty((capacity, 3))
    bounds[:, LOWER] = -np.inf
    bounds[:, UPPER] = np.inf
    bounds[:, MIDDLE] = np.nan
    return bounds


@njit(cache=True, nogil=True)
def inherit_bounds(bounds, cst, feature, parent, is_left, child):
    """Set the bounds of ``child`` (the left one when ``is_left``) of split ``parent``."""
    lower, upper = bounds[parent, LOWER], bounds[parent, UPPER]
    sign = cst[feature[parent]]
    if sign != 0:
        middle = bounds[parent, MIDDLE]
        if (sign == 1) == bool(is_left):  # the child below the middle value
            upper = middle
        else:
            lower = middle
    bounds[child, LOWER], bounds[child, UPPER] = lower, upper


def clip_values(value: np.ndarray, bounds: np.ndarray, is_clf: bool) -> None:
    """Clip ``value[:, 0, 0]`` into the nodes' bounds in place, as scikit-learn's
    ``clip_node_value`` (a binary classifier's second class becomes one minus the first)."""
    v = value[:, 0, 0]
    v = np.where(v < bounds[:, LOWER], bounds[:, LOWER], v)
    value[:, 0, 0] = np.where(v > bounds[:, UPPER], bounds[:, UPPER], v)
    if is_clf and value.shape[2] > 1:
        value[:, 0, 1] = 1.0 - value[:, 0, 0]


@njit(cache=True, nogil=True)
def middle_value(target, s_left, w_left, s_right, w_right):
    """Middle of the children's values of a split (statistics ``s_left``, ``s_right``), with
    scikit-learn's arithmetic: ``s_L / (2 w_L) + s_R / (2 w_R)``, or the mean of the two
    medians for absolute error."""
    if target[CRIT] == ABSOLUTE_ERROR:
        median = 2 * target[YVAL].shape[1] + 1  # the slot of the weighted median
        return (s_left[median] + s_right[median]) / 2
    return s_left[0] / (2 * w_left) + s_right[0] / (2 * w_right)
