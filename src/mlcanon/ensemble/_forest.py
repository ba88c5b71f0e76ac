"""Random forests: bootstrap samples, random feature subsets, averaged CART trees.

Tree :math:`b` is grown on a bootstrap sample (``n`` draws with replacement, passed to the tree
as integer sample weights) and searches only ``max_features`` random features at each node. The
forest averages the trees' class distributions (or predictions):

.. math:: \\hat p(y = k \\mid x) = \\frac1B \\sum_{b=1}^B \\hat p_b(y = k \\mid x).

Each sample is left out of about :math:`(1 - 1/n)^n \\approx e^{-1}` of the bootstrap samples;
predicting it with those trees only gives the out-of-bag (OOB) estimate of the test score.

The trees are independent, so they are fitted in parallel with joblib (threads by default; the
numba tree builder releases the GIL). Under ``joblib.parallel_config(backend="dask")`` the same
code ships the tree fits to the workers of a Dask cluster; a worker that dies mid-fit has its
tasks rerun by Dask on the others, or the fit raises (when the data that joblib scattered to
that worker died with it); a forest with fewer trees than ``n_estimators`` is never kept.

References
----------
Breiman (2001). Random Forests. Machine Learning 45(1), 5-32.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin

from mlcanon import io
from mlcanon._estimator import encode_labels, sample_weight_array
from mlcanon._validation import check_random_state, check_scalar
from mlcanon.tree import DecisionTreeClassifier, DecisionTreeRegressor
from mlcanon.tree._checks import check_X, check_X_y
from mlcanon.tree._classes import as_float32

__all__ = ["RandomForestClassifier", "RandomForestRegressor"]


def fit_members(n_jobs: int | None, jobs: Iterable, n_estimators: int) -> list:
    """Run the members' fits through joblib; all of them come back fitted, or this raises.

    On a Dask cluster a worker that dies is rerun elsewhere by Dask when it can be; when it
    cannot (the data joblib scattered to that worker died with it) Dask cancels the batch, which
    is reported here as a ``RuntimeError`` rather than as Dask's internal cancellation.
    """
    try:
        members = Parallel(n_jobs=n_jobs, prefer="threads")(jobs)
    except BaseException as e:  # Dask's FutureCancelledError derives from BaseException
        if type(e).__module__.split(".")[0] != "distributed":
            raise
        raise RuntimeError(
            f"the Dask cluster lost a worker and its data during the fit ({type(e).__name__}: "
            f"{e}); no partial ensemble was kept: fit again"
        ) from e
    fitted = [m for m in members if m is not None]
    if len(fitted) != n_estimators:
        raise RuntimeError(
            f"{len(fitted)} of n_estimators={n_estimators} members came back fitted; the "
            f"parallel backend lost work"
        )
    return members


def _bootstrap_indices(seed: int, n_samples: int, n_draws: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, n_samples, n_draws)


def _fit_tree(tree, XT32, ycode, yval, w, n_stats, seed, n_draws, bootstrap):
    """Fit one tree of the forest (a joblib task: it must be a picklable module function)."""
    if bootstrap:
        counts = np.bincount(_bootstrap_indices(seed, len(w), n_draws), minlength=len(w))
        w = w * counts
    tree.tree_ = tree._grow(XT32, ycode, yval, w, n_stats)
    return tree


class BaseForest(BaseEstimator):
    def __init__(
        self,
        n_estimators: int = 100,
        *,
        criterion: str,
        max_depth: int | None = None,
        min_samples_split: int | float = 2,
        min_samples_leaf: int | float = 1,
        max_features: int | float | str | None,
        min_impurity_decrease: float = 0.0,
        bootstrap: bool = True,
        oob_score: bool = False,
        max_samples: int | float | None = None,
        n_jobs: int | None = None,
        random_state: int | np.random.Generator | None = None,
    ) -> None:
        self.n_estimators = n_estimators
        self.criterion = criterion
        self.max_depth = max_depth
        self.min_samples_split = min_samples_split
        self.min_samples_leaf = min_samples_leaf
        self.max_features = max_features
        self.min_impurity_decrease = min_impurity_decrease
        self.bootstrap = bootstrap
        self.oob_score = oob_score
        self.max_samples = max_samples
        self.n_jobs = n_jobs
        self.random_state = random_state

    def _n_draws(self, n: int) -> int:
        if self.max_samples is None:
            return n
        if isinstance(self.max_samples, numbers.Integral) and not isinstance(
            self.max_samples, bool
        ):
            check_scalar(self.max_samples, "max_samples", kind=numbers.Integral, low=1, high=n)
            return int(self.max_samples)
        check_scalar(
            self.max_samples, "max_samples", kind=numbers.Real, low=0.0, high=1.0, include_low=False
        )
        return max(1, round(self.max_samples * n))

    def _fit_forest(self, X, ycode, yval, w, n_stats) -> None:
        check_scalar(self.n_estimators, "n_estimators", kind=numbers.Integral, low=1)
        if not isinstance(self.bootstrap, bool | np.bool_):
            raise TypeError(f"bootstrap must be a bool, got {self.bootstrap!r}")
        if self.oob_score and not self.bootstrap:
            raise ValueError("oob_score=True needs bootstrap=True (no sample is out of bag)")
        n_draws = self._n_draws(X.shape[0])
        rng = check_random_state(self.random_state)
        self._seeds = rng.integers(0, 2**62, self.n_estimators)
        XT32 = np.ascontiguousarray(as_float32(X).T)
        trees = []
        for s in self._seeds:
            tree = self._make_tree(int(np.random.default_rng(s).integers(2**31)))
            tree.n_features_in_ = X.shape[1]
            trees.append(tree)
        self.estimators_ = fit_members(
            self.n_jobs,
            (
                delayed(_fit_tree)(
                    t, XT32, ycode, yval, w, n_stats, int(s), n_draws, self.bootstrap
                )
                for t, s in zip(trees, self._seeds, strict=True)
            ),
            self.n_estimators,
        )
        self._n_draws_fit = n_draws

    def _make_tree(self, seed: int):
        return self._tree_class(
            criterion=self.criterion,
            max_depth=self.max_depth,
            min_samples_split=self.min_samples_split,
            min_samples_leaf=self.min_samples_leaf,
            max_features=self.max_features,
            min_impurity_decrease=self.min_impurity_decrease,
            random_state=seed,
        )

    def _tree_sum(self, X32: np.ndarray, trees: list | None = None) -> np.ndarray:
        """Sum over trees of the leaf values reached by each row: (n_samples, n_values)."""
        trees = self.estimators_ if trees is None else trees
        parts = Parallel(n_jobs=self.n_jobs, prefer="threads")(
            delayed(t.tree_.predict)(X32) for t in trees
        )
        return np.sum(parts, axis=0)

    def _oob_values(self, X32: np.ndarray, n_values: int) -> np.ndarray:
        """Average leaf values of each sample over the trees that did not draw it (NaN if none)."""
        n = X32.shape[0]
        acc, hits = np.zeros((n, n_values)), np.zeros(n)
        for tree, s in zip(self.estimators_, self._seeds, strict=True):
            oob = np.bincount(_bootstrap_indices(int(s), n, self._n_draws_fit), minlength=n) == 0
            if oob.any():
                acc[oob] += tree.tree_.predict(X32[oob])
                hits[oob] += 1
        with np.errstate(invalid="ignore", divide="ignore"):
            return acc / hits[:, None]

    @property
    def feature_importances_(self) -> np.ndarray:
        """Mean over trees of their (normalised) impurity-decrease importances."""
        imp = np.mean([t.feature_importances_ for t in self.estimators_], axis=0)
        return imp / imp.sum() if imp.sum() > 0 else imp

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags


class RandomForestClassifier(ClassifierMixin, BaseForest):
    """Random forest of CART classifiers (bootstrap + random feature subsets), NaN allowed.

    Parameters
    ----------
    n_estimators : int, default=100
        Number of trees.
    criterion, max_depth, min_samples_split, min_samples_leaf, min_impurity_decrease
        Passed to each :class:`~mlcanon.tree.DecisionTreeClassifier`.
    max_features : int, float, {"sqrt", "log2"} or None, default="sqrt"
        Features searched at each node.
    bootstrap : bool, default=True
        Draw a bootstrap sample for each tree (otherwise every tree sees all samples).
    oob_score : bool, default=False
        Compute ``oob_score_`` (accuracy of out-of-bag predictions).
    max_samples : int, float or None, default=None
        Size of each bootstrap sample (default ``n_samples``).
    n_jobs : int or None, default=None
        joblib workers for fitting and predicting (``-1``: all cores).
    random_state : int, Generator or None, default=None

    Attributes
    ----------
    estimators_ : list of DecisionTreeClassifier
    classes_ : ndarray
    oob_score_ : float
    oob_decision_function_ : ndarray of shape (n_samples, n_classes)
    feature_importances_ : ndarray of shape (n_features,)

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
        max_features: int | float | str | None = "sqrt",
        min_impurity_decrease: float = 0.0,
        bootstrap: bool = True,
        oob_score: bool = False,
        max_samples: int | float | None = None,
        n_jobs: int | None = None,
        random_state: int | np.random.Generator | None = None,
    ) -> None:
        super().__init__(
            n_estimators,
            criterion=criterion,
            max_depth=max_depth,
            min_samples_split=min_samples_split,
            min_samples_leaf=min_samples_leaf,
            max_features=max_features,
            min_impurity_decrease=min_impurity_decrease,
            bootstrap=bootstrap,
            oob_score=oob_score,
            max_samples=max_samples,
            n_jobs=n_jobs,
            random_state=random_state,
        )

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> RandomForestClassifier:
        """Fit ``n_estimators`` trees on bootstrap samples of ``X`` (NaN allowed), ``y``."""
        X, y = check_X_y(self, X, y, classifier=True)
        w = sample_weight_array(sample_weight, X.shape[0])
        self.classes_, codes = encode_labels(y)
        self.n_classes_ = len(self.classes_)
        self._fit_forest(X, codes, np.zeros(1), w, self.n_classes_)
        for tree in self.estimators_:
            tree.classes_, tree.n_classes_ = self.classes_, self.n_classes_
        if self.oob_score:
            proba = self._oob_values(as_float32(X), self.n_classes_)
            self.oob_decision_function_ = proba
            seen = ~np.isnan(proba[:, 0])
            self.oob_score_ = float(np.mean(codes[seen] == np.argmax(proba[seen], axis=1)))
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Mean of the trees' leaf class distributions: shape (n_samples, n_classes)."""
        X32 = as_float32(check_X(self, X, reset=False))
        return self._tree_sum(X32) / len(self.estimators_)

    def predict(self, X: Any) -> np.ndarray:
        index = np.argmax(self.predict_proba(X), axis=1)
        return self.classes_[index]


