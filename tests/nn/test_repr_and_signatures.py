"""Our modules print as torch's do (``print(model)`` is how users read a network), and take
torch's ``bias=`` (norms) and ``inplace=`` (activations, dropout) arguments, with torch's
results."""

from __future__ import annotations

import pytest
import torch

import mlcanon.nn as nn

CASES = [
    ("Linear", (2, 3), {}),
    ("Linear", (2, 3), {"bias": False}),
    ("Conv2d", (2, 3, 3), {}),
    ("Conv2d", (2, 4, 3), {"stride": 2, "padding": 1, "dilation": 2, "groups": 2, "bias": False}),
    ("Conv2d", (2, 3, 3), {"padding": "same", "padding_mode": "reflect"}),
    ("Conv2d", (2, 3, (1, 3)), {"padding": "valid"}),
    ("ConvTranspose2d", (2, 3, 3), {}),
    (
        "ConvTranspose2d",
        (2, 4, 3),
        {"stride": 2, "padding": 1, "output_padding": 1, "groups": 2, "bias": False, "dilation": 2},
    ),
    ("Conv1d", (2, 3, 3), {}),
    (
        "Conv1d",
        (2, 4, (3,)),
        {"stride": 2, "padding": 1, "dilation": 2, "groups": 2, "bias": False},
    ),
    ("Conv1d", (2, 3, 4), {"padding": "same", "padding_mode": "circular"}),
    ("ConvTranspose1d", (2, 4, 3), {"stride": 2, "output_padding": 1, "groups": 2}),
    ("MaxPool1d", ((3,),), {"stride": 2, "padding": 1, "dilation": 2, "ceil_mode": True}),
    ("AvgPool1d", (3,), {"stride": 2, "padding": 1}),
    ("AdaptiveAvgPool1d", (5,), {}),
    ("BatchNorm1d", (4,), {}),
    ("BatchNorm2d", (4,), {"eps": 1e-3, "momentum": None, "affine": False}),
    ("BatchNorm2d", (4,), {"track_running_stats": False, "bias": False}),
    ("InstanceNorm2d", (4,), {}),
    ("InstanceNorm2d", (4,), {"affine": True, "track_running_stats": True}),
    ("LayerNorm", (4,), {}),
    ("LayerNorm", ((3, 4),), {"eps": 1e-6, "elementwise_affine": False}),
    ("LayerNorm", (4,), {"bias": False}),
    ("GroupNorm", (2, 4), {}),
    ("GroupNorm", (2, 4), {"affine": False, "eps": 1e-3}),
    ("GroupNorm", (2, 4), {"bias": False}),
    ("Dropout", (), {}),
    ("Dropout", (0.1,), {"inplace": True}),
    ("MaxPool2d", (2,), {}),
    ("MaxPool2d", (3,), {"stride": 1, "padding": 1, "dilation": 2, "ceil_mode": True}),
    ("AvgPool2d", (2,), {}),
    ("AvgPool2d", (3,), {"stride": 1, "padding": 1, "ceil_mode": True, "divisor_override": 2}),
    ("AdaptiveAvgPool2d", ((3, 4),), {}),
    ("AdaptiveAvgPool2d", (1,), {}),
    ("ELU", (), {}),
    ("ELU", (0.5, True), {}),
    ("GELU", (), {"approximate": "tanh"}),
    ("LeakyReLU", (), {}),
    ("LeakyReLU", (0.2,), {"inplace": True}),
    ("ReLU", (), {}),
    ("ReLU", (), {"inplace": True}),
    ("ReLU6", (True,), {}),
    ("SiLU", (), {"inplace": True}),
    ("Hardsigmoid", (), {"inplace": True}),
    ("Hardswish", (True,), {}),
    ("Sigmoid", (), {}),
    ("Softmax", (), {"dim": 1}),
    ("LogSoftmax", (), {}),
    ("PReLU", (), {}),
    ("PReLU", (3,), {"init": 0.1}),
    ("Softplus", (2,), {"threshold": 10}),
    ("RNN", (2, 3), {}),
    ("RNN", (2, 3), {"num_layers": 2, "bias": False, "batch_first": True, "dropout": 0.1}),
    ("LSTM", (2, 3), {"proj_size": 2, "num_layers": 2, "bidirectional": True}),
    ("GRU", (2, 3), {"batch_first": True}),
    ("CrossEntropyLoss", (), {"label_smoothing": 0.1}),
    ("NLLLoss", (), {"ignore_index": 1}),
    ("BCELoss", (), {"reduction": "sum"}),
    # out_proj printed as Linear, where torch's is a NonDynamicallyQuantizableLinear
    ("MultiheadAttention", (8, 2), {}),
    (
        "MultiheadAttention",
        (8, 2),
        {"kdim": 3, "vdim": 5, "bias": False, "add_bias_kv": True, "batch_first": True},
    ),
]


