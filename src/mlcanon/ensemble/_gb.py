"""Gradient boosting with regression trees (first order: trees fit the negative gradient).

Starting from the best constant :math:`F_0` (or an ``init`` estimator's predictions), stage
:math:`m` computes the pseudo-residuals :math:`r_{im} = -\\partial L(y_i, F_{m-1}(x_i)) /
\\partial F`, fits a squared-error regression tree to them, replaces each leaf's value by the
loss's line search :math:`\\gamma_{jm}` and adds the tree shrunk by the learning rate:

.. math:: F_m(x) = F_{m-1}(x) + \\nu \\sum_j \\gamma_{jm} [x \\in R_{jm}].

With ``subsample < 1`` each tree sees a random fraction of the samples (stochastic gradient
boosting) and the others measure the out-of-bag improvement of each stage. With
``n_iter_no_change`` a ``validation_fraction`` of the data is held out and boosting stops once
``n_iter_no_change`` stages in a row fail to lower its loss by ``tol``. With ``warm_start`` a new
``fit`` adds stages to the fitted ones. Classification uses one tree per stage (two classes) or
one per class and stage.

References
----------
Friedman (2001). Greedy function approximation: a gradient boosting machine. Ann. Statist. 29(5).
Friedman (2002). Stochastic gradient boosting. Comput. Stat. Data Anal. 38(4).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin

from mlcanon._estimator import encode_labels, store_params
from mlcanon._validation import Interval, Options

from ._gb_base import BaseGB
from ._gb_losses import LOSSES, Huber, MultinomialLogLoss, QuantileLoss
from ._gb_stages import InitEstimator

__all__ = ["GradientBoostingClassifier", "GradientBoostingRegressor"]


_PARAMS_DOC = """
    learning_rate : float, default=0.1
        Shrinkage :math:`\\nu` of every tree.
    n_estimators : int, default=100
        Number of boosting stages.
    subsample : float, default=1.0
        Fraction of samples (drawn without replacement) each stage's trees are fit on; the
        others give ``oob_improvement_``, ``oob_scores_`` and ``oob_score_``.
    criterion : deprecated
        Has no effect (as in scikit-learn, which deprecates it); setting it warns.
    max_depth, min_samples_split, min_samples_leaf, min_weight_fraction_leaf, max_features
        Passed to each :class:`~mlcanon.tree.DecisionTreeRegressor` (``max_depth=3``).
    max_leaf_nodes : int or None, default=None
        Grow each tree best-first (the split with the largest impurity decrease next) up to
        this many leaves; ``max_depth`` still applies.
    min_impurity_decrease, ccp_alpha : float, default=0.0
        Passed to each tree: the smallest weighted impurity decrease a split must bring, and
        the cost-complexity pruning applied to the grown tree before its leaves' line search.
    init : estimator, "zero" or None, default=None
        :math:`F_0`: the loss's best constant (None), zero, or an estimator's predictions
        (a classifier's probabilities through the loss's link).
    random_state : int, Generator or None, default=None
        Seeds subsampling, the early-stopping split and the trees' feature order.
    verbose : int, default=0
        Print the training loss (and out-of-bag improvement) every 1, 10, 100... stages.
    warm_start : bool, default=False
        A new ``fit`` keeps the fitted stages and adds up to ``n_estimators``; its ``X`` and
        ``y`` must have the fitted columns and classes (else ValueError).
    validation_fraction : float, default=0.1
        Share of the data held out for early stopping (stratified for a classifier); with
        an int ``random_state`` the rows scikit-learn holds out (its ``train_test_split``).
    n_iter_no_change : int or None, default=None
        Stop once this many stages in a row do not lower the held-out loss by ``tol``.
    tol : float, default=1e-4
