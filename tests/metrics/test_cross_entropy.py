"""Log loss vs sklearn; cross-entropy from logits vs torch.nn.functional."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose

from mlcanon.metrics import (
    UndefinedMetricWarning,
    binary_cross_entropy_with_logits,
    brier_score_loss,
    cross_entropy_with_logits,
    d2_brier_score,
    d2_log_loss_score,
    hinge_loss,
    log_loss,
)

skm = pytest.importorskip("sklearn.metrics")
RTOL = 1e-12


@pytest.fixture(scope="module")
def cancer_proba():
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = load_breast_cancer(return_X_y=True)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.5, random_state=0, stratify=y)
    model = make_pipeline(StandardScaler(), LogisticRegression(C=10.0)).fit(X_tr, y_tr)
    return y_te, model.predict_proba(X_te), model.decision_function(X_te)


@pytest.fixture(scope="module")
def digits_proba():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.naive_bayes import GaussianNB

    X, y = load_digits(return_X_y=True)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.5, random_state=0, stratify=y)
    model = GaussianNB().fit(X_tr, y_tr)
    # naive Bayes is overconfident: many probabilities are exactly 0 or 1, so clipping matters
    return y_te, model.predict_proba(X_te), model.predict_joint_log_proba(X_te)


def _weights(kind, n):
    if kind is None:
        return None
    w = np.random.default_rng(0).random(n) * 2
    if kind == "with_zeros":
        w[::3] = 0.0
    return w


# --- log loss -----------------------------------------------------------------------------------


@pytest.mark.parametrize("weights", [None, "positive", "with_zeros"])
@pytest.mark.parametrize("normalize", [True, False])
@pytest.mark.parametrize("one_column", [True, False])
def test_log_loss_matches_sklearn_binary(cancer_proba, weights, normalize, one_column):
    y, proba, _ = cancer_proba
    p = proba[:, 1] if one_column else proba
    kw = {"sample_weight": _weights(weights, len(y)), "normalize": normalize}
    assert_allclose(log_loss(y, p, **kw), skm.log_loss(y, p, **kw), rtol=RTOL)


@pytest.mark.parametrize("weights", [None, "positive", "with_zeros"])
@pytest.mark.parametrize("normalize", [True, False])
def test_log_loss_matches_sklearn_multiclass_with_clipping(digits_proba, weights, normalize):
    y, proba, _ = digits_proba
    assert (proba == 0).any()  # the clip to [eps, 1 - eps] is exercised
    kw = {"sample_weight": _weights(weights, len(y)), "normalize": normalize}
    assert_allclose(log_loss(y, proba, **kw), skm.log_loss(y, proba, **kw), rtol=RTOL)


def test_log_loss_string_labels_and_declared_classes():
    y = ["spam", "ham", "ham", "spam"]
    p = [[0.1, 0.9], [0.9, 0.1], [0.8, 0.2], [0.35, 0.65]]
    assert_allclose(log_loss(y, p), skm.log_loss(y, p), rtol=RTOL)
    # class 2 never occurs in y_true but has a column
    y3 = [0, 1, 1, 0]
    p3 = [[0.6, 0.3, 0.1], [0.2, 0.7, 0.1], [0.1, 0.8, 0.1], [0.5, 0.25, 0.25]]
    assert_allclose(
        log_loss(y3, p3, labels=[0, 1, 2]), skm.log_loss(y3, p3, labels=[0, 1, 2]), rtol=RTOL
    )


def test_log_loss_hand_computed():
    # -(log 0.9 + log 0.9 + log 0.8 + log 0.65) / 4
    expected = -(2 * np.log(0.9) + np.log(0.8) + np.log(0.65)) / 4
    assert log_loss([1, 0, 0, 1], [0.9, 0.1, 0.2, 0.65]) == pytest.approx(expected, rel=1e-15)
    # a certain, wrong prediction costs -log(eps) instead of infinity
    assert log_loss([1, 0], [0.0, 0.0]) == pytest.approx(-np.log(np.finfo(float).eps) / 2)


def test_log_loss_warns_when_rows_do_not_sum_to_one():
    with pytest.warns(UserWarning, match="do not sum to one"):
        log_loss([0, 1], [[0.5, 0.6], [0.4, 0.6]])


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_log_loss_clips_at_the_epsilon_of_the_probabilities_dtype_as_sklearn(dtype):
    """scikit-learn clips float32 (float16) probabilities at their own epsilon, 1.2e-7
    (9.8e-4): a confident float32 mistake costs -log(1.2e-7) = 15.9 nats. Ours clipped at
    float64's 2.2e-16 (36 nats): 18.0 instead of 7.97 here, and D² differed too."""
    y = np.array([0, 1, 1, 0, 1])
    p = np.array([0.0, 1.0, 0.0, 0.0, 0.7], dtype=dtype)  # one confident mistake
    rtol = 10 * np.finfo(dtype).eps  # sklearn takes the logarithms in that dtype, ours in float64
    for kw in [{}, {"normalize": False}, {"sample_weight": [1.0, 2.0, 3.0, 0.5, 1.0]}]:
        expected = skm.log_loss(y, p, **kw)
        assert_allclose(log_loss(y, p, **kw), expected, rtol=rtol)
        assert_allclose(log_loss(y, np.c_[1 - p, p], **kw), expected, rtol=rtol)
    P3 = np.c_[1 - p, p, np.zeros_like(p)]
    expected = skm.d2_log_loss_score(y, P3, labels=[0, 1, 2])
    assert_allclose(d2_log_loss_score(y, P3, labels=[0, 1, 2]), expected, rtol=rtol)


