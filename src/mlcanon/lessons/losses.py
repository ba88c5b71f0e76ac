"""Section I lesson on regression losses for box offsets: smooth L1 against L1 and L2."""

from __future__ import annotations

from functools import partial

import numpy as np

from mlcanon.lessons import Context, lesson


def _fit_line(loss_fn, x, y, steps: int = 300, lr: float = 0.5):
    """Fit y ~ a x + b by gradient descent on ``loss_fn(prediction, y)``; return (a, b)."""
    import torch

    params = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([params], lr=lr, momentum=0.9)
    for _ in range(steps):
        opt.zero_grad()
        loss_fn(params[0] * x + params[1], y).backward()
        opt.step()
    return params.detach().numpy()


@lesson("smooth-l1")
def smooth_l1_lesson(ctx: Context) -> None:
    import torch
    import torch.nn.functional as TF

    from mlcanon.nn import functional as F

    vs_torch = partial(ctx.check, rtol=1e-12, atol=1e-15, ref="torch.nn.functional")
    ctx.say("""
        Box regression (Fast R-CNN, Girshick 2015) needs a loss on offsets d = prediction -
        target. L2, d^2 / 2, has gradient d: large errors — an outlier, or the badly placed
        boxes of early training — produce large gradients that dominate the update and can
        blow it up. L1, |d|, has gradient sign(d): bounded, robust to outliers, but just as
        large for a tiny error as for a big one, and undefined at 0, so the fit keeps
        overshooting around the optimum. Smooth L1 joins them: d^2 / (2 beta) for |d| < beta
        and |d| - beta / 2 outside. Its gradient is d / beta near zero (it fades as the fit
        converges, like L2) and saturates at +-1 far away (bounded, like L1). Huber's loss is
        the same curve scaled by beta: huber_delta = delta * smooth_l1_(beta = delta).
        """)
    d = torch.linspace(-3, 3, 121, dtype=torch.float64)
    zero = torch.zeros_like(d)
    curves = {}
    for name, ours, ref in [
        (
            "L2 (d^2/2)",
            lambda a, b: 0.5 * F.mse_loss(a, b, "none"),
            lambda a, b: 0.5 * TF.mse_loss(a, b, reduction="none"),
        ),
        (
            "L1",
            lambda a, b: F.l1_loss(a, b, "none"),
            lambda a, b: TF.l1_loss(a, b, reduction="none"),
        ),
        (
            "smooth L1, beta=1",
            lambda a, b: F.smooth_l1_loss(a, b, "none", 1.0),
            lambda a, b: TF.smooth_l1_loss(a, b, reduction="none", beta=1.0),
        ),
        (
            "smooth L1, beta=0.5",
            lambda a, b: F.smooth_l1_loss(a, b, "none", 0.5),
            lambda a, b: TF.smooth_l1_loss(a, b, reduction="none", beta=0.5),
        ),
        (
            "Huber, delta=0.5",
            lambda a, b: F.huber_loss(a, b, "none", 0.5),
            lambda a, b: TF.huber_loss(a, b, reduction="none", delta=0.5),
        ),
    ]:
        a, b = d.clone().requires_grad_(), d.clone().requires_grad_()
        la, lb = ours(a, zero), ref(b, zero)
        la.sum().backward()
        lb.sum().backward()
        vs_torch(f"{name}: loss on [-3, 3]", la.detach().numpy(), lb.detach().numpy())
        vs_torch(f"{name}: gradient on [-3, 3]", a.grad.numpy(), b.grad.numpy())
        curves[name] = (la.detach().numpy(), a.grad.numpy())
    idx = {v: int(np.argmin(np.abs(d.numpy() - v))) for v in (0.05, 0.5, 3.0)}
    ctx.table(
        "gradient dloss/dd near and far from the target",
        ["loss", "d = 0.05", "d = 0.5", "d = 3"],
        [[n, *(c[1][i] for i in idx.values())] for n, c in curves.items()],
    )
    ctx.check(
        "huber(delta) = delta * smooth_l1(beta = delta)",
        curves["Huber, delta=0.5"][0],
        0.5 * TF.smooth_l1_loss(d, zero, reduction="none", beta=0.5).numpy(),
        rtol=1e-12,
        atol=1e-15,
        ref="torch smooth_l1_loss, scaled",
    )

    gen = torch.Generator().manual_seed(0)
    x = torch.linspace(-1, 1, 60, dtype=torch.float64)
    y = 2.0 * x + 0.5 + 0.1 * torch.randn(60, dtype=torch.float64, generator=gen)
    y[::12] += 6.0  # five gross outliers, all above the line
    fits = {
        "L2": _fit_line(lambda p, t: F.mse_loss(p, t), x, y),
        "L1": _fit_line(lambda p, t: F.l1_loss(p, t), x, y, lr=0.05),
        "smooth L1": _fit_line(lambda p, t: F.smooth_l1_loss(p, t), x, y),
    }
    errs = {k: float(np.abs(v - np.array([2.0, 0.5])).max()) for k, v in fits.items()}
    ctx.table(
        "line fit y = 2x + 0.5 with 5 of 60 points moved up by 6",
        ["loss", "slope", "intercept", "max parameter error"],
        [[k, v[0], v[1], errs[k]] for k, v in fits.items()],
    )
    ctx.claim(
        "outliers pull the L2 fit more than twice as far as the smooth L1 and L1 fits",
        errs["L2"] > 2 * max(errs["smooth L1"], errs["L1"]),
        f"parameter error L2 {errs['L2']:.3f}, smooth L1 {errs['smooth L1']:.3f}, "
        f"L1 {errs['L1']:.3f}",
    )
    ctx.say(f"""
        With outliers, the L2 fit pays for each one quadratically and moves its intercept towards
        them (parameter error {errs["L2"]:.3f}); smooth L1 and L1 charge outliers linearly, so they
        barely move ({errs["smooth L1"]:.3f} and {errs["L1"]:.3f}). Near the optimum smooth L1
        behaves like L2 (gradient proportional to the residual), so its steps shrink as the fit
        converges, where L1's keep their size. This is the trade-off the detection losses
        adopt; for the same reason some detectors replace offset regression entirely with IoU-based
        losses (see iou-family).
        """)
    with ctx.figure("smooth-l1", figsize=(11, 3.6)) as fig:
        ax1, ax2, ax3 = fig.subplots(1, 3)
        for name, (loss, grad) in curves.items():
            if name.startswith("Huber"):
                continue
            ax1.plot(d.numpy(), loss, label=name)
            ax2.plot(d.numpy(), grad, label=name)
        ax1.set(xlabel="d = prediction - target", title="loss", ylim=(0, 4))
        ax2.set(xlabel="d", title="gradient")
        ax1.legend(fontsize=7)
        ax3.scatter(x.numpy(), y.numpy(), s=8, color="gray")
        for name, (a, b) in fits.items():
            ax3.plot(x.numpy(), a * x.numpy() + b, label=name)
        ax3.set(title="line fit with outliers")
        ax3.legend(fontsize=7)
