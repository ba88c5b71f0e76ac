"""Section L lesson: depthwise separable convolution (MobileNet, Xception) vs pointwise group
convolution with channel shuffle (ShuffleNet), counted side by side."""

from __future__ import annotations

from typing import Any

import numpy as np

from mlcanon.lessons import Context, lesson

FORMULA = "formula written out (Zhang et al. 2018, Section 3.2)"


def _conv_params(module: Any) -> int:
    """Weights of the convolutions only (batch norms are not in the papers' formulas)."""
    from torch import nn

    return sum(m.weight.numel() for m in module.modules() if isinstance(m, nn.Conv2d))


def _blocks(c: int, m: int, g: int) -> dict[str, tuple[Any, int, int]]:
    """name -> (module, params by formula, MACs per output position by formula)."""
    from torch import nn

    from mlcanon.models import DepthwiseSeparableConv, ShuffleNetUnit

    def conv(i, o, k, groups=1):
        return nn.Conv2d(i, o, k, padding=k // 2, groups=groups, bias=False)

    return {
        "standard 3x3 conv": (conv(c, c, 3), 9 * c * c, 9 * c * c),
        "MobileNet: depthwise 3x3 + pointwise 1x1": (
            DepthwiseSeparableConv(c, c),
            9 * c + c * c,
            9 * c + c * c,
        ),
        "Xception: pointwise 1x1, then depthwise 3x3": (
            nn.Sequential(conv(c, c, 1), conv(c, c, 3, c)),
            c * c + 9 * c,
            c * c + 9 * c,
        ),
        "ResNet bottleneck (1x1, 3x3, 1x1)": (
            nn.Sequential(conv(c, m, 1), conv(m, m, 3), conv(m, c, 1)),
            2 * c * m + 9 * m * m,
            2 * c * m + 9 * m * m,
        ),
        f"ResNeXt bottleneck (3x3 in {g} groups)": (
            nn.Sequential(conv(c, m, 1), conv(m, m, 3, g), conv(m, c, 1)),
            2 * c * m + 9 * m * m // g,
            2 * c * m + 9 * m * m // g,
        ),
        f"ShuffleNet unit (1x1 convs in {g} groups)": (
            ShuffleNetUnit(c, c, g),
            2 * c * m // g + 9 * m,
            2 * c * m // g + 9 * m,
        ),
    }


@lesson("xception-shufflenet")
def xception_shufflenet_lesson(ctx: Context) -> None:
    import torch

    from mlcanon.vision import profile

    ctx.say("""
        MobileNet, Xception and ShuffleNet all split a convolution's two jobs, filtering each
        channel in space and mixing channels. MobileNet's depthwise separable convolution is a
        3x3 depthwise conv (one filter per channel) followed by a 1x1 pointwise conv, each with
        batch norm and ReLU. Xception (Chollet 2017) reaches the same factorization from the
        other side: an Inception module with as many towers as channels, the "extreme"
        Inception, which is a 1x1 conv followed by per-channel 3x3 convs; it drops the ReLU
        between the two and wraps the modules in residual connections. The order does not
        change the count when input and output widths are equal.

        What is left is the 1x1 conv: it costs C_in C_out per position against 9 C_in for the
        depthwise part, so it carries almost all of the multiply-adds. ShuffleNet (Zhang et
        al. 2018) attacks that term: it makes the 1x1 convs group convolutions (g groups cut
        their cost by g) inside a bottleneck of width m = C/4, and, because stacked group
        convs would keep each group's channels apart forever, it permutes the channels between
        them (channel shuffle) so that each group of the next conv sees a slice of every group.
        """)
    c, hw, g = 240, 28, 3
    m = c // 4
    rows = []
    for name, (module, params, macs) in _blocks(c, m, g).items():
        p = profile(module, (c, hw, hw))
        rows.append([name, _conv_params(module), p.macs, p.macs / (9 * c * c * hw * hw)])
        ctx.check(f"{name}: parameters", _conv_params(module), params, ref=FORMULA)
        ctx.check(f"{name}: multiply-adds (profiler)", p.macs, macs * hw * hw, ref=FORMULA)
    ctx.table(
        f"one layer, {c} -> {c} channels on a {hw} x {hw} map (bottleneck m = {m}, g = {g})",
        ["block", "conv parameters", "MACs", "MACs / standard conv"],
        rows,
    )
    _pointwise_share(ctx)
    _shuffle_restores_mixing(ctx, torch)
    _networks(ctx)


def _pointwise_share(ctx: Context) -> None:
    """Share of the multiply-adds in 1x1 convolutions: MobileNet v1 vs ShuffleNet."""
    import torch
    from torch import nn

    from mlcanon import models
    from mlcanon.vision import profile

    shares = {}
    for name in ("mobilenet_v1", "shufflenet_v1"):
        with torch.device("meta"):
            net = models.get_model(name)
            p = profile(net, (3, 224, 224))
        kernels = {
            k: mod.kernel_size for k, mod in net.named_modules() if isinstance(mod, nn.Conv2d)
        }
        macs = {"1x1": 0, "depthwise / other": 0}
        for row in p.layers:
            if row.name in kernels:
                macs["1x1" if kernels[row.name] == (1, 1) else "depthwise / other"] += row.macs
        shares[name] = macs["1x1"] / p.macs
    ctx.check(
        "MobileNet v1: share of multiply-adds in 1x1 convolutions",
        shares["mobilenet_v1"],
        0.9486,
        atol=0.002,
        ref="Howard et al. 2017, Table 2 (94.86%)",
    )
    ctx.say(f"""
        In MobileNet v1 the 1x1 convolutions carry {shares["mobilenet_v1"]:.1%} of the
        multiply-adds (the paper's Table 2 gives 94.86%). In ShuffleNet (g = 3), whose 1x1
        convs are grouped, they still carry {shares["shufflenet_v1"]:.1%}: the network spends
        what grouping saves on width (960 channels in its last stage, against 512 for a
        MobileNet v1 of the same cost, below), so the 1x1 layers remain the bulk of the work.
        """)
    ctx.claim(
        "the 1x1 convolutions dominate the cost of both networks",
        min(shares.values()) > 0.8,
        f"ShuffleNet {shares['shufflenet_v1']:.3f}, MobileNet v1 {shares['mobilenet_v1']:.3f}",
    )


def _shuffle_restores_mixing(ctx: Context, torch: Any) -> None:
    from torch import nn

    from mlcanon.models import channel_shuffle

    c, g = 12, 3
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(2, c, 4, 4, generator=gen, dtype=torch.float64)
    ctx.check(
        "channel_shuffle",
        channel_shuffle(x, g).numpy(),
        lambda: nn.ChannelShuffle(g)(x).numpy(),
        ref="torch.nn.ChannelShuffle",
    )
    with torch.random.fork_rng():
        torch.manual_seed(0)
        first, second = (nn.Conv2d(c, c, 1, groups=g).double() for _ in range(2))
    reach = {}
    for shuffle in (False, True):

        def net(t, shuffle=shuffle):
            h = first(t)
            return second(channel_shuffle(h, g) if shuffle else h)

        jac = torch.autograd.functional.jacobian(lambda t: net(t)[0, :, 0, 0], x)  # (C, 2, C, 4, 4)
        depends = jac[:, 0, :, 0, 0].abs() > 0  # output channel -> input channels it reads
        reach[shuffle] = depends.sum(1).numpy()
    ctx.check(
        "two stacked 1x1 group convs: input channels each output reads, no shuffle",
        reach[False],
        np.full(c, c // g),
        ref="C / g (each group stays closed)",
    )
    ctx.check(
        "the same with a channel shuffle between them",
        reach[True],
        np.full(c, c),
        ref="C (every group reaches every output)",
    )
    ctx.say(f"""
        Measured through the Jacobian of two stacked 1x1 group convs ({c} channels, {g}
        groups): without a shuffle each output channel depends on {int(reach[False][0])} input
        channels, its own group; with the shuffle between the convs, on all {int(reach[True][0])}.
        The shuffle itself is free (a fixed permutation, no parameters, no multiply-adds).
        """)


def _networks(ctx: Context) -> None:
    import torch

    from mlcanon import models
    from mlcanon.vision import profile

    paper = {1: 143, 2: 140, 3: 137, 4: 133, 8: 137}  # Table 1, MFLOPs (= multiply-adds)
    rows = []
    for g, mmacs in paper.items():
        with torch.device("meta"):
            p = profile(models.ShuffleNetV1(groups=g), (3, 224, 224))
        rows.append([f"ShuffleNet 1x, g = {g}", p.params, p.macs / 1e6, mmacs])
        ctx.check(
            f"ShuffleNet 1x g={g}: MMACs",
            p.macs / 1e6,
            mmacs,
            rtol=0.02,
            ref="Zhang et al. 2018, Table 1 (within 2%)",
        )
    with torch.device("meta"):
        mb = profile(models.mobilenet_v1(width_mult=0.5), (3, 224, 224))
    rows.append(["MobileNet v1 0.5x", mb.params, mb.macs / 1e6, 149])
    ctx.check(
        "MobileNet v1 0.5x: MMACs",
        mb.macs / 1e6,
        149,
        rtol=0.02,
        ref="Howard et al. 2017, Table 6 (within 2%)",
    )
    ctx.table(
        "whole networks at 224 x 224",
        ["network", "parameters", "MMACs (ours)", "MMACs (paper)"],
        rows,
    )
    g1, g8 = rows[0], rows[4]
    ctx.claim(
        "g = 8 costs about as many multiply-adds as g = 1 (within 5%) but has more parameters",
        abs(g8[2] / g1[2] - 1) < 0.05 and g8[1] > g1[1],
        f"MMACs {g8[2]:.1f} vs {g1[2]:.1f}; parameters {g8[1]:,} vs {g1[1]:,}",
    )
    ctx.say(f"""
        At equal multiply-adds a group count buys width: g = 8 runs 1536 channels in its last stage
        against 576 for g = 1 at about the same cost ({g8[2]:.0f} against {g1[2]:.0f} MMACs), at the
        price of more parameters ({g8[1] / 1e6:.2f} M against {g1[1] / 1e6:.2f} M) and more memory
        traffic per multiply-add. That last point is why the ShuffleNet v2 paper (Ma et al. 2018)
        measures speed rather than counting operations; the latency-vs-macs lesson does the same on
        this machine.
        """)
