"""Samplers against imbalanced-learn (class counts), SMOTE geometry, class weights vs sklearn."""

from collections import Counter
from contextlib import nullcontext

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.exceptions import DataConversionWarning
from sklearn.neighbors import NearestNeighbors
from sklearn.utils import compute_class_weight as sk_compute_class_weight
from sklearn.utils.estimator_checks import parametrize_with_checks

from mlcanon import io
from mlcanon.preprocessing import SMOTE, RandomOverSampler, RandomUnderSampler, compute_class_weight
from mlcanon.preprocessing._smote import _nearest_neighbors

imblearn = pytest.importorskip("imblearn")
from imblearn import over_sampling, under_sampling  # noqa: E402

PAIRS = {
    "over": (RandomOverSampler, over_sampling.RandomOverSampler),
    "under": (RandomUnderSampler, under_sampling.RandomUnderSampler),
    "smote": (SMOTE, over_sampling.SMOTE),
}


def _imbalanced(seed, counts=(300, 60, 25, 60)):
    """Four classes, two of them tied (the smaller label is then 'the' minority)."""
    rng = np.random.default_rng(seed)
    y = np.concatenate([np.full(n, c) for c, n in enumerate(counts)])
    rng.shuffle(y)
    return rng.normal(size=(len(y), 3)) + y[:, None], y


@pytest.mark.parametrize("kind", ["over", "under", "smote"])
@pytest.mark.parametrize(
    "strategy",
    ["auto", "minority", "majority", "not minority", "not majority", "all", {1: 100, 2: 40}],
)
@pytest.mark.parametrize("counts", [(300, 60, 25, 60), (50, 50, 20, 20)])
def test_class_counts_match_imblearn(kind, strategy, counts):
    X, y = _imbalanced(0, counts)
    ours_cls, ref_cls = PAIRS[kind]
    if isinstance(strategy, dict) and kind == "under":
        strategy = {0: 40, 3: 10}
    try:
        ref = ref_cls(sampling_strategy=strategy, random_state=0).fit_resample(X, y)
    except ValueError:
        with pytest.raises(ValueError, match="cannot be used"):
            ours_cls(sampling_strategy=strategy, random_state=0).fit_resample(X, y)
        return
    Xo, yo = ours_cls(sampling_strategy=strategy, random_state=0).fit_resample(X, y)
    assert Counter(yo.tolist()) == Counter(ref[1].tolist())
    assert Xo.shape == ref[0].shape


@pytest.mark.parametrize("kind", ["over", "under", "smote"])
@pytest.mark.parametrize("ratio", [0.3, 0.5, 1.0])
def test_float_strategy_counts_match_imblearn(kind, ratio):
    X, y = _imbalanced(1, (400, 90))
    ours_cls, ref_cls = PAIRS[kind]
    _, y_ref = ref_cls(sampling_strategy=ratio, random_state=0).fit_resample(X, y)
    _, y_ours = ours_cls(sampling_strategy=ratio, random_state=0).fit_resample(X, y)
    assert Counter(y_ours.tolist()) == Counter(y_ref.tolist())


@pytest.mark.parametrize("labels", [(0, 1), (1, 0), ("a", "b")])
def test_float_strategy_with_tied_counts_picks_imblearns_class(labels):
    # equal counts: imbalanced-learn under-samples the class that is not min(counts)'s, i.e.
    # the larger label, and keeps the other one untouched
    y = np.array(labels * 6)
    X = np.arange(12.0)[:, None]
    ours = RandomUnderSampler(sampling_strategy=1.0, random_state=0)
    ref = under_sampling.RandomUnderSampler(sampling_strategy=1.0, random_state=0)
    ours.fit_resample(X, y)
    ref.fit_resample(X, y)
    assert ours.sampling_strategy_ == ref.sampling_strategy_
    kept = np.flatnonzero(y == min(labels))  # the untouched class, first in sorted order
    np.testing.assert_array_equal(ours.sample_indices_[:6], kept)
    np.testing.assert_array_equal(ref.sample_indices_[:6], kept)


