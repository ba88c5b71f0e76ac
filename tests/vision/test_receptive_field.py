"""Receptive fields: the Distill article's table, brute force by gradients, and the closed form."""

import numpy as np
import pytest
import torch
from torch import nn

from mlcanon import models
from mlcanon.vision import ReceptiveField, receptive_field, receptive_field_single_path

# Araujo, Norris & Sim, "Computing Receptive Fields of Convolutional Neural Networks", Distill
# 2019, table "receptive field parameters of popular architectures" (final feature map before
# global pooling / the classifier): r, effective stride S, effective padding P. The article ran
# the TF-slim definitions, whose 'SAME' padding is asymmetric at stride 2 on even sizes.
DISTILL = {
    "alexnet_v2": (195, 32, 64),
    "vgg_16": (212, 32, 90),
    "mobilenet_v1": (315, 32, 126),
    "mobilenet_v1_075": (315, 32, 126),
    "resnet_v1_50": (483, 32, 239),
}


def final(model: nn.Module, size: int = 224) -> ReceptiveField:
    result = receptive_field(model, (3, size, size))
    assert not result.misaligned and not result.unsupported
    return result.final


def alexnet_v2() -> nn.Sequential:
    """TF-slim alexnet_v2 features: conv1 11x11/4 'VALID', 3x3/2 pools, 'SAME' convs."""
    return nn.Sequential(
        nn.Conv2d(3, 64, 11, 4), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.Conv2d(64, 192, 5, padding=2), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.Conv2d(192, 384, 3, padding=1), nn.ReLU(),
        nn.Conv2d(384, 384, 3, padding=1), nn.ReLU(),
        nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(), nn.MaxPool2d(3, 2),
    )  # fmt: skip


def tf_same_padding(model: nn.Module) -> nn.Module:
    """Replace the symmetric padding of stride-2 3x3 convs by TF's 'SAME' on even inputs
    (nothing on the left, one on the right)."""
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if (
                isinstance(child, nn.Conv2d)
                and child.stride == (2, 2)
                and child.kernel_size == (3, 3)
            ):
                child.padding = (0, 0)
                setattr(parent, name, nn.Sequential(nn.ZeroPad2d((0, 1, 0, 1)), child))
    return model


