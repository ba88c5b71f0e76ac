"""Data-parallel helpers over ``torch.distributed``: rank, gradient all-reduce, broadcast."""

from __future__ import annotations

import os
from collections.abc import Iterable

import torch
import torch.distributed as dist
from torch import nn

__all__ = [
    "average_gradients",
    "broadcast_module",
    "collective_device",
    "init_distributed",
    "world",
]


def world() -> tuple[int, int]:
    """``(rank, world_size)`` of this process; ``(0, 1)`` outside a process group."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def collective_device() -> torch.device:
    """Where a tensor made for a collective must live: NCCL reduces only CUDA tensors (this
    process's device), gloo takes CPU tensors."""
    if dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def init_distributed() -> tuple[int, int]:
    """Join the process group described by torchrun's environment, if there is one.

    ``torchrun`` sets ``WORLD_SIZE``, ``RANK``, ``MASTER_ADDR`` and ``MASTER_PORT``; with a world
    size above one this calls ``init_process_group`` with NCCL when CUDA is available and gloo
    otherwise. Returns :func:`world`.
    """
    size = int(os.environ.get("WORLD_SIZE", "1"))
    if size > 1 and not dist.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        if backend == "nccl":
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
        dist.init_process_group(backend=backend)
    return world()


def average_gradients(params: Iterable[nn.Parameter]) -> None:
    r"""Replace each gradient by its mean over the ranks, :math:`g \leftarrow \frac1W\sum_r g_r`.

    This is the all-reduce that ``DistributedDataParallel`` runs after ``backward`` (here in one
    flat buffer, without overlapping it with the backward pass). With the same number of samples
    on every rank and a mean loss, the averaged gradient equals the gradient of the mean loss
    over the global batch. Parameters without a gradient are left as they are.
    """
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return
    _, size = world()
    flat = torch.cat([g.reshape(-1) for g in grads])
    dist.all_reduce(flat)
    flat /= size
    offset = 0
    for g in grads:
        g.copy_(flat[offset : offset + g.numel()].view_as(g))
        offset += g.numel()


def broadcast_module(module: nn.Module, params: bool = True) -> None:
    """Copy rank 0's buffers (and parameters when ``params``) to every rank.

    Run once at the start so that every replica starts from the same weights, and after every
    step for buffers such as batch-norm running statistics, which each rank updates from its own
    part of the batch (``DistributedDataParallel(broadcast_buffers=True)`` does the same).
    """
    tensors = list(module.buffers()) + (list(module.parameters()) if params else [])
    with torch.no_grad():
        for t in tensors:
            dist.broadcast(t, src=0)
