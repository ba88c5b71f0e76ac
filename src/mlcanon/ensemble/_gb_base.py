"""The boosting loop shared by :class:`GradientBoostingRegressor` and
:class:`GradientBoostingClassifier` (see :mod:`mlcanon.ensemble._gb` for the algorithm): the
initial model, the stages with their subsampling and out-of-bag scores, early stopping,
``warm_start``, and the raw scores :math:`F_m(x)` every prediction reads.
"""

from __future__ import annotations

import numbers
import warnings
from collections import deque
from collections.abc import Iterator
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from mlcanon import io
from mlcanon._estimator import check_X, check_X_y, sample_weight_array
from mlcanon._validation import BOOL, Interval, Options, check_random_state, validate_params
from mlcanon.tree import DecisionTreeRegressor
from mlcanon.tree._base import TREE_CONSTRAINTS
from mlcanon.tree._checks import as_float32, resolve_max_features

from ._base import check_warm_classes
from ._gb_losses import Huber
from ._gb_stages import (
    Progress,
    ValidationStop,
    check_split_weights,
    fit_init,
    line_search,
    stage_raw,
    validation_mask,
)

__all__ = ["BaseGB"]


class BaseGB(BaseEstimator):
    """Shared fit, stages and raw scores of the gradient-boosting estimators."""

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        "learning_rate": Interval(low=0.0),  # 0 keeps the initial model, as scikit-learn
        "n_estimators": Interval(numbers.Integral, low=1),
        "subsample": Interval(low=0.0, high=1.0, include_low=False),
        "criterion": Options("deprecated", "friedman_mse", "squared_error"),
        "verbose": Interval(numbers.Integral, low=0),
        "warm_start": BOOL,
        "validation_fraction": Interval(low=0.0, high=1.0, include_low=False, include_high=False),
        "n_iter_no_change": (None, Interval(numbers.Integral, low=1)),
        "tol": Interval(low=0.0),
        **TREE_CONSTRAINTS,  # passed on to each regression tree
    }

    def _tree(self, seed: int) -> DecisionTreeRegressor:
        params = {name: getattr(self, name) for name in TREE_CONSTRAINTS}
        return DecisionTreeRegressor(**{**params, "random_state": seed})

    def fit(self, X: Any, y: Any, sample_weight: Any = None, monitor: Any = None) -> BaseGB:
        """Fit ``n_estimators`` stages (more with ``warm_start``) on ``X`` (dense or
        scipy.sparse, NaN allowed) and ``y``.

        ``monitor(i, self, locals())`` is called after each stage; a true result stops the fit.
        """
        validate_params(self)
        if self.criterion != "deprecated":
            warnings.warn(
                "The parameter `criterion` is deprecated and will be removed in 1.11. It has no "
                "effect. Leave it to its default value to avoid this warning.",
                FutureWarning,
                stacklevel=2,
            )
        warm = self.warm_start and "_stages" in vars(self)
        if warm:  # the kept stages read the fitted columns and score the fitted classes
            self._validate_X(X)
        X, y = check_X_y(self, X, y, classifier=self._is_clf, allow_nan=True, accept_sparse=True)
        if warm and self._is_clf:
            check_warm_classes(self, [self.classes_], y)
        w = sample_weight_array(sample_weight, X.shape[0])
        y, loss = self._target_and_loss(y, w)
        self.max_features_ = resolve_max_features(self.max_features, X.shape[1])
        if not self.warm_start:
            self._clear_state()
        val = None
        if self.n_iter_no_change is not None:
            val = validation_mask(y, self.validation_fraction, self.random_state, self._is_clf)
            why = f"validation_fraction={self.validation_fraction} holds out rows to stop early"
            check_split_weights(w, ~val, why, ("training", "validation"))
            X, Xv, y, yv, w, wv = X[~val], X[val], y[~val], y[val], w[~val], w[val]
        if "_stages" not in vars(self):
            self._start(X, y, w, loss, sample_weight is not None)
        elif self.n_estimators < len(self._stages):
            raise ValueError(
                f"n_estimators={self.n_estimators} must be larger or equal to "
                f"estimators_.shape[0]={len(self._stages)} when warm_start==True"
            )
        self._resize(self.n_estimators)
        stop = None if val is None else ValidationStop(self, loss, Xv, yv, wv)
        n_stages = self._fit_stages(X, y, w, loss, monitor, stop)
        self._resize(n_stages)
        self.n_estimators_ = n_stages
        return self

    def _clear_state(self) -> None:
        fitted = ("_stages", "init_", "_seed", "train_score_", "oob_improvement_", "oob_scores_")
        for name in (*fitted, "oob_score_"):
            vars(self).pop(name, None)

    def _start(self, X: np.ndarray, y: np.ndarray, w: np.ndarray, loss: Any, weighted: bool):
        """First fit: the initial model and the seed every stage's randomness derives from."""
        if self.init is None:
            # scikit-learn's initial constant takes weighted percentiles whenever
            # sample_weight is given, even when the weights are all equal
            self.init_ = loss.init(y, w if weighted else None)
        elif isinstance(self.init, str):
            self.init_ = "zero"
        else:
            self.init_ = fit_init(self.init, X, y, w if weighted else None)
        self._seed = int(check_random_state(self.random_state).integers(2**62))
        self._stages = []
        self.train_score_ = np.zeros(0)

    def _resize(self, n: int) -> None:
        """Make the per-stage arrays ``n`` long (keeping what was computed)."""
        del self._stages[n:]
        names = ["train_score_"]
        if self.subsample < 1.0 or "oob_scores_" in vars(self):
            names += ["oob_improvement_", "oob_scores_"]
        for name in names:
            old = vars(self).get(name, np.zeros(0))[:n]
            setattr(self, name, np.concatenate([old, np.zeros(n - len(old))]))
        if "oob_scores_" in vars(self) and n:
            self.oob_score_ = float(self.oob_scores_[n - 1])

    def _raw_init(self, X: np.ndarray) -> np.ndarray:
        """:math:`F_0` on ``X``: the constant, zeros, or the ``init`` estimator's output."""
        K = self._n_outputs()
        if isinstance(self.init_, np.ndarray):
            return np.tile(self.init_, (X.shape[0], 1))
        if isinstance(self.init_, str):
            return np.zeros((X.shape[0], K))
        if self._is_clf:
            return self._fitted_loss().raw_from_proba(self.init_.predict_proba(X))
        return np.asarray(self.init_.predict(X), dtype=np.float64).reshape(-1, 1)

    def _fit_stages(self, X, y, w, loss, monitor, stop) -> int:
        """Boost from the current stage to ``n_estimators``; return the number of stages kept."""
        n = X.shape[0]
        XT32 = np.ascontiguousarray(as_float32(X).T)
        X32 = np.ascontiguousarray(XT32.T)
        F = self._raw_init(X)
        for stage in self._stages:
            F += self.learning_rate * stage_raw(stage, X32)
        do_oob, factor = self.subsample < 1.0, loss.score_factor
        n_inbag = max(1, int(self.subsample * n))
        progress = Progress(self.verbose, do_oob, len(self._stages)) if self.verbose else None
        for i in range(len(self._stages), self.n_estimators):
            rng = np.random.default_rng([self._seed, i])
            mask = np.ones(n, bool)
            if do_oob:
                mask[:] = False
                mask[rng.choice(n, n_inbag, replace=False)] = True
                why = f"subsample={self.subsample} draws {n_inbag} of {n} rows for stage {i}"
                check_split_weights(w, mask, why, ("drawn", "out-of-bag"))
                oob_before = factor * loss(y[~mask], F[~mask], w[~mask])
            F = self._fit_stage(XT32, X32, y, w, F, mask, loss, rng)
            self.train_score_[i] = factor * loss(y[mask], F[mask], w[mask])
            if do_oob:
                self.oob_scores_[i] = factor * loss(y[~mask], F[~mask], w[~mask])
                self.oob_improvement_[i] = oob_before - self.oob_scores_[i]
            if progress is not None:
                progress.update(i, self)
            if monitor is not None and monitor(i, self, locals()):
                return i + 1
            if stop is not None and stop.after(self._stages[-1]):
                return i + 1
        return len(self._stages)

    def _fit_stage(self, XT32, X32, y, w, F, mask, loss, rng) -> np.ndarray:
        """Fit one tree per output on the pseudo-residuals of the in-bag rows; add them."""
        if isinstance(loss, Huber):
            loss.update_delta(y[mask], F[mask], w[mask])
        R = loss.negative_gradient(y, F)
        stage = []
        for k in range(loss.n_outputs):
            tree = self._tree(int(rng.integers(2**31)))
            tree.n_features_in_ = X32.shape[1]
            tree.tree_ = tree._grow(XT32, np.zeros(1, np.int64), R[:, k], w * mask, 2)
            leaves = tree.tree_.apply(X32)
            line_search(tree, leaves, mask, y, F, R[:, k], w, loss, k)
            F[:, k] += self.learning_rate * tree.tree_.value[leaves, 0, 0]
            stage.append(tree)
        self._stages.append(stage)
        return F

    @property
    def estimators_(self) -> np.ndarray:
        """The fitted trees, an object array of shape (n_stages, K)."""
        stages = vars(self).get("_stages")
        if stages is None:
            raise AttributeError(f"'{type(self).__name__}' object has no attribute 'estimators_'")
        out = np.empty((len(stages), self._n_outputs()), dtype=object)
        for i, stage in enumerate(stages):
            out[i, :] = stage
        return out

    @property
    def n_trees_per_iteration_(self) -> int:
        return self._n_outputs()

    def _n_outputs(self) -> int:
        n_classes = getattr(self, "n_classes_", 2)
        return 1 if n_classes == 2 else n_classes

    def _validate_X(self, X: Any) -> np.ndarray:
        return check_X(self, X, reset=False, allow_nan=True, accept_sparse=True)

    def _raw_stages(self, X: Any) -> Iterator[np.ndarray]:
        X = self._validate_X(X)
        X32 = as_float32(X)
        F = self._raw_init(X)
        for stage in self._stages:
            F += self.learning_rate * stage_raw(stage, X32)
            yield F.copy()

    def _raw_predict(self, X: Any) -> np.ndarray:
        return deque(self._raw_stages(X), maxlen=1)[0]  # the last stage only

    def apply(self, X: Any) -> np.ndarray:
        """Leaf index of every sample in every tree: (n_samples, n_stages, K) for a classifier,
        (n_samples, n_stages) for a regressor; float64, as scikit-learn's."""
        X32 = as_float32(self._validate_X(X))
        stages = [[t.tree_.apply(X32) for t in stage] for stage in self._stages]
        leaves = np.array(stages, dtype=np.float64)
        leaves = leaves.transpose(2, 0, 1)
        return leaves if self._is_clf else leaves[:, :, 0]

    @property
    def feature_importances_(self) -> np.ndarray:
        """Impurity decrease per feature, averaged over the trees that split and normalised
        to sum to one (zeros when no tree splits).

        Each tree's decrease is taken per unit of its root weight but not normalised on its
        own, as scikit-learn does: a stage that fits its residuals better weighs more.
        """
        check_is_fitted(self)
        n = self.n_features_in_
        imps = [
            t.tree_.compute_feature_importances(n, normalize=False)
            for stage in self._stages
            for t in stage
            if t.tree_.node_count > 1
        ]
        if not imps:
            return np.zeros(n)
        imp = np.mean(imps, axis=0)
        return imp / imp.sum()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.sparse = True
        return tags


@io.on_load(BaseGB)
def _check_loaded(model: BaseGB) -> None:
    """Every stage's trees read the ensemble's own ``X``: their widths must agree."""
    for i, stage in enumerate(vars(model).get("_stages", ())):
        for k, tree in enumerate(stage):
            if not (isinstance(tree, DecisionTreeRegressor) and "tree_" in vars(tree)):
                raise ValueError(f"estimators_[{i}][{k}] must be a fitted DecisionTreeRegressor")
            if tree.n_features_in_ != model.n_features_in_:
                raise ValueError(
                    f"estimators_[{i}][{k}].n_features_in_={tree.n_features_in_} differs from "
                    f"the model's n_features_in_={model.n_features_in_}"
                )
