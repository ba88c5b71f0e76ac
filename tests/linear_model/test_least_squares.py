"""LinearRegression and Ridge against scikit-learn, plus cases solvable by hand."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn import exceptions as sk_exceptions
from sklearn import linear_model as sk
from sklearn.datasets import load_diabetes

from mlcanon.linear_model import LinearRegression, Ridge

RTOL = 1e-6  # required agreement for coefficients and intercepts


@pytest.fixture(scope="module")
def diabetes():
    return load_diabetes(return_X_y=True)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
def test_linear_regression_matches_sklearn(diabetes, fit_intercept, weighted):
    X, y = diabetes
    w = np.random.default_rng(0).uniform(0.2, 2.0, len(y)) if weighted else None
    ours = LinearRegression(fit_intercept=fit_intercept).fit(X, y, sample_weight=w)
    ref = sk.LinearRegression(fit_intercept=fit_intercept).fit(X, y, sample_weight=w)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=RTOL)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=RTOL, atol=1e-12)


@pytest.mark.parametrize("alpha", [1e-3, 0.1, 10.0])
@pytest.mark.parametrize("solver", ["auto", "cholesky", "svd"])
def test_ridge_matches_sklearn(diabetes, alpha, solver):
    X, y = diabetes
    ours = Ridge(alpha=alpha, solver=solver).fit(X, y)
    ref = sk.Ridge(alpha=alpha, solver=solver).fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=RTOL)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=RTOL)


def test_ridge_wide_data_and_two_targets_match_sklearn():
    # more features than samples: the dual (kernel) system is the smaller one
    rng = np.random.default_rng(1)
    X, Y = rng.standard_normal((30, 80)), rng.standard_normal((30, 2))
    w = rng.uniform(0.5, 2.0, 30)
    ours = Ridge(alpha=0.7).fit(X, Y, sample_weight=w)
    ref = sk.Ridge(alpha=0.7).fit(X, Y, sample_weight=w)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=RTOL, atol=1e-12)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=RTOL)
    assert ours.predict(X).shape == (30, 2)


def test_rank_deficient_least_squares_gives_minimum_norm(diabetes):
    X, y = diabetes
    X = np.column_stack([X, X[:, 0]])  # duplicated column: no unique solution
    ours = LinearRegression().fit(X, y)
    ref = sk.LinearRegression().fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=RTOL)
    assert ours.coef_[0] == pytest.approx(ours.coef_[-1])  # the norm is split evenly


@pytest.mark.parametrize(
    ("shape", "tol", "weighted", "fit_intercept", "dtype"),
    [
        ((30, 4), 1e-6, False, True, np.float64),
        ((30, 4), 1e-6, True, False, np.float64),
        ((30, 4), 0.5, True, True, np.float64),
        ((30, 4), 1e-6, True, True, np.float32),
        ((3, 6), 1e-6, False, True, np.float64),  # wide: min(n_samples, n_features) values
    ],
)
def test_linear_regression_rank_and_singular_values_match_sklearn(
    shape, tol, weighted, fit_intercept, dtype
):
    """scikit-learn's LinearRegression exposes ``rank_`` and ``singular_`` (scipy's lstsq of
    the centered, weighted X); ours set neither. Column 3 is 2 x column 0: rank deficient."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=shape)
    X[:, 3] = 2 * X[:, 0]
    y = rng.normal(size=(shape[0], 2))
    sw = rng.uniform(0.5, 2.0, size=shape[0]) if weighted else None
    kw = {"fit_intercept": fit_intercept, "tol": tol}
    ours = LinearRegression(**kw).fit(X.astype(dtype), y.astype(dtype), sample_weight=sw)
    ref = sk.LinearRegression(**kw).fit(X.astype(dtype), y.astype(dtype), sample_weight=sw)
    assert ours.rank_ == ref.rank_ and type(ours.rank_) is type(ref.rank_)
    assert ours.singular_.shape == ref.singular_.shape
    assert ours.singular_.dtype == ref.singular_.dtype
    atol = 1e-5 if dtype == np.float32 else 1e-10
    np.testing.assert_allclose(ours.singular_, ref.singular_, rtol=1e-5, atol=atol)


