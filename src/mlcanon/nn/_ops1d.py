"""1-D convolution, transposed convolution and pooling, as ``torch.nn.functional``'s.

Each is its 2-D op on the signal seen as an image of height 1: (N, C, L) is viewed as
(N, C, 1, L), the kernel, stride, padding and dilation get the height's neutral entry, and the
result is viewed back (:func:`._im2col.as_image`). The forward and backward passes are therefore
the 2-D ones of :mod:`._conv` and :mod:`._pool`; arguments are checked, and reported, as the
1-D values given (``kernel_size=3`` or ``(3,)``), and an input of another rank is refused as
not (C, L) or (N, C, L).

References
----------
.. [1] Dumoulin & Visin, "A guide to convolution arithmetic for deep learning", 2016.
"""

from __future__ import annotations

from typing import Any

from torch import Tensor

from ._conv import conv_nd, conv_transpose_nd
from ._pool import adaptive_avg_pool_nd, avg_pool_nd, max_pool_nd

__all__ = ["adaptive_avg_pool1d", "avg_pool1d", "conv1d", "conv_transpose1d", "max_pool1d"]


def conv1d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
) -> Tensor:
    r"""1-D cross-correlation, as ``torch.nn.functional.conv1d``.

    Parameters
    ----------
    input : Tensor[N, C, L] or Tensor[C, L]
    weight : Tensor[O, C/groups, k]
    bias : Tensor[O], optional
    stride, dilation : int or (int,), >= 1
    padding : int, (int,), ``'valid'`` or ``'same'`` (stride 1 only; an odd total puts the
        extra zero on the right, as torch)
    groups : int

    Returns
    -------
    Tensor[N, O, Lo] with :math:`L_o = \lfloor (L + 2p - d(k-1) - 1)/s \rfloor + 1`.

    Notes
    -----
    :math:`y_{o,t} = b_o + \sum_{c,j} W_{o,c,j}\, x_{c,\,ts + jd - p}`: :func:`conv2d` with a
    (1, k) kernel over the (1, L) image, whose backward it uses.
    """
    return conv_nd(input, weight, bias, stride, padding, dilation, groups, spatial=1)


def conv_transpose1d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    output_padding: Any = 0,
    groups: int = 1,
    dilation: Any = 1,
) -> Tensor:
    r"""Transposed 1-D convolution (the gradient of :func:`conv1d` with respect to its input),
    as ``torch.nn.functional.conv_transpose1d``.

    Parameters
    ----------
    input : Tensor[N, C, L] or Tensor[C, L]
    weight : Tensor[C, O/groups, k]
    bias : Tensor[O], optional
    stride, dilation : int or (int,), >= 1
    padding : int or (int,)
        Positions cropped from each end of the full output.
    output_padding : int or (int,)
        Extra positions at the right end; smaller than stride or dilation.

    Returns
    -------
    Tensor[N, O, Lo] with :math:`L_o = (L-1)s - 2p + d(k-1) + p_{out} + 1`.
    """
    return conv_transpose_nd(
        input, weight, bias, stride, padding, output_padding, groups, dilation, spatial=1
    )


def max_pool1d(
    input: Tensor,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    dilation: Any = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Tensor | tuple[Tensor, Tensor]:
    r"""1-D max pooling, as ``torch.nn.functional.max_pool1d``.

    Parameters
    ----------
    input : Tensor[N, C, L] or Tensor[C, L]
    kernel_size, stride (default ``kernel_size``), padding, dilation : int or (int,)
        Padding is implicit :math:`-\infty`, at most half the kernel.
    ceil_mode : bool
        Round the output length up (a last window overhanging by less than a stride).
    return_indices : bool
        Also return the position in ``[0, L)`` of each maximum.

    Notes
    -----
    :math:`y_t = \max_{i \in R_t} x_i`; the gradient goes to torch's winner (the first of equal
    maxima, the last NaN); see :func:`max_pool2d`.
    """
    args = (kernel_size, stride, padding, dilation, ceil_mode, return_indices)
    return max_pool_nd(input, *args, spatial=1)


def avg_pool1d(
    input: Tensor,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> Tensor:
    r"""1-D average pooling, as ``torch.nn.functional.avg_pool1d``.

    Parameters
    ----------
    input : Tensor[N, C, L] or Tensor[C, L]
    kernel_size, stride (default ``kernel_size``), padding : int or (int,)
    ceil_mode : bool
    count_include_pad : bool
        Whether the zero padding counts in the divisor (the overhang of ceil mode never does).

    Notes
    -----
    :math:`y_t = \frac1{|R_t|}\sum_{i \in R_t} x_i`; the backward spreads :math:`g_t/|R_t|`
    over the window.
    """
    args = (kernel_size, stride, padding, ceil_mode, count_include_pad, None)
    return avg_pool_nd(input, *args, spatial=1)


def adaptive_avg_pool1d(input: Tensor, output_size: Any) -> Tensor:
    r"""Average over ``output_size`` bins that tile the signal, as
    ``torch.nn.functional.adaptive_avg_pool1d``.

    Parameters
    ----------
    input : Tensor[N, C, L] or Tensor[C, L]
    output_size : int or (int,), >= 1

    Notes
    -----
    Bin :math:`i` averages :math:`[\lfloor iL/L_o\rfloor, \lceil (i+1)L/L_o\rceil)`; the bins
    overlap when :math:`L_o` does not divide :math:`L`.
    """
    return adaptive_avg_pool_nd(input, output_size, spatial=1)
