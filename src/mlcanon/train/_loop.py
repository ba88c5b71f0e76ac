"""The training loop: clipping, schedules, early stopping, checkpoints that survive a kill, DDP."""

from __future__ import annotations

import copy
import math
import numbers
import random
import re
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.optim.lr_scheduler import ReduceLROnPlateau
from torch.utils.data import DataLoader

from mlcanon._validation import check_integer, check_option, check_scalar

from ._checkpoint import CheckpointError, load_state_file, save_state_file
from ._distributed import average_gradients, broadcast_module, collective_device, world
from ._early_stopping import EarlyStopping, is_real_scalar

__all__ = ["SettingsMismatch", "Trainer", "load_weights", "save_weights"]

_CKPT = re.compile(r"^ckpt-(\d{9})\.safetensors$")


class SettingsMismatch(ValueError):
    """A checkpoint written by a run with another setting (seed, epochs, task) than this one.

    Attributes ``path``, ``key``, ``saved`` (the checkpoint's value) and ``given`` (this run's).
    """

    def __init__(self, path: str | Path, key: str, saved: Any, given: Any) -> None:
        self.path, self.key, self.saved, self.given = str(path), key, saved, given
        super().__init__(
            f"checkpoint {str(path)!r} was written by a run with {key}={saved!r}, this run has "
            f"{key}={given!r}: resuming would continue it with "
            f"{_WHAT_CHANGES.get(key, f'another {key}')}"
        )


_WHAT_CHANGES = {
    "seed": "another sample order",
    "epochs": "another schedule and length",
    "task": "another model or data",
}


