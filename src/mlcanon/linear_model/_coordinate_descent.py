r"""Lasso and elastic net by cyclic coordinate descent, and their regularization paths.

The estimators minimize (scikit-learn's parametrization, so the same ``alpha`` means the same
model)

.. math::

    \frac{1}{2n} \lVert y - Xw - b \rVert_2^2 + \alpha \rho \lVert w \rVert_1
    + \frac{\alpha (1 - \rho)}{2} \lVert w \rVert_2^2 ,

with ``rho = l1_ratio`` (``rho = 1`` is the Lasso). Multiplying by ``n`` gives the unscaled
problem solved by :mod:`._cd_kernels` with ``alpha_kernel = n alpha rho`` and
``beta_kernel = n alpha (1 - rho)``.
"""

from __future__ import annotations

import numbers
import warnings
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp
from sklearn import get_config
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import ConvergenceWarning

from mlcanon._estimator import (
    as_float_array,
    check_X_y,
    float_dtype,
    sample_weight_or_none,
    store_params,
)
from mlcanon._validation import (
    BOOL,
    RANDOM_STATE,
    ArrayLike,
    Interval,
    Options,
    check_array,
    check_consistent_length,
    check_random_state,
    validate_args,
    validate_params,
)

from ._base import linear_predict, preprocess_data
from ._cd_kernels import enet_cd, enet_cd_gram

__all__ = ["ElasticNet", "Lasso", "enet_path", "lasso_path"]


# ``precompute``: a flag, or the Gram matrix itself (its shape is checked against X where used).
_PRECOMPUTE = (BOOL, Options("auto"), ArrayLike())
_PATH_CONSTRAINTS = {
    "l1_ratio": Interval(low=0, high=1, include_low=False),
    "eps": Interval(low=0, include_low=False),
    "alphas": (Interval(numbers.Integral, low=1), ArrayLike(low=0)),
    "precompute": _PRECOMPUTE,
    "tol": Interval(low=0),
    "max_iter": Interval(numbers.Integral, low=1),
    "selection": Options("cyclic", "random"),
    "positive": BOOL,
    "random_state": RANDOM_STATE,
}


def _checked_gram(gram: np.ndarray, X: np.ndarray) -> np.ndarray:
    """A user's Gram matrix: the right shape, and one entry recomputed from ``X`` (as
    scikit-learn checks it: a full check would cost what precomputing saves)."""
    gram = check_array(gram, "precompute", ndim=2)
    d = X.shape[1]
    if gram.shape != (d, d):
        raise ValueError(f"precompute has shape {gram.shape}; the Gram matrix needs ({d}, {d})")
    i, j = d // 2, d - 1
    expected = X[:, i] @ X[:, j]
    if not np.isclose(expected, gram[i, j], rtol=1e-4, atol=1e-8 * max(1.0, abs(expected))):
        raise ValueError(
            "Gram matrix passed in via 'precompute' parameter did not pass validation when a "
            f"single element was checked: for element ({i}, {j}) the data give {expected!r} but "
            f"the supplied value is {gram[i, j]!r}"
        )
    return gram


def _alpha_grid(
    Xy: np.ndarray, n_samples: int, l1_ratio: float, eps: float, n_alphas: int, positive: bool
) -> np.ndarray:
    """``n_alphas`` values from ``alpha_max`` (the smallest alpha giving w = 0) down to
    ``eps * alpha_max``, evenly spaced on a log scale. ``Xy`` is ``X^T y``, one column per target
    when there are several (``alpha_max`` then bounds the norm of a feature's row)."""
    if positive:
        top = max(0.0, Xy.max())
    else:
        top = np.linalg.norm(Xy.reshape(len(Xy), -1), axis=1).max()
    alpha_max = top / (n_samples * l1_ratio)
    if alpha_max <= np.finfo(np.float64).resolution:
        return np.full(n_alphas, np.finfo(np.float64).resolution)
    return np.geomspace(alpha_max, alpha_max * eps, num=n_alphas)


