"""Naive Bayes models against scikit-learn: predictions and probabilities to 1e-10."""

import numpy as np
import pytest
from sklearn import naive_bayes as sk
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine
from sklearn.utils.estimator_checks import parametrize_with_checks

from mlcanon import io
from mlcanon.naive_bayes import BernoulliNB, GaussianNB, MultinomialNB

DATA = {
    "iris": load_iris(return_X_y=True),
    "wine": load_wine(return_X_y=True),
    "breast_cancer": load_breast_cancer(return_X_y=True),
    "digits": load_digits(return_X_y=True),
}
CASES = [
    ("GaussianNB", {}),
    ("GaussianNB", {"var_smoothing": 1e-3}),
    ("MultinomialNB", {}),
    ("MultinomialNB", {"alpha": 0.1, "fit_prior": False}),
    ("BernoulliNB", {"binarize": 4.0}),
    ("BernoulliNB", {"alpha": 0.5, "binarize": 0.5}),
]
OURS = {"GaussianNB": GaussianNB, "MultinomialNB": MultinomialNB, "BernoulliNB": BernoulliNB}


def fit_both(name, params, X, y, **fit):
    return OURS[name](**params).fit(X, y, **fit), getattr(sk, name)(**params).fit(X, y, **fit)


def assert_same_predictions(ours, ref, X):
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), rtol=1e-10, atol=1e-10)
    # log-probabilities: relative, since they reach -1e9 for far-off Gaussian classes
    np.testing.assert_allclose(
        ours.predict_log_proba(X), ref.predict_log_proba(X), rtol=1e-10, atol=1e-10
    )


@pytest.mark.parametrize("data", list(DATA))
@pytest.mark.parametrize(("name", "params"), CASES)
def test_matches_sklearn(data, name, params):
    X, y = DATA[data]
    ours, ref = fit_both(name, params, X, y)
    assert_same_predictions(ours, ref, X)
    np.testing.assert_allclose(
        ours.predict_joint_log_proba(X), ref.predict_joint_log_proba(X), rtol=1e-10, atol=1e-10
    )


@pytest.mark.parametrize(("name", "params"), CASES)
def test_sample_weight_and_string_labels_match_sklearn(name, params):
    X, y = DATA["wine"]
    labels = np.array(["barolo", "grignolino", "barbera"])[y]
    w = np.random.default_rng(0).uniform(0.1, 2.0, len(y))
    ours, ref = fit_both(name, params, X, labels, sample_weight=w)
    np.testing.assert_array_equal(ours.classes_, ref.classes_)
    assert_same_predictions(ours, ref, X)


def test_gaussian_attributes_match_sklearn():
    X, y = DATA["iris"]
    ours, ref = fit_both("GaussianNB", {"priors": [0.2, 0.3, 0.5]}, X, y)
    for attr in ("theta_", "var_", "class_prior_", "class_count_", "epsilon_"):
        np.testing.assert_allclose(getattr(ours, attr), getattr(ref, attr), rtol=1e-12)


def test_gaussian_by_hand():
    # class 0: x in {0, 2} -> mean 1, var 1; class 1: x in {4, 6} -> mean 5, var 1
    X, y = np.array([[0.0], [2.0], [4.0], [6.0]]), np.array([0, 0, 1, 1])
    model = GaussianNB(var_smoothing=0.0).fit(X, y)
    np.testing.assert_allclose(model.theta_.ravel(), [1.0, 5.0])
    np.testing.assert_allclose(model.var_.ravel(), [1.0, 1.0])
    # at x = 3 both densities are equal, so the posterior is the prior
    np.testing.assert_allclose(model.predict_proba([[3.0]]), [[0.5, 0.5]], rtol=1e-15)
    # at x = 1: log-odds = -(1-1)^2/2 + (1-5)^2/2 = 8
    p1 = model.predict_proba([[1.0]])[0, 1]
    assert p1 == pytest.approx(1.0 / (1.0 + np.exp(8.0)), rel=1e-12)


def test_multinomial_by_hand():
    # counts: class a sees feature 0 three times, class b feature 1 once; alpha = 1
    X, y = np.array([[3.0, 0.0], [0.0, 1.0]]), np.array(["a", "b"])
    model = MultinomialNB().fit(X, y)
    np.testing.assert_allclose(np.exp(model.feature_log_prob_), [[4 / 5, 1 / 5], [1 / 3, 2 / 3]])
    np.testing.assert_allclose(np.exp(model.class_log_prior_), [0.5, 0.5])


