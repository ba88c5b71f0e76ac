"""Output shape of every layer of a model, with sliding-window layers sized by the formulas."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from ._conv_arithmetic import conv_output_size, conv_transpose_output_size, pool_output_size
from ._graph import ShapeRecorder, check_input_shape, node_label, run_shapes, trace

__all__ = ["output_shapes"]


def _spatial_out(
    m: nn.Module, spatial: tuple[int, ...], args: tuple, kwargs: dict
) -> tuple[int, ...] | None:
    """Output spatial size of a window layer by this package's formulas; None for others."""
    if isinstance(m, nn.modules.conv._ConvTransposeNd):
        # forward(input, output_size=None): given by keyword or as the second argument
        output_size = kwargs.get("output_size", args[1] if len(args) > 1 else None)
        if output_size is not None:
            return tuple(int(v) for v in output_size)[-len(spatial) :]
        return conv_transpose_output_size(
            spatial, m.kernel_size, m.stride, m.padding, m.output_padding, m.dilation
        )
    if isinstance(m, nn.modules.conv._ConvNd):
        return conv_output_size(spatial, m.kernel_size, m.stride, m.padding, m.dilation)
    if isinstance(m, nn.modules.pooling._MaxPoolNd):
        return pool_output_size(
            spatial, m.kernel_size, m.stride, m.padding, m.dilation, m.ceil_mode
        )
    if isinstance(m, nn.modules.pooling._AvgPoolNd) and hasattr(m, "kernel_size"):
        return pool_output_size(spatial, m.kernel_size, m.stride, m.padding, 1, m.ceil_mode)
    if isinstance(m, nn.modules.pooling._AdaptiveAvgPoolNd | nn.modules.pooling._AdaptiveMaxPoolNd):
        size = m.output_size
        size = (size,) * len(spatial) if isinstance(size, int) else tuple(size)
        return tuple(s if o is None else o for s, o in zip(spatial, size, strict=True))
    pads = (
        nn.modules.padding._ConstantPadNd,
        nn.modules.padding._ReflectionPadNd,
        nn.modules.padding._ReplicationPadNd,
    )
    if isinstance(m, pads):
        p = m.padding  # (left, right) per axis, last axis first
        n = len(spatial)
        return tuple(spatial[a] + p[2 * (n - 1 - a)] + p[2 * (n - 1 - a) + 1] for a in range(n))
    return None


def _fits(m: nn.Module, x: torch.Tensor) -> bool:
    """Whether ``x`` is the input the formulas assume: batched ``(N, C, *spatial)`` with the
    layer's number of spatial axes (the digit of ``Conv2d``, ``MaxPool3d``, ...) and, for a
    convolution, its ``in_channels``. Anything else is left to torch, which refuses it (or reads
    it as unbatched)."""
    name = type(m).__name__
    axes = int(name[-2]) if name.endswith("d") and name[-2].isdigit() else -1
    return x.dim() == axes + 2 and getattr(m, "in_channels", x.shape[1]) == x.shape[1]


class _FormulaRecorder(ShapeRecorder):
    """Replaces the output of every window layer by an empty tensor of the predicted shape."""

    def call_module(self, target: Any, args: tuple, kwargs: dict) -> Any:
        m = self.fetch_attr(target)
        x = args[0] if args else None
        if isinstance(x, torch.Tensor) and x.dim() >= 3 and _fits(m, x):
            spatial = _spatial_out(m, tuple(x.shape[2:]), args, kwargs)
            if spatial is not None:
                # torch's kernel runs too (on meta tensors: shapes only), for the inputs it
                # refuses that the formulas size: a reflection or circular padding wider than
                # the input (padding layers, or padding_mode of a convolution), AvgPool3d's
                # kernel larger than the unpadded input, a cropping ConstantPad
                super().call_module(target, args, kwargs)
                out_channels = getattr(m, "out_channels", x.shape[1])
                shape = (x.shape[0], out_channels, *spatial)
                out = torch.empty(shape, device=x.device, dtype=x.dtype)
                if getattr(m, "return_indices", False):  # (values, indices), as max pooling
                    return out, torch.zeros(shape, device=x.device, dtype=torch.int64)
                return out
        return super().call_module(target, args, kwargs)


def output_shapes(model: nn.Module, input_shape: Sequence[int]) -> dict[str, tuple[int, ...]]:
    """Output shape ``(C, *spatial)`` of every node of ``model``, walking its graph.

    Convolutions, transposed convolutions, pooling, adaptive pooling and padding layers are
    sized by :func:`conv_output_size`, :func:`conv_transpose_output_size` and
    :func:`pool_output_size` (their torch ``forward`` runs only for its checks of the input,
    so that the walk refuses what a run refuses); every other node is evaluated by torch on
    ``meta`` tensors, which carry shapes but no data.

    Parameters
    ----------
    model : torch.nn.Module
        A module ``torch.fx`` can trace, taking one tensor ``(N, *input_shape)``.
    input_shape : sequence of int
        ``(C, *spatial)`` without the batch axis.

    Returns
    -------
    dict of str to tuple of int
        Module name (or node name) -> output shape without the batch axis, in graph order.
        A module called twice keeps the shape of its last call.

    References
    ----------
    V. Dumoulin and F. Visin, "A guide to convolution arithmetic for deep learning",
    arXiv:1603.07285, 2016.
    """
    gm = trace(model)
    shapes = run_shapes(gm, check_input_shape(input_shape), recorder_cls=_FormulaRecorder)
    return {
        node_label(n): s[1:]
        for n, s in shapes.items()
        if s is not None and n.op not in ("placeholder", "get_attr", "output")
    }
