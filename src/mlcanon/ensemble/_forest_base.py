"""The machinery of the forests: parallel tree fits on bootstrap samples, averaged predictions
and the out-of-bag estimate (see :mod:`mlcanon.ensemble._forest` for the algorithm).

Tree :math:`b` keeps its seed as ``random_state``, so its bootstrap rows can be drawn again for
``estimators_samples_`` and the out-of-bag masks instead of being stored.
"""

from __future__ import annotations

import numbers
import warnings
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import check_is_fitted

from mlcanon import io
from mlcanon._estimator import sample_weight_or_none
from mlcanon._validation import (
    BOOL,
    InstanceOf,
    Interval,
    IsCallable,
    Options,
    check_random_state,
    validate_params,
)
from mlcanon.tree import DecisionTreeClassifier, DecisionTreeRegressor
from mlcanon.tree._base import (
    MONOTONIC_CST,
    TREE_CONSTRAINTS,
    ClassifierOutputsMixin,
    RegressorOutputsMixin,
    TreeTagsMixin,
)
from mlcanon.tree._checks import (
    as_float32,
    check_class_weight,
    check_class_weighted,
    check_poisson_targets,
    check_X,
    check_X_y,
    class_weight_factors,
    encode_columns,
    resolve_monotonic_cst,
)

from ._base import check_warm_classes, fit_members

__all__ = ["BaseForest", "ForestClassifier", "ForestRegressor", "bootstrap_indices"]

MAX_SEED = np.iinfo(np.int32).max
# the parameters a forest hands to each of its trees (which it seeds itself)
TREE_PARAMS = (
    "criterion",
    "monotonic_cst",
    *(name for name in TREE_CONSTRAINTS if name != "random_state"),
)


def bootstrap_indices(
    seed: int, n_samples: int, n_draws: int, weights: np.ndarray | None
) -> np.ndarray:
    """Rows drawn with replacement for the tree seeded ``seed``: uniformly, or with
    probabilities proportional to ``weights``."""
    rng = np.random.default_rng(seed)
    if weights is None:
        return rng.integers(0, n_samples, n_draws).astype(np.int32)
    return rng.choice(n_samples, n_draws, p=weights / weights.sum()).astype(np.int32)


def _fit_tree(
    tree, XT32, ycode, yval, w, n_stats, draws, subsample_classes, verbose, index, n_trees
):
    """Fit one tree of the forest (a joblib task: it must be a picklable module function).

    ``draws`` is ``(n_draws, weights)`` for a bootstrap sample, ``None`` to use every row with
    weights ``w``; ``subsample_classes`` (the classes of each output) reweighs the drawn rows to
    balanced classes.
    """
    if verbose > 1:
        print(f"building tree {index + 1} of {n_trees}")
    if draws is not None:
        rows = bootstrap_indices(tree.random_state, len(w), *draws)
        w = np.bincount(rows, minlength=len(w)).astype(np.float64)
        if subsample_classes is not None:
            w = w * class_weight_factors("balanced", subsample_classes, ycode, rows)
    tree.tree_ = tree._grow(XT32, ycode, yval, w, n_stats)
    return tree


def _leaf_values(tree, X32: np.ndarray) -> np.ndarray:
    return tree.tree_.value[tree.tree_.apply(X32)]


