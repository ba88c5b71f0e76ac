"""Linear warmup followed by cosine decay of the learning rate."""

from __future__ import annotations

import math

import torch
from torch.optim.lr_scheduler import LambdaLR

from mlcanon._validation import check_integer, check_scalar

__all__ = ["warmup_cosine"]


def warmup_cosine(
    optimizer: torch.optim.Optimizer,
    warmup_steps: int,
    total_steps: int,
    min_lr: float = 0.0,
) -> LambdaLR:
    r"""Scheduler: linear warmup for ``warmup_steps`` steps, then cosine decay to ``min_lr``.

    Call ``scheduler.step()`` once per optimizer step. Step :math:`s` (0-based, the value of
    ``scheduler.last_epoch``) uses the learning rate :math:`\eta_s` below, for each parameter
    group with its own base rate :math:`\eta`.

    Parameters
    ----------
    optimizer : torch.optim.Optimizer
    warmup_steps : int >= 0
        Length :math:`W` of the warmup; 0 gives plain cosine decay.
    total_steps : int >= 1
        Step :math:`T` at which the rate reaches ``min_lr``; it stays there afterwards. A run
        of :math:`T \le W` steps ends within its warmup (see the notes).
    min_lr : float >= 0, default=0.0
        Final rate :math:`\eta_{min}` (absolute, as ``eta_min`` of ``CosineAnnealingLR``); must
        not exceed any group's base rate.

    Returns
    -------
    torch.optim.lr_scheduler.LambdaLR

    Notes
    -----
    .. math::

        \eta_s = \begin{cases}
            \eta\,\frac{s + 1}{W} & s < W \\
            \eta_{min} + \tfrac12(\eta - \eta_{min})
                \bigl(1 + \cos\bigl(\pi \tfrac{s - W}{T - W}\bigr)\bigr) & W \le s \le T \\
            \eta_{min} & s > T
        \end{cases}

    The warmup starts at :math:`\eta / W` rather than 0 so that the first step moves the
    weights; it equals ``LinearLR(start_factor=1/W, total_iters=W-1)`` followed at step
    :math:`W` by ``CosineAnnealingLR(T_max=T-W, eta_min=min_lr)`` through ``SequentialLR``.
    A run no longer than its warmup (:math:`T \le W`) has no decay: step :math:`s` uses
    :math:`\eta\,\min(s + 1, W) / W` (``LinearLR`` alone), so the last of its :math:`T` steps
    uses :math:`\eta\,T / W`, as the composed torch schedule gives before its milestone
    :math:`W` (where ``CosineAnnealingLR`` with ``T_max`` :math:`= T - W \le 0` would take
    over, dividing by zero at :math:`T = W`). Shortening the warmup to fit instead (e.g.
    :math:`W = T - 1`) would end the run at the peak rate :math:`\eta`, without decay.

    Warmup keeps Adam's first steps small while its second-moment estimate still rests on few
    gradients.

    References
    ----------
    .. [1] Goyal et al., "Accurate, large minibatch SGD: training ImageNet in 1 hour",
       arXiv:1706.02677, 2017, sec. 2.2 (gradual warmup).
    .. [2] Loshchilov and Hutter, "SGDR: stochastic gradient descent with warm restarts",
       ICLR 2017, eq. (5).
    """
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(
            f"optimizer must be a torch.optim.Optimizer, got {type(optimizer).__name__}"
        )
    warmup_steps = check_integer(warmup_steps, "warmup_steps", low=0)
    total_steps = check_integer(total_steps, "total_steps", low=1)
    check_scalar(min_lr, "min_lr", low=0.0)
    base = [g.get("initial_lr", g["lr"]) for g in optimizer.param_groups]
    if any(min_lr > b for b in base):
        raise ValueError(f"min_lr={min_lr} must be <= every base lr, got base lrs {base}")
    return LambdaLR(
        optimizer, [_factor(warmup_steps, total_steps, min_lr / b if b > 0 else 0.0) for b in base]
    )


def _factor(warmup: int, total: int, floor: float):
    """Multiplier of the base rate at step s; ``floor`` is min_lr / base lr."""

    def f(s: int) -> float:
        if s < warmup:
            return (s + 1) / warmup
        if total <= warmup:  # past a warmup no shorter than the run: the peak, as LinearLR alone
            return 1.0
        t = min(s - warmup, total - warmup) / (total - warmup)
        return floor + 0.5 * (1.0 - floor) * (1.0 + math.cos(math.pi * t))

    return f
