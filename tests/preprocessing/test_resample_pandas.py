"""Samplers on pandas input against imbalanced-learn: the containers, columns, dtypes, row
labels and Series name that come back."""

from collections import Counter

import numpy as np
import pytest

from mlcanon.preprocessing import SMOTE, RandomOverSampler, RandomUnderSampler

pd = pytest.importorskip("pandas")
imblearn = pytest.importorskip("imblearn")
from imblearn import over_sampling, under_sampling  # noqa: E402


def _frame(n_major=9, n_minor=3, seed=0):
    """Numbers, text, dates, all-NaT durations and categories; rows labelled 100, 101, ..."""
    rng = np.random.default_rng(seed)
    n = n_major + n_minor
    X = pd.DataFrame(
        {
            "x": rng.normal(size=n),
            "count": rng.integers(0, 50, size=n),
            "name": [f"row{i}" for i in range(n)],
            "when": pd.date_range("2024-01-01", periods=n, freq="D"),
            "wait": pd.to_timedelta([np.nan] * n),
            "colour": pd.Categorical(rng.choice(["red", "blue"], size=n)),
        },
        index=np.arange(100, 100 + n),
    )
    y = pd.Series(pd.Categorical(["no"] * n_major + ["yes"] * n_minor), index=X.index, name="t")
    return X, y


def _index_kind(X_res, X, sampler):
    """Whether the rows keep their input labels, and whether they are numbered 0..n-1."""
    return (
        X_res.index.equals(X.index[sampler.sample_indices_]),
        X_res.index.equals(pd.RangeIndex(len(X_res))),
    )


@pytest.mark.parametrize(
    "ours, ref",
    [
        (RandomOverSampler(random_state=0), over_sampling.RandomOverSampler(random_state=0)),
        (RandomUnderSampler(random_state=0), under_sampling.RandomUnderSampler(random_state=0)),
        (
            RandomUnderSampler(replacement=True, random_state=0),
            under_sampling.RandomUnderSampler(replacement=True, random_state=0),
        ),
    ],
)
def test_random_samplers_return_rows_of_the_frame_as_imblearn(ours, ref):
    X, y = _frame()
    results = {}
    for sampler in (ours, ref):
        X_res, y_res = sampler.fit_resample(X, y)
        rows = X.iloc[sampler.sample_indices_]
        pd.testing.assert_frame_equal(X_res.reset_index(drop=True), rows.reset_index(drop=True))
        pd.testing.assert_index_equal(y_res.index, X_res.index)
        np.testing.assert_array_equal(y_res.to_numpy(), y.to_numpy()[sampler.sample_indices_])
        results[sampler is ours] = X_res, y_res, _index_kind(X_res, X, sampler)
    (Xo, yo, index_o), (Xr, yr, index_r) = results[True], results[False]
    pd.testing.assert_series_equal(Xo.dtypes, Xr.dtypes)  # every column keeps its dtype
    pd.testing.assert_series_equal(Xo.dtypes, X.dtypes)
    assert index_o == index_r
    assert (yo.name, yo.dtype) == (yr.name, yr.dtype) == ("t", y.dtype)
    assert Counter(yo.tolist()) == Counter(yr.tolist())


def test_smote_frame_is_cast_back_to_its_dtypes_as_imblearn():
    """Computed rows come back in the input's dtypes: an integer column is truncated."""
    X, y = _frame()
    X = X[["x", "count"]]
    y = pd.Series(y.cat.codes.to_numpy(), index=X.index, name="label")
    Xo, yo = SMOTE(k_neighbors=2, random_state=0).fit_resample(X, y)
    Xr, yr = over_sampling.SMOTE(k_neighbors=2, random_state=0).fit_resample(X, y)
    pd.testing.assert_series_equal(Xo.dtypes, Xr.dtypes)
    pd.testing.assert_index_equal(Xo.index, Xr.index)
    pd.testing.assert_index_equal(yo.index, yr.index)
    assert (yo.name, yo.dtype) == (yr.name, yr.dtype)
    np.testing.assert_array_equal(Xo.to_numpy()[: len(X)], X.to_numpy())  # originals first
    np.testing.assert_array_equal(yo.to_numpy(), yr.to_numpy())


def test_smoothed_bootstrap_of_a_frame_as_imblearn():
    X, y = _frame()
    X = X[["x", "count"]]
    Xo, yo = RandomOverSampler(shrinkage=1.0, random_state=0).fit_resample(X, y)
    Xr, yr = over_sampling.RandomOverSampler(shrinkage=1.0, random_state=0).fit_resample(X, y)
    pd.testing.assert_series_equal(Xo.dtypes, Xr.dtypes)
    pd.testing.assert_index_equal(Xo.index, Xr.index)
    pd.testing.assert_index_equal(yo.index, yr.index)
    np.testing.assert_array_equal(Xo.to_numpy()[: len(X)], X.to_numpy())


def test_array_X_with_series_y_as_imblearn():
    X, y = _frame()
    Xa = X[["x", "count"]].to_numpy()
    Xo, yo = RandomUnderSampler(random_state=0).fit_resample(Xa, y)
    Xr, yr = under_sampling.RandomUnderSampler(random_state=0).fit_resample(Xa, y)
    assert type(Xo) is type(Xr) is np.ndarray
    pd.testing.assert_index_equal(yo.index, yr.index)  # numbered 0..n-1, not X's labels
    assert (yo.name, yo.dtype) == (yr.name, yr.dtype)


@pytest.mark.parametrize("as_list", ["X", "y", "both"])
@pytest.mark.parametrize(
    "ours, ref",
    [
        (RandomOverSampler(random_state=0), over_sampling.RandomOverSampler(random_state=0)),
        (SMOTE(k_neighbors=2, random_state=0), over_sampling.SMOTE(k_neighbors=2, random_state=0)),
    ],
    ids=["random", "smote"],
)
def test_lists_come_back_as_lists_as_imblearn(ours, ref, as_list):
    X, y = _frame()
    X, y = X[["x", "count"]].to_numpy(), y.cat.codes.to_numpy()
    X = X.tolist() if as_list in ("X", "both") else X
    y = y.tolist() if as_list in ("y", "both") else y
    Xo, yo = ours.fit_resample(X, y)
    Xr, yr = ref.fit_resample(X, y)
    assert (type(Xo), type(yo)) == (type(Xr), type(yr))
    assert len(Xo) == len(Xr) and len(yo) == len(yr)


@pytest.mark.parametrize(
    "sampler, X, y, error, match",
    [
        (
            RandomOverSampler(shrinkage=1.0),
            _frame()[0][["x", "name"]],
            _frame()[1],
            ValueError,
            "X needs to contain only numerical data",
        ),
        (
            SMOTE(k_neighbors=2),
            _frame()[0][["x", "name"]],
            _frame()[1],
            TypeError,
            "X must be array-like of numbers: could not convert string",
        ),
        (
            RandomUnderSampler(),
            pd.DataFrame({"z": np.arange(12) * 1j}),
            _frame()[1],
            ValueError,
            "Complex data not supported: X has dtype complex128",
        ),
        (
            RandomOverSampler(),
            _frame()[0],
            pd.Series(np.linspace(0, 1, 12)),
            ValueError,
            "continuous",
        ),
        (
            RandomOverSampler(),
            _frame()[0],
            _frame()[0][["x", "count"]],
            ValueError,
            "Multilabel and multioutput",
        ),
    ],
)
def test_bad_frames_are_refused(sampler, X, y, error, match):
    with pytest.raises(error, match=match):
        sampler.fit_resample(X, y)