def _center(X, y, sample_weight, fit_intercept, copy):
    """Weights rescaled to sum to n_samples (so that alpha keeps its per-sample meaning), then
    :func:`preprocess_data`: ``(Xc, yc, X_offset, y_offset)``."""
    sw = sample_weight_or_none(sample_weight, X.shape[0])
    if sw is not None:
        sw = sw * (X.shape[0] / sw.sum())
    return preprocess_data(X, y, fit_intercept=fit_intercept, sample_weight=sw, copy=copy)


def _usable_gram(precompute: Any, fit_intercept: bool, X_offset: np.ndarray) -> Any:
    """A user's Gram matrix is that of ``X`` as given: once the fit has centered ``X`` it no
    longer applies and is recomputed ('auto'), with a warning as scikit-learn gives."""
    if isinstance(precompute, np.ndarray) and fit_intercept and not np.allclose(X_offset, 0.0):
        warnings.warn(
            "Gram matrix was provided but X was centered to fit intercept: recomputing "
            "Gram matrix.",
            UserWarning,
            stacklevel=3,
        )
        return "auto"
    return precompute


def _uses_gram(precompute: Any, X: np.ndarray) -> bool:
    """Whether the solver works on the Gram matrix ('auto': when ``n_samples > n_features``)."""
    if isinstance(precompute, np.ndarray):
        return True
    return precompute is True or (precompute == "auto" and X.shape[0] > X.shape[1])


def _path(
    X,
    y,
    alphas,
    l1_ratio,
    *,
    precompute,
    Xy,
    coef_init,
    positive,
    tol,
    max_iter,
    selection,
    random_state,
):
    """Solve along ``alphas`` (in the given order), each solve warm-started from the last.

    ``y`` of shape (n_samples,) gives coefs (n_features, n_alphas); ``y`` of shape
    (n_samples, n_targets) is the multi-task problem (the penalty on the norms of the features'
    rows, see :mod:`._cd_kernels`), coefs (n_targets, n_features, n_alphas).
    """
    n_samples, n_features = X.shape
    Y = np.ascontiguousarray(y.reshape(n_samples, -1).T)  # (n_targets, n_samples)
    if _uses_gram(precompute, X):
        given = isinstance(precompute, np.ndarray)
        Q = np.ascontiguousarray(_checked_gram(precompute, X) if given else X.T @ X)
        q = Y @ X if Xy is None else np.ascontiguousarray(Xy.reshape(n_features, -1).T)
        kernel, operands = enet_cd_gram, (Q, q, np.vdot(Y, Y))
    else:  # column j of X is the contiguous row XT[j]
        kernel, operands = enet_cd, (np.ascontiguousarray(X.T), Y)
    seed = int(check_random_state(random_state).integers(2**31 - 1))
    W = np.zeros((len(Y), n_features))
    if coef_init is not None:
        W[:] = np.reshape(coef_init, W.shape)
    coefs = np.empty((*W.shape, len(alphas)))
    gaps, n_iters = np.empty(len(alphas)), []
    for i, alpha in enumerate(alphas):
        l1, l2 = alpha * l1_ratio * n_samples, alpha * (1.0 - l1_ratio) * n_samples
        args = (max_iter, tol, positive, True, selection == "random", seed)
        gap, scaled_tol, n_iter, ok = kernel(W, l1, l2, *operands, *args)
        if not ok:
            warnings.warn(
                "Objective did not converge. You might want to increase the number of "
                f"iterations (coordinate descent for alpha={alpha:.6g}: duality gap "
                f"{gap:.3e} > tolerance {scaled_tol:.3e}); or increase tol, or scale the "
                "features",
                ConvergenceWarning,
                stacklevel=3,
            )
        coefs[..., i] = W
        gaps[i] = gap / n_samples  # report the gap of the 1/(2n)-scaled objective
        n_iters.append(n_iter)
    return (coefs[0] if y.ndim == 1 else coefs), gaps, n_iters


def _deprecated_alphas(alphas: Any, n_alphas: Any) -> Any:
    """scikit-learn 1.9's deprecations: ``n_alphas=k`` and ``alphas=None`` both mean a grid."""
    if not isinstance(n_alphas, str) or n_alphas != "deprecated":
        warnings.warn(
            "'n_alphas' was deprecated in 1.9 and will be removed in 1.11; pass the number "
            "of alphas as alphas",
            FutureWarning,
            stacklevel=3,
        )
        return n_alphas if alphas is None or isinstance(alphas, numbers.Integral) else alphas
    if alphas is None:
        warnings.warn(
            "'alphas=None' is deprecated and will be removed in 1.11; pass alphas=100 for "
            "the default grid",
            FutureWarning,
            stacklevel=3,
        )
        return 100
    return alphas