class Trainer:
    r"""Train a ``torch.nn.Module`` with checkpoints that survive a kill, alone or under torchrun.

    Each optimizer step runs ``loss = loss_fn(model, batch)``, ``loss.backward()``, averages the
    gradients over the ranks (under ``torch.distributed``), clips their global norm, then steps
    the optimizer and (per step or per epoch) the scheduler. After each epoch ``evaluate`` may
    compute metrics, which feed early stopping. A checkpoint is written every
    ``checkpoint_every`` optimizer steps and at the end of every epoch.

    Parameters
    ----------
    model : torch.nn.Module
        Trained in place. Under ``torch.distributed`` every rank builds the same model; rank 0's
        weights are broadcast at construction.
    optimizer : torch.optim.Optimizer
    loss_fn : callable ``(model, batch) -> Tensor[]``
        Returns the scalar loss of one batch (a mean over its samples, so that averaging the
        gradients over ranks gives the global-batch gradient). ``batch`` is whatever
        ``train_loader`` yields (a custom ``collate_fn`` may yield images and lists of target
        dicts), moved to ``device``. ``model`` is the bare module: call any of its methods.
    train_loader : torch.utils.data.DataLoader
        Its order must be reproducible for a bit-identical resume: it is driven by the global
        torch generator, by ``loader.generator``, by a sampler's ``generator``, or by a sampler's
        ``set_epoch(epoch)`` (called before every epoch, as for ``DistributedSampler`` and
        :class:`ClassBalancedSampler`); the states of all of these are checkpointed. A custom
        ``batch_sampler`` counts as a sampler (its ``generator`` and ``set_epoch`` too).
    scheduler : torch.optim.lr_scheduler.LRScheduler, optional
        E.g. :func:`warmup_cosine`. Stepped after every optimizer step, or after every epoch
        with ``scheduler_interval='epoch'``. A ``ReduceLROnPlateau`` (which needs
        ``scheduler_interval='epoch'``) is stepped with the ``monitor`` value.
    scheduler_interval : {'step', 'epoch'}, default='step'
    clip_grad_norm : float > 0 or inf, optional
        Clip the global L2 norm of the gradients to this value (``clip_grad_norm_``; ``inf``
        computes the norm and clips nothing, as torch).
    evaluate : callable ``(model) -> dict[str, float] | float``, optional
        Run after each epoch under ``model.eval()`` and ``torch.no_grad()``; a bare number is
        stored as ``'val'``. Its values (numbers or 0-d tensors) join the epoch's entry in
        :attr:`history` as Python floats, under names other than ``'epoch'``, ``'loss'`` and
        ``'lr'`` (a ``ValueError`` otherwise: use e.g. ``'val_loss'``). Under
        ``torch.distributed`` every rank runs it and each metric is averaged over the ranks
        (kept as it is when they all agree), as Lightning's ``sync_dist=True``, so that every
        rank stops and schedules alike.
    early_stopping : EarlyStopping, optional
        Stepped with the ``monitor`` value after each epoch; training stops when it says so.
        When it stops on a value that is not finite (``check_finite``, as Lightning's
        ``EarlyStopping``), the epoch joins :attr:`history` but writes no checkpoint, so the
        checkpoints written before stay the newest (none is pruned for it: the epoch-end one of
        the last finite epoch survives unless ``checkpoint_every`` wrote others since), and a
        ``RuntimeWarning`` and :attr:`stop_reason` name the metric, its value, the epoch and
        the best epoch. The model keeps the stopping epoch's weights, as in Lightning.
    monitor : str, optional
        Metric that ``early_stopping`` and a ``ReduceLROnPlateau`` scheduler watch; default
        ``'val'`` when ``evaluate`` is given, else the mean training loss ``'loss'``.
    checkpoint_dir : path, optional
        Folder of ``ckpt-<step>.safetensors`` files; no checkpoints when ``None``.
    checkpoint_every : int >= 1, optional
        Optimizer steps between checkpoints within an epoch (epoch ends always checkpoint).
    keep_last : int >= 1, default=2
        Newest checkpoints kept; older ones are deleted after a new one is written (files of
        later steps, which a resume skipped as unreadable, are left alone and not counted).
    device : torch.device or str, optional
        Where batches go; default: the device of the model's first parameter.
    progress : bool, default=True
        Show a progress bar and one line per epoch (rank 0 only).
    on_step : callable ``(trainer) -> None``, optional
        Called after every optimizer step (logging, or a test that kills the process), once
        :attr:`step` counts that step and before its checkpoint is written. Like the other
        arguments it is an attribute: setting ``trainer.on_step`` later takes effect from the
        next step.
    settings : dict of str to JSON values, optional
        The run's settings that the loader and schedule were built from (:func:`run_task` gives
        ``task``, ``seed`` and ``epochs``). Saved in every checkpoint; :meth:`load_checkpoint`
        refuses a checkpoint whose saved settings differ on a key both hold
        (:class:`SettingsMismatch`), as resuming it would silently train another sample order
        or schedule. Checkpoints without settings (older ones) are not checked.

    Attributes
    ----------
    epoch : int
        Completed epochs.
    stop_reason : str or None
        Why ``early_stopping`` stopped the run (``None`` while it has not).
    step : int
        Completed optimizer steps.
    history : list of dict
        One entry per completed epoch: ``epoch``, ``loss`` (mean training loss over the epoch's
        samples on every rank: :math:`\sum_b n_b \ell_b / \sum_b n_b` over its batches
        :math:`b`, with :math:`\ell_b` the batch's loss and :math:`n_b` its size, the length of
        the first tensor in the batch, so a short last batch weighs its size as in Keras'
        ``History`` and Lightning's ``on_epoch`` logging; it is the loss over all the epoch's
        samples when ``loss_fn`` returns a mean; ``monitor='loss'`` watches this value),
        ``lr`` and the ``evaluate`` metrics. ``lr`` is the rate that the
        epoch's last optimizer step used (``optimizer.param_groups[0]['lr']`` read before that
        step, so before the scheduler moves it on): what a plain torch loop prints at the end of
        the epoch with a per-epoch scheduler, and not the next step's rate, which a per-step
        schedule has already set (0 after the last step of a cosine decay).

    Notes
    -----
    A checkpoint holds the weights, the optimizer and scheduler states, the early-stopping
    counters, the history, the position in the epoch and the random-generator states (torch,
    NumPy, Python, CUDA when initialised, and the loader's generators) both now and at the start
    of the epoch. :meth:`resume` restores them, rewinds the generators to the epoch's start to
    rebuild the same batch order, draws and discards the batches already trained on, then
    restores the current generator states, so training continues exactly where it stopped:
    on the same device and thread count, the final weights are bit-identical to those of an
    uninterrupted run. A loader with ``persistent_workers=True`` resumes the same batch order
    too, but its workers start afresh, so random draws made inside them (augmentations in the
    dataset's ``__getitem__``) differ from the uninterrupted run's after a resume; with
    ``num_workers=0``, or workers that are not persistent, they resume exactly. Under torchrun
    the checkpoint holds every rank's generator states (gathered to rank 0, which writes the
    file) and each rank restores its own, so steps that draw random numbers (dropout,
    augmentation) resume each rank's stream where it stopped, even when the ranks draw
    differently. A checkpoint resumed with another world size restores
    weights and counters; the ranks it does not hold start from rank 0's generator states.

    Examples
    --------
    >>> trainer = Trainer(model, opt, lambda m, b: F.cross_entropy(m(b[0]), b[1]), loader,
    ...                   scheduler=warmup_cosine(opt, 10, 300), checkpoint_dir="ckpt",
    ...                   checkpoint_every=50)                                # doctest: +SKIP
    >>> trainer.resume()                                                    # doctest: +SKIP
    >>> history = trainer.fit(epochs=3)                                     # doctest: +SKIP
    """

    def __init__(
        self,
        model: nn.Module,
        optimizer: torch.optim.Optimizer,
        loss_fn: Callable[[nn.Module, Any], torch.Tensor],
        train_loader: DataLoader,
        *,
        scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
        scheduler_interval: str = "step",
        clip_grad_norm: float | None = None,
        evaluate: Callable[[nn.Module], dict[str, float] | float] | None = None,
        early_stopping: EarlyStopping | None = None,
        monitor: str | None = None,
        checkpoint_dir: str | Path | None = None,
        checkpoint_every: int | None = None,
        keep_last: int = 2,
        device: torch.device | str | None = None,
        progress: bool = True,
        on_step: Callable[[Trainer], None] | None = None,
        settings: dict[str, Any] | None = None,
    ) -> None:
        if not isinstance(model, nn.Module):
            raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
        if not isinstance(optimizer, torch.optim.Optimizer):
            raise TypeError(
                f"optimizer must be a torch.optim.Optimizer, got {type(optimizer).__name__}"
            )
        if not callable(loss_fn):
            raise TypeError(f"loss_fn must be callable, got {type(loss_fn).__name__}")
        if not isinstance(train_loader, DataLoader):
            raise TypeError(
                f"train_loader must be a torch DataLoader, got {type(train_loader).__name__}"
            )
        check_option(scheduler_interval, "scheduler_interval", ("step", "epoch"))
        if scheduler is not None:
            if not isinstance(scheduler, torch.optim.lr_scheduler.LRScheduler):
                raise TypeError(
                    f"scheduler must be a torch.optim.lr_scheduler.LRScheduler or None, got "
                    f"{type(scheduler).__name__}"
                )
            if scheduler.optimizer is not optimizer:  # it would move another optimizer's rates
                raise ValueError(
                    f"scheduler {type(scheduler).__name__} is attached to another optimizer than "
                    f"the Trainer's: build it on the optimizer passed as optimizer"
                )
        if isinstance(scheduler, ReduceLROnPlateau) and scheduler_interval != "epoch":
            raise ValueError(
                "a ReduceLROnPlateau scheduler steps on the monitored metric after each epoch: "
                f"pass scheduler_interval='epoch', got {scheduler_interval!r}"
            )
        if clip_grad_norm is not None and clip_grad_norm != math.inf:  # inf: norm, no clip
            check_scalar(clip_grad_norm, "clip_grad_norm", low=0.0, include_low=False)
        for name, fn in (("evaluate", evaluate), ("on_step", on_step)):
            if fn is not None and not callable(fn):  # else a TypeError after a whole epoch
                raise TypeError(f"{name} must be callable or None, got {type(fn).__name__}")
        if early_stopping is not None and not isinstance(early_stopping, EarlyStopping):
            raise TypeError(
                f"early_stopping must be an EarlyStopping, got {type(early_stopping).__name__}"
            )
        if monitor is not None and not (isinstance(monitor, str) and monitor):
            # ``monitor or default`` took 0 or '' for the default metric, silently
            raise TypeError(
                f"monitor must be a metric name (a non-empty str) or None, got {monitor!r}"
            )
        if checkpoint_every is not None:
            checkpoint_every = check_integer(checkpoint_every, "checkpoint_every", low=1)
        keep_last = check_integer(keep_last, "keep_last", low=1)
        if settings is not None and not (
            isinstance(settings, dict) and all(isinstance(k, str) for k in settings)
        ):
            raise TypeError(f"settings must be a dict with str keys, got {settings!r:.80}")
        self.model, self.optimizer, self.loss_fn = model, optimizer, loss_fn
        self.train_loader, self.scheduler = train_loader, scheduler
        self.scheduler_interval, self.clip_grad_norm = scheduler_interval, clip_grad_norm
        self.evaluate, self.early_stopping = evaluate, early_stopping
        self.monitor = monitor or ("val" if evaluate is not None else "loss")
        self.checkpoint_dir = None if checkpoint_dir is None else Path(checkpoint_dir)
        self.checkpoint_every, self.keep_last = checkpoint_every, keep_last
        first = next(model.parameters(), None)
        self.device = (
            torch.device(device)
            if device is not None
            else (first.device if first is not None else torch.device("cpu"))
        )
        self.progress, self.on_step = progress, on_step
        self.settings = None if settings is None else dict(settings)
        self.rank, self.world_size = world()
        if self.world_size > 1:
            broadcast_module(model)
        self.epoch = self.step = 0
        self.history: list[dict[str, float]] = []
        self._batch = 0  # batches of the current epoch already trained on
        self._loss_sum = 0.0  # sum over the epoch's batches of batch loss x batch size
        self._loss_samples = 0  # samples of the epoch's batches (the sizes of that sum)
        self._epoch_rng: dict[str, Any] | None = None
        self._last_lr: float | None = None  # rate of the latest optimizer step
        self._stop = False
        self.stop_reason: str | None = None
        self._stopped_non_finite = False

    # ------------------------------------------------------------------ training
    def fit(self, epochs: int) -> list[dict[str, float]]:
        """Train until ``epochs`` epochs are complete in total (resumed epochs count).

        Returns :attr:`history`. Stops earlier when ``early_stopping`` says so. ``ValueError``
        when more than ``epochs`` epochs are already complete (a resumed longer run).
        ``FloatingPointError`` when a batch's loss is not finite, at that step, before the
        weights move (the checkpoints written before it are kept).
        """
        epochs = check_integer(epochs, "epochs", low=1)
        if epochs < self.epoch:
            raise ValueError(
                f"epochs={epochs} but {self.epoch} epochs are already complete (resumed from a "
                f"longer run?): its weights are not those of a {epochs}-epoch run"
            )
        bar = self._progress_bar()
        with bar or nullcontext():
            while self.epoch < epochs and not self._stop:
                if bar:
                    desc, total = f"epoch {self.epoch + 1}/{epochs}", _len(self.train_loader)
                    task = bar.add_task(desc, total=total, completed=self._batch, loss=math.nan)
                for _ in self._epoch_steps():
                    if bar:
                        bar.update(
                            task, completed=self._batch, loss=self._loss_sum / self._loss_samples
                        )
                if self._batch == 0:  # its loss would read 0.0 and the epoch count as trained
                    raise ValueError(
                        f"train_loader yielded no batches in epoch {self.epoch + 1} (a "
                        f"DataLoader with drop_last=True and fewer samples than batch_size?)"
                    )
                self._end_epoch()
                if bar:
                    bar.remove_task(task)
                    line = "  ".join(f"{k} {v:.4g}" for k, v in self.history[-1].items())
                    bar.console.print(line, markup=False)  # metric names are not rich markup
        return self.history

    def _epoch_steps(self) -> Iterator[None]:
        loader, gens = self.train_loader, _generators(self.train_loader)
        if self.epoch > 0 and _idle_persistent_workers(loader):
            # an uninterrupted run started these workers in its first epoch: from then on each
            # epoch's iter(loader) only resets them, which draws the sampler's seed but not a
            # new worker seed; start them here too, outside the generators' stream
            before = _rng_state(gens)
            iter(loader)
            _set_rng_state(before, gens)
        resuming = self._batch > 0
        if resuming:  # rewind the generators to the epoch's start to rebuild its batch order
            now = _rng_state(gens)
            _set_rng_state(self._epoch_rng, gens)
        else:
            self._epoch_rng = _rng_state(gens)
        for holder in _samplers(loader):
            if hasattr(holder, "set_epoch"):
                holder.set_epoch(self.epoch)
        batches = iter(loader)
        if resuming:  # draw and drop the batches already trained on, then return to the present
            for drawn in range(self._batch):
                if next(batches, _END) is _END:  # a loader without len() that yields fewer
                    _set_rng_state(now, gens)
                    raise _short_loader("the resumed checkpoint", self._batch, drawn)
            _set_rng_state(now, gens)
        self.model.train()
        for batch in batches:
            self._train_step(_to_device(batch, self.device))
            yield
            if self.on_step is not None:
                self.on_step(self)
            if self.checkpoint_every and self.step % self.checkpoint_every == 0:
                self.save_checkpoint()

    def _train_step(self, batch: Any) -> None:
        self.optimizer.zero_grad(set_to_none=True)
        loss = self.loss_fn(self.model, batch)
        if not isinstance(loss, torch.Tensor) or loss.ndim != 0:
            raise TypeError(f"loss_fn must return a scalar tensor, got {_describe(loss)}")
        value = float(loss.detach())
        if not math.isfinite(value):
            raise FloatingPointError(
                f"loss is {value} at epoch {self.epoch}, step {self.step}; lower the learning "
                f"rate or set clip_grad_norm"
            )
        loss.backward()
        params = [p for g in self.optimizer.param_groups for p in g["params"]]
        if self.world_size > 1:
            average_gradients(params)
        if self.clip_grad_norm is not None:
            torch.nn.utils.clip_grad_norm_(params, self.clip_grad_norm)
        self._last_lr = float(self.optimizer.param_groups[0]["lr"])  # the rate this step uses
        self.optimizer.step()
        if self.scheduler is not None and self.scheduler_interval == "step":
            self.scheduler.step()
        if self.world_size > 1:
            broadcast_module(self.model, params=False)
        self.step += 1
        self._batch += 1
        n = _batch_size(batch)
        self._loss_sum += value * n
        self._loss_samples += n

    def _end_epoch(self) -> None:
        # the mean over the epoch's samples (every rank's), as a plain loop's
        # sum(loss_b * n_b) / N, Keras' History and Lightning's on_epoch logging give it: a
        # short last batch weighs its size, not as much as a full one
        loss_sum, samples = self._loss_sum, self._loss_samples
        if self.world_size > 1:
            t = torch.tensor([loss_sum, samples], dtype=torch.float64, device=collective_device())
            torch.distributed.all_reduce(t)
            loss_sum, samples = float(t[0]), float(t[1])
        loss = loss_sum / samples if samples else math.nan  # no samples: batches of size 0
        lr = self.optimizer.param_groups[0]["lr"] if self._last_lr is None else self._last_lr
        entry = {"epoch": self.epoch + 1, "loss": loss, "lr": lr}
        if self.evaluate is not None:
            self.model.eval()
            with torch.no_grad():
                metrics = self.evaluate(self.model)
            self.model.train()
            metrics = metrics if isinstance(metrics, dict) else {"val": metrics}
            taken = [k for k in metrics if k in entry]
            if taken:  # "loss" would replace the training loss in history, silently
                raise ValueError(
                    f"evaluate returned metrics named {taken}, which history keeps for the "
                    f"epoch's own {', '.join(map(repr, entry))} (its number, mean training loss "
                    f"and learning rate); rename them, e.g. 'val_loss'"
                )
            values = {k: _metric(k, v) for k, v in metrics.items()}
            if self.world_size > 1:  # one value per metric on every rank
                values = _mean_over_ranks(values, self.world_size)
            entry.update(values)
        if isinstance(self.scheduler, ReduceLROnPlateau):
            self.scheduler.step(self._monitored(entry))
        elif self.scheduler is not None and self.scheduler_interval == "epoch":
            self.scheduler.step()
        diverged = self._step_early_stopping(entry)
        self.history.append(entry)
        self.epoch += 1
        self._batch, self._loss_sum, self._loss_samples, self._epoch_rng = 0, 0.0, 0, None
        if diverged:  # its weights gave a non-finite metric: no checkpoint, none pruned for it
            self._stopped_non_finite = True
            if self.rank == 0:
                warnings.warn(
                    f"{self.stop_reason}; no checkpoint was written for this epoch",
                    RuntimeWarning,
                    stacklevel=4,
                )
            return
        self.save_checkpoint()

    def _step_early_stopping(self, entry: dict[str, float]) -> bool:
        """Step ``early_stopping`` with the epoch's monitored value, recording
        :attr:`stop_reason` when it says to stop; whether it stopped on a non-finite value."""
        if self.early_stopping is None:
            return False
        es, value = self.early_stopping, self._monitored(entry)
        self._stop = es.step(value)
        if not self._stop:
            return False
        diverged = es.check_finite and not math.isfinite(value)
        why = (
            f"the monitored metric {self.monitor}={value} is not finite"
            if diverged
            else f"{self.monitor} did not improve for {es.num_bad_epochs_} epochs"
        )
        best = (
            f"its best value was {es.best_} at epoch {es.best_epoch_ + 1}"
            if es.best_epoch_ >= 0
            else "no epoch had a finite value"
        )
        self.stop_reason = f"early stopping after epoch {self.epoch + 1}: {why}; {best}"
        return diverged

    def _monitored(self, entry: dict[str, float]) -> float:
        if self.monitor not in entry:
            raise ValueError(
                f"monitor={self.monitor!r} is not among the epoch's metrics {sorted(entry)}"
            )
        return entry[self.monitor]

    def _progress_bar(self):
        if not self.progress or self.rank != 0:
            return None
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        return Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("loss {task.fields[loss]:.4g}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            transient=True,
        )

    # ---------------------------------------------------------------- checkpoints
    def state(self) -> dict[str, Any]:
        """Everything a checkpoint holds (nested dicts of numbers and tensors)."""
        return {
            "model_class": type(self.model).__qualname__,
            "optimizer_class": _class_name(self.optimizer),
            "scheduler_class": _class_name(self.scheduler),
            "epoch": self.epoch,
            "step": self.step,
            "batch_in_epoch": self._batch,
            "loss_sum": self._loss_sum,
            "loss_samples": self._loss_samples,
            "stop": self._stop,
            "history": self.history,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": None if self.scheduler is None else self.scheduler.state_dict(),
            "early_stopping": None if self.early_stopping is None else vars(self.early_stopping),
            "rng": _rng_state(_generators(self.train_loader)),
            "epoch_rng": self._epoch_rng,
            "last_lr": self._last_lr,
            "settings": self.settings,
        }

    def save_checkpoint(self) -> Path | None:
        """Write ``ckpt-<step>.safetensors`` atomically (rank 0 only) and prune old ones.

        Under torchrun every rank calls this at the same step: the ranks' generator states are
        gathered to rank 0 (``ranks``, in rank order) before it writes the file.
        """
        if self.checkpoint_dir is None:
            return None
        state = self.state()
        if self.world_size > 1:
            # the epoch's loss sum too: each rank's own batches make up its share of the mean
            keys = ("rng", "epoch_rng", "loss_sum", "loss_samples")
            mine = {k: state[k] for k in keys}
            ranks: list[Any] = [None] * self.world_size
            dist.all_gather_object(ranks, mine)
            state["ranks"] = ranks
        if self.rank != 0:
            return None
        self.checkpoint_dir.mkdir(parents=True, exist_ok=True)
        path = save_state_file(self.checkpoint_dir / f"ckpt-{self.step:09d}.safetensors", state)
        # files past this step are not of this run (left unreadable when it resumed from an
        # older one): they neither take a place among the kept nor get deleted
        ours = [p for p in self.checkpoints() if int(_CKPT.match(p.name)[1]) <= self.step]
        for old in ours[self.keep_last :]:
            old.unlink(missing_ok=True)
        return path

    def checkpoints(self) -> list[Path]:
        """Checkpoint files in ``checkpoint_dir``, newest first."""
        if self.checkpoint_dir is None or not self.checkpoint_dir.is_dir():
            return []
        found = [p for p in self.checkpoint_dir.iterdir() if _CKPT.match(p.name)]
        return sorted(found, key=lambda p: p.name, reverse=True)

    def load_checkpoint(self, path: str | Path) -> None:
        """Restore the whole training state from ``path``; a refused checkpoint leaves the
        Trainer (weights, optimizer, scheduler, counters, generators) as it was.

        Raises
        ------
        CheckpointError
            The file is truncated or corrupted, or it holds a state that is not a Trainer's
            (a field of the wrong type, generator states that cannot be restored); the message
            names the file and the field.
        SettingsMismatch
            The checkpoint's run had another value of a key of ``settings``.
        ValueError
            The checkpoint was written by a different model (names the differing keys), or for
            a Trainer set up differently (another optimizer or scheduler class, optimizer
            groups, loader generators, a loader with fewer batches an epoch than the checkpoint
            has trained on).
        """
        _, s = load_state_file(path)
        _check_state(s, path)
        saved = s.get("settings") or {}
        for key, given in (self.settings or {}).items():
            if key in saved and saved[key] != given:
                raise SettingsMismatch(path, key, saved[key], given)
        _check_same_model(self.model, s["model"], s.get("model_class"), path)
        for what, ours in (("optimizer", self.optimizer), ("scheduler", self.scheduler)):
            saved_class = s.get(f"{what}_class")  # absent from older checkpoints
            # (a scheduler in only one of them is refused below, saying so)
            if None not in (saved_class, ours) and saved_class != _class_name(ours):
                raise ValueError(
                    f"checkpoint {str(path)!r} was written with the {what} {saved_class}, this "
                    f"Trainer has {_class_name(ours)}: its state (moments, hyper-parameters, "
                    f"counters) is not one that {_class_name(ours)} can continue from"
                )
        before = self._restorable()
        try:
            self._load_state(s, path)
        except BaseException:  # a refused checkpoint leaves the Trainer as it was
            self._put_back(before)
            raise

    _COUNTERS = (
        "epoch",
        "step",
        "_batch",
        "_loss_sum",
        "_loss_samples",
        "_stop",
        "history",
        "_epoch_rng",
        "_last_lr",
    )

    def _restorable(self) -> dict[str, Any]:
        """Copies of everything :meth:`load_checkpoint` changes but the generators (which it
        puts back itself)."""
        return copy.deepcopy(
            {
                "model": self.model.state_dict(),
                "optimizer": self.optimizer.state_dict(),
                "scheduler": None if self.scheduler is None else self.scheduler.state_dict(),
                "early_stopping": None
                if self.early_stopping is None
                else dict(vars(self.early_stopping)),
                "counters": {k: getattr(self, k, None) for k in self._COUNTERS},
            }
        )

    def _put_back(self, before: dict[str, Any]) -> None:
        self.model.load_state_dict(before["model"])
        self.optimizer.load_state_dict(before["optimizer"])
        if self.scheduler is not None:
            self.scheduler.load_state_dict(before["scheduler"])
        if self.early_stopping is not None:
            vars(self.early_stopping).update(before["early_stopping"])
        for k, v in before["counters"].items():
            setattr(self, k, v)

    def _load_state(self, s: dict[str, Any], path: str | Path) -> None:
        if (s["scheduler"] is None) != (self.scheduler is None):
            raise ValueError(
                f"checkpoint {str(path)!r}: scheduler present in only one of "
                f"the checkpoint and this Trainer"
            )
        ranks = s.get("ranks") or []
        own = ranks[self.rank] if self.rank < len(ranks) else s
        gens = _generators(self.train_loader)
        n_batches = _len(self.train_loader)
        if n_batches is not None and s["batch_in_epoch"] > n_batches:
            raise _short_loader(f"checkpoint {str(path)!r}", s["batch_in_epoch"], n_batches)
        for rng in (own["rng"], own["epoch_rng"]):
            if rng is not None:
                _check_generator_count(rng, gens)
        self.model.load_state_dict(s["model"])
        with _unusable(path, "optimizer state"):
            self.optimizer.load_state_dict(s["optimizer"])
        if self.scheduler is not None:
            with _unusable(path, "scheduler state"):
                self.scheduler.load_state_dict(s["scheduler"])
        if self.early_stopping is not None and s["early_stopping"] is not None:
            _check_same_kinds(vars(self.early_stopping), s["early_stopping"], path)
            vars(self.early_stopping).update(s["early_stopping"])
        self.epoch, self.step, self._batch = s["epoch"], s["step"], s["batch_in_epoch"]
        self._stop, self.history = s["stop"], s["history"]
        # this rank's share of the epoch's loss (rank 0's in checkpoints that hold no ranks' own)
        mean_of = own if "loss_sum" in own else s
        self._loss_sum, self._loss_samples = mean_of["loss_sum"], mean_of.get("loss_samples")
        if self._loss_samples is None:  # an older checkpoint summed the batch means unweighted:
            # its batches, all before the epoch's last, were full ones of the loader's size
            size = self.train_loader.batch_size or 1
            self._loss_sum, self._loss_samples = self._loss_sum * size, self._batch * size
        self._epoch_rng = own["epoch_rng"]
        self._last_lr = s.get("last_lr")  # absent from older checkpoints
        now = _rng_state(gens)
        with _unusable(path, "generator states", restore=lambda: _set_rng_state(now, gens)):
            if own["epoch_rng"] is not None:  # tried now: it is used when the epoch resumes
                _set_rng_state(own["epoch_rng"], gens)
            _set_rng_state(own["rng"], gens)

    def resume(self) -> Path | None:
        """Load the newest valid checkpoint of ``checkpoint_dir``; return its path.

        A corrupted or truncated newest file is skipped with a warning naming it, and the next
        older one is tried. Returns ``None`` when the folder holds no checkpoint.

        Raises
        ------
        CheckpointError
            Checkpoints exist but none is valid.
        """
        found = self.checkpoints()
        errors = []
        for path in found:
            try:
                self.load_checkpoint(path)
            except CheckpointError as e:
                warnings.warn(f"{e}; trying an older checkpoint", RuntimeWarning, stacklevel=2)
                errors.append(str(e))
                continue
            return path
        if errors:
            raise CheckpointError("no valid checkpoint: " + "; ".join(errors))
        return None


