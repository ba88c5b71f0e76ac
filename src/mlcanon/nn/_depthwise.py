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

With stride 1 on a float32 or float64 CPU tensor (and no graph recorded for a double
backward) the same sums run in numba kernels instead, one channel per task: the channel's
padded planes are laid end to end (the batch as one tall image), and each tap is one loop over
that whole run, wide rows and all, while it is in cache. The sweeps above, each over the whole
batch, cost 3 - 6 times torch's fused kernel on the 3 x 3 to 12 x 12 maps of a network's last
stages; the kernels, 1.2 - 3 times (CPU time, one thread).

References
----------
.. [1] Howard et al., "MobileNets: efficient convolutional neural networks for mobile vision
   applications", 2017, sec. 3.1 (depthwise separable convolution).
.. [2] Vaidyanathan, "Multirate digital filters, filter banks, polyphase networks, and
   applications: a tutorial", Proc. IEEE 1990 (polyphase decomposition).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise

import numpy as np
import torch
from numba import njit, uint64
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


# --- numba kernels: stride 1, float32 / float64 on the CPU ------------------------------------
# Per channel: its N padded planes end to end, (N Hq Wq,) in one buffer (the "tall" image), and
# a tap at offset (i dh, j dw) is the run tall[off : off + span], off = i dh Wq + j dw, as in
# the wide-row sweeps above. Indices are unsigned, so that numba adds no negative-index
# wrap-around to the loops (which keeps them vectorized).


@njit(cache=True, nogil=True, inline="always")
def _fill_tall(x, ch, tall, top, left, hq, wq):  # pragma: no cover - numba
    """Channel ``ch`` of every sample of x into the zeroed tall image, at (top, left)."""
    n, _, h, w = x.shape
    for b in range(n):
        for r in range(h):
            dst = uint64(b * hq * wq + (r + top) * wq + left)
            for q in range(w):
                tall[dst + uint64(q)] = x[b, ch, r, q]


@njit(cache=True, nogil=True, fastmath={"reassoc"})
def _dot(g, x, off, span, zero):  # pragma: no cover - numba
    """sum of g[p] x[p + off] over p < span; reassociated into vector lanes (no fast-math
    beyond that: NaN and inf propagate as in the plain sum)."""
    s = zero
    for p in range(span):
        s += g[p] * x[p + off]
    return s


@njit(cache=True, nogil=True)
def _forward_kernel(x, weight, bias, out, pads, dilation, c0, c1):  # pragma: no cover - numba
    """out[n, c] for channels c0 <= c < c1: the sum of the taps, in (i, j) order, then
    + bias[c] (an empty bias: none)."""
    n, _, h, w = x.shape
    _, _, ho, wo = out.shape
    kh, kw = weight.shape[1:]
    top, bottom, left, right = pads
    hq, wq = h + top + bottom, w + left + right
    plane = uint64(hq * wq)
    span = uint64((n - 1) * hq * wq + (ho - 1) * wq + wo)
    for ch in range(c0, c1):
        tall = np.zeros(n * hq * wq, dtype=x.dtype)
        _fill_tall(x, ch, tall, top, left, hq, wq)
        acc = np.empty(span, dtype=x.dtype)
        for i in range(kh):
            for j in range(kw):
                off = uint64(i * dilation[0] * wq + j * dilation[1])
                w_t = weight[ch, i, j]
                if i == 0 and j == 0:
                    for p in range(span):
                        acc[p] = tall[p + off] * w_t
                else:
                    for p in range(span):
                        acc[p] += tall[p + off] * w_t
        for b in range(n):  # the wide rows' valid part
            for r in range(ho):
                src = uint64(b) * plane + uint64(r * wq)
                if bias.shape[0]:
                    for q in range(wo):
                        out[b, ch, r, q] = acc[src + uint64(q)] + bias[ch]
                else:
                    for q in range(wo):
                        out[b, ch, r, q] = acc[src + uint64(q)]


@njit(cache=True, nogil=True)
def _backward_kernel(x, weight, grad, grad_x, grad_w, pads, dilation, c0, c1):  # pragma: no cover
    """For channels c0 <= c < c1: grad_w[c, i, j], the sum of grad times the tap's run (when
    grad_w is not empty); grad_x, each tap scattering grad * w back onto the run it read, the
    padding then cropped off (when grad_x is not empty)."""
    n, _, h, w = x.shape
    _, _, ho, wo = grad.shape
    kh, kw = weight.shape[1:]
    top, bottom, left, right = pads
    hq, wq = h + top + bottom, w + left + right
    plane = uint64(hq * wq)
    span = uint64((n - 1) * hq * wq + (ho - 1) * wq + wo)
    need_x, need_w = grad_x.shape[0] > 0, grad_w.shape[0] > 0
    zero = np.zeros(1, dtype=x.dtype)[0]
    for ch in range(c0, c1):
        g = np.zeros(n * hq * wq, dtype=x.dtype)  # grad on the wide rows, 0 off the output
        for b in range(n):
            for r in range(ho):
                dst = uint64(b) * plane + uint64(r * wq)
                for q in range(wo):
                    g[dst + uint64(q)] = grad[b, ch, r, q]
        if need_w:
            tall = np.zeros(n * hq * wq, dtype=x.dtype)
            _fill_tall(x, ch, tall, top, left, hq, wq)
            for i in range(kh):
                for j in range(kw):
                    off = uint64(i * dilation[0] * wq + j * dilation[1])
                    grad_w[ch, i, j] = _dot(g, tall, off, span, zero)
        if need_x:
            gx = np.zeros(n * hq * wq, dtype=x.dtype)
            for i in range(kh):
                for j in range(kw):
                    off = uint64(i * dilation[0] * wq + j * dilation[1])
                    w_t = weight[ch, i, j]
                    for p in range(span):
                        gx[p + off] += g[p] * w_t
            for b in range(n):
                for r in range(h):
                    src = uint64(b) * plane + uint64((r + top) * wq + left)
                    for q in range(w):
                        grad_x[b, ch, r, q] = gx[src + uint64(q)]