@pytest.mark.parametrize(("name", "args", "kwargs"), CASES, ids=lambda v: repr(v)[:40])
def test_repr_is_torchs(name, args, kwargs):
    """Norm layers, Dropout and the pools printed as 'LayerNorm()', 'MaxPool2d()'; Linear and
    the convolutions hid bias=False; the recurrent layers listed every option where torch lists
    those that differ from the default; 38 of 63 constructions printed otherwise than torch's."""
    ours = getattr(nn, name)(*args, **kwargs)
    ref = getattr(torch.nn, name)(*args, **kwargs)
    assert repr(ours) == repr(ref)


def test_pool_stride_defaults_to_the_kernel_as_torchs_attribute():
    for name in ("MaxPool2d", "AvgPool2d"):
        assert getattr(nn, name)(3).stride == getattr(torch.nn, name)(3).stride == 3


@pytest.mark.parametrize("name", ["BatchNorm2d", "InstanceNorm2d", "GroupNorm"])
def test_norm_without_bias_as_torch(name):
    """torch's keyword ``bias=False`` (a learned weight, no learned shift) was a TypeError."""
    args = (2, 4) if name == "GroupNorm" else (4,)
    extra = {"affine": True} if name == "InstanceNorm2d" else {}
    ours = getattr(nn, name)(*args, bias=False, **extra).double()
    ref = getattr(torch.nn, name)(*args, bias=False, **extra).double()
    assert ours.bias is None and ref.bias is None
    assert ours.state_dict().keys() == ref.state_dict().keys()
    with torch.no_grad():
        for m in (ours, ref):
            m.weight.copy_(torch.linspace(0.5, 2.0, 4, dtype=torch.float64))
    x = torch.randn(3, 4, 5, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    xo, xr = x.clone().requires_grad_(), x.clone().requires_grad_()
    out, want = ours(xo), ref(xr)
    torch.testing.assert_close(out, want, rtol=1e-12, atol=1e-12)
    out.square().sum().backward()
    want.square().sum().backward()
    torch.testing.assert_close(xo.grad, xr.grad, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(ours.weight.grad, ref.weight.grad, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(
    "name", ["ReLU", "ReLU6", "LeakyReLU", "ELU", "SiLU", "Hardsigmoid", "Hardswish", "Dropout"]
)
def test_inplace_is_taken_and_gives_torchs_values(name):
    """``nn.ReLU(inplace=True)``, as torchvision's models write it, was a TypeError. The values
    are torch's, written into the input as torch's (eval-mode Dropout returns it untouched;
    test_inplace.py checks gradients and refusals)."""
    x = torch.linspace(-5, 5, 41, dtype=torch.float64)
    ours = getattr(nn, name)(inplace=True).eval()
    ref = getattr(torch.nn, name)(inplace=True).eval()
    assert ours.inplace is True
    want = ref(x.clone())
    out = ours(x)
    assert out is x
    torch.testing.assert_close(out, want, rtol=1e-15, atol=1e-15)


def test_from_torch_keeps_inplace_and_norms_without_bias():
    """A torch model written with ReLU(inplace=True) and norms without bias: the conversion of a
    norm with bias=False failed ('lacking' bias), and inplace=True was dropped. Now the
    converted model prints as torch's and computes torch's values."""
    torch.manual_seed(0)
    ref = torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 3, padding=1, bias=False),
        torch.nn.BatchNorm2d(4, bias=False),
        torch.nn.ReLU6(inplace=True),
        torch.nn.Conv2d(4, 4, 1),
        torch.nn.GroupNorm(2, 4, bias=False),
        torch.nn.LeakyReLU(0.1, inplace=True),
        torch.nn.Dropout(0.2, inplace=True),
    ).double()
    ours = nn.from_torch(ref)
    assert repr(ours) == repr(ref)
    assert isinstance(ours[2], nn.ReLU6) and ours[2].inplace is True
    x = torch.randn(2, 3, 6, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    ref.eval(), ours.eval()
    torch.testing.assert_close(ours(x), ref(x.clone()), rtol=1e-12, atol=1e-12)


def test_multihead_out_proj_is_a_linear_under_torchs_name():
    """torch's out_proj is a Linear subclass named NonDynamicallyQuantizableLinear; ours too
    (the same layer, the same state_dict keys), without importing torch's private class."""
    ours, ref = nn.MultiheadAttention(8, 2), torch.nn.MultiheadAttention(8, 2)
    assert type(ours.out_proj).__name__ == type(ref.out_proj).__name__
    assert isinstance(ours.out_proj, nn.Linear) and isinstance(ref.out_proj, torch.nn.Linear)
    assert list(ours.state_dict()) == list(ref.state_dict())
