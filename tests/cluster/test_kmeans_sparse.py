"""KMeans and kmeans_plusplus on scipy.sparse CSR data, never densified: the same runs as
scikit-learn's sparse KMeans (which works on CSR directly) and as our dense path."""

import time
import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn import cluster as skc
from sklearn.datasets import load_digits

from mlcanon.cluster import KMeans, kmeans_plusplus


def _csr(n, d, density, seed, dtype=np.float64):
    """Non-negative TF-IDF-like rows with a few clustered blocks of columns, so that the
    clusters are not just noise. Rows are scaled by a random factor rather than to unit norm:
    a row sharing no column with any center is at ``||x||^2 + ||c||^2`` from every center, so
    centers of equal norm tie, and the dense and sparse sums round such ties differently (in
    scikit-learn too)."""
    rng = np.random.default_rng(seed)
    X = sp.random(n, d, density=density, format="csr", random_state=seed, dtype=np.float64)
    topic = rng.integers(0, 4, n)
    block = sp.random(n, d // 4, density=min(1.0, 4 * density), format="csr", random_state=seed)
    X = (
        X
        + sp.hstack(
            [block.multiply((topic == t)[:, None]) for t in range(4)] + [sp.csr_matrix((n, d % 4))]
        ).tocsr()
    )
    return sp.csr_matrix(sp.diags(rng.uniform(0.5, 2.0, n)) @ X, dtype=dtype)


def _init(X, k, seed):
    return X[np.random.default_rng(seed).choice(X.shape[0], k, replace=False)].toarray()


CASES = [  # n_samples, n_features, density, n_clusters, weighted
    (300, 20, 0.3, 3, False),
    (1000, 150, 0.05, 6, True),
    (2000, 500, 0.01, 10, False),
    (1500, 2000, 0.004, 8, True),
]


@pytest.mark.parametrize(("n", "d", "density", "k", "weighted"), CASES)
@pytest.mark.parametrize("algorithm", ["lloyd", "elkan"])
@pytest.mark.parametrize("seed", [0, 1])
def test_csr_run_is_sklearns_sparse_run_and_our_dense_run(
    n, d, density, k, weighted, algorithm, seed
):
    X = _csr(n, d, density, seed)
    w = np.random.default_rng(seed).uniform(0.2, 3.0, n) if weighted else None
    init = _init(X, k, seed)
    kw = dict(init=init, algorithm=algorithm)
    ours = KMeans(k, **kw).fit(X, sample_weight=w)
    ref = skc.KMeans(k, n_init=1, **kw).fit(X, sample_weight=w)
    np.testing.assert_array_equal(ours.labels_, ref.labels_)
    np.testing.assert_allclose(ours.cluster_centers_, ref.cluster_centers_, rtol=0, atol=1e-13)
    np.testing.assert_allclose(ours.inertia_, ref.inertia_, rtol=1e-13)
    assert ours.n_iter_ == ref.n_iter_
    dense = KMeans(k, **kw).fit(X.toarray(), sample_weight=w)
    np.testing.assert_array_equal(ours.labels_, dense.labels_)
    np.testing.assert_allclose(ours.cluster_centers_, dense.cluster_centers_, rtol=0, atol=1e-13)
    np.testing.assert_allclose(ours.inertia_, dense.inertia_, rtol=1e-13)
    assert ours.n_iter_ == dense.n_iter_


@pytest.mark.parametrize("seed", [0, 1])
def test_sparse_elkan_is_sklearns_sparse_elkan_and_lloyd(seed):
    # on CSR data our Elkan runs Lloyd's sparse iterations: scikit-learn's sparse Elkan (its own
    # bounds) gives the same labels, centers, inertia and iteration count as its sparse Lloyd
    X = _csr(3000, 400, 0.02, seed)
    init = _init(X, 12, seed)
    ours = KMeans(12, init=init, algorithm="elkan", tol=0).fit(X)
    elkan = skc.KMeans(12, init=init, n_init=1, algorithm="elkan", tol=0).fit(X)
    lloyd = skc.KMeans(12, init=init, n_init=1, algorithm="lloyd", tol=0).fit(X)
    for ref in (elkan, lloyd):
        np.testing.assert_array_equal(ours.labels_, ref.labels_)
        np.testing.assert_allclose(ours.cluster_centers_, ref.cluster_centers_, atol=1e-13)
        np.testing.assert_allclose(ours.inertia_, ref.inertia_, rtol=1e-13)
        assert ours.n_iter_ == ref.n_iter_


@pytest.mark.parametrize("algorithm", ["lloyd", "elkan"])
def test_sparse_empty_cluster_relocated_as_sklearn(algorithm):
    X = _csr(500, 60, 0.1, 3)
    init = np.vstack([_init(X, 3, 3), np.full((1, 60), 5.0)])  # wins no sample at first
    w = np.random.default_rng(3).uniform(0.5, 2.0, 500)
    ours = KMeans(4, init=init, algorithm=algorithm).fit(X, sample_weight=w)
    ref = skc.KMeans(4, init=init, n_init=1, algorithm=algorithm).fit(X, sample_weight=w)
    np.testing.assert_array_equal(ours.labels_, ref.labels_)
    np.testing.assert_allclose(ours.cluster_centers_, ref.cluster_centers_, atol=1e-13)
    np.testing.assert_allclose(ours.inertia_, ref.inertia_, rtol=1e-13)
    assert ours.n_iter_ == ref.n_iter_


@pytest.mark.parametrize("weighted", [False, True])
def test_sparse_predict_transform_score_as_sklearn(weighted):
    X = _csr(1200, 300, 0.03, 5)
    X_new = _csr(400, 300, 0.05, 6)
    w = np.random.default_rng(5).uniform(0.5, 2.0, 400) if weighted else None
    init = _init(X, 7, 5)
    ours = KMeans(7, init=init).fit(X)
    ref = skc.KMeans(7, init=init, n_init=1).fit(X)
    np.testing.assert_array_equal(ours.predict(X_new), ref.predict(X_new))
    np.testing.assert_array_equal(ours.predict(X_new), ours.predict(X_new.toarray()))
    np.testing.assert_allclose(ours.transform(X_new), ref.transform(X_new), rtol=1e-13)
    np.testing.assert_allclose(ours.transform(X_new), ours.transform(X_new.toarray()), rtol=1e-13)
    np.testing.assert_allclose(
        ours.score(X_new, sample_weight=w), ref.score(X_new, sample_weight=w), rtol=1e-13
    )
    np.testing.assert_allclose(
        ours.score(X_new, sample_weight=w), ours.score(X_new.toarray(), sample_weight=w)
    )
    np.testing.assert_array_equal(ours.fit_predict(X), ref.fit_predict(X))
    np.testing.assert_allclose(ours.fit_transform(X), ref.fit_transform(X), rtol=1e-13)


def test_sparse_float32_centers_follow_the_data_as_sklearn():
    X32 = _csr(1500, 200, 0.04, 2, dtype=np.float32)
    init = _init(X32, 5, 2)
    ours = KMeans(5, init=init).fit(X32)
    ref = skc.KMeans(5, init=init, n_init=1).fit(X32)
    dense = KMeans(5, init=init).fit(X32.toarray())
    assert ours.cluster_centers_.dtype == ref.cluster_centers_.dtype == np.float32
    assert ours.transform(X32).dtype == ref.transform(X32).dtype == np.float32
    np.testing.assert_array_equal(ours.labels_, ref.labels_)
    np.testing.assert_allclose(ours.cluster_centers_, ref.cluster_centers_, rtol=0, atol=1e-7)
    np.testing.assert_array_equal(ours.labels_, dense.labels_)
    np.testing.assert_allclose(ours.cluster_centers_, dense.cluster_centers_, rtol=1e-6)
    np.testing.assert_allclose(ours.transform(X32), ref.transform(X32), rtol=1e-6, atol=0)


def test_other_sparse_formats_and_duplicate_entries_read_as_csr():
    X = _csr(600, 80, 0.08, 4)
    init = _init(X, 4, 4)
    ref = skc.KMeans(4, init=init, n_init=1).fit(X)
    # every stored entry split in two halves: a non-canonical CSR with duplicate entries
    dup = sp.csr_matrix(
        (np.repeat(X.data / 2, 2), np.repeat(X.indices, 2), 2 * X.indptr), shape=X.shape
    )
    assert not dup.has_canonical_format
    for data in (X.tocsc(), X.tocoo(), sp.csr_array(X), dup):
        ours = KMeans(4, init=init).fit(data)
        np.testing.assert_array_equal(ours.labels_, ref.labels_)
        np.testing.assert_allclose(ours.cluster_centers_, ref.cluster_centers_, atol=1e-13)
        assert ours.n_iter_ == ref.n_iter_


def test_sparse_verbose_prints_sklearns_inertias(capsys):
    X = _csr(800, 100, 0.05, 8)
    kw = dict(init=_init(X, 5, 8), n_init=1, verbose=1)
    KMeans(5, **kw).fit(X)
    ours = capsys.readouterr().out.splitlines()
    skc.KMeans(5, **kw).fit(X)
    ref = capsys.readouterr().out.splitlines()
    assert len(ours) == len(ref)
    for a, b in zip(ours[1:-1], ref[1:-1], strict=True):  # "Iteration i, inertia J."
        assert a.split(",")[0] == b.split(",")[0]
        np.testing.assert_allclose(float(a.split()[-1][:-1]), float(b.split()[-1][:-1]), rtol=1e-13)
    assert ours[-1].split(":")[0] == ref[-1].split(":")[0]


def _plain_kmeans_plusplus(X, k, w, seed):
    """Greedy k-means++ written out on dense rows with exact distances, drawing from the same
    numpy Generator as ``kmeans_plusplus(random_state=seed)``."""
    rng = np.random.default_rng(seed)
    n = X.shape[0]
    trials = 2 + int(np.log(k))
    idx = [rng.choice(n, p=w / w.sum())]
    closest = ((X - X[idx[0]]) ** 2).sum(axis=1)
    for _ in range(1, k):
        draws = rng.uniform(size=trials) * (closest @ w)
        cand = np.minimum(np.searchsorted(np.cumsum(w * closest), draws), n - 1)
        dists = [np.minimum(closest, ((X - X[c]) ** 2).sum(axis=1)) for c in cand]
        best = int(np.argmin([dist @ w for dist in dists]))
        idx.append(cand[best])
        closest = dists[best]
    return np.array(idx)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("seed", [0, 3])
def test_kmeans_plusplus_on_csr_is_the_plain_greedy_seeding(weighted, seed):
    X = _csr(900, 120, 0.05, seed)
    w = np.random.default_rng(seed).uniform(0.5, 2.0, 900) if weighted else np.ones(900)
    expected = _plain_kmeans_plusplus(X.toarray(), 9, w, seed)
    centers, indices = kmeans_plusplus(X, 9, sample_weight=w, random_state=seed)
    np.testing.assert_array_equal(indices, expected)
    np.testing.assert_array_equal(centers, X[expected].toarray())
    dense = kmeans_plusplus(X.toarray(), 9, sample_weight=w, random_state=seed)
    np.testing.assert_array_equal(indices, dense[1])
    c32, i32 = kmeans_plusplus(X.astype(np.float32), 9, sample_weight=w, random_state=seed)
    assert c32.dtype == np.float32
    np.testing.assert_array_equal(i32, expected)


@pytest.mark.parametrize("init", ["k-means++", "random"])
def test_sparse_seeded_fit_as_good_as_sklearns(init):
    X = _csr(2000, 300, 0.03, 9)
    ours = KMeans(8, init=init, n_init=5, random_state=0).fit(X)
    ref = skc.KMeans(8, init=init, n_init=5, random_state=0).fit(X)
    assert sp.issparse(X)
    assert ours.inertia_ / ref.inertia_ < 1.01
    # the fitted inertia is the plain sum of squared distances to the assigned centers
    Xd = X.toarray()
    plain = ((Xd - ours.cluster_centers_[ours.labels_]) ** 2).sum()
    np.testing.assert_allclose(ours.inertia_, plain, rtol=1e-13)


def test_sparse_callable_init_receives_the_csr_as_in_sklearn():
    X = _csr(400, 50, 0.1, 1)
    seen = []

    def init(data, k, random_state):
        seen.append(sp.issparse(data))
        return data[:k].toarray()

    ours = KMeans(3, init=init, n_init=1).fit(X)
    ref = skc.KMeans(3, init=init, n_init=1).fit(X)
    assert seen == [True, True]
    np.testing.assert_array_equal(ours.labels_, ref.labels_)
    np.testing.assert_allclose(ours.cluster_centers_, ref.cluster_centers_, atol=1e-13)


def test_large_sparse_matrix_is_not_densified():
    # 200,000 x 100,000 with ~1e6 stored entries: 12 MB as CSR, 160 GB dense (the old code
    # densified it, and centered the dense copy)
    rng = np.random.default_rng(0)
    n, d, nnz = 200_000, 100_000, 1_000_000
    X = sp.csr_matrix(
        (rng.uniform(0.1, 1.0, nnz), (rng.integers(0, n, nnz), rng.integers(0, d, nnz))),
        shape=(n, d),
    )
    init = X[rng.choice(n, 8, replace=False)].toarray()
    KMeans(2, init=init[:2], max_iter=1).fit(X[:100])  # compile the kernels outside the clock
    tracemalloc.start()
    try:
        start = time.perf_counter()
        ours = KMeans(8, init=init).fit(X)
        pp = KMeans(8, random_state=0).fit(X)  # k-means++ seeding on the sparse rows
        labels = pp.predict(X)
        distances = pp.transform(X[:1000])
        elapsed = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 500e6, f"peak {peak / 1e6:.0f} MB"
    assert elapsed < 20, f"{elapsed:.1f} s"
    np.testing.assert_array_equal(labels, pp.labels_)
    assert distances.shape == (1000, 8)
    ref = skc.KMeans(8, init=init, n_init=1).fit(X)
    np.testing.assert_array_equal(ours.labels_, ref.labels_)
    np.testing.assert_allclose(ours.cluster_centers_, ref.cluster_centers_, atol=1e-13)
    assert ours.n_iter_ == ref.n_iter_


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_bundled_digits_as_csr_is_sklearns_sparse_run(seed):
    """scikit-learn's bundled digits (1,797 images of 64 pixels, half of them 0) as CSR: the
    same run as scikit-learn's sparse KMeans from the same initial centers."""
    X = sp.csr_matrix(load_digits().data)
    init = _init(X, 10, seed)
    ours = KMeans(10, init=init).fit(X)
    ref = skc.KMeans(10, init=init, n_init=1).fit(X)
    np.testing.assert_array_equal(ours.labels_, ref.labels_)
    np.testing.assert_allclose(ours.cluster_centers_, ref.cluster_centers_, rtol=0, atol=1e-14)
    np.testing.assert_allclose(ours.inertia_, ref.inertia_, rtol=1e-14)
    assert ours.n_iter_ == ref.n_iter_
    np.testing.assert_array_equal(ours.predict(X[:50]), ref.predict(X[:50]))


def test_sparse_float32_far_from_the_origin_iterates_in_float64():
    """scikit-learn iterates float32 CSR data in float32, with the expanded distance
    ||x||^2 - 2 x.c + ||c||^2: 1e4 from the origin (squared norms 1e9, float32 spacing 64) that
    cancels to noise, and its run wanders for 300 iterations with half the labels off. Ours runs
    in float64 (still returning float32 centers and distances) and equals scikit-learn's float64
    run on the same float32 values."""
    from sklearn.datasets import make_blobs

    X, _ = make_blobs(2000, 10, centers=6, random_state=0)
    X32 = sp.csr_matrix((X + 1e4).astype(np.float32))
    init = X32[:8].toarray().astype(np.float64)
    ours = KMeans(8, init=init).fit(X32)
    ref64 = skc.KMeans(8, init=init, n_init=1).fit(X32.astype(np.float64))
    assert ours.cluster_centers_.dtype == np.float32
    assert ours.transform(X32).dtype == np.float32
    np.testing.assert_array_equal(ours.labels_, ref64.labels_)
    assert ours.n_iter_ == ref64.n_iter_
    np.testing.assert_allclose(ours.cluster_centers_, ref64.cluster_centers_, rtol=1e-7)
    np.testing.assert_allclose(ours.inertia_, ref64.inertia_, rtol=1e-9)