class BaseForest(TreeTagsMixin, BaseEstimator):
    """Shared fit, prediction and out-of-bag estimate of the forests."""

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        "n_estimators": Interval(numbers.Integral, low=1),
        "bootstrap": BOOL,
        "oob_score": (BOOL, IsCallable()),
        "warm_start": BOOL,
        "max_samples": (
            None,
            Interval(numbers.Integral, low=1),
            Interval(numbers.Real, low=0.0, include_low=False),
        ),
        "n_jobs": (None, Interval(numbers.Integral)),
        "verbose": Interval(numbers.Integral, low=0),
        **TREE_CONSTRAINTS,  # passed on to each tree
        "monotonic_cst": MONOTONIC_CST,
    }

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> BaseForest:
        """Grow the trees on ``X`` (NaN allowed, scipy.sparse densified) and ``y`` (one column
        per output); with ``warm_start`` only the trees beyond the fitted ones."""
        validate_params(self)
        if sp.issparse(y):
            raise ValueError("sparse multilabel-indicator for y is not supported.")
        warm = self.warm_start and "estimators_" in vars(self)
        if warm:  # the kept trees read the fitted columns
            check_X(self, X, reset=False, accept_sparse=True)
        X, y = check_X_y(self, X, y, classifier=self._is_clf, accept_sparse=True, multi_output=True)
        Y = y.reshape(len(y), -1)
        if warm:
            self._check_warm_targets(Y)
        self._n_samples, self.n_outputs_ = Y.shape
        sw = sample_weight_or_none(sample_weight, len(X))
        ycode, yval, n_stats, factors = self._encode(Y, sw)
        n_classes = max(len(c) for c in self._classes_per_output()) if self._is_clf else None
        resolve_monotonic_cst(self.monotonic_cst, X.shape[1], Y.shape[1], n_classes)  # early
        weights = factors if sw is None else (sw if factors is None else sw * factors)
        if factors is not None:
            check_class_weighted(weights, self.class_weight)
        self._sample_weight = weights
        self._n_samples_bootstrap = self._bootstrap_size(len(X), weights)
        if self.oob_score and not self.bootstrap:
            raise ValueError("Out of bag estimation only available if bootstrap=True")
        trees = self._new_trees(X.shape[1])
        if trees:
            XT32 = np.ascontiguousarray(as_float32(X).T)
            w = np.ones(len(X)) if weights is None else weights
            draws = (self._n_samples_bootstrap, weights) if self.bootstrap else None
            subsample = self._classes_per_output() if self._subsample_balanced() else None
            jobs = (
                delayed(_fit_tree)(
                    t, XT32, ycode, yval, w, n_stats, draws, subsample, self.verbose, i, len(trees)
                )
                for i, t in enumerate(trees)
            )
            self.estimators_ += fit_members(self.n_jobs, jobs, len(trees))
        if self.oob_score and (trees or not hasattr(self, "oob_score_")):
            self._set_oob(as_float32(X), ycode if self._is_clf else yval)
        return self

    def _check_warm_targets(self, Y: np.ndarray) -> None:
        """A ``warm_start`` refit's targets: the kept trees' outputs (and classes)."""
        if self._is_clf:
            check_warm_classes(self, self._classes_per_output(), Y)
        elif Y.shape[1] != self.n_outputs_:
            raise ValueError(
                f"warm_start=True adds trees to the fitted {type(self).__name__}, whose trees "
                f"predict {self.n_outputs_} output(s); y has {Y.shape[1]}. Fit with "
                "warm_start=False to change the outputs"
            )

    def _subsample_balanced(self) -> bool:
        return self.bootstrap and getattr(self, "class_weight", None) == "balanced_subsample"

    def _bootstrap_size(self, n: int, weights: np.ndarray | None) -> int | None:
        """Rows drawn for each tree (``max_samples``: a count, or a fraction of the weight)."""
        if not self.bootstrap:
            if self.max_samples is not None:
                raise ValueError(
                    "`max_sample` cannot be set if `bootstrap=False`. Either switch to "
                    "`bootstrap=True` or set `max_sample=None`."
                )
            return None
        if self.max_samples is None:
            return n
        if isinstance(self.max_samples, numbers.Integral):
            return int(self.max_samples)
        total = n if weights is None else float(weights.sum())
        size = max(int(self.max_samples * total), 1)
        if size < max(10, n ** (1 / 3)):
            warnings.warn(
                f"max_samples={self.max_samples} of a total weight of {total} gives only {size} "
                "bootstrap draws; pass max_samples as an integer instead",
                UserWarning,
                stacklevel=3,
            )
        return size

    def _new_trees(self, n_features: int) -> list:
        """Unfitted trees for the places ``len(estimators_) .. n_estimators - 1``."""
        if not self.warm_start or not hasattr(self, "estimators_"):
            self.estimators_ = []
        n_old = len(self.estimators_)
        if self.n_estimators < n_old:
            raise ValueError(
                f"n_estimators={self.n_estimators} must be larger or equal to "
                f"len(estimators_)={n_old} when warm_start==True"
            )
        if self.n_estimators == n_old:
            warnings.warn(
                "Warm-start fitting without increasing n_estimators does not fit new trees.",
                UserWarning,
                stacklevel=3,
            )
            return []
        seeds = check_random_state(self.random_state).integers(0, MAX_SEED, self.n_estimators)
        return [self._make_tree(int(s), n_features) for s in seeds[n_old:]]

    @property
    def estimator(self):
        """The unfitted tree that the forest's trees are configured from (its class and
        defaults; the forest's tree parameters replace them in each tree), as scikit-learn's
        ``estimator`` attribute."""
        return self._tree_class()

    @property
    def estimator_(self):
        """The fitted forest's template tree (``estimator``), as scikit-learn's ``estimator_``."""
        check_is_fitted(self)
        return self.estimator

    def _make_tree(self, seed: int, n_features: int):
        params = {name: getattr(self, name) for name in TREE_PARAMS}
        tree = self._tree_class(**params, random_state=seed)
        tree.n_features_in_, tree.n_outputs_ = n_features, self.n_outputs_
        if self._is_clf:
            tree._set_classes(self._classes_per_output())
        return tree

    def _output_values(self, X: Any) -> np.ndarray:
        """Mean over trees of the leaf values reached by each row: (n_samples, K, n_values).

        Always in threads of this process, even under a process or cluster backend: shipping
        the trees away to read a few leaves costs more than it saves (scikit-learn's forests
        require shared memory here too)."""
        X32 = as_float32(check_X(self, X, reset=False, accept_sparse=True))
        parts = Parallel(n_jobs=self.n_jobs, require="sharedmem")(
            delayed(_leaf_values)(t, X32) for t in self.estimators_
        )
        return np.sum(parts, axis=0) / len(self.estimators_)

    def _oob_values(self, X32: np.ndarray) -> np.ndarray:
        """Mean leaf values of each sample over the trees that did not draw it: (n, K, C)."""
        n = X32.shape[0]
        acc, hits = 0.0, np.zeros(n)
        for tree in self.estimators_:
            rows = bootstrap_indices(
                tree.random_state, n, self._n_samples_bootstrap, self._sample_weight
            )
            oob = np.bincount(rows, minlength=n) == 0
            acc = acc + np.where(oob[:, None, None], _leaf_values(tree, X32), 0.0)
            hits += oob
        if np.any(hits == 0):
            warnings.warn(
                "Some inputs do not have OOB scores. This probably means too few trees were "
                "used to compute any reliable OOB estimates.",
                UserWarning,
                stacklevel=3,
            )
        return acc / np.maximum(hits, 1)[:, None, None]

    def apply(self, X: Any) -> np.ndarray:
        """Leaf reached in every tree: shape (n_samples, n_estimators)."""
        X32 = as_float32(check_X(self, X, reset=False, accept_sparse=True))
        return np.stack([t.tree_.apply(X32) for t in self.estimators_], axis=1)

    def decision_path(self, X: Any) -> tuple[sp.csr_matrix, np.ndarray]:
        """Nodes visited in every tree, side by side, and the column where each tree starts."""
        check_X(self, X, reset=False, accept_sparse=True)
        paths = [t.decision_path(X) for t in self.estimators_]
        n_nodes_ptr = np.cumsum([0] + [p.shape[1] for p in paths])
        return sp.hstack(paths).tocsr(), n_nodes_ptr

    @property
    def estimators_samples_(self) -> list[np.ndarray]:
        """Rows each tree was grown on (the bootstrap draws, or every row)."""
        check_is_fitted(self)
        n = self._n_samples
        return [
            bootstrap_indices(t.random_state, n, self._n_samples_bootstrap, self._sample_weight)
            if self.bootstrap
            else np.arange(n, dtype=np.int32)
            for t in self.estimators_
        ]

    @property
    def feature_importances_(self) -> np.ndarray:
        """Mean over the trees that split of their normalised impurity-decrease importances."""
        check_is_fitted(self)
        imps = [t.feature_importances_ for t in self.estimators_ if t.tree_.node_count > 1]
        if not imps:
            return np.zeros(self.n_features_in_)
        imp = np.mean(imps, axis=0)
        return imp / imp.sum()

    def __len__(self) -> int:
        return len(self.estimators_)

    def __getitem__(self, index: int):
        return self.estimators_[index]

    def __iter__(self):
        return iter(self.estimators_)


