"""GhostNet: feature maps from cheap depthwise operations on a few primary ones
(Han et al. 2020)."""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from ._blocks import ConvBNAct, SqueezeExcitation, init_weights, make_divisible

__all__ = ["GhostBottleneck", "GhostModule", "GhostNet", "ghostnet"]

# kernel of the depthwise conv, expanded (hidden) channels, output channels, SE, stride
_STAGES = [  # Table 1 of the paper
    [(3, 16, 16, False, 1)],
    [(3, 48, 24, False, 2)],
    [(3, 72, 24, False, 1)],
    [(5, 72, 40, True, 2)],
    [(5, 120, 40, True, 1)],
    [(3, 240, 80, False, 2)],
    [
        (3, 200, 80, False, 1),
        (3, 184, 80, False, 1),
        (3, 184, 80, False, 1),
        (3, 480, 112, True, 1),
        (3, 672, 112, True, 1),
    ],
    [(5, 672, 160, True, 2)],
    [
        (5, 960, 160, False, 1),
        (5, 960, 160, True, 1),
        (5, 960, 160, False, 1),
        (5, 960, 160, True, 1),
    ],
]


class GhostModule(nn.Module):
    r"""Ghost module: m = ceil(n / s) intrinsic maps by an ordinary convolution, the other
    (s - 1) m "ghost" maps by a cheap d x d depthwise convolution of the intrinsic ones.

    Parameters
    ----------
    in_channels, out_channels : int
        c and n of the paper.
    kernel_size : int
        k of the primary convolution (1 in GhostNet).
    ratio : int
        s: output maps per intrinsic map.
    dw_size : int
        d: kernel of the cheap depthwise operation.
    stride : int
        Stride of the primary convolution.
    relu : bool
        Follow both convolutions by ReLU.

    Notes
    -----
    Replacing a k x k convolution by a ghost module divides its multiply-adds by about s
    (eq. 4):

    .. math:: r_s = \frac{n h' w' c k^2}{\frac{n}{s} h' w' c k^2 + (s - 1)\frac{n}{s} h' w' d^2}
        \approx s .

    References
    ----------
    K. Han et al., "GhostNet: More Features from Cheap Operations", CVPR 2020, Section 3.1,
    Figure 2(b), eqs. (3)-(5).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 1,
        ratio: int = 2,
        dw_size: int = 3,
        stride: int = 1,
        relu: bool = True,
    ):
        super().__init__()
        if ratio < 2:
            raise ValueError(f"ratio must be >= 2, got {ratio!r}")
        self.out_channels = out_channels
        primary = math.ceil(out_channels / ratio)
        act = nn.ReLU if relu else None
        self.primary_conv = ConvBNAct(in_channels, primary, kernel_size, stride, activation=act)
        self.cheap_operation = ConvBNAct(
            primary, primary * (ratio - 1), dw_size, 1, groups=primary, activation=act
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x1 = self.primary_conv(x)
        x2 = self.cheap_operation(x1)
        return torch.cat([x1, x2], dim=1)[:, : self.out_channels]  # (N, n, H, W)


class GhostBottleneck(nn.Module):
    """Ghost bottleneck: ghost module (expand, ReLU) -> [depthwise stride-2 conv] -> [SE] ->
    ghost module (project, linear), plus a shortcut (identity, or depthwise + pointwise
    convolutions when the shape changes).

    References
    ----------
    K. Han et al., "GhostNet: More Features from Cheap Operations", CVPR 2020, Section 3.2,
    Figure 3.
    """

    def __init__(
        self,
        in_channels: int,
        mid_channels: int,
        out_channels: int,
        dw_kernel_size: int = 3,
        stride: int = 1,
        se_ratio: float = 0.0,
    ):
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f"stride must be 1 or 2, got {stride!r}")
        self.ghost1 = GhostModule(in_channels, mid_channels, relu=True)
        self.conv_dw = (
            ConvBNAct(
                mid_channels,
                mid_channels,
                dw_kernel_size,
                stride,
                groups=mid_channels,
                activation=None,
            )
            if stride > 1
            else nn.Identity()
        )
        self.se = (
            SqueezeExcitation(mid_channels, make_divisible(mid_channels * se_ratio, 4))
            if se_ratio > 0
            else nn.Identity()
        )
        self.ghost2 = GhostModule(mid_channels, out_channels, relu=False)
        if in_channels == out_channels and stride == 1:
            self.shortcut: nn.Module = nn.Identity()
        else:
            self.shortcut = nn.Sequential(
                ConvBNAct(
                    in_channels,
                    in_channels,
                    dw_kernel_size,
                    stride,
                    groups=in_channels,
                    activation=None,
                ),
                ConvBNAct(in_channels, out_channels, 1, activation=None),
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.ghost2(self.se(self.conv_dw(self.ghost1(x))))
        return y + self.shortcut(x)


class GhostNet(nn.Module):
    """GhostNet (Table 1) with a width multiplier.

    Parameters
    ----------
    num_classes : int
        Size of the classifier.
    width_mult : float
        Multiplies every width (rounded to a multiple of 4, as in the reference code).
    dropout : float
        Dropout before the classifier.

    Notes
    -----
    Stem 3x3/2 convolution with 16 filters; 16 ghost bottlenecks (SE ratio 0.25 with a
    hard-sigmoid gate where marked); 1x1 convolution to 960; global pooling; 1x1 convolution
    to 1280 (with bias, ReLU, no batch norm); fully connected classifier.

    References
    ----------
    K. Han, Y. Wang, Q. Tian, J. Guo, C. Xu and C. Xu, "GhostNet: More Features from Cheap
    Operations", CVPR 2020, Table 1.
    """

    def __init__(self, num_classes: int = 1000, width_mult: float = 1.0, dropout: float = 0.2):
        super().__init__()
        if width_mult <= 0:
            raise ValueError(f"width_mult must be > 0, got {width_mult!r}")
        in_channels = make_divisible(16 * width_mult, 4)
        layers: list[nn.Module] = [ConvBNAct(3, in_channels, 3, 2)]
        for stage in _STAGES:
            for k, exp, out, se, s in stage:
                out_channels = make_divisible(out * width_mult, 4)
                mid = make_divisible(exp * width_mult, 4)
                layers.append(GhostBottleneck(in_channels, mid, out_channels, k, s, 0.25 * se))
                in_channels = out_channels
        head = make_divisible(960 * width_mult, 4)
        layers.append(ConvBNAct(in_channels, head, 1))
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.conv_head = nn.Conv2d(head, 1280, 1)
        self.act = nn.ReLU()
        self.classifier = nn.Sequential(nn.Dropout(dropout), nn.Linear(1280, num_classes))
        init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.act(self.conv_head(self.avgpool(self.features(x))))  # (N, 1280, 1, 1)
        return self.classifier(torch.flatten(x, 1))


def ghostnet(**kwargs: Any) -> GhostNet:
    """GhostNet 1.0x; keyword arguments go to :class:`GhostNet`."""
    return GhostNet(**kwargs)
