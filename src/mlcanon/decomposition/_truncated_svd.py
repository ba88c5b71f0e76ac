r"""The leading singular triplets of a matrix without a full SVD: randomized and ARPACK.

Randomized (Halko, Martinsson & Tropp 2011): draw a Gaussian test matrix :math:`\Omega`
(``n_features`` x ``k + p``, ``p`` oversamples), run ``q`` power iterations
:math:`Y = (A A^T)^q A \Omega` (each product renormalized by an LU or QR factorization so that
the small singular directions do not vanish in floating point), take an orthonormal basis
:math:`Q` of :math:`Y`, and compute the exact SVD of the small matrix :math:`B = Q^T A`;
:math:`A \approx Q B = (Q \hat U) \Sigma V^T`.

ARPACK: the implicitly restarted Lanczos method on :math:`A^T A` (``scipy.sparse.linalg.svds``).

References
----------
Halko, Martinsson & Tropp, "Finding structure with randomness: probabilistic algorithms for
constructing approximate matrix decompositions", SIAM Review 53(2), 2011, Algorithms 4.3-4.4.
Lehoucq, Sorensen & Yang, *ARPACK Users' Guide*, SIAM, 1998.
"""

from __future__ import annotations

import numpy as np
from scipy import linalg
from scipy.sparse.linalg import svds

__all__ = ["arpack_svd", "randomized_svd"]


def _renormalize(Y: np.ndarray, normalizer: str) -> np.ndarray:
    if normalizer == "QR":
        return linalg.qr(Y, mode="economic")[0]
    if normalizer == "LU":
        return linalg.lu(Y, permute_l=True)[0]
    return Y


def randomized_svd(
    A: np.ndarray,
    k: int,
    *,
    n_oversamples: int,
    n_iter: int,
    normalizer: str,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``U (m, k), s (k,), Vt (k, n)`` of the ``k`` largest singular values of ``A`` (m, n).

    ``normalizer`` is 'QR', 'LU' or 'none' (the factorization applied after each product of
    a power iteration).
    """
    size = min(k + n_oversamples, min(A.shape))
    Q = rng.standard_normal((A.shape[1], size))  # (n, size) Gaussian test matrix
    for _ in range(n_iter):
        Q = _renormalize(A @ Q, normalizer)  # (m, size)
        Q = _renormalize(A.T @ Q, normalizer)  # (n, size)
    Q = linalg.qr(A @ Q, mode="economic")[0]  # (m, size) orthonormal basis of the range
    Uh, s, Vt = linalg.svd(Q.T @ A, full_matrices=False)  # SVD of the small (size, n) matrix
    return (Q @ Uh)[:, :k], s[:k], Vt[:k]


def arpack_svd(
    A: np.ndarray, k: int, *, tol: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``U, s, Vt`` of the ``k`` largest singular values of ``A`` (``k < min(A.shape)``), by
    decreasing singular value; the start vector is drawn from ``rng``."""
    v0 = rng.uniform(-1.0, 1.0, size=min(A.shape))
    U, s, Vt = svds(A, k=k, tol=tol, v0=v0)
    order = np.argsort(s)[::-1]  # svds returns them increasing
    return U[:, order], s[order], Vt[order]
