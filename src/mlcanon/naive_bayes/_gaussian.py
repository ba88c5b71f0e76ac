"""Gaussian naive Bayes: per class, independent normal features."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from mlcanon._estimator import check_priors
from mlcanon._validation import Interval, validate_params

from ._base import BaseNB

__all__ = ["GaussianNB"]


class GaussianNB(BaseNB):
    r"""Naive Bayes with a normal density per feature and class.

    Parameters
    ----------
    priors : array of shape (n_classes,), optional
        Class priors; estimated from the (weighted) class frequencies when None.
    var_smoothing : float >= 0, default 1e-9
        Fraction of the largest feature variance added to every variance, so that a feature
        constant within a class does not give a zero variance.

    Attributes
    ----------
    classes_ : array of shape (n_classes,)
    class_count_ : array of shape (n_classes,)
        (Weighted) number of training samples per class.
    class_prior_ : array of shape (n_classes,)
    theta_ : array of shape (n_classes, n_features)
        Per-class feature means.
    var_ : array of shape (n_classes, n_features)
        Per-class feature variances (``ddof=0``) plus ``epsilon_``.
    epsilon_ : float
        ``var_smoothing * max_j Var(X_j)``.
    n_features_in_ : int

    Notes
    -----
    .. math::

        \log P(x, c) = \log \pi_c - \frac12 \sum_j \left[ \log (2 \pi \sigma_{cj}^2)
        + \frac{(x_j - \mu_{cj})^2}{\sigma_{cj}^2} \right]

    The "naive" assumption is that features are independent given the class, so the class
    density is a product of one-dimensional densities (a diagonal covariance per class).

    References
    ----------
    Hastie, Tibshirani & Friedman (2009), *The Elements of Statistical Learning*, 2nd ed.,
    Section 6.6.3. Murphy (2012), *Machine Learning: A Probabilistic Perspective*, Section 3.5.
    """

    _parameter_constraints: ClassVar[dict[str, Any]] = {"var_smoothing": Interval(low=0)}

    def __init__(self, *, priors: Any = None, var_smoothing: float = 1e-9) -> None:
        self.priors = priors
        self.var_smoothing = var_smoothing

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> GaussianNB:
        """Fit on ``X`` (n_samples, n_features) and labels ``y`` (n_samples,)."""
        validate_params(self)
        X, Yw, sw, y_index = self._prepare_fit(X, y, sample_weight)
        priors = check_priors(self.priors, len(self.classes_), "priors")
        self.epsilon_ = float(self.var_smoothing * np.var(X, axis=0).max())
        n_classes, n_features = len(self.classes_), X.shape[1]
        self.theta_ = np.zeros((n_classes, n_features))
        self.var_ = np.zeros((n_classes, n_features))
        self.class_count_ = Yw.sum(axis=0)
        for k in range(n_classes):
            rows = y_index == k
            if sw is None:
                self.theta_[k], self.var_[k] = X[rows].mean(axis=0), X[rows].var(axis=0)
                continue
            weights = sw[rows]
            if weights.sum() == 0:
                continue  # a class present only with zero weight carries no information
            self.theta_[k] = np.average(X[rows], axis=0, weights=weights)
            self.var_[k] = np.average((X[rows] - self.theta_[k]) ** 2, axis=0, weights=weights)
        self.var_ += self.epsilon_
        if priors is None:
            priors = self.class_count_ / self.class_count_.sum()
        self.class_prior_ = priors
        return self

    def _joint_log_likelihood(self, X: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore"):  # a zero prior gives log 0 = -inf on purpose
            log_prior = np.log(self.class_prior_)
        log_norm = -0.5 * np.log(2.0 * np.pi * self.var_).sum(axis=1)  # (n_classes,)
        sq = np.empty((X.shape[0], len(self.classes_)))
        for k in range(len(self.classes_)):  # a loop keeps memory at (n_samples, n_features)
            sq[:, k] = ((X - self.theta_[k]) ** 2 / self.var_[k]).sum(axis=1)
        # log_norm - sq/2 first: both are huge for near-constant pixels and mostly cancel
        return log_prior + (log_norm - 0.5 * sq)
