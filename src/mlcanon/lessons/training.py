"""Training lessons: the learning-rate range test, warmup, and what improves generalization."""

from __future__ import annotations

from typing import Any

import numpy as np

from mlcanon.lessons import Context, lesson

from ._nn_common import _digits, _mlp, _seeded


def _f32(d: Any) -> tuple[Any, Any, Any, Any]:
    return d.X.float(), d.y, d.X_test.float(), d.y_test


def _epoch_batches(n: int, batch: int, gen: Any) -> list:
    import torch

    return torch.randperm(n, generator=gen).split(batch)


# --------------------------------------------------------------------------------------------
@lesson("lr-finder")
def lr_finder(ctx: Context) -> None:
    import torch

    from mlcanon.train import lr_range_test

    X, y, Xt, yt = _f32(_digits())
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(X, y),
        batch_size=64,
        shuffle=True,
        generator=torch.Generator().manual_seed(0),
    )
    with _seeded(0):
        model = _mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    start = {k: v.clone() for k, v in model.state_dict().items()}
    res = lr_range_test(model, torch.nn.functional.cross_entropy, loader, opt, 1e-4, 10.0, 100)
    stopped = (
        f"stopped after {len(res.lrs)} of 100 steps"
        if len(res.lrs) < 100
        else f"ran all 100 steps, ending at {res.losses[-1] / res.losses.min():.1f} times "
        "its minimum"
    )
    ctx.say(
        f"""The learning-rate range test (Smith 2017) trains for one short run while the rate
        grows exponentially, eta_i = eta_0 (eta_1/eta_0)^(i/(n-1)), and records an exponential
        moving average of the mini-batch loss. At tiny rates the loss barely moves; over a
        window of rates it falls quickly; past the stability limit it climbs and the sweep stops
        once the smoothed loss exceeds 5 times its minimum. A good rate sits where the curve
        falls steepest (our suggestion), or about a tenth of the rate at the minimum of the
        curve (the rule of thumb of fastai): both leave a margin below divergence.

        The test costs one short pass (here the sweep {stopped}) and must not change the model:
        the weights and the optimizer state are saved before and restored after."""
    )
    ctx.check(
        "the swept rates are geometric",
        res.lrs,
        lambda: np.geomspace(1e-4, 10.0, 100)[: len(res.lrs)],
        rtol=1e-12,
        ref="numpy.geomspace",
    )
    same = all(torch.equal(v, start[k]) for k, v in model.state_dict().items())
    ctx.claim("weights restored after the test", same, "state_dict equal bit for bit")
    at_min = float(res.lrs[np.argmin(res.losses)])
    ctx.claim(
        "past the minimum the loss climbs again",
        res.losses[-1] > 2 * res.losses.min(),
        f"smoothed loss {res.losses.min():.3f} at lr = {at_min:.3g}, {res.losses[-1]:.3f} at "
        f"lr = {res.lrs[-1]:.3g} (step {len(res.lrs)} of 100)",
    )
    rows, finals = [], {}
    for name, lr in [
        ("start_lr x 10", 1e-3),
        ("suggested (steepest)", res.suggested_lr),
        ("min of the curve / 10", at_min / 10),
        ("end of the sweep", float(res.lrs[-1])),
    ]:
        finals[name] = _train_sgd(X, y, Xt, yt, lr)
        rows.append([name, lr, *finals[name]])
    ctx.table(
        "train 3 epochs from the same start (SGD, momentum 0.9)",
        ["rate", "lr", "final train loss", "test accuracy"],
        rows,
    )
    good, small = finals["suggested (steepest)"], finals["start_lr x 10"]
    big = finals["end of the sweep"]
    ctx.claim(
        "the suggested rate trains better than a tiny or a diverging rate",
        good[1] > small[1] + 0.3 and good[1] > big[1] + 0.3,
        f"test accuracy {good[1]:.3f} vs {small[1]:.3f} (tiny) and {big[1]:.3f} (large)",
    )
    with ctx.figure("lr-range-test") as fig:
        ax = fig.subplots()
        ax.semilogx(res.lrs, res.raw_losses, alpha=0.3, label="mini-batch loss")
        ax.semilogx(res.lrs, res.losses, label="smoothed")
        ax.axvline(res.suggested_lr, color="k", ls="--", label="suggested")
        ax.axvline(at_min / 10, color="g", ls=":", label="min / 10")
        ax.set(xlabel="learning rate", ylabel="loss", ylim=(0, 3 * res.losses[0]))
        ax.legend()