@pytest.mark.parametrize("tol", [0.99, 1.0, 10.0])
def test_linear_regression_tol_of_one_or_more_is_machine_epsilon_as_sklearn(diabetes, tol):
    """LAPACK's gelsd, which scikit-learn calls with ``cond=tol``, reads a cond >= 1 as machine
    epsilon and returns the full least-squares fit; ours dropped every singular value and
    returned coef_ = 0 (the intercept alone). 0.99 still truncates, in both."""
    X, y = diabetes
    ours = LinearRegression(tol=tol).fit(X, y)
    ref = sk.LinearRegression(tol=tol).fit(X, y)
    scale = np.abs(ref.coef_).max()
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=0, atol=RTOL * scale)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=RTOL)
    assert ours.rank_ == ref.rank_


def test_linear_regression_positive_or_sparse_sets_no_rank_as_sklearn(diabetes):
    X, y = diabetes
    for kw, data in [({"positive": True}, X), ({}, sp.csr_matrix(X))]:
        ours = LinearRegression(**kw).fit(data, y)
        ref = sk.LinearRegression(**kw).fit(data, y)
        for name in ("rank_", "singular_"):
            assert hasattr(ours, name) == hasattr(ref, name) is False


def test_exact_line_is_recovered():
    x = np.arange(6.0)[:, None]
    model = LinearRegression().fit(x, 2.0 * x.ravel() + 1.0)
    np.testing.assert_allclose(model.coef_, [2.0], atol=1e-14)
    assert model.intercept_ == pytest.approx(1.0, abs=1e-14)


def test_one_feature_ridge_by_hand():
    # centered 1-D data: w = sum(x y) / (sum(x^2) + alpha)
    x, y = np.array([-1.0, 0.0, 1.0]), np.array([-2.0, 0.5, 2.0])
    model = Ridge(alpha=1.0).fit(x[:, None], y)
    assert model.coef_[0] == pytest.approx(4.0 / 3.0, rel=1e-14)
    assert model.intercept_ == pytest.approx(0.5 / 3.0, rel=1e-14)


def test_errors_name_the_parameter():
    X, y = np.random.default_rng(0).standard_normal((10, 3)), np.arange(10.0)
    with pytest.raises(ValueError, match=r"alpha must be >= 0, got -0\.5"):
        Ridge(alpha=-0.5).fit(X, y)
    with pytest.raises(ValueError, match="solver must be one of 'auto', 'svd', 'cholesky'"):
        Ridge(solver="newton").fit(X, y)
    with pytest.raises(TypeError, match=r"positive must be bool \(True or False\); got str 'yes'"):
        Ridge(positive="yes").fit(X, y)
    with pytest.raises(ValueError, match="X must be 2-D"):
        LinearRegression().fit(X[:, 0], y)
    with pytest.raises(ValueError, match="at least 1 is required"):
        LinearRegression().fit(X[:0], y[:0])
    with pytest.raises(ValueError, match="contains NaN"):
        LinearRegression().fit(X, np.where(y > 3, np.nan, y))
    with pytest.raises(ValueError, match="sample_weight must be non-negative"):
        Ridge().fit(X, y, sample_weight=-np.ones(10))


# scikit-learn's Ridge parameters: tol, max_iter, positive, the sparse_cg solver, array alpha
# (upstream test_ridge.py stops on each of them); checked against scikit-learn on its own data
@pytest.mark.parametrize("alpha", [0.1, 10.0])
def test_ridge_sparse_cg_matches_sklearn(diabetes, alpha):
    X, y = diabetes
    ours = Ridge(alpha=alpha, solver="sparse_cg", tol=1e-12).fit(X, y)
    ref = sk.Ridge(alpha=alpha, solver="sparse_cg", tol=1e-12).fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-8)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-8)


def test_ridge_sparse_cg_stops_at_max_iter(diabetes):
    X, y = diabetes
    early = Ridge(solver="sparse_cg", max_iter=2).fit(X, y)
    ref = sk.Ridge(solver="sparse_cg", max_iter=2).fit(X, y)
    exact = Ridge().fit(X, y)
    np.testing.assert_allclose(early.coef_, ref.coef_, rtol=1e-8)  # the same two CG steps
    assert np.abs(early.coef_ - exact.coef_).max() > 1e-3


