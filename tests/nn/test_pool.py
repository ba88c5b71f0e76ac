"""Max, average and adaptive pooling against torch (float64 forward 1e-10, gradients 1e-8)."""

import pytest
import torch
import torch.nn.functional as TF

import mlcanon.nn.functional as F

SHAPES = [(2, 3, 7, 10), (1, 2, 9, 5)]
MAX = [
    dict(kernel_size=3),
    dict(kernel_size=(3, 2), stride=2, padding=1, ceil_mode=True),
    dict(kernel_size=3, stride=2, padding=1, dilation=2, ceil_mode=True),
    dict(kernel_size=(2, 4), stride=(3, 2), padding=(1, 2), ceil_mode=True),
    dict(kernel_size=2, stride=1),
]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("kw", MAX, ids=[str(i) for i in range(len(MAX))])
def test_max_pool2d_matches_torch(check_op, rand, shape, kw):
    check_op(lambda x: F.max_pool2d(x, **kw), lambda x: TF.max_pool2d(x, **kw), [rand(*shape)])


@pytest.mark.parametrize("kw", MAX, ids=[str(i) for i in range(len(MAX))])
def test_max_pool2d_indices_match_torch(rand, kw):
    x = rand(2, 3, 7, 10)
    _, ours = F.max_pool2d(x, **kw, return_indices=True)
    _, ref = TF.max_pool2d(x, **kw, return_indices=True)
    assert torch.equal(ours, ref)


AVG = [
    dict(kernel_size=3),
    dict(kernel_size=(3, 2), stride=2, padding=1, ceil_mode=True),
    dict(kernel_size=(3, 2), stride=2, padding=1, ceil_mode=True, count_include_pad=False),
    dict(
        kernel_size=(2, 4), stride=(3, 2), padding=(1, 2), ceil_mode=True, count_include_pad=False
    ),
    dict(kernel_size=3, stride=2, padding=1, divisor_override=5),
]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("kw", AVG, ids=[str(i) for i in range(len(AVG))])
def test_avg_pool2d_matches_torch(check_op, rand, shape, kw):
    check_op(lambda x: F.avg_pool2d(x, **kw), lambda x: TF.avg_pool2d(x, **kw), [rand(*shape)])


@pytest.mark.parametrize("size", [3, (4, 3), (None, 4), (7, 10), (5, 13), 1])
def test_adaptive_avg_pool2d_matches_torch(check_op, rand, size):
    check_op(lambda x: F.adaptive_avg_pool2d(x, size), lambda x: TF.adaptive_avg_pool2d(x, size),
             [rand(2, 3, 7, 10)])  # fmt: skip


def test_max_pool_routes_gradient_to_argmax_and_avg_spreads_it():
    x = torch.tensor([[[[1.0, 5.0], [3.0, 2.0]]]], requires_grad=True)
    F.max_pool2d(x, 2).sum().backward()
    assert torch.equal(x.grad, torch.tensor([[[[0.0, 1.0], [0.0, 0.0]]]]))
    x.grad = None
    F.avg_pool2d(x, 2).sum().backward()
    assert torch.equal(x.grad, torch.full((1, 1, 2, 2), 0.25))


def test_max_pool_ties_go_to_the_first_position_as_torch():
    x = torch.ones(1, 1, 4, 4, dtype=torch.float64)
    a, b = x.clone().requires_grad_(), x.clone().requires_grad_()
    F.max_pool2d(a, 2, 1).sum().backward()
    TF.max_pool2d(b, 2, 1).sum().backward()
    assert torch.equal(a.grad, b.grad)


def test_bad_pool_arguments():
    x = torch.zeros(1, 2, 5, 5)
    with pytest.raises(ValueError, match=r"padding=\(2, 2\) must be at most half of kernel_size"):
        F.max_pool2d(x, 2, padding=2)
    with pytest.raises(RuntimeError, match="half of kernel size"):  # torch: dilation does not help
        TF.max_pool2d(x, 2, padding=2, dilation=3)
    with pytest.raises(ValueError, match=r"padding=\(2, 2\) must be at most half of kernel_size"):
        F.max_pool2d(x, 2, padding=2, dilation=3)
    with pytest.raises(
        ValueError, match=r"kernel_size=\(7, 7\) .* larger than the padded input \(5, 5\)"
    ):
        F.avg_pool2d(x, 7)
    with pytest.raises(ValueError, match="kernel_size must be >= 1, got 0"):
        F.max_pool2d(x, 0)
    with pytest.raises(ValueError, match="divisor_override must be a positive int, got 0"):
        F.avg_pool2d(x, 2, divisor_override=0)
    with pytest.raises(ValueError, match="output_size must hold positive ints"):
        F.adaptive_avg_pool2d(x, (0, 2))
