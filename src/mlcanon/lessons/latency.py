"""Section L lesson: multiply-adds against measured latency on this machine's CPU (and on a GPU
when one is present)."""

from __future__ import annotations

from typing import Any

import numpy as np

from mlcanon.lessons import Context, lesson

SIDE = 112  # input side: a quarter of the 224 x 224 cost keeps the timing inside seconds
# the mobile networks (VGG-16's 138 M parameters would cost more to build than to time)
NETWORKS = (
    "mobilenet_v1",
    "mobilenet_v2",
    "mobilenet_v3_large",
    "mobilenet_v3_small",
    "ghostnet",
    "shufflenet_v1",
)


def _fastest_seconds(fn: Any, x: Any, min_run_time: float = 0.1) -> float:
    """Time of ``fn(x)`` by torch.utils.benchmark (it synchronizes CUDA itself): the fastest of
    its blocks of runs, the one least disturbed by other processes on a shared machine (the
    median follows the load: under a loaded CI run it reordered the networks)."""
    import torch
    from torch.utils import benchmark

    with torch.inference_mode():
        fn(x)  # warm-up: allocations, cuDNN / oneDNN algorithm choice
        timer = benchmark.Timer("fn(x)", globals={"fn": fn, "x": x}, num_threads=1)
        return min(timer.blocked_autorange(min_run_time=min_run_time).times)


def _networks(device: str, batch: int = 1) -> dict[str, tuple[int, float]]:
    """name -> (MACs per image at SIDE x SIDE, seconds per batch) for the bundled networks."""
    import torch

    from mlcanon import models
    from mlcanon.vision import profile

    out = {}
    for name in NETWORKS:
        with torch.random.fork_rng():
            torch.manual_seed(0)
            net = models.get_model(name).eval().to(device)
        macs = profile(net, (3, SIDE, SIDE)).macs
        x = torch.randn(batch, 3, SIDE, SIDE, device=device)
        out[name] = (macs, _fastest_seconds(net, x))
    return out


@lesson("latency-vs-macs")
def latency_vs_macs_lesson(ctx: Context) -> None:
    from scipy.stats import spearmanr

    ctx.say(f"""
        Papers compare efficient networks by multiply-adds because the count does not depend
        on the machine. Speed does. A layer's time is bounded by its arithmetic (MACs over the
        machine's MAC rate) and by its memory traffic (bytes read and written over the
        bandwidth), plus a fixed cost per operator call; which bound wins depends on the
        layer's arithmetic intensity (MACs per byte) and on the device. Below, every bundled
        network at {SIDE} x {SIDE}, batch 1, float32, one CPU thread, timed with
        torch.utils.benchmark (the fastest block of repeated runs, the one least disturbed by
        other jobs on a shared machine; what is left of their noise is not measured here).
        """)
    cpu = _networks("cpu")
    rows = [[n, macs / 1e6, t * 1e3, macs / t / 1e9] for n, (macs, t) in cpu.items()]
    ctx.table(
        f"CPU, batch 1, {SIDE} x {SIDE}",
        ["network", "MMACs", "latency (ms)", "achieved GMAC/s"],
        rows,
    )
    macs = np.array([r[1] for r in rows])
    lat = np.array([r[2] for r in rows])
    rate = np.array([r[3] for r in rows])
    rho = float(spearmanr(macs, lat).statistic)
    spread = rate.max() / rate.min()
    order = [rows[i][0] for i in np.argsort(macs)]
    ctx.say(f"""
        Rank correlation between MACs and latency over the {len(rows)} networks: Spearman
        rho = {rho:.2f} (1 would mean the MAC count orders them exactly as the clock does).
        Ordered by MACs they are {", ".join(order)}; the achieved rate differs by a factor
        {spread:.1f} between them ({rate.min():.1f} to {rate.max():.1f} GMAC/s), against a
        factor {macs.max() / macs.min():.1f} between their MAC counts, so the count alone cannot
        tell which one is faster.
        """)
    ctx.claim(
        "MACs alone do not rank the networks' latency (Spearman rho < 0.9)",
        rho < 0.9,
        f"rho = {rho:.2f} over {len(rows)} networks",
    )
    ctx.claim(
        "the achieved MAC rate varies by more than 2x between the networks",
        spread > 2,
        f"{rate.min():.2f} to {rate.max():.2f} GMAC/s",
    )
    _layer_rates(ctx)
    _gpu(ctx)
    with ctx.figure("macs-vs-latency", figsize=(6.4, 4.2)) as fig:
        ax = fig.subplots()
        ax.scatter(macs, lat)
        for name, a, b in zip(cpu, macs, lat, strict=True):
            ax.annotate(name, (a, b), fontsize=7)
        ax.set(
            xscale="log",
            yscale="log",
            xlabel="multiply-adds (millions)",
            ylabel="latency (ms, CPU, batch 1)",
            title=f"MACs vs measured latency, {SIDE} x {SIDE}",
        )


