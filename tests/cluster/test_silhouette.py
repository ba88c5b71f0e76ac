"""Silhouette coefficient against scikit-learn (1e-12) and a hand-computed case."""

import numpy as np
import pytest
from sklearn import metrics as skm
from sklearn.cluster import KMeans as SkKMeans
from sklearn.datasets import load_digits, load_iris, make_blobs

from mlcanon.metrics._cluster import silhouette_samples, silhouette_score


def _data(name):
    if name == "iris":
        return load_iris().data
    if name == "digits":
        return load_digits().data[:600]
    return make_blobs(500, 6, centers=5, cluster_std=2.0, random_state=1)[0]


@pytest.mark.parametrize("name", ["iris", "digits", "blobs"])
@pytest.mark.parametrize("k", [2, 4, 7])
@pytest.mark.parametrize("metric", ["euclidean", "manhattan", "sqeuclidean"])
def test_matches_sklearn(name, k, metric):
    X = _data(name)
    labels = SkKMeans(k, n_init=1, random_state=0).fit_predict(X)
    ours = silhouette_score(X, labels, metric=metric)
    np.testing.assert_allclose(ours, skm.silhouette_score(X, labels, metric=metric), rtol=1e-12)
    np.testing.assert_allclose(
        silhouette_samples(X, labels, metric=metric),
        skm.silhouette_samples(X, labels, metric=metric),
        rtol=1e-12,
        atol=1e-14,
    )


def test_cosine_and_precomputed_match_sklearn():
    X = _data("iris")
    labels = np.repeat([0, 1, 2], 50)
    np.testing.assert_allclose(
        silhouette_score(X, labels, metric="cosine"),
        skm.silhouette_score(X, labels, metric="cosine"),
        rtol=1e-12,
    )
    D = skm.pairwise_distances(X)
    np.testing.assert_allclose(
        silhouette_score(D, labels, metric="precomputed"),
        skm.silhouette_score(D, labels, metric="precomputed"),
        rtol=1e-12,
    )


@pytest.mark.parametrize("metric", ["l2", "l1", "cityblock"])
def test_metric_aliases_match_sklearn(metric):
    X, labels = _data("iris"), np.repeat([0, 1, 2], 50)
    np.testing.assert_allclose(
        silhouette_samples(X, labels, metric=metric),
        skm.silhouette_samples(X, labels, metric=metric),
        rtol=1e-12,
    )


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_precomputed_diagonal_rounding_allowed_as_sklearn(dtype):
    """A diagonal within 100 eps of the matrix's dtype is accepted (rounding of a computed
    distance matrix); beyond it, both refuse."""
    X, labels = _data("iris"), np.repeat([0, 1, 2], 50)
    D = skm.pairwise_distances(X).astype(dtype)
    eps = np.finfo(dtype).eps
    np.fill_diagonal(D, 50 * eps)
    # scikit-learn sums float32 distances in float32, ours in float64
    tol = dict(rtol=1e-12) if dtype == np.float64 else dict(atol=1e-5)
    np.testing.assert_allclose(
        silhouette_samples(D, labels, metric="precomputed"),
        skm.silhouette_samples(D, labels, metric="precomputed"),
        **tol,
    )
    np.fill_diagonal(D, 200 * eps)
    with pytest.raises(ValueError, match="non-zero elements on the diagonal"):
        skm.silhouette_samples(D, labels, metric="precomputed")
    with pytest.raises(ValueError, match="zero diagonal"):
        silhouette_samples(D, labels, metric="precomputed")


def test_hand_computed():
    X = np.array([[0.0], [1.0], [4.0], [5.0], [20.0]])
    labels = np.array([0, 0, 1, 1, 2])
    # sample 0: a = 1, b = mean(4, 5) = 4.5 -> 3.5 / 4.5; sample 2: a = 1, b = mean(4, 3) = 3.5
    expected = [3.5 / 4.5, (3.5 - 1) / 3.5, 2.5 / 3.5, (4.5 - 1) / 4.5, 0.0]
    np.testing.assert_allclose(silhouette_samples(X, labels), expected, rtol=1e-15)
    assert silhouette_score(X, labels) == pytest.approx(np.mean(expected), rel=1e-15)


def test_subsample_uses_sample_size_rows():
    X = _data("blobs")
    labels = SkKMeans(5, n_init=1, random_state=0).fit_predict(X)
    a = silhouette_score(X, labels, sample_size=200, random_state=3)
    assert a == silhouette_score(X, labels, sample_size=200, random_state=3)
    assert abs(a - silhouette_score(X, labels)) < 0.05


@pytest.mark.parametrize(
    "X, labels, kwargs, match",
    [
        (np.eye(4), [0, 0, 0, 0], {}, "Number of labels is 1"),
        (np.eye(4), [0, 1, 2, 3], {}, "Number of labels is 4"),
        (np.eye(4), [0, 1, 1], {}, "inconsistent numbers of samples"),
        (np.ones((3, 4)), [0, 1, 1], {"metric": "precomputed"}, "must be square"),
        (np.eye(4), [0, 1, 1, 0], {"metric": "haversine"}, "metric must be one of"),
        ([[np.nan, 1.0], [0.0, 1.0], [1.0, 1.0]], [0, 1, 1], {}, "X contains NaN"),
    ],
)
def test_errors(X, labels, kwargs, match):
    with pytest.raises(ValueError, match=match):
        silhouette_score(X, labels, **kwargs)


