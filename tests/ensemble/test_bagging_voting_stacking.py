"""Bagging, voting and stacking against scikit-learn's meta-estimators."""

import numpy as np
import pytest
from sklearn import ensemble as ske
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import KFold, StratifiedKFold, train_test_split
from sklearn.naive_bayes import GaussianNB
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier as SkTree
from sklearn.tree import DecisionTreeRegressor as SkTreeRegressor

from mlcanon import ensemble as me
from mlcanon import io
from mlcanon.tree import DecisionTreeClassifier

MEMBERS = [
    ("nb", GaussianNB()),
    ("lr", LogisticRegression(max_iter=2000)),
    ("tree", SkTree(max_depth=3, random_state=0)),
]


@pytest.mark.parametrize("voting", ["hard", "soft"])
def test_voting_classifier_equals_sklearn(voting):
    X, y = load_iris(return_X_y=True)
    ours = me.VotingClassifier(MEMBERS, voting=voting, weights=[1, 2, 1]).fit(X, y)
    ref = ske.VotingClassifier(MEMBERS, voting=voting, weights=[1, 2, 1]).fit(X, y)
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))
    if voting == "soft":
        np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), rtol=1e-12)


def test_voting_regressor_equals_sklearn():
    X, y = load_diabetes(return_X_y=True)
    members = [("ridge", Ridge()), ("tree", SkTreeRegressor(max_depth=3, random_state=0))]
    ours = me.VotingRegressor(members, weights=[2, 1]).fit(X, y)
    ref = ske.VotingRegressor(members, weights=[2, 1]).fit(X, y)
    np.testing.assert_allclose(ours.predict(X), ref.predict(X), rtol=1e-12)


@pytest.mark.parametrize("load", [load_iris, load_breast_cancer])
@pytest.mark.parametrize("passthrough", [False, True])
def test_stacking_classifier_equals_sklearn(load, passthrough):
    X, y = load(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    final = LogisticRegression(max_iter=2000)
    kw = dict(final_estimator=final, cv=StratifiedKFold(5), passthrough=passthrough)
    ours = me.StackingClassifier(MEMBERS, **kw).fit(X, y)
    ref = ske.StackingClassifier(MEMBERS, **kw).fit(X, y)
    np.testing.assert_allclose(ours.transform(X), ref.transform(X), rtol=1e-12)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), rtol=1e-9)


def test_stacking_member_without_n_features_in():
    """A member whose fit drops n_features_in_ (scikit-learn supports this: its width check is
    skipped) is stacked as scikit-learn stacks it; before, its predict_proba raised
    AttributeError inside the out-of-fold loop."""
    from mlcanon.linear_model import LogisticRegression as OurLogistic

    class NoWidth(OurLogistic):
        def fit(self, X, y):
            super().fit(X, y)
            del self.n_features_in_
            return self

    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    kw = dict(final_estimator=LogisticRegression(), cv=StratifiedKFold(3))
    ours = me.StackingClassifier([("lr", NoWidth())], **kw).fit(X, y)
    ref = ske.StackingClassifier([("lr", OurLogistic())], **kw).fit(X, y)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), rtol=1e-9)


def test_stacking_regressor_equals_sklearn():
    X, y = load_diabetes(return_X_y=True)
    members = [("ridge", Ridge()), ("tree", SkTreeRegressor(max_depth=3, random_state=0))]
    kw = dict(final_estimator=Ridge(), cv=KFold(5))
    ours = me.StackingRegressor(members, **kw).fit(X, y)
    ref = ske.StackingRegressor(members, **kw).fit(X, y)
    np.testing.assert_allclose(ours.predict(X), ref.predict(X), rtol=1e-10)


@pytest.mark.parametrize(
    "y, expect",
    [
        ([1, 3, 1, 4, 2, 4], pytest.raises(ValueError, match="n_splits=3 cannot be greater")),
        ([0, 0, 0, 0, 1, 1], pytest.warns(UserWarning, match="least populated class")),
    ],
)
def test_integer_cv_refuses_and_warns_as_sklearn(y, expect):
    X = np.arange(12.0).reshape(6, 2)
    for stacking in (me.StackingClassifier, ske.StackingClassifier):
        with expect:
            stacking([("nb", GaussianNB())], cv=3).fit(X, y)


def test_stacking_default_cv_equals_sklearn():
    X, y = load_iris(return_X_y=True)
    X, y = X[::2], y[::2]  # 75 rows: the folds are not all of one size
    final = LogisticRegression(max_iter=2000)
    ours = me.StackingClassifier(MEMBERS, final_estimator=final).fit(X, y)
    ref = ske.StackingClassifier(MEMBERS, final_estimator=final).fit(X, y)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), rtol=1e-9)
    members = [("ridge", Ridge()), ("tree", SkTreeRegressor(max_depth=3, random_state=0))]
    Xr, yr = load_diabetes(return_X_y=True)
    ours = me.StackingRegressor(members, final_estimator=Ridge(), cv=7).fit(Xr, yr)
    ref = ske.StackingRegressor(members, final_estimator=Ridge(), cv=7).fit(Xr, yr)
    np.testing.assert_allclose(ours.predict(Xr), ref.predict(Xr), rtol=1e-10)


