"""OneClassSVM against scikit-learn's LIBSVM one-class SVM: same support vectors, dual
coefficients, offset, decision values and predictions.

Both start SMO from LIBSVM's point (the first samples at their bounds until ``nu * Σ w`` is used
up) and take LIBSVM's steps; with ``shrinking=False`` the two take the same steps to the last bit
(same iteration count), so the dual coefficients agree to 1e-12.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn import svm as sk
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.estimator_checks import parametrize_with_checks

from mlcanon.svm import OneClassSVM

X_IRIS = load_iris().data
KERNELS = ["linear", "poly", "rbf", "sigmoid"]
TIGHT = 1e-8


def _dense(a):
    return a.toarray() if sp.issparse(a) else a


def fit_both(X, sample_weight=None, **params):
    ours = OneClassSVM(**params).fit(X, sample_weight=sample_weight)
    ref = sk.OneClassSVM(shrinking=False, **params).fit(X, sample_weight=sample_weight)
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
    np.testing.assert_allclose(ours.offset_, ref.offset_, rtol=0, atol=atol)
    assert ours.offset_.shape == ref.offset_.shape == (1,)
    # the decision sums the kernel products in another order: rounding 1e-14 relative
    scale = np.abs(_dense(ref.dual_coef_)).sum()
    for method in ("decision_function", "score_samples"):
        np.testing.assert_allclose(
            getattr(ours, method)(X), getattr(ref, method)(X), rtol=0, atol=1e-12 * scale
        )
    pred = ours.predict(X)
    assert pred.dtype == ref.predict(X).dtype
    np.testing.assert_array_equal(pred, ref.predict(X))


@pytest.mark.parametrize("nu", [0.05, 0.3, 0.5, 0.9])
@pytest.mark.parametrize("kernel", KERNELS)
def test_matches_sklearn_on_iris(kernel, nu):
    gamma = 0.05 if kernel == "sigmoid" else "scale"
    ours, ref = fit_both(X_IRIS, kernel=kernel, nu=nu, tol=TIGHT, gamma=gamma)
    assert 0 < ours.support_.size < len(X_IRIS)
    assert_same_model(ours, ref, X_IRIS)


@pytest.mark.parametrize("kernel", ["linear", "rbf"])
def test_sample_weight_matches_sklearn(kernel):
    w = np.random.default_rng(0).uniform(0.0, 2.0, len(X_IRIS))
    ours, ref = fit_both(X_IRIS, sample_weight=w, kernel=kernel, nu=0.3, tol=TIGHT)
    assert_same_model(ours, ref, X_IRIS)


def test_default_shrinking_reaches_the_same_model():
    """scikit-learn's shrinking reaches the same optimum (measured: dual coefficients equal,
    decision values within 2e-14 on iris)."""
    ours = OneClassSVM(tol=TIGHT, nu=0.2).fit(X_IRIS)
    ref = sk.OneClassSVM(tol=TIGHT, nu=0.2).fit(X_IRIS)
    np.testing.assert_array_equal(ours.support_, ref.support_)
    np.testing.assert_allclose(ours.dual_coef_, ref.dual_coef_, rtol=0, atol=1e-10)
    np.testing.assert_allclose(
        ours.decision_function(X_IRIS), ref.decision_function(X_IRIS), rtol=0, atol=1e-10
    )


def test_non_positive_weights_drop_samples_as_libsvm():
    w = np.where(np.arange(len(X_IRIS)) % 4 == 0, -1.0, 1.0)
    w[1] = 0.0
    ours, ref = fit_both(X_IRIS, sample_weight=w, nu=0.4, tol=TIGHT)
    kept = np.flatnonzero(w > 0)  # scikit-learn's support_ indexes the samples kept
    np.testing.assert_array_equal(ours.support_, kept[ref.support_])
    np.testing.assert_allclose(ours.dual_coef_, ref.dual_coef_, rtol=0, atol=1e-12)
    np.testing.assert_allclose(ours.offset_, ref.offset_, rtol=0, atol=1e-12)
    for model in (OneClassSVM(), sk.OneClassSVM()):
        with pytest.raises(ValueError, match="all samples have zero or negative weights"):
            model.fit(X_IRIS, sample_weight=np.zeros(len(X_IRIS)))


@pytest.mark.parametrize("kernel", ["linear", "rbf"])
def test_sparse_input_fits_as_sklearn(kernel):
    X = np.where(X_IRIS < 1.5, 0.0, X_IRIS)
    Xs = sp.csr_matrix(X)
    ours, ref = fit_both(Xs, kernel=kernel, nu=0.3, tol=TIGHT)
    for name in ("support_vectors_", "dual_coef_"):
        assert type(getattr(ours, name)) is type(getattr(ref, name)) is sp.csr_matrix, name
    if kernel == "linear":
        np.testing.assert_allclose(ours.coef_.toarray(), ref.coef_.toarray(), rtol=0, atol=1e-10)
    assert_same_model(ours, ref, Xs)


def test_precomputed_and_callable_kernels_match_sklearn():
    K = X_IRIS @ X_IRIS.T
    ours, ref = fit_both(K, kernel="precomputed", nu=0.2, tol=TIGHT)
    assert_same_model(ours, ref, K)
    ours = OneClassSVM(kernel=lambda A, B: A @ B.T, nu=0.2, tol=TIGHT).fit(X_IRIS)
    np.testing.assert_array_equal(ours.support_, ref.support_)
    np.testing.assert_allclose(ours.dual_coef_, ref.dual_coef_, rtol=0, atol=1e-12)


def test_linear_coef_and_fit_predict_match_sklearn():
    ours, ref = fit_both(X_IRIS, kernel="linear", nu=0.1, tol=TIGHT)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-12, atol=0)
    assert not ours.coef_.flags.writeable
    with pytest.raises(AttributeError, match="only available when using a linear kernel"):
        OneClassSVM().fit(X_IRIS).coef_
    np.testing.assert_array_equal(
        OneClassSVM(nu=0.1).fit_predict(X_IRIS), sk.OneClassSVM(nu=0.1).fit_predict(X_IRIS)
    )


def test_starting_point_and_dual_constraints_by_hand():
    """LIBSVM's start: nu * l = 2.5 gives α = (1, 1, 0.5, 0, ...); the solution keeps
    Σ α = nu Σ w and 0 <= α <= w, and ρ makes the free support vectors' decision 0."""
    X = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [3.0, 3.0]])
    model = OneClassSVM(nu=0.5, tol=1e-10, gamma=0.5).fit(X)
    alpha = model.dual_coef_[0]
    assert alpha.sum() == pytest.approx(0.5 * len(X), abs=1e-12)
    assert np.all((alpha > 0) & (alpha <= 1.0 + 1e-15))
    K = np.exp(-0.5 * ((X[:, None] - X[None]) ** 2).sum(-1))
    score = K[:, model.support_] @ alpha
    np.testing.assert_allclose(model.score_samples(X), score, rtol=1e-12)
    free = (alpha > 1e-9) & (alpha < 1 - 1e-9)
    assert free.any()
    np.testing.assert_allclose(score[model.support_[free]], model.offset_[0], atol=1e-8)
    assert model.predict(X)[4] == -1  # the far point is the outlier


