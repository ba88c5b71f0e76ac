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

from functools import partialmethod
from typing import Any, ClassVar

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin

from mlcanon._estimator import store_params
from mlcanon._validation import Options

from ._base import CLASS_WEIGHT, BaseDecisionTree, ClassifierOutputsMixin, RegressorOutputsMixin
from ._checks import (
    check_class_weight,
    check_class_weighted,
    check_poisson_targets,
    class_weight_factors,
    deprecated_criterion,
    encode_columns,
)

__all__ = [
    "DecisionTreeClassifier",
    "DecisionTreeRegressor",
    "ExtraTreeClassifier",
    "ExtraTreeRegressor",
]

# The growth parameters of both trees (spliced into their docstrings).
_PARAMS_DOC = """
    splitter : {"best", "random"}, default="best"
        Exact search of every threshold, or one random threshold per feature (extra trees).
    max_features : int, float, {"sqrt", "log2"} or None, default=None
        Features drawn at random (without replacement) and searched at each node.
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
    monotonic_cst : array-like of int of shape (n_features,) or None, default=None
        Monotonicity constraint of each feature: 1 increasing, -1 decreasing, 0 none (the
        probability of the positive class for a binary classifier; several outputs and
        multiclass targets are refused). A split that breaks a constraint, or the bounds that
        the splits above set, is not made, and node values are clipped into those bounds (see
        :mod:`mlcanon.tree._monotonic`)."""


class DecisionTreeClassifier(ClassifierMixin, ClassifierOutputsMixin, BaseDecisionTree):
    __doc__ = (
        """CART classifier (gini or entropy), accepting NaN in ``X`` and several outputs in ``y``.

    Parameters
    ----------
    criterion : {"gini", "entropy", "log_loss"}, default="gini"
        Impurity :math:`1 - \\sum_k p_k^2` or :math:`-\\sum_k p_k \\log_2 p_k` (averaged over
        the outputs)."""
        + _PARAMS_DOC
        + """
    class_weight : dict, list of dicts, "balanced" or None, default=None
        Weight of each class (per output), multiplied into ``sample_weight``; "balanced" uses
        ``n_samples / (n_classes * count(class))``.

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
    )

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        **BaseDecisionTree._parameter_constraints,
        "criterion": Options("gini", "entropy", "log_loss"),
        "class_weight": CLASS_WEIGHT,
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
        monotonic_cst: Any = None,
    ) -> None:
        store_params(self, locals())

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> DecisionTreeClassifier:
        """Grow the tree on ``X`` (n_samples, n_features; NaN allowed, scipy.sparse densified)
        and labels ``y`` (n_samples,) or (n_samples, n_outputs)."""
        XT32, y, w = self._prepare(X, y, sample_weight)
        classes, codes = encode_columns(y)
        check_class_weight(self.class_weight, len(classes))
        w = w * class_weight_factors(self.class_weight, classes, codes)
        check_class_weighted(w, self.class_weight)
        self._set_classes(classes)
        stride = max(len(c) for c in classes)
        self.tree_ = self._grow(XT32, codes, np.zeros((1, 1)), w, stride)
        return self


class DecisionTreeRegressor(RegressorMixin, RegressorOutputsMixin, BaseDecisionTree):
    __doc__ = (
        """CART regressor (squared error, absolute error or Poisson deviance), accepting NaN in
    ``X`` and several outputs in ``y``.

    Parameters
    ----------
    criterion : {"squared_error", "absolute_error", "poisson"}, default="squared_error"
        Node impurity :math:`\\frac1{w}\\sum_i w_i (y_i - \\bar y)^2`, the mean absolute
        deviation from the weighted median :math:`\\tilde y` (a leaf then predicts
        :math:`\\tilde y`), or the half Poisson deviance
        :math:`\\frac1{w}\\sum_i w_i y_i \\log(y_i / \\bar y)` (``y >= 0``); a leaf
        predicts :math:`\\bar y`. ``"friedman_mse"`` is a deprecated alias of
        ``"squared_error"`` (as in scikit-learn 1.9, which maps it there with a FutureWarning)."""
        + _PARAMS_DOC
        + """

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
    )

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
        monotonic_cst: Any = None,
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


class ExtraTreeClassifier(DecisionTreeClassifier):
    """Extremely randomized tree: :class:`DecisionTreeClassifier` with ``splitter="random"``
    and ``max_features="sqrt"`` by default (one random threshold per visited feature).

    References
    ----------
    Geurts, Ernst, Wehenkel (2006). Extremely randomized trees. Machine Learning 63(1), 3-42.
    """

    # the same parameters, two other defaults (get_params and clone read this signature)
    __init__ = partialmethod(
        DecisionTreeClassifier.__init__, splitter="random", max_features="sqrt"
    )


class ExtraTreeRegressor(DecisionTreeRegressor):
    """Extremely randomized tree: :class:`DecisionTreeRegressor` with ``splitter="random"``
    and ``max_features=1.0`` by default.

    References
    ----------
    Geurts, Ernst, Wehenkel (2006). Extremely randomized trees. Machine Learning 63(1), 3-42.
    """

    __init__ = partialmethod(DecisionTreeRegressor.__init__, splitter="random", max_features=1.0)