def test_string_labels_and_resampled_rows():
    X, y_int = _imbalanced(2)
    y = np.array(["a", "b", "c", "d"])[y_int]
    Xo, yo = RandomOverSampler(random_state=0).fit_resample(X, y)
    ros = RandomOverSampler(random_state=0).fit(X, y)
    assert ros.sampling_strategy_ == {"b": 240, "c": 275, "d": 240}
    np.testing.assert_array_equal(Xo[: len(y)], X)  # the originals come first
    sampler = RandomOverSampler(random_state=0)
    Xo, yo = sampler.fit_resample(X, y)
    np.testing.assert_array_equal(Xo, X[sampler.sample_indices_])
    np.testing.assert_array_equal(yo, y[sampler.sample_indices_])
    rus = RandomUnderSampler(random_state=0)
    Xu, yu = rus.fit_resample(X, y)
    assert len(np.unique(rus.sample_indices_)) == len(yu) == 4 * 25  # no repeats by default
    np.testing.assert_array_equal(Xu, X[rus.sample_indices_])


def _segment_ok(p, a, b, tol=1e-9):
    """Whether point p lies on the segment [a, b]."""
    ab = b - a
    denom = ab @ ab
    s = 0.0 if denom == 0 else np.clip((p - a) @ ab / denom, 0.0, 1.0)
    return np.linalg.norm(p - (a + s * ab)) <= tol * (1 + np.linalg.norm(a) + np.linalg.norm(b))


@given(
    minority=arrays(
        np.float64,
        st.tuples(st.integers(4, 12), st.integers(1, 3)),
        elements=st.floats(-50, 50, allow_nan=False),
    ),
    k=st.integers(1, 3),
    seed=st.integers(0, 2**16),
)
def test_smote_points_lie_between_a_sample_and_one_of_its_k_neighbours(minority, k, seed):
    n_min, d = minority.shape
    majority = np.random.default_rng(seed).normal(size=(3 * n_min, d)) * 100
    X = np.vstack([majority, minority])
    y = np.r_[np.zeros(len(majority), int), np.ones(n_min, int)]
    Xo, yo = SMOTE(k_neighbors=k, random_state=seed).fit_resample(X, y)
    new = Xo[len(X) :]
    assert len(new) == 2 * n_min and np.all(yo[len(X) :] == 1)
    # oracle: j is one of i's k nearest neighbours if no more than k-1 others are strictly closer
    D = np.linalg.norm(minority[:, None] - minority[None], axis=-1)
    np.fill_diagonal(D, np.inf)
    kth = np.sort(D, axis=1)[:, k - 1]
    for p in new:
        assert any(
            _segment_ok(p, minority[i], minority[j])
            for i in range(n_min)
            for j in range(n_min)
            if D[i, j] <= kth[i] * (1 + 1e-12)
        )


@pytest.mark.parametrize("fmt", ["dense", "csr"])
def test_smote_neighbours_of_float32_data_far_from_the_origin(fmt):
    """float32 data at 1000 + N(0, 0.05): the neighbours are scikit-learn's NearestNeighbors'
    (in float32, |a|^2 - 2 a.b + |b|^2 cancels to noise there)."""
    X = (1000 + 0.05 * np.random.default_rng(0).normal(size=(200, 3))).astype(np.float32)
    want = NearestNeighbors(n_neighbors=6).fit(X).kneighbors(X, return_distance=False)[:, 1:]
    got = _nearest_neighbors(sp.csr_matrix(X) if fmt == "csr" else X, 5)
    assert all(set(a) == set(b) for a, b in zip(got, want, strict=True))


