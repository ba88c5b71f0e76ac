"""What the kernel SVMs share: parameters, input checks, the kernel's value, the SMO call and the
record of the fitted model (support vectors, sparse and callable inputs)."""

from __future__ import annotations

import numbers
import warnings
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_is_fitted

from mlcanon._estimator import check_X, check_X_y
from mlcanon._validation import (
    BOOL,
    Interval,
    IsCallable,
    Options,
    check_array,
    check_consistent_length,
)

from ._kernels import KERNELS, PRECOMPUTED, kernel_matrix
from ._smo import smo_solve

__all__ = ["NU", "BaseSVM", "OneRowSVM", "fill_to", "nu_total", "positive_weights", "read_weights"]


def read_weights(sample_weight: Any, n_samples: int) -> np.ndarray:
    """Sample weights as given, shape (n_samples,): ones for None, a number for every sample."""
    if sample_weight is None:
        return np.ones(n_samples)
    if isinstance(sample_weight, numbers.Number):
        sample_weight = np.full(n_samples, float(sample_weight))
    sw = check_array(sample_weight, "sample_weight", ndim=1)
    if sw.shape[0] != n_samples:
        check_consistent_length(sample_weight=sw, X=np.empty(n_samples))  # X: OneClassSVM's too
    return sw


def positive_weights(sample_weight: Any, n_samples: int) -> np.ndarray:
    """LIBSVM's reading of sample weights: they scale ``C``, and one <= 0 drops the sample.

    Refused when no sample is left. A number is that weight for every sample.
    """
    sw = read_weights(sample_weight, n_samples)
    if not (sw > 0).any():
        raise ValueError("Invalid input - all samples have zero or negative weights.")
    return sw


NU = Interval(low=0, high=1, include_low=False)  # nu in (0, 1], as LIBSVM checks it


def fill_to(total: float, bounds: np.ndarray) -> np.ndarray:
    """LIBSVM's starting point of the nu duals: the variables in order, each raised to its bound
    until ``total`` is used up (``α_k = min(C_k, total left)``), the rest 0.

    Subtracted one at a time in float64, as LIBSVM does, so that the start (and every step
    after it) is LIBSVM's to the last bit."""
    alpha = np.zeros(bounds.size)
    left = float(total)
    for k in range(bounds.size):
        if left <= 0.0:
            break
        alpha[k] = min(float(bounds[k]), left)
        left -= alpha[k]
    return alpha


def nu_total(nu: float, bounds: np.ndarray) -> float:
    """``Σ_k nu C_k``, summed in order (LIBSVM's loop; numpy's pairwise sum can differ)."""
    total = 0.0
    for c in bounds:
        total += float(c) * nu
    return total


def _n_rows(A: Any) -> int:
    """Number of samples of a raw input: ``shape[0]`` for arrays and scipy.sparse matrices
    (whose ``len`` is refused), else ``len`` (lists of strings, ...), else that of the array
    the object converts to (``__array__``)."""
    shape = getattr(A, "shape", None)
    if shape is None and not hasattr(A, "__len__"):
        shape = np.asarray(A).shape
    return shape[0] if shape is not None and len(shape) > 0 else len(A)


