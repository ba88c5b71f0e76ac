"""Strong Wolfe and Armijo line searches: the conditions hold, and agree with scipy's search."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from scipy import optimize
from scipy.optimize._linesearch import line_search_wolfe1  # MINPACK-2 dcsrch

from mlcanon.optim import line_search_armijo, line_search_wolfe


def assert_strong_wolfe(f, grad, x, p, res, c1, c2):
    slope0 = grad(x) @ p
    x_new = x + res.alpha * p
    assert res.success, res.message
    assert res.alpha > 0
    assert f(x_new) <= f(x) + c1 * res.alpha * slope0  # sufficient decrease
    assert abs(grad(x_new) @ p) <= c2 * abs(slope0)  # curvature (strong form)
    assert res.fun == f(x_new)
    assert_allclose(res.jac, grad(x_new), rtol=0, atol=0)


def random_quadratic(rng, n):
    M = rng.normal(size=(n, n))
    A = M @ M.T + 10.0 ** rng.uniform(-3, 1) * np.eye(n)
    b = rng.normal(size=n)
    return (lambda x: 0.5 * x @ A @ x - b @ x), (lambda x: A @ x - b), A


@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 12),
    c2=st.sampled_from([0.1, 0.5, 0.9]),
    alpha0=st.floats(1e-4, 1e4),
)
def test_strong_wolfe_holds_on_random_quadratics(seed, n, c2, alpha0):
    rng = np.random.default_rng(seed)
    f, grad, _ = random_quadratic(rng, n)
    x = rng.normal(size=n) * 10
    g = grad(x)
    p = -g * rng.uniform(0.1, 10, size=n)  # a scaled, not only steepest, descent direction
    res = line_search_wolfe(f, grad, x, p, c2=c2, alpha0=alpha0)
    assert_strong_wolfe(f, grad, x, p, res, 1e-4, c2)


@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(2, 20),
    newton=st.booleans(),
    c2=st.sampled_from([0.1, 0.9]),
)
def test_strong_wolfe_holds_along_rosenbrock_directions(seed, n, newton, c2):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2, 2, size=n)
    g = optimize.rosen_der(x)
    p = -g
    if newton:  # the Newton direction where it descends: steps near 1, curvature changes
        q = -np.linalg.solve(optimize.rosen_hess(x), g)
        p = q if q @ g < 0 else p
    res = line_search_wolfe(optimize.rosen, optimize.rosen_der, x, p, c2=c2)
    assert_strong_wolfe(optimize.rosen, optimize.rosen_der, x, p, res, 1e-4, c2)


@pytest.mark.parametrize("seed", range(12))
def test_more_thuente_takes_scipys_line_search_wolfe1_step(seed):
    """method='more-thuente' is MINPACK-2's dcsrch, which SciPy's line_search_wolfe1 wraps:
    the same step, value and gradient along Rosenbrock's steepest-descent and Newton
    directions, with SciPy's defaults (c1=1e-4, c2=0.9, steps in [1e-8, 50], xtol=1e-14)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2, 2, size=int(rng.integers(2, 12)))
    g = optimize.rosen_der(x)
    q = -np.linalg.solve(optimize.rosen_hess(x), g)
    p = q if seed % 2 and q @ g < 0 else -g
    alpha0 = float(rng.choice([1.0, 1e-3, 0.3]))
    # scipy's first trial is min(1, 1.01 * 2 (f - old_old_fval) / slope): old_old_fval made so
    # that it is alpha0
    old_old = optimize.rosen(x) - alpha0 * float(g @ p) / 2.02
    want = line_search_wolfe1(
        optimize.rosen,
        optimize.rosen_der,
        x,
        p,
        g,
        optimize.rosen(x),
        old_old,
        c1=1e-4,
        c2=0.9,
        amax=50,
        amin=1e-8,
        xtol=1e-14,
    )
    got = line_search_wolfe(
        optimize.rosen,
        optimize.rosen_der,
        x,
        p,
        gfk=g,
        old_fval=optimize.rosen(x),
        alpha0=alpha0,
        alpha_max=50.0,
        max_iter=100,
        method="more-thuente",
        alpha_min=1e-8,
        xtol=1e-14,
    )
    assert want[0] is not None and got.success
    assert_allclose(got.alpha, want[0], rtol=1e-12)
    assert_allclose(got.fun, want[3], rtol=1e-12)
    assert_allclose(got.jac, want[5], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_near_exact_search_on_a_quadratic_matches_closed_form_and_scipy(seed):
    rng = np.random.default_rng(seed)
    f, grad, A = random_quadratic(rng, 6)
    x = rng.normal(size=6)
    p = -grad(x)
    exact = -(grad(x) @ p) / (p @ A @ p)  # argmin of phi: phi'(alpha) = 0
    ours = line_search_wolfe(f, grad, x, p, c1=1e-7, c2=1e-6)
    theirs = optimize.line_search(f, grad, x, p, c1=1e-7, c2=1e-6)[0]
    assert_allclose(ours.alpha, exact, rtol=1e-6)
    assert_allclose(ours.alpha, theirs, rtol=1e-6)
    # both also accept the same first trial when it already satisfies the conditions
    loose = line_search_wolfe(f, grad, x, p, c2=0.9, alpha0=exact)
    assert loose.alpha == exact and loose.nfev == 2  # the trial + f(xk), g(xk)


def test_wolfe_step_far_below_the_first_trial_is_found():
    # phi(alpha) = (alpha - 1e-11)^2 on [0, 1]: the minimizer sits 1e-11 of the bracket from
    # its left end; halving the bracket 30 times reaches only 1e-9 (the search gave up)
    scale = 1e11

    def f(x):
        return 0.5 * scale * (x[0] - 1.0 / scale**2) ** 2

    def grad(x):
        return np.array([scale * (x[0] - 1.0 / scale**2)])

    x, p = np.zeros(1), np.array([1.0 / scale])  # descent: phi'(0) = -1 / scale^2
    exact = 1.0 / scale  # x + alpha p = 1 / scale^2
    res = line_search_wolfe(f, grad, x, p, alpha0=1.0)
    assert_strong_wolfe(f, grad, x, p, res, 1e-4, 0.9)
    assert 0.0 < res.alpha < 2.0 * exact  # sufficient decrease on a parabola: alpha < 2 alpha*


def test_jac_true_and_given_start_values():
    def fg(x):
        return optimize.rosen(x), optimize.rosen_der(x)

    x = np.array([-1.2, 1.0])
    p = -optimize.rosen_der(x)
    a = line_search_wolfe(optimize.rosen, optimize.rosen_der, x, p)
    b = line_search_wolfe(fg, True, x, p)
    c = line_search_wolfe(fg, True, x, p, gfk=optimize.rosen_der(x), old_fval=optimize.rosen(x))
    assert a.alpha == b.alpha == c.alpha
    assert c.nfev == b.nfev - 1  # start values given: no evaluation at xk


def test_first_trial_overflowing_is_treated_as_too_long():
    def f(x):
        with np.errstate(over="ignore"):
            return float(np.sum(np.exp(x)))

    x = np.zeros(3)
    g = np.exp(x)
    res = line_search_wolfe(f, lambda z: np.exp(z), x, -g, alpha0=1e300)
    assert_strong_wolfe(f, lambda z: np.exp(z), x, -g, res, 1e-4, 0.9)


def test_armijo_hand_case():
    # f = x^2 at x = 1, p = -f'(1) = -2: alpha = 1 lands on x = -1 (f = 1, no decrease);
    # alpha = 1/2 lands on x = 0 (f = 0 <= 1 - 1e-4 * 0.5 * 4)
    res = line_search_armijo(lambda x: float(x @ x), [1.0], [-2.0], [2.0], 1.0)
    assert (res.alpha, res.fun, res.nfev, res.success) == (0.5, 0.0, 2, True)


@given(seed=st.integers(0, 2**32 - 1), rho=st.sampled_from([0.1, 0.5, 0.8]))
def test_armijo_returns_the_first_step_that_decreases_enough(seed, rho):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2, 2, size=5)
    g = optimize.rosen_der(x)
    res = line_search_armijo(optimize.rosen, x, -g, g, rho=rho)
    f0, c1 = optimize.rosen(x), 1e-4
    assert res.success
    assert optimize.rosen(x - res.alpha * g) <= f0 - c1 * res.alpha * (g @ g)
    k = round(np.log(res.alpha) / np.log(rho))
    assert_allclose(res.alpha, rho**k, rtol=1e-12)  # one of alpha0 * rho^k ...
    if k > 0:  # ... and the one before it failed
        prev = res.alpha / rho
        assert optimize.rosen(x - prev * g) > f0 - c1 * prev * (g @ g)