@pytest.mark.parametrize("fmt", ["dense", "csr"])
@pytest.mark.parametrize("d", [3, 20])  # dense: the k-d tree and the brute force
def test_smote_neighbours_of_float64_data_far_from_the_origin(d, fmt):
    """1e6 + N(0, 1e-3): |a|^2 ~ 1e13 next to squared distances ~ 1e-5. The sparse path took
    the expansion as it came and found no true neighbour (nor does imbalanced-learn's
    NearestNeighbors on a sparse matrix)."""
    X = 1e6 + 1e-3 * np.random.default_rng(0).normal(size=(150, d))
    D = np.linalg.norm(X[:, None] - X[None], axis=2)  # the differences themselves
    np.fill_diagonal(D, np.inf)
    want = np.argsort(D, axis=1)[:, :5]
    np.testing.assert_array_equal(
        _nearest_neighbors(sp.csr_matrix(X) if fmt == "csr" else X, 5), want
    )


def test_sparse_smote_neighbours_far_from_the_origin_with_rows_of_other_patterns():
    """Half the stored entries of every row dropped at random: rows of one pattern are close,
    the others 1e6 away; the order of the neighbours is that of the differences."""
    rng = np.random.default_rng(1)
    X = (1e6 + 1e-3 * rng.normal(size=(120, 12))) * (rng.random((120, 12)) < 0.9)
    X[60:] = X[:60] + 1e-3 * rng.normal(size=(60, 12)) * (X[:60] != 0)  # pairs of one pattern
    D = ((X[:, None] - X[None]) ** 2).sum(axis=2)
    np.fill_diagonal(D, np.inf)
    want = np.lexsort((np.broadcast_to(np.arange(120), D.shape), D), axis=1)[:, :3]
    np.testing.assert_array_equal(_nearest_neighbors(sp.csr_matrix(X), 3), want)


def test_sparse_smote_neighbours_of_a_matrix_with_unsorted_and_repeated_entries():
    """A CSR matrix whose rows store their columns out of order and some twice (summed, as
    scipy reads them) and explicit zeros: the neighbours of the matrix it stands for, ties to
    the smaller index, and the caller's matrix left as it was."""
    rng = np.random.default_rng(2)
    dense = np.round(1e6 + rng.normal(size=(80, 6)), 1) * (rng.random((80, 6)) < 0.7)
    dense[40:50] = dense[30:40]  # exact ties
    rows, cols = np.nonzero(dense)
    half = dense[rows, cols] / 2  # each entry stored as two halves, columns reversed per row
    order = np.lexsort((-cols, rows))
    r = np.concatenate([rows[order], rows[order], [0, 5]])
    c = np.concatenate([cols[order], cols[order], [0, 1]])
    v = np.concatenate([half[order], half[order], [0.0, 0.0]])
    order = np.argsort(r, kind="stable")
    X = sp.csr_matrix((v[order], c[order], np.searchsorted(r[order], np.arange(81))), (80, 6))
    assert not X.has_canonical_format
    np.testing.assert_array_equal(X.toarray(), dense)
    before = (X.data.copy(), X.indices.copy())
    D = ((dense[:, None] - dense[None]) ** 2).sum(axis=2)
    np.fill_diagonal(D, np.inf)
    want = np.lexsort((np.broadcast_to(np.arange(80), D.shape), D), axis=1)[:, :4]
    np.testing.assert_array_equal(_nearest_neighbors(X, 4), want)
    np.testing.assert_array_equal(X.data, before[0])
    np.testing.assert_array_equal(X.indices, before[1])


@pytest.mark.parametrize("d", [2, 20])
def test_smote_neighbours_exclude_the_sample_among_copies(d):
    # four copies of a point: each one's 2 nearest others are 2 of the other copies
    X = np.vstack([np.zeros((4, d)), np.ones((3, d))])
    nn = _nearest_neighbors(X, 2)
    assert (nn[:4] < 4).all() and (nn[:4] != np.arange(4)[:, None]).all()
    assert (nn[4:] >= 4).all() and (nn[4:] != np.arange(4, 7)[:, None]).all()


def test_smote_needs_more_minority_samples_than_neighbours():
    X, y = _imbalanced(3, (100, 5))
    with pytest.raises(
        ValueError,
        match=r"k_neighbors=5 must be smaller than the number of samples of class 1 \(5\)",
    ):
        SMOTE(random_state=0).fit_resample(X, y)
    _, yo = SMOTE(k_neighbors=4, random_state=0).fit_resample(X, y)
    assert Counter(yo.tolist()) == {0: 100, 1: 100}