_KERNEL_DTYPES = (torch.float32, torch.float64)


def _kernel_applies(x: Tensor, stride: tuple[int, int]) -> bool:
    """Whether the numba kernels take the convolution: stride 1, a float32 or float64 CPU
    tensor, and no graph being recorded (a double backward differentiates the sweeps)."""
    return (
        stride == (1, 1)
        and x.device.type == "cpu"
        and x.dtype in _KERNEL_DTYPES
        and not torch.is_grad_enabled()
    )


# Channels are independent: a kernel call is split into blocks of channels run by torch's
# number of threads (``torch.set_num_threads``), each block in a worker thread (the kernels
# release the GIL). Threads of Python's own pool, not numba's parallel loops: numba's OpenMP
# layer and torch's each keep their threads spinning between calls, and on the same cores the
# two pools slowed every op of a training step several times.
_POOL: list[ThreadPoolExecutor] = []
_MIN_WORK = 1 << 16  # elements of x below which one thread does it all
# a forked child inherits the pool without its threads: it starts its own
os.register_at_fork(after_in_child=_POOL.clear)


def _by_channels(kernel, x: Tensor, *args) -> None:
    """``kernel(*args, c0, c1)`` over blocks of x's channels, in torch's number of threads."""
    c = x.shape[1]
    threads = min(torch.get_num_threads(), c, os.cpu_count() or 1)
    if threads <= 1 or x.numel() < _MIN_WORK:
        kernel(*args, 0, c)
        return
    if not _POOL:
        _POOL.append(ThreadPoolExecutor(os.cpu_count() or 1, thread_name_prefix="mlcanon-dw"))
    bounds = [c * k // threads for k in range(threads + 1)]
    # the first block in this thread, the others in the pool's
    blocks = [_POOL[0].submit(kernel, *args, lo, hi) for lo, hi in pairwise(bounds[1:])]
    kernel(*args, 0, bounds[1])
    for block in blocks:
        block.result()


def _array(t: Tensor) -> np.ndarray:
    """A C-contiguous NumPy view of ``t``'s values (a copy only where ``t`` is not)."""
    return t.detach().contiguous().numpy()


class _DepthwiseConv2d(Function):
    @staticmethod
    def forward(ctx, x, weight, bias, stride, pads, dilation, out_hw):
        (sh, sw), (ho, wo) = stride, out_hw
        hp, wp = x.shape[2] + pads[0] + pads[1], x.shape[3] + pads[2] + pads[3]
        ctx.geometry = (x.shape[-2:], stride, pads, dilation)
        ctx.phase_hw = (-(-hp // sh), -(-wp // sw))
        if _kernel_applies(x, stride):  # (a Function's forward runs with grad mode off)
            out = x.new_empty((*x.shape[:2], ho, wo))
            b = _array(bias) if bias is not None else np.empty(0, _array(x[:0]).dtype)
            args = (_array(x), _array(weight[:, 0]), b, out.numpy(), pads, dilation)
            _by_channels(_forward_kernel, x, *args)
            ctx.save_for_backward(x, weight)
            return out
        phases = _to_phases(x, pads, stride, ctx.phase_hw)  # (sh, sw, N, C, Hq, Wq)
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
        ctx.save_for_backward(x, weight, phases)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, weight, *saved = ctx.saved_tensors
        hw, stride, pads, dilation = ctx.geometry
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        if _kernel_applies(x, stride):
            return _kernel_backward(x, weight, grad, need_x, need_w, need_b, pads, dilation)
        recording = torch.is_grad_enabled()  # create_graph: the backward must be differentiable
        # the phases the forward saved, or rebuilt from x (in the graph under create_graph)
        phases = saved[0] if saved and not recording else _to_phases(x, pads, stride, ctx.phase_hw)
        n, c, ho, wo = grad.shape
        hq, wq = phases.shape[-2:]
        flat = phases.view(*phases.shape[:4], hq * wq)
        span = (ho - 1) * wq + wo
        wide = grad.new_zeros((n, c, ho, wq))  # the extra columns carry zero gradient
        wide[..., :wo] = grad
        g = wide.view(n, c, ho * wq)[..., :span]  # (N, C, span)
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


def _kernel_backward(x, weight, grad, need_x, need_w, need_b, pads, dilation):
    """The backward of the numba forward: (grad_x, grad_w, grad_b, None...) in torch's layout."""
    grad_x = x.new_empty(x.shape) if need_x else None  # contiguous
    grad_w = x.new_empty((weight.shape[0], *weight.shape[2:])) if need_w else None
    none = np.empty((0, 1, 1, 1), _array(x[:0]).dtype)
    _by_channels(
        _backward_kernel,
        x,
        _array(x),
        _array(weight[:, 0]),
        _array(grad),
        grad_x.numpy() if need_x else none,
        grad_w.numpy() if need_w else none[:, 0],
        pads,
        dilation,
    )
    grad_w = grad_w.view(weight.shape) if need_w else None
    grad_b = grad.sum((0, 2, 3)) if need_b else None
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
