"""Bagging: the same learner fit on bootstrap samples (and feature subsets), then averaged.

Each of the ``n_estimators`` copies of the base learner sees ``max_samples`` rows drawn with
replacement (``bootstrap=True``, with probabilities proportional to ``sample_weight`` when given)
and ``max_features`` columns drawn without replacement (with replacement when
``bootstrap_features=True``). A learner whose ``fit`` takes ``sample_weight`` gets the drawn rows
as counts (row ``i`` drawn ``c_i`` times has weight ``c_i``); another gets the drawn rows
themselves. A classifier averages the learners' class probabilities (or counts their votes when a
learner has no ``predict_proba``); a regressor averages predictions. Averaging :math:`B` learners
with variance :math:`\\sigma^2` and pairwise correlation :math:`\\rho` leaves variance
:math:`\\rho\\sigma^2 + (1 - \\rho)\\sigma^2 / B`, which is why bagging helps unstable learners.

References
----------
Breiman (1996). Bagging predictors. Machine Learning 24(2), 123-140.
Ho (1998). The random subspace method for constructing decision forests. IEEE TPAMI 20(8).
"""

from __future__ import annotations

import numbers
import warnings
from typing import Any, ClassVar

import numpy as np
from joblib import delayed
from scipy.special import logsumexp
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.metaestimators import available_if

from mlcanon._estimator import encode_labels, sample_weight_or_none, store_params
from mlcanon._validation import (
    Interval,
    Options,
    check_random_state,
    validate_params,
)
from mlcanon.tree import DecisionTreeClassifier, DecisionTreeRegressor

from ._base import (
    MemberSequence,
    accepts_sample_weight,
    check_meta_X,
    check_meta_X_y,
    fit_member,
    new_member,
)
from ._forest import fit_members

__all__ = ["BaggingClassifier", "BaggingRegressor"]

_SEED_BOUND = 2**31 - 1
_BOOL = Options(True, False)
_COUNT_OR_FRACTION = (
    Interval(numbers.Integral, low=1),
    Interval(numbers.Real, low=0.0, high=1.0, include_low=False),
)


def _n_rows(max_samples: Any, n: int, sample_weight: np.ndarray | None) -> int:
    """Rows per member: ``None`` -> n; an int as is; a fraction of n (or of the total weight)."""
    if max_samples is None:
        return n
    if isinstance(max_samples, numbers.Integral):
        return int(max_samples)
    total = n if sample_weight is None else float(sample_weight.sum())
    n_rows = max(int(max_samples * total), 1)
    if n_rows < max(10, n ** (1 / 3)):
        what = (
            f"the number of samples is {n}"
            if sample_weight is None
            else f"the total sum of sample weights is {total}"
        )
        warnings.warn(
            f"Using the fractional value max_samples={max_samples} when {what} results in a "
            f"low number ({n_rows}) of bootstrap samples. We recommend passing `max_samples` "
            "as an integer instead.",
            UserWarning,
            stacklevel=4,
        )
    return n_rows


def _draw(seed: int, n: int, d: int, n_rows: int, n_cols: int, params: tuple, p) -> tuple:
    """(rows, columns) of one member from its own seed (so they can be drawn again)."""
    bootstrap, bootstrap_features = params
    rng = np.random.default_rng(seed)
    cols = rng.choice(d, n_cols, replace=bootstrap_features)
    rows = rng.choice(n, n_rows, replace=bootstrap, p=p)
    # a subset drawn without replacement is kept in the data's order
    rows, cols = (
        x if replace else np.sort(x)
        for x, replace in ((rows, bootstrap), (cols, bootstrap_features))
    )
    return rows.astype(np.int64), cols.astype(np.int64)


def _fit_member(learner, X, y, rows, cols, by_weight, message):
    """Fit one member on its rows (as counts when it takes sample weights) and columns."""
    X_cols = X if cols is None else X[:, cols]
    if by_weight:
        return fit_member(learner, X_cols, y, np.bincount(rows, minlength=X.shape[0]), message)
    return fit_member(learner, X_cols[rows], y[rows], None, message)


