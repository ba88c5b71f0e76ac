"""Convolution building blocks (section H: 1x1, dilated and transposed convolution) and what
convolution and pooling do to gradients and shifts (section G: pooling backprop, translation
invariance), on the hand-differentiated ops of :mod:`mlcanon.nn.functional`."""

from __future__ import annotations

from functools import partial

import numpy as np

from mlcanon.lessons import Context, lesson


def _gen(seed: int = 0):
    import torch

    return torch.Generator().manual_seed(seed)


def _randn(*shape, seed: int = 0):
    import torch

    return torch.randn(*shape, dtype=torch.float64, generator=_gen(seed))


def _digit_images(n: int = 64):
    """The first n digits as (n, 1, 8, 8) float64 tensors in [0, 1]."""
    import torch
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return torch.tensor(X[:n] / 16.0).reshape(-1, 1, 8, 8), y[:n]


@lesson("conv1x1")
def conv1x1_lesson(ctx: Context) -> None:
    import torch

    from mlcanon.nn import functional as F

    ctx.say("""
        A 1x1 convolution has no spatial extent: output channel o at pixel (i, j) is
        sum_c W[o, c] x[c, i, j] + b[o]. It is a fully connected layer from C_in to C_out
        channels applied at every pixel with shared weights, so it mixes channels without
        looking at neighbours. Three uses follow: (1) change the number of channels cheaply —
        reduce before an expensive 3x3 convolution and expand after it (the ResNet bottleneck,
        Inception's reductions); (2) add a nonlinearity per pixel (Network in Network, Lin et
        al. 2014); (3) the pointwise half of a depthwise separable convolution.
        """)
    x = _randn(2, 16, 7, 9)
    w, b = _randn(8, 16, seed=1), _randn(8, seed=2)
    ours = F.conv2d(x, w[:, :, None, None], b)

    def per_pixel_linear():
        lin = torch.nn.Linear(16, 8).double()
        with torch.no_grad():
            lin.weight.copy_(w)
            lin.bias.copy_(b)
        return lin(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2).detach().numpy()

    ctx.check(
        "1x1 conv = torch Linear applied to every pixel",
        ours.numpy(),
        per_pixel_linear,
        rtol=1e-12,
        atol=1e-13,
        ref="torch.nn.Linear",
    )
    ctx.check(
        "1x1 conv vs torch conv2d",
        ours.numpy(),
        lambda: torch.nn.functional.conv2d(x, w[:, :, None, None], b).numpy(),
        rtol=1e-12,
        atol=1e-13,
        ref="torch.nn.functional.conv2d",
    )

    rows = []
    for c in (64, 256):
        hw = 28 * 28
        direct = 9 * c * c
        reduced = c * (c // 4) + 9 * (c // 4) ** 2 + (c // 4) * c
        rows.append([f"{c} -> {c}", direct, reduced, reduced / direct, direct * hw, reduced * hw])
    ctx.table(
        "3x3 conv vs 1x1 reduce (C/4) + 3x3 + 1x1 expand (no biases), 28x28 map",
        ["channels", "params 3x3", "params bottleneck", "ratio", "MACs 3x3", "MACs bottleneck"],
        rows,
    )
    ctx.claim(
        "the bottleneck costs about 1/8.5 of the direct 3x3 convolution",
        abs(rows[1][3] - 17 / 144) < 1e-12,
        f"ratio {rows[1][3]:.4f} = 17/144",
    )

    ctx.say("""
        As a linear map on the channel vector of each pixel, a 1x1 convolution to fewer
        channels can keep at most C_out directions. Reducing 16 channels of random features to
        4 loses information unless the features themselves live in a 4-dimensional subspace:
        below, features of rank 4 pass through a 16 -> 4 -> 16 pair of 1x1 convolutions
        losslessly when the reduction spans their subspace, and a random reduction of
        full-rank features does not.
        """)
    basis = torch.linalg.qr(_randn(16, 4, seed=3))[0]  # orthonormal 4-dim subspace
    low = torch.einsum("ck,nkhw->nchw", basis, _randn(2, 4, 7, 9, seed=4))
    down, up = basis.t()[:, :, None, None], basis[:, :, None, None]
    back = F.conv2d(F.conv2d(low, down), up)
    ctx.check(
        "rank-4 features survive 16 -> 4 -> 16 (1x1 convolutions)",
        back.numpy(),
        low.numpy(),
        rtol=1e-10,
        atol=1e-12,
        ref="the input itself",
    )
    err = (F.conv2d(F.conv2d(x, down), up) - x).norm() / x.norm()
    ctx.claim(
        "full-rank features lose most of their energy through 4 channels",
        err > 0.5,
        f"relative error {err:.2f} (16 -> 4 -> 16)",
    )


def _rf_support(dilations: list[int], size: int = 41) -> np.ndarray:
    """Which input pixels reach the centre output of a stack of 3x3 convolutions of ones."""
    import torch

    from mlcanon.nn import functional as F

    x = torch.zeros(1, 1, size, size, dtype=torch.float64, requires_grad=True)
    y = x
    for d in dilations:
        y = F.conv2d(y, torch.ones(1, 1, 3, 3, dtype=torch.float64), padding=d, dilation=d)
    y[0, 0, size // 2, size // 2].backward()
    return x.grad[0, 0].numpy()


@lesson("dilated-conv")
def dilated_conv_lesson(ctx: Context) -> None:
    import torch

    from mlcanon.nn import functional as F

    ctx.say("""
        A dilated (atrous) convolution spaces the kernel taps d pixels apart: a 3x3 kernel
        with dilation d covers (2d + 1) x (2d + 1) pixels with 9 weights. With padding d and
        stride 1 the output keeps the input's resolution. Stacking layers with dilations
        1, 2, 4, ... grows the receptive field exponentially with depth instead of linearly
        (Yu & Koltun 2016), which is what dense prediction (segmentation, DeepLab) needs:
        large context without pooling away resolution.

        Receptive fields below are measured, not computed from a formula: the gradient of
        one output pixel with respect to the input is non-zero exactly on the pixels that
        reach it.
        """)
    x, w = _randn(2, 3, 11, 13), _randn(4, 3, 3, 3, seed=1)
    ctx.check(
        "dilated conv (d=2) vs torch",
        F.conv2d(x, w, padding=2, dilation=2).numpy(),
        lambda: torch.nn.functional.conv2d(x, w, padding=2, dilation=2).numpy(),
        rtol=1e-12,
        atol=1e-13,
        ref="torch conv2d dilation",
    )
    spread = torch.zeros(4, 3, 5, 5, dtype=torch.float64)
    spread[:, :, ::2, ::2] = w  # the same 9 taps with zeros between them
    ctx.check(
        "dilation 2 = a 5x5 kernel with zeros inserted",
        F.conv2d(x, w, padding=2, dilation=2).numpy(),
        torch.nn.functional.conv2d(x, spread, padding=2).numpy(),
        rtol=1e-12,
        atol=1e-13,
        ref="zero-inserted kernel, torch conv2d",
    )

    stacks = {
        "1, 1, 1": [1, 1, 1],
        "1, 2, 4": [1, 2, 4],
        "2, 2, 2": [2, 2, 2],
        "1, 2, 4, 8": [1, 2, 4, 8],
    }
    supports, rows = {}, []
    for name, ds in stacks.items():
        s = _rf_support(ds)
        supports[name] = s
        on = np.argwhere(s != 0)
        width = on[:, 1].max() - on[:, 1].min() + 1
        holes = (width**2 - len(on)) / width**2
        rows.append([name, len(ds), 9 * len(ds), int(width), 1 + 2 * sum(ds), holes])
    ctx.table(
        "receptive field of stacked 3x3 convolutions (measured by backprop)",
        ["dilations", "layers", "weights", "RF width", "1 + 2 sum(d)", "share of holes"],
        rows,
    )
    ctx.claim(
        "measured width = 1 + 2 sum(d) for every stack",
        all(r[3] == r[4] for r in rows),
        "; ".join(f"{r[0]}: {r[3]}" for r in rows),
    )
    ctx.claim(
        "dilations 2, 2, 2 leave holes (gridding), 1, 2, 4 do not",
        rows[2][5] > 0.5 and rows[1][5] == 0.0,
        f"holes: {rows[2][5]:.2f} vs {rows[1][5]:.2f}",
    )
    rf = {r[0]: r[3] for r in rows}
    ctx.say(f"""
        The same three layers see {rf["1, 2, 4"]} x {rf["1, 2, 4"]} pixels with dilations
        1, 2, 4 and {rf["1, 1, 1"]} x {rf["1, 1, 1"]} without. Dilation 2 everywhere also
        reaches {rf["2, 2, 2"]} x {rf["2, 2, 2"]}, but with holes ({rows[2][5]:.0%} of that
        square is never seen): the "gridding" artefact, avoided by mixing rates (Wang et al.
        2018, hybrid dilated convolution).
        """)
    with ctx.figure("dilated-receptive-fields", figsize=(10, 2.8)) as fig:
        axes = fig.subplots(1, len(supports))
        for ax, (name, s) in zip(axes, supports.items(), strict=True):
            ax.imshow(np.log1p(s), cmap="magma")
            ax.set(title=f"dilations {name}", xticks=[], yticks=[])


@lesson("transposed-conv")
def transposed_conv_lesson(ctx: Context) -> None:
    import torch

    from mlcanon.nn import functional as F

    vs_torch = partial(ctx.check, rtol=1e-12, atol=1e-12, ref="torch conv_transpose2d")
    ctx.say("""
        A transposed convolution ("deconvolution", fractionally strided convolution) maps a
        small map to a large one: each input pixel paints a copy of the kernel, scaled by its
        value, onto the output, stride pixels apart, and overlapping copies add. Output size:
        (H - 1) s - 2p + d(k - 1) + output_padding + 1. Two equivalent views, both checked:
        (1) insert s - 1 zeros between input pixels, pad by d(k - 1) - p, and run an ordinary
        convolution with the kernel flipped and in/out channels swapped; (2) it is the
        gradient of a convolution with respect to its input, i.e. the transpose of the
        convolution's matrix — hence the name.
        """)
    x, w = _randn(2, 3, 5, 4), _randn(3, 2, 3, 3, seed=1)
    s, p = 2, 1
    ours = F.conv_transpose2d(x, w, stride=s, padding=p, output_padding=1)
    vs_torch(
        "conv_transpose2d (stride 2, padding 1, output_padding 1)",
        ours.numpy(),
        lambda: torch.nn.functional.conv_transpose2d(
            x, w, stride=s, padding=p, output_padding=1
        ).numpy(),
    )
    up = torch.zeros(2, 3, (5 - 1) * s + 1, (4 - 1) * s + 1, dtype=torch.float64)
    up[:, :, ::s, ::s] = x  # s - 1 zeros between input pixels
    q = 3 - 1 - p  # padding d(k - 1) - p, plus output_padding at the bottom/right
    flipped = w.flip(2, 3).transpose(0, 1)  # (out, in, k, k), kernel rotated by 180 degrees
    zero_inserted = torch.nn.functional.conv2d(
        torch.nn.functional.pad(up, (q, q + 1, q, q + 1)), flipped
    )
    ctx.check(
        "= zero insertion + convolution with the flipped kernel",
        ours.numpy(),
        zero_inserted.numpy(),
        rtol=1e-12,
        atol=1e-12,
        ref="zero-insertion construction, torch conv2d",
    )
    big = torch.zeros(2, 2, 10, 8, dtype=torch.float64, requires_grad=True)
    # d <conv2d(big, w), x> / d big, through torch's own conv2d (ours has a hand-written backward)
    torch.nn.functional.conv2d(big, w, stride=s, padding=p).backward(x)
    ctx.check(
        "= the gradient of conv2d (same kernel, stride, padding) w.r.t. its input",
        ours.numpy(),
        big.grad.numpy(),
        rtol=1e-12,
        atol=1e-12,
        ref="torch autograd",
    )

    ones = torch.ones(1, 1, 6, 6, dtype=torch.float64)
    counts = {
        k: F.conv_transpose2d(ones, torch.ones(1, 1, k, k, dtype=torch.float64), stride=2)[
            0, 0, 2:-2, 2:-2
        ].numpy()
        for k in (3, 4)
    }
    uneven = ", ".join(f"{v:g}" for v in sorted(set(counts[3].ravel()), reverse=True))
    ctx.say(f"""
        Checkerboard artefacts (Odena et al. 2016): with kernel 3 and stride 2 the painted
        copies overlap unevenly — output pixels receive {uneven} contributions by position —
        so even a constant input produces a checkerboard. A kernel divisible by the stride
        (4 with stride 2) overlaps evenly: every pixel receives {counts[4].max():g}. The figure
        shows the number of contributions per output pixel, away from the border.
        """)
    ctx.claim(
        "kernel 3, stride 2 overlaps unevenly; kernel 4, stride 2 evenly",
        counts[3].min() != counts[3].max() and counts[4].min() == counts[4].max(),
        f"k=3: {sorted(set(counts[3].ravel()))}, k=4: {sorted(set(counts[4].ravel()))}",
    )
    with ctx.figure("transposed-overlap", figsize=(7, 3.2)) as fig:
        axes = fig.subplots(1, 2)
        for ax, (k, c) in zip(axes, counts.items(), strict=True):
            im = ax.imshow(c, cmap="viridis")
            ax.set(title=f"kernel {k}, stride 2: overlaps", xticks=[], yticks=[])
            fig.colorbar(im, ax=ax, shrink=0.8)


@lesson("pooling-backprop")
def pooling_backprop_lesson(ctx: Context) -> None:
    import torch

    from mlcanon.nn import functional as F

    vs_torch = partial(ctx.check, rtol=1e-12, atol=1e-15)
    ctx.say("""
        Pooling has no weights, so its backward pass only routes the upstream gradient g back
        to the inputs of each window. Max pooling, y = max over the window R of x: the
        derivative is 1 for the input that attained the maximum and 0 for the others, so the
        whole g goes to the argmax (recorded in the forward pass) and the rest of the window
        gets nothing. Mean pooling, y = (1/|R|) sum over R of x: every input of the window
        gets g / |R|. Where windows overlap (stride < kernel) an input collects the
        contributions of every window it belongs to.
        """)
    x = torch.tensor(
        [
            [
                [
                    [1.0, 3.0, 2.0, 0.0],
                    [4.0, 2.0, 1.0, 5.0],
                    [0.0, 1.0, 6.0, 2.0],
                    [2.0, 8.0, 3.0, 1.0],
                ]
            ]
        ],
        dtype=torch.float64,
    )
    g = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]], dtype=torch.float64)
    grads = {}
    for name, fn in (("max", F.max_pool2d), ("mean", F.avg_pool2d)):
        xi = x.clone().requires_grad_()
        fn(xi, 2).backward(g)
        grads[name] = xi.grad[0, 0].numpy()
    ctx.table(
        "input x (4x4), upstream gradient g = [[1, 2], [3, 4]] on the 2x2 output",
        ["row", "x", "dL/dx, max pool 2x2", "dL/dx, mean pool 2x2"],
        [
            [
                i,
                str(x[0, 0, i].tolist()),
                str(grads["max"][i].tolist()),
                str(grads["mean"][i].tolist()),
            ]
            for i in range(4)
        ],
    )
    expected_max = np.array([[0, 0, 0, 0], [1, 0, 0, 2], [0, 0, 4, 0], [0, 3, 0, 0.0]])
    ctx.check(
        "max pool by hand: g lands on the window maxima 4, 5, 8, 6",
        grads["max"],
        expected_max,
        ref="hand computation",
    )
    ctx.check(
        "mean pool by hand: g/4 spread over each window",
        grads["mean"],
        np.kron(g[0, 0].numpy(), np.ones((2, 2))) / 4,
        ref="hand computation",
    )

    xr = _randn(2, 3, 9, 10)
    gr = _randn(2, 3, 4, 4, seed=1)
    for name, ours, ref, kw in [
        ("max", F.max_pool2d, torch.nn.functional.max_pool2d, dict(kernel_size=3, stride=2)),
        ("mean", F.avg_pool2d, torch.nn.functional.avg_pool2d, dict(kernel_size=3, stride=2)),
    ]:
        a, b = xr.clone().requires_grad_(), xr.clone().requires_grad_()
        ours(a, **kw).backward(gr)
        ref(b, **kw).backward(gr)
        vs_torch(
            f"{name} pool 3x3 stride 2 (overlapping windows): dL/dx",
            a.grad.numpy(),
            b.grad.numpy(),
            ref=f"torch {ref.__name__}",
        )
        grads[name + "-overlap"] = a.grad[0, 0].numpy()
        ctx.claim(
            f"{name} pooling passes the total gradient on unchanged",
            abs(a.grad.sum().item() - gr.sum().item()) < 1e-10,
            f"sum dL/dx = {a.grad.sum().item():.6f}, sum g = {gr.sum().item():.6f}",
        )
    share = (grads["max-overlap"] != 0).mean()
    ctx.say(f"""
        On a random 9x10 map with 3x3 windows and stride 2, max pooling sends gradient to
        only {100 * share:.0f}% of the inputs — the others get exactly zero in this step —
        while mean pooling updates every input of every window. Max pooling's gradient is
        sparse and selects the strongest feature; mean pooling's is dense and smooth.
        """)
    with ctx.figure("pooling-gradients", figsize=(9, 3)) as fig:
        axes = fig.subplots(1, 3)
        panels = [
            ("input (channel 0)", xr[0, 0].numpy()),
            ("dL/dx, max pool", grads["max-overlap"]),
            ("dL/dx, mean pool", grads["mean-overlap"]),
        ]
        for ax, (title, img) in zip(axes, panels, strict=True):
            ax.imshow(img, cmap="coolwarm")
            ax.set(title=title, xticks=[], yticks=[])


