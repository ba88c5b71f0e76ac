"""Task ``digits-cnn``: a small CNN on scikit-learn's 8x8 digits (a few seconds per epoch)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from ._sampler import ClassBalancedSampler
from ._schedule import warmup_cosine
from ._tasks import TaskConfig, TaskSetup, register_task

GLOBAL_BATCH = 64
N_TEST = 360  # the last 360 of the 1,797 images are held out, whatever the seed


def digits_cnn() -> nn.Sequential:
    """Two conv/pool stages and a linear classifier; no batch norm, so that the data-parallel
    run computes the same function of the global batch as a single process."""
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),  # (B, 16, 4, 4)
        nn.Conv2d(16, 32, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),  # (B, 32, 2, 2)
        nn.Flatten(),
        nn.Linear(128, 10),
    )


def _data(device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    x, y = load_digits(return_X_y=True)
    x = torch.as_tensor(x / 16.0, dtype=torch.float32, device=device).view(-1, 1, 8, 8)
    return x, torch.as_tensor(y, device=device)


def build(cfg: TaskConfig) -> TaskSetup:
    """The ``digits-cnn`` task: Adam with warmup + cosine, class-balanced sampling."""
    x, y = _data(torch.device("cpu"))
    x_tr, y_tr, x_te, y_te = x[:-N_TEST], y[:-N_TEST], x[-N_TEST:], y[-N_TEST:]
    steps = len(y_tr) // GLOBAL_BATCH  # whole global batches per epoch
    sampler = ClassBalancedSampler(
        y_tr.numpy(),
        num_samples=steps * GLOBAL_BATCH,
        num_replicas=cfg.world_size,
        rank=cfg.rank,
        seed=cfg.seed,
    )
    loader = DataLoader(
        TensorDataset(x_tr, y_tr), batch_size=cfg.per_rank(GLOBAL_BATCH), sampler=sampler
    )
    model = digits_cnn().to(cfg.device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    x_te, y_te = x_te.to(cfg.device), y_te.to(cfg.device)

    def evaluate(m: nn.Module) -> dict[str, float]:
        logits = m(x_te)
        return {
            "test_loss": F.cross_entropy(logits, y_te).item(),
            "test_acc": (logits.argmax(1) == y_te).float().mean().item(),
        }

    return TaskSetup(
        model,
        opt,
        lambda m, b: F.cross_entropy(m(b[0]), b[1]),
        loader,
        scheduler=warmup_cosine(opt, steps // 2, cfg.epochs * steps),
        evaluate=evaluate,
        checkpoint_every=5,
    )


register_task("digits-cnn", build, "small CNN on scikit-learn's 8x8 digits", default_epochs=3)
