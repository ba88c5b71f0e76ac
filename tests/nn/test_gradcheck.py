"""Full ``torch.autograd.gradcheck`` (every Jacobian entry) of every op on tiny float64 inputs."""

import pytest
import torch

import mlcanon.nn.functional as F


def _r(*shape, seed=0, low=None, high=None):
    g = torch.Generator().manual_seed(seed)
    if low is None:
        return torch.randn(*shape, generator=g, dtype=torch.float64)
    return low + (high - low) * torch.rand(*shape, generator=g, dtype=torch.float64)


def _dropout(x):
    torch.manual_seed(0)  # the same mask at every evaluation
    return F.dropout(x, 0.4)


LABELS = torch.tensor([[2, 0], [1, -100]])
CASES = {
    "sigmoid": (F.sigmoid, [_r(2, 3)]),
    "tanh": (F.tanh, [_r(2, 3)]),
    "relu": (F.relu, [_r(2, 3)]),
    "relu6": (lambda x: F.relu6(4 * x), [_r(2, 3)]),
    "leaky_relu": (lambda x: F.leaky_relu(x, 0.1), [_r(2, 3)]),
    "elu": (F.elu, [_r(2, 3)]),
    "gelu": (F.gelu, [_r(2, 3)]),
    "gelu-tanh": (lambda x: F.gelu(x, "tanh"), [_r(2, 3)]),
    "hardsigmoid": (lambda x: F.hardsigmoid(4 * x), [_r(2, 3)]),
    "hardswish": (lambda x: F.hardswish(4 * x), [_r(2, 3)]),
    "silu": (lambda x: F.silu(4 * x), [_r(2, 3)]),
    "softplus": (lambda x: F.softplus(4 * x, 0.8, 2.0), [_r(2, 3)]),
    "prelu": (F.prelu, [_r(2, 3, 2), _r(3, seed=1)]),
    "linear": (F.linear, [_r(2, 3), _r(4, 3, seed=1), _r(4, seed=2)]),
    "conv2d": (
        lambda x, w, b: F.conv2d(x, w, b, 2, 1, 1, 2),
        [_r(1, 2, 4, 3), _r(4, 1, 2, 2, seed=1), _r(4, seed=2)],
    ),
    "conv_transpose2d": (
        lambda x, w, b: F.conv_transpose2d(x, w, b, 2, 1, 1, 2),
        [_r(1, 2, 3, 2), _r(2, 2, 2, 3, seed=1), _r(4, seed=2)],
    ),
    "conv1d": (
        lambda x, w, b: F.conv1d(x, w, b, 2, 1, 2, 2),
        [_r(1, 2, 7), _r(4, 1, 3, seed=1), _r(4, seed=2)],
    ),
    "conv1d-same-unbatched": (
        lambda x, w: F.conv1d(x, w, None, 1, "same", 1, 1),
        [_r(3, 5), _r(2, 3, 4, seed=1)],
    ),
    "conv_transpose1d": (
        lambda x, w, b: F.conv_transpose1d(x, w, b, 2, 1, 1, 2, 2),
        [_r(1, 2, 4), _r(2, 2, 3, seed=1), _r(4, seed=2)],
    ),
    "max_pool1d": (lambda x: F.max_pool1d(x, 3, 2, 1, 2, ceil_mode=True), [_r(1, 2, 8)]),
    "avg_pool1d": (lambda x: F.avg_pool1d(x, 3, 2, 1, True, False), [_r(2, 7)]),
    "adaptive_avg_pool1d": (lambda x: F.adaptive_avg_pool1d(x, 3), [_r(1, 2, 7)]),
    "max_pool2d": (lambda x: F.max_pool2d(x, 2, 1, 1, ceil_mode=True), [_r(1, 2, 3, 4)]),
    "avg_pool2d": (lambda x: F.avg_pool2d(x, 3, 2, 1, True, False), [_r(1, 2, 4, 5)]),
    "adaptive_avg_pool2d": (lambda x: F.adaptive_avg_pool2d(x, (2, 3)), [_r(1, 2, 3, 5)]),
    "batch_norm-train": (
        lambda x, w, b: F.batch_norm(x, None, None, w, b, True),
        [_r(3, 2, 2), _r(2, seed=1), _r(2, seed=2)],
    ),
    "batch_norm-eval": (
        lambda x, w, b: F.batch_norm(
            x, torch.zeros(2, dtype=x.dtype), torch.ones(2, dtype=x.dtype), w, b
        ),
        [_r(3, 2, 2), _r(2, seed=1), _r(2, seed=2)],
    ),
    "instance_norm": (
        lambda x, w, b: F.instance_norm(x, weight=w, bias=b),
        [_r(2, 2, 3), _r(2, seed=1), _r(2, seed=2)],
    ),
    "group_norm": (
        lambda x, w, b: F.group_norm(x, 2, w, b),
        [_r(2, 4, 2), _r(4, seed=1), _r(4, seed=2)],
    ),
    "layer_norm": (
        lambda x, w, b: F.layer_norm(x, (3,), w, b),
        [_r(2, 3), _r(3, seed=1), _r(3, seed=2)],
    ),
    "dropout": (_dropout, [_r(3, 4)]),
    "softmax": (lambda x: F.softmax(x, 1), [_r(2, 3)]),
    "log_softmax": (lambda x: F.log_softmax(x, 0), [_r(2, 3)]),
    "cross_entropy-index": (
        lambda x: F.cross_entropy(
            x, LABELS, torch.tensor([0.5, 1.0, 2.0], dtype=x.dtype), label_smoothing=0.1
        ),
        [_r(2, 3, 2)],
    ),
    "cross_entropy-probs": (
        lambda x, t: F.cross_entropy(x, t, label_smoothing=0.2),
        [_r(2, 3), _r(2, 3, seed=1, low=0, high=1)],
    ),
    "nll_loss": (
        lambda x: F.nll_loss(x, LABELS, torch.tensor([0.5, 1.0, 2.0], dtype=x.dtype)),
        [_r(2, 3, 2)],
    ),
    "binary_cross_entropy": (
        lambda x, t, w: F.binary_cross_entropy(x, t, w, "mean"),
        [
            _r(2, 3, low=0.05, high=0.95),
            _r(2, 3, seed=1, low=0, high=1),
            _r(3, seed=2, low=0.1, high=1),
        ],
    ),
    "binary_cross_entropy_with_logits": (
        lambda x, t, w, pw: F.binary_cross_entropy_with_logits(x, t, w, "mean", pw),
        [
            _r(2, 3),
            _r(2, 3, seed=1, low=0, high=1),
            _r(3, seed=2, low=0.1, high=1),
            _r(3, seed=3, low=0.5, high=2),
        ],
    ),
    "mse_loss": (F.mse_loss, [_r(2, 3), _r(2, 3, seed=1)]),
    "l1_loss": (F.l1_loss, [_r(2, 3), _r(2, 3, seed=1)]),
    "smooth_l1_loss": (lambda x, t: F.smooth_l1_loss(x, t, beta=0.5), [_r(2, 3), _r(2, 3, seed=1)]),
    "huber_loss": (lambda x, t: F.huber_loss(x, t, delta=0.5), [_r(2, 3), _r(2, 3, seed=1)]),
    "kl_div": (
        lambda x, t: F.kl_div(x, t, "batchmean"),
        [_r(2, 3), _r(2, 3, seed=1, low=0.1, high=1)],
    ),
    "kl_div-log_target": (lambda x, t: F.kl_div(x, t, "sum", True), [_r(2, 3), _r(2, 3, seed=1)]),
    "sigmoid_focal_loss": (
        lambda x, t: F.sigmoid_focal_loss(x, t, 0.3, 1.5, "mean"),
        [_r(2, 3), _r(2, 3, seed=1, low=0, high=1)],
    ),
    "scaled_dot_product_attention": (
        lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, m),
        [_r(1, 2, 3), _r(1, 4, 3, seed=1), _r(1, 4, 2, seed=2), _r(2, 4, seed=3)],
    ),
    "additive_attention": (
        F.additive_attention,
        [
            _r(1, 2, 3),
            _r(1, 3, 2, seed=1),
            _r(1, 3, 2, seed=2),
            _r(4, 3, seed=3),
            _r(4, 2, seed=4),
            _r(4, seed=5),
        ],
    ),
    "multiplicative_attention": (
        F.multiplicative_attention,
        [_r(1, 2, 3), _r(1, 3, 2, seed=1), _r(1, 3, 2, seed=2), _r(3, 2, seed=3)],
    ),
}


def test_every_public_op_is_covered():
    assert set(F.__all__) == {name.split("-")[0] for name in CASES}


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradcheck(name):
    fn, inputs = CASES[name]
    leaves = [t.clone().requires_grad_() for t in inputs]
    assert torch.autograd.gradcheck(fn, leaves)
