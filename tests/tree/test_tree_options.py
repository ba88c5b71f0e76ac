"""Tree options against scikit-learn's trees on the same data: Poisson criterion, best-first
growth (max_leaf_nodes), min_weight_fraction_leaf, several outputs, class weights, sparse X,
decision paths, and the random splitter of extremely randomized trees.

The data are continuous and the leaves hold at least 10 samples (no tied gains between
features, which each library breaks with its own random feature order), so the exact splitters
must build the very same tree.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn import ensemble as ske
from sklearn import tree as skt
from sklearn.exceptions import NotFittedError

from mlcanon.ensemble import RandomForestClassifier
from mlcanon.tree import (
    DecisionTreeClassifier,
    DecisionTreeRegressor,
    ExtraTreeClassifier,
    ExtraTreeRegressor,
)


def _data(seed=0, n=300, d=5):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    rate = np.exp(1.5 + 0.6 * X[:, 0] - 0.4 * X[:, 1])  # few zero counts: see the Poisson test
    noisy = X + rng.normal(size=X.shape)  # labels with noise: no pure children, few ties
    y_class = (noisy[:, 0] + noisy[:, 2] > 0).astype(int) + (noisy[:, 1] > 1)
    return X, rng.poisson(rate).astype(float), y_class


def assert_same_tree(ours, ref):
    a, b = ours.tree_, ref.tree_
    np.testing.assert_array_equal(a.children_left, b.children_left)
    np.testing.assert_array_equal(a.children_right, b.children_right)
    np.testing.assert_array_equal(a.feature, b.feature)
    np.testing.assert_allclose(a.threshold, b.threshold)
    np.testing.assert_allclose(a.impurity, b.impurity, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(a.weighted_n_node_samples, b.weighted_n_node_samples)
    np.testing.assert_allclose(a.value, b.value, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize(
    "kw",
    [
        dict(criterion="poisson", max_depth=5),
        dict(criterion="absolute_error", max_depth=4),
        dict(criterion="absolute_error", max_leaf_nodes=9),
        dict(criterion="poisson", max_leaf_nodes=12),
        dict(max_leaf_nodes=7),
        dict(max_leaf_nodes=30),
        dict(min_weight_fraction_leaf=0.05),
    ],
)
def test_regressor_options_build_sklearn_tree(kw):
    X, y, _ = _data()
    if kw.get("criterion") == "absolute_error":
        y = y + X[:, 3]  # integer counts tie in absolute error between thresholds
    w = np.random.default_rng(1).uniform(0.5, 2.0, len(y))
    kw = dict(kw, min_samples_leaf=10)
    ours = DecisionTreeRegressor(**kw).fit(X, y, sample_weight=w)
    assert_same_tree(ours, skt.DecisionTreeRegressor(**kw).fit(X, y, sample_weight=w))


@pytest.mark.parametrize(
    "kw",
    [
        dict(max_leaf_nodes=6, criterion="entropy"),
        dict(min_weight_fraction_leaf=0.1),
        dict(class_weight="balanced", max_depth=4),
        dict(class_weight={0: 3.0, 2: 0.5}, max_depth=4),
    ],
)
def test_classifier_options_build_sklearn_tree(kw):
    X, _, y = _data()
    kw = dict(kw, min_samples_leaf=10)
    ours = DecisionTreeClassifier(**kw).fit(X, y)
    assert_same_tree(ours, skt.DecisionTreeClassifier(**kw).fit(X, y))


def test_multi_output_trees_match_sklearn():
    X, y_count, y_class = _data()
    Y = np.column_stack([y_count, X[:, 3] ** 2])
    ours = DecisionTreeRegressor(max_depth=4, min_samples_leaf=10).fit(X, Y)
    ref = skt.DecisionTreeRegressor(max_depth=4, min_samples_leaf=10).fit(X, Y)
    assert_same_tree(ours, ref)
    np.testing.assert_allclose(ours.predict(X), ref.predict(X))
    labels = np.column_stack([y_class, np.where(X[:, 4] > 0, "a", "b")])
    ours = DecisionTreeClassifier(max_depth=3, min_samples_leaf=10).fit(X, labels)
    ref = skt.DecisionTreeClassifier(max_depth=3, min_samples_leaf=10).fit(X, labels)
    assert_same_tree(ours, ref)
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))
    for p, q in zip(ours.predict_proba(X), ref.predict_proba(X), strict=True):
        np.testing.assert_allclose(p, q)


@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_sparse_X_gives_sklearn_tree_and_paths(fmt):
    X, y, _ = _data()
    y = y + X[:, 3]  # a continuous target: no tied gains on the many zeros
    X[np.abs(X) < 0.7] = 0.0
    Xs = sp.csr_matrix(X) if fmt == "csr" else sp.csc_matrix(X)
    ours = DecisionTreeRegressor(max_depth=5, min_samples_leaf=10).fit(Xs, y)
    ref = skt.DecisionTreeRegressor(max_depth=5, min_samples_leaf=10).fit(Xs, y)
    assert_same_tree(ours, ref)
    np.testing.assert_array_equal(ours.apply(Xs), ref.apply(Xs))
    assert (ours.decision_path(Xs) != ref.decision_path(Xs)).nnz == 0


def test_absolute_error_leaves_hold_weighted_medians():
    """Each node's value is the weighted median of its targets and its impurity the mean
    absolute deviation from it (written out here with sorting and cumulative weights)."""
    X, y, _ = _data()
    y = y + X[:, 3]
    w = np.random.default_rng(2).integers(1, 4, len(y)).astype(float)
    tree = DecisionTreeRegressor(criterion="absolute_error", max_depth=3).fit(X, y, sample_weight=w)
    paths = tree.decision_path(X).tocsc()
    for node in range(tree.tree_.node_count):
        rows = paths[:, node].nonzero()[0]
        order = np.argsort(y[rows])
        ys, ws = y[rows][order], w[rows][order]
        cum = np.cumsum(ws)
        j = np.searchsorted(cum, cum[-1] / 2, side="right")
        median = (ys[j - 1] + ys[j]) / 2 if j > 0 and cum[j - 1] == cum[-1] / 2 else ys[j]
        assert tree.tree_.value[node, 0, 0] == pytest.approx(median)
        mad = np.sum(ws * np.abs(ys - median)) / ws.sum()
        assert tree.tree_.impurity[node] == pytest.approx(mad)


@pytest.mark.parametrize("frac", [dict(min_samples_split=0.3), dict(min_samples_leaf=0.1)])
def test_fractions_count_the_zero_weight_rows_like_sklearn(frac):
    """A fractional min_samples_split/min_samples_leaf is a share of every row of X, those of
    weight zero included (scikit-learn's rule; a forest's bootstrap passes its draws so)."""
    X, y, _ = _data()
    y = y + X[:, 3]
    w = np.ones(len(y))
    w[::3] = 0.0
    ours = DecisionTreeRegressor(**frac).fit(X, y, sample_weight=w)
    ref = skt.DecisionTreeRegressor(**frac).fit(X, y, sample_weight=w)
    assert_same_tree(ours, ref)
    np.testing.assert_array_equal(ours.tree_.n_node_samples, ref.tree_.n_node_samples)


@pytest.mark.parametrize("cls", [DecisionTreeRegressor, ExtraTreeRegressor])
def test_friedman_mse_is_a_deprecated_alias_of_the_constructor_only(cls):
    """As in scikit-learn 1.9: the constructor maps it to "squared_error" with a
    FutureWarning; set_params stores it as given, and fit then refuses it."""
    ref_cls = getattr(skt, cls.__name__)
    with pytest.warns(FutureWarning, match="friedman_mse"):
        tree = cls(criterion="friedman_mse")
    with pytest.warns(FutureWarning, match="friedman_mse"):
        ref = ref_cls(criterion="friedman_mse")
    assert tree.criterion == ref.criterion == "squared_error"
    X, y, _ = _data(n=30)
    tree, ref = cls().set_params(criterion="friedman_mse"), ref_cls()
    ref.set_params(criterion="friedman_mse")
    assert tree.get_params()["criterion"] == ref.get_params()["criterion"] == "friedman_mse"
    with pytest.raises(ValueError, match="criterion"):
        ref.fit(X, y)
    with pytest.raises(ValueError, match=r"criterion must be one of .*got 'friedman_mse'"):
        tree.fit(X, y)


def test_tree_n_classes_is_sklearn_s():
    """``tree_.n_classes``: the classes of each output (1 per output for a regressor)."""
    X, y_count, y_class = _data()
    labels = np.column_stack([y_class, X[:, 4] > 0])  # 3 and 2 classes
    for ours, ref in [
        (DecisionTreeClassifier(max_depth=2), skt.DecisionTreeClassifier(max_depth=2)),
        (DecisionTreeRegressor(max_depth=2), skt.DecisionTreeRegressor(max_depth=2)),
    ]:
        for y in (labels, labels[:, 0]) if ours._is_clf else (np.column_stack([y_count] * 2),):
            a, b = ours.fit(X, y).tree_, ref.fit(X, y).tree_
            np.testing.assert_array_equal(a.n_classes, b.n_classes)
    pruned = DecisionTreeClassifier(ccp_alpha=0.01).fit(X, labels).tree_
    np.testing.assert_array_equal(pruned.n_classes, [3, 2])


def test_unfitted_and_sparse_target_errors_are_sklearn_s():
    X, _, y = _data(n=20)
    with pytest.raises(NotFittedError):
        _ = DecisionTreeClassifier().feature_importances_
    with pytest.raises(NotFittedError):
        _ = skt.DecisionTreeClassifier().feature_importances_
    Y = sp.csr_matrix(np.column_stack([y, y]))
    for cls in (DecisionTreeClassifier, skt.DecisionTreeClassifier, DecisionTreeRegressor):
        with pytest.raises(TypeError, match=r"[Ss]parse"):
            cls().fit(X, Y)


def test_poisson_refuses_negative_or_zero_targets():
    X = np.arange(6.0).reshape(-1, 1)
    with pytest.raises(ValueError, match="negative"):
        DecisionTreeRegressor(criterion="poisson").fit(X, [1, 2, -1, 0, 1, 2])
    with pytest.raises(ValueError, match="Sum of y is not strictly positive"):
        DecisionTreeRegressor(criterion="poisson").fit(X, np.zeros(6))


@pytest.mark.parametrize("cls", [ExtraTreeClassifier, ExtraTreeRegressor])
def test_random_thresholds_lie_inside_the_node_range(cls):
    """Each split of the random splitter cuts strictly inside the node's values of its feature
    (Geurts et al. 2006, alg. 2), so both children receive training samples."""
    X, y_count, y_class = _data()
    y = y_class if cls is ExtraTreeClassifier else y_count
    tree = cls(random_state=0, max_depth=6).fit(X, y)
    t, paths = tree.tree_, tree.decision_path(X).tocsc()
    for node in np.flatnonzero(t.children_left != -1):
        rows = paths[:, node].nonzero()[0]
        values = X[rows, t.feature[node]].astype(np.float32)
        assert values.min() <= t.threshold[node] < values.max()


def test_extra_tree_accuracy_matches_sklearn_on_average():
    """Random thresholds come from different streams: compare the mean over seeds."""
    X, _, y = _data(n=600)
    Xte, _, yte = _data(seed=5, n=600)
    ours = [ExtraTreeClassifier(random_state=s).fit(X, y).score(Xte, yte) for s in range(10)]
    ref = [skt.ExtraTreeClassifier(random_state=s).fit(X, y).score(Xte, yte) for s in range(10)]
    assert abs(np.mean(ours) - np.mean(ref)) <= 0.03


def test_new_parameters_are_validated():
    X, _, y = _data(n=20)
    with pytest.raises(ValueError, match="splitter must be one of"):
        DecisionTreeClassifier(splitter="fast").fit(X, y)
    with pytest.raises(ValueError, match=r"min_weight_fraction_leaf must be <= 0\.5"):
        DecisionTreeClassifier(min_weight_fraction_leaf=0.6).fit(X, y)
    with pytest.raises(ValueError, match="max_leaf_nodes must be >= 2"):
        DecisionTreeClassifier(max_leaf_nodes=1).fit(X, y)
    with pytest.raises(ValueError, match="number of elements in class_weight"):
        DecisionTreeClassifier(class_weight=[{0: 1.0}]).fit(X, np.column_stack([y, y]))


def test_poisson_never_makes_an_all_zero_child():
    """A Poisson leaf predicts the mean of its targets, which must be a positive rate: no
    child whose targets are all zero is created (the counts of positive targets decide, so
    the rounding left in a difference of sums cannot let one through)."""
    rng = np.random.default_rng(3)
    X = rng.normal(size=(400, 3))
    y = rng.poisson(0.3 * np.exp(X[:, 0])).astype(float)
    w = rng.uniform(0.5, 2.0, len(y))
    tree = DecisionTreeRegressor(criterion="poisson", min_samples_leaf=5).fit(X, y, sample_weight=w)
    leaves = tree.tree_.children_left == -1
    assert leaves.sum() > 10
    assert np.all(tree.tree_.value[leaves, 0, 0] > 0)


@pytest.mark.parametrize("ccp_alpha", [0.002, 0.01, 0.05])
def test_cost_complexity_pruning_matches_sklearn(ccp_alpha):
    X, y, _ = _data()
    y = y + X[:, 3]
    kw = dict(min_samples_leaf=5)
    ours = DecisionTreeRegressor(**kw).cost_complexity_pruning_path(X, y)
    ref = skt.DecisionTreeRegressor(**kw).cost_complexity_pruning_path(X, y)
    np.testing.assert_allclose(ours.ccp_alphas, ref.ccp_alphas, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ours.impurities, ref.impurities, rtol=1e-9, atol=1e-12)
    scale = np.var(y)  # alphas are in units of the node impurity
    pruned = DecisionTreeRegressor(ccp_alpha=ccp_alpha * scale, **kw).fit(X, y)
    assert_same_tree(pruned, skt.DecisionTreeRegressor(ccp_alpha=ccp_alpha * scale, **kw).fit(X, y))


def test_tree_object_reads_float32_dense_or_sparse():
    X, y, _ = _data()
    y = y + X[:, 3]
    tree = DecisionTreeRegressor(max_depth=4, min_samples_leaf=10).fit(X, y)
    X32 = X.astype(np.float32)
    np.testing.assert_array_equal(tree.tree_.apply(sp.csr_matrix(X32)), tree.apply(X))
    assert (tree.tree_.decision_path(X32) != tree.decision_path(X)).nnz == 0
    with pytest.raises(ValueError, match="float32"):
        tree.tree_.apply(X)
    ref = skt.DecisionTreeRegressor(max_depth=4, min_samples_leaf=10).fit(X, y)
    np.testing.assert_allclose(
        tree.tree_.compute_feature_importances(normalize=False),
        ref.tree_.compute_feature_importances(normalize=False),
    )


@pytest.mark.parametrize("n_outputs", [1, 2])
@pytest.mark.parametrize("kind", ["regressor", "classifier"])
def test_tree_object_predict_and_node_depths_are_sklearn_s(kind, n_outputs):
    """``Tree.predict`` keeps every output, (n_samples, n_outputs, n_values), as scikit-learn's
    (it returned the first output's values only), and ``Tree.compute_node_depths`` (root 1) was
    missing."""
    X, y_count, y_class = _data()
    if kind == "regressor":
        Y = np.column_stack([y_count, X[:, 3] ** 2])
        ours_cls, ref_cls = DecisionTreeRegressor, skt.DecisionTreeRegressor
    else:
        Y = np.column_stack([y_class, (X[:, 4] > 0).astype(int)])
        ours_cls, ref_cls = DecisionTreeClassifier, skt.DecisionTreeClassifier
    Y = Y[:, 0] if n_outputs == 1 else Y
    ours = ours_cls(max_depth=4, min_samples_leaf=10).fit(X, Y)
    ref = ref_cls(max_depth=4, min_samples_leaf=10).fit(X, Y)
    assert_same_tree(ours, ref)
    X32 = X.astype(np.float32)
    got, want = ours.tree_.predict(X32), ref.tree_.predict(X32)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)
    depths = ours.tree_.compute_node_depths()
    assert depths.dtype == np.int64
    np.testing.assert_array_equal(depths, ref.tree_.compute_node_depths())
    assert ours.get_depth() == ref.get_depth() == 4


CLASS_WEIGHTED = {  # ours, scikit-learn's, and options that make them deterministic
    "tree": (DecisionTreeClassifier, skt.DecisionTreeClassifier, {}),
    "forest": (RandomForestClassifier, ske.RandomForestClassifier, {"bootstrap": False}),
}


@pytest.mark.parametrize("kind", CLASS_WEIGHTED)
def test_class_weight_labels_follow_sklearn(kind):
    """scikit-learn's rule: a label that is not a class is refused when some class has no
    weight ("Yes" for "yes"), and allowed when every class has one (a fold can miss a class)."""
    ours, theirs, same = CLASS_WEIGHTED[kind]
    X = np.arange(10.0).reshape(-1, 1)
    y = np.array(["no"] * 7 + ["yes"] * 3)
    words = r"The classes, \['no', 'yes'\], are not in class_weight"
    for model in (ours, theirs):
        with pytest.raises(ValueError, match=words):
            model(class_weight={"Yes": 10}).fit(X, y)
    spec = {"no": 1.0, "yes": 3.0, "maybe": 2.0}
    got = ours(class_weight=spec, max_depth=1, **same).fit(X, y).predict_proba(X)
    want = theirs(class_weight=spec, max_depth=1, **same).fit(X, y).predict_proba(X)
    np.testing.assert_allclose(got, want, atol=1e-12)


@pytest.mark.parametrize("kind", CLASS_WEIGHTED)
@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ({0: -1.0, 1: 1.0}, r"class_weight values must be finite numbers >= 0; got .*-1\.0"),
        ({0: np.nan, 1: 1.0}, r"class_weight values must be finite numbers >= 0; got .*nan"),
        ({0: np.inf, 1: 1.0}, r"class_weight values must be finite numbers >= 0; got .*inf"),
        ({0: 0.0, 1: 0.0}, r"class_weight=\{0: 0\.0, 1: 0\.0\} leaves every sample with weight 0"),
        ([{0: 1.0, 1: 1.0}, {5: 0.0, 7: 0.0}], r"leaves every sample with weight 0"),
    ],
)
def test_class_weight_values_are_checked(kind, spec, words):
    """Before, a negative or NaN weight silently dropped its class and all-zero weights failed
    in a reshape (tree) or in numpy's sampler (forest)."""
    X = np.arange(10.0).reshape(-1, 1)
    y = np.array([0] * 5 + [1] * 5)
    if isinstance(spec, list):
        y = np.c_[y, np.where(y == 0, 5, 7)]
    with pytest.raises(ValueError, match=words):
        CLASS_WEIGHTED[kind][0](class_weight=spec).fit(X, y)
