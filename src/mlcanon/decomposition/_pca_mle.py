r"""Choosing the number of principal components by Minka's Bayesian model selection.

For each rank :math:`k` the evidence :math:`p(X \mid k)` of probabilistic PCA is approximated by
Laplace's method around the maximum-likelihood solution; with the covariance eigenvalues
:math:`\lambda_1 \ge \dots \ge \lambda_d`, :math:`N` samples, the noise level
:math:`v = \sum_{j > k} \lambda_j / (d - k)` and :math:`m = dk - k(k + 1)/2`,

.. math::
    \log p(X \mid k) \approx \log p(U) - \frac N2 \sum_{j \le k} \log \lambda_j
        - \frac{N (d - k)}2 \log v + \frac{m + k}2 \log 2\pi
        - \frac12 \log |A_Z| - \frac k2 \log N,

where :math:`\log p(U) = -k \log 2 + \sum_{i=1}^k [\log\Gamma(\frac{d - i + 1}2)
- \frac{d - i + 1}2 \log \pi]` is the uniform prior over the Stiefel manifold and
:math:`\log |A_Z| = \sum_{i \le k} \sum_{j > i} \log\big(N (\lambda_i - \lambda_j)
(\hat\lambda_j^{-1} - \hat\lambda_i^{-1})\big)`, :math:`\hat\lambda_j = \lambda_j` for
:math:`j \le k` and :math:`v` beyond. The chosen rank maximizes it over :math:`1 \le k < d`
(0 when every evidence is :math:`-\infty`).

References
----------
Minka, "Automatic choice of dimensionality for PCA", NIPS 13, 2000, eq. (30)-(31).
"""

from __future__ import annotations

import numpy as np
from scipy.special import gammaln

__all__ = ["log_evidence", "mle_rank"]

EPS = 1e-15  # an eigenvalue below this is taken as 0 (the rank cannot be that large)


def log_evidence(spectrum: np.ndarray, rank: int, n_samples: int) -> float:
    """Laplace approximation of :math:`\\log p(X \\mid k)` for ``rank`` = k (see the module)."""
    d = spectrum.shape[0]
    if not 1 <= rank < d:
        raise ValueError(f"the tested rank should be in [1, n_features - 1], got {rank}")
    if spectrum[rank - 1] < EPS:
        return -np.inf
    k, n = rank, n_samples
    i = np.arange(1, k + 1)
    log_p_u = -k * np.log(2.0) + np.sum(
        gammaln((d - i + 1) / 2.0) - (d - i + 1) / 2.0 * np.log(np.pi)
    )
    v = max(EPS, spectrum[k:].sum() / (d - k))
    m = d * k - k * (k + 1) / 2.0
    hat = np.concatenate([spectrum[:k], np.full(d - k, v)])
    rows, cols = np.triu_indices(d, k=1)
    keep = rows < k  # pairs (i, j) with i <= k and j > i
    rows, cols = rows[keep], cols[keep]
    log_det_a = np.sum(
        np.log((spectrum[rows] - spectrum[cols]) * (1.0 / hat[cols] - 1.0 / hat[rows])) + np.log(n)
    )
    return float(
        log_p_u
        - n / 2.0 * np.sum(np.log(spectrum[:k]))
        - n * (d - k) / 2.0 * np.log(v)
        + (m + k) / 2.0 * np.log(2.0 * np.pi)
        - log_det_a / 2.0
        - k / 2.0 * np.log(n)
    )


def mle_rank(spectrum: np.ndarray, n_samples: int) -> int:
    """The rank :math:`1 \\le k < d` of largest evidence (``spectrum`` decreasing); 0, as in
    scikit-learn, when no rank has a finite evidence (one feature, or a zero spectrum)."""
    evidence = [-np.inf] + [log_evidence(spectrum, k, n_samples) for k in range(1, len(spectrum))]
    return int(np.argmax(evidence))