class RandomForestRegressor(RegressorMixin, BaseForest):
    """Random forest of CART regressors; the prediction is the mean of the trees'.

    Parameters
    ----------
    As :class:`RandomForestClassifier`, with ``criterion="squared_error"`` and
    ``max_features=1.0`` (all features) by default.

    Attributes
    ----------
    estimators_ : list of DecisionTreeRegressor
    oob_score_ : float
        :math:`R^2` of the out-of-bag predictions.
    oob_prediction_ : ndarray of shape (n_samples,)
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
        max_features: int | float | str | None = 1.0,
        min_impurity_decrease: float = 0.0,
        bootstrap: bool = True,
        oob_score: bool = False,
        max_samples: int | float | None = None,
        n_jobs: int | None = None,
        random_state: int | np.random.Generator | None = None,
    ) -> None:
        super().__init__(
            n_estimators,
            criterion=criterion,
            max_depth=max_depth,
            min_samples_split=min_samples_split,
            min_samples_leaf=min_samples_leaf,
            max_features=max_features,
            min_impurity_decrease=min_impurity_decrease,
            bootstrap=bootstrap,
            oob_score=oob_score,
            max_samples=max_samples,
            n_jobs=n_jobs,
            random_state=random_state,
        )

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> RandomForestRegressor:
        """Fit ``n_estimators`` trees on bootstrap samples of ``X`` (NaN allowed), ``y``."""
        X, y = check_X_y(self, X, y, classifier=False)
        w = sample_weight_array(sample_weight, X.shape[0])
        self._fit_forest(X, np.zeros(1, np.int64), y, w, 2)
        if self.oob_score:
            pred = self._oob_values(as_float32(X), 1)[:, 0]
            self.oob_prediction_ = pred
            seen = ~np.isnan(pred)
            resid = y[seen] - pred[seen]
            self.oob_score_ = float(1 - resid @ resid / np.sum((y[seen] - y[seen].mean()) ** 2))
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Mean of the trees' predictions."""
        X32 = as_float32(check_X(self, X, reset=False))
        return self._tree_sum(X32)[:, 0] / len(self.estimators_)


@io.on_load(BaseForest)
def _check_loaded(forest: BaseForest) -> None:
    """The forest hands its own ``X`` to every tree's kernel: their widths must agree."""
    for i, tree in enumerate(vars(forest).get("estimators_", ())):
        if not (isinstance(tree, forest._tree_class) and "tree_" in vars(tree)):
            raise ValueError(f"estimators_[{i}] must be a fitted {forest._tree_class.__name__}")
        if tree.n_features_in_ != forest.n_features_in_:
            raise ValueError(
                f"estimators_[{i}].n_features_in_={tree.n_features_in_} differs from the "
                f"forest's n_features_in_={forest.n_features_in_}"
            )