class ForestClassifier(ClassifierMixin, ClassifierOutputsMixin, BaseForest):
    """Class votes of a forest: the mean of the trees' leaf class distributions."""

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        **BaseForest._parameter_constraints,
        "criterion": DecisionTreeClassifier._parameter_constraints["criterion"],
        "class_weight": (None, Options("balanced", "balanced_subsample"), InstanceOf(dict, list)),
    }

    _is_clf = True

    def _encode(self, Y: np.ndarray, sw: np.ndarray | None) -> tuple:
        classes, codes = encode_columns(Y)
        self._set_classes(classes)
        if len(classes) > 1:  # a list in scikit-learn's forests (an array in its trees)
            self.n_classes_ = [len(c) for c in classes]
        spec = self.class_weight
        if isinstance(spec, str) and spec in ("balanced", "balanced_subsample"):
            if self.warm_start:
                warnings.warn(
                    f"class_weight={spec!r} with warm_start weighs each fit's classes by that "
                    "fit's data; pass the weights of the whole data as a dict instead",
                    UserWarning,
                    stacklevel=3,
                )
            spec = None if self._subsample_balanced() else "balanced"
        check_class_weight(spec, len(classes))
        factors = None if spec is None else class_weight_factors(spec, classes, codes, None, sw)
        return codes, np.zeros((1, 1)), max(len(c) for c in classes), factors

    def _set_oob(self, X32: np.ndarray, codes: np.ndarray) -> None:
        if codes.shape[1] > 1 and any(len(c) > 2 for c in self._classes_per_output()):
            raise ValueError(
                "The type of target cannot be used to compute OOB estimates. Got "
                "multiclass-multioutput while only the following are supported: continuous, "
                "continuous-multioutput, binary, multiclass, multilabel-indicator."
            )
        proba = np.moveaxis(self._oob_values(X32), 1, 2)  # (n, n_classes, n_outputs)
        y = codes[:, 0] if codes.shape[1] == 1 else codes
        self.oob_decision_function_ = proba[:, :, 0] if codes.shape[1] == 1 else proba
        pred = np.argmax(self.oob_decision_function_, axis=1)
        if callable(self.oob_score):
            self.oob_score_ = self.oob_score(y, pred)
        else:  # accuracy: every output right
            self.oob_score_ = float(np.mean(np.all((y == pred).reshape(len(y), -1), axis=1)))


