"""Section G lessons on normalization: batch normalization, and BN / LN / IN / GN compared."""

from __future__ import annotations

from functools import partial

import numpy as np

from mlcanon.lessons import Context, lesson

from ._nn_common import _digits, _seeded


def _sigmoid_mlp(norm: bool, depth: int = 8, width: int = 64):
    from mlcanon import nn

    layers: list = []
    for i in range(depth):
        layers += [nn.Linear(64 if i == 0 else width, width)]
        layers += [nn.BatchNorm1d(width)] if norm else []
        layers += [nn.Sigmoid()]
    import torch

    return torch.nn.Sequential(*layers, nn.Linear(width, 10)).double()


@lesson("batchnorm")
def batchnorm_lesson(ctx: Context) -> None:
    import torch

    from mlcanon import nn
    from mlcanon.nn import functional as F

    vs_torch = partial(ctx.check, rtol=1e-10, atol=1e-12, ref="torch.nn.BatchNorm2d")
    ctx.say("""
        Batch normalization standardizes every channel with the mean and variance of the
        current mini-batch, x_hat = (x - mu_B) / sqrt(var_B + eps), then rescales with learned
        gamma and shifts with learned beta: y = gamma x_hat + beta. In training it uses the
        batch statistics and updates running averages, r <- (1 - momentum) r + momentum s,
        with the unbiased batch variance; in evaluation it uses the running averages, so a
        single image gets a deterministic output that does not depend on its batch mates.

        gamma and beta give back what the standardization took away: with gamma = sqrt(var +
        eps) and beta = mu the layer is the identity, so adding BN never shrinks what the
        network can represent.
        """)
    with _seeded(0):
        ref = torch.nn.BatchNorm2d(6, momentum=0.2).double()
        ours = nn.BatchNorm2d(6, momentum=0.2).double()
        with torch.no_grad():
            ref.weight.uniform_(0.5, 1.5)
            ref.bias.normal_()
        ours.load_state_dict(ref.state_dict())
        batches = [torch.randn(8, 6, 5, 7, dtype=torch.float64) * 3 + 1 for _ in range(3)]
    for x in batches:
        out_ours, out_ref = ours(x), ref(x)
    vs_torch(
        "training-mode output (3rd batch)", out_ours.detach().numpy(), out_ref.detach().numpy()
    )
    for name in ("running_mean", "running_var"):
        vs_torch(f"{name} after 3 batches", getattr(ours, name).numpy(), getattr(ref, name).numpy())
    ours.eval(), ref.eval()
    x = batches[0][:1]  # one image: only the running statistics can normalize it
    vs_torch(
        "eval-mode output of a single image", ours(x).detach().numpy(), ref(x).detach().numpy()
    )
    ours.train(), ref.train()

    x = batches[1].clone().requires_grad_()
    xr = batches[1].clone().requires_grad_()
    g = torch.randn(8, 6, 5, 7, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    ours(x).backward(g)
    ref(xr).backward(g)
    vs_torch("hand-written backward: dL/dx", x.grad.numpy(), xr.grad.numpy())
    vs_torch(
        "dL/dgamma and dL/dbeta",
        torch.cat([p.grad for p in ours.parameters()]).numpy(),
        torch.cat([p.grad for p in ref.parameters()]).numpy(),
    )
    ctx.say("""
        The backward pass (Ioffe & Szegedy 2015, sec. 3): with g_hat = gamma g and means taken
        over the batch and spatial positions of a channel,
        dL/dx = (g_hat - mean(g_hat) - x_hat mean(g_hat x_hat)) / sqrt(var + eps). The two
        subtracted terms remove from the gradient exactly the directions that the
        normalization ignores — shifting all of a channel's inputs, or scaling them — so
        per channel the input gradient sums to zero and is orthogonal to x_hat.
        """)
    # with eps > 0 the orthogonality to x_hat holds up to eps / var; use a tiny eps to see it
    xt = batches[1].clone().requires_grad_()
    y = F.batch_norm(xt, None, None, ours.weight.detach(), ours.bias.detach(), True, eps=1e-14)
    y.backward(g)
    xhat = (y.detach() - ours.bias.detach().view(1, -1, 1, 1)) / ours.weight.detach().view(
        1, -1, 1, 1
    )
    sums = xt.grad.sum((0, 2, 3)).abs().max().item()
    dots = (xt.grad * xhat).sum((0, 2, 3)).abs().max().item()
    ctx.claim(
        "per channel, sum of dL/dx = 0 and <dL/dx, x_hat> = 0",
        max(sums, dots) < 1e-10,
        f"largest |sum| = {sums:.1e}, largest |dot| = {dots:.1e} (eps = 1e-14)",
    )
    x = batches[2]
    var = x.var((0, 2, 3), unbiased=False)
    ident = nn.BatchNorm2d(6, eps=1e-5).double()
    with torch.no_grad():
        ident.weight.copy_((var + 1e-5).sqrt())
        ident.bias.copy_(x.mean((0, 2, 3)))
    ctx.check(
        "gamma = sqrt(var + eps), beta = mean makes BN the identity",
        ident(x).detach().numpy(),
        x.numpy(),
        rtol=1e-10,
        atol=1e-10,
        ref="the input itself",
    )

    d = _digits()
    curves = {}
    for norm, lr in ((False, 0.2), (True, 0.2), (True, 0.5)):
        with _seeded(3):
            net = _sigmoid_mlp(norm)
        opt = torch.optim.SGD(net.parameters(), lr=lr, momentum=0.9)
        losses = []
        for _ in range(60):
            opt.zero_grad()
            loss = F.cross_entropy(net(d.X), d.y)
            loss.backward()
            opt.step()
            losses.append(loss.item())
        net.eval()
        acc = (net(d.X_test).argmax(1) == d.y_test).double().mean().item()
        curves[("with BN" if norm else "without BN") + f", lr {lr:g}"] = (losses, acc)
    (l0, a0), (l1, a1), (l5, _) = curves.values()
    rise = {k: max(0.0, *np.diff(v[0])) for k, v in curves.items()}
    spike = int(np.argmax(np.diff(l5))) + 1
    ctx.say(f"""
        What it buys in training: an 8-layer sigmoid MLP (torch's default Linear
        initialization, Kaiming-uniform with a = sqrt(5), i.e. U(-1/sqrt(fan_in),
        1/sqrt(fan_in)), which gives a per-layer gain well below 1 after the sigmoid) on the
        digits, full-batch SGD with momentum 0.9, learning rate 0.2, 60 steps. Without BN the
        loss is still {l0[-1]:.2f} (test accuracy {a0:.2f}); with BN after every linear layer
        it falls to {l1[-1]:.2f} (test accuracy {a1:.2f}). The notes credit BN with keeping
        activations in the sigmoid's sensitive range, against "internal covariate shift";
        Santurkar et al. (2018) showed that the gain survives even when the shift is put back
        and attributed it to a smoother loss landscape, which allows larger step sizes.

        Larger, but not unlimited: the same BN network at learning rate 0.5 (dashed) reaches
        {min(l5[:spike]):.2f} and then jumps back to {max(l5[spike:]):.2f} at step
        {spike + 1} before recovering; with momentum 0.9 the effective step is ten times the
        learning rate, and it overshoots the sharpest direction of the loss once the
        gradients have grown. At 0.2 the largest rise between two steps is
        {rise["with BN, lr 0.2"]:.3f}.
        """)
    ctx.claim(
        "with BN the deep sigmoid net trains, without it barely",
        l1[-1] < 0.5 * l0[-1],
        f"final loss {l1[-1]:.3f} (BN) vs {l0[-1]:.3f} (no BN)",
    )
    ctx.claim(
        "at learning rate 0.2 the BN run decreases smoothly; at 0.5 it spikes",
        rise["with BN, lr 0.2"] < 0.05 < 0.5 < rise["with BN, lr 0.5"],
        ", ".join(f"{k}: largest rise {v:.3f}" for k, v in rise.items()),
    )
    with ctx.figure("bn-training", figsize=(6, 3.8)) as fig:
        ax = fig.subplots()
        for name, (losses, _) in curves.items():
            ax.plot(losses, label=name, ls="--" if name.endswith("0.5") else "-")
        ax.set(xlabel="SGD step", ylabel="training loss", title="8-layer sigmoid MLP on digits")
        ax.legend()


def _small_cnn(norm: str):
    """conv-norm-ReLU-pool, conv-norm-ReLU, global average pool, linear (8x8 digits)."""
    import torch

    from mlcanon import nn

    def make(c):
        return nn.BatchNorm2d(c) if norm == "BN" else nn.GroupNorm(4, c)

    return torch.nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1),
        make(16),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1),
        make(32),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        torch.nn.Flatten(),
        nn.Linear(32, 10),
    ).double()