def enet_path(
    X: Any,
    y: Any,
    *,
    l1_ratio: float = 0.5,
    eps: float = 1e-3,
    alphas: int | Any = 100,
    precompute: bool | str = "auto",
    Xy: Any = None,
    coef_init: Any = None,
    positive: bool = False,
    tol: float = 1e-4,
    max_iter: int = 1000,
    selection: str = "cyclic",
    random_state: Any = None,
    return_n_iter: bool = False,
    check_input: bool = True,
    n_alphas: Any = "deprecated",
    **params: Any,
) -> tuple:
    """Elastic-net coefficients along a decreasing sequence of ``alpha`` (no intercept).

    Parameters
    ----------
    X : array or scipy.sparse matrix of shape (n_samples, n_features)
        Data, used as given (center it first to mimic an intercept); a sparse matrix is
        densified.
    y : array of shape (n_samples,) or (n_samples, n_targets)
        Several targets make it the multi-task problem (as scikit-learn's ``enet_path``): the
        L1 norm becomes the sum over features of the Euclidean norm of their coefficients
        across targets, so a feature is kept or dropped for all targets at once.
    l1_ratio : float in (0, 1], default 0.5
        Share of the L1 penalty, ``rho`` in the objective of :class:`ElasticNet`.
    eps : float, default 1e-3
        ``alpha_min / alpha_max`` when the grid is generated.
    alphas : int or array of shape (n_alphas,), default 100
        Number of grid points, or the alphas themselves (sorted decreasingly before use).
    precompute : bool, 'auto' or array of shape (n_features, n_features), default 'auto'
        Work on the Gram matrix ``X^T X`` ('auto': when ``n_samples > n_features``), or on
        the one given (one entry is checked against ``X``).
    Xy : array of shape (n_features,) or (n_features, n_targets), optional
        Precomputed ``X^T y`` (used with the Gram matrix).
    coef_init : array of shape (n_features,) or (n_targets, n_features), optional
        Starting point of the first solve.
    positive, tol, max_iter, selection, random_state
        As in :class:`ElasticNet` (``positive`` for a single target only).
    return_n_iter : bool, default False
        Also return the number of sweeps per alpha.
    check_input : bool, default True
        False skips the conversion and finiteness checks of ``X`` and ``y`` (the caller
        passes float arrays).
    n_alphas : int, deprecated
        scikit-learn 1.9's old spelling of an integer ``alphas`` (a FutureWarning).

    Returns
    -------
    alphas : array of shape (n_alphas,)
    coefs : array of shape (n_features, n_alphas) or (n_targets, n_features, n_alphas)
        In the dtype of ``X`` (float32 stays float32; the solver runs in float64).
    dual_gaps : array of shape (n_alphas,)
    n_iters : list of int, only with ``return_n_iter=True``

    Notes
    -----
    Each solve starts from the previous solution (warm start), which is what makes a whole path
    cost little more than its hardest point. See :class:`ElasticNet` for the objective.

    References
    ----------
    Friedman, Hastie & Tibshirani (2010), J. Stat. Softw. 33(1), Section 2.5 (pathwise
    coordinate descent).
    """
    if params:
        raise ValueError(f"Unexpected parameters in params: {sorted(params)}")
    alphas = _deprecated_alphas(alphas, n_alphas)
    validate_args(
        _PATH_CONSTRAINTS,
        l1_ratio=l1_ratio,
        eps=eps,
        alphas=alphas,
        precompute=precompute,
        tol=tol,
        max_iter=max_iter,
        selection=selection,
        positive=positive,
        random_state=random_state,
    )
    dtype = float_dtype(X)
    X = as_float_array(X, "X", accept_sparse=True)  # scipy.sparse X is densified
    if check_input:
        X = check_array(X, "X", ndim=2)
        y = check_array(y, "y", ndim=(1, 2))
    else:
        y = np.asarray(y, dtype=np.float64)
    check_consistent_length(X=X, y=y)
    if positive and y.ndim == 2:
        raise ValueError(
            f"positive=True needs a single target: y has shape {y.shape}, and the multi-task "
            "penalty has no sign constraint (pass one column of y at a time)"
        )
    coef_shape = (X.shape[1],) if y.ndim == 1 else (y.shape[1], X.shape[1])
    if Xy is not None:
        Xy = check_array(Xy, "Xy", ndim=y.ndim)
        if Xy.shape != coef_shape[::-1]:
            raise ValueError(
                f"Xy has shape {Xy.shape}, expected X^T y of shape {coef_shape[::-1]} "
                "(n_features, or n_features x n_targets for several targets)"
            )
    if coef_init is not None:
        coef_init = check_array(coef_init, "coef_init", ndim=y.ndim)
        if coef_init.shape != coef_shape:
            raise ValueError(
                f"coef_init has shape {coef_init.shape}, expected {coef_shape} (n_targets, "
                "n_features for several targets)"
            )
    if isinstance(alphas, numbers.Integral):
        Xy_grid = X.T @ y if Xy is None else Xy
        grid = _alpha_grid(Xy_grid, X.shape[0], l1_ratio, eps, alphas, positive)
    else:
        grid = np.sort(check_array(alphas, "alphas", ndim=1))[::-1]
    coefs, gaps, n_iters = _path(
        X,
        y,
        grid,
        l1_ratio,
        precompute=precompute,
        Xy=Xy,
        coef_init=coef_init,
        positive=positive,
        tol=tol,
        max_iter=max_iter,
        selection=selection,
        random_state=random_state,
    )
    coefs = coefs.astype(dtype, copy=False)
    return (grid, coefs, gaps, n_iters) if return_n_iter else (grid, coefs, gaps)


