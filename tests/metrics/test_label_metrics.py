"""Accuracy, zero-one and Hamming loss, balanced accuracy, Jaccard, MCC and the per-label
confusion matrices vs sklearn.metrics, on single-label and multilabel targets."""

import inspect
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from mlcanon.metrics import (
    UndefinedMetricWarning,
    accuracy_score,
    balanced_accuracy_score,
    cohen_kappa_score,
    hamming_loss,
    jaccard_score,
    matthews_corrcoef,
    multilabel_confusion_matrix,
    precision_score,
    zero_one_loss,
)

skm = pytest.importorskip("sklearn.metrics")
RTOL = 1e-12


def _sk(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


def _targets(kind, seed=0):
    rng = np.random.default_rng(seed)
    if kind == "multilabel":
        return rng.integers(0, 2, (50, 4)), rng.integers(0, 2, (50, 4))
    k = 2 if kind == "binary" else 4
    return rng.integers(0, k, 50), rng.integers(0, k, 50)


KINDS = ["binary", "multiclass", "multilabel"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("normalize", [True, False])
def test_accuracy_and_zero_one_loss_match_sklearn(kind, weighted, normalize):
    y, p = _targets(kind)
    w = np.random.default_rng(1).random(len(y)) if weighted else None
    kw = {"sample_weight": w, "normalize": normalize}
    assert_allclose(accuracy_score(y, p, **kw), skm.accuracy_score(y, p, **kw), rtol=RTOL)
    assert_allclose(zero_one_loss(y, p, **kw), skm.zero_one_loss(y, p, **kw), rtol=RTOL)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("weighted", [False, True])
def test_hamming_loss_matches_sklearn(kind, weighted):
    y, p = _targets(kind)
    w = np.random.default_rng(1).random(len(y)) if weighted else None
    assert_allclose(hamming_loss(y, p, sample_weight=w), skm.hamming_loss(y, p, sample_weight=w))


@pytest.mark.parametrize("kind", ["binary", "multiclass"])
@pytest.mark.parametrize("adjusted", [False, True])
def test_balanced_accuracy_and_mcc_match_sklearn(kind, adjusted):
    y, p = _targets(kind, seed=2)
    w = np.random.default_rng(3).random(len(y))
    got = balanced_accuracy_score(y, p, sample_weight=w, adjusted=adjusted)
    ref = skm.balanced_accuracy_score(y, p, sample_weight=w, adjusted=adjusted)
    assert_allclose(got, ref, rtol=RTOL)
    assert_allclose(
        matthews_corrcoef(y, p, sample_weight=w), skm.matthews_corrcoef(y, p, sample_weight=w)
    )


def test_hand_computed_small_cases():
    # TP=1, TN=1, FP=1, FN=0: MCC = (1 - 0) / sqrt(2 * 1 * 2 * 1) = 1/2
    assert matthews_corrcoef([1, 0, 0], [1, 1, 0]) == pytest.approx(0.5)
    assert matthews_corrcoef([1, 1, 1], [1, 1, 1]) == 0.0  # a single class: 0/0 -> 0
    assert accuracy_score([[1, 1], [0, 1]], [[1, 1], [1, 1]]) == 0.5  # subset accuracy
    assert hamming_loss([[1, 1], [0, 1]], [[1, 1], [1, 1]]) == 0.25
    assert jaccard_score([1, 1, 0], [1, 0, 1]) == pytest.approx(1 / 3)
    with pytest.warns(UserWarning, match="y_pred contains classes not in y_true"):
        assert balanced_accuracy_score([0, 0, 1], [0, 2, 1]) == 0.75


JACCARD_CASES = [(k, a) for k in KINDS for a in ("micro", "macro", "weighted", None)]
JACCARD_CASES.append(("multilabel", "samples"))


@pytest.mark.parametrize(("kind", "average"), JACCARD_CASES)
@pytest.mark.parametrize("weighted", [False, True])
def test_jaccard_matches_sklearn(kind, average, weighted):
    y, p = _targets(kind, seed=4)
    w = np.random.default_rng(5).random(len(y)) if weighted else None
    kw = {"average": average, "sample_weight": w, "zero_division": 1}
    assert_allclose(jaccard_score(y, p, **kw), skm.jaccard_score(y, p, **kw), rtol=RTOL)


def test_jaccard_warns_on_empty_label():
    with pytest.warns(UndefinedMetricWarning, match="Jaccard is ill-defined"):
        assert jaccard_score([[0, 1]], [[0, 1]], average="macro") == 0.5


@pytest.mark.parametrize("zero_division", [np.nan, float("nan"), 0.5, "nan", None])
def test_jaccard_refuses_the_zero_divisions_scikit_learn_refuses(zero_division):
    """scikit-learn's jaccard_score takes 'warn', 0 or 1 (NaN is the precision-type scores'
    option only); ours returned NaN for zero_division=np.nan where scikit-learn raises."""
    y = [[0, 0], [0, 1]]
    with pytest.raises(ValueError, match="zero_division"):
        skm.jaccard_score(y, y, average="samples", zero_division=zero_division)
    with pytest.raises(ValueError, match=r"zero_division must be one of 'warn', 0\.0, 1\.0;"):
        jaccard_score(y, y, average="samples", zero_division=zero_division)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("labels", [None, "subset"])
def test_multilabel_confusion_matrix_matches_sklearn(kind, weighted, labels):
    y, p = _targets(kind, seed=6)
    w = np.random.default_rng(7).random(len(y)) if weighted else None
    labels = None if labels is None else ([1, 0] if kind != "binary" else [1])
    ours = multilabel_confusion_matrix(y, p, sample_weight=w, labels=labels)
    ref = skm.multilabel_confusion_matrix(y, p, sample_weight=w, labels=labels)
    assert ours.dtype.kind == ref.dtype.kind
    assert_allclose(ours, ref, rtol=RTOL)
    if kind == "multilabel":
        ours = multilabel_confusion_matrix(y, p, sample_weight=w, samplewise=True)
        ref = skm.multilabel_confusion_matrix(y, p, sample_weight=w, samplewise=True)
        # sklearn forms TN = L w - TP w - FP w - FN w in floats: a true 0 comes out as 1e-16
        assert_allclose(ours, ref, rtol=RTOL, atol=1e-12)


def test_multilabel_confusion_matrix_errors():
    with pytest.raises(ValueError, match="Samplewise metrics are not available"):
        multilabel_confusion_matrix([0, 1], [1, 1], samplewise=True)
    with pytest.raises(ValueError, match=r"All labels must be in \[0, n labels\)"):
        multilabel_confusion_matrix([[0, 1], [1, 1]], [[0, 1], [1, 0]], labels=[2])
    assert_array_equal(
        multilabel_confusion_matrix([0, 1, 1], [1, 1, 0]), [[[1, 1], [1, 0]], [[0, 1], [1, 1]]]
    )


def test_adjusted_balanced_accuracy_single_class_is_nan():
    with pytest.warns(UndefinedMetricWarning, match="single class"):
        assert np.isnan(balanced_accuracy_score([1, 1], [1, 1], adjusted=True))


@pytest.mark.parametrize("weights", [None, "linear", "quadratic"])
@pytest.mark.parametrize("weighted", [False, True])
def test_cohen_kappa_matches_sklearn(weights, weighted):
    y1, y2 = _targets("multiclass", seed=8)
    w = np.random.default_rng(9).random(len(y1)) if weighted else None
    got = cohen_kappa_score(y1, y2, weights=weights, sample_weight=w)
    ref = skm.cohen_kappa_score(y1, y2, weights=weights, sample_weight=w)
    assert_allclose(got, ref, rtol=RTOL)
    assert_allclose(cohen_kappa_score(y2, y1, weights=weights, sample_weight=w), got, rtol=RTOL)


def test_cohen_kappa_hand_computed_and_undefined():
    # p_o = 3/4; marginals (2, 2) and (1, 3): p_e = (2*1 + 2*3) / 16 = 1/2; kappa = 1/2
    assert cohen_kappa_score([0, 0, 1, 1], [0, 1, 1, 1]) == pytest.approx(0.5)
    with pytest.warns(UndefinedMetricWarning, match="only one label in common"):
        assert np.isnan(cohen_kappa_score([1, 1], [1, 1]))
    with pytest.raises(ValueError, match="At least one label in `labels` must be present"):
        cohen_kappa_score([0, 1], [0, 1], labels=[5])


def _warning_places(fn, *args, **kwargs):
    """The line that calls ``fn``, and the (file, line) of each warning it raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        line = inspect.currentframe().f_lineno + 1
        fn(*args, **kwargs)
    return line, {(w.filename, w.lineno) for w in caught}


@pytest.mark.parametrize(
    ("fn", "kwargs"),
    [
        (jaccard_score, dict(average="macro", pos_label=2)),  # pos_label ignored
        (precision_score, dict(average="macro", pos_label=2)),
        (jaccard_score, dict(average="binary")),  # no positive sample: ill-defined
    ],
)
def test_set_wise_warnings_name_the_callers_line(fn, kwargs):
    """The warnings of the shared set-wise counts point at the user's call (stacklevel)."""
    y_true, y_pred = ([0, 0, 1], [0, 0, 0]) if "pos_label" in kwargs else ([0, 0], [0, 0])
    line, places = _warning_places(fn, y_true, y_pred, **kwargs)
    assert places == {(__file__, line)}


@pytest.mark.parametrize("bad", ["warn", None, 2, -1.5, "nan", [0.0]])
def test_cohen_kappa_refuses_a_bad_replace_undefined_by_as_sklearn(bad):
    """replace_undefined_by must be a float in [-1, 1] or NaN (scikit-learn's constraint); any
    value was accepted, and unused unless kappa was undefined (then returned as the score)."""
    from sklearn.utils._param_validation import InvalidParameterError

    from mlcanon.metrics import cohen_kappa_score

    y1, y2 = [0, 1, 1, 0], [0, 1, 0, 0]
    with pytest.raises(InvalidParameterError, match="replace_undefined_by"):
        skm.cohen_kappa_score(y1, y2, replace_undefined_by=bad)
    with pytest.raises(ValueError, match=r"replace_undefined_by.*\[-1.0, 1.0\] or numpy.nan"):
        cohen_kappa_score(y1, y2, replace_undefined_by=bad)


@pytest.mark.parametrize("ok", [-1, 0.5, 1.0, np.nan, np.float32(0.0)])
def test_cohen_kappa_takes_a_replace_undefined_by_as_sklearn(ok):
    from mlcanon.metrics import cohen_kappa_score

    y = [1, 1, 1]
    with pytest.warns(UserWarning):
        ref = skm.cohen_kappa_score(y, y, replace_undefined_by=ok)
    with pytest.warns(UserWarning):
        got = cohen_kappa_score(y, y, replace_undefined_by=ok)
    np.testing.assert_array_equal(got, ref)


def test_cohen_kappa_matches_labels_of_the_other_kind_as_confusion_matrix_does():
    """labels=['0', '1'] for integer labels: scikit-learn (and confusion_matrix here) match a
    label by its string form, so '0' is present in y1 and kappa is undefined (no sample counted:
    NaN with a warning); cohen_kappa_score's own check compared them as they are and raised
    'At least one label in `labels` must be present in `y1`'."""
    from mlcanon.metrics import cohen_kappa_score

    y1, y2 = np.array([-1, 0, 0, -1]), np.array([1, 0, 0, 0])
    with pytest.warns(UserWarning, match="y2` contains no labels"):
        ref = skm.cohen_kappa_score(y1, y2, labels=["0", "1"])
    with pytest.warns(UserWarning, match="y2` contains no labels"):
        got = cohen_kappa_score(y1, y2, labels=["0", "1"])
    assert np.isnan(ref) and np.isnan(got)
    match = "At least one label in `labels` must be present in `y1`"
    with pytest.raises(ValueError, match=match):
        skm.cohen_kappa_score(y1, y2, labels=[5])
    with pytest.raises(ValueError, match=match):
        cohen_kappa_score(y1, y2, labels=[5])