def _shift(x, dy: int, dx: int):
    """Translate images by (dy, dx) pixels, filling with zeros (no wrap-around)."""
    import torch

    out = torch.zeros_like(x)
    h, w = x.shape[-2:]
    out[..., max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)] = x[
        ..., max(-dy, 0) : h - max(dy, 0), max(-dx, 0) : w - max(dx, 0)
    ]
    return out


@lesson("translation-invariance")
def translation_invariance_lesson(ctx: Context) -> None:
    import torch

    from mlcanon.nn import functional as F

    ctx.say("""
        Two different properties hide behind "translation invariance". A convolution is
        translation *equivariant*: shifting the input shifts the feature map by the same
        amount, conv(shift(x)) = shift(conv(x)), because the same kernel is applied at every
        position (weight sharing). Invariance — the output does not change at all — only
        comes from pooling: a global pooling layer discards where a feature was. Local
        pooling with stride s gives invariance only partially: shifts by multiples of s just
        shift the pooled map; other shifts change which pixels share a window.

        Measured on digits embedded in a 16x16 canvas with a random 3x3 convolution (8
        filters):
        """)
    img, _ = _digit_images(32)
    canvas = torch.zeros(32, 1, 16, 16, dtype=torch.float64)
    canvas[:, :, 4:12, 4:12] = img
    w = _randn(8, 1, 3, 3, seed=5)
    feat = lambda t: F.relu(F.conv2d(t, w, padding=1))  # noqa: E731
    base = feat(canvas)
    ctx.check(
        "our conv on the digits vs torch",
        base.numpy(),
        lambda: torch.relu(torch.nn.functional.conv2d(canvas, w, padding=1)).numpy(),
        rtol=1e-12,
        atol=1e-13,
        ref="torch conv2d",
    )
    rows = []
    for dy, dx in [(0, 1), (1, 1), (2, 0), (2, 2), (3, 1)]:
        moved = _shift(canvas, dy, dx)
        f_moved = feat(moved)
        equi = (f_moved - _shift(base, dy, dx)).abs().max().item()
        mp, mp_moved = F.max_pool2d(base, 2), F.max_pool2d(f_moved, 2)
        even = dy % 2 == 0 and dx % 2 == 0
        pooled_equi = (mp_moved - _shift(mp, dy // 2, dx // 2)).abs().max().item() if even else None
        local = ((mp_moved - mp).norm() / mp.norm()).item()
        gap = F.adaptive_avg_pool2d(base, 1)
        glob = ((F.adaptive_avg_pool2d(f_moved, 1) - gap).norm() / gap.norm()).item()
        raw = ((moved - canvas).norm() / canvas.norm()).item()
        rows.append(
            [
                f"({dy}, {dx})",
                raw,
                equi,
                local,
                "exact shift" if even and pooled_equi < 1e-12 else "-",
                glob,
            ]
        )
    ctx.table(
        "change of the representation under a shift (relative L2 unless noted)",
        [
            "shift",
            "pixels",
            "conv: max |conv(shift x) - shift(conv x)|",
            "after 2x2 max pool",
            "2x2 max pool, even shift",
            "after global avg pool",
        ],
        rows,
    )
    ctx.claim(
        "convolution is exactly shift-equivariant (away from the border)",
        max(r[2] for r in rows) < 1e-12,
        f"max deviation {max(r[2] for r in rows):.1e}",
    )
    ctx.claim(
        "global average pooling makes the features shift-invariant",
        max(r[5] for r in rows) < 1e-12,
        f"max relative change {max(r[5] for r in rows):.1e}",
    )
    ctx.claim(
        "2x2 max pooling is not invariant: a 1-pixel shift changes its output by > 10%",
        rows[0][3] > 0.1,
        f"relative change {rows[0][3]:.2f} for shift (0, 1)",
    )
    ctx.say("""
        Exact equivariance needs the shifted digit to stay inside the canvas (zero padding
        breaks it at the border), and exact invariance needs a global pool; with strided
        pooling a CNN is only approximately invariant to small shifts, and its output can
        change noticeably under a one-pixel shift (Azulay & Weiss 2019; Zhang 2019 restores
        it with low-pass filtering before subsampling). Invariance to rotation or scale is
        not built in at all — it must be learned from data (augmentation).
        """)
    with ctx.figure("shift-equivariance", figsize=(9, 3)) as fig:
        axes = fig.subplots(1, 3)
        moved = _shift(canvas, 2, 3)
        for ax, (title, im) in zip(
            axes,
            [
                ("digit", canvas[0, 0]),
                ("feature map 0", base[0, 0]),
                ("same, digit shifted (2, 3)", feat(moved)[0, 0]),
            ],
            strict=True,
        ):
            ax.imshow(im.numpy(), cmap="gray")
            ax.set(title=title, xticks=[], yticks=[])
