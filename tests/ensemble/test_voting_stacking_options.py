"""Voting and stacking options (dropped members, sample weights, stack_method, cv="prefit",
transform, feature names) against scikit-learn on the same data."""

import numpy as np
import pytest
from sklearn import ensemble as ske
from sklearn.datasets import load_diabetes, load_iris
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.preprocessing import scale
from sklearn.svm import LinearSVC

from mlcanon import ensemble as me

X, Y = scale(load_iris().data), load_iris().target
XR, YR = load_diabetes(return_X_y=True)
WR = np.random.default_rng(0).uniform(0.1, 2.0, size=len(YR))
W = WR[: len(Y)]
MEMBERS = [("lr", LogisticRegression()), ("nb", GaussianNB()), ("svc", LinearSVC())]


@pytest.mark.parametrize("voting", ["hard", "soft"])
def test_voting_drop_weights_and_transform_equal_sklearn(voting):
    members = MEMBERS[:2] if voting == "soft" else MEMBERS
    kw = dict(voting=voting, weights=[1, 2, 3][: len(members)])
    ours = me.VotingClassifier(members, **kw).set_params(nb="drop").fit(X, Y, sample_weight=W)
    ref = ske.VotingClassifier(members, **kw).set_params(nb="drop").fit(X, Y, sample_weight=W)
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))
    np.testing.assert_allclose(ours.transform(X), ref.transform(X), atol=1e-12)
    np.testing.assert_array_equal(ours.get_feature_names_out(), ref.get_feature_names_out())
    assert ours.get_params()["nb"] == "drop" and len(ours.estimators_) == len(members) - 1


def test_voting_regressor_weights_equal_sklearn():
    members = [("lin", LinearRegression()), ("ridge", Ridge(alpha=10.0))]
    ours = me.VotingRegressor(members, weights=[3, 1]).fit(XR, YR, sample_weight=WR)
    ref = ske.VotingRegressor(members, weights=[3, 1]).fit(XR, YR, sample_weight=WR)
    np.testing.assert_allclose(ours.predict(XR), ref.predict(XR), rtol=1e-10)
    np.testing.assert_allclose(ours.transform(XR), ref.transform(XR), rtol=1e-10)


def test_member_without_sample_weight_is_refused_with_sklearns_words():
    voting = me.VotingClassifier([("knn", KNeighborsClassifier())])
    with pytest.raises(TypeError, match="KNeighborsClassifier does not support sample weights"):
        voting.fit(X, Y, sample_weight=W)
    with pytest.raises(ValueError, match="All estimators are dropped"):
        me.VotingClassifier([("lr", "drop")]).fit(X, Y)


@pytest.mark.parametrize("stack_method", ["auto", "predict_proba", "predict"])
def test_stacking_stack_method_equals_sklearn(stack_method):
    members = MEMBERS[:2]
    folds = [
        (np.flatnonzero(np.arange(150) % 3 != k), np.flatnonzero(np.arange(150) % 3 == k))
        for k in range(3)
    ]
    kw = dict(final_estimator=LogisticRegression(), cv=folds, stack_method=stack_method)
    ours = me.StackingClassifier(members, **kw).fit(X, Y, sample_weight=W)
    ref = ske.StackingClassifier(members, **kw).fit(X, Y, sample_weight=W)
    assert ours.stack_method_ == ref.stack_method_
    np.testing.assert_allclose(ours.transform(X), ref.transform(X), atol=1e-12)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-8)


@pytest.mark.parametrize("passthrough", [False, True])
@pytest.mark.parametrize("labels", ["str", "int", "float"])
def test_stacking_predict_outputs_keep_their_dtype_as_sklearn(labels, passthrough):
    """With stack_method='predict' the members predict the class codes they were fitted on
    (int64, whatever the labels), and scikit-learn stacks them as they are: transform was
    float64 (int64 without passthrough in scikit-learn)."""
    y = {"str": np.array(["setosa", "versicolor", "virginica"])[Y], "int": Y}.get(labels, Y * 2.0)
    members = [("lr", LogisticRegression()), ("nb", GaussianNB())]
    kw = dict(cv=3, stack_method="predict", passthrough=passthrough)
    ours = me.StackingClassifier(members, **kw).fit(X, y).transform(X)
    ref = ske.StackingClassifier(members, **kw).fit(X, y).transform(X)
    assert ours.dtype == ref.dtype == (np.float64 if passthrough else np.int64)
    np.testing.assert_array_equal(ours, ref)


