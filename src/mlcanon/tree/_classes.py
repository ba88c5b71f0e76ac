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
import warnings
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, clone
from sklearn.utils import Bunch

from mlcanon import io
from mlcanon._estimator import encode_labels, sample_weight_array, store_params
from mlcanon._validation import Interval, Options, check_random_state, validate_params

from ._builder import build_tree
from ._checks import (
    check_class_weight,
    check_X,
    check_X_y,
    class_weight_factors,
    resolve_max_features,
    resolve_min_samples,
)
from ._criterion import CRITERIA
from ._prune import prune, pruning_path
from ._tree import Tree, check_nodes

__all__ = [
    "DecisionTreeClassifier",
    "DecisionTreeRegressor",
    "ExtraTreeClassifier",
    "ExtraTreeRegressor",
]


def as_float32(X: np.ndarray) -> np.ndarray:
    """float32 copy of a validated matrix; values beyond float32's range are refused."""
    with np.errstate(over="ignore"):
        X32 = np.ascontiguousarray(X, dtype=np.float32)
    if np.isinf(X32).any():
        raise ValueError("X contains a value too large for float32 (|x| > 3.4e38)")
    return X32


def _as_columns(a: np.ndarray, dtype: Any) -> np.ndarray:
    """A 1-D target (or class codes) as one column; 2-D input is kept."""
    a = np.asarray(a, dtype=dtype)
    return np.ascontiguousarray(a.reshape(len(a), -1) if a.ndim == 1 else a)


