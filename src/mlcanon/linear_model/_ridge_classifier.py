r"""Ridge classifiers: ridge regression on targets coded as :math:`\pm 1`, one column per class.

Each class ``k`` gets the target :math:`Y_{ik} = +1` when sample ``i`` is of class ``k`` and
:math:`-1` otherwise (two classes: the one column of the second class; several labels at once,
a multilabel indicator ``y``: +1 where the indicator is set). All columns share ``X``, so one
factorization solves them together, and the predicted class is the column with the largest
score (two classes: the sign of the one score). ``class_weight`` multiplies each sample's
weight by its class's weight, which the squared loss then carries as any sample weight.

References
----------
Rifkin & Klautau (2004), "In defense of one-vs-all classification", JMLR 5 (regularized
least-squares classification). Hastie, Tibshirani & Friedman (2009), *The Elements of
Statistical Learning*, 2nd ed., Section 4.2 (linear regression of an indicator matrix).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils import ClassifierTags

from mlcanon._estimator import (
    check_feature_names,
    check_X,
    check_X_y,
    class_weights,
    encode_labels,
    float_dtype,
    sample_weight_array,
    store_params,
)
from mlcanon._validation import (
    CLASS_WEIGHT,
    check_array,
    check_consistent_length,
    validate_params,
)

from ._base import linear_predict
from ._least_squares import Ridge
from ._ridge_cv import RidgeCV

__all__ = ["RidgeClassifier", "RidgeClassifierCV"]


class _RidgeClassifierMixin(ClassifierMixin):
    """What both ridge classifiers add to their regressor: the :math:`\\pm 1` coding of ``y``
    with the class weights folded into the sample weights, and the decision from the scores."""

    def _code_targets(self, X: Any, y: Any, sample_weight: Any) -> tuple[Any, np.ndarray, Any]:
        """Validate ``X`` and ``y``; set ``classes_``; return ``(X, Y, sample_weight)`` with
        ``Y`` in {-1, +1} of shape (n_samples, n_columns) and the weights times the class
        weights (always an array, as scikit-learn)."""
        y = y if y is None else np.asarray(y)  # None: check_X_y names the missing y
        self._multilabel = y is not None and y.ndim == 2 and y.shape[1] > 1
        if self._multilabel:
            X = check_X(self, X, reset=True, accept_sparse="csr", dtype=float_dtype(X))
            y = check_array(y, "y", ndim=2, dtype=None)
            check_consistent_length(X=X, y=y)
            values = np.unique(y)
            # 0 or -1 (the coding itself, which scikit-learn 1.9 fits as given) is 'not set'
            if y.dtype.kind not in "biuf" or not (
                np.isin(values, [0, 1]).all() or np.isin(values, [-1, 1]).all()
            ):
                raise ValueError(
                    "y: a 2-D y must be a multilabel indicator matrix, holding 1 ('this label') "
                    f"and 0 or -1 ('not this label'); got the values {values[:5].tolist()}"
                )
            self.classes_ = np.arange(y.shape[1])
            Y = np.where(y == 1, 1.0, -1.0)
            columns = [encode_labels(y[:, k]) for k in range(y.shape[1])]
        else:
            dtype = float_dtype(X)
            X, y = check_X_y(self, X, y, classifier=True, accept_sparse="csr")
            X = X.astype(dtype, copy=False)
            self.classes_, codes = encode_labels(y, object_to_str=True)
            Y = np.full((len(y), len(self.classes_)), -1.0)
            Y[np.arange(len(y)), codes] = 1.0
            if len(self.classes_) <= 2:  # one column; a single class is all -1, as scikit-learn
                Y = Y[:, 1:] if len(self.classes_) == 2 else -Y
            columns = [(self.classes_, codes)]
        sw = sample_weight_array(sample_weight, X.shape[0])
        if self.class_weight is not None:
            if self._multilabel and isinstance(self.class_weight, dict):
                raise ValueError(
                    "class_weight must be 'balanced' or None for a multilabel y (a dict names "
                    f"the classes of one target); got class_weight={self.class_weight!r}"
                )
            for classes, codes in columns:  # multilabel: the product over the labels
                sw = sw * class_weights(self.class_weight, classes, codes)[codes]
        return X, Y, sw

    def decision_function(self, X: Any) -> np.ndarray:
        """Scores ``X @ coef_.T + intercept_``: (n_samples,) for two classes, else
        (n_samples, n_classes)."""
        return linear_predict(self, X)  # coef_ is 1-D for two classes

    def predict(self, X: Any) -> np.ndarray:
        """The class with the largest score (two classes: the second when the score is > 0);
        multilabel: the 0/1 indicator of the positive scores."""
        scores = self.decision_function(X)
        if self._multilabel:
            return (scores > 0).astype(np.int64)
        index = (scores > 0).astype(int) if scores.ndim == 1 else np.argmax(scores, axis=1)
        return self.classes_[index]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.estimator_type = "classifier"  # the regressor below contributes its own tags
        tags.regressor_tags = None
        tags.classifier_tags = ClassifierTags(multi_label=True)
        tags.target_tags.multi_output = False
        return tags


class RidgeClassifier(_RidgeClassifierMixin, Ridge):
    r"""Classifier by ridge regression on :math:`\pm 1` targets (one-vs-all).

    Parameters
    ----------
    alpha, fit_intercept, copy_X, max_iter, tol, solver, positive, random_state
        As :class:`Ridge`, which fits the coded targets (every solver of :class:`Ridge`).
    class_weight : dict, 'balanced' or None, default None
        Weight of each class, multiplying the sample weights: a dict by label (1 for the labels
        it leaves out), or 'balanced', ``n_samples / (n_classes * count(class))``. A multilabel
        ``y`` takes 'balanced' per label, the weights of the labels multiplied.

    Attributes
    ----------
    classes_ : array of shape (n_classes,)
        The labels (multilabel: ``0 .. n_labels - 1``).
    coef_ : array of shape (n_features,) for two classes, else (n_classes, n_features)
    intercept_ : array of shape (1,) for two classes, else (n_classes,); 0.0 without intercept
    n_iter_, solver_, n_features_in_
        As :class:`Ridge`.

    Notes
    -----
    .. math::

        W = \arg\min_W \sum_i s_i c_{y_i} \lVert Y_i - W^T x_i - b \rVert_2^2
            + \alpha \lVert W \rVert_F^2,
        \qquad Y_{ik} = \begin{cases} +1 & y_i = k \\ -1 & \text{otherwise} \end{cases}

    with sample weights :math:`s_i` and class weights :math:`c_k`; the prediction is
    :math:`\arg\max_k (W^T x + b)_k`. See the module docstring for the references.
    """

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        **Ridge._parameter_constraints,
        "class_weight": CLASS_WEIGHT,
    }

    def __init__(
        self,
        alpha: Any = 1.0,
        *,
        fit_intercept: bool = True,
        copy_X: bool = True,
        max_iter: int | None = None,
        tol: float = 1e-4,
        class_weight: Any = None,
        solver: str = "auto",
        positive: bool = False,
        random_state: Any = None,
    ) -> None:
        store_params(self, locals())

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> RidgeClassifier:
        """Fit on ``X`` (n_samples, n_features) and labels ``y`` (n_samples,), or a multilabel
        indicator ``y`` (n_samples, n_labels)."""
        self._resolve_solver()  # validates the parameters before the data
        X_checked, Y, sw = self._code_targets(X, y, sample_weight)
        super().fit(X_checked, Y, sample_weight=sw)
        check_feature_names(self, X, reset=True)  # the caller's columns, not the array's
        return self


class _CodedScores(ClassifierMixin, BaseEstimator):
    """Hands a scorer the leave-one-out scores: class ``k`` is column ``k`` (two classes: the
    sign of the one column), as ``predict`` reads them."""

    def __init__(self, n_classes: int) -> None:
        self.classes_ = np.arange(max(n_classes, 2))

    def decision_function(self, scores: np.ndarray) -> np.ndarray:
        return scores

    def predict(self, scores: np.ndarray) -> np.ndarray:
        return (scores > 0).astype(int) if scores.ndim == 1 else np.argmax(scores, axis=1)


class RidgeClassifierCV(_RidgeClassifierMixin, RidgeCV):
    r"""Ridge classifier with ``alpha`` chosen from a grid by cross-validation.

    Parameters
    ----------
    alphas : array-like of shape (n_alphas,) or float, default (0.1, 1.0, 10.0)
    fit_intercept : bool, default True
    scoring : None, str or callable, default None
        None: the mean squared leave-one-out error of the coded targets (``cv=None``) or
        accuracy (other ``cv``). A scorer: with ``cv=None`` it scores the leave-one-out scores
        against the class of each sample, given the (class-weighted) sample weights.
    cv : None, int >= 2, splitter or iterable of (train, test) pairs, default None
        None: efficient leave-one-out (:class:`RidgeCV` on the coded targets). Otherwise a grid
        search over :class:`RidgeClassifier`, fit with the class-weighted sample weights.
    class_weight : dict, 'balanced' or None, default None
        As :class:`RidgeClassifier`.
    store_cv_results : bool, default False
        Keep ``cv_results_`` (``cv=None`` only).

    Attributes
    ----------
    alpha_ : float
    best_score_ : float
    cv_results_ : array of shape (n_samples, n_columns, n_alphas)
        Per sample, coded column and alpha: the weighted squared leave-one-out error
        (``scoring=None``), else the leave-one-out score. Two classes have one column.
    classes_, coef_, intercept_, n_features_in_
        As :class:`RidgeClassifier`.

    Notes
    -----
    The leave-one-out errors are those of :class:`RidgeCV` on the :math:`\pm 1` matrix ``Y``,
    weighted by :math:`s_i c_{y_i}`; the default score is
    :math:`-\frac{1}{n K} \sum_{i,k} s_i c_{y_i} (Y_{ik} - \hat Y_{-i,k})^2`.
    With a scorer and two classes, the leave-one-out prediction is the sign of the one score
    and the true class that of ``Y``; scikit-learn 1.9 takes the argmax of that single column
    for both, so that any scorer sees every sample in class 0 (accuracy 1.0 for every alpha,
    scikit-learn issue #34942).
    """

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        **{
            k: v
            for k, v in RidgeCV._parameter_constraints.items()
            if k not in ("gcv_mode", "alpha_per_target")
        },
        "class_weight": CLASS_WEIGHT,
    }
    # not parameters of the classifier: what RidgeCV reads of them
    gcv_mode = None
    alpha_per_target = False
    _grid_model = RidgeClassifier
    _default_scoring = "accuracy"

    def __init__(
        self,
        alphas: Any = (0.1, 1.0, 10.0),
        *,
        fit_intercept: bool = True,
        scoring: Any = None,
        cv: Any = None,
        class_weight: Any = None,
        store_cv_results: bool = False,
    ) -> None:
        store_params(self, locals())

    def fit(self, X: Any, y: Any, sample_weight: Any = None, **params: Any) -> RidgeClassifierCV:
        """Choose alpha and fit on ``X`` (n_samples, n_features) and labels ``y`` (n_samples,),
        or a multilabel indicator ``y`` (n_samples, n_labels); ``params`` are metadata, routed
        when routing is on."""
        validate_params(self)
        X_checked, Y, sw = self._code_targets(X, y, sample_weight)
        # leave-one-out regresses the coded targets; a grid search refits the classifier
        target = Y if self.cv is None else np.asarray(y)
        super().fit(X_checked, target, sample_weight=sw, **params)
        check_feature_names(self, X, reset=True)  # the caller's columns, not the array's
        return self

    def _score(self, scorer: Any, predictions: np.ndarray, Y: np.ndarray, sw: Any) -> Any:
        params = {} if sw is None else {"sample_weight": sw}
        if Y.shape[1] == 1:  # two classes (or one): the sign of the one column
            return scorer(_CodedScores(1), predictions[:, 0], (Y[:, 0] > 0).astype(int), **params)
        return scorer(_CodedScores(Y.shape[1]), predictions, np.argmax(Y, axis=1), **params)
