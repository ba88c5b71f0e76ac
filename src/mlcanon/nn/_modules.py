"""``nn.Module`` wrappers: parameters and buffers named and initialized as in ``torch.nn``.

A module holds state (parameters, running statistics, the train/eval flag) and calls a
stateless op of :mod:`mlcanon.nn.functional`; the op's autograd Function holds the backward.
Because names and shapes match torch, ``load_state_dict`` works in both directions.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Sequence
from typing import Any

import torch
from torch import Tensor, nn

from mlcanon._validation import check_option
from mlcanon.vision import conv_transpose_output_size

from . import _activations as A
from ._conv import PADDING_MODES, conv_nd, conv_padding, conv_pads, conv_transpose_nd, pad_mode
from ._dropout import dropout
from ._linear import linear
from ._norm import batch_norm, group_norm, instance_norm, layer_norm
from ._ops1d import adaptive_avg_pool1d, avg_pool1d, max_pool1d
from ._pool import adaptive_avg_pool2d, avg_pool2d, max_pool2d
from ._softmax import log_softmax, softmax
from ._utils import check_input, factory, integer, ntuple, probability

__all__ = [
    "ELU",
    "GELU",
    "AdaptiveAvgPool1d",
    "AdaptiveAvgPool2d",
    "AvgPool1d",
    "AvgPool2d",
    "BatchNorm1d",
    "BatchNorm2d",
    "Conv1d",
    "Conv2d",
    "ConvTranspose1d",
    "ConvTranspose2d",
    "Dropout",
    "GroupNorm",
    "Hardsigmoid",
    "Hardswish",
    "InstanceNorm2d",
    "LayerNorm",
    "LeakyReLU",
    "Linear",
    "LogSoftmax",
    "MaxPool1d",
    "MaxPool2d",
    "PReLU",
    "ReLU",
    "ReLU6",
    "SiLU",
    "Sigmoid",
    "Softmax",
    "Softplus",
    "Tanh",
]


def _unit_affine(weight: Tensor | None, bias: Tensor | None) -> None:
    """A norm layer's affine map back to the identity, as torch: weight 1, bias 0 (either may
    be absent)."""
    if weight is not None:
        nn.init.ones_(weight)
    if bias is not None:
        nn.init.zeros_(bias)


def _fan_in_uniform(weight: Tensor, bias: Tensor | None, fan_in: int) -> None:
    """torch's default: kaiming_uniform(a=sqrt(5)) = U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    nn.init.kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
        nn.init.uniform_(bias, -bound, bound)


class Linear(nn.Module):
    """:math:`y = xW^T + b` (see :func:`mlcanon.nn.functional.linear`)."""

    def __init__(
        self, in_features: int, out_features: int, bias: bool = True, *, device=None, dtype=None
    ) -> None:
        super().__init__()
        # 0 is allowed, as torch: no inputs gives the bias alone, no outputs an empty result
        in_features = integer(in_features, "in_features", low=0)
        out_features = integer(out_features, "out_features", low=0)
        self.in_features, self.out_features = in_features, out_features
        fk = factory(device, dtype)
        self.weight = nn.Parameter(torch.empty(out_features, in_features, **fk))
        self.bias = nn.Parameter(torch.empty(out_features, **fk)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """torch's initialization again (see :func:`_fan_in_uniform`), same random draws."""
        _fan_in_uniform(self.weight, self.bias, self.weight.shape[1])

    def forward(self, input: Tensor) -> Tensor:
        return linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )


class NonDynamicallyQuantizableLinear(Linear):
    """``Linear`` under the name torch gives ``MultiheadAttention.out_proj`` (torch's marker
    that dynamic quantization must leave that layer alone); the same layer, so that a model
    prints as torch's."""


