"""Section H lessons: receptive fields, parameters and FLOPs, convolution output sizes."""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np

from mlcanon.lessons import Context, lesson

# Araujo, Norris & Sim (Distill 2019), table of receptive-field parameters: (r, S, P)
DISTILL = {"vgg_16": (212, 32, 90), "mobilenet_v1": (315, 32, 126)}
# torchvision's model documentation: parameters and "GFLOPS" (which count multiply-adds)
TORCHVISION = {
    "mobilenet_v2": (3_504_872, 0.30),
    "mobilenet_v3_large": (5_483_032, 0.22),
    "mobilenet_v3_small": (2_542_856, 0.06),
    "vgg16": (138_357_544, 15.47),
}


def _meta(name: str) -> Any:
    import torch

    from mlcanon import models

    with torch.device("meta"):  # shapes only: no memory, no initialization cost
        return models.get_model(name)


def _gradient_box(model: Any, shape: tuple, index: tuple) -> tuple[list, np.ndarray]:
    """Input box where the gradient of one output unit is non-zero, and |gradient|."""
    import torch

    x = torch.ones(1, *shape, dtype=torch.float64, requires_grad=True)
    model(x)[(0, 0, *index)].backward()
    grad = x.grad[0].abs().sum(0).numpy()
    return [[int(a.min()), int(a.max())] for a in np.nonzero(grad)], grad


@lesson("receptive-field")
def receptive_field_lesson(ctx: Context) -> None:
    import torch
    from torch import nn

    from mlcanon import models
    from mlcanon.vision import receptive_field, receptive_field_single_path

    ctx.say("""
        The receptive field of a unit is the patch of the input that can influence it. Along one
        axis, layers with kernels k_l, strides s_l and left paddings p_l give a unit of layer L a
        field of r = 1 + sum_l (k_l - 1) prod_{i<l} s_i positions; neighbouring units are
        S = prod_l s_l positions apart (effective stride) and unit u sees [uS - P, uS - P + r - 1]
        with P = sum_l p_l prod_{i<l} s_i (effective padding). Each layer adds (k - 1) times the
        stride accumulated before it, so late layers grow the field fastest; a dilated kernel
        counts as d(k - 1) + 1.

        With several paths (residual additions, concatenations) the field of a merge is the union
        of its paths' intervals, and paths whose fields are not centred alike are misaligned. The
        graph algorithm traces a torch model and runs this recursion node by node.
        """)
    distill = partial(ctx.check, ref="Araujo et al. 2019 (Distill), table")
    vgg = receptive_field(_meta("vgg16"), (3, 224, 224)).final
    mb = receptive_field(_meta("mobilenet_v1"), (3, 224, 224)).final
    distill("VGG-16 (r, S, P)", [vgg.size[0], vgg.stride[0], vgg.padding[0]], DISTILL["vgg_16"])
    # TF-slim's 'SAME' padding puts nothing on the left at the five stride-2 convolutions
    strides = [2, 1, 2, 1, 2, 1, 2, 1, 1, 1, 1, 1, 2, 1]
    tf = receptive_field_single_path([3] * 14, strides, [int(s == 1) for s in strides])
    distill(
        "MobileNetV1 (r, S, P)", [mb.size[0], mb.stride[0], tf.padding[0]], DISTILL["mobilenet_v1"]
    )
    rows = [
        [n, rf.size[0], rf.stride[0], rf.padding[0]]
        for n, rf in [("VGG-16", vgg), ("MobileNetV1", mb)]
    ]
    ctx.table("final feature map, 224 x 224 input", ["network", "r", "S", "P (torch)"], rows)
    article_p = DISTILL["mobilenet_v1"][2]
    ctx.claim(
        "torch's symmetric padding adds 1 + 2 + 4 + 8 + 16 = 31 to MobileNetV1's P",
        mb.padding[0] - article_p == 31,
        f"P = {mb.padding[0]} (torch) vs {article_p} (article, TensorFlow 'SAME')",
    )
    ctx.say(f"""
        MobileNetV1 reaches {mb.size[0]} pixels in 28 layers because its strides come early. Its
        P ({mb.padding[0]}) differs from the article's {article_p}: torch pads 1 on both sides
        at stride 2 where TensorFlow's 'SAME' pads only on the right for even sizes, which adds
        1 + 2 + 4 + 8 + 16 = 31. The field is larger than the image: border units see mostly
        padding.
        """)
    net = nn.Sequential(nn.Conv2d(2, 3, 3, 2), nn.AvgPool2d(2), nn.Conv2d(3, 2, 3, dilation=2))
    net = net.double()
    with torch.no_grad():
        for prm in net.parameters():
            prm.uniform_(0.5, 1.0)  # positive weights: no gradient cancels inside the field
    box, grad = _gradient_box(net, (2, 40, 40), (3, 4))
    region = [list(b) for b in receptive_field(net, (2, 40, 40)).final.region((3, 4))]
    ctx.check("field of unit (3, 4) = non-zero gradient box", region, box, ref="autograd")
    se = nn.Sequential(nn.Conv2d(3, 8, 3), models.SqueezeExcitation(8, 4))
    se_rf = receptive_field(se, (3, 32, 32)).final
    ctx.claim(
        "squeeze-excitation gives every unit the whole image",
        se_rf.global_context,
        f"the SE branch pools globally: local field {se_rf.size[0]}, plus global context",
    )
    with ctx.figure("growth", figsize=(10, 4)) as fig:
        ax1, ax2 = fig.subplots(1, 2)
        for name in ("vgg16", "mobilenet_v1"):
            layers = receptive_field(_meta(name), (3, 224, 224)).layers.values()
            ax1.plot(
                [rf.size[0] for rf in layers if rf is not None and not rf.is_global], label=name
            )
        ax1.axhline(224, color="grey", ls="--", label="image side")
        ax1.set(xlabel="node (graph order)", ylabel="receptive field r", title="field growth")
        ax1.legend()
        ax2.imshow(grad, cmap="magma")
        ax2.set_title("|gradient| of unit (3, 4): its field")