"""


class GradientBoostingRegressor(RegressorMixin, BaseGB):
    __doc__ = (
        """Gradient boosting for regression (squared, absolute, Huber or quantile loss).

    Parameters
    ----------
    loss : {"squared_error", "absolute_error", "huber", "quantile"}, default="squared_error"
    alpha : float, default=0.9
        Quantile of :math:`|y - F|` used as the Huber threshold :math:`\\delta`, or the
        quantile the ``"quantile"`` loss estimates."""
        + _PARAMS_DOC
        + """
    Attributes
    ----------
    estimators_ : ndarray of DecisionTreeRegressor, shape (n_estimators_, 1)
    init_ : ndarray of shape (1,), "zero" or estimator
        :math:`F_0`: mean (squared error), median or quantile of ``y``, or the init model.
    train_score_ : ndarray of shape (n_estimators_,)
        Loss on the in-bag samples after each stage.
    n_estimators_ : int
        Stages fitted (fewer than ``n_estimators`` after early stopping).

    Notes
    -----
    :math:`F_m = F_{m-1} + \\nu\\, h_m`, :math:`h_m` a tree fit to :math:`-\\partial L/\\partial F`.

    References
    ----------
    Friedman (2001). Greedy function approximation: a gradient boosting machine.
    """
    )

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        **BaseGB._parameter_constraints,
        "loss": Options("squared_error", "absolute_error", "huber", "quantile"),
        "alpha": Interval(low=0.0, high=1.0, include_low=False, include_high=False),
        "init": (None, Options("zero"), InitEstimator("GradientBoostingRegressor", "predict")),
    }
    _is_clf = False

    def __init__(
        self,
        *,
        loss: str = "squared_error",
        learning_rate: float = 0.1,
        n_estimators: int = 100,
        subsample: float = 1.0,
        criterion: str = "deprecated",
        min_samples_split: int | float = 2,
        min_samples_leaf: int | float = 1,
        min_weight_fraction_leaf: float = 0.0,
        max_depth: int | None = 3,
        min_impurity_decrease: float = 0.0,
        init: Any = None,
        random_state: int | np.random.Generator | None = None,
        max_features: int | float | str | None = None,
        alpha: float = 0.9,
        verbose: int = 0,
        max_leaf_nodes: int | None = None,
        warm_start: bool = False,
        validation_fraction: float = 0.1,
        n_iter_no_change: int | None = None,
        tol: float = 1e-4,
        ccp_alpha: float = 0.0,
    ) -> None:
        store_params(self, locals())

    def _target_and_loss(self, y: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, Any]:
        if self.loss in ("huber", "quantile"):
            return y, (Huber if self.loss == "huber" else QuantileLoss)(self.alpha)
        return y, LOSSES[self.loss]()

    def predict(self, X: Any) -> np.ndarray:
        """:math:`F_M(x)`."""
        return self._raw_predict(X)[:, 0]

    def staged_predict(self, X: Any) -> Iterator[np.ndarray]:
        """:math:`F_m(x)` after each stage ``m``."""
        for F in self._raw_stages(X):
            yield F[:, 0]


class GradientBoostingClassifier(ClassifierMixin, BaseGB):
    __doc__ = (
        """Gradient boosting for classification (log-loss, or AdaBoost's exponential loss).

    Parameters
    ----------
    loss : {"log_loss", "exponential"}, default="log_loss"
        Binomial deviance for two classes (one tree per stage), multinomial for more (one
        tree per class and stage); the exponential loss is for two classes only."""
        + _PARAMS_DOC
        + """
    Attributes
    ----------
    classes_ : ndarray
    estimators_ : ndarray of DecisionTreeRegressor, shape (n_estimators_, K)
        ``K = 1`` for two classes, ``n_classes`` otherwise.
    init_ : ndarray of shape (K,), "zero" or estimator
        Log-odds (two classes), centred log-priors, or the init model.
    train_score_ : ndarray of shape (n_estimators_,)
        Deviance (two classes) or log-loss on the in-bag samples after each stage.

    Notes
    -----
    Leaves take one Newton step, :math:`\\gamma = \\sum r / \\sum p(1-p)` (times
    :math:`(K-1)/K` for the multinomial loss).

    References
    ----------
    Friedman (2001). Greedy function approximation: a gradient boosting machine, sec. 4.5-4.6.
    """
    )

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        **BaseGB._parameter_constraints,
        "loss": Options("log_loss", "exponential"),
        "init": (
            None,
            Options("zero"),
            InitEstimator("GradientBoostingClassifier", "predict_proba"),
        ),
    }
    _is_clf = True

    def __init__(
        self,
        *,
        loss: str = "log_loss",
        learning_rate: float = 0.1,
        n_estimators: int = 100,
        subsample: float = 1.0,
        criterion: str = "deprecated",
        min_samples_split: int | float = 2,
        min_samples_leaf: int | float = 1,
        min_weight_fraction_leaf: float = 0.0,
        max_depth: int | None = 3,
        min_impurity_decrease: float = 0.0,
        init: Any = None,
        random_state: int | np.random.Generator | None = None,
        max_features: int | float | str | None = None,
        verbose: int = 0,
        max_leaf_nodes: int | None = None,
        warm_start: bool = False,
        validation_fraction: float = 0.1,
        n_iter_no_change: int | None = None,
        tol: float = 1e-4,
        ccp_alpha: float = 0.0,
    ) -> None:
        store_params(self, locals())

    def _target_and_loss(self, y: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, Any]:
        self.classes_, codes = encode_labels(y)
        K = self.n_classes_ = len(self.classes_)
        if np.count_nonzero(np.bincount(codes, weights=w, minlength=K)) < 2:
            raise ValueError(
                f"y contains {np.count_nonzero(np.bincount(codes, weights=w))} class after "
                "sample_weight trimmed classes with zero weights, while a minimum of 2 classes "
                "are required."
            )
        if self.loss == "exponential" and K > 2:
            raise ValueError(
                f"loss='exponential' is only suitable for a binary classification problem, you "
                f"have n_classes={K}. Please use loss='log_loss' instead."
            )
        return codes.astype(np.float64), self._fitted_loss()

    def _fitted_loss(self) -> Any:
        return LOSSES[self.loss]() if self.n_classes_ == 2 else MultinomialLogLoss(self.n_classes_)

    def decision_function(self, X: Any) -> np.ndarray:
        """Raw scores :math:`F_M(x)`: shape (n_samples,) for two classes, else (n, K)."""
        F = self._raw_predict(X)
        return F[:, 0] if F.shape[1] == 1 else F

    def staged_decision_function(self, X: Any) -> Iterator[np.ndarray]:
        """Raw scores after each stage, shape (n_samples, 1) for two classes (as scikit-learn:
        unlike decision_function, the stages keep the column axis), else (n, K)."""
        yield from self._raw_stages(X)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Sigmoid (two classes) or softmax of the raw scores."""
        F = self._raw_predict(X)
        return self._fitted_loss().proba(F)

    def predict_log_proba(self, X: Any) -> np.ndarray:
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def _label(self, F: np.ndarray) -> np.ndarray:
        """Class of the raw scores, as scikit-learn: the second class where the one score is
        >= 0 (a score of exactly 0, probability 1/2, goes to the second class), else the
        largest score."""
        index = (F[:, 0] >= 0).astype(int) if F.shape[1] == 1 else np.argmax(F, axis=1)
        return self.classes_[index]

    def predict(self, X: Any) -> np.ndarray:
        return self._label(self._raw_predict(X))

    def staged_predict_proba(self, X: Any) -> Iterator[np.ndarray]:
        for F in self._raw_stages(X):
            yield self._fitted_loss().proba(F)

    def staged_predict(self, X: Any) -> Iterator[np.ndarray]:
        for F in self._raw_stages(X):
            yield self._label(F)
