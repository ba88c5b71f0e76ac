"""Forest options against scikit-learn's forests: several outputs, class weights, extra-trees,
warm start, weighted bootstrap sizes and out-of-bag attributes.

Without bootstrap and with every feature searched, each tree of a random forest is the CART tree
of the whole data, so such a forest must equal scikit-learn's exactly; the random parts
(bootstrap draws, random thresholds) are compared on average over seeds.
"""

import joblib
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn import ensemble as ske

from mlcanon.ensemble import (
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)


def _data(seed=0, n=300):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5))
    noisy = X + rng.normal(size=X.shape)
    Y = np.column_stack([X[:, 0] + X[:, 1] ** 2, np.sin(X[:, 2]) + 0.1 * noisy[:, 3]])
    labels = np.column_stack([(noisy[:, 0] > 0).astype(int) + (noisy[:, 1] > 1), noisy[:, 2] > 0])
    return X, Y, labels


DETERMINISTIC = dict(n_estimators=3, bootstrap=False, max_features=None, min_samples_leaf=10)
# class counts tie between features in small nodes (each library breaks ties by its own random
# feature order): the classifiers are compared on shallow trees
SHALLOW = dict(DETERMINISTIC, max_depth=3)


def test_multi_output_forests_equal_sklearn_without_randomness():
    X, Y, labels = _data()
    ours = RandomForestRegressor(**DETERMINISTIC).fit(X, Y)
    ref = ske.RandomForestRegressor(**DETERMINISTIC).fit(X, Y)
    np.testing.assert_allclose(ours.predict(X), ref.predict(X))
    ours = RandomForestClassifier(**SHALLOW).fit(X, labels)
    ref = ske.RandomForestClassifier(**SHALLOW).fit(X, labels)
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))
    for p, q in zip(ours.predict_proba(X), ref.predict_proba(X), strict=True):
        np.testing.assert_allclose(p, q)
    assert type(ours.n_classes_) is type(ref.n_classes_) is list
    assert ours.n_classes_ == ref.n_classes_


@pytest.mark.parametrize("class_weight", ["balanced", {0: 1.7, 1: 0.6}])
def test_class_weights_equal_sklearn_without_randomness(class_weight):
    X, _, labels = _data()
    kw = dict(SHALLOW, class_weight=class_weight)
    ours = RandomForestClassifier(**kw).fit(X, labels[:, 0])
    ref = ske.RandomForestClassifier(**kw).fit(X, labels[:, 0])
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X))
    np.testing.assert_allclose(ours.feature_importances_, ref.feature_importances_)


@pytest.mark.parametrize("class_weight", ["balanced", "balanced_subsample"])
def test_balanced_class_weights_count_sample_weights_as_sklearn(class_weight):
    """The forests' "balanced" weighs class c by W / (K W_c), W_c the class's sum of
    sample weights (scikit-learn's compute_class_weight with sample_weight; a lone tree
    counts samples). So every class weighs the same at the root of each tree."""
    X, _, labels = _data()
    y = labels[:, 0]
    sw = np.random.default_rng(1).uniform(0.2, 3.0, len(y)) * np.where(y == 2, 4.0, 1.0)
    sw[:30] = 0.0
    kw = dict(SHALLOW, class_weight=class_weight)
    ours = RandomForestClassifier(**kw).fit(X, y, sample_weight=sw)
    ref = ske.RandomForestClassifier(**kw).fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-12)
    np.testing.assert_allclose(ours.feature_importances_, ref.feature_importances_, atol=1e-12)
    root = ours.estimators_[0].tree_.value[0, 0]
    np.testing.assert_allclose(root, np.full(3, 1 / 3))


def test_sparse_X_forest_equals_dense():
    X, Y, _ = _data()
    X[np.abs(X) < 0.5] = 0.0
    dense = RandomForestRegressor(n_estimators=5, random_state=0).fit(X, Y[:, 0])
    sparse = RandomForestRegressor(n_estimators=5, random_state=0).fit(sp.csc_matrix(X), Y[:, 0])
    np.testing.assert_array_equal(sparse.predict(sp.csr_matrix(X)), dense.predict(X))
    ref = ske.RandomForestRegressor(**DETERMINISTIC).fit(sp.csc_matrix(X), Y[:, 0])
    ours = RandomForestRegressor(**DETERMINISTIC).fit(sp.csc_matrix(X), Y[:, 0])
    np.testing.assert_allclose(ours.predict(sp.csr_matrix(X)), ref.predict(sp.csr_matrix(X)))


@pytest.mark.parametrize(
    ("ours", "ref"),
    [
        (ExtraTreesClassifier, ske.ExtraTreesClassifier),
        (ExtraTreesRegressor, ske.ExtraTreesRegressor),
    ],
)
def test_extra_trees_score_like_sklearn_on_average(ours, ref):
    X, Y, labels = _data(n=400)
    Xte, Yte, labels_te = _data(seed=7, n=400)
    y, yte = (labels[:, 0], labels_te[:, 0]) if ours is ExtraTreesClassifier else (Y, Yte)
    mean = {
        cls: np.mean([cls(30, random_state=s).fit(X, y).score(Xte, yte) for s in range(3)])
        for cls in (ours, ref)
    }
    assert abs(mean[ours] - mean[ref]) <= 0.03


