"""NuSVR against scikit-learn's LIBSVM nu-SVR: same support vectors, dual coefficients,
intercept and predictions.

Both solve the 2n-variable nu dual by LIBSVM's Solver_NU from LIBSVM's starting point
(``α = α*``, filled to ``nu * Σ C_i / 2``); with ``shrinking=False`` scikit-learn takes the same
steps to the last bit (same iteration count), so the models agree to 1e-12.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn import svm as sk
from sklearn.datasets import load_diabetes
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.estimator_checks import parametrize_with_checks

from mlcanon.svm import SVR, NuSVR

X_DIAB, Y_DIAB = load_diabetes(return_X_y=True)
X, Y = X_DIAB[:250], Y_DIAB[:250] / 50  # targets 0.5 - 7
KERNELS = ["linear", "poly", "rbf", "sigmoid"]
TIGHT = 1e-8


def _dense(a):
    return a.toarray() if sp.issparse(a) else a


def fit_both(X, y, sample_weight=None, **params):
    ours = NuSVR(**params).fit(X, y, sample_weight=sample_weight)
    ref = sk.NuSVR(shrinking=False, **params).fit(X, y, sample_weight=sample_weight)
    return ours, ref


def assert_same_model(ours, ref, X, atol=1e-12):
    np.testing.assert_array_equal(ours.support_, ref.support_)
    assert ours.support_.dtype == ref.support_.dtype
    np.testing.assert_array_equal(ours.n_support_, ref.n_support_)
    assert ours.n_iter_ == ref.n_iter_ and type(ours.n_iter_) is type(ref.n_iter_)
    assert ours.fit_status_ == ref.fit_status_ == 0
    assert ours.shape_fit_ == ref.shape_fit_
    np.testing.assert_allclose(_dense(ours.dual_coef_), _dense(ref.dual_coef_), rtol=0, atol=atol)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=0, atol=atol)
    # predict sums the kernel products in another order: rounding only
    scale = np.abs(_dense(ref.dual_coef_)).sum()
    np.testing.assert_allclose(ours.predict(X), ref.predict(X), rtol=0, atol=1e-12 * scale)


@pytest.mark.parametrize("nu, C", [(0.1, 1.0), (0.5, 10.0), (0.9, 100.0), (1.0, 1.0)])
@pytest.mark.parametrize("kernel", KERNELS)
def test_matches_sklearn_on_diabetes(kernel, nu, C):
    gamma = 0.5 if kernel == "sigmoid" else "scale"
    ours, ref = fit_both(X, Y, kernel=kernel, nu=nu, C=C, tol=TIGHT, gamma=gamma)
    assert_same_model(ours, ref, X_DIAB)


@pytest.mark.parametrize("kernel", ["linear", "rbf"])
def test_sample_weight_matches_sklearn(kernel):
    w = np.random.default_rng(0).uniform(0.0, 2.0, len(Y))
    ours, ref = fit_both(X, Y, sample_weight=w, kernel=kernel, nu=0.4, C=5.0, tol=TIGHT)
    assert_same_model(ours, ref, X)


def test_default_shrinking_reaches_the_same_model():
    """scikit-learn's shrinking reaches the same optimum (measured: dual coefficients equal,
    predictions within 3e-14)."""
    ours = NuSVR(tol=TIGHT, C=10.0).fit(X, Y)
    ref = sk.NuSVR(tol=TIGHT, C=10.0).fit(X, Y)
    np.testing.assert_array_equal(ours.support_, ref.support_)
    np.testing.assert_allclose(ours.dual_coef_, ref.dual_coef_, rtol=0, atol=1e-10)
    np.testing.assert_allclose(ours.predict(X), ref.predict(X), rtol=0, atol=1e-10)


def test_is_epsilon_svr_with_the_learned_tube():
    """Schölkopf et al. (2000): nu-SVR's solution is epsilon-SVR's for the tube it learns,
    whose half-width is the residual of any free support vector."""
    nu = NuSVR(kernel="linear", nu=0.3, C=10.0, tol=1e-10).fit(X, Y)
    beta = nu.dual_coef_[0]
    free = np.abs(beta) < 10.0 - 1e-8
    eps = np.abs(Y[nu.support_[free]] - nu.predict(X[nu.support_[free]]))
    np.testing.assert_allclose(eps, eps.mean(), atol=1e-7)
    eps_svr = SVR(kernel="linear", C=10.0, epsilon=eps.mean(), tol=1e-10).fit(X, Y)
    np.testing.assert_allclose(eps_svr.predict(X), nu.predict(X), rtol=0, atol=1e-7)  # 1.6e-8
    # at most nu of the samples lie outside the tube, at least nu are support vectors
    outside = np.abs(Y - nu.predict(X)) > eps.mean() + 1e-7
    assert outside.mean() <= 0.3 <= nu.support_.size / len(Y)


def test_non_positive_weights_drop_samples_as_libsvm():
    w = np.where(np.arange(len(Y)) % 4 == 0, -1.0, 1.0)
    w[1] = 0.0
    ours, ref = fit_both(X, Y, sample_weight=w, tol=TIGHT)
    kept = np.flatnonzero(w > 0)  # scikit-learn's support_ indexes the samples kept
    np.testing.assert_array_equal(ours.support_, kept[ref.support_])
    np.testing.assert_allclose(ours.dual_coef_, ref.dual_coef_, rtol=0, atol=1e-12)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=0, atol=1e-12)
    for model in (NuSVR(), sk.NuSVR()):
        with pytest.raises(ValueError, match="all samples have zero or negative weights"):
            model.fit(X, Y, sample_weight=np.zeros(len(Y)))


@pytest.mark.parametrize("kernel", ["linear", "rbf"])
def test_sparse_input_fits_as_sklearn(kernel):
    Xs = sp.csr_matrix(np.where(np.abs(X) < 0.03, 0.0, X))
    ours, ref = fit_both(Xs, Y, kernel=kernel, C=10.0, tol=TIGHT)
    for name in ("support_vectors_", "dual_coef_"):
        assert type(getattr(ours, name)) is type(getattr(ref, name)) is sp.csr_matrix, name
    if kernel == "linear":
        np.testing.assert_allclose(ours.coef_.toarray(), ref.coef_.toarray(), rtol=0, atol=1e-10)
    assert_same_model(ours, ref, Xs)


def test_precomputed_and_callable_kernels_match_sklearn():
    K = X @ X.T
    ours, ref = fit_both(K, Y, kernel="precomputed", C=10.0, tol=TIGHT)
    assert_same_model(ours, ref, K)
    ours = NuSVR(kernel=lambda A, B: A @ B.T, C=10.0, tol=TIGHT).fit(X, Y)
    np.testing.assert_allclose(ours.dual_coef_, ref.dual_coef_, rtol=0, atol=1e-12)


def test_max_iter_warns_and_records_fit_status_as_sklearn():
    with pytest.warns(ConvergenceWarning, match="max_iter=3"):
        ours = NuSVR(max_iter=3).fit(X, Y)
    with pytest.warns(ConvergenceWarning):
        ref = sk.NuSVR(max_iter=3, shrinking=False).fit(X, Y)
    assert ours.fit_status_ == ref.fit_status_ == 1
    np.testing.assert_allclose(ours.dual_coef_, ref.dual_coef_, rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"nu": 0.0}, "nu must be > 0, got 0.0"),
        ({"nu": 1.5}, "nu must be <= 1, got 1.5"),
        ({"C": 0.0}, "C must be"),
        ({"kernel": "cubic"}, "kernel"),
    ],
)
def test_errors_name_the_parameter(params, match):
    with pytest.raises(ValueError, match=match):
        NuSVR(**params).fit(X, Y)


@parametrize_with_checks(
    [NuSVR(), NuSVR(kernel="linear")],
    expected_failed_checks=lambda est: {
        # as for SVR: weights rescale C, and two solves stopped at tol=1e-3 from different
        # problems agree only to about that tolerance
        "check_sample_weight_equivalence_on_dense_data": "agrees only up to the solver tol",
        "check_sample_weight_equivalence_on_sparse_data": "agrees only up to the solver tol",
    },
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
