"""Max, average and adaptive average pooling over 2-D windows, with hand-written backward.

The backward passes are the point of the ``pooling-backprop`` lesson: max pooling routes each
output gradient to the single input that won its window (the argmax), average pooling spreads it
evenly, ``g / |window|``, over every input of the window.

References
----------
.. [1] Boureau, Ponce & LeCun, "A theoretical analysis of feature pooling in visual
   recognition", ICML 2010.
.. [2] He et al., "Spatial pyramid pooling in deep convolutional networks", ECCV 2014
   (adaptive bins).
"""

from __future__ import annotations

import numbers
from typing import Any

import torch
from torch import Tensor
from torch.autograd import Function

from mlcanon.vision import pool_output_size

from ._im2col import as_2d, as_image, col2im, crop2d, from_image, pad2d, windows
from ._utils import (
    check_input,
    check_nonempty,
    follow_layout,
    grad_layout,
    in_float32,
    memory_format,
    ntuple,
)

__all__ = ["adaptive_avg_pool2d", "avg_pool2d", "max_pool2d"]


def _geometry(x: Tensor, kernel, stride, padding, dilation, ceil_mode):
    """Output size and the (top, bottom, left, right) padding that makes every window fit."""
    h, w = x.shape[-2:]
    ho, wo = pool_output_size((h, w), kernel, stride, padding, dilation, ceil_mode)
    # ceil mode may let the last window hang past the right padding: pad a little more there
    extra_h = max(0, (ho - 1) * stride[0] + dilation[0] * (kernel[0] - 1) + 1 - h - 2 * padding[0])
    extra_w = max(0, (wo - 1) * stride[1] + dilation[1] * (kernel[1] - 1) + 1 - w - 2 * padding[1])
    pads = (padding[0], padding[0] + extra_h, padding[1], padding[1] + extra_w)
    return (ho, wo), pads


def _torch_winner(y, arg, win, x, kernel, stride, dilation, out_hw, pads):
    """The winner torch's kernel picks, which scans a window row by row and takes a value when
    ``v > best or isnan(v)``, starting from ``best = -inf`` at the window's first tap inside the
    input: among equal maxima the first; among NaNs the *last*; in a window whose input taps
    are all -inf the first input tap (never the implicit padding). The fixes run whatever the
    values off the CPU, where looking at them first would wait for the device (and a ``meta``
    tensor has none)."""
    look = _host_checks(y)
    if any(pads) and (not look or torch.isneginf(y).any()):
        ones = pad2d(x.new_ones((1, 1, *x.shape[-2:])), pads, 0.0)
        inside = windows(ones, kernel, stride, dilation, out_hw).reshape(1, 1, -1, *out_hw) > 0
        first_input = (inside & (win == y.unsqueeze(2))).byte().argmax(dim=2)
        arg = torch.where(torch.isneginf(y), first_input, arg)
    nan = y.isnan()
    if not look or nan.any():
        last = win.shape[2] - 1 - win.isnan().flip(2).byte().argmax(dim=2)
        arg = torch.where(nan, last, arg)
    return arg


class _MaxPool2d(Function):
    @staticmethod
    def forward(ctx, x, kernel, stride, dilation, out_hw, pads):
        xp = pad2d(x, pads, float("-inf"))
        n, c = x.shape[:2]
        win = windows(xp, kernel, stride, dilation, out_hw)  # (N, C, kh, kw, Ho, Wo)
        win = win.reshape(n, c, kernel[0] * kernel[1], *out_hw)
        y, arg = win.max(dim=2)  # arg: flat offset of the winner inside its window
        arg = _torch_winner(y, arg, win, x, kernel, stride, dilation, out_hw, pads)
        ctx.save_for_backward(arg)
        ctx.geometry = (xp.shape[-2:], kernel, stride, dilation, pads)
        ctx.layout = memory_format(x)  # torch's input gradient is dense, in x's layout
        ctx.mark_non_differentiable(arg)
        return y, arg

    @staticmethod
    def backward(ctx, grad, _grad_arg):
        (arg,) = ctx.saved_tensors
        padded_hw, kernel, stride, dilation, pads = ctx.geometry
        n, c, ho, wo = grad.shape
        # the whole gradient of an output goes to the input that was its maximum
        gcols = grad.new_zeros((n, c, kernel[0] * kernel[1], ho, wo))
        gcols.scatter_(2, arg.unsqueeze(2), grad.unsqueeze(2))
        gcols = gcols.reshape(n, c, *kernel, ho, wo)
        grad_x = crop2d(col2im(gcols, tuple(padded_hw), stride, dilation), pads)
        return grad_layout(grad_x, ctx.layout), *([None] * 5)


