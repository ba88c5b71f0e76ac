"""Support vector regression (epsilon-SVR and nu-SVR): one SMO problem on twice the samples."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from sklearn.base import RegressorMixin

from mlcanon._estimator import store_params
from mlcanon._validation import Interval, validate_params

from ._base import NU, BaseSVM, OneRowSVM, fill_to, nu_total, positive_weights

__all__ = ["SVR", "NuSVR"]


class _BaseSVR(RegressorMixin, OneRowSVM):
    """What :class:`SVR` and :class:`NuSVR` share: the ``2n``-variable dual on ``n`` kernel
    rows (a subclass gives its linear term and start in :meth:`_linear_term`), the model and
    its prediction."""

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> _BaseSVR:
        """Fit on ``X`` (n_samples, n_features) and targets ``y``; ``sample_weight`` scales C."""
        validate_params(self)
        X, y, gram = self._check_fit_input(X, y, classifier=False)
        sw = positive_weights(sample_weight, len(y))
        keep = np.flatnonzero(sw > 0)  # a weight <= 0 removes the sample (LIBSVM)
        z, n = y[keep], keep.size
        signs = np.concatenate([np.ones(n), -np.ones(n)])  # variables [α; α*]
        index = np.concatenate([np.arange(n), np.arange(n)])  # both halves on sample i's row
        C = np.tile(self.C * sw[keep], 2)
        p, alpha0, nu = self._linear_term(z, C[:n])
        data = X if gram is None else gram
        coef, rho, _, n_iter, ok = self._solve(
            data, keep, signs, p, index, C, gram is not None, alpha0, nu
        )
        beta = coef[:n] + coef[n:]  # α - α*, as LIBSVM sums them
        self._record_solution(keep, beta, rho, data, n_iter, ok)
        self._record_input(X, gram)
        return self

    def predict(self, X: Any) -> np.ndarray:
        """``Σ_i (α_i - α_i*) K(x_i, x) + b`` for each row of ``X``, shape (n_samples,)."""
        return self._decision(X)


class SVR(_BaseSVR):
    r"""Epsilon-insensitive support vector regression trained by SMO, as LIBSVM's.

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
    C : float > 0 or ``np.inf``, default 1.0
        Penalty on errors beyond the tube (upper bound of the dual variables).
    epsilon : float >= 0, default 0.1
        Half-width of the tube inside which errors cost nothing.
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
        Indices of the support vectors (``α_i ≠ α_i*``) in the ``X`` given, ascending.
    support_vectors_ : array of shape (n_SV, n_features)
        Empty (0, 0) for ``kernel='precomputed'``; CSR after a sparse fit.
    dual_coef_ : array of shape (1, n_SV)
        ``α_i - α_i*`` of each support vector; CSR after a sparse fit.
    coef_ : array of shape (1, n_features)
        ``kernel='linear'`` only: the primal weights ``Σ_i (α_i - α_i*) x_i`` (read-only).
    intercept_ : array of shape (1,)
    n_support_ : array of shape (1,), int32
    n_iter_ : int
    fit_status_ : int
        0 if SMO converged, 1 if it stopped at ``max_iter``.
    shape_fit_ : tuple
    n_features_in_ : int

    Notes
    -----
    With targets ``z`` and per-sample bounds ``C_i = C w_i`` (``w`` the sample weights; a
    sample of weight <= 0 is left out, as LIBSVM does), the dual is

    .. math::

        \min_{\alpha, \alpha^*} \tfrac12 (\alpha - \alpha^*)^T K (\alpha - \alpha^*)
        + \varepsilon \mathbf 1^T (\alpha + \alpha^*) - z^T (\alpha - \alpha^*), \quad
        0 \le \alpha_i, \alpha_i^* \le C_i, \; \mathbf 1^T (\alpha - \alpha^*) = 0,

    the C-SVC form on ``2n`` variables that :func:`~mlcanon.svm._smo.smo_solve` takes
    (``y = [e; -e]``, ``p = [ε e - z; ε e + z]``, both halves on the same kernel rows). It
    predicts ``f(x) = Σ_i (α_i - α_i^*) K(x_i, x) + b``.

    Differences from scikit-learn's ``SVR``: no ``shrinking`` heuristic (the solution is the
    same up to ``tol``). After a fit with weights <= 0, ``support_`` indexes the ``X`` given
    (scikit-learn's indexes the samples left after dropping them).

    References
    ----------
    Vapnik (1995), "The Nature of Statistical Learning Theory", Springer. Smola & Schölkopf
    (2004), "A tutorial on support vector regression", Statistics and Computing 14(3). Chang &
    Lin (2011), "LIBSVM", ACM TIST 2(3), Sections 2.3 and 4.1.
    """

    def __init__(
        self,
        *,
        kernel: str = "rbf",
        degree: int = 3,
        gamma: str | float = "scale",
        coef0: float = 0.0,
        tol: float = 1e-3,
        C: float = 1.0,
        epsilon: float = 0.1,
        shrinking: bool = True,
        cache_size: float = 200,
        verbose: bool = False,
        max_iter: int = -1,
    ) -> None:
        store_params(self, locals())

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        **BaseSVM._parameter_constraints,
        "epsilon": Interval(low=0),
    }

    def _linear_term(self, z: np.ndarray, C: np.ndarray) -> tuple[np.ndarray, None, bool]:
        """Epsilon-SVR: ``p = [ε e - z; ε e + z]``, from ``α = 0``."""
        eps = float(self.epsilon)
        return np.concatenate([eps - z, eps + z]), None, False


class NuSVR(_BaseSVR):
    r"""Nu-support vector regression trained by SMO (LIBSVM's ``Solver_NU``): the tube width is
    learned, ``nu`` bounds the fraction of samples outside it.

    Parameters
    ----------
    nu : float in (0, 1], default 0.5
        Upper bound on the fraction of training errors (samples outside the tube) and lower
        bound on the fraction of support vectors.
    C : float > 0 or ``np.inf``, default 1.0
        Penalty on errors beyond the tube (upper bound of the dual variables).
    kernel : {'linear', 'poly', 'rbf', 'sigmoid', 'precomputed'} or callable, default 'rbf'
        As in :class:`SVR`.
    degree : int >= 0, default 3
        Degree of the polynomial kernel.
    gamma : {'scale', 'auto'} or float >= 0, default 'scale'
        Kernel coefficient: 'scale' is ``1 / (n_features * X.var())``, 'auto' ``1 / n_features``.
    coef0 : float, default 0.0
        Offset of the polynomial and sigmoid kernels.
    shrinking : bool, default True
        Accepted for scikit-learn's signature; no effect (as in :class:`SVC`).
    tol : float > 0, default 1e-3
        Stop when the maximal KKT violation (within each half) is below ``tol``.
    cache_size : float > 0, default 200
        Kernel cache, in MB.
    verbose : bool or int, default False
        Accepted for scikit-learn's signature (LIBSVM's trace); no effect.
    max_iter : int, default -1
        Iteration cap of SMO (-1: none).

    Attributes
    ----------
    The attributes of :class:`SVR`: ``support_``, ``support_vectors_``, ``dual_coef_``
    (``α_i - α_i*``), ``coef_`` (linear kernel), ``intercept_``, ``n_support_``, ``n_iter_``,
    ``fit_status_``, ``shape_fit_``, ``n_features_in_``.

    Notes
    -----
    With targets ``z`` and bounds ``C_i = C w_i`` (``w`` the sample weights; a sample of weight
    <= 0 is left out, as LIBSVM does), the dual is

    .. math::

        \min_{\alpha, \alpha^*} \tfrac12 (\alpha - \alpha^*)^T K (\alpha - \alpha^*)
        - z^T (\alpha - \alpha^*), \quad 0 \le \alpha_i, \alpha_i^* \le C_i, \;
        \mathbf 1^T (\alpha - \alpha^*) = 0, \;
        \mathbf 1^T (\alpha + \alpha^*) = \nu \textstyle\sum_i C_i,

    (``α`` here is ``l`` times the textbook's, as in LIBSVM), on ``2n`` variables as in
    :class:`SVR` with ``p = [-z; z]``, from LIBSVM's start (``α_i = α_i^*``, the first at
    their bounds until ``ν Σ C_i / 2`` is used up). The offsets of the two halves give
    ``ρ = (r_+ - r_-) / 2``; ``-(r_+ + r_-) / 2`` is the tube's half-width ``ε``. It predicts
    ``f(x) = Σ_i (α_i - α_i^*) K(x_i, x) - ρ``.

    Differences from scikit-learn's ``NuSVR``: no ``shrinking`` heuristic (the steps are
    LIBSVM's with ``shrinking=False``). After a fit with weights <= 0, ``support_`` indexes the
    ``X`` given (scikit-learn's indexes the samples left after dropping them).

    References
    ----------
    Schölkopf, Smola, Williamson & Bartlett (2000), "New support vector algorithms", Neural
    Computation 12(5). Chang & Lin (2002), "Training nu-support vector regression: theory and
    algorithms", Neural Computation 14(8). Chang & Lin (2011), "LIBSVM", ACM TIST 2(3).
    """

    def __init__(
        self,
        *,
        nu: float = 0.5,
        C: float = 1.0,
        kernel: str = "rbf",
        degree: int = 3,
        gamma: str | float = "scale",
        coef0: float = 0.0,
        shrinking: bool = True,
        tol: float = 1e-3,
        cache_size: float = 200,
        verbose: bool = False,
        max_iter: int = -1,
    ) -> None:
        store_params(self, locals())

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        **BaseSVM._parameter_constraints,
        "nu": NU,
    }

    def _linear_term(self, z: np.ndarray, C: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:
        """Nu-SVR: ``p = [-z; z]``, from ``α = α*`` filled to ``ν Σ C_i / 2``."""
        half = fill_to(nu_total(float(self.nu), C) / 2, C)
        return np.concatenate([-z, z]), np.tile(half, 2), True
