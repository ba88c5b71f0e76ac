"""SMOTE: synthetic minority samples on segments between a sample and a close neighbour of
its class.

References
----------
Chawla, Bowyer, Hall & Kegelmeyer, "SMOTE: synthetic minority over-sampling technique",
JAIR 16, 2002.
"""

from __future__ import annotations

import numbers
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp
from numba import njit
from scipy.spatial import cKDTree
from sklearn.base import clone
from sklearn.neighbors import NearestNeighbors

from mlcanon._estimator import check_X, store_params
from mlcanon._validation import HasMethods, Interval

from ._resample import _BaseSampler, drawer

__all__ = ["SMOTE"]


def _nearest_neighbors(X: Any, k: int, chunk: int = 1024) -> np.ndarray:
    """Indices (n, k) of each row's k nearest other rows, nearest first (ties: in the k-d
    tree's order, else the smaller index); ``X`` dense or a scipy.sparse matrix, ``k < n``.

    Dense data of at most 15 features go to a k-d tree, which takes the differences themselves
    (exact, and O(n log n) rather than O(n^2)); wider or sparse data to a blocked brute force
    in float64, |a|^2 - 2 a.b + |b|^2 with dense data centred first: far from the origin the
    expansion cancels to noise (data at 1e6 + N(0, 1e-3) lost every neighbour). scikit-learn's
    ``NearestNeighbors(algorithm='auto')`` draws the same 15-feature line. Sparse rows cannot be
    centred without densifying them: there the expansion only picks the candidates its rounding
    error cannot rule out, whose distances are then taken from the differences.
    """
    X = X.astype(np.float64, copy=False)
    n = X.shape[0]
    if not sp.issparse(X) and X.shape[1] <= 15:
        _, idx = cKDTree(X).query(X, k=k + 1)  # (n, k + 1), the row itself among them
        self_ = idx == np.arange(n)[:, None]
        self_[~self_.any(axis=1), -1] = True  # k + 1 copies at distance 0 crowded it out
        return idx[~self_].reshape(n, k)
    if sp.issparse(X):
        X = X.tocsr()
        if not X.has_canonical_format:  # the merge below needs sorted, unique column indices
            X = X.copy()
            X.sum_duplicates()
        sq = np.asarray(X.multiply(X).sum(axis=1)).ravel()
        # bound on the rounding error of the expansion, relative to |a|^2 + |b|^2: sums of at
        # most m products (m stored entries in a row) and three more operations, twice over
        rel = 4.0 * (np.diff(X.indptr).max(initial=0) + 2) * np.finfo(np.float64).eps
    else:
        X = X - X.mean(axis=0)
        sq = (X * X).sum(1)
    out = np.empty((n, k), dtype=np.int64)
    for start in range(0, n, chunk):
        rows = np.arange(start, min(start + chunk, n))
        dot = X[rows] @ X.T
        dot = dot.toarray() if sp.issparse(dot) else dot
        d = sq[rows, None] - 2.0 * dot + sq[None, :]  # (chunk, n) squared distances
        d[np.arange(rows.size), rows] = np.inf  # a sample is not its own neighbour
        if sp.issparse(X):
            out[rows] = _nearest_by_differences(X, rows, d, rel * sq, k)
            continue
        part = np.argpartition(d, k - 1, axis=1)[:, :k]
        order = np.lexsort((part, np.take_along_axis(d, part, axis=1)), axis=1)
        out[rows] = np.take_along_axis(part, order, axis=1)
    return out


def _pair_distances(X: Any, nn: np.ndarray) -> np.ndarray:
    """(n, k) squared distances from each row of ``X`` to its rows ``nn``, from the
    differences."""
    diff = X[nn.ravel()] - X[np.repeat(np.arange(nn.shape[0]), nn.shape[1])]
    diff = diff.astype(np.float64, copy=False)
    if sp.issparse(diff):
        squares = np.asarray(diff.multiply(diff).sum(axis=1)).ravel()
    else:
        squares = (diff * diff).sum(axis=1)
    return squares.reshape(nn.shape)


