"""Memory format of the gradients: for a 4-D input (and a convolution's weight) in contiguous or
channels_last layout, and an upstream gradient in either, every gradient our backward passes
return has the strides of torch's (a channels_last input gets a channels_last input gradient
from a convolution, a pooling or a normalization; a pointwise op's follows torch's kernel), and
torch's values. Reference: torch 2.13's own ops on the same tensors, gradients taken with
``torch.autograd.grad`` (which returns them as the backward made them; a leaf's ``.grad`` is
re-laid out by autograd to the leaf's strides)."""

import pytest
import torch
import torch.nn as tnn
import torch.nn.functional as TF

import mlcanon.nn as N
import mlcanon.nn.functional as F

CL = torch.channels_last
D = torch.float64


def _t(shape, cl, seed):
    t = torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=D)
    return t.contiguous(memory_format=CL) if cl else t


def _conv_module(**kw):
    def fn(f, x, w, b):
        m = (N if f is F else tnn).Conv2d(4, 3, 3, bias=False, **kw).double()
        del m.weight
        m.weight = w  # the test's tensor, in the layout under test
        return m(x)

    return fn


def _stats(f, x, w, b):
    return f.batch_norm(x, torch.zeros(4, dtype=D), torch.ones(4, dtype=D) * 2, w, b, False)


def _seeded(fn):
    def run(f, x, w, b):
        torch.manual_seed(0)
        return fn(f, x)

    return run