def lasso_path(X: Any, y: Any, **kwargs: Any) -> tuple:
    """Lasso coefficients along a decreasing sequence of ``alpha``: :func:`enet_path` with
    ``l1_ratio=1``.

    Minimizes ``(1 / (2 n)) ||y - Xw||^2 + alpha ||w||_1`` for each alpha; the keyword
    arguments and return values are those of :func:`enet_path`.

    References
    ----------
    Tibshirani (1996), "Regression shrinkage and selection via the lasso", JRSS B 58(1).
    """
    if "l1_ratio" in kwargs:
        raise TypeError("lasso_path() got an unexpected keyword argument 'l1_ratio'")
    return enet_path(X, y, l1_ratio=1.0, **kwargs)


class ElasticNet(RegressorMixin, BaseEstimator):
    r"""Linear regression with combined L1 and L2 penalties, fitted by coordinate descent.

    Parameters
    ----------
    alpha : float >= 0, default 1.0
        Overall penalty strength.
    l1_ratio : float in [0, 1], default 0.5
        Share of the L1 penalty (1: Lasso, 0: ridge-like).
    fit_intercept : bool, default True
    precompute : bool, 'auto' or array of shape (n_features, n_features), default False
        Iterate on the Gram matrix ``X^T X`` instead of the residual; an array is the Gram
        matrix of the (weighted) data as given, recomputed with a warning when the fit
        centers ``X`` for the intercept.
    max_iter : int, default 1000
        Maximum number of sweeps over the features.
    tol : float, default 1e-4
        Stop when the duality gap is below ``tol * ||y - ȳ||^2``.
    warm_start : bool, default False
        Start from the previous ``coef_`` when refitting.
    positive : bool, default False
        Constrain the coefficients to be non-negative.
    random_state : int, Generator or None
        Seeds the coordinate order when ``selection='random'``.
    selection : {'cyclic', 'random'}, default 'cyclic'
    copy_X : bool, default True
        False lets the fit center (and weight) a float64 ``X`` in place.

    Attributes
    ----------
    coef_ : array of shape (n_features,) or (n_targets, n_features)
        One row per target when ``y`` has several columns: each target is fitted on its own
        (as scikit-learn; the joint multi-task problem is :func:`enet_path`'s with 2-D ``y``).
        float32 when ``X`` is float32 (the solver runs in float64).
    intercept_ : float or array of shape (n_targets,)
    n_iter_ : int or list of int
        Sweeps run by the solver, per target.
    dual_gap_ : float or array of shape (n_targets,)
        Duality gap at the end (of the 1/(2n)-scaled problem), per target.
    n_features_in_ : int

    Notes
    -----
    .. math::

        \min_{w, b} \frac{1}{2n} \lVert y - Xw - b \rVert_2^2
        + \alpha \rho \lVert w \rVert_1 + \frac{\alpha (1 - \rho)}{2} \lVert w \rVert_2^2

    Each coordinate step is an exact minimization, a soft-thresholding of the partial residual
    correlation (see :mod:`mlcanon.linear_model._cd_kernels`).

    References
    ----------
    Zou & Hastie (2005), "Regularization and variable selection via the elastic net", JRSS B
    67(2). Friedman, Hastie & Tibshirani (2010), J. Stat. Softw. 33(1).
    """

    def __init__(
        self,
        alpha: float = 1.0,
        *,
        l1_ratio: float = 0.5,
        fit_intercept: bool = True,
        precompute: bool | str = False,
        max_iter: int = 1000,
        tol: float = 1e-4,
        warm_start: bool = False,
        positive: bool = False,
        random_state: Any = None,
        selection: str = "cyclic",
        copy_X: bool = True,
    ) -> None:
        store_params(self, locals())

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        "alpha": Interval(low=0),
        "l1_ratio": Interval(low=0, high=1),
        "fit_intercept": BOOL,
        "precompute": _PRECOMPUTE,
        "max_iter": Interval(numbers.Integral, low=1),
        "tol": Interval(low=0),
        "warm_start": BOOL,
        "positive": BOOL,
        "random_state": RANDOM_STATE,
        "selection": Options("cyclic", "random"),
        "copy_X": BOOL,
    }

    def fit(
        self, X: Any, y: Any, sample_weight: Any = None, check_input: bool = True
    ) -> ElasticNet:
        """Fit on ``X`` (n_samples, n_features) and ``y`` (n_samples,) or (n_samples, n_targets),
        one target at a time. ``check_input=False`` skips the conversion and finiteness checks
        (the caller passes float arrays)."""
        validate_params(self)
        dtype = float_dtype(X)
        if check_input:
            X, y = check_X_y(self, X, y, classifier=False, accept_sparse=True, multi_output=True)
        else:  # float64 arrays are used as they are (and centered in place with copy_X=False)
            X, y = as_float_array(X, "X", accept_sparse=True), np.asarray(y, dtype=np.float64)
            if X.ndim != 2 or y.ndim not in (1, 2) or len(y) != X.shape[0]:
                raise ValueError(
                    "check_input=False needs a 2-D X and a y of shape (n_samples,) or "
                    f"(n_samples, n_targets) with as many samples; got X {X.shape}, y {y.shape}"
                )
            self.n_features_in_ = X.shape[1]
        if self.alpha == 0:
            warnings.warn(
                "With alpha=0, this algorithm does not converge well. You are advised to use "
                "the LinearRegression estimator (alpha=0 is ordinary least squares, for which "
                "coordinate descent converges slowly)",
                UserWarning,
                stacklevel=2,
            )
        Xc, yc, X_offset, y_offset = _center(X, y, sample_weight, self.fit_intercept, self.copy_X)
        precompute = _usable_gram(self.precompute, self.fit_intercept, X_offset)
        Y = yc.reshape(len(yc), -1)  # (n_samples, n_targets)
        n_targets = Y.shape[1]
        if n_targets > 1 and _uses_gram(precompute, Xc) and not isinstance(precompute, np.ndarray):
            precompute = Xc.T @ Xc  # once for all targets
        init = self._warm_coef(n_targets, Xc.shape[1])
        init = [None] * n_targets if init is None else init
        fits = [self._solve(Xc, Y[:, k], precompute, init[k]) for k in range(n_targets)]
        coef, gaps, n_iters = (np.array(v) for v in zip(*fits, strict=True))  # row per target
        if n_targets == 1:  # a single target, even as a column: 1-D coef_, as scikit-learn
            coef, gaps, n_iters = coef[0], gaps[0], n_iters[0]
        return self._set_fitted(coef, gaps, n_iters.tolist(), X, X_offset, y_offset, dtype)

    def _warm_coef(self, n_targets: int, n_features: int) -> np.ndarray | None:
        """The previous ``coef_`` as (n_targets, n_features) to start from (``warm_start``),
        or None: no warm start, no previous fit, or one of another shape."""
        previous = getattr(self, "coef_", None) if self.warm_start else None
        shape = np.shape(previous)
        if (
            previous is None
            or shape[-1:] != (n_features,)
            or np.prod(shape) != n_targets * n_features
        ):
            return None
        return np.reshape(previous, (n_targets, n_features))

    def _set_fitted(self, coef, gaps, n_iters, X, X_offset, y_offset, dtype, gap_dtype=None):
        """Store ``coef_``, ``intercept_`` (from the offsets), ``dual_gap_`` (in ``gap_dtype``
        if given) and ``n_iter_`` in ``dtype``, refusing non-finite parameters."""
        self.dual_gap_ = np.asarray(gaps).astype(gap_dtype or dtype)[()]
        self.n_iter_ = n_iters
        with np.errstate(invalid="ignore", over="ignore"):  # refused just below
            intercept = np.asarray(y_offset - X_offset @ coef.T)
        self.coef_ = coef.astype(dtype)
        self.intercept_ = intercept.astype(dtype)[()] if self.fit_intercept else 0.0  # as sklearn
        if not (np.isfinite(self.coef_).all() and np.isfinite(self.intercept_).all()):
            raise ValueError(
                "Coordinate descent iterations resulted in non-finite parameter values "
                f"(coef_ or intercept_ is NaN or infinite); X has values up to "
                f"{np.abs(X).max():.3g}: scale the input data"
            )
        return self

    def _solve(self, X, y, precompute, coef_init):
        """One target: ``(coef, dual_gap, n_iter)`` at ``self.alpha``."""
        coefs, gaps, n_iters = _path(
            X,
            y,
            np.array([float(self.alpha)]),
            float(self.l1_ratio),
            precompute=precompute,
            Xy=None,
            coef_init=coef_init,
            positive=self.positive,
            tol=self.tol,
            max_iter=self.max_iter,
            selection=self.selection,
            random_state=self.random_state,
        )
        return coefs[:, 0], gaps[0], n_iters[0]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True  # scipy.sparse X is densified
        tags.target_tags.multi_output = True
        return tags

    def predict(self, X: Any) -> np.ndarray:
        """``X @ coef_.T + intercept_``, shape (n_samples,) or (n_samples, n_targets)."""
        return linear_predict(self, X)

    @property
    def sparse_coef_(self) -> Any:
        """``coef_`` as a CSR matrix of shape (n_targets, n_features), one row per target: a
        scipy.sparse matrix, or a sparse array under ``sklearn.set_config(sparse_interface=
        "sparray")``."""
        rows = sp.csr_array(np.atleast_2d(self.coef_))
        return rows if get_config().get("sparse_interface") == "sparray" else sp.csr_matrix(rows)


