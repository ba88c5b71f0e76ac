"""Support vector classification: one SMO problem per pair of classes."""

from __future__ import annotations

import warnings
from typing import Any, ClassVar

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from mlcanon._estimator import class_weights, encode_labels, store_params
from mlcanon._validation import BOOL, CLASS_WEIGHT, RANDOM_STATE, Options, validate_params

from ._base import NU, BaseSVM, fill_to, nu_total, positive_weights, read_weights

__all__ = ["SVC", "NuSVC"]


def _masking_weights(sample_weight: Any, n_samples: int, y_index: np.ndarray) -> np.ndarray:
    """:func:`positive_weights`, also refused when the samples left are of a single class."""
    sw = positive_weights(sample_weight, n_samples)
    if np.unique(y_index[sw > 0]).size < 2:
        raise ValueError(
            "Invalid input - all samples with positive weights belong to the same class."
        )
    return sw


def _ovr_scores(dec: np.ndarray, n_classes: int) -> np.ndarray:
    """One-vs-one decisions to per-class scores: votes plus a tie-breaking confidence squeezed
    into (-1/3, 1/3), so it can reorder classes with equal votes but never override a vote.

    A pairwise decision of exactly 0 is a vote for the pair's first class here, as in
    scikit-learn's ``decision_function``; :meth:`SVC.predict`'s majority vote gives it to the
    second class, as LIBSVM's predict does. So far from every support vector (where each
    decision is its intercept) the two can disagree, in both libraries alike."""
    votes = np.zeros((dec.shape[0], n_classes))
    confidence = np.zeros((dec.shape[0], n_classes))
    p = 0
    for a in range(n_classes):
        for b in range(a + 1, n_classes):
            confidence[:, a] += dec[:, p]
            confidence[:, b] -= dec[:, p]
            votes[:, a] += dec[:, p] >= 0
            votes[:, b] += dec[:, p] < 0
            p += 1
    return votes + confidence / (3.0 * (np.abs(confidence) + 1.0))