def test_float32_probabilities_that_sum_to_one_in_float32_do_not_warn_as_sklearn():
    """Softmax rows in float32 sum to one only to about 1e-7; scikit-learn checks the sum at
    rtol = sqrt(eps of the dtype) and stays quiet, ours checked at float64's 1.5e-8 and
    warned that they "do not sum to one" (log_loss, brier_score_loss, the D² scores)."""
    rng = np.random.default_rng(0)
    z = rng.normal(size=(1000, 5)).astype(np.float32)
    P = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    y = rng.integers(0, 5, 1000)
    assert np.abs(P.sum(axis=1) - 1).max() > np.sqrt(np.finfo(np.float64).eps)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        expected = skm.log_loss(y, P), skm.brier_score_loss(y, P), skm.d2_log_loss_score(y, P)
        got = log_loss(y, P), brier_score_loss(y, P), d2_log_loss_score(y, P)
    assert_allclose(got, expected, rtol=1e-6)


def test_log_loss_errors():
    with pytest.raises(ValueError, match=r"y_prob contains values greater than 1: 1\.2"):
        log_loss([0, 1], [0.1, 1.2])
    with pytest.raises(ValueError, match=r"y_prob contains values less than 0: -0\.1"):
        log_loss([0, 1], [-0.1, 0.5])
    with pytest.raises(ValueError, match="y_proba contains NaN"):
        log_loss([0, 1], [np.nan, 0.5])
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        log_loss([0, 1, 1], [0.2, 0.5])
    with pytest.raises(ValueError, match=r"y_true contains only one label \(1\)"):
        log_loss([1, 1], [0.2, 0.5])
    with pytest.raises(ValueError, match=r"y_true contains values \{7\} not belonging to the"):
        log_loss([0, 7], [[0.5, 0.5], [0.5, 0.5]], labels=[0, 1])
    with pytest.warns(UserWarning, match=r"Pass the ordered labels=\['a', 'b'\]"):
        log_loss(["a", "b"], [[0.5, 0.5], [0.5, 0.5]], labels=["b", "a"])


@pytest.mark.parametrize("y_true", [["a", "b"], ["1", "2"]])
def test_log_loss_labels_of_the_other_kind_hold_no_label(y_true):
    # numbers declared for string labels: none belongs, even '1' to 1 (scikit-learn's words)
    proba = [[0.2, 0.8], [0.5, 0.5]]
    match = r"y_true contains values \{.*\} not belonging to the passed labels \[1, 2\]"
    with pytest.raises(ValueError, match=match):
        skm.log_loss(y_true, proba, labels=[1, 2])
    with pytest.raises(ValueError, match=match):
        log_loss(y_true, proba, labels=[1, 2])


@pytest.mark.parametrize("normalize", ["yes", 1, None])
def test_log_loss_normalize_must_be_bool(normalize):
    # scikit-learn raises InvalidParameterError, a TypeError and ValueError subclass
    with pytest.raises(TypeError, match="normalize"):
        skm.log_loss([0, 1, 1, 0], [0.1, 0.9, 0.4, 0.3], normalize=normalize)
    with pytest.raises(
        TypeError, match=f"normalize must be a bool, got {type(normalize).__name__}"
    ):
        log_loss([0, 1, 1, 0], [0.1, 0.9, 0.4, 0.3], normalize=normalize)


