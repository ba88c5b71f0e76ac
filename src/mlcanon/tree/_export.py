"""Plain-text rendering of a fitted tree, one line per node (the layout of scikit-learn's)."""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.utils.validation import check_is_fitted

from mlcanon._validation import check_scalar

from ._builder import LEAF

__all__ = ["export_text"]


def export_text(
    decision_tree: Any,
    *,
    feature_names: Sequence[str] | None = None,
    class_names: Sequence[Any] | None = None,
    max_depth: int = 10,
    spacing: int = 3,
    decimals: int = 2,
    show_weights: bool = False,
    show_missing: bool = False,
) -> str:
    """Return the rules of a fitted tree as indented text (scikit-learn's layout).

    Parameters
    ----------
    decision_tree : DecisionTreeClassifier or DecisionTreeRegressor
        A fitted tree.
    feature_names : sequence of str, optional
        Names of the ``n_features_in_`` columns (default ``feature_0``, ``feature_1``, ...).
    class_names : sequence, optional
        Printed in place of ``classes_`` (one per class; classifiers with one output).
    max_depth : int >= 0, default=10
        Levels printed below the root; a deeper branch prints as ``truncated branch of depth k``
        (a single leaf prints as itself).
    spacing : int >= 1, default=3
        Width of one indentation step.
    decimals : int >= 0, default=2
        Digits printed for thresholds and values.
    show_weights : bool, default=False
        Print the weighted class counts of each leaf (classification).
    show_missing : bool, default=False
        Mark the side that NaN goes to with ``(NaN)`` on split lines (an addition to
        scikit-learn's text, which the default leaves unchanged).

    Returns
    -------
    str
        e.g. ``|--- petal_len <= 2.45\\n|   |--- class: 0\\n...``.

    Notes
    -----
    With several outputs the leaves read as scikit-learn's do: a regressor prints every
    output's value; a classifier, the share of each output's first class and, as ``class``,
    the index of the output where that share is largest (not a class label).
    """
    check_is_fitted(decision_tree, "tree_")
    check_scalar(max_depth, "max_depth", kind=numbers.Integral, low=0)
    check_scalar(spacing, "spacing", kind=numbers.Integral, low=1)
    check_scalar(decimals, "decimals", kind=numbers.Integral, low=0)
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
    one_output = decision_tree.n_outputs_ == 1
    if class_names is not None and classes is not None:
        if not one_output or len(class_names) != len(classes):
            raise ValueError(
                f"class_names needs one name per class of a one-output classifier "
                f"({len(classes) if one_output else 'several outputs'}), got {len(class_names)}"
            )
        classes = list(class_names)
    lines: list[str] = []

    def numbers_text(values: np.ndarray) -> str:
        return "[" + ", ".join(f"{v:.{decimals}f}" for v in values) + "]"

    def leaf_text(node: int) -> str:
        # several outputs: the first entry of each (see Notes)
        value = tree.value[node, 0] if one_output else tree.value[node, :, 0]
        if classes is None:
            return f"value: {numbers_text(value)}"
        index = int(np.argmax(value))
        text = f"class: {classes[index] if one_output else index}"
        if show_weights:
            text = f"weights: {numbers_text(value * tree.weighted_n_node_samples[node])} {text}"
        return text

    def subtree_depth(node: int) -> int:
        if tree.children_left[node] == LEAF:
            return 1
        left, right = int(tree.children_left[node]), int(tree.children_right[node])
        return 1 + max(subtree_depth(left), subtree_depth(right))

    def walk(node: int, depth: int) -> None:
        indent = ("|" + " " * spacing) * depth + "|" + "-" * spacing + " "
        if tree.children_left[node] == LEAF:
            lines.append(indent + leaf_text(node))
            return
        if depth > max_depth:
            lines.append(f"{indent}truncated branch of depth {subtree_depth(node)}")
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
