"""SimpleImputer and KNNImputer against scikit-learn's."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn import impute as ski
from sklearn.datasets import load_diabetes

from mlcanon import io
from mlcanon.preprocessing import KNNImputer, MissingIndicator, SimpleImputer


def _holes(X, rate, seed):
    X = X.copy()
    X[np.random.default_rng(seed).random(X.shape) < rate] = np.nan
    return X


@pytest.fixture
def diabetes():
    X, _ = load_diabetes(return_X_y=True)
    X = _holes(X, 0.2, 0)
    X[:, 3] = np.nan  # an empty column
    X_new = _holes(load_diabetes(return_X_y=True)[0][:60] + 0.001, 0.3, 1)
    return X, X_new


@pytest.mark.parametrize("strategy", ["mean", "median", "most_frequent", "constant"])
@pytest.mark.parametrize("keep_empty_features", [False, True])
@pytest.mark.filterwarnings("ignore:.*(observed|Skipping).*:UserWarning")
def test_simple_imputer_equals_sklearn(diabetes, strategy, keep_empty_features):
    X, X_new = diabetes
    kw = dict(strategy=strategy, keep_empty_features=keep_empty_features, add_indicator=True)
    ours, ref = SimpleImputer(**kw).fit(X), ski.SimpleImputer(**kw).fit(X)
    np.testing.assert_allclose(ours.transform(X_new), ref.transform(X_new), rtol=1e-12, atol=0)
    assert ours.statistics_.dtype == ref.statistics_.dtype  # object for 'constant'
    ours_stats, ref_stats = (np.asarray(m.statistics_, dtype=float) for m in (ours, ref))
    np.testing.assert_allclose(ours_stats, ref_stats, rtol=1e-12, equal_nan=True)


def test_simple_imputer_numeric_marker_and_fill_value():
    X = np.array([[1.0, -1.0], [-1.0, 4.0], [3.0, 4.0], [5.0, 6.0]])
    for kw in (dict(strategy="median"), dict(strategy="constant", fill_value=9.5)):
        ours = SimpleImputer(missing_values=-1.0, **kw).fit_transform(X)
        ref = ski.SimpleImputer(missing_values=-1.0, **kw).fit_transform(X)
        np.testing.assert_array_equal(ours, ref)


def test_simple_imputer_hand_computed():
    X = np.array([[1.0, 2.0], [np.nan, 2.0], [4.0, 3.0], [7.0, np.nan]])
    np.testing.assert_array_equal(SimpleImputer().fit(X).statistics_, [4.0, 7 / 3])
    np.testing.assert_array_equal(SimpleImputer(strategy="median").fit(X).statistics_, [4, 2])
    np.testing.assert_array_equal(
        SimpleImputer(strategy="most_frequent").fit(X).statistics_,
        [1.0, 2.0],  # tie -> smallest
    )


@pytest.mark.parametrize("fmt", ["dense", "csc"])
def test_simple_imputer_mean_near_the_float64_maximum(fmt):
    # the sum 2e308 + 7 overflows; the mean (2e308 + 7) / 3 does not
    X = np.array([[1e308, 1.0], [np.nan, 2.0], [1e308, 3.0], [7.0, 4.0]])
    stats = SimpleImputer().fit(sp.csc_matrix(X) if fmt == "csc" else X).statistics_
    np.testing.assert_allclose(stats, [2 / 3 * 1e308 + 7 / 3, 2.5], rtol=1e-15)


@pytest.mark.parametrize("weights", ["uniform", "distance"])
def test_knn_imputer_mean_near_the_float64_maximum(weights):
    # two donors of 1e308 (their sum overflows), and a row without any observed coordinate,
    # which gets the column mean (1e308 + 1e308 + 4e307) / 3 = 8e307
    X = np.array([[0.0, 1e308, np.nan], [0.1, 1e308, np.nan], [np.nan, 4e307, 1.0]])
    new = np.array([[0.05, np.nan, np.nan], [np.nan, np.nan, np.nan]])
    out = KNNImputer(n_neighbors=2, weights=weights).fit(X).transform(new)
    np.testing.assert_allclose(out[:, 1], [1e308, 8e307], rtol=1e-15)


def _continuous(seed, n=200, d=6, rate=0.15):
    """Continuous values, so no two neighbours are at exactly the same distance."""
    X = np.random.default_rng(seed).normal(size=(n, d))
    return _holes(X, rate, seed + 1)


def _knn_oracle(X_fit, X, n_neighbors, weights):
    """The definition, row by row: nan-Euclidean distances from the differences themselves."""
    out = X.copy()
    d = X.shape[1]
    for i, j in zip(*np.nonzero(np.isnan(X)), strict=True):
        donors = np.flatnonzero(~np.isnan(X_fit[:, j]))
        both = ~np.isnan(X[i]) & ~np.isnan(X_fit[donors])
        sq = np.where(both, (X[i] - X_fit[donors]) ** 2, 0.0).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):  # no shared coordinate: NaN
            dist = np.sqrt(sq * d / both.sum(axis=1))
        near = np.argsort(dist)[:n_neighbors]
        w = np.ones(len(near)) if weights == "uniform" else 1 / dist[near]
        out[i, j] = np.sum(w * X_fit[donors[near], j]) / np.sum(w)
    return out


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("weights", ["uniform", "distance"])
@pytest.mark.parametrize("n_neighbors", [1, 5])
def test_knn_imputer_equals_sklearn(seed, weights, n_neighbors):
    X, X_new = _continuous(seed), _continuous(seed + 50, n=80)
    kw = dict(n_neighbors=n_neighbors, weights=weights)
    ours, ref = KNNImputer(**kw).fit(X), ski.KNNImputer(**kw).fit(X)
    for data in (X_new, X):
        np.testing.assert_allclose(ours.transform(data), _knn_oracle(X, data, **kw), rtol=1e-12)
        # scikit-learn expands |x - z|^2 = |x|^2 + |z|^2 - 2 x.z, which loses digits when two
        # rows are close; with 1/d weights that reaches the imputed values at ~1e-11.
        rtol = 1e-12 if weights == "uniform" else 1e-9
        np.testing.assert_allclose(ours.transform(data), ref.transform(data), rtol=rtol)


def test_knn_imputer_hand_computed():
    """Row (nan, 1): nan-Euclidean distances to the donors with column 0 observed are
    sqrt(2/1 * (1-1)^2) = 0, sqrt(2 * 1) and sqrt(2 * 4); the 2 nearest give (10 + 20) / 2."""
    X = np.array([[10.0, 1.0], [20.0, 2.0], [30.0, 3.0], [np.nan, 1.0]])
    out = KNNImputer(n_neighbors=2).fit_transform(X)
    assert out[3, 0] == 15.0
    out = KNNImputer(n_neighbors=2, weights="distance").fit_transform(X)
    assert out[3, 0] == 10.0  # an exact match takes all the weight


def test_knn_imputer_no_shared_coordinate_gets_the_column_mean():
    X = np.array([[1.0, np.nan], [3.0, np.nan], [np.nan, 5.0]])
    out = KNNImputer(n_neighbors=1).fit_transform(X)
    ref = ski.KNNImputer(n_neighbors=1).fit_transform(X)
    np.testing.assert_array_equal(out, ref)
    assert out[2, 0] == 2.0


def test_save_load_round_trip(tmp_path):
    X = _continuous(3)
    for imputer in (SimpleImputer(strategy="median"), KNNImputer()):
        imputer.fit(X)
        back = io.load(io.save(imputer, tmp_path / "imp.npz"))
        np.testing.assert_array_equal(back.transform(X), imputer.transform(X))


def test_bad_parameters_and_input():
    X = _continuous(4)
    with pytest.raises(ValueError, match="strategy must be one of"):
        SimpleImputer(strategy="mode").fit(X)
    with pytest.raises(ValueError, match="n_neighbors must be >= 1"):
        KNNImputer(n_neighbors=0).fit(X)
    with pytest.raises(ValueError, match="weights must be one of"):
        KNNImputer(weights="gaussian").fit(X)
    with pytest.raises(TypeError, match=r"missing_values must be None or a number, np\.nan"):
        SimpleImputer(missing_values=[1]).fit(X)
    with pytest.raises(ValueError, match="types are expected to be both numerical"):
        SimpleImputer(missing_values="?").fit(np.ones((3, 2)))
    with pytest.raises(ValueError, match="infinity"):
        SimpleImputer().fit(np.where(X > 2, np.inf, X))
    with pytest.raises(ValueError, match="contains NaN"):
        SimpleImputer(missing_values=-1.0).fit(X)
    imputer = SimpleImputer().fit(X)
    with pytest.raises(ValueError, match="X has 2 features, but SimpleImputer"):
        imputer.transform(X[:, :2])
    with pytest.warns(UserWarning, match=r"Skipping features without any observed values: \[0\]"):
        SimpleImputer().fit_transform(np.column_stack([np.full(5, np.nan), np.arange(5.0)]))


# Input kinds and parameters added for scikit-learn's own tests (issue 16) ---------------------
_OBJECTS = np.array(
    [[None, "a", "b", None], ["c", None, "d", None], ["e", "a", None, None], ["c", "h", "d", None]],
    dtype=object,
)


@pytest.mark.parametrize("strategy", ["most_frequent", "constant"])
@pytest.mark.parametrize("keep_empty_features", [False, True])
@pytest.mark.filterwarnings("ignore:Skipping features:UserWarning")
def test_simple_imputer_objects_equal_sklearn(strategy, keep_empty_features):
    kw = dict(missing_values=None, strategy=strategy, keep_empty_features=keep_empty_features)
    ours = SimpleImputer(**kw).fit_transform(_OBJECTS)
    ref = ski.SimpleImputer(**kw).fit_transform(_OBJECTS)
    assert ours.dtype == ref.dtype == object
    np.testing.assert_array_equal(ours, ref)


@pytest.mark.parametrize("strategy", ["mean", "median", "most_frequent", "constant", np.max])
@pytest.mark.filterwarnings("ignore:Skipping features:UserWarning")
def test_simple_imputer_sparse_equals_sklearn(diabetes, strategy):
    import scipy.sparse as sp

    X, X_new = diabetes
    X, X_new = np.where(np.abs(X) < 0.02, 0.0, X), np.where(np.abs(X_new) < 0.02, 0.0, X_new)
    if callable(strategy):  # scikit-learn calls it on the empty column 3 too, and np.max fails
        X, X_new = np.delete(X, 3, axis=1), np.delete(X_new, 3, axis=1)
    kw = dict(strategy=strategy, add_indicator=True)
    ours = SimpleImputer(**kw).fit(sp.csc_matrix(X))
    ref = ski.SimpleImputer(**kw).fit(sp.csc_matrix(X))
    np.testing.assert_allclose(ours.statistics_, ref.statistics_.astype(float), equal_nan=True)
    out = ours.transform(sp.csr_matrix(X_new))
    assert sp.issparse(out)
    np.testing.assert_allclose(out.toarray(), ref.transform(sp.csr_matrix(X_new)).toarray())
    with pytest.raises(ValueError, match="Provide a dense array"):
        SimpleImputer(missing_values=0).fit(sp.csc_matrix(X))


def test_simple_imputer_inverse_transform_copy_and_dtype():
    X = np.array([[9, -1, 3, 1], [4, 2, 5, 4], [6, 7, -1, 1], [8, 9, 0, -1]], dtype=float)
    ours = SimpleImputer(missing_values=-1, add_indicator=True)
    ref = ski.SimpleImputer(missing_values=-1, add_indicator=True)
    np.testing.assert_array_equal(ours.fit_transform(X), ref.fit_transform(X))
    np.testing.assert_array_equal(ours.inverse_transform(ours.transform(X)), X)
    np.testing.assert_array_equal(ours.indicator_.features_, ref.indicator_.features_)
    in_place = X.copy()
    SimpleImputer(missing_values=-1, copy=False).fit(in_place).transform(in_place)
    np.testing.assert_array_equal(in_place, ref.fit(X).transform(X)[:, :4])
    assert SimpleImputer().fit(X).transform(X.astype(np.float32)).dtype == np.float32
    with pytest.raises(ValueError, match="cannot be cast to the input data"):
        SimpleImputer(strategy="constant", fill_value=1.5, missing_values=9).fit(X.astype(int))
    with pytest.raises(ValueError, match="non-numeric data:\ncould not convert"):
        SimpleImputer().fit(_OBJECTS)


@pytest.mark.parametrize("features", ["missing-only", "all"])
@pytest.mark.parametrize("sparse", ["auto", True, False])
def test_missing_indicator_equals_sklearn(features, sparse):
    import scipy.sparse as sp

    X = np.array([[np.nan, 1, 2, 3], [4, np.nan, 2, 3], [4, 1, 2, 3]])
    for data in (X, sp.csr_matrix(X)):
        ours = MissingIndicator(features=features, sparse=sparse)
        ref = ski.MissingIndicator(features=features, sparse=sparse)
        out, want = ours.fit_transform(data), ref.fit_transform(data)
        assert sp.issparse(out) == sp.issparse(want)
        np.testing.assert_array_equal(ours.features_, ref.features_)
        dense = out.toarray() if sp.issparse(out) else out
        np.testing.assert_array_equal(dense, want.toarray() if sp.issparse(want) else want)
    with pytest.raises(ValueError, match="have missing values in transform"):
        MissingIndicator().fit(X).transform(np.full((2, 4), np.nan))


def test_knn_imputer_callable_metric_and_weights():
    X = _continuous(5, n=40, d=4)

    def l1(x, z, missing_values=np.nan):
        return np.nansum(np.abs(x - z))

    def inverse_square(dist):
        return 1.0 / (1.0 + dist**2)

    for kw in (dict(metric=l1), dict(weights=inverse_square), dict(weights=lambda d: None)):
        ours = KNNImputer(n_neighbors=3, **kw).fit_transform(X)
        ref = ski.KNNImputer(n_neighbors=3, **kw).fit_transform(X)
        np.testing.assert_allclose(ours, ref, rtol=1e-9)


@pytest.mark.parametrize("weights", ["uniform", "distance"])
def test_knn_donors_among_equal_distances_are_sklearns(weights):
    """Integer features give equal distances: the donors among them are the ones
    scikit-learn's argpartition keeps (ours took the lowest indices; row 2 was imputed 0.2
    where scikit-learn gives -0.2)."""
    nan = np.nan
    head = [[nan, -4], [-5, 0], [-2, nan], [-6, 4], [-3, -7], [4, -2], [nan, nan], [2, 2]]
    tail = [[-3, 4], [-6, nan], [3, -3], [nan, nan], [-3, nan], [-1, 0], [nan, 5], [nan, nan]]
    X = np.array([*head, *tail, [nan, 4]])
    kw = dict(n_neighbors=5, weights=weights)
    np.testing.assert_allclose(
        KNNImputer(**kw).fit_transform(X), ski.KNNImputer(**kw).fit_transform(X), rtol=1e-12
    )


@pytest.mark.parametrize(
    ("strategy", "dtype"),
    [("median", np.float32), ("median", np.float64), ("constant", np.float32), ("constant", int)],
)
def test_statistics_dtype_as_sklearn(strategy, dtype):
    """Dense data: scikit-learn's median of float32 data is float32 and its constant
    statistics_ an object array holding the fill value as given (ours were float64)."""
    X = np.array([[1, -1, 3], [4, 5, -1], [7, 8, 9]]).astype(dtype)
    for keep in (False, True):
        kw = dict(strategy=strategy, missing_values=-1, keep_empty_features=keep)
        ours = SimpleImputer(**kw).fit(X).statistics_
        ref = ski.SimpleImputer(**kw).fit(X).statistics_
        assert ours.dtype == ref.dtype
        assert [type(v) for v in ours] == [type(v) for v in ref]
        np.testing.assert_array_equal(ours, ref)
        np.testing.assert_array_equal(
            SimpleImputer(**kw).fit_transform(X), ski.SimpleImputer(**kw).fit_transform(X)
        )


@pytest.mark.parametrize("strategy", ["mean", "most_frequent", "constant"])
def test_simple_imputer_inverse_transform_of_its_sparse_output(strategy):
    # transform of a sparse X is a CSC matrix; inverse_transform took np.asarray of it (a 0-d
    # object array) and raised IndexError. scikit-learn 1.9 fails on it too (ValueError), so
    # the reference is its inverse of the same output densified
    X = np.array([[1.0, np.nan, 0.0], [2.0, 3.0, np.nan], [np.nan, 1.0, 4.0], [0.0, 5.0, 2.0]])
    ours = SimpleImputer(strategy=strategy, add_indicator=True).fit(sp.csr_matrix(X))
    ref = ski.SimpleImputer(strategy=strategy, add_indicator=True).fit(sp.csr_matrix(X))
    T = ours.transform(sp.csr_matrix(X))
    assert sp.issparse(T)
    expected = ref.inverse_transform(ref.transform(sp.csr_matrix(X)).toarray())
    np.testing.assert_array_equal(ours.inverse_transform(T), expected)
    np.testing.assert_array_equal(expected, X)


@pytest.mark.parametrize("missing", [np.nan, -1.0])
def test_knn_imputer_indicator_as_sklearn(missing):
    """scikit-learn's fitted KNNImputer has indicator_ (None, or with add_indicator the
    MissingIndicator of the appended columns), as SimpleImputer; ours had none."""
    rng = np.random.default_rng(0)
    X = rng.random((30, 4))
    X[rng.random((30, 4)) < 0.2] = missing
    X[:, 2] = np.where(X[:, 2] == missing, 0.5, X[:, 2])  # a column with nothing missing
    X_new = X[::-1].copy()
    X_new[0, 2] = missing  # missing at transform only
    assert KNNImputer(missing_values=missing).fit(X).indicator_ is None
    assert ski.KNNImputer(missing_values=missing).fit(X).indicator_ is None
    ours = KNNImputer(missing_values=missing, add_indicator=True).fit(X)
    ref = ski.KNNImputer(missing_values=missing, add_indicator=True).fit(X)
    assert isinstance(ours.indicator_, MissingIndicator)
    np.testing.assert_array_equal(ours.indicator_.features_, ref.indicator_.features_)
    assert ours.indicator_.error_on_new is ref.indicator_.error_on_new is False
    k = len(ref.indicator_.features_)
    np.testing.assert_array_equal(ours.transform(X_new)[:, -k:], ref.transform(X_new)[:, -k:])
