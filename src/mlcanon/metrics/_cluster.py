"""Silhouette coefficient: how much closer each sample is to its own cluster than to the next.

Distances are computed exactly, coordinate by coordinate, in a numba kernel that accumulates
each sample's distance sums per cluster, so memory stays O(n_samples x n_clusters) and no
n_samples^2 matrix is formed (unless a precomputed one is given, or a metric the kernel does not
have: scipy's others and callables go through ``scipy.spatial.distance.pdist``). Sparse data
get their distances in blocks of rows from sparse products, as scikit-learn's.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import scipy.sparse as sp
from numba import njit
from scipy.spatial.distance import pdist, squareform

from mlcanon._estimator import as_float_array, warn_column_vector_y
from mlcanon._validation import (
    check_array,
    check_consistent_length,
    check_option,
    check_random_state,
    check_scalar,
)

__all__ = ["silhouette_samples", "silhouette_score"]

# scikit-learn's names, aliases included (l2 is euclidean; l1 and cityblock are manhattan)
_METRIC_CODE = {
    "euclidean": 0,
    "l2": 0,
    "sqeuclidean": 1,
    "manhattan": 2,
    "l1": 2,
    "cityblock": 2,
    "cosine": 3,
}
_METRICS = (*_METRIC_CODE, "precomputed")
# the metrics whose distances scikit-learn keeps in float32 for float32 data (a callable's too);
# its 'sqeuclidean', 'manhattan' and scipy's metrics give float64
_FLOAT32_METRICS = ("euclidean", "l2", "cosine", "precomputed")
# the other metrics scikit-learn hands to scipy's pdist (its "boolean" ones on X != 0)
_SCIPY_METRICS = (
    "braycurtis",
    "canberra",
    "chebyshev",
    "correlation",
    "hamming",
    "mahalanobis",
    "minkowski",
    "seuclidean",
)
_BOOLEAN_METRICS = ("dice", "jaccard", "rogerstanimoto", "russellrao", "sokalsneath", "yule")


@njit(cache=True)
def _cluster_distance_sums(X, labels, n_clusters, metric):  # pragma: no cover
    """``out[i, c] = sum of d(x_i, x_j) over samples j with label c``, shape (n, n_clusters)."""
    n, d = X.shape
    out = np.zeros((n, n_clusters))
    norms = np.empty(n)
    if metric == 3:
        for i in range(n):
            s = 0.0
            for f in range(d):
                s += X[i, f] * X[i, f]
            norms[i] = np.sqrt(s)
    for i in range(n):
        for j in range(i + 1, n):
            acc = 0.0
            if metric == 3:
                for f in range(d):
                    acc += X[i, f] * X[j, f]
                denom = norms[i] * norms[j]
                dist = 1.0 - acc / denom if denom > 0 else 1.0
                dist = max(dist, 0.0)
            else:
                for f in range(d):
                    diff = X[i, f] - X[j, f]
                    acc += abs(diff) if metric == 2 else diff * diff
                dist = np.sqrt(acc) if metric == 0 else acc
            out[i, labels[j]] += dist
            out[j, labels[i]] += dist
    return out


def _distance_matrix(X: np.ndarray, metric: Any, kwds: dict[str, Any]) -> np.ndarray:
    """The (n, n) distances of a metric the numba kernel does not have (a scipy metric or a
    callable ``metric(u, v, **kwds)`` on two rows), or of a built-in one given ``kwds``."""
    if sp.issparse(X):  # only a callable comes here with sparse X (see _check_sparse)
        return _sparse_callable_matrix(X, metric, kwds)
    if isinstance(metric, str) and metric in _BOOLEAN_METRICS:
        X = X != 0  # as scikit-learn, which converts X to bool for these
    name = {"l2": "euclidean", "l1": "cityblock", "manhattan": "cityblock"}.get(metric, metric)
    try:
        # scikit-learn's pdist: each pair once, a zero diagonal, and the defaults of
        # 'seuclidean' (V) and 'mahalanobis' (VI) taken from X itself
        D = squareform(pdist(X, name, **kwds))
        if callable(metric):  # the diagonal as scikit-learn's: metric(x, x)
            D[np.diag_indices_from(D)] = [metric(x, x, **kwds) for x in X]
    except TypeError as exc:
        raise TypeError(f"silhouette: metric={metric!r} does not take {kwds}: {exc}") from exc
    return D


def _sparse_callable_matrix(X: Any, metric: Any, kwds: dict[str, Any]) -> np.ndarray:
    """The (n, n) distances ``metric(X[[i]], X[[j]], **kwds)`` of a callable on a CSR ``X``,
    its rows passed as 1-row CSR matrices as scikit-learn passes them; each pair once (the
    matrix symmetric, as from ``pdist``) and the diagonal ``metric(x, x)``."""
    rows = [X[[i]] for i in range(X.shape[0])]
    D = np.empty((len(rows), len(rows)))
    try:
        for i, x in enumerate(rows):
            D[i, i] = metric(x, x, **kwds)
            for j in range(i + 1, len(rows)):
                D[i, j] = D[j, i] = metric(x, rows[j], **kwds)
    except TypeError as exc:
        raise TypeError(f"silhouette: metric={metric!r} does not take {kwds}: {exc}") from exc
    return D


def _check_sparse(X: Any, metric: Any, kwds: dict[str, Any]) -> Any:
    """A scipy.sparse ``X`` as float64 CSR: for the kernel's metrics (their distances formed in
    blocks of rows by sparse products, as scikit-learn forms them), for a callable (given
    sparse rows, as in scikit-learn) and as a precomputed distance matrix (made dense: it is
    n_samples^2 in any case); scikit-learn refuses it for scipy's metrics ('sqeuclidean'
    among them), and so does this."""
    if metric == "precomputed":
        return check_array(X.toarray(), "X", ndim=2)
    sparse_metrics = sorted(set(_METRIC_CODE) - {"sqeuclidean"})  # scikit-learn's own
    if not callable(metric) and (metric not in sparse_metrics or kwds):
        raise TypeError(
            f"a scipy.sparse X takes a callable metric, or metric in {sparse_metrics} or "
            f"'precomputed' without keywords, got metric={metric!r}"
            f"{f' with {kwds}' if kwds else ''} (scikit-learn: scipy distance metrics do not "
            "support sparse matrices); pass X.toarray()"
        )
    X = sp.csr_matrix(as_float_array(X, "X", np.float64, accept_sparse="csr"))  # not complex
    X.sum_duplicates()
    if X.shape[0] < 1:
        raise ValueError(f"X has 0 sample(s) (shape={X.shape}), while at least 1 is required")
    check_array(X.data, "X", dtype=None, min_samples=0)  # NaN or infinity refused
    return X


def _sparse_distance_sums(X: Any, onehot: np.ndarray, code: int) -> np.ndarray:
    """``_cluster_distance_sums`` for a CSR ``X``: each block of rows gets its dense
    (rows, n_samples) distances from sparse products, as scikit-learn's pairwise distances on
    sparse data: the square root of ``||x||^2 - 2 x.y + ||y||^2`` clipped at 0 (euclidean),
    ``1 - x.y / (||x|| ||y||)`` (cosine, 1 against a zero row) and, exactly,
    ``||x||_1 + ||y||_1 - sum over shared features of (|x_f| + |y_f| - |x_f - y_f|)``
    (manhattan); a sample is at distance 0 from itself."""
    n = X.shape[0]
    sums = np.empty((n, onehot.shape[1]))
    rows_of_entries = np.repeat(np.arange(n), np.diff(X.indptr))
    # each row's entries summed in order, as scikit-learn's row norms and the sparse product
    # x.x add them: a sample's duplicate is then at distance 0 exactly, not sqrt(1 ulp)
    sq = np.bincount(rows_of_entries, weights=X.data * X.data, minlength=n)
    norms = np.sqrt(sq)
    l1 = np.bincount(rows_of_entries, weights=np.abs(X.data), minlength=n)
    # entries -> their row, to sum the manhattan correction per row of X
    gather = sp.csr_matrix((np.ones(X.nnz), (np.arange(X.nnz), rows_of_entries)), (X.nnz, n))
    step = max(1, min(n, (1 << 22) // max(1, n, X.nnz if code == 2 else 0)))
    for start in range(0, n, step):
        stop = min(n, start + step)
        B = X[start:stop]
        if code == 2:
            A = B[:, X.indices].toarray()  # (rows, nnz): each row's value at each entry's feature
            v = X.data[None, :]
            corr = (np.abs(A) + np.abs(v) - np.abs(A - v)) @ gather
            D = l1[start:stop, None] + l1[None, :] - np.asarray(corr)
            np.maximum(D, 0.0, out=D)
        else:
            dots = (B @ X.T).toarray()
            if code == 3:
                denom = norms[start:stop, None] * norms[None, :]
                D = 1.0 - np.divide(dots, denom, out=np.zeros_like(dots), where=denom > 0)
                np.clip(D, 0.0, 2.0, out=D)
            else:
                D = -2.0 * dots  # scikit-learn's order of the sums (the same rounding)
                D += sq[start:stop, None]
                D += sq[None, :]
                np.sqrt(np.maximum(D, 0.0, out=D), out=D)
        D[np.arange(stop - start), np.arange(start, stop)] = 0.0
        sums[start:stop] = D @ onehot
    return sums


def silhouette_samples(
    X: Any, labels: Any, *, metric: Any = "euclidean", **kwds: Any
) -> np.ndarray:
    r"""Silhouette coefficient of every sample, shape (n_samples,).

    .. math:: s_i = \frac{b_i - a_i}{\max(a_i, b_i)}, \quad
        a_i = \frac{1}{|C_i| - 1} \sum_{j \in C_i, j \ne i} d(x_i, x_j), \quad
        b_i = \min_{C \ne C_i} \frac{1}{|C|} \sum_{j \in C} d(x_i, x_j)

    and :math:`s_i = 0` when sample :math:`i` is alone in its cluster.

    Parameters
    ----------
    X : array-like or scipy.sparse matrix of shape (n_samples, n_features), or
        (n_samples, n_samples) if ``metric='precomputed'``. A sparse ``X`` takes 'euclidean',
        'l2', 'manhattan', 'l1', 'cityblock', 'cosine' (its distances formed block by block
        from sparse products, as scikit-learn's), 'precomputed' and a callable (given rows as
        1-row CSR matrices, each pair once), as scikit-learn does.
    labels : array-like of shape (n_samples,)
        Cluster of each sample; between 2 and n_samples - 1 distinct values (a column vector
        of shape (n_samples, 1) is raveled with a ``DataConversionWarning``, as in
        scikit-learn).
    metric : str or callable, default='euclidean'
        'euclidean', 'l2', 'sqeuclidean', 'manhattan', 'l1', 'cityblock' and 'cosine' are
        summed by the kernel; 'precomputed' takes ``X`` as the distance matrix (a zero diagonal,
        up to 100 eps of its float dtype); scipy's 'braycurtis', 'canberra', 'chebyshev',
        'correlation', 'hamming', 'mahalanobis', 'minkowski', 'seuclidean' and, on ``X != 0``,
        'dice', 'jaccard', 'rogerstanimoto', 'russellrao', 'sokalsneath', 'yule', or a callable
        ``metric(u, v, **kwds)`` of two rows, form the (n_samples, n_samples) matrix with
        ``scipy.spatial.distance.pdist``, as scikit-learn does.
    **kwds
        Passed to the metric (``p`` of 'minkowski', ``V`` of 'seuclidean', ...).

    Returns
    -------
    ndarray of shape (n_samples,)
        float32 when ``X`` is float32 and the metric is 'euclidean', 'l2', 'cosine',
        'precomputed' or a callable, as scikit-learn returns; else float64.

    References
    ----------
    Rousseeuw, "Silhouettes: a graphical aid to the interpretation and validation of cluster
    analysis", J. Comput. Appl. Math. 20, 1987.
    """
    if not callable(metric):
        check_option(metric, "metric", _METRICS + _SCIPY_METRICS + _BOOLEAN_METRICS)
    if sp.issparse(X):
        dtype = X.dtype
        X = _check_sparse(X, metric, kwds)
    else:
        dtype = np.asarray(X).dtype
        X = check_array(X, "X", ndim=2)
    labels = np.asarray(labels)
    if labels.ndim == 2 and labels.shape[1] == 1:  # scikit-learn's check_X_y ravels it
        warn_column_vector_y(stacklevel=3)
        labels = labels.ravel()
    labels = check_array(labels, "labels", ndim=1, dtype=None)
    check_consistent_length(X=X, labels=labels)
    present, codes = np.unique(labels, return_inverse=True)
    n, k = X.shape[0], present.size
    if not 2 <= k <= n - 1:
        raise ValueError(
            f"Number of labels is {k}. Valid values are 2 to n_samples - 1 (inclusive)"
        )
    if callable(metric) or metric not in _METRICS or (kwds and metric != "precomputed"):
        sums = _distance_matrix(X, metric, kwds) @ np.eye(k)[codes]
    elif metric == "precomputed":
        if X.shape[0] != X.shape[1]:
            raise ValueError(f"a precomputed distance matrix must be square, got {X.shape}")
        # rounding allowed on the diagonal, as in scikit-learn: 100 eps of the given dtype
        atol = 100 * np.finfo(dtype).eps if dtype.kind == "f" else 0.0
        if np.any(np.abs(np.diag(X)) > atol):
            raise ValueError(
                f"a precomputed distance matrix must have a zero diagonal (up to {atol:.3g}); "
                f"use np.fill_diagonal(X, 0)"
            )
        sums = X @ np.eye(k)[codes]  # (n, k): distance sums per cluster
    elif sp.issparse(X):
        sums = _sparse_distance_sums(X, np.eye(k)[codes], _METRIC_CODE[metric])
    else:
        sums = _cluster_distance_sums(np.ascontiguousarray(X), codes, k, _METRIC_CODE[metric])
    sizes = np.bincount(codes, minlength=k)
    own = sizes[codes]
    a = sums[np.arange(n), codes] / np.maximum(own - 1, 1)
    mean_other = sums / sizes
    mean_other[np.arange(n), codes] = np.inf
    b = mean_other.min(axis=1)
    denom = np.maximum(a, b)
    s = np.divide(b - a, denom, out=np.zeros(n), where=denom > 0)
    s[own == 1] = 0.0
    # float32 data give float32 coefficients where scikit-learn's distance matrix stays float32
    # (it computes them in float32; here the sums are float64 and only the result is rounded)
    keeps_float32 = callable(metric) or metric in _FLOAT32_METRICS
    return s.astype(np.float32) if dtype == np.float32 and keeps_float32 else s


def silhouette_score(
    X: Any,
    labels: Any,
    *,
    metric: Any = "euclidean",
    sample_size: int | None = None,
    random_state: Any = None,
    **kwds: Any,
) -> float:
    """Mean silhouette coefficient over all samples (or a random subset of ``sample_size``).

    Close to 1: compact, well separated clusters; near 0: overlapping clusters; negative:
    samples closer to another cluster than to their own. See :func:`silhouette_samples`.
    """
    if sample_size is not None:
        X = sp.csr_matrix(X) if sp.issparse(X) else check_array(X, "X", ndim=2)
        check_scalar(sample_size, "sample_size", kind=numbers.Integral, low=2, high=X.shape[0])
        idx = check_random_state(random_state).permutation(X.shape[0])[:sample_size]
        labels = np.asarray(labels)[idx]
        X = X[idx][:, idx] if metric == "precomputed" else X[idx]
    return float(np.mean(silhouette_samples(X, labels, metric=metric, **kwds)))
