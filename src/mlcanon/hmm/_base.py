"""What every hidden Markov model shares: the Markov chain, inference and Baum-Welch.

A subclass supplies the emission model: its log-densities ``log b_j(x_t)``, its random
initialization, its sufficient statistics and its M-step.
"""

from __future__ import annotations

import logging
import numbers
import sys
import warnings
from collections import deque
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from mlcanon._estimator import ConvergenceWarning, store_params
from mlcanon._validation import (
    BOOL,
    RANDOM_STATE,
    ArrayLike,
    Interval,
    Options,
    check_option,
    check_random_state,
    check_scalar,
    validate_params,
)

from . import _kernels, _scaling

__all__ = ["BaseHMM"]

# hmmlearn reports ignored user-set parameters and too little data through logging; so do we,
# so that the same log filters and ``caplog`` checks apply.
logger = logging.getLogger(__name__)


class Letters:
    """Parameter constraint: a string made of some of the letters of ``codes``."""

    def __init__(self, codes: str) -> None:
        self.codes = codes

    def check(self, value: Any, name: str) -> Any:
        if not isinstance(value, str):
            raise TypeError(f"{name} must be {self}; got {type(value).__name__} {value!r}")
        if set(value) - set(self.codes):
            raise ValueError(f"{name} must be {self}, got {value!r}")
        return value

    def __str__(self) -> str:
        return f"a string of the letters {self.codes!r}"


# The Dirichlet / normal-Wishart prior hyper-parameters of each parameter code: a number, or
# an array shaped like the parameter (its shape is checked where it is used).
_PRIORS = {
    "s": ("startprob_prior",),
    "t": ("transmat_prior",),
    "e": ("emissionprob_prior",),
    "m": ("means_prior", "means_weight"),
    "c": ("covars_prior", "covars_weight"),
}


def chain_constraints(codes: str) -> dict[str, Any]:
    """The hyper-parameters every HMM shares, ``params`` and ``init_params`` over ``codes``,
    and the priors of those parameters."""
    priors = {name: (Interval(), ArrayLike()) for code in codes for name in _PRIORS[code]}
    return {
        **priors,
        "random_state": RANDOM_STATE,
        "verbose": (BOOL, Interval(numbers.Integral, low=0)),
        "n_components": Interval(numbers.Integral, low=1),
        "n_iter": Interval(numbers.Integral, low=0),
        "tol": Interval(low=0.0),
        "algorithm": Options("viterbi", "map"),
        "implementation": Options("log", "scaling"),
        "params": Letters(codes),
        "init_params": Letters(codes),
    }


def _log(a: np.ndarray) -> np.ndarray:
    """Elementwise log with log(0) = -inf (a forbidden transition or start)."""
    with np.errstate(divide="ignore"):
        return np.log(a)


def prior_array(value: Any, name: str, shape: tuple[int, ...]) -> np.ndarray:
    """A prior hyper-parameter broadcast to the shape of the parameter it regularizes."""
    v = np.asarray(value, dtype=np.float64)
    try:
        return np.broadcast_to(v, shape)
    except ValueError:
        raise ValueError(
            f"{name} must be a scalar or an array that broadcasts to shape {shape}, got shape "
            f"{v.shape}"
        ) from None


def _normalize_rows(a: np.ndarray, old: np.ndarray) -> np.ndarray:
    """Rows scaled to sum to 1; a row with no mass keeps its previous value."""
    s = a.sum(axis=-1, keepdims=True)
    return np.where(s > 0, a / np.where(s > 0, s, 1.0), old)


def check_lengths(lengths: Any, n_samples: int) -> np.ndarray:
    """Offsets ``[0, l1, l1 + l2, ..., n_samples]`` of the sequences laid end to end in ``X``."""
    if lengths is None:
        return np.array([0, n_samples], dtype=np.int64)
    arr = np.asarray(lengths)
    if arr.ndim != 1 or arr.size == 0 or arr.dtype.kind not in "iu":
        raise ValueError(f"lengths must be a non-empty 1-D array of integers, got {lengths!r}")
    if np.any(arr < 1):
        raise ValueError(f"lengths must all be >= 1, got {arr.tolist()}")
    if arr.sum() != n_samples:
        raise ValueError(
            f"lengths must sum to n_samples={n_samples} (the rows of X), got sum(lengths)="
            f"{int(arr.sum())}"
        )
    return np.concatenate([[0], np.cumsum(arr)]).astype(np.int64)


