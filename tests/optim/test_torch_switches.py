"""torch.optim's constructor switches, tensor learning rates and sparse gradients, against torch.

``torch.optim`` (2.13) takes a one-element tensor ``lr`` and the switches ``foreach``, ``fused``,
``capturable`` and ``differentiable``; its SGD and Adagrad take sparse gradients. Each test runs
the same loop with ``torch.optim`` and with ours and compares every parameter after many steps in
float64, bit for bit where torch's own paths agree bit for bit.
"""

from __future__ import annotations

import copy
import inspect

import numpy as np
import pytest
import torch

from mlcanon import optim

NAMES = ["SGD", "Adam", "AdamW", "Adamax", "Adagrad", "Adadelta", "RMSprop"]
FUSED = ["SGD", "Adam", "AdamW", "Adagrad"]  # the optimizers with fused kernels in torch.optim
HYPER = {
    "SGD": {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 1e-2},
    "Adam": {"lr": 1e-2, "amsgrad": True, "weight_decay": 1e-2},
    "AdamW": {"lr": 1e-2, "weight_decay": 0.1},
    "Adamax": {"lr": 1e-2, "weight_decay": 1e-2},
    "Adagrad": {"lr": 0.1, "lr_decay": 1e-2, "initial_accumulator_value": 0.1},
    "Adadelta": {"lr": 0.3, "weight_decay": 1e-3},
    "RMSprop": {"lr": 1e-3, "centered": True, "momentum": 0.5},
}
STEPS = 300


def _trajectory(cls, hyper, steps=STEPS, dtype=torch.float64):
    """Both parameters after every step of a loop fed the same random gradients."""
    gen = torch.Generator().manual_seed(1)
    p = torch.randn(7, dtype=dtype, generator=gen).requires_grad_()
    q = torch.randn(2, 3, dtype=dtype, generator=gen).requires_grad_()
    opt = cls([p, q], **hyper)
    out = []
    for _ in range(steps):
        p.grad = torch.randn(7, dtype=dtype, generator=gen)
        q.grad = 3 * torch.randn(2, 3, dtype=dtype, generator=gen)
        opt.step()
        out.append(torch.cat([p.detach().ravel(), q.detach().ravel()]))
    return torch.stack(out).numpy()


def _lr_tensors(lr):
    return {
        "float32-0d": torch.tensor(lr),
        "float64-0d": torch.tensor(lr, dtype=torch.float64),
        "float32-1elem": torch.tensor([lr]),
    }


# tensor lr ------------------------------------------------------------------------------------
@pytest.mark.parametrize("foreach", [None, False, True])
@pytest.mark.parametrize("kind", ["float32-0d", "float64-0d", "float32-1elem"])
@pytest.mark.parametrize("name", NAMES)
def test_tensor_lr_steps_as_torch(name, kind, foreach):
    """A tensor lr enters torch's arithmetic in its own dtype (a float32 lr rounds the step
    size in float32): ours takes the same steps, bit for bit."""
    hyper = {**HYPER[name], "foreach": foreach}
    hyper["lr"] = _lr_tensors(hyper["lr"])[kind]
    if name in ("Adam", "AdamW") and foreach:
        with pytest.raises(ValueError, match="lr as a Tensor is not supported"):
            torch.optim.__dict__[name]([torch.zeros(1, requires_grad=True)], **hyper)
        with pytest.raises(ValueError, match="lr as a Tensor is not supported"):
            getattr(optim, name)([torch.zeros(1, requires_grad=True)], **hyper)
        return
    ref = _trajectory(getattr(torch.optim, name), hyper)
    ours = _trajectory(getattr(optim, name), hyper)
    np.testing.assert_array_equal(ours, ref)
    if kind == "float32-0d":  # the float32 rounding of lr is seen: not the float lr's run
        assert np.abs(ref - _trajectory(getattr(torch.optim, name), HYPER[name])).max() > 0


TENSOR_HYPER = (
    [
        # torch.optim takes a one-element tensor weight_decay everywhere, tensor betas in Adam,
        # AdamW and Adamax; float32 tensors round their products in float32 there
        (name, {"weight_decay": torch.tensor(0.03)}, dtype)
        for name in NAMES
        for dtype in (torch.float64, torch.float32)
    ]
    + [
        (name, {"betas": (torch.tensor(0.8), torch.tensor(0.95)), **extra}, dtype)
        for name in ("Adam", "AdamW", "Adamax")
        for extra in ({}, {"lr": torch.tensor(0.03), "weight_decay": torch.tensor(0.1)})
        for dtype in (torch.float64, torch.float32)
    ]
    + [
        (
            "Adam",
            {"betas": (torch.tensor(0.9), torch.tensor(0.99)), "amsgrad": True},
            torch.float64,
        ),
        (
            "Adam",
            {"weight_decay": torch.tensor(0.1), "decoupled_weight_decay": True},
            torch.float64,
        ),
    ]
)