def _train_sgd(X, y, Xt, yt, lr: float, epochs: int = 3) -> tuple[float, float]:
    import torch

    with _seeded(0):
        model = _mlp()
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    gen = torch.Generator().manual_seed(1)
    for _ in range(epochs):
        for idx in _epoch_batches(len(y), 64, gen):
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(X[idx]), y[idx])
            loss.backward()
            opt.step()
    with torch.no_grad():
        train = float(torch.nn.functional.cross_entropy(model(X), y))
        acc = float((model(Xt).argmax(1) == yt).float().mean())
    return train, acc


# --------------------------------------------------------------------------------------------
@lesson("warmup")
def warmup(ctx: Context) -> None:
    import torch
    from torch.optim.lr_scheduler import CosineAnnealingLR, LinearLR, SequentialLR

    from mlcanon.train import warmup_cosine

    ctx.say(
        """Warmup raises the learning rate linearly over the first W steps, here followed by a
        cosine decay to a floor: eta_s = eta (s+1)/W for s < W, then eta_min + (eta - eta_min)
        (1 + cos(pi (s - W)/(T - W)))/2. It pairs with adaptive optimizers such as Adam: Adam's
        step is m_hat / sqrt(v_hat), and at the first step m_hat / sqrt(v_hat) = g/|g| = +-1 for
        every coordinate, so each weight moves by the full rate whatever its gradient. The
        second-moment estimate rests on a handful of gradients early on and the update has a
        large variance (Liu et al. 2020, RAdam); warmup keeps those early steps small until
        v_hat is reliable. With large-batch SGD it plays a similar role (Goyal et al. 2017)."""
    )
    opt = torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], lr=1e-2)
    ref_opt = torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], lr=1e-2)
    W, T = 30, 300
    ours = _lr_trace(opt, warmup_cosine(opt, W, T, min_lr=1e-4), T + 1)

    def reference() -> np.ndarray:
        seq = SequentialLR(
            ref_opt,
            [
                LinearLR(ref_opt, start_factor=1 / W, total_iters=W - 1),
                CosineAnnealingLR(ref_opt, T_max=T - W, eta_min=1e-4),
            ],
            milestones=[W],
        )
        return _lr_trace(ref_opt, seq, T + 1)

    ctx.check(
        "warmup_cosine = SequentialLR(LinearLR, CosineAnnealingLR)",
        ours,
        reference,
        rtol=1e-12,
        ref="torch.optim.lr_scheduler",
    )
    X, y, _, _ = _f32(_digits())
    with _seeded(0):
        model = _mlp()
    first = torch.optim.Adam(model.parameters(), lr=1e-2)
    before = [p.detach().clone() for p in model.parameters()]
    torch.nn.functional.cross_entropy(model(X), y).backward()
    first.step()
    moved = torch.cat(
        [(p.detach() - b).abs().ravel() for p, b in zip(model.parameters(), before, strict=True)]
    )
    grads = torch.cat([p.grad.abs().ravel() for p in model.parameters()])
    ctx.check(
        "Adam's first step moves every weight by lr (|g| >> eps)",
        moved[grads > 1e-4].numpy(),
        lambda: np.full(int((grads > 1e-4).sum()), 1e-2, dtype=np.float32),
        rtol=1e-3,
        ref="torch.optim.Adam",
    )
    curves = {}
    for lr in (1e-2, 3e-2):
        for w in (0, 50):
            curves[(lr, w)] = _adam_curve(X, y, lr, w, steps=400)
    rows = [[lr, w, c[:50].max(), c[5:60].mean(), c[-50:].mean()] for (lr, w), c in curves.items()]
    ctx.table(
        "Adam on digits, MLP 64-128x4-10, batch 64, 400 steps, cosine decay after the warmup",
        [
            "lr",
            "warmup steps",
            "max loss, steps 0-49",
            "mean loss, steps 5-59",
            "mean loss, last 50",
        ],
        rows,
    )
    _warmup_claims(ctx, curves)
    with ctx.figure("warmup-curves", figsize=(10, 4)) as fig:
        ax0, ax1 = fig.subplots(1, 2)
        ax0.plot(ours[:, 0])
        ax0.set(xlabel="step", ylabel="learning rate", title="linear warmup + cosine")
        for (lr, w), c in curves.items():
            ax1.plot(np.convolve(c, np.ones(10) / 10, "valid"), label=f"lr={lr:g}, W={w}")
        ax1.set(xlabel="step", ylabel="loss (10-step mean)", yscale="log")
        ax1.legend()


