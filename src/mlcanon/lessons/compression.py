"""Section L lessons on compression: distillation, pruning, low rank and quantization."""

from __future__ import annotations

from typing import Any

import numpy as np

from mlcanon.lessons import Context, lesson


def _digits(seed: int = 0) -> tuple[Any, ...]:
    """Digits scaled to [0, 1], split 2:1 (train, test) as float32 tensors."""
    import torch
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    idx = np.random.default_rng(seed).permutation(len(y))
    x, y = torch.tensor(x[idx] / 16.0, dtype=torch.float32), torch.tensor(y[idx])
    cut = 2 * len(y) // 3
    return x[:cut], y[:cut], x[cut:], y[cut:]


def _fit(model: Any, x: Any, y: Any, loss_fn: Any, steps: int, lr: float = 1e-2) -> Any:
    """Full-batch Adam on (x, y) for a fixed number of steps (seeded by the caller)."""
    import torch

    opt = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()
    return model


def _acc(model: Any, x: Any, y: Any) -> float:
    import torch

    with torch.no_grad():
        return float((model(x).argmax(1) == y).float().mean())


def _mlp(hidden: int) -> Any:
    from torch import nn

    return nn.Sequential(nn.Linear(64, hidden), nn.ReLU(), nn.Linear(hidden, 10))


@lesson("compression")
def compression_lesson(ctx: Context) -> None:
    import copy

    import torch
    import torch.nn.functional as F

    from mlcanon.compress import (
        apply_masks,
        distillation_loss,
        global_magnitude_masks,
        ln_structured_mask,
        low_rank_linear,
    )

    ctx.say("""
        Four ways to make a trained network smaller. Distillation trains a small student to
        match a large teacher's probabilities softened by a temperature T (softmax(z / T)): at
        T > 1 the teacher's ranking of wrong classes becomes visible and carries more
        information per example than a one-hot label. Magnitude pruning zeroes the weights of
        smallest |w| (unstructured: a sparse matrix, only faster with sparse kernels);
        structured pruning removes whole neurons / filters of smallest L1 norm, which shrinks
        the dense layer itself. Low-rank factorization replaces an m x n weight by two factors
        of rank r (r(m + n) numbers); the truncated SVD gives the best such fit (Eckart-Young).
        Parameter sharing (tying weights, e.g. ALBERT) is the fifth family, not measured here.
        Below: an MLP 64-256-10 trained on scikit-learn's digits, then compressed.
        """)
    xtr, ytr, xte, yte = _digits()
    torch.manual_seed(0)
    teacher = _fit(_mlp(256), xtr, ytr, F.cross_entropy, 300)
    base = _acc(teacher, xte, yte)
    torch.manual_seed(1)
    plain = _fit(_mlp(8), xtr, ytr, F.cross_entropy, 300)
    with torch.no_grad():
        t_logits = teacher(xtr)
    n_params = lambda m: sum(int(p.count_nonzero()) for p in m.parameters())  # noqa: E731
    rows = [
        ["teacher 64-256-10", n_params(teacher), base],
        ["student 64-8-10, labels only (seed 1)", n_params(plain), _acc(plain, xte, yte)],
    ]
    for amount in (0.5, 0.8, 0.95):
        net = copy.deepcopy(teacher)
        masks = global_magnitude_masks([net[0].weight, net[2].weight], amount)
        apply_masks(net, {"0.weight": masks[0], "2.weight": masks[1]})
        rows.append(
            [f"magnitude pruning {amount:.0%} (global)", n_params(net), _acc(net, xte, yte)]
        )
    for amount in (0.5, 0.9):
        net = copy.deepcopy(teacher)
        keep = ln_structured_mask(net[0].weight, amount, n=1, dim=0)[:, 0].bool()
        small = _mlp(int(keep.sum()))  # physically smaller: drop rows of W1 and columns of W2
        with torch.no_grad():
            small[0].weight.copy_(net[0].weight[keep])
            small[0].bias.copy_(net[0].bias[keep])
            small[2].weight.copy_(net[2].weight[:, keep])
            small[2].bias.copy_(net[2].bias)
        rows.append(
            [f"L1 filter pruning {amount:.0%} of neurons", n_params(small), _acc(small, xte, yte)]
        )
    for rank in (32, 8):
        net = copy.deepcopy(teacher)
        net[0] = low_rank_linear(net[0], rank)
        rows.append([f"low rank r={rank} on 256x64", n_params(net), _acc(net, xte, yte)])
    ctx.table(
        "size vs test accuracy (digits, 599 test images)",
        ["model", "non-zero params", "accuracy"],
        rows,
    )
    acc = {r[0]: r[2] for r in rows}
    p50, p80 = acc["magnitude pruning 50% (global)"], acc["magnitude pruning 80% (global)"]
    ctx.claim(
        "without fine-tuning, 50% magnitude pruning loses < 2 points, 80% loses > 20",
        base - p50 < 0.02 and base - p80 > 0.2,
        f"{base:.3f} -> {p50:.3f} (50%), {p80:.3f} (80%): high sparsity needs retraining",
    )
    ctx.say("""
        Pruning is reported without fine-tuning; in practice one prunes gradually and retrains
        between steps (Han et al.).
        """)
    _distillation(ctx, xtr, ytr, xte, yte, t_logits)
    kept = 32 * (256 + 64) / (256 * 64)
    ctx.claim(
        f"low rank 32 keeps accuracy within 1 point with {kept:.1%} of the first layer's weights",
        acc["low rank r=32 on 256x64"] >= base - 0.01,
        f"{base:.3f} -> {acc['low rank r=32 on 256x64']:.3f}; 32 x (256 + 64) = "
        f"{32 * (256 + 64):,} of {256 * 64:,} weights",
    )
    s = t_logits[:64].double()
    p = plain(xtr[:64]).detach().double()
    y = ytr[:64]
    ctx.check(
        "distillation loss (T=4, alpha=0.7)",
        distillation_loss(p, s, y, 4.0, 0.7).item(),
        lambda: (
            0.7
            * 16
            * F.kl_div(
                F.log_softmax(p / 4, 1),
                F.log_softmax(s / 4, 1),
                reduction="batchmean",
                log_target=True,
            )
            + 0.3 * F.cross_entropy(p, y)
        ).item(),
        rtol=1e-12,
        ref="torch.nn.functional.kl_div + cross_entropy",
    )
    w = teacher[0].weight.detach()

    def torch_l1(amount: float) -> Any:
        from torch.nn.utils import prune

        layer = copy.deepcopy(teacher[0])
        prune.l1_unstructured(layer, "weight", amount)
        return layer.weight_mask.numpy()

    from mlcanon.compress import magnitude_mask

    ctx.check(
        "magnitude mask, 80%",
        magnitude_mask(w, 0.8).numpy(),
        lambda: torch_l1(0.8),
        ref="torch.nn.utils.prune.l1_unstructured",
    )
    a, b = low_rank_linear(teacher[0], 32)[1].weight, low_rank_linear(teacher[0], 32)[0].weight
    sv = torch.linalg.svdvals(w.double())
    ctx.check(
        "rank-32 error = sqrt(sum of discarded sigma^2)",
        torch.linalg.matrix_norm(w.double() - (a @ b).double()).item(),
        sv[32:].square().sum().sqrt().item(),
        rtol=1e-4,
        ref="Eckart-Young (float32 weights)",
    )
    with ctx.figure("size-accuracy", figsize=(6.4, 4)) as fig:
        ax = fig.subplots()
        for name, n, a_ in rows:
            ax.scatter(n, a_)
            ax.annotate(name, (n, a_), fontsize=6)
        ax.set(xscale="log", xlabel="non-zero parameters", ylabel="test accuracy")


