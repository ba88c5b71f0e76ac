"""Output-size formulas against the shapes torch computes, over a randomized grid of settings."""

from collections.abc import Callable

import numpy as np
import pytest
import torch
from torch import nn

from mlcanon import models
from mlcanon.vision import (
    conv_output_size,
    conv_transpose_output_size,
    output_shapes,
    pool_output_size,
)


def torch_spatial(make: Callable[[], nn.Module], shape: tuple[int, ...]) -> tuple | None:
    """Spatial output shape torch computes on a meta tensor; None when torch rejects it."""
    try:
        return tuple(make()(torch.empty(shape, device="meta")).shape[2:])
    except RuntimeError:
        return None


def ours(fn: Callable, *args, **kwargs) -> tuple | None:
    try:
        out = fn(*args, **kwargs)
    except ValueError:
        return None
    return out if isinstance(out, tuple) else (out,)


def random_setting(rng: np.random.Generator, ndim: int) -> dict:
    def axes(low: int, high: int) -> tuple[int, ...]:
        return tuple(int(v) for v in rng.integers(low, high + 1, ndim))

    return {
        "size": axes(1, 40),
        "kernel": axes(1, 7),
        "stride": axes(1, 4),
        "padding": axes(0, 3),
        "dilation": axes(1, 3),
    }


CONV = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}
CONVT = {1: nn.ConvTranspose1d, 2: nn.ConvTranspose2d}
MAXPOOL = {1: nn.MaxPool1d, 2: nn.MaxPool2d, 3: nn.MaxPool3d}
AVGPOOL = {1: nn.AvgPool1d, 2: nn.AvgPool2d}


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("ndim", [1, 2, 3])
def test_conv_output_size_matches_torch(seed, ndim):
    rng = np.random.default_rng(seed)
    n_valid = 0
    for _ in range(60):
        s = random_setting(rng, ndim)
        expected = torch_spatial(
            lambda s=s: CONV[ndim](
                2, 3, s["kernel"], s["stride"], s["padding"], s["dilation"], device="meta"
            ),
            (1, 2, *s["size"]),
        )
        got = ours(
            conv_output_size, s["size"], s["kernel"], s["stride"], s["padding"], s["dilation"]
        )
        assert got == expected, s
        n_valid += expected is not None
    assert n_valid > 20  # the grid must exercise valid settings, not only errors


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("ndim", [1, 2, 3])
@pytest.mark.parametrize("ceil_mode", [False, True])
def test_max_pool_output_size_matches_torch(seed, ndim, ceil_mode):
    rng = np.random.default_rng(seed)
    n_valid = 0
    for _ in range(60):
        s = random_setting(rng, ndim)
        expected = torch_spatial(
            lambda s=s: MAXPOOL[ndim](
                s["kernel"], s["stride"], s["padding"], s["dilation"], ceil_mode=ceil_mode
            ),
            (1, 2, *s["size"]),
        )
        got = ours(
            pool_output_size,
            s["size"],
            s["kernel"],
            s["stride"],
            s["padding"],
            s["dilation"],
            ceil_mode,
        )
        assert got == expected, s
        n_valid += expected is not None
    assert n_valid >= 5


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("ndim", [1, 2])
@pytest.mark.parametrize("ceil_mode", [False, True])
def test_avg_pool_output_size_matches_torch(seed, ndim, ceil_mode):
    rng = np.random.default_rng(seed)
    for _ in range(60):
        s = random_setting(rng, ndim)
        expected = torch_spatial(
            lambda s=s: AVGPOOL[ndim](s["kernel"], s["stride"], s["padding"], ceil_mode=ceil_mode),
            (1, 2, *s["size"]),
        )
        got = ours(
            pool_output_size, s["size"], s["kernel"], s["stride"], s["padding"], 1, ceil_mode
        )
        assert got == expected, s


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("ndim", [1, 2])
def test_conv_transpose_output_size_matches_torch(seed, ndim):
    rng = np.random.default_rng(seed)
    for _ in range(60):
        s = random_setting(rng, ndim)
        out_pad = tuple(
            int(rng.integers(0, max(st, d)))
            for st, d in zip(s["stride"], s["dilation"], strict=True)
        )
        expected = torch_spatial(
            lambda s=s, o=out_pad: CONVT[ndim](
                2,
                3,
                s["kernel"],
                s["stride"],
                s["padding"],
                o,
                dilation=s["dilation"],
                device="meta",
            ),
            (1, 2, *s["size"]),
        )
        got = ours(
            conv_transpose_output_size,
            s["size"],
            s["kernel"],
            s["stride"],
            s["padding"],
            out_pad,
            s["dilation"],
        )
        assert got == expected, (s, out_pad)


