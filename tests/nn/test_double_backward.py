"""Second derivatives (double backward, ``create_graph=True``) through every autograd Function.

Each Function in :mod:`mlcanon.nn` is either twice differentiable -- under ``create_graph`` its
backward is made of differentiable torch ops on tensors linked to the inputs -- or first-order
only (LSTM, GRU): differentiating its gradient raises torch's ``once_differentiable`` error
instead of giving a wrong answer. For the first kind: ``gradgradcheck`` (finite differences of
the backward, including its dependence on the upstream gradient) and, where torch has the op or
the definition is short, the first gradients and a Hessian-vector product compared with torch's.
For the second: the error. ``test_every_function_is_covered`` walks the package so that a new
Function cannot be left out.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest
import torch
import torch.nn.functional as TF
from torch.autograd import Function

import mlcanon.nn as mnn
import mlcanon.nn.functional as F
from mlcanon.nn import _activations as act
from mlcanon.nn import _attention as att
from mlcanon.nn import (
    _conv,
    _depthwise,
    _dropout,
    _linear,
    _loss,
    _norm,
    _pool,
    _rnn,
    _softmax,
    _utils,
)

# the Functions whose backward is first-order only (double backward raises)
FIRST_ORDER_ONLY = {_rnn.LSTMLayer, _rnn.GRULayer}


def _r(*shape, seed=0, scale=1.0):
    g = torch.Generator().manual_seed(seed)
    return scale * torch.randn(shape, generator=g, dtype=torch.float64)


def _u(*shape, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(*shape, generator=g, dtype=torch.float64)


def _rnn_loop(x, h0, w_ih, w_hh, b_ih, b_hh):
    """The Elman recurrence written out: h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)."""
    h, out = h0, []
    for x_t in x:
        h = torch.tanh(x_t @ w_ih.T + b_ih + h @ w_hh.T + b_hh)
        out.append(h)
    return torch.stack(out)


def _additive_definition(q, k, v, w_q, w_k, v_a):
    """Bahdanau attention written out with torch ops."""
    e = torch.tanh((q @ w_q.T).unsqueeze(2) + (k @ w_k.T).unsqueeze(1)) @ v_a
    p = torch.softmax(e, -1)
    return p @ v, p


def _bce_definition(x, t, w, pw):
    """Weighted BCE of logits written out (torch's has no second derivative in the target)."""
    return (w * (pw * t * TF.softplus(-x) + (1 - t) * TF.softplus(x))).mean()


def _bce_probabilities_definition(x, t, w):
    """Weighted BCE of probabilities written out (torch's has no derivative in the weight)."""
    return (-w * (t * x.log() + (1 - t) * (1 - x).log())).mean()


def _focal_definition(x, t, alpha=0.25, gamma=2.0):
    """torchvision's sigmoid_focal_loss written out (torchvision is not a dependency)."""
    p = torch.sigmoid(x)
    ce = TF.binary_cross_entropy_with_logits(x, t, reduction="none")
    p_t = p * t + (1 - p) * (1 - t)
    return ((alpha * t + (1 - alpha) * (1 - t)) * ce * (1 - p_t) ** gamma).mean()


_KEEP = (_u(2, 3, 4, seed=9) > 0.3).double() / 0.7  # a fixed dropout mask on attention weights
_MASK = (_u(2, 3, 4, seed=11) > 0.5).double()
_LABELS = torch.tensor([2, 0, 1, -100, 3])
_X = _r(1, 4, 4, 4)


def _inplace(name, *args):
    """Ours and torch's in-place op, on a copy of the input (as ``x.clone()`` in a network)."""
    return (
        lambda x: getattr(F, name)(x.clone(), *args, inplace=True),
        lambda x: getattr(TF, name)(x.clone(), *args, inplace=True),
    )


# (id, Function, ours, torch's or a written-out reference (None: none), inputs)
CASES = [
    ("sigmoid", act._Sigmoid, F.sigmoid, torch.sigmoid, [_r(2, 3)]),
    ("tanh", act._Tanh, F.tanh, torch.tanh, [_r(2, 3)]),
    ("relu", act._ReLU, F.relu, TF.relu, [_r(2, 3)]),
    ("relu6", act._ReLU6, F.relu6, TF.relu6, [_r(2, 3, scale=4)]),
    (
        "leaky_relu",
        act._LeakyReLU,
        lambda x: F.leaky_relu(x, 0.1),
        lambda x: TF.leaky_relu(x, 0.1),
        [_r(2, 3)],
    ),
    ("elu", act._ELU, F.elu, TF.elu, [_r(2, 3)]),
    ("gelu", act._GELU, F.gelu, TF.gelu, [_r(2, 3)]),
    (
        "gelu-tanh",
        act._GELUTanh,
        lambda x: F.gelu(x, "tanh"),
        lambda x: TF.gelu(x, approximate="tanh"),
        [_r(2, 3)],
    ),
    # torch has no double backward for hardsigmoid: its definition written out instead
    (
        "hardsigmoid",
        act._Hardsigmoid,
        F.hardsigmoid,
        lambda x: (x / 6 + 0.5).clamp(0, 1),
        [_r(2, 3, scale=4)],
    ),
    ("hardswish", act._Hardswish, F.hardswish, TF.hardswish, [_r(2, 3, scale=4)]),
    ("silu", act._SiLU, F.silu, TF.silu, [_r(2, 3, scale=4)]),
    (
        "softplus",
        act._Softplus,
        lambda x: F.softplus(x, 2.0, 3.0),
        lambda x: TF.softplus(x, 2.0, 3.0),
        [_r(2, 3, scale=2)],
    ),
    # inplace=True (on a copy: a leaf that requires grad is refused, as torch refuses it)
    ("relu_", act._ReLUInplace, *_inplace("relu"), [_r(2, 3)]),
    ("relu6_", act._ReLU6Inplace, *_inplace("relu6"), [_r(2, 3, scale=4)]),
    ("leaky_relu_", act._LeakyReLUInplace, *_inplace("leaky_relu", 0.1), [_r(2, 3)]),
    ("elu_", act._ELUInplace, *_inplace("elu", 0.7), [_r(2, 3)]),
    (
        "hardsigmoid_",
        act._HardsigmoidInplace,
        lambda x: F.hardsigmoid(x.clone(), inplace=True),
        lambda x: (x / 6 + 0.5).clamp(0, 1),
        [_r(2, 3, scale=4)],
    ),
    ("hardswish_", act._HardswishInplace, *_inplace("hardswish"), [_r(2, 3, scale=4)]),
    ("silu_", act._SiLUInplace, *_inplace("silu"), [_r(2, 3, scale=4)]),
    ("prelu", act._PReLU, F.prelu, TF.prelu, [_r(2, 3, 2), _u(3, seed=1)]),
    ("linear", _linear._Linear, F.linear, TF.linear, [_r(2, 3), _r(4, 3, seed=1), _r(4, seed=2)]),
    (
        "dropout",
        _dropout._MaskedScale,
        lambda x: _dropout._MaskedScale.apply(x, _MASK, 2.0),
        lambda x: x * _MASK * 2.0,
        [_r(2, 3, 4)],
    ),
    (
        "dropout_",
        _dropout._MaskedScaleInplace,
        lambda x: _dropout._MaskedScaleInplace.apply(x.clone(), _MASK, 2.0),
        lambda x: x * _MASK * 2.0,
        [_r(2, 3, 4)],
    ),
    (
        "conv2d-stride1",
        _conv._Conv2d,
        lambda x, w: F.conv2d(x, w, None, 1, 1, 1, 2),
        lambda x, w: TF.conv2d(x, w, None, 1, 1, 1, 2),
        [_r(1, 2, 3, 3), _r(2, 1, 2, 3, seed=1)],
    ),
    (
        "conv2d-stride2",
        _conv._Conv2d,
        lambda x, w: F.conv2d(x, w, None, 2, 1),
        lambda x, w: TF.conv2d(x, w, None, 2, 1),
        [_X, _r(2, 4, 3, 2, seed=1)],
    ),
    ("conv2d-1x1", _conv._PointwiseConv2d, F.conv2d, TF.conv2d, [_X, _r(3, 4, 1, 1, seed=1)]),
    (
        "conv2d-1x1-stride2",
        _conv._PointwiseConv2d,
        lambda x, w: F.conv2d(x, w, None, 2),
        lambda x, w: TF.conv2d(x, w, None, 2),
        [_X, _r(3, 4, 1, 1, seed=1)],
    ),
    (
        "conv2d-1x1-large",
        _conv._PointwiseConv2d,
        F.conv2d,
        TF.conv2d,  # >= 64 positions
        [_r(1, 2, 8, 8), _r(1, 2, 1, 1, seed=1)],
    ),
    (
        "conv2d-depthwise-dilated",
        _depthwise._DepthwiseConv2d,
        lambda x, w: F.conv2d(x, w, None, 1, 2, 2, 4),
        lambda x, w: TF.conv2d(x, w, None, 1, 2, 2, 4),
        [_X, _r(4, 1, 2, 3, seed=1)],
    ),
    (
        "conv2d-depthwise",
        _depthwise._DepthwiseConv2d,
        lambda x, w: F.conv2d(x, w, None, 2, 1, 1, 4),
        lambda x, w: TF.conv2d(x, w, None, 2, 1, 1, 4),
        [_X, _r(4, 1, 3, 3, seed=1)],
    ),
    (
        "conv_transpose2d",
        _conv._ConvTranspose2d,
        lambda x, w, b: F.conv_transpose2d(x, w, b, 2, 1, 1, 2),
        lambda x, w, b: TF.conv_transpose2d(x, w, b, 2, 1, 1, 2),
        [_r(1, 2, 3, 2), _r(2, 2, 2, 3, seed=1), _r(4, seed=2)],
    ),
    (
        "max_pool2d",
        _pool._MaxPool2d,
        lambda x: F.max_pool2d(x, 3, 2, 1),
        lambda x: TF.max_pool2d(x, 3, 2, 1),
        [_r(1, 1, 4, 5)],
    ),
    (
        "avg_pool2d",
        _pool._AvgPool2d,
        lambda x: F.avg_pool2d(x, 3, 2, 1),
        lambda x: TF.avg_pool2d(x, 3, 2, 1),
        [_r(1, 2, 5, 5)],
    ),
    (
        "adaptive_avg_pool2d",
        _pool._AdaptiveAvgPool2d,
        lambda x: F.adaptive_avg_pool2d(x, 3),
        lambda x: TF.adaptive_avg_pool2d(x, 3),
        [_r(1, 2, 5, 4)],
    ),
    (
        "batch_norm-train",
        _norm._ChannelNorm,
        lambda x, w, b: F.batch_norm(x, None, None, w, b, True),
        lambda x, w, b: TF.batch_norm(x, None, None, w, b, True),
        [_r(3, 2, 4), _r(2, seed=1), _r(2, seed=2)],
    ),
    (
        "group_norm",
        _norm._ChannelNorm,
        lambda x, w, b: F.group_norm(x, 2, w, b),
        lambda x, w, b: TF.group_norm(x, 2, w, b),
        [_r(2, 4, 3), _r(4, seed=1), _r(4, seed=2)],
    ),
    (
        "instance_norm",
        _norm._ChannelNorm,
        lambda x: F.instance_norm(x),
        TF.instance_norm,
        [_r(2, 2, 5)],
    ),
    (
        "batch_norm-eval",
        _norm._ChannelAffine,
        lambda x, w, b: F.batch_norm(x, torch.zeros(2).double(), torch.ones(2).double() * 2, w, b),
        lambda x, w, b: TF.batch_norm(x, torch.zeros(2).double(), torch.ones(2).double() * 2, w, b),
        [_r(3, 2, 4), _r(2, seed=1), _r(2, seed=2)],
    ),
    (
        "layer_norm",
        _norm._LayerNorm,
        lambda x, w, b: F.layer_norm(x, (4,), w, b),
        lambda x, w, b: TF.layer_norm(x, (4,), w, b),
        [_r(3, 4), _r(4, seed=1), _r(4, seed=2)],
    ),
    (
        "softmax",
        _softmax._Softmax,
        lambda x: F.softmax(x, 1),
        lambda x: TF.softmax(x, 1),
        [_r(3, 4)],
    ),
    (
        "log_softmax",
        _softmax._Softmax,
        lambda x: F.log_softmax(x, 1),
        lambda x: TF.log_softmax(x, 1),
        [_r(3, 4)],
    ),
    (
        "cross_entropy-index",
        _softmax._CrossEntropy,  # class weights are constants, as in torch
        lambda x: F.cross_entropy(x, _LABELS, _u(4, seed=1), label_smoothing=0.2),
        lambda x: TF.cross_entropy(x, _LABELS, _u(4, seed=1), label_smoothing=0.2),
        [_r(5, 4)],
    ),
    (
        "cross_entropy-probs",
        _softmax._CrossEntropy,
        lambda x, t: F.cross_entropy(x, t),
        lambda x, t: TF.cross_entropy(x, t),
        [_r(5, 4), _u(5, 4, seed=1)],
    ),
    ("mse_loss", _loss._MSE, F.mse_loss, TF.mse_loss, [_r(3, 4), _r(3, 4, seed=1)]),
    ("l1_loss", _loss._L1, F.l1_loss, TF.l1_loss, [_r(3, 4), _r(3, 4, seed=1)]),
    (
        "smooth_l1_loss",
        _loss._SmoothL1,
        lambda x, t: F.smooth_l1_loss(x, t, beta=0.7),
        lambda x, t: TF.smooth_l1_loss(x, t, beta=0.7),
        [_r(3, 4), _r(3, 4, seed=1)],
    ),
    (
        "pad-reflect",
        _conv._PadMode,
        lambda x: _conv.pad_mode(x, (1, 2, 3, 0), "reflect"),
        lambda x: TF.pad(x, (3, 0, 1, 2), mode="reflect"),
        [_r(2, 3, 4, 5)],
    ),
    (
        "pad-circular",
        _conv._PadMode,
        lambda x: _conv.pad_mode(x, (2, 0, 1, 5), "circular"),
        lambda x: TF.pad(x, (1, 5, 2, 0), mode="circular"),
        [_r(1, 2, 3, 5)],
    ),
    (
        "huber_loss",
        _loss._Huber,
        lambda x, t: F.huber_loss(x, t, delta=0.7),
        lambda x, t: TF.huber_loss(x, t, delta=0.7),
        [_r(3, 4), _r(3, 4, seed=1)],
    ),
    (
        "nll_loss",
        _softmax._NLL,  # class weights are constants, as in torch
        lambda x: F.nll_loss(x, _LABELS, _u(4, seed=1)),
        lambda x: TF.nll_loss(x, _LABELS, _u(4, seed=1)),
        [_r(5, 4)],
    ),
    (
        "binary_cross_entropy",
        _loss._BCE,
        lambda x, t, w: F.binary_cross_entropy(x, t, w),
        _bce_probabilities_definition,
        [0.05 + 0.9 * _u(3, 4), _u(3, 4, seed=1), _u(4, seed=2)],
    ),
    (
        "bce_with_logits",
        _loss._BCEWithLogits,
        lambda x, t, w, pw: F.binary_cross_entropy_with_logits(x, t, w, pos_weight=pw),
        _bce_definition,
        [_r(3, 4), _u(3, 4, seed=1), _u(4, seed=2), _u(4, seed=3)],
    ),
    (
        "kl_div",
        _loss._KLDiv,
        lambda x, t: F.kl_div(x, t, "batchmean"),
        lambda x, t: TF.kl_div(x, t, reduction="batchmean"),
        [_r(3, 4), _u(3, 4, seed=1)],
    ),
    (
        "kl_div-log_target",
        _loss._KLDiv,
        lambda x, t: F.kl_div(x, t, "sum", True),
        lambda x, t: TF.kl_div(x, t, reduction="sum", log_target=True),
        [_r(3, 4), _r(3, 4, seed=1)],
    ),
    (
        "sigmoid_focal_loss",
        _loss._SigmoidFocal,
        lambda x, t: F.sigmoid_focal_loss(x, t, reduction="mean"),
        _focal_definition,
        [_r(3, 4), _u(3, 4, seed=1)],
    ),
    (
        "sdpa",
        att._Attend,
        lambda q, k, v: F.scaled_dot_product_attention(q, k, v),
        TF.scaled_dot_product_attention,
        [_r(2, 3, 5), _r(2, 4, 5, seed=1), _r(2, 4, 2, seed=2)],
    ),
    (
        "attend-dropout",
        att._Attend,
        lambda q, k, v: att._Attend.apply(q, k, v, None, 0.5, _KEEP)[0],
        lambda q, k, v: (torch.softmax(0.5 * q @ k.mT, -1) * _KEEP) @ v,
        [_r(2, 3, 5), _r(2, 4, 5, seed=1), _r(2, 4, 2, seed=2)],
    ),
    (
        "additive_attention",
        att._Additive,
        F.additive_attention,
        _additive_definition,
        [
            _r(2, 3, 2),
            _r(2, 4, 3, seed=1),
            _r(2, 4, 2, seed=2),
            _r(5, 2, seed=3),
            _r(5, 3, seed=4),
            _r(5, seed=5),
        ],
    ),
    (
        "rnn",
        _rnn.RNNLayer,
        lambda *a: _rnn.RNNLayer.apply(*a, False, False)[0],
        _rnn_loop,
        [
            _r(3, 2, 3),
            _r(2, 4, seed=1),
            _r(4, 3, seed=2),
            _r(4, 4, seed=3),
            _r(4, seed=4),
            _r(4, seed=5),
        ],
    ),
    (
        "lstm",
        _rnn.LSTMLayer,
        lambda *a: _rnn.LSTMLayer.apply(*a, False)[0],
        None,
        [
            _r(3, 2, 3),
            _r(2, 4, seed=1),
            _r(2, 4, seed=6),
            _r(16, 3, seed=2),
            _r(16, 4, seed=3),
            _r(16, seed=4),
            _r(16, seed=5),
        ],
    ),
    (
        "gru",
        _rnn.GRULayer,
        lambda *a: _rnn.GRULayer.apply(*a, False)[0],
        None,
        [
            _r(3, 2, 3),
            _r(2, 4, seed=1),
            _r(12, 3, seed=2),
            _r(12, 4, seed=3),
            _r(12, seed=4),
            _r(12, seed=5),
        ],
    ),
    (
        "zeros_from",
        _utils._ZerosFrom,
        lambda x, w: F.linear(x, w),
        None,
        [_r(3, 0), _r(2, 0, seed=1)],
    ),
]
_IDS = [c[0] for c in CASES]


def _functions_in_package() -> set[type]:
    found = set()
    for info in pkgutil.iter_modules(mnn.__path__):
        module = importlib.import_module(f"{mnn.__name__}.{info.name}")
        for obj in vars(module).values():
            if inspect.isclass(obj) and issubclass(obj, Function) and obj is not Function:
                if obj.__module__.startswith(mnn.__name__):
                    found.add(obj)
    return found


def test_every_function_is_covered():
    # _SecondOrderError is the guard that the first-order-only backwards attach, not an op
    assert _functions_in_package() == {c[1] for c in CASES} | {_rnn._SecondOrderError}


def test_first_order_only_are_marked():
    """The set above is exactly the Functions whose backward carries the decorator."""
    marked = {f for f in _functions_in_package() if hasattr(f.backward, "__wrapped__")}
    assert marked == FIRST_ORDER_ONLY


def _leaves(inputs):
    return [t.detach().clone().requires_grad_(True) for t in inputs]


def _outputs(out):
    return [o for o in (out if isinstance(out, tuple | list) else (out,)) if o.requires_grad]


@pytest.mark.parametrize("case", CASES, ids=_IDS)
def test_double_backward(case):
    _, function, ours, _, inputs = case
    xs = _leaves(inputs)
    if function in FIRST_ORDER_ONLY:
        outs = _outputs(ours(*xs))
        grads = torch.autograd.grad(
            outs, xs, [torch.ones_like(o) for o in outs], create_graph=True, allow_unused=True
        )
        total = sum(g.square().sum() for g in grads if g is not None)
        with pytest.raises(RuntimeError, match="once_differentiable"):
            total.backward()
    else:
        assert torch.autograd.gradgradcheck(ours, xs)


def _zeros_for_none(grads, like):
    # an input that a result does not depend on: None, or zeros, depending on the op's graph
    return [torch.zeros_like(t) if g is None else g for g, t in zip(grads, like, strict=True)]


def _first_and_second_order(fn, inputs, seed):
    """The gradients J^T v computed with ``create_graph=True``, then d/d(inputs, v) of
    <u, J^T v>: a Hessian-vector product and the derivative with respect to v."""
    xs = _leaves(inputs)
    outs = _outputs(fn(*xs))
    vs = [_r(*o.shape, seed=seed + i).requires_grad_(True) for i, o in enumerate(outs)]
    grads = torch.autograd.grad(outs, xs, vs, create_graph=True, allow_unused=True)
    total = sum(
        (g * _r(*g.shape, seed=seed + 10 + i)).sum() for i, g in enumerate(grads) if g is not None
    )
    second = torch.autograd.grad(total, xs + vs, allow_unused=True)
    return _zeros_for_none(grads, xs) + _zeros_for_none(second, xs + vs)


@pytest.mark.parametrize(
    "case",
    [c for c in CASES if c[3] is not None and c[1] not in FIRST_ORDER_ONLY],
    ids=lambda c: c[0],
)
def test_first_and_second_order_match_torch(case):
    _, _, ours, theirs, inputs = case
    ours_, theirs_ = (_first_and_second_order(f, inputs, 7) for f in (ours, theirs))
    for a, b in zip(ours_, theirs_, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-10)


def _gradient_penalty(critic, params, x):
    """WGAN-GP: (|| d critic / d x || - 1)^2, and its gradient with respect to the weights."""
    x = x.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(critic(x).sum(), x, create_graph=True)
    penalty = (g.flatten(1).norm(dim=1) - 1).square().mean()
    grads = torch.autograd.grad(penalty, params, allow_unused=True)  # the last bias is unused
    return penalty, [
        torch.zeros_like(p) if h is None else h for h, p in zip(grads, params, strict=True)
    ]


def test_gradient_penalty_through_from_torch_model():
    """A small convolutional critic, converted, against the torch model, to 1e-8."""
    torch.manual_seed(0)
    nn = torch.nn
    net = nn.Sequential(
        nn.Conv2d(2, 4, 3, padding=1),
        nn.GroupNorm(2, 4),
        nn.LeakyReLU(0.2),
        nn.Conv2d(4, 4, 3, stride=2, padding=1, groups=4),
        nn.InstanceNorm2d(4, affine=True),
        nn.GELU(),
        nn.Conv2d(4, 3, 1),
        nn.AdaptiveAvgPool2d(2),
        nn.Flatten(),
        nn.Linear(12, 6),
        nn.LayerNorm(6),
        nn.Tanh(),
        nn.Linear(6, 1),
    ).double()
    ours = mnn.from_torch(net)
    assert not any(type(m).__module__.startswith("torch.nn.modules.conv") for m in ours.modules())
    x = _r(3, 2, 6, 6)
    p_ref, g_ref = _gradient_penalty(net, list(net.parameters()), x)
    p_ours, g_ours = _gradient_penalty(ours, list(ours.parameters()), x)
    torch.testing.assert_close(p_ours, p_ref, rtol=1e-8, atol=1e-8)
    for a, b in zip(g_ours, g_ref, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-8, atol=1e-8)


@pytest.mark.parametrize("layer", [torch.nn.LSTM, torch.nn.GRU])
@pytest.mark.parametrize("how", ["grad", "backward"])
def test_gradient_penalty_through_a_first_order_layer_raises_clearly(layer, how):
    """Also when the incoming gradient is a constant (``out.sum()``) and when only the weights'
    gradients are asked for, where torch's own ``once_differentiable`` returns no error."""
    ours = mnn.from_torch(layer(3, 4).double())
    x = _r(5, 2, 3).requires_grad_(True)
    (g,) = torch.autograd.grad(ours(x)[0].sum(), x, create_graph=True)
    with pytest.raises(RuntimeError, match="once_differentiable"):
        if how == "grad":
            torch.autograd.grad(g.square().sum(), list(ours.parameters()))
        else:
            g.square().sum().backward()


def test_hardswish_second_derivative_at_special_values_matches_torch():
    # torch's second derivative of hardswish is 1/3 on -3 < x < 3 and 0 elsewhere, NaN
    # included (ours gave 1/3 at NaN); 16 copies so that torch's vectorised loop runs
    x = torch.tensor(
        [float("nan"), -3.0, 3.0, 0.5, -4.0, 4.0, float("inf"), -float("inf")] * 16,
        dtype=torch.float64,
    )
    out = []
    for f in (F.hardswish, TF.hardswish):
        xx = x.clone().requires_grad_()
        (g,) = torch.autograd.grad(f(xx).sum(), xx, create_graph=True)
        (gg,) = torch.autograd.grad(g.sum(), xx)
        out.append(gg)
    torch.testing.assert_close(out[0], out[1], rtol=0, atol=0)


@pytest.mark.parametrize("case", CASES, ids=_IDS)
def test_outputs_can_be_modified_in_place(case):
    """An output is no view of a buffer made inside the forward: autograd refuses in-place ops
    on such views, so ``nn.ReLU(inplace=True)`` after a convolution or a norm (VGG, ResNet)
    raised, where it works after torch's op."""
    _, _, ours, theirs, inputs = case
    for fn in (ours, theirs) if theirs is not None else (ours,):
        for out in _outputs(fn(*_leaves(inputs))):
            out.mul_(1.0)  # raised "Output 0 of _Conv2d is a view and is being modified inplace"
