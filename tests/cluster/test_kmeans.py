"""KMeans vs scikit-learn: same starting centers, same run; k-means++, same quality."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn import cluster as skc
from sklearn.datasets import load_digits, load_iris, make_blobs
from sklearn.exceptions import ConvergenceWarning as SkConvergenceWarning
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import parametrize_with_checks

from mlcanon import io
from mlcanon.cluster import ConvergenceWarning, KMeans, kmeans_plusplus


def _data(name):
    if name == "blobs":
        return make_blobs(3000, 12, centers=7, cluster_std=3.0, random_state=0)[0], 7
    if name == "digits":
        return load_digits().data, 10
    return load_iris().data, 3


@pytest.mark.parametrize("name", ["blobs", "digits", "iris"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_same_initial_centers_give_the_same_run_as_sklearn(name, seed):
    X, k = _data(name)
    init = X[np.random.default_rng(seed).choice(len(X), k, replace=False)]
    ours = KMeans(k, init=init, max_iter=300).fit(X)
    ref = skc.KMeans(k, init=init, n_init=1, max_iter=300).fit(X)
    np.testing.assert_array_equal(ours.labels_, ref.labels_)
    np.testing.assert_allclose(ours.cluster_centers_, ref.cluster_centers_, rtol=1e-8, atol=1e-8)
    np.testing.assert_allclose(ours.inertia_, ref.inertia_, rtol=1e-8)
    assert ours.n_iter_ == ref.n_iter_


@pytest.mark.parametrize("seed", [0, 1])
def test_sample_weight_and_new_data_match_sklearn(seed):
    rng = np.random.default_rng(seed)
    X, _ = make_blobs(800, 5, centers=4, cluster_std=2.5, random_state=seed)
    w = rng.uniform(0.1, 3.0, size=len(X))
    init = X[:4]
    ours = KMeans(4, init=init, tol=1e-6).fit(X, sample_weight=w)
    ref = skc.KMeans(4, init=init, n_init=1, tol=1e-6).fit(X, sample_weight=w)
    np.testing.assert_array_equal(ours.labels_, ref.labels_)
    np.testing.assert_allclose(ours.cluster_centers_, ref.cluster_centers_, rtol=1e-8)
    np.testing.assert_allclose(ours.inertia_, ref.inertia_, rtol=1e-8)
    X_new = rng.normal(scale=6.0, size=(300, 5))
    np.testing.assert_array_equal(ours.predict(X_new), ref.predict(X_new))
    np.testing.assert_allclose(ours.transform(X_new), ref.transform(X_new), rtol=1e-8)
    np.testing.assert_allclose(ours.score(X_new), ref.score(X_new), rtol=1e-8)


def test_empty_cluster_is_relocated_like_sklearn():
    X, _ = make_blobs(300, 2, centers=3, random_state=3)
    init = np.vstack([X[:2], [[1e3, 1e3]]])  # the far center wins no sample at the first step
    ours = KMeans(3, init=init).fit(X)
    ref = skc.KMeans(3, init=init, n_init=1).fit(X)
    np.testing.assert_array_equal(ours.labels_, ref.labels_)
    np.testing.assert_allclose(ours.cluster_centers_, ref.cluster_centers_, rtol=1e-8)


@pytest.mark.parametrize("name", ["blobs", "digits", "iris"])
@pytest.mark.parametrize("seed", [0, 7])
def test_kmeanspp_inertia_within_one_percent_of_sklearn(name, seed):
    X, k = _data(name)
    ours = KMeans(k, n_init=10, random_state=seed).fit(X).inertia_
    ref = skc.KMeans(k, n_init=10, random_state=seed).fit(X).inertia_
    assert abs(ours / ref - 1) < 0.01


def test_hand_computed_two_groups():
    X = np.array([[0.0], [1.0], [10.0], [11.0]])
    km = KMeans(2, init=[[0.0], [10.0]]).fit(X)
    np.testing.assert_array_equal(km.labels_, [0, 0, 1, 1])
    np.testing.assert_allclose(km.cluster_centers_, [[0.5], [10.5]])
    assert km.inertia_ == pytest.approx(1.0)
    np.testing.assert_allclose(km.transform([[5.5]]), [[5.0, 5.0]])


@pytest.mark.parametrize("seed", range(5))
def test_kmeanspp_seeds_one_point_per_separated_group(seed):
    centers = np.array([[0, 0], [100, 0], [0, 100], [100, 100]], dtype=float)
    X = np.repeat(centers, 25, axis=0) + np.random.default_rng(seed).normal(size=(100, 2))
    seeds, idx = kmeans_plusplus(X, 4, random_state=seed)
    np.testing.assert_array_equal(seeds, X[idx])
    assert sorted(idx // 25) == [0, 1, 2, 3]


def test_fewer_distinct_points_than_clusters_warns():
    X = np.repeat([[0.0, 0.0], [1.0, 1.0]], 5, axis=0)
    with pytest.warns(ConvergenceWarning, match="distinct clusters"):
        KMeans(3, random_state=0).fit(X)


def test_save_load_round_trip(tmp_path):
    X, k = _data("iris")
    km = KMeans(k, random_state=0).fit(X)
    back = io.load(io.save(km, tmp_path / "km.npz"))
    np.testing.assert_array_equal(back.predict(X), km.predict(X))
    np.testing.assert_array_equal(back.transform(X), km.transform(X))


@pytest.mark.parametrize(
    "kwargs, X, match",
    [
        ({"n_clusters": 5}, np.ones((3, 2)), r"n_samples=3 should be >= n_clusters=5"),
        ({"n_clusters": 2}, [[0.0, np.nan], [1.0, 2.0], [3, 4]], "X contains NaN"),
        ({"n_clusters": 2, "init": "kmeans"}, np.eye(3), "init must be one of"),
        ({"n_clusters": 2, "init": np.zeros((3, 3))}, np.eye(3), r"init must have shape"),
        ({"n_clusters": 2, "n_init": 0}, np.eye(3), "n_init must be >= 1"),
        ({"n_clusters": 0}, np.eye(3), "n_clusters must be >= 1"),
    ],
)
def test_bad_input_is_refused(kwargs, X, match):
    with pytest.raises(ValueError, match=match):
        KMeans(**kwargs).fit(X)


def test_errors_after_fit():
    with pytest.raises(NotFittedError):
        KMeans(2).predict(np.eye(2))
    km = KMeans(2, random_state=0).fit(np.eye(3))
    with pytest.raises(ValueError, match="X has 2 features, but KMeans is expecting 3"):
        km.predict(np.eye(2))
    with pytest.raises(ValueError, match="sample_weight must not be all zero"):
        KMeans(2).fit(np.eye(3), sample_weight=np.zeros(3))


_SEEDS_MOVE = (
    "k-means++ draws its seeds from the random stream, so repeating rows changes the "
    "seeds; scikit-learn marks its own KMeans the same way"
)
_XFAIL = {
    "check_sample_weight_equivalence_on_dense_data": _SEEDS_MOVE,
    "check_sample_weight_equivalence_on_sparse_data": _SEEDS_MOVE,
}


@parametrize_with_checks(
    [KMeans(n_clusters=2, n_init=2, max_iter=5)], expected_failed_checks=lambda e: _XFAIL
)
def test_sklearn_estimator_contract(estimator, check):
    check(estimator)


def test_duplicate_initial_centers_stop_after_one_iteration():
    """Upstream test_relocating_with_duplicates: 4 distinct points, 5 given centers."""
    X = np.array([[0, 0], [1, 1], [1, 1], [1, 0], [0, 1]], dtype=float)
    ours, ref = KMeans(n_clusters=5, init=X), skc.KMeans(n_clusters=5, init=X)
    for model in (ours, ref):  # ours subclasses scikit-learn's warning
        with pytest.warns(SkConvergenceWarning, match=r"Number of distinct clusters \(4\)"):
            model.fit(X)
    assert ours.n_iter_ == ref.n_iter_ == 1
    # scikit-learn centers the float32 data in float32: its centers are off by an ulp
    np.testing.assert_allclose(ours.cluster_centers_, ref.cluster_centers_, rtol=1e-6)
    np.testing.assert_array_equal(ours.cluster_centers_, X.astype(np.float32))


def test_callable_init_as_sklearn():
    X, _ = make_blobs(200, centers=3, random_state=0)
    calls = []

    def init(data, n_clusters, random_state):
        calls.append((data.shape, n_clusters))
        return data[:n_clusters] + 0.1

    ours = KMeans(n_clusters=3, init=init, n_init=1).fit(X)
    ref = skc.KMeans(n_clusters=3, init=init, n_init=1).fit(X)
    assert calls == [(X.shape, 3), (X.shape, 3)]  # the data is passed in its own coordinates
    np.testing.assert_allclose(ours.cluster_centers_, ref.cluster_centers_, rtol=1e-12)
    assert ours.n_iter_ == ref.n_iter_
    with pytest.raises(ValueError, match=r"init must have shape \(n_clusters, n_features\)"):
        KMeans(n_clusters=3, init=lambda X, k, random_state: X[:2]).fit(X)


@pytest.mark.parametrize(
    "centers", [[["a", "b"]] * 3, [[1 + 1j, 2.0]] * 3], ids=["strings", "complex"]
)
def test_init_of_non_numbers_is_refused_naming_init(centers):
    """A callable init returning centers that are not real numbers: scikit-learn lets numpy's
    ValueError / TypeError through ('could not convert string to float: 'a''); ours raised the
    same without naming init (given arrays are refused naming it by the parameter check)."""
    X, _ = make_blobs(100, centers=3, random_state=0)

    def init(data, k, random_state):
        return centers

    with pytest.raises((ValueError, TypeError)) as ref:
        skc.KMeans(n_clusters=3, init=init, n_init=1).fit(X)
    with pytest.raises(ref.type, match=r"init must give the initial centers as real numbers"):
        KMeans(n_clusters=3, init=init, n_init=1).fit(X)


def test_callable_init_gets_a_randomstate_as_sklearn():
    """scikit-learn hands the callable a numpy RandomState; ours handed the fit's Generator,
    so a callable written for scikit-learn (random_state.randint, or scikit-learn's
    check_random_state, which refuses a Generator) failed with AttributeError / ValueError."""
    from sklearn.utils import check_random_state as sk_check_random_state

    X, _ = make_blobs(200, centers=3, random_state=0)
    given = {}

    def init(data, n_clusters, random_state):
        given.setdefault("types", []).append(type(random_state))
        rs = sk_check_random_state(random_state)
        return data[rs.choice(len(data), n_clusters, replace=False)]

    def init_randint(data, n_clusters, random_state):
        return data[random_state.randint(0, len(data), size=n_clusters)]

    for make in (skc.KMeans, KMeans):
        make(n_clusters=3, init=init, n_init=2, random_state=0).fit(X)
        make(n_clusters=3, init=init_randint, n_init=1, random_state=0).fit(X)
    assert given["types"] == [np.random.RandomState] * 4
    # seeded from the fit's generator: the same random_state gives the same run
    a = KMeans(n_clusters=3, init=init, n_init=2, random_state=5).fit(X)
    b = KMeans(n_clusters=3, init=init, n_init=2, random_state=5).fit(X)
    np.testing.assert_array_equal(a.cluster_centers_, b.cluster_centers_)


def test_callable_init_gets_random_state_by_keyword_as_sklearn():
    """scikit-learn calls init(X, n_clusters, random_state=...); a callable taking random_state
    keyword-only failed here ('takes 2 positional arguments but 3 were given')."""
    X, _ = make_blobs(200, centers=3, random_state=0)

    def init(data, n_clusters, *, random_state):
        return data[:n_clusters] + 0.1

    ours = KMeans(n_clusters=3, init=init, n_init=1).fit(X)
    ref = skc.KMeans(n_clusters=3, init=init, n_init=1).fit(X)
    np.testing.assert_allclose(ours.cluster_centers_, ref.cluster_centers_, rtol=1e-12)
    assert ours.n_iter_ == ref.n_iter_
    # sparse centers: scikit-learn's check_array refuses them with a TypeError; ours said
    # "setting an array element with a sequence"
    sparse_init = lambda data, n_clusters, random_state: sp.csr_matrix(data[:n_clusters])  # noqa: E731
    with pytest.raises(TypeError):
        skc.KMeans(n_clusters=3, init=sparse_init, n_init=1).fit(X)
    with pytest.raises(TypeError, match=r"init .* dense centers"):
        KMeans(n_clusters=3, init=sparse_init, n_init=1).fit(X)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_elkan_matches_lloyd_and_sklearn_elkan(seed):
    X, _ = make_blobs(1500, centers=5, n_features=4, cluster_std=2.5, random_state=seed)
    w = np.random.default_rng(seed).uniform(0.5, 2.0, len(X))
    init = X[:5]
    elkan = KMeans(5, init=init, algorithm="elkan").fit(X, sample_weight=w)
    lloyd = KMeans(5, init=init, algorithm="lloyd").fit(X, sample_weight=w)
    ref = skc.KMeans(5, init=init, algorithm="elkan", n_init=1).fit(X, sample_weight=w)
    np.testing.assert_array_equal(elkan.labels_, lloyd.labels_)
    np.testing.assert_allclose(elkan.cluster_centers_, lloyd.cluster_centers_, rtol=1e-12)
    np.testing.assert_array_equal(elkan.labels_, ref.labels_)
    np.testing.assert_allclose(elkan.cluster_centers_, ref.cluster_centers_, rtol=1e-10)
    assert elkan.n_iter_ == lloyd.n_iter_ == ref.n_iter_


def test_unknown_algorithm_is_refused():
    with pytest.raises(ValueError, match="algorithm must be one of 'lloyd', 'elkan'"):
        KMeans(2, algorithm="full").fit(np.eye(3))


# Parameters and input kinds added for scikit-learn's own tests (issue 16) ---------------------
@pytest.mark.parametrize("algorithm", ["lloyd", "elkan"])
@pytest.mark.parametrize("tol", [0.0, 1e-2])
def test_verbose_prints_scikit_learns_lines(capsys, algorithm, tol):
    X, k = _data("blobs")
    init = X[:k]
    kw = dict(init=init, n_init=1, tol=tol, algorithm=algorithm, verbose=1)
    KMeans(k, **kw).fit(X)
    ours = capsys.readouterr().out.splitlines()
    skc.KMeans(k, **kw).fit(X)
    ref = capsys.readouterr().out.splitlines()
    assert ours[0] == ref[0] == "Initialization complete"
    assert len(ours) == len(ref)  # the same number of iterations
    for a, b in zip(ours[1:-1], ref[1:-1], strict=True):  # "Iteration i, inertia J."
        assert a.split(",")[0] == b.split(",")[0]
        np.testing.assert_allclose(float(a.split()[-1][:-1]), float(b.split()[-1][:-1]), rtol=1e-9)
    assert ours[-1].split(":")[0] == ref[-1].split(":")[0]  # "Converged at iteration i"
    assert ("strict convergence" in ours[-1]) == ("strict convergence" in ref[-1])


@pytest.mark.parametrize("algorithm", ["lloyd", "elkan"])
def test_label_dtype_is_sklearns(algorithm):
    X, k = _data("iris")
    ours = KMeans(k, algorithm=algorithm, random_state=0).fit(X)
    ref = skc.KMeans(k, algorithm=algorithm, random_state=0).fit(X)
    for a, b in [
        (ours.labels_, ref.labels_),
        (ours.predict(X), ref.predict(X)),
        (ours.fit_predict(X), ref.fit_predict(X)),
    ]:
        assert a.dtype == b.dtype == np.int32


def test_float32_centers_transform_and_copy_x():
    X, k = _data("iris")
    X32 = X.astype(np.float32)
    ours = KMeans(k, init=X[:k], n_init=1).fit(X32)
    ref = skc.KMeans(k, init=X[:k], n_init=1).fit(X32)
    assert ours.cluster_centers_.dtype == ref.cluster_centers_.dtype == np.float32
    assert ours.transform(X32).dtype == np.float32
    np.testing.assert_allclose(ours.cluster_centers_, ref.cluster_centers_, rtol=1e-5)
    fitted = KMeans(k, random_state=0).fit(X)
    np.testing.assert_array_equal(np.diag(fitted.transform(fitted.cluster_centers_)), 0.0)
    np.testing.assert_allclose(
        fitted.transform(X), np.linalg.norm(X[:, None] - fitted.cluster_centers_, axis=2)
    )
    X_in_place = X.copy()
    same = KMeans(k, init=X[:k], n_init=1, copy_x=False).fit(X_in_place)
    np.testing.assert_allclose(X_in_place, X, rtol=1e-14)  # centered in fit, then restored
    np.testing.assert_array_equal(same.labels_, KMeans(k, init=X[:k], n_init=1).fit(X).labels_)
    assert list(fitted.get_feature_names_out()) == [f"kmeans{i}" for i in range(k)]


@pytest.mark.parametrize("fit_dtype", [np.float32, np.float64])
@pytest.mark.parametrize("input_dtype", [np.float32, np.float64, np.int64])
def test_transform_dtype_promotes_input_and_centers_as_sklearn(fit_dtype, input_dtype):
    # float32 distances only from float32 data AND float32 centers: a float64 model
    # transforming float32 data gave float32 (scikit-learn: float64, distances to float64 centers)
    X, k = _data("iris")
    Xf = X.astype(fit_dtype)
    ours = KMeans(k, init=Xf[:k], n_init=1).fit(Xf)
    ref = skc.KMeans(k, init=Xf[:k], n_init=1).fit(Xf)
    Xt = (10 * X).astype(input_dtype)
    assert ours.transform(Xt).dtype == ref.transform(Xt).dtype
    np.testing.assert_allclose(ours.transform(Xt), ref.transform(Xt), rtol=1e-5)


def test_kmeans_plusplus_sparse_and_precomputed_norms():
    import scipy.sparse as sp

    X, k = _data("digits")
    dense = kmeans_plusplus(X, k, random_state=0)
    for data in (sp.csr_matrix(X), X.astype(np.float32)):
        centers, indices = kmeans_plusplus(data, k, random_state=0)
        np.testing.assert_array_equal(indices, dense[1])
        assert centers.dtype == (np.float32 if data.dtype == np.float32 else np.float64)
    norms = (X**2).sum(axis=1)
    np.testing.assert_array_equal(
        kmeans_plusplus(X, k, x_squared_norms=norms, random_state=0)[1], dense[1]
    )
    with pytest.raises(ValueError, match="The length of x_squared_norms 2 should be equal"):
        kmeans_plusplus(X, k, x_squared_norms=norms[:2])
    with pytest.warns(RuntimeWarning, match="doesn't make sense for a single cluster"):
        KMeans(1, algorithm="elkan").fit(X)


@pytest.mark.parametrize(
    ("value", "error", "match"),
    [
        (0, ValueError, r"^n_local_trials must be >= 1, got 0$"),
        (-1, ValueError, r"^n_local_trials must be >= 1, got -1$"),
        (1.5, TypeError, r"^n_local_trials must be Integral, got float 1.5$"),
    ],
)
def test_kmeans_plusplus_refuses_a_bad_n_local_trials(value, error, match):
    # scikit-learn refuses these too; we raised "attempt to get argmin of an empty sequence",
    # "negative dimensions are not allowed" and a numpy TypeError
    X, _ = _data("iris")
    with pytest.raises(error, match=match):
        kmeans_plusplus(X, 3, n_local_trials=value, random_state=0)
    with pytest.raises(ValueError, match="n_local_trials"):
        skc.kmeans_plusplus(X, 3, n_local_trials=value, random_state=0)


@pytest.mark.parametrize("algorithm", ["lloyd", "elkan"])
def test_zero_weight_samples_change_nothing_when_a_cluster_empties(algorithm):
    # samples of weight 0 carry no information, so the run equals scikit-learn's on the data
    # without them. An empty cluster took the farthest sample whatever its weight: a far-off
    # sample of weight 0 left it empty, at its old center (differed in 600 of 600 random cases)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 2))
    w = rng.uniform(0.5, 2.0, size=30)
    X[:3] += 50.0
    w[:3] = 0.0
    init = np.array([[-30.0, -30.0], [0.0, 0.0], [1.0, 1.0]])  # the first center starts empty
    ours = KMeans(3, init=init, n_init=1, algorithm=algorithm, tol=0).fit(X, sample_weight=w)
    ref = skc.KMeans(3, init=init, n_init=1, algorithm=algorithm, tol=0)
    ref.fit(X[3:], sample_weight=w[3:])
    np.testing.assert_array_equal(ours.labels_[3:], ref.labels_)
    np.testing.assert_allclose(ours.cluster_centers_, ref.cluster_centers_, rtol=1e-12)
    np.testing.assert_allclose(ours.inertia_, ref.inertia_, rtol=1e-12)


@pytest.mark.parametrize("algorithm", ["lloyd", "elkan"])
@pytest.mark.parametrize("max_iter", [1, 300])
@pytest.mark.parametrize("init", [[[0.0], [1.0], [5.0]], [[0.0], [5.0], [1.0]]])
def test_cluster_left_empty_goes_to_the_heaviest_center_as_in_sklearn(algorithm, max_iter, init):
    """Two distinct points, three clusters: the one that stays empty is put at the heaviest
    cluster's center, as scikit-learn puts it; it kept its starting center 5.0 (and stopped
    one iteration early, its shift being 0)."""
    X = np.array([[0.0], [0.0], [0.0], [1.0], [1.0]])
    kw = dict(init=np.array(init), n_init=1, algorithm=algorithm, max_iter=max_iter)
    with pytest.warns(SkConvergenceWarning, match="distinct clusters"):
        ours = KMeans(3, **kw).fit(X)
    with pytest.warns(SkConvergenceWarning, match="distinct clusters"):
        ref = skc.KMeans(3, **kw).fit(X)
    np.testing.assert_array_equal(ours.cluster_centers_, ref.cluster_centers_)
    np.testing.assert_array_equal(ours.labels_, ref.labels_)
    assert ours.n_iter_ == ref.n_iter_


@pytest.mark.parametrize("algorithm", ["lloyd", "elkan"])
def test_empty_cluster_takes_the_farthest_sample_among_ties_as_sklearn(algorithm):
    """Two samples equally far from their centers: the empty cluster (a duplicate starting
    center) takes the one scikit-learn's argpartition picks (it took the lower index)."""
    X = np.array(
        [[0, 0, -1], [0, 0, 1], [0, 1, 1], [-1, 0, 0], [0, 1, 0], [0, 0, 0], [0, 0, 0], [0, 0, 0]],
        dtype=float,
    )
    X = np.vstack([X, [[-1, 0, 0], [0, 0, 0], [0, 0, 0]]])
    init = np.array([[0, 0, 0], [0, 0, 1], [0, 0, -1], [-1, 0, 0], [0, 0, 0]], dtype=float)
    ours = KMeans(5, init=init, algorithm=algorithm).fit(X)
    ref = skc.KMeans(5, init=init, n_init=1, algorithm=algorithm).fit(X)
    np.testing.assert_array_equal(ours.labels_, ref.labels_)
    np.testing.assert_allclose(ours.cluster_centers_, ref.cluster_centers_, rtol=1e-12)
    np.testing.assert_allclose(ours.inertia_, ref.inertia_, rtol=1e-12)


