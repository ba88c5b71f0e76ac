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
from typing import Any, ClassVar

import numpy as np
from scipy.special import expit, softmax
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from mlcanon._estimator import encode_labels
from mlcanon._validation import IsCallable, Options, check_scalar

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
    n_outputs_ : int
        Columns of a 2-D ``y`` (1 for a 1-D ``y``); each round adds one tree per output
        (xgboost's ``multi_strategy="one_output_per_tree"``).
    intercept_ : ndarray of shape (n_outputs_,)
        ``base_margin_`` as float32 (xgboost's ``intercept_``, its base score: the weighted
        mean of each target).
    feature_importances_ : ndarray of shape (n_features_in_,)
        Mean split gain of each feature, normalized (xgboost's default ``"gain"``; see
        ``importance_type``).

    Notes
    -----
    Objective ``"reg:squarederror"``: :math:`g = F - y`, :math:`h = 1`. A 2-D ``y`` of shape
    (n_samples, n_outputs) is fitted as xgboost does: every target has its own margin, base
    score and trees (grown on its own gradients, with each row's weight), ``predict`` gives
    (n_samples, n_outputs), and the metrics are means over all entries (every target of every
    row, weighted by its row's weight). A callable objective receives ``y`` and the margins as
    (n_samples, n_outputs).

    References
    ----------
    Chen, Guestrin (2016). XGBoost: A Scalable Tree Boosting System, KDD.
    """
    )

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        **BaseXGB._parameter_constraints,
        "objective": (None, Options("reg:squarederror"), IsCallable()),
    }

    def _default_objective(self) -> str:
        return "reg:squarederror"

    def _encode_y(self, y: np.ndarray) -> np.ndarray:
        self.n_outputs_ = 1 if y.ndim == 1 else y.shape[1]  # a 2-D y: one margin per column
        return self._encode_eval(y)

    def _encode_eval(self, ye: np.ndarray) -> np.ndarray:
        ye = np.asarray(ye, dtype=np.float64)
        if not np.isfinite(ye).all():  # its metric would be NaN, and early stopping blind
            raise ValueError("eval_set y must be finite; got NaN or infinity")
        return ye

    def _from_margins(self, F: np.ndarray) -> np.ndarray:
        # the identity link: the targets are the margins
        return F[:, 0] if self.n_outputs_ == 1 else F

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


class XGBClassifier(ClassifierMixin, BaseXGB):
    __doc__ = (
        "Second-order histogram gradient boosting for classification (xgboost's algorithm).\n"
        + DOC_PARAMS
        + """
    Attributes
    ----------
    classes_ : ndarray
    n_classes_ : int
    intercept_ : ndarray of shape (1,) or (n_classes_,)
        The base score as xgboost reports it: a probability with two classes, margins with
        more.
    nodes_, tree_offsets_, base_margin_, best_iteration_, evals_result_, feature_importances_
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

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        **BaseXGB._parameter_constraints,
        "objective": (None, Options("binary:logistic", "multi:softprob"), IsCallable()),
    }

    def _default_objective(self) -> str:
        """The built-in objective for the number of classes found in ``y``."""
        fits = "binary:logistic" if self.n_outputs_ == 1 else "multi:softprob"
        if self.objective not in (None, fits):
            raise ValueError(
                f"objective must be None or {fits!r} for {len(self.classes_)} classes; got "
                f"{self.objective!r}"
            )
        return fits

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

    def _margin_to_score(self, margin: np.ndarray) -> np.ndarray:
        return expit(margin) if self.n_outputs_ == 1 else margin

    @property
    def n_classes_(self) -> int:
        """The number of classes, ``len(classes_)`` (xgboost's ``n_classes_``)."""
        check_is_fitted(self, "classes_")
        return len(self.classes_)

    def _encode_y(self, y: np.ndarray) -> np.ndarray:
        """Class codes of the labels ``y`` (at least two classes); sets ``classes_``."""
        self.classes_, codes = encode_labels(y)
        if len(self.classes_) < 2:
            raise ValueError(
                f"{type(self).__name__} needs at least 2 classes in y, got only one class "
                f"{self.classes_[0]!r}"
            )
        self.n_outputs_ = 1 if len(self.classes_) == 2 else len(self.classes_)
        return codes.astype(np.float64)

    def _encode_eval(self, ye: np.ndarray) -> np.ndarray:
        unseen = np.setdiff1d(ye, self.classes_)
        if unseen.size:
            raise ValueError(
                f"eval_set y has labels {unseen.tolist()} not seen in training "
                f"(classes_ = {self.classes_.tolist()})"
            )
        return np.searchsorted(self.classes_, ye).astype(np.float64)

    def predict_proba(self, X: Any, iteration_range: tuple[int, int] | None = None) -> np.ndarray:
        """Class probabilities: sigmoid (two classes) or softmax of the margins of the rounds
        in ``iteration_range`` (see :meth:`decision_function_raw`)."""
        return self._proba(self.decision_function_raw(X, iteration_range))

    def _proba(self, F: np.ndarray) -> np.ndarray:
        if self.n_outputs_ == 1:
            p = expit(F[:, 0])
            return np.column_stack([1 - p, p])
        return softmax(F, axis=1)

    def _from_margins(self, F: np.ndarray) -> np.ndarray:
        return self.classes_[np.argmax(self._proba(F), axis=1)]