def test_log_loss_normalize_takes_numpy_bool():
    y, p = [0, 1, 1, 0], [0.1, 0.9, 0.4, 0.3]
    for flag in (np.False_, np.True_):
        assert_allclose(log_loss(y, p, normalize=flag), skm.log_loss(y, p, normalize=flag))


@pytest.mark.parametrize("weighted", [False, True])
def test_log_loss_multilabel_matches_sklearn(weighted):
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, (40, 4))
    p = rng.random((40, 4))
    p /= p.sum(axis=1, keepdims=True)
    w = rng.random(40) if weighted else None
    assert_allclose(
        log_loss(y, p, sample_weight=w), skm.log_loss(y, p, sample_weight=w), rtol=1e-12
    )
    with pytest.raises(ValueError, match="contain different number of classes: 2 vs 3"):
        log_loss([0, 1], [[0.2, 0.3, 0.5], [0.2, 0.3, 0.5]])


# --- cross-entropy from logits ------------------------------------------------------------------


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("scale", [1.0, 30.0, 1e4])
@pytest.mark.parametrize("seed", [0, 1])
def test_cross_entropy_with_logits_matches_torch(reduction, scale, seed):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(257, 7)) * scale
    y = rng.integers(0, 7, 257)
    ref = F.cross_entropy(torch.from_numpy(logits), torch.from_numpy(y), reduction=reduction)
    ours = cross_entropy_with_logits(y, logits, reduction=reduction)
    assert np.all(np.isfinite(ours))
    assert_allclose(ours, ref.numpy(), rtol=RTOL, atol=1e-12)


def test_cross_entropy_with_logits_on_digits_matches_torch_and_log_loss(digits_proba):
    torch = pytest.importorskip("torch")
    y, _, joint_log = digits_proba  # joint log-likelihoods are logits of the posterior
    ref = torch.nn.functional.cross_entropy(torch.from_numpy(joint_log), torch.from_numpy(y))
    assert_allclose(cross_entropy_with_logits(y, joint_log), ref.item(), rtol=RTOL)
    # logits within [-5, 5]: no probability is clipped, so log loss on softmax agrees
    z = 5.0 * joint_log / np.abs(joint_log).max()
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    assert_allclose(cross_entropy_with_logits(y, z), skm.log_loss(y, p), rtol=RTOL)


def test_cross_entropy_with_logits_hand_computed():
    # uniform logits: -log(1/C); a dominant correct logit of 1e4: loss ~ 0, not nan
    assert cross_entropy_with_logits([2], [[0.0, 0.0, 0.0, 0.0]]) == pytest.approx(np.log(4))
    assert cross_entropy_with_logits([0], [[1e4, 0.0]]) == 0.0
    assert cross_entropy_with_logits([1], [[1e4, 0.0]]) == 1e4


def test_cross_entropy_with_logits_errors():
    with pytest.raises(ValueError, match=r"class indices outside \[0, 3\): \[3, 5\]"):
        cross_entropy_with_logits([0, 3, 5], np.zeros((3, 3)))
    with pytest.raises(ValueError, match=r"class indices outside \[0, 3\): \[-1\]"):
        cross_entropy_with_logits([-1, 0, 0], np.zeros((3, 3)))
    with pytest.raises(TypeError, match="integer class indices"):
        cross_entropy_with_logits([0.0, 1.0], np.zeros((2, 3)))
    with pytest.raises(ValueError, match="logits must be 2-D"):
        cross_entropy_with_logits([0, 1], np.zeros(2))
    with pytest.raises(ValueError, match="logits contains infinity"):
        cross_entropy_with_logits([0], [[np.inf, 0.0]])
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        cross_entropy_with_logits([0, 1, 1], np.zeros((2, 3)))
    with pytest.raises(ValueError, match="reduction must be one of"):
        cross_entropy_with_logits([0], np.zeros((1, 3)), reduction="avg")


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("pos_weight", [None, "scalar", "per_class"])
@pytest.mark.parametrize("scale", [1.0, 50.0, 1e4])
def test_binary_cross_entropy_with_logits_matches_torch(reduction, pos_weight, scale):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(200, 3)) * scale
    target = np.where(
        rng.random((200, 3)) < 0.5, rng.random((200, 3)), rng.integers(0, 2, (200, 3))
    )
    pw = {None: None, "scalar": np.array(3.0), "per_class": np.array([0.5, 1.0, 4.0])}[pos_weight]
    ref = F.binary_cross_entropy_with_logits(
        torch.from_numpy(logits),
        torch.from_numpy(target),
        pos_weight=None if pw is None else torch.from_numpy(pw),
        reduction=reduction,
    )
    ours = binary_cross_entropy_with_logits(target, logits, pw, reduction=reduction)
    assert_allclose(ours, ref.numpy(), rtol=RTOL, atol=1e-12)


