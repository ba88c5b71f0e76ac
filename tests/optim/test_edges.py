"""Edge-case parameters against torch.optim: empty, 0-d, strided, low-precision, maximize.

Every optimizer, on its torch path and on its NumPy path, takes the same steps as
``torch.optim`` (``foreach=False``) on parameters of unusual shapes and layouts.
"""

import copy

import numpy as np
import pytest
import torch

import mlcanon.optim as O

HYPER = {
    "SGD": {"momentum": 0.9, "nesterov": True, "weight_decay": 0.1},
    "Adam": {"amsgrad": True, "weight_decay": 0.1},
    "AdamW": {"amsgrad": True},
    "Adamax": {"weight_decay": 0.1},
    "Adagrad": {"lr_decay": 0.1, "initial_accumulator_value": 0.5},
    "Adadelta": {"weight_decay": 0.1},
    "RMSprop": {"centered": True, "momentum": 0.5},
}


def odd_parameters(dtype):
    g = torch.Generator().manual_seed(0)
    return [
        torch.randn(0, 3, generator=g, dtype=dtype),  # no entries
        torch.randn((), generator=g, dtype=dtype),  # 0-d
        torch.randn(3, 2, generator=g, dtype=dtype).t(),  # transposed view
        torch.randn(2, 3, 4, 2, generator=g, dtype=dtype).contiguous(
            memory_format=torch.channels_last
        ),
    ]


def gradients(params, step):
    g = torch.Generator().manual_seed(step)
    return [torch.randn(p.shape, generator=g, dtype=torch.float64).to(p.dtype) for p in params]


@pytest.mark.parametrize("name", HYPER)
@pytest.mark.parametrize("dtype", [torch.float64, torch.bfloat16])
def test_torch_path_matches_torch_on_odd_parameters(name, dtype):
    ours, theirs = odd_parameters(dtype), odd_parameters(dtype)
    frozen = torch.ones(2, dtype=dtype, requires_grad=True)  # never given a gradient
    hyper = {"lr": 0.1, "maximize": True, **HYPER[name]}
    opt = getattr(O, name)([*(p.requires_grad_() for p in ours), frozen], **hyper)
    ref = getattr(torch.optim, name)([p.requires_grad_() for p in theirs], foreach=False, **hyper)
    for step in range(3):
        for group in (ours, theirs):
            for p, g in zip(group, gradients(group, step), strict=True):
                p.grad = g
        opt.step()
        ref.step()
    for a, b in zip(ours, theirs, strict=True):  # the same operations: equal to the bit
        assert a.dtype == b.dtype and a.stride() == b.stride()
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert torch.equal(frozen, torch.ones(2, dtype=dtype))


@pytest.mark.parametrize("name", HYPER)
def test_numpy_path_matches_torch_on_odd_parameters(name):
    # a 0-d array: Adadelta and centered RMSprop failed (a NumPy scalar has no buffer to write)
    theirs = odd_parameters(torch.float64)
    ours = [p.detach().numpy().copy() for p in theirs]
    hyper = {"lr": 0.1, "maximize": True, **HYPER[name]}
    opt = getattr(O, name).for_arrays(ours, **hyper)
    ref = getattr(torch.optim, name)([p.requires_grad_() for p in theirs], foreach=False, **hyper)
    for step in range(3):
        grads = gradients(theirs, step)
        for p, g in zip(theirs, grads, strict=True):
            p.grad = g
        opt.step([g.numpy() for g in grads])
        ref.step()
    for a, b in zip(ours, theirs, strict=True):
        assert a.shape == tuple(b.shape)
        np.testing.assert_allclose(a, b.detach().numpy(), rtol=1e-12, atol=1e-14)


def test_empty_parameter_list_is_refused_like_torch():
    with pytest.raises(ValueError, match="empty parameter list"):
        torch.optim.Adam([])
    with pytest.raises(ValueError, match="empty parameter list"):
        O.Adam([])
    with pytest.raises(ValueError, match="params must contain at least one array"):
        O.Adam.for_arrays([])


COMPLEX_HYPER = {
    "SGD": [
        {"momentum": 0.9, "dampening": 0.3, "weight_decay": 0.1},
        {"momentum": 0.9, "nesterov": True},
    ],
    "Adam": [
        {"amsgrad": True, "weight_decay": 0.1},
        {"weight_decay": 0.1, "decoupled_weight_decay": True},
    ],
    "AdamW": [{"amsgrad": True}],
    "Adamax": [{"weight_decay": 0.1}],
    "Adagrad": [{"lr_decay": 0.1, "initial_accumulator_value": 0.5, "weight_decay": 0.1}],
    "Adadelta": [{"weight_decay": 0.1}],
    "RMSprop": [{"centered": True, "momentum": 0.5, "weight_decay": 0.1}, {}],
}


@pytest.mark.parametrize(("name", "hyper"), [(n, h) for n, hs in COMPLEX_HYPER.items() for h in hs])
@pytest.mark.parametrize("maximize", [False, True])
def test_complex_parameters_step_as_torch(name, hyper, maximize):
    # torch.optim takes complex parameters (weight decay in complex arithmetic, then the real
    # and imaginary parts as two real coordinates; SGD wholly in complex arithmetic); they were
    # refused with a TypeError. 50 steps, with torch's state dict loaded half-way, bit for bit.
    g = torch.Generator().manual_seed(0)
    start = [
        torch.randn(3, 2, generator=g, dtype=torch.complex128),
        torch.randn((), generator=g, dtype=torch.complex128),
        torch.randn(0, 2, generator=g, dtype=torch.complex128),
        torch.randn(4, generator=g, dtype=torch.float64),  # a real one in the same group
    ]
    ours = [p.clone().requires_grad_() for p in start]
    theirs = [p.clone().requires_grad_() for p in start]
    hyper = {"lr": 0.05, "maximize": maximize, **hyper}
    opt = getattr(O, name)(ours, **hyper)
    ref = getattr(torch.optim, name)(theirs, foreach=False, **hyper)
    for step in range(50):
        gen = torch.Generator().manual_seed(step)
        grads = [torch.randn(p.shape, generator=gen, dtype=p.dtype) for p in start]
        for params in (ours, theirs):
            for p, grad in zip(params, grads, strict=True):
                p.grad = grad + 0.3 * p.detach()
        opt.step()
        ref.step()
        if step == 25:
            opt.load_state_dict(copy.deepcopy(ref.state_dict()))  # as a checkpoint would
    for a, b in zip(ours, theirs, strict=True):
        assert a.dtype == b.dtype
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    for p in ours[:3]:  # the buffers are stored complex, as torch's
        assert all(v.is_complex() for k, v in opt.state[p].items() if k != "step")
