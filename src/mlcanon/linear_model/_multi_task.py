r"""Multi-task lasso and elastic net: one sparsity pattern shared by every target.

The estimators minimize, over the coefficients ``W`` of shape (n_targets, n_features) and one
intercept per target,

.. math::

    \frac{1}{2n} \lVert Y - X W^T - 1 b^T \rVert_F^2
    + \alpha \rho \sum_j \lVert W_{:j} \rVert_2
    + \frac{\alpha (1 - \rho)}{2} \lVert W \rVert_F^2 ,

``rho = l1_ratio``. The first penalty sums the Euclidean norms of the features' columns of
``W`` (the L2/L1 mixed norm), so a feature is kept or dropped for all targets at once. The
solver is the block coordinate descent of :mod:`._cd_kernels` (block soft-thresholding of one
feature's coefficients over the targets), the same one :func:`enet_path` runs for a 2-D ``y``.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from mlcanon._estimator import check_X_y, float_dtype, store_params
from mlcanon._validation import validate_params

from ._coordinate_descent import ElasticNet, _center, _path

__all__ = ["MultiTaskElasticNet", "MultiTaskLasso"]


class MultiTaskElasticNet(ElasticNet):
    r"""Elastic net fitted jointly over several targets with a shared sparsity pattern.

    Parameters
    ----------
    alpha : float >= 0, default 1.0
        Overall penalty strength.
    l1_ratio : float in [0, 1], default 0.5
        Share of the group (L2/L1) penalty; 0 leaves the ridge penalty alone.
    fit_intercept : bool, default True
    copy_X : bool, default True
        False lets the fit center (and weight) a float64 ``X`` in place: the caller's array is
        changed.
    max_iter : int, default 1000
        Maximum number of sweeps over the features.
    tol : float, default 1e-4
        Stop when the duality gap is below ``tol * ||Y - Ȳ||_F^2``.
    warm_start : bool, default False
        Start from the previous ``coef_`` when refitting.
    random_state : int, Generator or None
        Seeds the feature order when ``selection='random'``.
    selection : {'cyclic', 'random'}, default 'cyclic'

    Attributes
    ----------
    coef_ : array of shape (n_targets, n_features)
        float32 when ``X`` is float32 (the solver runs in float64).
    intercept_ : array of shape (n_targets,), or 0.0 without intercept
    n_iter_ : int
        Sweeps run by the solver.
    dual_gap_ : float
        Duality gap at the end (of the 1/(2n)-scaled problem).
    eps_ : float
        The stopping threshold of the unscaled gap, ``tol * ||Y - Ȳ||_F^2`` (weighted).
    n_features_in_ : int

    Notes
    -----
    .. math::

        \min_{W, b} \frac{1}{2n} \lVert Y - X W^T - 1 b^T \rVert_F^2
        + \alpha \rho \sum_j \lVert W_{:j} \rVert_2
        + \frac{\alpha (1 - \rho)}{2} \lVert W \rVert_F^2

    ``W`` is optimal when, for every feature ``j`` with ``g_j = X_j^T (Y - X W^T) / n`` (a
    vector over targets), ``g_j - alpha (1 - rho) W_{:j} = alpha rho W_{:j} / ||W_{:j}||`` if
    ``W_{:j} != 0``, and ``||g_j|| <= alpha rho`` if ``W_{:j} = 0``.

    References
    ----------
    Obozinski, Taskar & Jordan (2010), "Joint covariate selection and joint subspace selection
    for multiple classification problems", Stat. Comput. 20(2). Friedman, Hastie & Tibshirani
    (2010), J. Stat. Softw. 33(1).
    """

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        k: v
        for k, v in ElasticNet._parameter_constraints.items()
        if k not in ("precompute", "positive")
    }

    def __init__(
        self,
        alpha: float = 1.0,
        *,
        l1_ratio: float = 0.5,
        fit_intercept: bool = True,
        copy_X: bool = True,
        max_iter: int = 1000,
        tol: float = 1e-4,
        warm_start: bool = False,
        random_state: Any = None,
        selection: str = "cyclic",
    ) -> None:
        store_params(self, locals())

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> MultiTaskElasticNet:
        """Fit on ``X`` (n_samples, n_features) and ``y`` (n_samples, n_targets), with optional
        ``sample_weight`` (n_samples,) rescaled to sum to n_samples."""
        validate_params(self)
        dtype = float_dtype(X)
        X, y = check_X_y(self, X, y, classifier=False, accept_sparse=True, multi_output=True)
        if y.ndim == 1:
            single = "Lasso" if isinstance(self, MultiTaskLasso) else "ElasticNet"
            raise ValueError(
                f"For mono-task outputs, use {single}: {type(self).__name__} needs y of shape "
                f"(n_samples, n_targets), got shape {y.shape}"
            )
        Xc, Yc, X_offset, y_offset = _center(X, y, sample_weight, self.fit_intercept, self.copy_X)
        coefs, gaps, n_iters = _path(
            Xc,
            Yc,
            np.array([float(self.alpha)]),
            float(self.l1_ratio),
            precompute=False,
            Xy=None,
            coef_init=self._warm_coef(y.shape[1], X.shape[1]),
            positive=False,
            tol=self.tol,
            max_iter=self.max_iter,
            selection=self.selection,
            random_state=self.random_state,
        )
        self.eps_ = dtype(self.tol * np.vdot(Yc, Yc))
        return self._set_fitted(
            coefs[..., 0],
            gaps[0],
            n_iters[0],
            X,
            X_offset,
            y_offset,
            dtype,
            gap_dtype=np.float64,  # the block kernel's gap, float64 as scikit-learn's
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.single_output = False
        return tags


class MultiTaskLasso(MultiTaskElasticNet):
    r"""Multi-task Lasso: :class:`MultiTaskElasticNet` with ``l1_ratio=1``.

    .. math::

        \min_{W, b} \frac{1}{2n} \lVert Y - X W^T - 1 b^T \rVert_F^2
        + \alpha \sum_j \lVert W_{:j} \rVert_2

    Parameters and attributes are those of :class:`MultiTaskElasticNet` without ``l1_ratio``.

    References
    ----------
    Obozinski, Taskar & Jordan (2010), Stat. Comput. 20(2).
    """

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        k: v for k, v in MultiTaskElasticNet._parameter_constraints.items() if k != "l1_ratio"
    }
    # fixed, so not a parameter (get_params leaves it out, as scikit-learn's does); the fit
    # inherited from MultiTaskElasticNet reads it
    l1_ratio: ClassVar[float] = 1.0

    def __init__(
        self,
        alpha: float = 1.0,
        *,
        fit_intercept: bool = True,
        copy_X: bool = True,
        max_iter: int = 1000,
        tol: float = 1e-4,
        warm_start: bool = False,
        random_state: Any = None,
        selection: str = "cyclic",
    ) -> None:
        store_params(self, locals())
