"""Bagging's sampling options (feature bootstrap, weights, warm start, sparse X) against
scikit-learn and against their definitions."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn import ensemble as ske
from sklearn.datasets import load_diabetes, load_iris
from sklearn.dummy import DummyRegressor
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsRegressor

from mlcanon import ensemble as me

IRIS = train_test_split(*load_iris(return_X_y=True), random_state=0)


@pytest.mark.parametrize("bootstrap_features", [True, False])
def test_bootstrap_features_accuracy_close_to_sklearn(bootstrap_features):
    Xtr, Xte, ytr, yte = IRIS
    kw = dict(n_estimators=30, max_features=2, bootstrap_features=bootstrap_features)
    ours = me.BaggingClassifier(random_state=0, **kw).fit(Xtr, ytr)
    ref = ske.BaggingClassifier(random_state=0, **kw).fit(Xtr, ytr)
    assert abs(ours.score(Xte, yte) - ref.score(Xte, yte)) <= 0.08
    repeats = [len(set(f)) < len(f) for f in ours.estimators_features_]
    assert any(repeats) == bootstrap_features  # with replacement some column comes twice


def test_members_see_their_drawn_columns():
    Xtr, Xte, ytr, _ = IRIS
    model = me.BaggingClassifier(n_estimators=5, max_features=3, bootstrap_features=True)
    model.fit(Xtr, ytr)
    by_hand = np.mean(
        [
            m.predict_proba(Xte[:, f])
            for m, f in zip(model, model.estimators_features_, strict=True)
        ],
        axis=0,
    )
    np.testing.assert_allclose(model.predict_proba(Xte), by_hand)
    with np.errstate(divide="ignore"):
        np.testing.assert_allclose(model.predict_log_proba(Xte), np.log(by_hand))


def test_sample_weight_draws_only_weighted_rows_like_sklearn():
    X, y = np.arange(100.0).reshape(-1, 1), np.arange(100.0)
    w = np.zeros(100)
    w[[4, 5]] = [1.0, 2.0]
    for cls in (me.BaggingRegressor, ske.BaggingRegressor):
        model = cls(DummyRegressor(), max_samples=10, n_estimators=4, random_state=0)
        model.fit(X, y, sample_weight=w)
        for samples in model.estimators_samples_:
            assert len(samples) == 10 and np.isin(samples, [4, 5]).all()
        assert np.all((model.predict(X) >= 4) & (model.predict(X) <= 5))


def test_single_unsampled_member_equals_its_base_estimator():
    X, y = load_diabetes(return_X_y=True)
    kw = dict(n_estimators=1, bootstrap=False)
    ours = me.BaggingRegressor(KNeighborsRegressor(), random_state=0, **kw).fit(X[:300], y[:300])
    ref = KNeighborsRegressor().fit(X[:300], y[:300])
    np.testing.assert_allclose(ours.predict(X[300:]), ref.predict(X[300:]))


def test_warm_start_adds_members_as_one_fit_would():
    Xtr, Xte, ytr, _ = IRIS
    grown = me.BaggingClassifier(n_estimators=4, warm_start=True, random_state=3).fit(Xtr, ytr)
    grown.set_params(n_estimators=9).fit(Xtr, ytr)
    whole = me.BaggingClassifier(n_estimators=9, random_state=3).fit(Xtr, ytr)
    np.testing.assert_allclose(grown.predict_proba(Xte), whole.predict_proba(Xte))
    with pytest.warns(UserWarning, match="without increasing n_estimators"):
        grown.fit(Xtr, ytr)
    with pytest.raises(ValueError, match="must be larger or equal"):
        grown.set_params(n_estimators=2).fit(Xtr, ytr)


def test_sparse_X_gives_the_dense_result():
    Xtr, Xte, ytr, _ = IRIS
    kw = dict(estimator=LogisticRegression(), n_estimators=3, max_features=2, random_state=0)
    dense = me.BaggingClassifier(**kw).fit(Xtr, ytr)
    sparse = me.BaggingClassifier(**kw).fit(sp.csr_matrix(Xtr), ytr)
    np.testing.assert_allclose(
        sparse.decision_function(sp.csc_matrix(Xte)), dense.decision_function(Xte)
    )
    assert not hasattr(me.BaggingClassifier().fit(Xtr, ytr), "decision_function")


def test_bad_sampling_parameters():
    Xtr, _, ytr, _ = IRIS
    with pytest.raises(ValueError, match="max_features=9 must be <= n_features=4"):
        me.BaggingClassifier(max_features=9).fit(Xtr, ytr)
    with pytest.raises(ValueError, match="to be able to sample without replacement"):
        me.BaggingClassifier(max_samples=500, bootstrap=False).fit(Xtr, ytr)
    with pytest.raises(ValueError, match="only available if bootstrap=True"):
        me.BaggingClassifier(oob_score=True, bootstrap=False).fit(Xtr, ytr)
    with pytest.raises(TypeError, match=r"bootstrap_features must be bool \(True or False\); got"):
        me.BaggingClassifier(bootstrap_features="yes").fit(Xtr, ytr)


def test_verbose_prints_one_line_per_member(capsys):
    Xtr, _, ytr, _ = IRIS
    me.BaggingClassifier(n_estimators=3, verbose=1, random_state=0).fit(Xtr, ytr)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(",")[0] for line in lines] == [
        f"[Bagging] ({i} of 3) Building estimator" for i in (1, 2, 3)
    ]


def test_infinite_inputs_reach_a_member_that_imputes_them():
    # As scikit-learn's bagging: X may hold NaN and infinity; the members decide.
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer
    from sklearn.tree import DecisionTreeClassifier

    def finite(X):
        X = np.array(X, dtype=float)
        X[~np.isfinite(X)] = 0.0
        return X

    X = np.array([[1, 3, 5], [2, np.nan, 6], [2, np.inf, 6], [2, -np.inf, 6], [1, 2, 5.0]])
    y = np.array([0, 1, 1, 1, 0])
    member = make_pipeline(FunctionTransformer(finite), DecisionTreeClassifier(random_state=0))
    kw = dict(n_estimators=1, bootstrap=False, random_state=0)
    ours = me.BaggingClassifier(member, **kw).fit(X, y)
    np.testing.assert_array_equal(ours.predict(X), member.fit(X, y).predict(X))
    plain = me.BaggingClassifier(DecisionTreeClassifier(), **kw)
    with pytest.raises(ValueError, match="infinity"):  # the tree refuses it, as it should
        plain.fit(X, y)


@pytest.mark.parametrize("max_samples", [None, 10])
def test_draw_without_replacement_needs_enough_weighted_rows(max_samples):
    """bootstrap=False draws rows without replacement in proportion to sample_weight: 3 rows of
    positive weight cannot give 10 or 40 (scikit-learn and before: numpy's "Fewer non-zero
    entries in p than size")."""
    X = np.random.default_rng(0).normal(size=(40, 3))
    w = np.r_[np.ones(3), np.zeros(37)]
    model = me.BaggingRegressor(n_estimators=3, bootstrap=False, max_samples=max_samples)
    with pytest.raises(ValueError, match="but only 3 rows have a positive sample_weight"):
        model.fit(X, X[:, 0], sample_weight=w)
    with pytest.raises(ValueError, match="Fewer non-zero entries in p than size"):
        ske.BaggingRegressor(n_estimators=3, bootstrap=False, max_samples=max_samples).fit(
            X, X[:, 0], sample_weight=w
        )
