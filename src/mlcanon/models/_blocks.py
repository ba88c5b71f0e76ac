"""Building blocks of the efficient networks: conv-BN-activation, depthwise separable
convolution, inverted residual with linear bottleneck, squeeze-and-excitation, h-swish."""

from __future__ import annotations

import numbers
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from mlcanon._validation import check_scalar

__all__ = [
    "ConvBNAct",
    "DepthwiseSeparableConv",
    "HSigmoid",
    "HSwish",
    "InvertedResidual",
    "SqueezeExcitation",
    "init_weights",
    "make_divisible",
]

Activation = Callable[[], nn.Module] | None
NormLayer = Callable[[int], nn.Module]


def make_divisible(value: float, divisor: int = 8, min_value: int | None = None) -> int:
    """Round a channel count to the nearest multiple of ``divisor``, never 10% below ``value``.

    The rule of the MobileNet reference code (TF-slim ``_make_divisible``): channel counts that
    are multiples of 8 map well onto vector units.
    """
    check_scalar(divisor, "divisor", kind=numbers.Integral, low=1)
    check_scalar(value, "value", low=0.0)
    min_value = divisor if min_value is None else min_value
    rounded = max(min_value, int(value + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * value:  # rounding down must not lose more than 10%
        rounded += divisor
    return rounded


class HSigmoid(nn.Module):
    r"""Hard sigmoid :math:`\mathrm{ReLU6}(x + 3) / 6` (Howard et al. 2019, eq. 2)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu6(x + 3.0) / 6.0


class HSwish(nn.Module):
    r"""Hard swish :math:`x\,\mathrm{ReLU6}(x + 3) / 6`, a piecewise-polynomial swish.

    References
    ----------
    A. Howard et al., "Searching for MobileNetV3", ICCV 2019, Section 5.2, eq. (2).
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * F.relu6(x + 3.0) / 6.0


class ConvBNAct(nn.Sequential):
    """Convolution (no bias: batch norm's shift replaces it), batch norm, optional activation.

    Padding ``dilation * (kernel_size - 1) // 2`` keeps the size at stride 1 ("same").
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        stride: int = 1,
        groups: int = 1,
        activation: Activation = nn.ReLU,
        norm_layer: NormLayer = nn.BatchNorm2d,
        dilation: int = 1,
    ):
        padding = dilation * (kernel_size - 1) // 2
        layers: list[nn.Module] = [
            nn.Conv2d(
                in_channels,
                out_channels,
                kernel_size,
                stride,
                padding,
                dilation=dilation,
                groups=groups,
                bias=False,
            ),
            norm_layer(out_channels),
        ]
        if activation is not None:
            layers.append(activation())
        super().__init__(*layers)
        self.out_channels = out_channels


class DepthwiseSeparableConv(nn.Sequential):
    r"""Depthwise 3x3 convolution (one filter per channel) then a pointwise 1x1 convolution.

    Parameters
    ----------
    in_channels, out_channels : int
        M and N of the paper.
    stride : int
        Stride of the depthwise convolution.
    kernel_size : int
        :math:`D_K`, 3 in MobileNet.

    Notes
    -----
    On a :math:`D_F \times D_F` output map the cost is
    :math:`D_K^2 M D_F^2 + M N D_F^2` multiply-adds instead of :math:`D_K^2 M N D_F^2` for a
    standard convolution, a ratio of :math:`1/N + 1/D_K^2`.

    References
    ----------
    A. G. Howard et al., "MobileNets: Efficient Convolutional Neural Networks for Mobile
    Vision Applications", arXiv:1704.04861, 2017, Section 3.1, eqs. (4)-(5), Figure 3.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        stride: int = 1,
        kernel_size: int = 3,
        activation: Activation = nn.ReLU,
    ):
        super().__init__(
            ConvBNAct(in_channels, in_channels, kernel_size, stride, in_channels, activation),
            ConvBNAct(in_channels, out_channels, 1, activation=activation),
        )


class SqueezeExcitation(nn.Module):
    r"""Channel attention: scale each channel by a gate computed from the global average.

    .. math::
        y = x \odot g\big(W_2\, \delta(W_1\, \mathrm{avgpool}(x) + b_1) + b_2\big)

    with :math:`\delta` = ReLU and gate g = sigmoid (SENet) or hard sigmoid (MobileNetV3,
    GhostNet). ``squeeze_channels`` is the bottleneck width of :math:`W_1`.

    References
    ----------
    J. Hu, L. Shen and G. Sun, "Squeeze-and-Excitation Networks", CVPR 2018, Section 3.
    """

    def __init__(
        self,
        channels: int,
        squeeze_channels: int,
        activation: Callable[[], nn.Module] = nn.ReLU,
        gate: Callable[[], nn.Module] = HSigmoid,
    ):
        super().__init__()
        self.fc1 = nn.Conv2d(channels, squeeze_channels, 1)
        self.activation = activation()
        self.fc2 = nn.Conv2d(squeeze_channels, channels, 1)
        self.gate = gate()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scale = F.adaptive_avg_pool2d(x, 1)  # (N, C, 1, 1)
        scale = self.gate(self.fc2(self.activation(self.fc1(scale))))
        return x * scale


class InvertedResidual(nn.Module):
    r"""Inverted residual with linear bottleneck (MobileNetV2), optionally with SE (V3).

    1x1 expansion to ``expanded_channels`` (skipped when equal to ``in_channels``) ->
    depthwise kxk with ``stride`` -> optional squeeze-and-excitation -> 1x1 linear
    projection to ``out_channels`` (no activation: a ReLU on the thin bottleneck would
    destroy information). The input is added back when the shapes agree.

    Parameters
    ----------
    in_channels, expanded_channels, out_channels : int
        Widths of the bottleneck, the expanded layer and the output.
    kernel_size, stride : int
        Of the depthwise convolution.
    activation : callable
        ``nn.ReLU6`` (V2), ``nn.ReLU`` or :class:`HSwish` (V3).
    se_channels : int, optional
        Squeeze width of an SE block after the depthwise convolution (V3).
    norm_layer : callable
        Batch norm factory (V3 uses ``eps=1e-3``).

    References
    ----------
    M. Sandler et al., "MobileNetV2: Inverted Residuals and Linear Bottlenecks", CVPR 2018,
    Table 1 and Figure 3. A. Howard et al., "Searching for MobileNetV3", ICCV 2019, Figure 4.
    """

    def __init__(
        self,
        in_channels: int,
        expanded_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        stride: int = 1,
        activation: Callable[[], nn.Module] = nn.ReLU6,
        se_channels: int | None = None,
        norm_layer: NormLayer = nn.BatchNorm2d,
    ):
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f"stride must be 1 or 2, got {stride!r}")
        self.use_residual = stride == 1 and in_channels == out_channels
        layers: list[nn.Module] = []
        if expanded_channels != in_channels:
            layers.append(
                ConvBNAct(
                    in_channels, expanded_channels, 1, activation=activation, norm_layer=norm_layer
                )
            )
        layers.append(
            ConvBNAct(
                expanded_channels,
                expanded_channels,
                kernel_size,
                stride,
                groups=expanded_channels,
                activation=activation,
                norm_layer=norm_layer,
            )
        )
        if se_channels is not None:
            layers.append(SqueezeExcitation(expanded_channels, se_channels))
        layers.append(
            ConvBNAct(expanded_channels, out_channels, 1, activation=None, norm_layer=norm_layer)
        )
        self.block = nn.Sequential(*layers)
        self.out_channels = out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.block(x)
        return x + y if self.use_residual else y


def init_weights(model: nn.Module) -> None:
    """The initialization of the torchvision MobileNets: He-normal (fan out) convs, unit batch
    norms, N(0, 0.01) linear layers, zero biases."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d | nn.GroupNorm):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0, 0.01)
            nn.init.zeros_(m.bias)
