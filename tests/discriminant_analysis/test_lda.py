"""LinearDiscriminantAnalysis against scikit-learn: predictions and probabilities to 1e-10."""

import warnings

import numpy as np
import pytest
from sklearn import discriminant_analysis as sk
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine
from sklearn.utils.estimator_checks import parametrize_with_checks

from mlcanon import io
from mlcanon.discriminant_analysis import LinearDiscriminantAnalysis as LDA

DATA = {
    "iris": load_iris(return_X_y=True),
    "wine": load_wine(return_X_y=True),
    "breast_cancer": load_breast_cancer(return_X_y=True),
    "digits": load_digits(return_X_y=True),
}
SOLVERS = [
    {"solver": "svd"},
    {"solver": "lsqr"},
    {"solver": "lsqr", "shrinkage": "auto"},
    {"solver": "eigen", "shrinkage": 0.2},
    {"solver": "eigen", "shrinkage": "auto"},
]


def fit_both(X, y, **params):
    with np.errstate(all="ignore"):
        return LDA(**params).fit(X, y), sk.LinearDiscriminantAnalysis(**params).fit(X, y)


@pytest.mark.filterwarnings("ignore:variables are collinear")
@pytest.mark.filterwarnings("ignore:Variables are collinear")
@pytest.mark.parametrize("data", list(DATA))
@pytest.mark.parametrize("params", SOLVERS, ids=str)
def test_classifier_matches_sklearn(data, params):
    X, y = DATA[data]
    ours, ref = fit_both(X, y, **params)
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))
    # the posteriors do not move with the data; scikit-learn's binary lsqr fit on the raw
    # breast-cancer features (up to 4e3) rounds them by 3e-8, on centred features by 1e-12
    centred = sk.LinearDiscriminantAnalysis(**params).fit(X - X.mean(axis=0), y)
    want = centred.predict_proba(X - X.mean(axis=0))
    np.testing.assert_allclose(ours.predict_proba(X), want, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(
        ours.decision_function(X),
        ref.decision_function(X),
        rtol=1e-8,
        atol=1e-8 * np.abs(ref.decision_function(X)).max(),
    )


@pytest.mark.filterwarnings("ignore:variables are collinear")
@pytest.mark.filterwarnings("ignore:Variables are collinear")
@pytest.mark.parametrize("data", ["iris", "wine", "digits"])
@pytest.mark.parametrize(
    "params", [{"solver": "svd"}, {"solver": "eigen", "shrinkage": 0.1}], ids=str
)
def test_transform_matches_sklearn_up_to_sign(data, params):
    X, y = DATA[data]
    ours, ref = fit_both(X, y, **params, n_components=2)
    Z1, Z2 = ours.transform(X), ref.transform(X)
    signs = np.sign(np.sum(Z1 * Z2, axis=0))
    np.testing.assert_allclose(Z1 * signs, Z2, rtol=1e-8, atol=1e-8 * np.abs(Z2).max())
    np.testing.assert_allclose(
        ours.explained_variance_ratio_, ref.explained_variance_ratio_, rtol=1e-10
    )


def test_priors_and_string_labels_match_sklearn():
    X, y = DATA["wine"]
    labels = np.array(["c", "a", "b"])[y]
    ours, ref = fit_both(X, labels, priors=[0.5, 0.3, 0.2])
    np.testing.assert_array_equal(ours.classes_, ref.classes_)
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), rtol=1e-10, atol=1e-10)


def test_one_dimension_by_hand():
    # two classes, pooled variance 1, means -1 and 1, equal priors: log-odds = 2 x
    X = np.array([[-2.0], [0.0], [0.0], [2.0]])
    y = np.array([0, 0, 1, 1])
    model = LDA(solver="lsqr").fit(X, y)
    np.testing.assert_allclose(model.coef_, [[2.0]], rtol=1e-14)
    np.testing.assert_allclose(model.intercept_, [0.0], atol=1e-14)
    np.testing.assert_allclose(model.predict_proba([[0.5]])[0, 1], 1 / (1 + np.exp(-1.0)))


@parametrize_with_checks([LDA(), LDA(solver="eigen", shrinkage="auto")])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def test_save_load_round_trip(tmp_path):
    X, y = DATA["wine"]
    model = LDA().fit(X, y)
    back = io.load(io.save(model, tmp_path / "lda.npz"))
    np.testing.assert_array_equal(back.predict_proba(X), model.predict_proba(X))
    np.testing.assert_array_equal(back.transform(X), model.transform(X))