def _chebyshev(u, v):
    return np.abs(u - v).max()


def _weighted_l1(u, v, w=1.0):
    return w * np.abs(u - v).sum()


@pytest.mark.parametrize(
    ("metric", "kwds"),
    [
        ("chebyshev", {}),
        ("minkowski", {"p": 3}),
        ("canberra", {}),
        ("braycurtis", {}),
        ("correlation", {}),
        ("hamming", {}),
        ("seuclidean", {}),  # V from X, as scikit-learn's
        ("seuclidean", {"V": np.array([1.0, 2.0, 3.0])}),
        ("mahalanobis", {}),  # VI from X
        ("jaccard", {}),  # the boolean metrics read X != 0
        ("russellrao", {}),  # nonzero d(x, x): the diagonal is 0 as in scikit-learn's pdist
        ("yule", {}),
        (_chebyshev, {}),
        (_weighted_l1, {"w": 2.0}),
        ("minkowski", {"p": 1, "w": np.array([1.0, 2.0, 1.0])}),
    ],
)
def test_scipy_metrics_callables_and_keywords_as_sklearn(metric, kwds):
    """scikit-learn's silhouette takes every scipy metric, a callable and keyword arguments for
    it (**kwds); ours refused all but 7 names ('metric must be one of ...') and any keyword."""
    rng = np.random.default_rng(0)
    X = (
        rng.integers(0, 3, (40, 3)).astype(float)
        if metric != "mahalanobis"
        else rng.normal(size=(40, 3))
    )
    labels = rng.integers(0, 3, 40)
    np.testing.assert_allclose(
        silhouette_samples(X, labels, metric=metric, **kwds),
        skm.silhouette_samples(X, labels, metric=metric, **kwds),
        rtol=1e-12,
        atol=1e-12,
    )
    np.testing.assert_allclose(
        silhouette_score(X, labels, metric=metric, **kwds),
        skm.silhouette_score(X, labels, metric=metric, **kwds),
        rtol=1e-12,
    )


@pytest.mark.parametrize(
    "metric",
    [
        "euclidean",
        "l2",
        "cosine",
        "precomputed",
        "sqeuclidean",
        "manhattan",
        "chebyshev",
        _chebyshev,
    ],
)
def test_float32_data_give_the_dtype_of_sklearn(metric):
    """scikit-learn returns float32 silhouettes for float32 data where its distances stay
    float32 ('euclidean', 'l2', 'cosine', 'precomputed', callables) and float64 for the others;
    ours returned float64 always. The values are those of the float64 sums, rounded: within
    float32 rounding of the float64 result, and of scikit-learn's float32 computation."""
    X = _data("iris").astype(np.float32)
    labels = SkKMeans(3, n_init=1, random_state=0).fit_predict(X)
    if metric == "precomputed":
        X = skm.pairwise_distances(X.astype(np.float64)).astype(np.float32)
    ref = skm.silhouette_samples(X, labels, metric=metric)
    ours = silhouette_samples(X, labels, metric=metric)
    assert ours.dtype == ref.dtype
    # scikit-learn's float32 cosine is off by up to 1.4e-5 (its own rounding)
    np.testing.assert_allclose(ours, ref, rtol=0, atol=5e-5 if ref.dtype == np.float32 else 1e-12)
    ref64 = skm.silhouette_samples(X.astype(np.float64), labels, metric=metric)
    np.testing.assert_allclose(ours, ref64.astype(ours.dtype), rtol=0, atol=1e-7)
    assert silhouette_samples(X.astype(np.float64), labels, metric=metric).dtype == np.float64


def test_column_vector_labels_are_raveled_with_a_warning_as_sklearn():
    """scikit-learn's check_X_y ravels labels of shape (n, 1) with a DataConversionWarning;
    ours refused them ('labels must be 1-D')."""
    from sklearn.exceptions import DataConversionWarning

    X = _data("iris")
    labels = SkKMeans(3, n_init=1, random_state=0).fit_predict(X)
    with pytest.warns(DataConversionWarning):
        ref = skm.silhouette_samples(X, labels[:, None])
    with pytest.warns(DataConversionWarning, match="column-vector y"):
        ours = silhouette_samples(X, labels[:, None])
    np.testing.assert_allclose(ours, ref, rtol=1e-12, atol=1e-15)
    with pytest.warns(DataConversionWarning):
        assert silhouette_score(X, labels[:, None]) == pytest.approx(
            skm.silhouette_score(X, labels), rel=1e-12
        )
    with pytest.raises(ValueError, match="labels must be 1-D"):
        silhouette_samples(X, np.c_[labels, labels])


