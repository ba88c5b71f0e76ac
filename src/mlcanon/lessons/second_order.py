"""Lessons on the gradient, Newton and quasi-Newton methods, methods beyond gradient descent and
computing a square root by optimization."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np

from mlcanon import optim as O
from mlcanon.lessons import Context, lesson

# --- test problems ---------------------------------------------------------------------------


def _rosen(x: np.ndarray) -> float:
    """Chained Rosenbrock: sum 100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2, minimum 0 at (1, ..., 1)."""
    return float(np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2))


def _rosen_grad(x: np.ndarray) -> np.ndarray:
    t = x[1:] - x[:-1] ** 2
    g = np.zeros_like(x)
    g[:-1] = -400.0 * x[:-1] * t - 2.0 * (1.0 - x[:-1])
    g[1:] += 200.0 * t
    return g


def _rosen_hess(x: np.ndarray) -> np.ndarray:
    n = x.size
    H = np.zeros((n, n))
    i = np.arange(n - 1)
    H[i, i] = 1200.0 * x[:-1] ** 2 - 400.0 * x[1:] + 2.0
    H[i + 1, i + 1] += 200.0
    H[i, i + 1] = H[i + 1, i] = -400.0 * x[:-1]
    return H


def _logistic(lam: float = 1e-2) -> SimpleNamespace:
    """Mean log-loss + lam/2 ||w||^2 of a logistic regression on standardized breast-cancer data
    (last weight: the unpenalized intercept)."""
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True)
    X = np.hstack([(X - X.mean(0)) / X.std(0), np.ones((X.shape[0], 1))])
    n, pen = X.shape[0], np.r_[np.ones(X.shape[1] - 1), 0.0]

    def f(w):
        z = X @ w
        return float(np.mean(np.logaddexp(0.0, z) - y * z) + 0.5 * lam * np.sum(pen * w**2))

    def g(w):
        return X.T @ (1.0 / (1.0 + np.exp(-(X @ w))) - y) / n + lam * pen * w

    def h(w):
        p = 1.0 / (1.0 + np.exp(-(X @ w)))
        return (X.T * (p * (1.0 - p))) @ X / n + lam * np.diag(pen)

    return SimpleNamespace(f=f, g=g, h=h, w0=np.zeros(X.shape[1]), X=X, y=y, lam=lam)


def _counting(f):
    """Wrap ``f`` to record every value it returns (for curves against evaluations)."""
    seen: list[float] = []

    def wrapped(x):
        v = f(x)
        seen.append(v)
        return v

    return wrapped, seen


# --- the gradient ------------------------------------------------------------------------------


@lesson("gradient")
def gradient_lesson(ctx: Context) -> None:
    from scipy import optimize as so

    def f(z):
        return float(z[0] ** 2 + 3.0 * z[1] ** 2 + np.sin(z[0] * z[1]))

    def grad(z):
        return np.array(
            [2 * z[0] + z[1] * np.cos(z[0] * z[1]), 6 * z[1] + z[0] * np.cos(z[0] * z[1])]
        )

    x = np.array([1.0, 0.5])
    ctx.say("""
        The gradient answers "in which direction does f rise fastest, and how fast?". Along a
        unit direction u the rate of change is the directional derivative
        D_u f(x) = lim (f(x + h u) - f(x)) / h, and for a differentiable f it equals
        grad f(x) . u = |grad f(x)| cos(angle between u and the gradient). It is therefore
        largest, equal to |grad f(x)|, when u points along the gradient, zero along the level
        set (perpendicular to it) and most negative along -grad f(x): the steepest-descent
        direction that gradient descent follows.

        Below we measure this without using the gradient: for 720 directions on the unit
        circle around x = (1, 0.5), f(x) = x1^2 + 3 x2^2 + sin(x1 x2), we estimate D_u f by a
        central difference along u, find where it peaks, and compare with the analytic
        gradient.
        """)
    theta = np.linspace(0.0, 2 * np.pi, 720, endpoint=False)
    h = 1e-5
    D = np.array(
        [
            (f(x + h * u) - f(x - h * u)) / (2 * h)
            for u in np.column_stack([np.cos(theta), np.sin(theta)])
        ]
    )
    g = grad(x)
    best = int(np.argmax(D))
    step = theta[1] - theta[0]
    ctx.table(
        "directional derivatives around x = (1, 0.5)",
        ["direction", "angle (deg)", "D_u f (measured)", "grad . u"],
        [
            [
                "along the gradient (measured peak)",
                np.degrees(theta[best]),
                D[best],
                float(np.linalg.norm(g) * np.cos(theta[best] - np.arctan2(g[1], g[0]))),
            ],
            ["+x axis", 0.0, D[0], float(g[0])],
            ["+y axis", 90.0, D[180], float(g[1])],
            [
                "opposite the peak",
                np.degrees(theta[(best + 360) % 720]),
                D[(best + 360) % 720],
                -float(np.linalg.norm(g) * np.cos(theta[best] - np.arctan2(g[1], g[0]))),
            ],
        ],
    )
    gap = abs((theta[best] - np.arctan2(g[1], g[0]) + np.pi) % (2 * np.pi) - np.pi)
    ctx.check(
        "angle of the steepest direction vs angle of the gradient (rad)",
        gap,
        0.0,
        atol=step / 2,
        ref="analytic gradient",
    )
    ctx.check(
        "largest directional derivative = |grad f|",
        D.max(),
        np.linalg.norm(g),
        rtol=1e-5,
        ref="analytic gradient",
    )
    along = np.cos(theta) * g[0] + np.sin(theta) * g[1]
    ctx.check(
        "D_u f = grad f . u for all 720 directions", D, along, atol=1e-9, ref="analytic gradient"
    )

    ctx.say("""
        The same idea gives the standard gradient check. Central differences
        (f(x + h e_i) - f(x - h e_i)) / 2h have error O(h^2) + O(eps/h), smallest near
        h = eps^(1/3); forward differences err by O(h) + O(eps/h), smallest near h = eps^(1/2).
        Below: our approx_gradient against the analytic gradient of a logistic-regression loss
        on breast-cancer data (31 weights), and our forward differences against
        scipy.optimize.approx_fprime, which uses the same formula.
        """)
    lg = _logistic()
    w = np.random.default_rng(0).normal(size=lg.w0.size) * 0.3
    exact = lg.g(w)
    central = O.approx_gradient(lg.f, w)
    forward = O.approx_gradient(lg.f, w, np.sqrt(np.finfo(float).eps), method="forward")
    ctx.check(
        "central differences vs analytic gradient (logistic loss)",
        central,
        exact,
        atol=1e-9,
        ref="analytic gradient X^T (p - y) / n + lam w, written out",
    )
    ctx.check(
        "forward differences vs scipy.optimize.approx_fprime",
        forward,
        lambda: so.approx_fprime(w, lg.f),
        rtol=1e-12,
        ref="scipy.optimize",
    )
    ctx.table(
        "finite-difference error on the logistic loss",
        ["formula", "step", "max |error|"],
        [
            ["central", "eps^(1/3) max(1,|w_i|)", float(np.abs(central - exact).max())],
            ["forward", "eps^(1/2)", float(np.abs(forward - exact).max())],
        ],
    )
    with ctx.figure("directional-derivatives", figsize=(10, 4)) as fig:
        ax1, ax2 = fig.subplots(1, 2)
        gx, gy = np.meshgrid(np.linspace(-0.5, 2.5, 200), np.linspace(-1.0, 2.0, 200))
        ax1.contour(gx, gy, gx**2 + 3 * gy**2 + np.sin(gx * gy), levels=20, cmap="viridis")
        sc = ax1.scatter(
            x[0] + 0.4 * np.cos(theta), x[1] + 0.4 * np.sin(theta), c=D, s=6, cmap="coolwarm"
        )
        ax1.annotate(
            "", x + 0.4 * g / np.linalg.norm(g), x, arrowprops={"arrowstyle": "->", "lw": 2}
        )
        ax1.set(aspect="equal", title="D_u f on a circle of directions; arrow: gradient")
        fig.colorbar(sc, ax=ax1)
        ax2.plot(np.degrees(theta), D, label="measured D_u f")
        ax2.axvline(
            np.degrees(np.arctan2(g[1], g[0]) % (2 * np.pi)),
            color="k",
            ls="--",
            label="angle of grad f",
        )
        ax2.set(xlabel="direction angle (deg)", ylabel="D_u f", title="peak = |grad f|")
        ax2.legend()


# --- Newton and quasi-Newton -------------------------------------------------------------------


def _errors(path: np.ndarray, x_star: np.ndarray) -> np.ndarray:
    return np.linalg.norm(path - x_star, axis=1)


@lesson("newton-quasi-newton")
def newton_quasi_newton_lesson(ctx: Context) -> None:
    from scipy import optimize as so

    ctx.say("""
        Gradient descent only sees the slope. Newton's method also uses the curvature: it
        minimizes the quadratic model f(x_k) + g_k^T p + 1/2 p^T H_k p and steps to
        p_k = -H_k^{-1} g_k. Near a minimum with a positive definite Hessian it converges
        quadratically (the number of correct digits doubles per step), but each step needs
        the n x n Hessian and an O(n^3) solve, and where H_k is not positive definite p_k
        may point uphill; we then add tau I to H_k until a Cholesky factorization succeeds.

        Quasi-Newton methods learn the curvature from the gradients they already compute.
        After a step s_k = x_{k+1} - x_k the gradient changed by y_k = g_{k+1} - g_k, and
        any good inverse-Hessian model should satisfy the secant equation H_{k+1} y_k = s_k.
        BFGS picks the H_{k+1} closest to H_k with that property: H_{k+1} = (I - rho s y^T) H_k
        (I - rho y s^T) + rho s s^T, rho = 1 / y^T s, an O(n^2) update. L-BFGS keeps only the
        last m pairs (s, y) and applies H_k to a vector with a two-loop recursion in O(mn).

        The notes say the approximation "is always positive definite, so the search always
        goes downhill". That holds only while y_k^T s_k > 0, and it is the line search that
        guarantees it: a step meeting the Wolfe curvature condition
        |g_{k+1}^T p_k| <= c2 |g_k^T p_k| has y_k^T s_k >= (1 - c2) |g_k^T s_k| > 0.
        """)
    x0, x_star = np.array([-1.2, 1.0]), np.ones(2)
    runs = {
        m: O.minimize(
            _rosen,
            x0,
            _rosen_grad,
            _rosen_hess if m == "newton" else None,
            method=m,
            tol=1e-8,
            max_iter=100_000,
            return_path=True,
        )
        for m in ("gd", "newton", "bfgs", "lbfgs")
    }
    opts = {"gtol": 1e-8, "maxiter": 100_000}
    refs = {
        "newton": (
            "trust-exact",
            so.minimize(
                _rosen, x0, jac=_rosen_grad, hess=_rosen_hess, method="trust-exact", options=opts
            ),
        ),
        "bfgs": ("BFGS", so.minimize(_rosen, x0, jac=_rosen_grad, method="BFGS", options=opts)),
        "lbfgs": (
            "L-BFGS-B",
            so.minimize(
                _rosen, x0, jac=_rosen_grad, method="L-BFGS-B", options={**opts, "ftol": 0.0}
            ),
        ),
    }
    rows = []
    for m, r in runs.items():
        ref = refs.get(m)
        rows.append(
            [
                m,
                r.nit,
                r.nfev,
                r.nhev,
                float(np.linalg.norm(r.x - x_star)),
                ref[0] if ref else "—",
                ref[1].nit if ref else "—",
                ref[1].nfev if ref else "—",
            ]
        )
    ctx.table(
        "2-D Rosenbrock from (-1.2, 1), stop at max|g_i| <= 1e-8",
        [
            "ours",
            "iterations",
            "f evals",
            "Hessians",
            "|x - x*|",
            "scipy method",
            "scipy iterations",
            "scipy f evals",
        ],
        rows,
    )
    for m, (name, ref) in refs.items():
        ctx.check(
            f"{m}: minimizer vs scipy {name}",
            runs[m].x,
            ref.x,
            atol=1e-7,
            ref="scipy.optimize.minimize",
        )
    nit = {m: r.nit for m, r in runs.items()}
    ctx.claim(
        "Newton < BFGS, L-BFGS << gradient descent in iterations",
        nit["newton"] < nit["bfgs"] and max(nit["bfgs"], nit["lbfgs"]) * 20 < nit["gd"],
        f"iterations: {nit}",
    )
    _rates(ctx, runs, x_star)
    _curvature_pairs(ctx, runs["bfgs"].path)
    _rosen_100(ctx, so)
    with ctx.figure("convergence", figsize=(11, 4.2)) as fig:
        ax1, ax2 = fig.subplots(1, 2)
        gx, gy = np.meshgrid(np.linspace(-1.6, 1.6, 300), np.linspace(-0.6, 1.6, 300))
        ax1.contour(
            gx,
            gy,
            100 * (gy - gx**2) ** 2 + (1 - gx) ** 2,
            levels=np.geomspace(0.05, 400, 14),
            cmap="Greys",
        )
        for m, r in runs.items():
            ax1.plot(r.path[:, 0], r.path[:, 1], ".-", ms=3, lw=1, label=f"{m} ({r.nit} it.)")
            ax2.loglog(np.arange(1, r.nit + 2), _errors(r.path, x_star) + 1e-17, label=m)
        ax1.set(title="paths on Rosenbrock's valley", xlabel="x1", ylabel="x2")
        ax1.legend(fontsize=8)
        ax2.set(xlabel="iteration + 1", ylabel="|x_k - x*|", title="convergence")
        ax2.legend(fontsize=8)


def _rates(ctx: Context, runs: dict, x_star: np.ndarray) -> None:
    """Order of convergence read off the last iterates: e_{k+1} / e_k and e_{k+1} / e_k^2."""
    rows, tail = [], {}
    for m, r in runs.items():
        e = _errors(r.path, x_star)
        e = e[e > 1e-12]  # below this, rounding of x decides
        tail[m] = (e[-3:] / e[-4:-1]) if e.size >= 4 else np.array([np.nan])
        quad = e[-3:] / e[-4:-1] ** 2 if e.size >= 4 else np.array([np.nan])
        rows.append([m, *[float(v) for v in tail[m]], float(quad.max())])
    ctx.table(
        "last error ratios e_{k+1}/e_k (-> 0: superlinear; -> c < 1: linear)",
        ["method", "ratio 1", "ratio 2", "ratio 3", "max e_{k+1}/e_k^2"],
        rows,
    )
    ctx.claim(
        "gradient descent converges linearly (error ratio stays near a constant)",
        bool(np.all(tail["gd"] > 0.5)),
        f"last ratios {np.round(tail['gd'], 3)}",
    )
    ctx.claim(
        "BFGS and Newton converge superlinearly (last error ratio < 0.1)",
        bool(tail["bfgs"][-1] < 0.1 and tail["newton"][-1] < 0.1),
        f"BFGS {np.round(tail['bfgs'], 4)}, Newton {np.round(tail['newton'], 6)}",
    )


def _curvature_pairs(ctx: Context, path: np.ndarray) -> None:
    s = np.diff(path, axis=0)
    y = np.diff(np.array([_rosen_grad(p) for p in path]), axis=0)
    ys = np.einsum("ij,ij->i", s, y)
    ctx.claim(
        "every accepted BFGS step had y^T s > 0, so H_k stayed positive definite",
        bool(np.all(ys > 0)),
        f"{ys.size} steps, min y^T s = {ys.min():.3g}",
    )


def _scipy_minimize(so, ours: str, method: str, f, x0: np.ndarray, grad, hess):
    """scipy's ``method``, the reference for our method ``ours``: stopped at max |g_i| <= 1e-8
    (up to 100 000 iterations); for L-BFGS-B, its stop on a small relative change of f is off."""
    opts = {"gtol": 1e-8, "maxiter": 100_000, **({"ftol": 0.0} if ours == "lbfgs" else {})}
    return so.minimize(f, x0, jac=grad, hess=hess, method=method, options=opts)


def _rosen_100(ctx: Context, so) -> None:
    from threadpoolctl import threadpool_limits

    # 100 x 100 matrices are too small for BLAS threads; on a busy machine competing threads
    # made scipy's BFGS and trust-exact here 5-10x slower
    with threadpool_limits(limits=1, user_api="blas"):
        _rosen_100_runs(ctx, so)


def _rosen_100_runs(ctx: Context, so) -> None:
    x0 = np.tile([-1.2, 1.0], 50)
    rows = []
    for m, ref_m in (
        ("newton", "trust-exact"),
        ("bfgs", "BFGS"),
        ("lbfgs", "L-BFGS-B"),
        ("cg", "CG"),
    ):
        hess = _rosen_hess if m == "newton" else None
        r = O.minimize(_rosen, x0, _rosen_grad, hess, method=m, tol=1e-8)
        ref = _scipy_minimize(so, m, ref_m, _rosen, x0, _rosen_grad, hess)
        ctx.check(
            f"100-D Rosenbrock, {m}: minimizer vs scipy {ref_m}",
            r.x,
            ref.x,
            atol=1e-7,
            ref="scipy.optimize.minimize",
        )
        rows.append([m, r.nit, r.nfev, ref_m, ref.nit, ref.nfev, float(r.x[0])])
    ctx.table(
        "100-D Rosenbrock from (-1.2, 1, -1.2, 1, ...)",
        [
            "ours",
            "iterations",
            "f evals",
            "scipy",
            "scipy iterations",
            "scipy f evals",
            "x[0] at the end",
        ],
        rows,
    )
    ends = {r[0]: r[-1] for r in rows}
    ctx.claim(
        "in 100 dimensions Newton ends near x[0] = -1, the quasi-Newton methods and CG at 1",
        abs(ends["newton"] + 1) < 0.02
        and all(abs(ends[m] - 1) < 1e-6 for m in ("bfgs", "lbfgs", "cg")),
        ", ".join(f"{m}: {x:.6f}" for m, x in ends.items()),
    )
    ctx.say(f"""
        In 100 dimensions Newton's method (and scipy's exact-Hessian trust region) stop at x[0] =
        {ends["newton"]:.3f}: chained Rosenbrock has a second local minimizer near (-1, 1, ..., 1)
        for n >= 4, and a method that follows the local curvature closely can land there.
        """)


# --- beyond gradient descent -------------------------------------------------------------------

#: (ours, scipy's counterpart, memory kept between iterations, cost of a direction)
_FAMILIES = [
    ("gd", None, "x, g", "O(n)"),
    ("cg", "CG", "x, g, p", "O(n)"),
    ("lbfgs", "L-BFGS-B", "m pairs (s, y)", "O(mn)"),
    ("bfgs", "BFGS", "n x n matrix H", "O(n^2)"),
    ("newton", "trust-exact", "n x n Hessian", "O(n^3) + Hessian"),
]


@lesson("beyond-gd")
def beyond_gd_lesson(ctx: Context) -> None:
    from scipy import optimize as so

    ctx.say("""
        Gradient descent is the simplest member of a family: every method below moves
        x_{k+1} = x_k + alpha_k p_k with a step alpha_k from the same strong-Wolfe line search,
        and they differ only in the direction p_k and in what they remember.

        Conjugate gradient: p_k = -g_k + beta_k p_{k-1} (Polak-Ribiere+: beta = max(0,
        g_k^T (g_k - g_{k-1}) / |g_{k-1}|^2)); three vectors of memory, and on a quadratic it
        makes each new direction conjugate to the old ones, so it finishes in n steps.
        L-BFGS and BFGS: p_k = -H_k g_k with H_k an inverse-Hessian estimate built from
        gradient differences. Newton: p_k = -(Hessian)^{-1} g_k, exact curvature at O(n^3)
        per step.

        All of them minimize the same problem here: an L2-regularized logistic regression on
        the standardized breast-cancer data (569 samples, 30 features + intercept), started at
        w = 0 and stopped when max |g_i| <= 1e-8. Each is checked against the matching
        scipy.optimize method.
        """)
    lg = _logistic()
    rows, curves, ours_x, ref_nit = [], {}, {}, {}
    for name, ref_name, memory, cost in _FAMILIES:
        fun, seen = _counting(lg.f)
        r = O.minimize(
            fun,
            lg.w0,
            lg.g,
            lg.h if name == "newton" else None,
            method=name,
            tol=1e-8,
            max_iter=100_000,
        )
        curves[name], ours_x[name] = np.minimum.accumulate(seen), r.x
        ref = None
        if ref_name is not None:
            hess = lg.h if name == "newton" else None
            ref = _scipy_minimize(so, name, ref_name, lg.f, lg.w0, lg.g, hess)
            ref_nit[ref_name] = ref.nit
            # strongly convex (Hessian >= lam I on the weights): |w - w*| <= |g| / mu, mu ~ 1e-2
            ctx.check(
                f"{name}: weights vs scipy {ref_name}",
                r.x,
                ref.x,
                atol=1e-5,
                ref="scipy.optimize.minimize",
            )
        theirs = [ref_name, ref.nit, ref.nfev] if ref else ["—", "—", "—"]
        rows.append([name, memory, cost, r.nit, r.nfev, r.nhev, r.fun, *theirs])
    ctx.table(
        "one problem, five directions (ours beside scipy's)",
        [
            "method",
            "memory",
            "direction cost",
            "iterations",
            "f evals",
            "Hessians",
            "final loss",
            "scipy",
            "scipy iterations",
            "scipy f evals",
        ],
        rows,
    )
    from sklearn.linear_model import LogisticRegression

    n = lg.X.shape[0]
    clf = LogisticRegression(C=1.0 / (n * lg.lam), tol=1e-12, max_iter=10_000)
    clf.fit(lg.X[:, :-1], lg.y)
    ctx.check(
        "L-BFGS weights vs sklearn LogisticRegression (same objective, C = 1 / (n lam))",
        ours_x["lbfgs"],
        np.r_[clf.coef_.ravel(), clf.intercept_],
        atol=1e-5,
        ref="sklearn.linear_model",
    )
    nit = {row[0]: row[3] for row in rows}
    ctx.claim(
        "Newton needs the fewest iterations, and every method needs fewer than GD",
        nit["newton"] == min(nit.values()) and max(nit[m] for m in nit if m != "gd") < nit["gd"],
        f"iterations: {nit}",
    )
    ctx.claim(
        "L-BFGS needs fewer iterations than full BFGS here, in ours and scipy's alike",
        nit["lbfgs"] < nit["bfgs"] and ref_nit["L-BFGS-B"] < ref_nit["BFGS"],
        f"ours {nit['lbfgs']} vs {nit['bfgs']}, scipy {ref_nit['L-BFGS-B']} vs {ref_nit['BFGS']}",
    )
    nfev = {row[0]: row[4] for row in rows}
    d = lg.X.shape[1]
    ctx.say(f"""
        Two things the table shows that the slogans hide. Iterations are not cost: CG took
        {nit["cg"]} iterations but {nfev["cg"]} function evaluations in its line searches, and
        Newton's {nit["newton"]} iterations each build and factor a {d} x {d} Hessian.
        And more memory is not always better: L-BFGS rescales its starting matrix
        H_0 = gamma_k I at every step with the
        latest curvature (gamma_k = s^T y / y^T y), while BFGS still carries the poor guesses
        of its first steps in H_k; on this problem the 10-pair method needs fewer iterations, and
        scipy's BFGS and L-BFGS-B show the same gap.
        """)
    with ctx.figure("loss-vs-evaluations", figsize=(6.4, 4.2)) as fig:
        ax = fig.subplots()
        f_star = min(c[-1] for c in curves.values())
        for name, c in curves.items():
            ax.semilogy(np.arange(1, c.size + 1), c - f_star + 1e-16, label=name)
        ax.set(
            xscale="log",
            xlabel="function evaluations",
            ylabel="loss - best loss",
            title="logistic regression on breast cancer",
        )
        ax.legend()
    _coordinate_descent_section(ctx, lg)


def _coordinate_descent_section(ctx: Context, lg: SimpleNamespace) -> None:
    from sklearn.linear_model import Ridge as SkRidge

    from mlcanon.linear_model import ElasticNet

    X, y = lg.X[:, :-1], lg.y.astype(float)  # the standardized features, 0/1 labels
    n, lam = X.shape[0], lg.lam
    ctx.say("""
        Coordinate descent changes one coordinate at a time and minimizes exactly along it,
        w_j <- x_j^T (r + x_j w_j) / (x_j^T x_j + n lam) with r = y - X w: no step size, no
        line search, one column of X per update. It is the method of choice when that 1-D
        problem has a closed form, as for least squares with an L2 or L1 penalty (glmnet,
        scikit-learn's Lasso; for L1 the update becomes a soft-threshold). Below it fits the
        least-squares version of the problem, (1/2n) ||y - Xw - b||^2 + lam/2 ||w||^2, on the
        same features, beside conjugate gradient, L-BFGS and gradient descent. With strongly
        correlated features it needs many sweeps: each exact 1-D step is partly undone by the
        next.
        """)
    cd = ElasticNet(alpha=lam, l1_ratio=0.0, tol=1e-12, max_iter=10_000).fit(X, y)
    ref = SkRidge(alpha=n * lam).fit(X, y)
    ctx.check(
        "coordinate descent (ElasticNet, l1_ratio=0) vs closed-form ridge",
        cd.coef_,
        ref.coef_,
        atol=1e-8,
        ref="sklearn Ridge",
    )
    Xc, yc = X - X.mean(0), y - y.mean()

    def f(w: np.ndarray) -> float:
        return 0.5 * np.mean((yc - Xc @ w) ** 2) + 0.5 * lam * w @ w

    def g(w: np.ndarray) -> np.ndarray:
        return -Xc.T @ (yc - Xc @ w) / n + lam * w

    rows = [["coordinate descent", cd.n_iter_, f"sweeps, each {X.shape[1]} exact 1-D steps"]]
    for method in ("cg", "lbfgs", "gd"):
        r = O.minimize(f, np.zeros(X.shape[1]), g, method=method, tol=1e-8, max_iter=100_000)
        # strongly convex with modulus >= lam: |w - w*| <= |g| / lam = 1e-6
        ctx.check(
            f"{method} on the same ridge problem", r.x, ref.coef_, atol=1e-5, ref="sklearn Ridge"
        )
        rows.append([method, r.nit, f"{r.nfev} function evaluations"])
    ctx.table(
        "least squares + L2 on breast cancer: coordinate descent beside gradient methods",
        ["method", "iterations", "work"],
        rows,
    )


# --- square root by optimization ---------------------------------------------------------------


@lesson("sqrt")
def sqrt_lesson(ctx: Context) -> None:
    ctx.say("""
        To compute sqrt(y), minimize L(x) = (y - x^2)^2: its minima are x = +-sqrt(y), and
        from x0 = 1 > 0 descent reaches +sqrt(y). (The notes explain why not minimize x^2: its
        minimum is 0, not sqrt(y).) By the chain rule - the same back-propagation as in a
        network with one weight - dL/dx = 2 (x^2 - y) * 2x = 4x (x^2 - y); the notes print
        4x(x^2 - 2), a typo for y.

        Three ways to solve it, each run on y = m * 4^k with m in [1/4, 1) (an exact rescaling,
        since sqrt(m 4^k) = sqrt(m) 2^k): bisection on x^2 - m (one bit per step), Newton on
        x^2 - m = 0 (x <- (x + m/x) / 2, digits double per step), and gradient descent on
        (m - x^2)^2 with the fixed step 1/8. On the fixed interval the error contracts by a
        factor q = 1 - x(x + r)/2 in (0, 3/4] per step, so 128 steps give full double
        precision for every y; the proof is in the docstring of sqrt_gradient_descent.
        """)
    rng = np.random.default_rng(0)
    special = [0.0, 5e-324, 1e-300, 0.25, 2.0, 250.0, 1e6, 1e12]
    grid = np.concatenate([special, 10 ** rng.uniform(-300, 12, 300), rng.uniform(0, 1e12, 100)])
    truth = np.array([math.sqrt(y) for y in grid])
    methods = {
        "newton": O.sqrt_newton,
        "bisection": O.sqrt_bisection,
        "gradient descent (step 1/8)": O.sqrt_gradient_descent,
    }
    rows = []
    for name, fn in methods.items():
        out = [fn(float(y), return_n_iter=True) for y in grid]
        vals, its = np.array([v for v, _ in out]), np.array([k for _, k in out])
        ctx.check(
            f"{name} vs math.sqrt on {grid.size} y in [0, 1e12]",
            vals,
            truth,
            rtol=1e-12,
            ref="math.sqrt",
        )
        rel = np.abs(vals - truth) / np.where(truth > 0, truth, 1.0)
        rows.append(
            [name, int(its[1:].min()), float(np.median(its[1:])), int(its.max()), float(rel.max())]
        )
    ctx.table(
        "iterations over the grid (y > 0) and worst relative error",
        ["method", "min", "median", "max", "max rel. error"],
        rows,
    )
    _check_chain_rule(ctx)
    _naive(ctx)


def _check_chain_rule(ctx: Context) -> None:
    def autograd():
        import torch

        x = torch.tensor(1.7, dtype=torch.float64, requires_grad=True)
        ((2.0 - x**2) ** 2).backward()
        return x.grad.item()

    ctx.check(
        "dL/dx = 4x(x^2 - y) at x = 1.7, y = 2 vs torch autograd",
        4 * 1.7 * (1.7**2 - 2),
        autograd,
        rtol=1e-14,
        ref="torch.autograd",
    )


def _naive(ctx: Context) -> None:
    ctx.say("""
        The notes' code uses a fixed step alpha = 0.001 on the unscaled loss. Near sqrt(y) the
        error is multiplied each step by 1 - 8 alpha y (L''(sqrt y) = 8y), so the step must
        satisfy alpha < 1/(4y): no fixed step serves every y in [0, 1e12]. We ran the notes'
        loop (stop when |L'(x)| <= 1e-5, at most 10000 steps) for every integer y up to 1000 and
        for y up to 1e12 on a log grid.
        """)
    ys = np.concatenate([np.arange(1.0, 1001.0), np.geomspace(1e3, 1e12, 60)])
    status = np.array([O.sqrt_gradient_descent_naive(float(y), max_iter=10_000).status for y in ys])
    conv, div = ys[status == "converged"], ys[status == "diverged"]
    first_fail, first_div = ys[status != "converged"].min(), div.min()
    ctx.table(
        "outcome of the notes' fixed step alpha = 0.001",
        ["y range (measured)", "outcome"],
        [
            [f"1 .. {conv.max():g}", "converges"],
            [f"{first_fail:g} .. {first_div - 1:g}", "oscillates, never meets the stop test"],
            [f"{first_div:g} .. 1e12", "overflows to inf within a few steps"],
        ],
    )
    ctx.claim(
        "alpha = 0.001 converges for y < 250 and fails for every y >= 250 tried",
        conv.max() < 250 <= first_fail and set(status[ys >= 250]) <= {"max_iter", "diverged"},
        f"last converging y = {conv.max():g}, first failing y = {first_fail:g}",
        ref="1 - 8 alpha y < -1 for y > 250",
    )
    ctx.claim(
        f"alpha = 0.001 overflows for all large y (every y tried from {first_div:g} up to "
        "1e12, and it starts at or below 1000)",
        bool(np.all(status[ys >= first_div] == "diverged")) and first_div <= 1000,
        f"first overflow at y = {first_div:g}; y = 1e12 -> "
        f"{O.sqrt_gradient_descent_naive(1e12).status}",
    )
    safe = [O.sqrt_gradient_descent(float(y), return_n_iter=True) for y in ys]
    worst = max(abs(x - math.sqrt(y)) / math.sqrt(y) for (x, _), y in zip(safe, ys, strict=True))
    ctx.claim(
        "the scaled fixed step 1/8 converges on the same y, within 128 steps",
        worst <= 1e-12 and max(k for _, k in safe) <= 128,
        f"max rel. error {worst:.2g}, max steps {max(k for _, k in safe)}",
    )
    with ctx.figure("naive-step", figsize=(10, 4)) as fig:
        ax1, ax2 = fig.subplots(1, 2)
        for y in (100.0, 240.0, 300.0, 600.0):
            x, xs = 1.0, [1.0]
            with np.errstate(over="ignore", invalid="ignore"):
                for _ in range(60):
                    x = float(np.float64(x) - 0.004 * np.float64(x) * (np.float64(x) ** 2 - y))
                    xs.append(x)
            ax1.plot(np.array(xs) / math.sqrt(y), ".-", ms=3, label=f"y = {y:g}")
        ax1.set(
            ylim=(-3, 3),
            xlabel="step",
            ylabel="x / sqrt(y)",
            title="notes' step alpha = 0.001 on the raw loss",
        )
        ax1.legend()
        codes = {"converged": 0, "max_iter": 1, "diverged": 2}
        ax2.semilogx(ys, [codes[s] for s in status], ".", ms=3)
        ax2.set(
            yticks=[0, 1, 2],
            yticklabels=list(codes),
            xlabel="y",
            title="outcome vs y (alpha = 0.001)",
        )
