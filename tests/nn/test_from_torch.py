"""from_torch: whole networks on the hand-written backward passes equal the same networks on
torch's layers (float64, outputs and every parameter gradient within 1e-8)."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from mlcanon import models
from mlcanon.nn import from_torch
from mlcanon.nn._from_torch import _CONVERSIONS

TOL = {"rtol": 1e-8, "atol": 1e-8}


def _flat(out) -> torch.Tensor:
    outs = out if isinstance(out, list | tuple) else [out]
    return torch.cat([o.reshape(-1) for o in outs])


def _torch_layers_left(model: nn.Module) -> list[str]:
    return [name for name, m in model.named_modules() if type(m) in _CONVERSIONS]


def _assert_same_training_step(theirs: nn.Module, x: torch.Tensor, seed: int = 0) -> None:
    """Forward (train mode), one backward, running statistics, then an eval-mode forward."""
    ours = from_torch(theirs)
    assert not _torch_layers_left(ours), _torch_layers_left(ours)
    assert _torch_layers_left(theirs), "the reference must keep torch's layers"
    out_theirs, out_ours = _flat(theirs(x)), _flat(ours(x))
    torch.testing.assert_close(out_ours, out_theirs, **TOL)
    w = torch.randn(out_theirs.shape, generator=torch.Generator().manual_seed(seed), dtype=x.dtype)
    (out_theirs * w).sum().backward()
    (out_ours * w).sum().backward()
    grads_theirs = dict(theirs.named_parameters())
    grads_ours = dict(ours.named_parameters())
    assert grads_ours.keys() == grads_theirs.keys()
    for name, p in grads_theirs.items():
        torch.testing.assert_close(grads_ours[name].grad, p.grad, **TOL, msg=name)
    state_theirs, state_ours = theirs.state_dict(), ours.state_dict()
    assert state_ours.keys() == state_theirs.keys()
    for name, t in state_theirs.items():  # running statistics moved by the same step
        torch.testing.assert_close(state_ours[name], t, **TOL, msg=name)
    theirs.eval(), ours.eval()
    with torch.no_grad():
        torch.testing.assert_close(_flat(ours(x)), _flat(theirs(x)), **TOL)


def _no_dropout(model: nn.Module) -> nn.Module:
    """Dropout draws different masks in the two engines; its own test is below."""
    for m in model.modules():
        if isinstance(m, nn.Dropout):
            m.p = 0.0
    return model


@pytest.mark.parametrize(
    ("build", "side"),
    [  # 4 images of side >= 48 leave 16 values per channel to the last batch norms, whose
        # gradients are then well conditioned (3 images of side 32 leave 3 and amplify 1e4-fold)
        (lambda: models.mobilenet_v2(num_classes=7, width_mult=0.35), 64),
        (lambda: models.ghostnet(num_classes=7, width_mult=0.3), 48),
        (lambda: models.tiny_yolo_v3(num_classes=2, width=8), 32),
    ],
    ids=["mobilenet_v2", "ghostnet", "tiny_yolo_v3"],
)
def test_models_train_the_same_on_our_layers(build, side):
    torch.manual_seed(0)
    theirs = _no_dropout(build().double().train())
    x = torch.randn(
        3, 3, side, side, generator=torch.Generator().manual_seed(1), dtype=torch.float64
    )
    _assert_same_training_step(theirs, x)


def test_every_listed_layer_converts_in_a_mixed_network():
    torch.manual_seed(0)
    theirs = nn.Sequential(
        nn.Conv2d(2, 6, 3, padding=1, bias=True),
        nn.GroupNorm(3, 6),
        nn.PReLU(6),
        nn.ConvTranspose2d(6, 4, 3, stride=2, padding=1, output_padding=1),
        nn.InstanceNorm2d(4, affine=True),
        nn.ELU(0.7),
        nn.MaxPool2d(2, ceil_mode=True),
        nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False),
        nn.Hardswish(),
        nn.SiLU(),
        nn.Softplus(2.0, 3.0),
        nn.AdaptiveAvgPool2d(2),
        nn.Flatten(),
        nn.Linear(16, 10, bias=False),
        nn.BatchNorm1d(10),
        nn.LeakyReLU(0.2),
        nn.LayerNorm(10),
        nn.GELU(approximate="tanh"),
        nn.Linear(10, 6),
        nn.Hardsigmoid(),
        nn.Tanh(),
        nn.Sigmoid(),
        nn.ReLU6(),
        nn.ReLU(),
        nn.LogSoftmax(dim=1),
    ).double()
    _assert_same_training_step(theirs, torch.randn(4, 2, 7, 7, dtype=torch.float64))


@pytest.mark.filterwarnings("ignore:Using padding=.same. with even kernel lengths:UserWarning")
def test_a_1d_network_converts_and_trains_the_same():
    """Conv1d (padding modes, groups, dilation), ConvTranspose1d and the 1-D pools were left as
    torch's layers; now converted, with the same printout, outputs, parameter gradients and
    running statistics."""
    torch.manual_seed(0)
    theirs = nn.Sequential(
        nn.Conv1d(3, 8, 4, padding="same", padding_mode="reflect"),
        nn.BatchNorm1d(8),
        nn.ReLU(),
        nn.MaxPool1d(3, stride=2, padding=1, ceil_mode=True),
        nn.Conv1d(8, 8, 3, padding=2, dilation=2, groups=4, padding_mode="circular"),
        nn.ConvTranspose1d(8, 6, 4, stride=2, padding=1, output_padding=1, bias=False),
        nn.AvgPool1d(3, stride=2, padding=1, count_include_pad=False),
        nn.Conv1d(6, 6, 1, padding_mode="replicate", padding=1),
        nn.AdaptiveAvgPool1d(4),
        nn.Flatten(),
        nn.Linear(24, 5),
    ).double()
    ours = from_torch(theirs)
    assert {type(m).__module__ for m in ours if type(m) is not nn.Flatten} == {
        "mlcanon.nn._modules"
    }
    assert repr(ours) == repr(theirs)
    _assert_same_training_step(theirs, torch.randn(4, 3, 20, dtype=torch.float64))


class _Recurrent(nn.Module):
    def __init__(self, cell: type[nn.RNNBase], **options):
        super().__init__()
        self.rnn = cell(5, 4, num_layers=2, batch_first=True, bidirectional=True, **options)
        self.head = nn.Linear(2 * (options.get("proj_size") or 4), 3)

    def forward(self, x):
        out, _ = self.rnn(x)  # (B, T, 2H)
        return nn.functional.softmax(self.head(out), dim=-1)


@pytest.mark.parametrize(
    ("cell", "options"),
    [(nn.LSTM, {}), (nn.LSTM, {"proj_size": 3}), (nn.GRU, {}), (nn.RNN, {"nonlinearity": "relu"})],
    ids=["lstm", "lstm-proj", "gru", "rnn-relu"],
)
def test_recurrent_layers_convert(cell, options):
    # an LSTM with proj_size > 0 was refused (ValueError); now converted, same training step
    torch.manual_seed(0)
    theirs = _Recurrent(cell, **options).double()
    _assert_same_training_step(theirs, torch.randn(3, 6, 5, dtype=torch.float64))


def test_state_dict_is_unchanged_and_the_input_model_is_left_alone():
    theirs = models.tiny_yolo_v3(width=8)
    before = copy.deepcopy(theirs.state_dict())
    ours = from_torch(theirs)
    assert _torch_layers_left(theirs)  # a copy was converted
    for (k1, v1), (k2, v2) in zip(before.items(), ours.state_dict().items(), strict=True):
        assert k1 == k2 and v1.dtype == v2.dtype and torch.equal(v1, v2)


def test_inplace_keeps_the_parameter_objects_so_an_optimizer_keeps_training_them():
    net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    params = list(net.parameters())
    opt = torch.optim.SGD(params, lr=0.1)
    converted = from_torch(net, inplace=True)
    assert converted is net and not _torch_layers_left(net)
    assert all(a is b for a, b in zip(params, net.parameters(), strict=True))
    before = params[0].detach().clone()
    net(torch.randn(5, 3)).sum().backward()
    opt.step()
    assert not torch.equal(before, params[0])


def test_a_shared_layer_stays_shared_and_modes_are_kept():
    act = nn.ReLU()
    drop = nn.Dropout(0.3).eval()
    ours = from_torch(nn.Sequential(act, nn.Linear(2, 2), act, drop))
    assert ours[0] is ours[2]
    assert ours[0].training and not ours[3].training


def test_dropout_keeps_its_rate_and_scales_kept_units():
    ours = from_torch(nn.Dropout(0.25))
    assert type(ours) is not nn.Dropout and ours.p == 0.25
    y = ours(torch.ones(10_000, dtype=torch.float64))
    kept = y != 0
    torch.testing.assert_close(y[kept], torch.full_like(y[kept], 1 / 0.75))
    assert 0.7 < kept.double().mean() < 0.8


def test_a_single_layer_and_a_subclass():
    class MyConv(nn.Conv2d):  # an exact-type match only: a subclass may change forward
        pass

    assert type(from_torch(nn.Conv2d(1, 1, 1))).__module__ == "mlcanon.nn._modules"
    assert type(from_torch(MyConv(1, 1, 1))) is MyConv


def test_not_a_module_is_refused():
    with pytest.raises(TypeError, match=r"module must be a torch.nn.Module, got list"):
        from_torch([nn.ReLU()])


def _hooked_net():
    """Hooks of every kind torch stores: plain, with kwargs, always_call, prepended; the
    forward hooks change the values, so a hook that does not fire changes the output."""
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Conv2d(2, 1, 1)).double()
    seen = []
    net[0].register_forward_pre_hook(lambda m, args: (args[0] * 2,))
    net[0].register_forward_hook(lambda m, args, out: seen.append("conv") or out + 1)
    net[1].register_forward_pre_hook(
        lambda m, args, kwargs: seen.append("relu pre, kwargs") or (args, kwargs), with_kwargs=True
    )
    net[1].register_forward_pre_hook(lambda m, args: seen.append("relu pre, first"), prepend=True)
    net[2].register_forward_hook(
        lambda m, args, kwargs, out: seen.append("last, kwargs") or out * 3, with_kwargs=True
    )
    net[2].register_forward_hook(lambda m, args, out: seen.append("always"), always_call=True)
    return net, seen


def test_hooks_fire_on_the_converted_model_as_on_torch():
    x = torch.randn(2, 1, 5, 5, dtype=torch.float64)
    theirs, seen_theirs = _hooked_net()
    ref = theirs(x)
    ours, seen_ours = _hooked_net()
    ours = from_torch(ours)
    assert not _torch_layers_left(ours)
    torch.testing.assert_close(ours(x), ref, **TOL)
    assert seen_ours == seen_theirs == [
        "conv", "relu pre, first", "relu pre, kwargs", "last, kwargs", "always"
    ]  # fmt: skip


def test_hook_handles_still_remove_hooks_after_an_inplace_conversion():
    net = nn.Sequential(nn.Linear(3, 2))
    seen = []
    handle = net[0].register_forward_hook(lambda m, args, out: seen.append(type(m).__module__))
    from_torch(net, inplace=True)(torch.zeros(1, 3))
    assert seen == ["mlcanon.nn._modules"]
    handle.remove()
    net(torch.zeros(1, 3))
    assert seen == ["mlcanon.nn._modules"]


def test_softmax_with_implicit_dim_converts_and_agrees():
    x = torch.randn(2, 3, 4, dtype=torch.float64)
    layer = nn.Sequential(nn.Softmax(dim=None))
    with pytest.warns(UserWarning, match="Implicit dimension choice"):
        ref = layer(x)
    with pytest.warns(UserWarning, match="Implicit dimension choice"):
        torch.testing.assert_close(from_torch(layer)(x), ref, rtol=1e-12, atol=1e-12)


def test_conversion_leaves_the_random_stream_alone():
    """Converting draws nothing: after torch.manual_seed, a dropout mask (or any draw) is the
    same whether or not from_torch ran in between, as with the torch model alone. Building our
    layers drew their own (discarded) initial values from the global generator, and allocated
    them (a 4096 x 25088 Linear: 400 MB) only to throw them away."""
    net = nn.Sequential(
        nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.Flatten(), nn.Linear(8, 4), nn.PReLU()
    )
    rnn = nn.LSTM(3, 4, num_layers=2)
    torch.manual_seed(0)
    expected = torch.rand(5)
    torch.manual_seed(0)
    converted = (from_torch(net), from_torch(rnn))
    torch.testing.assert_close(torch.rand(5), expected, rtol=0, atol=0)
    for model in converted:
        assert {t.device.type for t in model.state_dict().values()} == {"cpu"}


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_convolutions_with_a_padding_mode_convert(mode):
    """padding_mode other than 'zeros' (refused before) converts and trains as torch."""
    torch.manual_seed(0)
    theirs = nn.Sequential(
        nn.Conv2d(2, 4, 3, padding=(1, 2), padding_mode=mode),
        nn.ReLU(),
        nn.Conv2d(4, 3, (2, 3), padding="same", dilation=(1, 2), padding_mode=mode),
        nn.Flatten(),
    ).double()
    _assert_same_training_step(theirs, torch.randn(3, 2, 5, 6, dtype=torch.float64))


def _pruned_net() -> nn.Sequential:
    from torch.nn.utils import prune

    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(2, 3, 3), nn.ReLU(), nn.Flatten(), nn.Linear(12, 2)).double()
    prune.l1_unstructured(net[0], "weight", 0.5)
    prune.ln_structured(net[0], "weight", 1, 2, 0)  # a PruningContainer of two masks
    prune.l1_unstructured(net[3], "bias", 1)
    return net


def test_a_layer_pruned_with_torch_prune_converts_and_keeps_its_mask():
    # a pruned layer (weight_orig parameter, weight_mask buffer, weight a plain attribute set by
    # a forward pre-hook) was refused with a ValueError about mismatched tensors, and
    # from_torch(model) without inplace failed in copy.deepcopy with torch's message about
    # weight_norm; torch.nn.utils.prune's own modules are the reference
    from torch.nn.utils import prune

    theirs, ours = _pruned_net(), from_torch(_pruned_net(), inplace=True)
    assert not _torch_layers_left(ours)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    x = torch.randn(2, 2, 4, 4, dtype=torch.float64)
    torch.testing.assert_close(ours(x), theirs(x), rtol=1e-10, atol=1e-10)
    ours(x).square().sum().backward()
    theirs(x).square().sum().backward()
    for (name, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters(), strict=True):
        torch.testing.assert_close(p.grad, q.grad, rtol=1e-10, atol=1e-10, msg=name)
    prune.remove(ours[0], "weight")  # prune.remove works on the converted layer too
    prune.remove(theirs[0], "weight")
    assert list(ours.state_dict()) == list(theirs.state_dict())
    torch.testing.assert_close(ours(x), theirs(x), rtol=1e-10, atol=1e-10)
    with pytest.raises(ValueError, match="inplace=True"):
        from_torch(_pruned_net())


@pytest.mark.parametrize("cell", [nn.RNN, nn.LSTM, nn.GRU])
def test_a_forward_calling_flatten_parameters_runs_after_conversion(cell):
    # many torch models call self.rnn.flatten_parameters() in forward; the converted layer had
    # no such method (AttributeError), nor torch's all_weights
    class Tagger(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = cell(3, 4, 2, batch_first=True, bidirectional=True)

        def forward(self, x):
            self.rnn.flatten_parameters()
            return self.rnn(x)[0]

    torch.manual_seed(0)
    theirs = Tagger().double()
    ours = from_torch(theirs)
    assert not _torch_layers_left(ours)
    x = torch.randn(2, 5, 3, dtype=torch.float64)
    torch.testing.assert_close(ours(x), theirs(x), rtol=1e-10, atol=1e-10)
    assert [[p.shape for p in ws] for ws in ours.rnn.all_weights] == [
        [p.shape for p in ws] for ws in theirs.rnn.all_weights
    ]
    for ws, ws_ref in zip(ours.rnn.all_weights, theirs.rnn.all_weights, strict=True):
        assert all(torch.equal(p, q) for p, q in zip(ws, ws_ref, strict=True))


@pytest.mark.parametrize(
    "layer",
    [
        nn.Linear(5, 3),
        nn.Linear(4, 2, bias=False),
        nn.Conv2d(4, 6, (3, 2), groups=2),
        nn.ConvTranspose2d(4, 6, 3, groups=2),
        nn.BatchNorm1d(3),
        nn.BatchNorm2d(3, affine=False),
        nn.InstanceNorm2d(3, affine=True, track_running_stats=True),
        nn.GroupNorm(2, 4),
        nn.LayerNorm([2, 3], bias=False),
        nn.PReLU(3, init=0.1),
        nn.LSTM(3, 4, 2),
    ],
    ids=repr,
)
def test_reset_parameters_and_running_stats_as_torch(layer):
    # the converted layers had no reset_parameters / reset_running_stats: a re-initialization
    # loop "if hasattr(m, 'reset_parameters')" skipped them silently, and BN recalibration
    # code calling m.reset_running_stats() failed; torch's own layer, reset under the same
    # seed, is the reference
    theirs = copy.deepcopy(layer)
    ours = from_torch(layer)
    assert type(ours).__module__.startswith("mlcanon")
    with torch.no_grad():  # move everything away from its initial values
        for t in [*theirs.parameters(), *theirs.buffers(), *ours.parameters(), *ours.buffers()]:
            t.add_(3)
    for method in ("reset_running_stats", "reset_parameters"):
        if not hasattr(theirs, method):
            continue
        torch.manual_seed(7)
        getattr(theirs, method)()
        torch.manual_seed(7)
        getattr(ours, method)()
        for (name, a), (_, b) in zip(
            ours.state_dict().items(), theirs.state_dict().items(), strict=True
        ):
            assert torch.equal(a, b), (method, name)


@pytest.mark.parametrize(
    ("layer", "option", "value"),
    [
        (nn.LeakyReLU(0.2), "negative_slope", 0.5),
        (nn.ELU(1.5), "alpha", 0.3),
        (nn.GELU(), "approximate", "tanh"),
        (nn.Softplus(2.0, 5.0), "beta", 0.5),
        (nn.Softmax(1), "dim", 0),
        (nn.LogSoftmax(0), "dim", 1),
    ],
    ids=repr,
)
def test_activation_options_are_attributes_as_torch(layer, option, value):
    # the options lived in a private dict: m.dim / m.negative_slope raised AttributeError on a
    # converted layer, and setting them (annealing a slope) was silently ignored
    theirs = copy.deepcopy(layer)
    ours = from_torch(layer)
    assert getattr(ours, option) == getattr(theirs, option)
    setattr(ours, option, value)
    setattr(theirs, option, value)
    x = torch.randn(4, 3, dtype=torch.float64)
    torch.testing.assert_close(ours(x), theirs(x), rtol=1e-12, atol=1e-12)


def test_a_checkpoint_without_num_batches_tracked_loads_as_in_torch():
    # batch-norm state dicts from before torch's version 2 (older pretrained weights) have no
    # num_batches_tracked; torch loads them (keeping its count), the converted model refused with
    # "Missing key(s)"; its state_dict metadata also said version 1 where torch says 2
    def net():
        return nn.Sequential(
            nn.Conv2d(3, 4, 3),
            nn.BatchNorm2d(4),
            nn.InstanceNorm2d(4, affine=True, track_running_stats=True),
        )

    torch.manual_seed(0)
    old = net().state_dict()
    for name in ("1", "2"):
        del old[f"{name}.num_batches_tracked"]
        old._metadata[name]["version"] = 1
    theirs, ours = net(), from_torch(net())
    for model in (theirs, ours):
        model[1].num_batches_tracked.fill_(5)
        model[2].num_batches_tracked.fill_(5)
        model.load_state_dict(copy.deepcopy(old))
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for (name, a), (_, b) in zip(
        ours.state_dict().items(), theirs.state_dict().items(), strict=True
    ):
        assert torch.equal(a, b), name
    assert ours.state_dict()._metadata == theirs.state_dict()._metadata


def test_a_layer_with_user_tensors_and_attributes_converts_and_keeps_them():
    # a buffer or parameter the user registered on a layer (and a plain attribute) made
    # from_torch fail ("has tensors ... but its counterpart has ...") or, for attributes, be
    # dropped; the torch model itself is the reference
    class Head(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 3)
            self.fc.register_buffer("temperature", torch.tensor(2.0))
            self.fc.register_buffer("cache", torch.zeros(3), persistent=False)
            self.fc.register_parameter("gain", nn.Parameter(torch.full((3,), 1.5)))
            self.fc.tag = "logits"

        def forward(self, x):
            assert self.fc.tag == "logits"
            return self.fc(x) * self.fc.gain / self.fc.temperature + self.fc.cache

    torch.manual_seed(0)
    theirs = Head().double()
    ours = from_torch(theirs)
    assert not _torch_layers_left(ours)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert {n for n, _ in ours.named_buffers()} == {n for n, _ in theirs.named_buffers()}
    x = torch.randn(5, 4, dtype=torch.float64)
    torch.testing.assert_close(ours(x), theirs(x), rtol=1e-10, atol=1e-10)
    ours(x).square().sum().backward()
    theirs(x).square().sum().backward()
    for (name, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters(), strict=True):
        torch.testing.assert_close(p.grad, q.grad, rtol=1e-10, atol=1e-10, msg=name)
