"""Finite-difference gradients against analytic gradients and scipy.optimize.approx_fprime."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from scipy import optimize
from scipy.special import expit
from sklearn.datasets import load_breast_cancer

from mlcanon.optim import approx_gradient, check_grad

EPS = np.finfo(float).eps


def assert_central_accurate(approx, exact, f_scale):
    # Central differences with h ~ eps^(1/3) err by h^2 |f'''| / 6 + eps |f| / h, both of order
    # eps^(2/3) ~ 4e-11 times the size of f and its derivatives; allow a factor 100 over that.
    scale = max(1.0, abs(f_scale), np.abs(exact).max())
    assert_allclose(approx, exact, rtol=0, atol=100 * EPS ** (2 / 3) * scale)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_central_differences_match_rosenbrock_gradient(seed):
    x = np.random.default_rng(seed).uniform(-2, 2, size=12)
    assert_central_accurate(
        approx_gradient(optimize.rosen, x), optimize.rosen_der(x), optimize.rosen(x)
    )


def test_central_differences_match_logistic_loss_gradient():
    X, y = load_breast_cancer(return_X_y=True)
    X = (X - X.mean(0)) / X.std(0)
    w = np.random.default_rng(0).normal(size=X.shape[1])

    def f(w):
        z = X @ w
        return float(np.mean(np.logaddexp(0, z) - y * z))

    exact = X.T @ (expit(X @ w) - y) / len(y)
    assert_central_accurate(approx_gradient(f, w), exact, f(w))


@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 8))
def test_central_differences_on_smooth_random_functions(seed, n):
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=n), rng.normal(size=n)
    x = rng.uniform(-3, 3, size=n)

    def f(x):
        return float(np.sin(a @ x) + np.sum(b * x**3))

    exact = np.cos(a @ x) * a + 3 * b * x**2
    assert_central_accurate(approx_gradient(f, x), exact, f(x))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_forward_differences_equal_scipy_approx_fprime(seed):
    x = np.random.default_rng(seed).uniform(-2, 2, size=7) * 10.0 ** np.arange(-3, 4)
    step = np.sqrt(EPS)  # approx_fprime's default absolute step
    ours = approx_gradient(optimize.rosen, x, step, method="forward")
    assert_allclose(ours, optimize.approx_fprime(x, optimize.rosen), rtol=1e-13)


def test_hand_case_quadratic_is_exact_for_central_differences():
    # f = x0^2 + 3 x0 x1: the central difference of a quadratic has no truncation error
    f = lambda x: x[0] ** 2 + 3 * x[0] * x[1]  # noqa: E731
    assert_allclose(approx_gradient(f, [1.0, 2.0], 0.5), [8.0, 3.0], rtol=1e-15)
    assert_allclose(approx_gradient(f, [1.0, 2.0], [0.25, 0.5]), [8.0, 3.0], rtol=1e-15)


def test_argument_is_not_modified_and_calls_counted():
    calls = []

    def f(x):
        calls.append(x)
        return float(x @ x)

    x = np.array([1.0, -2.0, 3.0])
    approx_gradient(f, x)
    assert_allclose(x, [1.0, -2.0, 3.0])
    assert len(calls) == 6  # 2n evaluations
    assert len({id(c) for c in calls}) == 6  # each call gets its own array
    calls.clear()
    approx_gradient(f, x, method="forward")
    assert len(calls) == 4  # n + 1


@pytest.mark.parametrize("seed", [0, 1])
def test_check_grad_matches_scipy(seed):
    x = np.random.default_rng(seed).uniform(-2, 2, size=6)
    ours = check_grad(optimize.rosen, optimize.rosen_der, x, eps=np.sqrt(EPS), method="forward")
    theirs = optimize.check_grad(optimize.rosen, optimize.rosen_der, x)
    assert_allclose(ours, theirs, rtol=1e-10)
    # central differences see the right gradient as (nearly) exact, and a wrong one as wrong
    good = check_grad(optimize.rosen, optimize.rosen_der, x)
    bad = check_grad(optimize.rosen, lambda z: optimize.rosen_der(z) * 1.001, x)
    assert good < 1e-6 * np.linalg.norm(optimize.rosen_der(x)) < bad


def test_bad_input():
    f = lambda x: float(x @ x)  # noqa: E731
    with pytest.raises(ValueError, match="method must be one of"):
        approx_gradient(f, [1.0], method="backward")
    with pytest.raises(ValueError, match="eps must be > 0"):
        approx_gradient(f, [1.0], 0.0)
    with pytest.raises(ValueError, match="eps must be a scalar or have the shape of x"):
        approx_gradient(f, [1.0, 2.0], [1e-6, 1e-6, 1e-6])
    with pytest.raises(TypeError, match="f must be callable"):
        approx_gradient(1.0, [1.0])
    with pytest.raises(ValueError, match="x must be 1-D"):
        approx_gradient(f, [[1.0]])
    with pytest.raises(ValueError, match="x contains NaN"):
        approx_gradient(f, [np.nan])
    with pytest.raises(ValueError, match=r"jac\(x\) must have the shape of x"):
        check_grad(f, lambda x: np.zeros(3), [1.0, 2.0])
    with pytest.raises(TypeError, match="jac must be callable"):
        check_grad(f, None, [1.0])


@pytest.mark.parametrize("x0", [3.0, np.float64(3.0), 3, np.array(3.0)])
def test_scalar_x_is_a_point_of_shape_1_as_scipy(x0):
    """A scalar x was refused ('x must be 1-D'); scipy's approx_fprime and check_grad read it as
    the point of shape (1,), as minimize does."""
    f = lambda x: float(np.sum(x**3))  # noqa: E731
    ours = approx_gradient(f, x0, np.sqrt(EPS), method="forward")
    assert ours.shape == (1,)
    assert_allclose(ours, optimize.approx_fprime(x0, f), rtol=1e-13)
    assert_allclose(approx_gradient(f, x0), [27.0], rtol=1e-10)  # 3 x^2 at 3 (measured 1.0e-11)
    jac = lambda x: 3 * np.asarray(x) ** 2  # noqa: E731
    ref = optimize.check_grad(f, jac, x0)
    assert_allclose(check_grad(f, jac, x0, eps=np.sqrt(EPS), method="forward"), ref, rtol=1e-10)


def test_vector_valued_f_is_refused_with_a_clear_error():
    # it failed inside float() with 'only 0-dimensional arrays can be converted to Python scalars'
    with pytest.raises(ValueError, match=r"f\(x\) must return a scalar, got an array of shape"):
        approx_gradient(lambda x: x**2, [1.0, 2.0])
    assert_allclose(
        approx_gradient(lambda x: np.array([x @ x]), [1.0, 2.0]), [2.0, 4.0], rtol=1e-10
    )