def test_errors_name_the_parameter():
    X, y = DATA["iris"]
    with pytest.raises(ValueError, match="solver must be one of 'svd', 'lsqr', 'eigen'"):
        LDA(solver="qr").fit(X, y)
    with pytest.raises(NotImplementedError, match="shrinkage not supported with 'svd' solver"):
        LDA(shrinkage=0.1).fit(X, y)
    with pytest.raises(ValueError, match="shrinkage must be <= 1"):
        LDA(solver="lsqr", shrinkage=2.0).fit(X, y)
    with pytest.raises(
        ValueError, match=r"larger than min\(n_features, n_classes - 1\) = 2; got n_"
    ):
        LDA(n_components=3).fit(X, y)
    with pytest.raises(ValueError, match="only one class"):
        LDA().fit(X[:50], y[:50])
    with pytest.raises(
        ValueError, match="must be more than the number of classes: got n_samples=3"
    ):
        LDA().fit(X[[0, 50, 100]], y[[0, 50, 100]])
    with pytest.raises(NotImplementedError, match="transform not implemented for 'lsqr'"):
        LDA(solver="lsqr").fit(X, y).transform(X)
    with pytest.raises(ValueError, match="within-class covariance is singular"):
        LDA(solver="eigen").fit(*DATA["digits"])


@pytest.mark.parametrize("solver", ["svd", "lsqr", "eigen"])
def test_store_covariance_matches_sklearn(solver):
    X, y = DATA["iris"]
    ours = LDA(solver=solver, store_covariance=True).fit(X, y)
    ref = sk.LinearDiscriminantAnalysis(solver=solver, store_covariance=True).fit(X, y)
    np.testing.assert_allclose(ours.covariance_, ref.covariance_, rtol=1e-10)
    assert not hasattr(LDA().fit(X, y), "covariance_")


def test_priors_not_summing_to_one_are_renormalized_with_a_warning():
    X, y = DATA["iris"]
    with pytest.warns(UserWarning, match="priors do not sum to 1"):
        ours = LDA(priors=[0.2, 0.2, 0.2]).fit(X, y)
    ref = sk.LinearDiscriminantAnalysis(priors=[0.2, 0.2, 0.2]).fit(X, y)
    np.testing.assert_allclose(ours.priors_, ref.priors_)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), rtol=1e-8)


@pytest.mark.parametrize("excess", [1.00001e-5, 9.99e-6])
def test_priors_are_renormalized_where_sklearn_renormalizes_them(excess):
    # scikit-learn renormalizes when |sum - 1| > 1e-5; np.isclose (tolerance 1e-5 + 1e-8) kept
    # priors summing to 1 + 1.00001e-5 as given, without the warning
    X, y = DATA["iris"]
    priors = [0.3, 0.3, 0.4 + excess]
    with warnings.catch_warnings(record=True) as ours_warned:
        warnings.simplefilter("always")
        ours = LDA(priors=priors).fit(X, y)
    with warnings.catch_warnings(record=True) as ref_warned:
        warnings.simplefilter("always")
        ref = sk.LinearDiscriminantAnalysis(priors=priors).fit(X, y)
    np.testing.assert_allclose(ours.priors_, ref.priors_, rtol=1e-15)
    renormalized = [
        [str(w.message).startswith("The priors do not sum to 1") for w in warned]
        for warned in (ours_warned, ref_warned)
    ]
    assert any(renormalized[0]) == any(renormalized[1]) == (excess > 1e-5)


@pytest.mark.parametrize("solver", ["lsqr", "eigen"])
def test_covariance_estimator_matches_sklearn(solver):
    from sklearn.covariance import OAS, ShrunkCovariance

    X, y = DATA["wine"]
    for estimator in (ShrunkCovariance(shrinkage=0.3), OAS()):
        ours = LDA(solver=solver, covariance_estimator=estimator).fit(X, y)
        ref = sk.LinearDiscriminantAnalysis(solver=solver, covariance_estimator=estimator)
        ref.fit(X, y)
        np.testing.assert_allclose(ours.covariance_, ref.covariance_, rtol=1e-10)
        np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), rtol=1e-7)
    with pytest.raises(ValueError, match="Only one of the two can be set"):
        LDA(solver=solver, shrinkage=0.1, covariance_estimator=OAS()).fit(X, y)
    with pytest.raises(ValueError, match="not supported with svd solver"):
        LDA(covariance_estimator=OAS()).fit(X, y)


