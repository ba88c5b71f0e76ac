"""MobileNetV3 Large and Small: searched inverted residuals with SE and h-swish
(Howard et al. 2019)."""

from __future__ import annotations

from functools import partial
from typing import Any

import torch
from torch import nn

from ._blocks import ConvBNAct, HSwish, InvertedResidual, init_weights, make_divisible

__all__ = ["MobileNetV3", "mobilenet_v3_large", "mobilenet_v3_small"]

# kernel, expanded channels, out channels, SE, nonlinearity (RE = ReLU, HS = h-swish), stride
_LARGE = [  # Table 1 of the paper
    (3, 16, 16, False, "RE", 1),
    (3, 64, 24, False, "RE", 2),
    (3, 72, 24, False, "RE", 1),
    (5, 72, 40, True, "RE", 2),
    (5, 120, 40, True, "RE", 1),
    (5, 120, 40, True, "RE", 1),
    (3, 240, 80, False, "HS", 2),
    (3, 200, 80, False, "HS", 1),
    (3, 184, 80, False, "HS", 1),
    (3, 184, 80, False, "HS", 1),
    (3, 480, 112, True, "HS", 1),
    (3, 672, 112, True, "HS", 1),
    (5, 672, 160, True, "HS", 2),
    (5, 960, 160, True, "HS", 1),
    (5, 960, 160, True, "HS", 1),
]
_SMALL = [  # Table 2 of the paper
    (3, 16, 16, True, "RE", 2),
    (3, 72, 24, False, "RE", 2),
    (3, 88, 24, False, "RE", 1),
    (5, 96, 40, True, "HS", 2),
    (5, 240, 40, True, "HS", 1),
    (5, 240, 40, True, "HS", 1),
    (5, 120, 48, True, "HS", 1),
    (5, 144, 48, True, "HS", 1),
    (5, 288, 96, True, "HS", 2),
    (5, 576, 96, True, "HS", 1),
    (5, 576, 96, True, "HS", 1),
]
_LAST_CHANNEL = {"large": 1280, "small": 1024}
_ACTIVATIONS = {"RE": nn.ReLU, "HS": HSwish}


class MobileNetV3(nn.Module):
    """MobileNetV3-Large or -Small, laid out as torchvision's ``mobilenet_v3_*``.

    Parameters
    ----------
    arch : {'large', 'small'}
        Which table of the paper to build.
    num_classes : int
        Size of the classifier.
    width_mult : float
        Multiplies every width (rounded to a multiple of 8, squeeze widths too).
    dropout : float
        Dropout inside the classifier head.

    Notes
    -----
    Stem: 3x3 stride-2 convolution with 16 filters and h-swish. Blocks: inverted residuals
    (Table 1 or 2); the SE squeeze width is a quarter of the expanded width rounded to 8, with
    a hard-sigmoid gate. Head: 1x1 convolution to 6x the last width, global pooling, then a
    1x1 "convolution" on the pooled vector (a linear layer, 1280 or 1024 units, h-swish, no
    batch norm) and the classifier. Batch norms use ``eps=1e-3``.

    References
    ----------
    A. Howard et al., "Searching for MobileNetV3", ICCV 2019, Tables 1 and 2, Sections 5.2
    and 5.3 (redesigned last stage).
    """

    def __init__(
        self,
        arch: str = "large",
        num_classes: int = 1000,
        width_mult: float = 1.0,
        dropout: float = 0.2,
    ):
        super().__init__()
        if arch not in _LAST_CHANNEL:
            raise ValueError(f"arch must be one of 'large', 'small'; got {arch!r}")
        if width_mult <= 0:
            raise ValueError(f"width_mult must be > 0, got {width_mult!r}")

        def width(c: float) -> int:
            return make_divisible(c * width_mult, 8)

        norm = partial(nn.BatchNorm2d, eps=1e-3, momentum=0.01)
        in_channels = width(16)
        layers: list[nn.Module] = [
            ConvBNAct(3, in_channels, 3, 2, activation=HSwish, norm_layer=norm)
        ]
        for k, exp, out, se, nl, s in _LARGE if arch == "large" else _SMALL:
            expanded = width(exp)
            squeeze = make_divisible(expanded // 4, 8) if se else None
            layers.append(
                InvertedResidual(
                    in_channels, expanded, width(out), k, s, _ACTIVATIONS[nl], squeeze, norm
                )
            )
            in_channels = width(out)
        head = 6 * in_channels
        layers.append(ConvBNAct(in_channels, head, 1, activation=HSwish, norm_layer=norm))
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        last = width(_LAST_CHANNEL[arch])
        self.classifier = nn.Sequential(
            nn.Linear(head, last),
            HSwish(),
            nn.Dropout(dropout),
            nn.Linear(last, num_classes),
        )
        init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.avgpool(self.features(x))  # (N, 960 or 576, 1, 1)
        return self.classifier(torch.flatten(x, 1))


def mobilenet_v3_large(**kwargs: Any) -> MobileNetV3:
    """MobileNetV3-Large 1.0 (5,483,032 parameters)."""
    return MobileNetV3("large", **kwargs)


def mobilenet_v3_small(**kwargs: Any) -> MobileNetV3:
    """MobileNetV3-Small 1.0 (2,542,856 parameters)."""
    return MobileNetV3("small", **kwargs)