class _BaseBagging(MemberSequence, BaseEstimator):
    _parameter_constraints: ClassVar[dict[str, Any]] = {
        "n_estimators": Interval(numbers.Integral, low=1),
        "max_samples": (None, *_COUNT_OR_FRACTION),
        "max_features": _COUNT_OR_FRACTION,
        "bootstrap": _BOOL,
        "bootstrap_features": _BOOL,
        "oob_score": _BOOL,
        "warm_start": _BOOL,
        "n_jobs": (None, Interval(numbers.Integral)),
        "verbose": Interval(numbers.Integral, low=0),
    }

    def __init__(
        self,
        estimator: Any = None,
        n_estimators: int = 10,
        *,
        max_samples: int | float | None = None,
        max_features: int | float = 1.0,
        bootstrap: bool = True,
        bootstrap_features: bool = False,
        oob_score: bool = False,
        warm_start: bool = False,
        n_jobs: int | None = None,
        random_state: int | np.random.Generator | None = None,
        verbose: int = 0,
    ) -> None:
        store_params(self, locals())

    def _sizes(self, X: Any, sample_weight: np.ndarray | None) -> tuple[int, int]:
        """Validated rows and columns per member."""
        n, d = X.shape
        n_rows = _n_rows(self.max_samples, n, sample_weight)
        if not self.bootstrap and n_rows > n:
            raise ValueError(
                f"max_samples={n_rows} must be <= n_samples={n} to be able to sample without "
                "replacement."
            )
        if isinstance(self.max_features, numbers.Integral):
            if self.max_features > d:
                raise ValueError(f"max_features={self.max_features} must be <= n_features={d}")
            return n_rows, int(self.max_features)
        return n_rows, max(1, int(self.max_features * d))

    def _check_fit_params(self) -> None:
        validate_params(self)
        if self.oob_score and not self.bootstrap:
            raise ValueError("Out of bag estimation only available if bootstrap=True")
        if self.oob_score and self.warm_start:
            raise ValueError("Out of bag estimate only available if warm_start=False")

    def _fit_members(self, X: Any, y: np.ndarray, sample_weight: Any) -> None:
        """Draw and fit the members this call adds (all of them unless ``warm_start``)."""
        self._check_fit_params()
        sw = None
        if sample_weight is not None:
            sw = sample_weight_or_none(sample_weight, X.shape[0])
            if not self.bootstrap:
                warnings.warn(
                    f"When fitting {type(self).__name__} with sample_weight it is recommended "
                    f"to use bootstrap=True, got {self.bootstrap}.",
                    UserWarning,
                    stacklevel=3,
                )
        n_rows, n_cols = self._sizes(X, sw)
        self.estimator_ = self.estimator if self.estimator is not None else self._default
        kept = self.warm_start and hasattr(self, "estimators_")
        n_done = len(self.estimators_) if kept else 0
        vars(self).pop("oob_score_", None)
        n_more = self.n_estimators - n_done
        if n_more < 0:
            raise ValueError(
                f"n_estimators={self.n_estimators} must be larger or equal to "
                f"len(estimators_)={n_done} when warm_start==True"
            )
        if n_more == 0:
            warnings.warn(
                "Warm-start fitting without increasing n_estimators does not fit new trees.",
                UserWarning,
                stacklevel=3,
            )
            return
        rng = check_random_state(self.random_state)
        seeds = rng.integers(_SEED_BOUND, size=self.n_estimators)[n_done:]
        p = None if sw is None else sw / sw.sum()
        n, d = X.shape
        draws = [
            _draw(s, n, d, n_rows, n_cols, (self.bootstrap, self.bootstrap_features), p)
            for s in seeds
        ]
        keep_all_cols = n_cols == d and not self.bootstrap_features
        by_weight = accepts_sample_weight(self.estimator_)
        cols = [None if keep_all_cols else c for _, c in draws]
        said = [
            f"[Bagging] ({i} of {self.n_estimators}) Building estimator" if self.verbose else None
            for i in range(n_done + 1, self.n_estimators + 1)
        ]
        jobs = (
            delayed(_fit_member)(new_member(self.estimator_, s), X, y, r, c, by_weight, m)
            for s, (r, _), c, m in zip(seeds, draws, cols, said, strict=True)
        )
        fitted = fit_members(self.n_jobs, jobs, n_more)  # nothing is stored if this fails
        if not kept:
            self.estimators_, self.estimators_samples_, self.estimators_features_ = [], [], []
            self._seeds = []
        self.estimators_ = self.estimators_ + fitted
        self._seeds = self._seeds + [int(s) for s in seeds]
        self.estimators_samples_ = self.estimators_samples_ + [r for r, _ in draws]
        self.estimators_features_ = self.estimators_features_ + [c for _, c in draws]

    def _oob_members(self, n: int):
        """(member, its columns, mask of the rows it never drew) for every member."""
        for m, rows, cols in zip(
            self.estimators_, self.estimators_samples_, self.estimators_features_, strict=True
        ):
            mask = np.ones(n, bool)
            mask[rows] = False
            yield m, cols, mask

    def _members_X(self, X: Any):
        """(member, the columns of ``X`` it was fit on) for every member."""
        X = check_meta_X(self, X, reset=False)
        members = zip(self.estimators_, self.estimators_features_, strict=True)
        return ((m, X[:, f]) for m, f in members)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        base = self.estimator if self.estimator is not None else self._default
        tags.input_tags.allow_nan = base.__sklearn_tags__().input_tags.allow_nan
        tags.input_tags.sparse = base.__sklearn_tags__().input_tags.sparse
        return tags


def _warn_no_oob(seen: np.ndarray) -> None:
    if not seen.all():
        warnings.warn(
            "Some inputs do not have OOB scores. This probably means too few estimators were "
            "used to compute any reliable oob estimates.",
            UserWarning,
            stacklevel=4,
        )