@pytest.mark.parametrize(
    ("name", "hyper", "dtype"), TENSOR_HYPER, ids=[str(i) for i in range(len(TENSOR_HYPER))]
)
def test_tensor_weight_decay_and_betas_step_as_torch(name, hyper, dtype):
    hyper = {**HYPER[name], **hyper}
    ref = _trajectory(getattr(torch.optim, name), hyper, dtype=dtype)
    np.testing.assert_array_equal(_trajectory(getattr(optim, name), hyper, dtype=dtype), ref)


@pytest.mark.parametrize(
    ("hyper", "error", "match"),
    [
        ({"betas": (torch.tensor(0.9), torch.tensor(0.99)), "foreach": True}, ValueError, "betas"),
        ({"betas": (torch.tensor(0.9), 0.99)}, ValueError, "both numbers or both Tensors"),
        ({"betas": (torch.tensor(1.0), torch.tensor(0.99))}, ValueError, r"betas\[0\] must be < 1"),
        ({"weight_decay": torch.tensor([0.1, 0.2])}, ValueError, "must have one element"),
    ],
)
def test_bad_tensor_hyper_parameters_raise(hyper, error, match):
    with pytest.raises(error, match=match):
        optim.Adam([torch.zeros(2, requires_grad=True)], **hyper)


def test_tensor_lr_is_kept_and_scheduled_like_torch():
    """The tensor stays in the group (schedulers rewrite it in place, as torch documents)."""
    lr = torch.tensor(0.1)
    p = torch.ones(2, requires_grad=True)
    opt = optim.SGD([p], lr=lr)
    assert opt.param_groups[0]["lr"] is lr
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    p.grad = torch.ones(2)
    opt.step()
    sched.step()
    assert torch.is_tensor(opt.param_groups[0]["lr"])
    np.testing.assert_array_equal(opt.param_groups[0]["lr"].item(), np.float32(0.05))


@pytest.mark.parametrize(
    "hyper",
    [
        {"lr": torch.tensor(0.1)},
        {"weight_decay": torch.tensor(0.1)},
        {"betas": (torch.tensor(0.9), torch.tensor(0.99))},
    ],
)
def test_tensor_hyper_parameters_refused_for_numpy_arrays(hyper):
    with pytest.raises(TypeError, match=f"{next(iter(hyper))} must be floats for NumPy arrays"):
        optim.Adam.for_arrays([np.zeros(2)], **hyper)


# the switches -----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_signature_is_torchs(name):
    """Same parameters as torch.optim, in the same order, kinds and defaults."""
    ours = inspect.signature(getattr(optim, name).__init__).parameters
    ref = inspect.signature(getattr(torch.optim, name).__init__).parameters
    assert list(ours) == list(ref)
    for key, param in ours.items():
        assert param.kind == ref[key].kind, key
        assert param.default == ref[key].default, key


@pytest.mark.parametrize("name", NAMES)
def test_param_groups_hold_torchs_keys(name):
    ours = getattr(optim, name)([torch.zeros(2, requires_grad=True)])
    ref = getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)])
    assert ours.param_groups[0].keys() == ref.param_groups[0].keys()
    for key in ("foreach", "fused", "capturable", "differentiable"):
        assert ours.param_groups[0].get(key, "absent") == ref.param_groups[0].get(key, "absent")


@pytest.mark.parametrize("foreach", [None, False, True])
@pytest.mark.parametrize("name", NAMES)
def test_foreach_takes_torchs_steps(name, foreach):
    hyper = {**HYPER[name], "foreach": foreach}
    ref = _trajectory(getattr(torch.optim, name), hyper)
    np.testing.assert_array_equal(_trajectory(getattr(optim, name), hyper), ref)
    # and torch's foreach and single-tensor steps agree: one rule serves them all
    np.testing.assert_array_equal(ref, _trajectory(getattr(torch.optim, name), HYPER[name]))


