"""Gradient boosting's further losses and options (exponential and quantile losses, init,
warm start, apply, early stopping, sparse X, monitor) against scikit-learn on the same data."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn import ensemble as ske
from sklearn.datasets import make_hastie_10_2
from sklearn.linear_model import LinearRegression
from sklearn.metrics import log_loss

from mlcanon.ensemble import GradientBoostingClassifier, GradientBoostingRegressor


def _data(seed, n=300, classes=None):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5))
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
