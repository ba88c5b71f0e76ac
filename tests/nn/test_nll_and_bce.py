"""nll_loss and binary_cross_entropy (of probabilities), and their modules, against torch 2.13:
values and gradients in float64 (1e-12) and float32, empty batches, torch's edge values, and
the errors, each naming the argument."""

import math
import re

import pytest
import torch
import torch.nn.functional as TF

import mlcanon.nn as mnn
import mlcanon.nn.functional as F

REDUCTIONS = ["none", "mean", "sum"]


def _draw(seed):
    """A random nll_loss problem: input (C,) or (N, C, d1, ...) with N, d_i possibly 1, class
    indices with some (not the first) set to ignore_index (-100 or a class), maybe weights."""
    g = torch.Generator().manual_seed(seed)
    ints = lambda lo, hi, n=1: torch.randint(lo, hi, (n,), generator=g).tolist()  # noqa: E731
    (ndim,) = ints(1, 6)
    (c,) = ints(1, 7)
    shape = (c,) if ndim == 1 else (*ints(1, 5), c, *ints(1, 4, ndim - 2))
    x = torch.randn(shape, generator=g, dtype=torch.float64).log_softmax(0 if ndim == 1 else 1)
    batch = () if ndim == 1 else (shape[0], *shape[2:])
    t = torch.randint(0, c, batch, generator=g)
    ignore_index = -100 if seed % 3 or c == 1 else int(ints(0, c)[0])
    t[torch.rand(batch, generator=g) < 0.25] = ignore_index
    t.view(-1)[0] = (ignore_index + 1) % c  # one target kept (all ignored: a test below)
    w = torch.rand(c, generator=g, dtype=torch.float64) + 0.2 if seed % 2 else None
    return x, t, w, ignore_index


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("seed", range(16))
def test_nll_loss_matches_torch(check_op, seed, reduction):
    x, t, w, ignore_index = _draw(seed)

    def make(fn):  # the weight is an input so that the float32 pass converts it
        return lambda x, w: fn(x, t, w, ignore_index=ignore_index, reduction=reduction)

    weight = w if w is not None else torch.ones(x.shape[min(1, x.dim() - 1)], dtype=x.dtype)
    check_op(
        make(F.nll_loss), make(TF.nll_loss), [x, weight], diff=[0], fwd_tol=1e-12, grad_tol=1e-12
    )
    if w is None:
        check_op(
            lambda x: F.nll_loss(x, t, ignore_index=ignore_index, reduction=reduction),
            lambda x: TF.nll_loss(x, t, ignore_index=ignore_index, reduction=reduction),
            [x],
            fwd_tol=1e-12,
            grad_tol=1e-12,
        )


def test_nll_loss_of_log_softmax_is_cross_entropy_as_torch(rand):
    z, t = 3 * rand(6, 5, 2), torch.tensor([[0, 4], [1, -100], [2, 2], [3, 0], [4, 1], [1, 1]])
    w = rand(5, seed=1, low=0.5, high=2.0)
    torch.testing.assert_close(
        F.nll_loss(F.log_softmax(z, 1), t, w), TF.cross_entropy(z, t, w), rtol=1e-12, atol=1e-12
    )


def test_nll_loss_takes_uint8_targets_as_torch(rand):
    x, t = rand(4, 3), torch.tensor([0, 2, 1, 2], dtype=torch.uint8)
    torch.testing.assert_close(F.nll_loss(x, t), TF.nll_loss(x, t), rtol=1e-12, atol=1e-12)


def _loss_and_grad(fn, x, *args, **kw):
    leaf = x.clone().requires_grad_()
    y = fn(leaf, *args, **kw)
    (g,) = torch.autograd.grad(y, leaf, torch.full_like(y, 1.5))
    return y, g


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_nll_loss_with_every_target_ignored_as_torch(reduction, weighted):
    """The mean's total weight is 0: NaN, with no gradient for the ignored rows (torch's)."""
    x = torch.randn(3, 4, dtype=torch.float64)
    w = torch.rand(4, dtype=torch.float64) + 0.5 if weighted else None
    t = torch.tensor([-100, -100, -100])
    (y, g), (ref_y, ref_g) = (
        _loss_and_grad(f, x, t, w, reduction=reduction) for f in (F.nll_loss, TF.nll_loss)
    )
    assert y.shape == ref_y.shape and ref_g.eq(0).all()
    torch.testing.assert_close(y, ref_y, equal_nan=True)
    torch.testing.assert_close(g, ref_g)


