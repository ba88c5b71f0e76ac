r"""Batch, instance, group and layer normalization with hand-written backward passes.

All four compute :math:`\hat x = (x - \mu)/\sqrt{\sigma^2 + \epsilon}` and :math:`y = \gamma
\hat x + \beta`; they differ only in the set :math:`S` of entries that share one
:math:`(\mu, \sigma^2)`:

==============  =====================================  =========================
norm            statistics over                        affine :math:`\gamma,\beta`
==============  =====================================  =========================
batch_norm      (N, H, W) for each channel             per channel
instance_norm   (H, W) for each sample and channel     per channel
group_norm      (C/G, H, W) for each sample and group  per channel
layer_norm      the trailing ``normalized_shape`` dims elementwise
==============  =====================================  =========================

Backward (Ioffe & Szegedy 2015, sec. 3), with :math:`m = |S|` and means over :math:`S`:

.. math::
    \frac{\partial L}{\partial x} = \frac{1}{\sqrt{\sigma^2+\epsilon}}\Big(\hat g
    - \overline{\hat g} - \hat x\,\overline{\hat g \hat x}\Big),\quad \hat g = \gamma g .

The variance is computed in two passes (mean first, then the mean of squared deviations), which
avoids the cancellation of :math:`E[x^2] - E[x]^2`; the mean of the centred data (the rounding
residual :math:`r` of the mean, about an ulp of :math:`x`) is then subtracted too, so that a set
of equal values normalizes to exactly 0. The backward needs two sums per (sample,
channel), :math:`\sum g` and :math:`\sum g x`, with :math:`\sum g \hat x = (\sum g x - \mu
\sum g)/\sqrt{\sigma^2+\epsilon}` (as torch's own kernels do); the gradient is then
:math:`A g + B x + C` with per-(sample, channel) coefficients, formed in one buffer.

References
----------
.. [1] Ioffe & Szegedy, "Batch normalization", ICML 2015.
.. [2] Ulyanov, Vedaldi & Lempitsky, "Instance normalization", 2016.
.. [3] Wu & He, "Group normalization", ECCV 2018.
.. [4] Ba, Kiros & Hinton, "Layer normalization", 2016.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import torch
from torch import Tensor
from torch.autograd import Function

from mlcanon._validation import check_scalar

from ._utils import (
    InputMismatchError,
    check_param,
    check_tensor,
    follow_layout,
    grad_layout,
    in_float32,
    integer,
    unviewed,
    widened,
    zeros_from,
)

__all__ = ["batch_norm", "group_norm", "instance_norm", "layer_norm"]


class _ChannelNorm(Function):
    """Normalize x viewed as (N, G, Cg, L) over (Cg, L) (and N if ``over_batch``), then apply a
    per-channel affine map.

    Per element everything is ``x a + b`` with per-(sample, channel) coefficients, so both
    passes are a few reductions and a few in-place sweeps over one full-size buffer (the output,
    or the input gradient): memory traffic, not arithmetic, is the cost of a normalization layer.
    The 4-D view puts the group statistics (N, G, 1, 1) and the per-channel affine (1, G, Cg, 1)
    in shapes that broadcast against each other without copies.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, groups, over_batch, eps):
        n, c = x.shape[:2]
        x4 = x.reshape(n, groups, c // groups, -1)  # (N, G, Cg, L)
        dims = (0, 2, 3) if over_batch else (2, 3)
        m = x4[0].numel() // groups * (n if over_batch else 1)  # |S|, entries sharing one mean
        mean = x4.mean(dims, keepdim=True)  # (N or 1, G, 1, 1)
        y = x4 - mean  # centred data, in the buffer that becomes the output
        # the rounded mean leaves a residual r in the centred data (an ulp of x), which 1/sqrt(eps)
        # would scale to ~1e-4 in float32 on a constant set, where torch's statistics give 0:
        # it is taken out in the affine map below, at the cost of one reduction
        r = y.sum(3, keepdim=True).sum(dims[:-1], keepdim=True).div_(m)  # along the last dim first
        # second pass, on centred data; a norm reduction needs no (x - mean)^2 temporary, and
        # one along the contiguous last dim is ~10x faster than one over (N, Cg, L) at once
        sq = torch.linalg.vector_norm(y, dim=3, keepdim=True).square_()  # (N, G, Cg, 1)
        var = sq.sum(dims[:-1], keepdim=True).div_(m).sub_(r * r).clamp_min_(0.0)
        invstd = (var + eps).rsqrt()
        # y = (y - r) invstd w + b = y scale + (b - r scale), in place (faster than addcmul)
        scale = invstd if weight is None else invstd * weight.view(1, groups, -1, 1)
        shift = -r * scale if bias is None else bias.view(1, groups, -1, 1) - r * scale
        y.mul_(scale).add_(shift)
        mean = mean + r
        ctx.save_for_backward(x, mean, invstd, weight)
        ctx.config = (over_batch, m, groups, eps)
        ctx.mark_non_differentiable(mean, var)
        return unviewed(y.view(x.shape)), mean.reshape(-1), var.reshape(-1)

    @staticmethod
    def backward(ctx, grad, _grad_mean, _grad_var):
        x, mean, invstd, weight = ctx.saved_tensors
        over_batch, m, groups, eps = ctx.config
        n, c = x.shape[:2]
        g4 = grad.reshape(n, groups, c // groups, -1)  # (N, G, Cg, L)
        x4 = x.reshape(g4.shape)
        recording = torch.is_grad_enabled()
        if recording:  # create_graph: the statistics rebuilt from x, in the graph
            stats = (0, 2, 3) if over_batch else (2, 3)
            mean = x4.mean(stats, keepdim=True)
            invstd = ((x4 - mean).square().mean(stats, keepdim=True) + eps).rsqrt()
        # two reductions per (sample, channel): sum g, and sum g x (its product buffer becomes
        # the gradient, so x first: it takes x's layout, as torch's grad_input, whatever g's);
        # sum g xhat = invstd (sum g x - mean sum g)
        s1 = g4.sum(3, keepdim=True)  # (N, G, Cg, 1)
        dx = torch.mul(x4, g4)
        s2 = (dx.sum(3, keepdim=True) - mean * s1).mul_(invstd)
        grad_w = grad_b = None
        w = 1.0
        if weight is not None:
            grad_w, grad_b = s2.sum(0).view(c), s1.sum(0).view(c)
            w = weight.view(1, groups, -1, 1)
            s1, s2 = s1 * w, s2 * w  # now sums of g_hat = gamma g
        dims = (0, 2) if over_batch else (2,)  # the rest of the set S
        mean_g = s1.sum(dims, keepdim=True).div_(m)  # (N or 1, G, 1, 1)
        mean_gx = s2.sum(dims, keepdim=True).div_(m)
        # dx = inv (g_hat - mean_g - xhat mean_gx) with xhat = (x - mean) inv:  x B + g A + C
        b = -invstd * invstd * mean_gx
        # (into the product buffer, unless autograd records: it cannot record an out= op)
        dx = x4 * b if recording else torch.mul(x4, b, out=dx)
        dx.addcmul_(g4, invstd * w).sub_(invstd * mean_g + b * mean)
        return grad_layout(dx.view(grad.shape), x), grad_w, grad_b, None, None, None


class _ChannelAffine(Function):
    """Eval-mode batch norm: y = (x - mean) * invstd * w + b with fixed statistics."""

    @staticmethod
    def forward(ctx, x, weight, bias, mean, invstd):
        shape = [1, -1] + [1] * (x.dim() - 2)
        scale = invstd if weight is None else invstd * weight
        y = (x - mean.view(shape)) * scale.view(shape)
        ctx.save_for_backward(x, weight, mean, invstd)
        return y if bias is None else y + bias.view(shape)

    @staticmethod
    def backward(ctx, grad):
        x, weight, mean, invstd = ctx.saved_tensors
        shape = [1, -1] + [1] * (x.dim() - 2)
        dims = [0, *range(2, x.dim())]
        scale = invstd if weight is None else invstd * weight
        grad_x = grad_layout(grad * scale.view(shape), x)  # x's layout, as torch's, not g's
        grad_w = grad_b = None
        if weight is not None:
            xhat = (x - mean.view(shape)) * invstd.view(shape)
            grad_w, grad_b = (grad * xhat).sum(dims), grad.sum(dims)
        return grad_x, grad_w, grad_b, None, None


def _standardize_rows(x: Tensor, d: int, eps: float) -> tuple[Tensor, Tensor]:
    """x viewed as (M, D) rows: the standardized rows and 1/sqrt(var + eps) of each, (M, 1)."""
    xv = x.reshape(-1, d)  # (M, D): one row per normalized block
    xhat = xv - xv.mean(1, keepdim=True)
    # the residual of the rounded mean, taken out as in _ChannelNorm (a constant row gives 0)
    r = xhat.mean(1, keepdim=True)
    if torch.is_grad_enabled():  # recorded by autograd (create_graph): no in-place ops
        xhat = xhat - r
        invstd = (xhat.square().mean(1, keepdim=True) + eps).rsqrt()
        return xhat * invstd, invstd
    # a norm reduction needs no squared temporary; the centred buffer becomes xhat
    sq = torch.linalg.vector_norm(xhat, dim=1, keepdim=True).square_()
    invstd = sq.div_(d).sub_(r * r).clamp_min_(0.0).add_(eps).rsqrt_()
    return xhat.mul_(invstd).sub_(r * invstd), invstd


class _LayerNorm(Function):
    """Per row of D entries: y = xhat w + b. Backward, with g_hat = g w and row means,
    dx = invstd (g_hat - mean(g_hat) - xhat mean(g_hat xhat)); the two row sums of g_hat are
    matrix-vector products g w and (g xhat) w, and (g xhat) is also the buffer dx is formed in.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, d, eps):
        xhat, invstd = _standardize_rows(x, d, eps)
        y = (
            xhat
            if weight is None
            else torch.addcmul(bias.reshape(1, d), xhat, weight.reshape(1, d))
        )
        ctx.save_for_backward(x, xhat, invstd, weight)
        ctx.config = (d, eps)
        return unviewed(y.reshape(x.shape))

    @staticmethod
    def backward(ctx, grad):
        x, xhat, invstd, weight = ctx.saved_tensors
        d = ctx.config[0]
        recording = torch.is_grad_enabled()
        if recording:  # create_graph: rebuild xhat and invstd from x, in the graph
            xhat, invstd = _standardize_rows(x, *ctx.config)
        g = grad.reshape(xhat.shape)
        gx = g * xhat  # (M, D)
        grad_w = grad_b = None
        if weight is None:
            mean_g, mean_gx = g.mean(1, keepdim=True), gx.mean(1, keepdim=True)
            dx = g - mean_g if recording else torch.sub(g, mean_g, out=gx)
        else:
            w = weight.reshape(d, 1)
            grad_w, grad_b = gx.sum(0).reshape(weight.shape), g.sum(0).reshape(weight.shape)
            mean_g, mean_gx = (g @ w).div_(d), (gx @ w).div_(d)
            dx = g * w.T if recording else torch.mul(g, w.T, out=gx)
            dx.sub_(mean_g)
        dx.addcmul_(xhat, mean_gx, value=-1)
        dx = dx * invstd if recording else dx.mul_(invstd)
        return dx.reshape(grad.shape), grad_w, grad_b, None, None


def _check_affine(
    x: Tensor,
    weight,
    bias,
    eps,
    op: str,
    shape: Sequence[int] | None = None,
    running: tuple[Tensor | None, ...] = (),
):
    """Check ``eps`` (>= 0, as torch) and the affine parameters (of ``shape``, default
    ``(C,)``); return ``(weight, bias)``. Given only one of them, as torch allows
    (``LayerNorm(bias=False)``), the other is the identity: ones for the weight, zeros for the
    bias. The parameters and the ``running`` statistics share the input's dtype, or, for a
    float16/bfloat16 input, are all float32 (torch's mixed-type kernels: a float32 norm layer
    in a half-precision network)."""
    check_scalar(eps, "eps", low=0.0)
    shape = (x.shape[1],) if shape is None else tuple(shape)
    check_param(weight, "weight", shape)
    check_param(bias, "bias", shape)
    named = [
        ("weight", weight),
        ("bias", bias),
        *zip(("running_mean", "running_var")[: len(running)], running, strict=True),
    ]
    given = [(n, p) for n, p in named if isinstance(p, Tensor)]
    mixed = x.element_size() < 4 and bool(given)
    mixed = mixed and all(p.dtype == torch.float32 for _, p in given)
    want = torch.float32 if mixed else x.dtype
    for name, p in given:
        if p.dtype != want or p.device != x.device:
            raise InputMismatchError(
                f"{op}: input has dtype {x.dtype} on {x.device} but {name} has dtype {p.dtype} "
                f"on {p.device}; the parameters and running statistics must have the input's "
                "dtype and device (or all be float32 for a float16/bfloat16 input)"
            )
    if weight is None and bias is not None:
        weight = x.new_ones(shape, dtype=want)
    elif bias is None and weight is not None:
        bias = x.new_zeros(shape, dtype=want)
    return weight, bias


def _check_running(x: Tensor, running_mean, running_var, momentum) -> tuple:
    """``momentum`` in [0, 1] and the running statistics of shape (C,) (their dtype is checked
    with the parameters, by :func:`_check_affine`)."""
    check_scalar(momentum, "momentum", low=0.0, high=1.0)
    for name, r in (("running_mean", running_mean), ("running_var", running_var)):
        check_param(r, name, (x.shape[1],))
    return running_mean, running_var


def batch_norm(
    input: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    r"""Batch normalization over (N, *) for each channel (dim 1), as torch's ``batch_norm``.

    Parameters
    ----------
    input : Tensor[N, C, *]
    running_mean, running_var : Tensor[C], optional
        Updated in place when ``training``:
        :math:`r \leftarrow (1 - \text{momentum})\, r + \text{momentum}\cdot s` with the batch mean
        and the *unbiased* batch variance :math:`\frac{m}{m-1}\sigma^2_B`. Used instead of the
        batch statistics when not ``training``.
    weight, bias : Tensor[C], optional
        :math:`\gamma, \beta` (either may be given alone: the other is then 1 or 0).
    training : bool
    momentum : float in [0, 1]
    eps : float >= 0 (> 0 in training, as torch)

    Notes
    -----
    See the module docstring for the shared backward formula. In evaluation the map is affine
    per channel, so :math:`\partial L/\partial x = g\,\gamma/\sqrt{r_\sigma + \epsilon}`.

    References
    ----------
    .. [1] Ioffe & Szegedy, "Batch normalization", ICML 2015, Algorithms 1 and 2.
    """
    x = check_tensor(input, "input", ndim=tuple(range(2, 9)))
    running = _check_running(x, running_mean, running_var, momentum)
    weight, bias = _check_affine(x, weight, bias, eps, "batch_norm", running=running)
    if training and eps <= 0:
        raise ValueError(f"eps must be > 0 for batch_norm in training (as torch), got {eps!r}")
    if x.numel() == 0:  # torch: an empty result, running statistics untouched
        return zeros_from(x.shape, x, weight, bias)
    if not training:
        if running_mean is None or running_var is None:
            raise ValueError("running_mean and running_var are required when training=False")
        invstd = (widened(running_var, x) + eps).rsqrt()
        return in_float32(_ChannelAffine.apply, x, weight, bias, running_mean, invstd)
    m = x.numel() // x.shape[1]
    if m < 2:
        raise ValueError(
            f"batch_norm in training needs more than 1 value per channel, got input shape "
            f"{tuple(x.shape)}"
        )
    y, mean, var = in_float32(_ChannelNorm.apply, x, weight, bias, x.shape[1], True, float(eps))
    with torch.no_grad():
        if running_mean is not None:
            running_mean.mul_(1 - momentum).add_(mean, alpha=momentum)
        if running_var is not None:
            running_var.mul_(1 - momentum).add_(var * (m / (m - 1)), alpha=momentum)
    return y


def instance_norm(
    input: Tensor,
    running_mean: Tensor | None = None,
    running_var: Tensor | None = None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    use_input_stats: bool = True,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    r"""Instance normalization: statistics over the spatial dims of each (sample, channel).

    Parameters are those of :func:`batch_norm`; running statistics (if given) are updated with
    the batch average of the per-instance mean and unbiased variance, and used when
    ``use_input_stats`` is False.

    References
    ----------
    .. [1] Ulyanov, Vedaldi & Lempitsky, "Instance normalization: the missing ingredient for fast
       stylization", 2016.
    """
    x = check_tensor(input, "input", ndim=tuple(range(3, 9)))
    running = _check_running(x, running_mean, running_var, momentum)
    weight, bias = _check_affine(x, weight, bias, eps, "instance_norm", running=running)
    # torch normalizes a contiguous copy (viewed as one sample of N*C channels): its output and
    # input gradient are contiguous whatever the input's layout (channels_last included; a
    # 4-D one with torch's strides in dimensions of size 1 too)
    x = follow_layout(x.contiguous())
    m = math.prod(x.shape[2:])
    if use_input_stats and m == 1:  # a shape rule, checked whatever the batch size, as torch
        raise ValueError(
            f"instance_norm needs more than 1 spatial element, got shape {tuple(x.shape)}"
        )
    if x.numel() == 0:
        return zeros_from(x.shape, x, weight, bias)
    if not use_input_stats:
        return batch_norm(x, running_mean, running_var, weight, bias, False, momentum, eps)
    n, c = x.shape[:2]
    y, mean, var = in_float32(_ChannelNorm.apply, x, weight, bias, c, False, float(eps))
    with torch.no_grad():
        if running_mean is not None:
            running_mean.mul_(1 - momentum).add_(mean.view(n, c).mean(0), alpha=momentum)
        if running_var is not None:
            unbiased = var.view(n, c).mean(0) * (m / (m - 1))
            running_var.mul_(1 - momentum).add_(unbiased, alpha=momentum)
    return y


def group_norm(
    input: Tensor,
    num_groups: int,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    r"""Group normalization: channels split into ``num_groups`` groups, statistics per
    (sample, group) over the group's channels and all spatial positions.

    Parameters
    ----------
    input : Tensor[N, C, *]
    num_groups : int, must divide C
    weight, bias : Tensor[C], optional
    eps : float >= 0

    Notes
    -----
    ``num_groups = 1`` is layer norm over (C, H, W) with a per-channel affine; ``num_groups = C``
    is instance norm. It never mixes samples, so it behaves the same at any batch size.

    References
    ----------
    .. [1] Wu & He, "Group normalization", ECCV 2018, eq. (1)-(3).
    """
    x = check_tensor(input, "input", ndim=tuple(range(2, 9)))
    num_groups = integer(num_groups, "num_groups", low=1)
    if x.shape[1] % num_groups:
        raise ValueError(f"num_channels={x.shape[1]} must be divisible by num_groups={num_groups}")
    weight, bias = _check_affine(x, weight, bias, eps, "group_norm")
    if x.shape[0] * (x.shape[1] // num_groups) * math.prod(x.shape[2:]) == 1:
        # torch's batch-size check, on (N * C / G, G, *spatial): one sample whose every group
        # holds a single value
        raise ValueError(
            f"group_norm needs more than 1 value per group for a single sample, got input shape "
            f"{tuple(x.shape)} with num_groups={num_groups}"
        )
    if x.numel() == 0:
        return zeros_from(x.shape, x, weight, bias)
    return in_float32(_ChannelNorm.apply, x, weight, bias, num_groups, False, float(eps))[0]


def layer_norm(
    input: Tensor,
    normalized_shape: int | Sequence[int],
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    r"""Layer normalization over the trailing ``normalized_shape`` dimensions.

    Parameters
    ----------
    input : Tensor[*, *normalized_shape]
    normalized_shape : int or sequence of int
    weight, bias : Tensor[*normalized_shape], optional
        Elementwise affine; either may be given alone (the other is then 1 or 0).
    eps : float >= 0

    References
    ----------
    .. [1] Ba, Kiros & Hinton, "Layer normalization", 2016, eq. (4).
    """
    x = check_tensor(input, "input")
    shape = (
        (normalized_shape,)
        if isinstance(normalized_shape, numbers.Integral)
        else tuple(normalized_shape)
    )
    k = len(shape)
    if k == 0 or x.dim() < k or tuple(x.shape[x.dim() - k :]) != shape:
        raise ValueError(
            f"normalized_shape={shape} must match the trailing dims of input shape {tuple(x.shape)}"
        )
    weight, bias = _check_affine(x, weight, bias, eps, "layer_norm", shape)
    d = 1
    for s in shape:
        d *= s
    if x.numel() == 0:
        return zeros_from(x.shape, x, weight, bias)
    return in_float32(_LayerNorm.apply, x, weight, bias, d, float(eps))
