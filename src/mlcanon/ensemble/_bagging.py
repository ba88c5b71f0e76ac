"""Bagging: the same learner fit on bootstrap samples (and feature subsets), then averaged.

Each of the ``n_estimators`` copies of the base learner sees ``max_samples`` rows drawn with
replacement (``bootstrap=True``, with probabilities proportional to ``sample_weight`` when given)
and ``max_features`` columns drawn without replacement (with replacement when
``bootstrap_features=True``). A learner whose ``fit`` takes ``sample_weight`` gets the drawn rows
as counts (row ``i`` drawn ``c_i`` times has weight ``c_i``); another gets the drawn rows
themselves. A classifier averages the learners' class probabilities (or counts their votes when a
learner has no ``predict_proba``); a regressor averages predictions (of each output, when
``y`` has several columns and the learner predicts them all). Averaging :math:`B` learners
with variance :math:`\\sigma^2` and pairwise correlation :math:`\\rho` leaves variance
:math:`\\rho\\sigma^2 + (1 - \\rho)\\sigma^2 / B`, which is why bagging helps unstable learners.

With scikit-learn's metadata routing on, the metadata passed to ``fit`` and to the prediction
methods go to the learners that request them; ``sample_weight`` stays the ensemble's own (the
rows' drawing probabilities), and the drawn rows reach a learner as counts only if it requests
``sample_weight`` in ``fit``.

References
----------
Breiman (1996). Bagging predictors. Machine Learning 24(2), 123-140.
Ho (1998). The random subspace method for constructing decision forests. IEEE TPAMI 20(8).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import logsumexp
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.utils.metaestimators import available_if

from mlcanon._estimator import encode_labels, route
from mlcanon.tree import DecisionTreeClassifier, DecisionTreeRegressor

from ._bagging_base import BaseBagging, base_has, warn_no_oob
from ._base import check_meta_X_y, check_warm_classes, routed_to

__all__ = ["BaggingClassifier", "BaggingRegressor"]


_PARAMS_DOC = """
    n_estimators : int, default=10
    max_samples : int, float or None, default=None
        Rows drawn per member: all of them (``None``), a count, or a fraction of ``n_samples``
        (of the total ``sample_weight`` when weights are given).
    max_features : int or float, default=1.0
        Columns drawn per member (count or fraction).
    bootstrap : bool, default=True
        Rows drawn with replacement (otherwise without).
    bootstrap_features : bool, default=False
        Columns drawn with replacement.
    oob_score : bool, default=False
        Score each sample with the members that did not draw it.
    warm_start : bool, default=False
        A new ``fit`` keeps the fitted members and adds ``n_estimators - len(estimators_)``;
        its ``X`` (and a classifier's ``y``) must have the fitted columns (and classes).
    n_jobs : int or None
        joblib workers (threads) for fitting.
    random_state : int, Generator or None
    verbose : int, default=0
        Print each member's fit time.
"""


class BaggingClassifier(ClassifierMixin, BaseBagging):
    __doc__ = (
        """Bootstrap-aggregated classifier (soft vote of the members' probabilities).

    Parameters
    ----------
    estimator : classifier, default=DecisionTreeClassifier()"""
        + _PARAMS_DOC
        + """
    Attributes
    ----------
    estimator_, estimators_, estimators_samples_, estimators_features_, classes_, n_classes_,
    oob_score_ (accuracy), oob_decision_function_

    References
    ----------
    Breiman (1996). Bagging predictors. Machine Learning 24(2).
    """
    )

    _default = DecisionTreeClassifier()

    def fit(
        self, X: Any, y: Any, sample_weight: Any = None, **fit_params: Any
    ) -> BaggingClassifier:
        """Fit the members on bootstrap samples of ``X`` (dense or scipy.sparse) and ``y``
        (``fit_params`` are metadata, routed when routing is on)."""
        routed = route(self, "fit", fit_params)
        warm = self._check_warm_X(X)
        X, y = check_meta_X_y(self, X, y, classifier=True, allow_inf=True)
        if warm:
            check_warm_classes(self, [self.classes_], y)
        self.classes_, codes = encode_labels(y)
        self.n_classes_ = len(self.classes_)
        self._fit_members(X, codes, sample_weight, routed)
        if self.oob_score:
            self._set_oob_score(X, codes)
        return self

    def _set_oob_score(self, X: Any, codes: np.ndarray) -> None:
        acc = np.zeros((X.shape[0], self.n_classes_))
        for m, cols, mask in self._oob_members(X.shape[0]):
            acc[mask] += self._member_proba(m, X[mask][:, cols])
        seen = acc.sum(axis=1) > 0
        warn_no_oob(seen)
        with np.errstate(invalid="ignore"):
            self.oob_decision_function_ = acc / acc.sum(axis=1, keepdims=True)
        self.oob_score_ = float(np.mean(np.argmax(acc, axis=1) == codes))

    def _member_proba(self, member: Any, X: Any, routed: Any = None) -> np.ndarray:
        """Member's probabilities over all classes (a member may have missed some classes)."""
        out = np.zeros((X.shape[0], self.n_classes_))
        if hasattr(member, "predict_proba"):
            params = routed_to(routed, "estimator", "predict_proba")
            out[:, np.asarray(member.classes_, dtype=np.int64)] = member.predict_proba(X, **params)
        else:
            codes = member.predict(X, **routed_to(routed, "estimator", "predict"))
            out[np.arange(X.shape[0]), np.asarray(codes, dtype=np.int64)] = 1.0
        return out

    def _proba(self, X: Any, routed: Any) -> np.ndarray:
        members = self._members_X(X)
        return sum(self._member_proba(m, Xm, routed) for m, Xm in members) / len(self)

    def predict_proba(self, X: Any, **params: Any) -> np.ndarray:
        """Mean of the members' class probabilities (vote shares for members without them);
        ``params`` are metadata, routed when routing is on."""
        return self._proba(X, route(self, "predict_proba", params))

    def predict_log_proba(self, X: Any, **params: Any) -> np.ndarray:
        """Log of :meth:`predict_proba`, from the members' log-probabilities when they have
        them (:math:`\\log \\frac1B \\sum_b p_b` by log-sum-exp)."""
        routed = route(self, "predict_log_proba", params)
        members = list(self._members_X(X))
        if not hasattr(self.estimator_, "predict_log_proba"):
            with np.errstate(divide="ignore"):
                return np.log(self._proba(X, routed))
        logs = []
        for m, Xm in members:
            lp = np.full((Xm.shape[0], self.n_classes_), -np.inf)
            log_proba = m.predict_log_proba(
                Xm, **routed_to(routed, "estimator", "predict_log_proba")
            )
            lp[:, np.asarray(m.classes_, dtype=np.int64)] = log_proba
            logs.append(lp)
        return logsumexp(logs, axis=0) - np.log(len(self))

    @available_if(base_has("decision_function"))
    def decision_function(self, X: Any, **params: Any) -> np.ndarray:
        """Mean of the members' decision functions."""
        kw = routed_to(route(self, "decision_function", params), "estimator", "decision_function")
        return sum(m.decision_function(Xm, **kw) for m, Xm in self._members_X(X)) / len(self)

    def predict(self, X: Any, **params: Any) -> np.ndarray:
        index = np.argmax(self._proba(X, route(self, "predict", params)), axis=1)
        return self.classes_[index]


class BaggingRegressor(RegressorMixin, BaseBagging):
    __doc__ = (
        """Bootstrap-aggregated regressor (mean of the members' predictions).

    Parameters
    ----------
    estimator : regressor, default=DecisionTreeRegressor()"""
        + _PARAMS_DOC
        + """
    Attributes
    ----------
    estimator_, estimators_, estimators_samples_, estimators_features_, oob_score_
    (:math:`R^2`, averaged over the outputs of a 2-D ``y``), oob_prediction_ (shaped like ``y``)

    References
    ----------
    Breiman (1996). Bagging predictors. Machine Learning 24(2).
    """
    )

    _default = DecisionTreeRegressor()

    def fit(self, X: Any, y: Any, sample_weight: Any = None, **fit_params: Any) -> BaggingRegressor:
        """Fit the members on bootstrap samples of ``X`` (dense or scipy.sparse) and ``y``
        (1-D, or ``(n_samples, n_outputs)`` for members that predict several outputs);
        ``fit_params`` are metadata, routed when routing is on."""
        routed = route(self, "fit", fit_params)
        self._check_warm_X(X)
        X, y = check_meta_X_y(self, X, y, classifier=False, allow_inf=True, multi_output=True)
        self._fit_members(X, y, sample_weight, routed)
        if self.oob_score:
            self._set_oob_score(X, y)
        return self

    def _set_oob_score(self, X: Any, y: np.ndarray) -> None:
        """Out-of-bag predictions and their :math:`R^2` (the mean over outputs of
        :math:`1 - \\sum_i (y_i - \\hat y_i)^2 / \\sum_i (y_i - \\bar y)^2`; a constant output
        scores 1 if predicted exactly, else 0, as ``r2_score``'s ``force_finite``)."""
        Y = y.reshape(len(y), -1)  # (n, n_outputs)
        acc, hits = np.zeros(Y.shape), np.zeros(len(Y))
        for m, cols, mask in self._oob_members(len(Y)):
            acc[mask] += m.predict(X[mask][:, cols]).reshape(-1, Y.shape[1])
            hits[mask] += 1
        warn_no_oob(hits > 0)
        pred = acc / np.maximum(hits, 1)[:, None]
        self.oob_prediction_ = pred.reshape(y.shape)
        resid = np.sum((Y - pred) ** 2, axis=0)
        total = np.sum((Y - Y.mean(axis=0)) ** 2, axis=0)
        constant = total == 0
        r2 = np.where(constant, (resid == 0).astype(float), 0.0)
        r2[~constant] = 1 - resid[~constant] / total[~constant]
        self.oob_score_ = float(np.mean(r2))

    def predict(self, X: Any, **params: Any) -> np.ndarray:
        """Mean of the members' predictions, of shape (n_samples,) or (n_samples, n_outputs)."""
        kw = routed_to(route(self, "predict", params), "estimator", "predict")
        return np.mean([m.predict(Xm, **kw) for m, Xm in self._members_X(X)], axis=0)
