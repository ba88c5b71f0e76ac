"""NuSVC against scikit-learn's LIBSVM nu-SVC: same support vectors, dual coefficients,
intercepts, decision values and predictions.

Both solve each pair's nu dual by LIBSVM's Solver_NU (per-label working-set selection, two
offsets) from LIBSVM's starting point and rescale by 1/r; with ``shrinking=False`` scikit-learn
takes the same steps to the last bit (same iteration counts), so the models agree to 1e-12.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn import svm as sk
from sklearn.datasets import load_iris, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.estimator_checks import parametrize_with_checks

from mlcanon.svm import SVC, NuSVC

X_IRIS, Y_IRIS = load_iris(return_X_y=True)
KERNELS = ["linear", "poly", "rbf", "sigmoid"]
TIGHT = 1e-8


def _dense(a):
    return a.toarray() if sp.issparse(a) else a


def fit_both(X, y, sample_weight=None, **params):
    ours = NuSVC(**params).fit(X, y, sample_weight=sample_weight)
    ref = sk.NuSVC(shrinking=False, **params).fit(X, y, sample_weight=sample_weight)
    return ours, ref


def assert_same_model(ours, ref, X, atol=1e-12):
    np.testing.assert_array_equal(ours.classes_, ref.classes_)
    np.testing.assert_array_equal(ours.support_, ref.support_)
    np.testing.assert_array_equal(ours.n_support_, ref.n_support_)
    np.testing.assert_array_equal(ours.n_iter_, ref.n_iter_)
    assert ours.fit_status_ == ref.fit_status_ == 0
    assert ours.shape_fit_ == ref.shape_fit_
    np.testing.assert_allclose(_dense(ours.dual_coef_), _dense(ref.dual_coef_), rtol=0, atol=atol)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=0, atol=atol)
    # the decision sums the kernel products in another order: rounding only
    scale = np.abs(_dense(ref.dual_coef_)).sum()
    np.testing.assert_allclose(
        ours.decision_function(X), ref.decision_function(X), rtol=0, atol=1e-12 * scale
    )
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))


@pytest.mark.parametrize("nu", [0.05, 0.3, 0.5, 0.7])
@pytest.mark.parametrize("kernel", KERNELS)
def test_matches_sklearn_on_iris(kernel, nu):
    gamma = 0.05 if kernel == "sigmoid" else "scale"
    ours, ref = fit_both(X_IRIS, Y_IRIS, kernel=kernel, nu=nu, tol=TIGHT, gamma=gamma)
    assert_same_model(ours, ref, X_IRIS)


@pytest.mark.parametrize("kernel", ["linear", "rbf"])
def test_sample_weight_matches_sklearn(kernel):
    w = np.random.default_rng(0).uniform(0.0, 2.0, len(Y_IRIS))
    ours, ref = fit_both(X_IRIS, Y_IRIS, sample_weight=w, kernel=kernel, nu=0.3, tol=TIGHT)
    assert_same_model(ours, ref, X_IRIS)


def test_binary_sign_and_ovo_shape_match_sklearn():
    X, y = make_classification(n_samples=80, n_features=4, random_state=0)
    labels = np.where(y == 1, "yes", "no")
    ours, ref = fit_both(X, labels, nu=0.4, tol=TIGHT)
    assert_same_model(ours, ref, X)
    ours, ref = fit_both(X_IRIS, Y_IRIS, nu=0.4, tol=TIGHT, decision_function_shape="ovo")
    assert ours.decision_function(X_IRIS).shape == (150, 3)
    assert_same_model(ours, ref, X_IRIS)


def test_default_shrinking_reaches_the_same_model():
    """scikit-learn's shrinking reaches the same optimum (measured equal on iris)."""
    ours = NuSVC(tol=TIGHT, nu=0.3).fit(X_IRIS, Y_IRIS)
    ref = sk.NuSVC(tol=TIGHT, nu=0.3).fit(X_IRIS, Y_IRIS)
    np.testing.assert_array_equal(ours.support_, ref.support_)
    np.testing.assert_allclose(ours.dual_coef_, ref.dual_coef_, rtol=0, atol=1e-10)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=0, atol=1e-10)


def test_is_csvc_with_c_one_over_r():
    """Chang & Lin (2001): the nu solution scaled by 1/r solves C-SVC with C = 1/r; at the
    bound of every margin error, the pair's largest |dual coefficient| is that C."""
    X, y = X_IRIS[50:], Y_IRIS[50:]  # two overlapping classes: bounded multipliers exist
    nu = NuSVC(kernel="linear", nu=0.4, tol=1e-10).fit(X, y)
    C = np.abs(nu.dual_coef_).max()
    c_svc = SVC(kernel="linear", C=C, tol=1e-10).fit(X, y)
    np.testing.assert_array_equal(nu.support_, c_svc.support_)
    # two solvers to tol 1e-10: measured 3.7e-10 (C = 0.19) and 3.9e-10
    np.testing.assert_allclose(nu.dual_coef_, c_svc.dual_coef_, rtol=0, atol=1e-8 * C)
    np.testing.assert_allclose(nu.intercept_, c_svc.intercept_, rtol=0, atol=1e-8)


def test_class_weight_is_recorded_and_ignored_as_libsvm():
    ours, ref = fit_both(X_IRIS, Y_IRIS, tol=TIGHT, class_weight={0: 0.1, 1: 5.0})
    plain = NuSVC(tol=TIGHT).fit(X_IRIS, Y_IRIS)
    np.testing.assert_array_equal(ours.class_weight_, ref.class_weight_)
    np.testing.assert_array_equal(ours.dual_coef_, plain.dual_coef_)
    assert_same_model(ours, ref, X_IRIS)


