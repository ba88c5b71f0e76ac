"""ShuffleNet: the channel shuffle against torch's, the unit's cost against the paper's formula,
the network's multiply-adds against the paper's Table 1."""

import pytest
import torch
from torch import nn

from mlcanon.models import ShuffleNetUnit, ShuffleNetV1, channel_shuffle
from mlcanon.vision import profile

# ShuffleNet 1x, complexity in MFLOPs (= multiply-adds) for g = 1, 2, 3, 4, 8: Table 1
PAPER_MMACS = {1: 143, 2: 140, 3: 137, 4: 133, 8: 137}


@pytest.mark.parametrize(("channels", "groups"), [(6, 2), (6, 3), (12, 4), (8, 8), (5, 1)])
def test_channel_shuffle_equals_torch(channels, groups):
    x = torch.randn(2, channels, 3, 5, generator=torch.Generator().manual_seed(0))
    assert torch.equal(channel_shuffle(x, groups), nn.ChannelShuffle(groups)(x))


def test_channel_shuffle_moves_channel_i_cg_plus_j_to_j_g_plus_i():
    x = torch.arange(6.0).view(1, 6, 1, 1)  # groups of 3: (0, 1, 2), (3, 4, 5)
    assert channel_shuffle(x, 2).ravel().tolist() == [0, 3, 1, 4, 2, 5]
    # shuffling by C/g undoes a shuffle by g
    y = torch.randn(2, 12, 2, 2)
    assert torch.equal(channel_shuffle(channel_shuffle(y, 3), 4), y)


def test_channel_shuffle_bad_input():
    with pytest.raises(ValueError, match="C=6 must be divisible by groups=4"):
        channel_shuffle(torch.zeros(1, 6, 2, 2), 4)
    with pytest.raises(ValueError, match="groups must be a positive int, got 0"):
        channel_shuffle(torch.zeros(1, 6, 2, 2), 0)


@pytest.mark.parametrize("groups", [1, 2, 3, 4, 8])
def test_stride_one_unit_macs_equal_paper_formula(groups):
    c, h = 96 * 2, 14  # divisible by every g, bottleneck m = c / 4
    m = c // 4
    unit = ShuffleNetUnit(c, c, groups)
    p = profile(unit, (c, h, h))
    assert p.macs == h * h * (2 * c * m // groups + 9 * m)  # Section 3.2
    conv_params = c * m // groups + 9 * m + m * c // groups
    assert p.params == conv_params + 2 * (m + m + c)  # + three batch norms (weight, bias)


def test_stride_two_unit_concatenates_pooled_input():
    unit = ShuffleNetUnit(24, 240, 3, stride=2, first_group=False).eval()
    x = torch.randn(2, 24, 16, 16)
    out = unit(x)
    assert out.shape == (2, 240, 8, 8)
    pooled = nn.functional.avg_pool2d(x, 3, 2, 1)
    assert torch.equal(out[:, :24], torch.relu(pooled))


@pytest.mark.parametrize("groups", sorted(PAPER_MMACS))
def test_network_macs_equal_paper_table(groups):
    with torch.device("meta"):
        p = profile(ShuffleNetV1(groups), (3, 224, 224))
    assert abs(p.macs / 1e6 / PAPER_MMACS[groups] - 1) <= 0.02, p.macs


def test_unit_bad_arguments():
    with pytest.raises(ValueError, match="stride must be 1 or 2, got 3"):
        ShuffleNetUnit(12, 12, 3, stride=3)
    with pytest.raises(ValueError, match="in_channels=12 must equal out_channels=24"):
        ShuffleNetUnit(12, 24, 3)
    with pytest.raises(ValueError, match="must be divisible by groups=5"):
        ShuffleNetUnit(36, 36, 5)
    with pytest.raises(ValueError, match="groups must be one of"):
        ShuffleNetV1(groups=5)
