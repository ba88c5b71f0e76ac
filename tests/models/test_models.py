"""Efficient architectures: torchvision's published parameter counts, the papers' tables, blocks."""

import math

import pytest
import torch
from torch import nn

from mlcanon import models
from mlcanon.vision import profile

# Parameter counts published in torchvision's model documentation (ImageNet, 1000 classes).
TORCHVISION_PARAMS = {
    "mobilenet_v2": 3_504_872,
    "mobilenet_v3_large": 5_483_032,
    "mobilenet_v3_small": 2_542_856,
}


@pytest.mark.parametrize("name", sorted(TORCHVISION_PARAMS))
def test_torchvision_parameter_counts_exactly(name):
    with torch.device("meta"):
        model = models.get_model(name)
    assert sum(p.numel() for p in model.parameters()) == TORCHVISION_PARAMS[name]


# The papers' tables: (builder, kwargs, input side, params in millions, multiply-adds in millions)
PAPERS = {
    # Howard et al. 2017, "MobileNets", Table 8 (1.0 MobileNet-224), Table 6 (width
    # multiplier: 0.75, 0.5, 0.25) and Table 7 (resolution: 192, 160, 128)
    "v1-1.0-224": ("mobilenet_v1", {}, 224, 4.2, 569),
    "v1-0.75-224": ("mobilenet_v1", {"width_mult": 0.75}, 224, 2.6, 325),
    "v1-0.5-224": ("mobilenet_v1", {"width_mult": 0.5}, 224, 1.3, 149),
    "v1-0.25-224": ("mobilenet_v1", {"width_mult": 0.25}, 224, 0.5, 41),
    "v1-1.0-192": ("mobilenet_v1", {"resolution_mult": 192 / 224}, 192, 4.2, 418),
    "v1-1.0-160": ("mobilenet_v1", {"resolution_mult": 160 / 224}, 160, 4.2, 290),
    "v1-1.0-128": ("mobilenet_v1", {"resolution_mult": 128 / 224}, 128, 4.2, 186),
    # Sandler et al. 2018, "MobileNetV2", Table 4
    "v2-1.0": ("mobilenet_v2", {}, 224, 3.4, 300),
    "v2-1.4": ("mobilenet_v2", {"width_mult": 1.4}, 224, 6.9, 585),
    # Howard et al. 2019, "Searching for MobileNetV3", Table 3
    "v3-large-1.0": ("mobilenet_v3_large", {}, 224, 5.4, 219),
    "v3-small-1.0": ("mobilenet_v3_small", {}, 224, 2.5, 56),
    # Han et al. 2020, "GhostNet", Table 7 (the paper writes FLOPs for multiply-adds)
    "ghostnet-0.5": ("ghostnet", {"width_mult": 0.5}, 224, 2.6, 42),
    "ghostnet-1.0": ("ghostnet", {}, 224, 5.2, 141),
    "ghostnet-1.3": ("ghostnet", {"width_mult": 1.3}, 224, 7.3, 226),
}


def counts(key: str) -> tuple[float, float]:
    name, kwargs, side, _, _ = PAPERS[key]
    with torch.device("meta"):
        model = models.get_model(name, **kwargs)
    if "resolution_mult" in kwargs:
        assert model.input_resolution == side
    p = profile(model, (3, side, side))
    return p.params / 1e6, p.macs / 1e6


@pytest.mark.parametrize("key", sorted(PAPERS))
def test_paper_multiply_adds_within_2_percent(key):
    _, macs = counts(key)
    assert abs(macs / PAPERS[key][4] - 1) <= 0.02, macs


# Printed with two significant digits, the parameter counts of the thinner MobileNetV1s sit
# more than 2% away from the true value (1.33M printed 1.3, 0.47M printed 0.5); they are
# compared to the printed digits instead. MobileNetV2's "3.4M" and "6.9M" disagree with the
# released models: TF-slim lists 3.47M and 6.06M (1001 classes) for the same layouts, and the
# 1.0 layout equals torchvision's 3,504,872 exactly (tested above).
PRINTED_ONLY = {"v1-0.5-224", "v1-0.25-224"}
PAPER_OFF = {"v2-1.0", "v2-1.4"}


@pytest.mark.parametrize(
    "key",
    [
        pytest.param(
            k,
            marks=pytest.mark.xfail(strict=True, reason="the paper's figure, see PAPER_OFF"),
        )
        if k in PAPER_OFF
        else k
        for k in sorted(set(PAPERS) - PRINTED_ONLY)
    ],
)
def test_paper_parameters_within_2_percent(key):
    params, _ = counts(key)
    assert abs(params / PAPERS[key][3] - 1) <= 0.02, params


@pytest.mark.parametrize("key", sorted(PRINTED_ONLY))
def test_paper_parameters_to_printed_digits(key):
    params, _ = counts(key)
    assert round(params, 1) == PAPERS[key][3]


@pytest.mark.parametrize("name", models.list_models())
def test_forward_shapes(name):
    if name == "vgg16":
        pytest.skip("vgg16 is only counted (on the meta device) here")
    model = models.get_model(name, num_classes=7).eval()
    with torch.no_grad():
        out = model(torch.randn(2, 3, 64, 80))
    assert out.shape == (2, 7) and torch.isfinite(out).all()


