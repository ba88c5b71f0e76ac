"""CART decision trees for classification and regression, with NaN support.

Each node chooses the split that most decreases the weighted impurity of its children,

.. math::

    \\Delta = \\frac{w_t}{w}\\Big(I_t - \\frac{w_L}{w_t} I_L - \\frac{w_R}{w_t} I_R\\Big),

over every feature (or ``max_features`` drawn at random) and every threshold halfway between
two consecutive distinct values. Growth stops at ``max_depth``, below ``min_samples_split``
samples, when a child would hold fewer than ``min_samples_leaf`` samples, or when the best
:math:`\\Delta` is below ``min_impurity_decrease``. Missing values (NaN) in ``X`` are allowed:
each split learns which child they go to (see :mod:`mlcanon.tree._builder`).

Like scikit-learn, ``X`` is cast to float32 before fitting, so thresholds are midpoints of
float32 values and the fitted trees can be compared array by array.

References
----------
Breiman, Friedman, Olshen, Stone (1984). Classification and Regression Trees. Wadsworth.
"""

from __future__ import annotations

import numbers
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin

from mlcanon import io
from mlcanon._estimator import encode_labels, sample_weight_array, store_params
from mlcanon._validation import Interval, Options, check_random_state, validate_params

from ._builder import build_tree
from ._checks import check_X, check_X_y, resolve_max_features, resolve_min_samples
from ._criterion import CRITERIA
from ._tree import Tree, check_nodes

__all__ = ["DecisionTreeClassifier", "DecisionTreeRegressor"]


def as_float32(X: np.ndarray) -> np.ndarray:
    """float32 copy of a validated matrix; values beyond float32's range are refused."""
    with np.errstate(over="ignore"):
        X32 = np.ascontiguousarray(X, dtype=np.float32)
    if np.isinf(X32).any():
        raise ValueError("X contains a value too large for float32 (|x| > 3.4e38)")
    return X32


class BaseDecisionTree(BaseEstimator):
    """Shared fit/predict of the two CART estimators (parameters as in scikit-learn)."""

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        "max_depth": (None, Interval(numbers.Integral, low=1)),
        # min_samples_split, min_samples_leaf, max_features: a count or a fraction, resolved
        # against the data by resolve_min_samples / resolve_max_features
        "min_impurity_decrease": Interval(low=0.0),
    }

    def _grow(
        self, XT32: np.ndarray, ycode: np.ndarray, yval: np.ndarray, w: np.ndarray, n_stats: int
    ) -> Tree:
        """Validate the hyper-parameters and grow the tree on prepared arrays (no data checks).

        ``XT32`` is the float32 transpose (n_features, n_samples); samples with zero weight are
        left out, which is how the ensembles pass bootstrap samples.
        """
        validate_params(self)
        n = int(np.count_nonzero(w))
        min_split = resolve_min_samples(self.min_samples_split, "min_samples_split", n, low=2)
        min_leaf = resolve_min_samples(self.min_samples_leaf, "min_samples_leaf", n, low=1)
        self.max_features_ = resolve_max_features(self.max_features, XT32.shape[0])
        seed = int(check_random_state(self.random_state).integers(0, 2**62))
        depth = np.iinfo(np.int64).max if self.max_depth is None else self.max_depth
        left, right, feat, thr, miss, imp, n_nodes, wn, stats = build_tree(
            XT32,
            ycode,
            yval,
            w,
            n_stats,
            CRITERIA[self.criterion],
            self._is_clf,
            depth,
            max(min_split, 2 * min_leaf),
            min_leaf,
            self.max_features_,
            float(self.min_impurity_decrease),
            seed,
        )
        if self._is_clf:
            value = stats / wn[:, None]
        else:
            value = stats[:, :1] / wn[:, None]
        return Tree(
            children_left=left,
            children_right=right,
            feature=feat,
            threshold=thr,
            missing_go_to_left=miss,
            impurity=imp,
            n_node_samples=n_nodes,
            weighted_n_node_samples=wn,
            value=value[:, None, :],
        )

    def _prepare(self, X: Any, y: Any, sample_weight: Any) -> tuple:
        X, y = check_X_y(self, X, y, classifier=self._is_clf)
        w = sample_weight_array(sample_weight, X.shape[0])
        XT32 = np.ascontiguousarray(as_float32(X).T)
        return XT32, y, w

    def _leaf_values(self, X: Any) -> np.ndarray:
        X = check_X(self, X, reset=False)
        return self.tree_.predict(as_float32(X))

    def apply(self, X: Any) -> np.ndarray:
        """Index of the leaf that each sample ends in."""
        return self.tree_.apply(as_float32(check_X(self, X, reset=False)))

    @property
    def feature_importances_(self) -> np.ndarray:
        """Normalised total impurity decrease brought by each feature (mean decrease impurity)."""
        return self.tree_.compute_feature_importances(self.n_features_in_)

    def get_depth(self) -> int:
        return self.tree_.max_depth

    def get_n_leaves(self) -> int:
        return self.tree_.n_leaves

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags


