"""MobileNetV2: inverted residuals with linear bottlenecks (Sandler et al. 2018)."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ._blocks import ConvBNAct, InvertedResidual, init_weights, make_divisible

__all__ = ["MobileNetV2", "mobilenet_v2"]

# t: expansion factor, c: output channels, n: repeats, s: stride of the first repeat (Table 2)
_SETTINGS = [
    # t, c, n, s
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
]


class MobileNetV2(nn.Module):
    """MobileNetV2 with a width multiplier, laid out as torchvision's ``mobilenet_v2``.

    Parameters
    ----------
    num_classes : int
        Size of the classifier.
    width_mult : float
        Multiplies every width (rounded to a multiple of ``round_nearest``); the last
        1280-channel layer is never made thinner (Section 6.1).
    dropout : float
        Dropout before the classifier (0.2 as in torchvision).
    round_nearest : int
        Channel counts are multiples of this.

    References
    ----------
    M. Sandler, A. Howard, M. Zhu, A. Zhmoginov and L.-C. Chen, "MobileNetV2: Inverted
    Residuals and Linear Bottlenecks", CVPR 2018, Tables 1 and 2.
    """

    def __init__(
        self,
        num_classes: int = 1000,
        width_mult: float = 1.0,
        dropout: float = 0.2,
        round_nearest: int = 8,
    ):
        super().__init__()
        if width_mult <= 0:
            raise ValueError(f"width_mult must be > 0, got {width_mult!r}")
        in_channels = make_divisible(32 * width_mult, round_nearest)
        self.last_channel = make_divisible(1280 * max(1.0, width_mult), round_nearest)
        layers: list[nn.Module] = [ConvBNAct(3, in_channels, 3, 2, activation=nn.ReLU6)]
        for t, c, n, s in _SETTINGS:
            out_channels = make_divisible(c * width_mult, round_nearest)
            for i in range(n):
                expanded = round(in_channels * t)
                stride = s if i == 0 else 1
                layers.append(
                    InvertedResidual(in_channels, expanded, out_channels, 3, stride, nn.ReLU6)
                )
                in_channels = out_channels
        layers.append(ConvBNAct(in_channels, self.last_channel, 1, activation=nn.ReLU6))
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(
            nn.Dropout(dropout), nn.Linear(self.last_channel, num_classes)
        )
        init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.avgpool(self.features(x))  # (N, 1280, 1, 1)
        return self.classifier(torch.flatten(x, 1))


def mobilenet_v2(**kwargs: Any) -> MobileNetV2:
    """MobileNetV2 1.0 (3,504,872 parameters); keyword arguments go to :class:`MobileNetV2`."""
    return MobileNetV2(**kwargs)
