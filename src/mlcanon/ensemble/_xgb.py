"""Second-order histogram gradient boosting (the XGBoost algorithm), xgboost's parameter names.

Round :math:`m` expands the loss to second order around the current margins :math:`F_{m-1}`,

.. math::

    \\mathcal L^{(m)} \\approx \\sum_i \\big[g_i f(x_i) + \\tfrac12 h_i f(x_i)^2\\big]
        + \\gamma T + \\tfrac12 \\lambda \\sum_j w_j^2 + \\alpha \\sum_j |w_j|,

so a tree with leaves :math:`I_j` has optimal leaf values :math:`w_j^* = -T_\\alpha(G_j) /
(H_j + \\lambda)` (:math:`G_j = \\sum_{i \\in I_j} g_i`, :math:`H_j = \\sum_{i \\in I_j} h_i`) and a
split is worth :math:`G_L^2/(H_L+\\lambda) + G_R^2/(H_R+\\lambda) - G^2/(H+\\lambda)` (compared with
``gamma``). Features are binned once into quantiles (``max_bin``); a split's missing values go to
the side that scores better, learned per split (sparsity-aware split finding). Margins then move
by ``learning_rate`` times the tree: :math:`F_m = F_{m-1} + \\eta f_m`.

References
----------
Chen, Guestrin (2016). XGBoost: A Scalable Tree Boosting System, KDD, sec. 2-3, Alg. 2-3.
Friedman (2001). Greedy function approximation: a gradient boosting machine, Ann. Statist.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.special import expit, softmax
from sklearn.base import ClassifierMixin, RegressorMixin

from mlcanon._estimator import encode_labels, sample_weight_array
from mlcanon._validation import check_option, check_scalar
from mlcanon.tree._checks import check_X_y

from ._xgb_base import DOC_PARAMS, BaseXGB

__all__ = ["XGBClassifier", "XGBRegressor"]


class XGBRegressor(RegressorMixin, BaseXGB):
    __doc__ = (
        "Second-order histogram gradient boosting for regression (xgboost's algorithm).\n"
        + DOC_PARAMS
        + """
    Attributes
    ----------
    nodes_ : dict of ndarray
        Node arrays of all trees concatenated (``left``, ``right``, ``feature``,
        ``threshold``, ``split_bin``, ``default_left``, ``value``, ``gain``, ``cover``); tree
        ``t`` is ``tree_offsets_[t]:tree_offsets_[t + 1]``, child ids relative to its start.
    base_margin_, bin_edges_, n_bin_edges_, best_iteration_, evals_result_, n_features_in_

    Notes
    -----
    Objective ``"reg:squarederror"``: :math:`g = F - y`, :math:`h = 1`.

    References
    ----------
    Chen, Guestrin (2016). XGBoost: A Scalable Tree Boosting System, KDD.
    """
    )

    def _default_objective(self) -> str:
        if self.objective is None:
            return "reg:squarederror"
        return check_option(self.objective, "objective", ("reg:squarederror",))

    def fit(
        self,
        X: Any,
        y: Any,
        sample_weight: Any = None,
        eval_set: Sequence[tuple[Any, Any]] | None = None,
    ) -> XGBRegressor:
        """Boost ``n_estimators`` rounds on ``X`` (NaN allowed) and targets ``y``."""
        X, y = check_X_y(self, X, y, classifier=False)
        w = sample_weight_array(sample_weight, X.shape[0])
        self.n_outputs_ = 1
        self._fit_checked(X, y, w, eval_set, lambda ye: np.asarray(ye, dtype=np.float64))
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Predicted targets (margins of rounds ``0..best_iteration_``)."""
        return self.decision_function_raw(X)[:, 0]


class XGBClassifier(ClassifierMixin, BaseXGB):
    __doc__ = (
        "Second-order histogram gradient boosting for classification (xgboost's algorithm).\n"
        + DOC_PARAMS
        + """
    Attributes
    ----------
    classes_ : ndarray
    nodes_, tree_offsets_, base_margin_, best_iteration_, evals_result_
        As in :class:`XGBRegressor`; with ``K > 2`` classes each round adds ``K`` trees.

    Notes
    -----
    Two classes: ``"binary:logistic"`` on one margin, :math:`p = \\sigma(F)`. More classes:
    ``"multi:softprob"``, one margin per class and :math:`p = \\operatorname{softmax}(F)`. A
    callable objective receives the class indices and the margins; probabilities are then the
    sigmoid/softmax of its margins.

    References
    ----------
    Chen, Guestrin (2016). XGBoost: A Scalable Tree Boosting System, KDD.
    """
    )

    def _default_objective(self) -> str:
        allowed = ("binary:logistic",) if self.n_outputs_ == 1 else ("multi:softprob",)
        if self.objective is None:
            return allowed[0]
        return check_option(self.objective, "objective", allowed)

    def _score_to_margin(self, score: float) -> float:
        if self.n_outputs_ == 1:  # base_score is a probability, as in xgboost
            check_scalar(
                score,
                "base_score",
                kind=numbers.Real,
                low=0.0,
                high=1.0,
                include_low=False,
                include_high=False,
            )
            return float(np.log(score / (1 - score)))
        return score

    def fit(
        self,
        X: Any,
        y: Any,
        sample_weight: Any = None,
        eval_set: Sequence[tuple[Any, Any]] | None = None,
    ) -> XGBClassifier:
        """Boost on ``X`` (NaN allowed) and class labels ``y`` (at least two classes)."""
        X, y = check_X_y(self, X, y, classifier=True)
        w = sample_weight_array(sample_weight, X.shape[0])
        self.classes_, codes = encode_labels(y)
        if len(self.classes_) < 2:
            raise ValueError(
                f"XGBClassifier needs at least 2 classes in y, got only one class "
                f"{self.classes_[0]!r}"
            )
        self.n_outputs_ = 1 if len(self.classes_) == 2 else len(self.classes_)
        self._fit_checked(X, codes.astype(np.float64), w, eval_set, self._encode_eval)
        return self

    def _encode_eval(self, ye: np.ndarray) -> np.ndarray:
        unseen = np.setdiff1d(ye, self.classes_)
        if unseen.size:
            raise ValueError(
                f"eval_set y has labels {unseen.tolist()} not seen in training "
                f"(classes_ = {self.classes_.tolist()})"
            )
        return np.searchsorted(self.classes_, ye).astype(np.float64)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities: sigmoid (two classes) or softmax of the margins."""
        F = self.decision_function_raw(X)
        if self.n_outputs_ == 1:
            p = expit(F[:, 0])
            return np.column_stack([1 - p, p])
        return softmax(F, axis=1)

    def predict(self, X: Any) -> np.ndarray:
        index = np.argmax(self.predict_proba(X), axis=1)
        return self.classes_[index]