@pytest.mark.parametrize("algorithm", ["lloyd", "elkan"])
def test_given_centers_are_rounded_to_float32_data_as_sklearn(algorithm):
    """scikit-learn casts init to X's dtype: float64 centers equal to the samples before
    rounding are the samples themselves for float32 data, and the run stops at once (ours took
    a second iteration to move them by the rounding)."""
    X = np.random.default_rng(3).normal(size=(5, 3)) * 2.3
    kw = dict(init=X, n_init=1, algorithm=algorithm, tol=0.0)
    ours = KMeans(5, **kw).fit(X.astype(np.float32))
    ref = skc.KMeans(5, **kw).fit(X.astype(np.float32))
    assert ours.n_iter_ == ref.n_iter_ == 1
    # scikit-learn centers the float32 data in float32: its centers are off by an ulp
    np.testing.assert_allclose(ours.cluster_centers_, ref.cluster_centers_, rtol=1e-6)
    np.testing.assert_array_equal(ours.cluster_centers_, X.astype(np.float32))


def test_a_number_as_sample_weight_is_every_samples_weight_as_sklearn():
    """scikit-learn takes a number for sample_weight (KMeans.fit/score, kmeans_plusplus); ours
    refused it ('sample_weight must be 1-D, got 0-D array')."""
    X, _ = make_blobs(300, 4, centers=3, random_state=0)
    init = X[:3]
    ours = KMeans(3, init=init).fit(X, sample_weight=2.5)
    ref = skc.KMeans(3, init=init, n_init=1).fit(X, sample_weight=2.5)
    np.testing.assert_array_equal(ours.labels_, ref.labels_)
    np.testing.assert_allclose(ours.cluster_centers_, ref.cluster_centers_, rtol=1e-10)
    np.testing.assert_allclose(ours.inertia_, ref.inertia_, rtol=1e-10)
    np.testing.assert_allclose(ours.score(X, sample_weight=3), ref.score(X, sample_weight=3))
    centers, indices = kmeans_plusplus(X, 3, sample_weight=2.0, random_state=0)
    assert centers.shape == (3, 4)
    np.testing.assert_array_equal(centers, X[indices])


