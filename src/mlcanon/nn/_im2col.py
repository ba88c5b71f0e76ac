"""im2col / col2im: the two index shuffles every convolution and pooling op is built from.

``windows`` lays the receptive field of each output pixel out along new axes without copying
(a strided view); a matrix product with the flattened kernel then *is* the convolution.
``col2im`` is its adjoint: it adds each window back onto the pixels it was read from, which is
exactly the backward pass of ``windows`` (overlapping windows accumulate).

References
----------
.. [1] Chellapilla, Puri & Simard, "High performance convolutional neural networks for document
   processing", 2006 (convolution as unrolled matrix product).
"""

from __future__ import annotations

from torch import Tensor

Pads = tuple[int, int, int, int]  # (top, bottom, left, right)


def pad2d(x: Tensor, pads: Pads, value: float = 0.0) -> Tensor:
    """Pad the last two dims of ``x`` by ``(top, bottom, left, right)`` with ``value``."""
    top, bottom, left, right = pads
    if not any(pads):
        return x.contiguous()
    *lead, h, w = x.shape
    out = x.new_full((*lead, h + top + bottom, w + left + right), value)
    out[..., top : top + h, left : left + w] = x
    return out


def windows(
    xp: Tensor,
    kernel: tuple[int, int],
    stride: tuple[int, int],
    dilation: tuple[int, int],
    out_hw: tuple[int, int],
) -> Tensor:
    """Strided view of a padded (N, C, Hp, Wp) tensor as (N, C, kh, kw, Ho, Wo), no copy.

    Element ``[n, c, i, j, oh, ow]`` is ``xp[n, c, oh*sh + i*dh, ow*sw + j*dw]``.
    """
    xp = xp.contiguous()
    sn, sc, sh, sw = xp.stride()
    (kh, kw), (st_h, st_w), (dh, dw), (ho, wo) = kernel, stride, dilation, out_hw
    n, c = xp.shape[:2]
    return xp.as_strided((n, c, kh, kw, ho, wo), (sn, sc, dh * sh, dw * sw, st_h * sh, st_w * sw))


def _offsets(kernel, win_hw, stride, dilation):
    """Per kernel offset (i, j): the rows and the columns of the padded input that it reads in
    the ``win_hw`` windows, as strided slices."""
    (kh, kw), (ho, wo), (st_h, st_w), (dh, dw) = kernel, win_hw, stride, dilation
    for i in range(kh):
        rows = slice(i * dh, i * dh + st_h * (ho - 1) + 1, st_h)
        for j in range(kw):
            yield i, j, rows, slice(j * dw, j * dw + st_w * (wo - 1) + 1, st_w)


def col2im(
    cols: Tensor,
    padded_hw: tuple[int, int],
    stride: tuple[int, int],
    dilation: tuple[int, int],
) -> Tensor:
    """Adjoint of :func:`windows`: sum (N, C, kh, kw, Ho, Wo) windows into (N, C, Hp, Wp)."""
    n, c = cols.shape[:2]
    out = cols.new_zeros((n, c, *padded_hw))
    # one strided add per kernel offset: kh*kw vectorized adds instead of a loop over pixels
    for i, j, rows, columns in _offsets(cols.shape[2:4], cols.shape[4:], stride, dilation):
        out[:, :, rows, columns] += cols[:, :, i, j]
    return out


def crop2d(x: Tensor, pads: Pads) -> Tensor:
    """Remove ``(top, bottom, left, right)`` from the last two dims (inverse of :func:`pad2d`)."""
    top, bottom, left, right = pads
    h, w = x.shape[-2:]
    return x[..., top : h - bottom, left : w - right]


def col2im_matmul(
    w_offsets: Tensor,
    src: Tensor,
    padded_hw: tuple[int, int],
    win_hw: tuple[int, int],
    stride: tuple[int, int],
    dilation: tuple[int, int],
) -> Tensor:
    """``col2im(W^T @ src)`` without materializing the (N, C*kh*kw, L) column matrix.

    ``w_offsets`` is (kh, kw, G, A, B) and ``src`` is (N, G, B, L) with ``L = ho*wo``; for each
    kernel offset the product ``w_offsets[i, j] @ src`` (N, G, A, L) is added at the pixels that
    offset reads. Used for the input gradient of a convolution and for the forward pass of the
    transposed convolution, where the column matrix would be the largest tensor of the step.
    """
    groups, a = w_offsets.shape[2:4]
    n = src.shape[0]
    out = src.new_zeros((n, groups, a, *padded_hw))
    for i, j, rows, columns in _offsets(w_offsets.shape[:2], win_hw, stride, dilation):
        part = w_offsets[i, j].matmul(src).view(n, groups, a, *win_hw)
        out[..., rows, columns] += part
    return out.view(n, groups * a, *padded_hw)


# The 1-D ops are the 2-D ones on a signal seen as an image of height 1: (N, C, L) is viewed as
# (N, C, 1, L), each geometry tuple gets the height's neutral entry in front (kernel, stride and
# dilation 1, padding 0), and the result is viewed back. The backward is the 2-D one.


def as_image(x: Tensor, spatial: int) -> tuple[Tensor, bool]:
    """A batched or unbatched input with ``spatial`` (1 or 2) spatial dims as (N, C, H, W),
    and whether it came without the batch dim."""
    unbatched = x.dim() == spatial + 1
    x = x.unsqueeze(0) if unbatched else x
    return (x.unsqueeze(2) if spatial == 1 else x), unbatched


def from_image(y: Tensor, spatial: int, unbatched: bool) -> Tensor:
    """Inverse of :func:`as_image` for the op's (N, C', H', W') result."""
    y = y.squeeze(2) if spatial == 1 else y
    return y.squeeze(0) if unbatched else y


def as_2d(values: tuple[int, ...], spatial: int, *neutral: int) -> tuple[int, ...]:
    """A geometry tuple of ``spatial`` dims (or its per-side pads) as the 2-D one, ``neutral``
    (the height's kernel, stride or dilation 1, or pads 0, 0) put in front."""
    return values if spatial == 2 else (*neutral, *values)
