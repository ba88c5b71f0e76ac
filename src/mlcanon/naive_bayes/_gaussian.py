"""Gaussian naive Bayes: per class, independent normal features."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from mlcanon._estimator import check_priors, store_params
from mlcanon._validation import ArrayLike, Interval, validate_params

from ._base import BaseNB

__all__ = ["GaussianNB"]


def _update_mean_variance(n_past, mu, var, X, weights, n_new):
    """Mean and variance of the past ``n_past`` samples merged with the batch ``X``.

    Chan, Golub & LeVeque's pairwise rule: with batch statistics ``(n_b, μ_b, σ²_b)``,
    ``μ = (n_a μ_a + n_b μ_b) / n`` and
    ``n σ² = n_a σ²_a + n_b σ²_b + (n_a n_b / n) (μ_a - μ_b)²``.
    """
    new_mu = np.average(X, axis=0, weights=weights)
    new_var = np.average((X - new_mu) ** 2, axis=0, weights=weights)
    if n_past == 0:
        return new_mu, new_var
    total = n_past + n_new
    mu_total = (n_new * new_mu + n_past * mu) / total
    ssd = n_past * var + n_new * new_var + (n_new * n_past / total) * (mu - new_mu) ** 2
    return mu_total, ssd / total


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
        ``var_smoothing * max_j Var(X_j)`` over the latest batch (``partial_fit``).
    n_features_in_ : int

    Notes
    -----
    .. math::

        \log P(x, c) = \log \pi_c - \frac12 \sum_j \left[ \log (2 \pi \sigma_{cj}^2)
        + \frac{(x_j - \mu_{cj})^2}{\sigma_{cj}^2} \right]

    The "naive" assumption is that features are independent given the class, so the class
    density is a product of one-dimensional densities (a diagonal covariance per class).

    A float32 ``X`` (the first batch's, for ``partial_fit``) gives float32 parameters and
    probabilities, as in scikit-learn; the arithmetic is float64, rounded when stored.

    References
    ----------
    Hastie, Tibshirani & Friedman (2009), *The Elements of Statistical Learning*, 2nd ed.,
    Section 6.6.3. Murphy (2012), *Machine Learning: A Probabilistic Perspective*, Section 3.5.
    Chan, Golub & LeVeque (1982), "Updating formulae and a pairwise algorithm for computing
    sample variances", COMPSTAT (``partial_fit``).
    """

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        "priors": (None, ArrayLike()),
        "var_smoothing": Interval(low=0),
    }

    def __init__(self, *, priors: Any = None, var_smoothing: float = 1e-9) -> None:
        store_params(self, locals())

    def _reset(self, n_features: int, dtype: type) -> None:
        # float32 data get float32 statistics, as in scikit-learn; the arithmetic below is
        # float64 (a float32 array stores its rounded result)
        validate_params(self)
        n_classes = len(self.classes_)
        self.theta_ = np.zeros((n_classes, n_features), dtype=dtype)
        self.var_ = np.zeros((n_classes, n_features), dtype=dtype)
        self.class_count_ = np.zeros(n_classes, dtype=dtype)
        self.epsilon_ = None

    def _model_dtype(self) -> type:
        return self.theta_.dtype

    def _accumulate(self, X: np.ndarray, Yw: np.ndarray, sw: Any, y_index: np.ndarray) -> None:
        # scikit-learn's rule, kept for identical partial_fit results: epsilon_ comes from the
        # latest batch, and that new value is what is taken off the stored variances
        first = self.epsilon_ is None
        epsilon = float(self.var_smoothing * np.var(X, axis=0).max())
        self.epsilon_ = self.theta_.dtype.type(epsilon)
        if not first:
            self.var_ -= epsilon
        for k in range(len(self.classes_)):
            rows = y_index == k
            weights = None if sw is None else sw[rows]
            n_new = rows.sum() if sw is None else weights.sum()
            if n_new == 0:
                continue  # a class absent (or only with zero weight) carries no information
            self.theta_[k], self.var_[k] = _update_mean_variance(
                float(self.class_count_[k]),
                np.asarray(self.theta_[k], dtype=np.float64),
                np.asarray(self.var_[k], dtype=np.float64),
                X[rows],
                weights,
                n_new,
            )
            self.class_count_[k] += n_new
        self.var_ += epsilon

    def _finish(self) -> None:
        priors = check_priors(self.priors, len(self.classes_), "priors")
        if priors is None:
            priors = self.class_count_ / self.class_count_.astype(np.float64).sum()
        self.class_prior_ = priors.astype(self.theta_.dtype)

    def _joint_log_likelihood(self, X: np.ndarray) -> np.ndarray:
        theta, var = (np.asarray(a, dtype=np.float64) for a in (self.theta_, self.var_))
        with np.errstate(divide="ignore"):  # a zero prior gives log 0 = -inf on purpose
            log_prior = np.log(np.asarray(self.class_prior_, dtype=np.float64))
        log_norm = -0.5 * np.log(2.0 * np.pi * var).sum(axis=1)  # (n_classes,)
        sq = np.empty((X.shape[0], len(self.classes_)))
        for k in range(len(self.classes_)):  # a loop keeps memory at (n_samples, n_features)
            sq[:, k] = ((X - theta[k]) ** 2 / var[k]).sum(axis=1)
        # log_norm - sq/2 first: both are huge for near-constant pixels and mostly cancel
        return log_prior + (log_norm - 0.5 * sq)