class DecisionTreeClassifier(ClassifierMixin, BaseDecisionTree):
    """CART classifier (gini or entropy), accepting NaN in ``X``.

    Parameters
    ----------
    criterion : {"gini", "entropy", "log_loss"}, default="gini"
        Impurity :math:`1 - \\sum_k p_k^2` or :math:`-\\sum_k p_k \\log_2 p_k`.
    max_depth : int or None, default=None
        Maximum depth; ``None`` grows until leaves are pure or too small to split.
    min_samples_split : int or float, default=2
        Minimum samples (or fraction of samples) a node needs to be split.
    min_samples_leaf : int or float, default=1
        Minimum samples (or fraction) in each child of a split.
    max_features : int, float, {"sqrt", "log2"} or None, default=None
        Features drawn at random (without replacement) and searched at each node.
    min_impurity_decrease : float, default=0.0
        A split is made only if the weighted impurity decrease :math:`\\Delta` reaches this.
    random_state : int, Generator or None, default=None
        Seeds the feature order at each node.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    tree_ : Tree
        The fitted node arrays.
    feature_importances_ : ndarray of shape (n_features,)
    n_features_in_ : int
    max_features_ : int

    Notes
    -----
    Gini impurity, entropy and the split rule are in :mod:`mlcanon.tree._criterion`.

    References
    ----------
    Breiman et al. (1984). Classification and Regression Trees, ch. 4.
    """

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        **BaseDecisionTree._parameter_constraints,
        "criterion": Options("gini", "entropy", "log_loss"),
    }
    _is_clf = True

    def __init__(
        self,
        *,
        criterion: str = "gini",
        max_depth: int | None = None,
        min_samples_split: int | float = 2,
        min_samples_leaf: int | float = 1,
        max_features: int | float | str | None = None,
        min_impurity_decrease: float = 0.0,
        random_state: int | np.random.Generator | None = None,
    ) -> None:
        store_params(self, locals())

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> DecisionTreeClassifier:
        """Grow the tree on ``X`` (n_samples, n_features; NaN allowed) and labels ``y``."""
        XT32, y, w = self._prepare(X, y, sample_weight)
        self.classes_, codes = encode_labels(y)
        self.n_classes_ = len(self.classes_)
        self.tree_ = self._grow(XT32, codes, np.zeros(1), w, self.n_classes_)
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class distribution of the leaf each sample reaches: shape (n_samples, n_classes)."""
        return self._leaf_values(X)

    def predict_log_proba(self, X: Any) -> np.ndarray:
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X: Any) -> np.ndarray:
        """Majority class of the leaf each sample reaches."""
        index = np.argmax(self.predict_proba(X), axis=1)
        return self.classes_[index]


class DecisionTreeRegressor(RegressorMixin, BaseDecisionTree):
    """CART regressor (squared error), accepting NaN in ``X``.

    Parameters
    ----------
    criterion : {"squared_error"}, default="squared_error"
        Node impurity :math:`\\frac1{w}\\sum_i w_i (y_i - \\bar y)^2`; a leaf predicts
        :math:`\\bar y`.
    max_depth, min_samples_split, min_samples_leaf, max_features, min_impurity_decrease, \
random_state
        As in :class:`DecisionTreeClassifier`.

    Attributes
    ----------
    tree_ : Tree
    feature_importances_ : ndarray of shape (n_features,)
    n_features_in_ : int
    max_features_ : int

    References
    ----------
    Breiman et al. (1984). Classification and Regression Trees, ch. 8.
    """

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        **BaseDecisionTree._parameter_constraints,
        "criterion": Options("squared_error"),
    }
    _is_clf = False

    def __init__(
        self,
        *,
        criterion: str = "squared_error",
        max_depth: int | None = None,
        min_samples_split: int | float = 2,
        min_samples_leaf: int | float = 1,
        max_features: int | float | str | None = None,
        min_impurity_decrease: float = 0.0,
        random_state: int | np.random.Generator | None = None,
    ) -> None:
        store_params(self, locals())

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> DecisionTreeRegressor:
        """Grow the tree on ``X`` (n_samples, n_features; NaN allowed) and targets ``y``."""
        XT32, y, w = self._prepare(X, y, sample_weight)
        self.tree_ = self._grow(XT32, np.zeros(1, np.int64), y, w, 2)
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Mean training target of the leaf each sample reaches."""
        return self._leaf_values(X)[:, 0]


@io.on_load(BaseDecisionTree)
def _check_loaded(model: BaseDecisionTree) -> None:
    """A loaded tree's splits must index columns of ``X``; its leaves hold one value per class."""
    tree = vars(model).get("tree_")
    if tree is None:
        return
    if not isinstance(tree, Tree):
        raise ValueError(f"tree_ must be a Tree, got {type(tree).__name__}")
    try:
        check_nodes(
            tree.children_left,
            tree.children_right,
            tree.feature,
            tree.threshold,
            tree.missing_go_to_left,
            model.n_features_in_,
        )
    except ValueError as exc:
        raise ValueError(f"tree_: {exc}") from exc
    n_values = len(model.classes_) if model._is_clf else 1
    if tree.value.shape[1:] != (1, n_values):
        raise ValueError(f"tree_.value must have shape (node_count, 1, {n_values})")
