"""One helper checks an op against its torch reference: forward, every gradient, gradcheck.

``check_op(ours, theirs, inputs)`` (a fixture, in the style of tinygrad's ``helper_test_op``):

1. float64 forward within 1e-10 (rtol and atol), same shape and dtype;
2. the op placed mid-network: the first input goes through a mixing layer
   ``x + tanh(x M)/2`` first, and the outputs are contracted with random weights (so the
   upstream gradient is neither all ones nor symmetric); gradients with respect to the raw
   input and every other floating input agree within 1e-8;
3. ``torch.autograd.gradcheck`` on the op itself;
4. float32 forward within 1e-5.
"""

from __future__ import annotations

import pytest
import torch


def rand(*shape, seed: int = 0, low: float | None = None, high: float | None = None):
    """float64 test data: standard normal, or uniform on [low, high]."""
    g = torch.Generator().manual_seed(seed + 1000 * len(shape) + sum(shape))
    if low is None:
        return torch.randn(*shape, generator=g, dtype=torch.float64)
    return low + (high - low) * torch.rand(*shape, generator=g, dtype=torch.float64)


def _floats(out):
    outs = out if isinstance(out, tuple | list) else (out,)
    flat = []
    for o in outs:
        if isinstance(o, tuple | list):
            flat.extend(_floats(o))
        elif isinstance(o, torch.Tensor) and o.is_floating_point():
            flat.append(o)
    return flat


def _network(fn, inputs, diff, mixer):
    """Run ``fn`` with the first differentiable input pre-mixed; return outputs and a loss."""
    args = list(inputs)
    first = diff[0]
    x = args[first]
    if x.dim() >= 1 and x.shape[-1] > 1:
        args[first] = x + 0.5 * torch.tanh(x @ mixer.to(x.dtype))
    outs = _floats(fn(*args))
    g = torch.Generator().manual_seed(7)
    loss = sum(
        (o * torch.randn(o.shape, generator=g, dtype=torch.float64).to(o.dtype)).sum()
        + 0.25 * (o * o).sum()
        for o in outs
        if o.requires_grad
    )
    return outs, loss


def helper_test_op(
    ours,
    theirs,
    inputs,
    *,
    diff=None,
    fwd_tol=1e-10,
    grad_tol=1e-8,
    gradcheck=True,
    float32=True,
    f32_tol=1e-5,
):
    """Compare ``ours(*inputs)`` with ``theirs(*inputs)``; ``diff`` = indices to differentiate
    (default: every floating tensor)."""
    inputs = [i.detach() if isinstance(i, torch.Tensor) else i for i in inputs]
    if diff is None:
        diff = [
            k for k, i in enumerate(inputs) if isinstance(i, torch.Tensor) and i.is_floating_point()
        ]
    d = inputs[diff[0]].shape[-1] if inputs[diff[0]].dim() else 1
    mixer = torch.randn(d, d, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    mixer = mixer / d**0.5

    results = []
    for fn in (ours, theirs):
        leaves = [i.clone().requires_grad_(k in diff) if isinstance(i, torch.Tensor) else i
                  for k, i in enumerate(inputs)]  # fmt: skip
        outs, loss = _network(fn, leaves, diff, mixer)
        grads = torch.autograd.grad(loss, [leaves[k] for k in diff], allow_unused=True)
        results.append((outs, grads))
    (o_ours, g_ours), (o_ref, g_ref) = results
    assert len(o_ours) == len(o_ref)
    for a, b in zip(o_ours, o_ref, strict=True):
        assert a.shape == b.shape and a.dtype == b.dtype
        torch.testing.assert_close(a, b, rtol=fwd_tol, atol=fwd_tol)
    for k, a, b in zip(diff, g_ours, g_ref, strict=True):
        assert a is not None and b is not None, f"no gradient for input {k}"
        torch.testing.assert_close(
            a, b, rtol=grad_tol, atol=grad_tol, msg=lambda m, k=k: f"gradient of input {k}: {m}"
        )

    if gradcheck:
        leaves = [i.clone().requires_grad_(k in diff) if isinstance(i, torch.Tensor) else i
                  for k, i in enumerate(inputs)]  # fmt: skip
        assert torch.autograd.gradcheck(lambda *a: tuple(_floats(ours(*a))), leaves, fast_mode=True)
    if float32:
        f32 = [
            i.float() if isinstance(i, torch.Tensor) and i.is_floating_point() else i
            for i in inputs
        ]
        for a, b in zip(_floats(ours(*f32)), _floats(theirs(*f32)), strict=True):
            assert a.dtype == torch.float32
            torch.testing.assert_close(a, b, rtol=f32_tol, atol=f32_tol)


@pytest.fixture
def check_op():
    return helper_test_op


@pytest.fixture(name="rand")
def rand_fixture():
    return rand