def test_stacking_default_final_estimator_is_our_logistic_regression():
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    m = me.StackingClassifier(
        [
            ("t", DecisionTreeClassifier(max_depth=3, random_state=0)),
            ("f", me.RandomForestClassifier(20, random_state=0)),
        ]
    ).fit(X, y)
    assert type(m.final_estimator_).__module__.startswith("mlcanon.linear_model")
    assert m.score(X, y) > 0.95


def test_stacking_regressor_default_final_estimator_is_ridge_cv_as_sklearn():
    """scikit-learn's default final regressor is RidgeCV (alphas 0.1, 1, 10), not Ridge."""
    members = [("ridge", Ridge()), ("tree", SkTreeRegressor(max_depth=3, random_state=0))]
    X, y = load_diabetes(return_X_y=True)
    ours = me.StackingRegressor(members, cv=5).fit(X, y)
    ref = ske.StackingRegressor(members, cv=5).fit(X, y)
    assert type(ours.final_estimator_).__name__ == type(ref.final_estimator_).__name__
    assert ours.final_estimator_.alpha_ == ref.final_estimator_.alpha_
    np.testing.assert_allclose(ours.predict(X), ref.predict(X), rtol=1e-8)


@pytest.mark.parametrize("seed", [0, 1])
def test_bagging_accuracy_close_to_sklearn(seed):
    X, y = load_breast_cancer(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, random_state=seed)
    kw = dict(n_estimators=50, oob_score=True, random_state=seed)
    ours = me.BaggingClassifier(**kw).fit(Xtr, ytr)
    ref = ske.BaggingClassifier(**kw).fit(Xtr, ytr)
    assert abs(ours.score(Xte, yte) - ref.score(Xte, yte)) <= 0.03
    assert abs(ours.oob_score_ - ref.oob_score_) <= 0.03


def test_bagging_regressor_reduces_variance_of_a_deep_tree():
    X, y = load_diabetes(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, random_state=0)
    from mlcanon.tree import DecisionTreeRegressor

    single = DecisionTreeRegressor(random_state=0).fit(Xtr, ytr).score(Xte, yte)
    bagged = me.BaggingRegressor(n_estimators=50, random_state=0).fit(Xtr, ytr).score(Xte, yte)
    assert bagged > single + 0.2


def test_meta_estimators_save_and_load(tmp_path):
    X, y = load_iris(return_X_y=True)
    members = [
        ("a", DecisionTreeClassifier(max_depth=2, random_state=0)),
        ("b", me.XGBClassifier(n_estimators=5)),
    ]
    for model in (
        me.VotingClassifier(members, voting="soft"),
        me.StackingClassifier(members, final_estimator=DecisionTreeClassifier()),
        me.BaggingClassifier(n_estimators=3, random_state=0),
    ):
        model.fit(X, y)
        back = io.load(io.save(model, tmp_path / "m.npz"))
        np.testing.assert_array_equal(back.predict(X), model.predict(X))


def test_bad_parameters():
    X, y = load_iris(return_X_y=True)
    with pytest.raises(ValueError, match="voting must be one of"):
        me.VotingClassifier(MEMBERS, voting="avg").fit(X, y)
    with pytest.raises(ValueError, match="Number of `estimators` and weights must be equal"):
        me.VotingClassifier(MEMBERS, weights=[1, 2]).fit(X, y)
    with pytest.raises(ValueError, match="Names provided are not unique"):
        me.VotingClassifier([("a", GaussianNB()), ("a", GaussianNB())]).fit(X, y)
    with pytest.raises(ValueError, match="non-empty list"):
        me.StackingClassifier([]).fit(X, y)
    with pytest.raises(ValueError, match="cv must be >= 2"):
        me.StackingClassifier(MEMBERS, cv=1).fit(X, y)
    with pytest.raises(ValueError, match=r"cv must be one of 'prefit' or None, .*got str 'abc'"):
        me.StackingClassifier(MEMBERS, cv="abc").fit(X, y)
    with pytest.raises(ValueError, match="max_samples must be <= 1"):
        me.BaggingClassifier(max_samples=1.5).fit(X, y)
    with pytest.raises(AttributeError, match="has no attribute 'predict_proba'"):
        me.VotingClassifier(MEMBERS).fit(X, y).predict_proba(X)
