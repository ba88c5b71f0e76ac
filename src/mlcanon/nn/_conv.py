"""2-D convolution and transposed convolution by im2col + one (batched) matrix product.

Two shapes take shorter routes: a depthwise convolution (``groups = C = O``) is a few shifted
multiply-adds (:mod:`._depthwise`), and a 1x1 convolution is a plain matrix product over the
channels, with nothing to unroll.

Shapes below use N batch, C input channels, O output channels, G groups, ``Cg = C/G``,
``Og = O/G``, ``K = Cg*kh*kw`` rows of the unrolled patch matrix and ``L = Ho*Wo`` positions.

References
----------
.. [1] Dumoulin & Visin, "A guide to convolution arithmetic for deep learning", 2016.
.. [2] Chellapilla, Puri & Simard, "High performance convolutional neural networks for document
   processing", 2006.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor
from torch.autograd import Function

from mlcanon.vision import conv_output_size, conv_transpose_output_size

from ._depthwise import depthwise_conv2d
from ._im2col import as_2d, as_image, col2im_matmul, crop2d, from_image, pad2d, windows
from ._utils import (
    InputMismatchError,
    check_input,
    check_like,
    check_nonempty,
    check_param,
    check_tensor,
    conv_grad_layouts,
    follow_layout,
    grad_layout,
    in_float32,
    integer,
    memory_format,
    ntuple,
    unviewed,
    zeros_from,
)

__all__ = ["conv2d", "conv_transpose2d"]

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _source_rows(size: int, before: int, after: int, mode: str) -> Tensor:
    """For each row of the padded axis, the input row it copies: ``reflect`` mirrors without
    repeating the edge (``2 1 | 0 1 2 | 1 0``), ``replicate`` repeats the edge, ``circular``
    wraps around."""
    p = torch.arange(-before, size + after)
    if mode == "reflect":
        p = p.abs()
        return torch.where(p >= size, 2 * (size - 1) - p, p)
    if mode == "replicate":
        return p.clamp(0, size - 1)
    return p.remainder(size)


class _PadMode(Function):
    """Reflect / replicate / circular padding of the last two dims: each padded row (column)
    copies one input row (column); the backward adds each gradient row back onto its source."""

    @staticmethod
    def forward(ctx, x, rows, cols, keep_layout):
        ctx.save_for_backward(rows, cols)
        ctx.hw = tuple(x.shape[-2:])
        # the input gradient's layout: torch's reflect and replicate backward kernels give x's,
        # its circular padding (slices and a cat) a contiguous one
        ctx.layout = memory_format(x) if keep_layout else torch.contiguous_format
        return x.index_select(-2, rows).index_select(-1, cols)

    @staticmethod
    def backward(ctx, grad):
        rows, cols = ctx.saved_tensors
        h, w = ctx.hw
        g = grad.new_zeros((*grad.shape[:-1], w)).index_add(-1, cols, grad)
        gx = g.new_zeros((*g.shape[:-2], h, w)).index_add(-2, rows, g)
        return grad_layout(gx, ctx.layout), None, None, None


def pad_mode(x: Tensor, pads: tuple[int, ...], mode: str) -> Tensor:
    """``torch.nn.functional.pad(x, (left, right[, top, bottom]), mode)`` for the last one or
    two dims, ``pads = ([top, bottom,] left, right)``, ``mode`` one of reflect, replicate,
    circular, with torch's limits: reflect pads less than the size, circular at most the size."""
    spatial = len(pads) // 2
    sizes, names = x.shape[-spatial:], ("top", "bottom", "left", "right")[-len(pads) :]
    if 0 in sizes:
        axes = "length" if spatial == 1 else "height and width"
        raise InputMismatchError(
            f"padding_mode={mode!r} needs a non-empty {axes}, got shape {tuple(x.shape)}"
        )
    limit = {"reflect": ("less than", 0), "circular": ("at most", 1)}.get(mode)
    for name, pad, size in zip(names, pads, (n for n in sizes for _ in "ab"), strict=True):
        if limit is not None and pad >= size + limit[1]:
            raise ValueError(
                f"padding_mode={mode!r}: the {name} padding {pad} must be {limit[0]} the input's "
                f"size {size} along that axis (input shape {tuple(x.shape)})"
            )
    img = x.unsqueeze(-2) if spatial == 1 else x
    top, bottom, left, right = as_2d(pads, spatial, 0, 0)
    rows = _source_rows(img.shape[-2], top, bottom, mode).to(x.device)
    cols = _source_rows(img.shape[-1], left, right, mode).to(x.device)
    y = _PadMode.apply(img, rows, cols, mode != "circular")
    # torch's reflect and replicate kernels keep a channels_last layout, its circular one
    # (built from slices and a cat) returns a contiguous tensor
    y = y if mode == "circular" else follow_layout(y, img)
    return y.squeeze(-2) if spatial == 1 else y


