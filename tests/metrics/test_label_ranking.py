"""Multilabel ranking metrics (coverage, ranking loss, LRAP) and DCG/NDCG vs sklearn.metrics."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from mlcanon.metrics import (
    coverage_error,
    dcg_score,
    label_ranking_average_precision_score,
    label_ranking_loss,
    ndcg_score,
)

skm = pytest.importorskip("sklearn.metrics")
RTOL = 1e-12
LABEL_RANKING = ["coverage_error", "label_ranking_loss", "label_ranking_average_precision_score"]
OURS = {
    "coverage_error": coverage_error,
    "label_ranking_loss": label_ranking_loss,
    "label_ranking_average_precision_score": label_ranking_average_precision_score,
}


@pytest.mark.parametrize("name", LABEL_RANKING)
@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
def test_label_ranking_matches_sklearn(name, ties, weighted):
    rng = np.random.default_rng(0)
    Y, S = rng.integers(0, 2, (40, 6)), rng.random((40, 6))
    Y[:2] = 0  # samples without labels, and with every label
    Y[2] = 1
    if ties:
        S = S.round(1)
    w = rng.random(40) if weighted else None
    got = OURS[name](Y, S, sample_weight=w)
    assert_allclose(got, getattr(skm, name)(Y, S, sample_weight=w), rtol=RTOL)


def test_label_ranking_hand_computed():
    # relevant {0, 2} scored 0.9 and 0.2; irrelevant label 1 scored 0.5 sits between them
    Y, S = [[1, 0, 1]], [[0.9, 0.5, 0.2]]
    assert coverage_error(Y, S) == 3.0
    assert label_ranking_loss(Y, S) == 0.5  # one of the two (relevant, irrelevant) pairs
    assert label_ranking_average_precision_score(Y, S) == pytest.approx((1 / 1 + 2 / 3) / 2)
    with pytest.raises(ValueError, match="Expected 2D array, got 1D array"):
        coverage_error([0, 1, 2], [[0.2, 0.8], [0.5, 0.5], [0.1, 0.9]])
    with pytest.raises(ValueError, match="multiclass-multioutput format is not supported"):
        label_ranking_loss([[0, 2], [1, 0]], [[0.2, 0.8], [0.5, 0.5]])
    with pytest.raises(ValueError, match="y_true and y_score have different shape"):
        label_ranking_loss([[0, 1], [1, 0]], [[0.2, 0.8, 0.1], [0.5, 0.5, 0.1]])


@pytest.mark.parametrize("k", [None, 1, 3])
@pytest.mark.parametrize("ignore_ties", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
def test_dcg_and_ndcg_match_sklearn(k, ignore_ties, weighted):
    rng = np.random.default_rng(1)
    R, S = rng.integers(0, 4, (30, 7)).astype(float), rng.random((30, 7))
    if not ignore_ties:
        S = S.round(1)  # tied scores share their gains
    R[0] = 0  # a query with nothing relevant scores 0
    w = rng.random(30) if weighted else None
    kw = {"k": k, "sample_weight": w, "ignore_ties": ignore_ties}
    assert_allclose(dcg_score(R, S, **kw), skm.dcg_score(R, S, **kw), rtol=RTOL)
    assert_allclose(ndcg_score(R, S, **kw), skm.ndcg_score(R, S, **kw), rtol=RTOL)


def test_dcg_hand_computed_and_errors():
    # ranking by score: gains 3, 0, 2 at ranks 1, 2, 3 -> 3 + 0 + 2 / log2(4) = 4
    assert dcg_score([[3, 2, 0]], [[0.9, 0.1, 0.5]]) == pytest.approx(4.0)
    # a tie of gains 3 and 0 over ranks 1-2 counts (3 + 0) / 2 at each
    assert dcg_score([[3, 0]], [[0.5, 0.5]]) == pytest.approx(1.5 + 1.5 / np.log2(3))
    with pytest.raises(ValueError, match="should not be used on negative y_true"):
        ndcg_score([[-1, 2]], [[0.1, 0.2]])
    with pytest.raises(ValueError, match="more than 1 document"):
        ndcg_score([[1], [2]], [[0.1], [0.2]])