def _warmup_claims(ctx: Context, curves: dict) -> None:
    hi_no, hi_w = curves[(3e-2, 0)], curves[(3e-2, 50)]
    ctx.claim(
        "at lr = 3e-2 warmup avoids the early loss spike",
        hi_w[:50].max() < hi_no[:50].max() - 0.5,
        f"max loss over steps 0-49: {hi_w[:50].max():.3f} with warmup vs "
        f"{hi_no[:50].max():.3f} without (chance level is ln 10 = 2.303)",
    )
    ctx.claim(
        "at lr = 3e-2 warmup also ends lower",
        hi_w[-50:].mean() < hi_no[-50:].mean(),
        f"mean loss of the last 50 steps: {hi_w[-50:].mean():.4f} vs {hi_no[-50:].mean():.4f}",
    )
    lo_no, lo_w = curves[(1e-2, 0)], curves[(1e-2, 50)]
    ctx.claim(
        "at a safe lr = 1e-2 warmup only slows the start",
        lo_no[5:60].mean() < lo_w[5:60].mean(),
        f"mean loss over steps 5-59: {lo_no[5:60].mean():.3f} without vs "
        f"{lo_w[5:60].mean():.3f} with warmup",
    )


def _deep_mlp() -> Any:
    import torch

    layers = [torch.nn.Linear(64, 128), torch.nn.ReLU()]
    for _ in range(3):
        layers += [torch.nn.Linear(128, 128), torch.nn.ReLU()]
    return torch.nn.Sequential(*layers, torch.nn.Linear(128, 10))


def _lr_trace(opt: Any, sched: Any, n: int) -> np.ndarray:
    out = []
    for _ in range(n):
        out.append([g["lr"] for g in opt.param_groups])
        opt.step()
        sched.step()
    return np.array(out)


def _adam_curve(X, y, lr: float, warmup_steps: int, steps: int) -> np.ndarray:
    import torch

    from mlcanon.train import warmup_cosine

    with _seeded(0):
        model = _deep_mlp()
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = warmup_cosine(opt, warmup_steps, steps)
    gen, losses, batches = torch.Generator().manual_seed(1), [], []
    while len(batches) < steps:
        batches.extend(_epoch_batches(len(y), 64, gen))
    for idx in batches[:steps]:
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(X[idx]), y[idx])
        loss.backward()
        opt.step()
        sched.step()
        losses.append(loss.item())
    return np.array(losses)


def _fit_curves(data: Any, *, weight_decay=0.0, dropout=0.0, noise=0.0, epochs=150) -> dict:
    """Train an MLP on 200 digits (AdamW, lr 1e-2, batch 50); per-epoch train/val curves."""
    with _seeded(0):  # dropout draws its masks from the global generator: seed all of it
        return _fit_curves_seeded(data, weight_decay, dropout, noise, epochs)


def _fit_curves_seeded(data: Any, weight_decay, dropout, noise, epochs) -> dict:
    import torch
    from torch.nn.functional import cross_entropy

    Xtr, ytr, Xv, yv = data
    model = _mlp(128, dropout)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=weight_decay)
    gen = torch.Generator().manual_seed(1)
    out = {"train": [], "val": [], "acc": []}
    for _ in range(epochs):
        model.train()
        # augmentation: fresh pixel noise every epoch, so no image is seen twice alike
        xb = Xtr + noise * torch.randn(Xtr.shape, generator=gen) if noise else Xtr
        for idx in torch.randperm(len(ytr), generator=gen).split(50):
            opt.zero_grad()
            cross_entropy(model(xb[idx]), ytr[idx]).backward()
            opt.step()
        model.eval()  # dropout off for the evaluation
        with torch.no_grad():
            out["train"].append(cross_entropy(model(Xtr), ytr).item())
            logits = model(Xv)
            out["val"].append(cross_entropy(logits, yv).item())
            out["acc"].append((logits.argmax(1) == yv).float().mean().item())
    curves = {k: np.array(v) for k, v in out.items()}
    curves["weight_norm"] = float(sum(p.detach().pow(2).sum() for p in model.parameters()).sqrt())
    return curves