@pytest.mark.parametrize("lr", ["float", "tensor"])
@pytest.mark.parametrize("name", FUSED)
def test_fused_matches_torchs_fused_kernel(name, lr):
    """torch's fused CPU kernels round a few products differently (1e-14 after 300 steps);
    a float32 tensor lr is read there as a Python float, not rounded in float32."""
    hyper = {**HYPER[name], "fused": True}
    if lr == "tensor":
        hyper["lr"] = torch.tensor(hyper["lr"])
    ref = _trajectory(getattr(torch.optim, name), hyper)
    np.testing.assert_allclose(_trajectory(getattr(optim, name), hyper), ref, rtol=0, atol=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_state_dict_with_switches_loads_both_ways(name):
    """A checkpoint carries the switches in its groups; each side resumes the other's."""
    hyper = {**HYPER[name], "foreach": False}
    ours, theirs = getattr(optim, name), getattr(torch.optim, name)
    for src_cls, dst_cls in [(theirs, ours), (ours, theirs)]:
        p = torch.ones(3, dtype=torch.float64, requires_grad=True)
        src = src_cls([p], **hyper)
        p.grad = torch.full((3,), 0.5, dtype=torch.float64)
        src.step()
        dst = dst_cls([p], **HYPER[name])
        dst.load_state_dict(copy.deepcopy(src.state_dict()))
        assert dst.param_groups[0]["foreach"] is False
        ref = theirs([p.detach().clone().requires_grad_()], **hyper)
        ref.load_state_dict(copy.deepcopy(src.state_dict()))  # no shared buffers
        for opt in (dst, ref):
            for q in opt.param_groups[0]["params"]:
                q.grad = torch.full((3,), -0.25, dtype=torch.float64)
            opt.step()
        torch.testing.assert_close(
            dst.param_groups[0]["params"][0], ref.param_groups[0]["params"][0], rtol=0, atol=0
        )


# refusals: what torch refuses, and only that ----------------------------------------------------
def _one_step(cls, hyper, p):
    opt = cls([p], **hyper)
    p.grad = torch.ones_like(p)
    opt.step()


REFUSED = [
    # (optimizers, hyper-parameters, our message)
    (FUSED, {"fused": True, "foreach": True}, "cannot be used together"),
    (NAMES, {"lr": torch.tensor([0.1, 0.2])}, "must have one element"),
    (NAMES, {"lr": torch.tensor(-0.1)}, "lr must be >= 0"),
    (["Adam", "AdamW", "Adamax", "Adadelta", "RMSprop"], {"capturable": True}, "on one of"),
]


@pytest.mark.parametrize(
    ("name", "hyper", "match"),
    [(n, h, m) for names, h, m in REFUSED for n in names],
)
def test_refused_as_torch_refuses(name, hyper, match):
    with pytest.raises((ValueError, RuntimeError, AssertionError)):
        _one_step(getattr(torch.optim, name), hyper, torch.ones(2, requires_grad=True))
    with pytest.raises(ValueError, match=match):
        _one_step(getattr(optim, name), hyper, torch.ones(2, requires_grad=True))


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "Adagrad"])
def test_fused_refuses_non_float_parameters_as_torch(name):
    hyper = {"fused": True}
    with pytest.raises(RuntimeError, match="floating point"):
        _one_step(getattr(torch.optim, name), hyper, torch.ones(2, dtype=torch.complex128))
    with pytest.raises(ValueError, match="fused=True requires floating-point parameters"):
        _one_step(getattr(optim, name), hyper, torch.ones(2, dtype=torch.complex128))


# differentiable=True: autograd records the step -------------------------------------------------
DIFFERENTIABLE = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.9}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.5, "dampening": 0.3, "maximize": True, "foreach": True}),
    ("Adam", {"lr": 0.1}),
    ("Adam", {"lr": 0.1, "amsgrad": True, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.1, "maximize": True, "decoupled_weight_decay": True, "weight_decay": 0.2}),
    ("AdamW", {"lr": 0.1, "amsgrad": True}),
    ("Adamax", {"lr": 0.1, "weight_decay": 0.1, "maximize": True}),
    ("Adagrad", {"lr": 0.1}),
    (
        "Adagrad",
        {"lr": 0.1, "lr_decay": 0.1, "weight_decay": 0.1, "initial_accumulator_value": 0.5},
    ),
    ("Adadelta", {"lr": 0.5, "weight_decay": 0.1, "maximize": True}),
    ("RMSprop", {"lr": 0.1}),
    ("RMSprop", {"lr": 0.1, "centered": True, "momentum": 0.9, "weight_decay": 0.1}),
]