@pytest.mark.parametrize(
    ("kwargs", "err", "match"),
    [
        ({"pk": [-1.0, 0.0]}, ValueError, "pk must be a descent direction"),
        ({"pk": [1.0, 0.0, 0.0]}, ValueError, "pk must have the shape of xk"),
        ({"xk": [[1.0, 2.0]]}, ValueError, "xk must be 1-D"),
        ({"c1": 0.95}, ValueError, "c2 must be > 0.95"),
        ({"c1": 0.0}, ValueError, "c1 must be > 0"),
        ({"c2": 1.0}, ValueError, "c2 must be < 1"),
        ({"alpha0": -1.0}, ValueError, "alpha0 must be > 0"),
        ({"max_iter": 0}, ValueError, "max_iter must be >= 1"),
        ({"method": "brent"}, ValueError, "method must be one of"),
        ({"alpha_min": -1.0}, ValueError, "alpha_min must be >= 0"),
        ({"jac": None}, TypeError, "jac must be callable or True"),
        ({"fun": "rosen"}, TypeError, "fun must be callable"),
    ],
)
def test_wolfe_bad_input(kwargs, err, match):
    x = np.array([-1.2, 1.0])
    args = {"fun": optimize.rosen, "jac": optimize.rosen_der, "xk": x, "pk": -optimize.rosen_der(x)}
    args.update(kwargs)
    with pytest.raises(err, match=match):
        line_search_wolfe(args.pop("fun"), args.pop("jac"), args.pop("xk"), args.pop("pk"), **args)


