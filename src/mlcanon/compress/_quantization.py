"""Affine integer quantization: min-max calibration, (de)quantization, fake quantization.

A real value x is stored as an integer q with a scale s and a zero point z:
:math:`q = \\mathrm{clamp}(\\lfloor x / s \\rceil + z, q_{min}, q_{max})`,
:math:`\\hat x = s (q - z)`. Per tensor, one (s, z) serves the whole tensor; per channel, each
slice along ``axis`` has its own.
"""

from __future__ import annotations

import torch

from .._validation import check_option

__all__ = [
    "calibrate_minmax",
    "dequantize",
    "fake_quantize",
    "quantize_per_channel",
    "quantize_per_tensor",
]

# (quant_min, quant_max, storage dtype) of the integer types torch names qint8 / quint8
_RANGES = {"qint8": (-128, 127, torch.int8), "quint8": (0, 255, torch.uint8)}


def _check_tensor(x: object, name: str) -> torch.Tensor:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if not x.is_floating_point():
        raise ValueError(f"{name} must be a floating-point tensor, got dtype {x.dtype}")
    return x


def _check_scale(scale: torch.Tensor) -> torch.Tensor:
    scale = torch.as_tensor(scale, dtype=torch.float32)
    if not bool(torch.all(scale > 0)) or not bool(torch.all(torch.isfinite(scale))):
        raise ValueError(f"scale must be positive and finite, got {scale.tolist()}")
    return scale


def _integer_zero_point(zero_point: object) -> torch.Tensor:
    """Zero point(s) as int64; a fraction, a bool or a complex number is refused."""
    zp = torch.as_tensor(zero_point)
    integral = zp.is_floating_point() and bool(torch.all(zp == torch.round(zp)))
    if zp.is_complex() or zp.dtype == torch.bool or (zp.is_floating_point() and not integral):
        raise TypeError(f"zero_point must hold integers, got {zero_point!r}")
    return zp.to(torch.int64)


def _check_zero_point(zero_point: object, dtype: str) -> torch.Tensor:
    """Integer zero point(s) inside the code range of ``dtype`` (torch refuses others too)."""
    zp = _integer_zero_point(zero_point)
    qmin, qmax, _ = _RANGES[dtype]
    if zp.numel() and (int(zp.min()) < qmin or int(zp.max()) > qmax):
        raise ValueError(
            f"zero_point must lie in [{qmin}, {qmax}] for dtype={dtype!r}, got {zp.tolist()}"
        )
    return zp


def _check_axis(x: torch.Tensor, axis: int) -> int:
    if not isinstance(axis, int) or not -x.ndim <= axis < x.ndim:
        raise ValueError(f"axis must be an int in [{-x.ndim}, {x.ndim - 1}], got {axis!r}")
    return axis % x.ndim


def _along(v: torch.Tensor, x: torch.Tensor, axis: int) -> torch.Tensor:
    """View a per-channel vector so that it broadcasts along ``axis`` of ``x``."""
    shape = [1] * x.ndim
    shape[axis] = -1
    return v.reshape(shape)


def _broadcastable(
    x: torch.Tensor, scale: torch.Tensor, zero_point: torch.Tensor, axis: int | None
) -> tuple[torch.Tensor, torch.Tensor]:
    """``scale`` and ``zero_point`` shaped to broadcast over ``x``: one pair for the tensor
    (``axis=None``) or one pair per slice along ``axis``."""
    if axis is None:
        if scale.numel() != 1 or zero_point.numel() != 1:
            raise ValueError(
                f"scale and zero_point must be scalars when axis is None (per tensor), got "
                f"shapes {tuple(scale.shape)} and {tuple(zero_point.shape)}; give axis for "
                "one pair per channel"
            )
        return scale.reshape(()), zero_point.reshape(())
    axis = _check_axis(x, axis)
    if scale.shape != (x.shape[axis],) or zero_point.shape != scale.shape:
        raise ValueError(
            f"scale and zero_point must have shape ({x.shape[axis]},) for axis={axis}, "
            f"got {tuple(scale.shape)} and {tuple(zero_point.shape)}"
        )
    return _along(scale, x, axis), _along(zero_point, x, axis)


