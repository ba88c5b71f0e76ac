"""Stacking: learn how to combine different models.

Each base model's out-of-fold outputs (from a ``cv``-fold split, so no model judges data it
was fit on) become the features of a final model, which is fit on them; the base models are
then refit on all the data (or, with ``cv="prefit"``, used as given). A classifier's members
contribute ``stack_method`` outputs: class probabilities (all columns but the first when there
are two classes), decision values or labels. A multilabel classifier (``y`` a 0/1 indicator
matrix, one column per label) stacks one column per label and member: the label's probability
(the second column of that output's pair, when the member gives one pair per output as a forest
does), decision value or predicted label.

With scikit-learn's metadata routing on, ``fit``'s metadata go to the members that request them
(row-indexed for the fold fits) and all of it to the final estimator's ``fit``; ``predict``'s
go to the final estimator's ``predict`` if it requests them (as scikit-learn 1.9 routes them).

References
----------
Wolpert (1992). Stacked generalization. Neural Networks 5(2), 241-259.
Breiman (1996). Stacked regressions. Machine Learning 24(1), 49-64.
"""

from __future__ import annotations

import numbers
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp
from sklearn.base import ClassifierMixin, RegressorMixin, TransformerMixin, clone
from sklearn.model_selection import check_cv
from sklearn.utils import Bunch, _safe_indexing
from sklearn.utils.metadata_routing import MetadataRouter, MethodMapping, process_routing
from sklearn.utils.metaestimators import available_if
from sklearn.utils.parallel import delayed
from sklearn.utils.validation import check_is_fitted

from mlcanon._estimator import (
    encode_labels,
    input_feature_names,
    routing_enabled,
    rows_of,
    store_params,
    weight_params,
)
from mlcanon._validation import (
    BOOL,
    CV,
    HasMethods,
    InstanceOf,
    Interval,
    Options,
    validate_params,
)

from ._base import (
    NamedMembers,
    check_kind,
    check_meta_X,
    check_meta_X_y,
    feature_names,
    fit_member,
    fit_members,
    is_drop,
    named_members,
)

__all__ = ["StackingClassifier", "StackingRegressor"]

_METHODS = ("predict_proba", "decision_function", "predict")


def _fold_output(model, method, X, y, params, train, test):
    """Fit a copy of a member on one training fold; its outputs on the held-out fold."""
    rows = rows_of(params, len(y), train)
    fitted = fit_member(clone(model), _safe_indexing(X, train), y[train], rows)
    return test, fitted, getattr(fitted, method)(_safe_indexing(X, test))


def _final_has(method: str):
    """``available_if`` check: the final estimator (fitted, else as given) has ``method``."""

    def check(self) -> bool:
        final = self.final_estimator_ if hasattr(self, "final_estimator_") else self._final()
        getattr(final, method)  # raises the final estimator's own AttributeError
        return True

    return check