@pytest.mark.parametrize("solver", ["auto", "lbfgs"])
def test_ridge_positive_matches_sklearn(diabetes, solver):
    X, y = diabetes
    ours = Ridge(alpha=0.5, positive=True, solver=solver, tol=1e-12).fit(X, y)
    ref = sk.Ridge(alpha=0.5, positive=True, solver=solver, tol=1e-12).fit(X, y)
    assert (ours.coef_ >= 0).all() and (ours.coef_ == 0).any()  # the constraint binds
    np.testing.assert_allclose(
        ours.coef_, ref.coef_, rtol=1e-5, atol=1e-5 * np.abs(ref.coef_).max()
    )
    np.testing.assert_allclose(ours.predict(X), ref.predict(X), rtol=1e-6)


@pytest.mark.parametrize("solver", ["auto", "svd", "sparse_cg"])
def test_ridge_alpha_per_target_matches_sklearn(diabetes, solver):
    X, y = diabetes
    Y = np.column_stack([y, -2 * y + 1, np.sqrt(np.abs(y))])
    alpha = np.array([0.01, 1.0, 100.0])
    ours = Ridge(alpha=alpha, solver=solver, tol=1e-12).fit(X, Y)
    ref = sk.Ridge(alpha=alpha, solver=solver, tol=1e-12).fit(X, Y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-7)
    for k in range(3):  # each column is the single-target fit with its own alpha
        one = Ridge(alpha=alpha[k]).fit(X, Y[:, k])
        np.testing.assert_allclose(ours.coef_[k], one.coef_, rtol=1e-7)


@pytest.mark.parametrize("solver", ["sag", "saga"])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_ridge_sag_saga_match_sklearn(diabetes, solver, fit_intercept):
    """SAG/SAGA reach scikit-learn's (closed-form and own-solver) coefficients, weighted,
    several targets with their own alpha; n_iter_ counts epochs."""
    X, y = diabetes
    X, y = X[:150], y[:150]
    Y = np.column_stack([y, -y + 3.0])
    sw = np.random.default_rng(0).uniform(0.5, 2.0, len(y))
    params = dict(alpha=[0.1, 1.0], solver=solver, tol=1e-10, max_iter=50_000, random_state=0)
    ours = Ridge(**params, fit_intercept=fit_intercept).fit(X, Y, sample_weight=sw)
    ref = sk.Ridge(**params, fit_intercept=fit_intercept).fit(X, Y, sample_weight=sw)
    exact = sk.Ridge(alpha=[0.1, 1.0], solver="svd", fit_intercept=fit_intercept)
    exact.fit(X, Y, sample_weight=sw)
    np.testing.assert_allclose(ours.coef_, exact.coef_, rtol=1e-6)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-6)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-6)
    assert ours.n_iter_.shape == (2,) and ours.solver_ == solver


def test_ridge_sag_max_iter_counts_epochs_and_warns(diabetes):
    X, y = diabetes
    with pytest.warns(sk_exceptions.ConvergenceWarning, match="did not converge"):
        ours = Ridge(solver="sag", max_iter=2, tol=1e-12).fit(X, y)
    assert ours.n_iter_.tolist() == [2]


@pytest.mark.parametrize("solver", ["auto", "svd", "cholesky", "lsqr", "sparse_cg", "sag"])
def test_ridge_float32_stays_float32(diabetes, solver):
    """float32 input: float32 coef_, intercept_ and predictions, close to scikit-learn's."""
    X, y = (a.astype(np.float32) for a in diabetes)
    params = dict(alpha=0.5, solver=solver, tol=1e-8, max_iter=5000, random_state=0)
    ours = Ridge(**params).fit(X, y)
    ref = sk.Ridge(**params).fit(X, y)
    assert ours.coef_.dtype == ref.coef_.dtype == np.float32
    assert ours.predict(X).dtype == np.float32
    assert ours.solver_ == ref.solver_
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-3)


def test_ridge_parameter_errors(diabetes):
    X, y = diabetes
    with pytest.raises(ValueError, match="number of penalties do not correspond: 2 != 1"):
        Ridge(alpha=[1.0, 2.0]).fit(X, y)
    match = r"^alpha must be >= 0 in every entry; got min -1.0 \(the 'alpha' parameter"
    with pytest.raises(ValueError, match=match):
        Ridge(alpha=[-1.0]).fit(X, y)
    with pytest.raises(ValueError, match="alpha contains infinity"):
        Ridge(alpha=[np.inf]).fit(X, y)
    with pytest.raises(ValueError, match="solver='svd' does not support positive fitting"):
        Ridge(positive=True, solver="svd").fit(X, y)
    with pytest.raises(ValueError, match="solver='lbfgs' can be used only when positive=True"):
        Ridge(solver="lbfgs").fit(X, y)
    with pytest.raises(ValueError, match="max_iter must be >= 1"):
        Ridge(solver="sparse_cg", max_iter=0).fit(X, y)


