"""Lessons on linear models: L1 vs L2 regularization, optimizing the L1 penalty, logistic
regression (binary and multiclass)."""

from __future__ import annotations

import time
import warnings
from types import SimpleNamespace

import numpy as np

from mlcanon.lessons import Context, lesson
from mlcanon.linear_model import (
    Lasso,
    LassoCV,
    LogisticRegression,
    Ridge,
    RidgeCV,
    lasso_path,
)


def _diabetes() -> SimpleNamespace:
    """Diabetes (442 x 10), standardized features and centered target (no intercept needed)."""
    from sklearn.datasets import load_diabetes

    data = load_diabetes()
    X = (data.data - data.data.mean(0)) / data.data.std(0)
    return SimpleNamespace(X=X, y=data.target - data.target.mean(), names=data.feature_names)


def _cancer(columns: slice = slice(None)) -> SimpleNamespace:
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer()
    X = (data.data - data.data.mean(0)) / data.data.std(0)
    return SimpleNamespace(X=X[:, columns], y=data.target, names=data.feature_names[columns])


# --- L1 and L2 regularization ------------------------------------------------------------------


@lesson("l1-l2")
def l1_l2_lesson(ctx: Context) -> None:
    from sklearn import linear_model as sk

    d = _diabetes()
    n = len(d.y)
    ctx.say("""
        Both penalties shrink a least-squares fit towards zero, trading a little bias for less
        variance: L2 (ridge) adds alpha ||w||_2^2, L1 (lasso) adds alpha ||w||_1. They shrink
        differently. The ridge solution (X^T X + alpha I)^{-1} X^T y scales every coefficient
        down smoothly and none reaches zero at a finite alpha. The lasso sets coefficients to
        exactly zero one after another as alpha grows: it selects features.

        Below: the diabetes data (10 standardized features), the whole lasso path by coordinate
        descent (checked point by point against scikit-learn's lasso_path) and ridge at the
        same penalty grid (checked against scikit-learn's Ridge).
        """)
    alphas, coefs, _ = lasso_path(d.X, d.y, eps=1e-3, alphas=60, tol=1e-10)
    ref = sk.lasso_path(d.X, d.y, eps=1e-3, alphas=60, tol=1e-10)
    ctx.check("lasso_path alphas", alphas, ref[0], rtol=1e-12, ref="sklearn lasso_path")
    scale = np.abs(ref[1]).max()
    ctx.check(
        "lasso_path coefficients along the whole path",
        coefs,
        ref[1],
        rtol=1e-6,
        atol=1e-6 * scale,
        ref="sklearn lasso_path",
    )
    # ridge with the same per-sample scaling: alpha_ridge = n * alpha
    ridge = np.array([Ridge(alpha=n * a, fit_intercept=False).fit(d.X, d.y).coef_ for a in alphas])
    for a in alphas[[0, 30, 59]]:
        ctx.check(
            f"Ridge coefficients at alpha={n * a:.4g}",
            Ridge(alpha=n * a, fit_intercept=False).fit(d.X, d.y).coef_,
            lambda a=a: sk.Ridge(alpha=n * a, fit_intercept=False).fit(d.X, d.y).coef_,
            rtol=1e-10,
            ref="sklearn Ridge",
        )
    nz_lasso = (coefs != 0).sum(axis=0)
    nz_ridge = (ridge != 0).sum(axis=1)
    picks = [0, 10, 20, 30, 40, 59]
    ctx.table(
        "nonzero coefficients along the path",
        ["alpha", "lasso nonzero", "ridge nonzero"],
        [[alphas[i], nz_lasso[i], nz_ridge[i]] for i in picks],
    )
    sparse_share = float(np.mean(nz_lasso < 10))
    ctx.claim(
        "most of the lasso path has exact zeros; the ridge path has none",
        bool(sparse_share > 0.5 and (nz_ridge == 10).all()),
        f"{sparse_share:.0%} of the lasso path has a zero coefficient (nonzero counts "
        f"{nz_lasso[picks].tolist()}); ridge keeps all 10 everywhere",
    )
    order = [d.names[j] for j in np.argsort([np.argmax(coefs[j] != 0) for j in range(10)])]
    ctx.say(f"""
        Order in which the lasso lets features in as alpha decreases: {", ".join(order)}.
        """)
    _constraint_picture(ctx)
    ctx.say("""
        Why does one penalty give zeros and the other not? Write the penalized problem in its
        constrained form, min ||y - Xw||^2 subject to ||w||_1 <= t (or ||w||_2 <= t). The
        solution is where the smallest level set of the loss (an ellipse) touches the feasible
        region. The L1 ball is a diamond with corners on the axes, and an ellipse coming from a
        generic direction touches it first at a corner, where a coordinate is zero. The L2 ball
        is round, with no preferred points, so the contact point has both coordinates nonzero.
        In gradient terms: near w_j = 0 the L2 penalty's pull 2 alpha w_j vanishes, the L1
        pull alpha sign(w_j) does not, so it can hold w_j at exactly zero.

        The Bayesian reading (MAP): minimizing ||y - Xw||^2 / (2 sigma^2) - log p(w) is finding
        the posterior mode. A Gaussian prior p(w) ~ exp(-||w||^2 / (2 tau^2)) gives ridge with
        alpha = sigma^2 / tau^2; a Laplace prior p(w) ~ exp(-||w||_1 / b) gives the lasso with
        alpha = 2 sigma^2 / b (both after multiplying the objective by 2 sigma^2 to get
        ||y - Xw||^2 + alpha * penalty). The Laplace density has a sharp peak at zero and
        heavier tails: it puts more mass near zero and on a few large weights than a Gaussian
        does, but, being continuous, it gives probability zero to a weight being exactly zero.
        The exact zeros come from taking the mode (MAP) of the posterior, whose kink at zero
        is the L1 corner above; a posterior mean or a sample would not be sparse.

        Why does this fight overfitting? The penalty limits how large (L2) or how many (L1) the
        weights can be, so the fit cannot chase noise with big, cancelling coefficients. The
        curve below shows it on held-out data: test error falls as alpha grows from zero, then
        rises when the penalty starts erasing signal.
        """)
    held_out = _held_out_curve(ctx)
    _choosing_alpha(ctx, held_out)
    _paths_figure(ctx, alphas, coefs, ridge, d.names)


