"""Logistic regression with ``C`` (and ``l1_ratio``) chosen by cross-validation.

For each fold and each ``l1_ratio``, :class:`LogisticRegression` is fitted on the training rows
along the grid of ``Cs``, each fit starting from the previous C's coefficients, and scored on
the held-out rows. The pair with the best score summed over the folds wins; the model is then
refitted on all the rows from the folds' mean coefficients (``refit=True``), or the folds' own
best coefficients are averaged (``refit=False``).
"""

from __future__ import annotations

import inspect
import numbers
import warnings
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.metrics import get_scorer, get_scorer_names, make_scorer
from sklearn.model_selection import check_cv
from sklearn.utils.metadata_routing import UNUSED, MethodMapping
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import check_is_fitted

from mlcanon._estimator import (
    check_X_y,
    encode_labels,
    route,
    rows_of,
    store_params,
    weight_params,
)
from mlcanon._validation import (
    BOOL,
    CV,
    InstanceOf,
    Interval,
    IsCallable,
    Options,
    check_scalars,
    validate_params,
)

from ._base import check_fold_weights, cv_router, split_params
from ._logistic import LogisticRegression, fit_weights
from ._logistic_liblinear import check_liblinear_data

__all__ = ["LogisticRegressionCV"]

_SEQUENCE = InstanceOf(list, tuple, np.ndarray)  # entries are checked one by one in fit
_SHARED = ("fit_intercept", "solver", "tol", "max_iter", "class_weight", "random_state", "dual")


# A scorer's metric, sign, response method and bound arguments are private attributes: checked
# on scikit-learn 1.9.1, whose LogisticRegressionCV rebuilds its scorer from them the same way.
# No public route does this job: a scorer takes extra arguments such as ``labels`` only with
# metadata routing enabled, and there they would override the scorer's own bound arguments.
_SCORER_PARTS = ("_score_func", "_sign", "_response_method", "_kwargs")


def _scorer(scoring, classes):
    """The scorer of the folds: accuracy for None. A metric that takes ``labels`` gets all the
    classes (and, with two, the second as ``pos_label``), since a fold may lack some."""
    scorer = get_scorer("accuracy" if scoring is None else scoring)
    missing = [name for name in _SCORER_PARTS if not hasattr(scorer, name)]
    if missing and not callable(scoring):  # a named scorer: scikit-learn changed its scorers
        raise RuntimeError(
            f"the scorer {scoring!r} of this scikit-learn lacks {missing} (checked on "
            "scikit-learn 1.9.1): LogisticRegressionCV cannot pass it the labels of every class"
        )
    params = {} if missing else inspect.signature(scorer._score_func).parameters
    if "labels" not in params:
        return scorer
    kwargs = {"labels": classes}
    if len(classes) == 2 and "pos_label" in params:
        kwargs["pos_label"] = classes[-1]
    return make_scorer(
        scorer._score_func,
        greater_is_better=scorer._sign == 1,
        response_method=scorer._response_method,
        **{**kwargs, **scorer._kwargs},
    )


def _fold_path(model, classes, X, y, y_index, weights, train, test, Cs, scorer, score_params):
    """Fit ``model`` along ``Cs`` on the training rows, each C warm-started from the last;
    return the path (n_cs, K, n_dof), the test scores (n_cs,) and the iterations (n_cs,)."""
    model = clone(model).set_params(warm_start=True)
    model.classes_, model.n_features_in_ = classes, X.shape[1]
    score_kw = rows_of(score_params, len(y), test)
    path, scores, n_iter = [], [], []
    for C in Cs:
        model.set_params(C=C)
        model._fit_encoded(X[train], y_index[train], weights[train], model._l1_share(), float)
        path.append(_stack(model))
        scores.append(scorer(model, X[test], y[test], **score_kw))
        n_iter.append(model.n_iter_[0])
    return np.array(path), np.array(scores, dtype=float), np.array(n_iter, dtype=np.int32)


def _stack(model):
    """``[coef_ | intercept_]`` of a fitted model, shape (K, n_features [+ 1])."""
    if not model.fit_intercept:
        return model.coef_.copy()
    return np.column_stack([model.coef_, model.intercept_])


