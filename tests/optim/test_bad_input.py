"""Bad input to minimize and the square roots: vector objectives, integers beyond float64."""

import numpy as np
import pytest
import scipy.optimize

from mlcanon.optim import minimize, sqrt_bisection, sqrt_gradient_descent, sqrt_newton


@pytest.mark.parametrize("method", ["gd", "bfgs", "lbfgs", "cg"])
def test_vector_objective_is_refused_like_scipy(method):
    x0 = np.array([1.0, 2.0])
    with pytest.raises(ValueError, match="must return a scalar"):
        scipy.optimize.minimize(lambda x: x**2, x0)
    with pytest.raises(
        ValueError, match=r"fun\(x\) must return a scalar, got an array of shape \(2,\)"
    ):
        minimize(lambda x: x**2, x0, method=method)


def test_one_element_objective_is_accepted_like_scipy():
    x0 = np.array([3.0])
    ref = scipy.optimize.minimize(lambda x: x**2, x0)
    ours = minimize(lambda x: x**2, x0)
    np.testing.assert_allclose(ours.x, ref.x, atol=1e-6)


def test_non_numeric_objective_is_refused():
    with pytest.raises(TypeError, match="fun\\(x\\) must return a real number, got 'a'"):
        minimize(lambda x: "a", np.array([1.0]))


@pytest.mark.parametrize("fn", [sqrt_newton, sqrt_bisection, sqrt_gradient_descent])
def test_integer_beyond_float64_is_refused(fn):
    with pytest.raises(
        ValueError,
        match=r"y must fit in a float64 \(at most 1.798e\+308\), got an int of 401 digits",
    ):
        fn(10**400)


@pytest.mark.parametrize("fn", [sqrt_newton, sqrt_bisection, sqrt_gradient_descent])
def test_large_integer_within_float64_is_handled(fn):
    assert fn(10**300) == pytest.approx(1e150, rel=1e-15)
    assert fn(2**1000) == pytest.approx(2.0**500, rel=1e-15)
