r"""Lasso and elastic net with ``alpha`` (and ``l1_ratio``) chosen by cross-validation.

For each ``l1_ratio`` and each fold the whole regularization path is solved on the training
rows, each ``alpha`` warm-started from the previous one (:func:`._coordinate_descent._path`),
and scored by the mean squared error on the held-out rows. The pair with the smallest error
averaged over the folds wins, and the model is refitted on all the data with it.

The grid runs from ``alpha_max``, the smallest ``alpha`` at which every coefficient is zero,

.. math:: \alpha_{\max} = \frac{\max_j \lVert X_j^T (y - \bar y) \rVert_2}{n \rho}

(on the centered, weighted data of all the rows; the norm is over targets in the multi-task
case), down to ``eps * alpha_max``, evenly on a log scale.
"""

from __future__ import annotations

import numbers
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.model_selection import check_cv
from sklearn.utils.parallel import Parallel, delayed

from mlcanon._estimator import check_X_y, float_dtype, route, sample_weight_or_none, store_params
from mlcanon._validation import (
    BOOL,
    CV,
    InstanceOf,
    Interval,
    check_scalars,
    validate_params,
)

from ._base import check_fold_weights, cv_router, linear_predict, split_params
from ._coordinate_descent import (
    ElasticNet,
    Lasso,
    _alpha_grid,
    _center,
    _path,
    _usable_gram,
)
from ._multi_task import MultiTaskElasticNet, MultiTaskLasso

__all__ = ["ElasticNetCV", "LassoCV", "MultiTaskElasticNetCV", "MultiTaskLassoCV"]

_SEQUENCE = InstanceOf(list, tuple, np.ndarray)  # entries are checked one by one in fit
_CV_CONSTRAINTS: dict[str, Any] = {
    # the refitted model's own parameters, checked as the model checks them
    **{
        k: v
        for k, v in ElasticNet._parameter_constraints.items()
        if k not in ("alpha", "l1_ratio", "warm_start")
    },
    "l1_ratio": (Interval(low=0, high=1), _SEQUENCE),
    "eps": Interval(low=0, include_low=False),
    "alphas": (Interval(numbers.Integral, low=1), _SEQUENCE),
    "cv": CV,
    "verbose": (BOOL, Interval(numbers.Integral, low=0)),
    "n_jobs": (None, Interval(numbers.Integral)),
}


def _constraints(*dropped: str) -> dict[str, Any]:
    return {k: v for k, v in _CV_CONSTRAINTS.items() if k not in dropped}


def _fold_mse(X, y, sample_weight, train, test, alphas, l1_ratio, fit_intercept, path_kw):
    """Mean squared test error, averaged over targets, of each alpha's model fitted on the
    training rows (weights rescaled to sum to the number of training rows)."""
    sw = None if sample_weight is None else sample_weight[train]
    Xc, yc, X_offset, y_offset = _center(X[train], y[train], sw, fit_intercept, copy=False)
    precompute = _usable_gram(path_kw["precompute"], fit_intercept, X_offset)
    coefs, _, _ = _path(Xc, yc, alphas, l1_ratio, **{**path_kw, "precompute": precompute})
    coefs = coefs.reshape(-1, X.shape[1], len(alphas))  # (n_targets, n_features, n_alphas)
    intercepts = np.reshape(y_offset, (-1, 1)) - np.einsum("j,tja->ta", X_offset, coefs)
    predictions = np.einsum("ij,tja->ita", X[test], coefs) + intercepts  # (n_test, targets, a)
    residuals = predictions - y[test].reshape(len(test), -1, 1)
    weights = None if sample_weight is None else sample_weight[test]
    return np.average(residuals**2, axis=0, weights=weights).mean(axis=0)