def _paths_figure(ctx: Context, alphas, coefs, ridge, names) -> None:
    with ctx.figure("paths", figsize=(9, 3.8)) as fig:
        ax1, ax2 = fig.subplots(1, 2)
        for j in range(10):
            ax1.plot(np.log10(alphas), coefs[j], label=names[j])
            ax2.plot(np.log10(alphas), ridge[:, j])
        ax1.set(title="lasso (L1): coefficients hit zero", xlabel="log10 alpha", ylabel="w_j")
        ax2.set(title="ridge (L2): smooth shrinkage", xlabel="log10 alpha")
        ax1.invert_xaxis()
        ax2.invert_xaxis()
        ax1.legend(fontsize=6, ncol=2)


def _constraint_picture(ctx: Context) -> None:
    """Two correlated features: the lasso solution lands on a corner of the L1 ball."""
    from matplotlib.patches import Circle

    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 2)) @ np.array([[1.0, 0.6], [0.0, 0.8]])
    y = X @ np.array([1.5, 0.5]) + 0.5 * rng.standard_normal(200)
    X, y = X - X.mean(0), y - y.mean()
    w_ls = np.linalg.lstsq(X, y, rcond=None)[0]
    # alpha_max = max |X^T y| / n zeroes everything; the second feature enters somewhere below:
    # take alpha halfway (log scale) through the range where only one feature is in
    alphas, coefs, _ = lasso_path(X, y, alphas=200, eps=1e-3)
    one = np.flatnonzero((coefs != 0).sum(axis=0) == 1)
    alpha = float(np.sqrt(alphas[one[0]] * alphas[one[-1]]))
    w_l1 = Lasso(alpha=alpha, fit_intercept=False, tol=1e-12).fit(X, y).coef_
    w_l2 = Ridge(alpha=len(y) * alpha, fit_intercept=False).fit(X, y).coef_
    ctx.claim(
        "2-D example, same alpha: the lasso solution sits on an axis, ridge's does not",
        bool((w_l1 == 0).sum() == 1 and (w_l2 != 0).all()),
        f"lasso w = {np.round(w_l1, 4).tolist()}, ridge w = {np.round(w_l2, 4).tolist()}",
    )
    with ctx.figure("constraint-regions", figsize=(8, 4)) as fig:
        g = np.linspace(-0.5, 2.0, 200)
        W1, W2 = np.meshgrid(g, g)
        W = np.stack([W1.ravel(), W2.ravel()], axis=1)
        loss = ((y[:, None] - X @ W.T) ** 2).mean(axis=0).reshape(W1.shape)
        for ax, w, name in zip(fig.subplots(1, 2), (w_l1, w_l2), ("L1", "L2"), strict=True):
            level = np.mean((y - X @ w) ** 2)
            ax.contour(
                W1,
                W2,
                loss,
                levels=np.sort([level, level * 1.3, level * 1.8, level * 3]),
                colors="0.6",
                linewidths=0.8,
            )
            ax.contour(W1, W2, loss, levels=[level], colors="C1")
            t = np.abs(w).sum() if name == "L1" else np.linalg.norm(w)
            if name == "L1":
                ax.fill([t, 0, -t, 0], [0, t, 0, -t], alpha=0.3, color="C0")
            else:
                ax.add_patch(Circle((0, 0), t, alpha=0.3))
            ax.plot(*w_ls, "k+", ms=10, label="least squares")
            ax.plot(*w, "o", color="C3", label=f"{name} solution")
            ax.axhline(0, color="k", lw=0.5)
            ax.axvline(0, color="k", lw=0.5)
            ax.set(
                aspect="equal",
                xlim=(-0.5, 2),
                ylim=(-0.5, 2),
                xlabel="w1",
                ylabel="w2",
                title=f"{name} ball touches the loss ellipse",
            )
            ax.legend(fontsize=7, loc="upper right")