class _ConvNd(nn.Module):
    """Options, parameters and printout of the convolutions over ``_spatial`` (1 or 2) dims,
    with torch's attributes (sizes as tuples, ``transposed``, ``output_padding``)."""

    _spatial = 2

    def __init__(
        self,
        in_channels,
        out_channels,
        kernel_size,
        stride,
        padding,
        dilation,
        transposed,
        output_padding,
        groups,
        bias,
        padding_mode,
        device,
        dtype,
    ) -> None:
        super().__init__()
        n = self._spatial
        check_option(padding_mode, "padding_mode", PADDING_MODES)
        if transposed and padding_mode != "zeros":
            raise ValueError(
                f"{type(self).__name__} supports only padding_mode='zeros' (as torch), got "
                f"{padding_mode!r}"
            )
        self.padding_mode = padding_mode
        in_channels = integer(in_channels, "in_channels", low=1)
        out_channels = integer(out_channels, "out_channels", low=1)
        groups = integer(groups, "groups", low=1)
        if in_channels % groups or out_channels % groups:
            raise ValueError(
                f"in_channels={in_channels} and out_channels={out_channels} must both be "
                f"divisible by groups={groups}"
            )
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = ntuple(kernel_size, "kernel_size", n, low=1)
        self.stride = ntuple(stride, "stride", n, low=1)
        self.dilation = ntuple(dilation, "dilation", n, low=1)
        # a string (valid/same) only for a convolution, as torch
        self.padding = (
            ntuple(padding, "padding", n) if transposed else conv_padding(padding, self.stride)
        )
        self.transposed = transposed
        self.output_padding = ntuple(output_padding, "output_padding", n)
        self.groups = groups
        shape = (
            (in_channels, out_channels // groups)
            if transposed
            else (out_channels, in_channels // groups)
        )
        fk = factory(device, dtype)
        self.weight = nn.Parameter(torch.empty(*shape, *self.kernel_size, **fk))
        # registered when absent too, as torch's (no plain ``bias`` attribute)
        self.register_parameter(
            "bias", nn.Parameter(torch.empty(out_channels, **fk)) if bias else None
        )
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """torch's initialization again (see :func:`_fan_in_uniform`), same random draws."""
        _fan_in_uniform(self.weight, self.bias, math.prod(self.weight.shape[1:]))

    def extra_repr(self) -> str:
        # as torch prints it: the options that differ from their defaults
        zeros, ones = (0,) * self._spatial, (1,) * self._spatial
        shown = [
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}",
            f"stride={self.stride}",
            f"padding={self.padding}" if self.padding != zeros else "",
            f"dilation={self.dilation}" if self.dilation != ones else "",
            f"output_padding={self.output_padding}" if self.output_padding != zeros else "",
            f"groups={self.groups}" if self.groups != 1 else "",
            "bias=False" if self.bias is None else "",
            f"padding_mode={self.padding_mode}" if self.padding_mode != "zeros" else "",
        ]
        return ", ".join(part for part in shown if part)


class _Conv(_ConvNd):
    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: Any,
        stride: Any = 1,
        padding: Any = 0,
        dilation: Any = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        *,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            False,
            0,
            groups,
            bias,
            padding_mode,
            device,
            dtype,
        )

    def forward(self, input: Tensor) -> Tensor:
        n, weights = self._spatial, (self.weight, self.bias)
        if self.padding_mode == "zeros":
            return conv_nd(
                input, *weights, self.stride, self.padding, self.dilation, self.groups, spatial=n
            )
        # torch: pad with the mode (for 'same' the extra row/column at the bottom/right), then
        # an unpadded convolution; also with no padding ('valid', 0), whose padded copy has
        # torch's layout
        x = check_input(input, f"conv{n}d", n)
        x = pad_mode(x, conv_pads(self.padding, self.kernel_size, self.dilation), self.padding_mode)
        return conv_nd(x, *weights, self.stride, 0, self.dilation, self.groups, spatial=n)


class Conv1d(_Conv):
    """1-D convolution (see :func:`mlcanon.nn.functional.conv1d`)."""

    _spatial = 1


class Conv2d(_Conv):
    """2-D convolution (see :func:`mlcanon.nn.functional.conv2d`)."""