def _fit_seeds(
    hidden: int, seeds: Any, x: Any, y: Any, loss_fn: Any, xte: Any, yte: Any, steps: int = 300
) -> list[float]:
    """Train one 64-hidden-10 MLP per seed (each initialized as ``_mlp`` under that seed) with
    full-batch Adam, all seeds at once as stacked weight tensors; test accuracy of each.

    Adam's update is elementwise, so the stacked run equals the separate runs (up to rounding).
    """
    import torch

    nets = []
    for seed in seeds:
        torch.manual_seed(seed)
        nets.append(_mlp(hidden))
    w1, b1, w2, b2 = (
        torch.stack([getattr(n[i], a).detach() for n in nets]).requires_grad_()
        for i, a in ((0, "weight"), (0, "bias"), (2, "weight"), (2, "bias"))
    )

    def forward(inputs):  # (S, N, 10)
        h = torch.relu(inputs @ w1.transpose(1, 2) + b1[:, None])  # (S, N, hidden)
        return h @ w2.transpose(1, 2) + b2[:, None]

    n_seeds = len(nets)
    opt = torch.optim.Adam([w1, b1, w2, b2], lr=1e-2)
    for _ in range(steps):
        opt.zero_grad()
        # the mean over all S x N rows times S is the sum of the S per-seed mean losses
        (n_seeds * loss_fn(forward(x).reshape(-1, 10), y.repeat(n_seeds))).backward()
        opt.step()
    with torch.no_grad():
        return (forward(xte).argmax(2) == yte).float().mean(1).tolist()