def test_bernoulli_absence_is_evidence():
    # feature 1 is always on in class 1: a sample without it leans to class 0
    X = np.array([[1, 0], [0, 0], [1, 1], [0, 1]], dtype=float)
    y = np.array([0, 0, 1, 1])
    model = BernoulliNB().fit(X, y)
    np.testing.assert_allclose(np.exp(model.feature_log_prob_), [[2 / 4, 1 / 4], [2 / 4, 3 / 4]])
    assert model.predict_proba([[1.0, 0.0]])[0, 0] == pytest.approx(0.75)


@parametrize_with_checks([GaussianNB(), MultinomialNB(), BernoulliNB()])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


@pytest.mark.parametrize(("name", "params"), CASES)
def test_save_load_round_trip(tmp_path, name, params):
    X, y = DATA["digits"]
    model = OURS[name](**params).fit(X, y)
    back = io.load(io.save(model, tmp_path / "nb.npz"))
    np.testing.assert_array_equal(back.predict_proba(X), model.predict_proba(X))


def test_errors_name_the_parameter():
    X, y = DATA["iris"]
    with pytest.raises(ValueError, match="Negative values in data passed to MultinomialNB"):
        MultinomialNB().fit(X - 5.0, y)
    with pytest.raises(ValueError, match="alpha must be >= 0, got -1"):
        MultinomialNB(alpha=-1).fit(X, y)
    with pytest.raises(ValueError, match="var_smoothing must be >= 0"):
        GaussianNB(var_smoothing=-1e-9).fit(X, y)
    with pytest.raises(ValueError, match=r"The sum of the priors should be 1: priors sums to 1\.5"):
        GaussianNB(priors=[0.5, 0.5, 0.5]).fit(X, y)
    with pytest.raises(
        ValueError, match="must match number of classes: class_prior has 2 entries, but y has 3"
    ):
        BernoulliNB(class_prior=[0.5, 0.5]).fit(X, y)
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        GaussianNB().partial_fit(X, y)
    with pytest.raises(ValueError, match=r"target label\(s\) \[2\] in y do not exist"):
        MultinomialNB().partial_fit(X, y, classes=[0, 1])
    with pytest.raises(ValueError, match="is not the same as on last call to partial_fit"):
        BernoulliNB().partial_fit(X, y, classes=[0, 1, 2]).partial_fit(X, y, classes=[0, 1])
    with pytest.raises(ValueError, match="Unknown label type"):
        GaussianNB().fit(X, y + 0.5)
    with pytest.raises(ValueError, match="contains NaN"):
        GaussianNB().fit(np.where(X > 7, np.nan, X), y)
    with pytest.warns(
        UserWarning, match="alpha too small will result in numeric errors, setting alpha = 1.0e-10"
    ):
        MultinomialNB(alpha=0, force_alpha=False).fit(X, y)


def test_unsmoothed_zero_counts_follow_zero_log_zero_convention():
    # alpha = 0: feature 1 never occurs in class "a", so theta_a1 = 0 (log = -inf)
    X = np.array([[2.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 2.0]])
    y = np.array(["a", "a", "b", "b"])
    model = MultinomialNB(alpha=0.0).fit(X, y)
    assert np.isneginf(model.feature_log_prob_[0, 1])
    # a sample without feature 1: 0 * log 0 = 0, finite for both classes
    jll = model.predict_joint_log_proba([[3.0, 0.0]])
    assert np.isfinite(jll).all()
    expected_a = np.log(0.5) + 3.0 * np.log(1.0)  # theta_a = (1, 0)
    assert jll[0, 0] == pytest.approx(expected_a)
    # a sample with feature 1 is impossible under class "a"
    np.testing.assert_allclose(model.predict_proba([[1.0, 1.0]]), [[0.0, 1.0]])
    bern = BernoulliNB(alpha=0.0).fit(X, y)  # feature 0 always on in class "a": p = 1
    np.testing.assert_allclose(bern.predict_proba([[0.0, 1.0]]), [[0.0, 1.0]])