class LogisticRegressionCV(ClassifierMixin, BaseEstimator):
    r"""Logistic regression with ``C`` (and ``l1_ratio``) chosen by cross-validation.

    Parameters
    ----------
    Cs : int >= 1 or list of floats > 0, default 10
        The grid of C (``np.inf``: no penalty), or its length: ``Cs`` points evenly on a log
        scale from 1e-4 to 1e4.
    l1_ratios : list of floats in [0, 1], None or 'warn', default 'warn'
        The L1 shares to try (see :class:`LogisticRegression`'s ``l1_ratio``); a share in
        (0, 1) needs ``solver='saga'`` or ``'fista'``, 1 also allows ``'liblinear'``. None and
        'warn' (the default, with scikit-learn 1.9's FutureWarning) mean the L2 penalty and
        leave the l1_ratio axis out of the legacy attributes.
    cv : None, int >= 2, splitter or iterable of (train, test) pairs, default None
        Folds, through :func:`sklearn.model_selection.check_cv` with ``classifier=True``
        (None: 5-fold ``StratifiedKFold``).
    penalty : {'l1', 'l2', 'elasticnet'}, deprecated
        scikit-learn 1.8 spells the penalty through ``l1_ratios``; this one still works and
        warns. 'elasticnet' needs ``l1_ratios``.
    scoring : str, callable, None or 'warn', default 'warn'
        A scorer name of :func:`sklearn.metrics.get_scorer_names` or a callable
        ``scorer(estimator, X, y)``; None and 'warn' (with scikit-learn 1.9's FutureWarning)
        are accuracy. Each fold's score is weighted by the test rows' ``sample_weight``.
    refit : bool, default True
        True: refit on all the data with the best C (and l1_ratio), starting from the folds'
        mean coefficients there. False: average each fold's own best coefficients, and their
        C (and l1_ratio) values.
    n_jobs : int or None, default None
        Folds (and l1_ratios) run in that many joblib threads.
    verbose : int, default 0
        joblib's progress messages.
    use_legacy_attributes : bool or 'warn', default 'warn'
        True ('warn' too, with scikit-learn 1.9's FutureWarning): the attributes keyed by class
        (below); False: plain arrays and floats.
    fit_intercept, dual, solver, tol, max_iter, class_weight, intercept_scaling, random_state
        Those of :class:`LogisticRegression`; 'balanced' class weights are computed once, on
        all the rows (and their ``sample_weight``).

    Attributes
    ----------
    classes_ : array of shape (n_classes,)
    Cs_ : array of shape (n_cs,)
    l1_ratios_ : array of shape (n_l1_ratios,)
        ``[None]`` when ``l1_ratios`` is None or 'warn'.
    coef_ : array of shape (1, n_features) for two classes, else (n_classes, n_features)
    intercept_ : array of shape (1,) or (n_classes,)
    coefs_paths_ : array of shape (n_folds, n_l1_ratios, n_cs, K, n_dof)
        Each fold's coefficients, intercept last (``n_dof = n_features + fit_intercept``;
        ``K = 1`` for two classes). Legacy: a dict by class (the second class only, for two)
        of arrays (n_folds, n_cs, n_l1_ratios, n_dof), without the l1_ratio axis when
        ``l1_ratios`` is None.
    scores_ : array of shape (n_folds, n_l1_ratios, n_cs)
        Legacy: a dict of the same keys, each (n_folds, n_cs[, n_l1_ratios]).
    C_, l1_ratio_ : float
        The chosen values (``refit=False``: the mean of the folds' choices). Legacy: arrays
        of that value repeated, shape (1,) for two classes, else (n_classes,).
    n_iter_ : array of shape (n_folds, n_l1_ratios, n_cs)
        Legacy: (1, n_folds, n_cs[, n_l1_ratios]).
    n_features_in_ : int

    Notes
    -----
    Each fit minimizes :class:`LogisticRegression`'s objective

    .. math::

        C \sum_i s_i \, \ell(y_i, W x_i + b) + \rho \lVert W \rVert_1
        + \frac{1 - \rho}{2} \lVert W \rVert_F^2

    on the fold's training rows; every fold keeps all the classes, even one absent from its
    training rows. With ``refit=False`` and ``l1_ratios=[1]`` (or ``penalty='l1'``),
    ``l1_ratio_`` is 1, where scikit-learn 1.9 reports 0.

    References
    ----------
    Hastie, Tibshirani & Friedman (2009), *The Elements of Statistical Learning*, 2nd ed.,
    Sections 4.4 and 7.10 (cross-validation).
    """

    # score's sample_weight goes to the scorer (routed, or as given), not to this estimator
    __metadata_request__score: ClassVar[dict] = {"sample_weight": UNUSED}
    _parameter_constraints: ClassVar[dict[str, Any]] = {
        **{k: LogisticRegression._parameter_constraints[k] for k in _SHARED},
        "intercept_scaling": LogisticRegression._parameter_constraints["intercept_scaling"],
        "Cs": (Interval(numbers.Integral, low=1), _SEQUENCE),
        "l1_ratios": (None, Options("warn"), _SEQUENCE),
        "cv": CV,
        "penalty": Options("l1", "l2", "elasticnet", "deprecated"),
        "scoring": (None, Options("warn", *get_scorer_names()), IsCallable()),
        "refit": BOOL,
        "n_jobs": (None, Interval(numbers.Integral)),
        "verbose": (BOOL, Interval(numbers.Integral, low=0)),
        "use_legacy_attributes": (BOOL, Options("warn")),
    }

    def __init__(
        self,
        *,
        Cs: Any = 10,
        l1_ratios: Any = "warn",
        fit_intercept: bool = True,
        cv: Any = None,
        dual: bool = False,
        penalty: str = "deprecated",
        scoring: Any = "warn",
        solver: str = "lbfgs",
        tol: float = 1e-4,
        max_iter: int = 100,
        class_weight: Any = None,
        n_jobs: int | None = None,
        verbose: int = 0,
        refit: bool = True,
        intercept_scaling: float = 1.0,
        random_state: Any = None,
        use_legacy_attributes: Any = "warn",
    ) -> None:
        store_params(self, locals())

    def _settings(self) -> tuple[list, str, Any, bool]:
        """``(l1_ratios, penalty, scoring, legacy)`` with scikit-learn 1.9's warnings for the
        defaults that change and the deprecated spellings."""
        validate_params(self)
        l1_ratios = None if isinstance(self.l1_ratios, str) else self.l1_ratios
        if isinstance(self.l1_ratios, str):
            _future(
                "The default value for l1_ratios will change from None to (0.0,) in "
                "version 1.10; set it, e.g. l1_ratios=(0,), to silence this warning."
            )
        elif l1_ratios is None and self.penalty == "deprecated":
            _future(
                "'l1_ratios=None' was deprecated in version 1.8; give an array-like of "
                "values in [0, 1]."
            )
        if l1_ratios is not None:
            l1_ratios = check_scalars(l1_ratios, "l1_ratios", low=0, high=1).tolist()
        if self.penalty == "deprecated":
            ratios = np.asarray(l1_ratios or [0.0])
            penalty = "l2" if (ratios == 0).all() else "l1" if (ratios == 1).all() else "elasticnet"
        else:
            penalty = self.penalty
            _future(
                "'penalty' was deprecated in version 1.8: use l1_ratios=(0,) for 'l2', "
                "(1,) for 'l1', values in between for 'elasticnet', and Cs=(np.inf,) "
                "for no penalty."
            )
            if penalty != "elasticnet" and l1_ratios is not None:
                warnings.warn(
                    "l1_ratios parameter is only used when penalty is 'elasticnet'. Got "
                    f"(penalty={penalty})",
                    UserWarning,
                    stacklevel=3,
                )
            if penalty == "elasticnet" and l1_ratios is None:
                raise ValueError(
                    "penalty='elasticnet' needs l1_ratios, an array-like of "
                    "numbers between 0 and 1; got l1_ratios=None"
                )
        scoring = None if self.scoring == "warn" else self.scoring
        if self.scoring == "warn":
            _future(
                "The default value of the parameter 'scoring' will change from None, i.e. "
                "accuracy, to 'neg_log_loss' in version 1.11; set scoring to silence this "
                "warning."
            )
        if self.use_legacy_attributes == "warn":
            _future(
                "The default value of use_legacy_attributes will change from True to "
                "False in scikit-learn 1.10; set it to silence this warning."
            )
        return l1_ratios, penalty, scoring, self.use_legacy_attributes in ("warn", True)

    def _grid(self) -> np.ndarray:
        if isinstance(self.Cs, numbers.Integral):
            return np.logspace(-4, 4, self.Cs)
        finite = [1.0 if isinstance(c, numbers.Real) and c == np.inf else c for c in self.Cs]
        check_scalars(finite, "Cs", low=0, include_low=False)  # np.inf: no penalty
        return np.asarray(self.Cs, dtype=float)

    def _models(self, l1_ratios, penalty, Cs) -> list[LogisticRegression]:
        """One :class:`LogisticRegression` per l1_ratio, checked with every C of the grid."""
        shared = {k: getattr(self, k) for k in (*_SHARED, "intercept_scaling")}
        if penalty != "elasticnet":
            l1_ratios = [1.0 if penalty == "l1" else 0.0] * len(l1_ratios or [None])
        models = [LogisticRegression(l1_ratio=rho, **shared) for rho in l1_ratios]
        for model in models:
            for C in Cs:
                model.set_params(C=C)._l1_share()
        return models

    def fit(self, X: Any, y: Any, sample_weight: Any = None, **params: Any) -> LogisticRegressionCV:
        """Choose C (and l1_ratio) by cross-validation on ``X`` (n_samples, n_features) and
        labels ``y``; ``sample_weight`` weighs the fits and each fold's test score."""
        routed = route(self, "fit", params, sample_weight)
        l1_ratios, penalty, scoring, legacy = self._settings()
        Cs = self._grid()
        models = self._models(l1_ratios, penalty, Cs)
        X, y = check_X_y(self, X, y, classifier=True, min_samples=2, accept_sparse=True)
        X = np.asarray(X, dtype=np.float64)
        self.classes_, y_index = encode_labels(y, min_classes=2)
        if self.solver == "liblinear":
            if len(self.classes_) > 2:
                raise ValueError(
                    "The 'liblinear' solver does not support multiclass classification "
                    f"(n_classes={len(self.classes_)}): use another solver, or wrap "
                    "LogisticRegression(solver='liblinear') in a OneVsRestClassifier"
                )
            check_liblinear_data(
                X, 2, "auto", self.intercept_scaling if self.fit_intercept else None
            )
        sw, weights = fit_weights(sample_weight, self.class_weight, self.classes_, y_index)
        folds = list(check_cv(self.cv, y, classifier=True).split(X, y, **split_params(routed)))
        # the training rows are fitted with the class-weighted weights, the test rows scored
        # with sample_weight alone (as scikit-learn)
        check_fold_weights(
            weights, folds, parts=("training",), name="sample_weight times class_weight"
        )
        # the folds' scores take fit's sample_weight (routing off) or what routing sends
        scored = weight_params(sw) if routed is None else dict(routed.scorer.score)
        test_weights = scored.get("sample_weight")
        check_fold_weights(
            None if test_weights is None else np.asarray(test_weights), folds, parts=("test",)
        )
        scorer = _scorer(scoring, self.classes_)
        jobs = (
            delayed(_fold_path)(
                model, self.classes_, X, y, y_index, weights, train, test, Cs, scorer, scored
            )
            for train, test in folds
            for model in models
        )
        runs = Parallel(n_jobs=self.n_jobs, verbose=self.verbose, prefer="threads")(jobs)
        shape = (len(folds), len(models), len(Cs))
        paths = np.reshape([p for p, _, _ in runs], (*shape, *runs[0][0].shape[1:]))
        scores = np.reshape([s for _, s, _ in runs], shape)
        n_iter = np.reshape([n for _, _, n in runs], shape)
        ratios = [m.l1_ratio for m in models]
        if self.refit:
            C, ratio = self._refit(X, y_index, weights, models, Cs, ratios, paths, scores)
        else:
            C, ratio = self._average(Cs, ratios, paths, scores)
        self.Cs_ = Cs
        self.l1_ratios_ = np.asarray([None] if l1_ratios is None else l1_ratios)
        if legacy:
            self._legacy(
                paths,
                scores,
                n_iter,
                C,
                ratio if l1_ratios or not self.refit else None,
                drop=l1_ratios is None,
            )
        else:
            self.coefs_paths_, self.scores_, self.n_iter_ = paths, scores, n_iter
            self.C_, self.l1_ratio_ = float(C), float(ratio)
        return self

    def _refit(self, X, y_index, weights, models, Cs, ratios, paths, scores):
        """Refit on all the rows with the best (C, l1_ratio) summed over the folds (first of
        equals in C-major order, as scikit-learn), from the folds' mean coefficients."""
        total = scores.sum(axis=0).T  # (n_cs, n_l1_ratios)
        i, j = np.unravel_index(np.argmax(total), total.shape)
        model = clone(models[j]).set_params(C=Cs[i], warm_start=True)
        start = paths[:, j, i].mean(axis=0)  # (K, n_dof)
        n = X.shape[1]
        model.classes_, model.n_features_in_ = self.classes_, n
        model.coef_ = start[:, :n]
        model.intercept_ = start[:, n] if self.fit_intercept else np.zeros(len(start))
        model._fit_encoded(X, y_index, weights, model._l1_share(), float)
        self.coef_, self.intercept_ = model.coef_, model.intercept_
        return Cs[i], ratios[j]

    def _average(self, Cs, ratios, paths, scores):
        """Average each fold's best coefficients, C and l1_ratio (refit=False)."""
        flat = scores.transpose(0, 2, 1).reshape(len(scores), -1)  # (n_folds, n_cs * n_l1)
        i, j = np.unravel_index(np.argmax(flat, axis=1), scores.shape[2:0:-1])
        w = paths[np.arange(len(paths)), j, i].mean(axis=0)
        n = paths.shape[-1] - self.fit_intercept
        self.coef_ = w[:, :n]
        self.intercept_ = w[:, n] if self.fit_intercept else np.zeros(len(w))
        return float(np.mean(Cs[i])), float(np.mean(np.asarray(ratios)[j]))

    def _legacy(self, paths, scores, n_iter, C, ratio, drop):
        """scikit-learn 1.9's attributes keyed by class (``use_legacy_attributes=True``)."""
        keys = self.classes_[1:] if len(self.classes_) == 2 else self.classes_
        by_class = paths.transpose(3, 0, 2, 1, 4)  # (K, n_folds, n_cs, n_l1_ratios, n_dof)
        scores, n_iter = scores.transpose(0, 2, 1), n_iter.transpose(0, 2, 1)[None]
        if drop:
            by_class, scores, n_iter = by_class[:, :, :, 0], scores[:, :, 0], n_iter[..., 0]
        self.coefs_paths_ = dict(zip(keys, by_class, strict=True))
        self.scores_ = {k: scores.copy() for k in keys}
        self.n_iter_ = n_iter
        self.C_ = np.full(len(keys), C)
        self.l1_ratio_ = np.asarray([ratio] * len(keys))

    def decision_function(self, X: Any) -> np.ndarray:
        """Scores ``X W^T + b``: (n_samples,) for two classes, else (n_samples, n_classes)."""
        return self._fitted_model().decision_function(X)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities (softmax, or the sigmoid for two classes)."""
        return self._fitted_model().predict_proba(X)

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """Logarithm of :meth:`predict_proba`."""
        return self._fitted_model().predict_log_proba(X)

    def predict(self, X: Any) -> np.ndarray:
        """The class with the largest score."""
        return self._fitted_model().predict(X)

    def score(self, X: Any, y: Any, sample_weight: Any = None, **params: Any) -> float:
        """The ``scoring`` metric (accuracy for None) of the model on ``X``, ``y``."""
        routed = route(self, "score", params, sample_weight)
        kwargs = weight_params(sample_weight) if routed is None else routed.scorer.score
        return self._get_scorer()(self, X, y, **kwargs)

    def get_metadata_routing(self) -> Any:
        """With ``sklearn.set_config(enable_metadata_routing=True)``: ``fit``'s metadata
        (``groups``, ...) go to the splitter, and ``fit``'s and ``score``'s to the scorer as
        it requests them (``set_score_request``), as in scikit-learn."""
        scores = (
            MethodMapping().add(caller="score", callee="score").add(caller="fit", callee="score")
        )
        # cv as given, as scikit-learn: check_cv would consume a generator of folds
        return cv_router(self, self.cv).add(scorer=self._get_scorer(), method_mapping=scores)

    def _get_scorer(self) -> Any:
        """The scorer that ``scoring`` names (accuracy for None and 'warn')."""
        return get_scorer("accuracy" if self.scoring in (None, "warn") else self.scoring)

    def _fitted_model(self) -> LogisticRegression:
        """A :class:`LogisticRegression` holding the fitted coefficients (it checks ``X``)."""
        check_is_fitted(self)
        model = LogisticRegression(fit_intercept=self.fit_intercept)
        for name in ("classes_", "coef_", "intercept_", "n_features_in_", "feature_names_in_"):
            if hasattr(self, name):
                setattr(model, name, getattr(self, name))
        return model

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True  # scipy.sparse X is densified
        return tags


def _future(message: str) -> None:
    warnings.warn(message, FutureWarning, stacklevel=4)
