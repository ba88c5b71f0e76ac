"""Monotonicity constraints (``monotonic_cst``) of the trees and forests against scikit-learn.

Two independent references: scikit-learn's trees grown with the same constraints on the same
data (the exact splitter builds the very same tree when no two candidate splits tie: continuous
data, continuous sample weights, leaves of at least 10 samples), and the property itself, a
prediction that never decreases (or increases) when one constrained feature is swept with the
others held fixed, checked on trees that scikit-learn cannot match split for split (random
splitters, forests with their own seeds).
"""

import numpy as np
import pytest
from sklearn import ensemble as ske
from sklearn import tree as skt

from mlcanon import ensemble, tree

CONSTRAINTS = [[1, -1, 0, 0], [1, 1, -1, 0]]


def _data(seed=0, n=400, d=4, nan=False):
    """Continuous features and a target rising in x0 and falling in x1 (with a wiggle in x0, so
    that unconstrained trees do break the constraints), and continuous sample weights."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = X[:, 0] - 0.5 * X[:, 1] + np.sin(3 * X[:, 0]) + rng.normal(scale=0.7, size=n)
    if nan:
        X[rng.random(X.shape) < 0.1] = np.nan
    return X, y, rng.uniform(0.5, 2.0, n)


def _binary(y, seed=0):
    return (y + np.random.default_rng(seed + 100).normal(size=len(y)) > 0).astype(int)


def assert_same_tree(ours, ref):
    a, b = ours.tree_, ref.tree_
    np.testing.assert_array_equal(a.children_left, b.children_left)
    np.testing.assert_array_equal(a.children_right, b.children_right)
    np.testing.assert_array_equal(a.feature, b.feature)
    split = a.children_left >= 0  # (scikit-learn keeps a direction at some leaves)
    np.testing.assert_array_equal(a.missing_go_to_left[split], b.missing_go_to_left[split])
    np.testing.assert_allclose(a.threshold, b.threshold)
    np.testing.assert_allclose(a.impurity, b.impurity, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(a.value, b.value, rtol=0, atol=1e-12)


def _sweep(X, j, n_steps=60):
    """Every row of ``X`` repeated with feature ``j`` set to each point of a grid spanning the
    data and beyond: shape (n_rows, n_steps, n_features)."""
    grid = np.linspace(np.nanmin(X[:, j]) - 1, np.nanmax(X[:, j]) + 1, n_steps)
    Xs = np.repeat(np.nan_to_num(X)[:, None, :], n_steps, axis=1)
    Xs[:, :, j] = grid
    return Xs


def assert_monotone(predict, X, cst):
    """``predict`` (rows -> one value each) never moves against ``cst`` along any feature."""
    for j, sign in enumerate(cst):
        if sign == 0:
            continue
        Xs = _sweep(X, j)
        pred = predict(Xs.reshape(-1, X.shape[1])).reshape(Xs.shape[:2])
        steps = sign * np.diff(pred, axis=1)
        assert steps.min() >= 0.0, f"feature {j} (constraint {sign}): a step of {steps.min()}"


@pytest.mark.parametrize("criterion", ["squared_error", "poisson", "absolute_error"])
@pytest.mark.parametrize("growth", [dict(), dict(max_depth=5), dict(max_leaf_nodes=20)])
@pytest.mark.parametrize("cst", CONSTRAINTS)
@pytest.mark.parametrize("nan", [False, True])
def test_regressor_builds_sklearn_tree(criterion, growth, cst, nan):
    X, y, w = _data(nan=nan)
    if criterion == "poisson":
        y = np.exp(y / 2)
    kw = dict(growth, criterion=criterion, monotonic_cst=cst, min_samples_leaf=10)
    ours = tree.DecisionTreeRegressor(**kw).fit(X, y, sample_weight=w)
    ref = skt.DecisionTreeRegressor(**kw).fit(X, y, sample_weight=w)
    assert_same_tree(ours, ref)
    Xt = _data(seed=1, n=2000, nan=nan)[0]
    np.testing.assert_allclose(ours.predict(Xt), ref.predict(Xt), rtol=0, atol=1e-12)
    # the constraint binds: without it the tree differs
    free = tree.DecisionTreeRegressor(**{**kw, "monotonic_cst": None}).fit(X, y, sample_weight=w)
    assert not np.allclose(free.predict(Xt), ours.predict(Xt))


@pytest.mark.parametrize("criterion", ["gini", "entropy"])
@pytest.mark.parametrize("growth", [dict(max_depth=5), dict(max_leaf_nodes=20)])
@pytest.mark.parametrize("cst", CONSTRAINTS)
@pytest.mark.parametrize("nan", [False, True])
def test_binary_classifier_predicts_as_sklearn(criterion, growth, cst, nan):
    """The constraint is on the positive class's probability. The class probabilities are
    compared rather than the trees: with weighted samples scikit-learn may still split a pure
    node whose impurity rounds to 1e-15 (> EPSILON), into two pure children that predict the
    same, where mlcanon computes 0 and keeps a leaf (unconstrained trees too)."""
    X, y, w = _data(nan=nan)
    y = _binary(y)
    kw = dict(growth, criterion=criterion, monotonic_cst=cst, min_samples_leaf=10)
    ours = tree.DecisionTreeClassifier(**kw).fit(X, y, sample_weight=w)
    ref = skt.DecisionTreeClassifier(**kw).fit(X, y, sample_weight=w)
    Xt = np.vstack([X, _data(seed=1, n=2000, nan=nan)[0]])
    np.testing.assert_allclose(ours.predict_proba(Xt), ref.predict_proba(Xt), rtol=0, atol=1e-12)
    free = tree.DecisionTreeClassifier(**{**kw, "monotonic_cst": None}).fit(X, y, sample_weight=w)
    assert not np.allclose(free.predict_proba(Xt), ours.predict_proba(Xt))


def test_class_labels_keep_the_positive_class():
    """String labels: the constraint is on ``classes_[1]``, as scikit-learn's."""
    X, y, w = _data()
    labels = np.where(_binary(y) == 1, "yes", "no")
    kw = dict(monotonic_cst=[1, -1, 0, 0], min_samples_leaf=10, max_depth=6)
    ours = tree.DecisionTreeClassifier(**kw).fit(X, labels, sample_weight=w)
    ref = skt.DecisionTreeClassifier(**kw).fit(X, labels, sample_weight=w)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), rtol=0, atol=1e-12)
    assert_monotone(lambda Z: ours.predict_proba(Z)[:, 1], X[:50], [1, -1, 0, 0])


