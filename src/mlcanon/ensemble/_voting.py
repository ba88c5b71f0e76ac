"""Voting and stacking: combine already different models instead of perturbed copies of one.

Voting predicts the (weighted) majority label, the weighted mean of the class probabilities
(``voting="soft"``) or of the predictions (regression):

.. math:: \\hat y = \\arg\\max_k \\sum_j w_j \\hat p_j(k \\mid x) \\big/ \\textstyle\\sum_j w_j.

Stacking learns the combination: each base model's out-of-fold predictions (from a
``cv``-fold split, so no model judges data it was fit on) become the features of a final model,
which is fit on them; the base models are then refit on all the data.

References
----------
Wolpert (1992). Stacked generalization. Neural Networks 5(2), 241-259.
Breiman (1996). Stacked regressions. Machine Learning 24(1), 49-64.
Kuncheva (2004). Combining Pattern Classifiers, ch. 4-5.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    RegressorMixin,
    TransformerMixin,
    clone,
    is_classifier,
    is_regressor,
)

from mlcanon._estimator import encode_labels
from mlcanon._validation import check_option, check_scalar
from mlcanon.tree._checks import check_X, check_X_y

__all__ = ["StackingClassifier", "StackingRegressor", "VotingClassifier", "VotingRegressor"]


def _check_kind(estimator: Any, kind: str, what: str = "The estimator {name}") -> None:
    """Refuse a regressor where a classifier is needed and vice versa (scikit-learn's words)."""
    ok = is_classifier(estimator) if kind == "classifier" else is_regressor(estimator)
    if not ok:
        name = type(estimator).__name__
        raise ValueError(f"{what.format(name=name)} should be a {kind}. Got {estimator!r}")


def _check_estimators(estimators: Any, kind: str | None = None) -> list[tuple[str, Any]]:
    if not isinstance(estimators, list | tuple) or not estimators:
        raise ValueError(
            f"estimators must be a non-empty list of (name, estimator) pairs, got {estimators!r}"
        )
    for item in estimators:
        if not (isinstance(item, tuple | list) and len(item) == 2 and isinstance(item[0], str)):
            raise ValueError(
                f"each entry of estimators must be a (name, estimator) pair, got {item!r}"
            )
    names = [n for n, _ in estimators]
    if len(set(names)) != len(names):
        raise ValueError(f"estimator names must be unique, got {names}")
    for _, est in estimators if kind else ():
        _check_kind(est, kind)
    return list(estimators)


def _check_weights(weights: Any, n: int) -> np.ndarray:
    if weights is None:
        return np.ones(n)
    w = np.asarray(weights, dtype=float)
    if w.shape != (n,) or (w < 0).any() or w.sum() <= 0:
        raise ValueError(
            f"weights must be {n} non-negative numbers with a positive sum, got {weights!r}"
        )
    return w


class _AllowNaNIfMembersDo(BaseEstimator):
    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        members = [e for _, e in self.estimators]
        tags.input_tags.allow_nan = all(e.__sklearn_tags__().input_tags.allow_nan for e in members)
        return tags


class VotingClassifier(ClassifierMixin, _AllowNaNIfMembersDo):
    """Hard (majority) or soft (mean probability) vote of several fitted classifiers.

    Parameters
    ----------
    estimators : list of (str, classifier)
    voting : {"hard", "soft"}, default="hard"
    weights : array-like of shape (n_estimators,), optional
        Weight of each member's vote or probabilities.

    Attributes
    ----------
    estimators_ : list of fitted classifiers
    named_estimators_ : dict
    classes_ : ndarray

    References
    ----------
    Kuncheva (2004). Combining Pattern Classifiers, ch. 4.
    """

    def __init__(self, estimators: list, *, voting: str = "hard", weights: Any = None) -> None:
        self.estimators = estimators
        self.voting = voting
        self.weights = weights

    def fit(self, X: Any, y: Any) -> VotingClassifier:
        members = _check_estimators(self.estimators, "classifier")
        check_option(self.voting, "voting", ("hard", "soft"))
        self._w = _check_weights(self.weights, len(members))
        X, y = check_X_y(self, X, y, classifier=True, allow_nan=True)
        self.classes_, codes = encode_labels(y)
        self.estimators_ = [clone(e).fit(X, codes) for _, e in members]
        self.named_estimators_ = {n: e for (n, _), e in zip(members, self.estimators_, strict=True)}
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Weighted mean of the members' probabilities (soft voting only)."""
        if self.voting != "soft":
            raise AttributeError("predict_proba is only available with voting='soft'")
        X = check_X(self, X, reset=False, allow_nan=True)
        P = [e.predict_proba(X) for e in self.estimators_]
        return np.average(P, axis=0, weights=self._w)

    def predict(self, X: Any) -> np.ndarray:
        if self.voting == "soft":
            index = np.argmax(self.predict_proba(X), axis=1)
            return self.classes_[index]
        X = check_X(self, X, reset=False, allow_nan=True)
        votes = np.zeros((X.shape[0], len(self.classes_)))
        for e, w in zip(self.estimators_, self._w, strict=True):
            votes[np.arange(X.shape[0]), e.predict(X).astype(int)] += w
        index = np.argmax(votes, axis=1)  # ties: the smallest label wins
        return self.classes_[index]


class VotingRegressor(RegressorMixin, _AllowNaNIfMembersDo):
    """Weighted mean of several fitted regressors' predictions.

    Parameters
    ----------
    estimators : list of (str, regressor)
    weights : array-like of shape (n_estimators,), optional

    References
    ----------
    Kuncheva (2004). Combining Pattern Classifiers, ch. 4.
    """

    def __init__(self, estimators: list, *, weights: Any = None) -> None:
        self.estimators = estimators
        self.weights = weights

    def fit(self, X: Any, y: Any) -> VotingRegressor:
        members = _check_estimators(self.estimators, "regressor")
        self._w = _check_weights(self.weights, len(members))
        X, y = check_X_y(self, X, y, classifier=False, allow_nan=True)
        self.estimators_ = [clone(e).fit(X, y) for _, e in members]
        self.named_estimators_ = {n: e for (n, _), e in zip(members, self.estimators_, strict=True)}
        return self

    def predict(self, X: Any) -> np.ndarray:
        X = check_X(self, X, reset=False, allow_nan=True)
        return np.average([e.predict(X) for e in self.estimators_], axis=0, weights=self._w)


def _folds(cv: Any, X: np.ndarray, y: np.ndarray, stratify: bool) -> list:
    """(train, test) index pairs: an int ``k`` gives (stratified) k-fold without shuffling; any
    object with ``split(X, y)`` (a scikit-learn splitter) is used as is."""
    if hasattr(cv, "split"):
        return list(cv.split(X, y))
    check_scalar(cv, "cv", kind=numbers.Integral, low=2)
    n = len(y)
    if n < cv:
        raise ValueError(f"cv={cv} folds need at least {cv} samples, got n_samples={n}")
    fold = np.empty(n, np.int64)
    if stratify:  # deal each class's samples round-robin over the folds
        for c in np.unique(y):
            idx = np.flatnonzero(y == c)
            fold[idx] = np.arange(len(idx)) % cv
    else:
        fold[:] = np.arange(n) * cv // n
    return [(np.flatnonzero(fold != k), np.flatnonzero(fold == k)) for k in range(cv)]


class _BaseStacking(TransformerMixin, _AllowNaNIfMembersDo):
    def __init__(
        self,
        estimators: list,
        final_estimator: Any = None,
        *,
        cv: Any = 5,
        passthrough: bool = False,
    ) -> None:
        self.estimators = estimators
        self.final_estimator = final_estimator
        self.cv = cv
        self.passthrough = passthrough

    def _fit_stack(self, X: np.ndarray, y: np.ndarray, stratify: bool) -> None:
        members = _check_estimators(self.estimators)
        final = self._final()
        _check_kind(final, self._kind, "'final_estimator' parameter")
        folds = _folds(self.cv, X, y, stratify)
        self.estimators_ = [clone(e).fit(X, y) for _, e in members]
        self.named_estimators_ = {n: e for (n, _), e in zip(members, self.estimators_, strict=True)}
        blocks = []
        for _, est in members:
            oof = None
            for train, test in folds:
                part = self._member_output(clone(est).fit(X[train], y[train]), X[test])
                if oof is None:
                    oof = np.zeros((X.shape[0], part.shape[1]))
                oof[test] = part
            blocks.append(oof)
        Z = np.hstack(blocks + ([X] if self.passthrough else []))
        self.final_estimator_ = clone(final).fit(Z, y)

    def _transform(self, X: np.ndarray) -> np.ndarray:
        blocks = [self._member_output(e, X) for e in self.estimators_]
        return np.hstack(blocks + ([X] if self.passthrough else []))

    def transform(self, X: Any) -> np.ndarray:
        """Features the final estimator sees: the members' outputs (and ``X`` if passthrough)."""
        return self._transform(check_X(self, X, reset=False, allow_nan=True))


def _all_classes(model: Any, out: np.ndarray, n_classes: int, fill: float) -> np.ndarray:
    """One column per class of the whole problem, for a fold model that missed some classes.

    A class rarer than the number of folds is absent from some training folds; as scikit-learn's
    ``cross_val_predict`` does, the absent classes get probability 0 (decision: the lowest
    float). Labels are the codes ``0..n_classes-1``, so ``model.classes_`` are column indices.
    """
    seen = np.asarray(model.classes_, dtype=np.int64)
    if len(seen) == n_classes:
        return out
    if out.shape[1] != len(seen):
        raise ValueError(
            f"a training fold holds only {len(seen)} of the {n_classes} classes and "
            f"{type(model).__name__} gives {out.shape[1]} decision column(s): use a member with "
            "predict_proba or fewer folds (cv)"
        )
    full = np.full((out.shape[0], n_classes), fill)
    full[:, seen] = out
    return full


class StackingClassifier(ClassifierMixin, _BaseStacking):
    """Stacked generalization for classification.

    Parameters
    ----------
    estimators : list of (str, classifier)
        Base models; each contributes its out-of-fold class probabilities (all classes but the
        first when there are two), or its decision function / labels when it has no
        ``predict_proba``.
    final_estimator : classifier, default=mlcanon.linear_model.LogisticRegression()
    cv : int or splitter, default=5
        Stratified k-fold (no shuffling) or any object with ``split(X, y)``.
    passthrough : bool, default=False
        Also give the final model the original features.

    Attributes
    ----------
    estimators_, named_estimators_, final_estimator_, classes_

    References
    ----------
    Wolpert (1992). Stacked generalization. Neural Networks 5(2).
    """

    _kind = "classifier"

    def _final(self) -> Any:
        if self.final_estimator is not None:
            return self.final_estimator
        from mlcanon.linear_model import LogisticRegression

        return LogisticRegression()

    def fit(self, X: Any, y: Any) -> StackingClassifier:
        X, y = check_X_y(self, X, y, classifier=True, allow_nan=True)
        self.classes_, codes = encode_labels(y)
        self._fit_stack(X, codes, stratify=True)
        return self

    def _member_output(self, model: Any, X: np.ndarray) -> np.ndarray:
        n_classes = len(self.classes_)
        if hasattr(model, "predict_proba"):
            P = _all_classes(model, model.predict_proba(X), n_classes, fill=0.0)
            return P[:, 1:] if n_classes == 2 else P  # two columns carry one number
        if hasattr(model, "decision_function"):
            d = model.decision_function(X).reshape(len(X), -1)
            return d if n_classes == 2 else _all_classes(model, d, n_classes, np.finfo(float).min)
        return model.predict(X).reshape(-1, 1).astype(float)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Final estimator's probabilities on the stacked features."""
        Z = self.transform(X)
        return self.final_estimator_.predict_proba(Z)

    def predict(self, X: Any) -> np.ndarray:
        Z = self.transform(X)
        index = self.final_estimator_.predict(Z).astype(int)
        return self.classes_[index]


class StackingRegressor(RegressorMixin, _BaseStacking):
    """Stacked generalization for regression.

    Parameters
    ----------
    estimators : list of (str, regressor)
    final_estimator : regressor, default=mlcanon.linear_model.Ridge()
    cv : int or splitter, default=5
        k-fold on consecutive blocks (no shuffling) or any object with ``split(X, y)``.
    passthrough : bool, default=False

    References
    ----------
    Breiman (1996). Stacked regressions. Machine Learning 24(1).
    """

    _kind = "regressor"

    def _final(self) -> Any:
        if self.final_estimator is not None:
            return self.final_estimator
        from mlcanon.linear_model import Ridge

        return Ridge()

    def fit(self, X: Any, y: Any) -> StackingRegressor:
        X, y = check_X_y(self, X, y, classifier=False, allow_nan=True)
        self._fit_stack(X, y, stratify=False)
        return self

    def _member_output(self, model: Any, X: np.ndarray) -> np.ndarray:
        return model.predict(X).reshape(-1, 1)

    def predict(self, X: Any) -> np.ndarray:
        Z = self.transform(X)
        return self.final_estimator_.predict(Z)