class _CoordinateDescentCV(RegressorMixin, BaseEstimator):
    """The fit shared by the four estimators: the grids, the folds, the choice, the refit."""

    _model: ClassVar[type]  # the estimator refitted with the chosen alpha (and l1_ratio)
    _multitask: ClassVar[bool]

    def fit(self, X: Any, y: Any, sample_weight: Any = None, **params: Any) -> Any:
        """Choose ``alpha`` (and ``l1_ratio``) by cross-validation on ``X`` (n_samples,
        n_features) and ``y``, then refit on all of it. ``sample_weight`` weighs the fits and
        each fold's test error (the folds' errors are then averaged unweighted)."""
        routed = route(self, "fit", params)  # sample_weight is this estimator's own
        name = type(self).__name__
        validate_params(self)
        l1_ratios = check_scalars(getattr(self, "l1_ratio", 1.0), "l1_ratio", low=0, high=1)
        dtype = float_dtype(X)
        shape = np.shape(np.asarray(y))
        if not self._multitask and len(shape) == 2 and shape[1] > 1:
            raise ValueError(f"For multi-task outputs, use MultiTask{name}: y has shape {shape}")
        X, y = check_X_y(
            self, X, y, classifier=False, accept_sparse=True, multi_output=self._multitask
        )
        if self._multitask and y.ndim == 1:
            raise ValueError(
                f"For mono-task outputs, use {name.removeprefix('MultiTask')}: y has shape "
                f"{y.shape}"
            )
        sw = sample_weight_or_none(sample_weight, X.shape[0])
        grids = self._grids(X, y, sw, l1_ratios)
        path_kw = {
            "precompute": getattr(self, "precompute", False),  # the multi-task ones: none
            "Xy": None,
            "coef_init": None,
            "positive": getattr(self, "positive", False),
            "tol": self.tol,
            "max_iter": self.max_iter,
            "selection": self.selection,
            "random_state": self.random_state,
        }
        folds = list(check_cv(self.cv).split(X, y, **split_params(routed)))
        check_fold_weights(sw, folds)
        jobs = (
            delayed(_fold_mse)(X, y, sw, train, test, grid, rho, self.fit_intercept, path_kw)
            for rho, grid in zip(l1_ratios, grids, strict=True)
            for train, test in folds
        )
        mse = Parallel(n_jobs=self.n_jobs, verbose=self.verbose, prefer="threads")(jobs)
        mse = np.reshape(mse, (len(l1_ratios), len(folds), -1))  # (l1_ratios, folds, alphas)
        self.mse_path_ = np.squeeze(np.moveaxis(mse, 2, 1)).astype(dtype)  # as scikit-learn
        mean = mse.mean(axis=1)
        best = np.unravel_index(np.argmin(mean), mean.shape)  # first of equals, as sklearn
        self.alpha_ = float(grids[best])
        if hasattr(self, "l1_ratio"):  # the elastic nets; the lassos have no l1_ratio_
            self.l1_ratio_ = float(l1_ratios[best[0]])
        integral = isinstance(self.alphas, numbers.Integral)
        self.alphas_ = grids[0] if len(grids) == 1 or not integral else grids
        self._refit(X.astype(dtype, copy=False), y, sample_weight)
        return self

    def _grids(self, X, y, sample_weight, l1_ratios):
        """One decreasing alpha grid per l1_ratio, shape (n_l1_ratios, n_alphas)."""
        if not isinstance(self.alphas, numbers.Integral):
            alphas = np.sort(check_scalars(self.alphas, "alphas", low=0))[::-1]
            return np.tile(alphas, (len(l1_ratios), 1))
        if (l1_ratios == 0).any():
            raise ValueError(
                "Automatic alpha grid generation is not supported for l1_ratio=0. Please "
                "supply a grid by providing your estimator with the appropriate `alphas=` "
                f"argument (l1_ratios {l1_ratios.tolist()})."
            )
        Xc, yc, _, _ = _center(X, y, sample_weight, self.fit_intercept, copy=True)
        Xy, positive = Xc.T @ yc, getattr(self, "positive", False)
        return np.array(
            [_alpha_grid(Xy, len(X), r, self.eps, self.alphas, positive) for r in l1_ratios]
        )

    def _refit(self, X, y, sample_weight):
        """Fit ``_model`` on all the data with the chosen alpha (and l1_ratio)."""
        model, own = self._model(), self.get_params()
        model.set_params(**{k: v for k, v in own.items() if k in model.get_params()})
        model.set_params(alpha=self.alpha_)
        if hasattr(self, "l1_ratio_"):
            model.set_params(l1_ratio=self.l1_ratio_)
        if isinstance(own.get("precompute"), str):  # 'auto' means the folds' choice only
            model.set_params(precompute=False)
        model.fit(X, y, sample_weight=sample_weight)
        self.coef_, self.intercept_ = model.coef_, model.intercept_
        self.dual_gap_, self.n_iter_ = model.dual_gap_, model.n_iter_

    def get_metadata_routing(self) -> Any:
        """``fit``'s metadata other than ``sample_weight`` (``groups``, ...) go to the splitter
        (with ``sklearn.set_config(enable_metadata_routing=True)``)."""
        return cv_router(self, check_cv(self.cv))

    def predict(self, X: Any) -> np.ndarray:
        """``X @ coef_.T + intercept_``."""
        return linear_predict(self, X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True  # scipy.sparse X is densified
        tags.target_tags.single_output = not self._multitask
        tags.target_tags.multi_output = self._multitask
        return tags


_ATTRIBUTES = """
    Attributes
    ----------
    alpha_ : float
        The chosen penalty strength.
    alphas_ : array of shape (n_alphas,) or (n_l1_ratios, n_alphas)
        The grid (one row per l1_ratio when it was generated for several).
    mse_path_ : array of shape (n_alphas, n_folds) or (n_l1_ratios, n_alphas, n_folds)
        Test mean squared error of each fold along the path.
    coef_, intercept_, dual_gap_, n_iter_
        Those of the model refitted on all the data.
    n_features_in_ : int
"""

_L1_RATIO = """    l1_ratio : float in [0, 1] or list of them, default 0.5
        Share of the L1 penalty (the group penalty, multi-task). Each value gets its own grid,
        and the pair (alpha, l1_ratio) with the smallest mean test error wins.
"""


def _parameters(l1_ratio: bool) -> str:
    return (
        "\n    Parameters\n    ----------\n"
        + (_L1_RATIO if l1_ratio else "")
        + """    eps : float > 0, default 1e-3
        ``alpha_min / alpha_max`` of a generated grid.
    alphas : int or array-like of floats >= 0, default 100
        Number of grid points, or the alphas themselves.
    cv : None, int >= 2, splitter or iterable of (train, test) index arrays, default None
        Folds, read by :func:`sklearn.model_selection.check_cv` (None: 5-fold ``KFold``).
    copy_X : bool, default True
        False lets the refit center (and weight) a float64 ``X`` in place: the caller's array
        is changed.
    n_jobs : int or None, default None
        Folds (and l1_ratios) run by joblib in that many threads (the numba kernels release
        the GIL).
    verbose : bool or int, default False
        joblib's progress messages.
    The other parameters are those of the refitted model.
"""
    )


_L1_RATIO_ = """    l1_ratio_ : float
        The chosen l1_ratio.
"""


def _notes(model: str, rho: bool) -> str:
    denominator, where = (r"n \rho", " (:math:`\\rho` = ``l1_ratio``)") if rho else ("n", "")
    return rf"""
    Notes
    -----
    The objective is that of the refitted :class:`{model}`. A generated grid runs from
    :math:`\alpha_{{\max}} = \max_j \lVert X_{{c,j}}^T y_c \rVert / ({denominator})`{where},
    the smallest alpha that zeroes every coefficient (``X_c``, ``y_c`` centered; the norm is
    over the targets of the multi-task ones), down to ``eps * alpha_max``, evenly on a log
    scale.
"""


class LassoCV(_CoordinateDescentCV):
    __doc__ = (
        "Lasso with ``alpha`` chosen by cross-validation along the regularization path.\n"
        + _parameters(l1_ratio=False)
        + _ATTRIBUTES
        + _notes("Lasso", rho=False)
        + "\n    References\n    ----------\n    Friedman, Hastie & Tibshirani (2010), "
        "J. Stat. Softw. 33(1), Section 2.5.\n"
    )
    _model = Lasso
    _multitask = False
    _parameter_constraints: ClassVar[dict[str, Any]] = _constraints("l1_ratio")

    def __init__(
        self,
        *,
        eps: float = 1e-3,
        alphas: Any = 100,
        fit_intercept: bool = True,
        precompute: Any = "auto",
        max_iter: int = 1000,
        tol: float = 1e-4,
        copy_X: bool = True,
        cv: Any = None,
        verbose: Any = False,
        n_jobs: int | None = None,
        positive: bool = False,
        random_state: Any = None,
        selection: str = "cyclic",
    ) -> None:
        store_params(self, locals())


class ElasticNetCV(_CoordinateDescentCV):
    __doc__ = (
        "Elastic net with ``alpha`` and ``l1_ratio`` chosen by cross-validation.\n"
        + _parameters(l1_ratio=True)
        + _ATTRIBUTES
        + _L1_RATIO_
        + _notes("ElasticNet", rho=True)
        + "\n    References\n    ----------\n    Zou & Hastie (2005), JRSS B 67(2). Friedman, "
        "Hastie & Tibshirani (2010), J. Stat. Softw. 33(1).\n"
    )
    _model = ElasticNet
    _multitask = False
    _parameter_constraints: ClassVar[dict[str, Any]] = _constraints()

    def __init__(
        self,
        *,
        l1_ratio: Any = 0.5,
        eps: float = 1e-3,
        alphas: Any = 100,
        fit_intercept: bool = True,
        precompute: Any = "auto",
        max_iter: int = 1000,
        tol: float = 1e-4,
        cv: Any = None,
        copy_X: bool = True,
        verbose: Any = 0,
        n_jobs: int | None = None,
        positive: bool = False,
        random_state: Any = None,
        selection: str = "cyclic",
    ) -> None:
        store_params(self, locals())


class MultiTaskLassoCV(_CoordinateDescentCV):
    __doc__ = (
        "Multi-task Lasso (:class:`MultiTaskLasso`) with ``alpha`` chosen by cross-validation; "
        "the\n    test error is averaged over the targets.\n"
        + _parameters(l1_ratio=False)
        + _ATTRIBUTES
        + _notes("MultiTaskLasso", rho=False)
    )
    _model = MultiTaskLasso
    _multitask = True
    _parameter_constraints: ClassVar[dict[str, Any]] = _constraints(
        "l1_ratio", "precompute", "positive"
    )

    def __init__(
        self,
        *,
        eps: float = 1e-3,
        alphas: Any = 100,
        fit_intercept: bool = True,
        max_iter: int = 1000,
        tol: float = 1e-4,
        copy_X: bool = True,
        cv: Any = None,
        verbose: Any = False,
        n_jobs: int | None = None,
        random_state: Any = None,
        selection: str = "cyclic",
    ) -> None:
        store_params(self, locals())


class MultiTaskElasticNetCV(_CoordinateDescentCV):
    __doc__ = (
        "Multi-task elastic net (:class:`MultiTaskElasticNet`) with ``alpha`` and ``l1_ratio`` "
        "chosen\n    by cross-validation.\n"
        + _parameters(l1_ratio=True)
        + _ATTRIBUTES
        + _L1_RATIO_
        + _notes("MultiTaskElasticNet", rho=True)
    )
    _model = MultiTaskElasticNet
    _multitask = True
    _parameter_constraints: ClassVar[dict[str, Any]] = _constraints("precompute", "positive")

    def __init__(
        self,
        *,
        l1_ratio: Any = 0.5,
        eps: float = 1e-3,
        alphas: Any = 100,
        fit_intercept: bool = True,
        max_iter: int = 1000,
        tol: float = 1e-4,
        cv: Any = None,
        copy_X: bool = True,
        verbose: Any = 0,
        n_jobs: int | None = None,
        random_state: Any = None,
        selection: str = "cyclic",
    ) -> None:
        store_params(self, locals())
