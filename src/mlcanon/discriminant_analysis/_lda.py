"""Linear discriminant analysis: Gaussian classes with one shared covariance."""

from __future__ import annotations

import numbers
import warnings
from typing import Any, ClassVar

import numpy as np
import scipy.linalg
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from mlcanon._estimator import (
    check_priors,
    check_X,
    check_X_y,
    encode_labels,
    float_dtype,
    input_feature_names,
    store_params,
)
from mlcanon._special import log_softmax
from mlcanon._validation import BOOL, ArrayLike, HasMethods, Interval, Options, validate_params

__all__ = ["LinearDiscriminantAnalysis"]


def _shrunk(S: np.ndarray, shrinkage: float) -> np.ndarray:
    """``(1 - s) S + s mu I`` with ``mu = tr(S) / p``: pull the spectrum towards its mean."""
    out = (1.0 - shrinkage) * S
    out.flat[:: S.shape[0] + 1] += shrinkage * np.trace(S) / S.shape[0]
    return out


def _ledoit_wolf_shrinkage(Z: np.ndarray) -> float:
    """Ledoit & Wolf's (2004) estimate of the optimal shrinkage for centered ``Z``.

    ``delta`` is the squared distance of the sample covariance to ``mu I``; ``beta`` estimates
    how much of it is sampling noise; their ratio (capped at 1) is the shrinkage.
    """
    n, p = Z.shape
    if p == 1:
        return 0.0
    Z2 = Z**2
    diag = Z2.sum(axis=0) / n
    mu = diag.sum() / p
    delta_ = np.sum((Z.T @ Z) ** 2) / n**2
    beta = (np.sum(Z2.T @ Z2) / n - delta_) / (p * n)
    delta = (delta_ - 2.0 * mu * diag.sum() + p * mu**2) / p
    beta = min(beta, delta)
    return 0.0 if beta == 0 else beta / delta


def _covariance(X: np.ndarray, shrinkage: float | str | None, estimator: Any = None) -> np.ndarray:
    """Maximum-likelihood covariance (``ddof=0``), optionally shrunk towards ``mu I``, or the
    ``covariance_`` of ``estimator`` fitted on ``X``.

    ``'auto'`` standardizes the features, shrinks with the Ledoit-Wolf estimate and maps back,
    so that the identity target is meaningful whatever the feature units.
    """
    if estimator is not None:
        estimator.fit(X)  # fitted in place, as scikit-learn does (it need not be clonable)
        if not hasattr(estimator, "covariance_"):
            raise ValueError(
                f"covariance_estimator {type(estimator).__name__} does not have a covariance_ "
                "attribute after fit"
            )
        return np.asarray(estimator.covariance_, dtype=np.float64)
    Xc = X - X.mean(axis=0)
    if shrinkage is None:
        return Xc.T @ Xc / X.shape[0]
    if shrinkage != "auto":
        return _shrunk(Xc.T @ Xc / X.shape[0], float(shrinkage))
    scale = Xc.std(axis=0)
    scale[scale == 0] = 1.0
    Z = Xc / scale
    Z = Z - Z.mean(axis=0)
    S = _shrunk(Z.T @ Z / X.shape[0], _ledoit_wolf_shrinkage(Z))
    return scale[:, None] * S * scale[None, :]


def _normalized(priors: Any) -> Any:
    """User priors rescaled to sum to 1, with scikit-learn's warning when they did not."""
    if priors is None:
        return None
    p = np.asarray(priors, dtype=np.float64)
    if (p < 0).any():  # scikit-learn's LDA wording (GaussianNB's is capitalized)
        raise ValueError(f"priors must be non-negative, got {p.tolist()}")
    # scikit-learn's rule, |sum - 1| > 1e-5 (np.isclose let sums up to 1 + 1.001e-5 through)
    if p.ndim == 1 and p.sum() > 0 and abs(p.sum() - 1.0) > 1e-5:
        warnings.warn(
            f"The priors do not sum to 1 (sum {p.sum()!r}). Renormalizing",
            UserWarning,
            stacklevel=4,
        )
        return p / p.sum()
    return p