def _train_cnn(norm: str, batch: int, steps: int, d):
    import torch

    from mlcanon.nn import functional as F

    with _seeded(0):
        net = _small_cnn(norm)
    opt = torch.optim.Adam(net.parameters(), lr=0.005)
    gen = torch.Generator().manual_seed(1)
    for _ in range(steps):
        idx = torch.randint(0, len(d.y), (batch,), generator=gen)
        opt.zero_grad()
        F.cross_entropy(net(d.img[idx]), d.y[idx]).backward()
        opt.step()
    return net


def _test_error(net, d, batch: int | None = None) -> float:
    """Test error in eval mode, or with normalization statistics of test batches of ``batch``."""
    import torch

    if batch is None:
        net.eval()
        pred = net(d.img_test).argmax(1)
    else:  # BN in training mode (batch statistics), running averages left untouched
        net.train()
        for m in net.modules():
            if hasattr(m, "track_running_stats"):
                m.momentum = 0.0
        chunks = d.img_test.split(batch)  # the last, shorter batch is normalized on its own
        pred = torch.cat([net(chunk).argmax(1) for chunk in chunks])
    net.eval()
    return (pred != d.y_test).double().mean().item()


@lesson("norms")
def norms_lesson(ctx: Context) -> None:
    import torch

    from mlcanon import nn

    ctx.say("""
        All four layers standardize with a mean and variance and then apply a learned
        per-channel (LN: per-element) scale and shift; they differ only in which entries of an
        (N, C, H, W) tensor share one mean and variance. BN: the same channel across the batch
        and all positions (N, H, W). LN: one sample, all channels and positions (C, H, W). IN:
        one sample, one channel (H, W). GN: one sample, a group of C/G channels (C/G, H, W) —
        G = 1 is LN, G = C is IN. Only BN mixes samples, so only BN behaves differently in
        training and evaluation and depends on the batch size.
        """)
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(4, 6, 5, 7, dtype=torch.float64, generator=gen) * 3 + torch.arange(6.0).view(
        1, 6, 1, 1
    )
    pairs = [
        ("BN", nn.BatchNorm2d(6), torch.nn.BatchNorm2d(6), (0, 2, 3)),
        ("LN", nn.LayerNorm((6, 5, 7)), torch.nn.LayerNorm((6, 5, 7)), (1, 2, 3)),
        ("IN", nn.InstanceNorm2d(6), torch.nn.InstanceNorm2d(6), (2, 3)),
        ("GN (3 groups)", nn.GroupNorm(3, 6), torch.nn.GroupNorm(3, 6), None),
    ]
    rows = []
    for name, ours, ref, dims in pairs:
        y = ours.double()(x).detach()
        ctx.check(
            f"{name} output",
            y.numpy(),
            lambda r=ref: r.double()(x).detach().numpy(),
            rtol=1e-10,
            atol=1e-10,
            ref=f"torch.nn.{type(ref).__name__}",
        )
        yv = y.reshape(4, 3, -1) if dims is None else y
        dv = (2,) if dims is None else dims
        mean_own = yv.mean(dv).abs().max().item()
        var_own = (yv.var(dv, unbiased=False) - 1).abs().max().item()
        mean_bn = y.mean((0, 2, 3)).abs().max().item()
        rows.append(
            [
                name,
                "(N,H,W)"
                if name == "BN"
                else "(C,H,W)"
                if name == "LN"
                else "(H,W)"
                if name == "IN"
                else "(C/G,H,W)",
                mean_own,
                var_own,
                mean_bn,
            ]
        )
    ctx.table(
        "after normalization: statistics over each layer's own axes (~0 and ~1)",
        ["layer", "axes", "max |mean|", "max |var - 1|", "max |mean| over BN's axes"],
        rows,
    )
    ctx.claim(
        "each layer gives mean 0 and variance 1 over its own axes (up to eps)",
        all(r[2] < 1e-12 and r[3] < 1e-3 for r in rows),
        "see the table",
    )

    other = torch.randn(4, 6, 5, 7, dtype=torch.float64, generator=gen)
    mixed = torch.cat([x[:1], other[1:]])  # same first sample, different batch mates
    moved = {name: (ours(x)[0] - ours(mixed)[0]).abs().max().item() for name, ours, _, _ in pairs}
    ctx.claim(
        "only BN's output for a sample depends on the rest of the batch",
        moved["BN"] > 0.1 and max(v for k, v in moved.items() if k != "BN") == 0.0,
        ", ".join(f"{k}: {v:.2g}" for k, v in moved.items()),
    )

    d = _digits()
    results = {}
    for norm in ("BN", "GN"):
        for batch in (2, 32):
            results[norm, batch] = _train_cnn(norm, batch, 300, d)
    stats_rows, curves = [], {}
    for norm in ("BN", "GN"):
        net = results[norm, 32]
        curves[norm] = [_test_error(net, d, b) for b in (2, 4, 8, 32, 128)]
        stats_rows.append(
            [norm, _test_error(results[norm, 2], d), _test_error(net, d), *curves[norm]]
        )
    ctx.table(
        "test error of a small CNN on digits (300 Adam steps)",
        [
            "norm",
            "trained at batch 2",
            "trained at batch 32",
            "batch-32 model, stats from test batches of 2",
            "4",
            "8",
            "32",
            "128",
        ],
        stats_rows,
    )
    bn, gn = curves["BN"], curves["GN"]
    ctx.claim(
        "BN with statistics from batches of 2 is much worse than with batches of 128",
        bn[0] > 2 * bn[-1] and bn[0] > bn[-1] + 0.05,
        f"error {bn[0]:.3f} vs {bn[-1]:.3f}",
    )
    ctx.claim(
        "GN's error does not depend on the batch size at all",
        max(gn) == min(gn),
        f"error {gn[0]:.3f} for every batch size",
    )
    (bn2, bn32), (gn2, gn32) = (stats_rows[0][1:3]), (stats_rows[1][1:3])
    ctx.say(f"""
        The GN paper's figure (Wu & He 2018) shows ResNet-50's ImageNet error rising steeply
        as BN's batch shrinks while GN stays flat. The mechanism is visible in the last
        columns: BN's output is a function of the batch, and the statistics of 2 images are a
        noisy estimate of the population's, so the same trained network makes many more
        mistakes when it must normalize with batches of 2. GN needs no batch, so its error is
        the same number for every batch size.

        Training at batch 2 (same 300 steps, 16 times fewer images) hurts both here: BN
        {bn2:.3f} vs {bn32:.3f}, GN {gn2:.3f} vs {gn32:.3f}. At this small scale the
        paper's ordering does not appear — GN is not better than BN at batch 2 — because
        with three normalized layers the noise of the batch statistics has little to compound
        over, while GN simply learns more slowly here. The batch-dependence measured in the
        last columns is the part that carries over to deep networks.
        """)
    with ctx.figure("bn-vs-gn-batch", figsize=(6.5, 4)) as fig:
        ax = fig.subplots()
        for norm, vals in curves.items():
            ax.plot([2, 4, 8, 32, 128], vals, marker="o", label=norm)
        ax.set(
            xscale="log",
            xlabel="images per batch used for the normalization statistics",
            ylabel="test error",
            title="small CNN on digits",
        )
        ax.legend()