def _state_after_a_few_steps(name, hyper, n):
    """A state as torch.optim keeps it some steps in (second moments positive), as tensors."""
    gen = torch.Generator().manual_seed(1)

    def normal():
        return torch.randn(n, generator=gen, dtype=torch.float64)

    def positive():
        return torch.rand(n, generator=gen, dtype=torch.float64) + 0.5

    step = {"step": torch.tensor(3.0)}
    if name == "SGD":
        return {"momentum_buffer": normal()} if hyper.get("momentum") else {}
    if name in ("Adam", "AdamW"):
        extra = {"max_exp_avg_sq": 1.2 * positive()} if hyper.get("amsgrad") else {}
        return {**step, "exp_avg": normal(), "exp_avg_sq": positive(), **extra}
    if name == "Adamax":
        return {**step, "exp_avg": normal(), "exp_inf": positive()}
    if name == "Adagrad":
        return {**step, "sum": positive()}
    if name == "Adadelta":
        return {**step, "square_avg": positive(), "acc_delta": positive()}
    state = {**step, "square_avg": positive() + 1}  # RMSprop
    if hyper.get("momentum"):
        state["momentum_buffer"] = normal()
    if hyper.get("centered"):
        state["grad_avg"] = 0.1 * normal()
    return state


def _differentiable_step(cls, hyper, p, grad, keys, *values):
    """torch.optim's own test of differentiable=True (test_optim.py's _diff_fn): one step of a
    non-leaf parameter copy; the updated parameter and the state that requires grad."""
    p = p.clone()
    p.grad = grad
    opt = cls([p], differentiable=True, **hyper)
    opt.state[p].update({k: v.clone() for k, v in zip(keys, values, strict=True)})
    opt.step()
    return (p, *(v for v in opt.state[p].values() if torch.is_tensor(v) and v.requires_grad))


def _grad(output, inputs):
    return torch.autograd.grad(output, inputs, retain_graph=True, materialize_grads=True)


@pytest.mark.parametrize(("name", "hyper"), DIFFERENTIABLE, ids=lambda v: str(v)[:60])
def test_differentiable_step_and_its_jacobian_are_torchs(name, hyper):
    """differentiable=True was refused. Now one step's results and their Jacobian with respect
    to the parameter, its gradient and the state are torch.optim's; gradcheck passes too."""
    gen = torch.Generator().manual_seed(2)
    p = torch.randn(4, generator=gen, dtype=torch.float64, requires_grad=True)
    grad = torch.randn(4, generator=gen, dtype=torch.float64, requires_grad=True)
    state = _state_after_a_few_steps(name, hyper, 4)
    keys = list(state)
    values = [v if k == "step" else v.requires_grad_() for k, v in state.items()]
    inputs = [p, grad, *(v for v in values if v.requires_grad)]
    results = []
    for cls in (getattr(optim, name), getattr(torch.optim, name)):
        outs = _differentiable_step(cls, hyper, p, grad, keys, *values)
        jacobian = [
            torch.cat([g.reshape(-1) for g in _grad(o[i], inputs)])
            for o in outs
            for i in range(o.numel())
        ]
        results.append((outs, jacobian))
    (ours, jac), (theirs, ref) = results
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-14, atol=1e-15)
    torch.testing.assert_close(torch.stack(jac), torch.stack(ref), rtol=1e-12, atol=1e-14)
    cls = getattr(optim, name)
    assert torch.autograd.gradcheck(
        lambda *t: _differentiable_step(cls, hyper, t[0], t[1], keys, *t[2:]),
        (p, grad, *values),
    )


