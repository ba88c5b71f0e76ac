r"""What every naive Bayes classifier shares: Bayes' rule on a joint log-likelihood.

A subclass provides ``_joint_log_likelihood(X)``, the matrix of ``log P(c) + log P(x | c)``
with shape (n_samples, n_classes); the posterior follows by normalizing each row,

.. math::

    \log P(c \mid x) = \log P(c) + \log P(x \mid c)
    - \log \sum_{c'} P(c') P(x \mid c').
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from mlcanon._estimator import (
    check_X,
    check_X_y,
    encode_labels,
    sample_weight_or_none,
)

__all__ = ["BaseNB", "weighted_class_counts"]


def weighted_class_counts(Y: np.ndarray, sample_weight: np.ndarray | None) -> np.ndarray:
    """One-hot ``Y`` (n_samples, n_classes) scaled by the sample weights."""
    return Y if sample_weight is None else Y * sample_weight[:, None]


class BaseNB(ClassifierMixin, BaseEstimator):
    """Prediction from the joint log-likelihood; subclasses implement the fit."""

    def _prepare_fit(self, X: Any, y: Any, sample_weight: Any):
        """Validate, encode labels; return ``(X, Y one-hot weighted, sw)``."""
        X, y = check_X_y(self, X, y, classifier=True, min_samples=2, accept_sparse=True)
        self.classes_, y_index = encode_labels(y, min_classes=2)
        sw = sample_weight_or_none(sample_weight, X.shape[0])
        Y = np.zeros((X.shape[0], len(self.classes_)))
        Y[np.arange(X.shape[0]), y_index] = 1.0
        return X, weighted_class_counts(Y, sw), sw, y_index

    def _check_X_predict(self, X: Any) -> np.ndarray:
        return check_X(self, X, reset=False, accept_sparse=True)

    def predict_joint_log_proba(self, X: Any) -> np.ndarray:
        """``log P(x, c)`` for each sample and class, shape (n_samples, n_classes)."""
        return self._joint_log_likelihood(self._check_X_predict(X))

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """``log P(c | x)``, shape (n_samples, n_classes)."""
        jll = self.predict_joint_log_proba(X)
        # jll - logsumexp(jll), the evidence log P(x) formed as one number (scikit-learn's
        # order of operations: with |jll| ~ 1e9 for near-constant pixels the last bits differ)
        top = jll.max(axis=1, keepdims=True)
        # a row of -inf (every class impossible) -> nan; terms below the smallest float add 0
        with np.errstate(invalid="ignore", under="ignore"):
            evidence = top + np.log(np.exp(jll - top).sum(axis=1, keepdims=True))
        return jll - evidence

    def predict_proba(self, X: Any) -> np.ndarray:
        """``P(c | x)``, shape (n_samples, n_classes); rows sum to 1."""
        with np.errstate(under="ignore"):  # probabilities below the smallest float are 0
            return np.exp(self.predict_log_proba(X))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True  # scipy.sparse X is densified
        return tags

    def predict(self, X: Any) -> np.ndarray:
        """The class of largest posterior, shape (n_samples,)."""
        jll = self.predict_joint_log_proba(X)
        return self.classes_[np.argmax(jll, axis=1)]
