"""Gradient boosting with regression trees (first order: trees fit the negative gradient).

Starting from the best constant :math:`F_0`, stage :math:`m` computes the pseudo-residuals
:math:`r_{im} = -\\partial L(y_i, F_{m-1}(x_i)) / \\partial F`, fits a squared-error regression
tree to them, replaces each leaf's value by the loss's line search :math:`\\gamma_{jm}` and adds
the tree shrunk by the learning rate:

.. math:: F_m(x) = F_{m-1}(x) + \\nu \\sum_j \\gamma_{jm} [x \\in R_{jm}].

With ``subsample < 1`` each tree sees a random fraction of the samples (stochastic gradient
boosting). Classification uses one tree per stage (two classes) or one per class and stage.

References
----------
Friedman (2001). Greedy function approximation: a gradient boosting machine. Ann. Statist. 29(5).
Friedman (2002). Stochastic gradient boosting. Comput. Stat. Data Anal. 38(4).
"""

from __future__ import annotations

import numbers
from collections import deque
from collections.abc import Iterator
from typing import Any

import numpy as np
from scipy.special import expit, softmax
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin

from mlcanon import io
from mlcanon._estimator import encode_labels, sample_weight_array
from mlcanon._validation import check_option, check_random_state, check_scalar
from mlcanon.tree import DecisionTreeRegressor
from mlcanon.tree._checks import check_X, check_X_y
from mlcanon.tree._classes import as_float32

from ._gb_losses import LOSSES, Huber, MultinomialLogLoss, SquaredError

__all__ = ["GradientBoostingClassifier", "GradientBoostingRegressor"]


class _BaseGB(BaseEstimator):
    def __init__(
        self,
        *,
        loss: str,
        learning_rate: float = 0.1,
        n_estimators: int = 100,
        subsample: float = 1.0,
        max_depth: int | None = 3,
        min_samples_split: int | float = 2,
        min_samples_leaf: int | float = 1,
        max_features: int | float | str | None = None,
        min_impurity_decrease: float = 0.0,
        alpha: float = 0.9,
        random_state: int | np.random.Generator | None = None,
    ) -> None:
        self.loss = loss
        self.learning_rate = learning_rate
        self.n_estimators = n_estimators
        self.subsample = subsample
        self.max_depth = max_depth
        self.min_samples_split = min_samples_split
        self.min_samples_leaf = min_samples_leaf
        self.max_features = max_features
        self.min_impurity_decrease = min_impurity_decrease
        self.alpha = alpha
        self.random_state = random_state

    def _check_params(self) -> None:
        check_scalar(self.learning_rate, "learning_rate", low=0.0, include_low=False)
        check_scalar(self.n_estimators, "n_estimators", kind=numbers.Integral, low=1)
        check_scalar(self.subsample, "subsample", low=0.0, high=1.0, include_low=False)
        check_scalar(self.alpha, "alpha", low=0.0, high=1.0, include_low=False, include_high=False)

    def _boost(self, X: np.ndarray, y: np.ndarray, w: np.ndarray, loss: Any) -> None:
        rng = check_random_state(self.random_state)
        n = X.shape[0]
        XT32 = np.ascontiguousarray(as_float32(X).T)
        X32 = np.ascontiguousarray(XT32.T)
        self.init_ = loss.init(y, w)
        F = np.tile(self.init_, (n, 1))
        K = loss.n_outputs
        self.estimators_: list[list[DecisionTreeRegressor]] = []
        self.train_score_ = np.zeros(self.n_estimators)
        n_inbag = max(1, int(self.subsample * n))
        for m in range(self.n_estimators):
            mask = np.ones(n, bool)
            if self.subsample < 1.0:
                mask = np.zeros(n, bool)
                mask[rng.choice(n, n_inbag, replace=False)] = True
            if isinstance(loss, Huber):
                loss.update_delta(y[mask], F[mask], w[mask])
            R = loss.negative_gradient(y, F)
            stage = []
            for k in range(K):
                tree = DecisionTreeRegressor(
                    max_depth=self.max_depth,
                    min_samples_split=self.min_samples_split,
                    min_samples_leaf=self.min_samples_leaf,
                    max_features=self.max_features,
                    min_impurity_decrease=self.min_impurity_decrease,
                    random_state=int(rng.integers(2**31)),
                )
                tree.n_features_in_ = X.shape[1]
                tree.tree_ = tree._grow(XT32, np.zeros(1, np.int64), R[:, k], w * mask, 2)
                leaves = tree.tree_.apply(X32)
                self._line_search(tree, leaves, mask, y, F, R[:, k], w, loss, k)
                F[:, k] += self.learning_rate * tree.tree_.value[leaves, 0, 0]
                stage.append(tree)
            self.estimators_.append(stage)
            self.train_score_[m] = loss(y[mask], F[mask], w[mask])

    @staticmethod
    def _line_search(tree, leaves, mask, y, F, r, w, loss, k) -> None:
        """Replace each leaf's mean residual by the loss's optimal step on in-bag samples."""
        if isinstance(loss, SquaredError):
            return  # the mean residual is already the optimal step
        for leaf in np.flatnonzero(tree.tree_.children_left == -1):
            inleaf = (leaves == leaf) & mask
            if not inleaf.any():
                continue
            v = loss.leaf_value(y[inleaf], F[inleaf], r[inleaf], w[inleaf], k)
            if v is not None:
                tree.tree_.value[leaf, 0, 0] = v

    def _raw_stages(self, X: Any) -> Iterator[np.ndarray]:
        X32 = as_float32(check_X(self, X, reset=False))
        F = np.tile(self.init_, (X32.shape[0], 1))
        for stage in self.estimators_:
            for k, tree in enumerate(stage):
                F[:, k] += self.learning_rate * tree.tree_.predict(X32)[:, 0]
            yield F.copy()

    def _raw_predict(self, X: Any) -> np.ndarray:
        return deque(self._raw_stages(X), maxlen=1)[0]  # the last stage only

    @property
    def feature_importances_(self) -> np.ndarray:
        """Mean of the trees' normalised impurity-decrease importances."""
        imp = np.mean([t.feature_importances_ for s in self.estimators_ for t in s], axis=0)
        return imp / imp.sum() if imp.sum() > 0 else imp

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags


