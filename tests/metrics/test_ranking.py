"""ROC curve, AUC (trapezoids and Mann-Whitney), PR curve and average precision vs sklearn."""

import warnings

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.testing import assert_allclose, assert_array_equal

from mlcanon.metrics import (
    UndefinedMetricWarning,
    auc,
    auc_mann_whitney,
    average_precision_score,
    precision_recall_curve,
    roc_auc_score,
    roc_curve,
)

skm = pytest.importorskip("sklearn.metrics")
RTOL = 1e-12


@pytest.fixture(scope="module")
def cancer():
    """Held-out decision values of a logistic regression on the breast-cancer data."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = load_breast_cancer(return_X_y=True)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.5, random_state=0, stratify=y)
    model = make_pipeline(StandardScaler(), LogisticRegression(C=0.05)).fit(X_tr, y_tr)
    return y_te, model.decision_function(X_te), model.predict_proba(X_te)[:, 1]


def _random_case(kind, seed, n=600):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.35).astype(int)
    score = rng.normal(size=n) + 0.8 * y
    if kind == "heavy_ties":
        score = np.round(score, 0)  # a handful of distinct values
    elif kind == "constant":
        score = np.full(n, 0.25)
    elif kind == "integer":
        score = rng.integers(0, 4, n) + y
    return y, score


def _case(name, cancer, seed):
    if name == "cancer":
        return cancer[0], cancer[1]
    if name == "cancer_rounded":  # probabilities rounded to one decimal: heavy ties
        return cancer[0], np.round(cancer[2], 1)
    return _random_case(name, seed)


CASES = ["cancer", "cancer_rounded", "continuous", "heavy_ties", "constant", "integer"]


def _weights(kind, n, seed):
    if kind is None:
        return None
    rng = np.random.default_rng(seed + 100)
    w = rng.random(n) * 3
    if kind == "with_zeros":
        w[rng.random(n) < 0.2] = 0.0
    elif kind == "integer":
        w = rng.integers(0, 4, n).astype(float)
    return w


def _assert_curves_equal(ours, ref):
    for a, b in zip(ours, ref, strict=True):
        assert a.shape == b.shape
        assert_allclose(a, b, rtol=RTOL, atol=0)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("weights", [None, "positive", "with_zeros", "integer"])
@pytest.mark.parametrize("drop_intermediate", [True, False])
@pytest.mark.parametrize("seed", [0, 1])
def test_roc_curve_matches_sklearn(cancer, case, weights, drop_intermediate, seed):
    y, s = _case(case, cancer, seed)
    w = _weights(weights, len(y), seed)
    kw = {"sample_weight": w, "drop_intermediate": drop_intermediate}
    _assert_curves_equal(roc_curve(y, s, **kw), skm.roc_curve(y, s, **kw))


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("weights", [None, "positive", "with_zeros", "integer"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_roc_auc_score_matches_sklearn(cancer, case, weights, seed):
    y, s = _case(case, cancer, seed)
    w = _weights(weights, len(y), seed)
    assert_allclose(
        roc_auc_score(y, s, sample_weight=w),
        skm.roc_auc_score(y, s, sample_weight=w),
        rtol=RTOL,
    )


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_auc_mann_whitney_matches_scipy_and_trapezoids(cancer, case, seed):
    stats = pytest.importorskip("scipy.stats")
    y, s = _case(case, cancer, seed)
    u = stats.mannwhitneyu(s[y == 1], s[y == 0]).statistic
    expected = u / (np.sum(y == 1) * np.sum(y == 0))
    assert_allclose(auc_mann_whitney(y, s), expected, rtol=RTOL)
    assert_allclose(auc_mann_whitney(y, s), roc_auc_score(y, s), rtol=RTOL)


@pytest.mark.parametrize(
    ("labels", "pos"),
    [((0, 1), 1), ((-1, 1), 1), ((1, 2), 2), (("ham", "spam"), "spam"), ((False, True), True)],
)
def test_auc_positive_class_is_the_greater_label(cancer, labels, pos):
    y01, s = cancer[0], cancer[1]
    y = np.where(y01 == 1, labels[1], labels[0])
    expected = skm.roc_auc_score(y, s)
    assert_allclose(roc_auc_score(y, s), expected, rtol=RTOL)
    assert_allclose(auc_mann_whitney(y, s), expected, rtol=RTOL)
    _assert_curves_equal(roc_curve(y, s, pos_label=pos), skm.roc_curve(y, s, pos_label=pos))


def test_roc_curve_one_vs_rest_with_pos_label():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 3, 400)
    s = rng.normal(size=400) + (y == 2)
    _assert_curves_equal(roc_curve(y, s, pos_label=2), skm.roc_curve(y, s, pos_label=2))


def test_tiny_hand_computed_case():
    # pairs (positive, negative): (.35,.1) right, (.35,.4) wrong, (.8,.1) right, (.8,.4) right
    y, s = [0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]
    assert roc_auc_score(y, s) == 0.75
    assert auc_mann_whitney(y, s) == 0.75
    fpr, tpr, thr = roc_curve(y, s, drop_intermediate=False)
    assert_array_equal(fpr, [0, 0, 0.5, 0.5, 1])
    assert_array_equal(tpr, [0, 0.5, 0.5, 1, 1])
    assert_array_equal(thr, [np.inf, 0.8, 0.4, 0.35, 0.1])
    # thresholds .8 (P=1, R=1/2) and .35 (P=2/3, R=1) add recall
    assert average_precision_score(y, s) == pytest.approx(0.5 * 1 + 0.5 * 2 / 3, rel=1e-15)
    precision, recall, thresholds = precision_recall_curve(y, s)
    assert_allclose(precision, [0.5, 2 / 3, 0.5, 1, 1], rtol=1e-15)
    assert_array_equal(recall, [1, 1, 0.5, 0.5, 0])
    assert_array_equal(thresholds, [0.1, 0.35, 0.4, 0.8])


def test_ties_count_one_half():
    # one positive and one negative with equal score: the pair is a coin flip
    assert roc_auc_score([0, 1], [0.3, 0.3]) == 0.5
    assert auc_mann_whitney([0, 1], [0.3, 0.3]) == 0.5
    # 2 positives {1, 2}, 2 negatives {1, 0}: pairs 1>0, (1=1)/2, 2>1, 2>0 -> 3.5 / 4
    assert roc_auc_score([1, 1, 0, 0], [1, 2, 1, 0]) == 3.5 / 4


def test_constant_scores_give_chance_auc_and_prevalence_ap():
    y = np.array([0, 1, 1, 0, 0, 0, 1, 0])
    assert roc_auc_score(y, np.ones(8)) == 0.5
    assert average_precision_score(y, np.ones(8)) == 3 / 8
    fpr, tpr, _ = roc_curve(y, np.ones(8))
    assert_array_equal(fpr, [0, 1])
    assert_array_equal(tpr, [0, 1])


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("weights", [None, "positive", "with_zeros", "integer"])
@pytest.mark.parametrize("drop_intermediate", [True, False])
@pytest.mark.parametrize("seed", [0, 1])
def test_precision_recall_curve_matches_sklearn(cancer, case, weights, drop_intermediate, seed):
    y, s = _case(case, cancer, seed)
    w = _weights(weights, len(y), seed)
    kw = {"sample_weight": w, "drop_intermediate": drop_intermediate}
    _assert_curves_equal(precision_recall_curve(y, s, **kw), skm.precision_recall_curve(y, s, **kw))


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("weights", [None, "positive", "with_zeros", "integer"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_average_precision_matches_sklearn(cancer, case, weights, seed):
    y, s = _case(case, cancer, seed)
    w = _weights(weights, len(y), seed)
    assert_allclose(
        average_precision_score(y, s, sample_weight=w),
        skm.average_precision_score(y, s, sample_weight=w),
        rtol=RTOL,
    )


@pytest.mark.parametrize("pos_label", [0, 1])
def test_average_precision_pos_label(cancer, pos_label):
    y, s = cancer[0], cancer[1]
    signed = s if pos_label == 1 else -s
    assert_allclose(
        average_precision_score(y, signed, pos_label=pos_label),
        skm.average_precision_score(y, signed, pos_label=pos_label),
        rtol=RTOL,
    )
    _assert_curves_equal(
        precision_recall_curve(y, signed, pos_label=pos_label),
        skm.precision_recall_curve(y, signed, pos_label=pos_label),
    )


def test_average_precision_without_positives_warns_and_is_zero():
    y, s = np.zeros(5, int), np.arange(5.0)
    with pytest.warns(UndefinedMetricWarning, match="No positive class found in y_true"):
        ours = average_precision_score(y, s)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert ours == skm.average_precision_score(y, s) == 0.0
    with pytest.warns(UndefinedMetricWarning, match="No positive class found in y_true"):
        _, recall, _ = precision_recall_curve(y, s)
    assert_array_equal(recall[:-1], 1.0)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_auc_trapezoid_matches_sklearn_on_monotone_curves(seed):
    rng = np.random.default_rng(seed)
    x = np.cumsum(rng.random(50))
    y = rng.normal(size=50)
    assert_allclose(auc(x, y), skm.auc(x, y), rtol=RTOL)
    assert_allclose(auc(x[::-1], y[::-1]), skm.auc(x[::-1], y[::-1]), rtol=RTOL)
    # a unit square and a triangle, by hand
    assert auc([0, 1], [1, 1]) == 1.0
    assert auc([0, 0.5, 1], [0, 0.5, 1]) == 0.5


# --- properties -------------------------------------------------------------------------------

labels_and_scores = st.integers(2, 60).flatmap(
    lambda n: st.tuples(
        arrays(np.int64, n, elements=st.integers(0, 1)),
        arrays(np.int64, n, elements=st.integers(-3, 3)),  # few values: many ties
    )
)


@given(labels_and_scores)
def test_property_trapezoid_auc_equals_mann_whitney_with_ties(data):
    y, s = data
    assume(y.min() != y.max())
    assert roc_auc_score(y, s) == pytest.approx(auc_mann_whitney(y, s), rel=1e-12)


@given(labels_and_scores)
def test_property_reversed_scores_give_one_minus_auc(data):
    y, s = data
    assume(y.min() != y.max())
    assert roc_auc_score(y, -s) == pytest.approx(1.0 - roc_auc_score(y, s), abs=1e-12)


@given(labels_and_scores)
def test_property_auc_ignores_monotone_transforms(data):
    y, s = data
    assume(y.min() != y.max())
    assert roc_auc_score(y, 3 * s + 7) == roc_auc_score(y, s)
    assert roc_auc_score(y, np.exp(s)) == roc_auc_score(y, s)


@given(labels_and_scores, st.integers(0, 2**31 - 1))
def test_property_integer_weights_equal_repeated_samples(data, seed):
    y, s = data
    w = np.random.default_rng(seed).integers(1, 4, len(y))
    assume(y.min() != y.max())
    rep_y, rep_s = np.repeat(y, w), np.repeat(s, w)
    assert roc_auc_score(y, s, sample_weight=w) == pytest.approx(
        roc_auc_score(rep_y, rep_s), rel=1e-12
    )
    assert average_precision_score(y, s, sample_weight=w) == pytest.approx(
        average_precision_score(rep_y, rep_s), rel=1e-12
    )


# --- errors -------------------------------------------------------------------------------------

BINARY_SCORERS = [roc_auc_score, auc_mann_whitney, roc_curve, average_precision_score]


@pytest.mark.parametrize("fn", [*BINARY_SCORERS, precision_recall_curve])
def test_mismatched_lengths(fn):
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        fn([0, 1, 1], [0.1, 0.2])


@pytest.mark.parametrize("fn", [*BINARY_SCORERS, precision_recall_curve])
@pytest.mark.parametrize(("bad", "msg"), [(np.nan, "y_score contains NaN"), (np.inf, "infinity")])
def test_non_finite_scores(fn, bad, msg):
    with pytest.raises(ValueError, match=msg):
        fn([0, 1, 1], [0.1, bad, 0.3])


@pytest.mark.parametrize("fn", [roc_auc_score, auc_mann_whitney])
def test_single_class_auc_raises(fn):
    with pytest.raises(ValueError, match=r"needs both classes.*only the label 1"):
        fn([1, 1, 1], [0.1, 0.2, 0.3])


def test_single_class_roc_curve_raises():
    with pytest.raises(ValueError, match="no negative sample"):
        roc_curve([1, 1, 1], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="no positive sample"):
        roc_curve([0, 0, 1], [0.1, 0.2, 0.3], sample_weight=[1, 1, 0])


def test_multiclass_auc_raises():
    with pytest.raises(ValueError, match="exactly 2 classes, got 3"):
        auc_mann_whitney([0, 1, 2, 1], [0.1, 0.2, 0.3, 0.4])
    with pytest.raises(ValueError, match="more than two classes, so pass multi_class"):
        roc_auc_score([0, 1, 2, 1], [0.1, 0.2, 0.3, 0.4])


@pytest.mark.parametrize("fn", [roc_curve, precision_recall_curve])
def test_labels_outside_0_1_need_pos_label(fn):
    with pytest.raises(ValueError, match=r"y_true takes value in \{1, 2\} and pos_label is not"):
        fn([1, 2, 2], [0.1, 0.2, 0.3])


def test_average_precision_label_errors():
    with pytest.raises(ValueError, match="pos_label=1 is not a valid label"):
        average_precision_score([2, 3, 3], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match=r"`y_score` needs to be of shape `\(n_samples, n_cl"):
        average_precision_score([0, 1, 2], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="pos_label is fixed to 1 for multiclass y_true"):
        average_precision_score([0, 1, 2], np.eye(3), pos_label=2)
    with pytest.raises(ValueError, match="multiclass-multioutput format is not supported"):
        average_precision_score([[0, 2], [1, 3]], np.eye(2))


def test_continuous_labels_raise():
    with pytest.raises(ValueError, match="y_true must hold class labels"):
        roc_auc_score([0.5, 1.0, 0.0], [0.1, 0.2, 0.3])


def test_bad_sample_weight():
    with pytest.raises(ValueError, match="sample_weight must be non-negative"):
        roc_auc_score([0, 1], [0.1, 0.2], sample_weight=[1, -1])
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        roc_auc_score([0, 1], [0.1, 0.2], sample_weight=[1, 1, 1])
    with pytest.raises(
        ValueError, match="Sample weights must contain at least one non-zero number"
    ):
        roc_auc_score([0, 1], [0.1, 0.2], sample_weight=[0, 0])


def test_bad_score_shape_and_flag():
    with pytest.raises(ValueError, match="y_score must be 1-D"):
        roc_auc_score([0, 1], [[0.1, 0.9], [0.8, 0.2]])
    with pytest.raises(TypeError, match="drop_intermediate must be a bool"):
        roc_curve([0, 1], [0.1, 0.2], drop_intermediate="yes")


def test_auc_errors():
    with pytest.raises(ValueError, match="at least 2 points"):
        auc([0.0], [1.0])
    with pytest.raises(ValueError, match="monotonic"):
        auc([0, 1, 0.5], [0, 1, 1])
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        auc([0, 1, 2], [0, 1])


# multiclass, multilabel and partial AUC: the parameters of scikit-learn's roc_auc_score
@pytest.fixture(scope="module")
def iris_probabilities():
    """Held-out class probabilities of a (deliberately weak) model on iris, 3 classes."""
    from sklearn.datasets import load_iris
    from sklearn.naive_bayes import GaussianNB

    X, y = load_iris(return_X_y=True)
    rng = np.random.default_rng(0)
    X = X[:, :2] + rng.normal(scale=0.5, size=(len(y), 2))
    return y, GaussianNB().fit(X[::2], y[::2]).predict_proba(X)


@pytest.mark.parametrize("multi_class", ["ovr", "ovo"])
@pytest.mark.parametrize("average", ["macro", "weighted"])
def test_multiclass_auc_matches_sklearn(iris_probabilities, multi_class, average):
    y, P = iris_probabilities
    kw = {"multi_class": multi_class, "average": average}
    assert_allclose(roc_auc_score(y, P, **kw), skm.roc_auc_score(y, P, **kw), rtol=1e-12)
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    kw["labels"] = ["setosa", "versicolor", "virginica"]
    assert_allclose(roc_auc_score(names, P, **kw), skm.roc_auc_score(names, P, **kw), rtol=1e-12)


def test_ovr_auc_per_class_micro_and_weights(iris_probabilities):
    y, P = iris_probabilities
    w = np.random.default_rng(1).uniform(0.5, 2.0, len(y))
    for average in ("micro", None):
        assert_allclose(
            roc_auc_score(y, P, multi_class="ovr", average=average, sample_weight=w),
            skm.roc_auc_score(y, P, multi_class="ovr", average=average, sample_weight=w),
            rtol=1e-12,
        )
    # one-vs-rest written out: class k against the rest, scored by column k
    by_hand = [roc_auc_score((y == k).astype(int), P[:, k]) for k in range(3)]
    assert_allclose(roc_auc_score(y, P, multi_class="ovr", average=None), by_hand)


def test_hand_till_written_out(iris_probabilities):
    y, P = iris_probabilities
    pairs = []
    for a, b in [(0, 1), (0, 2), (1, 2)]:
        m = (y == a) | (y == b)
        pairs.append((roc_auc_score(y[m] == a, P[m, a]) + roc_auc_score(y[m] == b, P[m, b])) / 2)
    assert_allclose(roc_auc_score(y, P, multi_class="ovo"), np.mean(pairs), rtol=1e-12)


@pytest.mark.parametrize("average", ["macro", "weighted", "micro", "samples", None])
def test_multilabel_auc_matches_sklearn(average):
    rng = np.random.default_rng(2)
    Y = (rng.random((80, 4)) < 0.5).astype(int)
    S = Y * 0.3 + rng.random((80, 4))
    Y[:, 0], Y[0, :] = 1 - Y[:, 1], [1, 0, 1, 0]  # every row and column holds both values
    Y[1, :] = [0, 1, 0, 1]
    Y[Y.sum(axis=1) == 0, 0] = 1
    Y[Y.sum(axis=1) == 4, 0] = 0
    assert_allclose(
        roc_auc_score(Y, S, average=average), skm.roc_auc_score(Y, S, average=average), rtol=1e-12
    )


@pytest.mark.parametrize("max_fpr", [0.05, 0.3, 0.5, 1.0])
def test_partial_auc_matches_sklearn(cancer, max_fpr):
    y, score, _ = cancer
    assert_allclose(
        roc_auc_score(y, score, max_fpr=max_fpr),
        skm.roc_auc_score(y, score, max_fpr=max_fpr),
        rtol=1e-12,
    )


@pytest.mark.parametrize(
    "max_fpr", [np.float32(0.3), np.float16(0.5), np.float64(0.05), np.int64(1)]
)
def test_partial_auc_takes_numpy_numbers(cancer, max_fpr):
    y, score, _ = cancer
    # the reference gets the same value as a Python float: scikit-learn's own result for a
    # float16 or float32 max_fpr is partly computed in that precision (0.991 for float16 0.5)
    ref = skm.roc_auc_score(y, score, max_fpr=float(max_fpr))
    assert_allclose(roc_auc_score(y, score, max_fpr=max_fpr), ref, rtol=1e-12)


@pytest.mark.parametrize(
    ("max_fpr", "error", "match"),
    [
        (0, ValueError, r"max_fpr must be a float in \(0, 1\], got 0"),
        (np.float32(1.5), ValueError, r"max_fpr must be a float in \(0, 1\], got np.float32"),
        (np.nan, ValueError, r"max_fpr must be a float in \(0, 1\], got nan"),
        ("0.5", TypeError, "max_fpr must be a float in .* or None, got str '0.5'"),
        (True, TypeError, "max_fpr must be a float in .* or None, got bool True"),
    ],
)
def test_max_fpr_errors(max_fpr, error, match):
    with pytest.raises(error, match=match):
        roc_auc_score([0, 1, 1, 0], [0.1, 0.9, 0.4, 0.3], max_fpr=max_fpr)


_Y_NO_POSITIVE_IN_1 = np.array([[1, 0], [0, 0], [1, 0], [0, 0]])
_S_TWO = np.array([[0.9, 0.1], [0.2, 0.3], [0.6, 0.4], [0.3, 0.2]])
_Y3 = np.array([0, 1, 0, 1, 0, 1])
_P3 = np.array([[0.6, 0.3, 0.1], [0.2, 0.7, 0.1], [0.5, 0.4, 0.1], [0.3, 0.6, 0.1], [0.4, 0.5, 0.1],
                [0.5, 0.4, 0.1]])  # fmt: skip
ZERO_SUPPORT = {
    "multilabel, a label without positives": (_Y_NO_POSITIVE_IN_1, _S_TWO, {}),
    "multilabel, a label whose positives weigh 0": (
        np.array([[1, 0], [0, 1], [1, 0], [0, 0]]),
        _S_TWO,
        {"sample_weight": [1, 0, 1, 1]},
    ),
    "one-vs-rest, a class in labels but not in y_true": (
        _Y3,
        _P3,
        {"multi_class": "ovr", "labels": [0, 1, 2], "sample_weight": [1, 2, 1, 1, 3, 1]},
    ),
}


@pytest.mark.parametrize("case", list(ZERO_SUPPORT))
def test_weighted_auc_skips_labels_without_support(case):
    """A label of zero (weighted) support has weight 0 in average='weighted': scikit-learn
    leaves its undefined AUC out, and so do we."""
    y, s, kw = ZERO_SUPPORT[case]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scikit-learn's warning for the label it leaves out
        ref = skm.roc_auc_score(y, s, average="weighted", **kw)
    assert_allclose(roc_auc_score(y, s, average="weighted", **kw), ref, rtol=1e-12)


def test_weighted_auc_on_digits_with_an_unseen_class_matches_sklearn():
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression

    X, y = load_digits(return_X_y=True)
    P = LogisticRegression(max_iter=200).fit(X[:900], y[:900]).predict_proba(X[900:1100])
    keep = y[900:1100] != 9  # class 9 keeps its probability column but has no sample
    y, P = y[900:1100][keep], P[keep]
    w = np.random.default_rng(0).random(y.size)
    kw = {"multi_class": "ovr", "average": "weighted", "labels": np.arange(10), "sample_weight": w}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = skm.roc_auc_score(y, P, **kw)
    assert_allclose(roc_auc_score(y, P, **kw), ref, rtol=1e-12)


def test_auc_error_names_the_label_or_sample():
    no_pos = "needs both classes in y_true, but there is no positive sample"
    with pytest.raises(
        ValueError, match=rf"label 1 \(column 1 of y_score\): roc_auc_score {no_pos}"
    ):
        roc_auc_score(_Y_NO_POSITIVE_IN_1, _S_TWO, average="macro")
    with pytest.raises(ValueError, match=rf"label 'c' \(column 2 of y_score\): .*{no_pos}"):
        roc_auc_score(np.array(["a", "b"] * 3), _P3, multi_class="ovr", labels=["a", "b", "c"])
    with pytest.raises(ValueError, match=rf"row 1 of y_true: .*{no_pos}"):
        roc_auc_score(_Y_NO_POSITIVE_IN_1, _S_TWO, average="samples")


def test_multiclass_auc_errors(iris_probabilities):
    y, P = iris_probabilities
    with pytest.raises(ValueError, match="pass multi_class='ovr' or 'ovo'"):
        roc_auc_score(y, P)
    with pytest.raises(NotImplementedError, match="average=None is not implemented"):
        roc_auc_score(y, P, multi_class="ovo", average=None)
    with pytest.raises(ValueError, match="need to be probabilities"):
        roc_auc_score(y, P * 2, multi_class="ovr")
    with pytest.raises(ValueError, match="Partial AUC computation not available"):
        roc_auc_score(y, P, multi_class="ovr", max_fpr=0.5)
    with pytest.raises(ValueError, match="Parameter 'labels' must be ordered"):
        roc_auc_score(y, P, multi_class="ovr", labels=[2, 1, 0])
    with pytest.raises(ValueError, match="sample_weight is not supported for multiclass one-vs"):
        roc_auc_score(y, P, multi_class="ovo", sample_weight=np.ones(len(y)))
    with pytest.raises(ValueError, match="max_fpr must be a float in"):
        roc_auc_score([0, 1], [0.2, 0.4], max_fpr=0)


@pytest.mark.parametrize(
    "average, y_true, weights",
    [
        ("weighted", [[1, 0, 0], [0, 0, 0], [0, 1, 0], [1, 1, 0]], None),  # label 2: no positive
        ("weighted", [[0, 1], [0, 1], [0, 0], [0, 1]], None),  # label 0: no positive
        ("samples", [[1, 1], [1, 0], [0, 1], [0, 0]], [0.0, 1.0, 1.0, 0.0]),  # rows 0, 3 weigh 0
    ],
)
def test_undefined_auc_of_weight_zero_warns_as_sklearn(average, y_true, weights):
    """A label (or sample) whose ROC AUC is undefined but weighs 0 in the average leaves the
    value as scikit-learn's and draws its UndefinedMetricWarning; it was left out silently."""
    y_true = np.array(y_true)
    y_score = np.random.default_rng(0).random(y_true.shape)
    from sklearn.exceptions import UndefinedMetricWarning as SkUndefinedMetricWarning

    kwargs = {"average": average, "sample_weight": weights}
    with pytest.warns(SkUndefinedMetricWarning):
        ref = skm.roc_auc_score(y_true, y_score, **kwargs)
    with pytest.warns(UndefinedMetricWarning, match="weighs 0 in the average"):
        ours = roc_auc_score(y_true, y_score, **kwargs)
    assert_allclose(ours, ref, rtol=RTOL)


