"""Multilabel indicator targets, average='samples', fbeta_score and target checks vs sklearn."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose

from mlcanon.metrics import (
    UndefinedMetricWarning,
    average_precision_score,
    f1_score,
    fbeta_score,
    precision_recall_fscore_support,
    precision_score,
    recall_score,
    roc_auc_score,
)

skm = pytest.importorskip("sklearn.metrics")
RTOL = 1e-12
AVERAGES = ["micro", "macro", "weighted", "samples", None]


def _sk(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


@pytest.fixture(scope="module")
def indicators():
    """Two multilabel indicator matrices (60 samples, 5 labels) with some empty rows."""
    from sklearn.datasets import make_multilabel_classification

    _, a = make_multilabel_classification(n_samples=60, n_classes=5, random_state=0)
    _, b = make_multilabel_classification(n_samples=60, n_classes=5, random_state=1)
    a[:3] = 0
    b[2:5] = 0
    return a, b


@pytest.mark.parametrize("average", AVERAGES)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("beta", [1.0, 0.5, 2.0])
def test_multilabel_prfs_matches_sklearn(indicators, average, weighted, beta):
    y, p = indicators
    w = np.random.default_rng(0).random(y.shape[0]) if weighted else None
    kw = {"average": average, "sample_weight": w, "beta": beta, "zero_division": 0}
    ours = precision_recall_fscore_support(y, p, **kw)
    ref = skm.precision_recall_fscore_support(y, p, **kw)
    for a, b in zip(ours[:3], ref[:3], strict=True):
        assert_allclose(a, b, rtol=RTOL)
    if average is None:
        assert_allclose(ours[3], ref[3], rtol=RTOL)


@pytest.mark.parametrize("labels", [[0, 2], [4, 1, 3]])
@pytest.mark.parametrize("average", ["samples", "micro", None])
def test_multilabel_label_subset(indicators, labels, average):
    y, p = indicators
    for ours, ref in ((precision_score, skm.precision_score), (recall_score, skm.recall_score)):
        got = ours(y, p, labels=labels, average=average, zero_division=1)
        assert_allclose(got, ref(y, p, labels=labels, average=average, zero_division=1))


def test_multilabel_representations_agree(indicators):
    y, p = indicators
    dense = f1_score(y, p, average="samples", zero_division=0)
    for conv in (sp.csr_matrix, sp.coo_matrix, lambda a: [list(r) for r in a]):
        assert f1_score(conv(y), conv(p), average="samples", zero_division=0) == dense


def test_samples_average_hand_computed():
    # row 1: P = 1/2, R = 1; row 2: P = 1, R = 1/2 (label sets {0}, {0, 1} and {0, 1}, {1})
    y = np.array([[1, 0], [1, 1]])
    p = np.array([[1, 1], [0, 1]])
    assert precision_score(y, p, average="samples") == pytest.approx(0.75)
    assert recall_score(y, p, average="samples") == pytest.approx(0.75)
    assert precision_score(y, p, average="samples", sample_weight=[3, 1]) == pytest.approx(
        (3 * 0.5 + 1 * 1.0) / 4
    )


@pytest.mark.parametrize("average", ["binary", "macro", "weighted", "micro"])
def test_fbeta_matches_sklearn(average):
    rng = np.random.default_rng(1)
    y, p = rng.integers(0, 2, 80), rng.integers(0, 2, 80)
    if average != "binary":
        y, p = rng.integers(0, 4, 80), rng.integers(0, 4, 80)
    for beta in (0.5, 2.0):
        got = fbeta_score(y, p, beta=beta, average=average)
        assert_allclose(got, skm.fbeta_score(y, p, beta=beta, average=average), rtol=RTOL)


def test_ill_defined_warnings_name_the_axis():
    with pytest.warns(UndefinedMetricWarning, match="in samples with no predicted labels"):
        precision_score([[1, 0], [1, 0]], [[1, 0], [0, 0]], average="samples")
    with pytest.warns(UndefinedMetricWarning, match="in labels with no true samples"):
        recall_score([[1, 0], [1, 0]], [[1, 0], [1, 1]], average="macro")


def test_multilabel_errors():
    y = np.array([[0, 1, 1], [1, 0, 1]])
    with pytest.raises(ValueError, match=r"All labels must be in \[0, n labels\).*Got 4 > 2"):
        f1_score(y, y, labels=[4], average="macro")
    with pytest.raises(ValueError, match="Got -1 < 0"):
        f1_score(y, y, labels=[-1], average="macro")
    with pytest.raises(ValueError, match="Target is multilabel-indicator but average='binary'"):
        f1_score(y, y)
    with pytest.raises(ValueError, match="mix of multilabel-indicator and binary"):
        f1_score(y, [0, 1], average="macro")
    with pytest.raises(ValueError, match="different numbers of labels"):
        f1_score(y, y[:, :2], average="macro")
    with pytest.raises(ValueError, match="legacy multilabel format"):
        f1_score([[1], [2], [0, 1]], [[1], [2], [0, 1]], average="macro")
    with pytest.raises(ValueError, match="multiclass-multioutput is not supported"):
        f1_score([[0, 2], [1, 3]], [[0, 2], [1, 3]], average="macro")


@pytest.mark.parametrize(
    ("weights", "match"),
    [
        ([1.0, np.inf, 1.0], "Input sample_weight contains infinity"),
        ([1.0, np.nan, 1.0], "Input sample_weight contains NaN"),
        ([1 + 2j, 1, 1], "Complex data not supported"),
        (np.ones((3, 2)), "Sample weights must be 1D array or scalar"),
        ([1.0, 1.0], "Found input variables with inconsistent numbers of samples"),
    ],
)
def test_invalid_sample_weight(weights, match):
    with pytest.raises(ValueError, match=match):
        f1_score([0, 1, 1], [0, 1, 0], sample_weight=weights)


def test_object_string_labels_equal_str_labels():
    y = np.array(["a", "b", "b", "a"], dtype=object)
    p = np.array(["a", "b", "a", "a"], dtype=object)
    assert f1_score(y, p, pos_label="b") == f1_score(y.astype(str), p.astype(str), pos_label="b")
    with pytest.raises(ValueError, match=r"Mix of label input types \(string and number\)"):
        f1_score(y, [0, 1, 1, 0], pos_label="b")


@pytest.mark.parametrize("average", AVERAGES)
@pytest.mark.parametrize("weighted", [False, True])
def test_average_precision_multilabel_matches_sklearn(indicators, average, weighted):
    y, _ = indicators
    rng = np.random.default_rng(2)
    s = rng.random(y.shape)
    w = rng.random(y.shape[0]) if weighted else None
    if average == "samples":  # a sample without any label has no AP
        y, s, w = y[3:], s[3:], None if w is None else w[3:]
    got = average_precision_score(y, s, average=average, sample_weight=w)
    assert_allclose(got, skm.average_precision_score(y, s, average=average, sample_weight=w))


@pytest.mark.parametrize("average", ["macro", "weighted", "micro", None])
def test_average_precision_multiclass_matches_sklearn(average):
    rng = np.random.default_rng(3)
    y = rng.integers(0, 4, 70)
    s = rng.random((70, 4))
    got = average_precision_score(y, s, average=average)
    assert_allclose(got, skm.average_precision_score(y, s, average=average), rtol=RTOL)


@pytest.mark.parametrize("average", ["macro", "weighted", "micro", "samples"])
def test_roc_auc_multilabel_matches_sklearn(indicators, average):
    y, _ = indicators
    s = np.random.default_rng(4).random(y.shape)
    keep = (y.sum(axis=1) > 0) & ~y.all(axis=1)  # a sample needs both kinds for its own AUC
    y, s = y[keep], s[keep]
    assert_allclose(roc_auc_score(y, s, average=average), skm.roc_auc_score(y, s, average=average))


@pytest.mark.parametrize("dtype", ["Int64", "boolean", "Float64"])
@pytest.mark.parametrize(
    "name",
    [
        "roc_auc_score",
        "average_precision_score",
        "coverage_error",
        "label_ranking_loss",
        "label_ranking_average_precision_score",
    ],
)
def test_a_nullable_pandas_indicator_frame_is_read_as_sklearn(name, dtype):
    """A multilabel y_true as a pandas DataFrame of nullable columns (Int64, boolean, Float64)
    is read by scikit-learn's check_array as numbers; NumPy makes it an object array, which
    was refused here as an 'unknown' target."""
    pd = pytest.importorskip("pandas")
    from mlcanon import metrics

    rng = np.random.default_rng(0)
    Y = rng.integers(0, 2, (12, 3))
    Y[:2] = [[0, 1, 1], [1, 0, 0]]
    S = rng.random((12, 3))
    frame = pd.DataFrame(Y).astype(dtype)
    ref = getattr(skm, name)(frame, S)
    got = getattr(metrics, name)(frame, S)
    np.testing.assert_allclose(got, ref, rtol=1e-12)
    assert got == getattr(metrics, name)(Y, S)


def test_a_nullable_pandas_frame_with_na_is_refused():
    pd = pytest.importorskip("pandas")
    from mlcanon.metrics import roc_auc_score

    frame = pd.DataFrame([[0, 1], [1, pd.NA], [1, 0]], dtype="Int64")
    with pytest.raises(ValueError, match="Input y_true contains NaN"):
        skm.roc_auc_score(frame, np.ones((3, 2)))
    with pytest.raises(ValueError, match="Input y_true contains NaN"):
        roc_auc_score(frame, np.ones((3, 2)))
