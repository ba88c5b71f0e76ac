"""First-order optimizers: single steps computed by hand, the NumPy front end, bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from mlcanon import optim

THETA, G = 1.5, 0.8  # one scalar parameter and the gradient it sees at every step


def _steps(name, hyper, grads, path):
    """Parameter value after each gradient in ``grads``, through the torch or the NumPy path."""
    out = []
    if path == "torch":
        p = torch.tensor([THETA], dtype=torch.float64, requires_grad=True)
        opt = getattr(optim, name)([p], **hyper)
        for g in grads:
            p.grad = torch.tensor([g], dtype=torch.float64)
            opt.step()
            out.append(p.item())
    else:
        p = np.array([THETA])
        opt = getattr(optim, name).for_arrays([p], **hyper)
        for g in grads:
            opt.step([np.array([g])])
            out.append(p.item())
    return out


def _adam_by_hand(grads, lr, b1, b2, eps, amsgrad=False, decay=1.0):
    theta, m, v, v_max, out = THETA, 0.0, 0.0, 0.0, []
    for t, g in enumerate(grads, start=1):
        theta *= decay
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        v_max = max(v_max, v)
        v_hat = v_max if amsgrad else v
        theta -= lr / (1 - b1**t) * m / (math.sqrt(v_hat / (1 - b2**t)) + eps)
        out.append(theta)
    return out


# (name, hyper-parameters, gradients, expected parameter after each step), written from the
# paper's equations with Python floats
HAND = [
    ("SGD", {"lr": 0.1}, [G], [THETA - 0.1 * G]),
    ("SGD", {"lr": 0.1, "weight_decay": 0.1}, [G], [THETA - 0.1 * (G + 0.1 * THETA)]),
    # b1 = g; b2 = 0.9 b1 + (1 - 0.5) g
    (
        "SGD",
        {"lr": 0.1, "momentum": 0.9, "dampening": 0.5},
        [G, G],
        [THETA - 0.1 * G, THETA - 0.1 * G - 0.1 * (0.9 * G + 0.5 * G)],
    ),
    # Nesterov: d = g + mu b with b1 = g
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}, [G], [THETA - 0.1 * (G + 0.9 * G)]),
    ("SGD", {"lr": 0.1, "maximize": True}, [G], [THETA + 0.1 * G]),
    ("Adagrad", {"lr": 0.1}, [G], [THETA - 0.1 * G / (math.sqrt(G * G) + 1e-10)]),
    # step 2 uses lr / (1 + lr_decay) and G = 0.5 + g1^2 + g2^2
    (
        "Adagrad",
        {"lr": 0.1, "lr_decay": 0.5, "initial_accumulator_value": 0.5, "eps": 0.0},
        [G, -G],
        [
            THETA - 0.1 * G / math.sqrt(0.5 + G * G),
            THETA - 0.1 * G / math.sqrt(0.5 + G * G) + 0.1 / 1.5 * G / math.sqrt(0.5 + 2 * G * G),
        ],
    ),
    # E[g^2] = 0.1 g^2, Delta = sqrt(0 + eps) / sqrt(E[g^2] + eps) g
    (
        "Adadelta",
        {},
        [G],
        [THETA - math.sqrt(1e-6) / math.sqrt(0.1 * G * G + 1e-6) * G],
    ),
    ("RMSprop", {"lr": 0.01}, [G], [THETA - 0.01 * G / (math.sqrt(0.01 * G * G) + 1e-8)]),
    # centered: v - g_bar^2 = 0.01 g^2 - (0.01 g)^2
    (
        "RMSprop",
        {"lr": 0.01, "centered": True},
        [G],
        [THETA - 0.01 * G / (math.sqrt(0.01 * G * G - (0.01 * G) ** 2) + 1e-8)],
    ),
    # momentum on g / s: b2 = 0.9 b1 + g2 / s2
    (
        "RMSprop",
        {"lr": 0.01, "momentum": 0.9, "eps": 0.0},
        [G, G],
        [
            THETA - 0.01 * G / math.sqrt(0.01 * G * G),
            THETA
            - 0.01 * G / math.sqrt(0.01 * G * G)
            - 0.01 * (0.9 / math.sqrt(0.01) + G / math.sqrt(0.0199 * G * G)),
        ],
    ),
    ("Adam", {"lr": 0.1}, [G, 0.3, -0.2], _adam_by_hand([G, 0.3, -0.2], 0.1, 0.9, 0.999, 1e-8)),
    # AMSGrad: v_2 < v_1 when g_2 = 0, so the max keeps v_1
    (
        "Adam",
        {"lr": 0.1, "amsgrad": True},
        [G, 0.0],
        _adam_by_hand([G, 0.0], 0.1, 0.9, 0.999, 1e-8, amsgrad=True),
    ),
    (
        "AdamW",
        {"lr": 0.1, "weight_decay": 0.1},
        [G, G],
        _adam_by_hand([G, G], 0.1, 0.9, 0.999, 1e-8, decay=1 - 0.1 * 0.1),
    ),
    # m = 0.1 g, u = |g| + eps, step lr / (1 - 0.9) m / u
    ("Adamax", {"lr": 0.1}, [G], [THETA - 0.1 / 0.1 * (0.1 * G) / (G + 1e-8)]),
]


@pytest.mark.parametrize("path", ["torch", "numpy"])
@pytest.mark.parametrize(
    ("name", "hyper", "grads", "expected"), HAND, ids=[f"{h[0]}-{i}" for i, h in enumerate(HAND)]
)
def test_steps_computed_by_hand(name, hyper, grads, expected, path):
    np.testing.assert_allclose(_steps(name, hyper, grads, path), expected, rtol=1e-14, atol=0)


def test_momentum_and_nesterov_are_flags_of_sgd():
    assert optim.SGD.for_arrays([np.zeros(1)], momentum=0.9, nesterov=True).defaults["nesterov"]


# the NumPy front end --------------------------------------------------------------------------
def test_for_arrays_updates_in_place_and_exposes_state():
    w, b = np.ones((3, 2)), np.zeros(2)
    w_id = id(w)
    opt = optim.Adam.for_arrays([w, b], lr=0.1, amsgrad=True)
    assert opt.state == [{}, {}]
    opt.step([np.full((3, 2), 0.5), np.array([1.0, -1.0])])
    assert id(w) == w_id and opt.params[0] is w
    np.testing.assert_allclose(w, 1 - 0.1 * 0.5 / (0.5 + 1e-8), rtol=1e-14)
    assert set(opt.state[0]) == {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"}
    assert opt.state[0]["step"] == 1
    np.testing.assert_allclose(opt.state[1]["exp_avg"], [0.1, -0.1], rtol=1e-15)
    assert "Adam.for_arrays" in repr(opt)


def test_for_arrays_keeps_float32_and_skips_none():
    w, b = np.ones(4, dtype=np.float32), np.ones(2, dtype=np.float32)
    opt = optim.SGD.for_arrays([w, b], lr=0.5, momentum=0.9)
    opt.step([np.ones(4), None])  # float64 gradient is cast to the parameter's dtype
    assert w.dtype == np.float32 and opt.state[0]["momentum_buffer"].dtype == np.float32
    np.testing.assert_array_equal(w, np.full(4, 0.5, dtype=np.float32))
    np.testing.assert_array_equal(b, np.ones(2, dtype=np.float32))
    assert opt.state[1] == {}


def test_for_arrays_param_groups_and_lr_schedule():
    a, b = np.zeros(2), np.zeros(2)
    opt = optim.SGD.for_arrays([{"params": [a]}, {"params": [b], "lr": 0.01}], lr=0.1)
    opt.step([np.ones(2), np.ones(2)])
    np.testing.assert_allclose(a, -0.1)
    np.testing.assert_allclose(b, -0.01)
    opt.param_groups[0]["lr"] = 1.0  # schedules edit the group, as in torch
    opt.step([np.ones(2), np.ones(2)])
    np.testing.assert_allclose(a, -1.1)


# bad input -----------------------------------------------------------------------------------
BAD = [
    ("SGD", {"lr": -0.1}, ValueError, "lr must be >= 0"),
    ("SGD", {"momentum": -0.5}, ValueError, "momentum must be >= 0"),
    ("SGD", {"dampening": 1.5}, ValueError, "dampening must be <= 1"),
    ("SGD", {"weight_decay": -1e-4}, ValueError, "weight_decay must be >= 0"),
    ("SGD", {"nesterov": True}, ValueError, "nesterov=True requires momentum > 0"),
    ("SGD", {"nesterov": True, "momentum": 0.9, "dampening": 0.1}, ValueError, "dampening = 0"),
    ("SGD", {"nesterov": "yes"}, TypeError, "nesterov must be bool"),
    ("SGD", {"maximize": 1}, TypeError, "maximize must be bool"),
    ("SGD", {"lr": float("nan")}, ValueError, "lr must be finite"),
    ("SGD", {"lr": "0.1"}, TypeError, "lr must be Real"),
    ("Adagrad", {"lr_decay": -1.0}, ValueError, "lr_decay must be >= 0"),
    ("Adagrad", {"initial_accumulator_value": -1.0}, ValueError, "initial_accumulator_value"),
    ("Adagrad", {"eps": -1e-10}, ValueError, "eps must be >= 0"),
    ("Adadelta", {"rho": 1.1}, ValueError, "rho must be <= 1"),
    ("RMSprop", {"alpha": -0.1}, ValueError, "alpha must be >= 0"),
    ("RMSprop", {"centered": None}, TypeError, "centered must be bool"),
    ("Adam", {"betas": (1.0, 0.999)}, ValueError, r"betas\[0\] must be < 1"),
    ("Adam", {"betas": (0.9, -0.1)}, ValueError, r"betas\[1\] must be >= 0"),
    ("Adam", {"betas": 0.9}, TypeError, "betas must be a pair"),
    ("Adam", {"eps": -1e-8}, ValueError, "eps must be >= 0"),
    ("Adam", {"amsgrad": "no"}, TypeError, "amsgrad must be bool"),
    ("AdamW", {"weight_decay": -0.01}, ValueError, "weight_decay must be >= 0"),
    ("Adamax", {"betas": (0.9, 1.0)}, ValueError, r"betas\[1\] must be < 1"),
]


@pytest.mark.parametrize("path", ["torch", "numpy"])
@pytest.mark.parametrize(("name", "hyper", "error", "match"), BAD)
def test_bad_hyper_parameters_raise(name, hyper, error, match, path):
    cls = getattr(optim, name)
    with pytest.raises(error, match=match):
        if path == "torch":
            cls([torch.zeros(2, requires_grad=True)], **hyper)
        else:
            cls.for_arrays([np.zeros(2)], **hyper)


def test_bad_group_override_raises_and_adds_nothing():
    opt = optim.Adam([torch.zeros(2, requires_grad=True)])
    with pytest.raises(ValueError, match="lr must be >= 0"):
        opt.add_param_group({"params": [torch.zeros(3, requires_grad=True)], "lr": -1.0})
    assert len(opt.param_groups) == 1
    with pytest.raises(ValueError, match=r"betas\[0\] must be < 1"):
        optim.Adam.for_arrays([{"params": [np.zeros(2)], "betas": (1.5, 0.9)}])


def test_unknown_hyper_parameter_for_arrays():
    with pytest.raises(TypeError, match="lrr"):
        optim.Adam.for_arrays([np.zeros(2)], lrr=0.1)


@pytest.mark.parametrize(
    ("params", "error", "match"),
    [
        ([], ValueError, "at least one array"),
        ([[1.0, 2.0]], TypeError, r"params\[0\] must be a NumPy array of floats"),
        ([np.zeros(2, dtype=np.int64)], TypeError, "dtype int64"),
        ([{"lr": 0.1}], TypeError, "dicts with 'params'"),
    ],
)
def test_bad_arrays_raise(params, error, match):
    with pytest.raises(error, match=match):
        optim.SGD.for_arrays(params)


@pytest.mark.parametrize(
    "groups",
    [
        lambda w: [w, np.zeros(1), w],
        lambda w: [{"params": [w]}, {"params": [np.zeros(1), w], "lr": 0.1}],
    ],
)
def test_an_array_given_twice_raises(groups):
    # torch.optim refuses a tensor in two groups; here each entry would get its own state and
    # its own gradient, silently stepping one array twice
    w = np.zeros(2)
    with pytest.raises(ValueError, match=r"params\[2\] is params\[0\]"):
        optim.Adam.for_arrays(groups(w))


def test_read_only_array_raises():
    w = np.zeros(2)
    w.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        optim.SGD.for_arrays([w])


def test_bad_gradients_raise():
    opt = optim.SGD.for_arrays([np.zeros(2), np.zeros(3)], lr=0.1)
    with pytest.raises(ValueError, match="grads has 1 entries, expected one per parameter: 2"):
        opt.step([np.ones(2)])
    with pytest.raises(ValueError, match=r"grads\[1\] has shape \(2,\), expected .* \(3,\)"):
        opt.step([np.ones(2), np.ones(2)])
