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
import scipy.sparse as sp

from mlcanon import io

from ._builder import LEAF, apply_tree, path_tree

__all__ = ["Tree", "check_nodes"]


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
    value : ndarray of shape (node_count, n_outputs, max_n_classes) or (node_count, n_outputs, 1)
    n_features : int or None
        Columns of the data the tree was grown on.
    n_classes : ndarray of intp, shape (n_outputs,)
        Classes of each output (1 for regression); ``value`` keeps ``max_n_classes`` columns,
        those beyond an output's classes are zero.
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

    def __init__(
        self, n_features: int | None = None, n_classes: Any = None, **arrays: np.ndarray
    ) -> None:
        missing = set(self._ARRAYS) - set(arrays)
        if missing:
            raise ValueError(f"Tree needs arrays {sorted(missing)}")
        for name in self._ARRAYS:
            setattr(self, name, arrays[name])
        self.n_features = n_features
        if n_classes is None:  # every output has max_n_classes classes (1 for regression)
            n_classes = np.full(self.n_outputs, self.max_n_classes)
        self.n_classes = np.asarray(n_classes, dtype=np.intp)

    @property
    def node_count(self) -> int:
        return int(self.children_left.shape[0])

    @property
    def capacity(self) -> int:
        """Allocated nodes (the arrays are trimmed: equal to ``node_count``)."""
        return self.node_count

    @property
    def n_outputs(self) -> int:
        return int(self.value.shape[1])

    @property
    def max_n_classes(self) -> int:
        return int(self.value.shape[2])

    @property
    def n_leaves(self) -> int:
        return int(np.sum(self.children_left == LEAF))

    @property
    def max_depth(self) -> int:
        return int(self.compute_node_depths().max()) - 1

    def compute_node_depths(self) -> np.ndarray:
        """Depth of each node, counted as scikit-learn's ``Tree.compute_node_depths`` counts
        it: 1 for the root, int64 of shape (node_count,)."""
        depth = np.ones(self.node_count, np.int64)
        for node in range(self.node_count):  # pre-order: parents come before children
            if self.children_left[node] != LEAF:
                depth[self.children_left[node]] = depth[self.children_right[node]] = depth[node] + 1
        return depth

    def _nodes(self) -> tuple:
        return (
            self.children_left,
            self.children_right,
            self.feature,
            self.threshold,
            self.missing_go_to_left,
        )

    @staticmethod
    def _float32(X: Any) -> np.ndarray:
        """A float32 matrix (dense, or scipy.sparse densified), as scikit-learn's ``Tree``."""
        if sp.issparse(X):
            X = X.toarray()
        if not isinstance(X, np.ndarray) or X.dtype != np.float32 or X.ndim != 2:
            got = f"{X.dtype} {X.shape}" if isinstance(X, np.ndarray) else type(X).__name__
            raise ValueError(f"X.dtype should be np.float32 with 2 dimensions, got {got}")
        return np.ascontiguousarray(X)

    def apply(self, X32: Any) -> np.ndarray:
        """Leaf id of each row of a float32 matrix."""
        return apply_tree(self._float32(X32), *self._nodes())

    def decision_path(self, X32: Any) -> sp.csr_matrix:
        """Indicator matrix (n_samples, node_count): entry (i, t) is 1 when row i passes
        through node t."""
        X32 = self._float32(X32)
        indptr, indices = path_tree(X32, *self._nodes(), self.max_depth)
        data = np.ones(len(indices), np.int64)
        return sp.csr_matrix((data, indices, indptr), shape=(len(X32), self.node_count))

    def predict(self, X32: Any) -> np.ndarray:
        """``value`` of the leaf reached by each row, as scikit-learn's ``Tree.predict``: shape
        (n_samples, n_values) for one output, (n_samples, n_outputs, n_values) for more."""
        out = self.value[self.apply(X32)]
        return out[:, 0] if self.n_outputs == 1 else out

    def compute_feature_importances(
        self, n_features: int | None = None, normalize: bool = True
    ) -> np.ndarray:
        """Weighted impurity decrease summed per feature, normalised to sum to one.

        .. math:: \\mathrm{imp}(f) \\propto \\sum_{t: f_t = f} w_t I_t - w_{L(t)} I_{L(t)}
                  - w_{R(t)} I_{R(t)}
        """
        n_features = self.n_features if n_features is None else n_features
        out = np.zeros(n_features)
        split = np.flatnonzero(self.children_left != LEAF)
        wi = self.weighted_n_node_samples * self.impurity
        gain = wi[split] - wi[self.children_left[split]] - wi[self.children_right[split]]
        np.add.at(out, self.feature[split], gain)
        out /= self.weighted_n_node_samples[0]
        total = out.sum()
        return out / total if normalize and total > 0 else out

    def check_nodes(self, n_features: int | None = None) -> None:
        """Refuse node arrays that do not form one tree whose splits index ``n_features``
        columns (:func:`check_nodes` on this tree's arrays)."""
        check_nodes(
            self.children_left,
            self.children_right,
            self.feature,
            self.threshold,
            self.missing_go_to_left,
            n_features,
        )

    def __getstate__(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)


