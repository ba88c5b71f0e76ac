"""Helpers shared by the neural-network lessons: seeded torch state and the digits as tensors."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from types import SimpleNamespace

import numpy as np


@contextlib.contextmanager
def _seeded(seed: int) -> Iterator[None]:
    """Fixed torch seed inside, the caller's random state untouched outside."""
    import torch

    with torch.random.fork_rng():
        torch.manual_seed(seed)
        yield


def _digits(n_train: int = 1200) -> SimpleNamespace:
    """Digits as float64 tensors: images (N, 1, 8, 8) scaled to [0, 1], a fixed train/test split."""
    import torch
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    order = np.random.default_rng(0).permutation(len(y))
    X, y = torch.tensor(X[order] / 16.0), torch.tensor(y[order])
    img = X.reshape(-1, 1, 8, 8)
    return SimpleNamespace(
        X=X[:n_train],
        y=y[:n_train],
        X_test=X[n_train:],
        y_test=y[n_train:],
        img=img[:n_train],
        img_test=img[n_train:],
    )


def _grads(model, loss) -> list:
    import torch

    return list(torch.autograd.grad(loss, list(model.parameters())))


def _mlp(hidden: int = 32, dropout: float = 0.0):
    """A one-hidden-layer ReLU network for the 64 digit pixels (10 classes)."""
    import torch

    layers = [torch.nn.Linear(64, hidden), torch.nn.ReLU()]
    if dropout:
        layers.append(torch.nn.Dropout(dropout))
    return torch.nn.Sequential(*layers, torch.nn.Linear(hidden, 10))