class Bottleneck(nn.Module):
    """TF-slim resnet_v1 bottleneck: 1x1, 3x3 (stride, symmetric pad 1), 1x1, + shortcut."""

    def __init__(self, c_in: int, depth: int, stride: int):
        super().__init__()
        self.residual = nn.Sequential(
            nn.Conv2d(c_in, depth // 4, 1),
            nn.ReLU(),
            nn.Conv2d(depth // 4, depth // 4, 3, stride, padding=1),
            nn.ReLU(),
            nn.Conv2d(depth // 4, depth, 1),
        )
        self.shortcut = nn.Conv2d(c_in, depth, 1, stride) if c_in != depth or stride > 1 else None

    def forward(self, x):
        s = x if self.shortcut is None else self.shortcut(x)
        return torch.relu(self.residual(x) + s)


def resnet_v1_50() -> nn.Sequential:
    """TF-slim resnet_v1_50 features: the stride of each block sits on its *last* unit."""
    layers = [nn.Conv2d(3, 64, 7, 2, padding=3), nn.ReLU(), nn.ZeroPad2d((0, 1, 0, 1)),
              nn.MaxPool2d(3, 2)]  # fmt: skip
    c_in = 64
    for depth, units, stride in [(256, 3, 2), (512, 4, 2), (1024, 6, 2), (2048, 3, 1)]:
        for u in range(units):
            layers.append(Bottleneck(c_in, depth, stride if u == units - 1 else 1))
            c_in = depth
    return nn.Sequential(*layers)


def on_meta(build):
    with torch.device("meta"):
        return build()


@pytest.mark.parametrize(
    ("name", "build"),
    [
        ("alexnet_v2", alexnet_v2),
        ("vgg_16", models.vgg16),
        ("mobilenet_v1", lambda: tf_same_padding(models.mobilenet_v1())),
        ("mobilenet_v1_075", lambda: tf_same_padding(models.mobilenet_v1(width_mult=0.75))),
        ("resnet_v1_50", resnet_v1_50),
    ],
)
def test_distill_table(name, build):
    rf = final(on_meta(build))
    assert (rf.size, rf.stride, rf.padding) == (
        (DISTILL[name][0],) * 2,
        (32, 32),
        (DISTILL[name][2],) * 2,
    )


def test_mobilenet_v1_with_torch_padding():
    # Symmetric padding 1 at the five stride-2 convs adds S_{l-1} = 1 + 2 + 4 + 8 + 16 = 31 to
    # the effective padding of the TF model (126): size and stride are unchanged.
    rf = final(on_meta(models.mobilenet_v1))
    assert (rf.size, rf.stride, rf.padding) == ((315, 315), (32, 32), (157, 157))


@pytest.mark.parametrize("seed", range(4))
def test_graph_algorithm_equals_closed_form(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 7))
    k, s, d = rng.integers(1, 6, (3, n, 2))
    d = np.minimum(d, 3)
    s = np.minimum(s, 3)
    p = np.minimum(rng.integers(0, 4, (n, 2)), k // 2)
    layers = []
    for i in range(n):
        args = dict(kernel_size=tuple(k[i]), stride=tuple(s[i]), padding=tuple(p[i]))
        if i % 2:
            layers.append(nn.MaxPool2d(**args, dilation=tuple(d[i])))
        else:
            layers.append(nn.Conv2d(2, 2, **args, dilation=tuple(d[i]), device="meta"))
    rf = receptive_field(nn.Sequential(*layers), (2, 3000, 3000)).final  # meta: no cost
    for axis in range(2):
        ref = receptive_field_single_path(
            k[:, axis].tolist(), s[:, axis].tolist(), p[:, axis].tolist(), d[:, axis].tolist()
        )
        assert (rf.size[axis], rf.stride[axis], rf.padding[axis]) == (
            ref.size[0],
            ref.stride[0],
            ref.padding[0],
        )


def test_closed_form_hand_case():
    # two 3x3 convs then a 2x2/2 pool then a 3x3 conv: r = 1 + 2 + 2 + 1 + 2*2 = 10
    rf = receptive_field_single_path([3, 3, 2, 3], [1, 1, 2, 1], [1, 1, 0, 1])
    assert (rf.size, rf.stride, rf.padding) == ((10,), (2,), (4,))
    assert rf.region((3,)) == ((2, 11),)  # [u S - P, u S - P + r - 1]


def gradient_region(model: nn.Module, shape: tuple, index: tuple) -> tuple:
    """Brute force: the input box where d out[0, 0, index] / d input is non-zero (the part of
    the field inside the input)."""
    x = torch.ones(1, *shape, dtype=torch.float64, requires_grad=True)
    out = model(x)
    out[(0, 0, *index)].backward()
    nz = np.nonzero(x.grad[0].abs().sum(0).numpy())
    return tuple((int(a.min()), int(a.max())) for a in nz)


def positive(model: nn.Module, low: float = 0.5, high: float = 1.0) -> nn.Module:
    """Positive float64 weights: no gradient cancels, so the support is the whole field."""
    model = model.double()
    with torch.no_grad():
        for prm in model.parameters():
            prm.uniform_(low, high)
    return model


def clip(region: tuple, shape: tuple) -> tuple:
    return tuple((max(a, 0), min(b, n - 1)) for (a, b), n in zip(region, shape[1:], strict=True))


class TwoPath(nn.Module):
    """Residual merge of a dilated 3x3 path and a 5x5 path, both centred, then a pool."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(2, 3, 3, stride=2, padding=1)
        self.a = nn.Conv2d(3, 3, 3, padding=2, dilation=2)
        self.b = nn.Sequential(nn.Conv2d(3, 3, 5, padding=2), nn.AvgPool2d(3, 1, 1))
        self.head = nn.Conv2d(3, 2, (3, 1), stride=(2, 1), padding=(1, 0))

    def forward(self, x):
        y = self.stem(x)
        return self.head(self.a(y) + self.b(y))


NETS = {
    "chain": lambda: nn.Sequential(
        nn.Conv2d(2, 3, 3, 2), nn.AvgPool2d(2, 2), nn.Conv2d(3, 2, 3, padding=1, dilation=2)
    ),
    "asymmetric": lambda: nn.Sequential(
        nn.Conv2d(2, 3, (5, 3), (1, 2), (2, 0)), nn.ZeroPad2d((1, 0, 2, 1)), nn.Conv2d(3, 2, 3, 2)
    ),
    "two_path": TwoPath,
}


@pytest.mark.parametrize("net", sorted(NETS))
@pytest.mark.parametrize("index", [(3, 4), (5, 2)])
def test_brute_force_gradient(net, index):
    model = positive(NETS[net]())
    shape = (2, 61, 57)  # large enough for the fields of these units to lie inside
    rf = receptive_field(model, shape).final
    assert clip(rf.region(index), shape) == gradient_region(model, shape, index)


def test_squeeze_excitation_sees_the_whole_input():
    # small weights keep the hard-sigmoid gate in its linear part, where it has a gradient
    se = models.SqueezeExcitation(4, 2)
    model = positive(nn.Sequential(nn.Conv2d(2, 4, 3), se), 0.01, 0.02)
    result = receptive_field(model, (2, 20, 20))
    assert result.final.size == (3, 3) and result.final.global_context
    assert str(result.final) == "3*"
    assert gradient_region(model, (2, 20, 20), (5, 5)) == ((0, 19), (0, 19))
    assert receptive_field(models.mobilenet_v3_small(), (3, 64, 64)).final.global_context


class Misaligned(nn.Module):
    """Two 3x3 paths: one padded symmetrically, one padded only on the left by 2."""

    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(1, 1, 3, padding=1)
        self.b = nn.Sequential(nn.ZeroPad2d((2, 0, 2, 0)), nn.Conv2d(1, 1, 3))

    def forward(self, x):
        return self.a(x) + self.b(x)


def test_misaligned_paths_are_reported():
    result = receptive_field(Misaligned(), (1, 10, 10))
    (m,) = result.misaligned
    assert m.node == "add"
    assert sorted(m.centers) == [(-1.0, -1.0), (0.0, 0.0)]  # centres of unit 0's field
    assert result.final.size == (4, 4) and result.final.padding == (2, 2)  # union of [-1,1], [-2,0]


class StrideMismatch(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(1, 1, 1, stride=2)
        self.b = nn.Conv2d(1, 1, 5)

    def forward(self, x):
        return self.a(x) + self.b(x)  # both 4x4 from an 8x8 input, strides 2 and 1


def test_stride_mismatch_has_no_field():
    result = receptive_field(StrideMismatch(), (1, 8, 8))
    assert result.layers["add"] is None
    assert result.misaligned[0].strides == ((2, 2), (1, 1))


def test_unsupported_layers_are_listed():
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ConvTranspose2d(2, 1, 2, 2), nn.Conv2d(1, 1, 3))
    result = receptive_field(net, (1, 12, 12))
    assert result.unsupported == ["1"]
    assert result.layers["2"] is None and result.final.size == (3, 3)


def test_classifier_fields():
    result = receptive_field(on_meta(models.vgg16), (3, 224, 224))
    assert (
        result.layers["classifier.0"].is_global and str(result.layers["classifier.0"]) == "global"
    )
    assert result.layers["avgpool"].size == (212, 212)  # 7x7 -> 7x7 adaptive pooling is a no-op


def test_errors():
    with pytest.raises(ValueError, match="strides has 1 entries, expected 2"):
        receptive_field_single_path([3, 3], [1])
    with pytest.raises(ValueError, match="kernel_sizes must be ints >= 1"):
        receptive_field_single_path([0], [1])
    with pytest.raises(ValueError, match="index must have 1 entries"):
        receptive_field_single_path([3], [1]).region((1, 2))
    with pytest.raises(ValueError, match="input must have spatial axes"):
        receptive_field(nn.Linear(3, 2), (3,))
    with pytest.raises(ValueError, match="input_shape must be positive ints"):
        receptive_field(nn.Conv2d(1, 1, 1), (1, 0, 4))
    with pytest.raises(TypeError, match=r"model must be a torch\.nn\.Module"):
        receptive_field(lambda x: x, (1, 4, 4))


class FunctionalWindows(nn.Module):
    """Sliding windows written as functions: F.conv2d with padding='same' (was 'unsupported'),
    F.avg_pool2d and F.max_pool2d (both were 'unsupported'), so the final field was reported
    as the input's own (1)."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.rand(2, 2, 4, 3) + 0.5)
        self.v = nn.Parameter(torch.rand(2, 2, 3, 3) + 0.5)

    def forward(self, x):
        x = torch.nn.functional.conv2d(x, self.w, None, 1, "same", 2)  # even kernel, dilated
        x = torch.nn.functional.avg_pool2d(x, 3, 2, 1)
        x = torch.nn.functional.conv2d(x, self.v, padding="valid", dilation=(1, 2))
        return torch.nn.functional.avg_pool2d(x, (2, 3), stride=1)


def test_functional_windows_match_the_gradient_support():
    model, shape = positive(FunctionalWindows()), (2, 40, 37)
    result = receptive_field(model, shape)
    assert result.unsupported == []
    out = model(torch.zeros(1, *shape, dtype=torch.float64)).shape[2:]
    for index in [(out[0] // 2, out[1] // 2), (3, 4), (out[0] - 4, out[1] - 5)]:
        region = result.final.region(index)
        assert clip(region, shape) == region  # inside the input: the support is the box
        assert gradient_region(model, shape, index) == region


def test_functional_max_pool_window():
    class Pool(nn.Module):
        def forward(self, x):
            return torch.nn.functional.max_pool2d(x, 3, stride=2, padding=1, dilation=2)

    rf = receptive_field(Pool(), (1, 20, 20)).final
    # one dilated window: r = 2 (3 - 1) + 1 = 5, S = 2, P = 1 (closed form, Distill eq. 2-5)
    assert (rf.size, rf.stride, rf.padding) == ((5, 5), (2, 2), (1, 1))


@pytest.mark.parametrize("insert", ["getitem", "unsqueeze"])
def test_window_after_a_new_axis_is_unsupported_not_a_crash(insert):
    # x[:, None] / x.unsqueeze(2) then a 3-d window: the 2-axis field met a 3-axis window and
    # receptive_field and profile raised "zip() argument 4 is longer than arguments 1-3"
    class NewAxis(nn.Module):
        def __init__(self):
            super().__init__()
            self.pool = nn.AvgPool3d((1, 2, 2))

        def forward(self, x):
            return self.pool(x[:, None] if insert == "getitem" else x.unsqueeze(2))

    result = receptive_field(NewAxis(), (2, 8, 8))
    assert result.unsupported == ["pool"] and result.layers["pool"] is None
    from mlcanon.vision import profile

    p = profile(NewAxis(), (2, 8, 8))
    out = NewAxis()(torch.zeros(1, 2, 8, 8))
    assert p.flops == out.numel() * 4  # 4 FLOPs per output of a 1x2x2 average
    assert p.layers[-1].output_shape == tuple(out.shape[1:])


def test_reduction_over_a_spatial_axis_is_not_pointwise():
    # a C = H = W map: y.mean(-1) and y.amax(1) both give (1, 8, 8); the shape rule called
    # both "channel reductions" (pointwise), so mean(-1) kept a 3x3 field although each of its
    # outputs depends on a whole row of the input (autograd below)
    class Reduce(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(8, 8, 3, padding=1)

        def forward(self, x):
            y = self.conv(x)
            return y.mean(-1), y.amax(1), y.sum(dim=(1,), keepdim=True), torch.max(y, x)

    model = positive(Reduce())
    result = receptive_field(model, (8, 8, 8))
    x = torch.rand(1, 8, 8, 8, dtype=torch.float64, requires_grad=True)
    model(x)[0][0, 0, 3].backward()  # one output of mean(-1)
    cols = np.nonzero(x.grad[0].abs().sum((0, 1)).numpy())[0]
    assert (cols.min(), cols.max()) == (0, 7)  # the whole width: no 3-wide field holds it
    assert result.layers["mean"].is_global
    for name in ("amax", "sum_1", "max_1"):  # channel reductions and an elementwise max
        assert result.layers[name].size == (3, 3), name


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate"])
def test_functional_pad_is_a_shift(mode):
    # F.pad (TF-style asymmetric 'same' padding) was 'unsupported': no field past it; it is a
    # 1x1 window with the left paddings, listed last axis first as in torch
    class Padded(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Conv2d(2, 2, 3, stride=2)
            self.b = nn.Conv2d(2, 2, 3)

        def forward(self, x):
            x = self.a(torch.nn.functional.pad(x, (0, 1, 2, 1), mode=mode))  # left 0, top 2
            last_only = [1, 1] if mode == "constant" else [1, 1, 0, 0]  # torch needs 4 there
            return self.b(torch.nn.functional.pad(x, last_only, mode=mode))

    model, shape = positive(Padded()), (2, 31, 30)
    result = receptive_field(model, shape)
    assert result.unsupported == []
    out = model(torch.zeros(1, *shape, dtype=torch.float64)).shape[2:]
    for index in [(out[0] // 2, out[1] // 2), (4, 3), (out[0] - 3, out[1] - 3)]:
        region = result.final.region(index)
        assert clip(region, shape) == region
        assert gradient_region(model, shape, index) == region
    from mlcanon.vision import profile

    assert profile(model, shape).uncounted == ()


def test_no_final_field_when_the_first_layer_is_unsupported():
    # Upsample first (opaque): no layer's field is known, yet final was the input's own field
    # (size 1), while a 3x3 conv after a 2x upsampling reads 2x2 input pixels (autograd)
    model = positive(nn.Sequential(nn.Upsample(scale_factor=2), nn.Conv2d(1, 1, 3)))
    result = receptive_field(model, (1, 8, 8))
    assert result.unsupported == ["0"] and result.final is None
    assert gradient_region(model, (1, 8, 8), (5, 5)) == ((2, 3), (2, 3))
