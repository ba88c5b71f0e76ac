"""Half-precision inputs (float16, bfloat16): every functional op returns the input's dtype and
agrees with torch.nn.functional run in the same dtype, outputs and input gradients, to within a
few units of that dtype's rounding error.

The error is measured relative to the largest reference value; float16 carries 2^-10 of relative
precision, bfloat16 2^-7, and the ops reduce over a handful of terms, so 3 units are allowed
(measured: at most 1.47 units for the functional ops, adaptive_avg_pool2d in bfloat16, and
1.61 for the modules, LSTM in float16).
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as T

import mlcanon.nn
import mlcanon.nn.functional as F

UNITS = 3


def _labels(n: int, k: int) -> torch.Tensor:
    return torch.arange(n) % k


def _binary(shape: tuple[int, ...], dtype: torch.dtype) -> torch.Tensor:
    return (torch.arange(torch.Size(shape).numel()).reshape(shape) % 2).to(dtype)


# name: (input shapes, ours, torch's); inputs are drawn in float64, then rounded to the dtype
CASES = {
    "conv2d": (
        [(2, 3, 8, 8), (4, 3, 3, 3)],
        lambda x, w: F.conv2d(x, w, padding=1),
        lambda x, w: T.conv2d(x, w, padding=1),
    ),
    "conv_transpose2d": (
        [(2, 3, 6, 6), (3, 4, 3, 3)],
        lambda x, w: F.conv_transpose2d(x, w, stride=2),
        lambda x, w: T.conv_transpose2d(x, w, stride=2),
    ),
    "linear": ([(5, 6), (4, 6)], F.linear, T.linear),
    "batch_norm": (
        [(4, 3, 5, 5)],
        lambda x: F.batch_norm(x, None, None, training=True),
        lambda x: T.batch_norm(x, None, None, training=True),
    ),
    "group_norm": ([(4, 6, 5, 5)], lambda x: F.group_norm(x, 3), lambda x: T.group_norm(x, 3)),
    "instance_norm": ([(4, 3, 5, 5)], F.instance_norm, T.instance_norm),
    "layer_norm": ([(4, 6, 5)], lambda x: F.layer_norm(x, (5,)), lambda x: T.layer_norm(x, (5,))),
    "max_pool2d": ([(2, 3, 8, 8)], lambda x: F.max_pool2d(x, 2), lambda x: T.max_pool2d(x, 2)),
    "avg_pool2d": (
        [(2, 3, 8, 8)],
        lambda x: F.avg_pool2d(x, 3, 2, 1),
        lambda x: T.avg_pool2d(x, 3, 2, 1),
    ),
    "adaptive_avg_pool2d": (
        [(2, 3, 7, 7)],
        lambda x: F.adaptive_avg_pool2d(x, 3),
        lambda x: T.adaptive_avg_pool2d(x, 3),
    ),
    "softmax": ([(8, 5)], lambda x: F.softmax(x, 1), lambda x: T.softmax(x, 1)),
    "log_softmax": ([(8, 5)], lambda x: F.log_softmax(x, 1), lambda x: T.log_softmax(x, 1)),
    "gelu": ([(8, 5)], F.gelu, T.gelu),
    "elu": ([(8, 5)], F.elu, T.elu),
    "leaky_relu": ([(8, 5)], F.leaky_relu, T.leaky_relu),
    "hardswish": ([(8, 5)], F.hardswish, T.hardswish),
    "hardsigmoid": ([(8, 5)], F.hardsigmoid, T.hardsigmoid),
    "prelu": ([(8, 5), (5,)], F.prelu, T.prelu),
    "cross_entropy": (
        [(8, 5)],
        lambda x: F.cross_entropy(x, _labels(8, 5)),
        lambda x: T.cross_entropy(x, _labels(8, 5)),
    ),
    "nll_loss": (
        [(8, 5)],
        lambda x: F.nll_loss(x, _labels(8, 5)),
        lambda x: T.nll_loss(x, _labels(8, 5)),
    ),
    "binary_cross_entropy": (
        [(8, 5)],
        lambda x: F.binary_cross_entropy(x.sigmoid(), _binary((8, 5), x.dtype)),
        lambda x: T.binary_cross_entropy(x.sigmoid(), _binary((8, 5), x.dtype)),
    ),
    "bce_with_logits": (
        [(8, 5)],
        lambda x: F.binary_cross_entropy_with_logits(x, _binary((8, 5), x.dtype)),
        lambda x: T.binary_cross_entropy_with_logits(x, _binary((8, 5), x.dtype)),
    ),
    "smooth_l1_loss": ([(8, 5), (8, 5)], F.smooth_l1_loss, T.smooth_l1_loss),
    "huber_loss": ([(8, 5), (8, 5)], F.huber_loss, T.huber_loss),
    "kl_div": (
        [(8, 5), (8, 5)],
        lambda x, t: F.kl_div(x.log_softmax(1), t.softmax(1), reduction="batchmean"),
        lambda x, t: T.kl_div(x.log_softmax(1), t.softmax(1), reduction="batchmean"),
    ),
    "scaled_dot_product_attention": (
        [(2, 4, 6)] * 3,
        F.scaled_dot_product_attention,
        T.scaled_dot_product_attention,
    ),
}


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16], ids=str)
@pytest.mark.parametrize("name", list(CASES))
def test_half_precision_matches_torch(name, dtype):
    shapes, ours, ref = CASES[name]
    gen = torch.Generator().manual_seed(0)
    drawn = [torch.randn(s, dtype=torch.float64, generator=gen).to(dtype) for s in shapes]
    results = []
    for op in (ours, ref):
        inputs = [x.clone().requires_grad_() for x in drawn]
        out = op(*inputs)
        weights = torch.randn(out.shape, dtype=torch.float64, generator=gen.manual_seed(1))
        grads = torch.autograd.grad((out.double() * weights).sum(), inputs)
        results.append((out, grads))
    (out, grads), (want, want_grads) = results
    assert out.dtype == want.dtype == dtype
    assert all(g.dtype == dtype for g in grads)
    unit = torch.finfo(dtype).eps
    for got, expected in [(out, want), *zip(grads, want_grads, strict=True)]:
        scale = expected.double().abs().max().clamp_min(unit)
        error = (got.double() - expected.double()).abs().max() / scale
        assert error <= UNITS * unit, f"{name}: {error / unit:.2f} units"


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16], ids=str)
@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU", "MultiheadAttention"])
def test_half_precision_recurrent_and_attention_modules_match_torch(name, dtype):
    """Seven steps of a recurrence (or one attention layer) with torch's weights, in the dtype:
    the outputs and the input's gradient within the same 3 units."""
    torch.manual_seed(0)
    args = (6, 2) if name == "MultiheadAttention" else (6, 5)
    ref = getattr(torch.nn, name)(*args, batch_first=True).to(dtype)
    ours = getattr(mlcanon.nn, name)(*args, batch_first=True).to(dtype)
    ours.load_state_dict(ref.state_dict())
    x = torch.randn(3, 7, 6, dtype=torch.float64).to(dtype)
    results = []
    for module in (ours, ref):
        inp = x.clone().requires_grad_()
        out = module(inp, inp, inp)[0] if name == "MultiheadAttention" else module(inp)[0]
        weights = torch.randn(
            out.shape, dtype=torch.float64, generator=torch.Generator().manual_seed(1)
        )
        results.append((out, *torch.autograd.grad((out.double() * weights).sum(), inp)))
    unit = torch.finfo(dtype).eps
    for got, want in zip(*results, strict=True):
        assert got.dtype == want.dtype == dtype
        error = (got.double() - want.double()).abs().max() / want.double().abs().max()
        assert error <= UNITS * unit, f"{name}: {error / unit:.2f} units"