def _base_has(method: str):
    """``available_if`` check: the (unfitted or fitted) base learner has ``method``."""

    def check(self) -> bool:
        base = getattr(self, "estimator_", self.estimator)
        base = self._default if base is None else base
        return hasattr(base, method)

    return check


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
        A new ``fit`` keeps the fitted members and adds ``n_estimators - len(estimators_)``.
    n_jobs : int or None
        joblib workers (threads) for fitting.
    random_state : int, Generator or None
    verbose : int, default=0
        Print each member's fit time.
"""


class BaggingClassifier(ClassifierMixin, _BaseBagging):
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

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> BaggingClassifier:
        """Fit the members on bootstrap samples of ``X`` (dense or scipy.sparse) and ``y``."""
        X, y = check_meta_X_y(self, X, y, classifier=True)
        self.classes_, codes = encode_labels(y)
        self.n_classes_ = len(self.classes_)
        self._fit_members(X, codes, sample_weight)
        if self.oob_score:
            self._set_oob_score(X, codes)
        return self

    def _set_oob_score(self, X: Any, codes: np.ndarray) -> None:
        acc = np.zeros((X.shape[0], self.n_classes_))
        for m, cols, mask in self._oob_members(X.shape[0]):
            acc[mask] += self._member_proba(m, X[mask][:, cols])
        seen = acc.sum(axis=1) > 0
        _warn_no_oob(seen)
        with np.errstate(invalid="ignore"):
            self.oob_decision_function_ = acc / acc.sum(axis=1, keepdims=True)
        self.oob_score_ = float(np.mean(np.argmax(acc, axis=1) == codes))

    def _member_proba(self, member: Any, X: Any) -> np.ndarray:
        """Member's probabilities over all classes (a member may have missed some classes)."""
        out = np.zeros((X.shape[0], self.n_classes_))
        if hasattr(member, "predict_proba"):
            out[:, np.asarray(member.classes_, dtype=np.int64)] = member.predict_proba(X)
        else:
            out[np.arange(X.shape[0]), np.asarray(member.predict(X), dtype=np.int64)] = 1.0
        return out

    def predict_proba(self, X: Any) -> np.ndarray:
        """Mean of the members' class probabilities (vote shares for members without them)."""
        return sum(self._member_proba(m, Xm) for m, Xm in self._members_X(X)) / len(self)

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """Log of :meth:`predict_proba`, from the members' log-probabilities when they have
        them (:math:`\\log \\frac1B \\sum_b p_b` by log-sum-exp)."""
        members = list(self._members_X(X))
        if not hasattr(self.estimator_, "predict_log_proba"):
            with np.errstate(divide="ignore"):
                return np.log(self.predict_proba(X))
        logs = []
        for m, Xm in members:
            lp = np.full((Xm.shape[0], self.n_classes_), -np.inf)
            lp[:, np.asarray(m.classes_, dtype=np.int64)] = m.predict_log_proba(Xm)
            logs.append(lp)
        return logsumexp(logs, axis=0) - np.log(len(self))

    @available_if(_base_has("decision_function"))
    def decision_function(self, X: Any) -> np.ndarray:
        """Mean of the members' decision functions."""
        return sum(m.decision_function(Xm) for m, Xm in self._members_X(X)) / len(self)

    def predict(self, X: Any) -> np.ndarray:
        index = np.argmax(self.predict_proba(X), axis=1)
        return self.classes_[index]


class BaggingRegressor(RegressorMixin, _BaseBagging):
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
    (:math:`R^2`), oob_prediction_

    References
    ----------
    Breiman (1996). Bagging predictors. Machine Learning 24(2).
    """
    )

    _default = DecisionTreeRegressor()

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> BaggingRegressor:
        """Fit the members on bootstrap samples of ``X`` (dense or scipy.sparse) and ``y``."""
        X, y = check_meta_X_y(self, X, y, classifier=False)
        self._fit_members(X, y, sample_weight)
        if self.oob_score:
            self._set_oob_score(X, y)
        return self

    def _set_oob_score(self, X: Any, y: np.ndarray) -> None:
        acc, hits = np.zeros(X.shape[0]), np.zeros(X.shape[0])
        for m, cols, mask in self._oob_members(X.shape[0]):
            acc[mask] += m.predict(X[mask][:, cols])
            hits[mask] += 1
        _warn_no_oob(hits > 0)
        self.oob_prediction_ = acc / np.maximum(hits, 1)
        resid = np.sum((y - self.oob_prediction_) ** 2)
        self.oob_score_ = float(1 - resid / np.sum((y - y.mean()) ** 2))

    def predict(self, X: Any) -> np.ndarray:
        """Mean of the members' predictions."""
        return np.mean([m.predict(Xm) for m, Xm in self._members_X(X)], axis=0)
