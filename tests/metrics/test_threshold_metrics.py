"""Counts at thresholds, the DET curve and top-k accuracy vs sklearn.metrics."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from mlcanon.metrics import (
    UndefinedMetricWarning,
    confusion_matrix_at_thresholds,
    det_curve,
    top_k_accuracy_score,
)

skm = pytest.importorskip("sklearn.metrics")
RTOL = 1e-12


def _binary(seed, ties=False):
    rng = np.random.default_rng(seed)
    s = rng.random(60)
    if ties:
        s = s.round(1)
    return rng.integers(0, 2, 60), s


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
def test_confusion_matrix_at_thresholds_matches_sklearn(seed, ties, weighted):
    y, s = _binary(seed, ties)
    w = np.random.default_rng(seed + 5).random(60) if weighted else None
    ours = confusion_matrix_at_thresholds(y, s, sample_weight=w)
    ref = skm.confusion_matrix_at_thresholds(y, s, sample_weight=w)
    for a, b in zip(ours, ref, strict=True):
        assert_allclose(a, b, rtol=RTOL)


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("drop", [False, True])
def test_det_curve_matches_sklearn(seed, ties, drop):
    y, s = _binary(seed, ties)
    ours = det_curve(y, s, drop_intermediate=drop)
    ref = skm.det_curve(y, s, drop_intermediate=drop)
    for a, b in zip(ours, ref, strict=True):
        assert_allclose(a, b, rtol=RTOL)


def test_det_curve_hand_computed_and_errors():
    # scores 0.8 (pos), 0.4 (neg), 0.35 (pos), 0.1 (neg): at t = 0.35 FP = 1/2, FN = 0
    fpr, fnr, t = det_curve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    assert_array_equal(fpr, [0.5, 0.5, 0.0])
    assert_array_equal(fnr, [0.0, 0.5, 0.5])
    assert_array_equal(t, [0.35, 0.4, 0.8])
    with pytest.raises(ValueError, match="Only one class is present in y_true"):
        det_curve([1, 1, 1], [0.1, 0.5, 0.9])


@pytest.mark.parametrize(
    ("y", "pos_label"), [([0, 1, 2, 1, 0, 2], 2), (["a", "b", "c", "a", "c", "b"], "a")]
)
def test_det_curve_refuses_multiclass_y_true_with_pos_label_as_sklearn(y, pos_label):
    """scikit-learn's det_curve needs exactly two classes in y_true even with pos_label (its
    confusion_matrix_at_thresholds and roc_curve read one-vs-rest); ours computed a
    one-vs-rest curve where scikit-learn raises ValueError."""
    s = [0.1, 0.4, 0.3, 0.8, 0.2, 0.9]
    with pytest.raises(ValueError):
        skm.det_curve(y, s, pos_label=pos_label)
    with pytest.raises(ValueError, match=r"y_true must hold exactly two classes.* got 3.*pos_la"):
        det_curve(y, s, pos_label=pos_label)
    # the counts it builds on still read one-vs-rest, as scikit-learn's
    for a, b in zip(
        confusion_matrix_at_thresholds(y, s, pos_label=pos_label),
        skm.confusion_matrix_at_thresholds(y, s, pos_label=pos_label),
        strict=True,
    ):
        assert_allclose(a, b, rtol=RTOL)


@pytest.mark.parametrize("k", [1, 2, 3])
@pytest.mark.parametrize("weighted", [False, True])
def test_top_k_accuracy_matches_sklearn_with_ties(k, weighted):
    rng = np.random.default_rng(0)
    y, S = rng.integers(0, 4, 80), rng.random((80, 4)).round(1)  # many tied scores
    w = rng.random(80) if weighted else None
    got = top_k_accuracy_score(y, S, k=k, sample_weight=w)
    assert_allclose(got, skm.top_k_accuracy_score(y, S, k=k, sample_weight=w), rtol=RTOL)


def test_top_k_accuracy_binary_and_errors():
    y, s = _binary(2)
    assert top_k_accuracy_score(y, s, k=1) == skm.top_k_accuracy_score(y, s, k=1)
    with pytest.warns(UndefinedMetricWarning, match="perfect score"):
        assert top_k_accuracy_score(y, s, k=2) == 1.0
    S = np.eye(3)[[0, 1, 2, 2]]
    with pytest.raises(ValueError, match="`y_true` is binary while y_score is 2d with 3"):
        top_k_accuracy_score([0, 1, 1, 0], S)
    with pytest.raises(ValueError, match=r"Number of classes in 'y_true' \(4\)"):
        top_k_accuracy_score([0, 1, 2, 3], S)
    with pytest.raises(ValueError, match="Parameter 'labels' must be ordered"):
        top_k_accuracy_score([0, 1, 2, 2], S, labels=[2, 1, 0])
    with pytest.raises(ValueError, match="y type must be 'binary' or 'multiclass'"):
        top_k_accuracy_score([0.5, 1, 2, 2], S)


@pytest.mark.parametrize(
    "scores",
    [
        [1, 3, 2, 2, 5],
        np.array([1, 3, 2, 2, 5], dtype=np.int32),
        np.array([0.1, 0.3, 0.2, 0.2, 0.5], dtype=np.float32),
        np.array([0.1, 0.3, 0.2, 0.2, 0.5], dtype=np.float16),
        [True, False, True, True, False],
    ],
    ids=["int-list", "int32", "float32", "float16", "bool-list"],
)
@pytest.mark.parametrize(
    "name", ["precision_recall_curve", "confusion_matrix_at_thresholds", "roc_curve", "det_curve"]
)
def test_thresholds_keep_the_dtype_of_the_scores_as_sklearn(scores, name):
    # the thresholds are the scores: scikit-learn returns them in the scores' dtype (float32
    # stays float32) where no inf is prepended; they came back as float64 here
    import mlcanon.metrics

    y = [0, 1, 1, 0, 1]
    ours = getattr(mlcanon.metrics, name)(y, scores)[-1]
    theirs = getattr(skm, name)(y, scores)[-1]
    assert ours.dtype == theirs.dtype
    assert_array_equal(ours, theirs)


@pytest.mark.parametrize("k", [np.int64(2), np.int32(1), np.uint8(3)])
def test_k_as_a_numpy_integer_is_accepted_as_sklearn(k):
    """k given as a NumPy integer (e.g. from np.arange) is an int to scikit-learn; it was
    refused with 'k must be int, got int64' (top_k_accuracy_score, dcg_score, ndcg_score)."""
    from mlcanon.metrics import dcg_score, ndcg_score

    rng = np.random.default_rng(0)
    y = rng.integers(0, 4, 20)
    S = rng.random((20, 4))
    got = top_k_accuracy_score(y, S, k=k)
    assert_allclose(got, skm.top_k_accuracy_score(y, S, k=k), rtol=RTOL)
    R = rng.integers(0, 3, (5, 4))
    assert_allclose(dcg_score(R, S[:5], k=k), skm.dcg_score(R, S[:5], k=k), rtol=RTOL)
    assert_allclose(ndcg_score(R, S[:5], k=k), skm.ndcg_score(R, S[:5], k=k), rtol=RTOL)


@pytest.mark.parametrize("pos_label", [[1], np.array([1, 0, 1, 0]), (1,)])
@pytest.mark.parametrize(
    "name, scores",
    [
        ("f1_score", False),
        ("jaccard_score", False),
        ("precision_recall_fscore_support", False),
        ("roc_curve", True),
        ("precision_recall_curve", True),
        ("det_curve", True),
        ("confusion_matrix_at_thresholds", True),
        ("average_precision_score", True),
        ("brier_score_loss", True),
        ("d2_brier_score", True),
    ],
)
def test_pos_label_must_be_one_class_as_sklearn(name, scores, pos_label):
    """pos_label is one class (a number, bool or str; scikit-learn refuses anything else). A
    list or an array was compared with the labels element by element: [1] broadcast as 1 and
    gave a score, an array of n labels a meaningless mask."""
    from mlcanon import metrics

    y = np.array([0, 1, 1, 0])
    other = np.array([0.1, 0.9, 0.4, 0.5]) if scores else y[::-1]
    with pytest.raises(ValueError, match="pos_label"):
        getattr(skm, name)(y, other, pos_label=pos_label)
    with pytest.raises(ValueError, match="pos_label"):
        getattr(metrics, name)(y, other, pos_label=pos_label)
