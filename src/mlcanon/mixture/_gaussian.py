r"""Gaussian densities and their maximum-likelihood parameters, for four covariance structures.

Shapes of a covariance (or precision) argument, by ``covariance_type``:

- ``'full'``: (n_components, n_features, n_features), one matrix per component;
- ``'tied'``: (n_features, n_features), one matrix shared by all components;
- ``'diag'``: (n_components, n_features), the diagonal of each matrix;
- ``'spherical'``: (n_components,), one variance per component.

A precision is carried by a factor :math:`U` with :math:`\Lambda = \Sigma^{-1} = U U^T`, so a
Mahalanobis distance is :math:`\lVert (x - \mu)^T U \rVert^2` and
:math:`\tfrac12 \log\det\Lambda = \sum_j \log U_{jj}` -- no inverse is ever formed. For
'full' and 'tied', :math:`U = L^{-T}` is upper triangular, where :math:`\Sigma = L L^T`.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.linalg import solve_triangular

__all__ = [
    "COVARIANCE_TYPES",
    "estimate_gaussian_parameters",
    "log_gaussian_prob",
    "precision_cholesky",
    "precision_cholesky_from_precisions",
]

COVARIANCE_TYPES = ("full", "tied", "diag", "spherical")

_ILL_DEFINED = (
    "Fitting the mixture model failed because some components have ill-defined empirical "
    "covariance (for instance caused by singleton or collapsed samples). Try to decrease the "
    "number of components, increase reg_covar, or scale the input data."
)


def estimate_gaussian_parameters(
    X: np.ndarray, resp: np.ndarray, reg_covar: float, covariance_type: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""M-step: soft counts, means and covariances weighted by responsibilities.

    .. math::
        N_k = \sum_i r_{ik}, \quad \mu_k = \frac{1}{N_k} \sum_i r_{ik} x_i, \quad
        \Sigma_k = \frac{1}{N_k} \sum_i r_{ik} (x_i - \mu_k)(x_i - \mu_k)^T + \epsilon I

    'tied' pools the scatter of all components (divided by :math:`\sum_k N_k`), 'diag' keeps
    the diagonal and 'spherical' its mean. ``10 * eps`` is added to :math:`N_k` so that an
    empty component does not divide by zero.

    Returns
    -------
    nk : ndarray of shape (n_components,)
    means : ndarray of shape (n_components, n_features)
    covariances : ndarray, shape per ``covariance_type``
    """
    # computed in float64 and returned in X's dtype: the tied, diag and spherical forms below
    # subtract N_k mu mu^T from a raw second moment, which float32 cancels to noise once the
    # data sit far from the origin (|mu| = 1000: ill-defined covariances)
    # (the dtypes returned are those of the same arithmetic in the inputs' dtypes)
    nk_dtype, full_dtype = resp.dtype, X.dtype
    dtype, eps = np.result_type(resp, X), 10 * np.finfo(resp.dtype).eps
    X, resp = X.astype(np.float64, copy=False), resp.astype(np.float64, copy=False)
    nk = resp.sum(axis=0) + eps
    means = (resp.T @ X) / nk[:, None]
    n_features = X.shape[1]
    # the second moments below are taken about the data's mean c: E[(x - c)^2] - (mu - c)^2
    # cancels only the spread between components, where E[x^2] - mu^2 cancels the offset too
    # (data near 1e7 with unit variance lost 4% of it, near 1e8 all of it)
    Xc = X - X.mean(axis=0)
    means_c = (resp.T @ Xc) / nk[:, None]
    if covariance_type == "full":
        cov = np.empty((len(nk), n_features, n_features))
        for k in range(len(nk)):
            diff = X - means[k]
            cov[k] = (resp[:, k] * diff.T) @ diff / nk[k]
            cov[k].flat[:: n_features + 1] += reg_covar
    elif covariance_type == "tied":
        # sum_ik r_ik x_i x_i^T - sum_k N_k mu_k mu_k^T; the row sums of resp are kept because
        # seeding responsibilities (one-hot on k samples) leave most rows at zero
        row_mass = resp.sum(axis=1)
        cov = (Xc.T @ (Xc * row_mass[:, None]) - (nk * means_c.T) @ means_c) / nk.sum()
        cov.flat[:: n_features + 1] += reg_covar
    else:
        # E[x^2] - mu^2 per component and feature: means = resp.T X / nk cancels the cross term
        cov = (resp.T @ (Xc * Xc)) / nk[:, None] - means_c**2 + reg_covar
        if covariance_type == "spherical":
            cov = cov.mean(axis=1)
    cov_dtype = full_dtype if covariance_type == "full" else dtype
    return nk.astype(nk_dtype), means.astype(dtype), cov.astype(cov_dtype)