def _layer_rates(ctx: Context) -> None:
    """Dense, pointwise and depthwise convs on the map shapes of MobileNet v1's stages."""
    import torch
    from torch import nn

    from mlcanon.vision import profile

    kinds = {  # name -> (layer builder, MACs per output position)
        "dense 3x3": (lambda c: nn.Conv2d(c, c, 3, padding=1, bias=False), lambda c: 9 * c * c),
        "pointwise 1x1": (lambda c: nn.Conv2d(c, c, 1, bias=False), lambda c: c * c),
        "depthwise 3x3": (
            lambda c: nn.Conv2d(c, c, 3, padding=1, groups=c, bias=False),
            lambda c: 9 * c,
        ),
    }
    total = {k: [0, 0.0] for k in kinds}  # MACs, seconds
    rows = []
    for c, hw in ((64, 56), (128, 28), (256, 14), (512, 7)):
        x = torch.randn(1, c, hw, hw)
        row: list[Any] = [f"{hw} x {hw} x {c}"]
        for name, (build, per_position) in kinds.items():
            layer = build(c).eval()
            macs = profile(layer, (c, hw, hw)).macs
            ctx.check(
                f"{name} on {hw} x {hw} x {c}: MACs",
                macs,
                per_position(c) * hw * hw,
                ref="k^2 C_in C_out / groups per output position",
            )
            t = _fastest_seconds(layer, x, 0.05)
            total[name][0] += macs
            total[name][1] += t
            row.append(macs / t / 1e9)
        # the depthwise layer's MACs per byte it must move at least: x, y and weights, float32
        row.append(9 * c * hw * hw / (4 * (2 * x.numel() + 9 * c)))
        rows.append(row)
    ctx.table(
        "achieved GMAC/s per layer kind (CPU, one thread)",
        ["map", *kinds, "depthwise: MACs per byte moved"],
        rows,
    )
    rate = {k: m / t / 1e9 for k, (m, t) in total.items()}
    ratio = rate["dense 3x3"] / rate["depthwise 3x3"]
    ctx.say(f"""
        A depthwise conv does 9 MACs per output value and reads one input value per output
        value, so it does about 9/8 MACs per byte moved (float32, input plus output), against
        9 C / 8 for a dense 3x3 conv: it is bound by memory traffic and by how well the
        library vectorizes a per-channel loop, not by arithmetic. Over the four map shapes of
        MobileNet v1's stages the depthwise layers ran at {rate["depthwise 3x3"]:.1f} GMAC/s
        against {rate["dense 3x3"]:.1f} for dense 3x3 convs and {rate["pointwise 1x1"]:.1f}
        for pointwise ones, {ratio:.1f}x slower per MAC than the dense conv (each time the
        fastest block of repeated runs, summed over the four shapes). This is
        why a network built of depthwise layers is slower than its MAC count suggests, and why
        ShuffleNet v2 and MobileNetV3 were designed with measured latency in the loop.
        """)
    ctx.claim(
        "depthwise convs run at under half the dense conv's MAC rate (summed over the four shapes)",
        ratio > 2,
        ", ".join(f"{k}: {v:.2f} GMAC/s" for k, v in rate.items()),
    )


def _gpu(ctx: Context) -> None:
    import torch

    if not torch.cuda.is_available():
        ctx.skip(
            "GPU latency: the same networks on a GPU",
            "no CUDA device on this machine",
            ref="torch.cuda",
        )
        return
    rows = []
    for batch in (1, 64):
        for name, (macs, t) in _networks("cuda", batch).items():
            rows.append([name, batch, macs / 1e6, t * 1e3, batch * macs / t / 1e9])
    ctx.table(
        f"GPU ({torch.cuda.get_device_name()}), {SIDE} x {SIDE}",
        ["network", "batch", "MMACs per image", "latency (ms)", "GMAC/s"],
        rows,
    )
    one = [r[3] for r in rows if r[1] == 1]
    rate = {(r[0], r[1]): r[4] for r in rows}
    names = [r[0] for r in rows if r[1] == 1]
    ctx.claim(
        "on the GPU a batch of 64 reaches a higher MAC rate than batch 1 for every network",
        all(rate[n, 64] > rate[n, 1] for n in names),
        ", ".join(f"{n}: {rate[n, 1]:.1f} -> {rate[n, 64]:.1f} GMAC/s" for n in names),
    )
    ctx.say(f"""
        On the GPU at batch 1 the networks take {min(one):.1f} to {max(one):.1f} ms whatever
        their MACs: a small network there is bound by the per-layer launch cost, and only a
        large batch fills the device (compare the GMAC/s at batch 64).
        """)