@pytest.mark.parametrize("name", sorted(TORCHVISION_PARAMS))
def test_same_layer_shapes_as_torchvision(name):
    tv_models = pytest.importorskip("torchvision.models")  # torchvision is optional
    ours = sorted(tuple(p.shape) for p in models.get_model(name).parameters())
    theirs = sorted(tuple(p.shape) for p in getattr(tv_models, name)().parameters())
    assert ours == theirs


def test_hard_activations_equal_torch():
    x = torch.linspace(-6, 6, 1201, dtype=torch.float64)
    torch.testing.assert_close(models.HSwish()(x), nn.Hardswish()(x), rtol=1e-15, atol=1e-15)
    torch.testing.assert_close(models.HSigmoid()(x), nn.Hardsigmoid()(x), rtol=1e-15, atol=1e-15)


def test_make_divisible():
    assert models.make_divisible(32 * 0.75) == 24
    assert models.make_divisible(17.5) == 16  # nearest multiple of 8, within 10%
    assert models.make_divisible(10) == 16  # 8 would lose more than 10%
    assert models.make_divisible(3, 8) == 8  # never below the divisor
    assert models.make_divisible(30, 4) == 32


def test_depthwise_separable_costs():
    """Params and MACs of the block: D_K^2 M + M N (Howard et al. 2017, eq. 5)."""
    m, n, k, side = 16, 24, 3, 10
    block = models.DepthwiseSeparableConv(m, n)
    p = profile(block, (m, side, side))
    bn = 2 * m + 2 * n
    assert p.params == k * k * m + m * n + bn
    assert p.macs == side * side * (k * k * m + m * n)
    standard = side * side * k * k * m * n
    assert p.macs / standard == pytest.approx(1 / n + 1 / k**2)


def test_inverted_residual():
    x = torch.randn(2, 16, 9, 9)
    same = models.InvertedResidual(16, 96, 16, 3, 1)
    down = models.InvertedResidual(16, 96, 24, 5, 2, models.HSwish, se_channels=24)
    assert same.use_residual and not down.use_residual
    assert same(x).shape == (2, 16, 9, 9) and down(x).shape == (2, 24, 5, 5)
    with torch.no_grad():  # with the projection zeroed, the block is the identity
        nn.init.zeros_(same.block[-1][1].weight)
    torch.testing.assert_close(same(x), x)
    with pytest.raises(ValueError, match="stride must be 1 or 2"):
        models.InvertedResidual(16, 96, 16, 3, 3)


def test_ghost_module_is_cheaper_by_about_s():
    """A ghost module with ratio s costs about 1/s of the ordinary conv it replaces (eq. 4)."""
    c, n, side = 64, 128, 14
    ghost = models.GhostModule(c, n, kernel_size=3, ratio=2, dw_size=3)
    conv = nn.Conv2d(c, n, 3, padding=1, bias=False)
    g, o = profile(ghost, (c, side, side)), profile(conv, (c, side, side))
    assert ghost(torch.randn(1, c, side, side)).shape == (1, n, side, side)
    expected = (n * c * 9) / (n / 2 * c * 9 + (2 - 1) * n / 2 * 9)  # r_s of eq. (4), s = 2
    assert o.macs / g.macs == pytest.approx(expected)
    assert o.macs / g.macs == pytest.approx(2, rel=0.02)
    odd = models.GhostModule(8, 11)  # ceil(11 / 2) = 6 intrinsic maps, 6 ghosts, keep 11
    assert odd(torch.randn(1, 8, 5, 5)).shape == (1, 11, 5, 5)


def test_ghost_bottleneck_shortcut():
    block = models.GhostBottleneck(16, 48, 24, 3, stride=2, se_ratio=0.25)
    assert block(torch.randn(1, 16, 8, 8)).shape == (1, 24, 4, 4)
    assert isinstance(models.GhostBottleneck(16, 48, 16).shortcut, nn.Identity)


def test_get_model_and_errors():
    assert isinstance(models.get_model("mlcanon.models:mobilenet_v1", width_mult=0.5), nn.Module)
    assert isinstance(models.get_model("torch.nn:Identity"), nn.Identity)
    with pytest.raises(ValueError, match="name must be one of 'mobilenet_v1'"):
        models.get_model("resnet50")
    with pytest.raises(ValueError, match="cannot load 'no_such_pkg:f'"):
        models.get_model("no_such_pkg:f")
    with pytest.raises(TypeError, match=r"did not give a torch\.nn\.Module"):
        models.get_model("math:pi")
    with pytest.raises(ValueError, match="width_mult must be > 0"):
        models.MobileNetV2(width_mult=0)
    with pytest.raises(ValueError, match="arch must be one of 'large', 'small'"):
        models.MobileNetV3("medium")
    with pytest.raises(ValueError, match=r"width_mult must be in \(0, 4\]"):
        models.MobileNetV1(width_mult=-1)
    with pytest.raises(ValueError, match="ratio must be >= 2"):
        models.GhostModule(4, 4, ratio=1)
    assert math.isclose(models.MobileNetV1(resolution_mult=0.5).input_resolution, 112)