def precision_cholesky(covariances: np.ndarray, covariance_type: str) -> np.ndarray:
    r"""Factor :math:`U = L^{-T}` of each precision, from :math:`\Sigma = L L^T` (upper).

    Raises ``ValueError`` when a covariance is not positive definite. The factor keeps the
    covariances' dtype (float32 stays float32).
    """
    message = _ILL_DEFINED
    if covariances.dtype == np.float32:
        message += (
            " The numerical accuracy can also be improved by passing float64 data instead of "
            "float32."
        )
    if covariance_type in ("full", "tied"):
        covs = covariances if covariance_type == "full" else covariances[None]
        out = np.empty_like(covs)
        eye = np.eye(covs.shape[-1], dtype=covs.dtype)
        for k, cov in enumerate(covs):
            try:
                L = np.linalg.cholesky(cov)
            except np.linalg.LinAlgError:
                raise ValueError(message) from None
            out[k] = solve_triangular(L, eye, lower=True).T
        return out if covariance_type == "full" else out[0]
    if np.any(covariances <= 0.0):
        raise ValueError(message)
    return 1.0 / np.sqrt(covariances)


def precision_cholesky_from_precisions(precisions: np.ndarray, covariance_type: str) -> np.ndarray:
    r"""Upper-triangular :math:`U` with :math:`\Lambda = U U^T`, straight from the precisions.

    With the exchange matrix :math:`J` (reverses rows or columns), :math:`J \Lambda J = L L^T`
    gives :math:`\Lambda = (J L J)(J L J)^T` where :math:`J L J` is upper triangular.
    """
    if covariance_type in ("full", "tied"):
        precs = precisions if covariance_type == "full" else precisions[None]
        out = np.stack([np.linalg.cholesky(p[::-1, ::-1])[::-1, ::-1] for p in precs])
        return out if covariance_type == "full" else out[0]
    return np.sqrt(precisions)


def _log_det_cholesky(prec_chol: np.ndarray, covariance_type: str, n_features: int) -> np.ndarray:
    r""":math:`\log\det U = \tfrac12 \log\det\Lambda` per component (scalar if 'tied')."""
    if covariance_type == "full":
        return np.log(np.diagonal(prec_chol, axis1=1, axis2=2)).sum(axis=1)
    if covariance_type == "tied":
        return np.log(np.diag(prec_chol)).sum()
    if covariance_type == "diag":
        return np.log(prec_chol).sum(axis=1)
    return n_features * np.log(prec_chol)


def log_gaussian_prob(
    X: np.ndarray, means: np.ndarray, prec_chol: np.ndarray, covariance_type: str
) -> np.ndarray:
    r"""Log density of each sample under each component, shape (n_samples, n_components).

    .. math::
        \log \mathcal N(x \mid \mu_k, \Sigma_k) = -\tfrac12 \left( d \log 2\pi
        + \lVert (x - \mu_k)^T U_k \rVert^2 \right) + \log\det U_k
    """
    n_samples, n_features = X.shape
    n_components = means.shape[0]
    # scikit-learn's dtypes: 'full' and 'tied' fill an array of X's dtype (float32 data with
    # float64 means_init stay float32), 'diag' and 'spherical' take the inputs' common dtype
    full = covariance_type in ("full", "tied")
    maha = np.empty(
        (n_samples, n_components), dtype=X.dtype if full else np.result_type(X, means, prec_chol)
    )
    for k in range(n_components):
        if full:
            U = prec_chol[k] if covariance_type == "full" else prec_chol
            y = X @ U - means[k] @ U  # (n_samples, n_features)
            maha[:, k] = np.einsum("ij,ij->i", y, y)
        elif covariance_type == "diag":
            maha[:, k] = ((X - means[k]) ** 2) @ (prec_chol[k] ** 2)
        else:
            diff = X - means[k]
            maha[:, k] = np.einsum("ij,ij->i", diff, diff) * prec_chol[k] ** 2
    log_det = _log_det_cholesky(prec_chol, covariance_type, n_features)
    # a Python float constant, so that it does not promote float32 to float64
    return -0.5 * (n_features * math.log(2 * math.pi) + maha) + log_det
