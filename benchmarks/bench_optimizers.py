"""One optimizer step on a ~10M-parameter model: mlcanon.optim vs torch.optim (CPU, float32)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import torch

from benchmarks._harness import compare
from mlcanon import optim

WIDTH, DEPTH = 1580, 4  # 4 x (1580 x 1580 + 1580) = 9.99M parameters


def _model() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(*(torch.nn.Linear(WIDTH, WIDTH) for _ in range(DEPTH)))


def _with_grads(model: torch.nn.Module) -> torch.nn.Module:
    """A copy of ``model`` whose gradients are filled, as after a backward pass."""
    model = copy.deepcopy(model)
    gen = torch.Generator().manual_seed(1)
    for p in model.parameters():
        p.grad = torch.randn(p.shape, generator=gen) * 1e-3
    return model


def _stepper(cls: type, model: torch.nn.Module, **hyper: Any) -> Callable[[], Any]:
    opt = cls(model.parameters(), **hyper)
    opt.step()  # create the state outside the timed region, as in a training loop
    return opt.step


def main() -> None:
    model = _model()
    n = sum(p.numel() for p in model.parameters())
    note = f"{n / 1e6:.2f}M params, {torch.get_num_threads()} threads"
    for name, ours_cls, ref_cls, hyper, target in [
        ("Adam step", optim.Adam, torch.optim.Adam, {"lr": 1e-3}, 1.5),
        ("AdamW step", optim.AdamW, torch.optim.AdamW, {"lr": 1e-3}, 1.5),
        ("SGD momentum step", optim.SGD, torch.optim.SGD, {"lr": 1e-3, "momentum": 0.9}, 1.5),
    ]:
        ours = _stepper(ours_cls, _with_grads(model), **hyper)
        ref = _stepper(ref_cls, _with_grads(model), **hyper)
        compare(name, ours, ref, ref_name=ref_cls.__module__, target=target, note=note)
    # the NumPy path, for scale: single-threaded ufuncs with temporaries, no target
    filled = _with_grads(model)
    arrays = [p.detach().numpy().copy() for p in filled.parameters()]
    grads = [p.grad.numpy() for p in filled.parameters()]
    np_opt = optim.Adam.for_arrays(arrays, lr=1e-3)
    ref = _stepper(torch.optim.Adam, _with_grads(model), lr=1e-3)
    compare(
        "Adam step, NumPy arrays (for_arrays)",
        lambda: np_opt.step(grads),
        ref,
        ref_name="torch.optim.Adam",
        repeat=3,
        note=note,
    )


if __name__ == "__main__":
    main()