# what load_checkpoint reads from a checkpoint's state, and the types it must have
_STATE_FIELDS: dict[str, tuple[type, ...]] = {
    "epoch": (int,),
    "step": (int,),
    "batch_in_epoch": (int,),
    "loss_sum": (int, float),
    "loss_samples": (int, type(None)),
    "stop": (bool,),
    "history": (list,),
    "model": (dict,),
    "optimizer": (dict,),
    "scheduler": (dict, type(None)),
    "early_stopping": (dict, type(None)),
    "rng": (dict,),
    "epoch_rng": (dict, type(None)),
    "model_class": (str, type(None)),
    "optimizer_class": (str, type(None)),
    "scheduler_class": (str, type(None)),
    "ranks": (list, type(None)),
    "last_lr": (int, float, type(None)),
    "settings": (dict, type(None)),
}
_RNG_FIELDS = {"torch": torch.Tensor, "numpy": tuple, "python": tuple, "generators": list}


def _check_state(s: Any, path: str | Path) -> None:
    """``CheckpointError`` naming ``path`` and the field unless ``s`` has the shape of
    :meth:`Trainer.state` (a file whose digest matches but whose content was forged)."""

    def bad(why: str) -> CheckpointError:
        return CheckpointError(f"checkpoint {str(path)!r} is unusable: {why}")

    def check(value: Any, kinds: tuple[type, ...], where: str) -> None:
        if (isinstance(value, bool) and bool not in kinds) or not isinstance(value, kinds):
            allowed = " or ".join(k.__name__ for k in kinds)
            raise bad(f"{where} is {type(value).__name__} {str(value)[:40]}, expected {allowed}")

    check(s, (dict,), "the state")
    for key, kinds in _STATE_FIELDS.items():
        if key not in s and type(None) not in kinds:
            raise bad(f"the state has no {key!r}")
        check(s.get(key), kinds, key)
    for key in ("epoch", "step", "batch_in_epoch"):
        if s[key] < 0:
            raise bad(f"{key} is {s[key]}, expected >= 0")
    for i, entry in enumerate(s["history"]):
        check(entry, (dict,), f"history[{i}]")
    for name, tensor in s["model"].items():
        check(tensor, (torch.Tensor,), f"model weight {name!r}")
    rngs = {"rng": s["rng"], "epoch_rng": s["epoch_rng"]}
    for i, entry in enumerate(s.get("ranks") or []):
        check(entry, (dict,), f"ranks[{i}]")
        check(entry.get("rng"), (dict,), f"ranks[{i}].rng")
        if "epoch_rng" not in entry:
            raise bad(f"ranks[{i}] has no 'epoch_rng'")
        rngs.update({f"ranks[{i}].{k}": entry.get(k) for k in ("rng", "epoch_rng")})
        if "loss_sum" in entry:
            check(entry["loss_sum"], (int, float), f"ranks[{i}].loss_sum")
            check(entry.get("loss_samples"), (int, type(None)), f"ranks[{i}].loss_samples")
    for where, rng in rngs.items():
        check(rng, (dict, type(None)), where)
        for key, kind in [] if rng is None else _RNG_FIELDS.items():
            check(rng.get(key), (kind,), f"{where}[{key!r}]")