@lesson("generalization")
def generalization(ctx: Context) -> None:
    import torch

    from mlcanon.train import EarlyStopping

    d = _digits()
    data = (d.X[:200].float(), d.y[:200], d.X[200:700].float(), d.y[200:700])
    ctx.say(
        """Generalization is the gap between the loss on the training data and on new data. A
        net with 64*128 + 128*10 weights fitted to 200 digit images drives its training loss to
        about zero; the validation loss reaches a minimum and then rises as the net grows
        more confident on the training images. Four standard remedies, all measured below on
        the same net, seed and 500 validation images: early stopping (keep the epoch with the
        best validation loss, stop after `patience` epochs without improvement), weight decay
        (AdamW's decoupled shrinkage theta <- (1 - lr*lambda) theta, a limit on the weights'
        size), dropout (each hidden unit zeroed with probability p during training, the rest
        scaled by 1/(1-p), so that no unit can rely on a particular other one), and data
        augmentation (here fresh Gaussian pixel noise of std 0.15 every epoch: more distinct
        inputs for the same labels). Other levers not measured here: more data, a smaller
        model, batch normalization, label smoothing, ensembles."""
    )
    runs = {
        "baseline": _fit_curves(data),
        "weight decay 0.5": _fit_curves(data, weight_decay=0.5),
        "dropout 0.5": _fit_curves(data, dropout=0.5),
        "noise augmentation": _fit_curves(data, noise=0.15),
    }
    base = runs["baseline"]
    stopper = EarlyStopping(patience=10, min_delta=1e-4)
    stop = next((e for e, v in enumerate(base["val"]) if stopper.step(v)), len(base["val"]) - 1)

    def plateau_counts() -> list:
        opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
        ref = torch.optim.lr_scheduler.ReduceLROnPlateau(
            opt, patience=10, threshold=1e-4, threshold_mode="abs"
        )
        counts = []
        for v in base["val"][: stop + 1]:
            ref.step(v)
            counts.append(ref.num_bad_epochs)
        return counts

    ours = EarlyStopping(patience=10, min_delta=1e-4)
    counts = [(ours.step(v), ours.num_bad_epochs_)[1] for v in base["val"][: stop + 1]]
    ctx.check(
        "EarlyStopping's bad-epoch count = ReduceLROnPlateau's (abs threshold)",
        counts,
        plateau_counts,
        ref="torch.optim.lr_scheduler.ReduceLROnPlateau",
    )
    rows = [
        [
            name,
            r["train"][-1],
            r["val"][-1],
            r["val"].min(),
            int(r["val"].argmin()),
            r["acc"][-1],
            r["weight_norm"],
        ]
        for name, r in runs.items()
    ]
    best = stopper.best_epoch_
    rows.append(
        [
            "early stopping (baseline)",
            base["train"][best],
            base["val"][best],
            base["val"][best],
            best,
            base["acc"][best],
            float("nan"),
        ]
    )
    ctx.table(
        "after 150 epochs (early stopping: the kept epoch)",
        [
            "run",
            "train loss",
            "val loss",
            "min val loss",
            "epoch of min",
            "val accuracy",
            "weight norm",
        ],
        rows,
    )
    _generalization_claims(ctx, runs, stop, best)
    with ctx.figure("train-val-curves", figsize=(10, 4)) as fig:
        ax0, ax1 = fig.subplots(1, 2)
        for k, (name, r) in enumerate(runs.items()):
            ax0.plot(r["train"], color=f"C{k}", ls=":")
            ax0.plot(r["val"], color=f"C{k}", label=name)
            ax1.plot(r["acc"], color=f"C{k}", label=name)
        ax0.axvline(stop, color="k", lw=0.8, label="early stop")
        ax0.set(xlabel="epoch", ylabel="loss (dotted: train)", yscale="log")
        ax1.set(xlabel="epoch", ylabel="validation accuracy", ylim=(0.8, 1.0))
        ax0.legend(fontsize=8)


def _generalization_claims(ctx: Context, runs: dict, stop: int, best: int) -> None:
    base = runs["baseline"]
    ctx.claim(
        "the baseline overfits: train loss ~ 0 while val loss rises after its minimum",
        base["train"][-1] < 0.01 and base["val"][-1] > base["val"].min() + 0.01,
        f"train {base['train'][-1]:.4f}; val min {base['val'].min():.3f} at epoch "
        f"{base['val'].argmin()}, {base['val'][-1]:.3f} at the end",
    )
    ctx.claim(
        "early stopping stops long before the end and keeps a lower val loss",
        stop < len(base["val"]) // 2 and base["val"][best] < base["val"][-1],
        f"stopped at epoch {stop}, kept epoch {best}: val loss {base['val'][best]:.3f} vs "
        f"{base['val'][-1]:.3f} after 150 epochs, for {stop + 1} of 150 epochs of compute",
    )
    wd = runs["weight decay 0.5"]
    ctx.claim(
        "weight decay shrinks the weights and lowers the final val loss",
        wd["weight_norm"] < base["weight_norm"] and wd["val"][-1] < base["val"][-1],
        f"norm {wd['weight_norm']:.1f} vs {base['weight_norm']:.1f}; val loss "
        f"{wd['val'][-1]:.3f} vs {base['val'][-1]:.3f}",
    )
    for name in ("weight decay 0.5", "dropout 0.5", "noise augmentation"):
        r = runs[name]
        ctx.claim(
            f"{name}: final val accuracy >= baseline",
            r["acc"][-1] >= base["acc"][-1],
            f"{r['acc'][-1]:.3f} vs {base['acc'][-1]:.3f} (500 images: 0.002 per image)",
        )
