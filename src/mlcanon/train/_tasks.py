"""Named training tasks behind ``mlcanon train TASK``, alone or under torchrun.

A task is a function that receives a :class:`TaskConfig` (seed, epochs, rank, world size,
device) and returns a :class:`TaskSetup` (model, optimizer, loss, loader, schedule, evaluation).
Registering one takes a few lines::

    def build(cfg: TaskConfig) -> TaskSetup:
        model = MyNet().to(cfg.device)
        opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
        sampler = ClassBalancedSampler(labels, seed=cfg.seed)   # splits itself across ranks
        loader = DataLoader(data, batch_size=cfg.per_rank(64), sampler=sampler)
        return TaskSetup(model, opt, my_loss, loader,
                         scheduler=warmup_cosine(opt, 10, cfg.epochs * len(loader)))

    register_task("my-task", build, "what it trains", default_epochs=10)

:func:`run_task` joins the torchrun process group when there is one, seeds every generator,
builds the task, resumes from ``OUT/checkpoints`` if asked (refusing a checkpoint of a run with
another task, seed or number of epochs), trains with :class:`Trainer`
(checkpoints under ``OUT/checkpoints``) and writes the weights to ``OUT/model.safetensors``
and the per-epoch history to ``OUT/history.json``.
"""

from __future__ import annotations

import hashlib
import json
import random
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader

from mlcanon._validation import check_integer

from ._checkpoint import CheckpointError, load_state_file
from ._distributed import init_distributed
from ._early_stopping import EarlyStopping
from ._loop import _CKPT, Trainer, save_weights

__all__ = ["TaskConfig", "TaskSetup", "get_task", "register_task", "registered_tasks", "run_task"]

SEED_MAX = 2**32 - 1  # np.random.seed's range, the narrowest of the three generators


@dataclass(frozen=True)
class TaskConfig:
    """What a task builder is told about the run."""

    epochs: int
    seed: int
    rank: int = 0
    world_size: int = 1
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))

    def per_rank(self, global_batch: int) -> int:
        """Batch size of one rank for a global batch of ``global_batch`` samples."""
        if global_batch % self.world_size:
            raise ValueError(
                f"the global batch of {global_batch} samples cannot be split over "
                f"world_size={self.world_size} processes; use a world size that divides it"
            )
        return global_batch // self.world_size


@dataclass
class TaskSetup:
    """What a task builder returns: the arguments of :class:`Trainer` for this task, each field
    under the name of the argument it fills."""

    model: nn.Module
    optimizer: torch.optim.Optimizer
    loss_fn: Callable[[nn.Module, Any], torch.Tensor]
    train_loader: DataLoader
    scheduler: torch.optim.lr_scheduler.LRScheduler | None = None
    scheduler_interval: str = "step"
    clip_grad_norm: float | None = None
    evaluate: Callable[[nn.Module], dict[str, float] | float] | None = None
    early_stopping: EarlyStopping | None = None
    monitor: str | None = None
    checkpoint_every: int | None = None

    def trainer(self, **kwargs: Any) -> Trainer:
        """A :class:`Trainer` for this setup; ``kwargs`` (checkpoint folder, device, progress)
        go to it as well."""
        return Trainer(**{f.name: getattr(self, f.name) for f in fields(self)}, **kwargs)


@dataclass(frozen=True)
class Task:
    name: str
    build: Callable[[TaskConfig], TaskSetup]
    description: str
    default_epochs: int


_TASKS: dict[str, Task] = {}


