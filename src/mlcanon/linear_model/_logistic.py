"""Logistic regression: binary, multinomial (softmax) and one-vs-rest; L2, L1 and elastic net."""

from __future__ import annotations

import numbers
import warnings
from typing import Any, ClassVar

import numpy as np
import scipy.linalg
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_is_fitted

from mlcanon._estimator import (
    check_X,
    check_X_y,
    class_weights,
    encode_labels,
    float_dtype,
    sample_weight_or_none,
    store_params,
)
from mlcanon._special import expit, log_softmax
from mlcanon._validation import (
    BOOL,
    CLASS_WEIGHT,
    RANDOM_STATE,
    Interval,
    Options,
    check_random_state,
    validate_params,
)

from ._logistic_liblinear import check_liblinear_data, fit_liblinear
from ._logistic_loss import LogisticLoss
from ._newton import newton
from ._proximal import fista
from ._saga import LOGISTIC, SOFTMAX, saga, step_size

__all__ = ["LogisticRegression"]

SOLVERS = ("lbfgs", "newton-cholesky", "gd", "newton-cg", "fista", "sag", "saga", "liblinear")
L1_SOLVERS = ("fista", "saga", "liblinear")
PENALTIES = ("l2", "l1", "elasticnet", None)
# what each solver says when it stops at max_iter (scikit-learn's wording, which users filter on)
NOT_CONVERGED = {
    "lbfgs": "lbfgs failed to converge after {n} iteration(s)",
    "newton-cholesky": "Newton solver did not converge after {n} iterations",
    "newton-cg": "newton-cg failed to converge after {n} iteration(s)",
    "sag": "The max_iter was reached which means the coef_ did not converge ({n} epochs)",
    "gd": "gd failed to converge after {n} iteration(s)",
    "fista": "fista failed to converge after {n} iteration(s)",
}
NOT_CONVERGED["saga"] = NOT_CONVERGED["sag"]
LIBLINEAR_NOT_CONVERGED = "Liblinear failed to converge, increase the number of iterations."


def fit_weights(sample_weight, class_weight, classes, y_index) -> tuple[Any, np.ndarray]:
    """``(sw, weights)``: the checked ``sample_weight`` (None when not given) and each row's
    weight in the loss, ``sw`` times its class's weight; refused when those sum to zero."""
    sw = sample_weight_or_none(sample_weight, len(y_index))
    per_class = class_weights(class_weight, classes, y_index, sw)
    weights = (np.ones(len(y_index)) if sw is None else sw) * per_class[y_index]
    if not weights.sum() > 0:
        raise ValueError(
            "sample_weight, class_weight: the sample weights times the class weights sum to "
            f"zero: nothing to fit; got class_weight={class_weight!r} (weights by class "
            f"{dict(zip(classes.tolist(), per_class.tolist(), strict=True))}) and sample_weight "
            f"{'None (all ones)' if sw is None else f'summing to {sw.sum():g}'}"
        )
    return sw, weights