def test_binary_cross_entropy_with_logits_on_breast_cancer(cancer_proba):
    y, proba, decision = cancer_proba
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = skm.log_loss(y, proba[:, 1])
    assert_allclose(binary_cross_entropy_with_logits(y, decision), ref, rtol=RTOL)


def test_binary_cross_entropy_with_logits_hand_computed():
    assert binary_cross_entropy_with_logits([1.0], [0.0]) == pytest.approx(np.log(2))
    # far on the wrong side: the loss is the logit's size, not inf
    assert binary_cross_entropy_with_logits([1.0], [-800.0]) == 800.0
    assert binary_cross_entropy_with_logits([0.0], [-800.0]) == 0.0
    # pos_weight scales only the positive term
    assert binary_cross_entropy_with_logits([1.0], [0.0], 3.0) == pytest.approx(3 * np.log(2))


def test_binary_cross_entropy_with_logits_errors():
    with pytest.raises(ValueError, match=r"y_true must lie in \[0, 1\]"):
        binary_cross_entropy_with_logits([1.5, 0.0], [0.0, 0.0])
    with pytest.raises(ValueError, match="y_true has shape"):
        binary_cross_entropy_with_logits([1.0, 0.0], [0.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="pos_weight must be non-negative"):
        binary_cross_entropy_with_logits([1.0], [0.0], -1.0)
    with pytest.raises(ValueError, match="does not broadcast"):
        binary_cross_entropy_with_logits(np.ones((4, 3)), np.zeros((4, 3)), np.ones(2))
    with pytest.raises(ValueError, match="logits contains NaN"):
        binary_cross_entropy_with_logits([1.0], [np.nan])


@pytest.mark.parametrize("kind", ["binary", "signed", "strings", "multiclass", "indicator"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("scale_by_half", ["auto", True, False])
def test_brier_score_loss_matches_sklearn(kind, weighted, scale_by_half):
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 50)
    p = rng.random(50)
    kw = {}
    if kind == "signed":
        y = 2 * y - 1
    elif kind == "strings":
        y, kw = np.array(["ham", "spam"])[y], {"pos_label": "spam"}
    elif kind in ("multiclass", "indicator"):
        y = rng.integers(0, 3, 50)
        p = rng.random((50, 3))
        p /= p.sum(axis=1, keepdims=True)
        if kind == "indicator":
            y = np.eye(3, dtype=int)[y]
    kw |= {"sample_weight": rng.random(50) if weighted else None, "scale_by_half": scale_by_half}
    assert_allclose(brier_score_loss(y, p, **kw), skm.brier_score_loss(y, p, **kw), rtol=1e-12)


def test_brier_score_loss_hand_computed_and_errors():
    # binary: the squared error of the positive probability, (0.2^2 + 0.4^2) / 2
    assert brier_score_loss([1, 0], [0.8, 0.4]) == pytest.approx(0.1)
    with pytest.raises(ValueError, match="inferred from y_true is multiclass but should be bin"):
        brier_score_loss([0, 1, 2], [0.2, 0.5, 0.3])
    with pytest.raises(ValueError, match="pos_label is not specified"):
        brier_score_loss(["a", "b"], [0.2, 0.5])
    with pytest.raises(ValueError, match=r"Classes found in labels: \['a' 'b' 'c'\]"):
        brier_score_loss(["a", "b"], [[0.5, 0.5], [0.5, 0.5]], labels=["a", "b", "c"])


@pytest.mark.parametrize(("n_classes", "one_column"), [(2, False), (2, True), (3, False)])
@pytest.mark.parametrize("weighted", [False, True])
def test_d2_scores_match_sklearn(n_classes, one_column, weighted):
    rng = np.random.default_rng(1)
    y = rng.integers(0, n_classes, 60)
    p = rng.random((60, n_classes))
    p /= p.sum(axis=1, keepdims=True)
    if one_column:
        p = p[:, 1]
    w = rng.random(60) if weighted else None
    for ours, ref in (
        (d2_log_loss_score, skm.d2_log_loss_score),
        (d2_brier_score, skm.d2_brier_score),
    ):
        assert_allclose(ours(y, p, sample_weight=w), ref(y, p, sample_weight=w), rtol=1e-12)


def test_d2_baseline_is_zero_and_one_sample_is_nan():
    y = np.array([0, 1, 1, 1])
    prior = np.tile([0.25, 0.75], (4, 1))  # the class frequencies: nothing explained
    assert d2_log_loss_score(y, prior) == pytest.approx(0.0, abs=1e-15)
    assert d2_brier_score(y, prior) == pytest.approx(0.0, abs=1e-15)
    with pytest.warns(UndefinedMetricWarning, match="less than two samples"):
        assert np.isnan(d2_brier_score([1], [0.3]))


@pytest.mark.parametrize("n_classes", [2, 4])
@pytest.mark.parametrize("weighted", [False, True])
def test_hinge_loss_matches_sklearn(n_classes, weighted):
    rng = np.random.default_rng(2)
    y = rng.integers(0, n_classes, 50)
    d = rng.normal(size=50) if n_classes == 2 else rng.normal(size=(50, n_classes))
    w = rng.random(50) if weighted else None
    assert_allclose(hinge_loss(y, d, sample_weight=w), skm.hinge_loss(y, d, sample_weight=w))


def test_hinge_loss_hand_computed_and_errors():
    # margins +2 (no loss), -0.5 (loss 1.5): mean 0.75
    assert hinge_loss([1, -1], [2.0, 0.5]) == pytest.approx(0.75)
    # class 0 leads by 0.5 (loss 0.5); class 2 trails class 1 by 1 (loss 2)
    d = [[1.0, 0.5, 0.0], [0.0, 1.0, 0.0]]
    assert hinge_loss([0, 2], d, labels=[0, 1, 2]) == pytest.approx(1.25)
    with pytest.raises(ValueError, match="cannot be 1d array with a multiclass target"):
        hinge_loss([0, 1, 2], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="Please include all labels in y_true"):
        hinge_loss([0, 1, 2], np.zeros((3, 4)))


@pytest.mark.parametrize("name", ["log_loss", "d2_log_loss_score"])
def test_y_pred_keyword_is_taken_with_a_future_warning_as_sklearn(name):
    """scikit-learn 1.9 renamed y_pred to y_proba and still takes y_pred= (FutureWarning);
    ours refused it (TypeError: unexpected keyword argument 'y_pred')."""
    y, p = [0, 1, 1, 0], [[0.8, 0.2], [0.3, 0.7], [0.4, 0.6], [0.6, 0.4]]
    ours_f, ref_f = globals()[name], getattr(skm, name)
    with pytest.warns(FutureWarning, match="`y_pred` was renamed to `y_proba`"):
        ref = ref_f(y, y_pred=p)
    with pytest.warns(FutureWarning, match="`y_pred` was renamed to `y_proba`"):
        ours = ours_f(y, y_pred=p)
    assert_allclose(ours, ref, rtol=RTOL)
    assert_allclose(ours_f(y_true=y, y_proba=p), ref_f(y_true=y, y_proba=p), rtol=RTOL)
    for f in (ours_f, ref_f):
        with pytest.raises(ValueError, match="Cannot use both `y_pred` and `y_proba`"):
            f(y, p, y_pred=p)
    with pytest.raises(TypeError, match="y_proba"):
        ours_f(y)


@pytest.mark.parametrize("off", [2e-8, -2e-8, 5e-8])
@pytest.mark.parametrize("name", ["log_loss", "brier_score_loss", "d2_log_loss_score"])
def test_rows_summing_to_one_within_sklearns_tolerance_do_not_warn(name, off):
    """scikit-learn warns 'do not sum to one' outside isclose(sum, 1, rtol=sqrt(eps)) with
    array-api-extra's default atol=1e-8 (about 2.5e-8 in all for float64); the check here had
    atol=0 and warned from 1.5e-8 on (e.g. rows of float32 probabilities given as a list)."""
    from mlcanon import metrics

    y = [0, 1, 2, 1]
    P = np.array([[0.5, 0.3, 0.2], [0.1, 0.6, 0.3], [0.2, 0.2, 0.6], [0.3, 0.4, 0.3]])
    P[:, 0] += off
    with warnings.catch_warnings(record=True) as ref_w:
        warnings.simplefilter("always")
        ref = getattr(skm, name)(y, P)
    with warnings.catch_warnings(record=True) as got_w:
        warnings.simplefilter("always")
        got = getattr(metrics, name)(y, P)
    assert_allclose(got, ref, rtol=1e-12)
    assert [str(w.message)[:30] for w in got_w] == [str(w.message)[:30] for w in ref_w]