def test_nll_loss_mean_over_zero_total_weight_is_nan_as_torch():
    """Kept targets all of weight 0: loss 0/0 and gradient -0 * (1/0) NaN at those targets,
    0 elsewhere (the ignored row included), as torch."""
    x = torch.randn(3, 4, dtype=torch.float64)
    w = torch.tensor([0.0, 1.0, 1.0, 1.0], dtype=torch.float64)
    t = torch.tensor([0, 0, -100])
    (y, g), (ref_y, ref_g) = (_loss_and_grad(f, x, t, w) for f in (F.nll_loss, TF.nll_loss))
    assert ref_y.isnan() and ref_g[:2, 0].isnan().all()
    torch.testing.assert_close(y, ref_y, equal_nan=True)
    torch.testing.assert_close(g, ref_g, equal_nan=True)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(
    ("shape", "target"),
    [((0, 4), (0,)), ((0, 3, 2), (0, 2)), ((2, 3, 0), (2, 0)), ((2, 0), (2,)), ((0,), ())],
)
def test_nll_loss_of_empty_input_as_torch(shape, target, reduction):
    """An empty batch (mean 0/0 = NaN, sum 0) and no classes (every target ignored)."""
    x = torch.randn(shape, dtype=torch.float64)
    t = torch.full(target, -100, dtype=torch.long)
    (y, g), (ref_y, ref_g) = (
        _loss_and_grad(f, x, t, reduction=reduction) for f in (F.nll_loss, TF.nll_loss)
    )
    assert y.shape == ref_y.shape and y.dtype == ref_y.dtype and g.shape == ref_g.shape
    torch.testing.assert_close(y, ref_y, equal_nan=True)
    torch.testing.assert_close(g, ref_g)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_nll_loss_keeps_a_half_precision_dtype_as_torch(dtype):
    x = torch.randn(6, 5).log_softmax(1).to(dtype)
    t = torch.tensor([0, 4, 1, -100, 2, 3])
    (y, g), (ref_y, ref_g) = (_loss_and_grad(f, x, t) for f in (F.nll_loss, TF.nll_loss))
    assert y.dtype == ref_y.dtype == g.dtype == ref_g.dtype == dtype
    tol = 4 * torch.finfo(dtype).eps
    torch.testing.assert_close(y, ref_y, rtol=tol, atol=tol)
    torch.testing.assert_close(g, ref_g, rtol=tol, atol=tol)


@pytest.mark.parametrize("options", [{}, {"reduction": "none"}, {"ignore_index": 2}])
def test_nll_loss_runs_on_the_meta_device_as_torch(options):
    x = torch.empty(2, 4, 3, device="meta", requires_grad=True)
    t = torch.empty(2, 3, dtype=torch.long, device="meta")
    ours, ref = F.nll_loss(x, t, **options), TF.nll_loss(x, t, **options)
    assert (ours.shape, ours.dtype, ours.device) == (ref.shape, ref.dtype, ref.device)
    (grad,) = torch.autograd.grad(ours.sum(), x)
    assert grad.shape == x.shape and grad.device.type == "meta"


def _raise_both(torch_error, ours_error, match, fn, *args, **kw):
    """torch refuses the call (``torch_error``); ours refuses it with ``ours_error`` whose
    message matches ``match``."""
    with pytest.raises(torch_error):
        getattr(TF, fn)(*args, **kw)
    with pytest.raises(ours_error, match=match):
        getattr(F, fn)(*args, **kw)