class LogisticRegression(ClassifierMixin, BaseEstimator):
    r"""Logistic regression fitted by L-BFGS, Newton (IRLS), gradient descent or FISTA.

    Parameters
    ----------
    penalty : {'l2', 'l1', 'elasticnet', None}, deprecated
        scikit-learn >= 1.8 spells the penalty through ``l1_ratio`` and ``C``; setting
        ``penalty`` still works and gives a ``FutureWarning``, as there.
    C : float > 0 or ``np.inf``, default 1.0
        Inverse penalty strength (larger C, weaker penalty); ``np.inf`` fits without penalty.
    l1_ratio : float in [0, 1], default 0.0
        Share of the L1 term: 0 is the L2 penalty, 1 the L1 penalty, in between the elastic
        net. A positive share needs ``solver='fista'``, ``'saga'`` or (1 only) ``'liblinear'``.
    dual : bool, default False
        Solve the dual problem (``solver='liblinear'`` with the L2 penalty only).
    fit_intercept : bool, default True
    intercept_scaling : float > 0, default 1.0
        ``solver='liblinear'`` only: the value ``c`` of the synthetic constant feature whose
        penalized weight ``w_c`` gives the intercept ``c w_c``; a larger ``c`` penalizes the
        intercept less. The other solvers never penalize the intercept and ignore it.
    class_weight : dict, 'balanced' or None
        Multiplies the sample weights per class.
    random_state : None, int or numpy.random.Generator, default None
        Order in which 'sag', 'saga' and 'liblinear' with ``dual=True`` visit the samples (the
        other solvers are deterministic).
    solver : {'lbfgs', 'newton-cholesky', 'newton-cg', 'gd', 'fista', 'sag', 'saga', 'liblinear'}
        Default 'lbfgs'. 'lbfgs' and 'gd' use :func:`mlcanon.optim.minimize` ('lbfgs' with
        L-BFGS-B's line search and first step, scikit-learn's path and ``n_iter_``);
        'newton-cholesky' is Newton's method with the exact Hessian (iteratively reweighted
        least squares; on a Hessian too ill-conditioned to factor it warns
        (``LinAlgWarning``) and goes on with 'lbfgs', as scikit-learn's), 'newton-cg' solves
        each Newton step by conjugate gradient (:mod:`mlcanon.linear_model._newton`);
        'fista' is accelerated proximal gradient; 'sag' and 'saga' are incremental gradient
        methods (:mod:`mlcanon.linear_model._saga`), ``max_iter`` counting epochs. 'fista' and
        'saga' handle the L1 term. 'liblinear' solves scikit-learn's liblinear problem (one
        binary fit per class, penalized intercept, L2 primal or dual, or L1; see
        :mod:`mlcanon.linear_model._logistic_liblinear`) with this package's solvers: Newton-CG,
        proximal Newton, or dual coordinate descent; its ``n_iter_`` counts their steps, not
        liblinear's. It needs ``multi_class='ovr'`` for more than two classes (scikit-learn
        1.9 refuses those outright and points to ``OneVsRestClassifier``, which gives the same
        model), and fits ``float32`` data in float64, returning float64 coefficients, as there;
        it ignores ``warm_start``.
    multi_class : {'auto', 'multinomial', 'ovr'}, default 'auto'
        With more than two classes: one softmax model ('auto', 'multinomial') or one binary
        model per class against the rest ('ovr').
    tol : float >= 0, default 1e-4
        Stop when the largest gradient entry (for 'fista': of the smallest subgradient) of the
        objective divided by the total sample weight is below ``tol``.
    n_jobs : None, deprecated
        scikit-learn >= 1.8 ignores it and warns (FutureWarning); so does this class.
    max_iter : int >= 0, default 100
        0 returns the starting point (zeros, or the previous fit with ``warm_start``).
    warm_start : bool, default False
    verbose : int >= 0, default 0
        A positive value prints one line per fitted model (the solver, its iterations, the
        smooth part of the objective and its largest gradient entry, whether it converged).

    Attributes
    ----------
    classes_ : array of shape (n_classes,)
    coef_ : array of shape (1, n_features) for two classes, else (n_classes, n_features)
        float32 for float32 ``X`` (the solvers run in float64), as scikit-learn.
    intercept_ : array of shape (1,) or (n_classes,)
        (the float 0.0 with ``solver='liblinear'`` and ``fit_intercept=False``, as scikit-learn)
    n_iter_ : array of shape (1,) or (n_classes,) for 'ovr'
    n_features_in_ : int

    Notes
    -----
    The model is ``P(y = 1 | x) = σ(w^T x + b)`` (binary) or ``softmax(W x + b)``; maximizing the
    Bernoulli / categorical likelihood is minimizing the log-loss:

    .. math::

        \min_{W, b} \; C \sum_i s_i \, \ell(y_i, W x_i + b)
        + \rho \lVert W \rVert_1 + \frac{1 - \rho}{2} \lVert W \rVert_F^2

    with ``ρ = l1_ratio`` (scikit-learn's objective). The gradient of the loss is
    ``X^T (p - y)``; see :mod:`mlcanon.linear_model._logistic_loss`. scikit-learn >= 1.8 fits
    one-vs-rest through ``OneVsRestClassifier``; ``multi_class='ovr'`` here keeps its
    long-standing interface.

    References
    ----------
    Cox (1958), "The regression analysis of binary sequences", JRSS B 20(2). Hastie,
    Tibshirani & Friedman (2009), *The Elements of Statistical Learning*, 2nd ed., Section 4.4.
    Beck & Teboulle (2009), SIAM J. Imaging Sci. 2(1) (FISTA).
    """

    def __init__(
        self,
        penalty: str | None = "deprecated",
        *,
        C: float = 1.0,
        l1_ratio: float | None = 0.0,
        fit_intercept: bool = True,
        class_weight: Any = None,
        random_state: Any = None,
        solver: str = "lbfgs",
        multi_class: str = "auto",
        tol: float = 1e-4,
        max_iter: int = 100,
        warm_start: bool = False,
        verbose: int = 0,
        n_jobs: int | None = None,
        dual: bool = False,
        intercept_scaling: float = 1.0,
    ) -> None:
        store_params(self, locals())

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        "penalty": Options(*PENALTIES, "deprecated"),
        "C": (Options(np.inf), Interval(low=0, include_low=False)),
        "l1_ratio": (None, Interval(low=0, high=1)),
        "fit_intercept": BOOL,
        "solver": Options(*SOLVERS),
        "multi_class": Options("auto", "multinomial", "ovr"),
        "tol": Interval(low=0),
        "max_iter": Interval(numbers.Integral, low=0),
        "warm_start": BOOL,
        "verbose": (BOOL, Interval(numbers.Integral, low=0)),
        "n_jobs": (None, Interval(numbers.Integral)),
        "class_weight": CLASS_WEIGHT,
        "random_state": RANDOM_STATE,
        "dual": BOOL,
        "intercept_scaling": Interval(low=0, include_low=False),
    }

    def _penalty(self) -> str | None:
        """The penalty that ``penalty``, ``l1_ratio`` and ``C`` spell, with scikit-learn's
        warnings for the deprecated and the inconsistent spellings."""
        if self.penalty == "deprecated":
            if self.l1_ratio is None:
                warnings.warn(
                    "'l1_ratio=None' was deprecated in scikit-learn 1.8; give a float in [0, 1]",
                    FutureWarning,
                    stacklevel=3,
                )
            ratio = self.l1_ratio or 0.0
            penalty = "l2" if ratio == 0 else "l1" if ratio == 1 else "elasticnet"
            return None if self.C == np.inf else penalty
        warnings.warn(
            "'penalty' was deprecated in scikit-learn 1.8: use l1_ratio (0 for 'l2', 1 for "
            "'l1', in between for 'elasticnet') and C=np.inf for no penalty",
            FutureWarning,
            stacklevel=3,
        )
        ratio = self.l1_ratio
        if self.penalty != "elasticnet" and ratio is not None and 0 < ratio < 1:
            warnings.warn(
                f"l1_ratio parameter is only used when penalty is 'elasticnet'. Got "
                f"(penalty={self.penalty}): l1_ratio={ratio} is ignored",
                UserWarning,
                stacklevel=3,
            )
        if (self.penalty == "l2" and ratio != 0) or (self.penalty == "l1" and ratio != 1):
            warnings.warn(
                f"Inconsistent values: penalty={self.penalty} with l1_ratio={ratio}; "
                "penalty wins (it is deprecated: set l1_ratio alone)",
                UserWarning,
                stacklevel=3,
            )
        if self.penalty is None and self.C != 1.0:
            warnings.warn(
                f"Setting penalty=None will ignore the C and l1_ratio parameters (got C={self.C})",
                UserWarning,
                stacklevel=3,
            )
        return self.penalty

    def _l1_share(self) -> float:
        """Validate penalty/solver and return ρ, the L1 share of the penalty."""
        validate_params(self)  # C = inf is scikit-learn's spelling of "no penalty"
        if self.n_jobs is not None:
            warnings.warn(
                "'n_jobs' has no effect since 1.8 and will be removed in 1.10. You provided "
                f"'n_jobs={self.n_jobs}', please leave it unspecified.",
                FutureWarning,
                stacklevel=3,
            )
        penalty = self._penalty()
        self._penalty_ = penalty
        if penalty in ("l1", "elasticnet") and self.solver not in L1_SOLVERS:
            raise ValueError(
                f"Solver {self.solver} supports only 'l2' or None penalties, got {penalty} "
                f"penalty (l1_ratio={self.l1_ratio}); use solver 'saga', 'fista' or "
                "'liblinear' for L1 terms"
            )
        if self.dual and (self.solver != "liblinear" or penalty != "l2"):
            raise ValueError(
                f"Solver {self.solver} supports only dual=False, got dual=True"
                if self.solver != "liblinear"
                else f"dual=True needs the L2 penalty with solver 'liblinear', got {penalty}"
            )
        if self.solver == "liblinear" and penalty in (None, "elasticnet"):
            raise ValueError(
                "C=np.inf as well as penalty=None is not supported for the liblinear solver"
                if penalty is None
                else "Only 'saga' solver supports elasticnet penalty, got solver=liblinear "
                "('fista' does too in mlcanon)"
            )
        if penalty == "elasticnet":
            if self.l1_ratio is None:
                raise ValueError("penalty='elasticnet' needs l1_ratio, a float in [0, 1]")
            return float(self.l1_ratio)
        return 1.0 if penalty == "l1" else 0.0

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> LogisticRegression:
        """Fit on ``X`` (n_samples, n_features) and labels ``y`` (n_samples,)."""
        rho = self._l1_share()
        dtype = np.float64 if self.solver == "liblinear" else float_dtype(X)
        X, y = check_X_y(self, X, y, classifier=True, min_samples=2, accept_sparse=True)
        self.classes_, y_index = encode_labels(y, min_classes=2)
        if self.solver == "liblinear":
            scaling = self.intercept_scaling if self.fit_intercept else None
            check_liblinear_data(X, len(self.classes_), self.multi_class, scaling)
        _, sw = fit_weights(sample_weight, self.class_weight, self.classes_, y_index)
        self._fit_encoded(X, y_index, sw, rho, dtype)
        if self.solver == "liblinear" and not self.fit_intercept:
            self.intercept_ = 0.0  # scikit-learn's liblinear fit: a float, not an array
        return self

    def _fit_encoded(self, X, y_index, sw, rho, dtype) -> LogisticRegression:
        """Fit on checked ``X``, class indices ``y_index`` into ``classes_`` and the final
        weights ``sw``. A class of ``classes_`` may have no row (a fold of
        :class:`LogisticRegressionCV`): its scores are pushed down by the data, held by the
        penalty."""
        n_classes = len(self.classes_)
        if n_classes == 2:
            targets = [(y_index == 1).astype(float)[:, None]]
        elif self.multi_class == "ovr":
            targets = [(y_index == k).astype(float)[:, None] for k in range(n_classes)]
        else:
            targets = [np.eye(n_classes)[y_index]]
        starts = self._warm_starts(targets, X.shape[1])
        results = []
        for Y, w0 in zip(targets, starts, strict=True):  # a loop: warnings name the caller's line
            results.append(self._solve(X, Y, sw, rho, w0))
        W = np.vstack([W for W, _, _ in results])
        b = np.concatenate([b for _, b, _ in results])
        self.coef_, self.intercept_ = W.astype(dtype), b.astype(dtype)
        self.n_iter_ = np.array([n for _, _, n in results], dtype=np.int32)
        return self

    def _warm_starts(self, targets: list[np.ndarray], n_features: int) -> list:
        K = sum(Y.shape[1] for Y in targets)
        coef = getattr(self, "coef_", None)
        if not self.warm_start or coef is None or coef.shape != (K, n_features):
            return [None] * len(targets)
        intercept = np.broadcast_to(self.intercept_, (K,))[:, None]  # 0.0 after liblinear
        rows = np.split(np.hstack([coef, intercept]), len(targets))
        return [
            r[:, :-1].ravel().tolist() + (r[:, -1].tolist() if self.fit_intercept else [])
            for r in rows
        ]

    def _solve(self, X, Y, sw, rho, w0):
        """Fit one model (binary column or softmax block); returns ``(W, b, n_iter)``."""
        if self.solver == "liblinear":
            return self._liblinear(X, Y[:, 0], sw, rho)
        S = sw.sum()
        penalized = self._penalty_ is not None
        loss = LogisticLoss(
            X, Y, sw, (1.0 - rho) / (self.C * S) if penalized else 0.0, self.fit_intercept
        )
        w0 = np.zeros(loss.n_params) if w0 is None else np.asarray(w0, dtype=np.float64)
        name, message = self.solver, ""
        if self.max_iter == 0:
            w, n_iter, ok = w0, 0, False
        elif self.solver in ("sag", "saga"):
            w, n_iter, ok = self._saga(X, Y, sw, loss, w0, rho if penalized else 0.0)
        elif self.solver in ("newton-cholesky", "newton-cg"):
            w, n_iter, ok, message, name = self._newton(loss, w0)
        elif self.solver == "fista":
            l1 = np.zeros(loss.n_params)
            l1[: loss.K * X.shape[1]] = rho / (self.C * S) if penalized else 0.0
            w, n_iter, ok = fista(loss.loss_grad, l1, w0, tol=self.tol, max_iter=self.max_iter)
        else:
            w, n_iter, ok, message = self._minimize(loss, w0, self.solver, self.max_iter)
        if not ok:
            warnings.warn(
                f"{NOT_CONVERGED[name].format(n=n_iter)} to tol={self.tol}"
                f"{f' ({message})' if message else ''}. Increase the number of iterations "
                "(max_iter) or scale the data.",
                ConvergenceWarning,
                stacklevel=4,
            )
        if self.verbose:
            f, g = loss.loss_grad(w)
            print(
                f"LogisticRegression({name}): {n_iter} iterations, smooth objective {f:.6g}, "
                f"largest gradient entry {np.abs(g).max():.3g}, "
                f"{'converged' if ok else 'not converged'}"
            )
        W, b = loss.unpack(w)
        return W.copy(), b.copy(), n_iter

    def _liblinear(self, X, y, sw, rho):
        """One binary liblinear problem (:func:`fit_liblinear`): ``(W, b, n_iter)``."""
        seed = int(check_random_state(self.random_state).integers(np.iinfo(np.int32).max))
        coef, b, n_iter, ok = fit_liblinear(
            X,
            y,
            sw,
            C=self.C,
            l1=rho == 1.0,
            dual=self.dual,
            fit_intercept=self.fit_intercept,
            intercept_scaling=self.intercept_scaling,
            tol=self.tol,
            max_iter=self.max_iter,
            seed=seed,
        )
        if not ok:
            warnings.warn(
                f"{LIBLINEAR_NOT_CONVERGED} ({n_iter} iterations, tol={self.tol})",
                ConvergenceWarning,
                stacklevel=5,
            )
        if self.verbose:
            print(f"LogisticRegression(liblinear): {n_iter} iterations, converged={ok}")
        return coef[None, :], np.array([b]), n_iter

    def _minimize(self, loss, w0, method, max_iter):
        """'lbfgs' or 'gd' through :func:`mlcanon.optim.minimize`: ``(w, n_iter, ok, message)``."""
        from mlcanon.optim import minimize  # optim imports torch: load it on first use

        # lbfgs follows scipy's L-BFGS-B as scikit-learn calls it (maxls=50, ftol=64 eps, its
        # line search and first step), so that n_iter_ and the coefficients agree with it
        eps = np.finfo(np.float64).eps
        options = {"line_search": "more-thuente", "c1": 1e-3, "max_ls": 50, "ftol": 64 * eps}
        res = minimize(
            loss.loss_grad,
            w0,
            jac=True,
            method=method,
            tol=self.tol,
            max_iter=max_iter,
            **(options if method == "lbfgs" else {}),
        )
        return res.x, res.nit, res.success, res.message

    def _newton(self, loss, w0):
        """'newton-cholesky' or 'newton-cg' (:mod:`mlcanon.linear_model._newton`); returns
        ``(w, n_iter, ok, message, name)`` with the name of the solver that finished."""
        inner = self.solver.removeprefix("newton-")
        hess = loss.hessian if inner == "cholesky" else loss.hessian_product
        w, n_iter, ok, singular = newton(loss.loss_grad, hess, w0, self.tol, self.max_iter, inner)
        if not singular:
            return w, n_iter, ok, "max_iter reached or no decrease along the step", self.solver
        warnings.warn(
            f"The Hessian at Newton iteration {n_iter + 1} is singular or too ill-conditioned "
            "for a Cholesky factorization (collinear features, or more features than samples, "
            "with little or no penalty): newton-cholesky goes on with lbfgs instead.",
            scipy.linalg.LinAlgWarning,
            stacklevel=5,
        )
        budget = self.max_iter - n_iter - 1  # the failed iteration counts, as in scikit-learn
        if budget == 0:
            return w, n_iter, False, "", "lbfgs"
        w, n_lbfgs, ok, message = self._minimize(loss, w, "lbfgs", budget)
        return w, n_iter + n_lbfgs, ok, message, "lbfgs"

    def _saga(self, X, Y, sw, loss, w0, rho):
        """SAG / SAGA epochs (:mod:`mlcanon.linear_model._saga`) from the flat start ``w0``."""
        W, b = (np.array(a, dtype=np.float64) for a in loss.unpack(w0))
        if W.ndim == 1:
            W = W[None, :]
        b = np.ascontiguousarray(b, dtype=np.float64).reshape(loss.K)
        seed = int(check_random_state(self.random_state).integers(np.iinfo(np.int32).max))
        S = sw.sum()
        l1 = rho / (self.C * S)
        unbiased, code = self.solver == "saga", LOGISTIC if loss.K == 1 else SOFTMAX
        step = step_size(X, sw / S, loss.l2, self.fit_intercept, code, unbiased)
        n_iter, ok = saga(
            np.ascontiguousarray(X),
            np.ascontiguousarray(Y, dtype=np.float64),
            sw / S,
            l1,
            loss.l2,
            self.fit_intercept,
            W,
            b,
            self.max_iter,
            self.tol,
            unbiased,
            seed,
            code,
            step,
        )
        w = W.ravel().tolist() + (b.tolist() if self.fit_intercept else [])
        return np.array(w), n_iter, ok

    def decision_function(self, X: Any) -> np.ndarray:
        """Scores ``X W^T + b``: (n_samples,) for two classes, else (n_samples, n_classes)."""
        X = check_X(self, X, reset=False, accept_sparse=True, dtype=float_dtype(X))
        scores = np.asarray(X @ self.coef_.T) + self.intercept_  # coef_ may be sparse
        return scores.ravel() if scores.shape[1] == 1 else scores

    def sparsify(self) -> LogisticRegression:
        """Store ``coef_`` as a scipy.sparse CSR matrix (worth it when most weights are 0, as
        after an L1 fit); predictions are unchanged."""
        import scipy.sparse

        check_is_fitted(self)
        self.coef_ = scipy.sparse.csr_matrix(self.coef_)
        return self

    def densify(self) -> LogisticRegression:
        """Store ``coef_`` as a dense array again (undoes :meth:`sparsify`)."""
        check_is_fitted(self)
        if hasattr(self.coef_, "toarray"):
            self.coef_ = self.coef_.toarray()
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, shape (n_samples, n_classes); one-vs-rest normalizes the K
        sigmoids to sum to one."""
        scores = self.decision_function(X)
        if scores.ndim == 1:
            p = expit(scores)
            return np.column_stack([1.0 - p, p])
        return np.exp(self._log_proba(scores))

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """Logarithm of :meth:`predict_proba`, computed in the log domain."""
        scores = self.decision_function(X)
        if scores.ndim == 1:  # log σ(-s), log σ(s)
            return -np.logaddexp(0.0, np.column_stack([scores, -scores]))
        return self._log_proba(scores)

    def _log_proba(self, scores: np.ndarray) -> np.ndarray:
        """Log-probabilities of K >= 3 classes: the log-softmax of the scores, or (one-vs-rest)
        of the K log-sigmoids, ``σ_k / Σ_j σ_j`` normalized in the log domain, so that scores
        whose sigmoids all underflow to 0 still give their ratios (not 0 / 0)."""
        if self.multi_class == "ovr":
            scores = -np.logaddexp(0.0, -scores)  # log σ(s)
        return log_softmax(scores)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True  # scipy.sparse X is densified
        return tags

    def predict(self, X: Any) -> np.ndarray:
        """The class with the largest score."""
        scores = self.decision_function(X)
        index = (scores > 0).astype(int) if scores.ndim == 1 else np.argmax(scores, axis=1)
        return self.classes_[index]
