"""Profiler: parameter counts, hand-counted MACs, and agreement with fvcore and thop.

fvcore and thop both report multiply-accumulates ("flops" / "macs"). They agree with our MAC
column on convolutions and linear layers; elsewhere each counter has its own convention, and
the tests below check that the differences are exactly the documented ones:

* fvcore: batch norm in eval = 2 per element (= our FLOPs), adaptive average pooling = 1 per
  input element (= our FLOPs), activations and additions not counted.
* thop 0.1.x: batch norm = 4 per element with affine (twice our FLOPs), adaptive average
  pooling = (window + 1) per output (ours + 1 per output), ReLU/ReLU6 = 0, and a transposed
  conv = output elements x C_in / groups x prod(kernel) instead of input elements x C_out /
  groups x prod(kernel).
"""

import copy

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from mlcanon import models
from mlcanon.vision import check_input_shape, profile


class Small(nn.Module):
    """A bit of everything, with hand-countable costs on a 3x17x19 input."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)  # bias
        self.bn = nn.BatchNorm2d(8)
        self.dw = nn.Conv2d(8, 8, 3, stride=2, groups=8, bias=False)
        self.pool = nn.MaxPool2d(2)
        self.w = nn.Parameter(torch.randn(6, 8, 1, 1))
        self.fc = nn.Linear(6, 5)

    def forward(self, x):
        y = F.relu(self.bn(self.conv(x)))  # (8, 17, 19)
        y = self.pool(self.dw(y))  # (8, 8, 9) -> (8, 4, 4)
        y = F.conv2d(y, self.w)  # functional conv with a parameter: (6, 4, 4)
        y = y + 1.0
        return self.fc(F.adaptive_avg_pool2d(y, 1).flatten(1))


def test_hand_counts_small_net():
    p = profile(Small(), "3x17x19")
    rows = {r.name: r for r in p.layers}
    assert rows["conv"].macs == 8 * 17 * 19 * 3 * 9
    assert rows["conv"].flops == 2 * 8 * 17 * 19 * 3 * 9 + 8 * 17 * 19  # + bias adds
    assert rows["bn"].flops == 2 * 8 * 17 * 19 and rows["bn"].macs == 0
    assert rows["relu"].flops == 8 * 17 * 19
    assert rows["dw"].macs == 8 * 8 * 9 * 9  # one 3x3 filter per channel
    assert rows["pool"].flops == 8 * 4 * 4 * 3  # 4 - 1 comparisons per output
    assert rows["conv2d"].macs == 6 * 4 * 4 * 8 and rows["conv2d"].params == 48
    assert rows["add"].flops == 6 * 4 * 4
    assert rows["adaptive_avg_pool2d"].flops == 6 * 16  # 15 adds + 1 division per channel
    assert rows["fc"].macs == 30 and rows["fc"].flops == 65
    assert rows["fc"].output_shape == (5,) and rows["dw"].output_shape == (8, 8, 9)
    assert p.macs == sum(r.macs for r in p.layers)
    assert p.uncounted == ()


@pytest.mark.parametrize("name", models.list_models())
def test_params_equal_numel(name):
    with torch.device("meta"):
        model = models.get_model(name)
    p = profile(model, (3, 224, 224))
    assert p.params == sum(prm.numel() for prm in model.parameters())
    assert sum(r.params for r in p.layers) == p.params  # every parameter is used once


def test_shared_and_unused_parameters():
    class Shared(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(2, 2, 3, padding=1)
            self.unused = nn.Linear(4, 4)

        def forward(self, x):
            return self.conv(self.conv(x))  # called twice: counted once, costed twice

    p = profile(Shared(), (2, 5, 5))
    assert p.params == 2 * 2 * 9 + 2 + 20
    assert sum(r.params for r in p.layers) == 38
    assert p.macs == 2 * (2 * 25 * 2 * 9)


def test_transposed_conv_and_norms():
    net = nn.Sequential(
        nn.ConvTranspose2d(4, 6, 3, stride=2, groups=2),  # 5x5 -> 11x11
        nn.GroupNorm(3, 6),
        nn.Hardswish(),
        nn.AvgPool2d(3, 2, ceil_mode=True),  # 11 -> 5
        nn.Upsample(scale_factor=2, mode="bilinear"),
    )
    p = profile(net, (4, 5, 5))
    rows = {r.name: r for r in p.layers}
    assert rows["0"].macs == 4 * 25 * 3 * 9  # input elements x C_out/groups x k^2
    assert rows["0"].flops == 2 * rows["0"].macs + 6 * 121
    assert rows["1"].flops == 7 * 6 * 121  # 5 + 2 (affine) per element
    assert rows["2"].flops == 5 * 6 * 121
    assert rows["3"].flops == 9 * 6 * 25
    assert p.uncounted == ("Upsample",) and not rows["4"].counted
    assert "no counting rule" in p.table()


@pytest.mark.parametrize("name", ["mobilenet_v2", "ghostnet"])
def test_agrees_with_fvcore(name):
    fvcore = pytest.importorskip("fvcore.nn")
    model = models.get_model(name).eval()
    analysis = fvcore.FlopCountAnalysis(model, torch.zeros(1, 3, 64, 64))
    analysis.unsupported_ops_warnings(False)
    analysis.uncalled_modules_warnings(False)
    by_module = analysis.by_module()
    p = profile(model, (3, 64, 64))
    rows = [r for r in p.layers if r.type in ("Conv2d", "Linear")]
    assert rows and all(r.macs == by_module[r.name] for r in rows)
    by_op = analysis.by_operator()
    by_type = p.by_type()
    assert by_op["conv"] == by_type["Conv2d"][2]
    assert by_op["linear"] == by_type["Linear"][2]
    assert by_op["batch_norm"] == by_type["BatchNorm2d"][3]  # eval: 2 per element, both


def test_agrees_with_fvcore_transposed_conv():
    fvcore = pytest.importorskip("fvcore.nn")
    net = nn.Sequential(nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, groups=2)).eval()
    analysis = fvcore.FlopCountAnalysis(net, torch.zeros(1, 4, 7, 5))
    assert analysis.total() == profile(net, (4, 7, 5)).macs


@pytest.mark.parametrize("name", ["mobilenet_v1", "mobilenet_v2"])
def test_agrees_with_thop(name):
    thop = pytest.importorskip("thop")
    model = models.get_model(name)
    # thop leaves counter buffers on modules it has no rule for: give it a copy
    macs, params = thop.profile(copy.deepcopy(model), (torch.zeros(1, 3, 64, 64),), verbose=False)
    p = profile(model, (3, 64, 64))
    t = p.by_type()
    bn, pool = t["BatchNorm2d"][3], t["AdaptiveAvgPool2d"][3]
    n_pooled = next(r for r in p.layers if r.type == "AdaptiveAvgPool2d").output_shape[0]
    assert params == p.params
    assert macs == p.macs + 2 * bn + pool + n_pooled  # the documented differences, exactly


def test_thop_transposed_conv_convention():
    thop = pytest.importorskip("thop")
    net = nn.Sequential(nn.ConvTranspose2d(4, 6, 3, stride=2, groups=2, bias=False))
    macs, _ = thop.profile(copy.deepcopy(net), (torch.zeros(1, 4, 5, 5),), verbose=False)
    assert profile(net, (4, 5, 5)).macs == 4 * 25 * 3 * 9  # what the layer multiplies
    assert macs == 6 * 121 * 2 * 9  # thop: output elements x C_in/groups x k^2


def test_meta_model_and_published_vgg16_count():
    with torch.device("meta"):
        model = models.vgg16()
    p = profile(model, (3, 224, 224))
    assert p.params == 138_357_544  # torchvision's published vgg16 parameter count
    conv_macs = p.by_type()["Conv2d"][2]
    assert round(conv_macs / 1e9, 2) == 15.35  # the familiar "15.3 G multiply-adds" of VGG-16


def test_training_flags_restored_and_table():
    model = models.mobilenet_v3_small()
    model.train()
    model.classifier.eval()
    p = profile(model, [3, 64, 64])
    assert model.training and not model.classifier.training
    text = str(p)
    assert text.splitlines()[0].split() == [
        "layer",
        "type",
        "output",
        "params",
        "MACs",
        "FLOPs",
        "RF",
    ]
    assert f"{p.params:,}" in text.splitlines()[-3] and "1 MAC = 2 FLOPs" in text
    assert "RF with *" in text  # squeeze-excitation gives global context
    assert len(p.table(skip_zero=True).splitlines()) < len(text.splitlines())


def test_check_input_shape():
    assert check_input_shape("3x224x224") == (3, 224, 224)
    assert check_input_shape(" 1, 28, 28 ") == (1, 28, 28)
    with pytest.raises(ValueError, match="input_shape must look like '3x224x224'"):
        check_input_shape("3x224xa")
    with pytest.raises(ValueError, match="input_shape must be positive ints"):
        check_input_shape((3, -1))
    # NumPy integers and arrays of sizes were refused as "not positive ints"
    np = pytest.importorskip("numpy")
    assert check_input_shape(np.array([3, 8, 8])) == check_input_shape((np.int64(3), 8, 8))
    assert check_input_shape(torch.Size([3, 8, 8])) == (3, 8, 8)
    with pytest.raises(ValueError, match="input_shape must be positive ints"):
        check_input_shape(np.array([3.5, 8.0]))


def test_errors():
    class Branchy(nn.Module):
        def forward(self, x):
            return x if x.sum() > 0 else -x  # data-dependent control flow

    with pytest.raises(ValueError, match=r"cannot be traced by torch\.fx"):
        profile(Branchy(), (1, 4, 4))
    with pytest.raises(ValueError, match="model failed on an input of shape"):
        profile(nn.Conv2d(3, 4, 3), (2, 8, 8))
    with pytest.raises(TypeError, match=r"model must be a torch\.nn\.Module"):
        profile("mobilenet_v2", (3, 8, 8))


@pytest.mark.parametrize(
    ("layer", "shape"),
    [
        (nn.ConvTranspose2d(3, 4, 3, stride=2), (3, 5, 5)),
        (nn.BatchNorm2d(3), (3, 4, 4)),
        (nn.Conv2d(4, 8, 3, padding=1, groups=2, padding_mode="reflect"), (4, 9, 9)),
    ],
)
def test_bare_layer_agrees_with_fvcore(layer, shape):
    # a torch layer given as the model itself: a transposed conv or a batch norm could not be
    # traced at all, a reflect-padded conv was counted through its functional call
    fvcore = pytest.importorskip("fvcore.nn")
    analysis = fvcore.FlopCountAnalysis(layer.eval(), torch.zeros(1, *shape))
    p = profile(layer, shape)
    assert p.uncounted == () and len(p.layers) == 1
    counted = p.flops if isinstance(layer, nn.BatchNorm2d) else p.macs  # see the module notes
    assert counted == analysis.total()


def test_bare_recurrent_layer_and_pooling():
    # LSTM: per step, layer and direction 4 H (I_l + H) multiply-adds (written out)
    lstm = nn.LSTM(5, 7, num_layers=2, bidirectional=True)
    steps_times_batch = 4
    expected = steps_times_batch * (2 * 4 * 7 * (5 + 7) + 2 * 4 * 7 * (2 * 7 + 7))
    assert profile(lstm, (4, 5)).macs == expected
    # a bare max pooling layer costs what it costs inside a container: kernel - 1 per output
    bare, wrapped = (
        profile(nn.MaxPool2d(2), (3, 4, 4)),
        profile(nn.Sequential(nn.MaxPool2d(2)), (3, 4, 4)),
    )
    assert bare.flops == wrapped.flops == 3 * 2 * 2 * 3 and bare.uncounted == ()


def test_channel_mismatch_of_a_transposed_conv_is_refused():
    # torch's meta kernel does not check a transposed conv's channels: it was counted silently
    net = nn.Sequential(nn.ConvTranspose2d(3, 4, 3))
    with pytest.raises(RuntimeError):
        net(torch.zeros(1, 5, 8, 8))
    with pytest.raises(ValueError, match=r"layer '0' \(ConvTranspose2d\) expects in_channels=3"):
        profile(net, (5, 8, 8))


def _torch_flops(model, x):
    """torch's own counter (torch.utils.flop_counter): 2 FLOPs per multiply-add of every
    mm / addmm / bmm / baddbmm the forward actually runs."""
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model.eval()(x)
    return counter.get_total_flops()


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"add_bias_kv": True},
        {"add_zero_attn": True},
        {"add_bias_kv": True, "add_zero_attn": True},
    ],
)
@pytest.mark.parametrize("n_keys", [5, 3])
def test_attention_macs_with_extra_keys_equal_torch_counter(options, n_keys):
    # add_bias_kv / add_zero_attn append one key (and value) each after the in-projection:
    # every query scores and weighs it (we counted L_k keys, 2 L_q E MACs short per extra key)
    class Attend(nn.Module):
        def __init__(self):
            super().__init__()
            self.mha = nn.MultiheadAttention(8, 2, batch_first=True, kdim=6, vdim=5, **options)

        def forward(self, x):
            k = x[:, :n_keys]
            return self.mha(x, k[..., :6], k[..., :5], need_weights=True)[0]

    model = Attend()
    p = profile(model, (7, 8))
    assert 2 * p.macs == _torch_flops(model, torch.randn(1, 7, 8))
    assert p.uncounted == ()


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("num_layers", [1, 2, 3])
def test_lstm_with_projection_macs_equal_torch_counter(bidirectional, num_layers):
    # proj_size > 0 was not counted at all (listed as uncounted, 0 MACs)
    model = nn.LSTM(5, 7, num_layers, batch_first=True, bidirectional=bidirectional, proj_size=3)
    p = profile(model, (6, 5))
    assert p.uncounted == ()
    assert 2 * p.macs == _torch_flops(model, torch.randn(1, 6, 5))
    # per step: 4 H (I_l + P) + P H per direction; I_0 = 5, then I_l = D P
    d = 2 if bidirectional else 1
    widths = [5] + [d * 3] * (num_layers - 1)
    assert p.macs == 6 * sum(d * (4 * 7 * (w + 3) + 3 * 7) for w in widths)


def test_pooling_flops_of_an_unbatched_input():
    # (1, 7, 9) into a 2-d pooling layer is an unbatched (C=1, H=7, W=9) map for torch; the
    # int kernel_size of max pooling was expanded to the input's rank minus 2 (one axis), and
    # adaptive pooling took the first two axes for batch and channel
    x = torch.randn(1, 7, 9)
    for layer, per_output in [
        (nn.MaxPool2d(2), 2 * 2 - 1),
        (nn.MaxPool2d(3, stride=1, padding=1), 3 * 3 - 1),
        (nn.AvgPool2d(2), 2 * 2),
    ]:
        n_out = layer(x).numel()  # torch runs it unbatched
        assert profile(layer, (7, 9)).flops == n_out * per_output, layer
    assert profile(nn.MaxPool1d(3), (5,)).flops == nn.MaxPool1d(3)(torch.randn(1, 5)).numel() * 2

    # adaptive average pooling: the sum of its window sizes is the number of nonzero entries
    # of its Jacobian (each output reads exactly its window)
    class Functional(nn.Module):
        def forward(self, x):
            return F.adaptive_avg_pool2d(x, (3, 4))

    for layer in (nn.AdaptiveAvgPool2d((3, 4)), Functional()):
        jac = torch.autograd.functional.jacobian(layer, x)
        assert profile(layer, (7, 9)).flops == int((jac != 0).sum()), layer
    # a max over a window of w elements takes w - 1 comparisons; the windows are the average
    # pool's (torch uses the same start/end indices)
    windows = int((torch.autograd.functional.jacobian(nn.AdaptiveAvgPool2d((3, 4)), x) != 0).sum())
    assert profile(nn.AdaptiveMaxPool2d((3, 4)), (7, 9)).flops == windows - 3 * 4


@pytest.mark.parametrize(
    "layer, shape",
    [
        (nn.CircularPad1d(2), (2, 5)),
        (nn.CircularPad2d((1, 2, 0, 1)), (2, 5, 6)),
        (nn.CircularPad3d(1), (2, 3, 4, 5)),
        (nn.ReflectionPad3d(1), (2, 3, 4, 5)),
        (nn.ReplicationPad3d((1, 0, 2, 1, 0, 1)), (2, 3, 4, 5)),
    ],
)
def test_every_padding_layer_is_counted_as_a_copy(layer, shape):
    # these were listed as uncounted ("(?)" in the table) while ZeroPad / ReflectionPad2d were
    # counted; torch's own counter finds no arithmetic in any of them
    p = profile(layer, shape)
    assert p.uncounted == ()
    assert p.layers[0].flops == _torch_flops(layer, torch.randn(1, *shape)) == 0
    assert p.layers[0].output_shape == tuple(layer(torch.randn(1, *shape)).shape[1:])


def test_functional_pooling_is_counted():
    # F.max_pool2d / F.avg_pool{1,2,3}d were listed as uncounted (0 FLOPs)
    class Pools(nn.Module):
        def forward(self, x):
            y = F.max_pool2d(x, 3, stride=2, padding=1)
            z = F.avg_pool2d(y, kernel_size=(2, 3), stride=1)
            return F.max_pool1d(z.flatten(2), 4), F.avg_pool3d(x[:, None], 2)

    p = profile(Pools(), (2, 11, 13))
    assert p.uncounted == ()
    x = torch.randn(1, 2, 11, 13)
    y = F.max_pool2d(x, 3, stride=2, padding=1)
    z = F.avg_pool2d(y, kernel_size=(2, 3), stride=1)
    rows = {r.name: r.flops for r in p.layers}
    assert rows["max_pool2d"] == y.numel() * (3 * 3 - 1)
    assert rows["avg_pool2d"] == z.numel() * 2 * 3
    assert rows["max_pool1d"] == F.max_pool1d(z.flatten(2), 4).numel() * 3
    assert rows["avg_pool3d"] == F.avg_pool3d(x[:, None], 2).numel() * 8


@pytest.mark.parametrize("variant", ["plain", "mask", "causal", "gqa", "3d"])
def test_scaled_dot_product_attention_macs_equal_torch_counter(variant):
    # F.scaled_dot_product_attention was uncounted (0 MACs); torch's counter, with the math
    # backend, counts the two batched products it runs
    from torch.nn.attention import SDPBackend, sdpa_kernel

    class Attend(nn.Module):
        def forward(self, x):  # x: (N, 12, 5, 8): 12 = query heads, 5 queries of size 8
            q = x[:, :, :, :4]
            if variant == "3d":  # no head axis: (N, L, E)
                q, k, v = q[:, 0], x[:, 0, :3, 4:], x[:, 0, :3, 2:]
            elif variant == "gqa":  # 4 key/value heads shared by groups of 3 query heads
                k, v = x[:, :4, :3, 4:], x[:, :4, :3, 2:]
            else:
                k, v = x[:, :, :3, 4:], x[:, :, :3, 2:]  # 3 keys; values of size 6
            mask = x[0, 0, :, :3] if variant == "mask" else None  # additive, float
            return F.scaled_dot_product_attention(
                q, k, v, attn_mask=mask, is_causal=variant == "causal", enable_gqa=variant == "gqa"
            )

    x = torch.randn(1, 12, 5, 8)
    p = profile(Attend(), (12, 5, 8))
    assert p.uncounted == ()
    with sdpa_kernel(SDPBackend.MATH):
        expected = _torch_flops(Attend(), x)
    assert 2 * p.macs == expected
    heads = 1 if variant == "3d" else 12
    assert p.macs == heads * 5 * 3 * (4 + 6)  # closed form: scores L S E + values L S Ev


def test_functional_norms_are_counted_as_the_modules():
    # F.batch_norm, F.layer_norm, F.group_norm and F.instance_norm were uncounted (0 FLOPs);
    # fvcore counts each norm's elements too (affine batch norm in eval: 2 per element, as ours)
    class Norms(nn.Module):
        def __init__(self):
            super().__init__()
            self.w, self.b = nn.Parameter(torch.ones(4)), nn.Parameter(torch.zeros(4))
            self.register_buffer("mean", torch.zeros(4))
            self.register_buffer("var", torch.ones(4))

        def forward(self, x):
            return (
                F.batch_norm(x, self.mean, self.var, training=False),
                F.layer_norm(x, (5,)),
                F.group_norm(x, 2, self.w, self.b),
                F.instance_norm(x, None, None, self.w, self.b),
            )

    p = profile(Norms(), (4, 3, 5))
    assert p.uncounted == ()
    n = 4 * 3 * 5
    rows = {r.name: r.flops for r in p.layers}
    # closed forms of the documented rule: 2 per element; 5, plus 2 with weight and bias
    assert rows == {
        "batch_norm": 2 * n,
        "layer_norm": 5 * n,
        "group_norm": 7 * n,
        "instance_norm": 7 * n,
    }

    from fvcore.nn import FlopCountAnalysis

    class BatchNormOnly(Norms):
        def forward(self, x):
            return F.batch_norm(x, self.mean, self.var, self.w, self.b, training=False)

    counter = FlopCountAnalysis(BatchNormOnly().eval(), torch.randn(1, 4, 3, 5))
    counter.unsupported_ops_warnings(False)
    assert counter.total() == profile(BatchNormOnly(), (4, 3, 5)).flops


def test_functional_norms_carry_global_context_in_the_field():
    # they were 'unsupported' (no field past them); like the modules they are pointwise with
    # statistics over the map: one output depends on every input position (autograd)
    from mlcanon.vision import receptive_field

    class GroupNormed(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(4, 4, 3, padding=1)

        def forward(self, x):
            return F.group_norm(self.conv(x), 2)

    model = GroupNormed().double()
    result = receptive_field(model, (4, 6, 7))
    assert result.unsupported == []
    rf = result.layers["group_norm"]
    assert rf.size == (3, 3) and rf.global_context
    x = torch.randn(1, 4, 6, 7, dtype=torch.float64, requires_grad=True)
    model(x)[0, 0, 2, 3].backward()
    assert bool((x.grad[0].abs().sum(0) != 0).all())  # the whole map, beyond the 3x3 field


@pytest.mark.parametrize(
    "layer, per_element",
    [
        (nn.LayerNorm(5), 5 + 2),
        (nn.LayerNorm(5, bias=False), 5 + 1),  # was 7: the missing bias add was counted
        (nn.LayerNorm(5, elementwise_affine=False), 5),
        (nn.GroupNorm(2, 4), 5 + 2),
        (nn.GroupNorm(2, 4, affine=False), 5),
        (nn.InstanceNorm2d(4, affine=True), 5 + 2),
        (nn.InstanceNorm2d(4), 5),
    ],
)
def test_norm_flops_per_element(layer, per_element):
    # closed form of the documented rule: 5 per element, +1 for the weight's multiply, +1 for
    # the bias's add
    assert profile(layer, (4, 3, 5)).flops == per_element * 4 * 3 * 5


@pytest.mark.parametrize("cell", [nn.LSTMCell, nn.GRUCell, nn.RNNCell])
@pytest.mark.parametrize("shape", [(5,), (3, 5)], ids=["unbatched", "batched"])
def test_recurrent_cells_macs_equal_torch_counter(cell, shape):
    # RNNCell / GRUCell / LSTMCell were uncounted (0 MACs)
    class Step(nn.Module):
        def __init__(self):
            super().__init__()
            self.cell = cell(5, 7, bias=cell is not nn.RNNCell)

        def forward(self, x):
            return self.cell(x[0])  # (3, 5) batched, (5,) unbatched

    model = Step()
    p = profile(model, shape)
    assert p.uncounted == ()
    assert 2 * p.macs == _torch_flops(model, torch.randn(1, *shape))


@pytest.mark.parametrize(
    "layer, ours_minus_fvcore_per_element",
    [
        (nn.BatchNorm2d(4), 0),
        (nn.BatchNorm2d(4, affine=False), 1),
        (nn.GroupNorm(2, 4), 2),
        (nn.GroupNorm(2, 4, affine=False), 1),
        (nn.LayerNorm(5), 2),
    ],
)
def test_norm_differences_from_fvcore_are_the_documented_ones(layer, ours_minus_fvcore_per_element):
    from fvcore.nn import FlopCountAnalysis

    counter = FlopCountAnalysis(layer.eval(), torch.randn(1, 4, 3, 5))
    counter.unsupported_ops_warnings(False)
    ours = profile(layer, (4, 3, 5)).flops
    assert ours - counter.total() == ours_minus_fvcore_per_element * 4 * 3 * 5
