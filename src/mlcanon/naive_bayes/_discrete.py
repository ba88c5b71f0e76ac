"""Naive Bayes for counts (multinomial) and for binary features (Bernoulli)."""

from __future__ import annotations

import warnings
from typing import Any, ClassVar

import numpy as np

from mlcanon._estimator import check_priors, store_params
from mlcanon._validation import BOOL, ArrayLike, Interval, validate_params

from ._base import BaseNB

__all__ = ["BernoulliNB", "MultinomialNB"]

_ALPHA_FLOOR = 1e-10  # smallest smoothing used when force_alpha=False


def _log_dot(X: np.ndarray, log_theta: np.ndarray) -> np.ndarray:
    """``X @ log_theta.T`` with the convention ``0 * log 0 = 0``.

    Without smoothing a parameter can be exactly 0 (log = -inf); a sample that does not use
    that feature must not get ``0 * -inf = nan``, and one that does gets ``-inf``.
    """
    impossible = np.isneginf(log_theta)  # a nan (a Bernoulli p > 1) stays nan, as scikit-learn's
    if not impossible.any():
        return X @ log_theta.T
    out = X @ np.where(impossible, 0.0, log_theta).T
    out[(X > 0).astype(float) @ impossible.T.astype(float) > 0] = -np.inf
    return out


class _DiscreteNB(BaseNB):
    """Counting, smoothing and class priors shared by the multinomial and Bernoulli models."""

    # An array ``alpha``'s length and signs are checked in _check_alpha, with scikit-learn's
    # messages, once the number of features is known.
    _parameter_constraints: ClassVar[dict[str, Any]] = {
        "alpha": (Interval(low=0), ArrayLike()),
        "force_alpha": BOOL,
        "fit_prior": BOOL,
        "class_prior": (None, ArrayLike()),
    }

    def _check_alpha(self) -> float | np.ndarray:
        """``alpha`` validated: a number >= 0 or one value >= 0 per feature; raised to 1e-10
        (with a warning) where smaller, unless ``force_alpha``."""
        validate_params(self)
        if np.ndim(self.alpha) == 0:
            alpha = float(self.alpha)
        else:
            alpha = np.asarray(self.alpha, dtype=np.float64)
            if alpha.shape != (self.n_features_in_,):
                raise ValueError(
                    "When alpha is an array, it should contains `n_features`. Got "
                    f"{alpha.size} elements instead of {self.n_features_in_}."
                )
            if (alpha < 0).any():
                raise ValueError(f"All values in alpha must be greater than 0. Got {alpha}")
        if np.min(alpha) < _ALPHA_FLOOR and not self.force_alpha:
            warnings.warn(
                f"alpha too small will result in numeric errors, setting alpha = "
                f"{_ALPHA_FLOOR:.1e} (alpha={self.alpha!r} would make unseen features "
                "impossible, log 0). Use `force_alpha=True` to keep alpha unchanged.",
                UserWarning,
                stacklevel=4,
            )
            return np.maximum(alpha, _ALPHA_FLOOR)
        return alpha

    _accept_sparse = "csr"  # counts are sums over rows: a sparse X stays sparse

    def _reset(self, n_features: int, dtype: type) -> None:
        # counts stay float64 whatever the data's dtype, as scikit-learn keeps them
        self.feature_count_ = np.zeros((len(self.classes_), n_features))
        self.class_count_ = np.zeros(len(self.classes_))

    def _accumulate(self, X: Any, Yw: np.ndarray, sw: Any, y_index: np.ndarray) -> None:
        X = self._transform_input(X)
        self.feature_count_ += np.asarray(X.T @ Yw).T  # (n_classes, n_features)
        self.class_count_ += Yw.sum(axis=0)

    def _finish(self) -> None:
        n_classes = len(self.classes_)
        # as scikit-learn: priors that do not sum to 1 are taken as given (class_log_prior_ is
        # their log; the posteriors are normalized anyway)
        prior = check_priors(self.class_prior, n_classes, "class_prior", sum_to_one=False)
        with np.errstate(divide="ignore"):  # an empty class has log prior -inf
            if prior is not None:
                self.class_log_prior_ = np.log(prior)
            elif self.fit_prior:
                self.class_log_prior_ = np.log(self.class_count_) - np.log(self.class_count_.sum())
            else:
                self.class_log_prior_ = np.full(n_classes, -np.log(n_classes))
        self._set_feature_log_prob(self._check_alpha())

    def _check_X_predict(self, X: Any) -> np.ndarray:
        return self._transform_input(super()._check_X_predict(X))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # counts and indicators are not separable by a linear rule on the checks' random data
        tags.classifier_tags.poor_score = True
        return tags