@pytest.mark.parametrize("algorithm", ["lloyd", "elkan"])
def test_lone_weighted_sample_is_not_relocated_into_an_empty_cluster(algorithm):
    """Two samples of positive weight, four clusters: the mean of a lone weighted sample is
    off it by rounding, so it looked like the farthest sample and was moved to an empty cluster,
    emptying its own; the clusters swapped every iteration and the fit ran to max_iter=300
    (scikit-learn, which moves the samples of weight 0 instead, stops after 2; 210 of 1500
    random runs with zero weights were stuck so)."""
    X = np.array([[0.32293436], [-1.40571442], [1.08330427], [0.79854055], [0.73824934]])
    w = np.array([1.21733502, 0.0, 0.0, 0.89221019, 0.0])
    kw = dict(init=X[[4, 0, 2, 3]], n_init=1, tol=0, algorithm=algorithm)
    with pytest.warns(ConvergenceWarning, match="distinct clusters"):
        ours = KMeans(4, **kw).fit(X, sample_weight=w)
    with pytest.warns(SkConvergenceWarning, match="distinct clusters"):
        ref = skc.KMeans(4, **kw).fit(X, sample_weight=w)
    assert ours.n_iter_ == ref.n_iter_ == 2
    np.testing.assert_allclose(ours.inertia_, ref.inertia_, rtol=0, atol=1e-30)
    # each weighted sample sits on its own center, as in scikit-learn's
    on = w > 0
    np.testing.assert_array_equal(
        ours.cluster_centers_[ours.labels_[on]], ref.cluster_centers_[ref.labels_[on]]
    )


