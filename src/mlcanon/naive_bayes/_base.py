r"""What every naive Bayes classifier shares: Bayes' rule on a joint log-likelihood.

A subclass provides ``_joint_log_likelihood(X)``, the matrix of ``log P(c) + log P(x | c)``
with shape (n_samples, n_classes); the posterior follows by normalizing each row,

.. math::

    \log P(c \mid x) = \log P(c) + \log P(x \mid c)
    - \log \sum_{c'} P(c') P(x \mid c').
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from mlcanon._estimator import (
    check_labels,
    check_X,
    check_X_y,
    encode_labels,
    float_dtype,
    sample_weight_or_none,
)
from mlcanon._validation import check_consistent_length

__all__ = ["BaseNB", "weighted_class_counts"]


def weighted_class_counts(Y: np.ndarray, sample_weight: np.ndarray | None) -> np.ndarray:
    """One-hot ``Y`` (n_samples, n_classes) scaled by the sample weights."""
    return Y if sample_weight is None else Y * sample_weight[:, None]


class BaseNB(ClassifierMixin, BaseEstimator):
    """Prediction from the joint log-likelihood, and fitting by sufficient statistics.

    ``fit`` is one ``partial_fit`` from empty statistics: a subclass implements
    ``_reset(n_features, dtype)`` (zero statistics; ``dtype`` is float32 for float32 data,
    for a subclass that keeps it), ``_accumulate(X, Yw, sw, y_index)`` (add a batch) and
    ``_finish()`` (the parameters from the statistics).
    """

    _accept_sparse: ClassVar[bool | str] = True  # scipy.sparse X densified; "csr": kept sparse

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> Any:
        """Fit on ``X`` (n_samples, n_features) and labels ``y`` (n_samples,)."""
        dtype = float_dtype(X)
        X, y = check_X_y(self, X, y, classifier=True, accept_sparse=self._accept_sparse)
        self.classes_ = encode_labels(y, object_to_str=True)[0]
        self._reset(X.shape[1], dtype)
        return self._update(X, y, sample_weight)

    def partial_fit(self, X: Any, y: Any, classes: Any = None, sample_weight: Any = None) -> Any:
        """Add the batch ``(X, y)`` to the statistics of the previous calls; the first call
        needs ``classes``, every label the stream will hold."""
        first = self._first_partial_call(classes)
        if first:
            dtype = float_dtype(X)
            X, y = check_X_y(self, X, y, classifier=True, accept_sparse=self._accept_sparse)
            self.classes_ = encode_labels(np.asarray(classes), object_to_str=True)[0]
            self._reset(X.shape[1], dtype)
        else:
            X = check_X(self, X, reset=False, accept_sparse=self._accept_sparse)
            y = check_labels(np.asarray(y).ravel(), ndim=1)
            check_consistent_length(X=X, y=y)
        return self._update(X, y, sample_weight)

    def _first_partial_call(self, classes: Any) -> bool:
        seen = getattr(self, "classes_", None)
        if classes is None:
            if seen is None:
                raise ValueError("classes must be passed on the first call to partial_fit.")
            return False
        if seen is None:
            return True
        if not np.array_equal(np.unique(classes), seen):
            raise ValueError(
                f"`classes={np.asarray(classes)!r}` is not the same as on last call to "
                f"partial_fit, was: {seen!r}"
            )
        return False

    def _update(self, X: Any, y: np.ndarray, sample_weight: Any) -> Any:
        unknown = np.setdiff1d(y, self.classes_)
        if unknown.size:
            raise ValueError(
                f"The target label(s) {unknown} in y do not exist in the initial classes "
                f"{self.classes_}"
            )
        y_index = np.searchsorted(self.classes_, y)
        sw = sample_weight_or_none(sample_weight, X.shape[0])
        Y = np.zeros((X.shape[0], len(self.classes_)))
        Y[np.arange(X.shape[0]), y_index] = 1.0
        self._accumulate(X, weighted_class_counts(Y, sw), sw, y_index)
        self._finish()
        return self

    def _check_X_predict(self, X: Any) -> np.ndarray:
        return check_X(self, X, reset=False, accept_sparse=self._accept_sparse)

    def _model_dtype(self) -> type:
        """The dtype of the fitted parameters (float64 unless a subclass keeps float32)."""
        return np.float64

    def _jll(self, X: Any) -> tuple[np.ndarray, np.dtype]:
        """The joint log-likelihood in float64, and the dtype the public methods return it in:
        float32 only when both ``X`` and the fitted parameters are (scikit-learn's products
        promote so)."""
        given = float_dtype(X)
        X = self._check_X_predict(X)  # checks the model is fitted, too
        return self._joint_log_likelihood(X), np.result_type(given, self._model_dtype())

    def predict_joint_log_proba(self, X: Any) -> np.ndarray:
        """``log P(x, c)`` for each sample and class, shape (n_samples, n_classes)."""
        jll, dtype = self._jll(X)
        return jll.astype(dtype, copy=False)

    def _log_proba(self, X: Any) -> tuple[np.ndarray, np.dtype]:
        """``log P(c | x)`` in float64, and the dtype to return it in (see :meth:`_jll`)."""
        jll, dtype = self._jll(X)
        # jll - logsumexp(jll), the evidence log P(x) formed as one number (scikit-learn's
        # order of operations: with |jll| ~ 1e9 for near-constant pixels the last bits differ)
        top = jll.max(axis=1, keepdims=True)
        # a row of -inf (every class impossible) -> nan; terms below the smallest float add 0
        with np.errstate(invalid="ignore", under="ignore"):
            evidence = top + np.log(np.exp(jll - top).sum(axis=1, keepdims=True))
        return jll - evidence, dtype

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """``log P(c | x)``, shape (n_samples, n_classes)."""
        log_proba, dtype = self._log_proba(X)
        return log_proba.astype(dtype, copy=False)

    def predict_proba(self, X: Any) -> np.ndarray:
        """``P(c | x)``, shape (n_samples, n_classes); rows sum to 1."""
        log_proba, dtype = self._log_proba(X)
        with np.errstate(under="ignore"):  # probabilities below the smallest float are 0
            return np.exp(log_proba).astype(dtype, copy=False)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    def predict(self, X: Any) -> np.ndarray:
        """The class of largest posterior, shape (n_samples,)."""
        jll = self._jll(X)[0]
        return self.classes_[np.argmax(jll, axis=1)]
