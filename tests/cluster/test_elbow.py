"""The elbow helper: inertia per k is KMeans's, and the knee lands on the generating k."""

import numpy as np
import pytest
from sklearn.datasets import make_blobs

from mlcanon.cluster import KMeans, find_knee, kmeans_elbow


@pytest.mark.parametrize("true_k", [3, 4, 5, 6])
@pytest.mark.parametrize("seed", [0, 1])
def test_knee_is_the_number_of_generating_blobs(true_k, seed):
    angle = 2 * np.pi * np.arange(true_k) / true_k  # centers 15 apart or more, std 0.6
    centers = 15 * np.c_[np.cos(angle), np.sin(angle)] / np.sin(np.pi / true_k) / 2
    X, _ = make_blobs(600, 2, centers=centers, cluster_std=0.6, random_state=seed)
    result = kmeans_elbow(X, range(1, 10), n_init=5, random_state=0)
    assert result.knee == true_k
    assert np.all(np.diff(result.inertia) < 0)
    expected = [KMeans(k, n_init=5, random_state=0).fit(X).inertia_ for k in range(1, 10)]
    np.testing.assert_array_equal(result.inertia, expected)


def test_find_knee_hand_computed():
    # chord from (0, 1) to (1, 0) after rescaling; (0.25, 0.1) lies 0.65 below it, the most
    assert find_knee([1, 2, 3, 4, 5], [10.0, 2.0, 1.5, 1.0, 0.0]) == 1
    assert find_knee([1, 2], [2.0, 1.0]) is None  # too short to bend
    assert find_knee([1, 2, 3], [1.0, 1.0, 1.0]) is None  # flat
    assert find_knee([1, 2, 3], [3.0, 2.5, 0.0]) is None  # concave: above its chord


@pytest.mark.parametrize(
    "x, y, match",
    [([1, 2, 3], [1.0, 2.0], "same length"), ([1, 3, 2], [3.0, 2.0, 1.0], "strictly increasing")],
)
def test_find_knee_errors(x, y, match):
    with pytest.raises(ValueError, match=match):
        find_knee(x, y)


def test_elbow_errors():
    with pytest.raises(ValueError, match="at least one value"):
        kmeans_elbow(np.eye(3), [])
    with pytest.raises(ValueError, match="n_clusters must be >= 1"):
        kmeans_elbow(np.eye(3), [0, 1])


def test_elbow_refuses_unordered_n_clusters_by_name_before_fitting():
    # it fitted every k first, then failed in find_knee with "x must be strictly increasing"
    # (or, as here, in KMeans: k=5 > 3 samples)
    with pytest.raises(ValueError, match=r"n_clusters must be strictly increasing, got \[5, 2\]"):
        kmeans_elbow(np.eye(3), [5, 2])
    with pytest.raises(ValueError, match=r"strictly increasing, got \[1, 2, 2\]"):
        kmeans_elbow(np.eye(3), [1, 2, 2])