def _check_same_kinds(ours: dict[str, Any], saved: dict[str, Any], path: str | Path) -> None:
    """The early-stopping counters of a checkpoint: our names, each a bool, a number or a
    string where ours is one."""

    def kind(v: Any) -> type:
        return (
            bool
            if isinstance(v, bool)
            else numbers.Real
            if isinstance(v, numbers.Real)
            else type(v)
        )

    for key, value in saved.items():
        if key not in ours or kind(value) is not kind(ours[key]):
            raise CheckpointError(
                f"checkpoint {str(path)!r} is unusable: early_stopping.{key} = {str(value)[:40]} "
                f"does not fit this EarlyStopping"
            )


@contextmanager
def _unusable(path: str | Path, what: str, restore: Callable[[], None] | None = None):
    """Report a state that torch or NumPy refuses to restore as a ``CheckpointError``.

    With ``restore`` (called first) a ``ValueError`` counts too; without it a ``ValueError``
    passes through: the optimizer raises it for a checkpoint of another set of parameters.
    """
    refused = (KeyError, TypeError, IndexError, AttributeError, RuntimeError)
    refused += (ValueError,) if restore is not None else ()
    try:
        yield
    except refused as e:
        if restore is not None:
            restore()
        raise CheckpointError(
            f"checkpoint {str(path)!r} is unusable: its {what} cannot be restored "
            f"({type(e).__name__}: {e})"
        ) from None