class _BaseSVC(ClassifierMixin, BaseSVM):
    """What :class:`SVC` and :class:`NuSVC` share: the one-vs-one fit (a subclass solves each
    pair in :meth:`_solve_pair`), the LIBSVM layout of the model, decisions and votes."""

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> _BaseSVC:
        """Fit on ``X`` (n_samples, n_features) and labels ``y``; ``sample_weight`` scales C."""
        validate_params(self)
        name = type(self).__name__
        if not (isinstance(self.probability, str) and self.probability == "deprecated"):
            if self.probability:
                raise ValueError(
                    f"probability=True is not offered (Platt scaling inside {name} is "
                    "deprecated in scikit-learn 1.9); use "
                    f"CalibratedClassifierCV({name}(), ensemble=False) for predict_proba"
                )
            warnings.warn(
                "The `probability` parameter was deprecated in 1.9 and will be removed in "
                f"version 1.11. Use `CalibratedClassifierCV({name}(), ensemble=False)` "
                f"instead of `{name}(probability=True)`",
                FutureWarning,
                stacklevel=2,
            )
        X, y, gram = self._check_fit_input(X, y, classifier=True)
        self.classes_, y_index = encode_labels(y, min_classes=2)
        self._check_feasible(sample_weight, y_index)
        sw = _masking_weights(sample_weight, len(y), y_index)
        self.class_weight_ = class_weights(self.class_weight, self.classes_, y_index)
        keep = sw > 0  # a zero or negative weight removes the sample from the problem (LIBSVM)
        members = [np.flatnonzero(keep & (y_index == c)) for c in range(len(self.classes_))]
        for c, idx in enumerate(members):
            if idx.size == 0:
                raise ValueError(
                    f"class {self.classes_[c]!r} has no sample with positive "
                    "sample_weight; every class needs at least one"
                )
        self._fit_pairs(X if gram is None else gram, sw, members, gram is not None)
        if self.fit_status_:
            self._warn_stopped_early()
        self._record_input(X, gram)
        return self

    @property
    def coef_(self) -> np.ndarray:
        """Primal weights of each pairwise classifier (``kernel='linear'`` only), read-only."""
        if self.kernel != "linear":
            raise AttributeError("coef_ is only available when using a linear kernel")
        check_is_fitted(self, "support_")
        start = np.concatenate([[0], np.cumsum(self.n_support_)])
        sv, dual, n_classes = self._dense_support_vectors(), self._dual_coef_, len(self.classes_)
        rows = []
        for a in range(n_classes):
            sa = slice(start[a], start[a + 1])
            for b in range(a + 1, n_classes):
                sb = slice(start[b], start[b + 1])
                rows.append(dual[b - 1, sa] @ sv[sa] + dual[a, sb] @ sv[sb])
        return self._read_only_coef(np.array(rows) * (-1.0 if n_classes == 2 else 1.0))

    def _check_feasible(self, sample_weight: Any, y_index: np.ndarray) -> None:
        """Refuse a problem with no solution before fitting (nothing to check for C-SVC)."""

    def _fit_pairs(
        self, X: np.ndarray, sw: np.ndarray, members: list[np.ndarray], gram: bool
    ) -> None:
        n_classes = len(self.classes_)
        alphas, rhos, n_iters, status = {}, [], [], 0
        for a in range(n_classes):
            for b in range(a + 1, n_classes):
                coef, rho, n_iter, ok = self._solve_pair(X, sw, members, a, b, gram)
                alphas[a, b] = coef
                rhos.append(rho)
                n_iters.append(n_iter)
                status = status or int(not ok)
        self._build_model(X, members, alphas, np.array(rhos))
        self.n_iter_ = np.array(n_iters, dtype=np.int32)
        self.fit_status_ = status

    def _build_model(self, X, members, alphas, rho) -> None:
        """Collect the support vectors (nonzero α in any pair) and lay out ``dual_coef_``."""
        n_classes = len(self.classes_)
        nonzero = [np.zeros(m.size, dtype=bool) for m in members]
        for (a, b), coef in alphas.items():
            nonzero[a] |= coef[: members[a].size] != 0
            nonzero[b] |= coef[members[a].size :] != 0
        self.n_support_ = np.array([nz.sum() for nz in nonzero], dtype=np.int32)
        support = [m[nz] for m, nz in zip(members, nonzero, strict=True)]
        self.support_ = np.concatenate(support).astype(np.int32)  # LIBSVM's int, as sklearn
        self.support_vectors_ = X[self.support_]
        start = np.concatenate([[0], np.cumsum(self.n_support_)])
        dual = np.zeros((max(n_classes - 1, 1), self.support_.size))
        for (a, b), coef in alphas.items():
            na = members[a].size
            dual[b - 1, start[a] : start[a + 1]] = coef[:na][nonzero[a]]
            dual[a, start[b] : start[b + 1]] = coef[na:][nonzero[b]]
        self._check_finite(dual, rho, X)
        # LIBSVM's convention: decision = Σ coef K - ρ, positive for the first class of a pair
        self._dual_coef_, self._intercept_ = dual, -rho
        flip = -1.0 if n_classes == 2 else 1.0  # two classes: positive means classes_[1]
        self.dual_coef_, self.intercept_ = flip * dual, flip * -rho

    def _ovo_decision(self, X: Any) -> np.ndarray:
        """Pairwise decisions in LIBSVM's sign, shape (n_samples, n_pairs)."""
        check_is_fitted(self)
        K = self._support_kernel(X)
        start = np.concatenate([[0], np.cumsum(self.n_support_)])
        n_classes = len(self.classes_)
        dec = np.empty((K.shape[0], len(self._intercept_)))
        p = 0
        for a in range(n_classes):
            sa = slice(start[a], start[a + 1])
            for b in range(a + 1, n_classes):
                sb = slice(start[b], start[b + 1])
                dec[:, p] = (
                    K[:, sa] @ self._dual_coef_[b - 1, sa]
                    + K[:, sb] @ self._dual_coef_[a, sb]
                    + self._intercept_[p]
                )
                p += 1
        return dec

    def decision_function(self, X: Any) -> np.ndarray:
        """Signed distance-like scores: (n_samples,) for two classes (positive means
        ``classes_[1]``); else (n_samples, n_classes) for 'ovr' or (n_samples, n_pairs)."""
        dec = self._ovo_decision(X)
        if len(self.classes_) == 2:
            return -dec.ravel()
        if self.decision_function_shape == "ovr":
            return _ovr_scores(dec, len(self.classes_))
        return dec

    def predict(self, X: Any) -> np.ndarray:
        """Majority vote of the pairwise classifiers (ties: the first class)."""
        if self.break_ties and self.decision_function_shape == "ovo":
            raise ValueError("break_ties must be False when decision_function_shape is 'ovo'")
        dec = self._ovo_decision(X)
        n_classes = len(self.classes_)
        if self.break_ties and n_classes > 2:
            return self.classes_[np.argmax(_ovr_scores(dec, n_classes), axis=1)]
        votes = np.zeros((dec.shape[0], n_classes), dtype=np.int64)
        p = 0
        for a in range(n_classes):
            for b in range(a + 1, n_classes):
                votes[:, a] += dec[:, p] > 0
                votes[:, b] += dec[:, p] <= 0
                p += 1
        return self.classes_[np.argmax(votes, axis=1)]