def test_non_positive_weights_drop_samples_as_libsvm():
    X, y = X_IRIS, Y_IRIS
    w = np.where(np.arange(len(y)) % 5 == 0, -0.2, 1.0)
    w[1] = 0.0
    ours, ref = fit_both(X, y, sample_weight=w, nu=0.3, tol=TIGHT)
    kept = np.flatnonzero(w > 0)  # LIBSVM drops them; support_ indexes the kept samples there
    np.testing.assert_array_equal(ours.support_, kept[ref.support_])
    np.testing.assert_allclose(ours.dual_coef_, ref.dual_coef_, rtol=0, atol=1e-12)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=0, atol=1e-12)


@pytest.mark.parametrize("kernel", ["linear", "rbf"])
def test_sparse_input_fits_as_sklearn(kernel):
    X = np.where(X_IRIS < 1.5, 0.0, X_IRIS)
    Xs = sp.csr_matrix(X)
    ours, ref = fit_both(Xs, Y_IRIS, kernel=kernel, nu=0.3, tol=TIGHT)
    for name in ("support_vectors_", "dual_coef_"):
        assert type(getattr(ours, name)) is type(getattr(ref, name)) is sp.csr_matrix, name
    if kernel == "linear":
        np.testing.assert_allclose(ours.coef_.toarray(), ref.coef_.toarray(), rtol=0, atol=1e-10)
    assert_same_model(ours, ref, Xs)


def test_precomputed_kernel_matches_sklearn():
    K = X_IRIS @ X_IRIS.T
    ours, ref = fit_both(K, Y_IRIS, kernel="precomputed", nu=0.2, tol=TIGHT)
    assert_same_model(ours, ref, K)


@pytest.mark.parametrize(
    "nu, weights",
    [(0.9, None), (0.5, np.r_[np.full(50, 0.1), np.ones(100)])],
    ids=["nu-too-large", "light-class"],
)
def test_infeasible_nu_is_refused_as_sklearn(nu, weights):
    for model in (NuSVC(nu=nu), sk.NuSVC(nu=nu)):
        with pytest.raises(ValueError, match="specified nu is infeasible"):
            model.fit(X_IRIS, Y_IRIS == 0, sample_weight=weights)
    with pytest.raises(ValueError, match=f"nu={nu} needs nu"):
        NuSVC(nu=nu).fit(X_IRIS, Y_IRIS == 0, sample_weight=weights)


def test_zero_offset_r_is_refused_as_sklearn():
    """r = 0 leaves no C-SVC to rescale to (C = 1/r): scikit-learn's coefficients come out
    infinite and it refuses them; ours says so before dividing."""
    X = np.array([[a, b] for a in (1, 2, 3) for b in (1, 2, 3, 4)])  # scikit-learn's check data
    y = np.array([1, 1, 1, 1, 2, 2, 2, 2, 1, 1, 2, 2])
    for model in (NuSVC(kernel="linear"), sk.NuSVC(kernel="linear")):
        with pytest.raises(ValueError, match="dual coefficients or intercepts are not finite"):
            model.fit(X, y)
    with pytest.raises(ValueError, match="offset r = 0"):
        NuSVC(kernel="linear").fit(X, y)


def test_max_iter_warns_and_records_fit_status_as_sklearn():
    with pytest.warns(ConvergenceWarning, match="max_iter=3"):
        ours = NuSVC(max_iter=3).fit(X_IRIS, Y_IRIS)
    with pytest.warns(ConvergenceWarning):
        ref = sk.NuSVC(max_iter=3, shrinking=False).fit(X_IRIS, Y_IRIS)
    assert ours.fit_status_ == ref.fit_status_ == 1
    np.testing.assert_allclose(ours.dual_coef_, ref.dual_coef_, rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"nu": 0.0}, "nu must be > 0, got 0.0"),
        ({"nu": 1.5}, "nu must be <= 1, got 1.5"),
        ({"probability": True}, "probability=True is not offered.*NuSVC"),
        ({"kernel": "cubic"}, "kernel"),
    ],
)
def test_errors_name_the_parameter(params, match):
    with pytest.raises(ValueError, match=match):
        NuSVC(**params).fit(X_IRIS, Y_IRIS)


@parametrize_with_checks(
    [NuSVC(), NuSVC(kernel="linear")],
    expected_failed_checks=lambda est: {
        # as for SVC: weights rescale the bounds, and two solves stopped at tol=1e-3 from
        # different problems agree only to about that tolerance
        "check_sample_weight_equivalence_on_dense_data": "agrees only up to the solver tol",
        "check_sample_weight_equivalence_on_sparse_data": "agrees only up to the solver tol",
        # class_weight is ignored, as in LIBSVM (scikit-learn marks the check so for its NuSVC)
        "check_class_weight_classifiers": "class_weight is ignored, as in LIBSVM",
        **(
            {  # on these checks' 12 points the linear nu-SVC has r = 0: no C = 1/r exists,
                # and scikit-learn's NuSVC(kernel="linear") refuses them alike
                "check_sample_weights_pandas_series": "r = 0, refused as by scikit-learn",
                "check_sample_weights_not_an_array": "r = 0, refused as by scikit-learn",
            }
            if est.kernel == "linear"
            else {}
        ),
    },
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
