"""What the meta-ensembles (bagging, AdaBoost, voting, stacking) share.

- :func:`new_member`: a fresh copy of the base learner whose every ``random_state`` (also inside
  a pipeline) is set from the ensemble's generator, so that a fit is reproducible;
- :func:`check_meta_X`: the ensemble's ``X``, dense as float64, or scipy.sparse kept sparse (as
  CSR or CSC) for members that take it;
- :func:`accepts_sample_weight`: whether a learner's ``fit`` takes ``sample_weight``;
- :class:`MemberSequence`: ``ensemble[i]``, ``len(ensemble)`` and iteration over the fitted
  members, as scikit-learn's ensembles allow;
- :class:`NamedMembers`: the ``(name, estimator)`` list of voting and stacking seen as nested
  parameters (``get_params()["lr"]``, ``set_params(lr="drop")``).
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, clone

from mlcanon._estimator import check_X, check_X_y
from mlcanon._validation import check_array

__all__ = [
    "MemberSequence",
    "NamedMembers",
    "accepts_sample_weight",
    "check_meta_X",
    "check_meta_X_y",
    "new_member",
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


def check_meta_X(estimator: Any, X: Any, *, reset: bool, allow_nan: bool = True) -> Any:
    """Validate ``X`` for an ensemble whose members do the numerical work.

    A scipy.sparse matrix stays sparse (converted to CSR unless it is CSR or CSC) with its
    width recorded or checked like a dense one; anything else becomes a 2-D float64 array
    (NaN allowed by default: the members decide what they accept).
    """
    if not sp.issparse(X):
        return check_X(estimator, X, reset=reset, allow_nan=allow_nan)
    if X.format not in ("csr", "csc"):
        X = X.tocsr()
    dense_head = X[:1].toarray()  # shape and n_features_in_ checks without densifying X
    check_X(estimator, dense_head, reset=reset, allow_nan=True)
    if not np.isfinite(X.data).all() and not allow_nan:
        raise ValueError("X contains NaN or infinity")
    return X


def check_meta_X_y(estimator: Any, X: Any, y: Any, *, classifier: bool) -> tuple[Any, np.ndarray]:
    """Training data of an ensemble: ``X`` as in :func:`check_meta_X`, ``y`` 1-D of equal
    length (labels keep their dtype for a classifier; float64 for a regressor)."""
    if not sp.issparse(X):
        return check_X_y(estimator, X, y, classifier=classifier, allow_nan=True)
    X = check_meta_X(estimator, X, reset=True)
    y = np.asarray(y)
    y = check_array(
        y.ravel() if y.ndim == 2 and y.shape[1] == 1 else y,
        "y",
        ndim=1,
        dtype=None if classifier else np.float64,
    )
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"inconsistent numbers of samples: X={X.shape[0]}, y={y.shape[0]}")
    return X, y


class MemberSequence:
    """``ensemble[i]``, ``len(ensemble)``, ``iter(ensemble)`` over ``estimators_``."""

    def __len__(self) -> int:
        return len(self.estimators_)

    def __getitem__(self, index: int) -> Any:
        return self.estimators_[index]

    def __iter__(self):
        return iter(self.estimators_)


class NamedMembers(BaseEstimator):
    """``estimators`` (a list of ``(name, estimator)``) exposed as nested parameters.

    ``get_params(deep=True)`` lists each member under its name (and the member's own
    parameters as ``name__param``); ``set_params(name=...)`` replaces a member, ``"drop"``
    removes it from the ensemble.
    """

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        params = super().get_params(deep=deep)
        for name, est in (getattr(self, "estimators", None) or ()) if deep else ():
            params[name] = est
            if hasattr(est, "get_params"):
                params.update({f"{name}__{k}": v for k, v in est.get_params(deep=True).items()})
        return params

    def set_params(self, **params: Any) -> NamedMembers:
        if "estimators" in params:
            self.estimators = params.pop("estimators")
        names = [n for n, _ in getattr(self, "estimators", None) or ()]
        for name in [k for k in params if k in names]:
            value = params.pop(name)
            self.estimators = [(n, value if n == name else e) for n, e in self.estimators]
        return super().set_params(**params) if params else self