class SVC(_BaseSVC):
    r"""Kernel support vector classifier (C-SVM) trained by SMO; one-vs-one for many classes.

    Parameters
    ----------
    C : float > 0 or ``np.inf``, default 1.0
        Penalty on margin violations (upper bound of the dual variables); ``np.inf`` is the
        hard margin (unbounded multipliers). On data that the kernel does not separate the
        hard-margin dual is unbounded, and with ``max_iter=-1`` SMO does not stop (LIBSVM,
        and so scikit-learn, neither): give ``max_iter`` or a finite ``C`` there.
    kernel : {'linear', 'poly', 'rbf', 'sigmoid', 'precomputed'} or callable, default 'rbf'
        'precomputed': ``X`` is the Gram matrix (n_samples, n_samples) at fit and
        ``K(X_test, X_train)`` (n_test, n_samples) at predict. A callable ``k(A, B)`` returns
        the Gram matrix (n_A, n_B); it receives the data as given (strings, for instance).
    degree : int >= 0, default 3
        Degree of the polynomial kernel.
    gamma : {'scale', 'auto'} or float >= 0, default 'scale'
        Kernel coefficient: 'scale' is ``1 / (n_features * X.var())``, 'auto' ``1 / n_features``.
    coef0 : float, default 0.0
        Offset of the polynomial and sigmoid kernels.
    shrinking : bool, default True
        Accepted for scikit-learn's signature; no effect (see the differences below: the
        solution is the same up to ``tol``).
    probability : bool or 'deprecated', default 'deprecated'
        scikit-learn 1.9's deprecated switch of Platt scaling: ``False`` is taken with its
        FutureWarning, ``True`` refused at fit (use ``CalibratedClassifierCV``).
    tol : float > 0, default 1e-3
        Stop when the maximal KKT violation ``m(α) - M(α)`` is below ``tol``.
    cache_size : float > 0, default 200
        Kernel cache, in MB.
    class_weight : dict, 'balanced' or None
        Multiplies ``C`` per class.
    verbose : bool or int, default False
        Accepted for scikit-learn's signature (LIBSVM's trace); no effect.
    max_iter : int, default -1
        Iteration cap per SMO problem (-1: none).
    decision_function_shape : {'ovr', 'ovo'}, default 'ovr'
        Shape of ``decision_function`` for more than two classes.
    break_ties : bool, default False
        With 'ovr' and more than two classes, predict the argmax of the decision function
        instead of the majority vote.
    random_state : None, int or Generator, default None
        Accepted for scikit-learn's signature: there it seeds only the cross-validation of
        ``probability=True`` (deprecated in scikit-learn, not offered here); SMO is
        deterministic, so it has no effect.

    Attributes
    ----------
    classes_ : array of shape (n_classes,)
    support_ : array of shape (n_SV,)
        Indices of the support vectors, grouped by class.
    support_vectors_ : array of shape (n_SV, n_features)
        Empty (0, 0) for ``kernel='precomputed'``.
    coef_ : array of shape (n_classes * (n_classes - 1) / 2, n_features)
        ``kernel='linear'`` only: the primal weights ``Σ_i y_i α_i x_i`` of each pairwise
        classifier (read-only, derived from ``dual_coef_``).
    n_support_ : array of shape (n_classes,)
    dual_coef_ : array of shape (n_classes - 1, n_SV)
        ``y_i α_i`` of each support vector in the classifiers it takes part in (LIBSVM layout:
        for the pair (a, b), class-a vectors sit in row b - 1 and class-b vectors in row a).
    intercept_ : array of shape (n_classes * (n_classes - 1) / 2,)
    n_iter_ : array of shape (n_classes * (n_classes - 1) / 2,)
    class_weight_ : array of shape (n_classes,)
    fit_status_ : int
        0 if every problem converged, 1 if one hit ``max_iter``.
    n_features_in_ : int

    Notes
    -----
    Each pairwise classifier solves

    .. math::

        \min_{\alpha} \tfrac12 \alpha^T Q \alpha - \mathbf 1^T \alpha, \quad
        0 \le \alpha_i \le C, \; y^T \alpha = 0, \quad Q_{ij} = y_i y_j K(x_i, x_j)

    and predicts with ``f(x) = Σ_i y_i α_i K(x_i, x) + b``; only the support vectors
    (``α_i > 0``) contribute. See :mod:`mlcanon.svm._smo` for the solver.

    Differences from scikit-learn's ``SVC``: no ``shrinking`` heuristic (the kernel cache
    already holds every row for a few thousand samples, and the steps taken are the same as
    LIBSVM's with ``shrinking=False``) and no ``probability`` (deprecated there; use
    ``CalibratedClassifierCV``). A scipy.sparse ``X`` is taken, as there, and densified for the
    solver; after a sparse fit ``support_vectors_``, ``dual_coef_`` and ``coef_`` are CSR
    matrices, as scikit-learn's. As there, a model fitted on dense data refuses sparse ``X``.

    References
    ----------
    Cortes & Vapnik (1995), "Support-vector networks", Machine Learning 20(3). Fan, Chen & Lin
    (2005), JMLR 6 (working-set selection). Chang & Lin (2011), "LIBSVM", ACM TIST 2(3).
    """

    def __init__(
        self,
        *,
        C: float = 1.0,
        kernel: str = "rbf",
        degree: int = 3,
        gamma: str | float = "scale",
        coef0: float = 0.0,
        shrinking: bool = True,
        probability: Any = "deprecated",
        tol: float = 1e-3,
        cache_size: float = 200,
        class_weight: Any = None,
        verbose: bool = False,
        max_iter: int = -1,
        decision_function_shape: str = "ovr",
        break_ties: bool = False,
        random_state: Any = None,
    ) -> None:
        store_params(self, locals())

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        **BaseSVM._parameter_constraints,
        "probability": (BOOL, Options("deprecated")),
        "decision_function_shape": Options("ovr", "ovo"),
        "break_ties": BOOL,
        "class_weight": CLASS_WEIGHT,
        "random_state": RANDOM_STATE,
    }

    def _solve_pair(self, X, sw, members, a, b, gram):
        """C-SVC for classes ``a`` (+1) and ``b`` (-1): ``C_i = C w_i`` times the class weight."""
        idx = np.concatenate([members[a], members[b]])
        y_sub = np.concatenate([np.ones(members[a].size), -np.ones(members[b].size)])
        C_sub = self.C * np.concatenate(
            [self.class_weight_[a] * sw[members[a]], self.class_weight_[b] * sw[members[b]]]
        )
        for k, part in ((a, C_sub[: members[a].size]), (b, C_sub[members[a].size :])):
            if not part.any():  # every alpha of the class is 0: rho has no value
                raise ValueError(
                    f"class {self.classes_[k]} has C * class_weight * sample_weight "
                    "= 0 for every sample, so its pairwise problems have no "
                    f"intercept; got class_weight={self.class_weight!r}"
                )
        p, index = -np.ones(idx.size), np.arange(idx.size)  # C-SVC: p = -e, identity
        coef, rho, _, n_iter, ok = self._solve(X, idx, y_sub, p, index, C_sub, gram)
        return coef, rho, n_iter, ok