def test_unbinarized_counts_above_one_give_sklearns_nan():
    # binarize=None with counts: p_cj = (N_cj + 1) / (N_c + 2) = 6/4 > 1 for feature 0 of class
    # 0, so log(1 - p) is nan and scikit-learn's probabilities are nan; the 0 log 0 masking
    # turned that nan into 0 and returned finite probabilities (0.992, 0.008)
    X = np.array([[3.0, 0.0], [2.0, 1.0], [0.0, 1.0], [0.0, 0.0]])
    y = np.array([0, 0, 1, 1])
    with np.errstate(all="ignore"):
        want = sk.BernoulliNB(binarize=None).fit(X, y).predict_proba(X)
    assert np.isnan(want[0]).all()
    ours = BernoulliNB(binarize=None).fit(X, y)
    with pytest.warns(RuntimeWarning, match="invalid value encountered in log1p"):
        got = ours.predict_proba(X)  # log(1 - p) of p > 1
    np.testing.assert_allclose(got, want)  # nan where scikit-learn's is nan, equal elsewhere


@pytest.mark.parametrize(("name", "params"), CASES)
def test_partial_fit_in_batches_matches_sklearn(name, params):
    """Three weighted batches give scikit-learn's partial_fit model; for counts, the same
    model as one fit (GaussianNB's var_smoothing term follows the latest batch)."""
    X, y = DATA["digits"]
    sw = np.random.default_rng(0).uniform(0.5, 2.0, len(y))
    ours, ref = OURS[name](**params), getattr(sk, name)(**params)
    for rows in np.array_split(np.arange(len(y)), 3):
        ours.partial_fit(X[rows], y[rows], classes=np.unique(y), sample_weight=sw[rows])
        ref.partial_fit(X[rows], y[rows], classes=np.unique(y), sample_weight=sw[rows])
    assert_same_predictions(ours, ref, X)
    if name != "GaussianNB":
        once = OURS[name](**params).fit(X, y, sample_weight=sw)
        np.testing.assert_allclose(ours.feature_count_, once.feature_count_, rtol=1e-12)
        assert_same_predictions(ours, once, X)


def test_gaussian_single_class_fits_like_sklearn():
    X, y = DATA["iris"]
    ours, ref = fit_both("GaussianNB", {}, X[:50], y[:50])
    assert_same_predictions(ours, ref, X)


@pytest.mark.parametrize("name", ["MultinomialNB", "BernoulliNB"])
@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_sparse_counts_stay_sparse_and_match_sklearn(name, fmt):
    import scipy.sparse as sp

    X, y = DATA["digits"]
    Xs = {"csr": sp.csr_matrix, "csc": sp.csc_matrix}[fmt](X)
    ours = OURS[name]().fit(Xs, y)
    ref = getattr(sk, name)().fit(Xs, y)
    np.testing.assert_allclose(ours.feature_count_, ref.feature_count_)
    assert_same_predictions(ours, ref, Xs)


@pytest.mark.parametrize("name", ["MultinomialNB", "BernoulliNB"])
def test_alpha_per_feature_matches_sklearn(name):
    X, y = DATA["digits"]
    alpha = np.linspace(0.1, 2.0, X.shape[1])
    ours = OURS[name](alpha=alpha).fit(X, y)
    if name == "MultinomialNB":
        ref = sk.MultinomialNB(alpha=alpha).fit(X, y)
        np.testing.assert_allclose(ours.feature_log_prob_, ref.feature_log_prob_, rtol=1e-12)
        assert_same_predictions(ours, ref, X)
    else:  # scikit-learn's BernoulliNB takes a scalar alpha only: the formula written out
        on = np.array([(X[y == c] > 0).sum(axis=0) for c in np.unique(y)])
        total = np.bincount(y)[:, None]
        expected = np.log((on + alpha) / (total + 2 * alpha))
        np.testing.assert_allclose(ours.feature_log_prob_, expected, rtol=1e-12)
    with pytest.raises(ValueError, match="All values in alpha must be greater than 0"):
        OURS[name](alpha=-alpha).fit(X, y)
    with pytest.raises(ValueError, match=r"it should contains `n_features`\. Got 3 elements"):
        OURS[name](alpha=[1.0, 2.0, 3.0]).fit(X, y)


def assert_close_in_float32(ours, ref):
    """Equal dtypes, and values within 1e-4 of the reference's largest finite magnitude:
    scikit-learn computes in float32 (eps 1.2e-7), we in float64 then round; over iris, wine
    and digits (fit, two partial_fit halves, sample weights) the largest gap measured was
    3.4e-5 (digits' predict_proba)."""
    ours, ref = np.asarray(ours), np.asarray(ref)
    assert ours.dtype == ref.dtype
    finite = np.isfinite(ref)
    np.testing.assert_array_equal(ours[~finite], ref[~finite])
    np.testing.assert_allclose(
        ours[finite], ref[finite], rtol=0, atol=1e-4 * np.max(np.abs(ref[finite]))
    )