# Unrolled patches are built for a few samples at a time: a block of ~16 MB stays in cache
# for the matrix product that reads it, which is ~25% faster than unrolling the whole batch.
_COLS_BUDGET = 1 << 22  # elements of the (samples, K, L) column block


def _column_blocks(xp, kernel, stride, dilation, out_hw, groups):
    """Yield (first sample, cols (n_block, G, K, L)) for consecutive blocks of samples.

    Every block is unrolled into the same buffer: a fresh 16 MB allocation per block would be
    paid again in page faults each time. Not so while autograd records (a double backward):
    the graph keeps each block, so each gets its own copy.
    """
    n, c = xp.shape[:2]
    if kernel == (1, 1) and stride == (1, 1):  # a pointwise convolution reads x as it is
        yield 0, xp.view(n, groups, c // groups, out_hw[0] * out_hw[1])
        return
    per_sample = c * kernel[0] * kernel[1] * out_hw[0] * out_hw[1]
    step = max(1, min(n, _COLS_BUDGET // per_sample))
    length = out_hw[0] * out_hw[1]
    shape = (groups, per_sample // (groups * length), length)
    buf = None if torch.is_grad_enabled() else xp.new_empty((step, *shape))
    for s in range(0, n, step):
        win = windows(xp[s : s + step], kernel, stride, dilation, out_hw)  # view, no copy
        if buf is None:
            yield s, win.reshape(win.shape[0], *shape)
            continue
        cols = buf[: win.shape[0]]
        cols.view(win.shape).copy_(win)
        yield s, cols


def _correlate(xp, w2, kernel, stride, dilation, out_hw, groups):
    """(G, Og, K) kernels slid over the padded (N, C, Hp, Wp) input: (N, G*Og, Ho, Wo)."""
    n = xp.shape[0]
    y = xp.new_empty((n, groups, w2.shape[1], out_hw[0] * out_hw[1]))
    for s, cols in _column_blocks(xp, kernel, stride, dilation, out_hw, groups):
        torch.matmul(w2, cols, out=y[s : s + cols.shape[0]])  # (G, Og, K) @ (n, G, K, L)
    return y.view(n, -1, *out_hw)


def _paint(src, weight, groups, canvas_hw, stride, dilation, pads):
    """Each pixel of ``src`` (N, A, h, w) paints the (A, B/G, kh, kw) ``weight``, scaled by its
    value, onto a ``canvas_hw`` canvas, ``stride`` pixels apart; ``pads`` are then cropped off:
    (N, B, Ho, Wo). This is the transposed convolution, hence also a convolution's input
    gradient (``src`` the output gradient, ``weight`` the convolution's (O, C/G, kh, kw)).
    """
    n, a, h, w = src.shape
    _, bg, kh, kw = weight.shape
    w_off = weight.reshape(groups, a // groups, bg, kh, kw).permute(3, 4, 0, 2, 1)
    src_g = src.reshape(n, groups, a // groups, h * w)  # (N, G, A/G, h*w)
    return crop2d(col2im_matmul(w_off, src_g, canvas_hw, (h, w), stride, dilation), pads)


class _Conv2d(Function):
    @staticmethod
    def forward(ctx, x, weight, bias, stride, pads, dilation, groups):
        o, cg, kh, kw = weight.shape
        xp = pad2d(x, pads)
        ho, wo = conv_output_size(tuple(xp.shape[-2:]), (kh, kw), stride, 0, dilation)
        w2 = weight.reshape(groups, o // groups, cg * kh * kw)  # (G, Og, K)
        y = _correlate(xp, w2, (kh, kw), stride, dilation, (ho, wo), groups)
        if bias is not None:
            y.add_(bias.view(1, o, 1, 1))
        # the padded copy is not saved: the backward pads x again when it needs the weight's
        # gradient, so that only x (which the caller often keeps anyway) stays in memory
        ctx.save_for_backward(x, weight)
        ctx.geometry = (pads, stride, dilation, groups)
        return unviewed(y)

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        pads, stride, dilation, groups = ctx.geometry
        recording = torch.is_grad_enabled()  # create_graph: the backward must be differentiable
        h, w = x.shape[-2:]
        canvas = (h + pads[0] + pads[1], w + pads[2] + pads[3])  # the padded input's size
        n, o, ho, wo = grad.shape
        _, cg, kh, kw = weight.shape
        g = grad.reshape(n, groups, o // groups, ho * wo)  # (N, G, Og, L)
        grad_x = grad_w = grad_b = None
        # with stride 1, dX is itself a correlation: of G, padded by d(k-1) - p, with the kernel
        # flipped and its channel axes swapped (W'[c, o, i, j] = W[o, c, k-1-i, k-1-j]); that is
        # one well-shaped product per block, like the forward, instead of kh*kw thin ones
        reach = (dilation[0] * (kh - 1), dilation[1] * (kw - 1))
        gpads = (reach[0] - pads[0], reach[0] - pads[1], reach[1] - pads[2], reach[1] - pads[3])
        # (the correlation writes into one preallocated output, which autograd cannot record)
        if ctx.needs_input_grad[0] and stride == (1, 1) and min(gpads) >= 0 and not recording:
            w_flip = weight.flip(2, 3).reshape(groups, o // groups, cg, kh * kw)
            w_flip = w_flip.transpose(1, 2).reshape(groups, cg, -1)  # (G, Cg, Og*kh*kw)
            gp = pad2d(grad, gpads)
            grad_x = _correlate(gp, w_flip, (kh, kw), stride, dilation, (h, w), groups)
        elif ctx.needs_input_grad[0]:  # dX = col2im(W^T G), one kernel offset at a time
            grad_x = _paint(grad, weight, groups, canvas, stride, dilation, pads)
        if ctx.needs_input_grad[1]:
            xp = pad2d(x, pads)  # in the graph under create_graph
            grad_w = weight.new_zeros((groups, o // groups, cg * kh * kw))
            for s, cols in _column_blocks(xp, (kh, kw), stride, dilation, (ho, wo), groups):
                grad_w += g[s : s + cols.shape[0]].matmul(cols.transpose(2, 3)).sum(0)  # G X^T
            grad_w = grad_w.reshape(weight.shape)
        if ctx.needs_input_grad[2]:  # False when there is no bias
            grad_b = grad.sum((0, 2, 3))
        # in torch's layout: channels_last when x or the weight is (as the output)
        grad_x, grad_w = conv_grad_layouts(grad_x, grad_w, x, weight)
        return grad_x, grad_w, grad_b, None, None, None, None


# Below this many output positions per sample, one product over the whole batch (after a
# transpose to (C, N*L)) beats a product per sample: a (O, C) @ (C, L) product with small L
# is far too thin for the matrix kernel.
_FOLD_BELOW = 64


def _mix_channels(w2: Tensor, cols: Tensor) -> Tensor:
    """``w2 @ cols`` for (A, B) ``w2`` and (B, N*L) or (N, B, L) ``cols``, as plain products
    (``torch.matmul`` would copy a batched right operand to fold it)."""
    if cols.dim() == 2:
        return w2.mm(cols)
    return torch.bmm(w2.expand(cols.shape[0], *w2.shape), cols)


def _pointwise_columns(x: Tensor, stride: tuple[int, int]) -> Tensor:
    """The pixels a 1x1 convolution reads: (N, C, L), or (C, N*L) when a sample has fewer than
    ``_FOLD_BELOW`` positions."""
    xs = x[:, :, :: stride[0], :: stride[1]]
    n, c, ho, wo = xs.shape
    if ho * wo < _FOLD_BELOW:
        return xs.transpose(0, 1).reshape(c, n * ho * wo)  # (C, N*L)
    return xs.reshape(n, c, ho * wo)  # (N, C, L)


class _PointwiseConv2d(Function):
    """A 1x1 convolution (groups 1, no padding) is a plain matrix product over the channels:
    Y = W X, dX = W^T G, dW = G X^T, with X the (C, L) matrix of each sample, or the (C, N*L)
    matrix of the whole batch when a sample has few positions. No patches are unrolled."""

    @staticmethod
    def forward(ctx, x, weight, bias, stride):
        cols = _pointwise_columns(x, stride)
        n, c, ho, wo = x[:, :, :: stride[0], :: stride[1]].shape
        w2 = weight.reshape(-1, c)  # (O, C)
        if cols.dim() == 2:
            y = w2.mm(cols).view(-1, n, ho * wo).transpose(0, 1).contiguous()  # (N, O, L)
        else:
            y = _mix_channels(w2, cols)
        y = y.view(n, -1, ho, wo)
        if bias is not None:
            y.add_(bias.view(1, -1, 1, 1))
        # the columns (a copy when folded or strided) are not saved: the backward takes them
        # from x again when it needs the weight's gradient
        ctx.save_for_backward(x, weight)
        ctx.geometry = (x.shape, stride)
        return unviewed(y)

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        shape, stride = ctx.geometry
        n, o, ho, wo = grad.shape
        fold = ho * wo < _FOLD_BELOW  # as _pointwise_columns folds
        g = grad.reshape(n, o, ho * wo)  # (N, O, L)
        if fold:
            g = g.transpose(0, 1).reshape(o, -1)  # (O, N*L)
        grad_x = grad_w = grad_b = None
        if ctx.needs_input_grad[0]:
            gx = _mix_channels(weight.reshape(o, -1).t(), g)  # W^T G: (C, N*L) or (N, C, L)
            if fold:
                gx = gx.view(-1, n, ho * wo).transpose(0, 1).contiguous()
            gx = gx.view(n, -1, ho, wo)
            if stride == (1, 1):
                grad_x = gx
            else:  # the pixels the stride skipped get no gradient
                grad_x = grad.new_zeros(shape)
                grad_x[:, :, :: stride[0], :: stride[1]] = gx
        if ctx.needs_input_grad[1]:
            cols = _pointwise_columns(x, stride)  # in the graph under create_graph
            gw = g.mm(cols.t()) if fold else torch.bmm(g, cols.transpose(1, 2)).sum(0)  # G X^T
            grad_w = gw.view(weight.shape)
        if ctx.needs_input_grad[2]:
            grad_b = grad.sum((0, 2, 3))
        grad_x, grad_w = conv_grad_layouts(grad_x, grad_w, x, weight)
        return grad_x, grad_w, grad_b, None


class _ConvTranspose2d(Function):
    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding, output_padding, dilation, groups):
        kernel = tuple(weight.shape[-2:])
        full = conv_transpose_output_size(x.shape[-2:], kernel, stride, 0, output_padding, dilation)
        pads = (padding[0], padding[0], padding[1], padding[1])
        y = _paint(x, weight, groups, full, stride, dilation, pads)
        if bias is not None:
            y = y + bias.view(1, -1, 1, 1)
        ctx.save_for_backward(x, weight)
        ctx.geometry = (pads, stride, dilation, groups)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        pads, stride, dilation, groups = ctx.geometry
        n, c, h, w = x.shape
        _, og, kh, kw = weight.shape
        # the adjoint of "paint and crop" is "pad and read windows": a strided convolution
        gcols = windows(pad2d(grad, pads), (kh, kw), stride, dilation, (h, w))
        gcols = gcols.reshape(n, groups, og * kh * kw, h * w)  # (N, G, Og*kh*kw, H*W)
        w2 = weight.reshape(groups, c // groups, og * kh * kw)
        grad_x = grad_w = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_x = w2.matmul(gcols).reshape(n, c, h, w)
        if ctx.needs_input_grad[1]:
            xg = x.reshape(n, groups, c // groups, h * w)
            grad_w = xg.matmul(gcols.transpose(2, 3)).sum(0).reshape(weight.shape)
        if ctx.needs_input_grad[2]:
            grad_b = grad.sum((0, 2, 3))
        grad_x, grad_w = conv_grad_layouts(grad_x, grad_w, x, weight)
        return grad_x, grad_w, grad_b, None, None, None, None, None


def _check_conv_args(
    x: Tensor, weight: Tensor, groups: int, transposed: bool, spatial: int
) -> Tensor:
    op = f"conv{'_transpose' * transposed}{spatial}d"
    x = check_input(x, op, spatial)
    check_tensor(weight, "weight", ndim=spatial + 2)
    integer(groups, "groups", low=1)
    c = x.shape[-spatial - 1]
    # torch refuses a kernel without output maps (dimension 0; transposed: dimension 1 too)
    for dim in (0, 1) if transposed else (0,):
        if weight.shape[dim] == 0:
            raise InputMismatchError(
                f"weight of shape {tuple(weight.shape)} must have at least 1 entry at "
                f"dimension {dim}"
            )
    if c % groups:
        raise ValueError(f"in_channels={c} must be divisible by groups={groups}")
    if transposed:
        if weight.shape[0] != c:
            kernel = "kernel_size" if spatial == 1 else "kh, kw"
            raise ValueError(
                f"weight.shape[0]={weight.shape[0]} must equal in_channels={c} (weight is "
                f"(in_channels, out_channels/groups, {kernel}))"
            )
    else:
        if weight.shape[0] % groups:
            raise ValueError(f"out_channels={weight.shape[0]} must be divisible by groups={groups}")
        if weight.shape[1] * groups != c:
            raise ValueError(
                f"weight.shape[1]={weight.shape[1]} times groups={groups} must equal "
                f"in_channels={c}"
            )
    return x


def conv_padding(padding: Any, stride: tuple[int, ...]) -> str | tuple[int, ...]:
    """A convolution's ``padding``: ``'valid'``, ``'same'`` (stride 1 only), or an int or one
    int >= 0 per spatial dim of ``stride`` (returned as a tuple)."""
    if not isinstance(padding, str):
        return ntuple(padding, "padding", len(stride))
    if padding not in ("valid", "same"):
        each = "a pair" if len(stride) == 2 else "a 1-tuple"
        raise ValueError(f"padding must be an int, {each}, 'valid' or 'same'; got {padding!r}")
    if padding == "same" and max(stride) != 1:
        raise ValueError(f"padding='same' needs stride 1, got stride={stride}")
    return padding


def conv_pads(
    padding: str | tuple[int, ...], kernel: tuple[int, ...], dilation: tuple[int, ...]
) -> tuple[int, ...]:
    """(before, after) per spatial dim for a checked ``padding`` (see :func:`conv_padding`).
    ``'same'`` pads a total of d(k-1), an odd total with the extra row/column at the
    bottom/right (as torch)."""
    if padding == "valid":
        return (0,) * (2 * len(kernel))
    if padding == "same":
        totals = (d * (k - 1) for k, d in zip(kernel, dilation, strict=True))
        return tuple(side for t in totals for side in (t // 2, t - t // 2))
    return tuple(side for p in padding for side in (p, p))


def conv2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
) -> Tensor:
    r"""2-D cross-correlation, as ``torch.nn.functional.conv2d``, computed by im2col + matmul.

    Parameters
    ----------
    input : Tensor[N, C, H, W] or Tensor[C, H, W]
    weight : Tensor[O, C/groups, kh, kw]
    bias : Tensor[O], optional
    stride, dilation : int or (int, int), >= 1
    padding : int, (int, int), ``'valid'`` or ``'same'`` (stride 1 only)
    groups : int
        Split the channels into ``groups`` independent convolutions (``groups = C``: depthwise).

    Returns
    -------
    Tensor[N, O, Ho, Wo] with :math:`H_o = \lfloor (H + 2p - d(k-1) - 1)/s \rfloor + 1`.

    Notes
    -----
    Unroll every receptive field into a column, :math:`X_{col} \in \mathbb R^{K \times L}`, then
    :math:`Y = W X_{col} + b` per group. Backward: :math:`\partial L/\partial W = \sum_n G_n
    X_{col,n}^T`, :math:`\partial L/\partial X = \operatorname{col2im}(W^T G)` (overlapping
    windows add up), :math:`\partial L/\partial b = \sum G`. With stride 1 the input gradient
    is computed as the equal correlation of :math:`G`, padded by :math:`d(k-1) - p`, with the
    flipped kernel :math:`W'_{c,o,i,j} = W_{o,c,k-1-i,k-1-j}`: one product with
    :math:`K = O_g k_h k_w` instead of :math:`k_h k_w` thin ones. A depthwise convolution
    (``groups = C = O``) is computed as :math:`k_h k_w` shifted multiply-adds instead, and a 1x1
    one (groups 1, no padding) as :math:`Y = W X` with no unrolling.

    References
    ----------
    .. [1] Dumoulin & Visin, "A guide to convolution arithmetic for deep learning", 2016.
    """
    return conv_nd(input, weight, bias, stride, padding, dilation, groups, spatial=2)


def conv_nd(input, weight, bias, stride, padding, dilation, groups, *, spatial: int) -> Tensor:
    """:func:`conv2d`, or ``conv1d`` (``spatial=1``) on the signal seen as a 1 x L image."""
    op = f"conv{spatial}d"
    x = _check_conv_args(input, weight, groups, False, spatial)
    kernel = tuple(weight.shape[2:])
    stride = ntuple(stride, "stride", spatial, low=1)
    dilation = ntuple(dilation, "dilation", spatial, low=1)
    pads = conv_pads(conv_padding(padding, stride), kernel, dilation)
    check_like(weight, "weight", x, op)
    check_param(bias, "bias", (weight.shape[0],), x, op)
    padded = tuple(n + pads[2 * a] + pads[2 * a + 1] for a, n in enumerate(x.shape[-spatial:]))
    reach = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation, strict=True))
    if any(r > p for r, p in zip(reach, padded, strict=True)):
        raise InputMismatchError(
            f"kernel size {kernel} with dilation {dilation} spans {reach}, larger than the padded "
            f"input {padded}"
        )
    check_nonempty(x, op, spatial)
    x, unbatched = as_image(x, spatial)
    weight = weight.unsqueeze(2) if spatial == 1 else weight
    kernel, stride, dilation = (as_2d(t, spatial, 1) for t in (kernel, stride, dilation))
    pads, padded = as_2d(pads, spatial, 0, 0), as_2d(padded, spatial, 1)
    if x.numel() == 0:  # 0 samples, or 0 input channels: torch returns an empty result
        ho, wo = conv_output_size(padded, kernel, stride, 0, dilation)
        out_channels = weight.shape[0] if x.shape[1] else 0  # torch's shape for 0 channels
        y = zeros_from((x.shape[0], out_channels, ho, wo), x, weight, bias)
    else:
        y = _conv2d(x, weight, bias, stride, pads, dilation, groups, padded)
    return from_image(y if unbatched else _follow(y, x, weight, spatial), spatial, unbatched)


def _conv2d(x, weight, bias, stride, pads, dilation, groups, padded):
    """The kernel for the layer's shape: depthwise, pointwise, or im2col in general."""
    kernel = tuple(weight.shape[-2:])
    if groups == x.shape[1] == weight.shape[0]:
        out_hw = conv_output_size(padded, kernel, stride, 0, dilation)
        return depthwise_conv2d(x, weight, bias, stride, pads, dilation, out_hw)
    if kernel == (1, 1) and groups == 1 and not any(pads):
        return _PointwiseConv2d.apply(x, weight, bias, stride)
    return _Conv2d.apply(x, weight, bias, stride, pads, dilation, groups)


def _follow(y: Tensor, x: Tensor, weight: Tensor, spatial: int) -> Tensor:
    """The output's layout, as torch's: channels_last where the input or the weight is; for
    a 1-D convolution only where the weight is (torch's makes the input contiguous)."""
    return follow_layout(y, weight) if spatial == 1 else follow_layout(y, x, weight)


def conv_transpose2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    output_padding: Any = 0,
    groups: int = 1,
    dilation: Any = 1,
) -> Tensor:
    r"""Transposed 2-D convolution (the gradient of :func:`conv2d` with respect to its input).

    Parameters
    ----------
    input : Tensor[N, C, H, W] or Tensor[C, H, W]
    weight : Tensor[C, O/groups, kh, kw]
    bias : Tensor[O], optional
    stride, dilation : int or (int, int), >= 1
    padding : int or (int, int)
        Rows/columns cropped from each side of the full output.
    output_padding : int or (int, int)
        Extra rows/columns added at the bottom/right; must be smaller than stride or dilation
        (unchecked for a batch of 0 samples, whose output torch only sizes).

    Returns
    -------
    Tensor[N, O, Ho, Wo] with :math:`H_o = (H-1)s - 2p + d(k-1) + p_{out} + 1`.

    Notes
    -----
    Each input pixel paints the kernel scaled by its value onto the output, ``stride`` pixels
    apart: :math:`Y = \operatorname{col2im}(W^T X)`. This equals inserting ``stride - 1`` zeros
    between input pixels and running an ordinary convolution with the flipped kernel.

    References
    ----------
    .. [1] Dumoulin & Visin, "A guide to convolution arithmetic for deep learning", 2016, sec. 4.
    .. [2] Zeiler et al., "Deconvolutional networks", CVPR 2010.
    """
    return conv_transpose_nd(
        input, weight, bias, stride, padding, output_padding, groups, dilation, spatial=2
    )


def conv_transpose_nd(
    input, weight, bias, stride, padding, output_padding, groups, dilation, *, spatial: int
) -> Tensor:
    """:func:`conv_transpose2d`, or ``conv_transpose1d`` (``spatial=1``) on the signal seen as
    a 1 x L image."""
    op = f"conv_transpose{spatial}d"
    x = _check_conv_args(input, weight, groups, True, spatial)
    # a batch of 0 samples: torch only sizes the (empty) output, so it takes an empty height or
    # width and any output_padding, and an output of height or width 0
    no_samples = x.dim() == spatial + 2 and x.shape[0] == 0
    if not no_samples:
        check_nonempty(x, op, spatial)
    stride = ntuple(stride, "stride", spatial, low=1)
    dilation = ntuple(dilation, "dilation", spatial, low=1)
    padding = ntuple(padding, "padding", spatial)
    output_padding = ntuple(output_padding, "output_padding", spatial)
    for extra, s, d in zip(output_padding, stride, dilation, strict=True):
        if extra >= s and extra >= d and not no_samples:
            raise ValueError(
                f"output_padding={output_padding} must be smaller than stride={stride} or "
                f"dilation={dilation}"
            )
    check_like(weight, "weight", x, op)
    check_param(bias, "bias", (weight.shape[1] * groups,), x, op)
    size, kernel = x.shape[-spatial:], weight.shape[2:]
    if no_samples:  # the size rule written out: the shared one checks what torch skips here
        geometry = zip(size, kernel, stride, padding, output_padding, dilation, strict=True)
        out = tuple((n - 1) * s - 2 * p + d * (k - 1) + o + 1 for n, k, s, p, o, d in geometry)
    else:
        full = conv_transpose_output_size(size, kernel, stride, 0, output_padding, dilation)
        out = tuple(f - 2 * p for f, p in zip(full, padding, strict=True))
    if min(out) < (0 if no_samples else 1):
        raise ValueError(f"padding={padding} is too large: the output would be {out}")
    if no_samples:
        return zeros_from((0, weight.shape[1] * groups, *out), x, weight, bias)
    x, unbatched = as_image(x, spatial)
    weight = weight.unsqueeze(2) if spatial == 1 else weight
    stride, dilation = as_2d(stride, spatial, 1), as_2d(dilation, spatial, 1)
    padding, output_padding = as_2d(padding, spatial, 0), as_2d(output_padding, spatial, 0)
    y = in_float32(
        _ConvTranspose2d.apply, x, weight, bias, stride, padding, output_padding, dilation, groups
    )
    return from_image(y if unbatched else _follow(y, x, weight, spatial), spatial, unbatched)
