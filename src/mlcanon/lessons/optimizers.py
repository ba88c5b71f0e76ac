"""Section B lessons on first-order optimizers: the update rules, and Adam's counterexample."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from mlcanon import optim
from mlcanon.lessons import Context, lesson

# (label, class, flags, lr on the logistic regression, lr on Rosenbrock): the methods of the
# notes as flags of torch's classes; learning rates chosen by hand (Adadelta keeps lr = 1)
METHODS: list[tuple[str, str, dict[str, Any], float, float]] = [
    ("SGD", "SGD", {}, 0.5, 1e-3),
    ("Momentum", "SGD", {"momentum": 0.9}, 0.1, 1e-3),
    ("Nesterov", "SGD", {"momentum": 0.9, "nesterov": True}, 0.1, 1e-3),
    ("Adagrad", "Adagrad", {}, 0.1, 0.5),
    ("Adadelta", "Adadelta", {}, 1.0, 1.0),
    ("RMSprop", "RMSprop", {}, 1e-2, 3e-3),
    ("RMSprop centered", "RMSprop", {"centered": True}, 1e-2, 3e-3),
    ("Adam", "Adam", {}, 0.05, 0.1),
    ("AMSGrad", "Adam", {"amsgrad": True}, 0.05, 0.1),
    ("AdamW", "AdamW", {}, 0.05, 0.1),
    ("Adamax", "Adamax", {}, 0.05, 0.1),
]
RULES = [
    ("SGD", "-", "θ ← θ − γ g"),
    ("Momentum", "b", "b ← μ b + g;  θ ← θ − γ b"),
    ("Nesterov", "b", "b ← μ b + g;  θ ← θ − γ (g + μ b)"),
    ("Adagrad", "G", "G ← G + g²;  θ ← θ − γ g / (√G + ε)"),
    (
        "Adadelta",
        "E(g²), E(Δ²)",
        "E(g²) ← ρE(g²) + (1−ρ)g²;  Δ = √(E(Δ²)+ε)/√(E(g²)+ε) g;"
        "  E(Δ²) ← ρE(Δ²) + (1−ρ)Δ²;  θ ← θ − γΔ",
    ),
    ("RMSprop", "v", "v ← αv + (1−α)g²;  θ ← θ − γ g / (√v + ε)"),
    ("RMSprop centered", "v, ḡ", "ḡ ← αḡ + (1−α)g;  θ ← θ − γ g / (√(v − ḡ²) + ε)"),
    (
        "Adam",
        "m, v",
        "m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;  θ ← θ − γ/(1−β₁ᵗ) · m / (√(v/(1−β₂ᵗ)) + ε)",
    ),
    ("AMSGrad", "m, v, v̂", "as Adam with v̂ ← max(v̂, v) in place of v"),
    ("AdamW", "m, v", "θ ← (1 − γλ)θ, then the Adam step on the raw gradient"),
    ("Adamax", "m, u", "u ← max(β₂u, |g| + ε);  θ ← θ − γ/(1−β₁ᵗ) · m / u"),
]


def _run(
    cls: type,
    hyper: dict[str, Any],
    x0: np.ndarray,
    grad: Callable[[np.ndarray], np.ndarray],
    steps: int,
) -> np.ndarray:
    """Iterates (steps + 1, d) of a torch optimizer fed the gradient ``grad(x)``."""
    import torch

    p = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
    opt = cls([p], **hyper)
    out = np.empty((steps + 1, len(x0)))
    out[0] = x0
    for t in range(steps):
        p.grad = torch.from_numpy(grad(p.detach().numpy()))
        opt.step()
        out[t + 1] = p.detach().numpy()
    return out


def _rosenbrock_grad(z: np.ndarray) -> np.ndarray:
    x, y = z
    return np.array([-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)])


def _saddle_grad(z: np.ndarray) -> np.ndarray:
    x, y = z  # f = x^2 + y^4/4 - y^2/2: a saddle at the origin, minima at (0, +-1)
    return np.array([2 * x, y**3 - y])


def _cancer_logreg() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True)
    X = (X - X.mean(0)) / X.std(0)
    return X, y.astype(float), np.random.default_rng(0).normal(scale=0.1, size=X.shape[1] + 1)


def _logreg_grad(X: np.ndarray, y: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    from scipy.special import expit

    def grad(wb: np.ndarray) -> np.ndarray:
        r = expit(X @ wb[:-1] + wb[-1]) - y  # d(mean log-loss)/d(logit)
        return np.append(X.T @ r, r.sum()) / len(y)

    return grad


@lesson("optimizers")
def optimizers_lesson(ctx: Context) -> None:
    import torch

    ctx.say("""
        Every first-order optimizer turns the gradient g of the current mini-batch into a step.
        SGD steps along -g with one learning rate γ. Momentum keeps a velocity b, a running
        sum of past gradients, so that steps grow along directions where gradients agree and
        cancel where they zig-zag; Nesterov evaluates the step as if the velocity had already
        been applied. Adagrad, RMSprop and Adadelta give every coordinate its own step by
        dividing by the root of its squared gradients: summed over all time (Adagrad, so the
        steps only shrink), or averaged over a recent window (RMSprop; Adadelta also rescales
        by the RMS of past steps and so needs no learning rate). Adam combines a momentum
        average m with RMSprop's v and corrects both for starting at zero; AMSGrad divides by
        the running maximum of v; AdamW shrinks the weights directly instead of adding
        λθ to the gradient; Adamax replaces √v by a decaying maximum of |g|.

        Each rule below is written once in mlcanon.optim and runs both as a
        torch.optim.Optimizer and on NumPy arrays. The checks train a logistic regression on
        the standardized breast-cancer data for 200 full-batch steps with ours and with
        torch.optim, and compare all 31 parameters after every step.
        """)
    ctx.table(
        "update rules (g includes + λθ when weight_decay > 0, except AdamW)",
        ["method", "state", "update"],
        [list(r) for r in RULES],
    )
    X, y, wb0 = _cancer_logreg()
    grad = _logreg_grad(X, y)
    for label, name, hyper, lr, _ in METHODS:
        h = {**hyper, "lr": lr}
        ours = _run(getattr(optim, name), h, wb0, grad, 200)
        ctx.check(
            f"{label}: 200 steps on breast cancer, every parameter after every step",
            ours,
            lambda name=name, h=h: _run(getattr(torch.optim, name), h, wb0, grad, 200),
            atol=1e-10,
            ref="torch.optim",
        )
    arrays = wb0.copy()
    opt = optim.Adam.for_arrays([arrays], lr=0.05)
    for _ in range(200):
        opt.step([grad(arrays)])
    ctx.check(
        "Adam on NumPy arrays (Adam.for_arrays) vs torch.optim.Adam, 200 steps",
        arrays,
        lambda: _run(torch.optim.Adam, {"lr": 0.05}, wb0, grad, 200)[-1],
        atol=1e-10,
        ref="torch.optim",
    )
    _rosenbrock_part(ctx)
    _saddle_part(ctx)
    _adagrad_part(ctx, X, y, wb0)


def _rosenbrock_part(ctx: Context) -> None:
    import torch

    ctx.say("""
        Rosenbrock's valley, f(x, y) = (1 − x)² + 100 (y − x²)², from (−1.2, 1): the gradient
        points mostly across the curved valley, not along it. Each method gets 1000 steps with
        the learning rate shown.
        """)
    x0, steps, runs, rows = np.array([-1.2, 1.0]), 1000, {}, []
    for label, name, hyper, _, lr in METHODS:
        h = {**hyper, "lr": lr}
        runs[label] = traj = _run(getattr(optim, name), h, x0, _rosenbrock_grad, steps)
        x, y = traj[-1]
        rows.append([label, lr, (1 - x) ** 2 + 100 * (y - x * x) ** 2, np.hypot(x - 1, y - 1)])
        ctx.check(
            f"{label}: Rosenbrock trajectory",
            traj,
            lambda name=name, h=h: _run(getattr(torch.optim, name), h, x0, _rosenbrock_grad, steps),
            atol=1e-10,
            ref="torch.optim",
        )
    ctx.table("Rosenbrock after 1000 steps", ["method", "lr", "f", "distance to (1, 1)"], rows)
    dist = {r[0]: r[3] for r in rows}
    ctx.claim(
        "at the same lr, momentum ends over 10 times closer to the minimum than SGD",
        dist["Momentum"] < dist["SGD"] / 10 and dist["Nesterov"] < dist["SGD"] / 10,
        f"distance: SGD {dist['SGD']:.3g}, Momentum {dist['Momentum']:.3g}, "
        f"Nesterov {dist['Nesterov']:.3g}",
    )
    with ctx.figure("rosenbrock", figsize=(11, 4.5)) as fig:
        xs, ys = np.meshgrid(np.linspace(-1.6, 1.6, 300), np.linspace(-0.6, 2.2, 300))
        fs = (1 - xs) ** 2 + 100 * (ys - xs**2) ** 2
        for ax, group in zip(fig.subplots(1, 2), (METHODS[:5], METHODS[5:]), strict=True):
            ax.contour(xs, ys, fs, levels=np.logspace(-1, 3, 14), cmap="Greys", linewidths=0.6)
            for label, *_ in group:
                ax.plot(*runs[label].T, lw=1.2, label=label)
            ax.plot(1, 1, "k*", ms=10)
            ax.set(xlabel="x", ylabel="y", title="Rosenbrock, 1000 steps")
            ax.legend(fontsize=7)


def _saddle_part(ctx: Context) -> None:
    ctx.say("""
        A saddle: f(x, y) = x² + y⁴/4 − y²/2 has zero gradient at the origin, a minimum along
        x and a maximum along y there, and its minima at (0, ±1). Starting at (1, 0.001), the
        way out along y has a gradient of only about 0.001. All methods use lr = 0.05 (Adadelta
        its default lr = 1). Plain SGD multiplies y by about 1 + γ per step and needs many
        steps; methods that divide by the gradient's own size take steps of about γ at once.
        """)
    steps, x0, runs, rows = 150, np.array([1.0, 1e-3]), {}, []
    for label, name, hyper, _, _ in METHODS:
        h = {**hyper, "lr": 1.0 if label == "Adadelta" else 0.05}
        runs[label] = traj = _run(getattr(optim, name), h, x0, _saddle_grad, steps)
        out = np.abs(traj[:, 1]) > 0.5
        rows.append([label, int(np.argmax(out)) if out.any() else steps + 1])
    ctx.table("steps until |y| > 0.5 (151: not within 150)", ["method", "steps"], rows)
    esc = dict(rows)
    adaptive = [esc[k] for k in ("Adagrad", "RMSprop", "Adam", "Adamax")]
    ctx.claim(
        "adaptive methods leave the saddle 3 times faster than SGD at the same lr",
        esc["SGD"] <= steps and max(adaptive) < esc["SGD"] / 3,
        f"SGD {esc['SGD']}, Adagrad/RMSprop/Adam/Adamax {adaptive}",
    )
    with ctx.figure("saddle", figsize=(6.5, 4.5)) as fig:
        ax = fig.subplots()
        xs, ys = np.meshgrid(np.linspace(-1.2, 1.2, 200), np.linspace(-0.3, 1.3, 200))
        ax.contour(xs, ys, xs**2 + ys**4 / 4 - ys**2 / 2, levels=20, cmap="Greys", linewidths=0.6)
        for label in ("SGD", "Momentum", "Adagrad", "Adadelta", "RMSprop", "Adam"):
            ax.plot(*runs[label].T, lw=1.2, label=label, marker=".", ms=2)
        ax.set(xlabel="x", ylabel="y", title="leaving the saddle at the origin, 150 steps")
        ax.legend(fontsize=7)


def _adagrad_part(ctx: Context, X: np.ndarray, y: np.ndarray, wb0: np.ndarray) -> None:
    grad, lr, steps = _logreg_grad(X, y), 0.1, 200
    wb, G = wb0.copy(), np.zeros_like(wb0)
    opt = optim.Adagrad.for_arrays([wb], lr=lr)
    amp, gmag = np.empty((steps, wb.size)), np.empty((steps, wb.size))
    for t in range(steps):
        g = grad(wb)
        G += g * g
        amp[t], gmag[t] = 1 / (np.sqrt(G) + 1e-10), np.abs(g)  # Adagrad step / SGD step
        opt.step([g])
    med_amp, med_g = np.median(amp, 1), np.median(gmag, 1)
    ctx.say(f"""
        The notes say Adagrad's regularizer 1/√G amplifies the gradient early because early
        gradients are small, and shrinks it late because late gradients are large. We measure
        it on the breast-cancer logistic regression (lr = {lr:g}, 200 steps): for each of the
        31 parameters, the factor 1/(√G_t + ε) by which Adagrad's step exceeds SGD's at the
        same γ. G_t is a sum of squares, so the factor can only fall, whatever the gradients
        do. Here the gradients are largest at the start and fall {med_g[0] / med_g[-1]:.0f}-fold
        (median over parameters), while the factor goes only from {med_amp[0]:.2f} to
        {med_amp[-1]:.2f}: it is set by the first few gradients, and it stays above 1 because
        their squares sum to less than 1. So neither half of the claim holds as stated. What
        is true: the first step is γ·g/|g| = ±γ for every coordinate, so Adagrad removes the
        gradient's scale, enlarging small gradients and shrinking large ones; with ε = 0,
        multiplying the loss by 1000 leaves every iterate unchanged.
        """)
    ctx.check(
        "accumulator G_t kept by Adagrad equals the sum of squared gradients",
        opt.state[0]["sum"],
        G,
        rtol=1e-12,
        ref="definition (Duchi et al. 2011)",
    )
    ctx.table(
        "Adagrad on breast cancer (median over parameters)",
        ["step", "|g|", "1/(√G+ε) = Adagrad step ÷ SGD step"],
        [[t + 1, med_g[t], med_amp[t]] for t in (0, 9, 49, 199)],
    )
    rise = float(np.max(np.diff(amp, axis=0)))
    ctx.claim(
        "the effective step never increases, for any parameter",
        rise <= 0,
        f"largest change of 1/(√G+ε) over 200 steps x 31 parameters: {rise:.3g}",
    )
    ctx.claim(
        "notes: 'early gradients are small, late ones large' — here the opposite holds",
        med_g[:10].mean() > med_g[-10:].mean(),
        f"median |g|: {med_g[0]:.3g} at step 1, {med_g[-1]:.3g} at step 200",
    )
    ctx.claim(
        "nor does Adagrad shrink the gradient late: the median factor 1/(√G+ε) is still "
        "above 1 at the last step",
        med_amp[-1] > 1,
        f"median factor {med_amp[0]:.3g} at step 1, {med_amp[-1]:.3g} at step {steps}",
    )
    runs = []
    for scale in (1.0, 1000.0):
        w = wb0.copy()
        opt = optim.Adagrad.for_arrays([w], lr=lr, eps=0.0)
        for _ in range(steps):
            opt.step([scale * grad(w)])
        runs.append(w)
    gap = float(np.max(np.abs(runs[1] - runs[0])))
    ctx.claim(
        "with eps = 0, Adagrad ignores the scale of the loss (1000 x loss: same iterates)",
        gap < 1e-12,
        f"max |difference| after 200 steps: {gap:.2g}",
    )
    with ctx.figure("adagrad", figsize=(7, 4)) as fig:
        ax = fig.subplots()
        t = np.arange(1, steps + 1)
        ax.loglog(t, med_amp, label="1/(√G+ε): Adagrad step ÷ SGD step (median, range)")
        ax.fill_between(t, amp.min(1), amp.max(1), alpha=0.2)
        ax.loglog(t, med_g, label="|g| (median)")
        ax.axhline(1, color="k", lw=0.6)
        ax.set(xlabel="step", title="Adagrad on breast cancer: step factor vs gradient size")
        ax.legend(fontsize=8)


# ---------------------------------------------------------------------------------------------
def _online_adam(
    cls: type, C: float, T: int, betas: tuple[float, float], amsgrad: bool, alpha: float = 0.5
) -> np.ndarray:
    """x_1..x_T of projected Adam on f_t(x) = C x (t = 1 mod 3) or -x, x in [-1, 1]."""
    import torch

    x = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = cls([x], lr=alpha, betas=betas, eps=1e-8, amsgrad=amsgrad)
    xs = np.empty(T)
    for t in range(1, T + 1):
        xs[t - 1] = x.item()
        opt.param_groups[0]["lr"] = alpha / np.sqrt(t)  # alpha_t = alpha / sqrt(t)
        x.grad = torch.tensor([C if t % 3 == 1 else -1.0], dtype=torch.float64)
        opt.step()
        with torch.no_grad():
            x.clamp_(-1.0, 1.0)  # projection onto the feasible set
    return xs


def _average_regret(xs: np.ndarray, C: float) -> np.ndarray:
    t = np.arange(1, len(xs) + 1)
    g = np.where(t % 3 == 1, C, -1.0)
    return np.cumsum(g * xs - g * -1.0) / t  # (sum_t f_t(x_t) - sum_t f_t(-1)) / T


@lesson("adam-nonconvergence")
def adam_nonconvergence_lesson(ctx: Context) -> None:
    import torch

    C, T = 3.0, 3000
    betas = (0.0, 1 / (1 + C * C))
    ctx.say(f"""
        Adam is not guaranteed to find the optimum, even of a convex problem. Reddi, Kale and
        Kumar (2018) give an online problem on x ∈ [−1, 1]: f_t(x) = C x on one step in three
        and −x on the other two, with C = {C:g}. Over each cycle the gradients sum to C − 2 > 0,
        so the best fixed point is x* = −1. Their Theorem 1 takes β₁ = 0,
        β₂ = 1/(1 + C²) = {betas[1]:.3g} and step α/√t; we run mlcanon's Adam (bias-corrected,
        as torch's) with α = 0.5 and project x back onto [−1, 1] after every step.

        The large gradient C comes once in three steps. Adam's v forgets it quickly (β₂ is
        small), so the two steps with gradient −1 are divided by a small √v and push x up by
        about α_t each, while the C step, divided by about C, pulls x down by only about α_t:
        the net drift is towards +1, the worst point. AMSGrad divides by the running maximum
        of v, which remembers C, so the small gradients make small steps and the average
        gradient C − 2 wins: x goes to −1 and the average regret to 0.
        """)
    xs_adam = _online_adam(optim.Adam, C, T, betas, amsgrad=False)
    xs_ams = _online_adam(optim.Adam, C, T, betas, amsgrad=True)
    for label, xs, ams in (("Adam", xs_adam, False), ("AMSGrad", xs_ams, True)):
        ctx.check(
            f"{label} iterates x_1..x_{T} on the counterexample",
            xs,
            lambda ams=ams: _online_adam(torch.optim.Adam, C, T, betas, amsgrad=ams),
            atol=1e-12,
            ref="torch.optim.Adam",
        )
    r_adam, r_ams = _average_regret(xs_adam, C), _average_regret(xs_ams, C)
    ctx.table(
        "the last cycles and the average regret R_T / T",
        ["method", "mean x over the last 30 steps", "R/T at T=300", f"R/T at T={T}"],
        [
            ["Adam", xs_adam[-30:].mean(), r_adam[299], r_adam[-1]],
            ["AMSGrad", xs_ams[-30:].mean(), r_ams[299], r_ams[-1]],
        ],
    )
    ctx.claim(
        "Adam ends at the wrong end of the interval (x near +1)",
        xs_adam[-30:].mean() > 0.95,
        f"mean x over the last 30 steps = {xs_adam[-30:].mean():.4f}",
        ref="Reddi et al. 2018, Theorem 1",
    )
    ctx.claim(
        "AMSGrad approaches the optimum x* = -1",
        xs_ams[-30:].mean() < -0.99,
        f"mean x over the last 30 steps = {xs_ams[-30:].mean():.4f}",
        ref="Reddi et al. 2018, Section 4",
    )
    limit = 2 * (C - 2) / 3  # regret per step when sitting at +1 instead of -1
    ctx.claim(
        "Adam's average regret does not vanish: R_T/T tends to 2(C - 2)/3",
        abs(r_adam[-1] - limit) < 0.02,
        f"R/T = {r_adam[-1]:.4f} vs {limit:.4f}",
    )
    ctx.claim(
        "AMSGrad's average regret goes to 0",
        r_ams[-1] < 0.02 and r_ams[-1] < r_ams[299] / 3,
        f"R/T = {r_ams[299]:.4f} at T=300, {r_ams[-1]:.4f} at T={T}",
    )
    _beta2_sweep(ctx, C, T)
    with ctx.figure("counterexample", figsize=(11, 4)) as fig:
        ax1, ax2 = fig.subplots(1, 2)
        t = np.arange(1, T + 1)
        ax1.plot(t, xs_adam, lw=0.6, label="Adam")
        ax1.plot(t, xs_ams, lw=0.6, label="AMSGrad")
        ax1.axhline(-1, color="k", ls="--", lw=0.6)
        ax1.set(xscale="log", xlabel="t", ylabel="x_t", title=f"iterates, C = {C:g}")
        ax2.loglog(t, np.abs(r_adam), label="Adam")
        ax2.loglog(t, np.abs(r_ams), label="AMSGrad")
        ax2.set(xlabel="T", ylabel="|R_T| / T", title="average regret")
        for ax in (ax1, ax2):
            ax.legend(fontsize=8)


def _beta2_sweep(ctx: Context, C: float, T: int) -> None:
    ctx.say("""
        The failure needs β₂ small enough that v forgets the rare large gradient between its
        visits. With the usual β₂ = 0.999, Adam solves this instance; Reddi et al.'s Theorem 3
        builds, for every β₁ < √β₂, a harder instance (a larger, rarer gradient) on which Adam
        fails again. The table keeps β₁ = 0 and varies β₂.
        """)
    rows = []
    for b2 in (1 / (1 + C * C), 0.5, 0.9, 0.999):
        ends = [
            _online_adam(optim.Adam, C, T, (0.0, b2), amsgrad=a)[-30:].mean() for a in (False, True)
        ]
        rows.append([f"{b2:.3g}", *ends])
    ctx.table(f"mean x over the last 30 of {T} steps (optimum -1)", ["β₂", "Adam", "AMSGrad"], rows)
    ctx.claim(
        "with β₂ = 0.999 Adam solves this instance (ends near x* = -1)",
        rows[-1][1] < -0.9,
        f"mean x over the last 30 steps = {rows[-1][1]:.4f}",
    )