class BaseDecisionTree(BaseEstimator):
    """Shared fit/predict of the CART estimators (parameters as in scikit-learn)."""

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        "splitter": Options("best", "random"),
        "max_depth": (None, Interval(numbers.Integral, low=1)),
        # min_samples_split, min_samples_leaf, max_features: a count or a fraction, resolved
        # against the data by resolve_min_samples / resolve_max_features
        "min_weight_fraction_leaf": Interval(low=0.0, high=0.5),
        "max_leaf_nodes": (None, Interval(numbers.Integral, low=2)),
        "min_impurity_decrease": Interval(low=0.0),
        "ccp_alpha": Interval(low=0.0),
    }

    def _settings(self, n: int, n_features: int, weight_sum: float) -> tuple:
        """The split-search ``rules`` and growth ``limits`` arrays of the kernels."""
        min_split = resolve_min_samples(self.min_samples_split, "min_samples_split", n, low=2)
        min_leaf = resolve_min_samples(self.min_samples_leaf, "min_samples_leaf", n, low=1)
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
        """Validate the hyper-parameters and grow the tree on prepared arrays (no data checks).

        ``XT32`` is the float32 transpose (n_features, n_samples); ``ycode`` (classification,
        ``n_stats`` = the largest class count) or ``yval`` (regression) hold one column per
        output (a 1-D array is one output). Samples with zero weight are left out, which is how
        the ensembles pass bootstrap samples.
        """
        validate_params(self)
        ycode, yval = _as_columns(ycode, np.int64), _as_columns(yval, np.float64)
        n_out = ycode.shape[1] if self._is_clf else yval.shape[1]
        n_stats = n_out * n_stats if self._is_clf else 3 * n_out + 1
        rules, limits = self._settings(int(np.count_nonzero(w)), XT32.shape[0], float(w.sum()))
        seed = int(check_random_state(self.random_state).integers(0, 2**62))
        target = (CRITERIA[self.criterion], self._is_clf, ycode, yval, w, n_stats // n_out)
        left, right, feat, thr, miss, imp, n_nodes, wn, stats = build_tree(
            XT32, target, n_stats, rules, limits, seed
        )
        if self._is_clf:
            value = stats.reshape(len(wn), n_out, -1) / wn[:, None, None]
        elif self.criterion == "absolute_error":  # the weighted medians
            value = stats[:, 2 * n_out + 1 :, None].copy()
        else:
            value = (stats[:, :n_out] / wn[:, None])[:, :, None]
        tree = Tree(
            n_features=XT32.shape[0],
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
        X, y = check_X_y(self, X, y, classifier=self._is_clf, accept_sparse=True, multi_output=True)
        w = sample_weight_array(sample_weight, X.shape[0])
        XT32 = np.ascontiguousarray(as_float32(X).T)
        self.n_outputs_ = 1 if y.ndim == 1 else y.shape[1]
        return XT32, y, w

    def _X32(self, X: Any) -> np.ndarray:
        return as_float32(check_X(self, X, reset=False, accept_sparse=True))

    def _leaf_values(self, X: Any) -> np.ndarray:
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
        return self.tree_.compute_feature_importances(self.n_features_in_)

    def get_depth(self) -> int:
        return self.tree_.max_depth

    def get_n_leaves(self) -> int:
        return self.tree_.n_leaves

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.sparse = True
        tags.target_tags.multi_output = True
        return tags


class DecisionTreeClassifier(ClassifierMixin, BaseDecisionTree):
    """CART classifier (gini or entropy), accepting NaN in ``X`` and several outputs in ``y``.

    Parameters
    ----------
    criterion : {"gini", "entropy", "log_loss"}, default="gini"
        Impurity :math:`1 - \\sum_k p_k^2` or :math:`-\\sum_k p_k \\log_2 p_k` (averaged over
        the outputs).
    splitter : {"best", "random"}, default="best"
        Exact search of every threshold, or one random threshold per feature (extra trees).
    max_features : int, float, {"sqrt", "log2"} or None, default=None
        Features drawn at random (without replacement) and searched at each node.
    class_weight : dict, list of dicts, "balanced" or None, default=None
        Weight of each class (per output), multiplied into ``sample_weight``; "balanced" uses
        ``n_samples / (n_classes * count(class))``.
    max_depth : int or None, default=None
        Maximum depth; ``None`` grows until leaves are pure or too small to split.
    min_samples_split : int or float, default=2
        Minimum samples (or fraction of samples) a node needs to be split.
    min_samples_leaf : int or float, default=1
        Minimum samples (or fraction) in each child of a split.
    min_weight_fraction_leaf : float in [0, 0.5], default=0.0
        Minimum fraction of the total sample weight in each child of a split.
    max_leaf_nodes : int or None, default=None
        Grow best-first (the split with the largest impurity decrease next) up to this many
        leaves; ``None`` grows depth-first without a limit.
    min_impurity_decrease : float, default=0.0
        A split is made only if the weighted impurity decrease :math:`\\Delta` reaches this.
    random_state : int, Generator or None, default=None
        Seeds the feature order at each node (and the thresholds of the random splitter).
    ccp_alpha : float >= 0, default=0.0
        Minimal cost-complexity pruning: collapse the weakest links whose effective alpha is at
        most this (see ``cost_complexity_pruning_path``).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,), or a list of them (one per output)
    n_classes_ : int, or a list of ints
    n_outputs_ : int
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
        splitter: str = "best",
        max_depth: int | None = None,
        min_samples_split: int | float = 2,
        min_samples_leaf: int | float = 1,
        min_weight_fraction_leaf: float = 0.0,
        max_features: int | float | str | None = None,
        random_state: int | np.random.Generator | None = None,
        max_leaf_nodes: int | None = None,
        min_impurity_decrease: float = 0.0,
        class_weight: dict | list | str | None = None,
        ccp_alpha: float = 0.0,
    ) -> None:
        store_params(self, locals())

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> DecisionTreeClassifier:
        """Grow the tree on ``X`` (n_samples, n_features; NaN allowed, scipy.sparse densified)
        and labels ``y`` (n_samples,) or (n_samples, n_outputs)."""
        XT32, y, w = self._prepare(X, y, sample_weight)
        classes, codes = encode_columns(y)
        check_class_weight(self.class_weight, len(classes))
        w = w * class_weight_factors(self.class_weight, classes, codes)
        self._set_classes(classes)
        stride = max(len(c) for c in classes)
        self.tree_ = self._grow(XT32, codes, np.zeros((1, 1)), w, stride)
        return self

    def _set_classes(self, classes: list[np.ndarray]) -> None:
        single = self.n_outputs_ == 1
        self.classes_ = classes[0] if single else classes
        self.n_classes_ = len(classes[0]) if single else np.array([len(c) for c in classes])

    def _per_output(self, values: np.ndarray) -> list[np.ndarray]:
        classes = [self.classes_] if self.n_outputs_ == 1 else self.classes_
        return [values[:, k, : len(c)] for k, c in enumerate(classes)]

    def predict_proba(self, X: Any) -> np.ndarray | list[np.ndarray]:
        """Class distribution of the leaf each sample reaches: shape (n_samples, n_classes),
        or a list of them (one per output)."""
        proba = self._per_output(self._leaf_values(X))
        return proba[0] if self.n_outputs_ == 1 else proba

    def predict_log_proba(self, X: Any) -> np.ndarray | list[np.ndarray]:
        proba = self.predict_proba(X)
        with np.errstate(divide="ignore"):
            if self.n_outputs_ == 1:
                return np.log(proba)
            return [np.log(p) for p in proba]

    def predict(self, X: Any) -> np.ndarray:
        """Majority class of the leaf each sample reaches (one column per output)."""
        proba = self._per_output(self._leaf_values(X))
        classes = [self.classes_] if self.n_outputs_ == 1 else self.classes_
        labels = [c[np.argmax(p, axis=1)] for c, p in zip(classes, proba, strict=True)]
        return labels[0] if self.n_outputs_ == 1 else np.stack(labels, axis=1)


class DecisionTreeRegressor(RegressorMixin, BaseDecisionTree):
    """CART regressor (squared error or Poisson deviance), accepting NaN in ``X``.

    Parameters
    ----------
    criterion : {"squared_error", "absolute_error", "poisson"}, default="squared_error"
        Node impurity :math:`\\frac1{w}\\sum_i w_i (y_i - \\bar y)^2`, the mean absolute
        deviation from the weighted median :math:`\\tilde y` (a leaf then predicts
        :math:`\\tilde y`), or the half Poisson deviance
        :math:`\\frac1{w}\\sum_i w_i y_i \\log(y_i / \\bar y)` (``y >= 0``); a leaf
        predicts :math:`\\bar y`. ``"friedman_mse"`` is a deprecated alias of
        ``"squared_error"`` (as in scikit-learn 1.9, which maps it there with a FutureWarning).
    splitter : {"best", "random"}, default="best"
    max_features : int, float, {"sqrt", "log2"} or None, default=None
    max_depth : int or None, default=None
        Maximum depth; ``None`` grows until leaves are pure or too small to split.
    min_samples_split : int or float, default=2
        Minimum samples (or fraction of samples) a node needs to be split.
    min_samples_leaf : int or float, default=1
        Minimum samples (or fraction) in each child of a split.
    min_weight_fraction_leaf : float in [0, 0.5], default=0.0
        Minimum fraction of the total sample weight in each child of a split.
    max_leaf_nodes : int or None, default=None
        Grow best-first (the split with the largest impurity decrease next) up to this many
        leaves; ``None`` grows depth-first without a limit.
    min_impurity_decrease : float, default=0.0
        A split is made only if the weighted impurity decrease :math:`\\Delta` reaches this.
    random_state : int, Generator or None, default=None
        Seeds the feature order at each node (and the thresholds of the random splitter).
    ccp_alpha : float >= 0, default=0.0
        Minimal cost-complexity pruning: collapse the weakest links whose effective alpha is at
        most this (see ``cost_complexity_pruning_path``).

    Attributes
    ----------
    tree_ : Tree
    n_outputs_ : int
    feature_importances_ : ndarray of shape (n_features,)
    n_features_in_ : int
    max_features_ : int

    References
    ----------
    Breiman et al. (1984). Classification and Regression Trees, ch. 8.
    """

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        **BaseDecisionTree._parameter_constraints,
        "criterion": Options("squared_error", "absolute_error", "poisson"),
    }
    _is_clf = False

    def __init__(
        self,
        *,
        criterion: str = "squared_error",
        splitter: str = "best",
        max_depth: int | None = None,
        min_samples_split: int | float = 2,
        min_samples_leaf: int | float = 1,
        min_weight_fraction_leaf: float = 0.0,
        max_features: int | float | str | None = None,
        random_state: int | np.random.Generator | None = None,
        max_leaf_nodes: int | None = None,
        min_impurity_decrease: float = 0.0,
        ccp_alpha: float = 0.0,
    ) -> None:
        criterion = deprecated_criterion(criterion)
        store_params(self, locals())

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> DecisionTreeRegressor:
        """Grow the tree on ``X`` (n_samples, n_features; NaN allowed, scipy.sparse densified)
        and targets ``y`` (n_samples,) or (n_samples, n_outputs)."""
        XT32, y, w = self._prepare(X, y, sample_weight)
        if self.criterion == "poisson":
            check_poisson_targets(y)
        self.tree_ = self._grow(XT32, np.zeros((1, 1), np.int64), y, w, 1)
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Mean training target of the leaf each sample reaches (one column per output)."""
        values = self._leaf_values(X)[:, :, 0]
        return values[:, 0] if self.n_outputs_ == 1 else values


class ExtraTreeClassifier(DecisionTreeClassifier):
    """Extremely randomized tree: :class:`DecisionTreeClassifier` with ``splitter="random"``
    and ``max_features="sqrt"`` by default (one random threshold per visited feature).

    References
    ----------
    Geurts, Ernst, Wehenkel (2006). Extremely randomized trees. Machine Learning 63(1), 3-42.
    """

    def __init__(
        self,
        *,
        criterion: str = "gini",
        splitter: str = "random",
        max_depth: int | None = None,
        min_samples_split: int | float = 2,
        min_samples_leaf: int | float = 1,
        min_weight_fraction_leaf: float = 0.0,
        max_features: int | float | str | None = "sqrt",
        random_state: int | np.random.Generator | None = None,
        max_leaf_nodes: int | None = None,
        min_impurity_decrease: float = 0.0,
        class_weight: dict | list | str | None = None,
        ccp_alpha: float = 0.0,
    ) -> None:
        store_params(self, locals())


class ExtraTreeRegressor(DecisionTreeRegressor):
    """Extremely randomized tree: :class:`DecisionTreeRegressor` with ``splitter="random"``
    and ``max_features=1.0`` by default.

    References
    ----------
    Geurts, Ernst, Wehenkel (2006). Extremely randomized trees. Machine Learning 63(1), 3-42.
    """

    def __init__(
        self,
        *,
        criterion: str = "squared_error",
        splitter: str = "random",
        max_depth: int | None = None,
        min_samples_split: int | float = 2,
        min_samples_leaf: int | float = 1,
        min_weight_fraction_leaf: float = 0.0,
        max_features: int | float | str | None = 1.0,
        random_state: int | np.random.Generator | None = None,
        max_leaf_nodes: int | None = None,
        min_impurity_decrease: float = 0.0,
        ccp_alpha: float = 0.0,
    ) -> None:
        criterion = deprecated_criterion(criterion)
        store_params(self, locals())


def deprecated_criterion(criterion: Any) -> Any:
    """``"friedman_mse"`` -> ``"squared_error"`` with a FutureWarning, as scikit-learn 1.9 does
    (with one output the two always chose the same splits)."""
    if isinstance(criterion, str) and criterion == "friedman_mse":
        warnings.warn(
            'criterion="friedman_mse" is deprecated (as in scikit-learn): it is the same as '
            '"squared_error", which is used instead',
            FutureWarning,
            stacklevel=3,
        )
        return "squared_error"
    return criterion


def check_poisson_targets(y: np.ndarray) -> None:
    """The Poisson deviance needs ``y >= 0`` with a positive sum (per output)."""
    if np.any(y < 0):
        raise ValueError(
            "Some value(s) of y are negative which is not allowed for Poisson regression."
        )
    if np.any(np.sum(y, axis=0) <= 0):
        raise ValueError("Sum of y is not positive which is necessary for Poisson regression.")


def encode_columns(y: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """Class labels and codes of each output: ``(classes per output, codes (n, K))``."""
    Y = y.reshape(len(y), -1)
    pairs = [encode_labels(Y[:, k]) for k in range(Y.shape[1])]
    return [c for c, _ in pairs], np.stack([codes for _, codes in pairs], axis=1)


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
    n_outputs = vars(model).get("n_outputs_", 1)  # trees grown by boosting keep one output
    if model._is_clf:
        classes = [model.classes_] if n_outputs == 1 else model.classes_
        shape = (len(classes), max(len(c) for c in classes))
    else:
        shape = (n_outputs, 1)
    if tree.value.shape[1:] != shape:
        raise ValueError(f"tree_.value must have shape (node_count, {shape[0]}, {shape[1]})")
