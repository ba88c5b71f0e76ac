"""The samplers draw imbalanced-learn's rows for an int seed, a RandomState or None.

Reference: imbalanced-learn 0.14's fit_resample on the same data with the same random_state;
X_res, y_res and sample_indices_ must be equal element for element.
"""

import numpy as np
import pytest
import scipy.sparse as sp

from mlcanon.preprocessing import SMOTE, RandomOverSampler, RandomUnderSampler

imblearn = pytest.importorskip("imblearn")
from imblearn import over_sampling, under_sampling  # noqa: E402

OVER_STRATEGIES = [
    "auto",
    "minority",
    "not majority",
    "all",
    {1: 100, 2: 40},
    lambda y: {2: 80, 3: 90},
]
UNDER_STRATEGIES = ["auto", "majority", "not minority", "all", {0: 40, 3: 10}]
SEEDS = [0, 1, 42, 2**31]


def _data(seed=0, counts=(300, 60, 25, 60), n_features=3, grid=False):
    """Four classes (two tied); ``grid`` rounds to halves, so that many neighbours are tied."""
    rng = np.random.default_rng(seed)
    y = np.concatenate([np.full(n, c) for c, n in enumerate(counts)])
    rng.shuffle(y)
    X = rng.normal(size=(len(y), n_features)) + y[:, None]
    return (np.round(X * 2) / 2 if grid else X), y


def _dense(X):
    return X.toarray() if sp.issparse(X) else np.asarray(X)


def _assert_same(ours, ref, X, y):
    Xo, yo = ours.fit_resample(X, y)
    Xr, yr = ref.fit_resample(X, y)
    assert type(Xo) is type(Xr)
    assert Xo.dtype == Xr.dtype
    np.testing.assert_array_equal(_dense(Xo), _dense(Xr))
    np.testing.assert_array_equal(yo, yr)
    if hasattr(ref, "sample_indices_"):
        np.testing.assert_array_equal(ours.sample_indices_, ref.sample_indices_)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("strategy", OVER_STRATEGIES)
@pytest.mark.parametrize("shrinkage", [None, 0.5, {1: 1.0, 2: 0.0, 3: 2.0}])
def test_random_over_sampler_draws_imblearns_rows(seed, strategy, shrinkage):
    X, y = _data(seed % 7)
    if isinstance(shrinkage, dict):
        shrinkage = {**shrinkage, 0: 1.0}  # 'all' also resamples class 0
    ours = RandomOverSampler(sampling_strategy=strategy, random_state=seed, shrinkage=shrinkage)
    ref = over_sampling.RandomOverSampler(
        sampling_strategy=strategy, random_state=seed, shrinkage=shrinkage
    )
    _assert_same(ours, ref, X, y)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("strategy", UNDER_STRATEGIES)
@pytest.mark.parametrize("replacement", [False, True])
def test_random_under_sampler_draws_imblearns_rows(seed, strategy, replacement):
    X, y = _data(seed % 7)
    ours = RandomUnderSampler(
        sampling_strategy=strategy, random_state=seed, replacement=replacement
    )
    ref = under_sampling.RandomUnderSampler(
        sampling_strategy=strategy, random_state=seed, replacement=replacement
    )
    _assert_same(ours, ref, X, y)


@pytest.mark.parametrize("kind", ["over", "under"])
@pytest.mark.parametrize("ratio", [0.5, 0.8, 1.0])
def test_float_strategy_draws_imblearns_rows(kind, ratio):
    X, y = _data(3, counts=(200, 50))
    ours, ref = (
        (RandomOverSampler, over_sampling.RandomOverSampler)
        if kind == "over"
        else (RandomUnderSampler, under_sampling.RandomUnderSampler)
    )
    _assert_same(
        ours(sampling_strategy=ratio, random_state=7),
        ref(sampling_strategy=ratio, random_state=7),
        X,
        y,
    )


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("strategy", [*OVER_STRATEGIES, 0.5])
@pytest.mark.parametrize("k_neighbors", [1, 3, 5])
@pytest.mark.parametrize("n_features", [3, 20])  # a k-d tree in scikit-learn, and brute force
@pytest.mark.parametrize("grid", [False, True])  # ties: scikit-learn's order among equals
def test_smote_draws_imblearns_samples(seed, strategy, k_neighbors, n_features, grid):
    counts = (200, 50) if strategy == 0.5 else (300, 60, 25, 60)
    X, y = _data(seed % 7, counts=counts, n_features=n_features, grid=grid)
    _assert_same(
        SMOTE(sampling_strategy=strategy, random_state=seed, k_neighbors=k_neighbors),
        over_sampling.SMOTE(sampling_strategy=strategy, random_state=seed, k_neighbors=k_neighbors),
        X,
        y,
    )


def test_smote_with_a_neighbours_estimator_draws_imblearns_samples():
    from sklearn.neighbors import NearestNeighbors

    X, y = _data(2, grid=True)
    _assert_same(
        SMOTE(random_state=3, k_neighbors=NearestNeighbors(n_neighbors=4)),
        over_sampling.SMOTE(random_state=3, k_neighbors=NearestNeighbors(n_neighbors=4)),
        X,
        y,
    )