def _held_out_curve(ctx: Context) -> SimpleNamespace:
    from sklearn.model_selection import train_test_split

    d = _diabetes()
    rng = np.random.default_rng(1)
    X = np.hstack([d.X, rng.standard_normal((len(d.y), 40))])  # 40 pure-noise features
    X_tr, X_te, y_tr, y_te = train_test_split(X, d.y, test_size=0.5, random_state=0)
    alphas = np.geomspace(1e-3, 30, 25)
    err = {
        "lasso": [
            np.mean((Lasso(alpha=a).fit(X_tr, y_tr).predict(X_te) - y_te) ** 2) for a in alphas
        ],
        "ridge": [
            np.mean((Ridge(alpha=a * len(y_tr)).fit(X_tr, y_tr).predict(X_te) - y_te) ** 2)
            for a in alphas
        ],
    }
    best = {k: float(np.min(v)) for k, v in err.items()}
    ctx.claim(
        "with 40 noise features added, some penalty beats none on held-out data",
        all(best[k] < err[k][0] for k in err),
        f"test MSE at smallest alpha: lasso {err['lasso'][0]:.0f}, ridge "
        f"{err['ridge'][0]:.0f}; best: lasso {best['lasso']:.0f}, ridge "
        f"{best['ridge']:.0f}",
    )
    with ctx.figure("held-out-error", figsize=(6, 3.6)) as fig:
        ax = fig.subplots()
        for k, v in err.items():
            ax.semilogx(alphas, v, label=k)
        ax.set(
            xlabel="alpha (lasso scale)",
            ylabel="test MSE",
            title="diabetes + 40 noise features: held-out error",
        )
        ax.legend()
    return SimpleNamespace(
        X_tr=X_tr, X_te=X_te, y_tr=y_tr, y_te=y_te, alphas=alphas, err=err, best=best
    )


def _loo_by_refits(X: np.ndarray, y: np.ndarray, alpha: float) -> np.ndarray:
    """Squared leave-one-out errors of ridge, written out: n fits of scikit-learn's Ridge."""
    from sklearn.linear_model import Ridge as SkRidge

    errors = np.empty(len(y))
    for i in range(len(y)):
        rest = np.arange(len(y)) != i
        errors[i] = y[i] - SkRidge(alpha=alpha).fit(X[rest], y[rest]).predict(X[i : i + 1])[0]
    return errors**2


