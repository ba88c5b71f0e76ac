"""Voting: combine already different models instead of perturbed copies of one.

A voting classifier predicts the (weighted) majority label, or with ``voting="soft"`` the class
of largest weighted mean probability; a voting regressor predicts the weighted mean:

.. math:: \\hat y = \\arg\\max_k \\sum_j w_j \\hat p_j(k \\mid x) \\big/ \\textstyle\\sum_j w_j.

A member set to ``"drop"`` (``set_params(name="drop")``) is left out with its weight. With
scikit-learn's metadata routing on, ``fit``'s ``sample_weight`` and other metadata go to the
members that request them.

References
----------
Kuncheva (2004). Combining Pattern Classifiers, ch. 4.
"""

from __future__ import annotations

import numbers
from typing import Any, ClassVar

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin, TransformerMixin, clone
from sklearn.utils import Bunch
from sklearn.utils.metaestimators import available_if
from sklearn.utils.parallel import delayed
from sklearn.utils.validation import check_is_fitted

from mlcanon._estimator import (
    encode_labels,
    input_feature_names,
    store_params,
)
from mlcanon._validation import BOOL, ArrayLike, InstanceOf, Interval, Options, validate_params
from mlcanon.preprocessing import LabelEncoder

from ._base import (
    NamedMembers,
    check_meta_X,
    check_meta_X_y,
    feature_names,
    fit_member,
    fit_members,
    is_drop,
    named_members,
)

__all__ = ["VotingClassifier", "VotingRegressor"]


class _BaseVoting(TransformerMixin, NamedMembers):
    _parameter_constraints: ClassVar[dict[str, Any]] = {
        "estimators": InstanceOf(list),
        "weights": (None, ArrayLike(low=0)),  # one per member: checked in _weights
        "n_jobs": (None, Interval(numbers.Integral)),
        "verbose": Options(True, False, 0, 1, 2, 3),
    }

    def _weights(self) -> np.ndarray:
        """Weights of the members that are not dropped (ones when ``weights`` is None)."""
        if self.weights is None:
            return np.ones(len(named_members(self)))
        w = np.asarray(self.weights, dtype=np.float64)
        if w.shape != (len(self.estimators),):
            raise ValueError(
                f"Number of `estimators` and weights must be equal; got {w.size} weights, "
                f"{len(self.estimators)} estimators"
            )
        kept = np.array(
            [wi for (_, e), wi in zip(self.estimators, w, strict=True) if not is_drop(e)]
        )
        if not kept.sum() > 0:
            raise ValueError(
                "weights must give at least one member that is not dropped a positive weight "
                f"(the vote is a weighted average); got weights={self.weights!r}"
            )
        return kept

    def _mean_weights(self) -> np.ndarray | None:
        """The weights of the mean, None for a plain mean (which keeps float32 outputs of the
        members float32, as scikit-learn's; weights make it float64)."""
        return None if self.weights is None else self._w

    def _fit_all(self, X: Any, y: Any, sample_weight: Any, fit_params: dict, kind: str) -> None:
        params = self._members_fit_params(sample_weight, fit_params)  # before members are checked
        validate_params(self)
        members = named_members(self, kind)
        self._w = self._weights()
        n = len(members)
        jobs = (
            delayed(fit_member)(
                clone(est),
                X,
                y,
                params[name],
                f"[Voting] ({i} of {n}) Processing {name}" if self.verbose else None,
            )
            for i, (name, est) in enumerate(members, 1)
        )
        self.estimators_ = fit_members(self.n_jobs, jobs, n)
        fitted = dict(zip((name for name, _ in members), self.estimators_, strict=True))
        self.named_estimators_ = Bunch(**{n: fitted.get(n, "drop") for n, _ in self.estimators})

    def _members_X(self, X: Any) -> Any:
        """``X`` checked against the fit (NaN let through: the members decide; scipy.sparse
        stays sparse, as in scikit-learn), as the members take it (a data frame stays one)."""
        checked = check_meta_X(self, X, reset=False)
        return self._members_input(X, checked)

    def _member_names(self) -> list[str]:
        return [name for name, _ in named_members(self)]


def _soft_only(self) -> bool:
    if self.voting == "hard":
        raise AttributeError(f"predict_proba is not available when voting={self.voting!r}")
    return True


