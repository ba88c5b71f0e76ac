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
