"""Lessons on feeding a network: class-balanced sampling, Dataset / DataLoader / Sampler, and
focal loss for the easy-negative imbalance of detection."""

from __future__ import annotations

from typing import Any

import numpy as np

from mlcanon.lessons import Context, lesson

from ._nn_common import _digits, _mlp, _seeded
from .detection import check_first_available

# --------------------------------------------------------------------------------------------
MINORITY = (5, 6, 7, 8, 9)  # classes cut to a few training images each


def _imbalanced(d: Any, n_minor: int = 8) -> tuple[Any, Any]:
    """Digits training set with the classes of MINORITY cut to ``n_minor`` images each."""
    import torch

    keep = []
    for c in range(10):
        idx = torch.nonzero(d.y == c).ravel()
        keep.append(idx[:n_minor] if c in MINORITY else idx)
    keep = torch.cat(keep)
    return d.X[keep].float(), d.y[keep]


def _train_imbalanced(X, y, strategy: str, epochs: int = 30) -> Any:
    import torch

    from mlcanon.nn.functional import sigmoid_focal_loss
    from mlcanon.train import ClassBalancedSampler

    counts = torch.bincount(y, minlength=10).float()
    class_w = (1.0 / counts) / (1.0 / counts).mean()  # mean weight 1 keeps the lr comparable
    with _seeded(0):
        model = _mlp()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    gen = torch.Generator().manual_seed(1)
    for _ in range(epochs):
        if strategy == "class-balanced sampler":
            order = torch.tensor(list(ClassBalancedSampler(y.numpy(), generator=gen)))
        else:
            order = torch.randperm(len(y), generator=gen)
        for idx in order.split(64):
            out = model(X[idx])
            if strategy == "loss re-weighting":
                loss = torch.nn.functional.cross_entropy(out, y[idx], weight=class_w)
            elif strategy == "focal loss":
                onehot = torch.nn.functional.one_hot(y[idx], 10).to(out.dtype)
                loss = sigmoid_focal_loss(out, onehot, reduction="sum") / len(idx)
            else:
                loss = torch.nn.functional.cross_entropy(out, y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    return model


@lesson("class-balanced-sampling")
def class_balanced_sampling(ctx: Context) -> None:
    import torch

    from mlcanon.train import ClassBalancedSampler, class_balanced_weights

    d = _digits()
    X, y = _imbalanced(d)
    Xt, yt = d.X_test.float(), d.y_test.numpy()
    counts = np.bincount(y.numpy(), minlength=10)
    ctx.say(
        f"""With a skewed label distribution a network minimises the average loss mostly on the
        majority classes. Here the digits 5-9 keep {counts[5]} training images each while 0-4
        keep about {counts[:5].mean():.0f}; the test set is untouched (balanced), so we judge by
        per-class recall and balanced accuracy (their mean), not by accuracy.

        Three remedies change what the optimiser sees. A class-balanced sampler draws index i
        with probability proportional to 1/n_(y_i), so every class fills 1/K of each batch (the
        rare images are repeated). Loss re-weighting keeps the data and multiplies each sample's
        loss by a class weight proportional to 1/n_c, which has the same expected gradient but
        a larger variance (a rare sample appears seldom with a large weight). Focal loss
        (Lin et al. 2017) does not look at the labels' counts: it down-weights examples the
        model already gets right, which in practice are mostly majority ones."""
    )
    gen_seed = 7
    ours = list(ClassBalancedSampler(y.numpy(), 500, generator=torch.Generator().manual_seed(7)))

    def reference() -> list:
        from torch.utils.data import WeightedRandomSampler

        w = torch.tensor(1.0 / counts[y.numpy()], dtype=torch.double)
        gen = torch.Generator().manual_seed(gen_seed)
        return list(WeightedRandomSampler(w, 500, replacement=True, generator=gen))

    ctx.check(
        "ClassBalancedSampler = WeightedRandomSampler(1/n_c), same seed",
        ours,
        reference,
        ref="torch.utils.data.WeightedRandomSampler",
    )
    w = class_balanced_weights(y.numpy())
    mass = np.bincount(y.numpy(), weights=w, minlength=10) / w.sum()
    ctx.check(
        "each class carries 1/K of the sampling mass",
        mass,
        np.full(10, 0.1),
        rtol=1e-12,
        ref="definition",
    )
    rows, recall = [], {}
    for strategy in ("plain", "class-balanced sampler", "loss re-weighting", "focal loss"):
        model = _train_imbalanced(X, y, strategy)
        with torch.no_grad():
            pred = model(Xt).argmax(1).numpy()
        recall[strategy] = np.array([np.mean(pred[yt == c] == c) for c in range(10)])
        rows.append(
            [
                strategy,
                np.mean(pred == yt),
                recall[strategy].mean(),
                recall[strategy][:5].mean(),
                recall[strategy][5:].mean(),
            ]
        )
        if strategy == "plain":
            plain_pred = pred
    ctx.table(
        "balanced test set; MLP 64-32-10, Adam 1e-2, 30 epochs",
        ["strategy", "accuracy", "balanced accuracy", "recall 0-4", "recall 5-9"],
        rows,
    )
    ctx.check(
        "balanced accuracy (plain) = mean per-class recall",
        recall["plain"].mean(),
        lambda: _sk_balanced(yt, plain_pred),
        rtol=1e-12,
        ref="sklearn.metrics.balanced_accuracy_score",
    )
    _balance_claims(ctx, recall)
    ctx.say(
        f"""Sampling and re-weighting both move the decision boundary towards the majority
        classes: rare-class recall rises and majority recall drops a little (from
        {recall["plain"][:5].mean():.3f} to {recall["class-balanced sampler"][:5].mean():.3f}
        and {recall["loss re-weighting"][:5].mean():.3f}). Focal loss used as
        ten one-vs-all sigmoid losses (as in RetinaNet) did not help here: its target is the
        flood of easy negatives of dense detection, not a skewed label count, and with
        alpha = 0.25 it down-weights every positive, rare or not."""
    )
    with ctx.figure("per-class-recall", figsize=(8, 4)) as fig:
        ax = fig.subplots()
        for k, (name, r) in enumerate(recall.items()):
            ax.bar(np.arange(10) + 0.2 * k - 0.3, r, width=0.2, label=name)
        ax.set(xlabel="class (5-9 rare in training)", ylabel="test recall", xticks=range(10))
        ax.legend(fontsize=8)


def _sk_balanced(y_true, y_pred) -> float:
    from sklearn.metrics import balanced_accuracy_score

    return balanced_accuracy_score(y_true, y_pred)


def _balance_claims(ctx: Context, recall: dict) -> None:
    base = recall["plain"]
    for name in ("class-balanced sampler", "loss re-weighting"):
        r = recall[name]
        ctx.claim(
            f"{name} raises the recall of the rare classes",
            r[5:].mean() > base[5:].mean() + 0.02,
            f"recall on 5-9: {r[5:].mean():.3f} vs {base[5:].mean():.3f} plain; "
            f"balanced accuracy {r.mean():.3f} vs {base.mean():.3f}",
        )
    moved = {k: recall[k] for k in ("class-balanced sampler", "loss re-weighting")}
    ctx.claim(
        "both move the boundary towards the majority: its recall drops, by less than the "
        "rare classes gain",
        all(
            base[:5].mean() > r[:5].mean() > base[:5].mean() - (r[5:].mean() - base[5:].mean())
            for r in moved.values()
        ),
        f"recall on 0-4: plain {base[:5].mean():.3f}, "
        + ", ".join(f"{k} {r[:5].mean():.3f}" for k, r in moved.items()),
    )
    r = recall["focal loss"]
    ctx.claim(
        "focal loss does not raise the rare classes' recall here",
        r[5:].mean() <= base[5:].mean(),
        f"recall on 5-9: {r[5:].mean():.3f} vs {base[5:].mean():.3f} plain",
    )


# --------------------------------------------------------------------------------------------
class DigitImages:
    """A map-style Dataset: index -> (image (1, 8, 8), label, index), built from tensors.

    Defined at module level so that DataLoader workers can receive it (by fork or by pickle).
    """

    def __init__(self, images: Any, labels: Any) -> None:
        self.images, self.labels = images, labels

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> tuple[Any, int, int]:
        return self.images[i], int(self.labels[i]), i


def collate_digits(items: list[tuple[Any, int, int]]) -> dict[str, Any]:
    """List of samples -> a batch: images stacked to (B, 1, 8, 8), labels and indices to (B,)."""
    import torch

    images, labels, index = zip(*items, strict=True)
    return {
        "image": torch.stack(images),  # (B, 1, 8, 8)
        "label": torch.tensor(labels),
        "index": torch.tensor(index),
    }


def _load_all(labels: np.ndarray, ds: DigitImages, workers: int) -> list[dict[str, Any]]:
    import torch
    from torch.utils.data import DataLoader

    from mlcanon.train import ClassBalancedSampler

    sampler = ClassBalancedSampler(labels, 200, generator=torch.Generator().manual_seed(3))
    loader = DataLoader(
        ds, batch_size=32, sampler=sampler, collate_fn=collate_digits, num_workers=workers
    )
    return list(loader)


@lesson("dataset-dataloader-sampler")
def dataset_dataloader_sampler(ctx: Context) -> None:
    import torch

    d = _digits()
    ds = DigitImages(d.img.float(), d.y)
    labels = d.y.numpy()
    ctx.say(
        """Three roles, composed by torch.utils.data.DataLoader. A Dataset answers one question:
        what is sample i (__getitem__ and __len__; reading a file and augmenting it belong
        here). A Sampler decides the order in which indices are visited: sequential, shuffled,
        or weighted as our class-balanced sampler; a BatchSampler groups those indices into
        lists of batch_size. The collate function turns the list of samples of one batch into
        tensors (stacking images, padding sequences, building dicts). The DataLoader runs the
        loop: it takes a list of indices from the batch sampler, fetches the samples from the
        dataset, collates them, and with num_workers > 0 does the fetching and collating in
        worker processes.

        Index generation always stays in the main process and workers receive whole index
        lists, so workers change the speed, not the batches: the loader below gives the same
        batches with 0 and 2 workers. What can differ is randomness inside __getitem__: each
        worker has its own torch seed (base_seed + worker_id), so random augmentation must draw
        from torch (or be reseeded in worker_init_fn) to stay reproducible."""
    )
    ctx.table(
        "who does what",
        ["piece", "input -> output", "here"],
        [
            ["Dataset", "index -> sample", "DigitImages: (image (1,8,8), label, index)"],
            ["Sampler", "-> stream of indices", "ClassBalancedSampler, 200 draws, seed 3"],
            ["BatchSampler", "indices -> lists of batch_size", "built by DataLoader, 32"],
            ["collate_fn", "list of samples -> batch", "collate_digits: dict of tensors"],
            ["DataLoader", "orchestrates, workers", "num_workers = 0 and 2"],
        ],
    )
    items = [ds[i] for i in range(5)]
    ours = collate_digits(items)

    from torch.utils.data import default_collate

    ref = default_collate(items)  # a tuple (images, labels, indices)
    for k, key in enumerate(("image", "label", "index")):
        ctx.check(
            f"collate_digits {key} = default_collate",
            ours[key].numpy(),
            ref[k].numpy(),
            ref="torch.utils.data.default_collate",
        )
    single = _load_all(labels, ds, 0)
    idx = torch.cat([b["index"] for b in single]).numpy()

    def expected_indices() -> np.ndarray:
        from torch.utils.data import BatchSampler, WeightedRandomSampler

        w = torch.tensor(1.0 / np.bincount(labels)[labels], dtype=torch.double)
        gen = torch.Generator().manual_seed(3)  # the seed the loader's sampler was given
        s = WeightedRandomSampler(w, 200, replacement=True, generator=gen)
        return np.concatenate(list(BatchSampler(s, 32, drop_last=False)))

    ctx.check(
        "batches follow the sampler's indices, 32 at a time",
        idx,
        expected_indices,
        ref="torch WeightedRandomSampler(1/n_c) in a BatchSampler",
    )
    ctx.check(
        "batch sizes: 6 full batches and a last one of 8",
        [len(b["index"]) for b in single],
        [32] * 6 + [8],
        ref="DataLoader(drop_last=False)",
    )
    multi = _load_all(labels, ds, 2)
    for key in ("image", "label", "index"):
        ctx.claim(
            f"num_workers=2 gives the same {key} batches as num_workers=0",
            torch.equal(torch.cat([b[key] for b in multi]), torch.cat([b[key] for b in single])),
            f"{len(multi)} batches with 2 workers, {len(single)} in the main process",
        )
    share = np.bincount(labels[idx], minlength=10) / len(idx)
    ctx.table(
        "class shares in the 200 sampled indices",
        [str(c) for c in range(10)],
        [[f"{v:.3f}" for v in share]],
    )


# --------------------------------------------------------------------------------------------
# --------------------------------------------------------------------------------------------
def _focal_direct(x: Any, t: Any, alpha: float, gamma: float) -> Any:
    """FL = -alpha_t (1 - p_t)^gamma log p_t written out from the paper, elementwise."""
    import torch

    p = torch.sigmoid(x)
    p_t = p * t + (1 - p) * (1 - t)
    alpha_t = alpha * t + (1 - alpha) * (1 - t)
    return -alpha_t * (1 - p_t) ** gamma * torch.log(p_t)


def _focal_grad(x: np.ndarray, t: np.ndarray, alpha: float, gamma: float) -> np.ndarray:
    """dFL/dx by hand (see the lesson's text), in NumPy."""
    p = 1 / (1 + np.exp(-x))
    p_t = np.where(t == 1, p, 1 - p)
    a_t = np.where(t == 1, alpha, 1 - alpha)
    s = np.where(t == 1, 1.0, -1.0)  # dp_t/dx = s p (1 - p)
    m = 1 - p_t
    return a_t * s * p * (1 - p) * (gamma * m ** (gamma - 1) * np.log(p_t) - m**gamma / p_t)


@lesson("focal-loss")
def focal_loss(ctx: Context) -> None:
    import torch

    from mlcanon.nn.functional import sigmoid_focal_loss

    ctx.say(
        """Focal loss (Lin et al. 2017, RetinaNet) reshapes binary cross-entropy for dense
        detection, where some 10^5 anchors per image (the retinanet lesson counts them) are
        almost all easy background. With
        p = sigmoid(x) and p_t = p for a positive, 1 - p for a negative,
        CE = -log p_t and FL = -alpha_t (1 - p_t)^gamma log p_t. The modulating factor
        (1 - p_t)^gamma leaves misclassified examples (p_t small) almost untouched and crushes
        well-classified ones: at gamma = 2 an example with p_t = 0.9 keeps 1/100 of its loss,
        one with p_t = 0.1 keeps 0.81 of it. alpha_t = alpha for positives, 1 - alpha for
        negatives is a plain class weight; the paper's best pair is gamma = 2 with alpha = 0.25,
        i.e. positives weighted less, because gamma already removes most of the negatives'
        mass.

        Gradient, with dp_t/dx = s p (1 - p) (s = +1 for a positive, -1 for a negative):
        dFL/dx = alpha_t s p (1 - p) [gamma (1 - p_t)^(gamma-1) log p_t - (1 - p_t)^gamma / p_t].
        For gamma = 0 it reduces to alpha_t (p - t), the usual logistic gradient."""
    )
    g = torch.Generator().manual_seed(0)
    x = 3 * torch.randn(4000, generator=g, dtype=torch.float64)
    t = (torch.rand(4000, generator=g, dtype=torch.float64) < 0.3).double()
    for alpha, gamma in ((0.25, 2.0), (0.5, 0.5), (-1.0, 3.0)):
        ours = sigmoid_focal_loss(x, t, alpha, gamma).numpy()
        a = alpha if alpha >= 0 else 0.5  # alpha < 0 switches the weight off: alpha_t = 1 / 2
        scale = 1.0 if alpha >= 0 else 2.0
        ctx.check(
            f"sigmoid_focal_loss = written-out formula (alpha={alpha}, gamma={gamma})",
            ours,
            (scale * _focal_direct(x, t, a, gamma)).numpy(),
            rtol=1e-12,
            atol=1e-15,
            ref="definition written out (torch)",
        )
        check_first_available(
            ctx,
            f"sigmoid_focal_loss, torch's BCE-with-logits form (alpha={alpha}, gamma={gamma})",
            ours,
            [
                (
                    "torchvision.ops.sigmoid_focal_loss",
                    lambda alpha=alpha, gamma=gamma: _torchvision_focal(x, t, alpha, gamma),
                ),
                (
                    "torch binary_cross_entropy_with_logits x (1 - p_t)^gamma",
                    lambda alpha=alpha, gamma=gamma: _focal_from_bce(x, t, alpha, gamma),
                ),
            ],
            rtol=1e-12,
            atol=1e-15,
        )
    xg = x.clone().requires_grad_(True)
    sigmoid_focal_loss(xg, t, 0.25, 2.0, reduction="sum").backward()
    xd = x.clone().requires_grad_(True)
    _focal_direct(xd, t, 0.25, 2.0).sum().backward()
    ctx.check(
        "hand-written backward of sigmoid_focal_loss = autograd of the written-out formula",
        xg.grad.numpy(),
        xd.grad.numpy(),
        rtol=1e-10,
        atol=1e-14,
        ref="torch.autograd",
    )
    ctx.check(
        "the gradient derived above = autograd of the written-out formula",
        _focal_grad(x.numpy(), t.numpy(), 0.25, 2.0),
        xd.grad.numpy(),
        rtol=1e-10,
        atol=1e-14,
        ref="torch.autograd",
    )
    _focal_tables(ctx)


def _focal_from_bce(x: Any, t: Any, alpha: float, gamma: float) -> np.ndarray:
    """-log p_t from torch's stable BCE-with-logits kernel, times the modulating factor and
    alpha_t (alpha < 0: no weight)."""
    import torch.nn.functional as F

    p = x.sigmoid()
    p_t = p * t + (1 - p) * (1 - t)
    loss = F.binary_cross_entropy_with_logits(x, t, reduction="none") * (1 - p_t) ** gamma
    if alpha >= 0:
        loss = (alpha * t + (1 - alpha) * (1 - t)) * loss
    return loss.numpy()


def _torchvision_focal(x: Any, t: Any, alpha: float, gamma: float) -> np.ndarray:
    from torchvision.ops import sigmoid_focal_loss as tv_focal

    return tv_focal(x, t, alpha, gamma, reduction="none").numpy()


def _focal_tables(ctx: Context) -> None:
    import torch

    from mlcanon.nn.functional import sigmoid_focal_loss

    p_t = torch.tensor([0.99, 0.9, 0.5, 0.1], dtype=torch.float64)
    x = torch.log(p_t / (1 - p_t))  # positives with these probabilities
    ones = torch.ones_like(x)
    ce = -torch.log(p_t)
    rows, ratio = [], {}
    for gamma in (0.0, 0.5, 1.0, 2.0, 5.0):
        ratio[gamma] = (sigmoid_focal_loss(x, ones, -1.0, gamma) / ce).numpy()
        rows.append([gamma, *ratio[gamma]])
    ctx.table("FL / CE for a positive (alpha off)", ["gamma", *[f"p_t={v:g}" for v in p_t]], rows)
    ctx.check(
        "FL / CE = (1 - p_t)^gamma",
        np.array(list(ratio.values())),
        np.array([(1 - p_t.numpy()) ** gm for gm in ratio]),
        rtol=1e-12,
        ref="formula",
    )
    # a detection-like batch: 10,000 easy negatives (p = 0.01) and 20 hard positives (p = 0.3)
    xs = torch.cat(
        [torch.full((10000,), np.log(0.01 / 0.99)), torch.full((20,), np.log(0.3 / 0.7))]
    )
    ts = torch.cat([torch.zeros(10000), torch.ones(20)]).double()
    rows, share = [], {}
    for alpha, gamma in ((-1.0, 0.0), (0.25, 0.0), (-1.0, 2.0), (0.25, 2.0), (0.75, 2.0)):
        loss = sigmoid_focal_loss(xs.double(), ts, alpha, gamma)
        neg, pos = float(loss[:10000].sum()), float(loss[10000:].sum())
        share[(alpha, gamma)] = neg / (neg + pos)
        rows.append([alpha if alpha >= 0 else "off", gamma, neg, pos, share[(alpha, gamma)]])
    ctx.table(
        "10,000 easy negatives (p=0.01) vs 20 hard positives (p=0.3): summed loss",
        ["alpha", "gamma", "negatives", "positives", "negatives' share"],
        rows,
    )
    ctx.claim(
        "with CE the easy negatives dominate; with gamma = 2 the hard positives do",
        share[(-1.0, 0.0)] > 0.5 and share[(-1.0, 2.0)] < 0.01,
        f"negatives' share {share[(-1.0, 0.0)]:.3f} (CE) -> {share[(-1.0, 2.0)]:.4f} (gamma=2)",
    )
    with ctx.figure("focal-vs-pt") as fig:
        ax = fig.subplots()
        grid = np.linspace(0.01, 1, 200)
        for gamma in (0, 0.5, 1, 2, 5):
            ax.plot(grid, -((1 - grid) ** gamma) * np.log(grid), label=f"gamma={gamma}")
        ax.set(xlabel="p_t (probability of the true class)", ylabel="loss", ylim=(0, 5))
        ax.legend()
