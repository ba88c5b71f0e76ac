"""Bagging: the same learner fit on bootstrap samples (and feature subsets), then averaged.

Each of the ``n_estimators`` copies of the base learner sees ``max_samples`` rows drawn with
replacement (``bootstrap=True``) and ``max_features`` columns drawn without replacement. A
classifier averages the learners' class probabilities (or counts their votes when a learner has
no ``predict_proba``); a regressor averages predictions. Averaging :math:`B` learners with
variance :math:`\\sigma^2` and pairwise correlation :math:`\\rho` leaves variance
:math:`\\rho\\sigma^2 + (1 - \\rho)\\sigma^2 / B`, which is why bagging helps unstable learners.

References
----------
Breiman (1996). Bagging predictors. Machine Learning 24(2), 123-140.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from joblib import delayed
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, clone

from mlcanon._estimator import encode_labels
from mlcanon._validation import check_random_state, check_scalar
from mlcanon.tree import DecisionTreeClassifier, DecisionTreeRegressor
from mlcanon.tree._checks import check_X, check_X_y

from ._forest import fit_members

__all__ = ["BaggingClassifier", "BaggingRegressor"]


def _count(value: Any, name: str, total: int) -> int:
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(check_scalar(value, name, kind=numbers.Integral, low=1, high=total))
    check_scalar(value, name, kind=numbers.Real, low=0.0, high=1.0, include_low=False)
    return max(1, int(value * total))


def _fit_member(learner, X, y, rows, cols):
    return learner.fit(X[np.ix_(rows, cols)], y[rows])


class _BaseBagging(BaseEstimator):
    def __init__(
        self,
        estimator: Any = None,
        n_estimators: int = 10,
        *,
        max_samples: int | float = 1.0,
        max_features: int | float = 1.0,
        bootstrap: bool = True,
        oob_score: bool = False,
        n_jobs: int | None = None,
        random_state: int | np.random.Generator | None = None,
    ) -> None:
        self.estimator = estimator
        self.n_estimators = n_estimators
        self.max_samples = max_samples
        self.max_features = max_features
        self.bootstrap = bootstrap
        self.oob_score = oob_score
        self.n_jobs = n_jobs
        self.random_state = random_state

    def _fit_members(self, X: np.ndarray, y: np.ndarray) -> None:
        check_scalar(self.n_estimators, "n_estimators", kind=numbers.Integral, low=1)
        if self.oob_score and not self.bootstrap:
            raise ValueError("oob_score=True needs bootstrap=True (no sample is out of bag)")
        n, d = X.shape
        n_rows = _count(self.max_samples, "max_samples", n)
        n_cols = _count(self.max_features, "max_features", d)
        rng = check_random_state(self.random_state)
        self.estimators_samples_, self.estimators_features_, members = [], [], []
        for _ in range(self.n_estimators):
            rows = (
                rng.integers(0, n, n_rows)
                if self.bootstrap
                else np.sort(rng.choice(n, n_rows, replace=False))
            )
            cols = np.sort(rng.choice(d, n_cols, replace=False))
            learner = clone(self.estimator if self.estimator is not None else self._default)
            if "random_state" in learner.get_params():
                learner.set_params(random_state=int(rng.integers(2**31)))
            self.estimators_samples_.append(rows)
            self.estimators_features_.append(cols)
            members.append(learner)
        self.estimators_ = fit_members(
            self.n_jobs,
            (
                delayed(_fit_member)(m, X, y, r, c)
                for m, r, c in zip(
                    members, self.estimators_samples_, self.estimators_features_, strict=True
                )
            ),
            self.n_estimators,
        )

    def _oob_mask(self, k: int, n: int) -> np.ndarray:
        mask = np.ones(n, bool)
        mask[self.estimators_samples_[k]] = False
        return mask

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = self.estimator is None
        return tags


class BaggingClassifier(ClassifierMixin, _BaseBagging):
    """Bootstrap-aggregated classifier (soft vote of the members' probabilities).

    Parameters
    ----------
    estimator : classifier, default=DecisionTreeClassifier()
    n_estimators : int, default=10
    max_samples, max_features : int or float, default=1.0
        Rows (count or fraction) drawn per member; columns drawn per member.
    bootstrap : bool, default=True
        Rows drawn with replacement (otherwise without).
    oob_score : bool, default=False
        Accuracy of each sample predicted by the members that did not draw it.
    n_jobs : int or None
        joblib workers (threads) for fitting.
    random_state : int, Generator or None

    Attributes
    ----------
    estimators_, estimators_samples_, estimators_features_, classes_, oob_score_

    References
    ----------
    Breiman (1996). Bagging predictors. Machine Learning 24(2).
    """

    _default = DecisionTreeClassifier()

    def fit(self, X: Any, y: Any) -> BaggingClassifier:
        X, y = check_X_y(self, X, y, classifier=True, allow_nan=self.estimator is None)
        self.classes_, codes = encode_labels(y)
        self._fit_members(X, codes)
        if self.oob_score:
            acc = np.zeros((X.shape[0], len(self.classes_)))
            for k, m in enumerate(self.estimators_):
                mask = self._oob_mask(k, X.shape[0])
                acc[mask] += self._member_proba(m, X[mask][:, self.estimators_features_[k]])
            seen = acc.sum(axis=1) > 0
            self.oob_score_ = float(np.mean(np.argmax(acc[seen], axis=1) == codes[seen]))
        return self

    def _member_proba(self, member: Any, X: np.ndarray) -> np.ndarray:
        """Member's probabilities over all classes (a member may have missed some classes)."""
        out = np.zeros((X.shape[0], len(self.classes_)))
        if hasattr(member, "predict_proba"):
            out[:, member.classes_.astype(int)] = member.predict_proba(X)
        else:
            out[np.arange(X.shape[0]), member.predict(X).astype(int)] = 1.0
        return out

    def predict_proba(self, X: Any) -> np.ndarray:
        """Mean of the members' class probabilities."""
        X = check_X(self, X, reset=False, allow_nan=self.estimator is None)
        total = sum(
            self._member_proba(m, X[:, f])
            for m, f in zip(self.estimators_, self.estimators_features_, strict=True)
        )
        return total / len(self.estimators_)

    def predict(self, X: Any) -> np.ndarray:
        index = np.argmax(self.predict_proba(X), axis=1)
        return self.classes_[index]


class BaggingRegressor(RegressorMixin, _BaseBagging):
    """Bootstrap-aggregated regressor (mean of the members' predictions).

    Parameters
    ----------
    As :class:`BaggingClassifier`, with ``estimator=DecisionTreeRegressor()`` by default.

    Attributes
    ----------
    estimators_, estimators_samples_, estimators_features_, oob_score_ (:math:`R^2`)

    References
    ----------
    Breiman (1996). Bagging predictors. Machine Learning 24(2).
    """

    _default = DecisionTreeRegressor()

    def fit(self, X: Any, y: Any) -> BaggingRegressor:
        X, y = check_X_y(self, X, y, classifier=False, allow_nan=self.estimator is None)
        self._fit_members(X, y)
        if self.oob_score:
            acc, hits = np.zeros(X.shape[0]), np.zeros(X.shape[0])
            for k, m in enumerate(self.estimators_):
                mask = self._oob_mask(k, X.shape[0])
                acc[mask] += m.predict(X[mask][:, self.estimators_features_[k]])
                hits[mask] += 1
            seen = hits > 0
            pred = acc[seen] / hits[seen]
            ys = y[seen]
            self.oob_score_ = float(1 - np.sum((ys - pred) ** 2) / np.sum((ys - ys.mean()) ** 2))
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Mean of the members' predictions."""
        X = check_X(self, X, reset=False, allow_nan=self.estimator is None)
        return np.mean(
            [
                m.predict(X[:, f])
                for m, f in zip(self.estimators_, self.estimators_features_, strict=True)
            ],
            axis=0,
        )