@lesson("params-flops")
def params_flops_lesson(ctx: Context) -> None:
    from torch import nn

    from mlcanon.vision import profile

    ctx.say("""
        Parameters of a convolution: (k_w k_h C_in / groups + 1) C_out, the +1 being the bias.
        They do not depend on the feature-map size. Multiply-accumulates (MACs) do:
        k_w k_h (C_in / groups) C_out H_out W_out, one per weight per output position.

        FLOPs (lower-case s) counts floating-point operations, a property of the model; FLOPS
        (capital S) is operations per second, a property of the hardware: the notes call FLOPs
        "per second", which is FLOPS. A multiply-accumulate is two FLOPs. The notes' formula
        [(C_in k^2) + (C_in k^2 - 1) + 1] C_out H W counts the products, the additions between
        them and the bias: exactly 2 MACs per output. Our FLOP column counts 2 per MAC plus the
        bias add. The counters people use report MACs instead, whatever they call them:
        papers' "multiply-adds", fvcore ("flops"), thop ("macs") and ptflops (one per
        multiply-add plus the bias add, printed as GMac).
        """)
    conv = nn.Conv2d(16, 32, 3, padding=1)
    p = profile(conv, (16, 28, 28))
    numel = sum(prm.numel() for prm in conv.parameters())
    ctx.check("params (k k Cin + 1) Cout", (3 * 3 * 16 + 1) * 32, numel, ref="torch numel")
    notes = ((16 * 9) + (16 * 9 - 1) + 1) * 32 * 28 * 28
    ctx.check("notes' conv FLOPs = 2 MACs", 2 * p.macs, notes, ref="the notes' formula")
    ctx.check(
        "our FLOPs = notes + 1 bias add per output", p.flops, notes + 32 * 28 * 28, ref="convention"
    )
    fc = profile(nn.Linear(512, 10), (512,))
    ctx.check(
        "notes' FC FLOPs [In + (In-1) + 1] Out = 2 MACs",
        2 * fc.macs,
        (512 + 511 + 1) * 10,
        ref="the notes' formula",
    )
    rows = []
    for name, (params, gmacs) in TORCHVISION.items():
        p = profile(_meta(name), (3, 224, 224))
        ctx.check(f"{name} params", p.params, params, ref="torchvision model metadata")
        ctx.check(
            f"{name} GMACs (2 decimals)",
            round(p.macs / 1e9, 2),
            gmacs,
            ref="torchvision model metadata (GFLOPS column)",
        )
        rows.append([name, f"{p.params:,}", f"{p.macs / 1e6:.1f} M", f"{p.flops / 1e6:.1f} M"])
    ctx.table("bundled models at 224 x 224", ["model", "params", "MACs", "FLOPs"], rows)
    _counters(ctx)


