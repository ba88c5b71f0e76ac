"""CART trees against scikit-learn's: same nodes, same thresholds, same missing-value routes."""

import numpy as np
import pytest
from sklearn import tree as sk
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris, load_wine

from mlcanon import io
from mlcanon.tree import DecisionTreeClassifier, DecisionTreeRegressor, export_text


def _gaussian(seed, n=300, d=6, classes=None, nan_rate=0.0):
    """Continuous features (no ties) and a non-linear target; optionally NaN-riddled."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    f = np.sin(2 * X[:, 0]) + X[:, 1] * X[:, 2] + 0.5 * X[:, 3] ** 2
    y = f + rng.normal(scale=0.3, size=n)
    if classes:
        y = np.digitize(f, np.quantile(f, np.linspace(0, 1, classes + 1)[1:-1]))
    if nan_rate:
        X[rng.random(X.shape) < nan_rate] = np.nan
    return X, y


def _split_cost(criterion, x, y, w, threshold, missing_left):
    """Weighted child impurity w_L I_L + w_R I_R of one split (the criterion it minimises)."""
    left = np.where(np.isnan(x), missing_left, x <= threshold)
    cost = 0.0
    for side in (left, ~left):
        ws, ys = w[side], y[side]
        W = ws.sum()
        if criterion == "squared_error":
            cost += np.sum(ws * (ys - np.average(ys, weights=ws)) ** 2)
            continue
        p = np.array([ws[ys == k].sum() for k in np.unique(y)]) / W
        p = p[p > 0]
        imp = 1 - np.sum(p**2) if criterion == "gini" else -np.sum(p * np.log2(p))
        cost += W * imp
    return cost


def assert_same_tree(ours, ref, X, y, w=None, *, max_ties=None):
    """Walk both trees over the training samples and compare node by node.

    Where the two trees split a node differently, the two splits must be an exact tie of the
    criterion (scikit-learn breaks ties by a random feature order we do not reproduce); the
    subtrees below a tie are not compared. Returns the number of ties met.
    """
    a, b = ours.tree_, ref.tree_
    X32 = X.astype(np.float32).astype(np.float64)
    w = np.ones(len(y)) if w is None else w
    stack, ties = [(0, 0, np.flatnonzero(w > 0))], 0
    while stack:
        i, j, idx = stack.pop()
        assert a.n_node_samples[i] == b.n_node_samples[j] == len(idx)
        np.testing.assert_allclose(a.impurity[i], b.impurity[j], rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(a.value[i], b.value[j], rtol=1e-10, atol=1e-12)
        assert (a.children_left[i] == -1) == (b.children_left[j] == -1)
        if a.children_left[i] == -1:
            continue
        same = (a.feature[i], a.threshold[i], bool(a.missing_go_to_left[i])) == (
            b.feature[j],
            b.threshold[j],
            bool(b.missing_go_to_left[j]),
        )
        if not same:
            costs = [
                _split_cost(
                    ours.criterion,
                    X32[idx, t.feature[k]],
                    y[idx],
                    w[idx],
                    t.threshold[k],
                    bool(t.missing_go_to_left[k]),
                )
                for t, k in ((a, i), (b, j))
            ]
            np.testing.assert_allclose(costs[0], costs[1], rtol=1e-10, atol=1e-12)
            ties += 1
            continue
        x = X32[idx, a.feature[i]]
        left = np.where(np.isnan(x), bool(a.missing_go_to_left[i]), x <= a.threshold[i])
        stack.append((a.children_left[i], b.children_left[j], idx[left]))
        stack.append((a.children_right[i], b.children_right[j], idx[~left]))
    if max_ties is not None:
        assert ties <= max_ties
    return ties


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("criterion", ["gini", "entropy"])
def test_classifier_structure_equals_sklearn(seed, criterion):
    X, y = _gaussian(seed, classes=3)
    params = dict(criterion=criterion, min_samples_leaf=5, random_state=seed)
    ours = DecisionTreeClassifier(**params).fit(X, y)
    ref = sk.DecisionTreeClassifier(**params).fit(X, y)
    if assert_same_tree(ours, ref, X, y) == 0:  # no tie: the trees are identical
        X_test, _ = _gaussian(seed + 100, classes=3)
        np.testing.assert_allclose(ours.predict_proba(X_test), ref.predict_proba(X_test))
        np.testing.assert_allclose(ours.feature_importances_, ref.feature_importances_, rtol=1e-10)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_shallow_classifier_equals_sklearn(seed):
    """Large nodes do not tie: a depth-3 tree is identical, on new data too."""
    X, y = _gaussian(seed, n=600, classes=3)
    params = dict(max_depth=3, random_state=seed)
    ours = DecisionTreeClassifier(**params).fit(X, y)
    ref = sk.DecisionTreeClassifier(**params).fit(X, y)
    assert_same_tree(ours, ref, X, y, max_ties=0)
    X_test, _ = _gaussian(seed + 100, classes=3)
    np.testing.assert_allclose(ours.predict_proba(X_test), ref.predict_proba(X_test), atol=1e-12)
    np.testing.assert_allclose(ours.feature_importances_, ref.feature_importances_, rtol=1e-10)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("max_depth", [3, None])
def test_regressor_structure_equals_sklearn(seed, max_depth):
    X, y = _gaussian(seed)
    params = dict(max_depth=max_depth, min_samples_leaf=4, random_state=seed)
    ours = DecisionTreeRegressor(**params).fit(X, y)
    ref = sk.DecisionTreeRegressor(**params).fit(X, y)
    ties = assert_same_tree(ours, ref, X, y, max_ties=0 if max_depth else None)
    if ties == 0:
        X_test, _ = _gaussian(seed + 100)
        np.testing.assert_allclose(ours.predict(X_test), ref.predict(X_test), rtol=1e-12)


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_missing_values_route_as_sklearn(seed, kind):
    """20% NaN: the learned side of every split and the predictions match scikit-learn."""
    X, y = _gaussian(seed, classes=2 if kind == "classifier" else None, nan_rate=0.2)
    X_test, _ = _gaussian(seed + 100, nan_rate=0.2)
    ours_cls, ref_cls = (
        (DecisionTreeClassifier, sk.DecisionTreeClassifier)
        if kind == "classifier"
        else (DecisionTreeRegressor, sk.DecisionTreeRegressor)
    )
    params = dict(max_depth=3, min_samples_leaf=10, random_state=seed)
    ours, ref = ours_cls(**params).fit(X, y), ref_cls(**params).fit(X, y)
    assert_same_tree(ours, ref, X, y, max_ties=0)
    np.testing.assert_allclose(ours.predict(X_test), ref.predict(X_test), rtol=1e-12)


@pytest.mark.parametrize(
    "load, kind",
    [(load_breast_cancer, "c"), (load_iris, "c"), (load_wine, "c"), (load_diabetes, "r")],
)
def test_bundled_data_same_partitions(load, kind):
    """Fully grown trees on bundled data: every node agrees, or splits on an exact tie."""
    X, y = load(return_X_y=True)
    ours_cls, ref_cls = (
        (DecisionTreeClassifier, sk.DecisionTreeClassifier)
        if kind == "c"
        else (DecisionTreeRegressor, sk.DecisionTreeRegressor)
    )
    ours, ref = ours_cls(random_state=0).fit(X, y), ref_cls(random_state=0).fit(X, y)
    assert_same_tree(ours, ref, X, y)


def test_sample_weight_matches_sklearn():
    X, y = _gaussian(3)
    w = np.random.default_rng(3).integers(0, 4, size=len(y)).astype(float)
    params = dict(min_samples_leaf=3, random_state=0)
    ours = DecisionTreeRegressor(**params).fit(X, y, sample_weight=w)
    ref = sk.DecisionTreeRegressor(**params).fit(X, y, sample_weight=w)
    assert_same_tree(ours, ref, X, y, w)


def test_hand_computed_stump():
    """x = 0..3, y = 0 0 1 1: one split at 1.5, root gini 1/2, pure leaves."""
    X = np.arange(4.0)[:, None]
    t = DecisionTreeClassifier().fit(X, [0, 0, 1, 1]).tree_
    assert t.node_count == 3
    assert t.threshold[0] == 1.5
    assert t.impurity[0] == 0.5
    np.testing.assert_array_equal(t.impurity[1:], [0.0, 0.0])
    np.testing.assert_array_equal(t.value[:, 0], [[0.5, 0.5], [1, 0], [0, 1]])


def test_hand_computed_entropy_and_squared_error():
    X = np.arange(4.0)[:, None]
    t = DecisionTreeClassifier(criterion="entropy", max_depth=1).fit(X, [0, 0, 0, 1]).tree_
    p = 0.25
    assert t.impurity[0] == pytest.approx(-(p * np.log2(p) + (1 - p) * np.log2(1 - p)))
    r = DecisionTreeRegressor(max_depth=1).fit(X, [1.0, 1.0, 3.0, 5.0]).tree_
    assert r.impurity[0] == pytest.approx(np.var([1.0, 1.0, 3.0, 5.0]))
    assert r.threshold[0] == 1.5  # {1, 1} | {3, 5}: children variances 0 and 1
    np.testing.assert_allclose(r.value[1:, 0, 0], [1.0, 4.0])


def test_missing_side_is_learned():
    """NaN rows all have label 1: the split sends them with the 1s (right)."""
    X = np.array([[1.0], [2.0], [3.0], [4.0], [np.nan], [np.nan]])
    t = DecisionTreeClassifier().fit(X, [0, 0, 1, 1, 1, 1])
    assert t.tree_.threshold[0] == 2.5
    assert not t.tree_.missing_go_to_left[0]
    # and to the left when NaN rows are 0s
    t = DecisionTreeClassifier().fit(X, [0, 0, 1, 1, 0, 0])
    assert t.tree_.missing_go_to_left[0]
    np.testing.assert_array_equal(t.predict([[np.nan], [1.5], [3.5]]), [0, 0, 1])


def test_unseen_missing_follows_larger_child():
    """No NaN at fit: a NaN at predict time follows the child that received more samples."""
    X = np.arange(10.0)[:, None]
    y = (X[:, 0] > 2).astype(int)  # 3 left, 7 right
    t = DecisionTreeClassifier().fit(X, y)
    assert t.predict([[np.nan]])[0] == 1


@pytest.mark.parametrize("max_depth, min_samples_leaf", [(2, 1), (None, 10), (4, 0.05)])
def test_stopping_rules_are_respected(max_depth, min_samples_leaf):
    X, y = _gaussian(5)
    t = DecisionTreeRegressor(max_depth=max_depth, min_samples_leaf=min_samples_leaf).fit(X, y)
    leaves = t.tree_.children_left == -1
    limit = min_samples_leaf if isinstance(min_samples_leaf, int) else 0.05 * len(y)
    assert t.tree_.n_node_samples[leaves].min() >= limit
    if max_depth is not None:
        assert t.get_depth() <= max_depth


def test_min_impurity_decrease_prunes_weak_splits():
    X, y = _gaussian(6)
    full = DecisionTreeRegressor(random_state=0).fit(X, y)
    pruned = DecisionTreeRegressor(min_impurity_decrease=0.01, random_state=0).fit(X, y)
    ref = sk.DecisionTreeRegressor(min_impurity_decrease=0.01, random_state=0).fit(X, y)
    assert pruned.tree_.node_count < full.tree_.node_count
    assert pruned.tree_.node_count == ref.tree_.node_count


def test_max_features_draws_a_subset():
    X, y = _gaussian(7, d=10)
    t = DecisionTreeRegressor(max_features="sqrt", random_state=0).fit(X, y)
    assert t.max_features_ == 3
    assert len(np.unique(t.tree_.feature[t.tree_.feature >= 0])) > 3  # different per node


def test_export_text_layout():
    X = np.array([[1.0], [2.0], [3.0], [4.0], [np.nan], [np.nan]])
    t = DecisionTreeClassifier().fit(X, [0, 0, 1, 1, 1, 1])
    assert export_text(t, feature_names=["age"], show_missing=True) == (
        "|--- age <= 2.50\n|   |--- class: 0\n|--- age >  2.50 (NaN)\n|   |--- class: 1\n"
    )
    ref = sk.export_text(
        sk.DecisionTreeClassifier().fit(X, [0, 0, 1, 1, 1, 1]), feature_names=["age"]
    )
    assert export_text(t, feature_names=["age"]) == ref  # the default is scikit-learn's text


@pytest.mark.parametrize(
    "kw",
    [
        dict(max_depth=0),
        dict(max_depth=1, spacing=1),
        dict(max_depth=2, spacing=5, decimals=0),
        dict(max_depth=3, show_weights=True, decimals=3),
        dict(class_names=["setosa", "versicolor", "virginica"], max_depth=1),
    ],
)
def test_export_text_options_equal_sklearn(kw):
    """Truncated branches, indentation width, digits and class names as scikit-learn prints
    them (iris, a depth-3 tree: the split features are checked equal first)."""
    X, y = load_iris(return_X_y=True)
    ours = DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, y)
    ref = sk.DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, y)
    np.testing.assert_array_equal(ours.tree_.feature, ref.tree_.feature)
    assert export_text(ours, **kw) == sk.export_text(ref, **kw)
    Xd, yd = load_diabetes(return_X_y=True)
    reg = DecisionTreeRegressor(max_depth=3).fit(Xd, yd)
    ref_reg = sk.DecisionTreeRegressor(max_depth=3).fit(Xd, yd)
    np.testing.assert_array_equal(reg.tree_.feature, ref_reg.tree_.feature)
    kw.pop("class_names", None)
    assert export_text(reg, **kw) == sk.export_text(ref_reg, **kw)


@pytest.mark.parametrize(
    "kw, match",
    [
        (dict(max_depth=-1), "max_depth"),
        (dict(spacing=0), "spacing"),
        (dict(decimals=1.5), "decimals"),
        (dict(class_names=["a", "b"]), "class_names"),
    ],
)
def test_export_text_bad_options(kw, match):
    X, y = load_iris(return_X_y=True)
    with pytest.raises((ValueError, TypeError), match=match):
        export_text(DecisionTreeClassifier(max_depth=2).fit(X, y), **kw)


@pytest.mark.parametrize("show_weights", [False, True])
def test_export_text_of_several_outputs_equals_sklearn(show_weights):
    """scikit-learn prints, for several outputs, the first entry of each output: every
    regression value, or each output's share of its first class and the index of the largest
    share as the class (before, the leaves printed arrays of labels, `class: [0 1]`)."""
    X = np.arange(8.0).reshape(-1, 1)
    Y = np.c_[[0, 0, 1, 1, 0, 0, 1, 1], [5, 5, 5, 5, 7, 7, 9, 9]]
    Yr = np.c_[np.sin(X[:, 0]), X[:, 0] ** 2]
    for ours, theirs, y in [
        (DecisionTreeClassifier(), sk.DecisionTreeClassifier(), Y),
        (DecisionTreeRegressor(max_depth=2), sk.DecisionTreeRegressor(max_depth=2), Yr),
    ]:
        got = export_text(ours.fit(X, y), show_missing=False, show_weights=show_weights)
        assert got == sk.export_text(theirs.fit(X, y), show_weights=show_weights)


def test_save_load_round_trip(tmp_path):
    X, y = _gaussian(8, classes=3, nan_rate=0.1)
    t = DecisionTreeClassifier(max_depth=5, random_state=0).fit(X, y)
    back = io.load(io.save(t, tmp_path / "tree.npz"))
    np.testing.assert_array_equal(back.predict_proba(X), t.predict_proba(X))
    np.testing.assert_array_equal(back.tree_.threshold, t.tree_.threshold)
    np.testing.assert_array_equal(back.tree_.n_classes, [3])


def test_load_fills_in_the_class_counts_of_a_file_written_before_trees_stored_them(tmp_path):
    X, _ = _gaussian(8, classes=3)
    y = np.column_stack([np.arange(len(X)) % 3, np.arange(len(X)) % 2])  # 3 and 2 classes
    t = DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, y)
    del t.tree_.n_classes
    back = io.load(io.save(t, tmp_path / "old.npz"))
    np.testing.assert_array_equal(back.tree_.n_classes, [3, 2])
    r = DecisionTreeRegressor(max_depth=3).fit(X, y.astype(float))
    del r.tree_.n_classes
    np.testing.assert_array_equal(io.load(io.save(r, tmp_path / "r.npz")).tree_.n_classes, [1, 1])


@pytest.mark.parametrize(
    ("n_classes", "words"),
    [([5], r"n_classes must hold one count in \[1, 3\] per output"), ([2], "classes_ of each")],
)
def test_load_refuses_a_wrong_class_count(tmp_path, n_classes, words):
    X, y = _gaussian(8, classes=3)
    t = DecisionTreeClassifier(max_depth=3).fit(X, y)
    t.tree_.n_classes = np.array(n_classes)
    with pytest.raises(ValueError, match=words):
        io.load(io.save(t, tmp_path / "tree.npz"))


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(criterion="mse"), "criterion must be one of"),
        (dict(max_depth=0), "max_depth must be >= 1"),
        (dict(min_samples_split=1), "min_samples_split must be >= 2"),
        (dict(min_samples_leaf=1.5), "min_samples_leaf must be < 1"),
        (dict(max_features="all"), "max_features must be None"),
        (dict(min_impurity_decrease=-1.0), "min_impurity_decrease must be >= 0"),
    ],
)
def test_bad_parameters(params, match):
    X, y = _gaussian(0, classes=2)
    with pytest.raises(ValueError, match=match):
        DecisionTreeClassifier(**params).fit(X, y)


@pytest.mark.parametrize(
    "name", ["DecisionTreeRegressor", "RandomForestRegressor", "GradientBoostingRegressor"]
)
def test_min_samples_leaf_share_of_one_is_refused_as_sklearn(name):
    """scikit-learn takes a min_samples_leaf share in the open range (0, 1) (1.0 would ask each
    leaf to hold every sample); 1.0 was accepted and grew a single leaf."""
    from sklearn import ensemble as ske

    from mlcanon import ensemble, tree

    X, y = _gaussian(0)
    ours = getattr(tree, name, None) or getattr(ensemble, name)
    ref = getattr(sk, name, None) or getattr(ske, name)
    with pytest.raises(ValueError, match=r"range \(0.0, 1.0\)"):
        ref(min_samples_leaf=1.0).fit(X, y)
    with pytest.raises(ValueError, match=r"min_samples_leaf must be < 1.0, got 1.0"):
        ours(min_samples_leaf=1.0).fit(X, y)
    kw = dict(min_samples_leaf=0.4, random_state=0)
    if name == "RandomForestRegressor":
        kw.update(bootstrap=False, n_estimators=3)  # every tree the same: no random draws
    np.testing.assert_allclose(ours(**kw).fit(X, y).predict(X), ref(**kw).fit(X, y).predict(X))


def test_max_features_above_n_features_searches_every_feature_as_sklearn():
    """scikit-learn's trees take an int max_features above n_features (kept in max_features_)
    and then search every feature: the tree of max_features=None."""
    X, y = _gaussian(0, classes=3)
    ref = sk.DecisionTreeClassifier(max_features=99, max_depth=3, random_state=0).fit(X, y)
    ours = DecisionTreeClassifier(max_features=99, max_depth=3, random_state=0).fit(X, y)
    assert ours.max_features_ == ref.max_features_ == 99
    np.testing.assert_array_equal(ours.tree_.feature, ref.tree_.feature)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X))


def test_bad_input():
    X, y = _gaussian(0, classes=2)
    t = DecisionTreeClassifier()
    with pytest.raises(ValueError, match="infinity"):
        t.fit(np.where(X > 2, np.inf, X), y)
    with pytest.raises(ValueError, match="2-D"):
        t.fit(X[:, 0], y)
    with pytest.raises(ValueError, match="0 sample"):
        t.fit(X[:0], y[:0])
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        t.fit(X, y[:-1])
    with pytest.raises(ValueError, match="Unknown label type"):
        t.fit(X, y + 0.5)
    t.fit(X, y)
    with pytest.raises(ValueError, match="X has 5 features, but DecisionTreeClassifier"):
        t.predict(X[:, :5])
    with pytest.raises(ValueError, match="too large for float32"):
        t.predict(np.full((1, X.shape[1]), 1e300))
