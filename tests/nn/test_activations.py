"""Activations and linear against torch.nn.functional (float64 forward 1e-10, gradients 1e-8)."""

import pytest
import torch
import torch.nn.functional as TF

import mlcanon.nn as mnn
import mlcanon.nn.functional as F

SHAPES = [(3, 5, 7), (1, 4), (2, 3, 4, 5)]  # odd sizes, batch size 1, 4-D

POINTWISE = [
    (F.sigmoid, torch.sigmoid),
    (F.tanh, torch.tanh),
    (F.relu, TF.relu),
    (F.relu6, TF.relu6),
    (lambda x: F.leaky_relu(x, 0.2), lambda x: TF.leaky_relu(x, 0.2)),
    (lambda x: F.elu(x, 0.7), lambda x: TF.elu(x, 0.7)),
    (F.gelu, TF.gelu),
    (lambda x: F.gelu(x, "tanh"), lambda x: TF.gelu(x, approximate="tanh")),
    # torch's fused hardsigmoid backward multiplies by a float32 constant 1/6 even in float64
    # (relative error 3e-8), so the float64 reference is the same function composed of exact ops
    (F.hardsigmoid, lambda x: torch.clamp(x / 6.0 + 0.5, 0.0, 1.0)),
    (F.hardswish, TF.hardswish),
    (F.silu, TF.silu),
    (lambda x: F.softplus(x, 1.5, 4.0), lambda x: TF.softplus(x, 1.5, 4.0)),  # both regimes
    (lambda x: F.softplus(x, -0.7), lambda x: TF.softplus(x, -0.7)),
]
IDS = [
    *("sigmoid", "tanh", "relu", "relu6", "leaky", "elu", "gelu", "gelu_tanh", "hsig", "hswish"),
    *("silu", "softplus", "softplus_negative_beta"),
]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize(("ours", "theirs"), POINTWISE, ids=IDS)
def test_pointwise_matches_torch(check_op, rand, ours, theirs, shape):
    check_op(ours, theirs, [3.5 * rand(*shape)], gradcheck=len(shape) < 4)


KINKS = [
    (F.relu, TF.relu),
    (F.relu6, TF.relu6),
    (lambda x: F.leaky_relu(x, 0.2), lambda x: TF.leaky_relu(x, 0.2)),
    (lambda x: F.elu(x, 0.7), lambda x: TF.elu(x, 0.7)),
    (F.hardsigmoid, TF.hardsigmoid),
    (F.hardswish, TF.hardswish),
]