class _BaseStacking(TransformerMixin, NamedMembers):
    _parameter_constraints: ClassVar[dict[str, Any]] = {
        "estimators": InstanceOf(list),
        "final_estimator": (None, HasMethods("fit")),
        "cv": (Options("prefit"), CV),
        "passthrough": BOOL,
        "n_jobs": (None, Interval(numbers.Integral)),
        "verbose": Interval(numbers.Integral, low=0),
    }

    def _final(self) -> Any:
        """``final_estimator``, or a new ``mlcanon.linear_model.<_default_final>``."""
        if self.final_estimator is not None:
            return self.final_estimator
        from mlcanon import linear_model  # imported only when a default is needed

        return getattr(linear_model, self._default_final)()

    def _methods(self, members: list) -> list[str]:
        """The output each member contributes (``stack_method_``)."""
        return ["predict"] * len(members)

    def _fit_stack(self, X: Any, y: np.ndarray, sample_weight: Any, fit_params: dict) -> None:
        by_name = self._members_fit_params(sample_weight, fit_params)  # before members are checked
        validate_params(self)
        members = named_members(self)
        params = [by_name[name] for name, _ in members]
        final = self._final()
        check_kind(final, self._kind, "'final_estimator' parameter")
        if self.cv == "prefit":
            for _, est in members:
                check_is_fitted(est)
            self.estimators_ = [est for _, est in members]
            self.stack_method_ = self._methods(members)
            blocks = self._blocks(X)
        else:
            n = len(members)
            said = [
                f"[Stacking] ({i} of {n}) Processing {name}" if self.verbose else None
                for i, (name, _) in enumerate(members, 1)
            ]
            jobs = (
                delayed(fit_member)(clone(e), X, y, p, m)
                for (_, e), p, m in zip(members, params, said, strict=True)
            )
            self.estimators_ = fit_members(self.n_jobs, jobs, n)
            self.stack_method_ = self._methods(members)
            blocks = self._out_of_fold(X, y, [e for _, e in members], params)
        names = [name for name, _ in members]
        self.named_estimators_ = Bunch(**dict(zip(names, self.estimators_, strict=True)))
        self._widths = [b.shape[1] for b in blocks]
        Z = self._with_passthrough(blocks, X)
        # the final estimator's fit takes all of fit's metadata, unrouted (as in scikit-learn)
        final_params = {**weight_params(sample_weight), **fit_params}
        self.final_estimator_ = fit_member(clone(final), Z, y, final_params)

    def _out_of_fold(self, X: Any, y: np.ndarray, members: list, params: list) -> list:
        """Each member's outputs on every sample, from the fold model that did not see it."""
        # scikit-learn's folds: an int cv (None: 5) is StratifiedKFold for a binary or
        # multiclass target, KFold otherwise (a multilabel y, a regression)
        folds = list(check_cv(self.cv, y, classifier=self._kind == "classifier").split(X, y))
        blocks = []
        for est, method, p in zip(members, self.stack_method_, params, strict=True):
            parts = fit_members(
                self.n_jobs,
                (delayed(_fold_output)(est, method, X, y, p, tr, te) for tr, te in folds),
                len(folds),
            )
            outs = [(te, self._columns(m, method, out, oof=True)) for te, m, out in parts]
            dtype = np.result_type(*(out for _, out in outs))  # as cross_val_predict's concat
            block = np.zeros((X.shape[0], outs[0][1].shape[1]), dtype=dtype)
            for te, out in outs:
                block[te] = out
            blocks.append(block)
        return blocks

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # sparse X reaches every member (and the final estimator with passthrough)
        models = [e for _, e in self._pairs() if not is_drop(e)]
        models += [self._final()] if self.passthrough else []
        tags.input_tags.sparse = all(m.__sklearn_tags__().input_tags.sparse for m in models)
        return tags

    def _with_passthrough(self, blocks: list, X: Any) -> Any:
        if not self.passthrough:
            return np.hstack(blocks)
        if sp.issparse(X):
            return sp.hstack([*blocks, X], format=X.format)
        X = np.asarray(X)
        return np.hstack([*blocks, X if X.dtype.kind == "f" else X.astype(np.float64)])

    def _columns(self, model: Any, method: str, out: Any, oof: bool = False) -> np.ndarray:
        """A member's outputs as columns, of their own dtype (as scikit-learn stacks them:
        a classifier's ``predict`` gives the integer class codes it was fitted on)."""
        out = np.asarray(out)
        return out.reshape(out.shape[0], -1)

    def _blocks(self, X: Any) -> list[np.ndarray]:
        members = zip(self.estimators_, self.stack_method_, strict=True)
        return [self._columns(e, m, getattr(e, m)(X)) for e, m in members]

    def get_metadata_routing(self) -> MetadataRouter:
        """Routing of ``fit``'s metadata to the members, ``predict``'s to the final estimator."""
        final = getattr(self, "final_estimator_", self.final_estimator)
        mapping = MethodMapping().add(caller="predict", callee="predict")
        return super().get_metadata_routing().add(final_estimator_=final, method_mapping=mapping)

    def _final_predict(self, X: Any, params: dict) -> Any:
        """The final estimator's ``predict`` on the stacked features, with ``params`` as routed
        (routing on) or as given (off)."""
        Z = self.transform(X)  # checks that the ensemble is fitted
        if routing_enabled():
            params = process_routing(self, "predict", **params)["final_estimator_"]["predict"]
        return self.final_estimator_.predict(Z, **params)

    def transform(self, X: Any) -> Any:
        """Features the final estimator sees: the members' outputs (and ``X`` if passthrough)."""
        X = self._members_input(X, check_meta_X(self, X, reset=False))
        return self._with_passthrough(self._blocks(X), X)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """``<class>_<member>[<column>]`` for the members' outputs, then the input features
        when ``passthrough``."""
        given = input_feature_names(self, input_features)  # checked even without passthrough
        names = feature_names(self, self._widths, list(self.named_estimators_))
        if self.passthrough:
            names += list(given)
        return np.asarray(names, dtype=object)


