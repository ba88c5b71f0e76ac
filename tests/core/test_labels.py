"""Class labels keep scikit-learn's dtype in ``classes_`` and ``predict`` (one shared encoder)."""

import warnings

import numpy as np
import pytest
import sklearn.discriminant_analysis as sk_da
import sklearn.ensemble as sk_ens
import sklearn.linear_model as sk_lm
import sklearn.naive_bayes as sk_nb
import sklearn.svm as sk_svm
import sklearn.tree as sk_tree

import mlcanon.discriminant_analysis as mc_da
import mlcanon.ensemble as mc_ens
import mlcanon.linear_model as mc_lm
import mlcanon.naive_bayes as mc_nb
import mlcanon.svm as mc_svm
import mlcanon.tree as mc_tree

RNG = np.random.RandomState(0)
X = np.abs(RNG.randn(40, 3))
CODES = RNG.randint(0, 3, 40)
LABELS = {
    "object str": np.array(["a", "bb", "c"], dtype=object)[CODES],
    "str": np.array(["a", "bb", "c"])[CODES],
    "bool": CODES == 1,
    "int32": CODES.astype(np.int32),
    "uint8": CODES.astype(np.uint8),
    "float32": CODES.astype(np.float32),
}


def _stacking(ens, lm, tree):
    members = [("lr", lm.LogisticRegression()), ("dt", tree.DecisionTreeClassifier())]
    return ens.StackingClassifier(members, cv=2)


def _voting(ens, lm, tree, voting):
    members = [("lr", lm.LogisticRegression()), ("dt", tree.DecisionTreeClassifier())]
    return ens.VotingClassifier(members, voting=voting)


def _by_name(name, **kw):
    return lambda pkgs: getattr(pkgs[name.split(".")[0]], name.split(".")[1])(**kw)


MAKERS = {
    "DecisionTree": _by_name("tree.DecisionTreeClassifier", random_state=0),
    "ExtraTree": _by_name("tree.ExtraTreeClassifier", random_state=0),
    "RandomForest": _by_name("ens.RandomForestClassifier", n_estimators=3, random_state=0),
    "ExtraTrees": _by_name("ens.ExtraTreesClassifier", n_estimators=3, random_state=0),
    "GradientBoosting": _by_name("ens.GradientBoostingClassifier", n_estimators=3),
    "AdaBoost": _by_name("ens.AdaBoostClassifier", n_estimators=3, random_state=0),
    "Bagging": _by_name("ens.BaggingClassifier", n_estimators=3, random_state=0),
    "LogisticRegression": _by_name("lm.LogisticRegression"),
    "LogisticRegressionCV": _by_name("lm.LogisticRegressionCV", cv=2),
    "RidgeClassifier": _by_name("lm.RidgeClassifier"),
    "RidgeClassifierCV": _by_name("lm.RidgeClassifierCV"),
    "GaussianNB": _by_name("nb.GaussianNB"),
    "MultinomialNB": _by_name("nb.MultinomialNB"),
    "BernoulliNB": _by_name("nb.BernoulliNB"),
    "SVC": _by_name("svm.SVC"),
    "LDA": _by_name("da.LinearDiscriminantAnalysis"),
    "Stacking": lambda p: _stacking(p["ens"], p["lm"], p["tree"]),
    "VotingHard": lambda p: _voting(p["ens"], p["lm"], p["tree"], "hard"),
    "VotingSoft": lambda p: _voting(p["ens"], p["lm"], p["tree"], "soft"),
}
OURS = dict(tree=mc_tree, ens=mc_ens, lm=mc_lm, nb=mc_nb, svm=mc_svm, da=mc_da)
THEIRS = dict(tree=sk_tree, ens=sk_ens, lm=sk_lm, nb=sk_nb, svm=sk_svm, da=sk_da)


def _fit(make, pkgs, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return make(pkgs).fit(X, y)


@pytest.mark.parametrize("labels", list(LABELS))
@pytest.mark.parametrize("name", list(MAKERS))
def test_classes_and_predictions_keep_scikit_learns_label_dtype(name, labels):
    """An object array of strings stays object where scikit-learn keeps it (np.unique in the
    trees, ensembles, logistic regression, SVC) and becomes a str array where scikit-learn's
    unique_labels makes it one (ridge, naive Bayes, LDA); the old encoder made it '<U2' for
    all. Numeric and bool labels keep their dtype."""
    y = LABELS[labels]
    ours, theirs = _fit(MAKERS[name], OURS, y), _fit(MAKERS[name], THEIRS, y)
    assert ours.classes_.dtype == theirs.classes_.dtype
    np.testing.assert_array_equal(ours.classes_, theirs.classes_)
    predicted, expected = ours.predict(X), theirs.predict(X)
    assert predicted.dtype == expected.dtype
    assert type(predicted[0]) is type(expected[0])
    if name not in ("RandomForest", "ExtraTrees", "Bagging", "Stacking"):  # own random streams
        np.testing.assert_array_equal(predicted, expected)


def test_object_labels_in_a_multi_output_tree_stay_object_as_scikit_learn():
    Y = np.stack([LABELS["object str"], np.array(["x", "yy"], dtype=object)[CODES % 2]], axis=1)
    ours = mc_tree.DecisionTreeClassifier(random_state=0).fit(X, Y)
    theirs = sk_tree.DecisionTreeClassifier(random_state=0).fit(X, Y)
    assert [c.dtype for c in ours.classes_] == [c.dtype for c in theirs.classes_]
    assert ours.predict(X).dtype == theirs.predict(X).dtype == object
    np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))