def test_nll_loss_bad_arguments_as_torch():
    x = torch.randn(3, 4).log_softmax(1)
    for bad in (4, -1):
        _raise_both(
            IndexError,
            ValueError,
            rf"target class indices must be in \[0, 4\) or ignore_index=-100; got {bad}",
            "nll_loss",
            x,
            torch.tensor([0, bad, 1]),
        )
    _raise_both(
        IndexError,
        ValueError,
        r"target class indices must be in \[0, 4\) or ignore_index=7; got -100",
        "nll_loss",
        x,
        torch.tensor([0, -100, 1]),
        ignore_index=7,
    )
    _raise_both(
        RuntimeError,
        RuntimeError,
        r"nll_loss: target must hold class indices as int64 \(or uint8\), as torch; got "
        r"dtype torch\.int32",
        "nll_loss",
        x,
        torch.tensor([0, 1, 2], dtype=torch.int32),
    )
    _raise_both(
        ValueError,
        ValueError,
        r"class-index target must have shape \(3,\) for input \(3, 4\), got \(2,\)",
        "nll_loss",
        x,
        torch.tensor([0, 1]),
    )
    _raise_both(
        ValueError,
        ValueError,
        "reduction must be one of 'none', 'mean', 'sum'; got 'avg'",
        "nll_loss",
        x,
        torch.tensor([0, 1, 2]),
        reduction="avg",
    )
    _raise_both(
        RuntimeError,
        ValueError,
        r"weight must have shape \(4,\), got \(3,\)",
        "nll_loss",
        x,
        torch.tensor([0, 1, 2]),
        weight=torch.ones(3),
    )
    _raise_both(
        RuntimeError,
        RuntimeError,
        "input has dtype torch.float32 on cpu but weight has dtype torch.float64",
        "nll_loss",
        x,
        torch.tensor([0, 1, 2]),
        weight=torch.ones(4, dtype=torch.float64),
    )
    _raise_both(
        NotImplementedError,
        TypeError,
        "input must be a floating-point tensor, got dtype=torch.int64",
        "nll_loss",
        torch.zeros(3, 4, dtype=torch.long),
        torch.tensor([0, 1, 2]),
    )
    _raise_both(
        ValueError,
        ValueError,
        r"input must be 1-D or 2-D or .*got shape \(\)",
        "nll_loss",
        x[0, 0],
        torch.tensor(1),
    )


def _probabilities(shape, seed, low=0.0, high=1.0):
    g = torch.Generator().manual_seed(seed)
    return low + (high - low) * torch.rand(shape, generator=g, dtype=torch.float64)


def _weight_shapes(shape):
    """Shapes a weight may take for an input of ``shape`` (torch expands it to the input)."""
    out = [None, shape, ()]
    if len(shape) >= 1:
        out.append(shape[-1:])
    if len(shape) >= 2:
        out.append((shape[0], *([1] * (len(shape) - 1))))
    return out


BCE_SHAPES = [(), (1,), (7,), (3, 4), (2, 3, 5), (2, 1, 3, 2)]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", BCE_SHAPES, ids=str)
def test_binary_cross_entropy_matches_torch(check_op, shape, reduction):
    """Input given as logits z, both losses taking sigmoid(z), so that the mixing of check_op
    keeps it a probability; gradients for z (so for the input) and for the target."""
    z = 3 * torch.randn(
        shape, generator=torch.Generator().manual_seed(len(shape)), dtype=torch.float64
    )
    t = _probabilities(shape, 1)
    for k, w_shape in enumerate(_weight_shapes(shape)):
        w = None if w_shape is None else _probabilities(w_shape, 2 + k, 0.1, 2.0)

        def make(fn, w=w):
            return lambda z, t: fn(torch.sigmoid(z), t, w, reduction=reduction)

        check_op(
            make(F.binary_cross_entropy),
            make(TF.binary_cross_entropy),
            [z, t],
            fwd_tol=1e-12,
            grad_tol=1e-12,
        )


def test_binary_cross_entropy_at_0_and_1_as_torch():
    """Each log clamped at -100: loss 100 for a certain wrong answer, 0 for a right one; input
    gradient (x - t) / max(x (1 - x), eps), eps 1e-12 rounded to float32 (so 0.5e12 / eps at
    x = 0, t = 1, weight 0.5: 500000001997.9), target gradient -logit(x) (infinite at 0, 1)."""
    x = torch.tensor(
        [0.0, 1.0, 0.0, 1.0, 1e-50, 1 - 1e-16, 1e-13, 0.5, 0.0, 1.0], dtype=torch.float64
    )
    t = torch.tensor([1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.3, 0.5, 0.25, 0.75], dtype=torch.float64)
    w = torch.linspace(0.5, 2.0, 10, dtype=torch.float64)
    got = []
    for fn in (F.binary_cross_entropy, TF.binary_cross_entropy):
        leaves = [x.clone().requires_grad_(), t.clone().requires_grad_()]
        y = fn(*leaves, w, reduction="none")
        got.append((y, *torch.autograd.grad(y, leaves, torch.linspace(-1.0, 1.0, 10).double())))
    assert got[1][0][:2].tolist() == [100.0 * 0.5, 100.0 * w[1].item()]
    for a, b in zip(*got, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)