@pytest.mark.parametrize("algorithm", ["lloyd", "elkan"])
def test_empty_cluster_takes_a_lone_sample_as_sklearn(algorithm):
    """Enough samples for the clusters: an empty cluster takes the farthest sample even when
    it is alone in its cluster, as scikit-learn does (refusing lone samples in every case
    ended at inertia 1.0 here where scikit-learn reaches 0.0)."""
    X = np.array([[1.0], [-2.0], [3.0], [3.0], [0.0]])
    kw = dict(init=np.array([[4.0], [-4.0], [1.0], [1.0]]), n_init=1, algorithm=algorithm)
    ours = KMeans(4, **kw).fit(X)
    ref = skc.KMeans(4, **kw).fit(X)
    np.testing.assert_array_equal(ours.labels_, ref.labels_)
    np.testing.assert_array_equal(ours.cluster_centers_, ref.cluster_centers_)
    assert ours.inertia_ == ref.inertia_ == 0.0
    assert ours.n_iter_ == ref.n_iter_


def test_random_init_with_too_few_weighted_samples_says_so():
    # scikit-learn fails in numpy's choice ("Fewer non-zero entries in p than size"); so did we
    X = np.random.default_rng(0).normal(size=(10, 2))
    w = np.r_[np.zeros(8), 1.0, 1.0]
    with pytest.raises(ValueError, match="Fewer non-zero entries in p than size"):
        skc.KMeans(3, init="random", n_init=1, random_state=0).fit(X, sample_weight=w)
    with pytest.raises(ValueError, match=r"init='random' draws n_clusters=3 .* only 2 samples"):
        KMeans(3, init="random", n_init=1, random_state=0).fit(X, sample_weight=w)


@pytest.mark.parametrize("algorithm", ["lloyd", "elkan"])
def test_subnormal_sample_weights_give_the_unweighted_run(algorithm):
    """Scaling every weight leaves k-means unchanged; weights of 1e-310 (subnormal) made the
    centers infinite: the mean was taken times 1 / weight = inf (scikit-learn's are inf too).
    The reference is scikit-learn's run without weights."""
    X, _ = make_blobs(200, 3, centers=4, random_state=0)
    kw = dict(init=X[:4], n_init=1, algorithm=algorithm)
    ours = KMeans(4, **kw).fit(X, sample_weight=np.full(len(X), 1e-310))
    ref = skc.KMeans(4, **kw).fit(X)
    np.testing.assert_array_equal(ours.labels_, ref.labels_)
    np.testing.assert_allclose(ours.cluster_centers_, ref.cluster_centers_, rtol=1e-9)
    np.testing.assert_allclose(ours.inertia_ / 1e-310, ref.inertia_, rtol=1e-9)
    assert ours.n_iter_ == ref.n_iter_