@pytest.mark.parametrize(
    ("name", "hyper"),
    [("SGD", {"momentum": 0.9}), ("Adam", {}), ("AdamW", {}), ("Adagrad", {}), ("Adadelta", {})],
)
def test_differentiable_meta_gradient_through_three_steps_is_torchs(name, hyper):
    """Unrolled optimization (a meta-gradient): three steps on gradients taken with
    create_graph, then d(outer loss)/d(initial weights), as with torch.optim."""
    results = []
    for cls in (getattr(optim, name), getattr(torch.optim, name)):
        gen = torch.Generator().manual_seed(0)
        w0 = torch.randn(5, generator=gen, dtype=torch.float64, requires_grad=True)
        x = torch.randn(8, 5, generator=gen, dtype=torch.float64)
        p = w0.clone()
        opt = cls([p], lr=0.05, differentiable=True, **hyper)
        for _ in range(3):
            (p.grad,) = torch.autograd.grad((x @ p).sin().square().sum(), p, create_graph=True)
            opt.step()
        results.append((p.detach(), *torch.autograd.grad((x @ p).cos().sum(), w0)))
    for a, b in zip(*results, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", NAMES)
def test_differentiable_refusals_are_torchs(name):
    """torch refuses differentiable=True with fused=True (at construction) and with
    foreach=True (at the step: its multi-tensor ops have no autograd), but in SGD; and a leaf
    parameter that requires grad (updated in place under autograd)."""
    if name in FUSED:
        with pytest.raises(RuntimeError, match="`fused` does not support `differentiable`"):
            getattr(torch.optim, name)([torch.ones(2)], differentiable=True, fused=True)
        with pytest.raises(ValueError, match="fused=True does not support differentiable"):
            getattr(optim, name)([torch.ones(2)], differentiable=True, fused=True)
    for module in (torch.optim, optim):
        leaf = torch.ones(2, dtype=torch.float64, requires_grad=True)
        opt = getattr(module, name)([leaf], differentiable=True)
        leaf.grad = torch.ones(2, dtype=torch.float64)
        with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
            opt.step()
    if name == "SGD":
        return
    p = torch.ones(2, dtype=torch.float64, requires_grad=True).clone()
    opt = getattr(torch.optim, name)([p], differentiable=True, foreach=True)
    p.grad = torch.ones(2, dtype=torch.float64, requires_grad=True)
    with pytest.raises(AssertionError, match="_foreach ops don't support autograd"):
        opt.step()
    with pytest.raises(ValueError, match="foreach=True does not support differentiable=True"):
        getattr(optim, name)([p], differentiable=True, foreach=True)
    with pytest.raises(ValueError, match="NumPy arrays take differentiable=False"):
        getattr(optim, name).for_arrays([np.ones(2)], differentiable=True)


# Adagrad's initial accumulator ------------------------------------------------------------------
@pytest.mark.parametrize("module", ["torch", "numpy"])
def test_adagrad_accumulator_starts_at_the_constructors_value(module):
    """torch.optim.Adagrad fills every accumulator with the constructor's
    initial_accumulator_value: one given in a param group (or added later) is not used."""

    def groups(p, q, r):
        return [{"params": [p]}, {"params": [q], "initial_accumulator_value": 5.0}], {
            "params": [r],
            "initial_accumulator_value": 7.0,
        }

    def run_torch(cls):
        p, q, r = (torch.ones(n, dtype=torch.float64, requires_grad=True) for n in (3, 2, 2))
        first, later = groups(p, q, r)
        opt = cls(first, lr=0.1, initial_accumulator_value=0.5)
        opt.add_param_group(later)
        for t in range(3):
            for x in (p, q, r):
                x.grad = torch.full_like(x, 0.3 * (t + 1))
            opt.step()
        return np.concatenate([x.detach().numpy() for x in (p, q, r)])

    ref = run_torch(torch.optim.Adagrad)
    # worked out by hand: every accumulator starts at 0.5
    g2 = np.cumsum([0.09, 0.36, 0.81])
    expect = 1 - 0.1 * 0.3 * np.array([1, 2, 3]) / (np.sqrt(0.5 + g2) + 1e-10)
    np.testing.assert_allclose(ref, np.full(7, expect.sum() - 2), rtol=1e-15)
    if module == "torch":
        ours = run_torch(optim.Adagrad)
    else:
        arrays = [np.ones(3), np.ones(2), np.ones(2)]
        first, _ = groups(*arrays)
        opt = optim.Adagrad.for_arrays(first, lr=0.1, initial_accumulator_value=0.5)
        for t in range(3):
            opt.step([np.full(3, 0.3 * (t + 1)), np.full(2, 0.3 * (t + 1))])
        ours = np.concatenate(arrays[:2])
        ref = ref[:5]
    np.testing.assert_array_equal(ours, ref)


def test_adagrad_state_exists_before_the_first_step_as_in_torch():
    p = torch.ones(2, dtype=torch.float64, requires_grad=True)
    ref = torch.optim.Adagrad([p], initial_accumulator_value=0.25).state_dict()["state"]
    ours = optim.Adagrad([p], initial_accumulator_value=0.25).state_dict()["state"]
    assert ours.keys() == ref.keys() == {0}
    torch.testing.assert_close(ours[0]["sum"], ref[0]["sum"])
    assert float(ours[0]["step"]) == float(ref[0]["step"]) == 0.0


# sparse gradients -------------------------------------------------------------------------------
def _sparse_trajectory(cls, hyper, steps=200):
    gen = torch.Generator().manual_seed(3)
    p = torch.randn(6, 3, dtype=torch.float64, generator=gen).requires_grad_()
    q = torch.randn(4, dtype=torch.float64, generator=gen).requires_grad_()
    opt = cls([p, q], **hyper)
    out = []
    for _ in range(steps):
        rows = torch.randint(0, 6, (1, 5), generator=gen)  # repeated rows: uncoalesced
        values = torch.randn(5, 3, dtype=torch.float64, generator=gen)
        p.grad = torch.sparse_coo_tensor(rows, values, (6, 3), check_invariants=True)
        q.grad = torch.randn(4, dtype=torch.float64, generator=gen)
        opt.step()
        out.append(torch.cat([p.detach().ravel(), q.detach()]))
    return torch.stack(out).numpy()


SPARSE = [
    ("SGD", {"lr": 0.05}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.3, "maximize": True}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    ("SGD", {"lr": torch.tensor(0.05), "momentum": 0.9, "foreach": True}),
    ("Adagrad", {"lr": 0.1}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 1e-2, "initial_accumulator_value": 0.3, "maximize": True}),
    ("Adagrad", {"lr": torch.tensor(0.1), "eps": 1e-3, "foreach": True}),
]

