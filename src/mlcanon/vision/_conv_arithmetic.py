"""Output sizes of convolution, pooling and transposed convolution.

Every function takes the arguments of the matching torch layer (``kernel_size``, ``stride``,
``padding``, ``dilation``, ``ceil_mode``, ``output_padding``), each an int or one int per spatial
axis, and returns the output size in the same form as ``input_size`` (an int or a tuple).
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

__all__ = ["conv_output_size", "conv_transpose_output_size", "pool_output_size"]

IntOrTuple = int | Sequence[int]


def _expand(value: IntOrTuple, name: str, n: int, *, low: int) -> tuple[int, ...]:
    """Broadcast an int (or check a tuple) to ``n`` axes, each an int >= ``low``."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        values = (int(value),) * n
    elif isinstance(value, Sequence) and not isinstance(value, str):
        values = tuple(value)
        if len(values) != n or not all(
            isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in values
        ):
            raise ValueError(f"{name} must be an int or {n} ints (one per axis), got {value!r}")
        values = tuple(int(v) for v in values)
    else:
        raise TypeError(f"{name} must be an int or a tuple of ints, got {value!r}")
    if min(values) < low:
        raise ValueError(f"{name} must be >= {low} on every axis, got {value!r}")
    return values


def _axes(input_size: IntOrTuple) -> tuple[tuple[int, ...], bool]:
    scalar = isinstance(input_size, numbers.Integral) and not isinstance(input_size, bool)
    if not scalar and not (isinstance(input_size, Sequence) and not isinstance(input_size, str)):
        raise TypeError(f"input_size must be an int or a tuple of ints, got {input_size!r}")
    n = 1 if scalar else len(input_size)
    if n == 0:
        raise ValueError("input_size must have at least one axis, got ()")
    return _expand(input_size, "input_size", n, low=1), scalar


def _result(sizes: list[int], scalar: bool, what: str, given: str) -> int | tuple[int, ...]:
    if min(sizes) < 1:
        raise ValueError(f"{what} output size would be {tuple(sizes)} (< 1) for {given}")
    return sizes[0] if scalar else tuple(sizes)


def conv_output_size(
    input_size: IntOrTuple,
    kernel_size: IntOrTuple,
    stride: IntOrTuple = 1,
    padding: IntOrTuple | str = 0,
    dilation: IntOrTuple = 1,
) -> int | tuple[int, ...]:
    r"""Spatial output size of a convolution (``torch.nn.Conv{1,2,3}d``).

    Parameters
    ----------
    input_size : int or tuple of int
        Input length per spatial axis (``W``, or ``(H, W)``, ...).
    kernel_size, stride, dilation : int or tuple of int
        As in ``torch.nn.Conv2d``.
    padding : int, tuple of int, 'valid' or 'same'
        Zeros added on **both** sides of each axis; ``'same'`` needs ``stride=1``.

    Returns
    -------
    int or tuple of int
        Output size, in the form of ``input_size``.

    Notes
    -----
    With effective kernel :math:`K' = D(K - 1) + 1`,

    .. math:: W_{out} = \left\lfloor \frac{W + 2P - K'}{S} \right\rfloor + 1,

    which reduces to :math:`(W - K + 2P)/S + 1` when :math:`D = 1` and the division is exact.
    Convolution always rounds down: a window that would overhang the padded input is dropped.

    References
    ----------
    V. Dumoulin and F. Visin, "A guide to convolution arithmetic for deep learning",
    arXiv:1603.07285, 2016, relationship 6 (Section 2.4) and Section 5.1 (dilation).
    """
    sizes, scalar = _axes(input_size)
    n = len(sizes)
    k = _expand(kernel_size, "kernel_size", n, low=1)
    s = _expand(stride, "stride", n, low=1)
    d = _expand(dilation, "dilation", n, low=1)
    if isinstance(padding, str):
        if padding == "valid":
            p: tuple[int, ...] = (0,) * n
        elif padding == "same":
            if max(s) != 1:
                raise ValueError(f"padding='same' needs stride=1 on every axis, got {stride!r}")
            return sizes[0] if scalar else sizes
        else:
            raise ValueError(f"padding must be an int, a tuple, 'valid' or 'same'; got {padding!r}")
    else:
        p = _expand(padding, "padding", n, low=0)
    out = [
        (w + 2 * pi - (di * (ki - 1) + 1)) // si + 1
        for w, ki, si, pi, di in zip(sizes, k, s, p, d, strict=True)
    ]
    return _result(out, scalar, "convolution", f"input_size={input_size!r}, kernel_size={k}")


