"""Bad input to voting and stacking: members of the wrong kind, a class with one sample."""

import numpy as np
import pytest
import sklearn.ensemble as ske
import sklearn.linear_model as skl
import sklearn.naive_bayes as sknb
from sklearn.datasets import make_classification
from sklearn.model_selection import StratifiedKFold

from mlcanon.ensemble import (
    StackingClassifier,
    StackingRegressor,
    VotingClassifier,
    VotingRegressor,
)
from mlcanon.linear_model import LinearRegression, LogisticRegression
from mlcanon.naive_bayes import GaussianNB

X, Y = make_classification(n_samples=60, n_features=4, random_state=0)


@pytest.mark.parametrize(
    ("ours", "theirs", "words"),
    [
        (
            lambda: VotingClassifier([("a", LinearRegression())]),
            lambda: ske.VotingClassifier([("a", skl.LinearRegression())]),
            "The estimator LinearRegression should be a classifier",
        ),
        (
            lambda: VotingClassifier([("a", LogisticRegression()), ("b", LinearRegression())]),
            lambda: ske.VotingClassifier(
                [("a", skl.LogisticRegression()), ("b", skl.LinearRegression())]
            ),
            "The estimator LinearRegression should be a classifier",
        ),
        (
            lambda: VotingRegressor([("a", LogisticRegression())]),
            lambda: ske.VotingRegressor([("a", skl.LogisticRegression())]),
            "The estimator LogisticRegression should be a regressor",
        ),
        (
            lambda: StackingClassifier(
                [("a", LogisticRegression())], final_estimator=LinearRegression()
            ),
            lambda: ske.StackingClassifier(
                [("a", skl.LogisticRegression())], final_estimator=skl.LinearRegression()
            ),
            "'final_estimator' parameter should be a classifier",
        ),
        (
            lambda: StackingRegressor(
                [("a", LinearRegression())], final_estimator=LogisticRegression()
            ),
            lambda: ske.StackingRegressor(
                [("a", skl.LinearRegression())], final_estimator=skl.LogisticRegression()
            ),
            "'final_estimator' parameter should be a regressor",
        ),
    ],
)
def test_member_of_the_wrong_kind_is_refused_as_scikit_learn(ours, theirs, words):
    y = Y.astype(float)
    with pytest.raises(ValueError, match=words):
        theirs().fit(X, y)
    with pytest.raises(ValueError, match=words):
        ours().fit(X, y)


def test_stacking_base_regressor_is_accepted_as_scikit_learn():
    """scikit-learn checks only the final estimator of a stacking classifier."""
    ref = ske.StackingClassifier([("a", skl.LinearRegression())]).fit(X, Y)
    ours = StackingClassifier([("a", LinearRegression())]).fit(X, Y)
    assert (ours.predict(X) == ref.predict(X)).mean() > 0.95


@pytest.mark.parametrize("rare", [1, 2])
def test_stacking_with_a_rare_class_matches_scikit_learn(rare):
    y = Y.copy()
    y[:rare] = 2  # class 2 has fewer samples than folds: some training folds miss it
    cv = StratifiedKFold(5)
    ref = ske.StackingClassifier(
        [("nb", sknb.GaussianNB())], final_estimator=sknb.GaussianNB(), cv=cv
    )
    with pytest.warns(UserWarning):  # scikit-learn warns about the least populated class
        ref.fit(X, y)
    ours = StackingClassifier([("nb", GaussianNB())], final_estimator=GaussianNB(), cv=cv)
    with pytest.warns(UserWarning):
        ours.fit(X, y)
    np.testing.assert_allclose(ours.transform(X), ref.transform(X), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), rtol=1e-6, atol=1e-9)


def test_stacking_rare_class_with_decision_function_only():
    """A binary member fitted on a fold that lacks the third class cannot fill its column."""
    from mlcanon.svm import SVC

    y = Y.copy()
    y[0] = 2
    with pytest.raises(ValueError, match="training fold holds only 2 of the 3 classes"):
        StackingClassifier([("svc", SVC())]).fit(X, y)


@pytest.mark.parametrize(
    "make",
    [
        lambda w: VotingClassifier([("a", LogisticRegression()), ("b", GaussianNB())], weights=w),
        lambda w: VotingClassifier(
            [("a", LogisticRegression()), ("b", GaussianNB())], voting="soft", weights=w
        ),
        lambda w: VotingRegressor(
            [("a", LinearRegression()), ("b", LinearRegression())], weights=w
        ),
    ],
)
def test_voting_weights_all_zero_are_refused(make):
    """All-zero weights leave no vote: scikit-learn's hard vote silently returns the first
    class, its soft vote and its regressor divide by 0 (as this did)."""
    with pytest.raises(ValueError, match=r"positive weight .*; got weights=\[0, 0\]"):
        make([0, 0]).fit(X, Y)
    with pytest.raises(ValueError, match=r"got weights=\[0, 1\]"):  # the weighted one dropped
        make([0, 1]).set_params(b="drop").fit(X, Y)