SPARSE_IDS = [f"{name}-{i}" for i, (name, _) in enumerate(SPARSE)]


@pytest.mark.parametrize(("name", "hyper"), SPARSE, ids=SPARSE_IDS)
def test_sparse_gradients_step_as_torch(name, hyper):
    ref = _sparse_trajectory(getattr(torch.optim, name), hyper)
    np.testing.assert_array_equal(_sparse_trajectory(getattr(optim, name), hyper), ref)


@pytest.mark.parametrize(
    ("name", "hyper"),
    [("SGD", {"momentum": 0.9, "nesterov": True, "maximize": True}), ("Adagrad", {})],
)
def test_sparse_gradients_of_complex_parameters_step_as_torch(name, hyper):
    """torch applies its sparse rules to complex tensors as they are (Adagrad then sums the
    complex squares g*g, not |g|^2): ours takes the same steps."""

    def run(cls):
        gen = torch.Generator().manual_seed(0)
        p = torch.ones(3, dtype=torch.complex128, requires_grad=True)
        opt = cls([p], lr=0.1, **hyper)
        for _ in range(50):
            rows = torch.randint(0, 3, (1, 2), generator=gen)
            values = torch.randn(2, dtype=torch.complex128, generator=gen)
            p.grad = torch.sparse_coo_tensor(rows, values, (3,), check_invariants=True)
            opt.step()
        return p.detach()

    torch.testing.assert_close(
        run(getattr(optim, name)), run(getattr(torch.optim, name)), rtol=0, atol=0
    )


def _sparse_step(cls, hyper):
    p = torch.ones(3, requires_grad=True)
    opt = cls([torch.ones(2, requires_grad=True), p], **hyper)
    p.grad = torch.sparse_coo_tensor([[0]], [1.0], (3,), check_invariants=True)
    opt.step()


@pytest.mark.parametrize("name", ["Adam", "AdamW", "Adamax", "Adadelta", "RMSprop"])
def test_sparse_gradients_refused_naming_the_parameter(name):
    with pytest.raises(RuntimeError, match="does not support sparse gradients"):
        _sparse_step(getattr(torch.optim, name), {})
    with pytest.raises(TypeError, match=r"parameter 1 of param group 0 has a sparse grad"):
        _sparse_step(getattr(optim, name), {})


@pytest.mark.parametrize(
    ("name", "hyper", "match"),
    [
        ("SGD", {"weight_decay": 0.1}, "weight_decay must be 0 with sparse gradients"),
        ("Adagrad", {"weight_decay": 0.1}, "weight_decay must be 0 with sparse gradients"),
        ("SGD", {"fused": True}, "fused=True does not support sparse gradients"),
        ("Adagrad", {"fused": True}, "fused=True does not support sparse gradients"),
    ],
)
def test_sparse_gradients_refused_where_torch_refuses(name, hyper, match):
    with pytest.raises(RuntimeError):
        _sparse_step(getattr(torch.optim, name), hyper)
    with pytest.raises(ValueError, match=match):
        _sparse_step(getattr(optim, name), hyper)


