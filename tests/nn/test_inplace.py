"""``inplace=True`` as torch's: the result is written into the input, which is returned (the
same object, its version counter one step on), with torch's gradients and torch's refusals.

Before, the functionals had no ``inplace`` argument (TypeError) and the modules took it but
returned a new tensor, leaving the input as it was.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as TF

import mlcanon.nn as nn
import mlcanon.nn.functional as F

# (name, options): the functionals and modules that take inplace in torch and in mlcanon
CASES = [
    ("relu", {}),
    ("relu6", {}),
    ("leaky_relu", {"negative_slope": 0.2}),
    ("leaky_relu", {"negative_slope": 0.0}),
    ("elu", {"alpha": 1.3}),
    ("elu", {"alpha": 0.0}),
    ("hardsigmoid", {}),
    ("hardswish", {}),
    ("silu", {}),
]
IDS = [f"{name}{list(kw.values())}" for name, kw in CASES]
MODULES = {
    "relu": "ReLU",
    "relu6": "ReLU6",
    "leaky_relu": "LeakyReLU",
    "elu": "ELU",
    "hardsigmoid": "Hardsigmoid",
    "hardswish": "Hardswish",
    "silu": "SiLU",
}


def _data(dtype=torch.float64, n=61):
    """Both sides of every kink (0, +-3, 6), the kinks themselves, and a spread of values."""
    g = torch.Generator().manual_seed(0)
    kinks = torch.tensor([0.0, -0.0, -3.0, 3.0, 6.0, -6.0, 1e-3, -1e-3], dtype=torch.float64)
    return torch.cat([kinks, 4.0 * torch.randn(n - kinks.numel(), generator=g).double()]).to(dtype)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32, torch.float16, torch.bfloat16])
@pytest.mark.parametrize(("name", "kw"), CASES, ids=IDS)
def test_functional_inplace_writes_torchs_values_into_the_input(name, kw, dtype):
    x, ref = _data(dtype), _data(dtype)
    out = getattr(F, name)(x, **kw, inplace=True)
    want = getattr(TF, name)(ref, **kw, inplace=True)
    assert out is x and want is ref
    assert x._version == ref._version == 1  # one in-place op, one version step
    tol = {torch.float64: 1e-15, torch.float32: 1e-7}.get(dtype, 0.0)  # half: bit for bit
    torch.testing.assert_close(x, ref, rtol=tol, atol=tol)


@pytest.mark.parametrize(("name", "kw"), CASES, ids=IDS)
def test_module_inplace_returns_its_input_modified(name, kw):
    x, ref = _data(), _data()
    out = getattr(nn, MODULES[name])(*kw.values(), inplace=True)(x)
    want = getattr(torch.nn, MODULES[name])(*kw.values(), inplace=True)(ref)
    assert out is x and want is ref
    torch.testing.assert_close(x, ref, rtol=1e-15, atol=1e-15)
    # inplace=False (the default) still leaves the input alone, as torch's
    y = _data()
    assert getattr(nn, MODULES[name])(*kw.values())(y) is not y
    torch.testing.assert_close(y, _data(), rtol=0, atol=0)


def _reference(name):
    """torch's in-place op; for hardsigmoid the same function of exact in-place torch ops, as
    torch's fused hardsigmoid backward multiplies by a float32 1/6 even in float64 (relative
    error 3e-8; see test_activations.py)."""
    if name == "hardsigmoid":
        return lambda t, inplace: t.div_(6.0).add_(0.5).clamp_(0.0, 1.0)
    return getattr(TF, name)


@pytest.mark.parametrize(("name", "kw"), CASES, ids=IDS)
def test_inplace_gradients_are_torchs(name, kw):
    """Mid-network (the input of the in-place op is not a leaf), float64, a random upstream
    gradient; first derivatives against torch's in-place op, then gradcheck."""
    g = torch.Generator().manual_seed(1)
    upstream = torch.randn(61, generator=g, dtype=torch.float64)
    grads = []
    for fn in (getattr(F, name), _reference(name)):
        leaf = _data().requires_grad_()
        hidden = leaf * 1.5
        out = fn(hidden, **kw, inplace=True)
        assert out is hidden
        (out * upstream).sum().backward()
        grads.append(leaf.grad)
    torch.testing.assert_close(grads[0], grads[1], rtol=1e-14, atol=1e-15)
    x = torch.randn(7, generator=g, dtype=torch.float64, requires_grad=True)
    fn = getattr(F, name)
    assert torch.autograd.gradcheck(lambda t: fn(t.clone(), **kw, inplace=True), (x,))
    assert torch.autograd.gradgradcheck(lambda t: fn(t.clone(), **kw, inplace=True), (x,))