def _exact_weight(like: torch.Tensor, *shape: int) -> torch.Tensor:
    """A fixed weight of quarters in [-1, 1], exact in float16 and bfloat16, in like's dtype."""
    g = torch.Generator().manual_seed(5)
    return (torch.randint(-4, 5, shape, generator=g) / 4).to(like.dtype)


# torch computes these of float16/bfloat16 in float32 and rounds once; they were computed in the
# half dtype: softmax 1.6x torch's error in the output and 2-3x in the gradient (bfloat16:
# mean 0.0073 against 0.0036 of the largest gradient), gelu (tanh) 2.9x, silu and hardswish 2x
# in the float16 gradient
ACCURACY = {
    "softmax": (lambda m, x: m.softmax(x, 1), lambda x: torch.softmax(x, 1)),
    "log_softmax": (lambda m, x: m.log_softmax(x, 1), lambda x: torch.log_softmax(x, 1)),
    "gelu": (lambda m, x: m.gelu(x), None),
    "gelu-tanh": (lambda m, x: m.gelu(x, approximate="tanh"), None),
    "silu": (lambda m, x: m.silu(x), None),
    "hardswish": (lambda m, x: m.hardswish(x), None),
    "hardsigmoid": (lambda m, x: m.hardsigmoid(x), None),
    "elu": (lambda m, x: m.elu(x), None),
    "softplus": (lambda m, x: m.softplus(x), None),
    "leaky_relu": (lambda m, x: m.leaky_relu(x, 0.1), None),
    # about 2x torch's error, output and gradient
    "layer_norm": (lambda m, x: m.layer_norm(x, (16,)), None),
    "group_norm": (lambda m, x: m.group_norm(x.view(4, 4, 4), 2).reshape(4, 16), None),
    "batch_norm": (
        lambda m, x: m.batch_norm(x.view(4, 4, 4), None, None, training=True).reshape(4, 16),
        None,
    ),
    "instance_norm": (lambda m, x: m.instance_norm(x.view(2, 4, 8)).reshape(4, 16), None),
    # about 1.7x torch's output error (depthwise: gradient too), 1.4x for the adaptive pool
    "depthwise_conv2d": (
        lambda m, x: m.conv2d(
            x.view(2, 4, 2, 4), _exact_weight(x, 4, 1, 3, 3), padding=1, groups=4
        ).reshape(4, 16),
        None,
    ),
    "conv_transpose2d": (
        lambda m, x: (
            m.conv_transpose2d(x.view(2, 4, 2, 4), _exact_weight(x, 4, 3, 3, 3), stride=2)
            .sum(1)
            .reshape(2, -1)[:, :32]
            .reshape(4, 16)
        ),
        None,
    ),
    "adaptive_avg_pool2d": (
        lambda m, x: m.adaptive_avg_pool2d(x.view(1, 1, 8, 8), (4, 4)).reshape(1, 16).repeat(4, 1),
        None,
    ),
    # gradient up to 1.4x torch's error (the mean's 1/n and the slope rounded apart)
    "smooth_l1_loss": (
        lambda m, x: m.smooth_l1_loss(x, x.detach().flip(0) / 2, beta=0.5).expand(4, 16),
        None,
    ),
    # output 1.2-1.6x torch's error
    "avg_pool2d": (
        lambda m, x: m.avg_pool2d(x.view(1, 4, 4, 4), 3, stride=1, padding=1).reshape(4, 16),
        None,
    ),
    "cross_entropy": (
        lambda m, x: m.cross_entropy(x, torch.arange(4), reduction="none").view(4, 1).expand(4, 16),
        None,
    ),
    # the bias added after rounding the product: 1.4-1.6x torch's output error
    "linear": (lambda m, x: m.linear(x, _exact_weight(x, 16, 16), _exact_weight(x, 16)), None),
    # 2x torch's output error, 6-8x its gradient error
    "scaled_dot_product_attention": (
        lambda m, x: m.scaled_dot_product_attention(
            x.view(4, 4, 4), x.view(4, 4, 4).flip(1), x.view(4, 4, 4)
        ).reshape(4, 16),
        None,
    ),
}


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
@pytest.mark.parametrize("name", list(ACCURACY))
def test_half_precision_is_as_accurate_as_torch(name, dtype):
    """Over 100 draws, the mean error against the float64 answer (for the rounded input and
    upstream gradient), relative to the largest value, is no more than torch's, to 5%, for the
    output and the input gradient."""
    op, exact_op = ACCURACY[name]
    exact_op = exact_op or (lambda x: op(T, x))  # torch's op run in float64
    g = torch.Generator().manual_seed(0)
    errors = {"ours": [0.0, 0.0], "torch": [0.0, 0.0]}
    for _ in range(100):
        x = (3 * torch.randn(4, 16, generator=g)).to(dtype)
        v = torch.randn(4, 16, generator=g).to(dtype)
        exact_x = x.double().requires_grad_()
        exact = exact_op(exact_x)
        (exact_grad,) = torch.autograd.grad(exact, exact_x, v.double())
        for who, module in (("ours", F), ("torch", T)):
            leaf = x.clone().requires_grad_()
            y = op(module, leaf)
            (grad,) = torch.autograd.grad(y, leaf, v)
            for k, (got, ref) in enumerate(((y, exact), (grad, exact_grad))):
                errors[who][k] += ((got.double() - ref).abs().max() / ref.abs().max()).item()
    for k in range(2):
        assert errors["ours"][k] <= 1.05 * errors["torch"][k]


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
@pytest.mark.parametrize("mode", ["LSTM", "GRU", "RNN"])
def test_half_precision_recurrent_layers_are_as_accurate_as_torch(mode, dtype):
    """The recurrences ran their gates and states in the half dtype: bfloat16 LSTM output 3x
    torch's error against float64 (the model in float64 with the same rounded weights). Each
    layer now runs in float32 with its outputs rounded once; over 30 draws the mean error, of
    the output and the input gradient, is no more than torch's, to 5%."""
    import copy

    torch.manual_seed(0)
    ref = getattr(torch.nn, mode)(8, 8)
    with torch.no_grad():
        for p in ref.parameters():
            p.copy_(p.to(dtype).float())
    ours = getattr(mlcanon.nn, mode)(8, 8)
    ours.load_state_dict(ref.state_dict())
    exact = copy.deepcopy(ref).double()
    models = {"ours": ours.to(dtype), "torch": copy.deepcopy(ref).to(dtype)}
    g = torch.Generator().manual_seed(0)
    errors = {"ours": [0.0, 0.0], "torch": [0.0, 0.0]}
    for _ in range(30):
        x = torch.randn(5, 4, 8, generator=g).to(dtype)
        exact_x = x.double().requires_grad_()
        y_exact = exact(exact_x)[0]
        v = torch.randn(y_exact.shape, generator=g).to(dtype)
        (g_exact,) = torch.autograd.grad(y_exact, exact_x, v.double())
        for who, model in models.items():
            leaf = x.clone().requires_grad_()
            y = model(leaf)[0]
            (grad,) = torch.autograd.grad(y, leaf, v)
            for k, (got, want) in enumerate(((y, y_exact), (grad, g_exact))):
                errors[who][k] += ((got.double() - want).abs().max() / want.abs().max()).item()
    for k in range(2):
        assert errors["ours"][k] <= 1.05 * errors["torch"][k]