# name: (fn(functional module, x, weight, bias), weight shape, bias shape)
CASES = {
    "conv2d": (lambda f, x, w, b: f.conv2d(x, w, b, padding=1), (3, 4, 3, 3), (3,)),
    "conv2d_stride2": (lambda f, x, w, b: f.conv2d(x, w, b, stride=2), (3, 4, 3, 3), (3,)),
    "conv2d_groups": (
        lambda f, x, w, b: f.conv2d(x, w, b, padding=1, groups=2),
        (6, 2, 3, 3),
        (6,),
    ),
    "conv2d_1x1": (lambda f, x, w, b: f.conv2d(x, w, b), (3, 4, 1, 1), (3,)),
    "conv2d_1x1_stride2": (lambda f, x, w, b: f.conv2d(x, w, b, stride=2), (3, 4, 1, 1), (3,)),
    "depthwise": (lambda f, x, w, b: f.conv2d(x, w, b, padding=1, groups=4), (4, 1, 3, 3), (4,)),
    "depthwise_stride2": (
        lambda f, x, w, b: f.conv2d(x, w, b, stride=2, padding=1, groups=4),
        (4, 1, 3, 3),
        (4,),
    ),
    "depthwise_multiplier2": (
        lambda f, x, w, b: f.conv2d(x, w, b, padding=1, groups=4),
        (8, 1, 3, 3),
        (8,),
    ),
    "Conv2d_reflect": (_conv_module(padding=1, padding_mode="reflect"), (3, 4, 3, 3), None),
    "Conv2d_replicate": (_conv_module(padding=1, padding_mode="replicate"), (3, 4, 3, 3), None),
    "Conv2d_circular": (_conv_module(padding=1, padding_mode="circular"), (3, 4, 3, 3), None),
    "conv_transpose2d": (
        lambda f, x, w, b: f.conv_transpose2d(x, w, b, stride=2),
        (4, 3, 3, 3),
        (3,),
    ),
    "conv_transpose2d_groups": (
        lambda f, x, w, b: f.conv_transpose2d(x, w, b, padding=1, groups=2),
        (4, 1, 3, 3),
        (2,),
    ),
    "max_pool2d": (lambda f, x, w, b: f.max_pool2d(x, 3, 2, 1), None, None),
    "max_pool2d_unpadded": (lambda f, x, w, b: f.max_pool2d(x, 2), None, None),
    "avg_pool2d": (lambda f, x, w, b: f.avg_pool2d(x, 3, 2, 1), None, None),
    "adaptive_avg_pool2d": (lambda f, x, w, b: f.adaptive_avg_pool2d(x, (3, 2)), None, None),
    "batch_norm": (lambda f, x, w, b: f.batch_norm(x, None, None, w, b, True), (4,), (4,)),
    "batch_norm_eval": (_stats, (4,), (4,)),
    "instance_norm": (lambda f, x, w, b: f.instance_norm(x, weight=w, bias=b), (4,), (4,)),
    "group_norm": (lambda f, x, w, b: f.group_norm(x, 2, w, b), (4,), (4,)),
    "layer_norm": (lambda f, x, w, b: f.layer_norm(x, (4, 5, 6), w, b), (4, 5, 6), (4, 5, 6)),
    "prelu": (lambda f, x, w, b: f.prelu(x, w), (4,), None),
    "dropout": (_seeded(lambda f, x: f.dropout(x, 0.3)), None, None),
    "dropout_inplace": (_seeded(lambda f, x: f.dropout(x * 1, 0.3, inplace=True)), None, None),
    # torch's softmax kernels: contiguous output and gradient, whatever the layouts
    "softmax_dim1": (lambda f, x, w, b: f.softmax(x, 1), None, None),
    "softmax_dim3": (lambda f, x, w, b: f.softmax(x, 3), None, None),
    "log_softmax_dim1": (lambda f, x, w, b: f.log_softmax(x, 1), None, None),
    "log_softmax_dim2": (lambda f, x, w, b: f.log_softmax(x, 2), None, None),
}
POINTWISE = {
    "relu": lambda f, x: f.relu(x),
    "relu6": lambda f, x: f.relu6(x),
    "leaky_relu": lambda f, x: f.leaky_relu(x, 0.1),
    "elu": lambda f, x: f.elu(x),
    "gelu": lambda f, x: f.gelu(x),
    "gelu_tanh": lambda f, x: f.gelu(x, approximate="tanh"),
    "sigmoid": lambda f, x: f.sigmoid(x),
    "tanh": lambda f, x: f.tanh(x),
    "silu": lambda f, x: f.silu(x),
    "hardswish": lambda f, x: f.hardswish(x),
    "hardsigmoid": lambda f, x: f.hardsigmoid(x),
    "softplus": lambda f, x: f.softplus(x),
    # in place, on a non-leaf copy
    "relu_": lambda f, x: f.relu(x * 1, inplace=True),
    "relu6_": lambda f, x: f.relu6(x * 1, inplace=True),
    "leaky_relu_": lambda f, x: f.leaky_relu(x * 1, 0.1, inplace=True),
    "elu_": lambda f, x: f.elu(x * 1, inplace=True),
    "hardsigmoid_": lambda f, x: f.hardsigmoid(x * 1, inplace=True),
    "hardswish_": lambda f, x: f.hardswish(x * 1, inplace=True),
    "silu_": lambda f, x: f.silu(x * 1, inplace=True),
}
for _name, _fn in POINTWISE.items():
    CASES[_name] = ((lambda fn: lambda f, x, w, b: fn(f, x))(_fn), None, None)


def _params():
    for name, (_, wshape, _) in CASES.items():
        w_cls = (False, True) if wshape is not None and len(wshape) == 4 else (False,)
        for x_cl in (False, True):
            for w_cl in w_cls:
                for g_cl in (False, True, None):  # None: the upstream gradient in y's layout
                    yield pytest.param(
                        name, x_cl, w_cl, g_cl, id=f"{name}-x{x_cl:d}-w{w_cl:d}-g{g_cl}"
                    )


def _grads(f, name, x_cl, w_cl, g_cl, create_graph=False):
    fn, wshape, bshape = CASES[name]
    x = _t((2, 4, 5, 6), x_cl, 0).requires_grad_()
    w = None if wshape is None else _t(wshape, w_cl and len(wshape) == 4, 1).requires_grad_()
    b = None if bshape is None else _t(bshape, False, 2).requires_grad_()
    y = fn(f, x, w, b)
    g = _t(y.shape, False, 3)
    if g_cl is None:
        g = torch.empty_like(y).copy_(g)
    elif g_cl:
        g = g.contiguous(memory_format=CL)
    leaves = [t for t in (x, w, b) if t is not None]
    return x, y, g, torch.autograd.grad(y, leaves, g, create_graph=create_graph)


