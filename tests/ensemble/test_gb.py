"""Gradient boosting against scikit-learn's GradientBoosting* (same trees, same line searches)."""

import numpy as np
import pytest
from sklearn import ensemble as ske
from sklearn.datasets import load_diabetes

from mlcanon import io
from mlcanon.ensemble import GradientBoostingClassifier, GradientBoostingRegressor


def _data(seed, n=300, classes=None):
    """Continuous features: no two features give the same partition, so trees do not tie."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5))
    f = np.sin(2 * X[:, 0]) + X[:, 1] * X[:, 2] + 0.5 * X[:, 3]
    y = f + rng.normal(scale=0.3, size=n)
    if classes:
        y = np.digitize(f, np.quantile(f, np.linspace(0, 1, classes + 1)[1:-1]))
    return X, y


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("max_depth", [2, 4])
def test_squared_error_equals_sklearn(seed, max_depth):
    """Every stage's predictions on the training data agree to 1e-6.

    Two features can cut a small node into the same two groups (an exact tie that
    scikit-learn breaks by its random feature order); the training predictions are then still
    equal, but new data may fall between the two thresholds. So new data are compared with
    leaves of at least 15 samples, where such ties do not occur."""
    X, y = _data(seed)
    kw = dict(n_estimators=50, max_depth=max_depth, learning_rate=0.2, random_state=seed)
    ours = GradientBoostingRegressor(**kw).fit(X, y)
    ref = ske.GradientBoostingRegressor(**kw).fit(X, y)
    for a, b in zip(ours.staged_predict(X), ref.staged_predict(X), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(ours.init_, ref.init_.constant_.ravel(), rtol=1e-12)
    X_test, _ = _data(seed + 10)
    kw["min_samples_leaf"] = 15
    ours = GradientBoostingRegressor(**kw).fit(X, y)
    ref = ske.GradientBoostingRegressor(**kw).fit(X, y)
    np.testing.assert_allclose(ours.predict(X_test), ref.predict(X_test), rtol=1e-6, atol=1e-6)


def test_squared_error_on_bundled_data_equals_sklearn():
    X, y = load_diabetes(return_X_y=True)
    kw = dict(n_estimators=100, random_state=0)
    ours = GradientBoostingRegressor(**kw).fit(X, y)
    ref = ske.GradientBoostingRegressor(**kw).fit(X, y)
    np.testing.assert_allclose(ours.predict(X), ref.predict(X), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("classes", [2, 3])
def test_log_loss_equals_sklearn(classes):
    X, y = _data(3, classes=classes)
    X_test, _ = _data(13)
    kw = dict(n_estimators=30, max_depth=2, min_samples_leaf=15, random_state=0)
    ours = GradientBoostingClassifier(**kw).fit(X, y)
    ref = ske.GradientBoostingClassifier(**kw).fit(X, y)
    np.testing.assert_allclose(ours.predict_proba(X_test), ref.predict_proba(X_test), atol=1e-6)
    np.testing.assert_allclose(
        ours.decision_function(X_test), ref.decision_function(X_test), atol=1e-6
    )


@pytest.mark.parametrize("loss", ["absolute_error", "huber"])
def test_robust_losses_equal_sklearn(loss):
    """Medians (and Huber's clipped means) in the leaves, as Friedman's Algorithms 3-4."""
    X, y = _data(4)
    kw = dict(loss=loss, n_estimators=10, max_depth=3, min_samples_leaf=15, random_state=0)
    ours = GradientBoostingRegressor(**kw).fit(X, y)
    ref = ske.GradientBoostingRegressor(**kw).fit(X, y)
    np.testing.assert_allclose(ours.predict(X), ref.predict(X), rtol=1e-6, atol=1e-6)


def test_absolute_error_gradient_at_a_zero_residual_is_sklearn_s():
    """With sample weights the initial median is one of the targets; scikit-learn's negative
    gradient there is +1 (not sign(0) = 0), which moves every node's mean and impurity of the
    first tree, and so the feature importances."""
    X, y = _data(4)
    sw = np.random.default_rng(4).uniform(0.3, 2.0, len(y))
    kw = dict(loss="absolute_error", n_estimators=5, max_depth=3, min_samples_leaf=15)
    ours = GradientBoostingRegressor(**kw, random_state=0).fit(X, y, sample_weight=sw)
    ref = ske.GradientBoostingRegressor(**kw, random_state=0).fit(X, y, sample_weight=sw)
    assert np.isin(ours.init_, y).all()
    first, ref_first = ours.estimators_[0, 0].tree_, ref.estimators_[0, 0].tree_
    np.testing.assert_allclose(first.value, ref_first.value, atol=1e-12)
    np.testing.assert_allclose(first.impurity, ref_first.impurity, atol=1e-12)
    np.testing.assert_allclose(ours.feature_importances_, ref.feature_importances_, atol=1e-12)
    np.testing.assert_allclose(ours.predict(X), ref.predict(X), atol=1e-9)


@pytest.mark.parametrize("loss", ["absolute_error", "huber", "quantile"])
def test_initial_constant_with_equal_sample_weights_is_sklearn_s(loss):
    """Given sample_weight (even all equal), scikit-learn's initial median or quantile is the
    weighted percentile, not numpy's interpolated one; without weights it is numpy's."""
    rng = np.random.default_rng(10)
    X, y = rng.normal(size=(10, 2)), rng.normal(size=10)
    for sw in (None, np.full(10, 2.0)):
        kw = dict(loss=loss, alpha=0.3, n_estimators=1, random_state=0)
        ours = GradientBoostingRegressor(**kw).fit(X, y, sample_weight=sw)
        ref = ske.GradientBoostingRegressor(**kw).fit(X, y, sample_weight=sw)
        np.testing.assert_allclose(ours.init_, ref.init_.constant_.ravel(), rtol=1e-12)
        np.testing.assert_allclose(ours.predict(X), ref.predict(X), atol=1e-9)


def test_hand_computed_two_stages():
    """y = (1, 2, 3, 10), stumps, learning rate 0.5.
    F0 = mean = 4; residuals (-3, -2, -1, 6): best stump {1,2,3} | {10}, leaves -2 and 6;
    F1 = 4 + 0.5 * (-2, -2, -2, 6) = (3, 3, 3, 7)."""
    X = np.arange(4.0)[:, None]
    m = GradientBoostingRegressor(n_estimators=1, max_depth=1, learning_rate=0.5)
    m.fit(X, [1.0, 2.0, 3.0, 10.0])
    np.testing.assert_allclose(m.init_, [4.0])
    np.testing.assert_allclose(m.predict(X), [3.0, 3.0, 3.0, 7.0])
    assert m.train_score_[0] == pytest.approx(np.mean(np.square([1 - 3, 2 - 3, 3 - 3, 10 - 7])))


@pytest.mark.parametrize("classes", [2, 3])
def test_staged_decision_function_shapes_equal_sklearn(classes):
    """Two classes: decision_function is (n,), but each stage is (n, 1) in scikit-learn."""
    X, y = _data(7, classes=classes)
    kw = dict(n_estimators=3, max_depth=2, min_samples_leaf=15, random_state=0)
    ours = GradientBoostingClassifier(**kw).fit(X, y)
    ref = ske.GradientBoostingClassifier(**kw).fit(X, y)
    for a, b in zip(ours.staged_decision_function(X), ref.staged_decision_function(X), strict=True):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, atol=1e-6)


def test_staged_predictions_end_at_predict():
    X, y = _data(5, classes=3)
    m = GradientBoostingClassifier(n_estimators=8, random_state=0).fit(X, y)
    stages = list(m.staged_predict_proba(X))
    assert len(stages) == 8
    np.testing.assert_allclose(stages[-1], m.predict_proba(X))
    assert np.all(np.diff(m.train_score_) < 0)  # no subsampling: the loss only goes down


def test_subsample_is_seeded_and_stochastic():
    X, y = _data(6)
    a = GradientBoostingRegressor(n_estimators=10, subsample=0.5, random_state=1).fit(X, y)
    b = GradientBoostingRegressor(n_estimators=10, subsample=0.5, random_state=1).fit(X, y)
    c = GradientBoostingRegressor(n_estimators=10, subsample=0.5, random_state=2).fit(X, y)
    np.testing.assert_array_equal(a.predict(X), b.predict(X))
    assert not np.allclose(a.predict(X), c.predict(X))


def test_save_load_round_trip(tmp_path):
    X, y = _data(7, classes=3)
    m = GradientBoostingClassifier(n_estimators=5, random_state=0).fit(X, y)
    back = io.load(io.save(m, tmp_path / "gb.npz"))
    np.testing.assert_array_equal(back.predict_proba(X), m.predict_proba(X))


def test_zero_learning_rate_keeps_the_initial_model_as_sklearn():
    """scikit-learn takes learning_rate=0 (range [0, inf)): every stage adds 0 to F_0."""
    X, y = _data(8, classes=3)
    kw = dict(n_estimators=3, learning_rate=0.0, random_state=0)
    ours = GradientBoostingClassifier(**kw).fit(X, y)
    ref = ske.GradientBoostingClassifier(**kw).fit(X, y)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-12)
    np.testing.assert_allclose(ours.predict_proba(X)[0], np.bincount(y) / len(y))


def test_bad_parameters():
    X, y = _data(0)
    with pytest.raises(ValueError, match="loss must be one of"):
        GradientBoostingRegressor(loss="log_loss").fit(X, y)
    with pytest.raises(ValueError, match="learning_rate must be >= 0"):
        GradientBoostingRegressor(learning_rate=-0.1).fit(X, y)
    with pytest.raises(ValueError, match="subsample must be <= 1"):
        GradientBoostingRegressor(subsample=2.0).fit(X, y)
    with pytest.raises(ValueError, match="alpha must be < 1"):
        GradientBoostingRegressor(loss="huber", alpha=1.0).fit(X, y)
    with pytest.raises(ValueError, match="a minimum of 2 classes are required"):
        GradientBoostingClassifier().fit(X, np.zeros(len(y)))


@pytest.mark.parametrize("loss", ["log_loss", "exponential"])
def test_a_zero_raw_score_predicts_the_second_class_as_sklearn(loss):
    """Two balanced classes and a constant feature: the raw score stays exactly 0 (probability
    1/2); scikit-learn predicts the second class there (``raw >= 0``), at every stage too."""
    X, y = np.ones((6, 2)), np.array(["no", "yes"] * 3)
    kw = dict(loss=loss, n_estimators=3, random_state=0)
    ours = GradientBoostingClassifier(**kw).fit(X, y)
    ref = ske.GradientBoostingClassifier(**kw).fit(X, y)
    np.testing.assert_array_equal(ref.decision_function(X), 0.0)
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))
    for a, b in zip(ours.staged_predict(X), ref.staged_predict(X), strict=True):
        np.testing.assert_array_equal(a, b)
