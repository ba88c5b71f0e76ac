"""Principal component analysis by eigendecomposition of the covariance or by SVD."""

from __future__ import annotations

import numbers
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from mlcanon._estimator import check_X, float_dtype, store_params
from mlcanon._validation import (
    BOOL,
    RANDOM_STATE,
    Interval,
    Options,
    check_array,
    check_random_state,
    validate_params,
)

from ._pca_mle import mle_rank
from ._truncated_svd import arpack_svd, randomized_svd

__all__ = ["PCA"]


def _flip_signs(Vt: np.ndarray) -> np.ndarray:
    """Make each component's largest-magnitude entry positive (eigenvectors are defined up to
    sign; fixing it makes the output deterministic and comparable)."""
    biggest = np.argmax(np.abs(Vt), axis=1)
    signs = np.sign(Vt[np.arange(Vt.shape[0]), biggest])
    signs[signs == 0] = 1.0
    return Vt * signs[:, None]


# m^2 / var above which X^T X - n m m^T keeps fewer than 12 of a variance's 16 digits
_CANCELLATION = 1e4


def _row_blocks(n_rows: int, n_features: int):
    """Slices of consecutive rows, about 2^20 values (8 MB of float64) each, so that a centred
    block, never a centred copy of X, is held at a time."""
    step = max(1, (1 << 20) // max(1, n_features))
    return (slice(start, start + step) for start in range(0, n_rows, step))


def _spectrum(
    X: np.ndarray, mean: np.ndarray, solver: str, copy: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Return ``(variances, Vt, scores)``: the covariance eigenvalues (decreasing), the
    eigenvectors, and for 'full' the projections ``U diag(s)`` of the centered data (None for
    'covariance_eigh', which never forms it).

    'covariance_eigh': ``C = (X - m)^T (X - m) / (n - 1)`` then ``C = V diag(λ) V^T``; cheap when
    ``n_samples >> n_features`` (a p x p problem) but it squares the condition number. ``C`` is
    scikit-learn's ``X^T X - n m m^T`` unless that cancels, i.e. a mean is large against its
    spread (data at 1e4 with a spread of 1e-3 lost 4% of the first variance and all of the
    last); then the centred rows are formed block by block (memory stays at a block of rows, not
    a copy of X).
    'full': ``X - m = U diag(s) V^T`` and ``λ = s^2 / (n - 1)``; accurate for the small
    components too.
    """
    n_samples = X.shape[0]
    if solver == "full":
        Xc = np.subtract(X, mean, out=None if copy else X)  # copy=False centers X in place
        U, s, Vt = np.linalg.svd(Xc, full_matrices=False)
        return s**2 / (n_samples - 1), Vt, U * s
    n_features = X.shape[1]
    C = X.T @ X  # one product and no centred copy of X (scikit-learn's form)
    C -= n_samples * np.outer(mean, mean)
    # the subtraction loses about log10(m_j^2 / var_j) of feature j's digits: where a mean is
    # large against its spread (more than _CANCELLATION), the centred rows are summed instead
    if np.any(n_samples * mean**2 > _CANCELLATION * np.diag(C)):
        C = np.zeros((n_features, n_features))
        for rows in _row_blocks(n_samples, n_features):
            B = X[rows] - mean
            C += B.T @ B
    C /= n_samples - 1
    lam, V = np.linalg.eigh(C)  # ascending
    lam, V = lam[::-1], V[:, ::-1]
    lam[lam < 0.0] = 0.0  # rounding can make a zero eigenvalue slightly negative
    return lam, V.T, None


_FITTED_ARRAYS = (
    "components_",
    "explained_variance_",
    "explained_variance_ratio_",
    "singular_values_",
    "mean_",
)


class PCA(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    r"""Project data onto the directions of largest variance.

    Parameters
    ----------
    n_components : int, float in (0, 1), 'mle' or None, default None
        Number of components to keep; a float keeps the fewest components whose explained
        variance ratio adds up to more than it; 'mle' the rank of largest evidence by Minka's
        approximation (:mod:`._pca_mle`; 'full' and 'covariance_eigh' solvers, n_samples >=
        n_features); None keeps ``min(n_samples, n_features)``.
    whiten : bool, default False
        Scale the projections to unit variance.
    svd_solver : {'auto', 'full', 'covariance_eigh', 'arpack', 'randomized'}, default 'auto'
        'auto' uses 'arpack' for scipy.sparse ``X`` (as scikit-learn), else 'covariance_eigh'
        when ``n_features <= 1000`` and ``n_samples >= 10 n_features``, else 'full'.
        'arpack' (Lanczos, ``n_components`` < ``min(n_samples, n_features)``) and 'randomized'
        (Halko et al.) compute only the leading ``n_components`` (an int) components; see
        :mod:`._truncated_svd`.
    copy : bool, default True
        With ``False``, the 'full', 'arpack' and 'randomized' solvers center ``X`` in place
        (a float64 array passed to ``fit`` is overwritten).
    tol : float >= 0, default 0.0
        Convergence tolerance of 'arpack' (0: machine precision).
    iterated_power : int >= 0 or 'auto', default 'auto'
        Power iterations of 'randomized' ('auto': 7 when ``n_components`` is below a tenth of
        ``min(n_samples, n_features)``, else 4).
    n_oversamples : int >= 1, default 10
        Extra random directions of 'randomized'.
    power_iteration_normalizer : {'auto', 'QR', 'LU', 'none'}, default 'auto'
        Factorization after each product of a power iteration ('auto': 'none' for at most 2
        iterations, else 'LU').
    random_state : None, int or numpy.random.Generator
        Seed of 'arpack''s start vector and of 'randomized''s test matrix.

    Attributes
    ----------
    components_ : array of shape (n_components_, n_features)
        Principal axes (unit rows), by decreasing variance.
    explained_variance_ : array of shape (n_components_,)
        Variance along each axis (eigenvalues of the sample covariance, ``ddof=1``).
    explained_variance_ratio_ : array of shape (n_components_,)
        Share of the total variance.
    singular_values_ : array of shape (n_components_,)
        Singular values of the centered data, ``sqrt((n - 1) λ)``.
    mean_ : array of shape (n_features,)
    n_components_ : int
    n_samples_ : int
    noise_variance_ : float
        Mean of the discarded eigenvalues (probabilistic-PCA noise estimate), 0 when
        ``n_components_ = min(n_samples, n_features)``. As in scikit-learn, with
        ``n_samples < n_features`` 'covariance_eigh' averages all ``n_features - n_components_``
        discarded eigenvalues of the covariance, zeros included (Tipping & Bishop's estimate),
        while the SVD solvers average the ``min(n_samples, n_features) - n_components_`` they
        compute, so it is larger there.
    n_features_in_ : int

    Notes
    -----
    With the centered data ``X_c = X - 1 m^T`` and its covariance
    ``C = X_c^T X_c / (n - 1) = V diag(λ) V^T``, the projection is

    .. math:: Z = X_c V_k, \qquad \hat X = Z V_k^T + 1 m^T

    and ``V_k`` maximizes the retained variance ``tr(V_k^T C V_k)`` among orthonormal ``k``-frames.

    A float32 ``X`` gives float32 attributes and outputs, as in scikit-learn; the arithmetic is
    float64, rounded at the end (float64 data or a float64 model give float64).

    References
    ----------
    Pearson (1901), "On lines and planes of closest fit to systems of points in space". Jolliffe
    (2002), *Principal Component Analysis*, 2nd ed., Ch. 1-3. Tipping & Bishop (1999),
    "Probabilistic principal component analysis", JRSS B 61(3) (``noise_variance_``).
    """

    def __init__(
        self,
        n_components: int | float | None = None,
        *,
        copy: bool = True,
        whiten: bool = False,
        svd_solver: str = "auto",
        tol: float = 0.0,
        iterated_power: int | str = "auto",
        n_oversamples: int = 10,
        power_iteration_normalizer: str = "auto",
        random_state: Any = None,
    ) -> None:
        store_params(self, locals())

    # n_components is checked against the data's rank in _n_kept
    _parameter_constraints: ClassVar[dict[str, Any]] = {
        "n_components": (
            None,
            Interval(numbers.Integral, low=0),
            Interval(low=0, high=1, include_low=False, include_high=False),
            Options("mle"),
        ),
        "svd_solver": Options("auto", "full", "covariance_eigh", "arpack", "randomized"),
        "whiten": BOOL,
        "copy": BOOL,
        "tol": Interval(low=0.0),
        "iterated_power": (Options("auto"), Interval(numbers.Integral, low=0)),
        "n_oversamples": Interval(numbers.Integral, low=1),
        "power_iteration_normalizer": Options("auto", "QR", "LU", "none"),
        "random_state": RANDOM_STATE,
    }

    def _n_kept(self, variances: np.ndarray, limit: int, solver: str, n_samples: int) -> int:
        total = variances.sum()
        ratio = variances / total if total > 0 else np.zeros_like(variances)
        k = self.n_components
        if k is None:
            return limit
        if k == "mle":
            return mle_rank(variances, n_samples)
        if isinstance(k, numbers.Integral):
            if k > limit:
                raise ValueError(
                    f"n_components={k} must be between 0 and min(n_samples, n_features)="
                    f"{limit} with svd_solver={solver!r}"
                )
            return int(k)
        if total == 0:  # nothing to explain: one component, as scikit-learn (nan ratios)
            return 1
        # the first count whose cumulated ratio exceeds the requested fraction; a fraction above
        # the last cumulated ratio (1 - 2e-16 by rounding) keeps them all
        return int(min(np.searchsorted(np.cumsum(ratio), k, side="right") + 1, limit))

    def fit(self, X: Any, y: Any = None) -> PCA:
        """Fit on ``X`` (n_samples, n_features); ``y`` is ignored."""
        self._fit(X)
        return self

    def _fit(self, X: Any) -> np.ndarray | None:
        """Fit; return the truncated solvers' :math:`U \\Sigma` (None for the others)."""
        validate_params(self)
        k = self.n_components
        solver = self.svd_solver
        if sp.issparse(X) and solver not in ("auto", "arpack", "covariance_eigh"):
            raise TypeError(
                'PCA only support sparse inputs with the "arpack" and "covariance_eigh" '
                f'solvers, while "{solver}" was passed (a sparse X is densified by these two).'
            )
        dtype, sparse = float_dtype(X), sp.issparse(X)
        X = check_X(self, X, reset=True, min_samples=2, accept_sparse=True)
        n_samples, n_features = X.shape
        if solver == "auto" and sparse:  # as scikit-learn: no densifying on its own
            solver = "arpack"
        elif solver == "auto":
            small = n_features <= 1_000 and n_samples >= 10 * n_features
            solver = "covariance_eigh" if small else "full"
        if k == "mle":
            if solver in ("arpack", "randomized"):
                raise ValueError(
                    f"n_components='mle' cannot be a string with svd_solver='{solver}'"
                )
            if n_samples < n_features:
                raise ValueError(
                    "n_components='mle' is only supported if n_samples >= n_features, got "
                    f"n_samples={n_samples} and n_features={n_features}"
                )
        self.mean_ = X.mean(axis=0)
        limit = min(n_samples, n_features)
        if solver in ("arpack", "randomized"):
            k, variances, Vt, ratio, noise, scores = self._fit_truncated(X, solver, limit)
        else:
            variances, raw, scores = _spectrum(X, self.mean_, solver, self.copy)
            Vt = _flip_signs(raw)
            total = variances.sum()
            ratio = variances / total if total > 0 else np.zeros_like(variances)
            k = self._n_kept(variances, limit, solver, n_samples)
            # the mean of every discarded eigenvalue, as scikit-learn: 'full' has min(n, p) of
            # them, 'covariance_eigh' all p (with n < p, the p - n + 1 zero ones dilute it)
            noise = np.float64(variances[k:].mean()) if k < limit else 0.0
            if scores is not None:  # X may be overwritten (copy=False): keep U diag(s)
                scores = scores[:, :k] * np.sign(np.sum(Vt[:k] * raw[:k], axis=1))
        self.n_components_ = k
        self.n_samples_ = n_samples
        self.components_ = np.ascontiguousarray(Vt[:k])
        self.explained_variance_ = variances[:k].copy()
        self.explained_variance_ratio_ = ratio[:k].copy()
        self.singular_values_ = np.sqrt(variances[:k] * (n_samples - 1))
        self.noise_variance_ = noise
        self._fit_solver = solver
        if dtype == np.float32:  # float32 data get float32 results (computed in float64)
            for name in _FITTED_ARRAYS:
                setattr(self, name, getattr(self, name).astype(np.float32))
            # all kept: scikit-learn's noise is its Python 0.0 (float64), else a float32 mean
            self.noise_variance_ = np.float32(noise) if k < limit else noise
        return scores

    def _fit_truncated(self, X: np.ndarray, solver: str, limit: int) -> tuple[Any, ...]:
        """The leading components only: ``k, variances, Vt, ratios, noise variance``.

        The ratios divide by the total variance of ``X``; the noise variance is the mean of
        the variance left out, as with the full spectrum.
        """
        k = self.n_components
        if k is None:  # ARPACK cannot return every component
            k = limit - 1 if solver == "arpack" else limit
        if not isinstance(k, numbers.Integral) or isinstance(k, bool) or not 1 <= k <= limit:
            raise ValueError(
                f"n_components={k!r} must be between 1 and min(n_samples, n_features)={limit} "
                f"with svd_solver={solver!r} (an int)"
            )
        if solver == "arpack" and k == limit:
            raise ValueError(
                f"n_components={k} must be strictly less than min(n_samples, n_features)="
                f"{limit} with svd_solver='arpack'"
            )
        total = float(np.var(X, axis=0, ddof=1).sum())
        Xc = np.subtract(X, self.mean_, out=None if self.copy else X)
        rng = check_random_state(self.random_state)
        if solver == "arpack":
            U, s, Vt = arpack_svd(Xc, k, tol=self.tol, rng=rng)
        else:
            n_iter = self.iterated_power
            if n_iter == "auto":
                n_iter = 7 if k < 0.1 * limit else 4
            normalizer = self.power_iteration_normalizer
            if normalizer == "auto":
                normalizer = "none" if n_iter <= 2 else "LU"
            U, s, Vt = randomized_svd(
                Xc,
                k,
                n_oversamples=self.n_oversamples,
                n_iter=n_iter,
                normalizer=normalizer,
                rng=rng,
            )
        variances = s**2 / (X.shape[0] - 1)
        ratio = variances / total if total > 0 else np.zeros_like(variances)
        noise = (total - variances.sum()) / (limit - k) if k < limit else 0.0
        flipped = _flip_signs(Vt)
        # the scores of the truncated decomposition, U diag(s), signs following the components
        scores = U * (s * np.sign(np.sum(flipped * Vt, axis=1)))
        # a NumPy float64 mean, or scikit-learn's Python 0.0 when every component is kept
        noise = np.float64(max(noise, 0.0)) if k < limit else 0.0
        return k, variances, flipped, ratio, noise, scores

    def _out_dtype(self, X: Any) -> np.dtype:
        """float32 only when both ``X`` and the fitted components are float32, as numpy's
        promotion of scikit-learn's products gives (the products here are computed in
        float64, then rounded)."""
        check_is_fitted(self)
        return np.result_type(float_dtype(X), self.components_.dtype)

    def transform(self, X: Any) -> np.ndarray:
        """Project ``X`` (n_samples, n_features) to (n_samples, n_components_)."""
        dtype = self._out_dtype(X)
        X = check_X(self, X, reset=False, accept_sparse=True)
        V, mean = self.components_.astype(np.float64), self.mean_.astype(np.float64)
        # centre, then project, a block of rows at a time (no copy of X): scikit-learn's
        # X V^T - m V^T cancels for data far from the origin (features at 1e8 with a spread of
        # 1e-3 kept 5 digits of the projections)
        Z = np.empty((X.shape[0], V.shape[0]))
        for rows in _row_blocks(*X.shape):
            Z[rows] = (X[rows] - mean) @ V.T
        if self.whiten:
            # a component with (numerically) zero variance would divide by zero
            sd = np.sqrt(self.explained_variance_.astype(np.float64))
            Z /= np.maximum(sd, np.finfo(np.float64).eps)
        return Z.astype(dtype, copy=False)

    def fit_transform(self, X: Any, y: Any = None) -> np.ndarray:
        """Fit, then project ``X``; for the 'full', 'arpack' and 'randomized' solvers the
        projection is the decomposition's own :math:`U \\Sigma` (whitened:
        :math:`U \\sqrt{n - 1}`), whose column variances are ``explained_variance_`` exactly, as
        in scikit-learn (and which ``copy=False`` does not disturb)."""
        dtype = float_dtype(X)
        scores = self._fit(X)
        if scores is None:
            return self.transform(X)
        if self.whiten:
            sd = np.sqrt(self.explained_variance_.astype(np.float64))
            scores = scores / np.maximum(sd, np.finfo(np.float64).eps)
        return scores.astype(dtype, copy=False)

    def _model(self) -> tuple[np.ndarray, np.ndarray, float]:
        """The probabilistic model's pieces in float64: ``V_k``, ``(λ_k - σ²)_+`` and ``σ²``."""
        check_is_fitted(self)
        s2 = float(self.noise_variance_)
        spread = np.maximum(self.explained_variance_.astype(np.float64) - s2, 0.0)  # (k,)
        return self.components_.astype(np.float64), spread, s2

    def _covariance(self) -> np.ndarray:
        V, spread, s2 = self._model()  # (k, d), (k,)
        cov = (V.T * spread) @ V
        cov.flat[:: cov.shape[0] + 1] += s2
        return cov

    def _support(self) -> tuple[np.ndarray, np.ndarray]:
        """Without noise (``noise_variance_ = 0``): the components of non-zero variance and their
        variances, ``V_r (r, d)`` and ``λ_r``; a variance at rounding level (a constant feature)
        is zero by scipy's ``allow_singular`` rule, ``λ <= 1e6 eps max λ``."""
        V, spread, _ = self._model()
        keep = spread > 1e6 * np.finfo(np.float64).eps * spread.max(initial=0.0)
        return V[keep], spread[keep]

    def _precision(self) -> np.ndarray:
        V, spread, s2 = self._model()
        if s2 <= 0:  # V_r^T diag(1 / λ_r) V_r: the inverse, or pseudo-inverse if r < d
            V, spread = self._support()
            return (V.T / spread) @ V
        precision = -(V.T * (spread / (spread + s2))) @ V
        precision.flat[:: precision.shape[0] + 1] += 1.0
        return precision / s2

    def get_covariance(self) -> np.ndarray:
        r"""Covariance of the data under the probabilistic PCA model, (n_features, n_features).

        :math:`\Sigma = V_k^T \operatorname{diag}(\lambda_k - \sigma^2)_+ V_k + \sigma^2 I`
        with :math:`\sigma^2` = ``noise_variance_`` (Tipping & Bishop 1999, eq. 7 at the
        maximum-likelihood :math:`W`). Computed in float64, returned in the components' dtype.
        Whitening does not change it (scikit-learn 1.9's whitened model weighs the components
        by the explained variance twice, so its covariance differs from this one).
        """
        return self._covariance().astype(self.components_.dtype, copy=False)

    def get_precision(self) -> np.ndarray:
        r"""Inverse of :meth:`get_covariance`, by the matrix inversion lemma when
        :math:`\sigma^2 > 0`: :math:`\Sigma^{-1} = (I - V_k^T \operatorname{diag}(
        \frac{d_j}{d_j + \sigma^2}) V_k) / \sigma^2`, :math:`d_j = (\lambda_j - \sigma^2)_+`.
        Without noise, :math:`V_r^T \operatorname{diag}(1 / \lambda_r) V_r` over the components of
        non-zero variance: the pseudo-inverse when they span fewer than ``n_features``
        dimensions (scikit-learn inverts the singular matrix)."""
        return self._precision().astype(self.components_.dtype, copy=False)

    def score_samples(self, X: Any) -> np.ndarray:
        r"""Log-likelihood of each sample under :math:`\mathcal N(\mu, \Sigma)` of
        :meth:`get_covariance`, shape (n_samples,).

        Without noise and with components of zero variance :math:`\Sigma` is singular: the
        density is that of the degenerate Gaussian on the span of the others (pseudo-inverse and
        pseudo-determinant, as ``scipy.stats.multivariate_normal(allow_singular=True)``).
        """
        dtype = self._out_dtype(X)
        X = check_X(self, X, reset=False, accept_sparse=True)
        R = X - self.mean_.astype(np.float64)
        if float(self.noise_variance_) > 0:
            P = self._precision()
            maha, logdet, dim = np.einsum("ij,ij->i", R @ P, R), np.linalg.slogdet(P)[1], X.shape[1]
        else:
            V, spread = self._support()
            maha = ((R @ V.T) ** 2 / spread).sum(axis=1)
            logdet, dim = -np.log(spread).sum(), len(spread)
        ll = -0.5 * maha - 0.5 * (dim * np.log(2 * np.pi) - logdet)
        return ll.astype(dtype, copy=False)

    def score(self, X: Any, y: Any = None) -> float:
        """Mean log-likelihood of the samples (see :meth:`score_samples`)."""
        return float(np.mean(self.score_samples(X)))

    def inverse_transform(self, X: Any) -> np.ndarray:
        """Map projections (n_samples, n_components_) back to (n_samples, n_features)."""
        check_is_fitted(self)
        dtype = self._out_dtype(X)
        Z = check_array(X, "X", ndim=2)
        if Z.shape[1] != self.n_components_:
            raise ValueError(
                f"X has {Z.shape[1]} columns, expected n_components_={self.n_components_}"
            )
        W = self.components_.astype(np.float64)
        if self.whiten:
            W = np.sqrt(self.explained_variance_.astype(np.float64))[:, None] * W
        return (Z @ W + self.mean_).astype(dtype, copy=False)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # scipy.sparse X is densified, by the 'arpack' and 'covariance_eigh' solvers only
        tags.input_tags.sparse = self.svd_solver in ("auto", "arpack", "covariance_eigh")
        return tags

    @property
    def _n_features_out(self) -> int:
        return self.n_components_
