"""LinearSVC against scikit-learn's LinearSVC (LIBLINEAR).

Every problem here is strongly convex in the weights (L2), or has a unique minimizer on these data
(L1), so the solvers need not take LIBLINEAR's steps: run to a tight tolerance, both reach the
same coefficients. The data are standardized iris, on which LIBLINEAR's solvers converge.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn import svm as sk
from sklearn.datasets import load_iris, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from mlcanon.svm import LinearSVC

X, Y3 = load_iris(return_X_y=True)
X = StandardScaler().fit_transform(X)
Y2 = (Y3 == 2).astype(int)
SW = np.random.RandomState(0).uniform(0.5, 2.0, len(Y3))
SW[::7] = 0.0  # LIBLINEAR drops samples of weight 0

# tol=1e-12 is at the limit of precision: the solvers run to max_iter and warn
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

TIGHT = dict(tol=1e-12, max_iter=20000, random_state=0)
SOLVERS = {
    "dual-hinge": dict(loss="hinge", dual=True),
    "dual-squared-hinge": dict(dual=True),
    "crammer-singer": dict(multi_class="crammer_singer"),
}
SETTINGS = {
    "plain": dict(C=0.1),
    "intercept_scaling": dict(C=0.1, intercept_scaling=5.0),
    "no-intercept": dict(C=0.1, fit_intercept=False),
    "balanced": dict(C=0.1, class_weight="balanced"),
    "class-dict": dict(C=0.2, class_weight={0: 2.0, 1: 0.5}),
}


def fit_both(X, y, sample_weight=None, **params):
    ours = LinearSVC(**params).fit(X, y, sample_weight=sample_weight)
    ref = sk.LinearSVC(**params).fit(X, y, sample_weight=sample_weight)
    return ours, ref


def assert_same(ours, ref, atol):
    assert ours.coef_.shape == ref.coef_.shape
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=0, atol=atol)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=0, atol=atol)
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))
    np.testing.assert_allclose(ours.decision_function(X), ref.decision_function(X), atol=10 * atol)
    np.testing.assert_array_equal(ours.classes_, ref.classes_)


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "sample_weight"])
@pytest.mark.parametrize("setting", SETTINGS)
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("y", [Y2, Y3], ids=["binary", "3-class"])
def test_coefficients_equal_liblinear(solver, setting, weighted, y):
    params = {**TIGHT, **SOLVERS[solver], **SETTINGS[setting]}
    if solver == "dual-hinge":  # with weights up to 2, LIBLINEAR's hinge dual needs a smaller C
        params["C"] /= 4  # to converge within 20000 epochs (at C = 0.1 it stops ~1e-2 short)
    ours, ref = fit_both(X, y, SW if weighted else None, **params)
    assert_same(ours, ref, 1e-9)


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "sample_weight"])
@pytest.mark.parametrize("setting", SETTINGS)
@pytest.mark.parametrize("y", [Y2, Y3], ids=["binary", "3-class"])
def test_primal_squared_hinge_equals_liblinear(setting, weighted, y):
    """The primal's optimum is the dual's: our Newton-CG reaches LIBLINEAR's dual coordinate
    descent solution to 1e-9. LIBLINEAR's own primal (TRON) stops at a relative gradient of
    ~1e-8 (its 'actred and prered too small' exit), so it is met to 1e-6."""
    params = {**TIGHT, **SETTINGS[setting]}
    sw = SW if weighted else None
    ours, ref_primal = fit_both(X, y, sw, dual=False, **params)
    _, ref_dual = fit_both(X, y, sw, dual=True, **params)
    assert_same(ours, ref_dual, 1e-9)
    assert_same(ours, ref_primal, 1e-6)


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "sample_weight"])
@pytest.mark.parametrize("setting", SETTINGS)
@pytest.mark.parametrize("y", [Y2, Y3], ids=["binary", "3-class"])
def test_l1_penalty_equals_liblinear(setting, weighted, y):
    """L1: LIBLINEAR's CDN degrades below tol ~ 1e-9 on these data (its margins drift), so both
    stop at tol=1e-9, where they agree to 1e-7 (and the zero pattern matches)."""
    params = {**TIGHT, **SETTINGS[setting], "tol": 1e-9}
    ours, ref = fit_both(X, y, SW if weighted else None, penalty="l1", dual=False, **params)
    assert_same(ours, ref, 1e-7)


@pytest.mark.parametrize("solver", ["dual-squared-hinge", "dual-hinge", "primal", "l1"])
def test_sparse_equals_dense_and_liblinear(solver):
    params = {
        "dual-squared-hinge": dict(dual=True),
        "dual-hinge": dict(loss="hinge", dual=True),
        "primal": dict(dual=False),
        "l1": dict(penalty="l1", dual=False, tol=1e-9),
    }[solver]
    params = {**TIGHT, "C": 0.1, **params}
    Xs = sp.csr_matrix(np.where(np.abs(X) < 0.5, 0.0, X))  # a third of the entries are 0
    dense = LinearSVC(**params).fit(Xs.toarray(), Y3)
    sparse = LinearSVC(**params).fit(Xs, Y3)
    np.testing.assert_allclose(sparse.coef_, dense.coef_, rtol=0, atol=1e-12)
    np.testing.assert_allclose(sparse.intercept_, dense.intercept_, rtol=0, atol=1e-12)
    ref = sk.LinearSVC(**{**params, "dual": True} if solver == "primal" else params).fit(Xs, Y3)
    atol = 1e-7 if solver == "l1" else 1e-9  # see test_l1_penalty_equals_liblinear
    np.testing.assert_allclose(sparse.coef_, ref.coef_, rtol=0, atol=atol)
    np.testing.assert_array_equal(sparse.predict(Xs), ref.predict(Xs))


def test_wide_sparse_text_like_data():
    """More features than samples (dual='auto' picks the dual), CSR kept sparse."""
    rng = np.random.RandomState(0)
    Xs = sp.random(300, 2000, density=0.01, format="csr", random_state=rng)
    y = (Xs @ rng.randn(2000) > 0).astype(int)
    ours, ref = fit_both(Xs, y, **TIGHT)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=0, atol=1e-9)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=0, atol=1e-9)


def test_unit_and_repeated_weights_equal_repetition():
    """Weight k is k copies of the sample (C scales per sample), checked against LIBLINEAR."""
    k = np.random.RandomState(1).randint(0, 4, len(Y3))
    ours, ref = fit_both(X, Y3, k, **TIGHT, C=0.1, dual=True)
    flat = LinearSVC(**TIGHT, C=0.1, dual=True).fit(np.repeat(X, k, 0), np.repeat(Y3, k))
    np.testing.assert_allclose(ours.coef_, flat.coef_, rtol=0, atol=1e-9)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=0, atol=1e-9)


def test_string_labels_and_attributes():
    names = np.array(["setosa", "versicolor", "virginica"])[Y3]
    ours, ref = fit_both(X, names, **TIGHT, C=0.1)
    np.testing.assert_array_equal(ours.classes_, ref.classes_)
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))
    assert isinstance(ours.n_iter_, int) and ours.n_features_in_ == 4
    assert ours.score(X, names) == ref.score(X, names)
    no_intercept = LinearSVC(fit_intercept=False).fit(X, Y2)
    assert no_intercept.intercept_ == 0.0


def test_dual_auto_resolves_like_scikit_learn():
    wide = np.random.RandomState(0).randn(10, 20)
    y = np.arange(10) % 2
    for penalty, loss in [("l2", "squared_hinge"), ("l2", "hinge"), ("l1", "squared_hinge")]:
        ours, ref = fit_both(wide, y, penalty=penalty, loss=loss, **TIGHT)
        np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=0, atol=1e-7)


def test_max_iter_warns_like_liblinear():
    with pytest.warns(ConvergenceWarning, match="Liblinear failed to converge"):
        model = LinearSVC(max_iter=2, dual=True, tol=1e-12).fit(X, Y3)
    assert model.n_iter_ == 2


@pytest.mark.parametrize(
    "penalty, loss, dual",
    [
        ("l1", "hinge", False),
        ("l1", "hinge", True),
        ("l2", "hinge", False),
        ("l1", "squared_hinge", True),
    ],
)
def test_unsupported_combinations_are_refused_with_scikit_learns_message(penalty, loss, dual):
    with pytest.raises(ValueError) as ref_error:
        sk.LinearSVC(penalty=penalty, loss=loss, dual=dual).fit(X, Y2)
    with pytest.raises(ValueError) as our_error:
        LinearSVC(penalty=penalty, loss=loss, dual=dual).fit(X, Y2)
    assert str(our_error.value) == str(ref_error.value)


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(C=0.0), r"C must be > 0, got 0.0"),
        (dict(penalty="l3"), r"penalty must be one of 'l1', 'l2'.*'l3'"),
        (dict(loss="log"), r"loss must be one of 'hinge', 'squared_hinge'.*'log'"),
        (dict(dual="yes"), r"dual.*'auto'.*'yes'"),
        (dict(multi_class="ovo"), r"multi_class must be one of 'ovr', 'crammer_singer'.*'ovo'"),
        (dict(intercept_scaling=0.0), r"intercept_scaling must be > 0, got 0.0"),
        (dict(max_iter=-1), r"max_iter must be >= 0, got -1"),
    ],
)
def test_bad_parameters_name_parameter_allowed_and_given(params, match):
    with pytest.raises((ValueError, TypeError), match=match):
        LinearSVC(**params).fit(X, Y2)


def test_all_weights_zero_is_refused():
    with pytest.raises(ValueError, match="sample_weight"):
        LinearSVC().fit(X, Y2, sample_weight=np.zeros(len(Y2)))


def test_separable_blobs_predict_like_liblinear():
    Xb, yb = make_classification(200, 10, n_informative=6, n_classes=4, random_state=3)
    ours, ref = fit_both(StandardScaler().fit_transform(Xb), yb, **TIGHT, C=0.05, dual=True)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=0, atol=1e-9)


@parametrize_with_checks(
    [LinearSVC(max_iter=5000), LinearSVC(dual=False, tol=1e-12)],
    expected_failed_checks=lambda est: (
        {
            # scikit-learn expects these of its own LinearSVC (and runs them only with dual=False,
            # tol=1e-12): two fits stopped at tol=1e-4 agree only to about that tolerance
            "check_sample_weight_equivalence_on_dense_data": "agrees only up to the solver tol",
            "check_sample_weight_equivalence_on_sparse_data": "agrees only up to the solver tol",
        }
        if est.tol > 1e-12
        else {}
    ),
)
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)