@pytest.mark.parametrize(
    "ours_cls, ref_cls",
    [
        (tree.DecisionTreeRegressor, skt.DecisionTreeRegressor),
        (tree.ExtraTreeRegressor, skt.ExtraTreeRegressor),
        (ensemble.RandomForestRegressor, ske.RandomForestRegressor),
        (ensemble.ExtraTreesRegressor, ske.ExtraTreesRegressor),
    ],
)
@pytest.mark.parametrize("criterion", ["squared_error", "absolute_error"])
@pytest.mark.parametrize("nan", [False, True])
def test_regressors_are_monotone(ours_cls, ref_cls, criterion, nan):
    """Fully grown trees (ties and random thresholds included): every prediction monotone
    along each constrained feature, as scikit-learn's; unconstrained, neither is."""
    X, y, _ = _data(seed=2, n=300, nan=nan)
    cst = [1, -1, 0, 0]
    kw = dict(criterion=criterion, random_state=0)
    if "n_estimators" in ours_cls().get_params():
        kw["n_estimators"] = 5
    Xt = _data(seed=3, n=40)[0]
    for cls in (ours_cls, ref_cls):
        assert_monotone(cls(**kw, monotonic_cst=cst).fit(X, y).predict, Xt, cst)
        with pytest.raises(AssertionError):
            assert_monotone(cls(**kw).fit(X, y).predict, Xt, cst)


@pytest.mark.parametrize(
    "ours_cls, ref_cls",
    [
        (tree.DecisionTreeClassifier, skt.DecisionTreeClassifier),
        (tree.ExtraTreeClassifier, skt.ExtraTreeClassifier),
        (ensemble.RandomForestClassifier, ske.RandomForestClassifier),
        (ensemble.ExtraTreesClassifier, ske.ExtraTreesClassifier),
    ],
)
@pytest.mark.parametrize("nan", [False, True])
def test_classifiers_are_monotone(ours_cls, ref_cls, nan):
    X, y, _ = _data(seed=2, n=300, nan=nan)
    y = _binary(y)
    cst = [1, -1, 0, 0]
    kw = dict(random_state=0)
    if "n_estimators" in ours_cls().get_params():
        kw["n_estimators"] = 5
    Xt = _data(seed=3, n=40)[0]
    for cls in (ours_cls, ref_cls):
        model = cls(**kw, monotonic_cst=cst).fit(X, y)
        assert_monotone(lambda Z, m=model: m.predict_proba(Z)[:, 1], Xt, cst)
        proba = model.predict_proba(Xt)
        np.testing.assert_allclose(proba.sum(axis=1), 1.0)