def pool_output_size(
    input_size: IntOrTuple,
    kernel_size: IntOrTuple,
    stride: IntOrTuple | None = None,
    padding: IntOrTuple = 0,
    dilation: IntOrTuple = 1,
    ceil_mode: bool = False,
) -> int | tuple[int, ...]:
    r"""Spatial output size of max or average pooling (``torch.nn.MaxPool2d``, ``AvgPool2d``).

    Parameters
    ----------
    input_size : int or tuple of int
        Input length per spatial axis.
    kernel_size : int or tuple of int
        Window size.
    stride : int or tuple of int, optional
        Defaults to ``kernel_size``, as in torch.
    padding : int or tuple of int
        Implicit padding on both sides, at most half of ``kernel_size``, as torch requires.
    dilation : int or tuple of int
        Spacing of the window (max pooling only in torch).
    ceil_mode : bool
        Round up instead of down, so that a last partial window is kept.

    Notes
    -----
    .. math::
        W_{out} = \operatorname{round}\!\left(\frac{W + 2P - D(K-1) - 1}{S}\right) + 1,

    with round = floor, or ceil when ``ceil_mode``. In ceil mode a window that would start
    inside the right padding is dropped (it would see no input), i.e. :math:`W_{out}` is
    decremented when :math:`(W_{out} - 1) S \ge W + P`; this is the rule torch and Caffe use.

    References
    ----------
    V. Dumoulin and F. Visin, "A guide to convolution arithmetic for deep learning",
    arXiv:1603.07285, 2016, Section 3 (pooling arithmetic).
    """
    sizes, scalar = _axes(input_size)
    n = len(sizes)
    k = _expand(kernel_size, "kernel_size", n, low=1)
    s = k if stride is None else _expand(stride, "stride", n, low=1)
    p = _expand(padding, "padding", n, low=0)
    d = _expand(dilation, "dilation", n, low=1)
    if not isinstance(ceil_mode, bool):
        raise TypeError(f"ceil_mode must be a bool, got {ceil_mode!r}")
    # torch checks the undilated kernel here, whatever the dilation
    if any(2 * pi > ki for pi, ki in zip(p, k, strict=True)):
        raise ValueError(
            f"padding must be at most half of kernel_size, got padding={padding!r} "
            f"for kernel_size={kernel_size!r}"
        )
    out = []
    for w, ki, si, pi, di in zip(sizes, k, s, p, d, strict=True):
        span = w + 2 * pi - di * (ki - 1) - 1
        o = (-(-span // si) if ceil_mode else span // si) + 1
        if ceil_mode and (o - 1) * si >= w + pi:
            o -= 1
        out.append(o)
    return _result(out, scalar, "pooling", f"input_size={input_size!r}, kernel_size={k}")


def conv_transpose_output_size(
    input_size: IntOrTuple,
    kernel_size: IntOrTuple,
    stride: IntOrTuple = 1,
    padding: IntOrTuple = 0,
    output_padding: IntOrTuple = 0,
    dilation: IntOrTuple = 1,
) -> int | tuple[int, ...]:
    r"""Spatial output size of a transposed convolution (``torch.nn.ConvTranspose2d``).

    Parameters
    ----------
    input_size, kernel_size, stride, padding, dilation : int or tuple of int
        As in ``torch.nn.ConvTranspose2d``.
    output_padding : int or tuple of int
        Extra size added on one side; must be smaller than ``stride`` or ``dilation``.

    Notes
    -----
    The transposed convolution inverts the shape map of a convolution with the same
    arguments; since that map floors, ``output_padding`` picks among the sizes it merges:

    .. math:: W_{out} = (W - 1) S - 2P + D(K - 1) + P_{out} + 1.

    References
    ----------
    V. Dumoulin and F. Visin, "A guide to convolution arithmetic for deep learning",
    arXiv:1603.07285, 2016, Section 4.6, relationship 14.
    """
    sizes, scalar = _axes(input_size)
    n = len(sizes)
    k = _expand(kernel_size, "kernel_size", n, low=1)
    s = _expand(stride, "stride", n, low=1)
    p = _expand(padding, "padding", n, low=0)
    op = _expand(output_padding, "output_padding", n, low=0)
    d = _expand(dilation, "dilation", n, low=1)
    for opi, si, di in zip(op, s, d, strict=True):
        if opi >= max(si, di):
            raise ValueError(
                f"output_padding must be smaller than stride or dilation, got "
                f"output_padding={output_padding!r}, stride={stride!r}, dilation={dilation!r}"
            )
    out = [
        (w - 1) * si - 2 * pi + di * (ki - 1) + opi + 1
        for w, ki, si, pi, opi, di in zip(sizes, k, s, p, op, d, strict=True)
    ]
    return _result(out, scalar, "transposed convolution", f"input_size={input_size!r}")