class _AvgPool2d(Function):
    @staticmethod
    def forward(ctx, x, kernel, stride, out_hw, pads, divisor):
        win = windows(pad2d(x, pads), kernel, stride, (1, 1), out_hw)  # (N, C, kh, kw, Ho, Wo)
        ctx.save_for_backward(divisor)
        ctx.geometry = (x.shape[-2:], kernel, stride, pads)
        ctx.layout = memory_format(x)
        return win.sum(dim=(2, 3)) / divisor

    @staticmethod
    def backward(ctx, grad):
        (divisor,) = ctx.saved_tensors
        (h, w), kernel, stride, pads = ctx.geometry
        n, c, ho, wo = grad.shape
        # every input of a window receives g / divisor (a broadcast view, no copy)
        share = (grad / divisor).reshape(n, c, 1, 1, ho, wo).expand(n, c, *kernel, ho, wo)
        padded = (h + pads[0] + pads[1], w + pads[2] + pads[3])
        grad_x = crop2d(col2im(share, padded, stride, (1, 1)), pads)
        return grad_layout(grad_x, ctx.layout), *([None] * 5)


def _divisor(length, k, s, p, n_out, count_include_pad):
    """Per-output window sizes along one axis, clipped as torch does."""
    start = torch.arange(n_out) * s - p
    end = torch.clamp(start + k, max=length + p)
    if count_include_pad:
        return end - start  # padding counts, the overhang of ceil mode does not
    return torch.clamp(end, max=length) - torch.clamp(start, min=0)


def _check_pool_args(input, kernel_size, stride, padding, dilation, ceil_mode, op, spatial):
    x = check_input(input, op, spatial)
    check_nonempty(x, op, spatial, channels=True)
    kernel = ntuple(kernel_size, "kernel_size", spatial, low=1)
    stride = kernel if stride is None or stride == [] else ntuple(stride, "stride", spatial, low=1)
    padding = ntuple(padding, "padding", spatial)
    dilation = ntuple(dilation, "dilation", spatial, low=1)
    if any(2 * p > k for p, k in zip(padding, kernel, strict=True)):
        # torch bounds the padding by the undilated kernel, whatever the dilation
        raise ValueError(f"padding={padding} must be at most half of kernel_size={kernel}")
    padded = tuple(n + 2 * p for n, p in zip(x.shape[-spatial:], padding, strict=True))
    for size, k, s, d in zip(padded, kernel, stride, dilation, strict=True):
        # ceil mode keeps a last window that overhangs the padded input by less than a stride
        overhang = d * (k - 1) + 1 - size
        if overhang > 0 and (not ceil_mode or overhang >= s):
            raise ValueError(
                f"kernel_size={kernel} (dilation {dilation}) is larger than the padded input "
                f"{padded}" + (f" by a stride={stride} or more" if ceil_mode else "")
            )
    # the 2-D op on a signal seen as a 1 x L image (see as_image)
    x, unbatched = as_image(x, spatial)
    kernel, stride, dilation = (as_2d(t, spatial, 1) for t in (kernel, stride, dilation))
    return x, unbatched, kernel, stride, as_2d(padding, spatial, 0), dilation