def register_task(
    name: str,
    build: Callable[[TaskConfig], TaskSetup],
    description: str = "",
    *,
    default_epochs: int = 10,
) -> None:
    """Make ``build`` available as ``mlcanon train NAME``."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"name must be a non-empty string, got {name!r}")
    if not callable(build):
        raise TypeError(f"build must be callable, got {type(build).__name__}")
    default_epochs = check_integer(default_epochs, "default_epochs", low=1)
    if name in _TASKS and _TASKS[name].build is not build:
        raise ValueError(f"task {name!r} is already registered")
    _TASKS[name] = Task(name, build, description, default_epochs)


def registered_tasks() -> list[Task]:
    """Every registered task, by name."""
    _load_builtin()
    return [_TASKS[k] for k in sorted(_TASKS)]


def get_task(name: str) -> Task:
    """The task registered as ``name``; ``ValueError`` listing the known ones otherwise."""
    _load_builtin()
    if name not in _TASKS:
        raise ValueError(f"unknown task {name!r}; known tasks: {', '.join(sorted(_TASKS))}")
    return _TASKS[name]


def _load_builtin() -> None:
    from . import _detection, _digits  # noqa: F401  (register their tasks)


def run_task(
    name: str,
    out: str | Path,
    *,
    epochs: int | None = None,
    seed: int = 0,
    resume: bool = False,
    progress: bool = True,
) -> list[dict[str, float]]:
    """Train task ``name`` into folder ``out``; return the history (see the module docstring).

    Under torchrun every rank runs this; rank 0 writes the files. Each rank prints the SHA-256
    of its final weights, so the replicas can be checked to be identical.

    Raises
    ------
    ValueError
        Unknown task; ``epochs`` < 1 or ``seed`` outside [0, SEED_MAX = 2**32 - 1] (checked before
        anything is built); ``out/checkpoints`` already holds checkpoints and ``resume`` is
        false.
    FloatingPointError
        The training loss, or the metric that the task's early stopping monitors, is not
        finite (no ``model.safetensors`` is written; the checkpoints before it are kept).
    SettingsMismatch
        ``resume`` found a checkpoint of a run with another task, ``seed`` or ``epochs``
        (``epochs=None`` takes the checkpointed run's; the task's default without one).
    """
    task = get_task(name)
    if epochs is not None:
        epochs = check_integer(epochs, "epochs", low=1)
    seed = check_integer(seed, "seed", low=0, high=SEED_MAX)
    out = Path(out)
    ckpt = out / "checkpoints"
    if epochs is None:  # resuming continues the checkpointed run's schedule
        saved = _saved_settings(ckpt) if resume else {}
        epochs = saved.get("epochs", task.default_epochs)
        epochs = check_integer(epochs, "the checkpoint's epochs", low=1)
    rank, size = init_distributed()
    device = torch.device(
        f"cuda:{torch.cuda.current_device()}" if torch.cuda.is_available() else "cpu"
    )
    torch.manual_seed(seed)
    np.random.seed(seed)  # noqa: NPY002 (seeds user code that draws from the global state)
    random.seed(seed)
    setup = task.build(TaskConfig(epochs, seed, rank, size, device))
    # the world size may change on resume (the Trainer supports it: the global batch and the
    # sampler's global stream do not depend on it), so it is not among the checked settings
    settings = {"task": name, "seed": seed, "epochs": epochs}
    trainer = setup.trainer(
        checkpoint_dir=ckpt, device=device, progress=progress, settings=settings
    )
    if resume:
        path = trainer.resume()
        if rank == 0:
            where = f"{path} (epoch {trainer.epoch}, step {trainer.step})" if path else "nothing"
            _say(f"resumed from {where}")
    elif trainer.checkpoints():
        raise ValueError(
            f"{ckpt} already holds checkpoints; pass --resume to continue that run or choose "
            f"another --out"
        )
    with warnings.catch_warnings():  # said by the FloatingPointError below
        warnings.filterwarnings("ignore", "early stopping after epoch", RuntimeWarning)
        history = trainer.fit(epochs)
    if trainer._stopped_non_finite:  # as a diverging loss: no weights file of that epoch
        raise FloatingPointError(trainer.stop_reason)
    _say(f"rank {rank}/{size} weights sha256 {_digest(setup.model)}")
    if rank == 0:
        save_weights(setup.model, out / "model.safetensors")
        # strict JSON (RFC 8259) has no NaN or Infinity: a non-finite metric is written null
        rows = [{k: v if np.isfinite(v) else None for k, v in row.items()} for row in history]
        (out / "history.json").write_text(json.dumps(rows, indent=1, allow_nan=False))
    if size > 1:
        torch.distributed.barrier()
        torch.distributed.destroy_process_group()
    return history


def _saved_settings(ckpt: Path) -> dict[str, Any]:
    """The settings of the newest readable checkpoint in ``ckpt`` (``{}`` if none holds any);
    :meth:`Trainer.resume` warns about the unreadable ones."""
    for path in sorted((p for p in ckpt.glob("ckpt-*") if _CKPT.match(p.name)), reverse=True):
        try:
            _, state = load_state_file(path)
        except (CheckpointError, OSError):
            continue
        settings = state.get("settings") if isinstance(state, dict) else None
        return settings if isinstance(settings, dict) else {}
    return {}


def _say(line: str) -> None:
    """Print ``line`` in one write: the ranks share stdout, and ``print`` writes the newline
    apart (a write each when unbuffered, ``PYTHONUNBUFFERED=1``), so another rank's line could
    land between a line and its newline."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _digest(model: nn.Module) -> str:
    h = hashlib.sha256()
    for k, v in model.state_dict().items():
        h.update(k.encode())
        h.update(v.detach().cpu().contiguous().view(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()[:16]