@pytest.mark.parametrize(
    ("ours", "theirs"), KINKS, ids=["relu", "relu6", "leaky", "elu", "hsig", "hswish"]
)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_kinks_take_torch_subgradient(ours, theirs, dtype):
    # where the derivative jumps both must pick the same one-sided value (a discrete choice:
    # torch's float32 constant 1/6 in hardsigmoid's backward is within the default tolerance)
    x = torch.tensor([-6.0, -3.0, -1.0, 0.0, 1e-30, 3.0, 6.0], dtype=dtype)
    a, b = x.clone().requires_grad_(), x.clone().requires_grad_()
    ours(a).sum().backward()
    theirs(b).sum().backward()
    torch.testing.assert_close(a.grad, b.grad, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize(("ours", "theirs"), POINTWISE, ids=IDS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_gradient_at_nan_and_inf_as_torch(ours, theirs, dtype):
    """NaN and +-inf inputs, with every other input (kinks included), against torch autograd.
    torch's CPU kernels for relu6, elu and hardswish give NaN another derivative in the scalar
    loop that handles a tensor's last few elements than in the vectorised loop; 1024 elements
    (a multiple of every vector width) keep them all in the vectorised one. relu passes the
    gradient at NaN on (derivative 1: its backward zeroes only where the output is <= 0)."""
    special = torch.tensor([float("nan"), float("inf"), -float("inf"), 0.0, 3.0, -3.0, 6.0])
    x = torch.linspace(-8.0, 8.0, 1024, dtype=dtype)
    x[::7] = special.repeat(147)[: len(x[::7])].to(dtype)
    x = x.reshape(4, 256)
    if ours is F.hardsigmoid:  # the exact-op reference above has no NaN rule of its own
        theirs = TF.hardsigmoid
    if dtype == torch.float32 and ours in (POINTWISE[6][0], POINTWISE[7][0]):
        # torch's float32 GELU kernels give NaN at +inf (gelu(inf) = inf, as torch's float64)
        x[x.isinf()] = 0.0
    upstream = torch.linspace(0.5, 1.5, 1024, dtype=dtype).reshape(4, 256)
    got = []
    for fn in (ours, theirs):
        leaf = x.clone().requires_grad_()
        y = fn(leaf)
        got.append((y.detach(), torch.autograd.grad(y, leaf, upstream)[0]))
    for a, b in zip(*got, strict=True):
        torch.testing.assert_close(a, b, equal_nan=True)  # dtype's default tolerance


@pytest.mark.parametrize("alpha", [1.0, 0.7])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_elu_second_derivative_as_torch(alpha, dtype):
    """torch's double backward of ELU is alpha e^x for x < 0 and 0 elsewhere: 0 at x = 0 and
    finite (0) for large x, where exp(x) overflows (ours gave NaN: inf * 0 through torch.where)."""
    x = torch.tensor([-5.0, -1.0, -1e-3, 0.0, 1e-3, 1.0, 100.0, 800.0], dtype=dtype)
    got = []
    for fn in (F.elu, TF.elu):
        leaf = x.clone().requires_grad_()
        (g,) = torch.autograd.grad(fn(leaf, alpha).sum(), leaf, create_graph=True)
        got.append((g.detach(), torch.autograd.grad(g.sum(), leaf)[0]))
    closed_form = torch.where(x < 0, alpha * torch.exp(x.clamp_max(0.0)), 0.0)
    torch.testing.assert_close(got[0][1], closed_form)
    for a, b in zip(*got, strict=True):
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize(("ours", "theirs"), KINKS[:3], ids=["relu", "relu6", "leaky"])
def test_piecewise_linear_second_derivative_is_zero_as_torch(ours, theirs):
    """The gradient of relu, relu6 and leaky_relu taken with create_graph is differentiable
    again, with derivative 0, as in torch (it raised: the step f' carried no graph)."""
    x = torch.tensor([-2.0, -0.5, 0.5, 2.0, 7.0], dtype=torch.float64)
    got = []
    for fn in (ours, theirs):
        leaf = x.clone().requires_grad_()
        (g,) = torch.autograd.grad(fn(leaf).sum(), leaf, create_graph=True)
        assert g.requires_grad
        got.append(torch.autograd.grad((g * g).sum(), leaf)[0])
    torch.testing.assert_close(got[0], got[1], rtol=0, atol=0)
    assert torch.equal(got[0], torch.zeros_like(x))


def test_hardsigmoid_forward_equals_torch_builtin(rand):
    x = 3.5 * rand(3, 5, 7)
    torch.testing.assert_close(F.hardsigmoid(x), TF.hardsigmoid(x), rtol=1e-10, atol=1e-10)


def test_sigmoid_is_finite_for_large_inputs():
    x = torch.tensor([-800.0, 800.0], dtype=torch.float64, requires_grad=True)
    y = F.sigmoid(x)
    y.sum().backward()
    assert torch.equal(y, torch.tensor([0.0, 1.0], dtype=torch.float64))
    assert torch.isfinite(x.grad).all()


@pytest.mark.parametrize(("shape", "n_slopes"), [((2, 3, 5, 4), 3), ((1, 6, 7), 6), ((4, 5), 1)])
def test_prelu_matches_torch(check_op, rand, shape, n_slopes):
    slopes = rand(n_slopes, seed=1, low=0.05, high=0.5)
    check_op(F.prelu, TF.prelu, [rand(*shape), slopes])


def test_prelu_by_hand():
    x = torch.tensor([[-2.0, 3.0], [4.0, -1.0]], requires_grad=True)
    a = torch.tensor([0.5, 0.1], requires_grad=True)
    y = F.prelu(x, a)
    assert torch.equal(y, torch.tensor([[-1.0, 3.0], [4.0, -0.1]]))
    y.sum().backward()
    # dy/da_c = sum of the negative inputs of channel c
    assert torch.equal(a.grad, torch.tensor([-2.0, -1.0]))


@pytest.mark.parametrize("shape", [(5, 7), (1, 3), (2, 3, 6)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_matches_torch(check_op, rand, shape, bias):
    w, b = rand(4, shape[-1], seed=1), rand(4, seed=2)
    ours = (lambda x, w, b: F.linear(x, w, b)) if bias else (lambda x, w, b: F.linear(x, w))
    ref = (lambda x, w, b: TF.linear(x, w, b)) if bias else (lambda x, w, b: TF.linear(x, w))
    check_op(ours, ref, [rand(*shape), w, b], diff=[0, 1, 2] if bias else [0, 1])


def test_bad_activation_arguments():
    x = torch.randn(2, 3)
    with pytest.raises(ValueError, match="approximate must be one of 'none', 'tanh'; got 'fast'"):
        F.gelu(x, "fast")
    with pytest.raises(
        ValueError, match=r"weight must have 1 or 3 \(= input.shape\[1\]\) elements, got 2"
    ):
        F.prelu(x, torch.ones(2))
    with pytest.raises(TypeError, match=r"input must be a torch\.Tensor, got list"):
        F.relu([1.0, 2.0])
    with pytest.raises(ValueError, match="threshold must be finite, got nan"):
        F.softplus(x, threshold=float("nan"))
    with pytest.raises(TypeError, match="floating-point"):
        F.sigmoid(torch.arange(3))
    with pytest.raises(ValueError, match=r"input.shape\[-1\]=3 must equal in_features=4"):
        F.linear(x, torch.ones(5, 4))
    with pytest.raises(
        ValueError, match=r"bias of shape \(4,\) does not broadcast to output shape \(2, 5\)"
    ):
        F.linear(x, torch.ones(5, 3), torch.ones(4))


@pytest.mark.parametrize("beta", [0.0, -0.0, 0, 1.5, -0.7])
@pytest.mark.parametrize("threshold", [20.0, -5.0, float("inf"), -float("inf")])
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32, torch.float16])
def test_softplus_zero_beta_and_infinite_threshold_as_torch(beta, threshold, dtype):
    """torch takes beta=0 (log 2 / 0 = +-inf by the zero's sign, derivative 1/2; or x where
    0 > threshold) and an infinite threshold (never or always linear); both were refused.
    |beta x| stays below exp's overflow, where torch's derivative e^z / (e^z + 1) is NaN."""
    x = torch.cat([torch.linspace(-40.0, 40.0, 61), torch.tensor([0.0, -0.0, float("nan")])])
    a, b = x.to(dtype).requires_grad_(), x.to(dtype).requires_grad_()
    ours, theirs = F.softplus(a, beta, threshold), TF.softplus(b, beta, threshold)
    g = torch.linspace(-2.0, 2.0, len(x)).to(dtype)
    (ga,) = torch.autograd.grad(ours, a, g)
    (gb,) = torch.autograd.grad(theirs, b, g)
    tol = {"rtol": 1e-3, "atol": 1e-3} if dtype == torch.float16 else {}
    torch.testing.assert_close(ours, theirs, equal_nan=True, **tol)
    torch.testing.assert_close(ga, gb, equal_nan=True, **tol)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_softplus_derivative_where_exp_overflows(dtype):
    """Below the threshold but past exp's overflow (beta x > 709 in float64, > 88 in float32),
    the derivative is sigma(beta x) = 1; torch 2.13's e^z / (e^z + 1) gives inf / inf = NaN
    there. Kept deliberately (documented in softplus); the outputs are torch's."""
    x = torch.tensor([-800.0, -100.0, 100.0, 710.0, 800.0], dtype=dtype).requires_grad_()
    for beta in (1.0, -1.0, 2.0):
        ours = F.softplus(x, beta, float("inf"))
        torch.testing.assert_close(ours, TF.softplus(x.detach(), beta, float("inf")))
        (grad,) = torch.autograd.grad(ours.sum(), x)
        torch.testing.assert_close(grad, torch.sigmoid(beta * x.detach()))


@pytest.mark.filterwarnings("ignore:Initializing zero-element tensors is a no-op")
@pytest.mark.parametrize(("in_features", "out_features"), [(4, 0), (0, 3), (0, 0), (3, 2)])
@pytest.mark.parametrize("lead", [(2,), (2, 3), (0,), ()])
def test_linear_with_zero_features_as_torch(in_features, out_features, lead):
    """torch.nn.Linear takes 0 input or output features (refused here); with 0 outputs the
    backward failed to reshape the empty gradient. Same initialization, outputs, gradients."""
    torch.manual_seed(0)
    ref = torch.nn.Linear(in_features, out_features).double()
    torch.manual_seed(0)
    mod = mnn.Linear(in_features, out_features).double()
    for a, b in zip(mod.state_dict().values(), ref.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    x = torch.randn(*lead, in_features, dtype=torch.float64)
    results = []
    for m in (mod, ref):
        leaf = x.clone().requires_grad_()
        y = m(leaf)
        up = torch.linspace(-1.0, 1.0, y.numel(), dtype=torch.float64).reshape(y.shape)
        results.append((y, torch.autograd.grad(y, [leaf, *m.parameters()], up)))
    (y, grads), (ref_y, ref_grads) = results
    torch.testing.assert_close(y, ref_y)
    for a, b in zip(grads, ref_grads, strict=True):
        torch.testing.assert_close(a, b)