@pytest.mark.parametrize(
    "sampler, y, match",
    [
        (RandomOverSampler(), None, "requires y to be passed"),
        (RandomOverSampler(), np.zeros(6), "at least 2 classes, got 1 class"),
        (
            RandomOverSampler(sampling_strategy="most"),
            [0, 0, 0, 1, 1, 2],
            "sampling_strategy must be one of",
        ),
        (RandomOverSampler(sampling_strategy=0.5), [0, 0, 0, 1, 1, 2], "needs binary y"),
        (
            RandomOverSampler(sampling_strategy=0.1),
            [0, 0, 0, 0, 1, 1],
            "would remove minority samples",
        ),
        (RandomOverSampler(sampling_strategy={5: 3}), [0, 0, 0, 1, 1, 1], "absent from y: .5."),
        (RandomOverSampler(sampling_strategy={1: 1}), [0, 0, 0, 1, 1, 1], "cannot shrink class 1"),
        (RandomUnderSampler(sampling_strategy={0: 9}), [0, 0, 0, 1, 1, 1], "cannot grow class 0"),
        (
            RandomUnderSampler(sampling_strategy="minority"),
            [0, 0, 0, 1, 1, 2],
            "cannot be used when under",
        ),
        (SMOTE(), [0.5, 1.5, 2.0, 0.0, 1.0, 1.0], "continuous"),
    ],
)
def test_bad_input_is_refused(sampler, y, match):
    X = np.arange(12.0).reshape(6, 2)
    with pytest.raises(ValueError, match=match):
        sampler.fit_resample(X, y)


def test_nan_is_refused():
    with pytest.raises(ValueError, match="X contains NaN"):
        SMOTE().fit_resample([[np.nan, 1.0], [0.0, 1.0]], [0, 1])


@pytest.mark.parametrize("Sampler", [RandomOverSampler, RandomUnderSampler, SMOTE])
def test_save_load_round_trip(tmp_path, Sampler):
    X, y = _imbalanced(4)
    sampler = Sampler(random_state=3).fit(X, y)
    back = io.load(io.save(sampler, tmp_path / "s.npz"))
    assert back.sampling_strategy_ == sampler.sampling_strategy_
    a, b = back.fit_resample(X, y), Sampler(random_state=3).fit_resample(X, y)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


@pytest.mark.parametrize("class_weight", ["balanced", None, {0: 2.0, 2: 0.5}, {"b": 3.0}])
@pytest.mark.parametrize("weighted", [False, True])
def test_compute_class_weight_matches_sklearn(class_weight, weighted):
    _, y = _imbalanced(5)
    classes = np.unique(y)
    if isinstance(class_weight, dict) and "b" in class_weight:
        y, classes = np.array(list("abcd"))[y], np.array(list("abcd"))
    sw = np.random.default_rng(0).uniform(0.5, 2.0, len(y)) if weighted else None
    ours = compute_class_weight(class_weight, classes=classes, y=y, sample_weight=sw)
    ref = sk_compute_class_weight(class_weight, classes=classes, y=y, sample_weight=sw)
    np.testing.assert_allclose(ours, ref, rtol=1e-14)