_PARAMS_DOC = """
    cv : int, splitter, "prefit" or None, default=None
        Folds of the out-of-fold outputs: ``None`` is 5; an int ``k`` is k consecutive folds
        (stratified by class for a classifier), a splitter's ``split(X, y)`` or a list of
        (train, test) index pairs is used as is;
        ``"prefit"`` takes the members as already fitted and stacks their outputs on the
        training data.
    n_jobs : int or None
        joblib workers (threads) fitting the members.
    passthrough : bool, default=False
        Also give the final model the original features.
    verbose : int, default=0
        Print each member's fit time (the fit on all the data).
"""


class StackingClassifier(ClassifierMixin, _BaseStacking):
    __doc__ = (
        """Stacked generalization for classification.

    Parameters
    ----------
    estimators : list of (str, estimator or "drop")
        Base models (classifiers or regressors).
    final_estimator : classifier, default=mlcanon.linear_model.LogisticRegression()"""
        + _PARAMS_DOC
        + """    stack_method : {"auto", "predict_proba", "decision_function", "predict"}
        What each member contributes; ``"auto"`` (the default) takes the first of the
        three it has.

    Attributes
    ----------
    estimators_, named_estimators_, final_estimator_, stack_method_, classes_ (a list of each
    label's classes for a multilabel ``y``)

    Notes
    -----
    ``y`` may be a multilabel indicator matrix (n_samples, n_labels): members and final
    estimator must then take such a ``y`` (forests, trees, nearest neighbours, an MLP); the
    folds of an int ``cv`` are then plain k-fold (no classes to stratify by).

    References
    ----------
    Wolpert (1992). Stacked generalization. Neural Networks 5(2).
    """
    )

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        **_BaseStacking._parameter_constraints,
        "stack_method": Options("auto", *_METHODS),
    }
    _kind, _default_final = "classifier", "LogisticRegression"

    def __init__(
        self,
        estimators: list,
        final_estimator: Any = None,
        *,
        cv: Any = None,
        stack_method: str = "auto",
        n_jobs: int | None = None,
        passthrough: bool = False,
        verbose: int = 0,
    ) -> None:
        store_params(self, locals())

    def _methods(self, members: list) -> list[str]:
        methods = []
        for name, est in members:
            wanted = _METHODS if self.stack_method == "auto" else (self.stack_method,)
            have = [m for m in wanted if hasattr(est, m)]
            if not have:
                raise ValueError(
                    f"Underlying estimator {name} does not implement the method "
                    f"{self.stack_method}."
                )
            methods.append(have[0])
        return methods

    def fit(
        self, X: Any, y: Any, sample_weight: Any = None, **fit_params: Any
    ) -> StackingClassifier:
        """Fit the members and the final classifier on their out-of-fold outputs; ``y`` holds
        labels (1-D) or a multilabel indicator matrix of shape (n_samples, n_labels);
        ``fit_params`` are metadata, routed when routing is on."""
        X_checked, y = check_meta_X_y(self, X, y, classifier=True, multi_output=True)
        X = self._members_input(X, X_checked)
        if y.ndim == 2:
            _check_multilabel(y)
            pairs = [encode_labels(column) for column in y.T]
            self.classes_ = [classes for classes, _ in pairs]
            codes = np.stack([c for _, c in pairs], axis=1)
        else:
            self.classes_, codes = encode_labels(y)
        self._fit_stack(X, codes, sample_weight, fit_params)
        return self

    def _columns(self, model: Any, method: str, out: Any, oof: bool = False) -> np.ndarray:
        """One column per class of the whole problem (a fold model may have missed some:
        probability 0, decision the lowest float, as scikit-learn's ``cross_val_predict``);
        of two probability columns only the second is kept (they sum to one).

        Multilabel: a list of one block per label (a forest's ``predict_proba``) is treated
        label by label like that; an array has one column per label already, all kept."""
        if isinstance(out, list):
            seen = model.classes_ if oof and hasattr(model, "classes_") else [None] * len(out)
            blocks = zip(out, seen, self.classes_, strict=True)
            full = [_all_classes(model, b, s, len(c), method) for b, s, c in blocks]
            return np.hstack([b[:, 1:] for b in full])
        out = np.asarray(out)
        out = out.reshape(out.shape[0], -1)
        if isinstance(self.classes_, list):
            return out
        n_classes = len(self.classes_)
        if oof and method != "predict" and hasattr(model, "classes_"):
            out = _all_classes(model, out, model.classes_, n_classes, method)
        return out[:, 1:] if method == "predict_proba" and n_classes == 2 else out

    def predict(self, X: Any, **predict_params: Any) -> np.ndarray:
        """Final estimator's labels on the stacked features, of shape (n_samples,) or
        (n_samples, n_labels) for a multilabel target."""
        labels = np.asarray(self._final_predict(X, predict_params), dtype=np.int64)
        if isinstance(self.classes_, list):
            return np.stack([c[k] for c, k in zip(self.classes_, labels.T, strict=True)], axis=1)
        return self.classes_[labels]

    @available_if(_final_has("predict_proba"))
    def predict_proba(self, X: Any) -> np.ndarray:
        """Final estimator's probabilities on the stacked features.

        Multilabel: shape (n_samples, n_labels), each label's probability of presence (of the
        indicator's larger value; 0 for a label never present in training); a final estimator
        that gives one ``(n_samples, n_classes)`` block per label is reduced to that column.
        scikit-learn 1.9 keeps the first column instead, the probability of absence.
        """
        Z = self.transform(X)
        proba = self.final_estimator_.predict_proba(Z)
        if isinstance(self.classes_, list) and isinstance(proba, list):
            present = max(c.max() for c in self.classes_)
            return np.stack(
                [
                    p[:, np.flatnonzero(c == present)[0]] if present in c else np.zeros(len(p))
                    for p, c in zip(proba, self.classes_, strict=True)
                ],
                axis=1,
            )
        return proba

    @available_if(_final_has("decision_function"))
    def decision_function(self, X: Any) -> np.ndarray:
        """Final estimator's decision function on the stacked features."""
        Z = self.transform(X)
        return self.final_estimator_.decision_function(Z)


