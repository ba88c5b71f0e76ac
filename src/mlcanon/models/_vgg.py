"""VGG-16 (configuration D of Simonyan & Zisserman 2015), used as a receptive-field and
parameter-count reference."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

__all__ = ["VGG16", "vgg16"]

# output channels of the 3x3 convolutions; "M" = 2x2 max pooling with stride 2 (Table 1, D;
# fmt: skip keeps it one line per two blocks, as the table prints it)
_CONFIG_D = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]


class VGG16(nn.Module):
    """VGG-16: thirteen 3x3 convolutions (padding 1, ReLU), five max poolings, three fully
    connected layers, laid out and initialised as torchvision's ``vgg16`` (138,357,544
    parameters); ``init_weights=False`` keeps torch's default layer initialisation.

    References
    ----------
    K. Simonyan and A. Zisserman, "Very Deep Convolutional Networks for Large-Scale Image
    Recognition", ICLR 2015, Table 1 (configuration D).
    """

    def __init__(self, num_classes: int = 1000, dropout: float = 0.5, init_weights: bool = True):
        super().__init__()
        layers: list[nn.Module] = []
        in_channels = 3
        for v in _CONFIG_D:
            if v == "M":
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers += [nn.Conv2d(in_channels, int(v), 3, padding=1), nn.ReLU(inplace=True)]
                in_channels = int(v)
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096),
            nn.ReLU(inplace=True),
            nn.Dropout(dropout),
            nn.Linear(4096, 4096),
            nn.ReLU(inplace=True),
            nn.Dropout(dropout),
            nn.Linear(4096, num_classes),
        )
        if init_weights:
            self._init_weights()

    def _init_weights(self) -> None:
        r"""torchvision's ``VGG`` initialisation, applied after every layer is built (so, for one
        seed, the same draws): convolutions He-normal with fan_out, :math:`\mathcal N(0,
        2 / (C_{out} k^2))`, bias 0; linear layers :math:`\mathcal N(0, 0.01^2)`, bias 0."""
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                if m.bias is not None:
                    nn.init.constant_(m.bias, 0)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.constant_(m.bias, 0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.avgpool(self.features(x))  # (N, 512, 7, 7)
        return self.classifier(torch.flatten(x, 1))


def vgg16(**kwargs: Any) -> VGG16:
    """VGG-16; build it under ``with torch.device('meta'):`` to count without memory."""
    return VGG16(**kwargs)
