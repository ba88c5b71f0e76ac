"""Gradient boosting's further losses and options (exponential and quantile losses, init,
warm start, apply, early stopping, sparse X, monitor), its tree parameters (max_leaf_nodes,
ccp_alpha, min_weight_fraction_leaf) and feature importances against scikit-learn on the same
data.

For the tree parameters: continuous features (six) and ``min_samples_leaf=10``: on these data
no node has two equally good splits on different features, an exact tie that scikit-learn
breaks by its random feature order. (The absolute and quantile losses' residuals take two
values only, which makes such ties common; they are left out there.)
"""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn import ensemble as ske
from sklearn.datasets import make_hastie_10_2
from sklearn.linear_model import LinearRegression
from sklearn.metrics import log_loss

from mlcanon.ensemble import GradientBoostingClassifier, GradientBoostingRegressor


def _data(seed, n=300, classes=None, n_features=5):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, n_features))
    f = np.sin(2 * X[:, 0]) + X[:, 1] * X[:, 2] + 0.5 * X[:, 3]
    if classes:
        return X, np.digitize(f, np.quantile(f, np.linspace(0, 1, classes + 1)[1:-1]))
    return X, f + rng.normal(scale=0.3, size=n)


KW = dict(n_estimators=20, max_depth=2, min_samples_leaf=15, random_state=0)


def test_exponential_loss_equals_sklearn():
    X, y = _data(1, classes=2)
    X_test, _ = _data(11)
    ours = GradientBoostingClassifier(loss="exponential", **KW).fit(X, y)
    ref = ske.GradientBoostingClassifier(loss="exponential", **KW).fit(X, y)
    np.testing.assert_allclose(ours.predict_proba(X_test), ref.predict_proba(X_test), atol=1e-6)
    np.testing.assert_allclose(ours.train_score_, ref.train_score_, rtol=1e-6)


def test_binomial_train_score_is_sklearns_deviance():
    X, y = _data(2, classes=2)
    ours = GradientBoostingClassifier(**KW).fit(X, y)
    ref = ske.GradientBoostingClassifier(**KW).fit(X, y)
    np.testing.assert_allclose(ours.train_score_, ref.train_score_, rtol=1e-6)


