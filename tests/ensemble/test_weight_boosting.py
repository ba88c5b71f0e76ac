"""AdaBoost (SAMME, R2) against scikit-learn's AdaBoost*."""

import numpy as np
import pytest
from sklearn import ensemble as ske
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.datasets import (
    load_breast_cancer,
    load_diabetes,
    load_iris,
    load_wine,
    make_regression,
)
from sklearn.model_selection import train_test_split
from sklearn.tree import DecisionTreeClassifier as SkTree

from mlcanon import io
from mlcanon.ensemble import AdaBoostClassifier, AdaBoostRegressor
from mlcanon.tree import DecisionTreeClassifier


@pytest.mark.parametrize("load", [load_breast_cancer, load_wine, load_iris])
def test_samme_equals_sklearn(load):
    """Deterministic stumps: the same learners, votes, errors and probabilities."""
    X, y = load(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, random_state=0)
    ours = AdaBoostClassifier(n_estimators=40, random_state=0).fit(Xtr, ytr)
    ref = ske.AdaBoostClassifier(n_estimators=40, random_state=0).fit(Xtr, ytr)
    assert abs(ours.score(Xte, yte) - ref.score(Xte, yte)) <= 0.02
    n = min(len(ours.estimator_weights_), len(ref.estimator_weights_))
    np.testing.assert_allclose(ours.estimator_weights_[:n], ref.estimator_weights_[:n], rtol=1e-10)
    np.testing.assert_allclose(ours.estimator_errors_[:n], ref.estimator_errors_[:n], rtol=1e-10)
    if len(ours.estimator_weights_) == len(ref.estimator_weights_):
        np.testing.assert_allclose(ours.predict_proba(Xte), ref.predict_proba(Xte), atol=1e-10)


def test_hand_computed_first_round():
    """Four points, one misclassified by the best stump: err = 1/4, alpha = log 3."""
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    y = np.array([0, 0, 1, 0])
    m = AdaBoostClassifier(n_estimators=1).fit(X, y)
    assert m.estimator_errors_[0] == pytest.approx(0.25)
    assert m.estimator_weights_[0] == pytest.approx(np.log(3.0))


def test_regressor_r2_close_to_sklearn():
    X, y = load_diabetes(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, random_state=0)
    scores = []
    for seed in range(3):  # R2 resamples by weight: compare averages over seeds
        ours = AdaBoostRegressor(n_estimators=50, random_state=seed).fit(Xtr, ytr)
        ref = ske.AdaBoostRegressor(n_estimators=50, random_state=seed).fit(Xtr, ytr)
        scores.append((ours.score(Xte, yte), ref.score(Xte, yte)))
    ours_mean, ref_mean = np.mean(scores, axis=0)
    assert abs(ours_mean - ref_mean) <= 0.02


def test_regressor_prediction_is_weighted_median():
    X, y = load_diabetes(return_X_y=True)
    m = AdaBoostRegressor(n_estimators=5, random_state=0).fit(X, y)
    preds = np.column_stack([e.predict(X[:3]) for e in m.estimators_])
    w = m.estimator_weights_
    for row, out in zip(preds, m.predict(X[:3]), strict=True):
        order = np.argsort(row)
        cdf = np.cumsum(w[order])
        assert out == row[order][np.searchsorted(cdf, 0.5 * cdf[-1])]


def test_staged_predictions_end_at_predict():
    X, y = load_wine(return_X_y=True)
    m = AdaBoostClassifier(n_estimators=10, random_state=0).fit(X, y)
    *_, last = m.staged_predict(X)
    np.testing.assert_array_equal(last, m.predict(X))


def test_save_load_round_trip(tmp_path):
    X, y = load_wine(return_X_y=True)
    m = AdaBoostClassifier(n_estimators=10, random_state=0).fit(X, y)
    back = io.load(io.save(m, tmp_path / "ada.npz"))
    np.testing.assert_array_equal(back.predict_proba(X), m.predict_proba(X))


