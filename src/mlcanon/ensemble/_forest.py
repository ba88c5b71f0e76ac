"""Random forests and extra-trees: bootstrap samples, random feature subsets, averaged trees.

Tree :math:`b` is grown on a bootstrap sample (``max_samples`` draws with replacement, with
probabilities proportional to ``sample_weight`` as in scikit-learn 1.9, passed to the tree as
integer sample weights) and searches only ``max_features`` random features at each node. The
extra-trees draw one random threshold per feature (:class:`~mlcanon.tree.ExtraTreeClassifier`)
and use the whole sample by default. The forest averages the trees' class distributions (or
predictions):

.. math:: \\hat p(y = k \\mid x) = \\frac1B \\sum_{b=1}^B \\hat p_b(y = k \\mid x).

Each sample is left out of about :math:`(1 - 1/n)^n \\approx e^{-1}` of the bootstrap samples;
predicting it with those trees only gives the out-of-bag (OOB) estimate of the test score.

The trees are independent, so they are fitted in parallel with joblib (threads by default; the
numba tree builder releases the GIL). Under ``joblib.parallel_config(backend="dask")`` the same
code ships the tree fits to the workers of a Dask cluster; a worker that dies mid-fit has its
tasks rerun by Dask on the others, or the fit raises (when the data that joblib scattered to
that worker died with it); a forest with fewer trees than ``n_estimators`` is never kept.

``warm_start=True`` keeps the fitted trees and adds the missing ones; tree :math:`b` always gets
the :math:`b`-th seed drawn from ``random_state``, so a forest grown in steps equals one grown at
once.

References
----------
Breiman (2001). Random Forests. Machine Learning 45(1), 5-32.
Geurts, Ernst, Wehenkel (2006). Extremely randomized trees. Machine Learning 63(1), 3-42.
"""

from __future__ import annotations

from functools import partialmethod
from typing import Any

import numpy as np

from mlcanon._estimator import store_params
from mlcanon.tree import (
    DecisionTreeClassifier,
    DecisionTreeRegressor,
    ExtraTreeClassifier,
    ExtraTreeRegressor,
)
from mlcanon.tree._checks import deprecated_criterion

from ._forest_base import ForestClassifier, ForestRegressor

__all__ = [
    "ExtraTreesClassifier",
    "ExtraTreesRegressor",
    "RandomForestClassifier",
    "RandomForestRegressor",
]


class RandomForestClassifier(ForestClassifier):
    """Random forest of CART classifiers (bootstrap + random feature subsets), NaN allowed.

    Parameters
    ----------
    n_estimators : int, default=100
        Number of trees.
    criterion, max_depth, min_samples_split, min_samples_leaf, min_weight_fraction_leaf, \\
max_leaf_nodes, min_impurity_decrease, monotonic_cst
        Passed to each tree (see :class:`~mlcanon.tree.DecisionTreeClassifier`).
    max_features : int, float, {"sqrt", "log2"} or None, default="sqrt"
        Features searched at each node.
    bootstrap : bool, default=True
        Draw a bootstrap sample for each tree (otherwise every tree sees all samples).
    oob_score : bool or callable, default=False
        Compute ``oob_score_``: accuracy of the out-of-bag predictions (every output right), or
        the given ``score(y, y_pred)`` on the class codes.
    n_jobs : int or None, default=None
        joblib workers for fitting and predicting (``-1``: all cores).
    random_state : int, Generator or None, default=None
    verbose : int, default=0
        Above 1, print a line as each tree starts.
    warm_start : bool, default=False
        Keep the fitted trees and add ``n_estimators - len(estimators_)`` new ones; the new
        ``X`` and ``y`` must have the fitted columns, outputs and classes (else ValueError).
    class_weight : dict, list of dicts, "balanced", "balanced_subsample" or None, default=None
        Class weights multiplied into ``sample_weight`` (``"balanced_subsample"``: balanced on
        each tree's bootstrap sample).
    max_samples : int, float or None, default=None
        Size of each bootstrap sample (a float: that fraction of the total sample weight).

    Attributes
    ----------
    estimators_ : list of DecisionTreeClassifier
    classes_ : ndarray, or a list of them (one per output)
    n_outputs_ : int
    oob_score_ : float
    oob_decision_function_ : ndarray of shape (n_samples, n_classes[, n_outputs])
    feature_importances_ : ndarray of shape (n_features,)
    estimators_samples_ : list of ndarray

    Notes
    -----
    :math:`\\hat p(k \\mid x) = \\frac1B \\sum_b \\hat p_b(k \\mid x)`; predict its argmax.

    References
    ----------
    Breiman (2001). Random Forests. Machine Learning 45(1), 5-32.
    """

    _tree_class = DecisionTreeClassifier

    def __init__(
        self,
        n_estimators: int = 100,
        *,
        criterion: str = "gini",
        max_depth: int | None = None,
        min_samples_split: int | float = 2,
        min_samples_leaf: int | float = 1,
        min_weight_fraction_leaf: float = 0.0,
        max_features: int | float | str | None = "sqrt",
        max_leaf_nodes: int | None = None,
        min_impurity_decrease: float = 0.0,
        bootstrap: bool = True,
        oob_score: bool | Any = False,
        n_jobs: int | None = None,
        random_state: int | np.random.Generator | None = None,
        verbose: int = 0,
        warm_start: bool = False,
        class_weight: dict | list | str | None = None,
        ccp_alpha: float = 0.0,
        max_samples: int | float | None = None,
        monotonic_cst: Any = None,
    ) -> None:
        store_params(self, locals())


