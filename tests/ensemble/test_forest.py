"""Random forests against scikit-learn's, and their parallel fits (threads, processes)."""

import joblib
import numpy as np
import pytest
from sklearn import ensemble as ske
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine
from sklearn.model_selection import train_test_split

from mlcanon import io
from mlcanon.ensemble import RandomForestClassifier, RandomForestRegressor


def _split(load):
    X, y = load(return_X_y=True)
    return train_test_split(X, y, test_size=0.3, random_state=0)


@pytest.mark.parametrize("load", [load_breast_cancer, load_wine])
@pytest.mark.parametrize("seed", [0, 1])
def test_classifier_accuracy_and_oob_within_2pct_of_sklearn(load, seed):
    Xtr, Xte, ytr, yte = _split(load)
    kw = dict(n_estimators=100, oob_score=True, random_state=seed)
    ours = RandomForestClassifier(**kw).fit(Xtr, ytr)
    ref = ske.RandomForestClassifier(**kw).fit(Xtr, ytr)
    assert abs(ours.score(Xte, yte) - ref.score(Xte, yte)) <= 0.02
    assert abs(ours.oob_score_ - ref.oob_score_) <= 0.02


def test_regressor_r2_and_oob_close_to_sklearn():
    """Mean over four seeds: one seed's R^2 varies by about 0.02 in either library alone."""
    Xtr, Xte, ytr, yte = _split(load_diabetes)
    scores = {"ours": [], "ref": []}
    for seed in range(4):
        kw = dict(n_estimators=100, oob_score=True, random_state=seed)
        for key, cls in (("ours", RandomForestRegressor), ("ref", ske.RandomForestRegressor)):
            model = cls(**kw).fit(Xtr, ytr)
            scores[key].append((model.score(Xte, yte), model.oob_score_))
    test_ours, oob_ours = np.mean(scores["ours"], axis=0)
    test_ref, oob_ref = np.mean(scores["ref"], axis=0)
    assert abs(test_ours - test_ref) <= 0.02
    assert abs(oob_ours - oob_ref) <= 0.02


def test_single_tree_without_bootstrap_is_a_cart_tree():
    """bootstrap=False, max_features=None: every tree is the CART tree of the whole data."""
    from mlcanon.tree import DecisionTreeRegressor

    X, y = load_diabetes(return_X_y=True)
    forest = RandomForestRegressor(
        n_estimators=1, bootstrap=False, max_features=None, random_state=0
    ).fit(X, y)
    tree = DecisionTreeRegressor().fit(X, y)
    np.testing.assert_allclose(forest.predict(X), tree.predict(X))


def test_oob_score_from_its_definition():
    """Recompute the OOB accuracy from the bootstrap draws of each tree (``n`` uniform draws
    seeded by the tree's ``random_state``). As in scikit-learn, a sample that every tree drew
    keeps an all-zero vote (so it is predicted as the first class) and a warning says so."""
    X, y = load_breast_cancer(return_X_y=True)
    with pytest.warns(UserWarning, match="Some inputs do not have OOB scores"):
        rf = RandomForestClassifier(n_estimators=15, oob_score=True, random_state=0).fit(X, y)
    votes, hits = np.zeros((len(y), 2)), np.zeros(len(y))
    for tree in rf.estimators_:
        drawn = np.random.default_rng(tree.random_state).integers(0, len(y), len(y))
        oob = np.setdiff1d(np.arange(len(y)), drawn)
        votes[oob] += tree.predict_proba(X[oob])
        hits[oob] += 1
    assert np.any(hits == 0)
    expected = np.mean(np.argmax(votes / np.maximum(hits, 1)[:, None], axis=1) == y)
    assert rf.oob_score_ == pytest.approx(expected)
    np.testing.assert_allclose(rf.oob_decision_function_[hits == 0], 0.0)


def test_importances_agree_with_sklearn_on_the_top_features():
    X, y = load_breast_cancer(return_X_y=True)
    ours = RandomForestClassifier(n_estimators=200, random_state=0).fit(X, y)
    ref = ske.RandomForestClassifier(n_estimators=200, random_state=0).fit(X, y)
    assert ours.feature_importances_.sum() == pytest.approx(1.0)
    top_ours = set(np.argsort(ours.feature_importances_)[-5:])
    top_ref = set(np.argsort(ref.feature_importances_)[-5:])
    assert len(top_ours & top_ref) >= 4
    assert np.corrcoef(ours.feature_importances_, ref.feature_importances_)[0, 1] > 0.9


def test_missing_values_are_routed_by_the_trees():
    Xtr, Xte, ytr, yte = _split(load_breast_cancer)
    rng = np.random.default_rng(0)
    Xtr, Xte = Xtr.copy(), Xte.copy()
    Xtr[rng.random(Xtr.shape) < 0.2] = np.nan
    Xte[rng.random(Xte.shape) < 0.2] = np.nan
    ours = RandomForestClassifier(n_estimators=100, random_state=0).fit(Xtr, ytr)
    ref = ske.RandomForestClassifier(n_estimators=100, random_state=0).fit(Xtr, ytr)
    assert abs(ours.score(Xte, yte) - ref.score(Xte, yte)) <= 0.02


@pytest.mark.parametrize("backend", ["threading", "loky"])
def test_parallel_fit_equals_sequential_fit(backend):
    """Each tree's randomness comes from its own seed, so workers do not change the forest.
    'loky' runs the trees in worker processes: the code path the Dask backend also takes."""
    X, y = load_breast_cancer(return_X_y=True)
    seq = RandomForestClassifier(n_estimators=8, random_state=0).fit(X, y)
    with joblib.parallel_config(backend=backend, n_jobs=2):
        par = RandomForestClassifier(n_estimators=8, n_jobs=2, random_state=0).fit(X, y)
    np.testing.assert_array_equal(par.predict_proba(X), seq.predict_proba(X))


def test_save_load_round_trip(tmp_path):
    X, y = load_wine(return_X_y=True)
    rf = RandomForestClassifier(n_estimators=5, random_state=0).fit(X, y)
    back = io.load(io.save(rf, tmp_path / "forest.npz"))
    np.testing.assert_array_equal(back.predict_proba(X), rf.predict_proba(X))


def test_bad_parameters_and_input():
    X, y = load_wine(return_X_y=True)
    with pytest.raises(ValueError, match="n_estimators must be >= 1"):
        RandomForestClassifier(n_estimators=0).fit(X, y)
    with pytest.raises(ValueError, match="Out of bag estimation only available if bootstrap"):
        RandomForestClassifier(bootstrap=False, oob_score=True).fit(X, y)
    with pytest.raises(ValueError, match=r"max_samples must be > 0\.0"):
        RandomForestClassifier(max_samples=0.0).fit(X, y)
    with pytest.raises(ValueError, match="max_features must be None"):
        RandomForestClassifier(n_estimators=2, max_features="half").fit(X, y)
    with pytest.raises(ValueError, match="infinity"):
        RandomForestClassifier(n_estimators=2).fit(np.where(X > 100, np.inf, X), y)
    rf = RandomForestClassifier(n_estimators=2).fit(X, y)
    with pytest.raises(ValueError, match="X has 3 features, but RandomForestClassifier"):
        rf.predict(X[:, :3])
