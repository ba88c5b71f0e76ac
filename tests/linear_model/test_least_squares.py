"""LinearRegression and Ridge against scikit-learn, plus cases solvable by hand."""

import numpy as np
import pytest
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
        Ridge(solver="sag").fit(X, y)
    with pytest.raises(ValueError, match="X must be 2-D"):
        LinearRegression().fit(X[:, 0], y)
    with pytest.raises(ValueError, match="at least 2 are required"):
        LinearRegression().fit(X[:1], y[:1])
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


def test_ridge_parameter_errors(diabetes):
    X, y = diabetes
    with pytest.raises(ValueError, match="alpha must be a float or an array of one value"):
        Ridge(alpha=[1.0, 2.0]).fit(X, y)
    with pytest.raises(ValueError, match="alpha must hold finite values >= 0"):
        Ridge(alpha=[-1.0]).fit(X, y)
    with pytest.raises(ValueError, match="positive=True needs solver 'auto' or 'lbfgs'"):
        Ridge(positive=True, solver="svd").fit(X, y)
    with pytest.raises(ValueError, match="solver='lbfgs' is the positive=True solver"):
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