@pytest.mark.parametrize("alpha", [0.1, 0.5, 0.9])
def test_quantile_loss_equals_sklearn(alpha):
    """Ten stages: the residuals take two values only, so later trees meet exact ties between
    features (same partition, same gain) that scikit-learn breaks by its random feature order."""
    X, y = _data(3)
    kw = dict(KW, n_estimators=10, loss="quantile", alpha=alpha)
    ours = GradientBoostingRegressor(**kw).fit(X, y)
    ref = ske.GradientBoostingRegressor(**kw).fit(X, y)
    np.testing.assert_allclose(ours.predict(X), ref.predict(X), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("init", ["zero", LinearRegression()])
def test_init_equals_sklearn(init):
    X, y = _data(4)
    ours = GradientBoostingRegressor(init=init, **KW).fit(X, y)
    ref = ske.GradientBoostingRegressor(init=init, **KW).fit(X, y)
    np.testing.assert_allclose(ours.predict(X), ref.predict(X), rtol=1e-6, atol=1e-6)


def test_warm_start_continues_as_one_fit_and_apply_equals_sklearn():
    X, y = _data(5, classes=3)
    grown = GradientBoostingClassifier(warm_start=True, subsample=0.7, **KW)
    grown.set_params(n_estimators=8).fit(X, y)
    grown.set_params(n_estimators=20).fit(X, y)
    whole = GradientBoostingClassifier(subsample=0.7, **KW).fit(X, y)
    np.testing.assert_allclose(grown.predict_proba(X), whole.predict_proba(X))
    np.testing.assert_allclose(grown.oob_scores_, whole.oob_scores_)
    ours = GradientBoostingClassifier(**KW).fit(X, y)
    ref = ske.GradientBoostingClassifier(**KW).fit(X, y)
    assert ours.estimators_.shape == ref.estimators_.shape == (20, 3)
    np.testing.assert_array_equal(ours.apply(X), ref.apply(X))
    assert ours.apply(X).dtype == ref.apply(X).dtype


def test_sparse_X_gives_the_dense_model():
    X, y = _data(6)
    X[np.abs(X) < 0.5] = 0.0
    dense = GradientBoostingRegressor(**KW).fit(X, y)
    sparse = GradientBoostingRegressor(**KW).fit(sp.csr_matrix(X), y)
    np.testing.assert_allclose(sparse.predict(sp.csc_matrix(X)), dense.predict(X))


def test_two_random_features_per_split_fit_hastie():
    """The public part of scikit-learn's test_max_feature_regression (its data, seed and
    bound; upstream reads the log-loss from its private ``_loss``): held-out log-loss < 0.5."""
    X, y = make_hastie_10_2(n_samples=12000, random_state=42)
    kw = dict(n_estimators=100, min_samples_split=5, max_depth=2, max_features=2)
    m = GradientBoostingClassifier(**kw, random_state=42).fit(X[:2000], y[:2000])
    assert log_loss(y[2000:], m.predict_proba(X[2000:])) < 0.5


def test_early_stopping_and_monitor_stop_the_boosting():
    X, y = _data(7)
    kw = dict(n_estimators=500, learning_rate=0.5, random_state=0)
    m = GradientBoostingRegressor(n_iter_no_change=3, **kw).fit(X, y)
    assert m.n_estimators_ < 500 and m.estimators_.shape == (m.n_estimators_, 1)
    m = GradientBoostingRegressor(**kw).fit(X, y, monitor=lambda i, est, env: i == 9)
    assert m.n_estimators_ == 10 and len(m.train_score_) == 10
    with pytest.raises(ValueError, match="Classes with too few members are"):
        GradientBoostingClassifier(n_iter_no_change=2).fit(X[:4], [0, 0, 0, 1])


def test_bad_options_use_sklearns_words():
    X, y = _data(8, classes=3)
    with pytest.raises(ValueError, match="only suitable for a binary classification"):
        GradientBoostingClassifier(loss="exponential").fit(X, y)
    with pytest.raises(ValueError, match="implementing 'fit' and 'predict_proba'"):
        GradientBoostingClassifier(init=LinearRegression()).fit(X, y)
    with pytest.raises(ValueError, match="must be larger or equal to estimators_"):
        m = GradientBoostingClassifier(n_estimators=5, warm_start=True).fit(X, y)
        m.set_params(n_estimators=2).fit(X, y)
    with pytest.warns(FutureWarning, match="`criterion` is deprecated"):
        GradientBoostingClassifier(n_estimators=2, criterion="squared_error").fit(X, y)


TREE_KW = dict(n_estimators=15, min_samples_leaf=10, random_state=0)


def _leaves(model):
    return [int(np.sum(t.tree_.children_left == -1)) for t in model.estimators_.ravel()]


@pytest.mark.parametrize("loss", ["squared_error", "huber"])
@pytest.mark.parametrize(("max_leaf_nodes", "max_depth"), [(4, 3), (10, None)])
def test_max_leaf_nodes_regressor_equals_sklearn(loss, max_leaf_nodes, max_depth):
    """Best-first trees: the same leaves (counts) and predictions, on new data too."""
    X, y = _data(0, n_features=6)
    X_new, _ = _data(10, n_features=6)
    kw = dict(TREE_KW, loss=loss, max_leaf_nodes=max_leaf_nodes, max_depth=max_depth)
    ours = GradientBoostingRegressor(**kw).fit(X, y)
    ref = ske.GradientBoostingRegressor(**kw).fit(X, y)
    assert _leaves(ours) == _leaves(ref)
    assert max(_leaves(ours)) == max_leaf_nodes
    np.testing.assert_allclose(ours.predict(X_new), ref.predict(X_new), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(ours.train_score_, ref.train_score_, rtol=1e-9)


@pytest.mark.parametrize("classes", [2, 3])
def test_max_leaf_nodes_classifier_equals_sklearn(classes):
    """A class's first residuals take two values, so two splits with the same class counts
    on each side tie exactly; seed 3 has no such tie (seeds 0 and 1 do, with three classes:
    a node is then cut on another feature into groups of the same sizes and impurities)."""
    X, y = _data(3, n_features=6, classes=classes)
    X_new, _ = _data(13, n_features=6)
    kw = dict(TREE_KW, max_leaf_nodes=6, max_depth=None)
    ours = GradientBoostingClassifier(**kw).fit(X, y)
    ref = ske.GradientBoostingClassifier(**kw).fit(X, y)
    assert _leaves(ours) == _leaves(ref)
    np.testing.assert_allclose(ours.predict_proba(X_new), ref.predict_proba(X_new), atol=1e-9)


@pytest.mark.parametrize(
    "params", [dict(ccp_alpha=0.02), dict(min_weight_fraction_leaf=0.1)], ids=str
)
def test_pruning_and_leaf_weight_equal_sklearn(params):
    X, y = _data(2, n_features=6)
    X_new, _ = _data(12, n_features=6)
    ours = GradientBoostingRegressor(**TREE_KW, **params).fit(X, y)
    ref = ske.GradientBoostingRegressor(**TREE_KW, **params).fit(X, y)
    assert _leaves(ours) == _leaves(ref)
    np.testing.assert_allclose(ours.predict(X_new), ref.predict(X_new), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("loss", ["squared_error", "huber"])
def test_feature_importances_equal_sklearn(loss):
    """The setting of scikit-learn's California-housing importance test (Huber loss, six
    leaves per tree): the trees' unnormalised impurity decreases are averaged, then
    normalised, so the stages that explain more weigh more."""
    X, y = _data(3, n_features=6)
    kw = dict(TREE_KW, n_estimators=40, loss=loss, max_leaf_nodes=6)
    ours = GradientBoostingRegressor(**kw).fit(X, y)
    ref = ske.GradientBoostingRegressor(**kw).fit(X, y)
    np.testing.assert_allclose(ours.feature_importances_, ref.feature_importances_, atol=1e-12)
    # Averaging each tree's normalised importances instead would differ by far more than that.
    per_tree = np.mean([t.feature_importances_ for t in ref.estimators_.ravel()], axis=0)
    assert np.abs(per_tree / per_tree.sum() - ref.feature_importances_).max() > 1e-3


def test_feature_importances_are_zero_when_no_tree_splits():
    X, _ = _data(4, n_features=6)
    y = np.ones(len(X))
    ours = GradientBoostingRegressor(n_estimators=3).fit(X, y)
    ref = ske.GradientBoostingRegressor(n_estimators=3).fit(X, y)
    np.testing.assert_array_equal(ours.feature_importances_, ref.feature_importances_)
    np.testing.assert_array_equal(ours.feature_importances_, np.zeros(X.shape[1]))


def test_huber_overfits_ten_points():
    """The public part of scikit-learn's test_huber_overfit (its data and thresholds): the
    Huber threshold shrinks with the residuals until the fit interpolates."""
    y = np.arange(10)
    X = np.c_[np.minimum(y, 5), np.minimum(-y, -5)]
    m = GradientBoostingRegressor(loss="huber", n_estimators=100, alpha=0.8, random_state=0)
    m.fit(X, y)
    np.testing.assert_allclose(m.predict(X), y, atol=0.01)
    assert np.all(m.train_score_[-10:] < 3e-7)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        (dict(max_leaf_nodes=1), "max_leaf_nodes must be >= 2"),
        (dict(ccp_alpha=-1.0), "ccp_alpha must be >= 0"),
        (dict(min_weight_fraction_leaf=0.6), "min_weight_fraction_leaf must be <= 0.5"),
    ],
)
def test_bad_tree_parameters(params, match):
    X, y = _data(5, n_features=6)
    with pytest.raises(ValueError, match=match):
        GradientBoostingRegressor(**params).fit(X, y)


def test_feature_importances_before_fit_is_not_fitted_error():
    from sklearn.exceptions import NotFittedError

    for est in (GradientBoostingRegressor(), ske.GradientBoostingRegressor()):
        with pytest.raises(NotFittedError):
            est.feature_importances_


@pytest.mark.parametrize(
    ("fraction", "n", "words"),
    [
        (0.03, 30, "The test_size = 1 should be greater or equal to the number of classes = 3"),
        (0.95, 30, "The train_size = 1 should be greater or equal to the number of classes = 3"),
    ],
)
def test_early_stopping_split_too_small_for_the_classes(fraction, n, words):
    """The stratified hold-out of ceil(0.03 * 30) = 1 row cannot hold 3 classes: scikit-learn's
    error (before, every class rounded to 0 rows and the empty validation loss divided by 0)."""
    X = np.random.default_rng(0).normal(size=(n, 3))
    y = np.arange(n) % 3
    for model in (GradientBoostingClassifier, ske.GradientBoostingClassifier):
        with pytest.raises(ValueError, match=words):
            model(n_iter_no_change=2, validation_fraction=fraction).fit(X, y)


def test_hold_out_of_every_row_is_refused():
    X = np.random.default_rng(0).normal(size=(2, 3))
    with pytest.raises(ValueError, match=r"validation_fraction=0\.9 holds out .* = 2 of the 2"):
        GradientBoostingRegressor(n_iter_no_change=2, validation_fraction=0.9).fit(X, [0.0, 1.0])


@pytest.mark.parametrize(
    ("params", "weights", "words"),
    [
        ({"subsample": 0.3}, slice(0, 3), "subsample=0.3 draws 12 of 40 rows .* drawn rows"),
        ({"subsample": 0.5}, slice(0, 1), "subsample=0.5 draws 20 of 40 rows .* out-of-bag rows"),
        (
            {"n_iter_no_change": 2, "validation_fraction": 0.1},
            slice(0, 1),
            r"validation_fraction=0\.1 holds out .* validation rows all have sample_weight 0",
        ),
    ],
)
def test_parts_without_weight_are_refused(params, weights, words):
    """A stage's drawn rows (or its out-of-bag rows, or the validation rows) all of weight 0:
    scikit-learn says "Sample weights must contain at least one non-zero number" or divides by
    0; so did this (ZeroDivisionError)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    w = np.zeros(40)
    w[weights] = 1.0
    with pytest.raises(ValueError, match=words):
        GradientBoostingRegressor(n_estimators=5, random_state=0, **params).fit(X, X[:, 0], w)


@pytest.mark.parametrize(
    ("kind", "random_state"),
    [("reg", 0), ("reg", 1), ("reg", 2), ("clf", 0), ("clf", 1), ("clf", 3)],
)
def test_early_stopping_holds_out_sklearn_s_rows_and_stops_at_its_stage(kind, random_state):
    """With an int random_state the validation rows are scikit-learn's (train_test_split,
    stratified for a classifier), so n_iter_no_change stops at scikit-learn's stage and the
    model is the same; they were drawn by our own generator, and the stage counts differed
    (e.g. 25 vs 28)."""
    from sklearn.datasets import load_breast_cancer, load_diabetes

    load, ours_cls, ref_cls = (
        (load_diabetes, GradientBoostingRegressor, ske.GradientBoostingRegressor)
        if kind == "reg"
        else (load_breast_cancer, GradientBoostingClassifier, ske.GradientBoostingClassifier)
    )
    X, y = load(return_X_y=True)
    kw = dict(n_estimators=300, n_iter_no_change=3, max_depth=2, min_samples_leaf=5)
    ours = ours_cls(random_state=random_state, **kw).fit(X, y)
    ref = ref_cls(random_state=random_state, **kw).fit(X, y)
    assert ours.n_estimators_ == ref.n_estimators_ < 300
    np.testing.assert_allclose(ours.train_score_, ref.train_score_, rtol=1e-9)
    if kind == "reg":
        np.testing.assert_allclose(ours.predict(X), ref.predict(X), rtol=1e-9)
    else:
        np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-12)