def test_stacking_prefit_uses_members_as_given():
    fitted = [
        ("a", Ridge(alpha=1.0).fit(XR[:200], YR[:200])),
        ("b", LinearRegression().fit(XR[:200], YR[:200])),
    ]
    kw = dict(final_estimator=LinearRegression(), cv="prefit", passthrough=True)
    ours = me.StackingRegressor(fitted, **kw).fit(XR[200:], YR[200:])
    ref = ske.StackingRegressor(fitted, **kw).fit(XR[200:], YR[200:])
    assert all(a is b for a, (_, b) in zip(ours.estimators_, fitted, strict=True))
    np.testing.assert_allclose(ours.predict(XR), ref.predict(XR), rtol=1e-9)
    names = [f"x{i}" for i in range(XR.shape[1])]
    np.testing.assert_array_equal(
        ours.get_feature_names_out(names), ref.get_feature_names_out(names)
    )


def test_stacking_errors_use_sklearns_words():
    with pytest.raises(ValueError, match="does not implement the method predict_proba"):
        me.StackingClassifier([("svc", LinearSVC())], stack_method="predict_proba").fit(X, Y)
    with pytest.raises(ValueError, match="Invalid 'estimators' attribute"):
        me.StackingRegressor([]).fit(XR, YR)
    with pytest.raises(AttributeError, match="has no attribute 'decision_function'"):
        me.StackingClassifier(MEMBERS[:1], final_estimator=GaussianNB()).fit(X, Y).decision_function


def test_verbose_prints_each_member_fit(capsys):
    me.VotingRegressor([("a", Ridge()), ("b", LinearRegression())], verbose=True).fit(XR, YR)
    me.StackingRegressor([("a", Ridge())], verbose=1).fit(XR, YR)
    lines = [line.split(",")[0] for line in capsys.readouterr().out.splitlines()]
    assert lines == [
        "[Voting] (1 of 2) Processing a",
        "[Voting] (2 of 2) Processing b",
        "[Stacking] (1 of 1) Processing a",
    ]


@pytest.mark.parametrize("name", ["VotingClassifier", "StackingClassifier"])
def test_named_estimators_before_fit_as_sklearn(name):
    """scikit-learn's ``named_estimators``: the unfitted members by name, readable before fit."""
    members = [("nb", GaussianNB()), ("x", "drop"), ("lr", LogisticRegression())]
    ours, ref = getattr(me, name)(members), getattr(ske, name)(members)
    assert list(ours.named_estimators) == list(ref.named_estimators) == ["nb", "x", "lr"]
    assert ours.named_estimators.nb is ref.named_estimators.nb is members[0][1]
    assert ours.named_estimators["x"] == ref.named_estimators["x"] == "drop"


def test_float32_x_reaches_the_members_as_float32_as_sklearn():
    """scikit-learn's voting, stacking and bagging hand X to the members as given; a float32 X
    was made float64 first, so the members computed in float64 and the outputs were float64
    (scikit-learn: float32 for an unweighted vote, stacked outputs, bagged predictions)."""
    X32, y32 = XR.astype(np.float32), YR.astype(np.float32)
    members = [("ridge", Ridge(alpha=1.0)), ("ridge10", Ridge(alpha=10.0))]
    pairs = [
        (me.VotingRegressor(members), ske.VotingRegressor(members), "predict"),
        (me.VotingRegressor(members), ske.VotingRegressor(members), "transform"),
        (me.StackingRegressor(members, cv=3), ske.StackingRegressor(members, cv=3), "transform"),
        (me.StackingRegressor(members, cv=3), ske.StackingRegressor(members, cv=3), "predict"),
    ]
    for ours, ref, method in pairs:
        got = getattr(ours.fit(X32, y32), method)(X32)
        want = getattr(ref.fit(X32, y32), method)(X32)
        assert got.dtype == want.dtype, (type(ours).__name__, method)
        np.testing.assert_allclose(got, want, rtol=1e-6)
    kw = dict(voting="soft")
    ours = me.VotingClassifier(MEMBERS[:2], **kw).fit(X.astype(np.float32), Y)
    ref = ske.VotingClassifier(MEMBERS[:2], **kw).fit(X.astype(np.float32), Y)
    got, want = ours.predict_proba(X.astype(np.float32)), ref.predict_proba(X.astype(np.float32))
    assert got.dtype == want.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)
    bag = dict(n_estimators=3, random_state=0)
    got = me.BaggingRegressor(Ridge(), **bag).fit(X32, y32).predict(X32)
    assert got.dtype == ske.BaggingRegressor(Ridge(), **bag).fit(X32, y32).predict(X32).dtype


