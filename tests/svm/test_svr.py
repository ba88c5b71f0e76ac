"""SVR against scikit-learn's LIBSVM epsilon-SVR: same support vectors, dual coefficients,
intercept and predictions.

Both solve the same 2n-variable dual by SMO with LIBSVM's working-set selection and
single-precision kernel rows. At ``tol=1e-8`` the two solutions agree to about 1e-7 (LIBSVM's
shrinking takes other steps to the same optimum); with ``shrinking=False`` LIBSVM takes our
steps exactly (same iteration count).
"""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn import svm as sk
from sklearn.datasets import load_diabetes, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import r2_score
from sklearn.utils.estimator_checks import parametrize_with_checks

from mlcanon import io
from mlcanon.svm import SVR


def _generated():
    X, y = make_regression(n_samples=200, n_features=5, noise=10.0, random_state=0)
    return X, y / y.std()


DATA = {
    "diabetes": load_diabetes(return_X_y=True),  # columns scaled, targets 25 - 346
    "generated": _generated(),
}
# per data set: parameters that leave a fair share of the samples inside the tube
SCALE = {"diabetes": {"C": 100.0, "epsilon": 5.0}, "generated": {}}
KERNELS = ["linear", "poly", "rbf", "sigmoid"]
TIGHT = 1e-8  # LIBSVM is deterministic: at this tol both solutions are within ~1e-7


def _dense(a):
    return a.toarray() if sp.issparse(a) else a


def assert_same_model(ours, ref, X, atol=1e-6):
    np.testing.assert_array_equal(ours.support_, ref.support_)
    for name in ("support_", "n_support_", "dual_coef_", "intercept_"):
        assert getattr(ours, name).dtype == getattr(ref, name).dtype, name
    np.testing.assert_array_equal(ours.n_support_, ref.n_support_)
    assert type(ours.n_iter_) is type(ref.n_iter_)
    assert ours.fit_status_ == ref.fit_status_ == 0
    assert ours.shape_fit_ == ref.shape_fit_
    np.testing.assert_allclose(_dense(ours.dual_coef_), _dense(ref.dual_coef_), rtol=0, atol=atol)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=0, atol=atol)
    # predict sums the kernel products in another order: rounding 1e-14 relative
    np.testing.assert_allclose(ours.predict(X), ref.predict(X), rtol=1e-12, atol=atol)


def fit_both(X, y, sample_weight=None, **params):
    ours = SVR(**params).fit(X, y, sample_weight=sample_weight)
    return ours, sk.SVR(**params).fit(X, y, sample_weight=sample_weight)


@pytest.mark.parametrize("data", list(DATA))
@pytest.mark.parametrize("kernel", KERNELS)
def test_matches_sklearn(data, kernel):
    X, y = DATA[data]
    ours, ref = fit_both(X, y, kernel=kernel, tol=TIGHT, **SCALE[data])
    assert 0 < ours.support_.size < len(y)
    assert_same_model(ours, ref, X)
    assert ours.score(X, y) == pytest.approx(ref.score(X, y), abs=1e-9)


@pytest.mark.parametrize("kernel", ["rbf", "poly"])
def test_takes_libsvm_steps_without_shrinking(kernel):
    """LIBSVM without shrinking walks the same path: same iterations, same floats."""
    X, y = DATA["diabetes"]
    ours, ref = fit_both(X, y, kernel=kernel, tol=TIGHT, shrinking=False, **SCALE["diabetes"])
    assert ours.n_iter_ == ref.n_iter_
    assert_same_model(ours, ref, X, atol=1e-12)


@pytest.mark.parametrize(
    "params",
    [
        {"C": 10.0, "epsilon": 0.3, "gamma": "auto"},
        {"C": 0.1, "epsilon": 0.0},
        {"kernel": "poly", "degree": 2, "coef0": 1.0, "gamma": 0.1, "epsilon": 0.05},
        {"kernel": "sigmoid", "gamma": 0.01, "coef0": -0.5, "C": 3.0},
        {"cache_size": 0.01},  # a few kernel rows cached: evictions, rows shared by α and α*
    ],
    ids=str,
)
def test_parameters_match_sklearn(params):
    X, y = DATA["generated"]
    ours, ref = fit_both(X, y, tol=TIGHT, **params)
    assert_same_model(ours, ref, X)


def test_sample_weight_matches_sklearn():
    X, y = DATA["diabetes"]
    w = np.random.default_rng(0).uniform(0.2, 3.0, len(y))
    ours, ref = fit_both(X, y, sample_weight=w, tol=TIGHT, **SCALE["diabetes"])
    assert_same_model(ours, ref, X)