@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("solver", ["auto", "sparse_cg"])
def test_ridge_sparse_input_matches_sklearn(diabetes, fmt, solver):
    """scipy.sparse X (densified here) gives scikit-learn's sparse fit."""
    import scipy.sparse as sp

    X, y = diabetes
    Xs = sp.random(len(y), 30, density=0.1, random_state=0, format=fmt) + sp.csr_matrix(
        np.hstack([X, np.zeros((len(y), 20))])
    ).asformat(fmt)
    ours = Ridge(alpha=1.0, solver=solver, tol=1e-12).fit(Xs, y)
    ref = sk.Ridge(alpha=1.0, solver=solver, tol=1e-12).fit(Xs, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(ours.predict(Xs), ref.predict(Xs), rtol=1e-7)


@pytest.mark.parametrize("params", [{"tol": 1e-10}, {}, {"max_iter": 3}, {"alpha": 0.0}])
def test_ridge_lsqr_matches_sklearn_iterates(diabetes, params):
    """LSQR: the same iterates as scikit-learn's (SciPy's lsqr), and the same n_iter_."""
    X, y = diabetes
    Y = np.column_stack([y, np.sin(y)])
    ours = Ridge(solver="lsqr", **params).fit(X, Y)
    ref = sk.Ridge(solver="lsqr", **params).fit(X, Y)
    # 1e-7: unpenalized (alpha=0) and stopped early, rounding differences grow over the
    # iterations (1e-8 relative measured); the penalized runs agree to 1e-13
    np.testing.assert_allclose(
        ours.coef_, ref.coef_, rtol=1e-7, atol=1e-7 * np.abs(ref.coef_).max()
    )
    np.testing.assert_array_equal(ours.n_iter_, ref.n_iter_)


@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_linear_regression_sparse_lsqr_matches_sklearn(fmt, fit_intercept):
    """Sparse X stays sparse (implicit centering, LSQR with tol) and gives scikit-learn's fit."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 6)) * (rng.random((40, 6)) < 0.4)
    Y = rng.normal(size=(40, 2))
    sw = rng.uniform(0.2, 2.0, 40)
    Xs = {"csr": sp.csr_matrix, "csc": sp.csc_matrix}[fmt](X)
    ours = LinearRegression(fit_intercept=fit_intercept, tol=1e-12).fit(Xs, Y, sample_weight=sw)
    ref = sk.LinearRegression(fit_intercept=fit_intercept, tol=1e-12).fit(X, Y, sample_weight=sw)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-8)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-8, atol=1e-12)


def test_linear_regression_positive_matches_sklearn_nnls(diabetes):
    X, y = diabetes
    Y = np.column_stack([y, -y])
    ours = LinearRegression(positive=True).fit(X, Y)
    ref = sk.LinearRegression(positive=True).fit(X, Y)
    assert (ours.coef_ >= 0).all()
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-8)
    import scipy.sparse as sp

    with pytest.raises(TypeError, match="Sparse data was passed for X, but dense data"):
        LinearRegression(positive=True).fit(sp.csr_matrix(X), y)


def test_linear_regression_tol_truncates_small_singular_values():
    """tol is scipy's lstsq cond: a nearly collinear column is dropped as scikit-learn does."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(50, 3))
    X = np.column_stack([X, X[:, 0] + 1e-8 * rng.normal(size=50)])
    y = rng.normal(size=50)
    for tol in (1e-6, 1e-12):
        ours = LinearRegression(tol=tol).fit(X, y)
        ref = sk.LinearRegression(tol=tol).fit(X, y)
        np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-6)