class ForestRegressor(RegressorMixin, RegressorOutputsMixin, BaseForest):
    """Prediction of a forest: the mean of the trees' predictions."""

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        **BaseForest._parameter_constraints,
        "criterion": DecisionTreeRegressor._parameter_constraints["criterion"],
    }

    _is_clf = False

    def _encode(self, Y: np.ndarray, sw: np.ndarray | None) -> tuple:
        if self.criterion == "poisson":
            check_poisson_targets(Y)
        return np.zeros((1, 1), np.int64), np.ascontiguousarray(Y, dtype=np.float64), 1, None

    def _set_oob(self, X32: np.ndarray, Y: np.ndarray) -> None:
        pred = self._oob_values(X32)[:, :, 0]
        y = Y[:, 0] if Y.shape[1] == 1 else Y
        self.oob_prediction_ = pred[:, 0] if Y.shape[1] == 1 else pred
        if callable(self.oob_score):
            self.oob_score_ = self.oob_score(y, self.oob_prediction_)
        else:  # R^2 averaged over the outputs
            ss_res = np.sum((Y - pred) ** 2, axis=0)
            ss_tot = np.sum((Y - Y.mean(axis=0)) ** 2, axis=0)
            self.oob_score_ = float(np.mean(1.0 - ss_res / ss_tot))


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