def _nearest_by_differences(
    X: Any, rows: np.ndarray, d: np.ndarray, slack: np.ndarray, k: int
) -> np.ndarray:
    """The k nearest of ``rows`` (CSR ``X``) by distances computed from the differences, among
    the samples whose expanded distance ``d`` may be below the k-th: the error of ``d[i, j]``
    is at most ``slack[rows[i]] + slack[j]``."""
    part = np.argpartition(d, k - 1, axis=1)[:, :k]
    own = slack[rows]
    kth_at_most = (np.take_along_axis(d, part, axis=1) + slack[part]).max(axis=1) + own
    d -= slack  # d is the caller's scratch
    r, c = np.nonzero(d <= (kth_at_most + own)[:, None])  # the k of part among them, not self
    return _nearest_of_candidates(X.indptr, X.indices, X.data, rows, r, c, k)


@njit(cache=True, nogil=True)
def _squared_distance(indptr, indices, data, i, j):
    """|X[i] - X[j]|^2 from the differences of two CSR rows with sorted, unique column
    indices: a merge of the two rows' entries."""
    p, p_end = indptr[i], indptr[i + 1]
    q, q_end = indptr[j], indptr[j + 1]
    total = 0.0
    while p < p_end or q < q_end:
        if q == q_end or (p < p_end and indices[p] < indices[q]):
            d = data[p]
            p += 1
        elif p == p_end or indices[q] < indices[p]:
            d = data[q]
            q += 1
        else:  # the same column in both rows
            d = data[p] - data[q]
            p += 1
            q += 1
        total += d * d
    return total


@njit(cache=True, nogil=True)
def _nearest_of_candidates(indptr, indices, data, rows, r, c, k):
    """For each ``rows[i]``, its k nearest among the candidates ``c[t]`` with ``r[t] == i``
    (``r`` non-decreasing, ``c`` increasing within a row, at least k candidates a row),
    nearest first, ties to the smaller index."""
    best = np.full((rows.size, k), np.inf)
    out = np.empty((rows.size, k), dtype=np.int64)
    for t in range(r.size):
        i = r[t]
        dist = _squared_distance(indptr, indices, data, rows[i], c[t])
        if dist >= best[i, k - 1]:  # an equal distance keeps the earlier (smaller) index
            continue
        slot = k - 1
        while slot > 0 and best[i, slot - 1] > dist:
            best[i, slot] = best[i, slot - 1]
            out[i, slot] = out[i, slot - 1]
            slot -= 1
        best[i, slot] = dist
        out[i, slot] = c[t]
    return out