def _distillation(ctx: Context, xtr: Any, ytr: Any, xte: Any, yte: Any, t_logits: Any) -> None:
    """Student on labels alone vs distilled, over seeds, temperatures and label budgets."""
    import torch.nn.functional as F

    from mlcanon.compress import distillation_loss

    seeds, temps = range(5), (1.0, 2.0, 4.0, 8.0)

    def students(n_labelled: int, hidden: int, temps: tuple) -> dict[str, list[float]]:
        x, y, t = xtr[:n_labelled], ytr[:n_labelled], t_logits[:n_labelled]
        out = {"labels only": _fit_seeds(hidden, seeds, x, y, F.cross_entropy, xte, yte)}
        t_all = t.repeat(len(seeds), 1)  # the teacher's logits for every stacked seed
        for T in temps:

            def loss(s, y, T=T):
                return distillation_loss(s, t_all, y, T, 0.7)

            out[f"T = {T:g}"] = _fit_seeds(hidden, seeds, x, y, loss, xte, yte)
        return out

    # the temperature sweep where it matters; T = 2 and 4 only on the (slower) full-label setting
    settings = {
        f"{len(ytr):,} labelled images, student 64-8-10": students(len(ytr), 8, (2.0, 4.0)),
        "100 labelled images, student 64-8-10": students(100, 8, temps),
    }
    rows = []
    for name, res in settings.items():
        base = np.array(res["labels only"])
        for method, accs in res.items():
            a = np.array(accs)
            wins = "" if method == "labels only" else f"{int(np.sum(a > base))} of {len(a)}"
            rows.append([name, method, f"{a.mean():.3f} ± {a.std():.3f}", wins])
    ctx.table(
        "distillation (alpha = 0.7 on the soft targets; teacher trained on all labels): "
        "test accuracy over 5 seeds",
        [
            "setting",
            "student trained on",
            "accuracy (mean ± std)",
            "seeds where it beats labels only",
        ],
        rows,
    )
    full, few = settings.values()
    gain_full = {k: np.mean(v) - np.mean(full["labels only"]) for k, v in full.items()}
    gain_few = {k: np.mean(v) - np.mean(few["labels only"]) for k, v in few.items()}
    best_full = max((k for k in gain_full if k != "labels only"), key=gain_full.get)
    best_few = max((k for k in gain_few if k != "labels only"), key=gain_few.get)
    ctx.say(f"""
        With all the labels, the better temperature ({best_full}) changes the 8-unit student's mean
        accuracy by {gain_full[best_full]:+.3f}: the labels of {len(ytr):,} clean images already
        carry what the student can hold, and it is capacity-bound. With 100 labelled images the
        teacher's soft targets on those same images change it by {gain_few[best_few]:+.3f} at
        {best_few} ({gain_few["T = 1"]:+.3f} at T = 1): each soft target says how much an image
        looks like every other class, information a one-hot label throws away, and it matters when
        labels are scarce (Hinton et al. 2015 trained on 3% of the data the same way).
        """)
    ctx.claim(
        f"with all {len(ytr):,} labels, distillation at its better temperature moves the "
        "8-unit student's mean accuracy by less than 1 point (capacity-bound)",
        abs(gain_full[best_full]) < 0.01,
        f"{best_full}: {gain_full[best_full]:+.3f} against labels only "
        f"({np.mean(full['labels only']):.3f}, mean of 5 seeds)",
    )
    ctx.claim(
        "with 100 labelled images, distillation at its best temperature beats labels "
        "alone on every seed",
        bool(np.all(np.array(few[best_few]) > np.array(few["labels only"]))),
        f"{best_few}: {np.mean(few[best_few]):.3f} vs {np.mean(few['labels only']):.3f} "
        "(mean of 5 seeds)",
    )