def test_naive_bayes_partial_fit_takes_object_labels_after_the_first_call():
    """The second partial_fit call refused an object y ('must be a numeric or string array')."""
    y = LABELS["object str"]
    classes = np.array(["a", "bb", "c"], dtype=object)
    ours = mc_nb.GaussianNB().partial_fit(X[:20], y[:20], classes=classes)
    theirs = sk_nb.GaussianNB().partial_fit(X[:20], y[:20], classes=classes)
    ours.partial_fit(X[20:], y[20:])
    theirs.partial_fit(X[20:], y[20:])
    assert ours.classes_.dtype == theirs.classes_.dtype
    np.testing.assert_array_equal(ours.class_count_, theirs.class_count_)
    np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))


@pytest.mark.parametrize(
    "values", [[1, 2, 3], [1.0, 2.0, 3.0], [False, True, True]], ids=["int", "float", "bool"]
)
@pytest.mark.parametrize("name", ["DecisionTree", "LogisticRegression", "GaussianNB", "LDA"])
def test_numbers_in_an_object_array_are_refused_as_scikit_learn(name, values):
    """scikit-learn's type of target for them is 'unknown' (a ValueError); the old encoder
    turned them into float64 classes."""
    y = np.array(values, dtype=object)[CODES % 3 if len(set(values)) == 3 else CODES % 2]
    with pytest.raises(ValueError, match="Unknown label type"):
        _fit(MAKERS[name], THEIRS, y)
    with pytest.raises(ValueError, match=r"Unknown label type: unknown; y is an object array"):
        _fit(MAKERS[name], OURS, y)


@pytest.mark.parametrize("dtype", ["Int64", "boolean", "Float64", "string", "category"])
@pytest.mark.parametrize("name", ["DecisionTree", "LogisticRegression", "GaussianNB", "VotingSoft"])
def test_pandas_nullable_labels_are_read_as_scikit_learn_reads_them(name, dtype):
    """scikit-learn's check_array turns a Series of a nullable numeric or boolean dtype into
    float64 (classes 0.0, 1.0, ...); they stayed int64 / bool here. Strings and categories
    keep their labels."""
    pd = pytest.importorskip("pandas")
    values = CODES == 1 if dtype == "boolean" else CODES
    if dtype in ("string", "category"):
        values = np.array(["a", "bb", "c"])[CODES]
    y = pd.Series(values).astype(dtype)
    ours, theirs = _fit(MAKERS[name], OURS, y), _fit(MAKERS[name], THEIRS, y)
    assert ours.classes_.dtype == theirs.classes_.dtype
    np.testing.assert_array_equal(ours.classes_, theirs.classes_)
    assert ours.predict(X).dtype == theirs.predict(X).dtype
    np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))


@pytest.mark.parametrize("name", ["DecisionTree", "LogisticRegression", "GaussianNB", "SVC"])
def test_numpy_strings_in_an_object_array_are_strings(name):
    """NumPy's str_ is a str: an object array mixing it with Python strings holds strings,
    as scikit-learn reads it (the label check named them 'str_' and refused them)."""
    y = np.array(["a", "bb", "c"], dtype=object)[CODES]
    y[::2] = [np.str_(v) for v in y[::2]]
    ours, theirs = _fit(MAKERS[name], OURS, y), _fit(MAKERS[name], THEIRS, y)
    assert ours.classes_.dtype == theirs.classes_.dtype
    np.testing.assert_array_equal(ours.classes_, theirs.classes_)
    np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))


def test_labels_beside_a_sparse_x_are_read_as_beside_a_dense_one():
    """The meta-ensembles read y by their own steps when X was scipy.sparse: a pandas Int64
    y kept int64 classes (scikit-learn: float64, as for a dense X) and a column vector was
    raveled without scikit-learn's DataConversionWarning."""
    import scipy.sparse as sp
    from sklearn.exceptions import DataConversionWarning

    pd = pytest.importorskip("pandas")
    Xs = sp.csr_matrix(X)
    y = pd.Series(CODES, dtype="Int64")
    kw = dict(n_estimators=2, random_state=0)
    ours = mc_ens.BaggingClassifier(sk_tree.DecisionTreeClassifier(), **kw).fit(Xs, y)
    theirs = sk_ens.BaggingClassifier(sk_tree.DecisionTreeClassifier(), **kw).fit(Xs, y)
    assert ours.classes_.dtype == theirs.classes_.dtype == np.float64
    with pytest.warns(DataConversionWarning, match="column-vector y"):
        mc_ens.BaggingClassifier(sk_tree.DecisionTreeClassifier(), **kw).fit(Xs, CODES[:, None])
