"""AdaBoost: SAMME for (multi-class) classification and AdaBoost.R2 for regression.

SAMME (Zhu et al. 2009) fits weak learner :math:`G_m` to the weighted data, measures its
weighted error :math:`\\mathrm{err}_m` and gives it the vote

.. math::

    \\alpha_m = \\eta\\Big(\\log\\frac{1 - \\mathrm{err}_m}{\\mathrm{err}_m} + \\log(K - 1)\\Big),

then multiplies the weight of every misclassified sample by :math:`e^{\\alpha_m}` and renormalises.
A learner no better than chance (:math:`\\mathrm{err}_m \\ge 1 - 1/K`) ends the boosting. The
prediction is :math:`\\arg\\max_k \\sum_m \\alpha_m [G_m(x) = k]`.

AdaBoost.R2 (Drucker 1997) fits each learner to a weighted bootstrap sample, scales its absolute
errors to :math:`L_i \\in [0, 1]` (linear, square or exponential), computes
:math:`\\bar L = \\sum_i w_i L_i`, :math:`\\beta = \\bar L / (1 - \\bar L)`, multiplies weights by
:math:`\\beta^{\\eta (1 - L_i)}` and predicts with the weighted median of the learners, weights
:math:`\\eta \\log(1/\\beta)`.

References
----------
Zhu, Zou, Rosset, Hastie (2009). Multi-class AdaBoost. Statistics and Its Interface 2, 349-360.
Drucker (1997). Improving Regressors using Boosting Techniques. ICML.
Freund, Schapire (1997). A decision-theoretic generalization of on-line learning. JCSS 55.
"""

from __future__ import annotations

import numbers
import warnings
from collections import deque
from collections.abc import Iterator
from typing import Any, ClassVar

import numpy as np
from scipy.special import softmax
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin

from mlcanon._estimator import encode_labels, store_params
from mlcanon._validation import Interval, Options, check_random_state, validate_params
from mlcanon.tree import DecisionTreeClassifier, DecisionTreeRegressor

from ._base import (
    BaseLearnerMixin,
    MemberSequence,
    accepts_sample_weight,
    check_meta_X,
    check_meta_X_y,
    new_member,
)

__all__ = ["AdaBoostClassifier", "AdaBoostRegressor"]


def _initial_weights(sample_weight: Any, n: int) -> np.ndarray:
    """Normalised starting weights (uniform when none are given), in scikit-learn's words."""
    if sample_weight is None:
        return np.full(n, 1.0 / n)
    w = np.asarray(sample_weight, dtype=np.float64)
    if w.ndim != 1 or w.shape[0] != n:
        raise ValueError(f"sample_weight.shape == {w.shape}, expected {(n,)}!")
    if not np.isfinite(w).all():
        raise ValueError("sample_weight must be finite")
    if (w < 0).any():
        raise ValueError("Negative values in data passed to `sample_weight`")
    if not w.sum() > 0:
        raise ValueError("sample_weight: all weights are zero; at least one must be positive")
    return w / w.sum()