def test_binary_cross_entropy_weight_gradient_by_gradcheck():
    # torch does not differentiate with respect to weight; ours does (the unweighted loss)
    x, t = _probabilities((3, 4), 0, 0.05, 0.95), _probabilities((3, 4), 1)
    w = _probabilities((4,), 2, 0.1, 2.0)
    for reduction in REDUCTIONS:
        fn = lambda x, t, w: F.binary_cross_entropy(x, t, w, reduction)  # noqa: E731, B023
        leaves = [a.clone().requires_grad_() for a in (x, t, w)]
        assert torch.autograd.gradcheck(fn, leaves)
        assert torch.autograd.gradgradcheck(fn, leaves)
        (gw,) = torch.autograd.grad(fn(*leaves).sum(), leaves[2])
        plain = -(t * x.log() + (1 - t) * (1 - x).log())  # the loss written out
        want = {"none": plain, "sum": plain, "mean": plain / 12}[reduction].sum(0)
        torch.testing.assert_close(gw, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(0,), (0, 4), (3, 0, 2)], ids=str)
def test_binary_cross_entropy_of_empty_input_as_torch(shape, reduction):
    x, t = torch.rand(shape, dtype=torch.float64), torch.rand(shape, dtype=torch.float64)
    got = []
    for fn in (F.binary_cross_entropy, TF.binary_cross_entropy):
        leaf = x.clone().requires_grad_()
        y = fn(leaf, t, reduction=reduction)
        got.append((y, *torch.autograd.grad(y.sum(), leaf)))
    (y, g), (ref_y, ref_g) = got
    assert y.shape == ref_y.shape and g.shape == ref_g.shape
    torch.testing.assert_close(y, ref_y, equal_nan=True)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
def test_binary_cross_entropy_dtype_follows_the_input_as_torch(dtype):
    """A float64 weight leaves the loss in the input's dtype; half precision stays half."""
    x = _probabilities((6, 5), 0, 0.02, 0.98).to(dtype)
    t = _probabilities((6, 5), 1).to(dtype)
    w = _probabilities((5,), 2, 0.1, 2.0)  # float64
    got = [_loss_and_grad(f, x, t, w) for f in (F.binary_cross_entropy, TF.binary_cross_entropy)]
    (y, g), (ref_y, ref_g) = got
    assert y.dtype == ref_y.dtype == g.dtype == ref_g.dtype == dtype
    tol = 4 * torch.finfo(dtype).eps
    torch.testing.assert_close(y, ref_y, rtol=tol, atol=tol)
    torch.testing.assert_close(g, ref_g, rtol=tol, atol=tol)


