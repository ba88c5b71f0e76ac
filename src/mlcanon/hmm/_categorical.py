"""Hidden Markov model with categorical (discrete symbol) emissions."""

from __future__ import annotations

import numbers
from typing import Any, ClassVar

import numpy as np

from mlcanon._estimator import check_X, store_params
from mlcanon._validation import Interval, check_scalar

from ._base import (
    BaseHMM,
    _check_distribution,
    _log,
    _normalize_rows,
    chain_constraints,
    prior_array,
)

__all__ = ["CategoricalHMM"]


class CategoricalHMM(BaseHMM):
    r"""HMM whose state :math:`j` emits symbol :math:`k` with probability :math:`b_{jk}`.

    Parameters
    ----------
    n_components : int, default=1
        Number of hidden states :math:`N`.
    startprob_prior, transmat_prior, emissionprob_prior : float or array-like, default=1.0
        Dirichlet concentrations of the MAP estimate; 1.0 is maximum likelihood.
    n_features : int, default=None
        Number of symbols :math:`M`; ``None`` takes ``max(X) + 1`` at fit and stores it here,
        as hmmlearn does.
    algorithm : {'viterbi', 'map'}, default='viterbi'
        Decoder used by :meth:`predict`.
    random_state : None, int or numpy.random.Generator
        Seed of the random initialization and of :meth:`sample`.
    n_iter : int, default=10
        Maximum number of Baum-Welch iterations (0: initialize only).
    tol : float, default=1e-2
        Stop when the log-likelihood gains less than ``tol``.
    verbose : bool, default=False
        Print each Baum-Welch iteration's log-likelihood and its gain to stderr.
    params, init_params : str, default='ste'
        Parameters updated by training / initialized at random before it: 's' start
        probabilities, 't' transitions, 'e' emissions. A parameter left out of
        ``init_params`` must be set beforehand (``model.emissionprob_ = ...``).
    implementation : {'log', 'scaling'}, default='log'
        Forward-backward in log space, or with per-step scaled probabilities (Rabiner's
        scaling, :mod:`mlcanon.hmm._scaling`); the two agree up to rounding.

    Attributes
    ----------
    startprob_ : ndarray of shape (n_components,)
    transmat_ : ndarray of shape (n_components, n_components)
    emissionprob_ : ndarray of shape (n_components, n_features)
    lower_bounds_ : list of float
        Log-likelihood of the training data before each M-step (never decreasing).
    n_iter_ : int
    converged_ : bool
    monitor_ : ConvergenceMonitor
        The same record under hmmlearn's names: ``history``, ``iter``, ``converged`` (which,
        as hmmlearn's, is also True when ``n_iter`` iterations ran).

    Notes
    -----
    ``X`` holds one symbol per row, shape (n_samples, 1), integers in ``[0, n_features)``.
    The Baum-Welch emission update is the expected symbol frequency per state,

    .. math:: b_{jk} \propto \sum_t \gamma_t(j) [x_t = k] + (\beta_{jk} - 1)^+ .

    References
    ----------
    Rabiner, "A tutorial on hidden Markov models and selected applications in speech
    recognition", Proc. IEEE 77(2), 1989, eq. (40).
    """

    _param_codes = "ste"
    _parameter_constraints: ClassVar[dict[str, Any]] = {
        **chain_constraints("ste"),
        "n_features": (None, Interval(numbers.Integral, low=1)),
    }

    def __init__(  # hmmlearn's order and keyword-only split
        self,
        n_components: int = 1,
        startprob_prior: Any = 1.0,
        transmat_prior: Any = 1.0,
        *,
        emissionprob_prior: Any = 1.0,
        n_features: int | None = None,
        algorithm: str = "viterbi",
        random_state: Any = None,
        n_iter: int = 10,
        tol: float = 1e-2,
        verbose: bool = False,
        params: str = "ste",
        init_params: str = "ste",
        implementation: str = "log",
    ) -> None:
        store_params(self, locals())

    def _n_symbols(self) -> int | None:
        if hasattr(self, "emissionprob_"):
            return np.shape(self.emissionprob_)[1]
        return self.n_features

    def _check_X(self, X: Any, *, reset: bool) -> np.ndarray:
        if not hasattr(X, "tocsr") and np.ndim(X) == 1:
            X = np.asarray(X).reshape(-1, 1)  # one sequence of symbols
        X = check_X(self, X, reset=reset, dtype=None)
        if X.shape[1] != 1:
            raise ValueError(
                f"X must have one column of symbols, shape (n_samples, 1); got {X.shape}"
            )
        if X.dtype.kind == "f" and np.all(np.isfinite(X)) and np.all(X == np.round(X)):
            X = X.astype(np.int64)  # integral floats such as 2.0 are symbols too
        if X.dtype.kind not in "iu":
            raise ValueError(
                f"X must hold integer symbols (non-negative ints), got dtype {X.dtype}"
                + (f" with value {X[X != np.round(X)][0].item()!r}" if X.dtype.kind == "f" else "")
            )
        if X.min() < 0:
            raise ValueError(f"X must hold non-negative symbols, got {X.min()}")
        if self.n_features is not None:
            check_scalar(self.n_features, "n_features", kind=numbers.Integral, low=1)
        n_symbols = self.n_features if reset else self._n_symbols()
        if n_symbols is not None and X.max() >= n_symbols:
            raise ValueError(
                f"Largest symbol is {X.max()} but the model only emits symbols up to "
                f"{n_symbols - 1} (n_features={n_symbols})"
            )
        return X.astype(np.int64)

    def _log_frameprob(self, X: np.ndarray) -> np.ndarray:
        return _log(self.emissionprob_[:, X[:, 0]].T)  # (n_samples, n_components)

    def _init_emissions(self, X: np.ndarray, rng: np.random.Generator) -> None:
        n_symbols = self.n_features if self.n_features is not None else int(X.max()) + 1
        if self._needs_init("e", "emissionprob_"):
            b = rng.uniform(size=(self.n_components, n_symbols))
            self.emissionprob_ = b / b.sum(axis=1, keepdims=True)
        elif np.shape(self.emissionprob_)[1] <= X.max():
            raise ValueError(
                f"Largest symbol is {X.max()} but emissionprob_ has only "
                f"{np.shape(self.emissionprob_)[1]} columns"
            )

    def _check_emissions(self) -> None:
        n_symbols = np.shape(self.emissionprob_)[-1]
        if self.n_features is not None and n_symbols != self.n_features:
            raise ValueError(
                f"emissionprob_ has {n_symbols} symbols but n_features={self.n_features}"
            )
        shape = (self.n_components, n_symbols)
        self.emissionprob_ = _check_distribution(self.emissionprob_, "emissionprob_", shape)
        self.n_features = n_symbols  # hmmlearn records the alphabet size here
        self.n_features_in_ = 1

    def _emission_mstep(self, X: np.ndarray, posteriors: np.ndarray) -> None:
        if "e" not in self.params:
            return
        m = self.emissionprob_.shape[1]
        counts = np.stack(  # expected emissions of each symbol, (n_components, n_symbols)
            [
                np.bincount(X[:, 0], weights=posteriors[:, j], minlength=m)
                for j in range(len(posteriors.T))
            ]
        )
        prior = prior_array(self.emissionprob_prior, "emissionprob_prior", counts.shape)
        new = np.maximum(prior - 1.0 + counts, 0.0)
        self.emissionprob_ = _normalize_rows(new, self.emissionprob_)

    def _emit(self, states: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        cdf = np.cumsum(self.emissionprob_, axis=1)[states]  # (n_samples, n_symbols)
        u = rng.uniform(size=(len(states), 1))
        symbols = np.minimum((cdf <= u).sum(axis=1), cdf.shape[1] - 1)
        return symbols[:, None]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.categorical = True  # symbols: estimator checks send non-negative ints
        return tags

    def _n_emission_parameters(self, codes: str) -> int:
        return self.n_components * (self._n_symbols() - 1) if "e" in codes else 0