class RandomForestRegressor(ForestRegressor):
    """Random forest of CART regressors; the prediction is the mean of the trees'.

    Parameters
    ----------
    As :class:`RandomForestClassifier` (without ``class_weight``), with
    ``criterion="squared_error"`` (or ``"poisson"``) and ``max_features=1.0`` by default.

    Attributes
    ----------
    estimators_ : list of DecisionTreeRegressor
    n_outputs_ : int
    oob_score_ : float
        :math:`R^2` of the out-of-bag predictions (averaged over the outputs), or the given
        ``oob_score(y, y_pred)``.
    oob_prediction_ : ndarray of shape (n_samples,) or (n_samples, n_outputs)
    feature_importances_ : ndarray of shape (n_features,)

    References
    ----------
    Breiman (2001). Random Forests. Machine Learning 45(1), 5-32.
    """

    _tree_class = DecisionTreeRegressor

    def __init__(
        self,
        n_estimators: int = 100,
        *,
        criterion: str = "squared_error",
        max_depth: int | None = None,
        min_samples_split: int | float = 2,
        min_samples_leaf: int | float = 1,
        min_weight_fraction_leaf: float = 0.0,
        max_features: int | float | str | None = 1.0,
        max_leaf_nodes: int | None = None,
        min_impurity_decrease: float = 0.0,
        bootstrap: bool = True,
        oob_score: bool | Any = False,
        n_jobs: int | None = None,
        random_state: int | np.random.Generator | None = None,
        verbose: int = 0,
        warm_start: bool = False,
        ccp_alpha: float = 0.0,
        max_samples: int | float | None = None,
        monotonic_cst: Any = None,
    ) -> None:
        criterion = deprecated_criterion(criterion)
        store_params(self, locals())


class ExtraTreesClassifier(ForestClassifier):
    """Extra-trees classifier: :class:`RandomForestClassifier` made of
    :class:`~mlcanon.tree.ExtraTreeClassifier` (one random threshold per visited feature),
    each grown on the whole sample by default (``bootstrap=False``).

    References
    ----------
    Geurts, Ernst, Wehenkel (2006). Extremely randomized trees. Machine Learning 63(1), 3-42.
    """

    _tree_class = ExtraTreeClassifier
    # the random forest's parameters, bootstrap=False by default (get_params reads this signature)
    __init__ = partialmethod(RandomForestClassifier.__init__, bootstrap=False)


class ExtraTreesRegressor(ForestRegressor):
    """Extra-trees regressor: :class:`RandomForestRegressor` made of
    :class:`~mlcanon.tree.ExtraTreeRegressor`, each grown on the whole sample by default.

    References
    ----------
    Geurts, Ernst, Wehenkel (2006). Extremely randomized trees. Machine Learning 63(1), 3-42.
    """

    _tree_class = ExtraTreeRegressor
    __init__ = partialmethod(RandomForestRegressor.__init__, bootstrap=False)