def test_warm_start_grows_the_forest_a_fit_at_once_grows():
    """Tree b always takes the b-th seed drawn from random_state."""
    X, _, labels = _data()
    forest = RandomForestClassifier(n_estimators=4, warm_start=True, random_state=3)
    forest.fit(X, labels[:, 0])
    first = list(forest.estimators_)
    forest.set_params(n_estimators=9).fit(X, labels[:, 0])
    assert forest.estimators_[:4] == first and len(forest) == 9
    once = RandomForestClassifier(n_estimators=9, random_state=3).fit(X, labels[:, 0])
    np.testing.assert_array_equal(forest.apply(X), once.apply(X))
    with pytest.warns(UserWarning, match="does not fit new trees"):
        forest.fit(X, labels[:, 0])
    with pytest.raises(ValueError, match="n_estimators=2 must be larger or equal"):
        forest.set_params(n_estimators=2).fit(X, labels[:, 0])


def test_bootstrap_size_and_draws_follow_sklearn_rules():
    """A float max_samples is a fraction of the total weight; rows are drawn in proportion to
    their weights (a zero-weight row is never drawn), as in scikit-learn 1.9."""
    X, Y, _ = _data()
    w = np.ones(len(X))
    w[:100] = 0.0
    w[100:150] = 3.0
    kw = dict(n_estimators=4, max_samples=0.5, random_state=0)
    ours = RandomForestRegressor(**kw).fit(X, Y[:, 0], sample_weight=w)
    ref = ske.RandomForestRegressor(**kw).fit(X, Y[:, 0], sample_weight=w)
    assert ours._n_samples_bootstrap == ref._n_samples_bootstrap == int(0.5 * w.sum())
    for rows in ours.estimators_samples_:
        assert len(rows) == ours._n_samples_bootstrap and rows.min() >= 100


def test_oob_attributes_have_sklearn_shapes():
    X, Y, labels = _data()
    kw = dict(n_estimators=30, oob_score=True, random_state=0)
    for ours, ref, y in [
        (RandomForestRegressor, ske.RandomForestRegressor, Y),
        (RandomForestClassifier, ske.RandomForestClassifier, labels[:, 1]),
    ]:
        a, b = ours(**kw).fit(X, y), ref(**kw).fit(X, y)
        name = "oob_prediction_" if hasattr(b, "oob_prediction_") else "oob_decision_function_"
        assert getattr(a, name).shape == getattr(b, name).shape
        assert abs(a.oob_score_ - b.oob_score_) < 0.1
    with pytest.raises(ValueError, match="multiclass-multioutput"):
        RandomForestClassifier(**kw).fit(X, labels)


def test_fractional_sizes_are_shares_of_every_row():
    """min_samples_split=0.5 / min_samples_leaf=0.2 are shares of all n rows, not of the distinct
    rows a bootstrap drew (about 0.63 n): no split of a node with fewer than n/2 distinct rows,
    no leaf with fewer than n/5 (scikit-learn's trees obey the same bounds)."""
    X, Y, _ = _data(n=40)
    for forest in (RandomForestRegressor, ske.RandomForestRegressor):
        for kw, bound in [(dict(min_samples_split=0.5), 20), (dict(min_samples_leaf=0.2), 8)]:
            fitted = forest(n_estimators=5, random_state=0, **kw).fit(X, Y[:, 0])
            for tree in fitted.estimators_:
                t = tree.tree_
                counts = t.n_node_samples[(t.children_left != -1) == ("min_samples_split" in kw)]
                assert counts.min() >= bound


class _CountingBackend(joblib.parallel.LokyBackend):
    calls = 0

    def start_call(self):
        type(self).calls += 1
        return super().start_call()


def test_predictions_stay_in_threads_under_a_process_backend():
    """Fits go to the active joblib backend; predictions never leave this process (they need
    shared memory, as scikit-learn's forests declare)."""
    joblib.register_parallel_backend("mlcanon-counting", _CountingBackend)
    X, _, labels = _data(n=60)
    for forest in (RandomForestClassifier, ske.RandomForestClassifier):
        clf = forest(n_estimators=4, n_jobs=2, random_state=0)
        _CountingBackend.calls = 0
        with joblib.parallel_config(backend="mlcanon-counting"):
            clf.fit(X, labels[:, 0])
            assert _CountingBackend.calls > 0
            _CountingBackend.calls = 0
            clf.predict_proba(X)
        assert _CountingBackend.calls == 0


def test_estimator_is_the_template_tree():
    forests = [ExtraTreesClassifier, ExtraTreesRegressor, RandomForestClassifier]
    for forest in [*forests, RandomForestRegressor]:
        ours, ref = forest().estimator, getattr(ske, forest.__name__)().estimator
        assert type(ours).__name__ == type(ref).__name__
        assert ours.get_params().keys() <= ref.get_params().keys()
        assert ours.splitter == ref.splitter and not hasattr(ours, "tree_")
    X, _, labels = _data()
    fitted = RandomForestClassifier(n_estimators=2, max_depth=2).fit(X, labels[:, 0])
    ref = ske.RandomForestClassifier(n_estimators=2, max_depth=2).fit(X, labels[:, 0])
    assert type(fitted.estimator_).__name__ == type(ref.estimator_).__name__
    assert not hasattr(fitted.estimator_, "tree_") and not hasattr(ref.estimator_, "tree_")
    assert not hasattr(RandomForestRegressor(), "estimator_")


def test_poisson_messages_are_sklearn_s():
    X = np.zeros((3, 3))
    for forest in (RandomForestRegressor, ske.RandomForestRegressor):
        with pytest.raises(ValueError, match=r"Some value\(s\) of y are negative"):
            forest(criterion="poisson").fit(X, [-1, 1, 3])
        with pytest.raises(ValueError, match="Sum of y is not strictly positive"):
            forest(criterion="poisson").fit(X, [0, 0, 0])