def test_binary_cross_entropy_bad_arguments_as_torch():
    x, t = _probabilities((3, 4), 0).float(), _probabilities((3, 4), 1).float()
    for bad in (1.5, -0.25, math.nan):
        given = x.clone()
        given[1, 2] = bad
        _raise_both(
            RuntimeError,
            ValueError,
            rf"all elements of input should be between 0 and 1 .*got {bad}",
            "binary_cross_entropy",
            given,
            t,
        )
        _raise_both(
            RuntimeError,
            RuntimeError,
            rf"all elements of target should be between 0 and 1 .*got {bad}",
            "binary_cross_entropy",
            x,
            given,
        )
    _raise_both(
        ValueError,
        ValueError,
        r"input and target must have the same shape, got \(3, 4\) and \(4,\)",
        "binary_cross_entropy",
        x,
        t[0],
    )
    _raise_both(
        RuntimeError,
        RuntimeError,
        "binary_cross_entropy: input has dtype torch.float32 on cpu but target has dtype "
        "torch.float64",
        "binary_cross_entropy",
        x,
        t.double(),
    )
    _raise_both(
        RuntimeError,
        TypeError,
        "target must be a floating-point tensor, got dtype=torch.int64",
        "binary_cross_entropy",
        x,
        t.round().long(),
    )
    _raise_both(
        RuntimeError,
        TypeError,
        "input must be a floating-point tensor, got dtype=torch.int64",
        "binary_cross_entropy",
        x.round().long(),
        t,
    )
    _raise_both(
        ValueError,
        ValueError,
        "reduction must be one of 'none', 'mean', 'sum'; got 'avg'",
        "binary_cross_entropy",
        x,
        t,
        reduction="avg",
    )
    for w in (torch.ones(5), torch.ones(2, 3, 4)):
        _raise_both(
            RuntimeError,
            RuntimeError,
            re.escape(f"weight of shape {tuple(w.shape)} does not broadcast to input shape (3, 4)"),
            "binary_cross_entropy",
            x,
            t,
            weight=w,
        )


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_and_bce_modules_match_torch(rand, reduction):
    """NLLLoss and BCELoss: the options and the weight buffer (same state_dict) as torch's."""
    x, t = torch.log_softmax(rand(5, 4, 3), 1), torch.tensor([[0, 3, 1]] * 4 + [[2, 2, 0]])
    w = rand(4, low=0.5, high=2.0)
    ours = mnn.NLLLoss(w, ignore_index=2, reduction=reduction)
    ref = torch.nn.NLLLoss(w, ignore_index=2, reduction=reduction)
    assert ours.state_dict().keys() == ref.state_dict().keys() == {"weight"}
    torch.testing.assert_close(ours(x, t), ref(x, t), rtol=1e-12, atol=1e-12)
    p, q = _probabilities((3, 4), 0), _probabilities((3, 4), 1)
    w = rand(4, low=0.5, high=2.0)
    ours, ref = mnn.BCELoss(w, reduction=reduction), torch.nn.BCELoss(w, reduction=reduction)
    assert ours.state_dict().keys() == ref.state_dict().keys() == {"weight"}
    torch.testing.assert_close(ours(p, q), ref(p, q), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("label_smoothing", [0.0, 0.1])
def test_cross_entropy_class_weight_gradient_with_probability_targets_matches_torch(
    reduction, label_smoothing
):
    """torch differentiates the loss of probability targets in the class weights too (ours
    returned no gradient for them)."""
    gen = torch.Generator().manual_seed(3)
    x = torch.randn(5, 4, 3, dtype=torch.float64, generator=gen, requires_grad=True)
    p = torch.rand(5, 4, 3, dtype=torch.float64, generator=gen)
    p = p / p.sum(1, keepdim=True)
    w = torch.rand(4, dtype=torch.float64, generator=gen, requires_grad=True)
    g = torch.rand(5, 3, dtype=torch.float64, generator=gen) if reduction == "none" else 1.3
    kw = {"weight": w, "reduction": reduction, "label_smoothing": label_smoothing}
    want = torch.autograd.grad((TF.cross_entropy(x, p, **kw) * g).sum(), (x, w))
    got = torch.autograd.grad((F.cross_entropy(x, p, **kw) * g).sum(), (x, w))
    for a, b in zip(got, want, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-13, atol=1e-13)
    assert torch.autograd.gradcheck(
        lambda v: F.cross_entropy(
            x.detach(), p, v, reduction=reduction, label_smoothing=label_smoothing
        ),
        (w,),
    )


@pytest.mark.parametrize("op", ["cross_entropy", "nll_loss"])
def test_class_weight_requiring_grad_with_index_targets_is_refused_as_torch(op):
    """torch refuses a class weight that requires grad with class-index targets while
    gradients are recorded (ours silently gave it no gradient), and takes it under no_grad."""
    x, t = torch.randn(6, 3, dtype=torch.float64), torch.tensor([0, 1, 2, 1, 0, 2])
    w = torch.rand(3, dtype=torch.float64, requires_grad=True)
    with pytest.raises(RuntimeError, match="not differentiable with respect to argument 'weight'"):
        getattr(TF, op)(x, t, weight=w)
    with pytest.raises(ValueError, match=rf"^{op}: weight must not require grad .*requires_grad"):
        getattr(F, op)(x, t, weight=w)
    with torch.no_grad():
        torch.testing.assert_close(
            getattr(F, op)(x, t, weight=w), getattr(TF, op)(x, t, weight=w), rtol=1e-14, atol=0
        )