@lesson("quantization")
def quantization_lesson(ctx: Context) -> None:
    import warnings

    import torch
    import torch.nn.functional as F

    from mlcanon.compress import (
        calibrate_minmax,
        dequantize,
        fake_quantize,
        quantize_per_channel,
        quantize_per_tensor,
    )

    ctx.say("""
        Affine quantization stores x as an integer q = clamp(round(x / s) + z, qmin, qmax) and
        reads it back as s (q - z). Calibration picks s and z from the observed range
        [min, max] (widened to contain 0 so that zero is exact). Per-tensor uses one range for a
        whole weight; per-channel gives each output channel its own, so a channel with small
        weights is not rounded on the grid of the largest one. Quantization-aware training
        (QAT) inserts quantize-dequantize ("fake quantization") in the forward pass; rounding
        has zero gradient almost everywhere, so the straight-through estimator passes the
        gradient through unchanged inside the range and zeroes it where the value was clamped.
        """)
    xtr, ytr, xte, yte = _digits()
    torch.manual_seed(0)
    net = _fit(_mlp(64), xtr, ytr, F.cross_entropy, 200)
    w = net[0].weight.detach()  # (64, 64)
    s_t, z_t = calibrate_minmax(w, "qint8", "symmetric")
    s_c, z_c = calibrate_minmax(w, "qint8", "symmetric", axis=0)
    err_t = dequantize(quantize_per_tensor(w, s_t.item(), int(z_t), "qint8"), s_t, z_t) - w
    q_c = quantize_per_channel(w, s_c, z_c, 0, "qint8")
    err_c = dequantize(q_c, s_c, z_c, axis=0) - w
    ctx.table(
        "int8 error on the first layer's weight (symmetric, min-max)",
        ["scheme", "RMS error", "max |error|"],
        [
            ["per tensor", err_t.pow(2).mean().sqrt().item(), err_t.abs().max().item()],
            ["per channel", err_c.pow(2).mean().sqrt().item(), err_c.abs().max().item()],
        ],
    )
    ctx.claim(
        "per-channel int8 error is below per-tensor",
        err_c.pow(2).mean() < err_t.pow(2).mean(),
        f"RMS {err_c.pow(2).mean().sqrt():.2e} vs {err_t.pow(2).mean().sqrt():.2e}",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch marks quantized tensors deprecated
        ctx.check(
            "per-tensor int8 codes",
            quantize_per_tensor(w, s_t.item(), 0, "qint8").numpy(),
            lambda: torch.quantize_per_tensor(w, s_t.item(), 0, torch.qint8).int_repr().numpy(),
            ref="torch.quantize_per_tensor",
        )
        ctx.check(
            "per-channel int8 codes",
            q_c.numpy(),
            lambda: (
                torch.quantize_per_channel(w, s_c.double(), z_c, 0, torch.qint8).int_repr().numpy()
            ),
            ref="torch.quantize_per_channel",
        )

    def observer() -> Any:
        from torch.ao.quantization import PerChannelMinMaxObserver

        obs = PerChannelMinMaxObserver(ch_axis=0, qscheme=torch.per_channel_symmetric)
        obs(w)
        return obs.calculate_qparams()[0].numpy()

    ctx.check("per-channel calibration scales", s_c.numpy(), observer, ref="torch.ao.quantization")
    # 3-bit weights (codes -4..3): post-training rounding hurts, QAT recovers
    qmin, qmax = -4, 3

    def quantized(model: Any) -> Any:
        out = _mlp(64)
        out.load_state_dict(model.state_dict())
        with torch.no_grad():
            for i in (0, 2):
                layer = out[i].weight
                s = layer.abs().amax(1) / qmax  # per-channel symmetric
                layer.copy_(fake_quantize(layer, s, torch.zeros(len(s)), qmin, qmax, axis=0))
        return out

    class QAT(torch.nn.Module):
        def __init__(self, m: Any) -> None:
            super().__init__()
            self.m = m

        def forward(self, x: Any) -> Any:
            h = x
            for layer in self.m:
                if isinstance(layer, torch.nn.Linear):
                    s = layer.weight.detach().abs().amax(1) / qmax
                    wq = fake_quantize(layer.weight, s, torch.zeros(len(s)), qmin, qmax, axis=0)
                    h = F.linear(h, wq, layer.bias)
                else:
                    h = layer(h)
            return h

    ptq = _acc(quantized(net), xte, yte)
    torch.manual_seed(0)
    qat_net = _mlp(64)
    qat_net.load_state_dict(net.state_dict())
    _fit(QAT(qat_net), xtr, ytr, F.cross_entropy, 60, lr=3e-3)
    qat = _acc(quantized(qat_net), xte, yte)
    base = _acc(net, xte, yte)
    ctx.table(
        "3-bit per-channel weights (MLP 64-64-10, digits test set)",
        ["model", "accuracy"],
        [["float32", base], ["post-training quantization", ptq], ["QAT, 60 steps", qat]],
    )
    ctx.claim(
        "QAT with the STE recovers accuracy lost by 3-bit rounding",
        qat > ptq,
        f"PTQ {ptq:.3f} -> QAT {qat:.3f} (float {base:.3f})",
    )
    x = w[:4].clone().requires_grad_()
    fake_quantize(x, s_c[:4], z_c[:4], -8, 7, axis=0).sum().backward()

    def torch_grad() -> Any:
        xr = w[:4].clone().requires_grad_()
        torch.fake_quantize_per_channel_affine(
            xr, s_c[:4], z_c[:4].int(), 0, -8, 7
        ).sum().backward()
        return xr.grad.numpy()

    ctx.check(
        "STE gradient (4-bit, clamped entries get 0)",
        x.grad.numpy(),
        torch_grad,
        ref="torch.fake_quantize_per_channel_affine",
    )