@pytest.mark.parametrize("class_weight", ["balanced", None, {0: 2.0}])
@pytest.mark.parametrize("labels", ["int", "object str"])
def test_compute_class_weight_reads_a_column_vector_y_as_sklearn(class_weight, labels):
    """scikit-learn reads y of shape (n, 1) as its column (warning for 'balanced'); it was
    refused ('y must be 1-D'), and an object array of strings too ('dtype=object')."""
    _, y = _imbalanced(5)
    classes = np.unique(y)
    if labels == "object str":
        names = np.array(list("abcd"), dtype=object)
        y, classes = names[y], names
        class_weight = {"a": 2.0} if isinstance(class_weight, dict) else class_weight
    sw = np.random.default_rng(0).uniform(0.5, 2.0, len(y))
    column = y.reshape(-1, 1)
    warns = pytest.warns(DataConversionWarning) if class_weight == "balanced" else nullcontext()
    with warns:
        ref = sk_compute_class_weight(class_weight, classes=classes, y=column, sample_weight=sw)
    with warns:
        ours = compute_class_weight(class_weight, classes=classes, y=column, sample_weight=sw)
    np.testing.assert_allclose(ours, ref, rtol=1e-14)
    with pytest.raises(ValueError, match=r"y must be 1-D, got 2-D array of shape \(2, 100\)"):
        compute_class_weight(class_weight, classes=classes, y=y[:200].reshape(2, 100))


def test_balanced_weights_hand_computed():
    # n = 6, K = 2: class 0 has 4 samples -> 6 / (2 * 4), class 1 has 2 -> 6 / (2 * 2)
    np.testing.assert_allclose(
        compute_class_weight("balanced", classes=[0, 1], y=[0, 0, 0, 0, 1, 1]), [0.75, 1.5]
    )


@pytest.mark.parametrize(
    "class_weight, classes, y, match",
    [
        ("balanced", [0, 1], [0, 1, 2], "classes should include all labels of y"),
        ("balanced", [0, 1, 2], [0, 1, 1], "classes should have valid labels that are in y"),
        ("uniform", [0, 1], [0, 1], "class_weight must be 'balanced', a dict or None"),
        ({3: 1.0}, [0, 1], [0, 1], "not in classes"),
    ],
)
def test_compute_class_weight_errors(class_weight, classes, y, match):
    with pytest.raises(ValueError, match=match):
        compute_class_weight(class_weight, classes=classes, y=y)


def test_balanced_weights_refuse_all_zero_sample_weight_as_sklearn():
    # every class would weigh 0 / 0 (NaN); scikit-learn refuses the weights too
    y, sw = np.array([0, 0, 1]), np.zeros(3)
    with pytest.raises(ValueError, match="non-zero"):
        sk_compute_class_weight("balanced", classes=np.array([0, 1]), y=y, sample_weight=sw)
    with pytest.raises(ValueError, match="sample_weight must contain at least one non-zero"):
        compute_class_weight("balanced", classes=[0, 1], y=y, sample_weight=sw)


@parametrize_with_checks([RandomOverSampler(), RandomUnderSampler(), SMOTE(k_neighbors=2)])
def test_sklearn_estimator_contract(estimator, check):
    check(estimator)


def _two_classes(n_major=900, n_minor=100, d=3, seed=0):
    rng = np.random.default_rng(seed)
    X = np.vstack([rng.normal(size=(n_major, d)), rng.normal(2.0, [0.5, 1.0, 2.0], (n_minor, d))])
    return X, np.r_[np.zeros(n_major, int), np.ones(n_minor, int)]


def _noise_std(X, y, shrinkage):
    """imbalanced-learn's smoothed-bootstrap noise for the minority class 1, written out:
    std = shrinkage * h * std(class) per feature, h Silverman's bandwidth for n rows of X."""
    n, d = X.shape
    h = (4 / ((d + 2) * n)) ** (1 / (d + 4))
    return shrinkage * h * X[y == 1].std(axis=0)


def test_smoothed_bootstrap_noise_matches_imblearn():
    """imbalanced-learn's shrinkage: added noise has std = s * h * std(class) per feature."""
    imblearn = pytest.importorskip("imblearn.over_sampling")
    X, y = _two_classes()
    n = X.shape[0]
    expected = _noise_std(X, y, shrinkage=2.0)
    for sampler in (
        RandomOverSampler(shrinkage=2.0, random_state=0),
        imblearn.RandomOverSampler(shrinkage=2.0, random_state=0),
    ):
        Xr, yr = sampler.fit_resample(X, y)
        assert Counter(yr.tolist()) == {0: 900, 1: 900}
        noise = Xr[n:] - X[sampler.sample_indices_[n:]]
        np.testing.assert_allclose(noise.std(axis=0), expected, rtol=0.1)
        assert sampler.shrinkage_ == {1: 2.0}


