"""What the CART estimators share, and what the forests built on them reuse.

:class:`BaseDecisionTree` turns the hyper-parameters into the kernels' settings, grows a
:class:`~mlcanon.tree.Tree` on prepared arrays (the forests and gradient boosting call it
directly) and reads predictions from it. The prediction mixins read the values a model
predicts from, ``_output_values(X)`` of shape (n_samples, n_outputs, n_values) (the reached
leaf's for a tree, their mean over the trees for a forest), so the class-probability and
regression outputs are written once for both.
"""

from __future__ import annotations

import numbers
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, clone
from sklearn.utils import Bunch
from sklearn.utils.validation import check_is_fitted

from mlcanon import io
from mlcanon._estimator import sample_weight_array
from mlcanon._validation import (
    RANDOM_STATE,
    InstanceOf,
    Interval,
    Options,
    check_random_state,
    validate_params,
)

from ._builder import build_tree
from ._checks import (
    MonotonicCst,
    as_float32,
    check_X,
    check_X_y,
    resolve_max_features,
    resolve_min_samples,
    resolve_monotonic_cst,
)
from ._criterion import CRITERIA
from ._monotonic import clip_values
from ._prune import prune, pruning_path
from ._tree import Tree

__all__ = ["BaseDecisionTree", "ClassifierOutputsMixin", "RegressorOutputsMixin", "TreeTagsMixin"]


def _as_columns(a: np.ndarray, dtype: Any) -> np.ndarray:
    """A 1-D target (or class codes) as one column; 2-D input is kept."""
    a = np.asarray(a, dtype=dtype)
    return np.ascontiguousarray(a.reshape(len(a), -1) if a.ndim == 1 else a)