class _ConvTranspose(_ConvNd):
    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: Any,
        stride: Any = 1,
        padding: Any = 0,
        output_padding: Any = 0,
        groups: int = 1,
        bias: bool = True,
        dilation: Any = 1,
        padding_mode: str = "zeros",
        *,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            True,
            output_padding,
            groups,
            bias,
            padding_mode,
            device,
            dtype,
        )

    def forward(self, input: Tensor, output_size: Sequence[int] | None = None) -> Tensor:
        """``output_size`` (L) or (H, W), or with the leading (N, C) or (C,) dims, picks the
        output padding: a stride above 1 maps several output sizes to one input size."""
        output_padding = (
            self.output_padding if output_size is None else self._output_padding(input, output_size)
        )
        return conv_transpose_nd(
            input,
            self.weight,
            self.bias,
            self.stride,
            self.padding,
            output_padding,
            self.groups,
            self.dilation,
            spatial=self._spatial,
        )

    def _output_padding(self, input: Tensor, output_size: Sequence[int]) -> tuple[int, ...]:
        """torch's rule: each size must lie in [smallest, smallest + stride - 1], the smallest
        being the output size with no output padding."""
        n = self._spatial
        if not isinstance(input, Tensor) or input.dim() not in (n + 1, n + 2):
            return self.output_padding  # the functional op reports the bad input
        try:
            sizes = tuple(output_size)
        except TypeError:  # an int or None: refused below
            sizes = ()
        if len(sizes) == input.dim():
            sizes = sizes[-n:]  # the (N, C) or (C,) dims are ignored, as torch
        if len(sizes) != n or not all(
            isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in sizes
        ):
            raise ValueError(
                f"output_size must hold {'1 int (L)' if n == 1 else '2 ints (H, W)'}, or "
                f"{input.dim()} for a {input.dim()}-D input; got {output_size!r}"
            )
        spatial = tuple(input.shape[-n:])
        geometry = (self.kernel_size, self.stride, self.padding, 0, self.dilation)
        low = conv_transpose_output_size(spatial, *geometry)
        high = tuple(lo + s - 1 for lo, s in zip(low, self.stride, strict=True))
        if any(not lo <= v <= hi for v, lo, hi in zip(sizes, low, high, strict=True)):
            raise ValueError(
                f"output_size={tuple(sizes)} cannot be reached: valid sizes range from {low} to "
                f"{high} for an input of spatial size {spatial}"
            )
        return tuple(int(v) - lo for v, lo in zip(sizes, low, strict=True))


class ConvTranspose1d(_ConvTranspose):
    """Transposed 1-D convolution (see :func:`mlcanon.nn.functional.conv_transpose1d`)."""

    _spatial = 1


class ConvTranspose2d(_ConvTranspose):
    """Transposed 2-D convolution (see :func:`mlcanon.nn.functional.conv_transpose2d`)."""


class _MaxPoolNd(nn.Module):
    def __init__(
        self,
        kernel_size: Any,
        stride: Any = None,
        padding: Any = 0,
        dilation: Any = 1,
        return_indices: bool = False,
        ceil_mode: bool = False,
    ) -> None:
        super().__init__()
        # as torch: the sizes as given, no stride meaning the kernel's
        self.kernel_size, self.padding = kernel_size, padding
        self.stride = kernel_size if stride is None else stride
        self.dilation, self.return_indices, self.ceil_mode = dilation, return_indices, ceil_mode

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )

    def forward(self, input: Tensor) -> Any:
        return self._pool(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.dilation,
            self.ceil_mode,
            self.return_indices,
        )


class MaxPool1d(_MaxPoolNd):
    """1-D max pooling (see :func:`mlcanon.nn.functional.max_pool1d`)."""

    _pool = staticmethod(max_pool1d)


class MaxPool2d(_MaxPoolNd):
    """2-D max pooling (see :func:`mlcanon.nn.functional.max_pool2d`)."""

    _pool = staticmethod(max_pool2d)


class _AvgPoolNd(nn.Module):
    def __init__(self, kernel_size, stride, padding, ceil_mode, count_include_pad) -> None:
        super().__init__()
        self.kernel_size, self.padding = kernel_size, padding
        self.stride = kernel_size if stride is None else stride
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"

    def forward(self, input: Tensor) -> Tensor:
        # AvgPool2d's divisor_override, which AvgPool1d does not take (as torch's)
        extra = (self.divisor_override,) if hasattr(self, "divisor_override") else ()
        geometry = (self.kernel_size, self.stride, self.padding)
        return self._pool(input, *geometry, self.ceil_mode, self.count_include_pad, *extra)


def _single(value: Any) -> tuple:
    """torch's ``_single``: a sequence as a tuple, anything else in a 1-tuple (checked later,
    by the op)."""
    return tuple(value) if isinstance(value, Iterable) else (value,)