def check_nodes(
    left: np.ndarray,
    right: np.ndarray,
    feature: np.ndarray,
    threshold: np.ndarray,
    missing_left: np.ndarray,
    n_features: int | None = None,
) -> None:
    """Refuse node arrays that do not form one tree rooted at node 0 (see :mod:`mlcanon.io`).

    Every child id must lie after its parent's id (the pre-order layout written by the growers)
    and every node but the root must have exactly one parent. Following parents then strictly
    decreases the id and can only stop at the root: the nodes form one tree, every node is
    reached exactly once and there is no cycle, so prediction walks at most ``node_count`` steps.
    Split features must index a column (``0 <= f < n_features``, checked when the width is
    given: a bare :class:`Tree` does not know it), thresholds must not be NaN
    (``inf`` is the "missing right" split) and the missing-value directions must be booleans.
    """
    n = left.shape[0] if isinstance(left, np.ndarray) and left.ndim == 1 else 0
    if n == 0:
        raise ValueError("children_left must be a non-empty 1-D array (a tree has a root)")
    for name, a, kind in (
        ("children_left", left, "i"),
        ("children_right", right, "i"),
        ("feature", feature, "i"),
        ("threshold", threshold, "f"),
        ("missing_go_to_left", missing_left, "b"),
    ):
        if not isinstance(a, np.ndarray) or a.dtype.kind != kind or a.shape != (n,):
            got = f"{a.dtype} {a.shape}" if isinstance(a, np.ndarray) else type(a).__name__
            raise ValueError(
                f"node array {name} must be 1-D of kind {kind!r}, length {n}; got {got}"
            )
    split = left != LEAF
    if np.any(right[~split] != LEAF):
        raise ValueError("a leaf (children_left == -1) must have children_right == -1")
    parent = np.flatnonzero(split)
    kids = np.concatenate([left[split], right[split]])
    if kids.size and (kids.min() < 1 or kids.max() >= n):
        raise ValueError(
            f"child ids must lie in [1, {n}) (node 0 is the root), got {kids.min()}..{kids.max()}"
        )
    if np.any(kids <= np.concatenate([parent, parent])):
        raise ValueError("a child id must be larger than its parent's (no cycles)")
    if not np.all(np.bincount(kids, minlength=n)[1:] == 1):
        raise ValueError("every node but the root must have exactly one parent")
    f = feature[split]
    if n_features is not None and f.size and (f.min() < 0 or f.max() >= n_features):
        raise ValueError(f"split features must lie in [0, {n_features}), got {f.min()}..{f.max()}")
    if np.any(np.isnan(threshold[split])):
        raise ValueError("split thresholds must not be NaN")


io.register(Tree)


@io.on_load(Tree)
def _check_tree(tree: Tree) -> None:
    if set(vars(tree)) - {"n_features", "n_classes"} != set(Tree._ARRAYS):
        raise ValueError(f"a Tree holds exactly the arrays {list(Tree._ARRAYS)}")
    n_features = vars(tree).get("n_features")
    if n_features is not None and not (isinstance(n_features, int) and n_features >= 1):
        raise ValueError(f"Tree.n_features must be None or an int >= 1, got {n_features!r}")
    tree.check_nodes(n_features)
    n = tree.node_count
    for name in ("impurity", "n_node_samples", "weighted_n_node_samples"):
        a = getattr(tree, name)
        if not (isinstance(a, np.ndarray) and a.dtype.kind in "iuf" and a.shape == (n,)):
            raise ValueError(f"node array {name} must be numeric of shape ({n},)")
    v = tree.value
    if not (isinstance(v, np.ndarray) and v.dtype.kind == "f" and v.ndim == 3 and len(v) == n):
        raise ValueError(f"value must be a float array of shape ({n}, 1, n_values)")
    k = vars(tree).get("n_classes")
    if k is None:  # a file written before trees stored it: the owning estimator fills it in
        return
    if not (
        isinstance(k, np.ndarray)
        and k.dtype.kind in "iu"
        and k.shape == (v.shape[1],)
        and np.all((k >= 1) & (k <= v.shape[2]))
    ):
        raise ValueError(
            f"Tree.n_classes must hold one count in [1, {v.shape[2]}] per output "
            f"({v.shape[1]} outputs)"
        )