class NuSVC(_BaseSVC):
    r"""Nu-support vector classifier trained by SMO (LIBSVM's ``Solver_NU``); one-vs-one for
    many classes.

    Parameters
    ----------
    nu : float in (0, 1], default 0.5
        Upper bound on the fraction of margin errors and lower bound on the fraction of
        support vectors (of each pairwise problem). It must be feasible: for every pair of
        classes with sample-weight sums ``n_a, n_b``, ``nu (n_a + n_b) / 2 <= min(n_a, n_b)``.
    kernel : {'linear', 'poly', 'rbf', 'sigmoid', 'precomputed'} or callable, default 'rbf'
        As in :class:`SVC`.
    degree : int >= 0, default 3
        Degree of the polynomial kernel.
    gamma : {'scale', 'auto'} or float >= 0, default 'scale'
        Kernel coefficient: 'scale' is ``1 / (n_features * X.var())``, 'auto' ``1 / n_features``.
    coef0 : float, default 0.0
        Offset of the polynomial and sigmoid kernels.
    shrinking : bool, default True
        Accepted for scikit-learn's signature; no effect (as in :class:`SVC`).
    probability : bool or 'deprecated', default 'deprecated'
        As in :class:`SVC`: ``False`` is taken with scikit-learn's FutureWarning, ``True``
        refused at fit (use ``CalibratedClassifierCV``).
    tol : float > 0, default 1e-3
        Stop when the maximal KKT violation (within each label) is below ``tol``.
    cache_size : float > 0, default 200
        Kernel cache, in MB.
    class_weight : dict, 'balanced' or None
        Recorded in ``class_weight_``; it changes nothing, as in LIBSVM (and so scikit-learn),
        whose nu-SVC takes no per-class ``C``.
    verbose : bool or int, default False
        Accepted for scikit-learn's signature (LIBSVM's trace); no effect.
    max_iter : int, default -1
        Iteration cap per SMO problem (-1: none).
    decision_function_shape : {'ovr', 'ovo'}, default 'ovr'
        Shape of ``decision_function`` for more than two classes.
    break_ties : bool, default False
        As in :class:`SVC`.
    random_state : None, int or Generator, default None
        Accepted for scikit-learn's signature; no effect (SMO is deterministic).

    Attributes
    ----------
    The attributes of :class:`SVC`: ``classes_``, ``support_``, ``support_vectors_``,
    ``n_support_``, ``dual_coef_``, ``coef_`` (linear kernel), ``intercept_``, ``n_iter_``,
    ``class_weight_``, ``fit_status_``, ``shape_fit_``, ``n_features_in_``.

    Notes
    -----
    Each pairwise problem, with labels ``y_i = ±1`` and sample weights ``w_i`` (a sample of
    weight <= 0 is left out, as LIBSVM does), solves

    .. math::

        \min_\alpha \tfrac12 \alpha^T Q \alpha, \quad 0 \le \alpha_i \le w_i, \;
        y^T \alpha = 0, \; \mathbf 1^T \alpha = \nu \textstyle\sum_i w_i, \quad
        Q_{ij} = y_i y_j K(x_i, x_j),

    from LIBSVM's starting point (each label's first variables at their bounds until
    ``ν Σ w / 2`` is used up). The two offsets ``r_±`` of the labels' free gradients give
    ``ρ = (r_+ - r_-) / 2`` and ``r = (r_+ + r_-) / 2``; scaled by ``1 / r`` the solution is
    the C-SVC one with ``C = 1 / r`` (Chang & Lin 2001): the model keeps ``y_i α_i / r`` and
    ``ρ / r``, and predicts as :class:`SVC`.

    Differences from scikit-learn's ``NuSVC``: no ``shrinking`` heuristic (the steps are
    LIBSVM's with ``shrinking=False``) and no ``probability`` (deprecated there).

    References
    ----------
    Schölkopf, Smola, Williamson & Bartlett (2000), "New support vector algorithms", Neural
    Computation 12(5). Chang & Lin (2001), "Training nu-support vector classifiers: theory and
    algorithms", Neural Computation 13(9). Chang & Lin (2011), "LIBSVM", ACM TIST 2(3),
    Sections 2.2 and 4.
    """

    def __init__(
        self,
        *,
        nu: float = 0.5,
        kernel: str = "rbf",
        degree: int = 3,
        gamma: str | float = "scale",
        coef0: float = 0.0,
        shrinking: bool = True,
        probability: Any = "deprecated",
        tol: float = 1e-3,
        cache_size: float = 200,
        class_weight: Any = None,
        verbose: bool = False,
        max_iter: int = -1,
        decision_function_shape: str = "ovr",
        break_ties: bool = False,
        random_state: Any = None,
    ) -> None:
        store_params(self, locals())

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        **{k: v for k, v in SVC._parameter_constraints.items() if k != "C"},
        "nu": NU,
    }

    def _check_feasible(self, sample_weight: Any, y_index: np.ndarray) -> None:
        """LIBSVM's check, on the weights as given (those <= 0 included): for every pair of
        classes with weight sums ``n_a, n_b``, ``nu (n_a + n_b) / 2 <= min(n_a, n_b)``."""
        sw = read_weights(sample_weight, y_index.size)
        counts = [float(np.sum(sw[y_index == c])) for c in range(len(self.classes_))]
        for a, n_a in enumerate(counts):
            for b in range(a + 1, len(counts)):
                n_b = counts[b]
                if self.nu * (n_a + n_b) / 2 > min(n_a, n_b):
                    raise ValueError(
                        f"specified nu is infeasible: nu={self.nu} needs nu * (n_a + n_b) / 2 "
                        "<= min(n_a, n_b) for every pair of classes, n the sum of the "
                        f"sample weights; classes {self.classes_[a]!r} and "
                        f"{self.classes_[b]!r} have {n_a:g} and {n_b:g}"
                    )

    def _solve_pair(self, X, sw, members, a, b, gram):
        """Nu-SVC for classes ``a`` (+1) and ``b`` (-1), rescaled by ``1 / r``."""
        idx = np.concatenate([members[a], members[b]])
        na = members[a].size
        y_sub = np.concatenate([np.ones(na), -np.ones(members[b].size)])
        C = sw[idx]
        half = nu_total(float(self.nu), C) / 2  # each label's share of nu * sum(C)
        alpha0 = np.concatenate([fill_to(half, C[:na]), fill_to(half, C[na:])])
        zeros, index = np.zeros(idx.size), np.arange(idx.size)
        coef, rho, r, n_iter, ok = self._solve(X, idx, y_sub, zeros, index, C, gram, alpha0, True)
        if r == 0.0:  # LIBSVM divides anyway, and scikit-learn refuses the infinite result
            raise ValueError(
                "The dual coefficients or intercepts are not finite: the nu-SVC solution for "
                f"classes {self.classes_[a]!r} and {self.classes_[b]!r} has offset r = 0, so "
                "its rescaling to C-SVC (C = 1 / r) is infinite; a smaller nu or another "
                "kernel may help."
            )
        return coef * (1.0 / r), rho / r, n_iter, ok