class AvgPool1d(_AvgPoolNd):
    """1-D average pooling (see :func:`mlcanon.nn.functional.avg_pool1d`)."""

    _pool = staticmethod(avg_pool1d)

    def __init__(
        self,
        kernel_size: Any,
        stride: Any = None,
        padding: Any = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
    ) -> None:
        # as torch: the sizes as 1-tuples
        stride = _single(kernel_size if stride is None else stride)
        sizes = (_single(kernel_size), stride, _single(padding))
        super().__init__(*sizes, ceil_mode, count_include_pad)


class AvgPool2d(_AvgPoolNd):
    """2-D average pooling (see :func:`mlcanon.nn.functional.avg_pool2d`)."""

    _pool = staticmethod(avg_pool2d)

    def __init__(
        self,
        kernel_size: Any,
        stride: Any = None,
        padding: Any = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
        divisor_override: int | None = None,
    ) -> None:
        super().__init__(kernel_size, stride, padding, ceil_mode, count_include_pad)
        self.divisor_override = divisor_override


class _AdaptiveAvgPoolNd(nn.Module):
    def __init__(self, output_size: Any) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, input: Tensor) -> Tensor:
        return self._pool(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(_AdaptiveAvgPoolNd):
    """Adaptive average pooling of a signal to a fixed length."""

    _pool = staticmethod(adaptive_avg_pool1d)


class AdaptiveAvgPool2d(_AdaptiveAvgPoolNd):
    """Adaptive average pooling to a fixed output size."""

    _pool = staticmethod(adaptive_avg_pool2d)


class _BatchNorm(nn.Module):
    _ndims: tuple[int, ...] = ()
    _version = 2  # torch's state-dict version: 2 added num_batches_tracked

    def _load_from_state_dict(
        self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, errors
    ):
        # a checkpoint from before version 2 has no num_batches_tracked: as torch, the layer's
        # own count is kept (0 where it has none yet)
        version = local_metadata.get("version", None)
        key = prefix + "num_batches_tracked"
        if (version is None or version < 2) and self.track_running_stats:
            if key not in state_dict:
                own = self.num_batches_tracked
                usable = own is not None and own.device != torch.device("meta")
                state_dict[key] = own if usable else torch.tensor(0, dtype=torch.long)
        super()._load_from_state_dict(
            state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, errors
        )

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        device=None,
        dtype=None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__()
        num_features = integer(num_features, "num_features", low=1)
        if momentum is not None:
            probability(momentum, "momentum")
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        fk = factory(device, dtype)
        self.weight = nn.Parameter(torch.ones(num_features, **fk)) if affine else None
        self.bias = nn.Parameter(torch.zeros(num_features, **fk)) if affine and bias else None
        if track_running_stats:
            self.register_buffer("running_mean", torch.zeros(num_features, **fk))
            self.register_buffer("running_var", torch.ones(num_features, **fk))
            self.register_buffer(
                "num_batches_tracked", torch.tensor(0, dtype=torch.long, device=device)
            )
        else:
            self.running_mean = self.running_var = self.num_batches_tracked = None

    def reset_running_stats(self) -> None:
        """Running mean 0, running variance 1, no batches seen (as torch)."""
        if self.track_running_stats:
            self.running_mean.zero_()
            self.running_var.fill_(1)
            self.num_batches_tracked.zero_()

    def reset_parameters(self) -> None:
        """The running statistics reset, and weight 1, bias 0 (as torch)."""
        self.reset_running_stats()
        _unit_affine(self.weight, self.bias)

    def _check_input(self, input: Tensor, channel_dim: int = 1) -> None:
        name = type(self).__name__
        if input.dim() not in self._ndims:
            raise ValueError(
                f"{name} expects {' or '.join(map(str, self._ndims))}-D input, "
                f"got shape {tuple(input.shape)}"
            )
        channels = input.shape[channel_dim]
        # as torch: the channel count matters only where a per-channel tensor must fit it
        if channels != self.num_features and (self.affine or self.track_running_stats):
            raise ValueError(
                f"{name} was built with num_features={self.num_features} but the input has "
                f"{channels} channels (dim {channel_dim} of shape {tuple(input.shape)})"
            )

    def forward(self, input: Tensor) -> Tensor:
        self._check_input(input)
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            self.num_batches_tracked.add_(1)
            if self.momentum is None:  # cumulative average of all batches seen
                momentum = 1.0 / float(self.num_batches_tracked)
        # as torch, the buffers decide, not the flag (which may be switched after __init__):
        # with running statistics, eval mode uses them; training updates them only while the
        # flag is on
        use_batch = self.training or (self.running_mean is None and self.running_var is None)
        update = not self.training or self.track_running_stats
        return batch_norm(
            input,
            self.running_mean if update else None,
            self.running_var if update else None,
            self.weight,
            self.bias,
            use_batch,
            momentum,
            self.eps,
        )

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
            f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}"
        )


