"""Sections H and L lessons on efficient networks: depthwise separable convolution, MobileNet
v1-v3 and GhostNet, counted against the papers' tables."""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np

from mlcanon.lessons import Context, lesson

PAPER = "paper's table, within 2%"


def _count(name: str, side: int = 224, **kwargs: Any) -> tuple[int, int]:
    """(params, MACs) of a bundled model built on the meta device."""
    import torch

    from mlcanon import models
    from mlcanon.vision import profile

    with torch.device("meta"):
        p = profile(models.get_model(name, **kwargs), (3, side, side))
    return p.params, p.macs


@lesson("separable-conv")
def separable_conv_lesson(ctx: Context) -> None:
    import torch
    import torch.nn.functional as F
    from torch import nn

    from mlcanon.models import DepthwiseSeparableConv
    from mlcanon.vision import profile

    ctx.say("""
        A standard convolution filters and mixes channels at once: N filters of size
        D_K x D_K x M, costing D_K^2 M N D_F^2 multiply-adds on a D_F x D_F output. A depthwise
        separable convolution splits the two jobs: a depthwise convolution filters each input
        channel with its own D_K x D_K kernel (groups = M: D_K^2 M D_F^2), then a pointwise 1x1
        convolution mixes channels (M N D_F^2). The cost ratio is
        (D_K^2 M + M N) / (D_K^2 M N) = 1/N + 1/D_K^2: about 8 to 9 times cheaper for 3x3
        kernels and wide layers. Parameters shrink by the same ratio. A spatially separable
        convolution (k x 1 then 1 x k) is the other kind of separation: it only works for
        rank-one kernels, 2k instead of k^2 weights.
        """)
    rows = []
    for m, n, k in [(32, 64, 3), (128, 128, 3), (512, 512, 3), (64, 128, 5)]:
        sep = profile(DepthwiseSeparableConv(m, n, kernel_size=k), (m, 14, 14))
        std = profile(nn.Conv2d(m, n, k, padding=k // 2, bias=False), (m, 14, 14))
        bn = 2 * m + 2 * n  # the two batch norms of the separable block
        rows.append(
            [
                f"M={m} N={n} k={k}",
                std.params,
                sep.params - bn,
                std.macs,
                sep.macs,
                sep.macs / std.macs,
                1 / n + 1 / k**2,
            ]
        )
        ctx.check(
            f"MAC ratio, M={m} N={n} k={k}",
            sep.macs / std.macs,
            1 / n + 1 / k**2,
            rtol=1e-12,
            ref="Howard et al. 2017, eq. (5)",
        )
    ctx.table(
        "standard vs depthwise separable on a 14 x 14 map",
        ["layer", "params std", "params sep", "MACs std", "MACs sep", "ratio", "1/N + 1/k^2"],
        rows,
    )
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(2, 6, 11, 9, generator=gen, dtype=torch.float64)
    w = torch.randn(6, 1, 3, 3, generator=gen, dtype=torch.float64)
    per_channel = torch.cat([F.conv2d(x[:, c : c + 1], w[c : c + 1]) for c in range(6)], 1)
    ctx.check(
        "depthwise = one conv per channel",
        per_channel,
        lambda: F.conv2d(x, w, groups=6),
        rtol=1e-12,
        atol=1e-12,
        ref="torch conv with groups",
    )
    u, v = (
        torch.randn(5, generator=gen, dtype=torch.float64),
        torch.randn(5, generator=gen).double(),
    )
    two_pass = F.conv2d(F.conv2d(x[:, :1], u.view(1, 1, 5, 1)), v.view(1, 1, 1, 5))
    ctx.check(
        "k x 1 then 1 x k = one rank-one k x k conv",
        two_pass,
        lambda: F.conv2d(x[:, :1], torch.outer(u, v).view(1, 1, 5, 5)),
        rtol=1e-12,
        atol=1e-12,
        ref="torch conv2d",
    )
    ns = np.arange(8, 1025)
    with ctx.figure("ratio", figsize=(6, 3.5)) as fig:
        ax = fig.subplots()
        for k in (3, 5, 7):
            ax.semilogx(ns, 1 / ns + 1 / k**2, label=f"k = {k}")
        ax.set(
            xlabel="output channels N",
            ylabel="separable / standard cost",
            title="cost ratio 1/N + 1/k^2",
        )
        ax.legend()


def _relu_recovery(n: int, seed: int = 0) -> float:
    """Share of the points of a 2-D spiral that can be recovered from ReLU(T x), T: n x 2."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0.5, 4 * np.pi, 400)
    X = np.stack([t * np.cos(t), t * np.sin(t)], 1)
    T = rng.normal(size=(n, 2))
    Y = np.maximum(X @ T.T, 0)
    ok = 0
    for x, y in zip(X, Y, strict=True):
        active = y > 0  # a zeroed unit says only that T_i x <= 0
        if np.linalg.matrix_rank(T[active]) == 2:
            ok += np.allclose(np.linalg.lstsq(T[active], y[active], rcond=None)[0], x, atol=1e-9)
    return ok / len(X)


@lesson("mobilenet")
def mobilenet_lesson(ctx: Context) -> None:
    import torch
    from torch import nn

    from mlcanon import models

    ctx.say("""
        MobileNetV1 is a stack of depthwise separable convolutions (13 of them after one
        standard 3x3 convolution), with two knobs: the width multiplier alpha thins every layer
        (cost ~ alpha^2) and the resolution multiplier rho shrinks the input (cost ~ rho^2,
        parameters unchanged). The counts below are ours, against the paper's Tables 6 and 7.
        """)
    paper = partial(ctx.check, rtol=0.02, ref=PAPER)
    rows = []
    for alpha, side, macs in [
        (1.0, 224, 569),
        (0.75, 224, 325),
        (0.5, 224, 149),
        (1.0, 160, 290),
        (1.0, 128, 186),
    ]:
        params, ours = _count("mobilenet_v1", side, width_mult=alpha)
        paper(f"V1 alpha={alpha} {side}: M mult-adds", ours / 1e6, macs)
        rows.append([alpha, side, f"{params / 1e6:.2f} M", f"{ours / 1e6:.1f} M", f"{macs} M"])
    ctx.table("MobileNetV1", ["alpha", "input", "params", "mult-adds", "paper"], rows)
    ctx.say("""
        MobileNetV2 inverts the residual block: a thin bottleneck is expanded six times by a 1x1
        convolution, filtered depthwise, and projected back by a 1x1 convolution with no ReLU
        (a linear bottleneck); the shortcut joins the thin ends. Why no ReLU there? A ReLU keeps
        the information of a low-dimensional manifold only when it is embedded in many more
        dimensions: below, a 2-D spiral is mapped by a random n x 2 matrix T, passed through
        ReLU, and each point is recovered from the units that stayed positive when they span
        the plane (the paper's Figure 1 experiment).
        """)
    share = {n: _relu_recovery(n) for n in (2, 3, 5, 15, 30)}
    ctx.table(
        "points recovered exactly after ReLU(T x)",
        ["n", "share"],
        [[n, s] for n, s in share.items()],
    )
    ctx.claim(
        "ReLU destroys a 2-D manifold in 2-3 dimensions, not in 15-30",
        share[2] < 0.6 and share[3] < 0.8 and share[15] == share[30] == 1.0,
        str(share),
    )
    ctx.say("""
        MobileNetV3 was found by architecture search from V2 blocks; it adds squeeze-and-
        excitation (a channel gate from the global average, hard-sigmoid) to some blocks and
        replaces ReLU by h-swish, x ReLU6(x + 3) / 6, in the deeper half: a piecewise-polynomial
        swish that is cheap and quantizes well. V2 and V3 have exactly torchvision's layout.
        """)
    tv = partial(ctx.check, ref="torchvision parameter counts")
    for name, published, macs in [
        ("mobilenet_v2", 3_504_872, 300),
        ("mobilenet_v3_large", 5_483_032, 219),
        ("mobilenet_v3_small", 2_542_856, 56),
    ]:
        params, ours = _count(name)
        tv(f"{name} params", params, published)
        paper(f"{name} M mult-adds (Sandler 2018 T4, Howard 2019 T3)", ours / 1e6, macs)
    x = torch.linspace(-5, 5, 201, dtype=torch.float64)
    ctx.check(
        "h-swish",
        models.HSwish()(x),
        lambda: nn.Hardswish()(x),
        rtol=1e-15,
        atol=1e-15,
        ref="torch nn.Hardswish",
    )
    with ctx.figure("relu-manifold", figsize=(10, 3.5)) as fig:
        ax1, ax2 = fig.subplots(1, 2)
        ax1.plot(list(share), list(share.values()), "o-")
        ax1.set(
            xscale="log",
            xlabel="embedding dimension n",
            ylabel="share recovered",
            title="ReLU on a 2-D spiral embedded in n dims",
        )
        ax2.plot(x, x * torch.sigmoid(x), label="swish")
        ax2.plot(x, models.HSwish()(x), "--", label="h-swish")
        ax2.set(xlabel="x", title="swish and its hard version")
        ax2.legend()


@lesson("ghostnet")
def ghostnet_lesson(ctx: Context) -> None:
    from torch import nn

    from mlcanon.models import GhostModule
    from mlcanon.vision import profile

    ctx.say("""
        Feature maps of trained CNNs come in near-duplicates ("ghosts" of each other). A ghost
        module makes only m = n / s intrinsic maps with an ordinary convolution and derives the
        remaining (s - 1) m maps by cheap d x d depthwise convolutions of them, then stacks
        both. Replacing a k x k convolution by a ghost module divides its cost by
        r_s = (n c k^2) / ((n/s) c k^2 + (s - 1)(n/s) d^2), about s when d ~ k and c >> s. The
        ghost bottleneck stacks an expanding and a projecting ghost module (a depthwise stride-2
        convolution between them to downsample, SE in some blocks) with a shortcut; GhostNet
        reuses MobileNetV3's layout with these blocks.
        """)
    c, n, side = 96, 192, 14
    rows = []
    for s in (2, 3, 4):
        ghost = profile(GhostModule(c, n, kernel_size=3, ratio=s), (c, side, side))
        conv = profile(nn.Conv2d(c, n, 3, padding=1, bias=False), (c, side, side))
        m = -(-n // s)  # ceil(n / s) intrinsic maps
        formula = (n * c * 9) / (m * c * 9 + (s - 1) * m * 9)
        ctx.check(
            f"speed-up of a ghost module, s = {s}",
            conv.macs / ghost.macs,
            formula,
            rtol=1e-12,
            ref="Han et al. 2020, eq. (4)",
        )
        rows.append([s, conv.macs, ghost.macs, conv.macs / ghost.macs, conv.params / ghost.params])
    ctx.table(
        f"3x3 conv {c} -> {n} channels vs ghost module",
        ["s", "conv MACs", "ghost MACs", "MAC ratio", "param ratio"],
        rows,
    )
    paper = partial(ctx.check, rtol=0.02, ref="Han et al. 2020, Table 7, within 2%")
    table = []
    for width, p_params, p_macs in [(0.5, 2.6, 42), (1.0, 5.2, 141), (1.3, 7.3, 226)]:
        params, macs = _count("ghostnet", width_mult=width)
        paper(f"GhostNet {width}x params (M)", params / 1e6, p_params)
        paper(f"GhostNet {width}x FLOPs = mult-adds (M)", macs / 1e6, p_macs)
        table.append([f"GhostNet {width}x", f"{params / 1e6:.2f} M", f"{macs / 1e6:.1f} M"])
    for name in ("mobilenet_v3_large", "mobilenet_v2"):
        params, macs = _count(name)
        table.append([name, f"{params / 1e6:.2f} M", f"{macs / 1e6:.1f} M"])
    ctx.table("GhostNet beside the MobileNets (224 x 224)", ["model", "params", "mult-adds"], table)
    ctx.say("""
        The paper writes "FLOPs" for multiply-adds, as much of the efficient-network literature
        does: GhostNet 1.0x's 141 M are 141 M multiply-accumulates, 282 M floating-point
        operations in the strict sense.
        """)
    with ctx.figure("cost", figsize=(6, 3.5)) as fig:
        ax = fig.subplots()
        for name, params, macs in [(r[0], float(r[1][:-2]), float(r[2][:-2])) for r in table]:
            ax.scatter(macs, params)
            ax.annotate(name, (macs, params), fontsize=8)
        ax.set(xlabel="mult-adds (M)", ylabel="parameters (M)", title="cost at 224 x 224")


# torchvision's model documentation (published parameter counts of the same architectures)
_TORCHVISION_PARAMS = {
    "mobilenet_v2": 3_504_872,
    "mobilenet_v3_large": 5_483_032,
    "mobilenet_v3_small": 2_542_856,
    "vgg16": 138_357_544,
}


def _backbone_row(name: str, side: int = 224) -> tuple[list[Any], int, int]:
    """Table row of a bundled model: params, MACs, final receptive field, feature strides."""
    import torch

    from mlcanon import models
    from mlcanon.vision import profile

    with torch.device("meta"):  # shapes only: no weights are allocated
        model = models.get_model(name)
        p = profile(model, (3, side, side))
        numel = sum(t.numel() for t in model.parameters())
    sides = [
        lay.output_shape[-1] for lay in p.layers if lay.output_shape and len(lay.output_shape) == 3
    ]
    strides = sorted({side // s for s in sides if 1 < s and side % s == 0})  # not pooled maps
    rf = next(
        (
            lay.receptive_field
            for lay in reversed(p.layers)
            if lay.receptive_field is not None and not lay.receptive_field.is_global
        ),
        None,
    )
    rf_text = "—" if rf is None else f"{rf.size[0]}{'*' if rf.global_context else ''}"
    row = [name, f"{p.params:,}", f"{p.macs:,}", rf_text, ", ".join(map(str, strides))]
    return row, p.params, numel


@lesson("backbones")
def backbones_lesson(ctx: Context) -> None:
    from mlcanon import models

    ctx.say("""
        A detector reuses a classification network as its backbone and reads feature maps at
        several strides (8, 16, 32 for a three-level head). What decides the choice is what the
        profiler measures: parameters (memory), multiply-adds (speed), the receptive field of
        the deepest map (how much context a unit sees: it should cover the largest objects)
        and the strides available for the feature pyramid. The table profiles every bundled
        backbone at 224 x 224 on meta tensors (nothing is computed). A * marks a receptive
        field that also sees the whole image through squeeze-and-excitation's global pooling.
        """)
    rows = []
    for name in models.list_models():
        row, params, numel = _backbone_row(name)
        rows.append(row)
        ctx.check(
            f"{name}: profiler parameters = sum(p.numel())", params, numel, ref="torch parameters"
        )
        if name in _TORCHVISION_PARAMS:
            ctx.check(
                f"{name}: parameters",
                params,
                _TORCHVISION_PARAMS[name],
                ref="torchvision's published count",
            )
    ctx.table(
        "bundled backbones at 224 x 224",
        ["model", "parameters", "MACs", "receptive field (final map)", "feature strides"],
        rows,
    )
    macs = {r[0]: int(r[2].replace(",", "")) for r in rows}
    ctx.claim(
        "MobileNetV3-Small needs fewer than 1/250 of VGG-16's multiply-adds",
        macs["mobilenet_v3_small"] * 250 < macs["vgg16"],
        f"{macs['mobilenet_v3_small']:,} vs {macs['vgg16']:,}",
    )
    _detection_backbones(ctx)
    ctx.say("""
        RefineDet (Zhang et al., CVPR 2018) is a one-stage detector that borrows the two-step
        idea of two-stage detectors without their region-of-interest pooling. An anchor
        refinement module on the backbone's maps first removes easy negative anchors (those it
        scores as background above a threshold) and coarsely regresses the rest; a transfer
        connection block passes its features, with top-down fusion like a feature pyramid, to an
        object detection module that classifies and regresses again, starting from the refined
        anchors instead of the fixed ones. The first step eases the class imbalance a one-stage
        head faces (the problem focal loss addresses by re-weighting instead), and the second
        step starts from better-placed boxes. This paragraph is explanation from the paper, not
        a measurement of this project.
        """)


def _detection_backbones(ctx: Context) -> None:
    """The detectors' backbones with their FPN, at the 64 x 64 input they are trained on."""
    import torch

    from mlcanon.models import MobileNetV2FPN, TinyFPNBackbone
    from mlcanon.vision import profile, receptive_field

    ctx.say("""
        The detectors of section I read three pyramid levels. The table profiles their
        backbones with the feature pyramid at 64 x 64: parameters and MACs of the whole
        backbone + FPN, and per level the stride, the channels and the receptive field of the
        backbone map feeding that level (the top-down sum then gives every level the context
        of the coarsest one as well).""")
    rows = []
    builders = {
        "MobileNetV2 (x0.5) + FPN": lambda: MobileNetV2FPN(out_channels=48),
        "tiny conv net + FPN": lambda: TinyFPNBackbone(out_channels=48),
    }
    for name, build in builders.items():
        with torch.device("meta"):
            model = build()
            p = profile(model, (3, 64, 64))
            feats = model(torch.empty(1, 3, 64, 64))
            numel = sum(t.numel() for t in model.parameters())
        ctx.check(
            f"{name}: profiler parameters = sum(p.numel())", p.params, numel, ref="torch parameters"
        )
        rf = receptive_field(model, (3, 64, 64)).layers
        for level, f in enumerate(feats):
            field = rf.get(f"fpn.lateral.{level}")  # a 1x1 conv: the backbone map's field
            rows.append(
                [
                    name if level == 0 else "",
                    f"P{level}",
                    64 // f.shape[-1],
                    f.shape[1],
                    "—" if field is None else field.size[0],
                    f"{p.params:,}" if level == 0 else "",
                    f"{p.macs:,}" if level == 0 else "",
                ]
            )
    ctx.table(
        "detection backbones with FPN at 64 x 64",
        [
            "backbone",
            "level",
            "stride",
            "channels",
            "receptive field of its backbone map",
            "parameters",
            "MACs",
        ],
        rows,
    )