def _choosing_alpha(ctx: Context, h: SimpleNamespace) -> None:
    from sklearn import linear_model as sk

    n = len(h.y_tr)
    ctx.say(f"""
        The curve above picked alpha by looking at the test set, which a real fit cannot do.
        Cross-validation picks it from the training half alone: hold part of it out, fit on
        the rest, score the held-out part, and average over the splits. Ridge gets
        leave-one-out (n = {n} splits here) for the price of one fit. Its fitted values are
        linear in y, y_hat = H y with H = X (X^T X + alpha I)^{{-1}} X^T, and leaving sample i
        out changes its residual from e_i to e_i / (1 - H_ii). One factorization of X (here the
        eigendecomposition of X^T X, X having more rows than columns) gives H for every alpha
        of the grid. The lasso has no such shortcut (its fit is not linear in y): LassoCV
        runs the warm-started path once per fold, here 5 folds.
        """)
    grid = h.alphas * n  # ridge's scale for the lasso-scale grid of the curve above
    closed_form = np.inf
    for _ in range(3):  # best of 3: the run least disturbed by other jobs on the machine
        start = time.perf_counter()
        ridge = RidgeCV(alphas=grid, store_cv_results=True).fit(h.X_tr, h.y_tr)
        closed_form = min(closed_form, time.perf_counter() - start)
    ref = sk.RidgeCV(alphas=grid, store_cv_results=True).fit(h.X_tr, h.y_tr)
    ctx.check("RidgeCV: chosen alpha", ridge.alpha_, ref.alpha_, ref="sklearn RidgeCV")
    ctx.check(
        "RidgeCV: leave-one-out errors, every sample and alpha",
        ridge.cv_results_,
        ref.cv_results_,
        rtol=1e-8,
        ref="sklearn RidgeCV",
    )
    picks = [0, len(grid) // 2, len(grid) - 1]
    columns, per_alpha = [], np.inf
    for j in picks:  # the same n refits at each alpha: the fastest of the 3 is a best of 3
        start = time.perf_counter()
        columns.append(_loo_by_refits(h.X_tr, h.y_tr, grid[j]))
        per_alpha = min(per_alpha, time.perf_counter() - start)
    refits = np.column_stack(columns)
    ctx.check(
        "e_i / (1 - H_ii) = error of the fit without sample i (3 alphas)",
        ridge.cv_results_[:, picks],
        refits,
        rtol=1e-8,
        atol=1e-10 * refits.max(),
        ref=f"{n} refits of sklearn Ridge per alpha",
    )
    speedup = per_alpha * len(grid) / closed_form
    ctx.claim(
        "the closed form beats refitting n times by more than 10x",
        speedup > 10,
        f"{len(grid)} alphas: {closed_form * 1e3:.1f} ms in closed form against about "
        f"{per_alpha * len(grid):.1f} s for {n} refits per alpha ({speedup:.0f}x; best of 3 "
        f"closed-form fits against the fastest of the {len(picks)} alphas refitted)",
    )
    lasso = LassoCV(alphas=h.alphas, cv=5).fit(h.X_tr, h.y_tr)
    lasso_ref = sk.LassoCV(alphas=h.alphas, cv=5).fit(h.X_tr, h.y_tr)
    ctx.check("LassoCV: chosen alpha", lasso.alpha_, lasso_ref.alpha_, ref="sklearn LassoCV")
    ctx.check(
        "LassoCV: mean squared error per alpha and fold",
        lasso.mse_path_,
        lasso_ref.mse_path_,
        rtol=1e-8,
        ref="sklearn LassoCV",
    )
    test = {
        "ridge": np.mean((ridge.predict(h.X_te) - h.y_te) ** 2),
        "lasso": np.mean((lasso.predict(h.X_te) - h.y_te) ** 2),
    }
    ctx.table(
        "alpha chosen on the training half, scored on the test half",
        ["model", "alpha (lasso scale)", "test MSE", "best on the grid", "smallest alpha"],
        [
            ["ridge", ridge.alpha_ / n, test["ridge"], h.best["ridge"], h.err["ridge"][0]],
            ["lasso", lasso.alpha_, test["lasso"], h.best["lasso"], h.err["lasso"][0]],
        ],
    )
    ctx.claim(
        "the alpha chosen by cross-validation tests within 10% of the grid's best, and beats the "
        "smallest alpha",
        all(test[k] <= 1.1 * h.best[k] and test[k] < h.err[k][0] for k in test),
        ", ".join(
            f"{k}: {test[k]:.0f} against {h.best[k]:.0f} at best, {h.err[k][0]:.0f} at the "
            "smallest alpha"
            for k in test
        ),
    )


# --- optimizing the L1 penalty ----------------------------------------------------------------


def _lasso_objective(X, y, w, alpha):
    return 0.5 * np.mean((y - X @ w) ** 2) + alpha * np.abs(w).sum()


def _subgradient_descent(X, y, alpha, n_iter):
    """w <- w - eta_k g_k, g_k in the subdifferential (sign(0) taken as 0), eta_k ~ 1/sqrt(k)."""
    n = len(y)
    L = np.linalg.eigvalsh(X.T @ X / n).max()
    w, best, trace = np.zeros(X.shape[1]), np.inf, []
    for k in range(1, n_iter + 1):
        g = X.T @ (X @ w - y) / n + alpha * np.sign(w)
        w = w - g / (L * np.sqrt(k))
        best = min(best, _lasso_objective(X, y, w, alpha))
        trace.append(best)
    return w, np.array(trace)


@lesson("l1-nondifferentiable")
def l1_nondifferentiable_lesson(ctx: Context) -> None:
    from sklearn import linear_model as sk
    from sklearn.exceptions import ConvergenceWarning

    d = _diabetes()
    alpha = 1.0
    ctx.say("""
        |w| has no derivative at 0, so "set the gradient to zero" fails exactly where the
        interesting solutions (w_j = 0) live. Three ways around it:

        1. Subgradients: at 0 any g in [-1, 1] is a valid slope of |w|. Subgradient descent
        uses one of them, but the step must shrink (eta_k ~ 1/sqrt(k)) and the iterates
        oscillate around zero instead of landing on it.

        2. Coordinate descent: minimize over one w_j with the others fixed. That 1-D problem,
        (1/2n) ||r_j - x_j w_j||^2 + alpha |w_j|, has a closed-form solution, the soft-threshold
        w_j = S(x_j^T r_j / n, alpha) / (||x_j||^2 / n) with S(z, t) = sign(z) max(|z| - t, 0):
        the non-differentiability is handled exactly, and |z| <= alpha gives w_j = 0 exactly.
        Sweeping the coordinates until the duality gap is small is how glmnet and scikit-learn
        fit the lasso, and how mlcanon.linear_model.Lasso does.

        3. Proximal gradient (ISTA/FISTA): a gradient step on the smooth part, then the same
        soft-threshold on every coordinate.
        """)
    model = Lasso(alpha=alpha, fit_intercept=False, tol=1e-10).fit(d.X, d.y)
    ref = sk.Lasso(alpha=alpha, fit_intercept=False, tol=1e-10).fit(d.X, d.y)
    ctx.check(
        "coordinate-descent Lasso coefficients",
        model.coef_,
        ref.coef_,
        rtol=1e-6,
        atol=1e-9,
        ref="sklearn Lasso",
    )
    ctx.check(
        "number of sweeps (same duality-gap stopping rule)",
        model.n_iter_,
        ref.n_iter_,
        ref="sklearn Lasso",
    )
    f_star = _lasso_objective(d.X, d.y, model.coef_, alpha)
    cd_trace = []
    for sweeps in range(1, 31):
        m = Lasso(alpha=alpha, fit_intercept=False, tol=0.0, max_iter=sweeps)
        with warnings.catch_warnings():  # stopping early on purpose
            warnings.simplefilter("ignore", ConvergenceWarning)
            cd_trace.append(_lasso_objective(d.X, d.y, m.fit(d.X, d.y).coef_, alpha))
    w_sub, sub_trace = _subgradient_descent(d.X, d.y, alpha, 3000)
    from mlcanon.linear_model._proximal import fista

    def smooth(w):
        r = d.X @ w - d.y
        return 0.5 * np.mean(r**2), d.X.T @ r / len(d.y)

    w_prox, _, _ = fista(smooth, np.full(10, alpha), np.zeros(10), tol=1e-10, max_iter=5000)
    ctx.check(
        "FISTA (proximal gradient) coefficients",
        w_prox,
        ref.coef_,
        rtol=1e-6,
        atol=1e-7,
        ref="sklearn Lasso",
    )
    zeros = {
        "coordinate descent": int((model.coef_ == 0).sum()),
        "FISTA": int((w_prox == 0).sum()),
        "subgradient": int((w_sub == 0).sum()),
    }
    ctx.table(
        "after convergence (CD, FISTA) / 3000 steps (subgradient)",
        ["method", "objective - optimum", "exact zeros", "smallest |w_j|"],
        [
            [
                "coordinate descent",
                cd_trace[-1] - f_star,
                zeros["coordinate descent"],
                np.abs(model.coef_).min(),
            ],
            [
                "FISTA",
                _lasso_objective(d.X, d.y, w_prox, alpha) - f_star,
                zeros["FISTA"],
                np.abs(w_prox).min(),
            ],
            ["subgradient", sub_trace[-1] - f_star, zeros["subgradient"], np.abs(w_sub).min()],
        ],
    )
    ctx.claim(
        "subgradient descent is slower and never lands on zero; CD and FISTA do",
        zeros["subgradient"] == 0 < zeros["coordinate descent"] == zeros["FISTA"]
        and sub_trace[-1] - f_star > 1e3 * max(cd_trace[-1] - f_star, 1e-12),
        f"exact zeros {zeros}; subgradient gap after 3000 steps {sub_trace[-1] - f_star:.2e}",
    )
    with ctx.figure("convergence", figsize=(6.4, 4)) as fig:
        ax = fig.subplots()
        # one sweep of 10 coordinates and one full subgradient both cost about two passes
        ax.loglog(
            np.arange(1, 31),
            np.maximum(np.array(cd_trace) - f_star, 1e-16),
            "o-",
            label="coordinate descent (x = sweeps)",
        )
        ax.loglog(
            np.arange(1, 3001),
            np.maximum(sub_trace - f_star, 1e-16),
            label="subgradient, best so far (x = steps)",
        )
        ax.set(
            xlabel="passes over the data",
            ylabel="objective - optimum",
            title=f"lasso on diabetes, alpha = {alpha}",
        )
        ax.legend(fontsize=8)


# --- logistic regression -----------------------------------------------------------------------


def _log_loss_and_grad(X, y, w):
    """Mean log-loss of P(y=1|x) = sigmoid(x^T w) and its gradient X^T (p - y) / n."""
    z = X @ w
    p = 1.0 / (1.0 + np.exp(-z))
    return float(np.mean(np.logaddexp(0.0, z) - y * z)), X.T @ (p - y) / len(y)


@lesson("logistic-regression")
def logistic_regression_lesson(ctx: Context) -> None:
    from scipy.optimize import approx_fprime
    from sklearn import linear_model as sk

    c = _cancer()
    X1 = np.hstack([c.X, np.ones((len(c.y), 1))])  # last column: the intercept
    ctx.say("""
        Model: P(y = 1 | x) = sigma(w^T x + b) with sigma(z) = 1 / (1 + e^{-z}), i.e. the
        log-odds log(p / (1 - p)) are linear in x. Each label is a Bernoulli draw, so the
        likelihood of the data is prod_i p_i^{y_i} (1 - p_i)^{1 - y_i}. Taking minus its log
        gives the log-loss (binary cross-entropy)

        L(w) = -sum_i [y_i log p_i + (1 - y_i) log(1 - p_i)] = sum_i [log(1 + e^{z_i}) - y_i z_i].

        Since d sigma / dz = sigma (1 - sigma), the gradient is remarkably simple:
        dL/dw = X^T (p - y), the features weighted by the prediction errors, and the Hessian
        X^T diag(p (1 - p)) X is positive semi-definite, so L is convex and has no bad local
        minima. There is no closed form: it is fitted iteratively.
        """)
    w_test = np.random.default_rng(0).normal(0, 0.1, X1.shape[1])
    _, g = _log_loss_and_grad(X1, c.y, w_test)
    ctx.check(
        "gradient X^T (p - y) / n vs finite differences",
        g,
        lambda: approx_fprime(w_test, lambda w: _log_loss_and_grad(X1, c.y, w)[0], 1e-7),
        atol=1e-6,
        ref="scipy.optimize.approx_fprime",
    )
    ref = sk.LogisticRegression(C=1.0, tol=1e-10, max_iter=10_000).fit(c.X, c.y)
    rows = []
    for solver in ("gd", "newton-cholesky", "lbfgs"):
        start = time.perf_counter()
        m = LogisticRegression(C=1.0, solver=solver, tol=1e-8, max_iter=20_000).fit(c.X, c.y)
        seconds = time.perf_counter() - start
        ctx.check(
            f"{solver}: coefficients",
            m.coef_,
            ref.coef_,
            rtol=1e-4,
            atol=1e-4 * np.abs(ref.coef_).max(),
            ref="sklearn LogisticRegression",
        )
        rows.append(
            [
                solver,
                int(m.n_iter_[0]),
                f"{seconds * 1e3:.0f} ms",
                int((m.predict(c.X) == ref.predict(c.X)).all()),
            ]
        )
    ctx.table(
        "three solvers, one convex problem (tol 1e-8 on the gradient)",
        ["solver", "iterations", "time", "predictions = sklearn"],
        rows,
    )
    iters = {r[0]: r[1] for r in rows}
    ctx.claim(
        "Newton (IRLS) needs the fewest iterations, gradient descent the most",
        iters["newton-cholesky"] < iters["lbfgs"] < iters["gd"],
        f"iterations {iters}",
    )
    ctx.say(f"""
        Gradient descent follows -X^T (p - y) with a line search: cheap steps, many of them
        ({iters["gd"]} here), and slow when the problem is badly conditioned. Newton's method
        solves H Delta = -g with the Hessian H = X^T diag(p(1-p)) X + lambda I; each step is a
        weighted least-squares problem with weights p(1-p) and working response
        z + (y - p) / (p(1-p)), hence the name iteratively reweighted least squares (IRLS). It
        converges in {iters["newton-cholesky"]} steps here, each costing O(n d^2 + d^3). L-BFGS
        builds curvature from the last 10 gradient differences: {iters["lbfgs"]} iterations,
        between Newton's count and gradient descent's, at gradient-descent cost per step.
        """)
    _why_not_squared_loss(ctx)
    _l1_selects_features(ctx)


def _why_not_squared_loss(ctx: Context) -> None:
    z = np.linspace(-10, 10, 2001)
    s = 1.0 / (1.0 + np.exp(-z))
    ds = s * (1 - s)
    ctx.claim(
        "sigma'(z) = sigma (1 - sigma) <= 0.25, with the maximum at z = 0",
        bool(abs(ds.max() - 0.25) < 1e-12 and z[np.argmax(ds)] == 0.0),
        f"max sigma' = {ds.max():.6f} at z = {z[np.argmax(ds)]:.1f}",
    )
    # a confidently wrong prediction: y = 1, z = -8
    zw, p = -8.0, 1.0 / (1.0 + np.exp(8.0))
    grad_ce, grad_sq = p - 1.0, (p - 1.0) * p * (1.0 - p)
    ctx.table(
        "gradient w.r.t. z for y = 1 at z = -8 (a confident mistake)",
        ["loss", "d loss / dz", "formula"],
        [
            ["log-loss", grad_ce, "p - y"],
            ["squared error (p - y)^2 / 2", grad_sq, "(p - y) p (1 - p)"],
        ],
    )
    # convexity along z: second derivative of each loss in z, for y = 1
    sq = 0.5 * (s - 1.0) ** 2
    ce = np.logaddexp(0.0, -z)
    d2 = {k: np.diff(v, 2) / (z[1] - z[0]) ** 2 for k, v in (("sq", sq), ("ce", ce))}
    ctx.claim(
        "squared error on sigma(z) is not convex in z, the log-loss is",
        bool(d2["sq"].min() < -1e-3 and d2["ce"].min() > -1e-9),
        f"min second derivative: squared {d2['sq'].min():.4f}, log-loss {d2['ce'].min():.2e}",
    )
    ctx.say(f"""
        Why not fit p = sigma(z) by squared error? Two reasons, both visible above. The gradient
        of (p - y)^2 / 2 carries the factor sigma'(z) <= 0.25, which vanishes when the sigmoid
        saturates: a confidently wrong prediction (y = 1, z = {zw:g}) gets a gradient of
        {grad_sq:.1e} instead of the log-loss's {grad_ce:.3f}, so learning stalls exactly where
        it is needed. And the squared error of a sigmoid is not convex in z (flat plateaus on
        both sides), so a descent method can stall on a plateau; the log-loss is convex, and it
        is also the maximum-likelihood loss of the Bernoulli model.
        """)
    with ctx.figure("losses", figsize=(8, 3.4)) as fig:
        ax1, ax2 = fig.subplots(1, 2)
        ax1.plot(z, ce, label="log-loss, y = 1")
        ax1.plot(z, sq, label="squared error, y = 1")
        ax1.set(xlabel="z = w^T x", title="loss of one example")
        ax1.legend(fontsize=8)
        ax2.plot(z, -(s - 1.0), label="|d log-loss / dz| = 1 - p")
        ax2.plot(z, -(s - 1.0) * ds, label="|d squared / dz| = (1 - p) p (1 - p)")
        ax2.set(xlabel="z", title="gradient magnitude")
        ax2.legend(fontsize=8)


def _l1_selects_features(ctx: Context) -> None:
    from sklearn import linear_model as sk

    c = _cancer()
    C = 0.05
    ours = LogisticRegression(penalty="l1", C=C, solver="fista", tol=1e-8, max_iter=20_000)
    ours.fit(c.X, c.y)
    ref = sk.LogisticRegression(l1_ratio=1.0, C=C, solver="saga", tol=1e-8, max_iter=20_000)
    ref.fit(c.X, c.y)
    ctx.check(
        "L1 logistic regression coefficients (FISTA vs SAGA)",
        ours.coef_,
        ref.coef_,
        atol=1e-4 * np.abs(ref.coef_).max(),
        ref="sklearn LogisticRegression",
    )
    ctx.check(
        "the same features are selected",
        ours.coef_ != 0,
        ref.coef_ != 0,
        ref="sklearn LogisticRegression",
    )
    kept = np.flatnonzero(ours.coef_[0])
    dense = LogisticRegression(C=1.0, tol=1e-6).fit(c.X, c.y)
    acc = {
        "L1, C=0.05": (ours.predict(c.X) == c.y).mean(),
        "L2, C=1": (dense.predict(c.X) == c.y).mean(),
    }
    ctx.claim(
        "'logistic regression cannot select features' is false: L1 keeps a few",
        0 < len(kept) <= 10 and acc["L1, C=0.05"] > 0.9,
        f"{len(kept)} of 30 features kept ({', '.join(c.names[kept])}); training accuracy "
        f"{acc['L1, C=0.05']:.3f} vs {acc['L2, C=1']:.3f} with all 30",
    )
    ctx.say("""
        The notes claim logistic regression cannot select features. With the default L2
        penalty that is true in practice (every weight is shrunk, none vanishes). But the
        penalty is a choice: with an L1 term the same model sets most weights to exactly zero
        (here by proximal gradient, the soft-threshold step of the previous lesson) and keeps
        the informative features, matching scikit-learn's SAGA solution feature for feature.
        """)


# --- multiclass logistic regression ------------------------------------------------------------


@lesson("multiclass-lr")
def multiclass_lr_lesson(ctx: Context) -> None:
    from sklearn import linear_model as sk
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.multiclass import OneVsRestClassifier

    ctx.say("""
        Two ways to turn logistic regression into a K-class classifier.

        Multinomial (softmax): one score z_k = w_k^T x + b_k per class and
        P(y = k | x) = exp(z_k) / sum_j exp(z_j). The loss is the categorical cross-entropy
        -log P(y_i | x_i), its gradient with respect to the scores is P - Y (one-hot Y), so
        dL/dW = (P - Y)^T X: the binary formula, one column per class. One joint convex
        problem; the probabilities sum to one by construction. With K = 2 it reduces to the
        sigmoid model (only w_1 - w_0 matters).

        One-vs-rest (OvR): K independent binary models "class k vs the others"; predict the
        class with the largest score. The K sigmoids do not sum to one, so probabilities are
        renormalized after the fact, and each model is trained on an imbalanced problem.
        """)
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.5, random_state=0, stratify=y)
    soft = LogisticRegression(C=1.0, tol=1e-8, max_iter=5000).fit(X_tr, y_tr)
    ovr = LogisticRegression(C=1.0, multi_class="ovr", tol=1e-8, max_iter=5000).fit(X_tr, y_tr)
    ref_soft = sk.LogisticRegression(C=1.0, tol=1e-10, max_iter=5000).fit(X_tr, y_tr)
    ref_ovr = OneVsRestClassifier(sk.LogisticRegression(C=1.0, tol=1e-10, max_iter=5000))
    ref_ovr.fit(X_tr, y_tr)
    ctx.check(
        "softmax coefficients",
        soft.coef_,
        ref_soft.coef_,
        rtol=1e-4,
        atol=1e-4 * np.abs(ref_soft.coef_).max(),
        ref="sklearn LogisticRegression",
    )
    ctx.check(
        "softmax probabilities (test half)",
        soft.predict_proba(X_te),
        ref_soft.predict_proba(X_te),
        atol=1e-5,
        ref="sklearn LogisticRegression",
    )
    ovr_coef = np.vstack([e.coef_ for e in ref_ovr.estimators_])
    ctx.check(
        "one-vs-rest coefficients",
        ovr.coef_,
        ovr_coef,
        rtol=1e-4,
        atol=1e-4 * np.abs(ovr_coef).max(),
        ref="sklearn OneVsRestClassifier",
    )
    ctx.check(
        "one-vs-rest probabilities",
        ovr.predict_proba(X_te),
        ref_ovr.predict_proba(X_te),
        atol=1e-5,
        ref="sklearn OneVsRestClassifier",
    )
    rows = []
    for name, m in (("softmax", soft), ("one-vs-rest", ovr)):
        P = m.predict_proba(X_te)
        raw = 1.0 / (1.0 + np.exp(-m.decision_function(X_te)))
        rows.append(
            [
                name,
                (m.predict(X_te) == y_te).mean(),
                -np.mean(np.log(P[np.arange(len(y_te)), y_te])),
                float(np.abs(raw.sum(axis=1) - 1).mean()) if name != "softmax" else 0.0,
            ]
        )
    ctx.table(
        "digits, test half", ["model", "accuracy", "log-loss", "mean |sum of sigmoids - 1|"], rows
    )
    ctx.claim(
        "softmax gives the lower test log-loss (its probabilities are fitted jointly)",
        rows[0][2] < rows[1][2],
        f"log-loss softmax {rows[0][2]:.4f}, OvR {rows[1][2]:.4f}",
    )
    _two_class_softmax(ctx)
    _decision_regions_figure(ctx)


