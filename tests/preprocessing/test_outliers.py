"""Outlier flags and duplicate removal against SciPy / NumPy definitions."""

import numpy as np
import pytest
from scipy import stats
from sklearn.datasets import load_diabetes

from mlcanon.preprocessing import drop_duplicates, duplicated, iqr_outliers, zscore_outliers


@pytest.fixture
def X():
    X, _ = load_diabetes(return_X_y=True)
    X = X.copy()
    X[np.random.default_rng(0).random(X.shape) < 0.05] = np.nan
    return X


@pytest.mark.parametrize("k", [1.5, 3.0])
def test_iqr_fences_equal_scipy(X, k):
    q1, q3 = np.nanpercentile(X, [25, 75], axis=0)
    iqr = stats.iqr(X, axis=0, nan_policy="omit")
    np.testing.assert_allclose(q3 - q1, iqr, rtol=1e-12)
    with np.errstate(invalid="ignore"):
        expected = (X < q1 - k * iqr) | (X > q3 + k * iqr)
    np.testing.assert_array_equal(iqr_outliers(X, k=k), expected)


@pytest.mark.parametrize("ddof", [0, 1])
def test_zscore_flags_equal_scipy(X, ddof):
    z = stats.zscore(X, axis=0, ddof=ddof, nan_policy="omit")
    with np.errstate(invalid="ignore"):
        expected = np.abs(z) > 2.5
    np.testing.assert_array_equal(zscore_outliers(X, threshold=2.5, ddof=ddof), expected)


def test_hand_computed_flags():
    x = np.array([1.0, 2.0, 3.0, 4.0, 100.0])
    # quartiles 2 and 4, IQR 2: fences -1 and 7
    np.testing.assert_array_equal(iqr_outliers(x), [False, False, False, False, True])
    # with 5 points no |z| can exceed (n-1)/sqrt(n) = 1.79: the z-rule misses the outlier
    assert not zscore_outliers(x).any()
    assert zscore_outliers(x, threshold=1.5)[4]
    assert not zscore_outliers(np.ones(4)).any()  # constant column: nothing to flag


@pytest.mark.parametrize("keep", ["first", "last", "none"])
def test_duplicated_matches_a_row_by_row_scan(keep):
    rng = np.random.default_rng(1)
    X = rng.integers(0, 3, size=(60, 2)).astype(float)
    X[rng.random(60) < 0.2, 0] = np.nan
    keys = [tuple("nan" if np.isnan(v) else v for v in row) for row in X]
    order = range(len(keys)) if keep != "last" else reversed(range(len(keys)))
    seen, expected = {}, np.zeros(len(keys), bool)
    for i in order:
        if keys[i] in seen:
            expected[i] = True
            if keep == "none":
                expected[seen[keys[i]]] = True
        else:
            seen[keys[i]] = i
    np.testing.assert_array_equal(duplicated(X, keep=keep), expected)


def test_drop_duplicates_keeps_order_and_labels():
    X = np.array([[1.0, 2.0], [3.0, 4.0], [1.0, 2.0], [np.nan, 1.0], [np.nan, 1.0]])
    y = np.array([0, 1, 2, 3, 4])
    Xu, yu = drop_duplicates(X, y)
    np.testing.assert_array_equal(Xu, X[[0, 1, 3]])
    np.testing.assert_array_equal(yu, [0, 1, 3])
    np.testing.assert_array_equal(drop_duplicates(X, keep="last"), X[[1, 2, 4]])


def test_bad_input():
    with pytest.raises(ValueError, match="keep must be one of"):
        duplicated(np.zeros((3, 2)), keep="middle")
    with pytest.raises(ValueError, match="k must be >= 0"):
        iqr_outliers(np.zeros(3), k=-1)
    with pytest.raises(ValueError, match="threshold must be > 0"):
        zscore_outliers(np.zeros(3), threshold=0)
    with pytest.raises(ValueError, match="inconsistent numbers of samples: X=3, y=2"):
        drop_duplicates(np.zeros((3, 1)), [1, 2])
    with pytest.raises(ValueError, match="infinity"):
        iqr_outliers([1.0, np.inf])


@pytest.mark.parametrize("keep", ["first", "last", "none"])
@pytest.mark.parametrize(
    "X",
    [
        np.array([[2**53 + 1, 1], [2**53, 1], [2**53 + 1, 1]], dtype=np.int64),  # not floats
        np.array([[np.inf, 1.0], [-np.inf, 1.0], [np.inf, 1.0], [np.nan, np.inf]]),
        np.array([["a", "b"], ["a", "c"], ["a", "b"]]),
    ],
)
def test_duplicated_equals_pandas_on_exact_dtypes(X, keep):
    pd = pytest.importorskip("pandas")
    ref = pd.DataFrame(X).duplicated(keep=False if keep == "none" else keep).to_numpy()
    np.testing.assert_array_equal(duplicated(X, keep=keep), ref)
    unique = drop_duplicates(X, keep=keep)
    assert unique.dtype == X.dtype
    np.testing.assert_array_equal(unique, X[~ref])


@pytest.mark.parametrize("keep", ["first", "last", "none"])
def test_duplicated_of_object_data_and_data_frames_equals_pandas(keep):
    # strings as pandas holds them (object dtype), mixed frames and None / NaN were refused
    # with TypeError ('numeric or string array, got dtype=object'); a frame's int column is
    # compared exactly (np.asarray of an int + float frame rounds 2**60 + 1 to 2**60)
    pd = pytest.importorskip("pandas")
    pk = False if keep == "none" else keep
    frame = pd.DataFrame(
        {
            "a": ["x", "y", "x", "x", "y", None, None],
            "b": [2**60 + 1, 2, 2**60 + 1, 2**60, 2, 5, 5],
            "c": [np.nan, 1.0, np.nan, np.nan, 1.0, 0.0, -0.0],
        }
    )
    values = np.array([None, np.nan, float("nan"), 1, 1.0, True, "1", "a", "a"], dtype=object)
    # with several columns pandas factorizes each: None, NaN, pandas.NA and NaT are one value
    # (alone, None and NaN are two); a datetime column beside a nullable int one
    missing = pd.DataFrame(
        {
            "m": np.array([None, np.nan, pd.NA, pd.NaT, "z", None, np.nan], dtype=object),
            "k": pd.array([1, 1, 1, 1, None, 1, None], dtype="Int64"),
            "t": pd.to_datetime(["2020-01-01"] * 4 + [None, "2020-01-01", None]),
        }
    )
    for X in (frame, frame[["a"]], frame["a"].to_numpy(), values, missing):
        ref = pd.DataFrame(X).duplicated(keep=pk).to_numpy()
        np.testing.assert_array_equal(duplicated(X, keep=keep), ref)
    unique, y = drop_duplicates(frame, np.arange(7), keep=keep)
    ref = frame.duplicated(keep=pk).to_numpy()
    np.testing.assert_array_equal(y, np.flatnonzero(~ref))
    np.testing.assert_array_equal(unique[:, 1], frame["b"].to_numpy()[~ref])
    with pytest.raises(TypeError, match="hashable values"):
        duplicated(np.array([[1], [[2]]], dtype=object))