class BaseSVM(BaseEstimator):
    """Kernel SVM trained by :func:`~mlcanon.svm._smo.smo_solve` (see :class:`SVC`, :class:`SVR`
    for the parameters). Subclasses fill ``support_``, ``support_vectors_`` (dense rows of the
    training data), ``dual_coef_`` and ``intercept_`` and then call :meth:`_record_input`."""

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        "C": (Options(np.inf), Interval(low=0, include_low=False)),
        "kernel": (Options(*KERNELS), IsCallable()),
        "degree": Interval(numbers.Integral, low=0),
        "gamma": (Options("scale", "auto"), Interval(low=0)),
        "coef0": Interval(),
        "shrinking": BOOL,
        "verbose": (BOOL, Interval(numbers.Integral, low=0)),
        "tol": Interval(low=0, include_low=False),
        "cache_size": Interval(low=0, include_low=False),
        "max_iter": Interval(numbers.Integral, low=-1),
    }

    def _gamma_value(self, X: np.ndarray) -> float:
        if self.gamma == "scale":
            var = X.var()
            return 1.0 / (X.shape[1] * var) if var != 0 else 1.0
        if self.gamma == "auto":
            return 1.0 / X.shape[1]
        return float(self.gamma)

    def _check_fit_input(
        self, X: Any, y: Any, *, classifier: bool
    ) -> tuple[Any, np.ndarray, np.ndarray | None]:
        """``(X, y, gram)``: the Gram matrix for a precomputed or callable kernel, else None.

        Also records whether the fit is sparse and the kernel's ``_gamma``."""
        # scikit-learn's record: a model fitted on sparse data scores sparse data (predict
        # refuses sparse X for one fitted on dense data, as scikit-learn's)
        self._sparse = sp.issparse(X) and not callable(self.kernel)
        self._gamma = 0.0
        if self.kernel == "precomputed" and hasattr(X, "tocsr"):
            raise TypeError("Sparse precomputed kernels are not supported (kernel='precomputed')")
        if callable(self.kernel):
            y = check_array(y, "y", ndim=1, dtype=None if classifier else np.float64)
            check_consistent_length(X=X, y=y)
            return X, y, self._call_kernel(X, X)
        # a scipy.sparse X is densified, as the SMO solver works on dense rows
        X, y = check_X_y(self, X, y, classifier=classifier, min_samples=2, accept_sparse=True)
        if self.kernel != "precomputed":
            self._gamma = self._gamma_value(X)
            return X, y, None
        if X.shape[0] != X.shape[1]:
            raise ValueError(
                "Precomputed matrix must be a square matrix. Input is a "
                f"{X.shape[0]}x{X.shape[1]} matrix."
            )
        return X, y, X

    def _call_kernel(self, A: Any, B: Any) -> np.ndarray:
        K = check_array(self.kernel(A, B), "kernel(A, B)", ndim=2)
        if K.shape != (_n_rows(A), _n_rows(B)):
            raise ValueError(
                f"kernel(A, B) must return the Gram matrix of shape (n_A, n_B) = "
                f"({_n_rows(A)}, {_n_rows(B)}); got shape {K.shape}"
            )
        return K

    def _solve(
        self,
        X: np.ndarray,
        rows: np.ndarray,
        y: np.ndarray,
        p: np.ndarray,
        index: np.ndarray,
        C: np.ndarray,
        gram: bool,
        alpha0: np.ndarray | None = None,
        nu: bool = False,
    ) -> tuple[np.ndarray, float, float, int, bool]:
        """SMO on the samples ``rows`` of ``X`` (of the Gram matrix if ``gram``), variables as
        in :func:`~mlcanon.svm._smo.smo_solve` (starting from ``alpha0``, default 0; ``nu``: the
        nu-SVM duals); returns ``(y * alpha, rho, r, n_iter, converged)``.
        """
        n_slots = int(self.cache_size * 2**20 / (4 * rows.size))  # float32 kernel rows
        return smo_solve(
            np.ascontiguousarray(X[np.ix_(rows, rows)] if gram else X[rows]),
            y,
            p,
            index.astype(np.int64),
            C,
            np.zeros(y.size) if alpha0 is None else alpha0,
            nu,
            PRECOMPUTED if gram else KERNELS.index(self.kernel),
            self._gamma,
            float(self.coef0),
            int(self.degree),
            float(self.tol),
            int(self.max_iter),
            n_slots,
        )

    def _warn_stopped_early(self) -> None:
        """scikit-learn's warning of a solve cut at ``max_iter``, from ``fit``."""
        warnings.warn(
            f"Solver terminated early (max_iter={self.max_iter}).  Consider pre-processing "
            "your data with StandardScaler or MinMaxScaler (SMO stopped before reaching "
            f"tol={self.tol}).",
            ConvergenceWarning,
            stacklevel=3,
        )

    @staticmethod
    def _check_finite(dual: np.ndarray, rho: np.ndarray, X: np.ndarray) -> None:
        if not (np.isfinite(dual).all() and np.isfinite(rho).all()):  # as scikit-learn refuses
            raise ValueError(
                "The dual coefficients or intercepts are not finite: the kernel overflowed. The "
                f"input data may contain large values (max |X| = {np.abs(X).max():.3g}) and need "
                "to be preprocessed (e.g. StandardScaler)."
            )

    def _record_input(self, X: Any, gram: np.ndarray | None) -> None:
        """``shape_fit_``, and the support vectors as scikit-learn keeps them: CSR after a sparse
        fit (``dual_coef_`` too), empty for a precomputed kernel, the callable's own input."""
        if self._sparse:
            self.support_vectors_ = sp.csr_matrix(self.support_vectors_)
            self.dual_coef_ = sp.csr_matrix(self.dual_coef_)
        if gram is None or callable(self.kernel):  # a scipy.sparse X has no np.shape
            self.shape_fit_ = X.shape if sp.issparse(X) else np.shape(X)
        else:
            self.shape_fit_ = gram.shape
        if self.kernel == "precomputed":
            self.support_vectors_ = np.empty((0, 0))
        elif callable(self.kernel):  # the callable's own input, to evaluate it at predict
            self.support_vectors_ = (
                X.tocsr()[self.support_] if sp.issparse(X) else np.asarray(X)[self.support_]
            )
            self._fit_X = X  # predict calls kernel(X, training input), as scikit-learn does

    def _dense_support_vectors(self) -> np.ndarray:
        sv = self.support_vectors_
        return sv.toarray() if sp.issparse(sv) else sv

    def _support_kernel(self, X: Any) -> np.ndarray:
        """``K(X, support vectors)``, shape (n_samples, n_SV), for a fitted model."""
        if callable(self.kernel):
            return self._call_kernel(X, self._fit_X)[:, self.support_]
        if self.kernel == "precomputed":
            return check_X(self, X, reset=False)[:, self.support_]  # K(test, train) at the SVs
        if sp.issparse(X) and not getattr(self, "_sparse", False):
            raise ValueError(
                f"cannot use sparse input in {type(self).__name__!r} trained on dense data"
            )
        X = check_X(self, X, reset=False, accept_sparse=True)
        sv = self._dense_support_vectors()
        return kernel_matrix(X, sv, self.kernel, self._gamma, self.coef0, int(self.degree))

    def _read_only_coef(self, coef: np.ndarray) -> Any:
        """Primal weights as scikit-learn gives them (CSR after a sparse fit), read-only: a
        write would not change the model."""
        if sp.issparse(self.support_vectors_):
            coef = sp.csr_matrix(coef)
            coef.data.flags.writeable = False
        else:
            coef.flags.writeable = False
        return coef

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True  # scipy.sparse X is densified
        return tags


