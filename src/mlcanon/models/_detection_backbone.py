"""The detectors' backbones: a MobileNetV2 body cut at strides 4, 8 and 16 under a feature
pyramid (for small images), and the choice of backbone by name."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from .._validation import check_option, check_scalar
from ._fpn import FPN, TinyFPNBackbone, check_images
from ._mobilenet_v2 import MobileNetV2

__all__ = ["MobileNetV2FPN", "build_backbone", "mobilenet_v2_fpn"]

torch.fx.wrap("check_images")  # a leaf for torch.fx, so that the profiler can trace the model

# Blocks of MobileNetV2.features that end at each output stride (stem = block 0; Table 2 rows
# "t=6, c=24, s=2" end at block 3, "c=32" at block 6, "c=64" and "c=96" at block 13). The
# stride-32 rows (c=160, 320) and the 1280-channel layer are not used: on 64-pixel images a
# stride-32 map is 2 x 2.
_CUTS = (4, 7, 14)


class MobileNetV2FPN(nn.Module):
    r"""MobileNetV2 features at strides 4, 8 and 16 (finest first) through an :class:`FPN`.

    Parameters
    ----------
    width_mult : float, default=0.5
        MobileNetV2 width multiplier.
    out_channels : int, default=48
        Channels of every pyramid level.
    top_down : bool, default=True
        Keep FPN's top-down pathway; ``False`` leaves each level with only its own lateral
        and smoothing convolutions (the ablation of Lin et al. 2017, Table 1).

    Notes
    -----
    ``forward`` takes ``Tensor[B, 3, H, W]`` with H and W multiples of 16 and returns
    ``[Tensor[B, d, H/4, W/4], Tensor[B, d, H/8, W/8], Tensor[B, d, H/16, W/16]]``.

    References
    ----------
    M. Sandler et al., "MobileNetV2: Inverted Residuals and Linear Bottlenecks", CVPR 2018,
    Section 6.3 (MobileNetV2 as a detection backbone); T.-Y. Lin et al., "Feature Pyramid
    Networks for Object Detection", CVPR 2017.
    """

    def __init__(self, width_mult: float = 0.5, out_channels: int = 48, top_down: bool = True):
        super().__init__()
        check_scalar(width_mult, "width_mult", low=0.0, include_low=False)
        features = MobileNetV2(width_mult=width_mult).features
        starts = (0, *_CUTS[:-1])
        self.stages = nn.ModuleList(features[a:b] for a, b in zip(starts, _CUTS, strict=True))
        channels = [features[b - 1].out_channels for b in _CUTS]
        self.fpn = FPN(channels, out_channels, top_down=top_down)
        self.out_channels = self.fpn.out_channels
        self.strides = (4, 8, 16)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        check_images(x, max(self.strides))
        feats = []
        for stage in self.stages:
            x = stage(x)
            feats.append(x)
        return self.fpn(feats)


def mobilenet_v2_fpn(**kwargs: Any) -> MobileNetV2FPN:
    """Build a :class:`MobileNetV2FPN`."""
    return MobileNetV2FPN(**kwargs)


# the detectors' ``*_mobilenet_v2`` builders: MobileNetV2FPN (width 0.5) with 48 channels
ON_MOBILENET_V2 = {"backbone": "mobilenet_v2", "width": 48}


def build_backbone(backbone: str | nn.Module, width: int) -> nn.Module:
    """``'tiny'`` (:class:`TinyFPNBackbone`), ``'mobilenet_v2'`` (:class:`MobileNetV2FPN`, width
    multiplier 0.5) or a module with ``strides`` and ``out_channels`` attributes."""
    if isinstance(backbone, nn.Module):
        if not hasattr(backbone, "strides") or not hasattr(backbone, "out_channels"):
            raise ValueError("a backbone module must have 'strides' and 'out_channels' attributes")
        return backbone
    check_option(backbone, "backbone", ("tiny", "mobilenet_v2"))
    if backbone == "tiny":
        return TinyFPNBackbone(out_channels=width)
    return MobileNetV2FPN(width_mult=0.5, out_channels=width)
