"""MobileNetV1: a stack of depthwise separable convolutions (Howard et al. 2017)."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ._blocks import ConvBNAct, DepthwiseSeparableConv, init_weights

__all__ = ["MobileNetV1", "mobilenet_v1"]

# (out_channels, stride) of the 13 depthwise separable layers, Table 1 of the paper (fmt: skip
# keeps a row per resolution)
_LAYERS = [
    (64, 1),
    (128, 2),
    (128, 1),
    (256, 2),
    (256, 1),
    (512, 2),
    (512, 1),
    (512, 1),
    (512, 1),
    (512, 1),
    (512, 1),
    (1024, 2),
    (1024, 1),
]


class MobileNetV1(nn.Module):
    r"""MobileNetV1 with width multiplier :math:`\alpha` and resolution multiplier :math:`\rho`.

    Parameters
    ----------
    num_classes : int
        Size of the final fully connected layer.
    width_mult : float
        :math:`\alpha \in (0, 1]`: every layer has :math:`\lfloor \alpha N \rfloor` channels
        (at least 8), which scales parameters and multiply-adds by about :math:`\alpha^2`.
    resolution_mult : float
        :math:`\rho`: the intended input side is ``round(224 * rho)``, stored as
        ``input_resolution``; the network itself accepts any size (global average pooling), and
        its multiply-adds scale by about :math:`\rho^2`.
    dropout : float
        Dropout before the classifier.

    Notes
    -----
    Layout (Table 1): a standard 3x3 convolution with 32 filters and stride 2, 13 depthwise
    separable layers, global average pooling and a fully connected layer. Convolutions carry
    no bias (batch norm follows each one).

    References
    ----------
    A. G. Howard et al., "MobileNets: Efficient Convolutional Neural Networks for Mobile
    Vision Applications", arXiv:1704.04861, 2017, Table 1, Sections 3.3 and 3.4.
    """

    def __init__(
        self,
        num_classes: int = 1000,
        width_mult: float = 1.0,
        resolution_mult: float = 1.0,
        dropout: float = 0.0,
    ):
        super().__init__()
        if not 0 < width_mult <= 4:
            raise ValueError(f"width_mult must be in (0, 4], got {width_mult!r}")
        if not 0 < resolution_mult <= 4:
            raise ValueError(f"resolution_mult must be in (0, 4], got {resolution_mult!r}")
        self.input_resolution = round(224 * resolution_mult)

        def width(c: int) -> int:
            return max(int(c * width_mult), 8)

        layers: list[nn.Module] = [ConvBNAct(3, width(32), 3, stride=2)]
        in_channels = width(32)
        for out_channels, stride in _LAYERS:
            layers.append(DepthwiseSeparableConv(in_channels, width(out_channels), stride))
            in_channels = width(out_channels)
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Dropout(dropout), nn.Linear(in_channels, num_classes))
        init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.avgpool(self.features(x))  # (N, C, 1, 1)
        return self.classifier(torch.flatten(x, 1))


def mobilenet_v1(**kwargs: Any) -> MobileNetV1:
    """MobileNetV1 (1.0-224 by default); keyword arguments go to :class:`MobileNetV1`."""
    return MobileNetV1(**kwargs)