def test_armijo_bad_input():
    f, x, g = optimize.rosen, np.array([-1.2, 1.0]), optimize.rosen_der(np.array([-1.2, 1.0]))
    with pytest.raises(ValueError, match="pk must be a descent direction"):
        line_search_armijo(f, x, g, g)
    with pytest.raises(ValueError, match="rho must be < 1"):
        line_search_armijo(f, x, -g, g, rho=1.0)
    with pytest.raises(ValueError, match="must have the shape of xk"):
        line_search_armijo(f, x, -g, g[:1])
    res = line_search_armijo(f, x, -g, g, max_iter=1, alpha0=1e3)  # too long, no second try
    assert not res.success and res.alpha == 0.0 and "Armijo" in res.message


def test_collapsed_bracket_ends_the_search_instead_of_dividing_by_zero():
    # Nonlinear CG asked for a gradient below what rounding allows on a ridge problem: the zoom
    # bracket shrinks to one point. The search must stop (reporting the precision limit) rather
    # than divide by the bracket's zero width, and the answer must still be the ridge solution.
    from sklearn.datasets import load_breast_cancer

    from mlcanon.optim import minimize

    X, y = load_breast_cancer(return_X_y=True)
    X = (X - X.mean(0)) / X.std(0)
    yc, n, lam = y - y.mean(), X.shape[0], 1e-3

    def f(w):
        return 0.5 * np.mean((yc - X @ w) ** 2) + 0.5 * lam * w @ w

    def g(w):
        return -X.T @ (yc - X @ w) / n + lam * w

    r = minimize(f, np.zeros(X.shape[1]), g, method="cg", tol=1e-10, max_iter=100_000)
    exact = np.linalg.solve(X.T @ X / n + lam * np.eye(X.shape[1]), X.T @ yc / n)
    assert not r.success and "rounding" in r.message
    # strongly convex with modulus >= lam: |w - w*| <= |g(w)| / lam
    np.testing.assert_allclose(r.x, exact, atol=np.linalg.norm(g(r.x)) / lam + 1e-12)


def test_gradient_returned_in_a_reused_buffer():
    """With jac writing into one buffer, a failed search returned the gradient of its last trial
    as the gradient at xk ([-18, -98901] for [2, 99])."""
    A, b, buf = np.diag([1.0, 100.0]), np.ones(2), np.empty(2)

    def jac(x):
        np.dot(A, x, out=buf)
        buf[:] -= b
        return buf

    x = np.array([3.0, 1.0])
    p = -(A @ x - b)
    res = line_search_wolfe(
        lambda x: 0.5 * x @ A @ x - b @ x,
        jac,
        x,
        p,
        alpha0=10.0,
        max_iter=1,
        method="more-thuente",
    )
    assert res.alpha == 0.0 and not res.success
    assert_allclose(res.jac, A @ x - b, rtol=0, atol=0)  # closed form at xk