def _all_classes(model: Any, out: Any, seen: Any, n_classes: int, method: str) -> np.ndarray:
    """Columns of a fold model that saw only the classes ``seen`` (of one output), spread over
    all ``n_classes`` (labels are the codes ``0..n_classes-1``, so ``seen`` are column indices);
    a missing class gets probability 0, or the lowest float as its decision value."""
    out = np.asarray(out)
    if seen is None or len(seen) == n_classes:
        return out
    seen = np.asarray(seen, dtype=np.int64)
    if out.shape[1] != len(seen):
        raise ValueError(
            f"a training fold holds only {len(seen)} of the {n_classes} classes and "
            f"{type(model).__name__} gives {out.shape[1]} decision column(s): use a member with "
            "predict_proba or fewer folds (cv)"
        )
    fill = 0.0 if method == "predict_proba" else np.finfo(out.dtype).min
    full = np.full((out.shape[0], n_classes), fill, dtype=out.dtype)
    full[:, seen] = out
    return full


def _check_multilabel(y: np.ndarray) -> None:
    """A 2-D classification target must be a multilabel indicator: integer values, at most
    two distinct ones (scikit-learn's ``type_of_target`` "multilabel-indicator")."""
    values = np.unique(y)
    integral = y.dtype.kind in "biu" or (
        y.dtype.kind == "f" and np.array_equal(values, np.round(values))
    )
    if not integral or len(values) > 2:
        raise ValueError(
            f"StackingClassifier takes a 2-D y only as a multilabel indicator (one column per "
            f"label, at most two distinct integer values such as 0/1); got y of shape {y.shape} "
            f"and dtype {y.dtype} with {len(values)} distinct value(s)"
        )


class StackingRegressor(RegressorMixin, _BaseStacking):
    __doc__ = (
        """Stacked generalization for regression.

    Parameters
    ----------
    estimators : list of (str, regressor or "drop")
    final_estimator : regressor, default=mlcanon.linear_model.RidgeCV() (as scikit-learn)"""
        + _PARAMS_DOC
        + """
    Attributes
    ----------
    estimators_, named_estimators_, final_estimator_, stack_method_

    References
    ----------
    Breiman (1996). Stacked regressions. Machine Learning 24(1).
    """
    )

    _kind, _default_final = "regressor", "RidgeCV"

    def __init__(
        self,
        estimators: list,
        final_estimator: Any = None,
        *,
        cv: Any = None,
        n_jobs: int | None = None,
        passthrough: bool = False,
        verbose: int = 0,
    ) -> None:
        store_params(self, locals())

    def fit(
        self, X: Any, y: Any, sample_weight: Any = None, **fit_params: Any
    ) -> StackingRegressor:
        """Fit the members and the final regressor on their out-of-fold predictions
        (``fit_params`` are metadata, routed when routing is on)."""
        X_checked, y = check_meta_X_y(self, X, y, classifier=False)
        self._fit_stack(self._members_input(X, X_checked), y, sample_weight, fit_params)
        return self

    def predict(self, X: Any, **predict_params: Any) -> Any:
        """Final estimator's prediction on the stacked features (``predict_params``, e.g.
        ``return_std=True``, go to it)."""
        return self._final_predict(X, predict_params)
