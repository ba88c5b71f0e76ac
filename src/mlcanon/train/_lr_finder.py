"""The learning-rate range test: sweep the rate exponentially and watch the loss."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import torch

from mlcanon._validation import check_integer, check_scalar

__all__ = ["LRRangeTestResult", "lr_range_test"]


@dataclass(frozen=True)
class LRRangeTestResult:
    """Outcome of :func:`lr_range_test`.

    Attributes
    ----------
    lrs : ndarray of shape (n_steps,)
        Learning rate used at each step.
    losses : ndarray of shape (n_steps,)
        Smoothed training loss after each step's forward pass.
    raw_losses : ndarray of shape (n_steps,)
        Unsmoothed loss of each mini-batch.
    suggested_lr : float
        Rate at which the smoothed loss falls fastest per unit of :math:`\\log \\eta`, looked
        for before the minimum of the smoothed loss.
    diverged : bool
        Whether the smoothed loss blew up (became non-finite or passed ``diverge_th`` times its
        minimum), which ends the sweep; also true when that happened at the last step.
    """

    lrs: np.ndarray
    losses: np.ndarray
    raw_losses: np.ndarray
    suggested_lr: float
    diverged: bool


def lr_range_test(
    model: torch.nn.Module,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    loader: Iterable,
    optimizer: torch.optim.Optimizer,
    start_lr: float,
    end_lr: float,
    num_iter: int,
    smooth: float = 0.05,
    diverge_th: float = 5.0,
) -> LRRangeTestResult:
    r"""Train for ``num_iter`` mini-batches with an exponentially growing learning rate.

    The model (weights and each module's train/eval mode) and the optimizer are restored to
    their state at entry when the test ends, so the suggested rate can be used to train from
    the same starting point.

    Parameters
    ----------
    model : torch.nn.Module
    loss_fn : callable ``loss_fn(model(x), y) -> scalar Tensor``
    loader : iterable of ``(x, y)`` batches; cycled if shorter than ``num_iter``
    optimizer : torch.optim.Optimizer over ``model``'s parameters
    start_lr, end_lr : float, 0 < start_lr < end_lr
    num_iter : int >= 2
    smooth : float in (0, 1], default=0.05
        Weight of the new loss in the moving average (1 means no smoothing).
    diverge_th : float > 1, default=5.0
        Stop once the smoothed loss exceeds ``diverge_th`` times its minimum so far :math:`m`
        (for any sign of :math:`m`: once it exceeds :math:`m` by more than
        ``(diverge_th - 1) * |m|``).

    Returns
    -------
    LRRangeTestResult

    Notes
    -----
    Step :math:`i` uses :math:`\eta_i = \eta_0 (\eta_1/\eta_0)^{i/(n-1)}` and records
    :math:`\bar L_i = s L_i + (1 - s)\bar L_{i-1}`, :math:`\bar L_0 = L_0`. The suggested rate is
    :math:`\eta_{i^*}` with :math:`i^* = \arg\min_i \mathrm{d}\bar L/\mathrm{d}\log\eta`
    (central differences) over the steps up to the minimum of :math:`\bar L`, the point of
    steepest descent: below it the rate is too small to make
    progress, above it the loss soon stops falling and then diverges.

    References
    ----------
    .. [1] Smith, "Cyclical learning rates for training neural networks", WACV 2017, sec. 3.3.
    """
    _validate(model, optimizer, start_lr, end_lr, num_iter, smooth, diverge_th)
    model_state = copy.deepcopy(model.state_dict())
    modes = [(m, m.training) for m in model.modules()]
    opt_state = copy.deepcopy(optimizer.state_dict())
    try:
        lrs, raw, smoothed, diverged = _sweep(
            model, loss_fn, loader, optimizer, start_lr, end_lr, num_iter, smooth, diverge_th
        )
    finally:
        model.load_state_dict(model_state)
        for m, training in modes:
            m.train(training)
        optimizer.load_state_dict(opt_state)
    return LRRangeTestResult(lrs, smoothed, raw, _steepest(lrs, smoothed), diverged)


def _sweep(model, loss_fn, loader, optimizer, start_lr, end_lr, num_iter, smooth, diverge_th):
    schedule = start_lr * (end_lr / start_lr) ** (np.arange(num_iter) / (num_iter - 1))
    raw, smoothed, best, diverged = [], [], np.inf, False
    batches = iter(loader)
    model.train()
    for lr in schedule:
        batch = next(batches, _END)
        if batch is _END:  # a short loader is cycled, as an epoch boundary would be
            batches = iter(loader)
            batch = next(batches, _END)
            if batch is _END:
                raise ValueError(
                    "loader yielded no batches: lr_range_test needs an iterable of (x, y) "
                    "batches that can be iterated again (a list or a DataLoader, not a spent "
                    "generator)"
                )
        x, y = _pair(batch)
        for group in optimizer.param_groups:
            group["lr"] = float(lr)
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        value = float(loss.detach())
        raw.append(value)
        smoothed.append(value if not smoothed else smooth * value + (1 - smooth) * smoothed[-1])
        best = min(best, smoothed[-1])
        # above diverge_th times the minimum, for a positive loss; a loss that can be negative
        # (a log-density) would otherwise "diverge" at its first step, being above 5 x itself
        if not np.isfinite(smoothed[-1]) or smoothed[-1] - best > (diverge_th - 1) * abs(best):
            diverged = True  # also when this was the last step
            break
    n = len(raw)
    return schedule[:n], np.array(raw), np.array(smoothed), diverged


_END = object()


def _pair(batch):
    """``(x, y)`` of one batch; ``TypeError`` naming the loader for anything else (unpacking
    a batch of 3 said only 'too many values to unpack')."""
    if isinstance(batch, (tuple, list)) and len(batch) == 2:
        return batch
    what = type(batch).__name__
    if isinstance(batch, (tuple, list)):
        what += f" of {len(batch)} items"
    raise TypeError(f"loader must yield (x, y) batches for loss_fn(model(x), y), got {what}")


def _steepest(lrs: np.ndarray, losses: np.ndarray) -> float:
    # only the stretch up to the minimum: past it the loss is rising or erratic, and a fall
    # after a blow-up there is no sign of a usable rate
    finite = np.isfinite(losses)
    lrs, losses = lrs[finite], losses[finite]
    if len(lrs) == 0:
        return float("nan")
    stop = int(np.argmin(losses)) + 1
    if stop < 2:
        return float(lrs[0])
    slope = np.gradient(losses[:stop], np.log(lrs[:stop]))
    return float(lrs[np.argmin(slope)])


def _validate(model, optimizer, start_lr, end_lr, num_iter, smooth, diverge_th) -> None:
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(
            f"optimizer must be a torch.optim.Optimizer, got {type(optimizer).__name__}"
        )
    check_scalar(start_lr, "start_lr", low=0.0, include_low=False)
    check_scalar(end_lr, "end_lr", low=0.0, include_low=False)
    if end_lr <= start_lr:
        raise ValueError(f"end_lr={end_lr} must be > start_lr={start_lr}")
    num_iter = check_integer(num_iter, "num_iter", low=2)
    check_scalar(smooth, "smooth", low=0.0, high=1.0, include_low=False)
    check_scalar(diverge_th, "diverge_th", low=1.0, include_low=False)
