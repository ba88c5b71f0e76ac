"""Confusion matrix and precision / recall / F-score vs sklearn.metrics."""

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.testing import assert_allclose, assert_array_equal

from mlcanon.metrics import (
    UndefinedMetricWarning,
    confusion_matrix,
    f1_score,
    precision_recall_fscore_support,
    precision_score,
    recall_score,
)

skm = pytest.importorskip("sklearn.metrics")
RTOL = 1e-12


@pytest.fixture(scope="module")
def digits():
    """Held-out predictions of a Gaussian naive Bayes model on the digits data (10 classes)."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.naive_bayes import GaussianNB

    X, y = load_digits(return_X_y=True)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.5, random_state=0, stratify=y)
    return y_te, GaussianNB().fit(X_tr, y_tr).predict(X_te)


@pytest.fixture(scope="module")
def cancer():
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split
    from sklearn.naive_bayes import GaussianNB

    X, y = load_breast_cancer(return_X_y=True)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.5, random_state=0, stratify=y)
    return y_te, GaussianNB().fit(X_tr, y_tr).predict(X_te)


def _weights(kind, n, seed=0):
    if kind is None:
        return None
    rng = np.random.default_rng(seed)
    w = rng.random(n) * 2
    if kind == "with_zeros":
        w[rng.random(n) < 0.3] = 0.0
    return w


def _sk(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


def _ours(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        warnings.filterwarnings("ignore", "pos_label=.* is ignored", UserWarning)
        return fn(*args, **kwargs)


def _assert_scores_equal(ours, ref):
    for a, b in zip(ours, ref, strict=True):
        if b is None:
            assert a is None
            continue
        assert np.shape(a) == np.shape(b)
        assert_allclose(np.asarray(a, float), np.asarray(b, float), rtol=RTOL, atol=0)


# --- confusion matrix ---------------------------------------------------------------------------


@pytest.mark.parametrize("weights", [None, "positive", "with_zeros"])
@pytest.mark.parametrize("normalize", [None, "true", "pred", "all"])
def test_confusion_matrix_matches_sklearn_on_digits(digits, weights, normalize):
    y, p = digits
    w = _weights(weights, len(y))
    ours = confusion_matrix(y, p, sample_weight=w, normalize=normalize)
    ref = skm.confusion_matrix(y, p, sample_weight=w, normalize=normalize)
    assert ours.shape == ref.shape
    assert_allclose(ours, ref, rtol=RTOL, atol=0)
    if weights is None and normalize is None:
        assert ours.dtype == np.int64
        assert_array_equal(ours, ref)


@pytest.mark.parametrize("labels", [[9, 3, 0, 1], [3], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11]])
def test_confusion_matrix_label_subset_and_order(digits, labels):
    y, p = digits
    assert_array_equal(
        confusion_matrix(y, p, labels=labels), _sk(skm.confusion_matrix, y, p, labels=labels)
    )


def test_confusion_matrix_string_labels():
    y = np.array(["cat", "dog", "dog", "eel", "cat", "eel"])
    p = np.array(["cat", "cat", "dog", "eel", "dog", "dog"])
    assert_array_equal(confusion_matrix(y, p), skm.confusion_matrix(y, p))
    labels = ["eel", "cat"]
    assert_array_equal(
        confusion_matrix(y, p, labels=labels), skm.confusion_matrix(y, p, labels=labels)
    )


def test_confusion_matrix_hand_computed():
    # TN: (0,0) x1; FP: (0,1) x1; FN: (1,0) x1; TP: (1,1) x2
    cm = confusion_matrix([1, 1, 0, 0, 1], [1, 0, 0, 1, 1])
    assert_array_equal(cm, [[1, 1], [1, 2]])
    # both samples are predicted 0: column 0 splits evenly, column 2 is empty (zeros, not NaN)
    assert_array_equal(confusion_matrix([0, 2], [0, 0], normalize="pred"), [[0.5, 0], [0.5, 0]])


def test_confusion_matrix_errors():
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        confusion_matrix([0, 1, 1], [0, 1])
    with pytest.raises(ValueError, match="normalize must be one of"):
        confusion_matrix([0, 1], [0, 1], normalize="rows")
    with pytest.raises(ValueError, match="none of labels"):
        confusion_matrix([0, 1], [0, 1], labels=[5, 6])
    with pytest.raises(ValueError, match="at least one label"):
        confusion_matrix([0, 1], [0, 1], labels=[])
    with pytest.raises(ValueError, match="labels must be distinct"):
        confusion_matrix([0, 1], [0, 1], labels=[0, 1, 1])
    with pytest.raises(ValueError, match=r"Mix of label input types \(string and number\)"):
        confusion_matrix(["a", "b"], [0, 1])
    with pytest.raises(ValueError, match="mix of binary and continuous targets"):
        confusion_matrix([0, 1], [0.2, 0.9])
    with pytest.raises(ValueError, match="Input y_true contains NaN"):
        confusion_matrix([0, np.nan], [0, 1])
    with pytest.raises(ValueError, match="Input y_pred contains infinity"):
        confusion_matrix([0, 1], [0, np.inf])
    with pytest.raises(ValueError, match="multilabel-indicator is not supported"):
        confusion_matrix([[0, 1], [1, 1]], [[0, 1], [1, 0]])
    with pytest.raises(ValueError, match="Found empty input array"):
        confusion_matrix([], [])


# --- precision, recall, F -----------------------------------------------------------------------


@pytest.mark.parametrize("average", ["micro", "macro", "weighted", None])
@pytest.mark.parametrize("weights", [None, "positive", "with_zeros"])
@pytest.mark.parametrize("beta", [1.0, 0.5, 2.0, 0.0])
def test_prfs_matches_sklearn_on_digits(digits, average, weights, beta):
    y, p = digits
    w = _weights(weights, len(y))
    kw = {"average": average, "sample_weight": w, "beta": beta}
    _assert_scores_equal(
        precision_recall_fscore_support(y, p, **kw), skm.precision_recall_fscore_support(y, p, **kw)
    )


@pytest.mark.parametrize("average", ["binary", "micro", "macro", "weighted", None])
@pytest.mark.parametrize("pos_label", [0, 1])
@pytest.mark.parametrize("weights", [None, "with_zeros"])
def test_prfs_matches_sklearn_on_breast_cancer(cancer, average, pos_label, weights):
    y, p = cancer
    w = _weights(weights, len(y))
    kw = {"average": average, "pos_label": pos_label, "sample_weight": w}
    _assert_scores_equal(
        _ours(precision_recall_fscore_support, y, p, **kw),
        _sk(skm.precision_recall_fscore_support, y, p, **kw),
    )
    for ours, ref in [
        (precision_score, skm.precision_score),
        (recall_score, skm.recall_score),
        (f1_score, skm.f1_score),
    ]:
        assert_allclose(_ours(ours, y, p, **kw), _sk(ref, y, p, **kw), rtol=RTOL, atol=0)


@pytest.mark.parametrize("average", ["micro", "macro", "weighted", None])
@pytest.mark.parametrize("labels", [[0, 1, 2], [7, 3], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 12]])
def test_prfs_with_label_subsets_and_absent_labels(digits, average, labels):
    y, p = digits
    for zero_division in ["warn", 0.0, 1.0, np.nan]:
        kw = {"average": average, "labels": labels, "zero_division": zero_division}
        _assert_scores_equal(
            _ours(precision_recall_fscore_support, y, p, **kw),
            _sk(skm.precision_recall_fscore_support, y, p, **kw),
        )


@pytest.mark.parametrize("zero_division", ["warn", 0.0, 1.0, np.nan])
@pytest.mark.parametrize("average", ["binary", "micro", "macro", "weighted", None])
def test_zero_division_matches_sklearn(zero_division, average):
    # class 2 is never predicted, class 3 never true: precision and recall are 0/0 for one each
    y = np.array([0, 1, 2, 2, 0, 1, 1])
    p = np.array([0, 1, 1, 3, 0, 0, 1])
    if average == "binary":
        y, p = np.array([0, 0, 0, 1]), np.array([0, 0, 0, 0])
    kw = {"average": average, "zero_division": zero_division}
    _assert_scores_equal(
        _ours(precision_recall_fscore_support, y, p, **kw),
        _sk(skm.precision_recall_fscore_support, y, p, **kw),
    )


def test_zero_division_warns_only_when_asked():
    y, p = [0, 0, 1], [0, 0, 0]
    with pytest.warns(UndefinedMetricWarning, match="ill-defined .* due to no predicted samples"):
        assert precision_score(y, p) == 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert precision_score(y, p, zero_division=1.0) == 1.0
        assert recall_score(y, p) == 0.0  # recall is well defined: no warning
        assert np.isnan(precision_score(y, p, zero_division=np.nan))


@pytest.mark.parametrize("labels", [(0, 1), ("neg", "pos"), (-1, 1)])
def test_binary_string_and_signed_labels(cancer, labels):
    y01, p01 = cancer
    y = np.where(y01 == 1, labels[1], labels[0])
    p = np.where(p01 == 1, labels[1], labels[0])
    kw = {"pos_label": labels[0]}
    assert_allclose(f1_score(y, p, **kw), skm.f1_score(y, p, **kw), rtol=RTOL)
    assert_allclose(precision_score(y, p, **kw), skm.precision_score(y, p, **kw), rtol=RTOL)


def test_hand_computed_binary_and_micro():
    # TP=2, FP=1, FN=1: P = R = F1 = 2/3
    y, p = [1, 1, 0, 0, 1], [1, 0, 0, 1, 1]
    assert precision_score(y, p) == pytest.approx(2 / 3, rel=1e-15)
    assert recall_score(y, p) == pytest.approx(2 / 3, rel=1e-15)
    assert f1_score(y, p) == pytest.approx(2 / 3, rel=1e-15)
    # multiclass: class 1 is predicted 3 times, right once: P = (1, 1/3, 0), R = (1/2, 1, 0)
    y, p = [0, 0, 1, 2], [0, 1, 1, 1]
    prec, rec, f, support = _ours(precision_recall_fscore_support, y, p)
    assert_allclose(prec, [1, 1 / 3, 0], rtol=1e-15)
    assert_allclose(rec, [0.5, 1, 0], rtol=1e-15)
    assert_allclose(f, [2 / 3, 1 / 2, 0], rtol=1e-15)
    assert_array_equal(support, [2, 1, 1])
    assert _ours(precision_score, y, p, average="macro") == pytest.approx(4 / 9, rel=1e-15)
    assert _ours(precision_score, y, p, average="micro") == pytest.approx(2 / 4, rel=1e-15)


def test_pos_label_ignored_warning():
    with pytest.warns(UserWarning, match=r"pos_label \(set to 0\) is ignored when average !="):
        f1_score([0, 1, 1], [0, 1, 0], average="macro", pos_label=0)


@given(
    st.integers(1, 80).flatmap(
        lambda n: st.tuples(
            arrays(np.int64, n, elements=st.integers(0, 4)),
            arrays(np.int64, n, elements=st.integers(0, 4)),
        )
    )
)
def test_property_micro_f1_equals_accuracy(data):
    y, p = data
    accuracy = np.mean(y == p)
    assert f1_score(y, p, average="micro") == pytest.approx(accuracy, abs=1e-15)
    assert precision_score(y, p, average="micro") == pytest.approx(accuracy, abs=1e-15)


@given(
    st.integers(1, 80).flatmap(
        lambda n: st.tuples(
            arrays(np.int64, n, elements=st.integers(0, 3)),
            arrays(np.int64, n, elements=st.integers(0, 3)),
        )
    )
)
def test_property_scores_agree_with_confusion_matrix(data):
    y, p = data
    cm = confusion_matrix(y, p)
    prec, rec, _, support = _ours(precision_recall_fscore_support, y, p, zero_division=np.nan)
    diag = np.diag(cm)
    with np.errstate(invalid="ignore", divide="ignore"):
        assert_allclose(prec, diag / cm.sum(axis=0), rtol=1e-15)
        assert_allclose(rec, diag / cm.sum(axis=1), rtol=1e-15)
    assert_array_equal(support, cm.sum(axis=1))


def test_prfs_errors():
    y3, p3 = [0, 1, 2], [0, 2, 1]
    with pytest.raises(
        ValueError, match="Samplewise metrics are not available outside of multilabel"
    ):
        f1_score(y3, p3, average="samples")
    with pytest.raises(ValueError, match="average must be one of"):
        f1_score(y3, p3, average="mean")
    with pytest.raises(ValueError, match="Target is multiclass but average='binary'"):
        f1_score(y3, p3)
    with pytest.raises(ValueError, match="pos_label=1 is not a valid label"):
        f1_score(["a", "b"], ["a", "a"])
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        recall_score([0, 1, 1], [0, 1])
    with pytest.raises(ValueError, match="zero_division must be one of"):
        f1_score([0, 1], [0, 1], zero_division="ignore")
    with pytest.raises(ValueError, match=r"beta must be >= 0\.0"):
        precision_recall_fscore_support([0, 1], [0, 1], beta=-1.0)
    with pytest.raises(ValueError, match="mix of continuous and binary targets"):
        f1_score([0.1, 0.9], [0, 1])
    with pytest.raises(ValueError, match="sample_weight must be non-negative"):
        f1_score([0, 1], [0, 1], sample_weight=[1, -2])


def test_undefined_metric_warning_is_sklearns():
    """scikit-learn's warning filters catch ours."""
    from sklearn.exceptions import UndefinedMetricWarning as SkUndefined

    assert issubclass(UndefinedMetricWarning, SkUndefined)
    with pytest.warns(SkUndefined):
        precision_score([0, 0, 1], [0, 0, 0])