_PARAMS_DOC = """
    learning_rate : float, default=0.1
        Shrinkage :math:`\\nu` of every tree.
    n_estimators : int, default=100
        Number of boosting stages.
    subsample : float, default=1.0
        Fraction of samples (drawn without replacement) each stage's trees are fit on.
    max_depth, min_samples_split, min_samples_leaf, max_features, min_impurity_decrease
        Passed to each :class:`~mlcanon.tree.DecisionTreeRegressor` (``max_depth=3``).
    random_state : int, Generator or None, default=None
        Seeds subsampling and the trees' feature order.
"""


class GradientBoostingRegressor(RegressorMixin, _BaseGB):
    __doc__ = (
        """Gradient boosting for regression (squared, absolute or Huber loss).

    Parameters
    ----------
    loss : {"squared_error", "absolute_error", "huber"}, default="squared_error"
    alpha : float, default=0.9
        Quantile of :math:`|y - F|` used as the Huber threshold :math:`\\delta`."""
        + _PARAMS_DOC
        + """
    Attributes
    ----------
    estimators_ : list of lists of DecisionTreeRegressor, (n_estimators, 1)
    init_ : ndarray of shape (1,)
        :math:`F_0`: mean (squared error) or median of ``y``.
    train_score_ : ndarray of shape (n_estimators,)
        Mean loss on the in-bag samples after each stage.

    Notes
    -----
    :math:`F_m = F_{m-1} + \\nu\\, h_m`, :math:`h_m` a tree fit to :math:`-\\partial L/\\partial F`.

    References
    ----------
    Friedman (2001). Greedy function approximation: a gradient boosting machine.
    """
    )

    def __init__(
        self,
        *,
        loss: str = "squared_error",
        learning_rate: float = 0.1,
        n_estimators: int = 100,
        subsample: float = 1.0,
        max_depth: int | None = 3,
        min_samples_split: int | float = 2,
        min_samples_leaf: int | float = 1,
        max_features: int | float | str | None = None,
        min_impurity_decrease: float = 0.0,
        alpha: float = 0.9,
        random_state: int | np.random.Generator | None = None,
    ) -> None:
        super().__init__(
            loss=loss,
            learning_rate=learning_rate,
            n_estimators=n_estimators,
            subsample=subsample,
            max_depth=max_depth,
            min_samples_split=min_samples_split,
            min_samples_leaf=min_samples_leaf,
            max_features=max_features,
            min_impurity_decrease=min_impurity_decrease,
            alpha=alpha,
            random_state=random_state,
        )

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> GradientBoostingRegressor:
        """Fit ``n_estimators`` stages on ``X`` (NaN allowed) and ``y``."""
        self._check_params()
        check_option(self.loss, "loss", ("squared_error", "absolute_error", "huber"))
        X, y = check_X_y(self, X, y, classifier=False)
        w = sample_weight_array(sample_weight, X.shape[0])
        loss = Huber(self.alpha) if self.loss == "huber" else LOSSES[self.loss]()
        self._boost(X, y, w, loss)
        return self

    def predict(self, X: Any) -> np.ndarray:
        """:math:`F_M(x)`."""
        return self._raw_predict(X)[:, 0]

    def staged_predict(self, X: Any) -> Iterator[np.ndarray]:
        """:math:`F_m(x)` after each stage ``m``."""
        for F in self._raw_stages(X):
            yield F[:, 0]