class LinearDiscriminantAnalysis(ClassifierMixin, TransformerMixin, BaseEstimator):
    r"""Classify with Gaussian class densities sharing one covariance; project onto the
    discriminant directions.

    Parameters
    ----------
    solver : {'svd', 'lsqr', 'eigen'}, default 'svd'
        'svd' never forms the covariance (stable with many features); 'lsqr' solves
        ``Σ w_k = μ_k`` (classification only); 'eigen' solves the generalized eigenproblem
        ``S_b v = λ S_w v`` (classification and transform).
    shrinkage : 'auto', float in [0, 1] or None, default None
        Covariance shrinkage for 'lsqr' and 'eigen' ('auto': Ledoit-Wolf).
    priors : array of shape (n_classes,), optional
        Class priors; class frequencies when None.
    n_components : int, optional
        Dimensions kept by ``transform`` (at most ``min(n_classes - 1, n_features)``).
    covariance_estimator : estimator with ``fit(X)`` and ``covariance_``, optional
        Estimates each class covariance instead of the empirical one ('lsqr', 'eigen'; not
        together with ``shrinkage``).
    store_covariance : bool, default False
        With 'svd', also compute ``covariance_`` (the other solvers always form it).
    tol : float, default 1e-4
        Singular values below it count as zero ('svd').

    Attributes
    ----------
    classes_ : array of shape (n_classes,)
    priors_ : array of shape (n_classes,)
    means_ : array of shape (n_classes, n_features)
    coef_ : array of shape (n_classes, n_features), or (1, n_features) for two classes
    intercept_ : array of shape (n_classes,), or (1,) for two classes
    scalings_ : array of shape (n_features, rank)
        Discriminant directions.
    explained_variance_ratio_ : array of shape (n_components,)
        Share of the between-class variance along each direction.
    xbar_ : array of shape (n_features,)
        Prior-weighted overall mean ('svd').
    covariance_ : array of shape (n_features, n_features)
        Pooled within-class covariance ``Σ_k π_k Σ_k`` ('lsqr', 'eigen', or 'svd' with
        ``store_covariance=True``).
    n_features_in_ : int

    Notes
    -----
    With class means ``μ_k``, pooled covariance ``Σ`` and priors ``π_k`` the log posterior is,
    up to a term common to all classes, linear in ``x``:

    .. math::

        \delta_k(x) = x^T \Sigma^{-1} \mu_k - \tfrac12 \mu_k^T \Sigma^{-1} \mu_k
        + \log \pi_k ,

    and the discriminant directions maximize Fisher's ratio ``v^T S_b v / v^T S_w v`` of
    between- to within-class scatter.

    References
    ----------
    Fisher (1936), "The use of multiple measurements in taxonomic problems", Annals of
    Eugenics 7(2). Hastie, Tibshirani & Friedman (2009), *The Elements of Statistical
    Learning*, 2nd ed., Section 4.3 (4.3.3 for the reduced-rank projection). Ledoit & Wolf
    (2004), "A well-conditioned estimator for large-dimensional covariance matrices", J.
    Multivariate Anal. 88(2) (``shrinkage='auto'``).
    """

    def __init__(
        self,
        solver: str = "svd",
        shrinkage: float | str | None = None,
        priors: Any = None,
        n_components: int | None = None,
        store_covariance: bool = False,
        tol: float = 1e-4,
        covariance_estimator: Any = None,
    ) -> None:
        store_params(self, locals())

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        "solver": Options("svd", "lsqr", "eigen"),
        "shrinkage": (None, Options("auto"), Interval(low=0, high=1)),
        "n_components": (None, Interval(numbers.Integral, low=1)),
        "priors": (None, ArrayLike()),  # one per class, summing to 1: checked in fit
        "store_covariance": BOOL,
        "tol": Interval(low=0),
        "covariance_estimator": (None, HasMethods("fit")),
    }

    def _check_params(self, n_classes: int, n_features: int) -> None:
        validate_params(self)
        if self.shrinkage is not None and self.solver == "svd":
            raise NotImplementedError(
                "shrinkage not supported with 'svd' solver; use 'lsqr' or 'eigen' (got "
                f"shrinkage={self.shrinkage!r})"
            )
        if self.covariance_estimator is not None:
            if self.shrinkage is not None and self.shrinkage != 0:
                raise ValueError(
                    "covariance_estimator and shrinkage parameters are not None. Only one of "
                    f"the two can be set (got shrinkage={self.shrinkage!r})."
                )
            if self.solver == "svd":
                raise ValueError(
                    "covariance estimator is not supported with svd solver; use 'lsqr' or 'eigen'"
                )
        most = min(n_classes - 1, n_features)
        if self.n_components is None:
            self._max_components = most
        else:
            if self.n_components > most:
                raise ValueError(
                    "n_components cannot be larger than min(n_features, n_classes - 1) = "
                    f"{most}; got n_components={self.n_components}"
                )
            self._max_components = int(self.n_components)

    def fit(self, X: Any, y: Any) -> LinearDiscriminantAnalysis:
        """Fit on ``X`` (n_samples, n_features) and labels ``y`` (n_samples,)."""
        dtype = float_dtype(X)
        X, y = check_X_y(self, X, y, classifier=True, min_samples=2)
        self.classes_, y_index = encode_labels(y, min_classes=2, object_to_str=True)
        n_samples, n_features = X.shape
        n_classes = len(self.classes_)
        if n_samples == n_classes:
            raise ValueError(
                "The number of samples must be more than the number of classes: got "
                f"n_samples={n_samples}, n_classes={n_classes}"
            )
        self._check_params(n_classes, n_features)
        counts = np.bincount(y_index, minlength=n_classes)
        priors = check_priors(_normalized(self.priors), n_classes, "priors")
        self.priors_ = counts / n_samples if priors is None else priors
        self.means_ = np.array([X[y_index == k].mean(axis=0) for k in range(n_classes)])
        if self.solver == "svd":
            self._solve_svd(X, y_index)
            if self.store_covariance:
                self.covariance_ = self._pooled_covariance(X, y_index)
        else:
            self._solve_covariance(X, y_index)
        self._centred_coef = None
        if self.solver != "svd" and n_classes > 2:
            self._centred_scores()
        if n_classes == 2:  # one score suffices: the log-odds of class 1 against class 0
            self._binary_log_odds()
        # computed in float64; float32 input gets scikit-learn's float32 attributes (the
        # eigen solver's scalings_ and every covariance_ stay float64, as there). The lsqr and
        # eigen solvers keep a float64 coef_ and intercept_ for more than two classes, as
        # scikit-learn's: rounded to float32, an intercept of -8e6 (features near 1e3) moved
        # the scores by 0.5 and changed half the predictions
        float32_attributes = ["priors_", "means_"]
        if self.solver == "svd" or n_classes == 2:
            float32_attributes += ["coef_", "intercept_"]
        if self.solver == "svd":
            float32_attributes += ["xbar_", "explained_variance_ratio_", "scalings_"]
        for name in float32_attributes:
            setattr(self, name, getattr(self, name).astype(dtype))
        return self

    def _solve_svd(self, X: np.ndarray, y_index: np.ndarray) -> None:
        """Whiten the within-class scatter by SVD, then find the between-class directions by
        a second SVD; ``coef_`` is ``Σ^{-1} μ_k`` written through the whitening map."""
        n_samples = X.shape[0]
        n_classes = len(self.classes_)
        within = X - self.means_[y_index]
        std = within.std(axis=0)
        std[std == 0] = 1.0
        _, S, Vt = scipy.linalg.svd(within / std / np.sqrt(n_samples), full_matrices=False)
        rank = int(np.sum(S > self.tol))
        if rank == 0:  # nothing to whiten: the classes would be told apart by zero variances
            raise ValueError(
                "The within-class scatter is zero: every feature is constant within each class "
                f"(all singular values of the standardized within-class data <= tol={self.tol}); "
                "solver='svd' needs within-class variance"
            )
        if rank < X.shape[1]:
            warnings.warn("variables are collinear", UserWarning, stacklevel=3)
        whiten = (Vt[:rank] / std).T / S[:rank]  # x -> coordinates with identity within-cov
        self.xbar_ = self.priors_ @ self.means_
        fac = 1.0 / (n_classes - 1)
        between = (np.sqrt(n_samples * self.priors_ * fac) * (self.means_ - self.xbar_).T).T
        _, S2, Vt2 = scipy.linalg.svd(between @ whiten, full_matrices=False)
        self.explained_variance_ratio_ = (S2**2 / np.sum(S2**2))[: self._max_components]
        rank2 = int(np.sum(S2 > self.tol * S2[0]))
        self.scalings_ = whiten @ Vt2.T[:, :rank2]
        proj = (self.means_ - self.xbar_) @ self.scalings_
        self.intercept_ = -0.5 * np.sum(proj**2, axis=1) + np.log(self.priors_)
        self.coef_ = proj @ self.scalings_.T
        self.intercept_ -= self.xbar_ @ self.coef_.T

    def _pooled_covariance(self, X: np.ndarray, y_index: np.ndarray) -> np.ndarray:
        """``Σ_w = Σ_k π_k Σ_k``, each class covariance shrunk as ``shrinkage`` says."""
        return sum(
            self.priors_[k]
            * _covariance(X[y_index == k], self.shrinkage, self.covariance_estimator)
            for k in range(len(self.classes_))
        )

    def _solve_covariance(self, X: np.ndarray, y_index: np.ndarray) -> None:
        """'lsqr' and 'eigen': form the pooled covariance ``Σ_w = Σ_k π_k Σ_k`` explicitly."""
        self.covariance_ = self._pooled_covariance(X, y_index)
        if self.solver == "lsqr":
            self.coef_ = scipy.linalg.lstsq(self.covariance_, self.means_.T)[0].T
        else:
            total = _covariance(X, self.shrinkage, self.covariance_estimator)
            between = total - self.covariance_
            try:
                evals, evecs = scipy.linalg.eigh(between, self.covariance_)
            except np.linalg.LinAlgError as exc:
                raise ValueError(
                    "the within-class covariance is singular (constant or collinear features); "
                    "use shrinkage or solver='svd'"
                ) from exc
            order = np.argsort(evals)[::-1]
            # the ratios sorted themselves, as scikit-learn's (the eigenvalues of an indefinite
            # shrunk S_b can sum to a negative number, which reverses their order)
            ratio = np.sort(evals / evals.sum())[::-1]
            self.explained_variance_ratio_ = ratio[: self._max_components]
            self.scalings_ = evecs[:, order]
            self.coef_ = (self.means_ @ self.scalings_) @ self.scalings_.T
        self.intercept_ = -0.5 * np.einsum("kj,kj->k", self.means_, self.coef_) + np.log(
            self.priors_
        )

    def _centred_scores(self) -> None:
        r"""'lsqr' and 'eigen', more than two classes: scores for the posteriors centred at the
        prior-weighted mean :math:`c`, :math:`w'_k = \Sigma^{-1} (\mu_k - c)` and
        :math:`b'_k = -\tfrac12 (\mu_k - c)^T w'_k + \log \pi_k`, scored on :math:`x - c`.

        They differ from ``coef_`` and ``intercept_`` (scikit-learn's uncentred scores, which
        ``decision_function`` returns) by a term common to all classes, so the posteriors are
        the same in exact arithmetic; but the uncentred ones are ~1e14 for features near 1e7,
        where neighbouring floats are 0.016 apart: their softmax was off by 3e-2 and changed
        7 of 300 predictions (as scikit-learn's does). The 'svd' scores are centred already.
        """
        centre = self.priors_ @ self.means_
        dev = self.means_ - centre
        coef = self._solve_covariance_rows(dev)
        with np.errstate(divide="ignore"):  # a zero prior: log 0 = -inf, as in intercept_
            log_prior = np.log(self.priors_)
        self._centre = centre
        self._centred_coef = coef
        self._centred_intercept = -0.5 * np.einsum("kj,kj->k", dev, coef) + log_prior

    def _solve_covariance_rows(self, rows: np.ndarray) -> np.ndarray:
        r""":math:`\Sigma^{-1} r` for each row :math:`r` of ``rows`` (or for a 1-D ``rows``):
        by least squares for 'lsqr', and for 'eigen' through the scalings :math:`V`, which
        satisfy :math:`V^T \Sigma V = I`, so :math:`\Sigma^{-1} = V V^T`."""
        if self.solver == "lsqr":
            return scipy.linalg.lstsq(self.covariance_, rows.T)[0].T
        return (rows @ self.scalings_) @ self.scalings_.T

    def _posterior_scores(self, X: Any) -> np.ndarray:
        """Scores whose softmax is the posterior: the centred ones where they exist, else
        :meth:`decision_function`."""
        if getattr(self, "_centred_coef", None) is None:
            return self.decision_function(X)
        X = check_X(self, X, reset=False, dtype=float_dtype(X))
        return (X - self._centre) @ self._centred_coef.T + self._centred_intercept

    def _binary_log_odds(self) -> None:
        r"""Two classes: ``coef_ = w_1 - w_0`` and ``intercept_ = b_1 - b_0``.

        The 'lsqr' and 'eigen' scores are not centred: :math:`w_k = \Sigma^{-1} \mu_k` and
        :math:`b_k = -\tfrac12 \mu_k^T w_k + \log \pi_k` are huge for features far from the
        origin (|b_k| ~ 1e14 at 1e7), and ``b_1 - b_0`` kept their rounding (1e-2: wrong
        probabilities). They are formed from the difference instead,
        :math:`\Sigma^{-1} (\mu_1 - \mu_0)` and
        :math:`-\tfrac12 (\mu_1 + \mu_0)^T \Sigma^{-1} (\mu_1 - \mu_0) + \log(\pi_1 / \pi_0)`,
        the same numbers in exact arithmetic. The 'svd' scores are centred at ``xbar_`` already.
        """
        if self.solver == "svd":
            coef, intercept = self.coef_[1] - self.coef_[0], self.intercept_[1] - self.intercept_[0]
        else:
            diff = self.means_[1] - self.means_[0]
            coef = self._solve_covariance_rows(diff)
            with np.errstate(divide="ignore"):  # a zero prior: log 0 = -inf, as before
                log_odds = np.log(self.priors_[1]) - np.log(self.priors_[0])
            intercept = -0.5 * (self.means_[1] + self.means_[0]) @ coef + log_odds
        self.coef_ = coef[None, :]
        self.intercept_ = np.array([intercept])

    def decision_function(self, X: Any) -> np.ndarray:
        """``δ_k(x)``, shape (n_samples, n_classes), or the log-odds (n_samples,) for 2 classes."""
        # float32 X and a float32 model give float32 scores; a float64 coef_ gives float64
        X = check_X(self, X, reset=False, dtype=float_dtype(X))
        scores = X @ self.coef_.T + self.intercept_
        return scores.ravel() if scores.shape[1] == 1 else scores

    def predict(self, X: Any) -> np.ndarray:
        """The class of largest posterior."""
        scores = self._posterior_scores(X)
        index = (scores > 0).astype(int) if scores.ndim == 1 else np.argmax(scores, axis=1)
        return self.classes_[index]

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """``log P(c | x)``, shape (n_samples, n_classes)."""
        scores = self._posterior_scores(X)
        if scores.ndim == 1:
            scores = np.column_stack([np.zeros_like(scores), scores])
        return log_softmax(scores)

    def predict_proba(self, X: Any) -> np.ndarray:
        """``P(c | x)``, shape (n_samples, n_classes)."""
        return np.exp(self.predict_log_proba(X))

    def transform(self, X: Any) -> np.ndarray:
        """Project onto the discriminant directions, shape (n_samples, n_components)."""
        if self.solver == "lsqr":
            raise NotImplementedError(
                "transform not implemented for 'lsqr' solver; use 'svd' or 'eigen'"
            )
        check_is_fitted(self)
        X = check_X(self, X, reset=False, dtype=float_dtype(X))
        Z = (X - self.xbar_) @ self.scalings_ if self.solver == "svd" else X @ self.scalings_
        return Z[:, : self._max_components]

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Names ``lineardiscriminantanalysis0``, ... of the projected columns (a given
        ``input_features`` is only checked)."""
        input_feature_names(self, input_features)
        names = [f"lineardiscriminantanalysis{i}" for i in range(self._max_components)]
        return np.asarray(names, dtype=object)