class SMOTE(_BaseSampler):
    r"""Synthetic minority over-sampling: new points on segments between close neighbours.

    Each synthetic sample picks a sample :math:`x_i` of the class uniformly, one of its
    ``k_neighbors`` nearest neighbours :math:`x_{nn}` within the class uniformly, and a gap
    :math:`\lambda \sim U[0, 1)`:

    .. math:: x_{new} = x_i + \lambda (x_{nn} - x_i) .

    Parameters
    ----------
    sampling_strategy : str, float, dict or callable, default='auto'
    random_state : None, int, numpy.random.RandomState or numpy.random.Generator
        An int, a ``RandomState`` or ``None`` (NumPy's global ``RandomState``) draws what
        imbalanced-learn 0.14 draws: the same seed gives the same samples (for floating
        data). A ``Generator`` draws from its own stream.
    k_neighbors : int or neighbours estimator, default=5
        Must be smaller than the number of samples of every class that is over-sampled. An
        estimator with ``fit`` and ``kneighbors`` (e.g. scikit-learn's ``NearestNeighbors``)
        is cloned and fitted on each class; its ``n_neighbors`` counts the sample itself, as
        in imbalanced-learn (``NearestNeighbors(n_neighbors=6)`` is ``k_neighbors=5``). With
        an int, each sample's neighbours are listed as imbalanced-learn lists them (scikit-learn's
        order among equal distances), except where that list is not the k nearest by the
        exact distances (rounding in a brute-force search), where an exact search replaces it.

    As in imbalanced-learn, float16 and float32 data give samples of their dtype, a CSR or CSC
    matrix gives a matrix of the same format, and NaN or non-numeric data are refused. Integer
    data give float64 samples (imbalanced-learn truncates the synthetic points to integers).

    Attributes
    ----------
    sampling_strategy_ : dict
        Number of synthetic samples made for each class.
    nn_k_ : neighbours estimator
        As imbalanced-learn's: ``NearestNeighbors(n_neighbors=k_neighbors + 1)`` (or a clone
        of the given estimator), fitted on the last class that was over-sampled.

    References
    ----------
    Chawla, Bowyer, Hall & Kegelmeyer, "SMOTE: synthetic minority over-sampling technique",
    JAIR 16, 2002, section 4.2.
    """

    _kind = "over"
    _parameter_constraints: ClassVar[dict[str, Any]] = {
        **_BaseSampler._parameter_constraints,
        "k_neighbors": (Interval(numbers.Integral, low=1), HasMethods("fit", "kneighbors")),
    }

    def __init__(
        self, *, sampling_strategy: Any = "auto", random_state: Any = None, k_neighbors: int = 5
    ) -> None:
        store_params(self, locals())

    def _check_X(self, X: Any) -> Any:
        # a sparse matrix is worked on as CSR (fit_resample gives the input's format back)
        # a floating X keeps its dtype (float16 and float32 too), as in imbalanced-learn
        dtype = getattr(X, "dtype", None)
        keep = dtype if dtype is not None and np.dtype(dtype).kind == "f" else np.float64
        return check_X(self, X, reset=True, dtype=keep, accept_sparse="csr")

    def _neighbours(self, Xc: Any, c: Any) -> np.ndarray:
        """(n_c, k) indices of each sample's k nearest other samples of its class."""
        if hasattr(self.k_neighbors, "kneighbors"):
            # a neighbours estimator: as in imbalanced-learn, it is asked for each sample's
            # n_neighbors nearest samples of the class, the first of which is the sample itself
            self.nn_k_.fit(Xc)
            return self.nn_k_.kneighbors(Xc, return_distance=False)[:, 1:]
        k = self.k_neighbors
        if k >= Xc.shape[0]:
            raise ValueError(
                f"k_neighbors={k} must be smaller than the number of samples of class "
                f"{c!r} ({Xc.shape[0]}): SMOTE needs k_neighbors + 1 samples of a class"
            )
        exact = _nearest_neighbors(Xc, k)
        # imbalanced-learn's table: the k + 1 nearest of scikit-learn's NearestNeighbors, the
        # first dropped as the sample itself. Samples at equal distances come in its order
        # (not by index), so a seed picks the same neighbour as there. Where the table is not
        # a set of k nearest (rounding in its distances took a farther sample, or left the
        # sample itself in), the exact row replaces it.
        table = self.nn_k_.fit(Xc).kneighbors(Xc, return_distance=False)[:, 1:]
        same = (
            np.sort(_pair_distances(Xc, table), axis=1)
            == np.sort(_pair_distances(Xc, exact), axis=1)
        ).all(axis=1)
        return np.where(same[:, None], table, exact)

    def _resample(self, X, y):
        X_parts, y_parts = [X], [y]
        if hasattr(self.k_neighbors, "kneighbors"):
            self.nn_k_ = clone(self.k_neighbors)
        else:
            self.nn_k_ = NearestNeighbors(n_neighbors=self.k_neighbors + 1)
        for c, n in self.sampling_strategy_.items():
            if n == 0:
                continue
            Xc = X[y == c]
            nn = self._neighbours(Xc, c)
            # as imbalanced-learn: the drawer is taken afresh for each class (an int seed
            # starts over), one draw over the (sample, neighbour) table, then the gaps
            rng = drawer(self.random_state)
            rows, cols = np.divmod(rng.randint(0, nn.size, size=n), nn.shape[1])
            gap = rng.uniform(size=n)
            step = Xc[nn[rows, cols]] - Xc[rows]
            step = sp.diags(gap) @ step if sp.issparse(step) else gap[:, None] * step
            X_parts.append((Xc[rows] + step).astype(X.dtype))
            y_parts.append(np.full(n, c, dtype=y.dtype))
        if sp.issparse(X):
            return sp.vstack(X_parts, format="csr"), np.concatenate(y_parts)
        return np.vstack(X_parts), np.concatenate(y_parts)
