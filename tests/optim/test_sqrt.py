"""Square roots by Newton, bisection and gradient descent against math.sqrt."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlcanon.optim import (
    sqrt_bisection,
    sqrt_gradient_descent,
    sqrt_gradient_descent_naive,
    sqrt_newton,
)

METHODS = [sqrt_newton, sqrt_bisection, sqrt_gradient_descent]
#: iteration bounds that follow from each method's convergence proof (see the docstrings):
#: Newton squares a starting error <= 1/2 (6 steps + 1 to see no progress), bisection gains one
#: of 53 bits per step, gradient descent contracts by <= 3/4 (2^-53 after 128 steps)
BOUND = {sqrt_newton: 7, sqrt_bisection: 53, sqrt_gradient_descent: 129}


def _grid():
    rng = np.random.default_rng(0)
    special = [
        0.0,
        5e-324,  # smallest subnormal
        1e-310,
        np.nextafter(2.2250738585072014e-308, 0),  # largest subnormal
        2.2250738585072014e-308,
        1e-12,
        0.25,
        np.nextafter(1.0, 0),
        1.0,
        2.0,
        3.0,
        250.0,  # where the notes' fixed step stops converging
        1e12 - 1,
        1e12,
    ]
    powers_of_4 = [4.0**k for k in range(-537, 20)]
    odd_powers_of_2 = [2.0 ** (2 * k + 1) for k in range(-537, 20)]
    log_uniform = 10 ** rng.uniform(-320, 12, size=2000)
    uniform = rng.uniform(0, 1e12, size=1000)
    integers = np.arange(0, 2000, dtype=float)
    return np.concatenate([special, powers_of_4, odd_powers_of_2, log_uniform, uniform, integers])


GRID = _grid()


def _rel_err(x, y):
    t = math.sqrt(y)
    return abs(x - t) / t if t else abs(x)


@pytest.mark.parametrize("method", METHODS, ids=lambda f: f.__name__)
def test_matches_math_sqrt_over_a_wide_grid(method):
    errs = np.array([_rel_err(method(float(y)), float(y)) for y in GRID])
    assert errs.max() <= 1e-12, GRID[errs.argmax()]


@pytest.mark.parametrize("method", METHODS, ids=lambda f: f.__name__)
def test_iteration_counts_respect_the_proved_bounds(method):
    counts = np.array([method(float(y), return_n_iter=True)[1] for y in GRID])
    assert counts.max() <= BOUND[method]
    assert method(0.0, return_n_iter=True) == (0.0, 0)


@pytest.mark.parametrize("method", [sqrt_newton, sqrt_bisection], ids=lambda f: f.__name__)
def test_powers_of_4_are_exact(method):
    # sqrt(4^k) = 2^k: the scaled problem is m = 1/4, r = 1/2, which both methods hit exactly
    for k in range(-537, 20):
        assert method(4.0**k) == 2.0**k


def test_gradient_descent_stalls_within_two_ulp():
    # A fixed step shrinks with the gradient: it stops moving once x (x^2 - m) / 2 < ulp(x) / 2,
    # i.e. when x - r < ulp / (2 r^2) <= 2 ulp for r >= 1/2. Powers of 4 (r = 1/2) sit at the
    # worst end of that bound.
    for k in range(-537, 20):
        x = sqrt_gradient_descent(4.0**k)
        assert 2.0**k <= x <= 2.0**k + 2 * np.spacing(2.0**k)


@given(y=st.floats(0.0, 1e12))
def test_property_relative_error(y):
    for method in METHODS:
        assert _rel_err(method(y), y) <= 1e-12


@pytest.mark.parametrize("method", METHODS, ids=lambda f: f.__name__)
def test_accepts_numpy_scalars_and_ints(method):
    assert method(np.float32(16.0)) == pytest.approx(4.0, rel=1e-15)
    assert method(np.float64(2.0)) == pytest.approx(math.sqrt(2.0), rel=1e-15)
    assert method(81) == pytest.approx(9.0, rel=1e-15)


@pytest.mark.parametrize("method", METHODS, ids=lambda f: f.__name__)
def test_bad_input(method):
    with pytest.raises(ValueError, match="y must be >= 0"):
        method(-1.0)
    with pytest.raises(ValueError, match="y must be finite, got nan"):
        method(float("nan"))
    with pytest.raises(ValueError, match="y must be finite"):
        method(float("inf"))
    with pytest.raises(TypeError, match="y must be Real"):
        method("4")
    with pytest.raises(TypeError, match="y must be Real"):
        method(True)


# --- the notes' fixed step alpha = 0.001 on the unscaled loss -----------------------------------


def test_naive_converges_for_moderate_y():
    for y in [2.0, 10.0, 100.0, 200.0]:
        res = sqrt_gradient_descent_naive(y)
        assert res.status == "converged"
        # it stops at |L'(x)| = 4x|x^2 - y| <= 1e-5, i.e. |x - sqrt(y)| <= 1e-5 / (8 y) roughly
        assert abs(res.x - math.sqrt(y)) <= 1e-5 / (8 * y) * 1.01


def test_naive_fails_from_y_250_and_overflows_for_large_y():
    # near sqrt(y) the error is multiplied by 1 - 8 alpha y, of size > 1 once y > 250
    assert sqrt_gradient_descent_naive(249.0).status == "converged"
    assert sqrt_gradient_descent_naive(251.0, max_iter=20_000).status == "max_iter"
    for y in [1e4, 1e6, 1e12]:
        res = sqrt_gradient_descent_naive(y)
        assert res.status == "diverged" and not math.isfinite(res.x)
    # with a step below 1 / (4 y) the same loop converges again
    assert sqrt_gradient_descent_naive(1e4, alpha=1e-5).status == "converged"


def test_naive_bad_input():
    with pytest.raises(ValueError, match="alpha must be > 0"):
        sqrt_gradient_descent_naive(2.0, alpha=0.0)
    with pytest.raises(ValueError, match="y must be >= 0"):
        sqrt_gradient_descent_naive(-2.0)
    with pytest.raises(ValueError, match="max_iter must be >= 1"):
        sqrt_gradient_descent_naive(2.0, max_iter=0)