def calibrate_minmax(
    x: torch.Tensor,
    dtype: str = "quint8",
    qscheme: str = "affine",
    axis: int | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Scale and zero point from the observed range of ``x`` (min-max calibration).

    Parameters
    ----------
    x : Tensor
        Calibration data (activations seen on a few batches, or a weight).
    dtype : {'quint8', 'qint8'}
        Target integer type: [0, 255] or [-128, 127].
    qscheme : {'affine', 'symmetric'}
        Affine maps [min, max] onto the whole integer range; symmetric uses [-a, a] with
        a = max|x| and a fixed zero point (0, or 128 for quint8).
    axis : int or None
        None: one pair for the tensor; an int: one pair per slice along that axis.

    Returns
    -------
    scale : Tensor (float32), zero_point : Tensor (int64)
        Scalars, or vectors of length ``x.shape[axis]``.

    Notes
    -----
    The range is widened to contain 0 so that zero (padding, ReLU outputs) is exact:

    .. math::
        s = \\frac{\\max(x_{max}, 0) - \\min(x_{min}, 0)}{q_{max} - q_{min}}, \\qquad
        z = \\mathrm{clamp}(q_{min} - \\lfloor \\min(x_{min}, 0) / s \\rceil,
        q_{min}, q_{max}),

    with s floored at the float32 machine epsilon (the convention of ``torch.ao``'s observers).

    References
    ----------
    B. Jacob et al., "Quantization and Training of Neural Networks for Efficient
    Integer-Arithmetic-Only Inference", CVPR 2018, Section 2.1 and 3.
    """
    x = _check_tensor(x, "x").detach().float()
    check_option(dtype, "dtype", _RANGES)
    check_option(qscheme, "qscheme", ("affine", "symmetric"))
    qmin, qmax, _ = _RANGES[dtype]
    if x.numel() == 0:
        raise ValueError(
            f"calibrate_minmax needs at least one value, got x of shape {tuple(x.shape)}"
        )
    if axis is None:
        lo, hi = x.min(), x.max()
    else:
        axis = _check_axis(x, axis)
        flat = x.movedim(axis, 0).reshape(x.shape[axis], -1)  # (C, rest)
        lo, hi = flat.min(1).values, flat.max(1).values
    lo, hi = torch.clamp(lo, max=0.0), torch.clamp(hi, min=0.0)
    eps = torch.finfo(torch.float32).eps
    if qscheme == "symmetric":
        scale = torch.clamp(torch.maximum(-lo, hi) / ((qmax - qmin) / 2), min=eps)
        zero_point = torch.full_like(scale, 0 if dtype == "qint8" else 128, dtype=torch.int64)
    else:
        scale = torch.clamp((hi - lo) / float(qmax - qmin), min=eps)
        zero_point = torch.clamp(qmin - torch.round(lo / scale).to(torch.int64), qmin, qmax)
    return scale, zero_point


def quantize_per_tensor(
    input: torch.Tensor, scale: float, zero_point: int, dtype: str = "quint8"
) -> torch.Tensor:
    """Integer codes ``clamp(round(input / scale + zero_point), qmin, qmax)`` (int8 / uint8).

    The same codes as ``torch.quantize_per_tensor(...).int_repr()``. ``scale`` is used in float32
    through its reciprocal and ``input * (1/scale) + zero_point`` is rounded once (a fused
    multiply-add), as torch's vectorised kernel does: this matters only at exact ties.
    See :func:`calibrate_minmax` for the formula and the reference.
    """
    x = _check_tensor(input, "input").float()
    check_option(dtype, "dtype", _RANGES)
    qmin, qmax, store = _RANGES[dtype]
    zero_point = int(_check_zero_point(zero_point, dtype))
    inv = 1.0 / _check_scale(scale)
    # float32 * float32 is exact in float64, so this rounds the fused result only once
    t = (x.double() * inv.double() + float(zero_point)).float()
    return torch.clamp(torch.round(t), qmin, qmax).to(store)


def quantize_per_channel(
    input: torch.Tensor,
    scales: torch.Tensor,
    zero_points: torch.Tensor,
    axis: int,
    dtype: str = "qint8",
) -> torch.Tensor:
    """Integer codes with one (scale, zero point) per slice along ``axis``.

    The same codes as ``torch.quantize_per_channel(...).int_repr()``:
    ``clamp(round(input * (1/scale_c) + zero_point_c), qmin, qmax)`` in float32.
    """
    x = _check_tensor(input, "input").float()
    check_option(dtype, "dtype", _RANGES)
    axis = _check_axis(x, axis)
    scales = _check_scale(scales)
    zero_points = _check_zero_point(zero_points, dtype)
    if scales.shape != (x.shape[axis],) or zero_points.shape != scales.shape:
        raise ValueError(
            f"scales and zero_points must have shape ({x.shape[axis]},) (input.shape[axis]), "
            f"got {tuple(scales.shape)} and {tuple(zero_points.shape)}"
        )
    qmin, qmax, store = _RANGES[dtype]
    inv = _along(1.0 / scales, x, axis)
    zp = _along(zero_points.float(), x, axis)
    return torch.clamp(torch.round(x * inv + zp), qmin, qmax).to(store)


def dequantize(
    q: torch.Tensor,
    scale: torch.Tensor | float,
    zero_point: torch.Tensor | int,
    axis: int | None = None,
) -> torch.Tensor:
    """Real values ``scale * (q - zero_point)`` (float32), per tensor or per channel (``axis``)."""
    if not isinstance(q, torch.Tensor) or q.is_floating_point():
        raise TypeError(f"q must be an integer torch.Tensor, got {getattr(q, 'dtype', type(q))}")
    scale, zero_point = _broadcastable(
        q, _check_scale(scale), _integer_zero_point(zero_point), axis
    )
    return (q.to(torch.int32) - zero_point.to(torch.int32)).float() * scale


class _FakeQuantize(torch.autograd.Function):
    """Quantize-dequantize forward; straight-through (masked identity) backward."""

    @staticmethod
    def forward(ctx, x, scale, zero_point, quant_min, quant_max, per_channel):
        # torch's kernels: the float32 reciprocal of the float32 scale, the input in at least
        # float32 (half and bfloat16 are widened, float64 kept), rounded before the shift; a
        # floating-point zero point (per channel) is added before rounding instead
        work = torch.promote_types(x.dtype, torch.float32)
        zp = zero_point.to(work)
        if zero_point.is_floating_point():
            q = torch.round(x.to(work) * (1.0 / scale).to(work) + zp)
        else:
            q = torch.round(x.to(work) * (1.0 / scale).to(work)) + zp
        inside = (q >= quant_min) & (q <= quant_max)
        ctx.save_for_backward(inside)
        codes = torch.clamp(q, quant_min, quant_max) - zp
        if per_channel:  # (q - z) * s in the widened type
            return (codes * scale.to(work)).to(x.dtype)
        return (codes.float() * scale).to(x.dtype)  # per tensor: a float32 product

    @staticmethod
    def backward(ctx, grad_output):
        (inside,) = ctx.saved_tensors
        return grad_output * inside, None, None, None, None, None


def fake_quantize(
    input: torch.Tensor,
    scale: torch.Tensor | float,
    zero_point: torch.Tensor | int,
    quant_min: int = -128,
    quant_max: int = 127,
    axis: int | None = None,
) -> torch.Tensor:
    """Quantize then dequantize in floating point, with a straight-through gradient (for QAT).

    Parameters
    ----------
    input : Tensor (float16, bfloat16, float32 or float64)
        Computed in float32 (float64 for float64 input) and returned in its own dtype.
    scale, zero_point : scalars, or vectors of length ``input.shape[axis]`` when ``axis`` is set
        Per tensor the zero point is an integer. Per channel it may also be a floating-point
        tensor (as torch's): then the code is :math:`\\lfloor x/s + z \\rceil` (the shift inside
        the rounding) and :math:`\\hat x = s\\,(\\mathrm{clamp}(\\cdot) - z)`.
    quant_min, quant_max : int
        Integer range (e.g. -128, 127; or -8, 7 for 4 bits), ``quant_min <= quant_max``.
    axis : int or None
        Per-channel axis; None for per tensor.

    Returns
    -------
    Tensor
        Same values as ``torch.fake_quantize_per_tensor_affine`` /
        ``torch.fake_quantize_per_channel_affine``.

    Notes
    -----
    Forward :math:`\\hat x = s\\,(\\mathrm{clamp}(\\lfloor x/s \\rceil + z, q_{min}, q_{max}) - z)`.
    Rounding has zero derivative almost everywhere, so the straight-through estimator passes
    the gradient unchanged where the code is inside the range and zeroes it where clamped:
    :math:`\\partial \\hat x / \\partial x = [q_{min} \\le \\lfloor x/s \\rceil + z \\le q_{max}]`.

    References
    ----------
    Y. Bengio, N. Leonard and A. Courville, "Estimating or Propagating Gradients Through
    Stochastic Neurons", arXiv:1308.3432, 2013 (straight-through estimator). B. Jacob et al.,
    CVPR 2018, Section 3 (simulated quantization during training).
    """
    x = _check_tensor(input, "input")
    if not (isinstance(quant_min, int) and isinstance(quant_max, int) and quant_min <= quant_max):
        raise ValueError(
            f"quant_min and quant_max must be ints with quant_min <= quant_max, "
            f"got {quant_min!r} and {quant_max!r}"
        )
    float_zp = (
        axis is not None
        and isinstance(zero_point, torch.Tensor)
        and zero_point.dtype in (torch.float32, torch.float16)
    )
    zero_point = zero_point if float_zp else _integer_zero_point(zero_point)
    scale, zero_point = _broadcastable(x, _check_scale(scale), zero_point, axis)
    if bool(torch.any(zero_point < quant_min)) or bool(torch.any(zero_point > quant_max)):
        raise ValueError(f"zero_point must lie in [{quant_min}, {quant_max}]")
    scale, zero_point = scale.to(x.device), zero_point.to(x.device)
    return _FakeQuantize.apply(
        x, scale, zero_point, float(quant_min), float(quant_max), axis is not None
    )