def _class_name(obj: Any) -> str | None:
    """The qualified name of ``obj``'s class, as ``model_class`` (``None`` for ``None``)."""
    return None if obj is None else type(obj).__qualname__


def _check_same_model(
    model: nn.Module, saved: dict, saved_class: str | None, path, *, plain: bool = False
) -> None:
    ours = model.state_dict()
    missing = sorted(set(ours) - set(saved))
    extra = sorted(set(saved) - set(ours))
    shapes = [
        f"{k}: {tuple(saved[k].shape)} vs {tuple(v.shape)}"
        for k, v in ours.items()
        if k in saved and saved[k].shape != v.shape
    ]
    if missing or extra or shapes:
        writer = "a plain safetensors file" if plain else saved_class
        raise ValueError(
            f"checkpoint {str(path)!r} was written by another model ({writer}, this is "
            f"{type(model).__qualname__}): missing {missing[:5]}, unexpected {extra[:5]}, "
            f"shape mismatches {shapes[:5]} (file vs model)"
        )


def _samplers(loader: DataLoader) -> list[Any]:
    """The distinct samplers of ``loader``: its sampler, its batch sampler's sampler and the
    batch sampler itself (a custom one, such as a bucketing batch sampler, may shuffle)."""
    found: list[Any] = []
    batch_sampler = loader.batch_sampler
    for holder in (loader.sampler, getattr(batch_sampler, "sampler", None), batch_sampler):
        if holder is not None and all(holder is not h for h in found):
            found.append(holder)
    return found