# state entries ----------------------------------------------------------------------------------
@pytest.mark.parametrize("hyper", [{}, {"momentum": 0.9}])
def test_sgd_state_holds_what_torchs_holds(hyper):
    """torch.optim.SGD without momentum keeps no state: no empty entry per parameter."""

    def state(cls):
        p, q = torch.ones(2, requires_grad=True), torch.ones(3, requires_grad=True)
        opt = cls([p, q], lr=0.1, **hyper)
        for _ in range(3):
            p.grad = torch.ones(2)
            opt.step()
        return opt.state_dict()["state"], len(opt.state)

    (ours, n_ours), (ref, n_ref) = state(optim.SGD), state(torch.optim.SGD)
    assert n_ours == n_ref
    assert ours.keys() == ref.keys()
    for key in ref:
        assert ours[key].keys() == ref[key].keys()


# capturable ------------------------------------------------------------------------------------
@pytest.fixture
def capturable_on_cpu(monkeypatch):
    """Let torch.optim and ours take capturable=True on CPU parameters, so that torch's own
    capturable arithmetic (the one it runs on CUDA) can serve as the reference here."""
    import importlib

    from mlcanon.optim import _first_order

    def devices(supports_xla=True):
        return ["cpu", "cuda"]

    for module in ("optimizer", "adam", "adamw", "adamax", "adadelta", "rmsprop"):
        module = importlib.import_module(f"torch.optim.{module}")
        if hasattr(module, "_get_capturable_supported_devices"):
            monkeypatch.setattr(module, "_get_capturable_supported_devices", devices)
    devices_ours = (*_first_order.CAPTURABLE_DEVICES, "cpu")
    monkeypatch.setattr(_first_order, "CAPTURABLE_DEVICES", devices_ours)


CAPTURABLE = [
    (name, extra, dtype)
    for name in ("Adam", "AdamW", "Adamax", "RMSprop")
    for extra in (
        {},
        {"lr": torch.tensor(0.03), "maximize": True},
        {"lr": torch.tensor(0.02, dtype=torch.float64), "weight_decay": 0.1},
    )
    for dtype in (torch.float64, torch.float32)
] + [
    ("Adam", {"betas": (torch.tensor(0.8), torch.tensor(0.95))}, torch.float64),
    ("Adam", {"decoupled_weight_decay": True, "weight_decay": 0.1}, torch.float64),
    ("Adam", {"foreach": True}, torch.float64),  # torch's multi-tensor capturable order
    ("AdamW", {"foreach": True, "amsgrad": False}, torch.float32),
    ("Adamax", {"foreach": True}, torch.float64),
    # torch's capturable multi-tensor Adamax keeps a tensor lr a tensor (not a Python float)
    ("Adamax", {"foreach": True, "lr": torch.tensor(0.02, dtype=torch.float64)}, torch.float64),
    ("Adamax", {"foreach": True, "lr": torch.tensor(0.03)}, torch.float32),
    # and its capturable multi-tensor RMSprop multiplies by a tensor lr, or divides by it
    ("RMSprop", {"foreach": True, "lr": torch.tensor(0.03)}, torch.float32),
    ("RMSprop", {"foreach": True, "lr": torch.tensor(0.03), "momentum": 0}, torch.float32),
    ("RMSprop", {"foreach": True, "lr": torch.tensor(0.02, dtype=torch.float64)}, torch.float64),
    ("Adadelta", {"foreach": True, "lr": torch.tensor(0.3)}, torch.float32),
    ("Adadelta", {}, torch.float64),
]


@pytest.mark.parametrize(
    ("name", "extra", "dtype"), CAPTURABLE, ids=[str(i) for i in range(len(CAPTURABLE))]
)
def test_capturable_takes_torchs_capturable_steps(capturable_on_cpu, name, extra, dtype):
    """With capturable=True torch.optim computes Adam's and Adamax's bias corrections as
    float32 tensors: 3e-6 away from its own capturable=False run after 300 steps in float64.
    Ours takes the capturable steps, bit for bit."""
    hyper = {**HYPER[name], **extra, "capturable": True}
    ref = _trajectory(getattr(torch.optim, name), hyper, dtype=dtype)
    np.testing.assert_array_equal(_trajectory(getattr(optim, name), hyper, dtype=dtype), ref)