def test_hand_computed_sizes():
    # (W - K + 2P) / S + 1 = (224 - 3 + 2) / 2 + 1 = 112.5 -> floor 112
    assert conv_output_size(224, 3, 2, 1) == 112
    assert conv_output_size((7, 8), 3) == (5, 6)
    assert conv_output_size(10, 3, dilation=2) == 6  # effective kernel 5
    assert conv_output_size(9, 4, padding="same") == 9
    assert conv_output_size(9, 4, padding="valid") == 6
    # pooling 5 -> 2 (floor) or 3 (ceil: the last window starts at 4 < 5 + 0)
    assert pool_output_size(5, 2) == 2
    assert pool_output_size(5, 2, ceil_mode=True) == 3
    # ceil mode never starts a window in the right padding: 6 -> ceil(7/2) + 1 = 5 -> 4
    assert pool_output_size(6, 3, 2, padding=1, ceil_mode=True) == 4
    assert conv_transpose_output_size(5, 3, 2, padding=1, output_padding=1) == 10


def test_error_paths():
    with pytest.raises(ValueError, match="output size would be"):
        conv_output_size(3, 5)
    with pytest.raises(ValueError, match="stride must be >= 1"):
        conv_output_size(10, 3, stride=0)
    with pytest.raises(ValueError, match="kernel_size must be an int or 2 ints"):
        conv_output_size((10, 10), (3, 3, 3))
    with pytest.raises(TypeError, match="kernel_size must be an int or a tuple"):
        conv_output_size(10, 2.5)
    with pytest.raises(ValueError, match="padding='same' needs stride=1"):
        conv_output_size(10, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="padding must be an int, a tuple, 'valid' or 'same'"):
        conv_output_size(10, 3, padding="full")
    with pytest.raises(ValueError, match="at most half"):
        pool_output_size(10, 2, padding=2)
    with pytest.raises(TypeError, match="ceil_mode must be a bool"):
        pool_output_size(10, 2, ceil_mode=1)
    with pytest.raises(ValueError, match="output_padding must be smaller than stride or dilation"):
        conv_transpose_output_size(5, 3, stride=2, output_padding=2)
    with pytest.raises(ValueError, match="input_size must be >= 1"):
        conv_output_size(0, 1)


def executed_shapes(model: nn.Module, x: torch.Tensor) -> dict[str, tuple[int, ...]]:
    """Output shapes of every leaf module, recorded by forward hooks during a real run."""
    shapes: dict[str, tuple[int, ...]] = {}
    hooks = [
        m.register_forward_hook(lambda m, i, o, name=name: shapes.__setitem__(name, o.shape[1:]))
        for name, m in model.named_modules()
        # the layers torch.fx keeps whole: torch.nn's own, except containers
        if type(m).__module__.startswith("torch.nn.modules")
        and type(m).__module__ != "torch.nn.modules.container"
    ]
    with torch.no_grad():
        model.eval()(x)
    for h in hooks:
        h.remove()
    return {k: tuple(v) for k, v in shapes.items()}


class OddNet(nn.Module):
    """Every window layer with awkward settings, odd sizes, a transposed conv and a skip."""

    def __init__(self):
        super().__init__()
        self.pad = nn.ZeroPad2d((1, 2, 0, 3))
        self.conv = nn.Conv2d(3, 4, (3, 5), stride=(2, 1), padding=(1, 2), dilation=(1, 2))
        self.pool = nn.MaxPool2d(3, 2, 1, ceil_mode=True)
        self.avg = nn.AvgPool2d(2, ceil_mode=True)
        self.up = nn.ConvTranspose2d(4, 4, 3, stride=2, padding=1, output_padding=1)
        self.same = nn.Conv2d(4, 4, 4, padding="same")
        self.adapt = nn.AdaptiveAvgPool2d((3, None))

    def forward(self, x):
        y = self.avg(self.pool(self.conv(self.pad(x))))
        y = self.up(y)
        return self.adapt(self.same(y) + y)


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
@pytest.mark.parametrize("size", [(17, 23), (32, 31), (9, 12)])
def test_walk_equals_executed_shapes_odd_net(size):
    model = OddNet()
    walked = output_shapes(model, (3, *size))
    real = executed_shapes(model, torch.randn(1, 3, *size))
    for name, shape in real.items():
        assert walked[name] == shape, name


@pytest.mark.parametrize("name", ["mobilenet_v1", "mobilenet_v2", "mobilenet_v3_small", "ghostnet"])
def test_walk_equals_executed_shapes_bundled(name):
    model = models.get_model(name)
    walked = output_shapes(model, (3, 45, 67))  # odd sizes exercise the floors
    real = executed_shapes(model, torch.randn(1, 3, 45, 67))
    assert real and all(walked[k] == v for k, v in real.items())