def test_non_positive_weights_drop_samples_as_libsvm():
    X, y = DATA["generated"]
    w = np.where(np.arange(len(y)) % 3 == 0, -0.5, 1.0)
    w[1] = 0.0
    ours, ref = fit_both(X, y, sample_weight=w, tol=TIGHT)
    # support_ indexes the X given (scikit-learn's indexes the samples left after dropping)
    kept = np.flatnonzero(w > 0)
    np.testing.assert_array_equal(ours.support_, kept[ref.support_])
    np.testing.assert_array_equal(ours.support_vectors_, X[ours.support_])
    np.testing.assert_array_equal(ours.support_vectors_, ref.support_vectors_)
    np.testing.assert_allclose(ours.dual_coef_, ref.dual_coef_, rtol=0, atol=1e-6)
    np.testing.assert_allclose(ours.predict(X), ref.predict(X), rtol=0, atol=1e-6)
    for model in (SVR(), sk.SVR()):
        with pytest.raises(ValueError, match="all samples have zero or negative weights"):
            model.fit(X, y, sample_weight=np.zeros(len(y)))


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("fmt", ["csr", "csc", "coo"])
def test_sparse_input_fits_as_sklearn(kernel, fmt):
    X, y = DATA["generated"]
    X = np.where(np.abs(X) < 0.5, 0.0, X)
    Xs = sp.csr_matrix(X).asformat(fmt)
    ours, ref = fit_both(Xs, y, kernel=kernel, tol=TIGHT)
    for name in ("support_vectors_", "dual_coef_") + (("coef_",) if kernel == "linear" else ()):
        assert type(getattr(ours, name)) is type(getattr(ref, name)) is sp.csr_matrix, name
    np.testing.assert_array_equal(ours.support_vectors_.toarray(), ref.support_vectors_.toarray())
    if kernel == "linear":
        np.testing.assert_allclose(ours.coef_.toarray(), ref.coef_.toarray(), rtol=0, atol=1e-6)
    assert_same_model(ours, ref, Xs)
    np.testing.assert_allclose(ours.predict(X), ref.predict(X), rtol=0, atol=1e-6)
    for model in fit_both(X, y, kernel=kernel):
        with pytest.raises(ValueError, match="cannot use sparse input in 'SVR' trained on dense"):
            model.predict(Xs)


def test_precomputed_and_callable_kernels_match_sklearn():
    X, y = DATA["diabetes"]
    rbf = lambda A, B: np.exp(-2.0 * ((A[:, None, :] - B[None, :, :]) ** 2).sum(-1))  # noqa: E731
    K = rbf(X, X)
    # one kernel matrix, no shrinking differences: measured equal (the 1e-6 of the other tests
    # is for shrinking's other path)
    ours, ref = fit_both(K, y, kernel="precomputed", tol=TIGHT, **SCALE["diabetes"])
    assert_same_model(ours, ref, K, atol=1e-12)
    assert ours.support_vectors_.shape == ref.support_vectors_.shape == (0, 0)
    ours_c, ref_c = fit_both(X, y, kernel=rbf, tol=TIGHT, **SCALE["diabetes"])
    assert_same_model(ours_c, ref_c, X, atol=1e-12)
    np.testing.assert_allclose(ours_c.predict(X), ours.predict(K), rtol=0, atol=1e-12)


def test_linear_coef_matches_sklearn_and_is_read_only():
    X, y = DATA["diabetes"]
    ours, ref = fit_both(X, y, kernel="linear", tol=TIGHT, **SCALE["diabetes"])
    assert ours.coef_.shape == ref.coef_.shape == (1, X.shape[1])
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=0, atol=1e-10)  # measured 0
    with pytest.raises(ValueError):
        ours.coef_[0, 0] = 0.0
    assert not hasattr(SVR().fit(X, y), "coef_")


def test_two_points_by_hand():
    """x = 0, 1 with y = 0, 1, linear kernel, hard tube: the flattest line through both tube
    ends is f(x) = (1 - 2 eps) x + eps, and Σ_i (α_i - α_i*) x_i = w with Σ (α_i - α_i*) = 0."""
    eps = 0.1
    X, y = np.array([[0.0], [1.0]]), np.array([0.0, 1.0])
    model = SVR(kernel="linear", C=1e6, epsilon=eps, tol=1e-12).fit(X, y)
    w = 1.0 - 2.0 * eps
    np.testing.assert_allclose(model.predict(X), [eps, 1.0 - eps], atol=1e-12)
    np.testing.assert_allclose(model.coef_, [[w]], atol=1e-12)
    np.testing.assert_allclose(model.dual_coef_, [[-w, w]], atol=1e-12)
    np.testing.assert_allclose(model.intercept_, [eps], atol=1e-12)