def test_bad_parameters_and_input():
    X, y = load_wine(return_X_y=True)
    with pytest.raises(ValueError, match="learning_rate must be > 0"):
        AdaBoostClassifier(learning_rate=-1).fit(X, y)
    with pytest.raises(ValueError, match="loss must be one of"):
        AdaBoostRegressor(loss="huber").fit(X, y.astype(float))
    # a single class is learnt perfectly by the first learner (scikit-learn's behaviour)
    one = AdaBoostClassifier().fit(X, np.ones(len(y)))
    np.testing.assert_array_equal(one.predict_proba(X), np.ones((len(y), 1)))
    with pytest.raises(ValueError, match="Negative values in data passed to `sample_weight`"):
        AdaBoostClassifier().fit(X, y, sample_weight=-np.ones(len(y)))
    with pytest.raises(ValueError, match="worse than random"):
        # a learner that cannot split is a constant: error 1 - 1/3 on balanced 3 classes
        X3 = np.zeros((9, 1))
        AdaBoostClassifier(estimator=DecisionTreeClassifier(max_depth=1)).fit(
            X3, np.repeat([0, 1, 2], 3)
        )


def test_staged_outputs_and_importances_equal_sklearn():
    """Same stumps as scikit-learn (wine): staged probabilities and scores, and the
    vote-weighted mean of the stumps' importances."""
    X, y = load_wine(return_X_y=True)
    ours = AdaBoostClassifier(n_estimators=10, random_state=0).fit(X, y)
    ref = ske.AdaBoostClassifier(n_estimators=10, random_state=0).fit(X, y)
    for a, b in zip(ours.staged_predict_proba(X), ref.staged_predict_proba(X), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-10)
    np.testing.assert_allclose(list(ours.staged_score(X, y)), list(ref.staged_score(X, y)))
    np.testing.assert_allclose(ours.feature_importances_, ref.feature_importances_, atol=1e-12)


def test_sparse_X_gives_the_dense_result():
    import scipy.sparse as sp
    from sklearn.linear_model import LogisticRegression

    X, y = load_breast_cancer(return_X_y=True)
    X = (X - X.mean(0)) / X.std(0)
    kw = dict(estimator=LogisticRegression(max_iter=500), n_estimators=3, random_state=0)
    dense = AdaBoostClassifier(**kw).fit(X, y)
    sparse = AdaBoostClassifier(**kw).fit(sp.csr_matrix(X), y)
    np.testing.assert_allclose(sparse.predict_proba(sp.csr_matrix(X)), dense.predict_proba(X))
    with pytest.raises(ValueError, match=r"sample_weight.shape == \(2,\), expected \(569,\)"):
        AdaBoostClassifier().fit(X, y, sample_weight=[1.0, 2.0])


def test_regressor_zero_weight_row_takes_no_part():
    """A row of weight 0 is never drawn and, as in scikit-learn, does not set the error scale
    e_max: its target cannot change the fit. Before, an outlier y = 1e6 of weight 0 scaled
    every error to ~5e-5 (scikit-learn: ~0.2)."""
    X, y = make_regression(100, 4, noise=5, random_state=0)
    Xo, w = np.r_[X, np.zeros((1, 4))], np.r_[np.ones(100), 0.0]
    outlier, tame = (
        AdaBoostRegressor(n_estimators=5, random_state=0).fit(Xo, np.r_[y, y_last], w)
        for y_last in (1e6, y[0])
    )
    np.testing.assert_array_equal(outlier.estimator_errors_, tame.estimator_errors_)
    np.testing.assert_array_equal(outlier.estimator_weights_, tame.estimator_weights_)
    ref = ske.AdaBoostRegressor(n_estimators=5, random_state=0).fit(Xo, np.r_[y, 1e6], w)
    # other bootstrap draws than scikit-learn's: the errors agree on average, not one by one
    assert abs(outlier.estimator_errors_.mean() - ref.estimator_errors_.mean()) < 0.05


class _FlatStump(ClassifierMixin, BaseEstimator):
    """A stump on the flattened samples: a member that takes X of any number of dimensions."""

    def fit(self, X, y, sample_weight=None):
        flat = np.reshape(X, (len(X), -1))
        self.tree_ = SkTree(max_depth=1, random_state=0).fit(flat, y, sample_weight)
        self.classes_ = self.tree_.classes_
        return self

    def predict(self, X):
        return self.tree_.predict(np.reshape(X, (len(X), -1)))


