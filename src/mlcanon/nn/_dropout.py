"""Inverted dropout: zero each entry with probability ``p`` and scale the survivors by 1/(1-p)."""

from __future__ import annotations

import torch
from torch import Tensor
from torch.autograd import Function

from mlcanon._validation import check_scalar

from ._utils import check_inplace, check_tensor, probability

__all__ = ["dropout"]


class _MaskedScale(Function):
    """y = x * mask * scale; the mask is an input so that a test can fix it."""

    @staticmethod
    def forward(ctx, x: Tensor, mask: Tensor, scale: float) -> Tensor:
        ctx.save_for_backward(mask)
        ctx.scale = scale
        return x * mask * scale

    @staticmethod
    def backward(ctx, grad: Tensor):
        (mask,) = ctx.saved_tensors
        return grad * mask * ctx.scale, None, None


class _MaskedScaleInplace(Function):
    """x *= mask * scale, in place (x returned, marked dirty); the backward needs only the mask,
    so nothing of x is kept."""

    @staticmethod
    def forward(ctx, x: Tensor, mask: Tensor, scale: float) -> Tensor:
        # the roundings of x * mask * scale; through .data, so that mark_dirty's is the one
        # version bump, as torch's one for an in-place op
        x.data.mul_(mask).mul_(scale)
        ctx.mark_dirty(x)
        ctx.save_for_backward(mask)
        ctx.scale = scale
        return x

    backward = _MaskedScale.backward


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    r"""Inverted dropout, as ``torch.nn.functional.dropout``.

    Parameters
    ----------
    input : Tensor
    p : float in [0, 1]
        Probability of zeroing an entry.
    training : bool
        Identity when False.
    inplace : bool
        Write the result into ``input`` and return it (refused, as torch refuses it, on a leaf
        that requires grad). Nothing is written, and ``input`` itself is returned, when
        ``training`` is False, ``p`` is 0 or ``input`` is empty (as torch, in or out of place).

    Notes
    -----
    :math:`y = x \odot m / (1-p)`, :math:`m_i \sim \text{Bernoulli}(1-p)`, so :math:`E[y] = x`
    and no rescaling is needed at test time; backward: :math:`g \odot m / (1-p)`. The mask is
    drawn with torch's generator (``bernoulli_``), so ``torch.manual_seed`` reproduces it.

    References
    ----------
    .. [1] Srivastava et al., "Dropout: a simple way to prevent neural networks from overfitting",
       JMLR 15, 2014.
    """
    x = check_tensor(input, "input")
    p = probability(p, "p")
    check_scalar(training, "training", kind=bool)
    check_scalar(inplace, "inplace", kind=bool)
    if not training or p == 0.0 or x.numel() == 0:  # the input itself, as torch's
        return x
    if p == 1.0:
        mask, scale = torch.zeros_like(x), 0.0
    else:
        mask, scale = torch.empty_like(x).bernoulli_(1.0 - p), 1.0 / (1.0 - p)
    if not inplace:
        return _MaskedScale.apply(x, mask, scale)
    _MaskedScaleInplace.apply(check_inplace(x), mask, scale)
    return x  # with a graph apply returns x, but under no_grad an alias of it