class GradientBoostingClassifier(ClassifierMixin, _BaseGB):
    __doc__ = (
        """Gradient boosting for classification with the binomial or multinomial log-loss.

    Parameters
    ----------
    loss : {"log_loss"}, default="log_loss"
        Binomial deviance for two classes (one tree per stage), multinomial for more (one
        tree per class and stage)."""
        + _PARAMS_DOC
        + """
    Attributes
    ----------
    classes_ : ndarray
    estimators_ : list of lists of DecisionTreeRegressor, (n_estimators, K)
        ``K = 1`` for two classes, ``n_classes`` otherwise.
    init_ : ndarray of shape (K,)
        Log-odds (two classes) or centred log-priors.
    train_score_ : ndarray of shape (n_estimators,)

    Notes
    -----
    Leaves take one Newton step, :math:`\\gamma = \\sum r / \\sum p(1-p)` (times
    :math:`(K-1)/K` for the multinomial loss).

    References
    ----------
    Friedman (2001). Greedy function approximation: a gradient boosting machine, sec. 4.5-4.6.
    """
    )

    def __init__(
        self,
        *,
        loss: str = "log_loss",
        learning_rate: float = 0.1,
        n_estimators: int = 100,
        subsample: float = 1.0,
        max_depth: int | None = 3,
        min_samples_split: int | float = 2,
        min_samples_leaf: int | float = 1,
        max_features: int | float | str | None = None,
        min_impurity_decrease: float = 0.0,
        random_state: int | np.random.Generator | None = None,
    ) -> None:
        super().__init__(
            loss=loss,
            learning_rate=learning_rate,
            n_estimators=n_estimators,
            subsample=subsample,
            max_depth=max_depth,
            min_samples_split=min_samples_split,
            min_samples_leaf=min_samples_leaf,
            max_features=max_features,
            min_impurity_decrease=min_impurity_decrease,
            random_state=random_state,
        )

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> GradientBoostingClassifier:
        """Fit ``n_estimators`` stages on ``X`` (NaN allowed) and class labels ``y``."""
        self._check_params()
        check_option(self.loss, "loss", ("log_loss",))
        X, y = check_X_y(self, X, y, classifier=True)
        w = sample_weight_array(sample_weight, X.shape[0])
        self.classes_, codes = encode_labels(y)
        if len(self.classes_) < 2:
            raise ValueError(
                f"GradientBoostingClassifier needs at least 2 classes in y, got "
                f"only one class {self.classes_[0]!r}"
            )
        K = len(self.classes_)
        loss = LOSSES["log_loss"]() if K == 2 else MultinomialLogLoss(K)
        self._boost(X, codes.astype(np.float64), w, loss)
        return self

    def decision_function(self, X: Any) -> np.ndarray:
        """Raw scores :math:`F_M(x)`: shape (n_samples,) for two classes, else (n, K)."""
        F = self._raw_predict(X)
        return F[:, 0] if F.shape[1] == 1 else F

    def _proba(self, F: np.ndarray) -> np.ndarray:
        if F.shape[1] == 1:
            p = expit(F[:, 0])
            return np.column_stack([1 - p, p])
        return softmax(F, axis=1)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Sigmoid (two classes) or softmax of the raw scores."""
        return self._proba(self._raw_predict(X))

    def predict(self, X: Any) -> np.ndarray:
        index = np.argmax(self.predict_proba(X), axis=1)
        return self.classes_[index]

    def staged_predict_proba(self, X: Any) -> Iterator[np.ndarray]:
        for F in self._raw_stages(X):
            yield self._proba(F)

    def staged_predict(self, X: Any) -> Iterator[np.ndarray]:
        for P in self.staged_predict_proba(X):
            yield self.classes_[np.argmax(P, axis=1)]


@io.on_load(_BaseGB)
def _check_loaded(model: _BaseGB) -> None:
    """Every stage's trees read the ensemble's own ``X``: their widths must agree."""
    for i, stage in enumerate(vars(model).get("estimators_", ())):
        for k, tree in enumerate(stage):
            if not (isinstance(tree, DecisionTreeRegressor) and "tree_" in vars(tree)):
                raise ValueError(f"estimators_[{i}][{k}] must be a fitted DecisionTreeRegressor")
            if tree.n_features_in_ != model.n_features_in_:
                raise ValueError(
                    f"estimators_[{i}][{k}].n_features_in_={tree.n_features_in_} differs from "
                    f"the model's n_features_in_={model.n_features_in_}"
                )