def test_shrinkage_zero_or_none_is_the_plain_bootstrap():
    X, y = _two_classes()
    plain = RandomOverSampler(random_state=0).fit_resample(X, y)
    zero = RandomOverSampler(shrinkage={1: 0.0}, random_state=0)
    Xz, _ = zero.fit_resample(X, y)
    np.testing.assert_array_equal(Xz[: len(y)], plain[0][: len(y)])
    np.testing.assert_array_equal(Xz[len(y) :], X[zero.sample_indices_[len(y) :]])


def test_shrinkage_errors():
    X, y = _two_classes()
    with pytest.raises(
        ValueError, match=r"shrinkage factor for each class that will be resampled; missing: \[1\]"
    ):
        RandomOverSampler(shrinkage={0: 1.0}).fit_resample(X, y)
    match = r"^shrinkage must be >= 0, got -1.0 \(the 'shrinkage' parameter of"
    with pytest.raises(ValueError, match=match):
        RandomOverSampler(shrinkage=-1.0).fit_resample(X, y)
    with pytest.raises(ValueError, match=r"shrinkage of class 1 must be >= 0, got -1\.0"):
        RandomOverSampler(shrinkage={1: -1.0}).fit_resample(X, y)


def test_random_samplers_copy_any_rows_as_imblearn():
    """Object columns, NaN and infinity are copied as they are (imbalanced-learn's samplers
    only index rows); a smoothed bootstrap needs numbers."""
    imblearn = pytest.importorskip("imblearn")
    X = np.array([["xxx", 1, 1.0], ["yyy", 2, np.nan], ["zzz", 3, np.inf]], dtype=object)
    y = np.array([0, 0, 1])
    for ours, ref in (
        (RandomOverSampler(random_state=0), imblearn.over_sampling.RandomOverSampler()),
        (RandomUnderSampler(random_state=0), imblearn.under_sampling.RandomUnderSampler()),
    ):
        Xo, yo = ours.fit_resample(X, y)
        Xr, yr = ref.fit_resample(X, y)
        assert Xo.dtype == Xr.dtype == object and Xo.shape == Xr.shape
        np.testing.assert_array_equal(Counter(yo.tolist()), Counter(yr.tolist()))
        assert set(Xo[:, 0]) <= set(X[:, 0])  # rows of X, copied
    with pytest.raises(ValueError, match="X needs to contain only numerical data"):
        RandomOverSampler(shrinkage=1.0).fit_resample(X, y)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
@pytest.mark.parametrize("fmt", ["dense", "csr"])
def test_smoothed_bootstrap_refuses_non_finite_x_as_imblearn(bad, fmt):
    # the noise scale std(class) of a feature holding NaN or infinity is NaN
    X, y = _two_classes(n_major=20, n_minor=5)
    X[-1, 0] = bad
    X = sp.csr_matrix(X) if fmt == "csr" else X
    with pytest.raises(ValueError, match="numerical data"):
        over_sampling.RandomOverSampler(shrinkage=1.0).fit_resample(X, y)
    with pytest.raises(ValueError, match="must not contain NaN or infinity"):
        RandomOverSampler(shrinkage=1.0).fit_resample(X, y)
    Xo, _ = RandomOverSampler(random_state=0).fit_resample(X, y)  # copies need no spread
    assert Xo.shape == (40, 3)


@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_smoothed_bootstrap_of_sparse_rows(fmt):
    import scipy.sparse as sp

    X, y = _two_classes()
    sampler = RandomOverSampler(shrinkage=2.0, random_state=0)
    Xs, ys = sampler.fit_resample(sp.csr_matrix(X).asformat(fmt), y)
    assert sp.issparse(Xs) and Xs.shape == (len(ys), X.shape[1])
    n, d = X.shape
    h = (4 / ((d + 2) * n)) ** (1 / (d + 4))  # Silverman's bandwidth, written out
    noise = Xs.toarray()[n:] - X[sampler.sample_indices_[n:]]
    np.testing.assert_allclose(noise.std(axis=0), 2.0 * h * X[y == 1].std(axis=0), rtol=0.1)