def _counters(ctx: Context) -> None:
    """MobileNetV2 through fvcore and thop: the differences are exactly their conventions."""
    import copy

    import torch

    from mlcanon import models
    from mlcanon.vision import profile

    model = models.mobilenet_v2().eval()
    x = torch.zeros(1, 3, 128, 128)  # the conventions do not depend on the size
    p = profile(model, (3, 128, 128))
    kinds = p.by_type()
    bn, pool = kinds["BatchNorm2d"][3], kinds["AdaptiveAvgPool2d"][3]

    def fvcore_total() -> float:
        from fvcore.nn import FlopCountAnalysis

        analysis = FlopCountAnalysis(model, x)
        analysis.unsupported_ops_warnings(False)
        analysis.uncalled_modules_warnings(False)
        return analysis.total()

    def thop_total() -> float:
        import thop

        return thop.profile(copy.deepcopy(model), (x,), verbose=False)[0]

    ctx.check(
        "MACs + BN (2/elt) + pool (1/input) = fvcore",
        p.macs + bn + pool,
        fvcore_total,
        ref="fvcore FlopCountAnalysis",
    )
    ctx.check(
        "MACs + BN (4/elt) + pool (k + 1/output) = thop",
        p.macs + 2 * bn + pool + 1280,
        thop_total,
        ref="thop.profile",
    )
    import time

    with torch.no_grad():
        model(x)  # warm-up
        start = time.perf_counter()
        model(x)
        seconds = time.perf_counter() - start
    ctx.table(
        "FLOPs is a count, FLOPS a rate (one forward pass here, 128 x 128)",
        ["FLOPs (model)", "seconds (this machine)", "achieved FLOPS"],
        [[f"{p.flops:,}", seconds, f"{p.flops / seconds / 1e9:.1f} G"]],
    )
    dw = sum(
        r.macs for r in p.layers if r.type == "Conv2d" and model.get_submodule(r.name).groups > 1
    )
    ctx.say(f"""
        The counters agree on convolutions and linear layers and differ elsewhere, each by its
        own convention (batch norm at 2 or 4 per element, pooling per input or per output). A
        MAC count alone does not predict speed: depthwise layers hold {dw / p.macs:.1%} of
        MobileNetV2's MACs but are limited by memory traffic, not arithmetic (the
        latency-vs-macs lesson times them).
        """)
    with ctx.figure("macs-by-kind", figsize=(6, 3.5)) as fig:
        ax = fig.subplots()
        labels = ["dense conv (1x1, stem)", "depthwise 3x3", "classifier"]
        ax.bar(labels, [kinds["Conv2d"][2] - dw, dw, kinds["Linear"][2]])
        ax.set(ylabel="MACs", title="MobileNetV2 multiply-adds by kind")


