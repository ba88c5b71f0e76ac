"""Our samplers against imbalanced-learn's own sampler checks, and the input formats those
checks ask for compared with imbalanced-learn's samplers on the same data."""

from collections import Counter

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone

from mlcanon.preprocessing import SMOTE, RandomOverSampler, RandomUnderSampler

checks = pytest.importorskip("imblearn.utils.estimator_checks")
imb_over = pytest.importorskip("imblearn.over_sampling")
imb_under = pytest.importorskip("imblearn.under_sampling")

# random_state fixed as in imbalanced-learn's own test suite: several checks resample the same
# data twice (array and list, dense and sparse) and compare the rows.
SAMPLERS = [
    RandomOverSampler(random_state=42),
    RandomUnderSampler(random_state=42),
    SMOTE(random_state=42),
]
# imbalanced-learn's sampler of each name, for the comparisons below
REFERENCE = {
    "RandomOverSampler": imb_over.RandomOverSampler,
    "RandomUnderSampler": imb_under.RandomUnderSampler,
    "SMOTE": imb_over.SMOTE,
}


_CHECKS = checks.parametrize_with_checks(SAMPLERS)


# the same parametrization with the generated cases as a list (pytest deprecates a generator)
@pytest.mark.parametrize(_CHECKS.args[0], list(_CHECKS.args[1]), **_CHECKS.kwargs)
def test_imblearn_estimator_checks(estimator, check):
    check(estimator)


def _data(seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(60, 3))
    y = np.repeat([0, 1, 2], [30, 20, 10])
    return X, y


def _pair(sampler):
    return clone(sampler), REFERENCE[type(sampler).__name__](random_state=0)


@pytest.mark.parametrize("sampler", SAMPLERS, ids=lambda s: type(s).__name__)
def test_one_vs_all_target_like_imblearn(sampler):
    """An int64 one-vs-all y comes back as int64 one-vs-all rows, with imbalanced-learn's class
    counts; each library's rows follow its own random stream, so they are compared by counts,
    and each library's indicator result with its own 1-D result."""
    X, y = _data()
    Y = np.eye(3, dtype=np.int64)[y]
    counts = []
    for est in _pair(sampler):
        _, Y_res = est.fit_resample(X, Y)
        _, y_res = est.fit_resample(X, y)
        assert Y_res.shape == (y_res.size, 3) and Y_res.dtype == np.int64
        np.testing.assert_array_equal(Y_res.argmax(axis=1), y_res)
        np.testing.assert_array_equal(Y_res.sum(axis=1), 1)
        counts.append(Counter(y_res.tolist()))
    assert counts[0] == counts[1]


def test_one_vs_all_target_keeps_its_dtype_and_width():
    """Deliberate difference: the indicator comes back in the dtype and width it came in
    (imbalanced-learn 0.14 gives int64, and one column for two classes)."""
    X, y = _data()
    y = (y == 2).astype(int)  # two classes, 50 and 10 samples
    Y = np.eye(2, dtype=bool)[y]
    _, Y_res = RandomOverSampler(random_state=0).fit_resample(X, Y)
    assert Y_res.dtype == bool and Y_res.shape[1] == 2
    np.testing.assert_array_equal(Y_res.sum(axis=1), 1)
    assert Counter(Y_res.argmax(axis=1).tolist()) == {0: 50, 1: 50}


@pytest.mark.parametrize("sampler", SAMPLERS, ids=lambda s: type(s).__name__)
def test_column_vector_and_frame_targets_like_imblearn(sampler):
    pd = pytest.importorskip("pandas")
    X, y = _data()
    X_df = pd.DataFrame(X, columns=["a", "b", "c"], index=np.arange(100, 160))
    y_df = pd.DataFrame({"label": y}, index=X_df.index)
    results = []
    for est in _pair(sampler):
        _, y_col = est.fit_resample(X, y[:, None])
        X_res, y_res = est.fit_resample(X_df, y_df)
        results.append((y_col.shape[1:], type(y_res), list(y_res.columns), dict(y_res.dtypes)))
        pd.testing.assert_index_equal(y_res.index, X_res.index)
        assert Counter(y_col.tolist()) == Counter(y_res["label"].tolist())
    assert results[0] == results[1]


def test_multilabel_target_is_refused():
    X, y = _data()
    Y = np.eye(3, dtype=np.int64)[y]
    Y[0, 1] = 1  # two labels on one row
    with pytest.raises(ValueError, match="Multilabel and multioutput targets are not supported"):
        RandomOverSampler().fit_resample(X, Y)
    Y[0] = 0  # no label on a row: imbalanced-learn would read it as class 0
    with pytest.raises(ValueError, match="one 1 in each row"):
        RandomOverSampler().fit_resample(X, Y)


@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_smote_sparse_and_float32_like_imblearn(fmt):
    X, y = _data()
    X = X.astype(np.float32)
    X[np.abs(X) < 0.5] = 0.0
    ours_sparse, ys = SMOTE(random_state=0).fit_resample(sp.csr_matrix(X).asformat(fmt), y)
    ours_dense, yd = SMOTE(random_state=0).fit_resample(X, y)
    ref, yr = imb_over.SMOTE(random_state=0).fit_resample(sp.csr_matrix(X).asformat(fmt), y)
    assert ours_sparse.format == ref.format == fmt
    assert ours_sparse.dtype == ours_dense.dtype == ref.dtype == np.float32
    # a property, not a reference: the sparse path gives the dense path's points (imbalanced-
    # learn's draw other points, so against it only the format, dtype and counts are compared)
    np.testing.assert_allclose(ours_sparse.toarray(), ours_dense, rtol=1e-6)
    np.testing.assert_array_equal(ys, yd)
    assert Counter(ys.tolist()) == Counter(yr.tolist())


@pytest.mark.parametrize("sampler", SAMPLERS, ids=lambda s: type(s).__name__)
def test_feature_names_out_like_imblearn(sampler):
    pd = pytest.importorskip("pandas")
    X, y = _data()
    X_df = pd.DataFrame(X, columns=["a", "b", "c"])
    ours, ref = (est.fit(X_df, y).get_feature_names_out() for est in _pair(sampler))
    np.testing.assert_array_equal(ours, ref)
    ours, ref = (est.fit(X, y).get_feature_names_out() for est in _pair(sampler))
    np.testing.assert_array_equal(ours, ref)
    assert ours.dtype == ref.dtype == object


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_smote_keeps_a_floating_dtype_like_imblearn(dtype):
    X, y = _data()
    ours, _ = SMOTE(random_state=0).fit_resample(X.astype(dtype), y)
    ref, _ = imb_over.SMOTE(random_state=0).fit_resample(X.astype(dtype), y)
    assert ours.dtype == ref.dtype == dtype


def test_sparse_target_is_refused_by_name():
    X, y = _data()
    with pytest.raises(TypeError, match="y must be a dense array of class labels"):
        RandomOverSampler().fit_resample(X, sp.csr_matrix(y[:, None]))
