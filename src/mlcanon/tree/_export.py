"""Plain-text rendering of a fitted tree, one line per node (the layout of scikit-learn's)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ._builder import LEAF

__all__ = ["export_text"]


def export_text(
    decision_tree: Any,
    *,
    feature_names: Sequence[str] | None = None,
    decimals: int = 2,
    show_weights: bool = False,
    show_missing: bool = True,
) -> str:
    """Return the rules of a fitted tree as indented text.

    Parameters
    ----------
    decision_tree : DecisionTreeClassifier or DecisionTreeRegressor
        A fitted tree.
    feature_names : sequence of str, optional
        Names of the ``n_features_in_`` columns (default ``feature_0``, ``feature_1``, ...).
    decimals : int, default=2
        Digits printed for thresholds and values.
    show_weights : bool, default=False
        Print the weighted class counts of each leaf (classification).
    show_missing : bool, default=True
        Mark the side that NaN goes to with ``(NaN)`` on split lines.

    Returns
    -------
    str
        e.g. ``|--- petal_len <= 2.45 (NaN)\\n|   |--- class: 0\\n...``.

    Notes
    -----
    With several outputs the leaves read as scikit-learn's do: a regressor prints every
    output's value; a classifier, the share of each output's first class and, as ``class``,
    the index of the output where that share is largest (not a class label).
    """
    check_is_fitted(decision_tree, "tree_")
    tree = decision_tree.tree_
    n_features = decision_tree.n_features_in_
    if feature_names is None:
        names = [f"feature_{i}" for i in range(n_features)]
    else:
        names = list(feature_names)
        if len(names) != n_features:
            raise ValueError(
                f"feature_names has {len(names)} entries, expected n_features_in_={n_features}"
            )
    classes = getattr(decision_tree, "classes_", None)
    lines: list[str] = []

    one_output = decision_tree.n_outputs_ == 1

    def numbers(values: np.ndarray) -> str:
        return "[" + ", ".join(f"{v:.{decimals}f}" for v in values) + "]"

    def leaf_text(node: int) -> str:
        # several outputs: the first entry of each (see Notes)
        value = tree.value[node, 0] if one_output else tree.value[node, :, 0]
        if classes is None:
            return f"value: {numbers(value)}"
        index = int(np.argmax(value))
        text = f"class: {classes[index] if one_output else index}"
        if show_weights:
            text = f"weights: {numbers(value * tree.weighted_n_node_samples[node])} {text}"
        return text

    def walk(node: int, depth: int) -> None:
        indent = "|   " * depth + "|--- "
        if tree.children_left[node] == LEAF:
            lines.append(indent + leaf_text(node))
            return
        name, thr = names[tree.feature[node]], tree.threshold[node]
        nan_left = bool(tree.missing_go_to_left[node])
        mark_l = " (NaN)" if show_missing and nan_left else ""
        mark_r = " (NaN)" if show_missing and not nan_left else ""
        lines.append(f"{indent}{name} <= {thr:.{decimals}f}{mark_l}")
        walk(int(tree.children_left[node]), depth + 1)
        lines.append(f"{indent}{name} >  {thr:.{decimals}f}{mark_r}")
        walk(int(tree.children_right[node]), depth + 1)

    walk(0, 0)
    return "\n".join(lines) + "\n"