def test_ovo_roc_auc_checks_average_and_probabilities_before_sample_weight_as_sklearn():
    """With multi_class='ovo' and sample_weight, scikit-learn first checks the probabilities
    and average=None (NotImplementedError) and only then refuses sample_weight; here the
    sample_weight refusal (ValueError) came first, hiding the other errors."""
    from mlcanon.metrics import roc_auc_score as ours

    y = [0, 1, 2, 1]
    P = np.array([[0.5, 0.3, 0.2], [0.2, 0.5, 0.3], [0.3, 0.2, 0.5], [0.6, 0.2, 0.2]])
    w = [1.0, 2.0, 1.0, 1.0]
    for f in (skm.roc_auc_score, ours):
        with pytest.raises(NotImplementedError, match="average=None is not implemented"):
            f(y, P, multi_class="ovo", average=None, sample_weight=w)
        with pytest.raises(ValueError, match="Target scores need to be probabilities"):
            f(y, P * 2, multi_class="ovo", sample_weight=w)
        with pytest.raises(ValueError, match="sample_weight is not supported for multiclass one"):
            f(y, P, multi_class="ovo", sample_weight=w)


@pytest.mark.parametrize("y", [[0, 1, 1, 0], [1, 1, 1, 1], [0, 1, 2, 1]])
def test_average_precision_refuses_pos_label_none_as_sklearn(y):
    """scikit-learn constrains average_precision_score's pos_label to one class (None is an
    InvalidParameterError, a ValueError); ours returned 0.0 for an all-ones y_true and other
    messages for other targets."""
    s = [0.1, 0.8, 0.6, 0.3]
    with pytest.raises(ValueError, match="'pos_label' parameter of average_precision_score"):
        skm.average_precision_score(y, s, pos_label=None)
    with pytest.raises(ValueError, match="'pos_label' parameter of average_precision_score"):
        average_precision_score(y, s, pos_label=None)
