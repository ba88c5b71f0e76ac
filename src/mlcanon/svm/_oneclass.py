"""One-class SVM (Schölkopf et al.'s nu formulation) on the SMO solver: novelty detection."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from sklearn.base import OutlierMixin

from mlcanon._estimator import store_params
from mlcanon._validation import validate_params

from ._base import NU, BaseSVM, OneRowSVM, _n_rows, fill_to, nu_total, positive_weights

__all__ = ["OneClassSVM"]


class OneClassSVM(OutlierMixin, OneRowSVM):
    r"""Unsupervised outlier detection: the one-class SVM of Schölkopf et al., as LIBSVM's.

    Parameters
    ----------
    kernel : {'linear', 'poly', 'rbf', 'sigmoid', 'precomputed'} or callable, default 'rbf'
        As in :class:`SVC`: 'precomputed' takes the Gram matrix (n_samples, n_samples) at fit
        and ``K(X_test, X_train)`` at predict; a callable ``k(A, B)`` returns the Gram matrix.
    degree : int >= 0, default 3
        Degree of the polynomial kernel.
    gamma : {'scale', 'auto'} or float >= 0, default 'scale'
        Kernel coefficient: 'scale' is ``1 / (n_features * X.var())``, 'auto' ``1 / n_features``.
    coef0 : float, default 0.0
        Offset of the polynomial and sigmoid kernels.
    tol : float > 0, default 1e-3
        Stop when the maximal KKT violation ``m(α) - M(α)`` is below ``tol``.
    nu : float in (0, 1], default 0.5
        Upper bound on the fraction of training errors (samples outside the boundary) and
        lower bound on the fraction of support vectors.
    shrinking : bool, default True
        Accepted for scikit-learn's signature; no effect (as in :class:`SVC`).
    cache_size : float > 0, default 200
        Kernel cache, in MB.
    verbose : bool or int, default False
        Accepted for scikit-learn's signature (LIBSVM's trace); no effect.
    max_iter : int, default -1
        Iteration cap of SMO (-1: none).

    Attributes
    ----------
    support_ : array of shape (n_SV,)
        Indices of the support vectors (``α_i > 0``) in the ``X`` given, ascending.
    support_vectors_ : array of shape (n_SV, n_features)
        Empty (0, 0) for ``kernel='precomputed'``; CSR after a sparse fit.
    dual_coef_ : array of shape (1, n_SV)
        ``α_i`` of each support vector; CSR after a sparse fit.
    coef_ : array of shape (1, n_features)
        ``kernel='linear'`` only: ``Σ_i α_i x_i`` (read-only).
    intercept_ : array of shape (1,)
        ``-ρ``.
    offset_ : array of shape (1,)
        ``ρ``: ``decision_function = score_samples - offset_``.
    n_support_ : array of shape (1,), int32
    n_iter_ : int
    fit_status_ : int
        0 if SMO converged, 1 if it stopped at ``max_iter``.
    shape_fit_ : tuple
    n_features_in_ : int

    Notes
    -----
    With per-sample bounds ``C_i = w_i`` (the sample weights; a sample of weight <= 0 is left
    out, as LIBSVM does) the dual is

    .. math::

        \min_\alpha \tfrac12 \alpha^T K \alpha, \quad 0 \le \alpha_i \le w_i, \;
        \mathbf 1^T \alpha = \nu \textstyle\sum_i w_i,

    LIBSVM's form with ``y = e`` and ``p = 0`` (the sum is scaled by ``Σ w_i``, LIBSVM's by
    ``l``: ``α`` here is ``l`` times the textbook's). SMO starts from LIBSVM's point, the first
    variables at their bounds until ``ν Σ w_i`` is used up, and the decision is
    ``f(x) = Σ_i α_i K(x_i, x) - ρ``, ``ρ`` from the free multipliers; ``predict`` is +1 where
    ``f(x) > 0`` (inliers) and -1 elsewhere.

    Differences from scikit-learn's ``OneClassSVM``: no ``shrinking`` heuristic (the steps are
    LIBSVM's with ``shrinking=False``). After a fit with weights <= 0, ``support_`` indexes the
    ``X`` given (scikit-learn's indexes the samples left after dropping them).

    References
    ----------
    Schölkopf, Platt, Shawe-Taylor, Smola & Williamson (2001), "Estimating the support of a
    high-dimensional distribution", Neural Computation 13(7). Chang & Lin (2011), "LIBSVM", ACM
    TIST 2(3), Sections 2.2 and 4.
    """

    def __init__(
        self,
        *,
        kernel: str = "rbf",
        degree: int = 3,
        gamma: str | float = "scale",
        coef0: float = 0.0,
        tol: float = 1e-3,
        nu: float = 0.5,
        shrinking: bool = True,
        cache_size: float = 200,
        verbose: bool = False,
        max_iter: int = -1,
    ) -> None:
        store_params(self, locals())

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        **{k: v for k, v in BaseSVM._parameter_constraints.items() if k != "C"},
        "nu": NU,
    }

    def fit(self, X: Any, y: Any = None, sample_weight: Any = None) -> OneClassSVM:
        """Fit the boundary of ``X`` (n_samples, n_features); ``y`` is ignored;
        ``sample_weight`` scales each sample's bound."""
        validate_params(self)
        X, _, gram = self._check_fit_input(X, np.ones(_n_rows(X)), classifier=False)
        sw = positive_weights(sample_weight, _n_rows(X))
        keep = np.flatnonzero(sw > 0)  # a weight <= 0 removes the sample (LIBSVM)
        C = sw[keep]
        ones = np.ones(keep.size)
        alpha0 = fill_to(nu_total(float(self.nu), C), C)
        data = X if gram is None else gram
        alpha, rho, _, n_iter, ok = self._solve(
            data, keep, ones, np.zeros(keep.size), np.arange(keep.size), C, gram is not None, alpha0
        )
        self._record_solution(keep, alpha, rho, data, n_iter, ok)
        self.offset_ = np.array([rho])
        self._record_input(X, gram)
        return self

    def decision_function(self, X: Any) -> np.ndarray:
        """``Σ_i α_i K(x_i, x) - ρ``, shape (n_samples,): positive inside the boundary."""
        return self._decision(X)

    def score_samples(self, X: Any) -> np.ndarray:
        """``Σ_i α_i K(x_i, x)`` (the decision before the offset), shape (n_samples,)."""
        return self.decision_function(X) + self.offset_

    def predict(self, X: Any) -> np.ndarray:
        """+1 for inliers (``decision_function > 0``), -1 for outliers, shape (n_samples,)."""
        return np.where(self.decision_function(X) > 0, 1, -1).astype(np.intp)