def test_max_iter_warns_and_records_fit_status_as_sklearn():
    with pytest.warns(ConvergenceWarning, match="max_iter=2"):
        ours = OneClassSVM(max_iter=2).fit(X_IRIS)
    with pytest.warns(ConvergenceWarning):
        ref = sk.OneClassSVM(max_iter=2, shrinking=False).fit(X_IRIS)
    assert ours.fit_status_ == ref.fit_status_ == 1
    np.testing.assert_allclose(ours.dual_coef_, ref.dual_coef_, rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"nu": 0.0}, "nu must be > 0, got 0.0"),
        ({"nu": 1.5}, "nu must be <= 1, got 1.5"),
        ({"kernel": "cubic"}, "kernel"),
        ({"tol": -1.0}, "tol must be > 0"),
    ],
)
def test_errors_name_the_parameter(params, match):
    with pytest.raises(ValueError, match=match):
        OneClassSVM(**params).fit(X_IRIS)


@parametrize_with_checks(
    [OneClassSVM(), OneClassSVM(kernel="linear")],
    expected_failed_checks=lambda est: {
        # weights rescale each sample's bound; two solves stopped at tol=1e-3 from different
        # problems agree only to about that tolerance (as for SVC and SVR)
        "check_sample_weight_equivalence_on_dense_data": "agrees only up to the solver tol",
        "check_sample_weight_equivalence_on_sparse_data": "agrees only up to the solver tol",
    },
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