class _BaseAdaBoost(BaseLearnerMixin, MemberSequence, BaseEstimator):
    _parameter_constraints: ClassVar[dict[str, Any]] = {
        **BaseLearnerMixin._parameter_constraints,
        "n_estimators": Interval(numbers.Integral, low=1),
        "learning_rate": Interval(low=0.0, include_low=False),
    }

    def _prepare(self, X: Any, y: Any, sample_weight: Any) -> tuple:
        """Validated parameters, data and starting weights; the generator seeding the members."""
        validate_params(self)
        # X of more than two dimensions reaches the members, as in scikit-learn
        X, y = check_meta_X_y(self, X, y, classifier=self._is_clf, allow_nd=True)
        w = _initial_weights(sample_weight, X.shape[0])
        self.estimator_ = self._base_learner()
        return check_random_state(self.random_state), X, y, w

    def _new_learner(self, rng: np.random.Generator) -> Any:
        return new_member(self.estimator_, int(rng.integers(2**31)))

    def _check_X(self, X: Any) -> Any:
        return check_meta_X(self, X, reset=False, allow_nd=True)

    def staged_score(self, X: Any, y: Any, sample_weight: Any = None) -> Iterator[float]:
        """Score after each round: (weighted) accuracy for a classifier, :math:`R^2` for a
        regressor."""
        y = np.asarray(y)
        for pred in self.staged_predict(X):
            if self._is_clf:
                yield float(np.average(pred == y, weights=sample_weight))
                continue
            mean = np.average(y, weights=sample_weight)
            resid = np.average((y - pred) ** 2, weights=sample_weight)
            yield float(1.0 - resid / np.average((y - mean) ** 2, weights=sample_weight))

    def _record(self, alphas: list[float], errors: list[float]) -> None:
        """``estimator_weights_`` and ``estimator_errors_`` of length ``n_estimators``, as
        scikit-learn keeps them: the rounds not run (boosting stopped early) hold weight 0 and
        error 1."""
        self.estimator_weights_ = np.zeros(self.n_estimators)
        self.estimator_errors_ = np.ones(self.n_estimators)
        self.estimator_weights_[: len(alphas)] = alphas
        self.estimator_errors_[: len(errors)] = errors

    def _member_weights(self) -> np.ndarray:
        """The votes of the fitted members, one per entry of ``estimators_``."""
        return self.estimator_weights_[: len(self.estimators_)]

    @property
    def feature_importances_(self) -> np.ndarray:
        """Members' impurity-based importances averaged with the weights
        :math:`\\alpha_m` (when the members have importances)."""
        try:
            imp = [
                w * m.feature_importances_
                for w, m in zip(self._member_weights(), self.estimators_, strict=True)
            ]
        except AttributeError as exc:
            raise AttributeError(
                "Unable to compute feature importances since estimator does not have a "
                "feature_importances_ attribute"
            ) from exc
        return np.sum(imp, axis=0) / self.estimator_weights_.sum()