class VotingClassifier(ClassifierMixin, _BaseVoting):
    """Hard (majority) or soft (mean probability) vote of several classifiers.

    Parameters
    ----------
    estimators : list of (str, classifier or "drop")
    voting : {"hard", "soft"}, default="hard"
    weights : array-like of shape (n_estimators,), optional
        Weight of each member's vote or probabilities.
    n_jobs : int or None
        joblib workers (threads) fitting the members.
    flatten_transform : bool, default=True
        With soft voting, :meth:`transform` returns (n_samples, n_members * n_classes)
        instead of (n_members, n_samples, n_classes).
    verbose : bool, default=False
        Print each member's fit time.

    Attributes
    ----------
    estimators_ : list of fitted classifiers (dropped ones left out)
    named_estimators_ : Bunch
    classes_ : ndarray
    le_ : LabelEncoder
        Encodes the labels as the class codes the members were fitted on (``classes_`` is
        ``le_.classes_``): ``le_.inverse_transform`` turns :meth:`transform`'s hard votes back
        into labels.

    References
    ----------
    Kuncheva (2004). Combining Pattern Classifiers, ch. 4.
    """

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        **_BaseVoting._parameter_constraints,
        "voting": Options("hard", "soft"),
        "flatten_transform": BOOL,
    }

    def __init__(
        self,
        estimators: list,
        *,
        voting: str = "hard",
        weights: Any = None,
        n_jobs: int | None = None,
        flatten_transform: bool = True,
        verbose: bool = False,
    ) -> None:
        store_params(self, locals())

    def fit(self, X: Any, y: Any, sample_weight: Any = None, **fit_params: Any) -> VotingClassifier:
        """Fit every member on ``X`` and the class codes of ``y`` (with the weights, if any;
        ``fit_params`` are metadata, routed when routing is on)."""
        y_arr = np.asarray(y)
        if y_arr.ndim == 2 and y_arr.shape[1] > 1:
            raise NotImplementedError(
                "Multilabel and multi-output classification is not supported."
            )
        X_checked, y = check_meta_X_y(self, X, y, classifier=True)
        self.classes_, codes = encode_labels(y)
        self.le_ = LabelEncoder()
        self.le_.classes_ = self.classes_
        self._fit_all(
            self._members_input(X, X_checked), codes, sample_weight, fit_params, "classifier"
        )
        return self

    def _probas(self, X: Any) -> np.ndarray:
        check_is_fitted(self)
        X = self._members_X(X)
        return np.asarray([e.predict_proba(X) for e in self.estimators_])

    def _votes(self, X: Any) -> np.ndarray:
        """Members' predicted class codes, shape (n_samples, n_members)."""
        X = self._members_X(X)
        return np.column_stack([np.asarray(e.predict(X), dtype=np.int64) for e in self.estimators_])

    @available_if(_soft_only)
    def predict_proba(self, X: Any) -> np.ndarray:
        """Weighted mean of the members' probabilities (soft voting only)."""
        return np.average(self._probas(X), axis=0, weights=self._mean_weights())

    def predict(self, X: Any) -> np.ndarray:
        """Class of largest weighted mean probability (soft) or weighted vote (hard; a tie goes
        to the first class)."""
        check_is_fitted(self)
        if self.voting == "soft":
            return self.classes_[np.argmax(self.predict_proba(X), axis=1)]
        votes = self._votes(X)
        tally = np.zeros((votes.shape[0], len(self.classes_)))
        for j, w in enumerate(self._w):
            tally[np.arange(votes.shape[0]), votes[:, j]] += w
        return self.classes_[np.argmax(tally, axis=1)]

    def transform(self, X: Any) -> np.ndarray:
        """Members' probabilities (soft voting) or predicted class codes (hard voting)."""
        if self.voting == "hard":
            return self._votes(X)
        P = self._probas(X)
        return np.hstack(list(P)) if self.flatten_transform else P

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """``votingclassifier_<name>`` (hard) or ``votingclassifier_<name><class>`` (soft); a
        given ``input_features`` is only checked."""
        input_feature_names(self, input_features)
        if self.voting == "soft" and not self.flatten_transform:
            raise ValueError(
                "get_feature_names_out is not supported when `voting='soft'` and "
                "`flatten_transform=False`"
            )
        names = self._member_names()
        width = 1 if self.voting == "hard" else len(self.classes_)
        return np.asarray(feature_names(self, [width] * len(names), names), dtype=object)


class VotingRegressor(RegressorMixin, _BaseVoting):
    """Weighted mean of several regressors' predictions.

    Parameters
    ----------
    estimators : list of (str, regressor or "drop")
    weights : array-like of shape (n_estimators,), optional
    n_jobs : int or None
    verbose : bool, default=False

    References
    ----------
    Kuncheva (2004). Combining Pattern Classifiers, ch. 4.
    """

    def __init__(
        self,
        estimators: list,
        *,
        weights: Any = None,
        n_jobs: int | None = None,
        verbose: bool = False,
    ) -> None:
        store_params(self, locals())

    def fit(self, X: Any, y: Any, sample_weight: Any = None, **fit_params: Any) -> VotingRegressor:
        """Fit every member on ``X``, ``y`` (with the weights, if any; ``fit_params`` are
        metadata, routed when routing is on)."""
        X_checked, y = check_meta_X_y(self, X, y, classifier=False)
        self._fit_all(self._members_input(X, X_checked), y, sample_weight, fit_params, "regressor")
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Members' predictions, shape (n_samples, n_members)."""
        X = self._members_X(X)
        return np.column_stack([e.predict(X) for e in self.estimators_])

    def predict(self, X: Any) -> np.ndarray:
        """Weighted mean of the members' predictions."""
        return np.average(self.transform(X), axis=1, weights=self._mean_weights())

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """``votingregressor_<name>``; a given ``input_features`` is only checked."""
        input_feature_names(self, input_features)
        names = self._member_names()
        return np.asarray(feature_names(self, [1] * len(names), names), dtype=object)