def test_smote_takes_a_neighbours_estimator_as_imblearn():
    """k_neighbors=NearestNeighbors(n_neighbors=k + 1) is k_neighbors=k: each new point lies on
    a segment from a minority sample to one of its k nearest minority samples."""
    from sklearn.neighbors import NearestNeighbors

    X, y = _imbalanced(5)
    Xo, yo = SMOTE(k_neighbors=NearestNeighbors(n_neighbors=4), random_state=0).fit_resample(X, y)
    for x, c in zip(Xo[len(y) :], yo[len(y) :], strict=True):
        Xc = X[y == c]
        dist = np.linalg.norm(Xc[:, None] - Xc[None], axis=2)
        np.fill_diagonal(dist, np.inf)
        near = np.argsort(dist, axis=1)[:, :3]  # the 3 nearest others of the class, by definition
        steps = Xc[near] - Xc[:, None]  # (n_c, 3, d)
        t = np.einsum("ikd,ikd->ik", x - Xc[:, None], steps) / np.einsum(
            "ikd,ikd->ik", steps, steps
        )
        gap = np.linalg.norm(Xc[:, None] + t[..., None] * steps - x, axis=2)
        assert np.any((gap < 1e-10) & (t >= 0) & (t <= 1))
    assert Counter(yo.tolist()) == Counter(SMOTE(k_neighbors=3).fit_resample(X, y)[1].tolist())


@pytest.mark.parametrize("k_neighbors", [3, NearestNeighbors(n_neighbors=5)])
def test_smote_exposes_imblearns_nn_k(k_neighbors):
    """imbalanced-learn's SMOTE keeps its neighbours estimator as nn_k_ (k_neighbors + 1
    neighbours, or a clone of the one given), fitted on the last class over-sampled; ours had
    no nn_k_."""
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], [30, 8, 12])
    X = rng.normal(size=(len(y), 2))
    ours = SMOTE(k_neighbors=k_neighbors, random_state=0)
    ref = over_sampling.SMOTE(k_neighbors=k_neighbors, random_state=0)
    ours.fit_resample(X, y)
    ref.fit_resample(X, y)
    assert type(ours.nn_k_) is type(ref.nn_k_)
    assert ours.nn_k_.get_params() == ref.nn_k_.get_params()
    assert ours.nn_k_.n_samples_fit_ == ref.nn_k_.n_samples_fit_ == 12
    assert ours.nn_k_ is not k_neighbors


def test_smoothed_bootstrap_of_sparse_rows_far_from_the_origin():
    """The class spread of a sparse X was E[x^2] - E[x]^2, which cancels for a column at
    1e5 + N(0, 1e-3): std (and the added noise) 5 times too wide here. imbalanced-learn
    (scikit-learn's mean_variance_axis) and the formula on the dense class agree."""
    imblearn = pytest.importorskip("imblearn.over_sampling")
    X, y = _two_classes()
    X[:, 0] = X[:, 0] * 1e-3 + 1e5
    X[X[:, 2] < 0, 2] = 0.0  # a sparse column next to it
    n = X.shape[0]
    expected = _noise_std(X, y, shrinkage=2.0)
    for sampler in (
        RandomOverSampler(shrinkage=2.0, random_state=0),
        imblearn.RandomOverSampler(shrinkage=2.0, random_state=0),
    ):
        Xr, yr = sampler.fit_resample(sp.csr_matrix(X), y)
        assert Counter(yr.tolist()) == {0: 900, 1: 900}
        noise = (Xr[n:] - sp.csr_matrix(X)[sampler.sample_indices_[n:]]).toarray()
        np.testing.assert_allclose(noise.std(axis=0), expected, rtol=0.1)