def _check_distribution(a: np.ndarray, name: str, shape: tuple[int, ...]) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    if a.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {a.shape}")
    if not np.isfinite(a).all() or np.any(a < 0):
        raise ValueError(f"{name} must hold finite non-negative probabilities")
    if not np.allclose(a.sum(axis=-1), 1.0):
        raise ValueError(f"{name} must sum to 1 along its last axis, got sums {a.sum(axis=-1)}")
    return a


class ConvergenceMonitor:
    """Baum-Welch's record, under hmmlearn's name and attributes (``model.monitor_``).

    Attributes
    ----------
    tol, n_iter, verbose
        The model's.
    history : deque of float
        Log-likelihood of the training data before each M-step (``lower_bounds_``).
    iter : int
        Iterations run (``n_iter_``).
    converged : bool
        hmmlearn's test: ``n_iter`` iterations were run, or the last one gained less than
        ``tol``. (``converged_`` is True only for the second.)
    """

    def __init__(self, tol: float, n_iter: int, verbose: Any) -> None:
        self.tol, self.n_iter, self.verbose = tol, n_iter, verbose
        self.history: deque[float] = deque()
        self.iter = 0

    def __repr__(self) -> str:
        fields = sorted(dict(vars(self), history=list(self.history)).items())
        return f"{type(self).__name__}(" + ", ".join(f"{k}={v!r}" for k, v in fields) + ")"

    @property
    def converged(self) -> bool:
        return self.iter == self.n_iter or (
            len(self.history) >= 2 and self.history[-1] - self.history[-2] < self.tol
        )