@pytest.mark.parametrize("weights", [[1, 2, 3, 1], [True, False, True, True]])
def test_confusion_matrix_integer_weights_stay_integer(weights):
    y_true, y_pred = [0, 1, 1, 0], [0, 1, 0, 0]
    ours = confusion_matrix(y_true, y_pred, sample_weight=weights)
    ref = skm.confusion_matrix(y_true, y_pred, sample_weight=weights)
    assert ours.dtype == ref.dtype == np.int64
    assert_array_equal(ours, ref)
    assert (
        confusion_matrix(y_true, y_pred, sample_weight=np.array(weights, float)).dtype.kind == "f"
    )


def test_confusion_matrix_single_label_warns():
    for fn in (confusion_matrix, skm.confusion_matrix):
        with pytest.warns(UserWarning, match="single label"):
            assert fn([1, 1], [1, 1]).shape == (1, 1)


@pytest.mark.parametrize("dtype", [np.bool_, np.int32, np.uint32, np.uint64, np.float32, object])
def test_confusion_matrix_weight_dtype_matches_sklearn(dtype):
    y, p = [0, 1, 1, 2], [0, 1, 2, 2]
    w = (np.full(4, 4294967295) if dtype == np.uint32 else np.ones(4)).astype(dtype)
    ours, ref = confusion_matrix(y, p, sample_weight=w), skm.confusion_matrix(y, p, sample_weight=w)
    assert ours.dtype == ref.dtype
    assert_array_equal(ours, ref)