def test_float32_input_gives_float32_coefficients():
    X, y = DATA["iris"]
    ours = LDA().fit(X.astype(np.float32), y)
    ref = sk.LinearDiscriminantAnalysis().fit(X.astype(np.float32), y)
    assert ours.coef_.dtype == ref.coef_.dtype == np.float32
    # the solve runs in float64: float32 rounding of scikit-learn's float64 coefficients
    ref64 = sk.LinearDiscriminantAnalysis().fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref64.coef_, rtol=1e-6)


def test_negative_priors_are_refused():
    X, y = DATA["iris"]
    with pytest.raises(ValueError, match=r"priors must be non-negative, got \[2.0, -1.0, 0.0\]"):
        LDA(priors=[2.0, -1.0, 0.0]).fit(X, y)


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("solver", ["svd", "lsqr", "eigen"])
def test_float32_input_as_sklearn(solver, n_classes):
    """float32 X: the outputs and the fitted arrays in scikit-learn's dtypes, values to float32
    rounding; for several classes the lsqr and eigen solvers give a float64 coef_ and
    intercept_, hence float64 scores, as scikit-learn's (float32 for two classes)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 4)).astype(np.float32)
    y = np.digitize(X[:, 0] + 0.3 * X[:, 1], [0.0] if n_classes == 2 else [-0.5, 0.5])
    ours, ref = LDA(solver=solver).fit(X, y), sk.LinearDiscriminantAnalysis(solver=solver).fit(X, y)
    for name, value in vars(ref).items():
        if name.endswith("_") and isinstance(value, np.ndarray):
            assert getattr(ours, name).dtype == value.dtype, name
    methods = ["predict_proba", "decision_function"] + (["transform"] if solver == "svd" else [])
    for method in methods:
        got, want = getattr(ours, method)(X), getattr(ref, method)(X)
        assert got.dtype == want.dtype
        if method != "transform":  # the projection is defined up to sign
            np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("solver", ["lsqr", "eigen"])
def test_probabilities_of_far_off_features_sum_to_one_as_sklearn(solver):
    # lsqr scores are x^T Σ^{-1} μ_k: ~1e10 for features near 1e5; a log-softmax that subtracts
    # logsumexp(scores) rounds at 1e10 * eps ~ 1e-6 (rows summed to 1 ± 9e-7). The posteriors
    # are now taken from scores centred at the prior-weighted mean: scikit-learn's, on the raw
    # features, are 1.2e-6 off its own fit on centred features (the same model), ours 1e-12
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], 30)
    X = rng.normal(size=(90, 2)) + 0.3 * y[:, None] + 1e5
    ours, ref = fit_both(X, y, solver=solver)
    centred = sk.LinearDiscriminantAnalysis(solver=solver).fit(X - 1e5, y)  # an exact shift
    np.testing.assert_allclose(ours.predict_proba(X), centred.predict_proba(X - 1e5), atol=1e-12)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=2e-6)
    np.testing.assert_array_equal(ours.predict(X), centred.predict(X - 1e5))
    np.testing.assert_allclose(np.exp(ours.predict_log_proba(X)).sum(axis=1), 1.0, atol=1e-15)
    # decision_function stays scikit-learn's uncentred x^T Σ^{-1} μ_k - μ_k^T Σ^{-1} μ_k / 2
    scores = ref.decision_function(X)
    np.testing.assert_allclose(ours.decision_function(X), scores, rtol=1e-9)


@pytest.mark.parametrize("solver", ["lsqr", "eigen"])
def test_three_classes_far_from_the_origin_keep_their_posteriors(solver):
    # features near 1e7: the uncentred scores are ~1e14, where floats are 0.016 apart; their
    # softmax was off by 3e-2 (scikit-learn's too) and 7 of 300 predictions changed. LDA moves
    # with the data: the reference is scikit-learn on the same data without the offset
    rng = np.random.default_rng(8)
    y = rng.integers(0, 3, 300)
    X = rng.normal(size=(300, 4)) + 0.5 * y[:, None]
    ours = LDA(solver=solver).fit(X + 1e7, y)
    ref = sk.LinearDiscriminantAnalysis(solver=solver).fit(X, y)
    np.testing.assert_allclose(ours.predict_proba(X + 1e7), ref.predict_proba(X), atol=1e-7)
    np.testing.assert_array_equal(ours.predict(X + 1e7), ref.predict(X))


def test_eigen_ratios_of_an_indefinite_between_scatter_are_sorted_as_sklearn():
    # collinear features with Ledoit-Wolf shrinkage: S_b = S_t - S_w is indefinite and its two
    # generalized eigenvalues sum to a negative number, so the top eigenvalue's ratio is -0.746;
    # scikit-learn sorts the ratios themselves and reports 1.746 first (we gave -0.746)
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 10)
    x = rng.normal(size=20) + y
    X = np.column_stack([x, 2 * x])
    ours, ref = fit_both(X, y, solver="eigen", shrinkage="auto")
    np.testing.assert_allclose(ours.explained_variance_ratio_, ref.explained_variance_ratio_)
    np.testing.assert_allclose(ours.explained_variance_ratio_, [1.74610074], rtol=1e-8)


def test_svd_with_no_within_class_variance_is_refused():
    # every feature constant within each class: nothing to whiten (an IndexError before, and
    # in scikit-learn)
    y = np.repeat([0, 1, 2], 4)
    X = np.column_stack([y, np.full(12, 3.0)]).astype(float)
    with pytest.raises(ValueError, match=r"within-class scatter is zero: .* tol=0.0001"):
        LDA().fit(X, y)


@pytest.mark.parametrize("solver", ["lsqr", "eigen"])
def test_float32_features_far_from_zero_predict_as_sklearn(solver):
    """Features near 1e3 in float32, four classes: the intercepts are near -8e6. Rounded to
    float32 they moved the scores by up to 0.5 and changed 54% of the predictions of the
    eigen solver with shrinkage; kept in float64, as scikit-learn keeps them, the probabilities
    are scikit-learn's on the same numbers in float64 (its float32 run, whose class means and
    covariance are float32 sums, is within 0.2%)."""
    rng = np.random.default_rng(484)
    y = np.repeat([0, 1, 2, 3], 12)
    X = (rng.normal(size=(48, 1)) * 0.2 + 0.05 * y[:, None] + 1e3).astype(np.float32)
    kw = dict(solver=solver, shrinkage=0.25)
    ours = LDA(**kw).fit(X, y)
    ref = sk.LinearDiscriminantAnalysis(**kw).fit(X, y)
    exact = sk.LinearDiscriminantAnalysis(**kw).fit(X.astype(np.float64), y)
    assert ours.intercept_.dtype == ref.intercept_.dtype == np.float64
    proba = ours.predict_proba(X)
    assert proba.dtype == ref.predict_proba(X).dtype == np.float64
    # scores of 1e7 cancel to 1: agreement to 1e-7 is all their rounding leaves
    np.testing.assert_allclose(proba, exact.predict_proba(X.astype(np.float64)), rtol=1e-7)
    np.testing.assert_allclose(proba, ref.predict_proba(X), rtol=5e-3)


@pytest.mark.parametrize("solver", ["lsqr", "eigen"])
def test_two_classes_far_from_the_origin_keep_their_log_odds(solver):
    # features near 1e7: w_k = Σ^{-1} μ_k and b_k are ~1e7 and ~1e14, and the binary intercept
    # b_1 - b_0 kept their rounding (probabilities off by 1e-2, 3 of 300 predictions changed;
    # scikit-learn's lsqr is off by 2e-2 too). LDA is translation invariant: the reference is
    # scikit-learn on the same data without the offset, whose intercept moves by -offset . coef
    rng = np.random.default_rng(8)
    y = rng.integers(0, 2, 300)
    X = rng.normal(size=(300, 4)) + 0.5 * y[:, None]
    offset = 1e7
    ours = LDA(solver=solver).fit(X + offset, y)
    ref = sk.LinearDiscriminantAnalysis(solver=solver).fit(X, y)
    np.testing.assert_allclose(ours.predict_proba(X + offset), ref.predict_proba(X), atol=1e-7)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-7)
    np.testing.assert_allclose(
        ours.intercept_, ref.intercept_ - offset * ref.coef_.sum(axis=1), rtol=1e-7
    )
    np.testing.assert_array_equal(ours.predict(X + offset), ref.predict(X))
