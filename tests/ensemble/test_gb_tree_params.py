"""Gradient boosting's tree parameters (max_leaf_nodes, ccp_alpha, min_weight_fraction_leaf)
and feature importances against scikit-learn's GradientBoosting* on the same data.

Continuous features and ``min_samples_leaf=10``: on these data no node has two equally good
splits on different features, an exact tie that scikit-learn breaks by its random feature
order. (The absolute and quantile losses' residuals take two values only, which makes such
ties common; they are left out here.)
"""

import numpy as np
import pytest
from sklearn import ensemble as ske

from mlcanon.ensemble import GradientBoostingClassifier, GradientBoostingRegressor


def _data(seed, n=300, classes=None):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 6))
    f = np.sin(2 * X[:, 0]) + X[:, 1] * X[:, 2] + 0.5 * X[:, 3]
    if classes:
        return X, np.digitize(f, np.quantile(f, np.linspace(0, 1, classes + 1)[1:-1]))
    return X, f + rng.normal(scale=0.3, size=n)


KW = dict(n_estimators=15, min_samples_leaf=10, random_state=0)


def _leaves(model):
    return [int(np.sum(t.tree_.children_left == -1)) for t in model.estimators_.ravel()]


@pytest.mark.parametrize("loss", ["squared_error", "huber"])
@pytest.mark.parametrize(("max_leaf_nodes", "max_depth"), [(4, 3), (10, None)])
def test_max_leaf_nodes_regressor_equals_sklearn(loss, max_leaf_nodes, max_depth):
    """Best-first trees: the same leaves (counts) and predictions, on new data too."""
    X, y = _data(0)
    X_new, _ = _data(10)
    kw = dict(KW, loss=loss, max_leaf_nodes=max_leaf_nodes, max_depth=max_depth)
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
    X, y = _data(3, classes=classes)
    X_new, _ = _data(13)
    kw = dict(KW, max_leaf_nodes=6, max_depth=None)
    ours = GradientBoostingClassifier(**kw).fit(X, y)
    ref = ske.GradientBoostingClassifier(**kw).fit(X, y)
    assert _leaves(ours) == _leaves(ref)
    np.testing.assert_allclose(ours.predict_proba(X_new), ref.predict_proba(X_new), atol=1e-9)


@pytest.mark.parametrize(
    "params", [dict(ccp_alpha=0.02), dict(min_weight_fraction_leaf=0.1)], ids=str
)
def test_pruning_and_leaf_weight_equal_sklearn(params):
    X, y = _data(2)
    X_new, _ = _data(12)
    ours = GradientBoostingRegressor(**KW, **params).fit(X, y)
    ref = ske.GradientBoostingRegressor(**KW, **params).fit(X, y)
    assert _leaves(ours) == _leaves(ref)
    np.testing.assert_allclose(ours.predict(X_new), ref.predict(X_new), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("loss", ["squared_error", "huber"])
def test_feature_importances_equal_sklearn(loss):
    """The setting of scikit-learn's California-housing importance test (Huber loss, six
    leaves per tree): the trees' unnormalised impurity decreases are averaged, then
    normalised, so the stages that explain more weigh more."""
    X, y = _data(3)
    kw = dict(KW, n_estimators=40, loss=loss, max_leaf_nodes=6)
    ours = GradientBoostingRegressor(**kw).fit(X, y)
    ref = ske.GradientBoostingRegressor(**kw).fit(X, y)
    np.testing.assert_allclose(ours.feature_importances_, ref.feature_importances_, atol=1e-12)
    # Averaging each tree's normalised importances instead would differ by far more than that.
    per_tree = np.mean([t.feature_importances_ for t in ref.estimators_.ravel()], axis=0)
    assert np.abs(per_tree / per_tree.sum() - ref.feature_importances_).max() > 1e-3


def test_feature_importances_are_zero_when_no_tree_splits():
    X, _ = _data(4)
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
    X, y = _data(5)
    with pytest.raises(ValueError, match=match):
        GradientBoostingRegressor(**params).fit(X, y)


def test_feature_importances_before_fit_is_not_fitted_error():
    from sklearn.exceptions import NotFittedError

    for est in (GradientBoostingRegressor(), ske.GradientBoostingRegressor()):
        with pytest.raises(NotFittedError):
            est.feature_importances_
