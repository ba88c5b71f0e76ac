"""The machinery of bagging (see :mod:`mlcanon.ensemble._bagging`): the rows and columns each
member draws from its own seed, the members' parallel fits (growing with ``warm_start``), and
the out-of-bag masks, and scikit-learn's metadata routing to the members.
"""

from __future__ import annotations

import numbers
import warnings
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.metadata_routing import MetadataRouter, MethodMapping, get_routing_for_object
from sklearn.utils.parallel import delayed

from mlcanon._estimator import routing_enabled, rows_of, sample_weight_or_none, store_params
from mlcanon._validation import BOOL, Interval, check_random_state, validate_params

from ._base import (
    BaseLearnerMixin,
    MemberSequence,
    accepts_sample_weight,
    check_meta_X,
    fit_member,
    fit_members,
    new_member,
    routed_to,
)

__all__ = ["BaseBagging", "base_has", "warn_no_oob"]

_SEED_BOUND = 2**31 - 1
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


def _fit_member(learner, X, y, rows, cols, by_weight, params, message):
    """Fit one member on its rows (as counts when it takes sample weights) and columns, with
    the routed metadata ``params``."""
    X_cols = X if cols is None else X[:, cols]
    if by_weight:
        counts = np.bincount(rows, minlength=X.shape[0])
        return fit_member(learner, X_cols, y, {**params, "sample_weight": counts}, message)
    return fit_member(learner, X_cols[rows], y[rows], rows_of(params, X.shape[0], rows), message)


def _takes_weights(learner: Any) -> bool:
    """Whether the drawn rows reach ``learner`` as counts in ``sample_weight``: its ``fit``
    takes them (routing off) or requests them (routing on)."""
    if routing_enabled():
        return bool(get_routing_for_object(learner).consumes("fit", ("sample_weight",)))
    return accepts_sample_weight(learner)


class BaseBagging(BaseLearnerMixin, MemberSequence, BaseEstimator):
    _parameter_constraints: ClassVar[dict[str, Any]] = {
        **BaseLearnerMixin._parameter_constraints,
        "n_estimators": Interval(numbers.Integral, low=1),
        "max_samples": (None, *_COUNT_OR_FRACTION),
        "max_features": _COUNT_OR_FRACTION,
        "bootstrap": BOOL,
        "bootstrap_features": BOOL,
        "oob_score": BOOL,
        "warm_start": BOOL,
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
        n_weighted = n if sample_weight is None else np.count_nonzero(sample_weight)
        if not self.bootstrap and n_rows > n_weighted:
            raise ValueError(
                f"max_samples={self.max_samples} draws {n_rows} rows without replacement "
                f"(bootstrap=False) with probabilities proportional to sample_weight, but only "
                f"{n_weighted} rows have a positive sample_weight; lower max_samples or use "
                "bootstrap=True"
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

    def _check_warm_X(self, X: Any) -> bool:
        """Whether this fit adds to fitted members (``warm_start``); their columns must then
        be ``X``'s (checked before the refit records ``X``'s width)."""
        warm = self.warm_start and "estimators_" in vars(self)
        if warm:
            check_meta_X(self, X, reset=False, allow_inf=True)
        return warm

    def _fit_members(self, X: Any, y: np.ndarray, sample_weight: Any, routed: Any) -> None:
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
        self.estimator_ = self._base_learner()
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
        by_weight = _takes_weights(self.estimator_)
        params = routed_to(routed, "estimator", "fit")
        cols = [None if keep_all_cols else c for _, c in draws]
        said = [
            f"[Bagging] ({i} of {self.n_estimators}) Building estimator" if self.verbose else None
            for i in range(n_done + 1, self.n_estimators + 1)
        ]
        jobs = (
            delayed(_fit_member)(new_member(self.estimator_, s), X, y, r, c, by_weight, params, m)
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

    def get_metadata_routing(self) -> MetadataRouter:
        """Routing of each method's metadata to the base learner's method that serves it:
        ``predict`` and ``predict_proba`` go to its ``predict_proba`` (to ``predict`` when it
        has none), ``predict_log_proba`` to the first of ``predict_log_proba``,
        ``predict_proba``, ``predict`` it has."""
        base = self._base_learner()
        proba = _first_of(base, "predict_proba", "predict")
        mapping = MethodMapping()
        for caller, callee in [
            ("fit", "fit"),
            ("decision_function", "decision_function"),
            ("predict", proba),
            ("predict_proba", proba),
            ("predict_log_proba", _first_of(base, "predict_log_proba", proba)),
        ]:
            mapping.add(caller=caller, callee=callee)
        return MetadataRouter(owner=self).add(estimator=base, method_mapping=mapping)

    def _members_X(self, X: Any):
        """(member, the columns of ``X`` it was fit on) for every member."""
        X = check_meta_X(self, X, reset=False, allow_inf=True)
        members = zip(self.estimators_, self.estimators_features_, strict=True)
        return ((m, X[:, f]) for m, f in members)


def _first_of(learner: Any, *methods: str) -> str:
    """The first of ``methods`` that ``learner`` has (the last when it has none)."""
    return next((m for m in methods if hasattr(learner, m)), methods[-1])


def warn_no_oob(seen: np.ndarray) -> None:
    if not seen.all():
        warnings.warn(
            "Some inputs do not have OOB scores. This probably means too few estimators were "
            "used to compute any reliable oob estimates.",
            UserWarning,
            stacklevel=4,
        )


def base_has(method: str):
    """``available_if`` check: the (unfitted or fitted) base learner has ``method``."""

    def check(self) -> bool:
        base = getattr(self, "estimator_", self.estimator)
        base = self._default if base is None else base
        return hasattr(base, method)

    return check