class BaseHMM(BaseEstimator):
    """Hidden Markov model with a Markov chain over ``n_components`` states.

    Parameters common to every emission model are documented in the subclasses.
    """

    _param_codes = "st"
    _parameter_constraints: ClassVar[dict[str, Any]] = chain_constraints("st")

    def __init__(
        self,
        n_components: int = 1,
        *,
        startprob_prior: Any = 1.0,
        transmat_prior: Any = 1.0,
        algorithm: str = "viterbi",
        random_state: Any = None,
        n_iter: int = 10,
        tol: float = 1e-2,
        verbose: bool = False,
        params: str = "st",
        init_params: str = "st",
        implementation: str = "log",
    ) -> None:
        store_params(self, locals())

    # -- hooks for the emission model ---------------------------------------------------------
    def _check_X(self, X: Any, *, reset: bool) -> np.ndarray:
        raise NotImplementedError

    def _log_frameprob(self, X: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _init_emissions(self, X: np.ndarray, rng: np.random.Generator) -> None:
        raise NotImplementedError

    def _check_emissions(self) -> None:
        raise NotImplementedError

    def _emission_mstep(self, X: np.ndarray, posteriors: np.ndarray) -> None:
        raise NotImplementedError

    def _emit(self, states: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        raise NotImplementedError

    def _n_emission_parameters(self, codes: str) -> int:
        raise NotImplementedError

    # -- checks ---------------------------------------------------------------------------------
    def _check(self) -> None:
        """Check the model's parameters (start, transitions, emissions) before they are used."""
        n = self.n_components
        self.startprob_ = _check_distribution(self.startprob_, "startprob_", (n,))
        self.transmat_ = _check_distribution(self.transmat_, "transmat_", (n, n))
        self._check_emissions()

    def _needs_init(self, code: str, name: str) -> bool:
        """Whether initialization sets ``name``: its code is in ``init_params`` (a value set by
        the user is then overwritten, which is logged) or it has no value yet."""
        if code in self.init_params:
            if hasattr(self, name):
                logger.warning(
                    "Even though the %r attribute is set, it will be overwritten during "
                    "initialization because 'init_params' contains %r",
                    name,
                    code,
                )
            return True
        return not hasattr(self, name)

    def _validated(self, X: Any, lengths: Any) -> tuple[np.ndarray, np.ndarray]:
        check_is_fitted(self, "startprob_")
        self._check()
        X = self._check_X(X, reset=False)
        return X, check_lengths(lengths, X.shape[0])

    # -- inference ------------------------------------------------------------------------------
    def _score(self, X: np.ndarray, bounds: np.ndarray, posteriors: bool) -> tuple[float, Any]:
        check_option(self.implementation, "implementation", ("log", "scaling"))
        lfp = self._log_frameprob(X)
        post = np.empty((X.shape[0] if posteriors else 0, self.n_components))
        A = self.transmat_
        if self.implementation == "scaling":
            total = _scaling.score_sequences(self.startprob_, A, lfp, bounds, post)
        else:
            total = _kernels.score_sequences(_log(self.startprob_), A, _log(A), lfp, bounds, post)
        return float(total), post

    def score_samples(self, X: Any, lengths: Any = None) -> tuple[float, np.ndarray]:
        r"""Log-likelihood of ``X`` and state posteriors, by forward-backward.

        Returns
        -------
        log_prob : float
            :math:`\sum_s \log P(x^{(s)})` over the sequences.
        posteriors : ndarray of shape (n_samples, n_components)
            :math:`\gamma_t(i) = P(z_t = i \mid x) = \alpha_t(i)\beta_t(i) / P(x)`.
        """
        X, bounds = self._validated(X, lengths)
        return self._score(X, bounds, True)

    def score(self, X: Any, lengths: Any = None, *, y: Any = None) -> float:
        r"""Log-likelihood :math:`\log P(X)` by the forward pass.

        ``lengths`` is the second argument, as in hmmlearn; a vector with one entry per sample
        that cannot be sequence lengths is taken as scikit-learn's ``y`` and ignored; ``y`` by
        keyword is ignored too.
        """
        check_is_fitted(self, "startprob_")
        self._check()
        X = self._check_X(X, reset=False)
        return self._score(X, self._bounds(X, lengths), False)[0]

    def predict_proba(self, X: Any, lengths: Any = None) -> np.ndarray:
        """Posterior state probabilities, shape (n_samples, n_components)."""
        return self.score_samples(X, lengths)[1]

    def decode(
        self, X: Any, lengths: Any = None, algorithm: str | None = None
    ) -> tuple[float, np.ndarray]:
        r"""Most likely hidden states.

        ``'viterbi'`` returns the jointly most probable path and its log-probability
        :math:`\max_z \log P(x, z)`; ``'map'`` returns the individually most probable state
        at each step (argmax of the posteriors) and the sum of their log-posteriors.
        """
        algorithm = check_option(algorithm or self.algorithm, "algorithm", ("viterbi", "map"))
        X, bounds = self._validated(X, lengths)
        if algorithm == "map":
            _, post = self._score(X, bounds, True)
            with np.errstate(divide="ignore"):
                return float(np.log(post.max(axis=1)).sum()), post.argmax(axis=1)
        lfp = self._log_frameprob(X)
        total, path = _kernels.viterbi(_log(self.startprob_), _log(self.transmat_), lfp, bounds)
        return float(total), path

    def get_stationary_distribution(self) -> np.ndarray:
        r"""Stationary distribution :math:`\pi` of the chain, :math:`\pi A = \pi`,
        :math:`\sum_i \pi_i = 1`: the left eigenvector of ``transmat_`` of eigenvalue 1 (its
        largest), as hmmlearn computes it. Unique when the chain is irreducible; otherwise
        one of the stationary distributions."""
        check_is_fitted(self, "transmat_")
        eigvals, eigvecs = np.linalg.eig(np.asarray(self.transmat_, dtype=np.float64).T)
        eigvec = np.real_if_close(eigvecs[:, np.argmax(eigvals)])
        return eigvec / eigvec.sum()

    def predict(self, X: Any, lengths: Any = None) -> np.ndarray:
        """Hidden state of each sample by :meth:`decode` with ``self.algorithm``."""
        return self.decode(X, lengths)[1]

    def sample(
        self, n_samples: int = 1, random_state: Any = None, currstate: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Draw a sequence of ``n_samples`` observations and the states that emitted them.

        ``currstate`` fixes the first state; ``random_state`` defaults to the estimator's.
        """
        check_is_fitted(self, "startprob_")
        self._check()
        check_scalar(n_samples, "n_samples", kind=numbers.Integral, low=1)
        rng = check_random_state(self.random_state if random_state is None else random_state)
        first = -1
        if currstate is not None:
            first = check_scalar(
                currstate, "currstate", kind=numbers.Integral, low=0, high=self.n_components - 1
            )
        states = _kernels.sample_states(
            np.cumsum(self.startprob_),
            np.cumsum(self.transmat_, axis=1),
            rng.uniform(size=n_samples),
            int(first),
        )
        return self._emit(states, rng), states

    # -- learning -------------------------------------------------------------------------------
    @staticmethod
    def _bounds(X: np.ndarray, lengths: Any) -> np.ndarray:
        """Sequence offsets from ``lengths`` (hmmlearn's second argument of fit and score).

        scikit-learn passes its ``y`` in that position (pipelines, estimator checks): a vector
        with one entry per sample that does not sum to ``n_samples`` cannot be lengths, so it
        is read as that ignored ``y`` -- with a warning when it could have been meant as
        lengths (positive integers: ``[2, 2, 2, 2]`` for 4 samples), which hmmlearn refuses.
        """
        n = X.shape[0]
        if lengths is not None and not np.isscalar(lengths) and np.ndim(lengths) == 1:
            arr = np.asarray(lengths)
            positive = arr.dtype.kind in "iu" and arr.size > 0 and arr.min() >= 1
            if len(arr) == n and n > 1 and not (positive and arr.sum() == n):
                if positive:
                    warnings.warn(
                        f"lengths has one entry per sample but sums to {int(arr.sum())}, not "
                        f"n_samples={n}: it is taken as scikit-learn's y and ignored, and X "
                        "as one sequence",
                        UserWarning,
                        stacklevel=3,
                    )
                lengths = None
        return check_lengths(lengths, n)

    def _init(self, X: Any, lengths: Any = None) -> np.ndarray:
        """Validate ``X`` and initialize the parameters that ``init_params`` names (or that
        have no value yet); return the validated ``X``.

        This is the step :meth:`fit` takes before Baum-Welch, under hmmlearn's name. ``lengths``
        is accepted for hmmlearn's signature: the initialization pools the sequences. When
        ``X`` holds fewer numbers than the parameters to learn (``params``), a warning is logged
        that the fit will be degenerate.
        """
        X = self._check_X(X, reset=True)
        rng = check_random_state(self.random_state)
        n = self.n_components
        if self._needs_init("s", "startprob_"):
            self.startprob_ = rng.dirichlet(np.full(n, 1.0 / n))
        if self._needs_init("t", "transmat_"):
            self.transmat_ = rng.dirichlet(np.full(n, 1.0 / n), size=n)
        self._init_emissions(X, rng)
        n_free = self._n_parameters()
        if X.size < n_free:
            logger.warning(
                "Fitting a model with %d free scalar parameters with only %d data points will "
                "result in a degenerate solution.",
                n_free,
                X.size,
            )
        return X

    def _mstep(self, X: np.ndarray, stats: tuple[Any, ...]) -> None:
        r"""Maximize the expected complete log-likelihood (MAP with Dirichlet priors).

        :math:`\pi_i \propto \max(\gamma_1(i) + p_i - 1, 0)`,
        :math:`a_{ij} \propto \max(\sum_t \xi_t(i, j) + q_{ij} - 1, 0)`; a start or a
        transition that is 0 stays 0, so left-to-right structure survives training.

        A state with no observed transition (``\sum_t \xi_t(i, \cdot) = 0``, e.g. one visited
        only at the last step of the sequences) keeps its previous row, with hmmlearn's warning
        through :mod:`logging`; hmmlearn leaves that row at 0, so its ``transmat_`` is no longer
        stochastic and its own ``score`` then refuses the model.
        """
        posteriors, start, trans = stats
        if "s" in self.params:
            prior = prior_array(self.startprob_prior, "startprob_prior", start.shape)
            new = np.maximum(prior - 1.0 + start, 0.0)
            new = np.where(self.startprob_ == 0, 0.0, new)
            self.startprob_ = _normalize_rows(new, self.startprob_)
        if "t" in self.params:
            prior = prior_array(self.transmat_prior, "transmat_prior", trans.shape)
            new = np.maximum(prior - 1.0 + trans, 0.0)
            new = np.where(self.transmat_ == 0, 0.0, new)
            if (new.sum(axis=1) == 0).any():
                logger.warning(
                    "Some rows of transmat_ have zero sum because no transition from the state "
                    "was ever observed; they keep their previous values."
                )
            self.transmat_ = _normalize_rows(new, self.transmat_)
        self._emission_mstep(X, posteriors)

    def fit(self, X: Any, lengths: Any = None, *, y: Any = None) -> BaseHMM:
        """Estimate the parameters by Baum-Welch (EM) from the initialization in ``init_params``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Sequences laid end to end.
        lengths : array-like of int, default=None
            Length of each sequence (summing to n_samples); ``None`` is one sequence. Second
            argument as in hmmlearn (``fit(X, lengths)``); scikit-learn's ``y`` passed there
            is recognised and ignored (see :meth:`_bounds`).
        y : ignored
            scikit-learn's target, accepted by keyword for pipelines and meta-estimators.
        """
        validate_params(self)
        X = self._init(X)
        bounds = self._bounds(X, lengths)
        self._check()
        self.lower_bounds_: list[float] = []
        self.converged_ = False
        n_iter = 0  # n_iter=0 only initializes (hmmlearn's tests use it so)
        for n_iter in range(1, self.n_iter + 1):
            A, lfp = self.transmat_, self._log_frameprob(X)
            if self.implementation == "scaling":
                total, *stats = _scaling.estep(self.startprob_, A, lfp, bounds)
            else:
                total, *stats = _kernels.estep(_log(self.startprob_), A, _log(A), lfp, bounds)
            if not np.isfinite(total):
                raise ValueError("X has zero probability under the current parameters")
            with np.errstate(under="ignore"):  # posteriors below the smallest float count 0
                self._mstep(X, tuple(stats))
            gain = total - self.lower_bounds_[-1] if self.lower_bounds_ else np.nan
            if self.verbose:
                print(f"{n_iter:>10d} {total:>16.8f} {gain:>+16.8f}", file=sys.stderr)
            # EM cannot lower the log-likelihood; MAP priors (or a covariance rescued by
            # CHOLESKY_RETRY) can: said as hmmlearn says it, beyond sqrt(eps) of rounding
            if gain < -(np.finfo(float).eps ** 0.5):  # False for the first iteration's NaN
                logger.warning(
                    "Model is not converging.  Current: %s is not greater than %s. Delta is %s",
                    total,
                    self.lower_bounds_[-1],
                    gain,
                )
            self.lower_bounds_.append(float(total))
            if n_iter > 1 and total - self.lower_bounds_[-2] < self.tol:
                self.converged_ = True
                break
        self.n_iter_ = n_iter
        if not self.converged_ and self.n_iter > 0:
            warnings.warn(
                f"Baum-Welch stopped after n_iter={self.n_iter} iterations with a gain of "
                "log-likelihood still >= tol; increase n_iter or tol.",
                ConvergenceWarning,
                stacklevel=2,
            )
        return self

    @property
    def monitor_(self) -> ConvergenceMonitor:
        """The fit's record under hmmlearn's names (``history``, ``iter``, ``converged``),
        read from ``lower_bounds_``."""
        if not hasattr(self, "lower_bounds_"):
            raise AttributeError(
                f"{type(self).__name__} has no monitor_ before fit: it records Baum-Welch"
            )
        monitor = ConvergenceMonitor(self.tol, self.n_iter, self.verbose)
        monitor.history.extend(self.lower_bounds_)
        monitor.iter = len(self.lower_bounds_)
        return monitor

    def _n_parameters(self, codes: str | None = None) -> int:
        """Free scalar parameters of the parameters ``codes`` names (default: ``params``)."""
        codes = self.params if codes is None else codes
        n = self.n_components
        chain = {"s": n - 1, "t": n * (n - 1)}
        return sum(chain[c] for c in "st" if c in codes) + self._n_emission_parameters(codes)

    def aic(self, X: Any, lengths: Any = None) -> float:
        r"""Akaike information criterion :math:`-2 \log L + 2p` (lower is better).

        :math:`p` counts the free scalars of every parameter of the model, those left out of
        ``params`` (held fixed by the fit) too, as hmmlearn counts them."""
        return -2 * self.score(X, lengths) + 2 * self._n_parameters(self._param_codes)

    def bic(self, X: Any, lengths: Any = None) -> float:
        r"""Bayesian information criterion :math:`-2 \log L + p \log n` (lower is better).

        :math:`p` is that of :meth:`aic`: every parameter of the model, as hmmlearn counts."""
        n = len(X)
        return -2 * self.score(X, lengths) + self._n_parameters(self._param_codes) * np.log(n)
