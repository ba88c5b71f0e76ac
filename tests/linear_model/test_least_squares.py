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
    with pytest.raises(ValueError, match="solver must be one of 'auto', 'cholesky', 'svd'"):
        Ridge(solver="sag").fit(X, y)
    with pytest.raises(ValueError, match="X must be 2-D"):
        LinearRegression().fit(X[:, 0], y)
    with pytest.raises(ValueError, match="at least 2 are required"):
        LinearRegression().fit(X[:1], y[:1])
    with pytest.raises(ValueError, match="contains NaN"):
        LinearRegression().fit(X, np.where(y > 3, np.nan, y))
    with pytest.raises(ValueError, match="sample_weight must be non-negative"):
        Ridge().fit(X, y, sample_weight=-np.ones(10))
