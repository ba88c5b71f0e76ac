r"""Depthwise 2-D convolution (one kh x kw filter per channel) as kh*kw shifted multiply-adds.

Each output channel reads only its own input channel, so there is no matrix product to form:

.. math::
    y_{n,c,h,w} = \sum_{i,j} W_{c,i,j}\, x_{n,c,\,s_h h + d_h i,\; s_w w + d_w j},

one fused multiply-add per kernel tap :math:`(i, j)` over the whole batch, with the tap's
per-channel weight broadcast. The backward passes use the same shifted slices:

.. math::
    \frac{\partial L}{\partial W_{c,i,j}} = \sum_{n,h,w} g_{n,c,h,w}\,
    x_{n,c,\,s_h h + d_h i,\; s_w w + d_w j}, \qquad
    \frac{\partial L}{\partial x_{n,c,\,s_h h + d_h i,\; s_w w + d_w j}} \mathrel{+}=
    W_{c,i,j}\, g_{n,c,h,w}.

Two layout choices keep every sweep a long contiguous run instead of short rows:

* **Wide rows.** An output row is computed at the padded input's row length :math:`W_q`
  rather than :math:`W_o`, so that a tap's slice of the input is one contiguous run of
  :math:`(H_o - 1) W_q + W_o` elements per (sample, channel) plane; the extra
  :math:`W_q - W_o` columns of each row are discarded (forward) or hold zero gradient
  (backward).
* **Phases.** With stride :math:`s`, padded pixel :math:`(r, q)` is stored in phase
  :math:`(r \bmod s_h, q \bmod s_w)` at :math:`(\lfloor r/s_h \rfloor, \lfloor q/s_w \rfloor)`
  (the polyphase decomposition). A tap at offset :math:`(d_h i, d_w j)` then reads one phase
  with stride 1, so a strided convolution is :math:`s_h s_w` interleaved stride-1 ones and the
  wide-row trick applies to each.

References
----------
.. [1] Howard et al., "MobileNets: efficient convolutional neural networks for mobile vision
   applications", 2017, sec. 3.1 (depthwise separable convolution).
.. [2] Vaidyanathan, "Multirate digital filters, filter banks, polyphase networks, and
   applications: a tutorial", Proc. IEEE 1990 (polyphase decomposition).
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.autograd import Function

from ._im2col import Pads
from ._utils import conv_grad_layouts, in_float32

__all__ = ["depthwise_conv2d"]


def _phase_blocks(size: int, before: int, stride: int):
    """For each phase a of one axis: (phase a, first input index, first phase index, count).

    Padded index ``r = before + k`` of input index ``k`` lies in phase ``r % stride`` at
    ``r // stride``.
    """
    for a in range(stride):
        first = (a - before) % stride  # first input index of phase a
        yield a, first, (before + first) // stride, len(range(first, size, stride))


def _to_phases(x: Tensor, pads: Pads, stride: tuple[int, int], phase_hw) -> Tensor:
    """Zero-padded x split into its phases: (sh, sw, N, C, Hq, Wq); stride 1 is plain padding."""
    (sh, sw), (h, w) = stride, x.shape[-2:]
    out = x.new_zeros((sh, sw, *x.shape[:2], *phase_hw))
    for a, r0, k0, nr in _phase_blocks(h, pads[0], sh):
        for b, c0, q0, nc in _phase_blocks(w, pads[2], sw):
            out[a, b, :, :, k0 : k0 + nr, q0 : q0 + nc] = x[:, :, r0::sh, c0::sw]
    return out


def _from_phases(p: Tensor, pads: Pads, stride: tuple[int, int], hw) -> Tensor:
    """Inverse of :func:`_to_phases`: gather (N, C, H, W) back, dropping the padding (with
    stride 1, a view of the one phase)."""
    (sh, sw), (h, w) = stride, hw
    if stride == (1, 1):
        return p[0, 0, :, :, pads[0] : pads[0] + h, pads[2] : pads[2] + w]
    x = p.new_empty((*p.shape[2:4], h, w))
    for a, r0, k0, nr in _phase_blocks(h, pads[0], sh):
        for b, c0, q0, nc in _phase_blocks(w, pads[2], sw):
            x[:, :, r0::sh, c0::sw] = p[a, b, :, :, k0 : k0 + nr, q0 : q0 + nc]
    return x


def _taps(kernel, stride, dilation, row_length: int):
    """Per tap (i, j): its phase (a, b) and its offset in a flattened phase plane."""
    for i in range(kernel[0]):
        di, a = divmod(i * dilation[0], stride[0])
        for j in range(kernel[1]):
            dj, b = divmod(j * dilation[1], stride[1])
            yield i, j, a, b, di * row_length + dj


class _DepthwiseConv2d(Function):
    @staticmethod
    def forward(ctx, x, weight, bias, stride, pads, dilation, out_hw):
        (sh, sw), (ho, wo) = stride, out_hw
        hp, wp = x.shape[2] + pads[0] + pads[1], x.shape[3] + pads[2] + pads[3]
        phases = _to_phases(x, pads, stride, (-(-hp // sh), -(-wp // sw)))  # (sh, sw, N, C, Hq, Wq)
        n, c, hq, wq = phases.shape[2:]
        flat = phases.view(sh, sw, n, c, hq * wq)
        span = (ho - 1) * wq + wo  # a tap's run in a flattened plane (the wide rows)
        wide = x.new_empty((n, c, ho, wq))
        y = wide.view(n, c, ho * wq)[..., :span]  # (N, C, span)
        for t, (i, j, a, b, off) in enumerate(_taps(weight.shape[2:], stride, dilation, wq)):
            w_t = weight[:, 0, i, j].view(1, c, 1)
            if t == 0:
                torch.mul(flat[a, b, :, :, off : off + span], w_t, out=y)
            else:
                y.addcmul_(flat[a, b, :, :, off : off + span], w_t)
        out = wide[..., :wo].contiguous()  # drop the wide rows' extra columns
        if bias is not None:
            out.add_(bias.view(1, c, 1, 1))
        ctx.save_for_backward(x, phases, weight)
        ctx.geometry = (x.shape[-2:], stride, pads, dilation)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, phases, weight = ctx.saved_tensors
        hw, stride, pads, dilation = ctx.geometry
        recording = torch.is_grad_enabled()  # create_graph: the backward must be differentiable
        if recording:  # the phases rebuilt from x, in the graph
            phases = _to_phases(x, pads, stride, phases.shape[-2:])
        n, c, ho, wo = grad.shape
        hq, wq = phases.shape[-2:]
        flat = phases.view(*phases.shape[:4], hq * wq)
        span = (ho - 1) * wq + wo
        wide = grad.new_zeros((n, c, ho, wq))  # the extra columns carry zero gradient
        wide[..., :wo] = grad
        g = wide.view(n, c, ho * wq)[..., :span]  # (N, C, span)
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        grad_phases = torch.zeros_like(phases) if need_x else None
        grad_flat = grad_phases.view(flat.shape) if need_x else None
        product = torch.empty_like(g) if need_w else None
        taps = list(_taps(weight.shape[2:], stride, dilation, wq))
        sums = g.new_empty((len(taps), n, c)) if need_w else None  # sum over positions of g x_t
        for t, (i, j, a, b, off) in enumerate(taps):
            if need_x:  # the transposed tap: scatter g back onto the pixels it read
                grad_flat[a, b, :, :, off : off + span].addcmul_(
                    g, weight[:, 0, i, j].view(1, c, 1)
                )
            if need_w:
                x_t = flat[a, b, :, :, off : off + span]
                if recording:  # autograd cannot record an op with out=
                    sums[t] = (g * x_t).sum(2)
                else:
                    torch.sum(torch.mul(g, x_t, out=product), 2, out=sums[t])
        grad_w = sums.sum(1).t().reshape(weight.shape) if need_w else None  # taps in (i, j) order
        grad_x = _from_phases(grad_phases, pads, stride, hw) if need_x else None
        grad_b = grad.sum((0, 2, 3)) if need_b else None  # need_b is False without a bias
        # dense, in torch's layout (with stride 1, grad_x is a view of the padded phase plane;
        # grad_w is a transposed view of the per-tap sums)
        grad_x, grad_w = conv_grad_layouts(grad_x, grad_w, x, weight)
        return grad_x, grad_w, grad_b, None, None, None, None


def depthwise_conv2d(
    x: Tensor,
    weight: Tensor,
    bias: Tensor | None,
    stride: tuple[int, int],
    pads: Pads,
    dilation: tuple[int, int],
    out_hw: tuple[int, int],
) -> Tensor:
    """Depthwise correlation of validated (N, C, H, W) ``x`` with (C, 1, kh, kw) ``weight``,
    padded by ``pads`` = (top, bottom, left, right): (N, C, Ho, Wo)."""
    return in_float32(_DepthwiseConv2d.apply, x, weight, bias, stride, pads, dilation, out_hw)