def _sparse_with_zero_rows_and_duplicates(dtype=np.float64):
    import scipy.sparse as sp

    X = sp.random(120, 30, density=0.2, format="csr", random_state=3) * 100.0
    X = sp.vstack([X, sp.csr_matrix((2, 30)), X[:4]]).tocsr().astype(dtype)
    return X, np.random.default_rng(3).integers(0, 4, X.shape[0])


@pytest.mark.parametrize("metric", ["euclidean", "l2", "manhattan", "l1", "cityblock", "cosine"])
@pytest.mark.parametrize("data", ["digits", "zero rows and duplicates"])
def test_sparse_X_as_sklearn(metric, data):
    """scikit-learn takes a CSR X (its pairwise distances on sparse data); ours refused it
    ('Sparse data was passed for X, but dense data is required')."""
    import scipy.sparse as sp

    if data == "digits":
        X = sp.csr_matrix(_data("digits"))
        labels = SkKMeans(10, n_init=1, random_state=0).fit_predict(X)
    else:
        X, labels = _sparse_with_zero_rows_and_duplicates()
    ref = skm.silhouette_samples(X, labels, metric=metric)
    ours = silhouette_samples(X, labels, metric=metric)
    assert ours.dtype == ref.dtype == np.float64
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-14)  # measured <= 1.9e-15
    assert silhouette_score(X, labels, metric=metric) == pytest.approx(
        skm.silhouette_score(X, labels, metric=metric), rel=1e-14
    )
    X32 = X.astype(np.float32)
    ref32 = skm.silhouette_samples(X32, labels, metric=metric)
    ours32 = silhouette_samples(X32, labels, metric=metric)
    assert ours32.dtype == ref32.dtype
    # scikit-learn's float32 sums against our float64 ones: measured <= 1.8e-7
    np.testing.assert_allclose(ours32, ref32, rtol=0, atol=1e-6)


@pytest.mark.parametrize("metric, kwds", [(_chebyshev, {}), (_weighted_l1, {"w": 2.0})])
def test_sparse_X_with_a_callable_as_sklearn(metric, kwds):
    """scikit-learn hands a callable the rows of a sparse X as 1-row sparse matrices (and its
    keywords); ours refused a callable with sparse X with a TypeError."""
    import scipy.sparse as sp

    X = sp.random(40, 8, density=0.3, format="csr", random_state=1) * 10.0
    X = sp.vstack([X, sp.csr_matrix((1, 8)), X[:2]]).tocsr()  # a zero row, duplicates
    labels = np.random.default_rng(1).integers(0, 3, X.shape[0])
    ref = skm.silhouette_samples(X, labels, metric=metric, **kwds)
    ours = silhouette_samples(X, labels, metric=metric, **kwds)
    assert ours.dtype == ref.dtype == np.float64
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-15)


def test_sparse_X_rejects_complex_data_as_sklearn():
    """A complex sparse X lost its imaginary part (numpy's ComplexWarning) and got a result;
    scikit-learn refuses it, as ours refuses complex dense data (the shared sparse reader
    now refuses it, see tests/core/test_sparse_input.py)."""
    import scipy.sparse as sp

    X = sp.csr_matrix(np.arange(12.0).reshape(6, 2) + 1j)
    labels = [0, 0, 0, 1, 1, 1]
    with pytest.raises(ValueError, match="Complex data not supported"):
        skm.silhouette_samples(X, labels)
    with pytest.raises(ValueError, match="Complex data not supported: X has dtype complex128"):
        silhouette_samples(X, labels)


def test_sparse_X_precomputed_refusals_and_subsampling():
    import scipy.sparse as sp

    X, labels = _sparse_with_zero_rows_and_duplicates()
    D = sp.csr_matrix(skm.pairwise_distances(X.toarray()))
    np.testing.assert_allclose(
        silhouette_samples(D, labels, metric="precomputed"),
        skm.silhouette_samples(D, labels, metric="precomputed"),
        rtol=0,
        atol=1e-12,
    )
    # scipy's metrics (scikit-learn counts 'sqeuclidean' among them), or keywords: TypeError
    for metric in ("chebyshev", "sqeuclidean"):
        with pytest.raises(TypeError, match="do not support sparse"):
            skm.silhouette_samples(X, labels, metric=metric)
        with pytest.raises(
            TypeError, match=r"sparse X takes a callable metric, or metric in .*X\.toarray\(\)"
        ):
            silhouette_samples(X, labels, metric=metric)
    with pytest.raises(TypeError, match="sparse X takes a callable metric, or metric in"):
        silhouette_samples(X, labels, metric="cosine", p=3)
    bad = X.copy()
    bad.data[0] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        skm.silhouette_samples(bad, labels)
    with pytest.raises(ValueError, match="Input X contains NaN"):
        silhouette_samples(bad, labels)
    # sample_size draws the same rows from sparse and dense data
    assert silhouette_score(X, labels, sample_size=50, random_state=0) == pytest.approx(
        silhouette_score(X.toarray(), labels, sample_size=50, random_state=0), rel=1e-12
    )