@lesson("conv-output-size")
def conv_output_size_lesson(ctx: Context) -> None:
    import torch
    from torch import nn

    from mlcanon import models
    from mlcanon.vision import conv_output_size, output_shapes, pool_output_size, profile

    ctx.say("""
        A k x k window with stride S over an input of size W padded by P on both sides fits
        floor((W + 2P - k) / S) + 1 times; with dilation d the window spans d(k - 1) + 1.
        Convolution floors: no window hangs over the padded border. Pooling has a choice: torch
        floors by default; Caffe (and ceil_mode=True) rounds up so that a last partial window is
        kept, unless it would start inside the right padding. A transposed convolution inverts
        the shape map, (W - 1)S - 2P + d(k - 1) + output_padding + 1, where output_padding picks
        among the input sizes the floor merged.
        """)
    rng = np.random.default_rng(0)
    mismatches = 0
    for _ in range(300):
        w, k, s = int(rng.integers(4, 40)), int(rng.integers(1, 6)), int(rng.integers(1, 4))
        p = int(rng.integers(0, k // 2 + 1))
        x = torch.empty(1, 1, w, device="meta")
        for ceil in (False, True):
            ref = nn.MaxPool1d(k, s, p, ceil_mode=ceil)(x).shape[-1]
            mismatches += pool_output_size(w, k, s, p, ceil_mode=ceil) != ref
        mismatches += (
            conv_output_size(w, k, s, p) != nn.Conv1d(1, 1, k, s, p, device="meta")(x).shape[-1]
        )
    ctx.check(
        "900 random pool/conv sizes: mismatches", mismatches, 0, ref="shapes produced by torch"
    )
    _dilated_and_transposed(ctx)
    rows = [
        [
            f"W={w} k={k} S={s} P={p}",
            (w + 2 * p - k) / s + 1,
            conv_output_size(w, k, s, p),
            pool_output_size(w, k, s, p, ceil_mode=True),
        ]
        for w, k, s, p in [(224, 3, 2, 1), (7, 2, 2, 0), (13, 3, 2, 0), (56, 3, 2, 1)]
    ]
    ctx.table("floor or ceil", ["layer", "(W - k + 2P)/S + 1", "floor (conv)", "ceil (pool)"], rows)
    model = models.mobilenet_v2()
    walked = output_shapes(model, (3, 225, 225))
    ran = {r.name: r.output_shape for r in profile(model, (3, 225, 225)).layers if r.output_shape}
    wrong = sum(walked[k] != v for k, v in ran.items())
    ctx.check(
        "MobileNetV2 at 225 x 225, formulas vs torch: mismatches",
        wrong,
        0,
        ref="shapes produced by torch",
    )
    ctx.say("""
        With padding 1, a 3x3 stride-2 layer maps W to floor((W - 1)/2) + 1 = ceil(W/2): on an
        odd input MobileNetV2 goes 225 -> 113 -> 57 -> 29 -> 15 -> 8, and the walk above sized
        each of its layers by these formulas alone.
        """)
    xs = np.arange(4, 33)
    with ctx.figure("floor-vs-ceil", figsize=(6, 3.5)) as fig:
        ax = fig.subplots()
        for ceil, style in ((False, "-"), (True, "--")):
            sizes = [pool_output_size(int(x), 3, 2, ceil_mode=ceil) for x in xs]
            ax.step(xs, sizes, where="mid", ls=style, label="ceil" if ceil else "floor")
        ax.set(xlabel="input size W", ylabel="output size", title="3x3 pooling, stride 2")
        ax.legend()


def _dilated_and_transposed(ctx: Context) -> None:
    """Dilated and transposed convolutions over a full grid of sizes, against torch's shapes."""
    import itertools

    import torch
    import torch.nn.functional as F

    from mlcanon.vision import conv_output_size, conv_transpose_output_size

    grid = itertools.product((5, 8, 13, 20), (1, 2, 3, 5), (1, 2, 3), (0, 1, 2), (1, 2, 3))
    conv = {"torch": [], "formula": [], "ours": []}
    tconv = {"torch": [], "formula": [], "ours": []}
    for w, k, s, p, d in grid:
        x = torch.empty(1, 1, w, device="meta")
        if w + 2 * p >= d * (k - 1) + 1:  # the dilated window fits
            weight = torch.empty(1, 1, k, device="meta")
            conv["torch"].append(F.conv1d(x, weight, stride=s, padding=p, dilation=d).shape[-1])
            conv["formula"].append((w + 2 * p - d * (k - 1) - 1) // s + 1)
            conv["ours"].append(conv_output_size(w, k, s, p, d))
        for op in range(max(s, d)):  # output_padding must be below stride or dilation
            weight = torch.empty(1, 1, k, device="meta")
            out = (w - 1) * s - 2 * p + d * (k - 1) + op + 1
            if out < 1:
                continue
            tconv["torch"].append(
                F.conv_transpose1d(
                    x, weight, stride=s, padding=p, output_padding=op, dilation=d
                ).shape[-1]
            )
            tconv["formula"].append(out)
            tconv["ours"].append(conv_transpose_output_size(w, k, s, p, op, d))
    ref = "shapes produced by torch (meta tensors)"
    ctx.check(
        f"dilated conv, {len(conv['torch'])} (W, k, S, P, d): floor((W + 2P - d(k - 1) "
        "- 1) / S) + 1",
        conv["formula"],
        conv["torch"],
        ref=ref,
    )
    ctx.check("dilated conv: mlcanon.vision.conv_output_size", conv["ours"], conv["torch"], ref=ref)
    ctx.check(
        f"transposed conv, {len(tconv['torch'])} (W, k, S, P, d, output_padding): "
        "(W - 1)S - 2P + d(k - 1) + output_padding + 1",
        tconv["formula"],
        tconv["torch"],
        ref=ref,
    )
    ctx.check(
        "transposed conv: mlcanon.vision.conv_transpose_output_size",
        tconv["ours"],
        tconv["torch"],
        ref=ref,
    )
