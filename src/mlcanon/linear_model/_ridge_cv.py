r"""Ridge regression with the penalty chosen by cross-validation, leave-one-out in closed form.

Ridge is a linear smoother: its fitted values are :math:`\hat y = H y` with the hat matrix
:math:`H_\alpha = X (X^T X + \alpha I)^{-1} X^T`. Refitting without sample :math:`i` and
predicting it leaves the residual

.. math:: y_i - \hat y_{-i} = \frac{y_i - \hat y_i}{1 - H_{ii}}

(the Sherman-Morrison update of the normal equations), so every leave-one-out error comes from
the one fit on all the data. One factorization of ``X`` serves every alpha of the grid:
with :math:`X = U S V^T` (thin SVD, or the eigendecomposition of :math:`X^T X` or
:math:`X X^T`), :math:`H_\alpha = U \operatorname{diag}(s^2 / (s^2 + \alpha)) U^T`, and each
alpha costs only products with the small factors.

The intercept is fit on centered data: with weights :math:`w`, the rows of ``X`` and ``y``
are centered at their weighted means and multiplied by :math:`\sqrt{w_i}`. The intercept
column :math:`\sqrt w` is then orthogonal to the columns of that ``X``, so the hat matrix of
the whole model (intercept unpenalized) is :math:`H_\alpha + \sqrt w \sqrt w^T / \sum_j w_j`,
whose diagonal adds :math:`w_i / \sum_j w_j`. The leave-one-out errors are those of the scaled
problem, :math:`\sqrt{w_i} (y_i - \hat y_{-i})`.

References
----------
Golub, Heath & Wahba (1979), "Generalized cross-validation as a method for choosing a good
ridge parameter", Technometrics 21(2). Rifkin & Lippert (2007), "Notes on regularized least
squares", MIT-CSAIL-TR-2007-025, Section 4 (leave-one-out from one eigendecomposition).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.metrics import check_scoring, get_scorer, get_scorer_names
from sklearn.model_selection import GridSearchCV
from sklearn.utils.metadata_routing import MethodMapping

from mlcanon._estimator import (
    check_feature_names,
    check_X_y,
    float_dtype,
    route,
    routing_enabled,
    sample_weight_or_none,
    store_params,
    weight_params,
)
from mlcanon._validation import (
    BOOL,
    CV,
    ArrayLike,
    Interval,
    IsCallable,
    Options,
    check_scalars,
    validate_params,
)

from ._base import cv_router, preprocess_data
from ._least_squares import Ridge, _LeastSquaresBase

__all__ = ["RidgeCV"]


class _Predictions(RegressorMixin, BaseEstimator):
    """Hands a scorer the leave-one-out predictions: ``predict`` returns its input."""

    def predict(self, predictions: np.ndarray) -> np.ndarray:
        return predictions


def _spectrum(X: np.ndarray, mode: str) -> tuple[np.ndarray, np.ndarray, Callable]:
    r"""``(B, lam, to_coef)`` with :math:`H_\alpha = B \operatorname{diag}(1/(\lambda + \alpha))
    B^T` when ``X`` is tall, :math:`I - H_\alpha = B \operatorname{diag}(\alpha/(\lambda +
    \alpha)) B^T` when it is wide (``B`` square orthogonal), and in both
    :math:`w_\alpha` = ``to_coef(diag(1 / (lam + alpha)) B^T y)``.

    'svd': :math:`X = U S V^T`, :math:`\lambda = s^2`; tall: ``B = U S``, ``w = V z``; wide:
    ``B = U``, ``w = V S z``. 'eigen', tall: :math:`X^T X = V \Lambda V^T`, ``B = X V``,
    ``w = V z``; wide: :math:`X X^T = Q \Lambda Q^T`, ``B = Q``, ``w = X^T Q z``.
    """
    tall = X.shape[0] > X.shape[1]
    if mode == "svd":
        U, s, Vt = np.linalg.svd(X, full_matrices=False)
        if tall:
            return U * s, s**2, lambda z: Vt.T @ z
        return U, s**2, lambda z: Vt.T @ (s[:, None] * z)
    if tall:
        lam, V = np.linalg.eigh(X.T @ X)
        return X @ V, lam, lambda z: V @ z
    lam, Q = np.linalg.eigh(X @ X.T)
    return Q, lam, lambda z: X.T @ (Q @ z)


class _LeaveOneOut:
    r"""Leave-one-out residuals of ridge for any alpha, from one factorization of ``X``.

    ``X`` and ``Y`` are centered and scaled by :math:`\sqrt w` (``root``). With an intercept
    the hat matrix gains :math:`q q^T`, :math:`q = \sqrt w / \lVert \sqrt w \rVert`, which is
    orthogonal to the columns of ``X``: :math:`I - H_{full} = P (I - H) P` with
    :math:`P = I - q q^T`. For wide ``X`` the basis is projected by ``P`` once, so the
    diagonal of :math:`I - H_{full}` is a sum of non-negative terms (no cancellation as alpha
    goes to 0); for tall ``X`` the intercept's leverage :math:`q_i^2` is subtracted.
    """

    def __init__(self, X: np.ndarray, Y: np.ndarray, root: np.ndarray, mode: str, intercept: bool):
        B, self.lam, self.to_coef = _spectrum(X, mode)
        self.wide = B.shape[0] == B.shape[1]
        q = root / np.linalg.norm(root) if intercept else np.zeros_like(root)
        if self.wide and intercept:
            B = B - np.outer(q, q @ B)  # P B
        self.B, self.Y, self.BtY, self.B2 = B, Y, B.T @ Y, B**2
        self.intercept_leverage = q**2

    def residuals(self, alpha: float) -> np.ndarray:
        """:math:`(y - H y)_i / (1 - H_{ii})`, shape (n_samples, n_targets)."""
        filt = 1.0 / (self.lam + alpha)
        if self.wide:  # I - H = B diag(alpha / (lam + alpha)) B^T
            shrink = alpha * filt
            residual, complement = self.B @ (shrink[:, None] * self.BtY), self.B2 @ shrink
        else:  # H = B diag(1 / (lam + alpha)) B^T
            residual = self.Y - self.B @ (filt[:, None] * self.BtY)
            complement = 1.0 - self.intercept_leverage - self.B2 @ filt
        return residual / complement[:, None]

    def coef(self, alphas: np.ndarray) -> np.ndarray:
        """Coefficients of the fit on all samples, one alpha per target: (n_features, n_targets)."""
        return self.to_coef(self.BtY / (self.lam[:, None] + alphas))


class RidgeCV(_LeastSquaresBase):
    r"""Ridge regression with ``alpha`` chosen from a grid by cross-validation.

    Parameters
    ----------
    alphas : array-like of shape (n_alphas,) or float, default (0.1, 1.0, 10.0)
        Penalties to try; each > 0 for leave-one-out (``cv=None``), >= 0 otherwise.
    fit_intercept : bool, default True
    scoring : None, str or callable, default None
        None: the mean squared leave-one-out error (``cv=None``; weighted by ``sample_weight``)
        or R² (other ``cv``). A scorer name or ``scorer(estimator, X, y)``: with ``cv=None`` it
        scores the leave-one-out predictions (given ``sample_weight`` as well).
    cv : None, int >= 2, splitter or iterable of (train, test) pairs, default None
        None: efficient leave-one-out. Otherwise a grid search
        (:class:`sklearn.model_selection.GridSearchCV`) over :class:`Ridge`.
    gcv_mode : {None, 'auto', 'svd', 'eigen'}, default None
        Factorization behind leave-one-out: 'svd', the thin SVD of ``X``; 'eigen' (and None,
        'auto'), the eigendecomposition of :math:`X^T X` when ``n_samples > n_features``,
        else of :math:`X X^T`. A sparse ``X`` is densified; 'svd' then falls back to 'eigen'
        with a ``FutureWarning``, as scikit-learn 1.9.
    store_cv_results : bool, default False
        Keep ``cv_results_`` (``cv=None`` only).
    alpha_per_target : bool, default False
        Choose one alpha per target column of ``y`` (``cv=None`` only).

    Attributes
    ----------
    alpha_ : float or array of shape (n_targets,)
    best_score_ : float or array of shape (n_targets,)
        Score of the chosen alpha (negative mean squared error when ``scoring=None``).
    coef_ : array of shape (n_features,) or (n_targets, n_features)
    intercept_ : float or array of shape (n_targets,)
    cv_results_ : array of shape (n_samples, n_alphas) or (n_samples, n_targets, n_alphas)
        Per sample and alpha: the weighted squared leave-one-out error
        :math:`w_i (y_i - \hat y_{-i})^2` (``scoring=None``), else the prediction
        :math:`\hat y_{-i}`. The middle axis is present whenever ``y`` is 2-D.
    n_features_in_ : int

    Notes
    -----
    .. math:: e_i(\alpha) = \frac{y_i - \hat y_i(\alpha)}{1 - H_{ii}(\alpha)},
        \qquad \hat\alpha = \arg\min_\alpha \frac1n \sum_i w_i e_i(\alpha)^2

    for the default ``scoring``, with the hat matrix
    :math:`H = X (X^T X + \alpha I)^{-1} X^T` of the centered, weighted data (see the module
    docstring for the intercept's share). Ties keep the first alpha of the grid.

    References
    ----------
    Golub, Heath & Wahba (1979), Technometrics 21(2). Rifkin & Lippert (2007),
    MIT-CSAIL-TR-2007-025.
    """

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        "alphas": (Interval(), ArrayLike()),  # each alpha checked in fit
        "fit_intercept": BOOL,
        "scoring": (None, Options(*get_scorer_names()), IsCallable()),
        "cv": CV,
        "gcv_mode": (None, Options("auto", "svd", "eigen")),
        "store_cv_results": BOOL,
        "alpha_per_target": BOOL,
    }
    # what a grid search (cv != None) fits, and its score when scoring=None
    _grid_model: ClassVar[type] = Ridge
    _default_scoring: ClassVar[str] = "r2"

    def __init__(
        self,
        alphas: Any = (0.1, 1.0, 10.0),
        *,
        fit_intercept: bool = True,
        scoring: Any = None,
        cv: Any = None,
        gcv_mode: str | None = None,
        store_cv_results: bool = False,
        alpha_per_target: bool = False,
    ) -> None:
        store_params(self, locals())

    def fit(self, X: Any, y: Any, sample_weight: Any = None, **params: Any) -> RidgeCV:
        """Choose alpha and fit on ``X`` (n_samples, n_features) and ``y`` (n_samples,) or
        (n_samples, n_targets); ``params`` (``groups``, ...) are metadata, routed when routing
        is on."""
        routed = route(self, "fit", params, sample_weight)
        validate_params(self)
        # leave-one-out (cv=None) needs alpha > 0, as scikit-learn: at alpha = 0 the hat matrix
        # of a wide X is the identity, and every 1 - H_ii is 0
        alphas = check_scalars(self.alphas, "alphas", low=0, include_low=self.cv is not None)
        self.__dict__.pop("cv_results_", None)  # a previous fit's
        if self.cv is not None:
            return self._fit_grid_search(X, y, sample_weight, alphas, params)
        mode = self.gcv_mode if self.gcv_mode == "svd" else "eigen"
        if mode == "svd" and sp.issparse(X):
            warnings.warn(
                "The 'svd' mode is not supported for sparse X: using gcv_mode='eigen' instead "
                "(scikit-learn 1.11 will raise here); pass gcv_mode='eigen' or 'auto' to "
                "silence this warning",
                FutureWarning,
                stacklevel=2,
            )
            mode = "eigen"
        dtype = float_dtype(X)
        X, y = check_X_y(self, X, y, classifier=False, accept_sparse=True, multi_output=True)
        sw = sample_weight_or_none(sample_weight, X.shape[0])
        Xc, yc, X_offset, y_offset = preprocess_data(
            X, y, fit_intercept=self.fit_intercept, sample_weight=sw
        )
        root = np.ones(X.shape[0]) if sw is None else np.sqrt(sw)
        loo = _LeaveOneOut(Xc, yc.reshape(len(yc), -1), root, mode, self.fit_intercept)
        scorer = None if self.scoring is None else check_scoring(self, scoring=self.scoring)
        # the scorer is given the weights (routing off) or what it requests (routing on)
        score_sw = sw if routed is None else routed.scorer.score.get("sample_weight")
        scores, results = [], []
        for alpha in alphas:
            residual = loo.residuals(alpha).reshape(y.shape)
            if scorer is None:
                values = residual**2
                scores.append(-values.mean(axis=0) if self.alpha_per_target else -values.mean())
            else:
                values = y - (residual / (root if y.ndim == 1 else root[:, None]))
                scores.append(self._score(scorer, values, y, score_sw))
            if self.store_cv_results:
                results.append(values)
        best_alphas = self._select(alphas, scores, 1 if y.ndim == 1 else y.shape[1])
        if self.store_cv_results:
            self.cv_results_ = np.stack(results, axis=-1).astype(dtype)
        coef = loo.coef(best_alphas)
        return self._set_coef(coef[:, 0] if y.ndim == 1 else coef, X_offset, y_offset, dtype)

    def _select(self, alphas: np.ndarray, scores: list, n_targets: int) -> np.ndarray:
        """Set ``alpha_`` and ``best_score_`` from the scores of the grid (the first alpha on
        ties; a NaN score never wins); return the chosen alpha of each target."""
        key = np.nan_to_num(np.array(scores, dtype=np.float64), nan=-np.inf)
        if self.alpha_per_target and n_targets > 1:
            best = np.argmax(key, axis=0)
            self.alpha_ = alphas[best]
            self.best_score_ = np.array(scores)[best, np.arange(n_targets)]
            return self.alpha_
        best = int(np.argmax(key.reshape(len(alphas), -1)[:, 0]))
        self.alpha_, self.best_score_ = float(alphas[best]), scores[best]
        return np.full(n_targets, self.alpha_)

    def _scorer(self) -> Any:
        """``scoring``; for None with routing on, R² (accuracy) asking for the weights the fit
        is given, as scikit-learn."""
        if self.scoring is None and routing_enabled():
            return get_scorer(self._default_scoring).set_score_request(sample_weight=True)
        return self.scoring

    def get_metadata_routing(self) -> Any:
        """With ``sklearn.set_config(enable_metadata_routing=True)``: ``fit``'s metadata go to
        the scorer as it requests them, and to the splitter (``groups``, ...) when ``cv`` is
        given, as in scikit-learn."""
        scores = MethodMapping().add(caller="fit", callee="score")
        scorer = check_scoring(self, scoring=self._scorer(), allow_none=True)
        return cv_router(self, self.cv).add(scorer=scorer, method_mapping=scores)

    def _score(self, scorer: Any, predictions: np.ndarray, y: np.ndarray, sw: Any) -> Any:
        """The scorer on the leave-one-out predictions: one score, or one per target."""
        params = {} if sw is None else {"sample_weight": sw}
        if self.alpha_per_target and y.ndim == 2:
            return np.array(
                [
                    scorer(_Predictions(), predictions[:, k], y[:, k], **params)
                    for k in range(y.shape[1])
                ]
            )
        return scorer(_Predictions(), predictions, y, **params)

    def _fit_grid_search(
        self, X: Any, y: Any, sample_weight: Any, alphas: np.ndarray, params: dict
    ) -> RidgeCV:
        """``GridSearchCV`` over :class:`Ridge` (:class:`RidgeClassifier` for the classifier, as
        scikit-learn), the best model refit; the search routes ``params`` itself."""
        for name in ("store_cv_results", "alpha_per_target"):
            if getattr(self, name):
                raise ValueError(
                    f"cv!=None and {name}=True are incompatible: {name} needs leave-one-out "
                    f"(cv=None); got cv={self.cv!r}"
                )
        ridge = self._grid_model(
            fit_intercept=self.fit_intercept, solver="sparse_cg" if sp.issparse(X) else "auto"
        )
        if routing_enabled():
            ridge.set_fit_request(sample_weight=True)
        search = GridSearchCV(ridge, {"alpha": alphas}, cv=self.cv, scoring=self._scorer())
        search.fit(X, y, **weight_params(sample_weight), **params)
        best = search.best_estimator_
        self.alpha_, self.best_score_ = best.alpha, search.best_score_
        self.coef_, self.intercept_ = best.coef_, best.intercept_
        self.n_features_in_ = best.n_features_in_
        check_feature_names(self, X, reset=True)  # the search validated X, not this estimator
        return self