def _generators(loader: DataLoader) -> list[torch.Generator]:
    """Distinct torch generators that drive ``loader``'s order (loader's and samplers')."""
    found: list[torch.Generator] = []
    for holder in (loader, *_samplers(loader)):
        g = getattr(holder, "generator", None)
        if isinstance(g, torch.Generator) and all(g is not h for h in found):
            found.append(g)
    return found


def _idle_persistent_workers(loader: DataLoader) -> bool:
    """Whether ``loader`` keeps its workers between epochs but has not started them yet."""
    return (
        loader.num_workers > 0
        and loader.persistent_workers
        and getattr(loader, "_iterator", None) is None
    )


def _rng_state(gens: list[torch.Generator]) -> dict[str, Any]:
    state = {
        "torch": torch.get_rng_state(),
        "numpy": np.random.get_state(),  # noqa: NPY002 (the global state that user code draws from)
        "python": random.getstate(),
        "generators": [g.get_state() for g in gens],
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _check_generator_count(state: dict[str, Any], gens: list[torch.Generator]) -> None:
    if len(state["generators"]) != len(gens):
        raise ValueError(
            f"the checkpoint has {len(state['generators'])} loader generators, the train_loader "
            f"has {len(gens)}: it must be built the same way as when the checkpoint was written"
        )


def _set_rng_state(state: dict[str, Any], gens: list[torch.Generator]) -> None:
    torch.set_rng_state(state["torch"])
    np.random.set_state(state["numpy"])  # noqa: NPY002
    random.setstate(state["python"])
    for g, s in zip(gens, state["generators"], strict=True):
        g.set_state(s)
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _to_device(batch: Any, device: torch.device) -> Any:
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, dict):
        return {k: _to_device(v, device) for k, v in batch.items()}
    if isinstance(batch, (list, tuple)):
        moved = [_to_device(v, device) for v in batch]
        return type(batch)(moved) if not hasattr(batch, "_fields") else type(batch)(*moved)
    return batch