@pytest.mark.parametrize(("name", "kw"), [c for c in CASES if c[0] != "hardsigmoid"])
def test_inplace_second_derivatives_are_torchs(name, kw):
    """Double backward (a gradient penalty) through the in-place op: torch's values, the kinks
    included (ELU from its output has second derivative 0 at x = 0, as torch's). torch has no
    double backward for hardsigmoid_ (its backward's derivative is not implemented)."""
    results = []
    for fn in (getattr(F, name), getattr(TF, name)):
        leaf = _data().requires_grad_()
        gy = torch.linspace(-1, 1, 61, dtype=torch.float64, requires_grad=True)
        out = fn(leaf * 1.0, **kw, inplace=True)
        (gx,) = torch.autograd.grad(out, leaf, gy, create_graph=True)
        results.append(
            torch.autograd.grad(
                (gx * torch.cos(leaf + gy)).sum(), (leaf, gy), materialize_grads=True
            )
        )
    for ours, theirs in zip(*results, strict=True):
        torch.testing.assert_close(ours, theirs, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize(("name", "kw"), CASES, ids=IDS)
def test_inplace_refusals_are_torchs(name, kw):
    """torch refuses an in-place op on a leaf that requires grad and on a view of one, before
    touching it; ours too (the leaf keeps its values)."""
    for fn in (getattr(F, name), getattr(TF, name)):
        leaf = _data().requires_grad_()
        with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
            fn(leaf, **kw, inplace=True)
        with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
            fn(leaf[2:], **kw, inplace=True)
        torch.testing.assert_close(leaf.detach(), _data(), rtol=0, atol=0)
        with torch.no_grad():  # allowed without grad mode, as torch
            assert fn(leaf, **kw, inplace=True) is leaf
        with torch.inference_mode():
            frozen = _data()
        with pytest.raises(RuntimeError, match="Inplace update to inference tensor"):
            fn(frozen, **kw, inplace=True)


@pytest.mark.parametrize("name", ["leaky_relu", "elu"])
def test_negative_slope_in_place_backward_is_refused_as_torch(name):
    """The backward from the output cannot tell where x was negative when the slope is: torch
    computes the forward and refuses in the backward."""
    for fn in (getattr(F, name), getattr(TF, name)):
        leaf = _data().requires_grad_()
        out = fn(leaf * 1.0, -0.5, inplace=True)
        with pytest.raises(RuntimeError, match="negative slope which is not supported"):
            out.sum().backward()
        # without a graph there is no backward, and no refusal
        torch.testing.assert_close(
            getattr(F, name)(_data(), -0.5, inplace=True),
            getattr(TF, name)(_data(), -0.5),
            rtol=1e-15,
            atol=1e-15,
        )


def test_inplace_on_an_output_saved_for_backward_fails_as_torch():
    """The version counter is what torch's autograd checks: sigmoid keeps its output for the
    backward, so overwriting that output in place makes the backward fail, in torch and ours."""
    for mod, sig in ((F, F.sigmoid), (TF, torch.sigmoid)):
        leaf = _data().requires_grad_()
        out = mod.relu(sig(leaf), inplace=True)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            out.sum().backward()


@pytest.mark.parametrize("p", [0.3, 1.0])
def test_dropout_inplace_is_torchs(p):
    """Same seed, same mask: the input holds torch's result and is returned; the gradient is
    torch's; a leaf that requires grad is refused; eval mode returns the input untouched."""
    results = []
    for fn in (F.dropout, TF.dropout):
        leaf = _data().requires_grad_()
        hidden = leaf * 2.0
        torch.manual_seed(3)
        out = fn(hidden, p, True, inplace=True)
        assert out is hidden
        out.square().sum().backward()
        results.append((hidden.detach(), leaf.grad))
    torch.testing.assert_close(results[0], results[1], rtol=1e-15, atol=0)

    def seeded(t):  # the same mask at every evaluation
        torch.manual_seed(5)
        return F.dropout(t.clone(), p, inplace=True)

    assert torch.autograd.gradcheck(seeded, (leaf,))
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        F.dropout(leaf, p, inplace=True)

    module, ref = nn.Dropout(p, inplace=True), torch.nn.Dropout(p, inplace=True)
    x, y = _data(), _data()
    torch.manual_seed(4)
    assert module(x) is x
    torch.manual_seed(4)
    ref(y)
    torch.testing.assert_close(x, y, rtol=1e-15, atol=0)
    x = _data()
    assert module.eval()(x) is x and ref.eval()(x) is x
    torch.testing.assert_close(x, _data(), rtol=0, atol=0)


def test_inplace_must_be_a_bool():
    with pytest.raises(TypeError, match="inplace must be bool"):
        F.relu(_data(), inplace="yes")
    with pytest.raises(TypeError, match="inplace must be bool"):
        F.dropout(_data(), inplace=None)


def test_inplace_relu_after_conv_and_norms_trains_as_torch():
    """torchvision's pattern conv -> norm -> ReLU(inplace=True): our convolution and norm
    outputs were views made inside the forward, which autograd refuses to modify in place."""
    torch.manual_seed(0)
    ref = torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 3, padding=1),
        torch.nn.ReLU(inplace=True),
        torch.nn.Conv2d(4, 4, 3, stride=2),
        torch.nn.BatchNorm2d(4),
        torch.nn.ReLU6(inplace=True),
        torch.nn.Conv2d(4, 6, 1),
        torch.nn.GroupNorm(2, 6),
        torch.nn.SiLU(inplace=True),
        torch.nn.Conv2d(6, 6, 1, stride=2),
        torch.nn.InstanceNorm2d(6, affine=True),
        torch.nn.Hardswish(inplace=True),
        torch.nn.Flatten(),
        torch.nn.LayerNorm(24),
        torch.nn.LeakyReLU(0.1, inplace=True),
        torch.nn.Linear(24, 5),
        torch.nn.ELU(inplace=True),
    ).double()
    ours = nn.from_torch(ref)
    x = torch.randn(2, 3, 9, 9, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    for model in (ref, ours):
        model(x).square().sum().backward()
    for (name, p), q in zip(ref.named_parameters(), ours.parameters(), strict=True):
        torch.testing.assert_close(q.grad, p.grad, rtol=1e-10, atol=1e-12, msg=name)


def test_dropout_of_an_empty_input_returns_it_as_torch():
    """torch's dropout returns an empty input itself, in place or not, before any check (a
    leaf that requires grad included); ours made a new tensor, and refused the leaf in place."""
    for fn in (F.dropout, TF.dropout):
        x = torch.empty(0, 3)
        assert fn(x, 0.5) is x
        leaf = torch.empty(0, 3, requires_grad=True)
        assert fn(leaf, 0.5, inplace=True) is leaf