def _layout(t):
    return t.stride(), t.is_contiguous(), t.is_contiguous(memory_format=CL)


@pytest.mark.parametrize(("name", "x_cl", "w_cl", "g_cl"), list(_params()))
def test_gradients_have_torch_strides_and_values(name, x_cl, w_cl, g_cl):
    x, y_ours, g, ours = _grads(F, name, x_cl, w_cl, g_cl)
    _, y_ref, _, ref = _grads(TF, name, x_cl, w_cl, g_cl)
    assert _layout(y_ours) == _layout(y_ref)
    torch.testing.assert_close(y_ours, y_ref, rtol=1e-12, atol=1e-12)
    if name.startswith("hardsigmoid"):
        # torch's hardsigmoid_backward scales by 1.0f / 6.0f, a float32 constant (a relative
        # error of 3e-8 in float64): its values are checked against g / 6 on (-3, 3) instead
        assert _layout(ours[0]) == _layout(ref[0])
        inside = (x > -3) & (x < 3)
        torch.testing.assert_close(ours[0], torch.where(inside, g / 6, 0.0), rtol=1e-12, atol=0)
        return
    for i, (a, r) in enumerate(zip(ours, ref, strict=True)):
        assert _layout(a) == _layout(r), ("input", "weight", "bias")[i]
        torch.testing.assert_close(a, r, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "name",
    ["conv2d", "conv2d_1x1", "depthwise", "conv_transpose2d", "max_pool2d", "batch_norm", "elu"],
)
@pytest.mark.parametrize(("x_cl", "g_cl"), [(True, False), (False, True), (True, None)])
def test_gradients_under_create_graph_have_torch_strides(name, x_cl, g_cl):
    # the backward passes take their autograd-recorded branches here (a double backward)
    _, _, _, ours = _grads(F, name, x_cl, False, g_cl, create_graph=True)
    _, _, _, ref = _grads(TF, name, x_cl, False, g_cl, create_graph=True)
    for a, r in zip(ours, ref, strict=True):
        assert _layout(a) == _layout(r)
        torch.testing.assert_close(a, r, rtol=1e-12, atol=1e-12)


def test_channels_last_training_step_keeps_layouts_between_layers():
    # the gradient flowing between layers (seen by a hook on each layer's output) has torch's
    # layout throughout a channels_last model, so no layer converts it back and forth
    torch.manual_seed(0)
    ref = tnn.Sequential(
        tnn.Conv2d(4, 8, 3, padding=1),
        tnn.BatchNorm2d(8),
        tnn.ReLU6(),
        tnn.Conv2d(8, 8, 3, padding=1, groups=8),
        tnn.GroupNorm(2, 8),
        tnn.SiLU(),
        tnn.MaxPool2d(2),
        tnn.Conv2d(8, 6, 1),
        tnn.AdaptiveAvgPool2d(2),
    ).double()
    ours = N.from_torch(ref)
    ref, ours = ref.to(memory_format=CL), ours.to(memory_format=CL)

    def flowing(model):
        seen = []
        x = _t((2, 4, 8, 8), True, 0).requires_grad_()
        h = x
        for layer in model:
            h = layer(h)
            h.register_hook(lambda g: seen.append((_layout(g), g)))
        h.backward(_t(h.shape, True, 3))
        return seen, x.grad, [p.grad for p in model.parameters()]

    (seen_ours, gx_ours, gp_ours), (seen_ref, gx_ref, gp_ref) = flowing(ours), flowing(ref)
    assert [s[0] for s in seen_ours] == [s[0] for s in seen_ref]
    for (_, a), (_, r) in zip(seen_ours, seen_ref, strict=True):
        torch.testing.assert_close(a, r, rtol=1e-10, atol=1e-10)
    assert _layout(gx_ours) == _layout(gx_ref)
    torch.testing.assert_close(gx_ours, gx_ref, rtol=1e-10, atol=1e-10)
    for a, r in zip(gp_ours, gp_ref, strict=True):
        assert _layout(a) == _layout(r)
        torch.testing.assert_close(a, r, rtol=1e-10, atol=1e-10)