def test_linear_regression_copy_X_false_centers_in_place():
    rng = np.random.default_rng(2)
    X = rng.normal(loc=3.0, size=(20, 3))
    y = rng.normal(size=20)
    original = X.copy()
    LinearRegression().fit(X, y)
    np.testing.assert_array_equal(X, original)
    ours = LinearRegression(copy_X=False).fit(X, y)
    np.testing.assert_allclose(X, original - original.mean(axis=0))
    ref = sk.LinearRegression().fit(original, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-10)


def test_one_sample_fits_its_target_as_sklearn():
    ours = LinearRegression().fit([[1.0]], [3.0])
    ref = sk.LinearRegression().fit([[1.0]], [3.0])
    np.testing.assert_allclose([ours.coef_[0], ours.intercept_], [ref.coef_[0], ref.intercept_])


def test_scalar_sample_weight_is_every_samples_weight(diabetes):
    X, y = diabetes
    ours = Ridge(alpha=1.0).fit(X, y, sample_weight=2.0)
    ref = sk.Ridge(alpha=1.0).fit(X, y, sample_weight=2.0)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-10)


@pytest.mark.parametrize("sparse", [False, True])
def test_linear_regression_keeps_float32_as_sklearn(sparse):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 4)).astype(np.float32)
    y = (X @ np.arange(4.0) + rng.normal(size=80)).astype(np.float32)
    X = sp.csr_matrix(X) if sparse else X
    ours, ref = LinearRegression().fit(X, y), sk.LinearRegression().fit(X, y)
    for name in ("coef_", "intercept_"):
        got, want = np.asarray(getattr(ours, name)), np.asarray(getattr(ref, name))
        assert got.dtype == want.dtype == np.float32
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    assert ours.predict(X).dtype == ref.predict(X).dtype == np.float32


@pytest.mark.parametrize(("sparse", "positive"), [(False, False), (True, False), (False, True)])
def test_linear_regression_y_column_keeps_2d_coef_as_sklearn(diabetes, sparse, positive):
    # scikit-learn's LinearRegression keeps a (n_samples, 1) target 2-D: coef_ (1, n_features),
    # predict (n_samples, 1) (Ridge, by contrast, ravels coef_); ours raveled both
    X, y = diabetes
    X = sp.csr_matrix(X) if sparse else X
    Y = y[:, None]
    ours = LinearRegression(positive=positive).fit(X, Y)
    ref = sk.LinearRegression(positive=positive).fit(X, Y)
    assert ours.coef_.shape == ref.coef_.shape == (1, X.shape[1])
    assert ours.intercept_.shape == ref.intercept_.shape == (1,)
    assert ours.predict(X).shape == ref.predict(X).shape == (len(y), 1)
    np.testing.assert_allclose(ours.predict(X), ref.predict(X), rtol=1e-6)


@pytest.mark.parametrize("n_targets", [None, 1, 3])
@pytest.mark.parametrize("Estimator", ["LinearRegression", "Ridge"])
def test_no_intercept_gives_intercept_zero_as_sklearn(Estimator, n_targets):
    # without an intercept scikit-learn stores the float 0.0, whatever the number of targets
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 3))
    y = rng.normal(size=20 if n_targets is None else (20, n_targets))
    ours = {"LinearRegression": LinearRegression, "Ridge": Ridge}[Estimator](
        fit_intercept=False
    ).fit(X, y)
    ref = getattr(sk, Estimator)(fit_intercept=False).fit(X, y)
    assert ref.intercept_ == 0.0 and np.ndim(ref.intercept_) == 0
    assert ours.intercept_ == 0.0 and np.ndim(ours.intercept_) == 0
    np.testing.assert_allclose(ours.predict(X), ref.predict(X), rtol=1e-6)


@pytest.mark.parametrize(("sparse", "positive"), [(True, False), (False, True)])
def test_linear_regression_n_jobs_solves_targets_in_parallel_as_sklearn(sparse, positive):
    # scikit-learn's LinearRegression takes n_jobs (one problem per target when X is sparse or
    # positive=True); ours refused it with a TypeError
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 4))
    Y = X @ rng.uniform(0, 1, size=(4, 3)) + 0.1 * rng.normal(size=(30, 3))
    X = sp.csr_matrix(X) if sparse else X
    ours = LinearRegression(n_jobs=2, positive=positive).fit(X, Y)
    ref = sk.LinearRegression(n_jobs=2, positive=positive).fit(X, Y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-6, atol=1e-10)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-6, atol=1e-10)