class MultinomialNB(_DiscreteNB):
    r"""Naive Bayes for count features (e.g. word counts).

    Parameters
    ----------
    alpha : float >= 0 or array of shape (n_features,), default 1.0
        Additive (Laplace/Lidstone) smoothing, one pseudo-count for all features or one each.
    force_alpha : bool, default True
        Keep ``alpha`` even below 1e-10 (else it is raised to 1e-10).
    fit_prior : bool, default True
        Learn class priors from the data; otherwise use uniform priors.
    class_prior : array of shape (n_classes,), optional
        Fixed class priors (overrides ``fit_prior``); as in scikit-learn they need not sum to 1
        (``class_log_prior_`` is their log; the posteriors are normalized).

    Attributes
    ----------
    classes_, class_count_ : arrays of shape (n_classes,)
    class_log_prior_ : array of shape (n_classes,)
    feature_count_ : array of shape (n_classes, n_features)
        (Weighted) sum of each feature over the samples of each class.
    feature_log_prob_ : array of shape (n_classes, n_features)
        ``log θ_cj``, the smoothed multinomial parameters.
    n_features_in_ : int

    Notes
    -----
    .. math::

        \hat\theta_{cj} = \frac{N_{cj} + \alpha}{\sum_{j'} N_{cj'} + \alpha p}, \qquad
        \log P(x, c) = \log \pi_c + \sum_j x_j \log \hat\theta_{cj} + \text{const}(x)

    References
    ----------
    McCallum & Nigam (1998), "A comparison of event models for naive Bayes text
    classification", AAAI workshop. Manning, Raghavan & Schütze (2008), *Introduction to
    Information Retrieval*, Section 13.2.
    """

    def __init__(
        self,
        *,
        alpha: float = 1.0,
        force_alpha: bool = True,
        fit_prior: bool = True,
        class_prior: Any = None,
    ) -> None:
        store_params(self, locals())

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.positive_only = True
        return tags

    def _transform_input(self, X: Any) -> Any:
        if ((X.data if hasattr(X, "tocsr") else X) < 0).any():
            raise ValueError(
                "Negative values in data passed to MultinomialNB (input X): "
                "the multinomial model needs non-negative counts"
            )
        return X

    def _set_feature_log_prob(self, alpha: Any) -> None:
        smoothed = self.feature_count_ + alpha
        with np.errstate(divide="ignore"):  # alpha = 0 and an unseen feature: log 0 = -inf
            self.feature_log_prob_ = np.log(smoothed) - np.log(smoothed.sum(axis=1, keepdims=True))

    def _joint_log_likelihood(self, X: np.ndarray) -> np.ndarray:
        return _log_dot(X, self.feature_log_prob_) + self.class_log_prior_


class BernoulliNB(_DiscreteNB):
    r"""Naive Bayes for binary features (presence / absence).

    Parameters
    ----------
    alpha, force_alpha, fit_prior, class_prior
        As in :class:`MultinomialNB`.
    binarize : float or None, default 0.0
        Threshold: features ``> binarize`` become 1, others 0; None means ``X`` is binary
        already.

    Attributes
    ----------
    classes_, class_count_, class_log_prior_, feature_count_, n_features_in_
        As in :class:`MultinomialNB`.
    feature_log_prob_ : array of shape (n_classes, n_features)
        ``log p_cj``, the smoothed probability that feature j is on in class c.

    Notes
    -----
    .. math::

        \hat p_{cj} = \frac{N_{cj} + \alpha}{N_c + 2\alpha}, \qquad
        \log P(x, c) = \log \pi_c + \sum_j \left[ x_j \log \hat p_{cj}
        + (1 - x_j) \log (1 - \hat p_{cj}) \right]

    Unlike the multinomial model, an absent feature is evidence too (the second term).

    References
    ----------
    McCallum & Nigam (1998), "A comparison of event models for naive Bayes text
    classification", AAAI workshop. Manning, Raghavan & Schütze (2008), *Introduction to
    Information Retrieval*, Section 13.3.
    """

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        **_DiscreteNB._parameter_constraints,
        "binarize": (None, Interval()),
    }

    def __init__(
        self,
        *,
        alpha: float = 1.0,
        force_alpha: bool = True,
        binarize: float | None = 0.0,
        fit_prior: bool = True,
        class_prior: Any = None,
    ) -> None:
        store_params(self, locals())

    def _transform_input(self, X: Any) -> Any:
        if self.binarize is None:
            return X
        if hasattr(X, "tocsr") and self.binarize < 0:  # every implicit zero would become 1
            X = X.toarray()
        return (X > self.binarize).astype(np.float64)

    def _set_feature_log_prob(self, alpha: Any) -> None:
        with np.errstate(divide="ignore"):
            self.feature_log_prob_ = np.log(self.feature_count_ + alpha) - np.log(
                self.class_count_[:, None] + 2.0 * alpha
            )

    def _joint_log_likelihood(self, X: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore"):
            log_off = np.log1p(-np.exp(self.feature_log_prob_))  # log(1 - p_cj)
        if np.isfinite(log_off).all() and np.isfinite(self.feature_log_prob_).all():
            # sum_j (1 - x_j) log(1 - p) = sum_j log(1 - p) - x . log(1 - p): one product
            return (
                X @ (self.feature_log_prob_ - log_off).T
                + self.class_log_prior_
                + log_off.sum(axis=1)
            )
        X = X.toarray() if hasattr(X, "tocsr") else X  # 1 - X is dense anyway
        return (
            _log_dot(X, self.feature_log_prob_) + _log_dot(1.0 - X, log_off) + self.class_log_prior_
        )
