"""ShuffleNet (v1): pointwise group convolutions made to talk to each other by a channel
shuffle (Zhang et al. 2018)."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ._blocks import ConvBNAct, init_weights

__all__ = [
    "ShuffleNetUnit",
    "ShuffleNetV1",
    "channel_shuffle",
    "shuffle_order",
    "shufflenet_v1",
]

# output channels of stages 2-4 for each number of groups g (Table 1 of the paper, 1x)
_STAGE_CHANNELS = {
    1: (144, 288, 576),
    2: (200, 400, 800),
    3: (240, 480, 960),
    4: (272, 544, 1088),
    8: (384, 768, 1536),
}
_STAGE_REPEATS = (4, 8, 4)  # units per stage, the first with stride 2


def shuffle_order(channels: int, groups: int, device: torch.device | None = None) -> torch.Tensor:
    """The channel permutation of a shuffle: output channel ``j * g + i`` is input channel
    ``i * (C / g) + j`` (write the channels as a g x C/g matrix, transpose, read row by row).

    Returns
    -------
    Tensor[C] (int64)
    """
    if not isinstance(groups, int) or groups < 1:
        raise ValueError(f"groups must be a positive int, got {groups!r}")
    if channels % groups:
        raise ValueError(f"channels C={channels} must be divisible by groups={groups}")
    order = torch.arange(channels, device=device).view(groups, channels // groups)
    return order.t().reshape(-1)


def channel_shuffle(x: torch.Tensor, groups: int) -> torch.Tensor:
    """Interleave the channels of ``groups`` groups (see :func:`shuffle_order`), so that each
    group of the next grouped layer gets one slice of every group.

    Parameters
    ----------
    x : Tensor[N, C, H, W]
        C must be divisible by ``groups``.
    groups : int
        g.

    Returns
    -------
    Tensor[N, C, H, W]
        Equal to ``torch.nn.ChannelShuffle(groups)(x)``.
    """
    if x.dim() != 4:
        raise ValueError(f"x must be (N, C, H, W), got shape {tuple(x.shape)}")
    return x[:, shuffle_order(x.shape[1], groups, x.device)]


class ShuffleNetUnit(nn.Module):
    r"""ShuffleNet unit (Figure 2(b), (c) of the paper): 1x1 group conv (bottleneck, ReLU) ->
    channel shuffle -> 3x3 depthwise conv (stride s, no ReLU) -> 1x1 group conv, then the
    shortcut: added (stride 1) or a 3x3 average pool concatenated (stride 2), and ReLU.

    Parameters
    ----------
    in_channels, out_channels : int
        c and n. At stride 1 they must be equal; at stride 2 the branch produces
        ``out_channels - in_channels`` maps and the pooled input supplies the rest.
    groups : int
        g of the two pointwise group convolutions (each channel count divisible by g).
    stride : int
        1 or 2.
    bottleneck_ratio : float
        Bottleneck width m = out_channels * ratio (1/4 in the paper).
    first_group : bool
        Group the first pointwise conv (False for the first unit of stage 2, whose input has
        only 24 channels, as in the paper).

    Notes
    -----
    Multiply-adds of a stride-1 unit on an h x w map with c = n channels and bottleneck m
    (batch norm not counted):

    .. math:: hw\,(2cm/g + 9m),

    against :math:`hw(2cm + 9m^2)` for a ResNet bottleneck and :math:`hw(2cm + 9m^2/g)` for
    ResNeXt (Section 3.2).

    References
    ----------
    X. Zhang, X. Zhou, M. Lin, J. Sun, "ShuffleNet: An Extremely Efficient Convolutional
    Neural Network for Mobile Devices", CVPR 2018, Section 3.1-3.2, Figure 2.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        groups: int = 3,
        stride: int = 1,
        bottleneck_ratio: float = 0.25,
        first_group: bool = True,
    ):
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f"stride must be 1 or 2, got {stride!r}")
        if stride == 1 and in_channels != out_channels:
            raise ValueError(
                f"at stride 1 in_channels={in_channels} must equal out_channels={out_channels}"
            )
        branch_out = out_channels - in_channels if stride == 2 else out_channels
        if branch_out <= 0:
            raise ValueError(
                f"at stride 2 out_channels={out_channels} must exceed in_channels={in_channels}"
            )
        mid = int(out_channels * bottleneck_ratio)
        g1 = groups if first_group else 1
        for name, value in (("bottleneck", mid), ("branch output", branch_out)):
            if value % groups:
                raise ValueError(f"{name} channels {value} must be divisible by groups={groups}")
        if in_channels % g1:
            raise ValueError(f"in_channels={in_channels} must be divisible by groups={g1}")
        self.groups, self.stride = groups, stride
        # a buffer, not a view/transpose: keeps the graph 4-D for the profiler's field rules
        self.register_buffer("order", shuffle_order(mid, g1), persistent=False)
        self.compress = ConvBNAct(in_channels, mid, 1, groups=g1)
        self.depthwise = ConvBNAct(mid, mid, 3, stride, groups=mid, activation=None)
        self.expand = ConvBNAct(mid, branch_out, 1, groups=groups, activation=None)
        self.shortcut = nn.AvgPool2d(3, 2, 1) if stride == 2 else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.compress(x)[:, self.order]  # (N, m, H, W), channels shuffled
        y = self.expand(self.depthwise(y))  # (N, branch_out, H / s, W / s)
        if self.stride == 2:
            return torch.relu(torch.cat([self.shortcut(x), y], 1))  # (N, n, H/2, W/2)
        return torch.relu(x + y)


class ShuffleNetV1(nn.Module):
    """ShuffleNet 1x (Table 1 of the paper): 3x3 conv (24, stride 2), 3x3 max pool, three
    stages of ShuffleNet units (4, 8, 4; the first of each with stride 2), global average
    pool, fully connected.

    Parameters
    ----------
    groups : int
        g in {1, 2, 3, 4, 8}; sets the stage widths of Table 1.
    num_classes : int
        Outputs of the classifier.
    """

    def __init__(self, groups: int = 3, num_classes: int = 1000):
        super().__init__()
        if groups not in _STAGE_CHANNELS:
            raise ValueError(f"groups must be one of {sorted(_STAGE_CHANNELS)}, got {groups!r}")
        self.stem = nn.Sequential(ConvBNAct(3, 24, 3, 2), nn.MaxPool2d(3, 2, 1))
        units: list[nn.Module] = []
        c_in = 24
        for stage, (c_out, repeats) in enumerate(
            zip(_STAGE_CHANNELS[groups], _STAGE_REPEATS, strict=True)
        ):
            for i in range(repeats):
                units.append(
                    ShuffleNetUnit(
                        c_in,
                        c_out,
                        groups,
                        stride=2 if i == 0 else 1,
                        first_group=not (stage == 0 and i == 0),
                    )
                )
                c_in = c_out
        self.stages = nn.Sequential(*units)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c_in, num_classes)
        init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stages(self.stem(x))  # (N, C, H/32, W/32)
        return self.classifier(torch.flatten(self.pool(x), 1))


def shufflenet_v1(**kwargs: Any) -> ShuffleNetV1:
    """ShuffleNet 1x (g = 3 by default); keyword arguments go to :class:`ShuffleNetV1`."""
    return ShuffleNetV1(**kwargs)