@pytest.mark.parametrize("growth", [dict(), dict(max_leaf_nodes=30)])
def test_forest_of_deterministic_trees_matches_sklearn(growth):
    """Without bootstrap and with every feature searched, each tree of a forest is the one
    deterministic tree, whatever its seed: the forests' predictions are scikit-learn's."""
    X, y, w = _data(seed=4)
    kw = dict(
        growth,
        n_estimators=3,
        bootstrap=False,
        max_features=None,
        min_samples_leaf=10,
        monotonic_cst=[1, -1, 0, 0],
        random_state=0,
    )
    ours = ensemble.RandomForestRegressor(**kw).fit(X, y, sample_weight=w)
    ref = ske.RandomForestRegressor(**kw).fit(X, y, sample_weight=w)
    Xt = _data(seed=5, n=1000)[0]
    np.testing.assert_allclose(ours.predict(Xt), ref.predict(Xt), rtol=0, atol=1e-12)
    yb = _binary(y)
    ours = ensemble.RandomForestClassifier(**kw).fit(X, yb, sample_weight=w)
    ref = ske.RandomForestClassifier(**kw).fit(X, yb, sample_weight=w)
    np.testing.assert_allclose(ours.predict_proba(Xt), ref.predict_proba(Xt), rtol=0, atol=1e-12)


def test_opposite_constraint_gives_one_leaf():
    """Data rising in x with a decreasing constraint: no split is allowed (scikit-learn's
    test_1d_opposite_monotonicity_cst_data), the root predicts the mean, 0."""
    X = np.linspace(-2, 2, 10).reshape(-1, 1)
    for model in (
        tree.DecisionTreeRegressor(monotonic_cst=[-1]).fit(X, X.ravel()),
        tree.DecisionTreeRegressor(monotonic_cst=[1]).fit(X, -X.ravel()),
    ):
        assert model.tree_.node_count == 1
        assert model.tree_.value[0, 0, 0] == 0.0


def test_all_zero_constraints_change_nothing_but_the_second_class():
    """Zeros constrain nothing: the same tree as None (the regressor's values bit for bit; a
    classifier's second column becomes one minus the first, as in scikit-learn)."""
    X, y, w = _data()
    kw = dict(min_samples_leaf=10, max_depth=6)
    a = tree.DecisionTreeRegressor(**kw).fit(X, y, sample_weight=w)
    b = tree.DecisionTreeRegressor(**kw, monotonic_cst=[0, 0, 0, 0]).fit(X, y, sample_weight=w)
    np.testing.assert_array_equal(a.tree_.value, b.tree_.value)
    yb = _binary(y)
    kw["monotonic_cst"] = np.zeros(4, int)
    ours = tree.DecisionTreeClassifier(**kw).fit(X, yb, sample_weight=w)
    ref = skt.DecisionTreeClassifier(**kw).fit(X, yb, sample_weight=w)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), rtol=0, atol=1e-12)
    np.testing.assert_array_equal(ours.tree_.value[:, 0, 1], 1.0 - ours.tree_.value[:, 0, 0])


@pytest.mark.parametrize(
    "cls",
    [
        tree.DecisionTreeClassifier,
        tree.ExtraTreeClassifier,
        ensemble.RandomForestClassifier,
        ensemble.ExtraTreesClassifier,
    ],
)
def test_classifier_refusals(cls):
    X, y, _ = _data(n=60)
    with pytest.raises(ValueError, match=r"multiclass.*monotonic_cst.*3 classes"):
        cls(monotonic_cst=[1, 0, 0, 0]).fit(X, np.arange(60) % 3)
    Y = np.column_stack([_binary(y), _binary(y, 1)])
    with pytest.raises(ValueError, match=r"not supported with multiple outputs.*monotonic_cst"):
        cls(monotonic_cst=[1, 0, 0, 0]).fit(X, Y)


@pytest.mark.parametrize(
    "cls",
    [
        tree.DecisionTreeRegressor,
        tree.ExtraTreeRegressor,
        ensemble.RandomForestRegressor,
        ensemble.ExtraTreesRegressor,
    ],
)
def test_regressor_refusals(cls):
    X, y, _ = _data(n=60)
    with pytest.raises(ValueError, match=r"not supported with multiple outputs.*monotonic_cst"):
        cls(monotonic_cst=[1, 0, 0, 0]).fit(X, np.column_stack([y, y]))
    with pytest.raises(ValueError, match=r"monotonic_cst has shape 3 but .* X has 4 features"):
        cls(monotonic_cst=[1, 0, 0]).fit(X, y)
    msg = r"monotonic_cst must be None or an array-like of -1, 0 or 1, but got \[-1.   0.   0.8\]"
    with pytest.raises(ValueError, match=msg):
        cls(monotonic_cst=[-1, 0.8, 0, 0]).fit(X, y)
    with pytest.raises(ValueError, match=r"monotonic_cst .* -1, 0 or 1, but got \[-2  0  2\]"):
        cls(monotonic_cst=np.array([-2, 2, 0, 0])).fit(X, y)
    with pytest.raises(ValueError, match=r"monotonic_cst must be 1-D.*got shape \(1, 4\)"):
        cls(monotonic_cst=[[1, 0, 0, 0]]).fit(X, y)
    for bad in ("increasing", 1):
        with pytest.raises(TypeError, match="monotonic_cst must be None or an array-like of -1"):
            cls(monotonic_cst=bad).fit(X, y)
