"""A fitted tree as parallel arrays (the layout of scikit-learn's ``tree_``), saved as arrays.

Node ``i`` is a leaf when ``children_left[i] == -1``; otherwise samples with
``X[:, feature[i]] <= threshold[i]`` go to ``children_left[i]``, the others to
``children_right[i]``, and a missing value (NaN) goes left exactly when
``missing_go_to_left[i]``. ``value[i, 0]`` is the class distribution (classification) or the
mean target (regression) of the training samples that reached node ``i``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mlcanon import io

from ._builder import LEAF, apply_tree

__all__ = ["Tree"]


class Tree:
    """Node arrays of one fitted tree (all of length ``node_count``).

    Attributes
    ----------
    children_left, children_right : ndarray of int64
        Child ids, ``-1`` at leaves.
    feature : ndarray of int64
        Feature tested at each split node (``-2`` at leaves).
    threshold : ndarray of float64
        Split threshold (``-2`` at leaves); ``inf`` means "non-missing left, missing right".
    missing_go_to_left : ndarray of bool
        Direction of a missing value at each split node.
    impurity, weighted_n_node_samples : ndarray of float64
    n_node_samples : ndarray of int64
    value : ndarray of shape (node_count, 1, n_classes) or (node_count, 1, 1)
    """

    _ARRAYS = (
        "children_left",
        "children_right",
        "feature",
        "threshold",
        "missing_go_to_left",
        "impurity",
        "n_node_samples",
        "weighted_n_node_samples",
        "value",
    )

    def __init__(self, **arrays: np.ndarray) -> None:
        missing = set(self._ARRAYS) - set(arrays)
        if missing:
            raise ValueError(f"Tree needs arrays {sorted(missing)}")
        for name in self._ARRAYS:
            setattr(self, name, arrays[name])

    @property
    def node_count(self) -> int:
        return int(self.children_left.shape[0])

    @property
    def n_leaves(self) -> int:
        return int(np.sum(self.children_left == LEAF))

    @property
    def max_depth(self) -> int:
        depth = np.zeros(self.node_count, np.int64)
        for node in range(self.node_count):  # pre-order: parents come before children
            if self.children_left[node] != LEAF:
                depth[self.children_left[node]] = depth[self.children_right[node]] = depth[node] + 1
        return int(depth.max())

    def apply(self, X32: np.ndarray) -> np.ndarray:
        """Leaf id of each row of a validated float32 C-contiguous matrix."""
        return apply_tree(
            X32,
            self.children_left,
            self.children_right,
            self.feature,
            self.threshold,
            self.missing_go_to_left,
        )

    def predict(self, X32: np.ndarray) -> np.ndarray:
        """``value`` of the leaf reached by each row: shape (n_samples, n_values)."""
        return self.value[self.apply(X32), 0]

    def compute_feature_importances(self, n_features: int) -> np.ndarray:
        """Weighted impurity decrease summed per feature, normalised to sum to one.

        .. math:: \\mathrm{imp}(f) \\propto \\sum_{t: f_t = f} w_t I_t - w_{L(t)} I_{L(t)}
                  - w_{R(t)} I_{R(t)}
        """
        out = np.zeros(n_features)
        split = np.flatnonzero(self.children_left != LEAF)
        wi = self.weighted_n_node_samples * self.impurity
        gain = wi[split] - wi[self.children_left[split]] - wi[self.children_right[split]]
        np.add.at(out, self.feature[split], gain)
        total = out.sum()
        return out / total if total > 0 else out

    def __getstate__(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)


io.register(Tree)
