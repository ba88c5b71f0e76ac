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
    over the global batch.

    Every rank must pass the same parameters (those of the same model, in the same order); each
    one's gradient may be missing (``None``) on some ranks, as for a branch that only some ranks'
    batches take. A missing gradient counts as zeros in the mean, and the rank gets the mean as
    its gradient, as ``DistributedDataParallel(find_unused_parameters=True)`` does; a parameter
    without a gradient on every rank keeps ``None``. Parameters with ``requires_grad=False`` are
    skipped. (Reducing only the gradients present on each rank made the ranks reduce buffers of
    different lengths, or mix up parameters: an error, a hang, or wrong gradients.)
    """
    params = [p for p in params if p.requires_grad]
    if not params:
        return
    _, size = world()
    dtype = params[0].dtype
    for p in params[1:]:
        dtype = torch.promote_types(dtype, p.dtype)
    device = params[0].device
    present = torch.tensor([p.grad is not None for p in params], dtype=torch.int32, device=device)
    flat = torch.cat(
        [
            (p.grad if p.grad is not None else torch.zeros_like(p)).reshape(-1).to(dtype)
            for p in params
        ]
    )
    dist.all_reduce(present)
    dist.all_reduce(flat)
    flat /= size
    offset = 0
    for p, used in zip(params, present.tolist(), strict=True):
        mean = flat[offset : offset + p.numel()].view_as(p)
        offset += p.numel()
        if p.grad is not None:
            p.grad.copy_(mean)
        elif used:
            p.grad = mean.to(p.dtype).clone()


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