class AdaBoostClassifier(ClassifierMixin, _BaseAdaBoost):
    """AdaBoost with the SAMME multi-class weight update.

    Parameters
    ----------
    estimator : classifier, default=DecisionTreeClassifier(max_depth=1)
        Weak learner; its ``fit`` must accept ``sample_weight``.
    n_estimators : int, default=50
        Maximum number of learners (fewer if one is perfect or no better than chance).
    learning_rate : float, default=1.0
        Shrinks each vote :math:`\\alpha_m`.
    random_state : int, Generator or None, default=None
        Seeds the learners.

    Attributes
    ----------
    estimator_, estimators_ : the base learner and the fitted learners
    estimator_weights_ : ndarray of shape (n_estimators,)
        Votes :math:`\\alpha_m`; 0 for the rounds not run when boosting stopped early.
    estimator_errors_ : ndarray of shape (n_estimators,)
        Weighted training errors :math:`\\mathrm{err}_m`; 1 for the rounds not run.
    classes_ : ndarray
    feature_importances_ : ndarray of shape (n_features,)

    Notes
    -----
    :math:`\\alpha_m = \\eta(\\log\\frac{1-\\mathrm{err}_m}{\\mathrm{err}_m} + \\log(K-1))`;
    misclassified weights are multiplied by :math:`e^{\\alpha_m}`.

    References
    ----------
    Zhu, Zou, Rosset, Hastie (2009). Multi-class AdaBoost. Statistics and Its Interface 2.
    """

    _default = DecisionTreeClassifier(max_depth=1)
    _is_clf = True

    def __init__(
        self,
        estimator: Any = None,
        *,
        n_estimators: int = 50,
        learning_rate: float = 1.0,
        random_state: int | np.random.Generator | None = None,
    ) -> None:
        store_params(self, locals())

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> AdaBoostClassifier:
        """Boost up to ``n_estimators`` weak learners on ``X`` (dense or scipy.sparse), ``y``."""
        rng, X, y, w = self._prepare(X, y, sample_weight)
        self.classes_, _ = encode_labels(y)
        K = self.n_classes_ = len(self.classes_)
        if not accepts_sample_weight(self.estimator_):
            raise ValueError(f"{type(self.estimator_).__name__} doesn't support sample_weight.")
        self.estimators_, alphas, errors = [], [], []
        for m in range(self.n_estimators):
            learner = self._new_learner(rng)
            learner.fit(X, y, sample_weight=w)
            wrong = learner.predict(X) != y
            err = float(np.average(wrong, weights=w))
            if err <= 0.0:  # a perfect learner decides alone
                self.estimators_.append(learner)
                alphas.append(1.0)
                errors.append(0.0)
                break
            if err >= 1.0 - 1.0 / K:
                if not self.estimators_:
                    raise ValueError(
                        "BaseClassifier in AdaBoostClassifier ensemble is worse than random, "
                        f"ensemble can not be fit (weighted error {err:.3g} >= 1 - 1/n_classes)."
                    )
                break
            alpha = self.learning_rate * (np.log((1.0 - err) / err) + np.log(K - 1.0))
            self.estimators_.append(learner)
            alphas.append(alpha)
            errors.append(err)
            # w e^{alpha} on the misclassified rows, computed as scikit-learn computes it (in
            # the log domain), so that learners sensitive to the last bits of the weights (an
            # SVC's C * w) are fitted on the very same weights
            with np.errstate(over="ignore", divide="ignore"):
                w = np.exp(np.log(w) + alpha * wrong * (w > 0))
            if not np.isfinite(w.sum()):
                warnings.warn(
                    f"Sample weights have reached infinite values, at iteration {m}, causing "
                    "overflow. Iterations stopped. Try lowering the learning rate.",
                    UserWarning,
                    stacklevel=2,
                )
                break
            if w.sum() <= 0:
                break
            w /= w.sum()
        self._record(alphas, errors)
        return self

    def staged_decision_function(self, X: Any) -> Iterator[np.ndarray]:
        """Class scores after each round: :math:`\\sum_{m' \\le m} \\alpha_{m'} c_k(G_{m'}(x))`
        divided by :math:`\\sum \\alpha`, with the code :math:`c_k = 1` for the predicted class
        and :math:`-1/(K-1)` otherwise; shape (n_samples,) for two classes (positive minus
        negative score), (n_samples, n_classes) otherwise (zeros for a single class)."""
        X = self._check_X(X)
        if self.n_classes_ == 1:
            yield np.zeros((X.shape[0], 1))
            return
        votes = np.zeros((X.shape[0], self.n_classes_))
        total = 0.0
        wrong_vote = -1.0 / (self.n_classes_ - 1)  # SAMME's symmetric class code
        for learner, alpha in zip(self.estimators_, self._member_weights(), strict=True):
            hit = learner.predict(X)[:, None] == self.classes_[None, :]
            votes += alpha * np.where(hit, 1.0, wrong_vote)
            total += alpha
            scores = votes / total
            yield scores[:, 1] - scores[:, 0] if self.n_classes_ == 2 else scores

    def decision_function(self, X: Any) -> np.ndarray:
        """Normalised weighted votes (see :meth:`staged_decision_function`)."""
        return deque(self.staged_decision_function(X), maxlen=1)[0]  # after the last round

    def _proba(self, scores: np.ndarray) -> np.ndarray:
        if self.n_classes_ == 1:
            return np.ones((scores.shape[0], 1))
        if self.n_classes_ == 2:
            scores = np.column_stack([-scores, scores]) / 2
        else:
            scores = scores / (self.n_classes_ - 1)
        return softmax(scores, axis=1)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Softmax of the normalised votes divided by ``K - 1`` (SAMME's class estimate)."""
        return self._proba(self.decision_function(X))

    def predict_log_proba(self, X: Any) -> np.ndarray:
        return np.log(self.predict_proba(X))

    def staged_predict_proba(self, X: Any) -> Iterator[np.ndarray]:
        for scores in self.staged_decision_function(X):
            yield self._proba(scores)

    def _label(self, scores: np.ndarray) -> np.ndarray:
        if self.n_classes_ == 2:
            index = (scores > 0).astype(int)
            return self.classes_[index]
        index = np.argmax(scores, axis=1)
        return self.classes_[index]

    def predict(self, X: Any) -> np.ndarray:
        """Class with the largest weighted vote."""
        return self._label(self.decision_function(X))

    def staged_predict(self, X: Any) -> Iterator[np.ndarray]:
        for scores in self.staged_decision_function(X):
            yield self._label(scores)


class AdaBoostRegressor(RegressorMixin, _BaseAdaBoost):
    """AdaBoost.R2: boosting on weighted bootstrap samples, weighted-median prediction.

    Parameters
    ----------
    estimator : regressor, default=DecisionTreeRegressor(max_depth=3)
        Any regressor: each learner is fit on a weighted bootstrap sample, not on weights.
    n_estimators : int, default=50
    learning_rate : float, default=1.0
    loss : {"linear", "square", "exponential"}, default="linear"
        Scaled error :math:`L_i = e_i/e_{\\max}`, its square, or :math:`1 - e^{-e_i/e_{\\max}}`.
    random_state : int, Generator or None, default=None
        Seeds the bootstrap samples and the learners.

    Attributes
    ----------
    estimator_, estimators_, feature_importances_
    estimator_weights_, estimator_errors_ : ndarray of shape (n_estimators,)
        Votes and weighted average losses :math:`\\bar L_m`; weight 0 and error 1 for the
        rounds not run when boosting stopped early.

    Notes
    -----
    :math:`\\beta_m = \\bar L_m / (1 - \\bar L_m)`, vote :math:`\\eta\\log(1/\\beta_m)`, weights
    :math:`w_i \\leftarrow w_i \\beta_m^{\\eta(1 - L_i)}`; boosting stops when
    :math:`\\bar L_m \\ge 1/2`.

    References
    ----------
    Drucker (1997). Improving Regressors using Boosting Techniques. ICML.
    """

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        **_BaseAdaBoost._parameter_constraints,
        "loss": Options("linear", "square", "exponential"),
    }
    _default = DecisionTreeRegressor(max_depth=3)
    _is_clf = False

    def __init__(
        self,
        estimator: Any = None,
        *,
        n_estimators: int = 50,
        learning_rate: float = 1.0,
        loss: str = "linear",
        random_state: int | np.random.Generator | None = None,
    ) -> None:
        store_params(self, locals())

    def _scaled_errors(self, learner: Any, X: Any, y: np.ndarray, w: np.ndarray) -> np.ndarray:
        """:math:`L_i` of the rows with positive weight (0 elsewhere): a row of weight 0 takes
        no part in the boosting, so it neither sets :math:`e_{\\max}` nor gets reweighed."""
        e = np.where(w > 0, np.abs(learner.predict(X) - y), 0.0)
        L = e / e.max() if e.max() > 0 else e
        if self.loss == "square":
            return L**2
        if self.loss == "exponential":
            return 1.0 - np.exp(-L)
        return L

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> AdaBoostRegressor:
        """Boost up to ``n_estimators`` regressors on ``X`` (dense or scipy.sparse), ``y``."""
        rng, X, y, w = self._prepare(X, y, sample_weight)
        n = X.shape[0]
        self.estimators_, alphas, errors = [], [], []
        for _ in range(self.n_estimators):
            boot = rng.choice(n, size=n, replace=True, p=w)
            learner = self._new_learner(rng)
            learner.fit(X[boot], y[boot])
            L = self._scaled_errors(learner, X, y, w)
            avg = float(np.sum(w * L))
            if avg <= 0.0:  # a perfect fit ends the boosting
                self.estimators_.append(learner)
                alphas.append(1.0)
                errors.append(0.0)
                break
            if avg >= 0.5:
                # scikit-learn keeps a first learner so the model can predict, but records no
                # round for it: weight 0, error 1 (its weighted median is its prediction)
                if not self.estimators_:
                    self.estimators_.append(learner)
                break
            beta = avg / (1.0 - avg)
            self.estimators_.append(learner)
            alphas.append(self.learning_rate * np.log(1.0 / beta))
            errors.append(avg)
            w = w * np.power(beta, (1.0 - L) * self.learning_rate)
            w /= w.sum()
        self._record(alphas, errors)
        return self

    def _weighted_median(self, preds: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """Per row, the smallest prediction whose cumulative weight reaches half the total."""
        order = np.argsort(preds, axis=1)
        cdf = np.cumsum(weights[order], axis=1)
        k = np.argmax(cdf >= 0.5 * cdf[:, -1:], axis=1)
        rows = np.arange(preds.shape[0])
        return preds[rows, order[rows, k]]

    def predict(self, X: Any) -> np.ndarray:
        """Weighted median of the learners' predictions."""
        X = self._check_X(X)
        preds = np.column_stack([est.predict(X) for est in self.estimators_])
        return self._weighted_median(preds, self._member_weights())

    def staged_predict(self, X: Any) -> Iterator[np.ndarray]:
        X = self._check_X(X)
        preds = np.column_stack([est.predict(X) for est in self.estimators_])
        for m in range(1, preds.shape[1] + 1):
            yield self._weighted_median(preds[:, :m], self.estimator_weights_[:m])