@pytest.mark.parametrize("data", ["iris", "wine", "digits"])
@pytest.mark.parametrize("how", ["fit", "halves", "weights", "priors"])
def test_gaussian_float32_in_float32_out(data, how):
    X, y = DATA[data]
    X32 = X.astype(np.float32)
    classes = np.unique(y)
    ours, ref = GaussianNB(), sk.GaussianNB()
    for model in (ours, ref):
        if how == "halves":
            model.partial_fit(X32[::2], y[::2], classes)
            model.partial_fit(X32[1::2], y[1::2])
        elif how == "weights":
            w = np.random.default_rng(0).uniform(0.5, 2.0, len(y)).astype(np.float32)
            model.fit(X32, y, sample_weight=w)
        elif how == "priors":
            model.set_params(priors=np.full(len(classes), 1.0 / len(classes))).fit(X32, y)
        else:
            model.fit(X32, y)
    assert ref.theta_.dtype == np.float32
    for attr in ("theta_", "var_", "class_prior_", "class_count_", "epsilon_"):
        assert_close_in_float32(getattr(ours, attr), getattr(ref, attr))
    for method in ("predict_joint_log_proba", "predict_log_proba", "predict_proba"):
        assert_close_in_float32(getattr(ours, method)(X32), getattr(ref, method)(X32))
    np.testing.assert_array_equal(ours.predict(X32), ref.predict(X32))


def test_float64_wins_over_float32_as_in_sklearn():
    """A float32 GaussianNB on float64 data, a float64 one on float32 data, and the count
    models (whose counts scikit-learn keeps in float64) give float64 probabilities."""
    X, y = DATA["wine"]
    X32 = X.astype(np.float32)
    cases = [("GaussianNB", X32, X), ("GaussianNB", X, X32)]
    cases += [(name, X32, X32) for name in ("MultinomialNB", "BernoulliNB")]
    for name, fit_on, apply_to in cases:
        ours, ref = fit_both(name, {}, fit_on, y)
        for method in ("predict_joint_log_proba", "predict_proba"):
            got, want = getattr(ours, method)(apply_to), getattr(ref, method)(apply_to)
            assert got.dtype == want.dtype == np.float64
    ours, ref = GaussianNB(), sk.GaussianNB()
    for model in (ours, ref):  # the first batch's dtype stays
        model.partial_fit(X32[::2], y[::2], np.unique(y)).partial_fit(X[1::2], y[1::2])
    assert ours.theta_.dtype == ours.var_.dtype == ref.theta_.dtype == np.float32


def test_float32_model_save_load_round_trip(tmp_path):
    X, y = DATA["iris"]
    model = GaussianNB().fit(X.astype(np.float32), y)
    back = io.load(io.save(model, tmp_path / "nb.npz"))
    assert back.theta_.dtype == np.float32 and back.epsilon_ == model.epsilon_
    np.testing.assert_array_equal(back.predict_proba(X), model.predict_proba(X))


@pytest.mark.parametrize("cls", ["MultinomialNB", "BernoulliNB"])
@pytest.mark.parametrize("class_prior", [[0.2, 0.2, 0.2], [1.0, 2.0, 3.0], [0.0, 0.5, 0.1]])
def test_discrete_class_prior_not_summing_to_one_as_sklearn(cls, class_prior):
    """scikit-learn's MultinomialNB/BernoulliNB take class_prior weights that do not sum to 1
    (class_log_prior_ is their log); ours refused them ('The sum of the priors should be 1')."""
    X, y = DATA["iris"]
    ours = globals()[cls](class_prior=class_prior).fit(X, y)
    ref = getattr(sk, cls)(class_prior=class_prior).fit(X, y)
    np.testing.assert_allclose(ours.class_log_prior_, ref.class_log_prior_, rtol=1e-12)
    for method in ("predict_joint_log_proba", "predict_log_proba", "predict_proba"):
        np.testing.assert_allclose(
            getattr(ours, method)(X), getattr(ref, method)(X), rtol=1e-10, atol=1e-12
        )
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))
