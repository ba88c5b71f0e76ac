"""Pruning masks: unstructured magnitude pruning (per layer or global) and L_n filter pruning.

A mask has the shape of the weight, 1 where a weight is kept and 0 where it is removed; the
pruned weight is ``weight * mask``. The count removed follows ``torch.nn.utils.prune``: an int
``amount`` is a count, a float in [0, 1] a fraction, rounded with Python's ``round``.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import torch
from torch import nn

__all__ = ["apply_masks", "global_magnitude_masks", "ln_structured_mask", "magnitude_mask"]


def _n_prune(amount: float, size: int) -> int:
    if isinstance(amount, bool) or not isinstance(amount, numbers.Real):
        raise TypeError(f"amount must be an int or a float, got {type(amount).__name__}")
    if isinstance(amount, numbers.Integral):
        if not 0 <= amount <= size:
            raise ValueError(f"amount must be in [0, {size}] (the number of units), got {amount}")
        return int(amount)
    if not 0.0 <= amount <= 1.0:
        raise ValueError(f"amount as a fraction must be in [0, 1], got {amount}")
    return round(amount * size)


def _prune_smallest(scores: torch.Tensor, n_prune: int) -> torch.Tensor:
    """0/1 mask (float) zeroing the ``n_prune`` smallest entries of a 1-D score vector.

    The entries are those of ``torch.topk(scores, n_prune, largest=False)``, the call
    ``torch.nn.utils.prune.L1Unstructured`` makes, so that among tied scores the same ones go.
    """
    mask = torch.ones_like(scores)
    if n_prune:
        mask[torch.topk(scores, k=n_prune, largest=False).indices] = 0.0
    return mask


def _keep_largest(scores: torch.Tensor, n_prune: int) -> torch.Tensor:
    """0/1 mask (float) keeping the ``len(scores) - n_prune`` largest entries of a 1-D vector.

    The kept entries are those of ``torch.topk(scores, n_keep, largest=True)``, the call
    ``torch.nn.utils.prune.LnStructured`` makes (it keeps the top rather than pruning the
    bottom, which picks differently among tied scores).
    """
    if not n_prune:
        return torch.ones_like(scores)
    mask = torch.zeros_like(scores)
    mask[torch.topk(scores, k=scores.numel() - n_prune, largest=True).indices] = 1.0
    return mask


def magnitude_mask(weight: torch.Tensor, amount: float) -> torch.Tensor:
    """Mask removing the ``amount`` weights of smallest absolute value (unstructured).

    Notes
    -----
    Keep :math:`w_j` iff :math:`|w_j|` is not among the k smallest, k = round(amount * n).
    Same mask as ``torch.nn.utils.prune.l1_unstructured``, ties included.

    References
    ----------
    S. Han, J. Pool, J. Tran and W. Dally, "Learning both Weights and Connections for
    Efficient Neural Networks", NeurIPS 2015.
    """
    if not isinstance(weight, torch.Tensor):
        raise TypeError(f"weight must be a torch.Tensor, got {type(weight).__name__}")
    w = weight.detach()
    k = _n_prune(amount, w.numel())
    return _prune_smallest(w.abs().reshape(-1), k).reshape(w.shape)


def global_magnitude_masks(weights: Sequence[torch.Tensor], amount: float) -> list[torch.Tensor]:
    """Masks removing the ``amount`` smallest-|w| weights pooled over all ``weights``.

    A global threshold lets layers with many redundant weights lose more than sensitive ones;
    same masks as ``torch.nn.utils.prune.global_unstructured`` with ``L1Unstructured``.
    See :func:`magnitude_mask` for the reference.
    """
    weights = list(weights)
    if not weights or not all(isinstance(w, torch.Tensor) for w in weights):
        raise ValueError("weights must be a non-empty sequence of tensors")
    scores = torch.cat([w.detach().abs().reshape(-1) for w in weights])
    flat = _prune_smallest(scores, _n_prune(amount, scores.numel()))
    sizes = [w.numel() for w in weights]
    return [m.reshape(w.shape) for m, w in zip(flat.split(sizes), weights, strict=True)]


def ln_structured_mask(
    weight: torch.Tensor, amount: float, n: float = 1, dim: int = 0
) -> torch.Tensor:
    """Mask removing whole slices (filters for ``dim=0``) of smallest L_n norm.

    Parameters
    ----------
    weight : Tensor
        E.g. a conv weight (C_out, C_in, kh, kw).
    amount : int or float
        Number or fraction of slices along ``dim`` to remove.
    n : float or 'fro', default 1
        Order of the norm over each slice (1: the L1 filter pruning of Li et al.); any order
        ``torch.linalg.vector_norm`` takes (``inf``, ``-inf``, 0 counts non-zeros), as
        ``torch.nn.utils.prune.ln_structured``.
    dim : int, default 0
        Axis of the slices (0: output channels / filters).

    Notes
    -----
    Slice j is scored by :math:`\\|W_{j}\\|_n`; the k lowest-scoring slices are zeroed.
    Removing a filter also removes the matching input channel of the next layer, so the
    saving is real on dense hardware (unlike unstructured sparsity). Same mask as
    ``torch.nn.utils.prune.ln_structured``, ties included.

    References
    ----------
    H. Li, A. Kadav, I. Durdanovic, H. Samet and H. P. Graf, "Pruning Filters for Efficient
    ConvNets", ICLR 2017, Section 3.1.
    """
    if not isinstance(weight, torch.Tensor) or weight.ndim < 1:
        raise ValueError(f"weight must be a tensor with at least 1 axis, got {weight!r}")
    if not isinstance(dim, int) or not -weight.ndim <= dim < weight.ndim:
        raise ValueError(f"dim must be an int in [{-weight.ndim}, {weight.ndim - 1}], got {dim!r}")
    if n == "fro":
        n = 2  # the Frobenius norm of a slice is the 2-norm of its entries
    if isinstance(n, bool) or not isinstance(n, numbers.Real) or n != n:
        raise ValueError(
            f"n must be a number (the norm order, inf and -inf too) or 'fro', got {n!r}"
        )
    dim = dim % weight.ndim
    w = weight.detach()
    if w.ndim == 1:  # each entry a slice (torch.nn.utils.prune refuses 1-D weights)
        norms = torch.linalg.vector_norm(w[:, None], ord=float(n), dim=1)
    else:  # torch.nn.utils.prune's own reduction, so that near-equal norms rank the same
        norms = torch.norm(w, p=float(n), dim=[d for d in range(w.ndim) if d != dim])
    keep = _keep_largest(norms, _n_prune(amount, weight.shape[dim]))
    shape = [1] * weight.ndim
    shape[dim] = -1
    return keep.reshape(shape).expand(weight.shape).clone()


@torch.no_grad()
def apply_masks(model: nn.Module, masks: dict[str, torch.Tensor]) -> nn.Module:
    """Multiply parameters of ``model`` in place by ``masks`` (``{parameter name: mask}``)."""
    params = dict(model.named_parameters())
    for name, mask in masks.items():
        if name not in params:
            raise ValueError(f"masks names unknown parameter {name!r}; known: {sorted(params)}")
        if not isinstance(mask, torch.Tensor):
            raise TypeError(f"mask for {name!r} must be a torch.Tensor, got {type(mask).__name__}")
        if mask.shape != params[name].shape:
            raise ValueError(
                f"mask for {name!r} has shape {tuple(mask.shape)}, parameter has "
                f"{tuple(params[name].shape)}"
            )
        params[name].mul_(mask.to(params[name]))  # the parameter's device and dtype
    return model
