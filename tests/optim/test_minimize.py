"""Newton, BFGS, L-BFGS, nonlinear CG and gradient descent against scipy.optimize.minimize."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy import optimize
from scipy.special import expit
from sklearn.datasets import load_breast_cancer

from mlcanon.optim import (
    OptimizeResult,
    minimize,
    minimize_bfgs,
    minimize_cg,
    minimize_gd,
    minimize_lbfgs,
    minimize_newton,
)

TIGHT = 1e-10  # gradient tolerance used by both sides in the reference comparisons

# ----------------------------------------------------------------------------- test problems


def rosen_start(n):
    return np.tile([-1.2, 1.0], n // 2)


def powell(x):
    """Extended Powell singular function; minimum 0 at x = 0 with a singular Hessian there."""
    a, b, c, d = x[0::4], x[1::4], x[2::4], x[3::4]
    return float(
        np.sum((a + 10 * b) ** 2 + 5 * (c - d) ** 2 + (b - 2 * c) ** 4 + 10 * (a - d) ** 4)
    )


def powell_grad(x):
    a, b, c, d = x[0::4], x[1::4], x[2::4], x[3::4]
    t1, t2, t3, t4 = a + 10 * b, c - d, b - 2 * c, a - d
    g = np.empty_like(x)
    g[0::4] = 2 * t1 + 40 * t4**3
    g[1::4] = 20 * t1 + 4 * t3**3
    g[2::4] = 10 * t2 - 8 * t3**3
    g[3::4] = -10 * t2 - 40 * t4**3
    return g


def powell_hess(x):
    n = x.size
    H = np.zeros((n, n))
    for i in range(0, n, 4):
        a, b, c, d = x[i : i + 4]
        u, v = 12 * (b - 2 * c) ** 2, 120 * (a - d) ** 2
        H[i : i + 4, i : i + 4] = [
            [2 + v, 20, 0, -v],
            [20, 200 + u, -2 * u, 0],
            [0, -2 * u, 10 + 4 * u, -10],
            [-v, 0, -10, 10 + v],
        ]
    return H


def powell_start(k):
    return np.tile([3.0, -1.0, 0.0, 1.0], k)


@pytest.fixture(scope="module")
def logistic():
    """L2-regularized mean log-loss on standardized breast-cancer data; w[-1] is the intercept."""
    X, y = load_breast_cancer(return_X_y=True)
    X = (X - X.mean(0)) / X.std(0)
    X = np.hstack([X, np.ones((X.shape[0], 1))])
    lam, n = 1e-2, X.shape[0]
    pen = np.r_[np.ones(X.shape[1] - 1), 0.0]

    def f(w):
        z = X @ w
        return float(np.mean(np.logaddexp(0, z) - y * z) + 0.5 * lam * np.sum(pen * w**2))

    def g(w):
        return X.T @ (expit(X @ w) - y) / n + lam * pen * w

    def h(w):
        p = expit(X @ w)
        return (X.T * (p * (1 - p))) @ X / n + lam * np.diag(pen)

    return f, g, h, np.zeros(X.shape[1])


def assert_same_minimizer(res, ref, hess):
    """Both ends lie within ||g|| / mu of the minimizer, mu the smallest Hessian eigenvalue there
    (first order in ||g||; the factor 2 covers the Hessian's change over that distance)."""
    mu = np.linalg.eigvalsh(hess(ref.x))[0]
    bound = (np.linalg.norm(res.jac) + np.linalg.norm(ref.jac)) / mu
    assert mu > 0
    assert np.linalg.norm(res.x - ref.x) <= 2 * bound, (np.linalg.norm(res.x - ref.x), bound)
    # f - f* <= ||g||^2 / (2 mu), plus the rounding of f itself
    f_gap = (np.linalg.norm(res.jac) ** 2 + np.linalg.norm(ref.jac) ** 2) / mu
    assert abs(res.fun - ref.fun) <= f_gap + 4 * np.finfo(float).eps * abs(ref.fun)


def _scipy(fun, x0, jac, method, hess=None, gtol=TIGHT):
    options = {"gtol": gtol, "maxiter": 100_000}
    if method == "L-BFGS-B":
        options.update(ftol=0.0, maxfun=100_000)  # stop on the gradient alone, as ours does
    return optimize.minimize(fun, x0, jac=jac, hess=hess, method=method, options=options)


# ---------------------------------------------------------------- reference comparisons

PAIRS = [("bfgs", "BFGS"), ("lbfgs", "L-BFGS-B"), ("cg", "CG"), ("newton", "trust-exact")]


@pytest.mark.parametrize(("ours", "theirs"), PAIRS)
@pytest.mark.parametrize("n", [2, 100])
def test_rosenbrock_same_minimizer_as_scipy(ours, theirs, n):
    x0 = rosen_start(n)
    hess = optimize.rosen_hess if ours == "newton" else None
    res = minimize(optimize.rosen, x0, optimize.rosen_der, hess, method=ours, tol=TIGHT)
    ref = _scipy(optimize.rosen, x0, optimize.rosen_der, theirs, hess)
    assert res.success, res.message
    # From this start the 100-D function has a second local minimizer near (-1, 1, ..., 1):
    # Newton and scipy's exact-Hessian trust region both end there, the others at (1, ..., 1).
    assert_same_minimizer(res, ref, optimize.rosen_hess)


@pytest.mark.parametrize("method", ["lbfgs", "bfgs", "cg"])
def test_rosenbrock_reaches_the_global_minimizer(method):
    res = minimize(optimize.rosen, rosen_start(100), optimize.rosen_der, method=method, tol=TIGHT)
    assert_allclose(res.x, np.ones(100), atol=1e-7)


@pytest.mark.parametrize(("ours", "theirs"), PAIRS)
def test_extended_powell_same_minimizer_as_scipy(ours, theirs):
    x0 = powell_start(5)  # 20-D
    hess = powell_hess if ours == "newton" else None
    res = minimize(powell, x0, powell_grad, hess, method=ours, tol=TIGHT)
    ref = _scipy(powell, x0, powell_grad, theirs, hess)
    assert res.success, res.message
    # The Hessian is singular at x* = 0 and the gradient vanishes like |x|^3 along its null
    # space, so |g| <= 1e-10 pins x down only to about (1e-10)^(1/3) ~ 5e-4 and f to ~1e-13.
    assert_allclose(res.x, ref.x, atol=2e-3)
    assert_allclose(res.x, 0.0, atol=2e-3)
    assert res.fun < 1e-11 and ref.fun < 1e-11


@pytest.mark.parametrize(("ours", "theirs"), [*PAIRS, ("gd", "BFGS")])
def test_logistic_loss_same_minimizer_as_scipy(logistic, ours, theirs):
    f, g, h, w0 = logistic
    hess = h if ours == "newton" else None
    # f* ~ 0.08: a step at |g| ~ 1e-10 lowers f by ~|g|^2 / mu ~ 1e-18, below rounding of f, so
    # no line search can certify it; 1e-8 is the tightest gradient test both sides reach.
    res = minimize(f, w0, g, hess, method=ours, tol=1e-8)
    ref = _scipy(f, w0, g, theirs, h if theirs == "trust-exact" else None, gtol=1e-8)
    assert res.success, res.message
    assert ref.success, ref.message
    assert_same_minimizer(res, ref, h)


def test_logistic_matches_sklearn(logistic):
    from sklearn.linear_model import LogisticRegression

    f, g, _, w0 = logistic
    X, y = load_breast_cancer(return_X_y=True)
    X = (X - X.mean(0)) / X.std(0)
    # mean log-loss + lam/2 ||w||^2  <=>  sklearn's C = 1 / (n lam)
    clf = LogisticRegression(C=1 / (len(y) * 1e-2), tol=1e-12, max_iter=10_000).fit(X, y)
    res = minimize(f, w0, g, method="lbfgs", tol=TIGHT)
    assert_allclose(res.x, np.r_[clf.coef_.ravel(), clf.intercept_], atol=1e-6)


@pytest.mark.parametrize("method", ["gd", "bfgs", "lbfgs", "cg"])
def test_gradient_descent_and_others_on_2d_rosenbrock(method):
    res = minimize(
        optimize.rosen, [-1.2, 1.0], optimize.rosen_der, method=method, tol=1e-9, max_iter=100_000
    )
    assert res.success
    assert_allclose(res.x, [1.0, 1.0], atol=1e-8)


# ---------------------------------------------------------------------- hand-made cases


def _quadratic(n, seed, cond=100.0):
    """f = (x - x*)^T A (x - x*) / 2 with condition number ``cond``; written around x* so that
    f* = 0 and rounding of f does not hide the last decreases from the line search."""
    rng = np.random.default_rng(seed)
    Q = np.linalg.qr(rng.normal(size=(n, n)))[0]
    A = Q @ np.diag(np.geomspace(1, cond, n)) @ Q.T
    x_star = rng.normal(size=n)
    f = lambda x: 0.5 * (x - x_star) @ A @ (x - x_star)  # noqa: E731
    return f, (lambda x: A @ (x - x_star)), (lambda x: A), A, x_star


def linear_cg_path(A, x_star, x0, n_steps):
    """Textbook linear conjugate gradient on A x = A x* (Hestenes & Stiefel), every iterate."""
    x, r = x0.copy(), A @ (x0 - x_star)
    p, path = -r, [x0.copy()]
    for _ in range(n_steps):
        a = (r @ r) / (p @ A @ p)
        x, r_new = x + a * p, r + a * (A @ p)
        p, r = -r_new + (r_new @ r_new) / (r @ r) * p, r_new
        path.append(x.copy())
    return np.array(path)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_newton_solves_a_quadratic_in_one_step(seed):
    f, g, h, _, x_star = _quadratic(8, seed)
    res = minimize_newton(f, np.ones(8), g, h, tol=1e-9)
    assert res.nit == 1
    assert_allclose(res.x, x_star, rtol=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize(
    ("method", "opts"),
    [("cg", {"restart": 100}), ("bfgs", {}), ("lbfgs", {"m": 10}), ("lbfgs", {"m": 3})],
)
def test_exact_line_search_on_a_quadratic_follows_linear_cg(seed, method, opts):
    # c2 -> 0 (with c1 < c2) makes the Wolfe search exact: the cubic fit of a quadratic is
    # exact. Then PR+ CG is linear CG, BFGS from a multiple of I generates the CG iterates too
    # (Nazareth 1979), and so does L-BFGS; linear CG ends in at most n steps. Condition number
    # 10 keeps the rounding that builds up over those n steps small.
    n = 10
    f, g, _, A, x_star = _quadratic(n, seed, cond=10.0)
    res = minimize(
        f, np.zeros(n), g, method=method, tol=1e-9, c1=1e-9, c2=1e-8, return_path=True, **opts
    )
    assert res.success
    assert res.nit <= n
    assert_allclose(res.path, linear_cg_path(A, x_star, np.zeros(n), res.nit), atol=1e-11)
    assert_allclose(res.x, x_star, rtol=1e-9)


def test_bfgs_inverse_hessian_approaches_the_true_inverse():
    n = 6
    f, g, _, A, _ = _quadratic(n, 3, cond=10.0)
    res = minimize_bfgs(f, np.zeros(n), g, tol=1e-12, c1=1e-9, c2=1e-8)
    # with exact line searches on a quadratic, H y_j = s_j holds for all past steps (hereditary
    # property) and n independent steps give H_n = A^-1 (Fletcher 1987, Practical Methods of
    # Optimization, Chapter 3)
    assert res.nit == n
    assert_allclose(res.hess_inv, np.linalg.inv(A), atol=1e-10)


def test_newton_modifies_an_indefinite_hessian():
    # f = x^4 - x^2 + y^2: at x = 0.1 the Hessian has -1.88 on the diagonal. Plain Newton would
    # step to the local maximum x = 0; the modified Hessian keeps a descent direction.
    f = lambda z: z[0] ** 4 - z[0] ** 2 + z[1] ** 2  # noqa: E731
    g = lambda z: np.array([4 * z[0] ** 3 - 2 * z[0], 2 * z[1]])  # noqa: E731
    h = lambda z: np.diag([12 * z[0] ** 2 - 2, 2.0])  # noqa: E731
    res = minimize_newton(f, [0.1, 1.0], g, h, tol=1e-12)
    assert_allclose(res.x, [1 / np.sqrt(2), 0.0], atol=1e-12)
    assert res.fun < f(np.zeros(2))


def test_jac_true_and_numerical_gradient():
    fg = lambda x: (optimize.rosen(x), optimize.rosen_der(x))  # noqa: E731
    a = minimize(optimize.rosen, rosen_start(4), optimize.rosen_der, method="bfgs")
    b = minimize(fg, rosen_start(4), True, method="bfgs")
    assert_allclose(b.x, a.x, rtol=0, atol=0)  # the same arithmetic, the same iterates
    assert (b.nit, b.nfev, b.njev) == (a.nit, a.nfev, a.njev)
    c = minimize(optimize.rosen, rosen_start(4), method="bfgs", tol=1e-7)
    assert_allclose(c.x, np.ones(4), atol=1e-6)
    assert c.njev == 0 and c.nfev > 8 * c.nit  # 2n calls per central-difference gradient


def test_counts_path_and_callback():
    calls, seen = [], []

    def f(x):
        calls.append(1)
        return optimize.rosen(x)

    res = minimize(
        f,
        [-1.2, 1.0],
        optimize.rosen_der,
        method="lbfgs",
        tol=1e-8,
        return_path=True,
        callback=lambda x: seen.append(x),
    )
    assert res.nfev == len(calls) and res.njev == len(calls)
    assert res.path.shape == (res.nit + 1, 2)
    assert_allclose(res.path[0], [-1.2, 1.0])
    assert_allclose(res.path[-1], res.x)
    assert len(seen) == res.nit
    fs = [optimize.rosen(x) for x in res.path]
    assert np.all(np.diff(fs) < 0)  # every accepted step lowers f (sufficient decrease)
    assert isinstance(res, OptimizeResult)


def test_callback_stop_iteration_and_max_iter():
    def stop(x):
        raise StopIteration

    res = minimize(optimize.rosen, [-1.2, 1.0], optimize.rosen_der, callback=stop)
    assert (res.nit, res.status, res.success) == (1, 99, False)
    res = minimize_gd(optimize.rosen, [-1.2, 1.0], optimize.rosen_der, max_iter=5)
    assert (res.nit, res.status, res.success) == (5, 1, False)
    assert "max_iter" in res.message


def test_start_at_the_minimizer_takes_no_step():
    res = minimize_lbfgs(optimize.rosen, np.ones(3), optimize.rosen_der)
    assert (res.nit, res.nfev, res.success) == (0, 1, True)


@pytest.mark.parametrize("line_search", ["wolfe", "armijo"])
def test_gradient_descent_line_searches(logistic, line_search):
    f, g, h, w0 = logistic
    res = minimize_gd(f, w0, g, tol=1e-7, line_search=line_search)
    ref = _scipy(f, w0, g, "BFGS", gtol=1e-8)
    assert res.success
    assert_same_minimizer(res, ref, h)


def test_individual_functions_equal_minimize():
    x0 = rosen_start(6)
    for name, fn in [("bfgs", minimize_bfgs), ("lbfgs", minimize_lbfgs), ("cg", minimize_cg)]:
        a = fn(optimize.rosen, x0, optimize.rosen_der)
        b = minimize(optimize.rosen, x0, optimize.rosen_der, method=name)
        assert_allclose(a.x, b.x, rtol=0, atol=0)


# ---------------------------------------------------------------------------- error paths


@pytest.mark.parametrize(
    ("kwargs", "err", "match"),
    [
        ({"method": "sgd"}, ValueError, "method must be one of"),
        ({"x0": np.ones((2, 2))}, ValueError, "x0 must be 1-D"),
        ({"x0": [1.0, np.nan]}, ValueError, "x0 contains NaN"),
        ({"x0": [np.inf, 1.0]}, ValueError, "x0 contains infinity"),
        ({"method": "newton"}, ValueError, "needs hess"),
        ({"tol": -1e-3}, ValueError, "tol must be >= 0"),
        ({"max_iter": -1}, ValueError, "max_iter must be >= 0"),
        ({"max_iter": 2.5}, TypeError, "max_iter must be Integral"),
        ({"jac": "2-point"}, TypeError, "jac must be None, True or a callable"),
        ({"hess": optimize.rosen_hess}, ValueError, "hess is only used by method='newton'"),
        ({"callback": 3}, TypeError, "callback must be None or callable"),
        ({"m": 0}, ValueError, "m must be >= 1"),
        ({"restart": 3}, TypeError, "unknown option"),
        ({"line_search": "exact"}, ValueError, "line_search must be one of 'wolfe', 'more-th"),
        ({"max_ls": 0}, ValueError, "max_ls must be >= 1"),
        ({"method": "gd", "line_search": "exact"}, ValueError, "line_search must be one of"),
        ({"method": "cg", "restart": 0}, ValueError, "restart must be >= 1"),
    ],
)
def test_bad_input(kwargs, err, match):
    args = {"x0": [-1.2, 1.0], "jac": optimize.rosen_der, **kwargs}
    with pytest.raises(err, match=match):
        minimize(optimize.rosen, **args)


def test_bad_objective():
    with pytest.raises(TypeError, match="fun must be callable"):
        minimize(3.0, [1.0])
    with pytest.raises(ValueError, match=r"fun\(x0\) must be finite"):
        minimize(lambda x: np.nan, [1.0], lambda x: x)
    with pytest.raises(ValueError, match=r"gradient must have shape \(2,\)"):
        minimize(lambda x: 0.0, [1.0, 2.0], lambda x: np.ones(3))
    with pytest.raises(ValueError, match="fun must return a pair"):
        minimize(lambda x: 1.0, [1.0], True)
    with pytest.raises(ValueError, match=r"hess\(x\) must have shape"):
        minimize_newton(lambda x: x @ x, [1.0, 2.0], lambda x: 2 * x, lambda x: np.eye(3))
    with pytest.raises(ValueError, match=r"hess\(x\) returned NaN"):
        minimize_newton(lambda x: x @ x, [1.0], lambda x: 2 * x, lambda x: np.full((1, 1), np.nan))


@pytest.mark.parametrize("method", ["lbfgs", "bfgs", "cg", "gd"])
@pytest.mark.parametrize(
    "fun",
    [lambda x: np.sum(np.sqrt(x)), lambda x: -np.sum(x**2)],
    ids=["nan-off-domain", "unbounded-below"],
)
def test_numerical_gradient_at_a_non_finite_trial_point_stops_as_scipy(method, fun):
    # A line-search trial off the domain (f NaN) or stepped to infinity: scipy's BFGS, CG and
    # L-BFGS-B stop with success=False ("precision loss", "NaN result", "ABNORMAL"); the finite
    # differences taken there raised "Input x contains NaN/infinity" instead. Ours ends at a
    # point where f is finite and its difference gradient is not (status 3).
    scipy_method = {"lbfgs": "L-BFGS-B", "bfgs": "BFGS", "cg": "CG", "gd": "BFGS"}[method]
    with np.errstate(invalid="ignore", over="ignore"):
        theirs = optimize.minimize(fun, np.ones(2), method=scipy_method)
        ours = minimize(fun, np.ones(2), method=method, max_iter=200)
    assert not theirs.success
    assert not ours.success
    if method == "cg" and theirs.status == 2:
        # CG takes scipy's path: on -||x||^2 its search, as scipy's, stops first (status 2,
        # precision loss) at a finite point beyond 1e100
        assert ours.status == 2 and np.all(np.abs(ours.x) > 1e100)
    else:
        assert ours.status == 3
    assert np.isfinite(ours.fun) and np.all(np.isfinite(ours.x))
    assert ours.fun < fun(np.ones(2))


@pytest.mark.parametrize("method", ["lbfgs", "bfgs", "cg", "gd", "newton"])
@pytest.mark.parametrize("x0", [np.float64(-1.5), -1.5, 2, np.array(0.5)])
def test_scalar_x0_is_a_point_of_shape_1_as_scipy(method, x0):
    # scipy.optimize.minimize reads a 0-d x0 as shape (1,) (fun sees (1,), x comes back (1,));
    # it was refused ("x0 must be 1-D")
    def f(x):
        assert x.shape == (1,)
        return float((x[0] - 0.3) ** 4 / 4 + (x[0] - 0.3) ** 2)

    def g(x):
        return np.array([(x[0] - 0.3) ** 3 + 2 * (x[0] - 0.3)])

    def h(x):
        return np.array([[3 * (x[0] - 0.3) ** 2 + 2]])

    ref = optimize.minimize(f, x0, jac=g, method="BFGS", options={"gtol": 1e-8})
    ours = minimize(f, x0, g, hess=h if method == "newton" else None, method=method, tol=1e-8)
    assert ours.success and ref.success
    assert ours.x.shape == ref.x.shape == (1,)
    np.testing.assert_allclose(ours.x, ref.x, rtol=0, atol=2e-8)
    np.testing.assert_allclose(ours.fun, ref.fun, rtol=0, atol=1e-15)


@pytest.mark.parametrize("x0", [[-1.2, 1.0], [2.0, 2.0, -1.0, 0.5, 3.0]])
def test_lbfgs_more_thuente_follows_scipy_lbfgsb(x0):
    """line_search='more-thuente' (with L-BFGS-B's ftol=1e-3 as c1) takes scipy's L-BFGS-B
    path on an unconstrained problem: the same iterates, iteration and evaluation counts."""
    path = [np.asarray(x0, float)]
    ref = optimize.minimize(
        optimize.rosen,
        x0,
        jac=optimize.rosen_der,
        method="L-BFGS-B",
        callback=lambda xk: path.append(xk.copy()),
        options={"gtol": 1e-8, "ftol": 0.0, "maxiter": 1000},
    )
    ours = minimize(
        optimize.rosen,
        x0,
        jac=optimize.rosen_der,
        tol=1e-8,
        line_search="more-thuente",
        c1=1e-3,
        return_path=True,
    )
    assert (ours.nit, ours.nfev) == (ref.nit, ref.nfev)
    assert_allclose(ours.path, np.array(path), rtol=0, atol=1e-9)
    assert_allclose(ours.x, ref.x, rtol=0, atol=1e-12)


def test_lbfgs_ftol_stops_as_scipy_lbfgsb():
    """ftol ends the run on a relative reduction of f, as scipy's L-BFGS-B (converged)."""
    x0 = [-1.2, 1.0]
    ref = optimize.minimize(
        optimize.rosen,
        x0,
        jac=optimize.rosen_der,
        method="L-BFGS-B",
        options={"gtol": 1e-12, "ftol": 1e-6},
    )
    ours = minimize(
        optimize.rosen,
        x0,
        jac=optimize.rosen_der,
        tol=1e-12,
        line_search="more-thuente",
        c1=1e-3,
        ftol=1e-6,
    )
    assert "RELATIVE REDUCTION OF F" in ref.message and ref.success
    assert ours.success and ours.message == "relative reduction of f is below ftol"
    assert ours.nit == ref.nit
    assert_allclose(ours.x, ref.x, rtol=0, atol=1e-9)


def _ill_quadratic(n=6, cond=1e3, seed=0):
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    A = Q @ np.diag(np.logspace(0, np.log10(cond), n)) @ Q.T
    return A, rng.normal(size=n)


@pytest.mark.parametrize("method", ["bfgs", "lbfgs", "cg", "newton"])
def test_objective_that_edits_its_argument_does_not_move_the_iterate(method):
    """scipy hands fun a copy of x: an objective clipping or zeroing its argument in place
    still reaches the minimizer. Ours passed the iterate itself, which fun set to 0 (status 2,
    error 0.56)."""
    A, b = _ill_quadratic(cond=10.0)
    expected = np.linalg.solve(A, b)  # closed form

    def fun(x):
        value = 0.5 * x @ A @ x - b @ x
        x[:] = 0.0
        return value

    def jac(x):
        g = A @ x - b
        x[:] = 0.0
        return g

    hess = (lambda x: A) if method == "newton" else None
    ref = optimize.minimize(fun, np.ones(6), jac=jac, method="BFGS", options={"gtol": 1e-6})
    ours = minimize(fun, np.ones(6), jac, hess, method=method, tol=1e-6)
    assert ref.success and ours.success, ours.message
    assert_allclose(ref.x, expected, rtol=0, atol=1e-6)
    assert_allclose(ours.x, expected, rtol=0, atol=1e-6)


@pytest.mark.parametrize("jac_true", [False, True])
@pytest.mark.parametrize("method", ["bfgs", "lbfgs"])
def test_gradient_returned_in_a_reused_buffer(method, jac_true):
    """A jac writing into one preallocated array overwrote the kept gradient, so
    y = g_new - g_old was 0 and the quasi-Newton matrix never updated: BFGS became gradient
    descent and ran out of 200 iterations on a condition-1e3 quadratic that scipy's BFGS (with
    a fresh array per call) solves in 20."""
    A, b = _ill_quadratic()
    expected = np.linalg.solve(A, b)
    buf = np.empty(6)

    def fun(x):
        return 0.5 * x @ A @ x - b @ x

    def jac(x):
        np.dot(A, x, out=buf)
        buf[:] -= b
        return buf

    ref = optimize.minimize(fun, np.zeros(6), jac=lambda x: A @ x - b, method="BFGS", tol=1e-7)
    assert ref.success and ref.nit < 50
    if jac_true:
        ours = minimize(
            lambda x: (fun(x), jac(x)), np.zeros(6), True, method=method, tol=1e-5, max_iter=200
        )
    else:
        ours = minimize(fun, np.zeros(6), jac, method=method, tol=1e-5, max_iter=200)
    assert ours.success, ours.message
    assert_allclose(ours.x, expected, rtol=0, atol=1e-5)
    assert_allclose(ours.jac, A @ ours.x - b, rtol=0, atol=1e-12)


@pytest.mark.parametrize("method", ["gd", "newton", "bfgs", "lbfgs", "cg"])
def test_max_iter_zero_returns_the_start_as_scipy(method):
    """max_iter=0 was refused ('max_iter must be >= 1'); scipy's BFGS and CG (maxiter=0)
    evaluate x0 and return it unmoved with status 1, success False."""
    x0 = np.array([-1.2, 1.0])
    for ref_method in ("BFGS", "CG"):
        ref = optimize.minimize(
            optimize.rosen, x0, jac=optimize.rosen_der, method=ref_method, options={"maxiter": 0}
        )
        hess = optimize.rosen_hess if method == "newton" else None
        ours = minimize(optimize.rosen, x0, optimize.rosen_der, hess, method=method, max_iter=0)
        assert (ours.nit, ours.status, ours.success) == (ref.nit, ref.status, ref.success)
        assert (ours.nfev, ours.njev, ours.nhev) == (1, 1, 0)
        assert_allclose(ours.x, ref.x, rtol=0, atol=0)
        assert ours.fun == ref.fun
        assert_allclose(ours.jac, ref.jac, rtol=0, atol=0)


@pytest.mark.parametrize("method", ["gd", "bfgs", "lbfgs", "cg"])
def test_step_to_a_point_with_non_finite_gradient_stops_there(method):
    """f = sum sqrt|x - 1| is finite at its minimizer x = 1, where the gradient is infinite. A
    step landing there was followed by a NaN direction: 31 more calls of fun at NaN points and
    status 2, 'rounding limits further progress'. The run now stops at once (status 3, scipy's
    number for a NaN result); like scipy it reports no success, and fun never sees NaN."""
    seen = []

    def fun(x):
        seen.append(np.all(np.isfinite(x)))
        return float(np.sum(np.sqrt(np.abs(x - 1.0))))

    def jac(x):
        with np.errstate(divide="ignore"):
            return 0.5 * np.sign(x - 1.0) / np.sqrt(np.abs(x - 1.0))

    ref = optimize.minimize(fun, np.zeros(2), jac=jac, method="BFGS")
    assert not ref.success
    seen.clear()
    ours = minimize(fun, np.zeros(2), jac, method=method)
    assert all(seen)
    assert (ours.status, ours.success) == (3, False)
    assert ours.message == "the gradient at x is NaN or infinite"
    assert ours.fun == fun(ours.x) < fun(np.zeros(2))


@pytest.mark.parametrize("method", ["gd", "newton", "bfgs", "lbfgs", "cg"])
def test_callback_with_intermediate_result_as_scipy(method):
    """scipy calls a callback whose only parameter is named intermediate_result with an
    OptimizeResult (x, fun) of the iterate; ours passed the bare x, so scipy-style callbacks
    failed with "'numpy.ndarray' object has no attribute 'fun'"."""

    def record(into):
        def callback(intermediate_result):
            into.append((intermediate_result.x.copy(), intermediate_result.fun))

        return callback

    ref_calls, ours_calls, stops = [], [], []
    x0 = np.array([-1.2, 1.0])
    ref = optimize.minimize(
        optimize.rosen, x0, jac=optimize.rosen_der, method="BFGS", callback=record(ref_calls)
    )
    hess = optimize.rosen_hess if method == "newton" else None
    ours = minimize(
        optimize.rosen, x0, optimize.rosen_der, hess, method=method, callback=record(ours_calls)
    )
    for calls, res in ((ref_calls, ref), (ours_calls, ours)):
        assert len(calls) == res.nit
        for x, f in calls:
            assert f == optimize.rosen(x)
        assert_allclose(calls[-1][0], res.x, rtol=0, atol=0)

    def stop(intermediate_result):
        stops.append(intermediate_result.nit)
        if intermediate_result.fun < 1.0:
            raise StopIteration

    res = minimize(optimize.rosen, x0, optimize.rosen_der, hess, method=method, callback=stop)
    assert res.status == 99 and res.fun < 1.0 and stops == list(range(1, res.nit + 1))
