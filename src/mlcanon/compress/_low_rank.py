"""Low-rank factorization of Linear and Conv2d layers by truncated SVD."""

from __future__ import annotations

import numbers

import torch
from torch import nn

__all__ = ["low_rank_conv2d", "low_rank_linear", "truncated_svd"]


def truncated_svd(weight: torch.Tensor, rank: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Factors ``A (m, rank)`` and ``B (rank, n)`` with ``A @ B`` the best rank-``rank`` fit.

    Notes
    -----
    With :math:`W = U \\Sigma V^\\top`, :math:`A = U_r \\Sigma_r^{1/2}` and
    :math:`B = \\Sigma_r^{1/2} V_r^\\top` (the singular values split evenly between the two
    layers). By the Eckart-Young theorem no rank-r matrix is closer, and

    .. math::
        \\|W - AB\\|_F^2 = \\sum_{i > r} \\sigma_i^2, \\qquad \\|W - AB\\|_2 = \\sigma_{r+1}.

    Parameters and MACs drop from mn to r(m + n).

    References
    ----------
    C. Eckart and G. Young, "The approximation of one matrix by another of lower rank",
    Psychometrika 1, 1936. E. Denton et al., "Exploiting Linear Structure Within
    Convolutional Networks for Efficient Evaluation", NeurIPS 2014.
    """
    if not isinstance(weight, torch.Tensor) or weight.ndim != 2:
        raise ValueError(f"weight must be a 2-D tensor, got {getattr(weight, 'shape', weight)}")
    if not (weight.is_floating_point() or weight.is_complex()):
        raise TypeError(f"weight must be a floating-point tensor, got dtype {weight.dtype}")
    if (
        isinstance(rank, bool)
        or not isinstance(rank, numbers.Integral)
        or not 1 <= rank <= min(weight.shape)
    ):
        raise ValueError(f"rank must be an int in [1, {min(weight.shape)}], got {rank!r}")
    rank, w = int(rank), weight.detach()
    # float16 and bfloat16 have no SVD kernel: factor in float32, hand back the weight's dtype
    work = w.float() if w.is_floating_point() and w.dtype != torch.float64 else w
    u, s, vh = torch.linalg.svd(work, full_matrices=False)
    root = s[:rank].sqrt()
    a, b = u[:, :rank] * root, root[:, None] * vh[:rank]  # (m, r), (r, n)
    return a.to(w.dtype), b.to(w.dtype)


def low_rank_linear(layer: nn.Linear, rank: int) -> nn.Sequential:
    """Replace ``layer`` (out x in) by ``Linear(in, rank, bias=False) -> Linear(rank, out)``.

    See :func:`truncated_svd` for the factorization and its error.
    """
    if not isinstance(layer, nn.Linear):
        raise TypeError(f"layer must be a torch.nn.Linear, got {type(layer).__name__}")
    a, b = truncated_svd(layer.weight, rank)
    like = {"device": layer.weight.device, "dtype": layer.weight.dtype}
    first = nn.Linear(layer.in_features, rank, bias=False, **like)
    second = nn.Linear(rank, layer.out_features, bias=layer.bias is not None, **like)
    with torch.no_grad():
        first.weight.copy_(b)
        second.weight.copy_(a)
        if layer.bias is not None:
            second.bias.copy_(layer.bias)
    return nn.Sequential(first, second)


def low_rank_conv2d(conv: nn.Conv2d, rank: int) -> nn.Sequential:
    """Replace ``conv`` by a ``rank``-filter conv of the same geometry and a 1x1 conv.

    The weight (C_out, C_in, kh, kw) is read as a (C_out, C_in kh kw) matrix; its truncated
    SVD gives ``rank`` basis filters (the first conv) and their mixing (the 1x1 conv), as in
    Denton et al. (2014). A 1x1 convolution is the Linear case on every pixel.
    """
    if not isinstance(conv, nn.Conv2d):
        raise TypeError(f"conv must be a torch.nn.Conv2d, got {type(conv).__name__}")
    if conv.groups != 1:
        raise ValueError(f"conv must have groups=1, got groups={conv.groups}")
    c_out, c_in, kh, kw = conv.weight.shape
    a, b = truncated_svd(conv.weight.reshape(c_out, -1), rank)  # (C_out, r), (r, C_in kh kw)
    like = {"device": conv.weight.device, "dtype": conv.weight.dtype}
    first = nn.Conv2d(
        c_in,
        rank,
        (kh, kw),
        conv.stride,
        conv.padding,
        conv.dilation,
        bias=False,
        padding_mode=conv.padding_mode,
        **like,
    )
    second = nn.Conv2d(rank, c_out, 1, bias=conv.bias is not None, **like)
    with torch.no_grad():
        first.weight.copy_(b.reshape(rank, c_in, kh, kw))
        second.weight.copy_(a[:, :, None, None])
        if conv.bias is not None:
            second.bias.copy_(conv.bias)
    return nn.Sequential(first, second)