class TreeTagsMixin:
    """Tags of a tree and of a forest of trees: NaN and scipy.sparse ``X``, several outputs."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.sparse = True
        tags.target_tags.multi_output = True
        return tags


class ClassifierOutputsMixin:
    """Class probabilities and labels from ``_output_values(X)``, one set per output."""

    def _set_classes(self, classes: list[np.ndarray]) -> None:
        single = len(classes) == 1
        self.classes_ = classes[0] if single else classes
        self.n_classes_ = len(classes[0]) if single else np.array([len(c) for c in classes])

    def _classes_per_output(self) -> list[np.ndarray]:
        return [self.classes_] if self.n_outputs_ == 1 else self.classes_

    def predict_proba(self, X: Any) -> np.ndarray | list[np.ndarray]:
        """Class distribution of each sample (the reached leaf's for a tree, the mean of the
        trees' for a forest): shape (n_samples, n_classes), or a list of them (one per output)."""
        values = self._output_values(X)
        proba = [values[:, k, : len(c)] for k, c in enumerate(self._classes_per_output())]
        return proba[0] if self.n_outputs_ == 1 else proba

    def predict_log_proba(self, X: Any) -> np.ndarray | list[np.ndarray]:
        proba = self.predict_proba(X)
        with np.errstate(divide="ignore"):
            return np.log(proba) if self.n_outputs_ == 1 else [np.log(p) for p in proba]

    def predict(self, X: Any) -> np.ndarray:
        """Class with the largest probability (one column per output)."""
        values = self._output_values(X)
        labels = [
            c[np.argmax(values[:, k, : len(c)], axis=1)]
            for k, c in enumerate(self._classes_per_output())
        ]
        return labels[0] if self.n_outputs_ == 1 else np.stack(labels, axis=1)


class RegressorOutputsMixin:
    """Predictions from ``_output_values(X)``, one column per output."""

    def predict(self, X: Any) -> np.ndarray:
        """Predicted target (the reached leaf's mean training target for a tree, the mean of
        the trees' predictions for a forest): shape (n_samples,) or (n_samples, n_outputs)."""
        values = self._output_values(X)[:, :, 0]
        return values[:, 0] if self.n_outputs_ == 1 else values


# A share of the samples or features: a float in (0, 1] (where an int is a count).
_FRACTION = Interval((float, np.floating), low=0.0, high=1.0, include_low=False)
# min_samples_leaf's share is below 1 (scikit-learn's range (0, 1)): a leaf of every sample
# would leave nothing to split.
_LEAF_FRACTION = Interval(
    (float, np.floating), low=0.0, high=1.0, include_low=False, include_high=False
)
# One tree's hyper-parameters, which the ensembles made of trees declare too. Counts and
# fractions are turned into counts against the data by resolve_min_samples/resolve_max_features.
TREE_CONSTRAINTS: dict[str, Any] = {
    "max_depth": (None, Interval(numbers.Integral, low=1)),
    "min_samples_split": (Interval(numbers.Integral, low=2), _FRACTION),
    "min_samples_leaf": (Interval(numbers.Integral, low=1), _LEAF_FRACTION),
    "min_weight_fraction_leaf": Interval(low=0.0, high=0.5),
    "max_features": (None, Options("sqrt", "log2"), Interval(numbers.Integral, low=1), _FRACTION),
    "max_leaf_nodes": (None, Interval(numbers.Integral, low=2)),
    "min_impurity_decrease": Interval(low=0.0),
    "ccp_alpha": Interval(low=0.0),
    "random_state": RANDOM_STATE,
}
# The monotonicity constraints of the trees and forests (not of gradient boosting, whose trees
# scikit-learn does not constrain): None, or one of -1, 0, 1 per feature.
MONOTONIC_CST = (None, MonotonicCst())
# None, "balanced", a dict (one output) or a list of dicts (one per output: see
# check_class_weight, which counts them once the outputs are known).
CLASS_WEIGHT = (None, Options("balanced"), InstanceOf(dict, list))


class BaseDecisionTree(TreeTagsMixin, BaseEstimator):
    """Growth, pruning and node queries shared by the CART estimators (parameters as in
    scikit-learn)."""

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        "splitter": Options("best", "random"),
        **TREE_CONSTRAINTS,
        "monotonic_cst": MONOTONIC_CST,
    }

    def _settings(self, n: int, n_features: int, weight_sum: float) -> tuple:
        """The split-search ``rules`` and growth ``limits`` arrays of the kernels."""
        min_split = resolve_min_samples(self.min_samples_split, n, low=2)
        min_leaf = resolve_min_samples(self.min_samples_leaf, n, low=1)
        self.max_features_ = resolve_max_features(self.max_features, n_features)
        min_weight_leaf = self.min_weight_fraction_leaf * weight_sum
        random = self.splitter == "random"
        rules = np.array([self.max_features_, min_leaf, min_weight_leaf, float(random)])
        depth = np.inf if self.max_depth is None else self.max_depth
        max_leaves = 0 if self.max_leaf_nodes is None else self.max_leaf_nodes
        limits = [depth, max(min_split, 2 * min_leaf), 2 * min_weight_leaf]
        return rules, np.array([*limits, float(self.min_impurity_decrease), max_leaves])

    def _grow(
        self, XT32: np.ndarray, ycode: np.ndarray, yval: np.ndarray, w: np.ndarray, n_stats: int
    ) -> Tree:
        """Grow the tree on prepared arrays (no parameter or data checks: see :meth:`_prepare`).

        ``XT32`` is the float32 transpose (n_features, n_samples); ``ycode`` (classification,
        ``n_stats`` = the largest class count) or ``yval`` (regression) hold one column per
        output (a 1-D array is one output). Samples with zero weight are left out, which is how
        the ensembles pass bootstrap samples; a fractional ``min_samples_split`` or
        ``min_samples_leaf`` is still a share of every row of ``XT32`` (as in scikit-learn,
        whose forests also pass the whole ``X`` with bootstrap counts as weights).
        """
        ycode, yval = _as_columns(ycode, np.int64), _as_columns(yval, np.float64)
        n_out = ycode.shape[1] if self._is_clf else yval.shape[1]
        n_stats = n_out * n_stats if self._is_clf else 3 * n_out + 1
        rules, limits = self._settings(XT32.shape[1], XT32.shape[0], float(w.sum()))
        n_classes = [len(c) for c in self._classes_per_output()] if self._is_clf else None
        cst = resolve_monotonic_cst(
            self.monotonic_cst,
            XT32.shape[0],
            n_out,
            max(n_classes) if self._is_clf else None,
        )
        seed = int(check_random_state(self.random_state).integers(0, 2**62))
        target = (CRITERIA[self.criterion], self._is_clf, ycode, yval, w, n_stats // n_out)
        nodes, bounds = build_tree(XT32, target, n_stats, rules, limits, seed, cst)
        left, right, feat, thr, miss, imp, n_nodes, wn, stats = nodes
        if self._is_clf:
            value = stats.reshape(len(wn), n_out, -1) / wn[:, None, None]
        elif self.criterion == "absolute_error":  # the weighted medians
            value = stats[:, 2 * n_out + 1 :, None].copy()
        else:
            value = (stats[:, :n_out] / wn[:, None])[:, :, None]
        if cst is not None:
            clip_values(value, bounds, self._is_clf)
        tree = Tree(
            n_features=XT32.shape[0],
            n_classes=n_classes,
            children_left=left,
            children_right=right,
            feature=feat,
            threshold=thr,
            missing_go_to_left=miss,
            impurity=imp,
            n_node_samples=n_nodes,
            weighted_n_node_samples=wn,
            value=value,
        )
        return prune(tree, self.ccp_alpha) if self.ccp_alpha > 0 else tree

    def cost_complexity_pruning_path(self, X: Any, y: Any, sample_weight: Any = None) -> Bunch:
        """Effective alphas of minimal cost-complexity pruning of the tree fitted to ``X, y``,
        and the total leaf impurity of each pruned subtree (see :mod:`mlcanon.tree._prune`)."""
        tree = clone(self).set_params(ccp_alpha=0.0).fit(X, y, sample_weight=sample_weight)
        alphas, impurities = pruning_path(tree.tree_)
        return Bunch(ccp_alphas=alphas, impurities=impurities)

    def _prepare(self, X: Any, y: Any, sample_weight: Any) -> tuple:
        """Validated hyper-parameters and data (the ensembles, which validate the parameters
        they pass on, grow their trees from prepared arrays with :meth:`_grow`)."""
        validate_params(self)
        X, y = check_X_y(self, X, y, classifier=self._is_clf, accept_sparse=True, multi_output=True)
        w = sample_weight_array(sample_weight, X.shape[0])
        XT32 = np.ascontiguousarray(as_float32(X).T)
        self.n_outputs_ = 1 if y.ndim == 1 else y.shape[1]
        return XT32, y, w

    def _X32(self, X: Any) -> np.ndarray:
        return as_float32(check_X(self, X, reset=False, accept_sparse=True))

    def _output_values(self, X: Any) -> np.ndarray:
        """Values of the leaf each sample reaches: (n_samples, n_outputs, n_values)."""
        X32 = self._X32(X)
        return self.tree_.value[self.tree_.apply(X32)]

    def apply(self, X: Any) -> np.ndarray:
        """Index of the leaf that each sample ends in."""
        X32 = self._X32(X)
        return self.tree_.apply(X32)

    def decision_path(self, X: Any) -> sp.csr_matrix:
        """Indicator matrix (n_samples, node_count): entry (i, t) is 1 when sample i passes
        through node t."""
        return self.tree_.decision_path(self._X32(X))

    @property
    def feature_importances_(self) -> np.ndarray:
        """Normalised total impurity decrease brought by each feature (mean decrease impurity)."""
        check_is_fitted(self, "tree_")
        return self.tree_.compute_feature_importances(self.n_features_in_)

    def get_depth(self) -> int:
        return self.tree_.max_depth

    def get_n_leaves(self) -> int:
        return self.tree_.n_leaves


@io.on_load(BaseDecisionTree)
def _check_loaded(model: BaseDecisionTree) -> None:
    """A loaded tree's splits must index columns of ``X``; its leaves hold one value per class."""
    tree = vars(model).get("tree_")
    if tree is None:
        return
    if not isinstance(tree, Tree):
        raise ValueError(f"tree_ must be a Tree, got {type(tree).__name__}")
    try:
        tree.check_nodes(model.n_features_in_)
    except ValueError as exc:
        raise ValueError(f"tree_: {exc}") from exc
    n_outputs = vars(model).get("n_outputs_", 1)  # trees grown by boosting keep one output
    if model._is_clf:
        classes = [model.classes_] if n_outputs == 1 else model.classes_
        shape = (len(classes), max(len(c) for c in classes))
    else:
        shape = (n_outputs, 1)
    if tree.value.shape[1:] != shape:
        raise ValueError(f"tree_.value must have shape (node_count, {shape[0]}, {shape[1]})")
    if "n_classes" not in vars(tree):  # a file written before trees stored n_classes
        counts = [len(c) for c in classes] if model._is_clf else [1] * n_outputs
        tree.n_classes = np.array(counts, np.intp)
    if model._is_clf and tree.n_classes.tolist() != [len(c) for c in classes]:
        raise ValueError("tree_.n_classes must hold the number of classes_ of each output")