_END = object()


def _short_loader(what: str, resume_at: int, n_batches: int) -> ValueError:
    return ValueError(
        f"{what} resumes its epoch after batch {resume_at}, but the "
        f"train_loader yields {n_batches} batches per epoch: it must be built the same way as "
        f"when the checkpoint was written"
    )


def _len(loader: DataLoader) -> int | None:
    try:
        return len(loader)
    except TypeError:
        return None


def _metric(name: Any, value: Any) -> float:
    """A metric of ``evaluate`` as a Python float (a 0-d tensor or a NumPy float32 would not
    go into ``history.json``)."""
    if is_real_scalar(value):
        return float(value)
    raise TypeError(
        f"evaluate must return a number or a dict of numbers (floats, 0-d tensors), got "
        f"{_describe(value)} for {name!r}"
    )


def _batch_size(batch: Any) -> int:
    """Samples in ``batch``: the length of the first tensor found depth first through its
    tuples, lists and dicts (1 for a 0-d tensor or a batch without tensors), as Lightning
    infers the ``batch_size`` that weights a logged value in its epoch mean."""
    first = _first_tensor(batch)
    return 1 if first is None or first.ndim == 0 else int(first.shape[0])


def _first_tensor(x: Any) -> torch.Tensor | None:
    if isinstance(x, torch.Tensor):
        return x
    items = x.values() if isinstance(x, dict) else x if isinstance(x, (list, tuple)) else ()
    for item in items:
        found = _first_tensor(item)
        if found is not None:
            return found
    return None