def test_a_tube_wider_than_the_targets_has_no_support_vectors():
    """epsilon >= (max y - min y) / 2: α = α* = 0 is optimal and the intercept is LIBSVM's
    middle of the feasible interval, (max y + min y) / 2."""
    X, y = DATA["generated"]
    eps = (y.max() - y.min()) / 2 + 0.01
    ours, ref = fit_both(X, y, epsilon=eps)
    assert ours.support_.size == ref.support_.size == 0
    assert ours.dual_coef_.shape == ref.dual_coef_.shape == (1, 0)
    np.testing.assert_allclose(ours.intercept_, [(y.max() + y.min()) / 2], rtol=1e-15)
    np.testing.assert_allclose(ours.predict(X[:5]), ref.predict(X[:5]), rtol=1e-15)


def test_dual_constraints_hold():
    X, y = DATA["diabetes"]
    model = SVR(C=2.0, epsilon=10.0).fit(X, y)
    beta = model.dual_coef_
    assert (np.abs(beta) > 0).all() and (np.abs(beta) <= 2.0 + 1e-12).all()
    assert beta.sum() == pytest.approx(0.0, abs=1e-10)


def test_max_iter_warns_and_records_fit_status_as_sklearn():
    X, y = DATA["diabetes"]
    for model in (SVR(max_iter=5), sk.SVR(max_iter=5)):
        with pytest.warns(ConvergenceWarning, match=r"max_iter=5"):
            model.fit(X, y)
        assert model.fit_status_ == 1
        assert model.n_iter_ == 5


def test_score_is_r2():
    X, y = DATA["diabetes"]
    model = SVR(C=100.0).fit(X[:300], y[:300])
    assert model.score(X[300:], y[300:]) == pytest.approx(
        r2_score(y[300:], model.predict(X[300:])), rel=1e-14
    )


def test_errors_name_the_parameter():
    X, y = DATA["generated"]
    with pytest.raises(ValueError, match=r"epsilon must be >= 0, got -0\.5"):
        SVR(epsilon=-0.5).fit(X, y)
    with pytest.raises(ValueError, match=r"kernel must be one of 'linear', .*; got str 'cosine'"):
        SVR(kernel="cosine").fit(X, y)
    with pytest.raises(ValueError, match="C must be > 0, got 0"):
        SVR(C=0).fit(X, y)
    with pytest.raises(ValueError, match=r"^gamma must be one of 'scale', 'auto' or a float"):
        SVR(gamma="big").fit(X, y)
    with pytest.raises(ValueError, match="sample_weight"):
        SVR().fit(X, y, sample_weight=np.ones(3))
    with pytest.raises(ValueError, match="Precomputed matrix must be a square matrix"):
        SVR(kernel="precomputed").fit(X, y)
    with pytest.raises(ValueError, match="X has 4 features, but SVR is expecting 5"):
        SVR().fit(X, y).predict(X[:, :4])


def test_save_load_round_trip(tmp_path):
    X, y = DATA["diabetes"]
    for Xf in (X, sp.csr_matrix(np.where(np.abs(X) < 0.03, 0.0, X))):
        model = SVR(kernel="linear", C=100.0).fit(Xf, y)
        back = io.load(io.save(model, tmp_path / "svr.npz"))
        np.testing.assert_array_equal(back.predict(Xf), model.predict(Xf))
        np.testing.assert_array_equal(_dense(back.coef_), _dense(model.coef_))


@parametrize_with_checks(
    [SVR(), SVR(kernel="linear")],
    expected_failed_checks=lambda est: {
        # as for SVC: weights rescale C, and two solves stopped at tol=1e-3 from different
        # starting problems agree only to about that tolerance
        "check_sample_weight_equivalence_on_dense_data": "agrees only up to the solver tol",
        "check_sample_weight_equivalence_on_sparse_data": "agrees only up to the solver tol",
    },
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


@pytest.mark.parametrize("kernel", ["rbf", "linear"])
def test_overflowing_kernel_is_refused_like_scikit_learn(kernel):
    X, y = DATA["generated"]
    with np.errstate(over="ignore", invalid="ignore"):
        for model in (sk.SVR(kernel=kernel), SVR(kernel=kernel)):
            with pytest.raises(ValueError, match="dual coefficients or intercepts are not finite"):
                model.fit(X * 1e200, y)