def _decision_regions_figure(ctx: Context) -> None:
    with ctx.figure("decision-regions", figsize=(8, 3.6)) as fig:
        from sklearn.datasets import load_iris

        Xi, yi = load_iris(return_X_y=True)
        Xi = (Xi[:, 2:] - Xi[:, 2:].mean(0)) / Xi[:, 2:].std(0)
        g = np.linspace(-2.2, 2.2, 200)
        G1, G2 = np.meshgrid(g, g)
        grid = np.c_[G1.ravel(), G2.ravel()]
        for ax, mc in zip(fig.subplots(1, 2), ("multinomial", "ovr"), strict=True):
            m = LogisticRegression(C=10.0, multi_class=mc, max_iter=1000).fit(Xi, yi)
            ax.contourf(
                G1,
                G2,
                m.predict(grid).reshape(G1.shape),
                alpha=0.3,
                levels=[-0.5, 0.5, 1.5, 2.5],
                colors=["C0", "C1", "C2"],
            )
            ax.scatter(Xi[:, 0], Xi[:, 1], c=[f"C{k}" for k in yi], s=8)
            ax.set(
                title=f"iris petals, {mc}", xlabel="petal length (std)", ylabel="petal width (std)"
            )


def _two_class_softmax(ctx: Context) -> None:
    """Softmax over two classes is the sigmoid model with C doubled (penalty on both rows)."""
    from mlcanon.linear_model._logistic_loss import LogisticLoss
    from mlcanon.optim import minimize

    c = _cancer(slice(0, 10))
    n = len(c.y)
    Y = np.eye(2)[c.y]
    soft = LogisticLoss(c.X, Y, np.ones(n), 1.0 / n, True)  # C = 1, two softmax rows
    res = minimize(soft.loss_grad, np.zeros(soft.n_params), jac=True, tol=1e-9, max_iter=2000)
    W, _ = soft.unpack(res.x)

    def binary():
        from sklearn.linear_model import LogisticRegression as SkLogisticRegression

        return SkLogisticRegression(C=2.0, tol=1e-9, max_iter=2000).fit(c.X, c.y).coef_[0]

    ctx.check(
        "2-class softmax: w_1 - w_0 = binary logistic weights with C doubled",
        W[1] - W[0],
        binary,
        rtol=1e-5,
        atol=1e-6,
        ref="sklearn LogisticRegression (binary, C = 2)",
    )