class BatchNorm1d(_BatchNorm):
    """Batch norm over (N, C) or (N, C, L) inputs."""

    _ndims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch norm over (N, C, H, W) inputs."""

    _ndims = (4,)


class InstanceNorm2d(_BatchNorm):
    """Instance norm over (N, C, H, W) or unbatched (C, H, W) inputs; no affine and no running
    stats by default."""

    _ndims = (3, 4)

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = False,
        track_running_stats: bool = False,
        device=None,
        dtype=None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__(
            num_features,
            eps,
            momentum,
            affine,
            track_running_stats,
            device=device,
            dtype=dtype,
            bias=bias,
        )

    def forward(self, input: Tensor) -> Tensor:
        unbatched = input.dim() == 3  # (C, H, W), as torch: one sample
        self._check_input(input, 0 if unbatched else 1)
        use_input_stats = self.training or not self.track_running_stats
        y = instance_norm(
            input.unsqueeze(0) if unbatched else input,
            self.running_mean,
            self.running_var,
            self.weight,
            self.bias,
            use_input_stats,
            0.0 if self.momentum is None else self.momentum,  # torch: None freezes the stats
            self.eps,
        )
        return y.squeeze(0) if unbatched else y


class GroupNorm(nn.Module):
    """Group norm (see :func:`mlcanon.nn.functional.group_norm`)."""

    def __init__(
        self,
        num_groups: int,
        num_channels: int,
        eps: float = 1e-5,
        affine: bool = True,
        device=None,
        dtype=None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__()
        num_groups = integer(num_groups, "num_groups", low=1)
        if num_channels % num_groups:
            raise ValueError(
                f"num_channels={num_channels} must be divisible by num_groups={num_groups}"
            )
        self.num_groups, self.num_channels, self.eps, self.affine = (
            num_groups,
            num_channels,
            eps,
            affine,
        )
        fk = factory(device, dtype)
        self.weight = nn.Parameter(torch.ones(num_channels, **fk)) if affine else None
        self.bias = nn.Parameter(torch.zeros(num_channels, **fk)) if affine and bias else None

    def reset_parameters(self) -> None:
        """Weight 1, bias 0 (as torch)."""
        _unit_affine(self.weight, self.bias)

    def forward(self, input: Tensor) -> Tensor:
        return group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
            f"bias={self.bias is not None}"
        )


class LayerNorm(nn.Module):
    """Layer norm over the trailing ``normalized_shape`` dims; with ``elementwise_affine`` a
    learned weight and (if ``bias``) a learned bias of that shape."""

    def __init__(
        self,
        normalized_shape: int | Sequence[int],
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        *,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__()
        shape = (
            (normalized_shape,)
            if isinstance(normalized_shape, numbers.Integral)
            else tuple(normalized_shape)
        )
        shape = tuple(integer(size, "normalized_shape", low=0) for size in shape)
        self.normalized_shape, self.eps = shape, eps
        self.elementwise_affine = elementwise_affine
        fk = factory(device, dtype)
        self.weight = nn.Parameter(torch.ones(shape, **fk)) if elementwise_affine else None
        self.bias = nn.Parameter(torch.zeros(shape, **fk)) if elementwise_affine and bias else None

    def reset_parameters(self) -> None:
        """Weight 1, bias 0 (as torch)."""
        _unit_affine(self.weight, self.bias)

    def forward(self, input: Tensor) -> Tensor:
        return layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, "
            f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}"
        )


class Dropout(nn.Module):
    """Inverted dropout, active only in training mode; ``inplace=True`` writes the result into
    the input and returns it, as torch's."""

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        self.p, self.inplace = probability(p, "p"), inplace

    def forward(self, input: Tensor) -> Tensor:
        return dropout(input, self.p, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class PReLU(nn.Module):
    """PReLU with ``num_parameters`` learned slopes (1, or one per channel), initialized to
    ``init``."""

    def __init__(
        self, num_parameters: int = 1, init: float = 0.25, *, device=None, dtype=None
    ) -> None:
        super().__init__()
        num_parameters = integer(num_parameters, "num_parameters", low=1)
        self.num_parameters, self.init = num_parameters, init
        self.weight = nn.Parameter(
            torch.full((num_parameters,), float(init), **factory(device, dtype))
        )

    def reset_parameters(self) -> None:
        """Every slope back to ``init`` (as torch)."""
        nn.init.constant_(self.weight, self.init)

    def forward(self, input: Tensor) -> Tensor:
        return A.prelu(input, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


def _simple(
    name: str, fn, doc: str, *, inplace: str | None = None, **defaults: Any
) -> type[nn.Module]:
    """A parameter-free module class calling ``fn(input, **options)``.

    ``inplace`` ('shown' or 'hidden', as torch's repr shows it or not): the class also takes
    torch's last argument ``inplace``, kept as an attribute and passed on to ``fn``, which then
    writes the result into the input and returns it, as torch's.
    """
    accepted = {**defaults, "inplace": False} if inplace else defaults

    def __init__(self, *args: Any, **options: Any) -> None:
        nn.Module.__init__(self)
        if len(args) > len(accepted):
            raise TypeError(f"{name} takes at most {len(accepted)} arguments, got {len(args)}")
        options.update(zip(accepted, args, strict=False))  # positional options in torch's order
        unknown = set(options) - set(accepted)
        if unknown:
            raise TypeError(f"{name} got unexpected arguments {sorted(unknown)}")
        # attributes, as torch's (m.dim, m.negative_slope, ...): read, and set, like theirs
        for key, value in {**accepted, **options}.items():
            setattr(self, key, value)

    def forward(self, input: Tensor) -> Tensor:
        return fn(input, **{key: getattr(self, key) for key in accepted})

    def extra_repr(self) -> str:
        shown = [f"{key}={getattr(self, key)!r}" for key in defaults]
        if inplace == "shown" and self.inplace:
            shown.append("inplace=True")
        return ", ".join(shown)

    body = {"__init__": __init__, "forward": forward, "extra_repr": extra_repr, "__doc__": doc}
    return type(name, (nn.Module,), body)


Sigmoid = _simple("Sigmoid", A.sigmoid, "Logistic sigmoid.")
Tanh = _simple("Tanh", A.tanh, "Hyperbolic tangent.")
ReLU = _simple("ReLU", A.relu, "max(x, 0).", inplace="shown")
ReLU6 = _simple("ReLU6", A.relu6, "min(max(x, 0), 6).", inplace="shown")
LeakyReLU = _simple("LeakyReLU", A.leaky_relu, "Leaky ReLU.", inplace="shown", negative_slope=0.01)
ELU = _simple("ELU", A.elu, "Exponential linear unit.", inplace="shown", alpha=1.0)
GELU = _simple("GELU", A.gelu, "Gaussian error linear unit.", approximate="none")
Hardsigmoid = _simple("Hardsigmoid", A.hardsigmoid, "Piecewise-linear sigmoid.", inplace="hidden")
Hardswish = _simple("Hardswish", A.hardswish, "h-swish.", inplace="hidden")
SiLU = _simple("SiLU", A.silu, "x sigmoid(x) (swish).", inplace="shown")
Softplus = _simple("Softplus", A.softplus, "log(1 + exp(beta x)) / beta.", beta=1.0, threshold=20.0)
# dim=None is torch's default too: its deprecated implicit choice (0 for 0/1/3-D input, else 1)
Softmax = _simple("Softmax", softmax, "Softmax along ``dim``.", dim=None)
LogSoftmax = _simple("LogSoftmax", log_softmax, "Log-softmax along ``dim``.", dim=None)
