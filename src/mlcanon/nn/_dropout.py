"""Inverted dropout: zero each entry with probability ``p`` and scale the survivors by 1/(1-p)."""

from __future__ import annotations

import torch
from torch import Tensor
from torch.autograd import Function

from mlcanon._validation import check_scalar

from ._utils import check_tensor, probability

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


def dropout(input: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    r"""Inverted dropout, as ``torch.nn.functional.dropout``.

    Parameters
    ----------
    input : Tensor
    p : float in [0, 1]
        Probability of zeroing an entry.
    training : bool
        Identity when False.

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
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return _MaskedScale.apply(x, torch.zeros_like(x), 0.0)
    mask = torch.empty_like(x).bernoulli_(1.0 - p)
    return _MaskedScale.apply(x, mask, 1.0 / (1.0 - p))