def test_walk_reports_too_small_input():
    with pytest.raises(ValueError, match="output size would be"):
        output_shapes(nn.Sequential(nn.Conv2d(1, 1, 5)), (1, 3, 3))


class PoolUnpool(nn.Module):
    """Max pooling that returns its indices, fed to an unpooling layer (SegNet's decoder)."""

    def __init__(self):
        super().__init__()
        self.pool = nn.MaxPool2d(3, 2, 1, ceil_mode=True, return_indices=True)
        self.unpool = nn.MaxUnpool2d(3, 2, 1)

    def forward(self, x):
        y, indices = self.pool(x)
        return self.unpool(y, indices)


def test_walk_max_pool_with_indices():
    # the pooling layer returns (values, indices); the walk returned one tensor and crashed
    model = PoolUnpool()
    walked = output_shapes(model, (2, 9, 12))
    y, indices = model.pool(torch.zeros(1, 2, 9, 12))
    assert walked["getitem"] == walked["getitem_1"] == tuple(y.shape[1:]) == (2, 5, 7)
    assert walked["unpool"] == tuple(model.unpool(y, indices).shape[1:]) == (2, 9, 13)


def test_walk_of_a_bare_layer():
    # a torch layer given as the model itself, not inside a container
    layer = nn.ConvTranspose2d(3, 4, 3, stride=2, output_padding=1)
    assert output_shapes(layer, (3, 5, 6)) == {"0": tuple(layer(torch.zeros(1, 3, 5, 6)).shape[1:])}


@pytest.mark.parametrize("layer", [nn.Conv2d(3, 4, 3), nn.ConvTranspose2d(3, 4, 3)])
def test_walk_refuses_a_channel_mismatch(layer):
    # the formulas gave shapes for 5 channels into a 3-channel layer; torch refuses it
    with pytest.raises(RuntimeError):
        layer(torch.zeros(1, 5, 8, 8))
    with pytest.raises(
        ValueError, match=r"expects in_channels=3, got an input of shape \(1, 5, 8, 8\)"
    ):
        output_shapes(nn.Sequential(layer), (5, 8, 8))


def test_walk_of_an_input_torch_reads_as_unbatched():
    # (1, 3, 8) into MaxPool2d is an unbatched (C=1, H=3, W=8) map for torch: torch decides
    pool = nn.Sequential(nn.MaxPool2d(2))
    assert output_shapes(pool, (3, 8)) == {"0": tuple(pool(torch.zeros(1, 3, 8)).shape[1:])}


@pytest.mark.parametrize(
    ("layer", "shape"),
    [
        (nn.ReflectionPad2d(3), (2, 2, 5)),  # reflection wider than the input
        (nn.ReflectionPad1d((0, 4)), (2, 4)),
        (nn.Conv2d(2, 2, 3, padding=3, padding_mode="reflect"), (2, 2, 8)),
        (nn.Conv1d(2, 2, 3, padding=3, padding_mode="circular"), (2, 2)),  # wraps twice
        (nn.AvgPool3d(4, 1, 1), (2, 2, 7, 6)),  # kernel larger than the unpadded input
        (nn.ConstantPad1d((2, -2), 0.0), (2, 1)),  # crops more than the input holds
    ],
)
def test_walk_refuses_what_torch_refuses(layer, shape):
    """The formulas gave a shape (e.g. (2, 8, 11) for a 3-wide reflection of a 2 x 5 map) to
    inputs torch refuses; the walk now fails where a run fails."""
    with pytest.raises(RuntimeError):
        layer(torch.zeros(1, *shape))
    with pytest.raises(ValueError, match="model failed on an input of shape"):
        output_shapes(nn.Sequential(layer), shape)


@pytest.mark.parametrize("how", ["positional", "keyword", "list"])
def test_walk_of_a_transposed_conv_given_its_output_size(how):
    # ConvTranspose2d.forward(input, output_size): given positionally it was ignored and the
    # walk reported the formula's (3, 7, 9) where torch gives (3, 8, 10)
    class UpDown(nn.Module):
        def __init__(self):
            super().__init__()
            self.down = nn.Conv2d(2, 2, 3, stride=2, padding=1)
            self.up = nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1)

        def forward(self, x):
            if how == "keyword":
                return self.up(self.down(x), output_size=x.shape[2:])
            return self.up(self.down(x), x.shape[2:] if how == "positional" else [8, 10])

    model = UpDown()
    shapes = output_shapes(model, (2, 8, 10))
    assert shapes["up"] == tuple(model(torch.zeros(1, 2, 8, 10)).shape[1:]) == (3, 8, 10)