@pytest.mark.parametrize("fmt", ["csr", "csc", "coo"])
def test_voting_passes_sparse_x_to_its_members_as_sklearn(fmt):
    """scikit-learn's voting estimators hand a scipy.sparse X to their members; ours refused it
    with a TypeError (dense data required)."""
    import scipy.sparse as sp
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    X, y = load_iris(return_X_y=True)
    X = sp.csr_matrix(np.where(X > 2.0, X, 0.0)).asformat(fmt)
    members = [("lr", LogisticRegression(max_iter=500)), ("t", DecisionTreeClassifier(max_depth=3))]
    for voting in ("hard", "soft"):
        ours = me.VotingClassifier(members, voting=voting).fit(X, y)
        ref = ske.VotingClassifier(members, voting=voting).fit(X, y)
        np.testing.assert_array_equal(ours.predict(X), ref.predict(X))
        np.testing.assert_allclose(ours.transform(X), ref.transform(X), atol=1e-12)
        # the sparse tag follows the members, as scikit-learn's
        assert ours.__sklearn_tags__().input_tags.sparse == ref.__sklearn_tags__().input_tags.sparse
    Xr, yr = load_diabetes(return_X_y=True)
    Xr = sp.csr_matrix(np.where(Xr > 0, Xr, 0.0)).asformat(fmt)
    regs = [("r", Ridge()), ("t", DecisionTreeRegressor(max_depth=3))]
    ours, ref = me.VotingRegressor(regs).fit(Xr, yr), ske.VotingRegressor(regs).fit(Xr, yr)
    np.testing.assert_allclose(ours.predict(Xr), ref.predict(Xr), rtol=1e-12)


@pytest.mark.parametrize("labels", ["str", "int"])
def test_voting_classifier_le_as_sklearn(labels, tmp_path):
    """scikit-learn's fitted VotingClassifier has le_ (a LabelEncoder: classes_, transform,
    inverse_transform, which turns the hard votes of transform back into labels); ours had
    none (AttributeError)."""
    from mlcanon import io

    X, y = load_iris(return_X_y=True)
    y = np.array(["setosa", "versicolor", "virginica"])[y] if labels == "str" else 10 * y + 3
    members = [("nb", GaussianNB()), ("knn", KNeighborsClassifier(3))]
    ref = ske.VotingClassifier(members).fit(X, y)
    ours = me.VotingClassifier(members).fit(X, y)
    assert ours.le_.classes_.dtype == ref.le_.classes_.dtype
    np.testing.assert_array_equal(ours.le_.classes_, ref.le_.classes_)
    assert ours.le_.classes_ is ours.classes_
    np.testing.assert_array_equal(ours.le_.transform(y), ref.le_.transform(y))
    votes = ours.transform(X)
    np.testing.assert_array_equal(votes, ref.transform(X))
    np.testing.assert_array_equal(
        ours.le_.inverse_transform(votes[:, 0]), ref.le_.inverse_transform(votes[:, 0])
    )
    from mlcanon.tree import DecisionTreeClassifier

    saved = me.VotingClassifier([("tree", DecisionTreeClassifier())]).fit(X, y)
    back = io.load(io.save(saved, tmp_path / "v.npz"))
    np.testing.assert_array_equal(back.le_.inverse_transform([2, 0]), ref.le_.classes_[[2, 0]])
