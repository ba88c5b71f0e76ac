"""sample_weight in every metric: all-zero weights refused; samplewise weighting vs sklearn."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import mlcanon.metrics as ours

skm = pytest.importorskip("sklearn.metrics")
ZERO_WEIGHTS = "Sample weights must contain at least one non-zero number"

_labels, _pred = np.array([0, 1, 1, 0, 2]), np.array([0, 1, 0, 0, 2])
_binary, _score = np.array([0, 1, 1, 0, 1]), np.array([0.1, 0.9, 0.4, 0.3, 0.8])
_proba = np.array([[0.6, 0.3, 0.1], [0.2, 0.7, 0.1], [0.5, 0.4, 0.1], [0.3, 0.6, 0.1], [0, 0, 1]])
_Y = np.array([[1, 0, 0], [1, 0, 1], [0, 1, 0], [0, 0, 1], [1, 1, 0]])
_S = np.random.default_rng(0).random((5, 3))
_Yp = (_S > 0.5).astype(int)

# name -> (positional inputs, keyword arguments); one call per metric that takes sample_weight
CALLS = {
    "accuracy_score": ((_labels, _pred), {}),
    "balanced_accuracy_score": ((_labels, _pred), {}),
    "zero_one_loss": ((_labels, _pred), {}),
    "hamming_loss": ((_Y, _Yp), {}),
    "precision_score": ((_binary, _score > 0.5), {}),
    "recall_score": ((_binary, _score > 0.5), {}),
    "f1_score": ((_binary, _score > 0.5), {"zero_division": 1}),
    "fbeta_score": ((_Y, _Yp), {"beta": 2.0, "average": "samples"}),
    "jaccard_score": ((_Y, _Yp), {"average": "samples"}),
    "precision_recall_fscore_support": ((_labels, _pred), {"average": "macro"}),
    "matthews_corrcoef": ((_labels, _pred), {}),
    "cohen_kappa_score": ((_labels, _pred), {}),
    "confusion_matrix": ((_labels, _pred), {}),
    "multilabel_confusion_matrix": ((_Y, _Yp), {"samplewise": True}),
    "log_loss": ((_binary, _score), {}),
    "brier_score_loss": ((_binary, _score), {}),
    "d2_log_loss_score": ((_binary, _score), {}),
    "d2_brier_score": ((_binary, _score), {}),
    "average_precision_score": ((_binary, _score), {}),
    "precision_recall_curve": ((_binary, _score), {}),
    "roc_auc_score": ((_binary, _score), {}),
    "roc_curve": ((_binary, _score), {}),
    "det_curve": ((_binary, _score), {}),
    "confusion_matrix_at_thresholds": ((_binary, _score), {}),
    # scikit-learn 1.9 gives numpy's ZeroDivisionError (or NaN for LRAP, or 0 for a
    # multilabel roc_auc_score with average='weighted') for these:
    "roc_auc_score multilabel": ((_Y, _S), {"average": "weighted"}),
    "dcg_score": ((_Y, _S), {}),
    "ndcg_score": ((_Y, _S), {}),
    "hinge_loss": ((2 * _binary - 1, _score - 0.5), {}),
    "coverage_error": ((_Y, _S), {}),
    "label_ranking_loss": ((_Y, _S), {}),
    "label_ranking_average_precision_score": ((_Y, _S), {}),
    "top_k_accuracy_score": ((_labels, _proba), {"k": 2}),
}
SKLEARN_RAISES_TOO = list(CALLS)[: list(CALLS).index("roc_auc_score multilabel")]


@pytest.mark.parametrize("name", list(CALLS))
@pytest.mark.parametrize("zeros", [np.zeros(5), np.zeros(5, int), [False] * 5])
def test_all_zero_weights_refused(name, zeros):
    args, kwargs = CALLS[name]
    with pytest.raises(ValueError, match=f"{ZERO_WEIGHTS}: sample_weight is 0 for all 5 samples"):
        getattr(ours, name.split()[0])(*args, sample_weight=zeros, **kwargs)


@pytest.mark.parametrize("name", SKLEARN_RAISES_TOO)
def test_all_zero_weights_refused_as_sklearn_does(name):
    args, kwargs = CALLS[name]
    with pytest.raises(ValueError, match=ZERO_WEIGHTS):
        getattr(skm, name)(*args, sample_weight=np.zeros(5), **kwargs)


def _call(module, name, w):
    args, kwargs = CALLS[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return getattr(module, name.split()[0])(*args, sample_weight=w, **kwargs), None
        except (ValueError, ZeroDivisionError) as err:
            return None, err


@pytest.mark.parametrize("name", list(CALLS))
def test_one_non_zero_weight_is_enough(name):
    """The check refuses only all-zero weights: with one sample of weight 1 each metric gives
    scikit-learn's value, or, where scikit-learn raises, an error of its own (a ranking metric
    on one kept sample has one class; ours raises where scikit-learn warns and gives NaN)."""
    w = np.zeros(5)
    w[1] = 1.0  # sample 1 has both classes in its row of _Y and is positive in _binary
    (got, err), (want, ref_err) = _call(ours, name, w), _call(skm, name, w)
    if err is not None:
        assert ZERO_WEIGHTS not in str(err)
        assert ref_err is not None or np.isnan(want).any(), f"{name}: scikit-learn gives {want}"
    elif ref_err is None:
        as_tuple = lambda v: v if isinstance(v, tuple) else (v,)  # noqa: E731
        for a, b in zip(as_tuple(got), as_tuple(want), strict=True):
            assert_allclose(np.asarray(a, float), np.asarray(b, float), rtol=1e-10)
    else:
        pytest.fail(f"{name}: scikit-learn raises {ref_err!r}, ours gives {got}")


def _samples_data(seed):
    rng = np.random.default_rng(seed)
    y = (rng.random((40, 4)) < 0.4).astype(int)
    p = (rng.random((40, 4)) < 0.4).astype(int)
    w = rng.random(40)
    w[rng.random(40) < 0.3] = 0.0
    return y, p, w


@pytest.mark.parametrize("zero_division", [0.0, 1.0, np.nan])
@pytest.mark.parametrize("seed", [0, 1])
def test_samples_average_with_zero_weight_rows_matches_sklearn(seed, zero_division):
    """A zero-weight sample has nothing to divide, as in scikit-learn: with zero_division=nan it
    leaves the average instead of entering it at weight 0."""
    y, p, w = _samples_data(seed)
    kw = {"average": "samples", "sample_weight": w, "zero_division": zero_division}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = ours.precision_recall_fscore_support(y, p, beta=2.0, **kw)[:3]
        ref = skm.precision_recall_fscore_support(y, p, beta=2.0, **kw)[:3]
        assert_allclose(got, ref, rtol=1e-12)
        if not np.isnan(zero_division):  # scikit-learn's Jaccard takes 0 or 1 only
            jaccard = ours.jaccard_score(y, p, **kw)
            assert_allclose(jaccard, skm.jaccard_score(y, p, **kw), rtol=1e-12)


def test_samples_average_nan_when_only_zero_weight_rows_are_defined():
    # row 1's precision (0/2) is the only one defined without weights, but its weight is 0
    y, p, w = [[1, 0], [0, 0], [0, 0]], [[0, 0], [1, 1], [0, 0]], [2, 0, 2]
    kw = {"average": "samples", "sample_weight": w, "zero_division": np.nan}
    assert np.isnan(skm.precision_score(y, p, **kw))
    assert np.isnan(ours.precision_score(y, p, **kw))


@pytest.mark.parametrize("seed", [0, 1])
def test_samplewise_confusion_matrix_weighted_matches_sklearn(seed):
    y, p, w = _samples_data(seed)
    got = ours.multilabel_confusion_matrix(y, p, sample_weight=w, samplewise=True)
    ref = skm.multilabel_confusion_matrix(y, p, sample_weight=w, samplewise=True)
    assert_array_equal(got, ref)


@pytest.mark.parametrize(
    "name, target, kw",
    [
        ("roc_curve", "binary", {}),
        ("precision_recall_curve", "binary", {}),
        ("det_curve", "binary", {}),
        ("confusion_matrix_at_thresholds", "binary", {}),
        ("roc_auc_score", "binary", {}),
        ("roc_auc_score", "multilabel", {"average": "micro"}),
        ("roc_auc_score", "multiclass", {"multi_class": "ovr"}),
        ("average_precision_score", "binary", {}),
        ("average_precision_score", "multilabel", {}),
        ("average_precision_score", "multiclass", {}),
    ],
)
def test_threshold_metrics_take_a_column_of_sample_weights_as_sklearn(name, target, kw):
    """scikit-learn's threshold-curve metrics read sample_weight with column_or_1d, so a
    (n_samples, 1) column is taken; here it was refused ('Sample weights must be 1D')."""
    from mlcanon import metrics

    rng = np.random.default_rng(0)
    y, s = {
        "binary": (rng.integers(0, 2, 12), rng.random(12)),
        "multilabel": (rng.integers(0, 2, (12, 3)), rng.random((12, 3))),
        "multiclass": (rng.integers(0, 3, 12), rng.dirichlet(np.ones(3), 12)),
    }[target]
    w = rng.random((12, 1))
    ref = getattr(skm, name)(y, s, sample_weight=w, **kw)
    got = getattr(metrics, name)(y, s, sample_weight=w, **kw)
    if not isinstance(ref, tuple):
        got, ref = (got,), (ref,)
    for g, r in zip(got, ref, strict=True):
        assert_allclose(g, r, rtol=1e-12)