def test_x_of_three_dimensions_reaches_the_members_as_sklearn():
    """scikit-learn's AdaBoost validates X with allow_nd and lets the members decide; a 3-D X
    was refused ('X must be 2-D'). The boosted stumps on the flattened samples are
    scikit-learn's, weight for weight."""
    X3, y = load_wine(return_X_y=True)
    X3 = X3[:, :12].reshape(-1, 3, 4)
    ours = AdaBoostClassifier(_FlatStump(), n_estimators=10).fit(X3, y)
    ref = ske.AdaBoostClassifier(_FlatStump(), n_estimators=10).fit(X3, y)
    assert ours.n_features_in_ == ref.n_features_in_ == 3
    np.testing.assert_allclose(ours.estimator_weights_, ref.estimator_weights_, rtol=1e-12)
    np.testing.assert_allclose(ours.decision_function(X3), ref.decision_function(X3), atol=1e-12)
    np.testing.assert_array_equal(ours.predict(X3), ref.predict(X3))
    with pytest.raises(ValueError, match="X has 2 features, but AdaBoostClassifier is expecting 3"):
        ours.predict(X3[:, :2])
    with pytest.raises(ValueError, match=r"X must be 2-D, got 3-D"):  # the default stump refuses
        AdaBoostClassifier(n_estimators=2).fit(X3, y)


def test_early_stop_keeps_n_estimators_entries_as_sklearn():
    """Boosting that stops early keeps estimator_weights_/estimator_errors_ of length
    n_estimators, weight 0 and error 1 for the rounds not run, as scikit-learn does (they
    were cut to the rounds run: a perfect first tree gave [1.0] where scikit-learn has
    [1, 0, 0, 0, 0])."""
    from sklearn.dummy import DummyRegressor
    from sklearn.tree import DecisionTreeRegressor as SkRegTree

    X, y = load_iris(return_X_y=True)
    kw = dict(n_estimators=5, random_state=0)
    X2, y2 = X[:100, [0, 2]], y[:100]  # one feature (petal length) splits the classes
    perfect = (
        AdaBoostClassifier(DecisionTreeClassifier(), **kw).fit(X2, y2),
        ske.AdaBoostClassifier(SkTree(), **kw).fit(X2, y2),
    )
    constant_y = (  # every learner fits a constant target exactly: error 0 in the first round
        AdaBoostRegressor(SkRegTree(max_depth=1), **kw).fit(X, np.full(150, 2.0)),
        ske.AdaBoostRegressor(SkRegTree(max_depth=1), **kw).fit(X, np.full(150, 2.0)),
    )
    far = DummyRegressor(strategy="constant", constant=1e3)  # average loss ~1 >= 1/2
    hopeless = (
        AdaBoostRegressor(far, **kw).fit(X, y),
        ske.AdaBoostRegressor(far, **kw).fit(X, y),
    )
    for (ours, ref), Xi in ((perfect, X2), (constant_y, X), (hopeless, X)):
        assert len(ours.estimators_) == len(ref.estimators_) == 1
        np.testing.assert_array_equal(ours.estimator_weights_, ref.estimator_weights_)
        np.testing.assert_array_equal(ours.estimator_errors_, ref.estimator_errors_)
        np.testing.assert_array_equal(ours.predict(Xi), ref.predict(Xi))
    np.testing.assert_array_equal(perfect[0].estimator_weights_, [1, 0, 0, 0, 0])
    np.testing.assert_array_equal(hopeless[0].estimator_errors_, [1, 1, 1, 1, 1])
    ours, ref = perfect
    np.testing.assert_allclose(ours.predict_proba(X2), ref.predict_proba(X2), atol=1e-12)
    np.testing.assert_allclose(ours.feature_importances_, ref.feature_importances_, atol=1e-12)
    assert [p.shape for p in ours.staged_predict(X2)] == [p.shape for p in ref.staged_predict(X2)]


def test_weight_update_is_bitwise_sklearn_s_for_a_weight_sensitive_learner():
    """An SVC's fit depends on C * w to the last bits: with the weights updated as
    w * exp(alpha), not scikit-learn's exp(log w + alpha), the third SVC's weights differed by a
    few ulps and it predicted other classes (error 1/3 instead of 2/3, all later rounds apart)."""
    from sklearn.svm import SVC

    rng = np.random.default_rng(1)
    X = rng.normal(size=(100, 3))
    y = np.digitize(X[:, 0], [-0.5, 0.5])
    ours = AdaBoostClassifier(SVC(), n_estimators=5).fit(X, y)
    ref = ske.AdaBoostClassifier(SVC(), n_estimators=5).fit(X, y)
    np.testing.assert_array_equal(ours.estimator_errors_, ref.estimator_errors_)
    np.testing.assert_array_equal(ours.estimator_weights_, ref.estimator_weights_)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), rtol=1e-12)