@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize(
    "make",
    [
        lambda lib, s: (SMOTE, over_sampling.SMOTE)[lib](random_state=s, k_neighbors=3),
        lambda lib, s: (RandomOverSampler, over_sampling.RandomOverSampler)[lib](
            random_state=s, shrinkage=1.0
        ),
        lambda lib, s: (RandomOverSampler, over_sampling.RandomOverSampler)[lib](random_state=s),
        lambda lib, s: (RandomUnderSampler, under_sampling.RandomUnderSampler)[lib](random_state=s),
    ],
    ids=["smote", "ros-shrinkage", "ros", "rus"],
)
def test_sparse_x_draws_imblearns_rows(fmt, make):
    rng = np.random.default_rng(3)
    y = np.repeat([0, 1, 2], [80, 20, 30])
    rng.shuffle(y)
    X = rng.normal(size=(130, 25))
    X[X < 0.8] = 0
    X = sp.csr_matrix(np.round(X * 3)).asformat(fmt)  # integers in floats: tied neighbours
    for seed in (0, 5):
        _assert_same(make(0, seed), make(1, seed), X, y)


@pytest.mark.parametrize(
    "pair",
    [
        (SMOTE, over_sampling.SMOTE),
        (RandomOverSampler, over_sampling.RandomOverSampler),
        (RandomUnderSampler, under_sampling.RandomUnderSampler),
    ],
    ids=["smote", "ros", "rus"],
)
def test_random_state_instance_and_none_draw_as_imblearn(pair):
    ours_cls, ref_cls = pair
    X, y = _data(1)
    X = X.astype(np.float32)
    ours_rs, ref_rs = np.random.RandomState(11), np.random.RandomState(11)
    for _ in range(2):  # the instance goes on drawing: the second fit differs from the first
        _assert_same(ours_cls(random_state=ours_rs), ref_cls(random_state=ref_rs), X, y)
    np.random.seed(5)  # noqa: NPY002
    ours = ours_cls().fit_resample(X, y)
    np.random.seed(5)  # noqa: NPY002
    ref = ref_cls().fit_resample(X, y)
    np.testing.assert_array_equal(ours[0], ref[0])


@pytest.mark.parametrize("cls", [SMOTE, RandomOverSampler, RandomUnderSampler])
def test_a_generator_still_draws_its_own_stream(cls):
    """A numpy Generator is not imbalanced-learn's input: it draws from itself, reproducibly,
    and gives imbalanced-learn's class counts."""
    X, y = _data(0)
    a = cls(random_state=np.random.default_rng(4)).fit_resample(X, y)
    b = cls(random_state=np.random.default_rng(4)).fit_resample(X, y)
    np.testing.assert_array_equal(a[0], b[0])
    ref_cls = getattr(over_sampling, cls.__name__, None) or getattr(under_sampling, cls.__name__)
    ref = ref_cls(random_state=0).fit_resample(X, y)
    np.testing.assert_array_equal(np.bincount(a[1]), np.bincount(ref[1]))


@pytest.mark.parametrize("fmt", ["dense", "csr"])
@pytest.mark.parametrize("d", [3, 20])
def test_smote_draws_imblearns_steps_on_exact_neighbours_far_from_the_origin(d, fmt):
    """Minority at 1e6 + N(0, 1e-3): scikit-learn's brute-force table (20 features, or sparse)
    holds no true 5 nearest there. The draws are still imbalanced-learn's (rows and columns of
    the table from one ``randint`` over its n * k cells, then the gaps), written out here on
    the table of the differences themselves."""
    rng = np.random.default_rng(0)
    minority = 1e6 + 1e-3 * rng.normal(size=(150, d))
    X = np.vstack([rng.normal(size=(300, d)), minority])
    y = np.repeat([0, 1], [300, 150])
    D = np.linalg.norm(minority[:, None] - minority[None], axis=2)
    np.fill_diagonal(D, np.inf)
    table = np.argsort(D, axis=1)[:, :5]  # no ties in D here
    draws = np.random.RandomState(3)
    cell = draws.randint(0, table.size, size=150)
    rows, cols = cell // 5, cell % 5
    gaps = draws.uniform(size=150)[:, None]
    want = minority[rows] + gaps * (minority[table[rows, cols]] - minority[rows])
    X_res, y_res = SMOTE(random_state=3).fit_resample(sp.csr_matrix(X) if fmt == "csr" else X, y)
    np.testing.assert_array_equal(_dense(X_res)[450:], want)
    np.testing.assert_array_equal(y_res[450:], 1)


@pytest.mark.parametrize("cls", [SMOTE, RandomOverSampler, RandomUnderSampler])
@pytest.mark.parametrize("seed", [2**32, 2**40])
def test_a_seed_beyond_randomstate_is_refused_naming_random_state(cls, seed):
    """imbalanced-learn draws from ``RandomState(seed)``, which takes seeds in [0, 2**32 - 1]
    and refuses larger ones with a ValueError; ours names the parameter and the range."""
    X, y = _data(0)
    ref_cls = getattr(over_sampling, cls.__name__, None) or getattr(under_sampling, cls.__name__)
    with pytest.raises(ValueError):
        ref_cls(random_state=seed).fit_resample(X, y)
    with pytest.raises(ValueError, match=rf"random_state.*2\*\*32 - 1.*got {seed}"):
        cls(random_state=seed).fit_resample(X, y)
    cls(random_state=2**32 - 1).fit_resample(X, y)  # the largest seed is taken