def _first_tap(n_out, kernel, stride, padding, dilation, size, device):
    """Along one axis, torch's kernel's first tap of each window at or after position 0
    (``start`` stepped by the dilation while negative) and whether any tap lies in
    ``[0, size)``: with dilation a window that starts in the left padding may step over the
    whole input and read only padding."""
    start = torch.arange(n_out, device=device) * stride - padding
    first = torch.where(start < 0, start + (-start + dilation - 1) // dilation * dilation, start)
    sees = (first < size) & (first <= start + (kernel - 1) * dilation)
    return first, sees


def max_pool2d(
    input: Tensor,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    dilation: Any = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Tensor | tuple[Tensor, Tensor]:
    r"""2-D max pooling, as ``torch.nn.functional.max_pool2d``.

    Parameters
    ----------
    input : Tensor[N, C, H, W] or Tensor[C, H, W]
    kernel_size, stride (default ``kernel_size``), padding, dilation : int or (int, int)
        Padding is implicit :math:`-\infty` and at most half the (undilated) kernel, as in
        torch. A dilated window whose taps all fall in the padding gives :math:`-\infty`, as in
        torch, with gradient 0 and torch's index for it (that of its first row and column at or
        after 0, a position outside the window, perhaps outside the plane; torch's backward
        adds the gradient there, into another plane or past the tensor's end).
    ceil_mode : bool
        Round the output size up: the last window may overhang the padded input by less than a
        stride, but must start inside the input or the left padding.
    return_indices : bool
        Also return the flat index ``h * W + w`` of each maximum in its input plane.

    Notes
    -----
    :math:`y_o = \max_{i \in R_o} x_i`; backward: :math:`\partial L/\partial x_i =
    \sum_o g_o [i = \arg\max_{R_o} x]`. The winner (for the gradient and ``return_indices``) is
    torch's: among equal maxima (+inf included) the first position in the window, row by row;
    among NaNs the last; in a window of -inf inputs the first input position, not the padding.

    References
    ----------
    .. [1] Boureau, Ponce & LeCun, ICML 2010.
    """
    args = (kernel_size, stride, padding, dilation, ceil_mode, return_indices)
    return max_pool_nd(input, *args, spatial=2)


def max_pool_nd(
    input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, *, spatial: int
):
    """:func:`max_pool2d`, or ``max_pool1d`` (``spatial=1``) on the signal seen as a 1 x L
    image."""
    x, unbatched, kernel, stride, padding, dilation = _check_pool_args(
        input, kernel_size, stride, padding, dilation, ceil_mode, f"max_pool{spatial}d", spatial
    )
    out_hw, pads = _geometry(x, kernel, stride, padding, dilation, ceil_mode)
    y, arg = _MaxPool2d.apply(x, kernel, stride, dilation, out_hw, pads)
    y = from_image(y if unbatched else follow_layout(y, x), spatial, unbatched)
    if not return_indices:
        return y
    indices = _flat_indices(arg, x.shape[-2:], kernel, stride, padding, dilation, out_hw)
    return y, from_image(indices if unbatched else follow_layout(indices, x), spatial, unbatched)


def _flat_indices(arg, hw, kernel, stride, padding, dilation, out_hw):
    """torch's ``return_indices``: the flat index ``h * W + w`` in its input plane of each
    window's winner (``arg``, its flat offset inside the window)."""
    ki, kj = arg // kernel[1], arg % kernel[1]
    rows = torch.arange(out_hw[0], device=arg.device).view(-1, 1) * stride[0] - padding[0]
    cols = torch.arange(out_hw[1], device=arg.device) * stride[1] - padding[1]
    indices = (rows + ki * dilation[0]) * hw[1] + cols + kj * dilation[1]
    if max(dilation) > 1:  # a window of padding only: torch's index of its first taps >= 0
        (fh, sh), (fw, sw) = (
            _first_tap(*(t[a] for t in (out_hw, kernel, stride, padding, dilation)), n, arg.device)
            for a, n in enumerate(hw)
        )
        blind = ~(sh.view(-1, 1) & sw)
        indices = torch.where(blind, fh.view(-1, 1) * hw[1] + fw, indices)
    return indices


def avg_pool2d(
    input: Tensor,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    r"""2-D average pooling, as ``torch.nn.functional.avg_pool2d``.

    Parameters
    ----------
    input : Tensor[N, C, H, W] or Tensor[C, H, W]
    kernel_size, stride (default ``kernel_size``), padding : int or (int, int)
    ceil_mode : bool
        As in :func:`max_pool2d`.
    count_include_pad : bool
        Whether the zero padding counts in the divisor (the overhang of ceil mode never does).
    divisor_override : int, optional

    Notes
    -----
    :math:`y_o = \frac1{|R_o|}\sum_{i \in R_o} x_i`; backward spreads :math:`g_o/|R_o|` to every
    :math:`i \in R_o` (overlapping windows add).

    References
    ----------
    .. [1] Boureau, Ponce & LeCun, ICML 2010.
    """
    args = (kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override)
    return avg_pool_nd(input, *args, spatial=2)


def avg_pool_nd(
    input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, *, spatial
):
    """:func:`avg_pool2d`, or ``avg_pool1d`` (``spatial=1``, no ``divisor_override``) on the
    signal seen as a 1 x L image."""
    x, unbatched, kernel, stride, padding, _ = _check_pool_args(
        input, kernel_size, stride, padding, 1, ceil_mode, f"avg_pool{spatial}d", spatial
    )
    if divisor_override is not None and (
        isinstance(divisor_override, bool)
        or not isinstance(divisor_override, int)
        or divisor_override <= 0
    ):
        raise ValueError(f"divisor_override must be a positive int, got {divisor_override!r}")
    out_hw, pads = _geometry(x, kernel, stride, padding, (1, 1), ceil_mode)
    if divisor_override is not None:
        divisor = torch.full(out_hw, float(divisor_override), dtype=x.dtype)
    else:
        dh, dw = (
            _divisor(size, k, s, p, n, count_include_pad)
            for size, k, s, p, n in zip(x.shape[-2:], kernel, stride, padding, out_hw, strict=True)
        )
        divisor = (dh.view(-1, 1) * dw.view(1, -1)).to(x.dtype)  # (Ho, Wo)
    y = in_float32(_AvgPool2d.apply, x, kernel, stride, out_hw, pads, divisor.to(x.device))
    return from_image(y if unbatched else follow_layout(y, x), spatial, unbatched)


def _bin_bounds(length: int, n_out: int) -> list[tuple[int, int]]:
    """Bin i covers [floor(i L/n), ceil((i+1) L/n)) (bins overlap when n does not divide L)."""
    return [((i * length) // n_out, -(-(i + 1) * length // n_out)) for i in range(n_out)]


def _adaptive_matrix(length: int, n_out: int, like: Tensor) -> Tensor:
    """(n_out, length) averaging matrix: row i holds 1/|B_i| on the bin's entries."""
    m = like.new_zeros((n_out, length))
    for i, (start, end) in enumerate(_bin_bounds(length, n_out)):
        m[i, start:end] = 1.0 / (end - start)
    return m


def _bin_sums(x: Tensor, dim: int, n_out: int) -> Tensor:
    """Sum of each bin along ``dim``, over the bin's own entries only."""
    length = x.shape[dim]
    if length % n_out == 0:  # equal bins that tile the axis
        return x.unflatten(dim, (n_out, length // n_out)).sum(dim + 1)
    bins = [x.narrow(dim, start, end - start).sum(dim) for start, end in _bin_bounds(length, n_out)]
    return torch.stack(bins, dim)


def _bin_sizes(length: int, n_out: int, like: Tensor) -> Tensor:
    """The sizes of :func:`_bin_bounds`'s bins, computed on ``like``'s device (no list copied
    from the host, which would wait for the device)."""
    i = torch.arange(n_out, device=like.device)
    return torch.div(-(i + 1) * length, n_out, rounding_mode="floor").neg() - torch.div(
        i * length, n_out, rounding_mode="floor"
    )


def _local_average(x: Tensor, ho: int, wo: int) -> Tensor:
    """Adaptive average pooling that sums each bin over its own pixels only (a NaN or inf stays
    in the bins that contain it, as in torch)."""
    h, w = x.shape[-2:]
    area = (_bin_sizes(h, ho, x).view(-1, 1) * _bin_sizes(w, wo, x)).to(x.dtype)  # (Ho, Wo)
    return _bin_sums(_bin_sums(x, x.dim() - 2, ho), x.dim() - 1, wo) / area


def _host_checks(t: Tensor) -> bool:
    """Whether to look at values on the host (one sum, then ``bool``): on the CPU, where that
    costs nothing; on an accelerator it would wait for the device (a sync every step), so
    there the bin-by-bin path, right for any values, runs instead. Not on ``meta``."""
    return t.device.type == "cpu"


def _finite_sum(t: Tensor) -> bool:
    """Whether every entry is finite, by one sum (in float32 for half precision, whose sum of
    many finite values could overflow)."""
    total = t.sum(dtype=torch.float32) if t.element_size() < 4 else t.sum()
    return bool(total.isfinite())


def _local_spread(g: Tensor, a: Tensor, dim: int) -> Tensor:
    """``a^T g`` along ``dim`` (a: (n_out, length) averaging matrix), each bin's value added to
    its own entries only, so a NaN or inf stays inside its bin."""
    shape = list(g.shape)
    shape[dim] = a.shape[1]
    out = g.new_zeros(shape)
    for i, (start, end) in enumerate(_bin_bounds(a.shape[1], a.shape[0])):
        out.narrow(dim, start, end - start).add_(g.narrow(dim, i, 1) / (end - start))
    return out


class _AdaptiveAvgPool2d(Function):
    @staticmethod
    def forward(ctx, x, ah, aw):
        ctx.save_for_backward(ah, aw)
        ctx.layout = memory_format(x)
        ho, wo = ah.shape[0], aw.shape[0]
        if x.device.type != "meta" and not _host_checks(x):
            return _local_average(x, ho, wo)
        y = ah.matmul(x).matmul(aw.t())  # (Ho, H) @ (N, C, H, W) @ (W, Wo)
        # a NaN or inf makes its bins non-finite, and the products spread it further (0 * inf
        # is NaN): then each bin is summed again over its own entries only
        if x.device.type != "meta" and not _finite_sum(y):
            y = _local_average(x, ho, wo)
        return y

    @staticmethod
    def backward(ctx, grad):
        ah, aw = ctx.saved_tensors
        if grad.device.type != "meta" and not _host_checks(grad):
            dx = _local_spread(_local_spread(grad, ah, -2), aw, -1)
            return grad_layout(dx, ctx.layout), None, None
        dx = ah.t().matmul(grad).matmul(aw)
        # likewise a non-finite gradient of one bin reaches only that bin's pixels
        if grad.device.type != "meta" and not _finite_sum(dx):
            dx = _local_spread(_local_spread(grad, ah, -2), aw, -1)
        return grad_layout(dx, ctx.layout), None, None


def adaptive_avg_pool2d(input: Tensor, output_size: Any) -> Tensor:
    r"""Average over ``output_size`` bins that tile the input, as torch's adaptive pooling.

    Parameters
    ----------
    input : Tensor[N, C, H, W] or Tensor[C, H, W]
    output_size : int or (int or None, int or None)
        ``None`` keeps that input dimension.

    Notes
    -----
    The average over a rectangle is the product of averages along rows and columns, so
    :math:`Y = A_H X A_W^T` with :math:`(A_H)_{ij} = 1/|B_i|` for :math:`j \in B_i =
    [\lfloor iH/H_o\rfloor, \lceil (i+1)H/H_o\rceil)`; backward: :math:`A_H^T G A_W`. In the
    products a NaN or inf would reach every bin (:math:`0 \cdot \infty` is NaN), so an input
    that is not all finite is averaged bin by bin instead, as torch does.

    References
    ----------
    .. [1] He et al., "Spatial pyramid pooling in deep convolutional networks", ECCV 2014.
    """
    return adaptive_avg_pool_nd(input, output_size, spatial=2)


def adaptive_avg_pool_nd(input: Tensor, output_size: Any, *, spatial: int) -> Tensor:
    """:func:`adaptive_avg_pool2d`, or ``adaptive_avg_pool1d`` (``spatial=1``, an int or a
    1-tuple ``output_size``, no ``None``) on the signal seen as a 1 x L image."""
    op = f"adaptive_avg_pool{spatial}d"
    x = check_input(input, op, spatial)
    check_nonempty(x, op, spatial)
    sizes = x.shape[-spatial:]
    single = isinstance(output_size, numbers.Integral)
    wanted = (output_size,) * spatial if single else tuple(output_size)
    if len(wanted) != spatial:
        each = "a pair" if spatial == 2 else "a 1-tuple"
        raise ValueError(f"output_size must be an int or {each}, got {output_size!r}")
    keep = spatial == 2  # None keeps that input size (torch's 2-D op only)
    out = tuple(n if o is None and keep else o for o, n in zip(wanted, sizes, strict=True))
    if not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) and v >= 1 for v in out):
        allowed = "positive ints (or None)" if keep else "a positive int"
        raise ValueError(f"output_size must hold {allowed}, got {output_size!r}")
    x = x.unsqueeze(-2) if spatial == 1 else x  # (..., 1, L): a 1 x L image
    ho, wo = as_2d(tuple(int(v) for v in out), spatial, 1)
    h, w = x.shape[-2:]
    y = in_float32(
        _AdaptiveAvgPool2d.apply, x, _adaptive_matrix(h, ho, x), _adaptive_matrix(w, wo, x)
    )
    y = follow_layout(y, x)
    return y.squeeze(-2) if spatial == 1 else y