def test_precision_recall_fscore_beta_inf_is_recall():
    y, p = [0, 1, 1, 1, 0], [1, 1, 0, 1, 0]
    _, r, f, _ = precision_recall_fscore_support(y, p, beta=np.inf, average="binary")
    assert f == r == skm.fbeta_score(y, p, beta=np.inf)


@pytest.mark.parametrize("labels", [[], np.array([])], ids=["list", "float64 array"])
def test_empty_labels_with_string_targets_as_sklearn(labels):
    """labels=[] is a float64 array to NumPy; with string targets it was refused as a mix of
    strings and numbers. scikit-learn scores no label (NaN, an empty array) or, for the
    confusion matrix, asks for one."""
    from mlcanon.metrics import jaccard_score, multilabel_confusion_matrix

    y_true, y_pred = ["cat", "dog", "cat", "bird"], ["cat", "cat", "dog", "bird"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for ours, ref in [
            (f1_score, skm.f1_score),
            (precision_score, skm.precision_score),
            (jaccard_score, skm.jaccard_score),
        ]:
            for average in ("macro", None):
                got = ours(y_true, y_pred, labels=labels, average=average)
                want = ref(y_true, y_pred, labels=labels, average=average)
                assert_array_equal(got, want)  # NaN for 'macro', [] for None
                assert np.shape(got) == np.shape(want)
        got = multilabel_confusion_matrix(y_true, y_pred, labels=labels)
        want = skm.multilabel_confusion_matrix(y_true, y_pred, labels=labels)
        assert got.shape == want.shape == (0, 2, 2)
    with pytest.raises(ValueError, match="should contain at least one label"):
        skm.confusion_matrix(y_true, y_pred, labels=labels)
    with pytest.raises(ValueError, match="'labels' should contain at least one label"):
        confusion_matrix(y_true, y_pred, labels=labels)


def _outcome(fn, *args, **kwargs):
    """(value or error message, the warning classes raised) of one metric call."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            value = fn(*args, **kwargs)
        except ValueError as e:
            value = f"ValueError: {str(e).split(';')[0]}"
    return value, sorted({type(w.message).__name__ for w in caught})


@pytest.mark.parametrize(
    "name, y_true, y_pred, kwargs",
    [
        # one string class, the default pos_label=1 absent: 0.0 with a warning, not an error
        ("f1_score", ["a", "a", "a"], ["a", "a", "a"], {}),
        ("precision_score", ["a", "a", "a"], ["a", "a", "a"], {}),
        ("recall_score", ["a", "a"], ["a", "a"], {"sample_weight": [1, 2]}),
        ("fbeta_score", ["a", "a"], ["a", "a"], {"beta": 2.0}),
        ("jaccard_score", ["a", "a"], ["a", "a"], {}),
        ("f1_score", [0, 0], [0, 0], {"pos_label": "a"}),
        # numbers asked of string classes (and the reverse) are compared as strings
        ("f1_score", ["1", "1"], ["1", "1"], {}),
        ("f1_score", [1, 1], [1, 1], {"pos_label": "1"}),
        ("f1_score", ["a", "a"], ["a", "a"], {"labels": [1], "average": None}),
        ("f1_score", [0, 1, 2], [0, 2, 1], {"labels": ["a"], "average": "macro"}),
        ("f1_score", [0, 0], [0, 0], {"labels": ["0"], "average": None}),
        ("multilabel_confusion_matrix", ["a", "a"], ["a", "b"], {"labels": [1]}),
        # two classes: pos_label must still be one of them
        ("f1_score", ["a", "b"], ["a", "b"], {}),
    ],
)
def test_labels_of_the_other_kind_match_sklearn(name, y_true, y_pred, kwargs):
    from mlcanon import metrics

    ours, ours_warned = _outcome(getattr(metrics, name), y_true, y_pred, **kwargs)
    ref, ref_warned = _outcome(getattr(skm, name), y_true, y_pred, **kwargs)
    assert ours_warned == ref_warned
    if isinstance(ref, str):
        assert isinstance(ours, str) and ours.startswith(ref.split(". It")[0])
    else:
        assert_allclose(ours, ref, rtol=RTOL)


def test_confusion_matrix_labels_of_the_other_kind_match_sklearn():
    # the check that a label occurs in y_true reads 1 as '1'; the counting does not
    for y, labels in [(["1", "2"], [1, 2]), (["1", "2", "a"], [1, "a"])]:
        assert_array_equal(
            confusion_matrix(y, y, labels=labels), skm.confusion_matrix(y, y, labels=labels)
        )
    with pytest.raises(ValueError, match="At least one label specified must be in y_true"):
        skm.confusion_matrix(["a", "b"], ["a", "b"], labels=[1])
    with pytest.raises(ValueError, match="At least one label specified must be in y_true"):
        confusion_matrix(["a", "b"], ["a", "b"], labels=[1])


@pytest.mark.parametrize(
    "name, y_true, y_pred",
    [
        ("f1_score", [0, 1, 1], [0, 1, 0]),
        ("accuracy_score", [0, 1, 2], [0, 1, 0]),
        ("confusion_matrix", [0.0, 1.0, 1.0], [0.0, 1.0, 0.0]),
        ("matthews_corrcoef", [True, False, True], [True, False, False]),
        ("roc_auc_score", [0, 1, 1], [0.1, 0.5, 0.3]),
        ("log_loss", [0, 1, 1], [0.1, 0.5, 0.3]),
    ],
)
def test_numbers_in_an_object_array_are_refused_as_sklearn(name, y_true, y_pred):
    """scikit-learn's type_of_target calls numbers in an object array 'unknown', and its
    classification metrics refuse them (as the classifiers here refuse such a y); they were
    read as numeric labels and scored."""
    from mlcanon import metrics

    y_obj = np.array(y_true, dtype=object)
    p_obj = np.array(y_pred, dtype=object) if name not in ("roc_auc_score", "log_loss") else y_pred
    with pytest.raises(ValueError, match="nknown"):
        getattr(skm, name)(y_obj, p_obj)
    with pytest.raises(ValueError, match="unknown"):
        getattr(metrics, name)(y_obj, p_obj)
    if name == "f1_score":  # against numeric labels: a mix of unknown and binary targets
        match = "Classification metrics can't handle a mix of unknown and binary targets"
        with pytest.raises(ValueError, match=match):
            skm.f1_score(y_obj, y_pred)
        with pytest.raises(ValueError, match=match):
            f1_score(y_obj, y_pred)


@pytest.mark.parametrize(
    "name",
    [
        "accuracy_score",
        "balanced_accuracy_score",
        "cohen_kappa_score",
        "confusion_matrix",
        "f1_score",
        "hamming_loss",
        "jaccard_score",
        "matthews_corrcoef",
        "multilabel_confusion_matrix",
        "zero_one_loss",
    ],
)
def test_multiclass_truth_against_continuous_predictions_is_refused_as_sklearn(name):
    """Multiclass y_true against non-integral float y_pred (scores, not classes) is a mix of
    multiclass and continuous targets, refused by scikit-learn; it was accepted (only a binary
    y_true was checked) and scored the floats as classes: accuracy 0, a 6 x 6 matrix."""
    from mlcanon import metrics

    y_true = np.array([0, 1, 2, 2, 1, 0])
    y_pred = y_true + 0.5
    match = "Classification metrics can't handle a mix of multiclass and continuous targets"
    with pytest.raises(ValueError, match=match):
        getattr(skm, name)(y_true, y_pred)
    with pytest.raises(ValueError, match=match):
        getattr(metrics, name)(y_true, y_pred)


def _with_warnings(fn, *args, **kwargs):
    """``fn(*args, **kwargs)`` and the warnings it raised (every one, none filtered)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        return fn(*args, **kwargs), caught


@pytest.mark.parametrize("average", ["macro", "weighted", None])
def test_fbeta_zero_is_precision_and_warns_as_sklearn(average):
    """F_0 is precision. Where a class is never predicted but occurs (precision 0/0, the F_0
    denominator 0 * true + pred = 0) fbeta_score warned 'F-score is ill-defined ... no true nor
    predicted samples', though the class has true samples; scikit-learn takes precision and
    warns only where precision is asked for (fbeta_score does not: no warning)."""
    from mlcanon.metrics import fbeta_score

    y_true = np.array([7, 5, 1, 7, 7, 5])
    y_pred = np.array([1, 5, 9, 9, 1, 5])
    kw = {"beta": 0, "average": average}
    ref, ref_w = _with_warnings(skm.fbeta_score, y_true, y_pred, **kw)
    got, got_w = _with_warnings(fbeta_score, y_true, y_pred, **kw)
    assert_allclose(got, ref, rtol=RTOL)
    assert [str(w.message) for w in got_w] == [str(w.message) for w in ref_w] == []
    ref, ref_w = _with_warnings(skm.precision_recall_fscore_support, y_true, y_pred, **kw)
    got, got_w = _with_warnings(precision_recall_fscore_support, y_true, y_pred, **kw)
    for g, r in zip(got[:3], ref[:3], strict=True):
        assert_allclose(g, r, rtol=RTOL)
    assert [w.category.__name__ for w in got_w] == [w.category.__name__ for w in ref_w]
    assert len(got_w) == 2  # precision's and recall's, not the F-score's


def test_confusion_matrix_is_float_for_float_weights_when_no_sample_is_kept():
    """With float weights and labels that keep no sample the matrix is float zeros in
    scikit-learn; it was int64 (NumPy's bincount of nothing is int64, weights or not)."""
    y_true, y_pred = np.array([2.0, 1.0, 1.0]), np.array([1.0, 0.0, 1.0])
    w = np.array([0.5, 0.75, 0.25])
    ref = skm.confusion_matrix(y_true, y_pred, labels=[0.0, 2.0], sample_weight=w)
    got = confusion_matrix(y_true, y_pred, labels=[0.0, 2.0], sample_weight=w)
    assert got.dtype == ref.dtype == np.float64
    assert_array_equal(got, ref)