class OneRowSVM(BaseSVM):
    """A kernel SVM with one decision function (SVR, NuSVR, OneClassSVM): one row of dual
    coefficients, one intercept, and ``f(x) = Σ_i β_i K(x_i, x) + b``."""

    def _record_solution(
        self, keep: np.ndarray, beta: np.ndarray, rho: float, data: Any, n_iter: int, ok: bool
    ) -> None:
        """Keep the samples ``keep`` whose coefficient ``β`` is nonzero, as LIBSVM does."""
        self._check_finite(beta, np.array([rho]), data)
        nonzero = beta != 0
        self.support_ = keep[nonzero].astype(np.int32)  # LIBSVM's int, as scikit-learn's
        self.support_vectors_ = data[self.support_]
        self.dual_coef_ = beta[nonzero][None, :]
        self.intercept_ = np.array([-rho])
        self.n_support_ = np.array([self.support_.size], dtype=np.int32)
        self.n_iter_ = int(n_iter)
        self.fit_status_ = int(not ok)
        if self.fit_status_:
            self._warn_stopped_early()

    @property
    def coef_(self) -> np.ndarray:
        """Primal weights ``Σ_i β_i x_i`` (``kernel='linear'`` only), shape (1, n_features),
        read-only."""
        if self.kernel != "linear":
            raise AttributeError("coef_ is only available when using a linear kernel")
        check_is_fitted(self, "support_")
        return self._read_only_coef(self._dense_dual_coef() @ self._dense_support_vectors())

    def _decision(self, X: Any) -> np.ndarray:
        """``Σ_i β_i K(x_i, x) + b`` for each row of ``X``, shape (n_samples,)."""
        check_is_fitted(self)
        return self._support_kernel(X) @ self._dense_dual_coef()[0] + self.intercept_[0]

    def _dense_dual_coef(self) -> np.ndarray:
        dual = self.dual_coef_
        return dual.toarray() if sp.issparse(dual) else dual
