"""What the meta-ensembles (bagging, AdaBoost, voting, stacking) and the forests share.

- :func:`new_member`: a fresh copy of the base learner whose every ``random_state`` (also inside
  a pipeline) is set from the ensemble's generator, so that a fit is reproducible;
- :func:`check_meta_X`: the ensemble's ``X``, dense as float64, or scipy.sparse kept sparse (as
  CSR or CSC) for members that take it;
- :func:`check_warm_classes`: a ``warm_start`` refit's ``y`` has the classes that the kept
  members were fitted on;
- :func:`accepts_sample_weight`: whether a learner's ``fit`` takes ``sample_weight``;
- :func:`fit_members`: the members' fits run through joblib (threads, or the workers of a Dask
  cluster under ``joblib.parallel_config(backend="dask")``), all of them or an error;
- :func:`routed_to`: what scikit-learn's metadata routing sends to one member (the extra
  keyword arguments of ``fit`` and ``predict``; :func:`mlcanon._estimator.route` routes them);
- :class:`BaseLearnerMixin`: the base learner of bagging and AdaBoost (``estimator`` or a
  default) and the input tags it passes on;
- :class:`MemberSequence`: ``ensemble[i]``, ``len(ensemble)`` and iteration over the fitted
  members, as scikit-learn's ensembles allow;
- :class:`NamedMembers`: the ``(name, estimator)`` list of voting and stacking seen as nested
  parameters (``get_params()["lr"]``, ``set_params(lr="drop")``).
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Iterable
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, clone, is_classifier, is_regressor
from sklearn.utils.metadata_routing import UNUSED, MetadataRouter, MethodMapping
from sklearn.utils.parallel import Parallel

from mlcanon._estimator import (
    as_float_array,
    check_labels,
    check_X,
    check_X_y,
    check_y,
    float_dtype,
    is_pandas,
    route,
    routing_enabled,
    weight_params,
)
from mlcanon._validation import RANDOM_STATE, HasMethods, check_array, check_consistent_length

__all__ = [
    "BaseLearnerMixin",
    "MemberSequence",
    "NamedMembers",
    "accepts_sample_weight",
    "check_kind",
    "check_meta_X",
    "check_meta_X_y",
    "check_warm_classes",
    "feature_names",
    "fit_member",
    "fit_members",
    "is_drop",
    "named_members",
    "new_member",
    "routed_to",
]


def new_member(prototype: Any, seed: int | None) -> Any:
    """Unfitted clone of ``prototype`` with each (nested) ``random_state`` parameter set to
    ``seed``; ``seed=None`` leaves them as they are."""
    member = clone(prototype)
    if seed is not None:
        names = [k for k in member.get_params(deep=True) if k.split("__")[-1] == "random_state"]
        member.set_params(**dict.fromkeys(names, int(seed)))
    return member


def accepts_sample_weight(learner: Any) -> bool:
    """Whether ``learner.fit`` has a ``sample_weight`` parameter."""
    return "sample_weight" in inspect.signature(learner.fit).parameters


def fit_member(
    learner: Any, X: Any, y: Any, params: dict | None = None, message: str | None = None
) -> Any:
    """Fit ``learner`` with the keyword arguments ``params`` (weights, routed metadata) and print
    ``message`` with the time it took when there is one. With routing off, ``sample_weight`` for
    a learner whose ``fit`` does not take it is a TypeError."""
    start = time.perf_counter()
    params = params or {}
    if "sample_weight" in params and not routing_enabled() and not accepts_sample_weight(learner):
        raise TypeError(
            f"Underlying estimator {type(learner).__name__} does not support sample weights."
        )
    learner.fit(X, y, **params)
    if message:
        print(f"{message}, total={time.perf_counter() - start:5.1f}s")
    return learner


def routed_to(routed: Any, child: str, method: str, sample_weight: Any = None) -> dict:
    """Keyword arguments of ``child.method``: as routed, or (routing off) the weights if any."""
    if routed is None:
        return weight_params(sample_weight)
    return dict(routed[child].get(method, {}))


def fit_members(n_jobs: int | None, jobs: Iterable, n_estimators: int) -> list:
    """Run the members' fits through joblib; all of them come back fitted, or this raises.

    scikit-learn's ``Parallel`` runs each job (made with its ``delayed``) under the caller's
    configuration, so a worker thread sees metadata routing on when the caller turned it on.

    On a Dask cluster a worker that dies is rerun elsewhere by Dask when it can be; when it
    cannot (the data joblib scattered to that worker died with it) Dask cancels the batch, which
    is reported here as a ``RuntimeError`` rather than as Dask's internal cancellation.
    """
    try:
        members = Parallel(n_jobs=n_jobs, prefer="threads")(jobs)
    except BaseException as e:  # Dask's FutureCancelledError derives from BaseException
        if type(e).__module__.split(".")[0] != "distributed":
            raise
        raise RuntimeError(
            f"the Dask cluster lost a worker and its data during the fit ({type(e).__name__}: "
            f"{e}); no partial ensemble was kept: fit again"
        ) from e
    fitted = [m for m in members if m is not None]
    if len(fitted) != n_estimators:
        raise RuntimeError(
            f"{len(fitted)} of n_estimators={n_estimators} members came back fitted; the "
            f"parallel backend lost work"
        )
    return members


def check_kind(estimator: Any, kind: str, what: str) -> None:
    """Refuse a regressor where a classifier is needed and vice versa."""
    ok = is_classifier(estimator) if kind == "classifier" else is_regressor(estimator)
    if not ok:
        raise ValueError(f"{what} should be a {kind}. Got {estimator!r}")


def is_drop(est: Any) -> bool:
    return isinstance(est, str) and est == "drop"


def named_members(ensemble: Any, kind: str | None = None) -> list[tuple[str, Any]]:
    """The ``(name, estimator)`` pairs of ``ensemble.estimators`` that are not ``"drop"``.

    Names must be unique strings without ``__`` that do not shadow a constructor parameter;
    with ``kind`` every member must be a classifier (regressor).
    """
    estimators = ensemble.estimators
    if (
        not isinstance(estimators, list | tuple)
        or not estimators
        or not all(
            isinstance(item, tuple | list) and len(item) == 2 and isinstance(item[0], str)
            for item in estimators
        )
    ):
        raise ValueError(
            "Invalid 'estimators' attribute, 'estimators' should be a non-empty list of "
            f"(string, estimator) tuples; got {estimators!r}"
        )
    names = [name for name, _ in estimators]
    if len(set(names)) != len(names):
        raise ValueError(f"Names provided are not unique: {names!r}")
    clash = sorted(set(names) & set(ensemble._get_param_names()))
    if clash or any("__" in name for name in names):
        raise ValueError(
            f"Estimator names must be unique, free of '__' and differ from the constructor "
            f"arguments; got {names!r}"
        )
    kept = [(name, est) for name, est in estimators if not is_drop(est)]
    if not kept:
        raise ValueError("All estimators are dropped. At least one is required to be an estimator.")
    for _, est in kept if kind else ():
        check_kind(est, kind, f"The estimator {type(est).__name__}")
    return kept


def feature_names(ensemble: Any, widths: list[int], names: list[str]) -> list[str]:
    """``<class>_<name>`` for a member giving one column, ``<class>_<name><k>`` for several."""
    prefix = type(ensemble).__name__.lower()
    out = []
    for name, width in zip(names, widths, strict=True):
        out += [f"{prefix}_{name}"] if width == 1 else [f"{prefix}_{name}{k}" for k in range(width)]
    return out


def check_meta_X(
    estimator: Any, X: Any, *, reset: bool, allow_inf: bool = False, allow_nd: bool = False
) -> Any:
    """Validate ``X`` for an ensemble whose members do the numerical work.

    A scipy.sparse matrix stays sparse (converted to CSR unless it is CSR or CSC) with its
    width recorded or checked like a dense one; anything else becomes a 2-D array (or of
    more dimensions with ``allow_nd``), float32 if it was float32 (the members get it so, as
    scikit-learn's), else float64. NaN is let through, and infinity with ``allow_inf``: the
    members decide what they accept.
    """
    if not sp.issparse(X):
        finite = dict(allow_nan=True, allow_inf=allow_inf, allow_nd=allow_nd)
        return check_X(estimator, X, reset=reset, dtype=float_dtype(X), **finite)
    if X.format not in ("csr", "csc"):
        X = X.tocsr()
    dense_head = X[:1].toarray()  # shape and n_features_in_ checks without densifying X
    check_X(estimator, dense_head, reset=reset, allow_nan=True, allow_inf=allow_inf)
    return X


def check_warm_classes(estimator: Any, fitted: list[np.ndarray], y: np.ndarray) -> None:
    """With ``warm_start`` a refit adds members to those already fitted, which score the classes
    ``fitted`` (one array per output): ``y`` (one column per output) must have those classes.

    A refit whose width differs is refused before this by ``check_X(..., reset=False)``.
    """
    Y = y.reshape(len(y), -1)
    given = [np.unique(Y[:, k]) for k in range(Y.shape[1])]
    if len(given) == len(fitted) and all(
        np.array_equal(a, b) for a, b in zip(given, fitted, strict=True)
    ):
        return
    as_text = [c.tolist() for c in fitted], [c.tolist() for c in given]
    if len(fitted) == 1 and len(given) == 1:
        as_text = as_text[0][0], as_text[1][0]
    raise ValueError(
        f"warm_start=True adds members to the fitted {type(estimator).__name__}, whose members "
        f"were fitted on the classes {as_text[0]}; y has the classes {as_text[1]}. Fit with "
        "warm_start=False to learn other classes"
    )


def check_meta_X_y(
    estimator: Any,
    X: Any,
    y: Any,
    *,
    classifier: bool,
    allow_inf: bool = False,
    multi_output: bool = False,
    allow_nd: bool = False,
) -> tuple[Any, np.ndarray]:
    """Training data of an ensemble: ``X`` as in :func:`check_meta_X`, ``y`` of equal length
    (labels keep their dtype for a classifier; float64 for a regressor).

    ``y`` is 1-D (a single column is raveled); with ``multi_output`` a ``y`` of shape
    ``(n_samples, n_outputs)``, ``n_outputs >= 2``, stays 2-D, one column per output, for the
    members to take or refuse. ``allow_nd``: see :func:`check_meta_X`.
    """
    y_2d = None if y is None or sp.issparse(y) else np.asarray(y)
    if multi_output and y_2d is not None and y_2d.ndim == 2 and y_2d.shape[1] > 1:
        X, _ = check_meta_X_y(estimator, X, y_2d[:, 0], classifier=classifier, allow_inf=allow_inf)
        if classifier:
            return X, check_labels(y_2d, ndim=2)
        return X, check_array(as_float_array(y_2d, "y"), "y", ndim=2)
    if not sp.issparse(X):
        finite = dict(allow_nan=True, allow_inf=allow_inf, allow_nd=allow_nd)
        return check_X_y(estimator, X, y, classifier=classifier, dtype=float_dtype(X), **finite)
    X = check_meta_X(estimator, X, reset=True, allow_inf=allow_inf)
    y = check_y(y, classifier=classifier)  # as for a dense X
    check_consistent_length(X=X, y=y)
    return X, y


class MemberSequence:
    """``ensemble[i]``, ``len(ensemble)``, ``iter(ensemble)`` over ``estimators_``."""

    def __len__(self) -> int:
        return len(self.estimators_)

    def __getitem__(self, index: int) -> Any:
        return self.estimators_[index]

    def __iter__(self):
        return iter(self.estimators_)


class BaseLearnerMixin:
    """An ensemble of copies of one base learner, ``estimator`` or else the class's ``_default``
    (bagging, AdaBoost); it takes the input that learner takes (NaN, scipy.sparse)."""

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        "estimator": (None, HasMethods("fit")),
        "random_state": RANDOM_STATE,  # seeds the members
    }

    def _base_learner(self) -> Any:
        return self.estimator if self.estimator is not None else self._default

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        learner = self._base_learner().__sklearn_tags__().input_tags
        tags.input_tags.allow_nan = learner.allow_nan
        tags.input_tags.sparse = learner.sparse
        return tags


class NamedMembers(BaseEstimator):
    """``estimators`` (a list of ``(name, estimator)``) exposed as nested parameters.

    ``get_params(deep=True)`` lists each member under its name (and the member's own
    parameters as ``name__param``); ``set_params(name=...)`` replaces a member, ``"drop"``
    removes it from the ensemble. With metadata routing on, ``fit`` passes each member the
    metadata it requests (the ensemble's own ``set_fit_request`` is left out, as in
    scikit-learn).
    """

    __metadata_request__fit: ClassVar[dict] = {"sample_weight": UNUSED}

    @staticmethod
    def _members_input(X: Any, checked: Any) -> Any:
        """What the members are given: a pandas data frame as it came (its column names reach
        them, as in scikit-learn's voting and stacking), anything else as validated."""
        return X if is_pandas(X, "DataFrame") else checked

    def _pairs(self) -> list:
        """``estimators`` when it is a list of (name, estimator) pairs, else nothing."""
        pairs = getattr(self, "estimators", None)
        ok = isinstance(pairs, list | tuple) and all(
            isinstance(p, tuple | list) and len(p) == 2 and isinstance(p[0], str) for p in pairs
        )
        return list(pairs) if ok else []

    @property
    def named_estimators(self) -> Any:
        """The (unfitted) members by name, a ``Bunch`` as scikit-learn's ``named_estimators``."""
        from sklearn.utils import Bunch

        return Bunch(**dict(self.estimators))

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        params = super().get_params(deep=deep)
        for name, est in self._pairs() if deep else ():
            params[name] = est
            if hasattr(est, "get_params"):
                params.update({f"{name}__{k}": v for k, v in est.get_params(deep=True).items()})
        return params

    def set_params(self, **params: Any) -> NamedMembers:
        if "estimators" in params:
            self.estimators = params.pop("estimators")
        names = [n for n, _ in self._pairs()]
        for name in [k for k in params if k in names]:
            value = params.pop(name)  # "drop" or an estimator
            self.estimators = [(n, value if n == name else e) for n, e in self.estimators]
        return super().set_params(**params) if params else self

    def _members_fit_params(self, sample_weight: Any, fit_params: dict) -> dict[str, dict]:
        """Each member's ``fit`` keyword arguments by name: the metadata it requests (routing
        on) or the weights if any (off, where other metadata are refused)."""
        routed = route(self, "fit", fit_params, sample_weight)
        return {name: routed_to(routed, name, "fit", sample_weight) for name, _ in self._pairs()}

    def get_metadata_routing(self) -> MetadataRouter:
        """Routing of ``fit``'s metadata to each member's ``fit``."""
        router = MetadataRouter(owner=self)
        for name, est in self._pairs():
            router.add(
                **{name: est}, method_mapping=MethodMapping().add(caller="fit", callee="fit")
            )
        return router

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        members = [e for _, e in self._pairs() if not is_drop(e)]
        tags.input_tags.allow_nan = all(e.__sklearn_tags__().input_tags.allow_nan for e in members)
        # scipy.sparse X reaches the members as it is (scikit-learn's heterogeneous ensembles)
        tags.input_tags.sparse = all(e.__sklearn_tags__().input_tags.sparse for e in members)
        return tags
