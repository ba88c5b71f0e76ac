"""A tiny convolutional backbone and a feature pyramid network (Lin et al. 2017)."""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .._validation import check_scalar
from ._blocks import ConvBNAct

__all__ = ["FPN", "TinyBackbone", "TinyFPNBackbone", "check_images", "tiny_fpn_backbone"]


def check_images(x: object, stride: int) -> None:
    """Refuse anything but a floating ``Tensor[B, C, H, W]`` with H and W multiples of
    ``stride`` (the coarsest level's), naming what was given."""
    if not isinstance(x, torch.Tensor) or x.dim() != 4:
        raise ValueError(f"images must be a Tensor of shape (B, C, H, W), got {x!r:.80}")
    if not x.is_floating_point():
        raise TypeError(f"images must be a floating-point tensor, got dtype {x.dtype}")
    if x.shape[-2] % stride or x.shape[-1] % stride:
        raise ValueError(
            f"image height and width must be multiples of {stride} (the largest stride), "
            f"got {tuple(x.shape[-2:])}"
        )


torch.fx.wrap("check_images")  # a leaf for torch.fx: the profiler traces the models past it


def _check_channels(value: Sequence[int], name: str, length: int | None = None) -> tuple[int, ...]:
    if isinstance(value, int | str) or len(value) == 0:
        raise ValueError(f"{name} must be a non-empty sequence of ints, got {value!r}")
    if length is not None and len(value) != length:
        raise ValueError(f"{name} must have {length} entries, got {len(value)}")
    return tuple(int(check_scalar(c, name, kind=numbers.Integral, low=1)) for c in value)


class TinyBackbone(nn.Module):
    """Stride-2 ``ConvBNAct`` stages; returns the last three maps (strides 4, 8, 16).

    Parameters
    ----------
    in_channels : int
    widths : tuple of 4 ints
        Channels of the stem (stride 2) and of the three returned stages.
    """

    def __init__(self, in_channels: int = 3, widths: Sequence[int] = (16, 24, 32, 48)):
        super().__init__()
        c0, c1, c2, c3 = _check_channels(widths, "widths", 4)
        cin = int(check_scalar(in_channels, "in_channels", kind=numbers.Integral, low=1))
        self.stem = ConvBNAct(cin, c0, 3, stride=2)
        self.stages = nn.ModuleList(
            nn.Sequential(ConvBNAct(a, b, 3, stride=2), ConvBNAct(b, b, 3))
            for a, b in ((c0, c1), (c1, c2), (c2, c3))
        )
        self.out_channels = (c1, c2, c3)
        self.strides = (4, 8, 16)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = self.stem(x)  # (B, c0, H/2, W/2)
        feats = []
        for stage in self.stages:
            x = stage(x)
            feats.append(x)
        return feats  # [(B, c1, H/4, W/4), (B, c2, H/8, W/8), (B, c3, H/16, W/16)]


class FPN(nn.Module):
    r"""Feature pyramid: lateral 1x1 convolutions, a top-down pathway and 3x3 smoothing.

    Parameters
    ----------
    in_channels_list : sequence of int
        Channels of the backbone maps, finest (largest) first.
    out_channels : int
        Channels d of every pyramid level (256 in the paper).
    top_down : bool, default=True
        With ``False`` the top-down sum is left out: :math:`M_l = \mathrm{conv}_{1\times1}(C_l)`,
        so each level sees only its own backbone map (the paper's Table 1 ablation).

    Notes
    -----
    With backbone maps :math:`C_l` (finest first) and :math:`P_{L+1} = 0`,

    .. math::
        M_l = \mathrm{conv}_{1\times1}(C_l) + \mathrm{up}_2(M_{l+1}), \qquad
        P_l = \mathrm{conv}_{3\times3}(M_l),

    where up is nearest-neighbour upsampling to the size of :math:`C_l`. The top-down sum
    gives the high-resolution levels the semantics of the coarse ones; the 3x3 convolution
    reduces the aliasing of the upsampling.

    References
    ----------
    T.-Y. Lin, P. Dollar, R. Girshick, K. He, B. Hariharan and S. Belongie, "Feature Pyramid
    Networks for Object Detection", CVPR 2017, Section 3 and Figure 3.
    """

    def __init__(
        self, in_channels_list: Sequence[int], out_channels: int = 32, top_down: bool = True
    ):
        super().__init__()
        self.top_down = bool(top_down)
        chans = _check_channels(in_channels_list, "in_channels_list")
        d = int(check_scalar(out_channels, "out_channels", kind=numbers.Integral, low=1))
        self.lateral = nn.ModuleList(nn.Conv2d(c, d, 1) for c in chans)
        self.smooth = nn.ModuleList(nn.Conv2d(d, d, 3, padding=1) for _ in chans)
        self.out_channels = d

    def forward(self, feats: Sequence[torch.Tensor]) -> list[torch.Tensor]:
        if len(feats) != len(self.lateral):
            raise ValueError(f"expected {len(self.lateral)} feature maps, got {len(feats)}")
        merged = self.lateral[-1](feats[-1])
        outs = [self.smooth[-1](merged)]
        for i in range(len(feats) - 2, -1, -1):  # coarse to fine
            merged = self.lateral[i](feats[i]) + (
                F.interpolate(merged, size=feats[i].shape[-2:], mode="nearest")
                if self.top_down
                else 0
            )
            outs.insert(0, self.smooth[i](merged))
        return outs  # finest first, each (B, d, H_l, W_l)


class TinyFPNBackbone(nn.Module):
    """:class:`TinyBackbone` followed by :class:`FPN`: three levels of ``out_channels``
    channels at strides 4, 8 and 16."""

    def __init__(
        self, in_channels: int = 3, widths: Sequence[int] = (16, 24, 32, 48), out_channels: int = 32
    ):
        super().__init__()
        self.body = TinyBackbone(in_channels, widths)
        self.fpn = FPN(self.body.out_channels, out_channels)
        self.out_channels = self.fpn.out_channels
        self.strides = self.body.strides

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        check_images(x, max(self.strides))
        return self.fpn(self.body(x))


def tiny_fpn_backbone(**kwargs) -> TinyFPNBackbone:  # type: ignore[no-untyped-def]
    """Build a :class:`TinyFPNBackbone`."""
    return TinyFPNBackbone(**kwargs)