def _mean_over_ranks(metrics: dict[str, float], world_size: int) -> dict[str, float]:
    """Every rank's ``evaluate`` metrics averaged over the ranks (a value on which all ranks
    agree is kept as it is), as Lightning's ``self.log(..., sync_dist=True)`` reduces them, so
    that early stopping and ``ReduceLROnPlateau`` decide the same on every rank."""
    gathered: list[Any] = [None] * world_size
    dist.all_gather_object(gathered, metrics)
    names = [list(m) for m in gathered]
    for rank, own in enumerate(names):
        if own != names[0]:
            raise ValueError(
                f"evaluate returned the metrics {names[0]} on rank 0 and {own} on rank {rank}: "
                f"every rank must return the same names"
            )
    out = {}
    for name in names[0]:
        values = [m[name] for m in gathered]
        if all(v == values[0] for v in values):
            out[name] = values[0]
        elif all(math.isfinite(v) for v in values):
            out[name] = math.fsum(values) / world_size
        else:  # NaN, or infinities (which fsum refuses to add when of both signs)
            out[name] = sum(values) / world_size
    return out


def _describe(x: Any) -> str:
    if isinstance(x, torch.Tensor):
        return f"a tensor of shape {tuple(x.shape)}"
    return type(x).__name__


def save_weights(model: nn.Module, path: str | Path) -> Path:
    """Save ``model.state_dict()`` as a plain safetensors file, atomically."""
    tensors = {
        k: v.detach().to("cpu", copy=True).contiguous() for k, v in model.state_dict().items()
    }
    return save_state_file(path, {"model_class": type(model).__qualname__}, tensors)


def load_weights(model: nn.Module, path: str | Path) -> nn.Module:
    """Load a weights file into ``model`` (checked key by key and shape by shape).

    The file is one written by :func:`save_weights` (its digest checked) or a plain safetensors
    file of a ``state_dict`` (``safetensors.torch.save_file(model.state_dict(), path)``), as
    ``model.load_state_dict(safetensors.torch.load_file(path))`` reads it: the values are copied
    into the model's tensors, keeping their dtype and device. A missing or unexpected key, or a
    shape that differs, raises ``ValueError`` naming the keys.
    """
    tensors, state = load_state_file(path, plain=True)
    if state is not None and (
        not isinstance(state, dict) or not isinstance(state.get("model_class"), str | None)
    ):
        raise CheckpointError(f"weights file {str(path)!r} is unusable: its state is {state!r:.60}")
    saved_class = state.get("model_class") if state is not None else None
    _check_same_model(model, tensors, saved_class, path, plain=state is None)
    model.load_state_dict(tensors)
    return model