class Lasso(ElasticNet):
    r"""Linear regression with an L1 penalty (``ElasticNet`` with ``l1_ratio=1``).

    .. math::

        \min_{w, b} \frac{1}{2n} \lVert y - Xw - b \rVert_2^2 + \alpha \lVert w \rVert_1

    Parameters and attributes are those of :class:`ElasticNet` without ``l1_ratio``.

    References
    ----------
    Tibshirani (1996), "Regression shrinkage and selection via the lasso", JRSS B 58(1).
    """

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        k: v for k, v in ElasticNet._parameter_constraints.items() if k != "l1_ratio"
    }

    def __init__(
        self,
        alpha: float = 1.0,
        *,
        fit_intercept: bool = True,
        precompute: bool | str = False,
        max_iter: int = 1000,
        tol: float = 1e-4,
        warm_start: bool = False,
        positive: bool = False,
        random_state: Any = None,
        selection: str = "cyclic",
        copy_X: bool = True,
    ) -> None:
        super().__init__(
            alpha=alpha,
            l1_ratio=1.0,
            fit_intercept=fit_intercept,
            precompute=precompute,
            max_iter=max_iter,
            tol=tol,
            warm_start=warm_start,
            positive=positive,
            random_state=random_state,
            selection=selection,
            copy_X=copy_X,
        )