def test_capturable_refused_for_numpy_arrays():
    with pytest.raises(ValueError, match="capturable=True needs tensors on a CUDA-like device"):
        optim.Adam.for_arrays([np.zeros(2)], capturable=True)


@pytest.mark.parametrize("switch", [{}, {"fused": True}, {"foreach": True}])
@pytest.mark.parametrize("name", [n for n in NAMES if n != "SGD"])
def test_step_counter_is_kept_as_torch_keeps_it(name, switch):
    """state["step"]: a 0-d float32 tensor (on the parameter's device with fused), from the
    start (Adagrad) and after each step, in state_dict() as in torch.optim."""
    if "fused" in switch and name not in FUSED:
        pytest.skip("no fused kernel in torch.optim")

    def steps(cls):
        p = torch.ones(3, dtype=torch.float64, requires_grad=True)
        q = torch.ones(2, dtype=torch.float64, requires_grad=True)
        opt = cls([p, q], **switch)
        out = [opt.state_dict()["state"]]
        for _ in range(2):
            p.grad = torch.ones_like(p)
            opt.step()
            out.append(opt.state_dict()["state"])
        return [{k: s["step"] for k, s in state.items()} for state in out]

    ours_steps, ref_steps = steps(getattr(optim, name)), steps(getattr(torch.optim, name))
    for ours, ref in zip(ours_steps, ref_steps, strict=True):
        assert ours.keys() == ref.keys()
        for k in ref:
            assert torch.is_tensor(ours[k])
            assert (ours[k].dtype, ours[k].device, ours[k].shape) == (
                ref[k].dtype,
                ref[k].device,
                ref[k].shape,
            )
            assert ours[k].item() == ref[k].item()


@pytest.mark.parametrize(
    ("name", "hyper"),
    [
        ("SGD", {}),
        ("SGD", {"momentum": 0.9, "nesterov": True}),
        ("Adam", {"amsgrad": True}),
        ("AdamW", {"weight_decay": 0.1}),
        ("Adamax", {}),
        ("Adagrad", {}),
        ("Adadelta", {}),
        ("RMSprop", {"momentum": 0.5}),
    ],
)
def test_differentiable_gradient_with_respect_to_a_tensor_lr_is_torchs(name, hyper):
    """An lr tensor that requires grad: torch.optim differentiates the step with respect to it
    in SGD, Adam and AdamW (ours had no gradient: the lr was detached), and fails with a
    TypeError in the others (ours too, saying so)."""
    results = []
    for module in (optim, torch.optim):
        gen = torch.Generator().manual_seed(0)
        w = torch.randn(4, generator=gen, dtype=torch.float64, requires_grad=True)
        lr = torch.tensor(0.1, dtype=torch.float64, requires_grad=True)
        p = w.clone()
        opt = getattr(module, name)([p], lr=lr, differentiable=True, **hyper)
        p.grad = torch.randn(4, generator=gen, dtype=torch.float64, requires_grad=True)
        if name not in ("SGD", "Adam", "AdamW"):
            with pytest.raises(TypeError):
                opt.step()
            continue
        opt.step()
        results.append((p.detach(), *torch.autograd.grad(p.sin().sum(), [w, lr, p.grad])))
    for a, b in zip(*results, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize(
    "hyper", [{}, {"amsgrad": True}, {"decoupled_weight_decay": True, "weight_decay": 0.1}]
)
def test_differentiable_gradient_with_respect_to_tensor_betas_is_torchs(hyper):
    """Adam's betas as tensors that require grad: torch.optim differentiates the step with
    respect to them; ours raised addcmul_'s TypeError (a tensor value)."""
    results = []
    for module in (optim, torch.optim):
        gen = torch.Generator().manual_seed(0)
        w = torch.randn(4, generator=gen, dtype=torch.float64, requires_grad=True)
        grad = torch.randn(4, generator=gen, dtype=torch.float64, requires_grad=True)
        betas = [torch.tensor(b, dtype=torch.float64, requires_grad=True) for b in (0.8, 0.95)]
        state = _state_after_a_few_steps("Adam", hyper, 4)
        p = w.clone()
        p.grad = grad
        opt = module.Adam([p], lr=0.1, betas=tuple(betas), differentiable=True, **hyper)
        opt.state[p].update(state)
        opt.step()
        results.append((p.detach(), *_grad(p.sin().sum(), [w, grad, *betas])))
    for a, b in zip(*results, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-14, atol=1e-15)
