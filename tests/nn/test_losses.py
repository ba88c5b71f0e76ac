"""Softmax, cross-entropy and the other losses against torch (float64 forward 1e-10, grads 1e-8)."""

import itertools
import math

import pytest
import torch
import torch.nn.functional as TF

import mlcanon.nn as mnn
import mlcanon.nn.functional as F

REDUCTIONS = ["none", "mean", "sum"]


@pytest.mark.parametrize(("shape", "dim"), [((4, 5, 3), 1), ((1, 7), -1), ((3, 2, 5), 0)])
@pytest.mark.parametrize("which", ["softmax", "log_softmax"])
def test_softmax_matches_torch(check_op, rand, shape, dim, which):
    ours, ref = getattr(F, which), getattr(TF, which)
    check_op(lambda x: ours(x, dim), lambda x: ref(x, dim), [3 * rand(*shape)])


@pytest.mark.parametrize("which", ["softmax", "log_softmax"])
@pytest.mark.parametrize(
    ("given", "dtype"), [(torch.float32, torch.float64), (torch.float64, torch.float32)]
)
def test_softmax_dtype_casts_first_as_torch(rand, which, given, dtype):
    """torch's dtype=: the input is cast before the op; the output has that dtype and the
    gradient the input's (it was a TypeError)."""
    x = 30.0 * rand(4, 6)
    got = []
    for fn in (getattr(F, which), getattr(TF, which)):
        leaf = x.to(given).requires_grad_()
        y = fn(leaf, 1, dtype=dtype)
        upstream = torch.linspace(-1.0, 1.0, y.numel(), dtype=dtype).reshape(y.shape)
        got.append((y, torch.autograd.grad(y, leaf, upstream)[0]))
    (y, g), (ref_y, ref_g) = got
    assert y.dtype == ref_y.dtype == dtype and g.dtype == ref_g.dtype == given
    # computed in float32 if either is: float32's default tolerance
    torch.testing.assert_close(y, ref_y, rtol=1.3e-6, atol=1e-5)
    torch.testing.assert_close(g, ref_g, rtol=1.3e-6, atol=1e-5)
    with pytest.raises(TypeError, match=r"dtype must be a floating-point torch\.dtype"):
        getattr(F, which)(x, 1, dtype=torch.int64)


def test_log_softmax_is_stable_for_huge_logits():
    x = torch.tensor([[1000.0, 0.0, -1000.0]], dtype=torch.float64)
    torch.testing.assert_close(F.log_softmax(x, 1), TF.log_softmax(x, 1), rtol=1e-12, atol=1e-12)


def _labels(shape, classes, seed, ignore=()):
    t = torch.randint(0, classes, shape, generator=torch.Generator().manual_seed(seed))
    for idx in ignore:
        t[idx] = -100
    return t


CE_OPTIONS = [
    {},
    {"weight": True},
    {"label_smoothing": 0.2},
    {"weight": True, "label_smoothing": 0.3},
]


@pytest.mark.parametrize("options", CE_OPTIONS, ids=["plain", "weight", "smooth", "weight-smooth"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(
    ("shape", "ignore"), [((4, 5, 3), [(0, 1), (2, 2)]), ((1, 6), []), ((7, 3), [(2,)])]
)
def test_cross_entropy_with_class_indices_matches_torch(
    check_op, rand, options, reduction, shape, ignore
):
    c = shape[1]
    target = _labels((shape[0], *shape[2:]), c, seed=len(shape), ignore=ignore)
    weighted, eps = options.get("weight", False), options.get("label_smoothing", 0.0)

    def make(fn):  # the class weights are an input so that the float32 pass converts them
        return lambda x, w: fn(
            x, target, w if weighted else None, reduction=reduction, label_smoothing=eps
        )

    check_op(
        make(F.cross_entropy),
        make(TF.cross_entropy),
        [3 * rand(*shape), rand(c, seed=5, low=0.2, high=2.0)],
        diff=[0],
    )


@pytest.mark.parametrize("options", CE_OPTIONS, ids=["plain", "weight", "smooth", "weight-smooth"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(4, 5, 3), (1, 6)])
def test_cross_entropy_with_probabilities_matches_torch(check_op, rand, options, reduction, shape):
    c = shape[1]
    weighted, eps = options.get("weight", False), options.get("label_smoothing", 0.0)
    probs = torch.softmax(rand(*shape, seed=3), 1)

    def make(fn):
        return lambda x, t, w: fn(
            x, t, w if weighted else None, reduction=reduction, label_smoothing=eps
        )

    inputs = [3 * rand(*shape), probs, rand(c, seed=5, low=0.2, high=2.0)]
    check_op(make(F.cross_entropy), make(TF.cross_entropy), inputs, diff=[0, 1])


def test_cross_entropy_unbatched_and_by_hand():
    x = torch.tensor([0.0, 0.0, 0.0, 0.0], dtype=torch.float64, requires_grad=True)
    loss = F.cross_entropy(x, torch.tensor(2))
    torch.testing.assert_close(loss, torch.log(torch.tensor(4.0, dtype=torch.float64)))
    loss.backward()  # softmax + cross-entropy: p - onehot
    assert torch.equal(x.grad, torch.tensor([0.25, 0.25, -0.75, 0.25], dtype=torch.float64))


def test_cross_entropy_ignored_samples_leave_the_mean():
    x = torch.randn(3, 4, dtype=torch.float64)
    t = torch.tensor([1, -100, 3])
    torch.testing.assert_close(F.cross_entropy(x, t), F.cross_entropy(x[[0, 2]], t[[0, 2]]))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(4, 5, 3), (1, 7)])
def test_bce_with_logits_matches_torch(check_op, rand, reduction, shape):
    def make(fn):  # torch has no gradient for weight and pos_weight: compare x and target only
        return lambda x, t, w, pw: fn(x, t, w, reduction=reduction, pos_weight=pw)

    weight = rand(shape[-1], seed=4, low=0.1, high=2.0)
    pos_weight = rand(shape[-1], seed=5, low=0.5, high=3.0)
    inputs = [4 * rand(*shape), rand(*shape, seed=2, low=0.0, high=1.0), weight, pos_weight]
    check_op(
        make(F.binary_cross_entropy_with_logits),
        make(TF.binary_cross_entropy_with_logits),
        inputs,
        diff=[0, 1],
    )


def test_bce_weight_gradients_by_gradcheck(rand):
    # torch does not differentiate with respect to weight and pos_weight; ours does
    args = [rand(3, 4), rand(3, 4, seed=2, low=0, high=1), rand(4, seed=3, low=0.1, high=1),
            rand(4, seed=4, low=0.5, high=2)]  # fmt: skip
    args = [a.requires_grad_() for a in args]
    fn = lambda x, t, w, pw: F.binary_cross_entropy_with_logits(x, t, w, "sum", pw)  # noqa: E731
    assert torch.autograd.gradcheck(fn, args)


@pytest.mark.parametrize("which", ["weight", "pos_weight"])
def test_bce_weights_of_another_dtype_keep_the_loss_dtype_as_torch(which):
    # a float64 pos_weight (e.g. from NumPy class counts) made a float32 loss float64 here
    x, t = torch.randn(3, 4), torch.rand(3, 4)
    w = torch.rand(4, dtype=torch.float64) + 0.5
    ours = F.binary_cross_entropy_with_logits(x, t, **{which: w})
    ref = TF.binary_cross_entropy_with_logits(x, t, **{which: w})
    assert ours.dtype == ref.dtype == torch.float32
    torch.testing.assert_close(ours, ref)


def test_smooth_l1_gradient_of_a_nan_input_is_nan_as_torch():
    # the saturated branch took sign(nan) = 0 and hid the NaN from the gradient
    x = torch.tensor([float("nan"), 0.3, -2.0, 1.0], dtype=torch.float64, requires_grad=True)
    t = torch.zeros(4, dtype=torch.float64)
    (ours,) = torch.autograd.grad(F.smooth_l1_loss(x, t, "sum", beta=1.0), x)
    (ref,) = torch.autograd.grad(TF.smooth_l1_loss(x, t, reduction="sum", beta=1.0), x)
    torch.testing.assert_close(ours, ref, equal_nan=True)
    assert ours[0].isnan() and ours[1:].tolist() == [0.3, -1.0, 1.0]


def test_bce_with_logits_is_stable_for_huge_logits():
    x = torch.tensor([-1000.0, 1000.0], dtype=torch.float64)
    t = torch.tensor([1.0, 0.0], dtype=torch.float64)
    torch.testing.assert_close(
        F.binary_cross_entropy_with_logits(x, t), torch.tensor(1000.0, dtype=torch.float64)
    )


def test_bce_with_logits_at_infinite_logits():
    """At x = +-inf the loss is its limit: 0 for the right class (it was NaN, 0 * inf, as
    torch 2.13's), +inf for the wrong one (torch: NaN at -inf, inf at +inf). Written plainly:
    -t log sigma(x) - (1 - t) log(1 - sigma(x)) with sigma(-inf) = 0, sigma(inf) = 1, 0 log 0 = 0.
    Gradients (sigma(x) - t) and finite logits stay torch's."""
    x = torch.tensor([-math.inf, -math.inf, math.inf, math.inf, -math.inf, math.inf, 3.0])
    x = x.to(torch.float64).requires_grad_()
    t = torch.tensor([1.0, 0.5, 0.0, 0.5, 0.0, 1.0, 0.25], dtype=torch.float64)
    pw = torch.tensor(2.0, dtype=torch.float64)
    ours = F.binary_cross_entropy_with_logits(x, t, reduction="none")
    ref = TF.binary_cross_entropy_with_logits(x.detach(), t, reduction="none")
    s = torch.sigmoid(x.detach())
    plain = -torch.xlogy(t, s) - torch.xlogy(1.0 - t, 1.0 - s)
    assert ours[:6].tolist() == plain[:6].tolist() == [math.inf] * 4 + [0.0, 0.0]
    torch.testing.assert_close(ours[[2, 3, 6]], ref[[2, 3, 6]])
    weighted = F.binary_cross_entropy_with_logits(x, t, reduction="none", pos_weight=pw)
    assert weighted[:6].tolist() == [math.inf] * 4 + [0.0, 0.0]
    (grad,) = torch.autograd.grad(ours.sum(), x)
    x_ref = x.detach().clone().requires_grad_()
    (grad_ref,) = torch.autograd.grad(
        TF.binary_cross_entropy_with_logits(x_ref, t, reduction="none").sum(), x_ref
    )
    torch.testing.assert_close(grad, grad_ref)  # sigma(x) - t: -1, -0.5, 1, 0.5, 0, 0


REGRESSION = [
    (F.mse_loss, TF.mse_loss, {}),
    (F.l1_loss, TF.l1_loss, {}),
    (F.smooth_l1_loss, TF.smooth_l1_loss, {"beta": 0.7}),
    (F.smooth_l1_loss, TF.smooth_l1_loss, {"beta": 0.0}),
    (F.huber_loss, TF.huber_loss, {"delta": 1.3}),
]


@pytest.mark.parametrize(
    ("ours", "theirs", "kw"), REGRESSION, ids=["mse", "l1", "smoothl1", "smoothl1-0", "huber"]
)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(4, 5, 3), (1, 7)])
def test_regression_losses_match_torch(check_op, rand, ours, theirs, kw, reduction, shape):
    make = lambda fn: lambda x, t: fn(x, t, reduction=reduction, **kw)  # noqa: E731
    check_op(make(ours), make(theirs), [2 * rand(*shape), 2 * rand(*shape, seed=1)])


def test_smooth_l1_and_huber_by_hand():
    x = torch.tensor([0.5, 3.0], requires_grad=True)
    loss = F.smooth_l1_loss(x, torch.zeros(2), reduction="sum")
    assert loss.item() == 0.125 + 2.5
    loss.backward()
    assert torch.equal(x.grad, torch.tensor([0.5, 1.0]))  # d/beta near 0, sign(d) far away
    torch.testing.assert_close(
        F.huber_loss(x, torch.zeros(2), delta=2.0),
        2.0 * F.smooth_l1_loss(x, torch.zeros(2), beta=2.0),
    )


@pytest.mark.parametrize("reduction", [*REDUCTIONS, "batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides:UserWarning")
def test_kl_div_matches_torch(check_op, rand, reduction, log_target):
    q = torch.log_softmax(rand(4, 5), 1)
    p = torch.softmax(rand(4, 5, seed=1), 1)
    target = p.log() if log_target else p
    make = lambda fn: lambda x, t: fn(x, t, reduction=reduction, log_target=log_target)  # noqa: E731
    check_op(make(F.kl_div), make(TF.kl_div), [q, target])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(
    ("name", "options"), [("mse_loss", {}), ("l1_loss", {}), ("huber_loss", {"delta": 0.7})]
)
def test_element_weight_as_torch(check_op, rand, name, options, reduction):
    """torch 2.13's weight= of mse_loss, l1_loss and huber_loss: w_i times each term; 'mean'
    divides by sum(w) for mse and l1 but by the element count for huber. Gradients for the
    input, the target and the weight (it was a TypeError)."""
    x, t, w = rand(3, 4), rand(3, 4, seed=1), rand(3, 4, seed=2, low=0.1, high=2.0)
    make = lambda fn: lambda x, t, w: fn(x, t, reduction=reduction, weight=w, **options)  # noqa: E731
    check_op(make(getattr(F, name)), make(getattr(TF, name)), [x, t, w])


def test_element_weight_must_have_the_input_shape():
    x = torch.zeros(3, 4)
    with pytest.raises(ValueError, match=r"weight must have the input's shape \(3, 4\), got \(4"):
        F.mse_loss(x, x, weight=torch.ones(4))
    with pytest.raises(TypeError, match="weight must be a floating-point tensor"):
        F.l1_loss(x, x, weight=torch.ones(3, 4, dtype=torch.long))


def test_kl_div_target_gradient_at_zero_as_torch(rand):
    """A zero target probability: torch differentiates xlogy(t, t) as log t + t/t, NaN at
    t = 0 (ours gave log 0 + 1 = -inf); elsewhere log t + 1 - x, and NaN for t < 0."""
    x = torch.log_softmax(rand(3, 4), 1)
    t = torch.tensor([[0.0, 0.2, 0.3, 0.5], [0.25] * 4, [-0.1, 0.1, 0.0, 1.0]], dtype=x.dtype)
    grads = []
    for fn in (F.kl_div, TF.kl_div):
        leaves = [x.clone().requires_grad_(), t.clone().requires_grad_()]
        grads.append(torch.autograd.grad(fn(*leaves, reduction="sum"), leaves))
    for a, b in zip(*grads, strict=True):
        torch.testing.assert_close(a, b, equal_nan=True)
    assert grads[0][1][0, 0].isnan() and grads[0][1][0, 1].isfinite()


def _torchvision_focal(inputs, targets, alpha=0.25, gamma=2.0, reduction="none"):
    """torchvision.ops.sigmoid_focal_loss's formula written with torch built-ins (torchvision is
    optional; ``test_focal_loss_matches_torchvision`` uses the real one when installed)."""
    p = torch.sigmoid(inputs)
    ce = TF.binary_cross_entropy_with_logits(inputs, targets, reduction="none")
    p_t = p * targets + (1 - p) * (1 - targets)
    loss = ce * (1 - p_t) ** gamma
    if alpha >= 0:
        loss = (alpha * targets + (1 - alpha) * (1 - targets)) * loss
    return {"none": loss, "mean": loss.mean(), "sum": loss.sum()}[reduction]


@pytest.mark.parametrize(
    ("alpha", "gamma"), [(0.25, 2.0), (-1.0, 0.0), (0.7, 1.5), (0.5, 1.0), (0.3, 0.5)]
)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_sigmoid_focal_loss_matches_formula(check_op, rand, alpha, gamma, reduction):
    labels = (rand(4, 5, 3, seed=9) > 0).double()
    make = lambda fn: lambda x, t: fn(x, t, alpha, gamma, reduction)  # noqa: E731
    check_op(make(F.sigmoid_focal_loss), make(_torchvision_focal), [3 * rand(4, 5, 3), labels])


def test_focal_loss_matches_torchvision(rand):
    ops = pytest.importorskip("torchvision.ops")  # optional reference
    x, t = 3 * rand(6, 4), (rand(6, 4, seed=1) > 0).double()
    torch.testing.assert_close(
        F.sigmoid_focal_loss(x, t, reduction="sum"), ops.sigmoid_focal_loss(x, t, reduction="sum")
    )


def test_dropout_matches_torch_mask_for_the_same_seed(rand):
    x = rand(5, 7, 3)
    torch.manual_seed(11)
    ours = F.dropout(x, 0.3)
    torch.manual_seed(11)
    torch.testing.assert_close(ours, TF.dropout(x, 0.3), rtol=0, atol=0)


def test_dropout_backward_uses_the_same_mask(rand):
    x = rand(50, 40).requires_grad_()
    y = F.dropout(x, 0.4)
    y.sum().backward()
    kept = y != 0
    assert 0.5 < kept.double().mean().item() < 0.7
    torch.testing.assert_close(x.grad, kept.double() / 0.6)
    assert torch.equal(F.dropout(x, 0.4, training=False), x)
    assert torch.equal(F.dropout(x, 1.0), torch.zeros_like(x))


def test_bad_loss_arguments():
    x = torch.zeros(3, 4)
    with pytest.raises(
        ValueError, match="reduction must be one of 'none', 'mean', 'sum'; got 'avg'"
    ):
        F.sigmoid_focal_loss(x, x, reduction="avg")
    with pytest.raises(
        ValueError, match="reduction must be one of 'none', 'mean', 'sum', 'batchmean'; got 'max'"
    ):
        F.kl_div(x, x, reduction="max")
    with pytest.raises(
        ValueError,
        match=r"input of shape \(3, 4\) and target of shape \(4, 3\) do not broadcast",
    ):
        F.mse_loss(x, torch.zeros(4, 3))
    with pytest.raises(
        ValueError,
        match=r"class indices must be in \[0, 4\) or ignore_index=-100; got 4",
    ):
        F.cross_entropy(x, torch.tensor([0, 4, 1]))
    with pytest.raises(ValueError, match=r"class-index target must have shape \(3,\)"):
        F.cross_entropy(x, torch.tensor([0, 1]))
    with pytest.raises(ValueError, match=r"label_smoothing must be <= 1\.0, got 1\.5"):
        F.cross_entropy(x, torch.tensor([0, 1, 2]), label_smoothing=1.5)
    with pytest.raises(
        ValueError, match=r"pos_weight of shape \(3,\) does not broadcast to input shape \(3, 4\)"
    ):
        F.binary_cross_entropy_with_logits(x, x, pos_weight=torch.ones(3))
    with pytest.raises(ValueError, match=r"beta must be >= 0\.0, got -1\.0"):
        F.smooth_l1_loss(x, x, beta=-1.0)
    with pytest.raises(ValueError, match=r"p must be <= 1\.0, got 1\.5"):
        F.dropout(x, 1.5)
    with pytest.raises(ValueError, match="dim=2 is out of range for a 2-D input"):
        F.softmax(x, 2)


@pytest.mark.parametrize(
    "options", [{}, {"label_smoothing": 0.1}, {"reduction": "none"}, {"ignore_index": 2}]
)
def test_cross_entropy_runs_on_the_meta_device_as_torch(options):
    x = torch.empty(2, 4, 3, 3, device="meta", requires_grad=True)
    t = torch.empty(2, 3, 3, dtype=torch.long, device="meta")  # no values to check
    w = torch.empty(4, device="meta")
    ours, ref = F.cross_entropy(x, t, w, **options), TF.cross_entropy(x, t, w, **options)
    assert (ours.shape, ours.dtype, ours.device) == (ref.shape, ref.dtype, ref.device)
    (grad,) = torch.autograd.grad(ours.sum(), x)
    assert grad.shape == x.shape and grad.device.type == "meta"


@pytest.mark.parametrize("label_smoothing", [0.0, 0.2])
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_gives_no_gradient_to_ignored_rows_even_when_all_are(
    label_smoothing, weighted
):
    # every target ignored: the mean is 0/0 = nan in torch and here, but torch's gradient is 0
    # (an all-padding batch must not write nan into the weights); it was nan here
    x = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
    w = torch.rand(4, dtype=torch.float64) + 0.5 if weighted else None
    t = torch.tensor([-100, -100, -100])
    for reduction in REDUCTIONS:
        ours = F.cross_entropy(x, t, w, reduction=reduction, label_smoothing=label_smoothing)
        ref = TF.cross_entropy(x, t, w, reduction=reduction, label_smoothing=label_smoothing)
        torch.testing.assert_close(ours, ref, equal_nan=True)
        upstream = torch.full_like(ref, 1.5)
        (g_ours,) = torch.autograd.grad(ours, x, upstream)
        (g_ref,) = torch.autograd.grad(ref, x, upstream)
        assert torch.equal(g_ref, torch.zeros_like(x))
        torch.testing.assert_close(g_ours, g_ref)


@pytest.mark.parametrize("label_smoothing", [0.1, 0.5, 1.0])
@pytest.mark.parametrize("batched", [False, True])
def test_cross_entropy_mean_over_zero_total_weight_is_nan_as_torch(label_smoothing, batched):
    """Every kept target weighted 0: torch's mean adds the smoothing term's x/0 to the class
    term's 0/0, NaN; it was inf here (both terms' sum over the zero total weight). The
    gradient is NaN in both."""
    x = torch.randn(3, 4, dtype=torch.float64)
    w = torch.tensor([0.0, 0.7, 0.2, 0.5], dtype=torch.float64)
    t = torch.tensor([0, 0, -100])
    if not batched:
        x, t = x[0], t[0]
    a, b = x.clone().requires_grad_(), x.clone().requires_grad_()
    ours = F.cross_entropy(a, t, w, label_smoothing=label_smoothing)
    ref = TF.cross_entropy(b, t, w, label_smoothing=label_smoothing)
    assert ref.isnan()
    torch.testing.assert_close(ours, ref, equal_nan=True)
    (g_ours,) = torch.autograd.grad(ours, a)
    (g_ref,) = torch.autograd.grad(ref, b)
    torch.testing.assert_close(g_ours, g_ref, equal_nan=True)


@pytest.mark.parametrize("dtype", [torch.int32, torch.int16, torch.int8, torch.bool])
def test_cross_entropy_refuses_index_targets_torch_refuses(dtype):
    """torch takes class indices as int64 or uint8 only; an int32 (say) target was converted
    here. Now refused, with an error that is a RuntimeError as torch's (and a ValueError)."""
    x = torch.randn(3, 4)
    t = torch.tensor([0, 1, 1]).to(dtype)
    with pytest.raises(RuntimeError, match="expected target dtype to be Long or Byte"):
        TF.cross_entropy(x, t)
    with pytest.raises(RuntimeError, match=r"target must hold class indices as int64 \(or uint8\)"):
        F.cross_entropy(x, t)
    for ok in (torch.int64, torch.uint8):  # both take these
        torch.testing.assert_close(F.cross_entropy(x, t.to(ok)), TF.cross_entropy(x, t.to(ok)))


def test_cross_entropy_refuses_an_ignore_index_with_probability_targets_as_torch():
    x, p = torch.randn(3, 4), torch.rand(3, 4).softmax(1)
    with pytest.raises(RuntimeError, match="ignore_index is not supported"):
        TF.cross_entropy(x, p, ignore_index=1)
    with pytest.raises(ValueError, match="ignore_index=1 applies to class-index targets only"):
        F.cross_entropy(x, p, ignore_index=1)
    with pytest.raises(RuntimeError, match="ignore_index=0 applies to class-index targets"):
        F.cross_entropy(x, p, ignore_index=0)
    torch.testing.assert_close(F.cross_entropy(x, p, ignore_index=-1), TF.cross_entropy(x, p))


@pytest.mark.parametrize("shape", [(4,), (2, 3), (2, 3, 4), (2, 3, 4, 5)])
@pytest.mark.parametrize("which", ["Softmax", "LogSoftmax"])
def test_softmax_modules_without_dim_take_torchs_implicit_dim(rand, which, shape):
    # torch.nn.Softmax() normalizes over dim 0 of a 3-D input and dim 1 of a 4-D one; these
    # modules defaulted to dim=-1 and normalized other entries without a word
    x = rand(*shape)
    with pytest.warns(UserWarning, match="Implicit dimension choice"):
        ref = getattr(torch.nn, which)()(x)
    with pytest.warns(UserWarning, match="Implicit dimension choice"):
        ours = getattr(mnn, which)()(x)
    torch.testing.assert_close(ours, ref, rtol=1e-12, atol=1e-12)
    dim = 0 if len(shape) in (1, 3) else 1  # the rule written out
    torch.testing.assert_close(
        ref, TF.softmax(x, dim).log() if which == "LogSoftmax" else TF.softmax(x, dim)
    )
    with pytest.warns(UserWarning, match="Implicit dimension choice"):
        torch.testing.assert_close(F.softmax(x), TF.softmax(x, dim), rtol=1e-12, atol=1e-12)


_BROADCAST_SHAPES = [((3, 4), (4,)), ((4,), (3, 4)), ((3, 1), (1, 4)), ((), (3,)), ((0, 4), (4,))]


def _normal(shape, seed):
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def _run_with_warnings(fn, leaves, kwargs):
    """fn(input, target, **kwargs), its gradients for leaves (input, target and any weight in
    kwargs) under an upstream linspace, and the warnings it gave."""
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        y = fn(leaves[0], leaves[1], **kwargs)
    v = torch.linspace(-1.0, 2.0, y.numel(), dtype=y.dtype).reshape(y.shape)
    grads = torch.autograd.grad(y, leaves, v)
    return y, grads, [(w.category, str(w.message)) for w in caught]


def _assert_same_run(got):
    (y, grads, warned), (ref_y, ref_grads, ref_warned) = got
    assert y.shape == ref_y.shape  # the mean of an empty loss is NaN in both
    torch.testing.assert_close(y, ref_y, rtol=1e-10, atol=1e-10, equal_nan=True)
    for g, ref_g in zip(grads, ref_grads, strict=True):
        torch.testing.assert_close(g, ref_g, rtol=1e-8, atol=1e-10)
    assert warned == ref_warned
    return ref_warned


@pytest.mark.parametrize(("x_shape", "t_shape"), _BROADCAST_SHAPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(
    ("name", "kwargs", "weighted"),
    [
        ("mse_loss", {}, False),
        ("mse_loss", {}, True),
        ("l1_loss", {}, True),
        ("smooth_l1_loss", {"beta": 0.7}, False),
        ("smooth_l1_loss", {"beta": 0.0}, False),
        ("huber_loss", {"delta": 0.6}, False),
        ("huber_loss", {"delta": 0.6}, True),
    ],
)
def test_regression_losses_broadcast_target_like_torch(
    name, kwargs, weighted, reduction, x_shape, t_shape
):
    """torch broadcasts input against target with a UserWarning (and a weight of the input's
    shape against both; 'mean' then divides by the sum of the weight as given). These raised."""
    x, t = 2.0 * _normal(x_shape, 0), _normal(t_shape, 1)
    got = []
    for fn in (getattr(F, name), getattr(TF, name)):
        leaves = [x.clone().requires_grad_(), t.clone().requires_grad_()]
        kw = dict(kwargs, reduction=reduction)
        if weighted:
            leaves.append((x.abs() + 0.5).requires_grad_())
            kw["weight"] = leaves[2]
        got.append(_run_with_warnings(fn, leaves, kw))
    warned = _assert_same_run(got)
    assert warned and warned[0][0] is UserWarning


@pytest.mark.parametrize(("x_shape", "t_shape"), _BROADCAST_SHAPES)
@pytest.mark.parametrize("reduction", ["none", "mean", "sum", "batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_broadcasts_and_warns_like_torch(x_shape, t_shape, reduction, log_target):
    """torch's kl_div broadcasts silently, 'batchmean' dividing by input.shape[0], and warns
    (UserWarning) that 'mean' divides by every element. Different shapes raised here."""
    x = _normal(x_shape, 0)
    t = torch.rand(t_shape, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    t = (t + 0.1).log() if log_target else t + 0.1
    kw = {"reduction": reduction, "log_target": log_target}
    leaves = [x.requires_grad_(), t.requires_grad_()]
    _assert_same_run([_run_with_warnings(fn, leaves, kw) for fn in (F.kl_div, TF.kl_div)])


def test_regression_loss_shapes_that_do_not_broadcast_raise_like_torch():
    x, t = torch.zeros(3), torch.zeros(4)
    with pytest.raises(RuntimeError), pytest.warns(UserWarning):
        TF.mse_loss(x, t)
    for fn in (F.mse_loss, F.l1_loss, F.smooth_l1_loss, F.huber_loss, F.kl_div):
        with pytest.raises(RuntimeError, match=r"input of shape \(3,\) and target of shape \(4,\)"):
            fn(x, t, reduction="sum")


_F16, _F32, _F64 = torch.float16, torch.float32, torch.float64


@pytest.mark.filterwarnings("ignore:Using a target size")
@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides")
@pytest.mark.parametrize(
    "name",
    [
        "mse_loss",
        "l1_loss",
        "smooth_l1_loss",
        "huber_loss",
        "kl_div",
        "binary_cross_entropy_with_logits",
    ],
)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_loss_result_dtype_with_mixed_dtypes_as_torch(name, reduction):
    """The result's dtype for inputs, targets (and weights) of different dtypes, as torch's:
    the regression losses broadcast first, so a 0-d input or target is promoted like any other
    (it was the other's dtype); huber_loss answers in the input's dtype, kl_div in that of
    ``t * x`` (0-d deferring), BCE with logits in the target's dtype (all promoted here); and
    a weight of another dtype is promoted (it was refused)."""
    g = torch.Generator().manual_seed(0)
    cases = [((3,), (3,)), ((), (2,)), ((2,), ()), ((2, 3), (3,))]
    pairs = [(_F64, _F32), (_F32, _F64), (_F16, _F32), (_F32, _F16), (_F16, torch.bfloat16)]
    for (xs, ts), (xd, td) in itertools.product(cases, pairs):
        if name == "binary_cross_entropy_with_logits" and xs != ts:
            continue  # it takes equal shapes only
        x = torch.randn(xs, generator=g).to(xd)
        t = torch.rand(ts, generator=g).to(td)
        weights = [None]
        if name in ("mse_loss", "l1_loss", "huber_loss"):
            weights += [torch.rand(xs, generator=g).to(wd) for wd in (_F64, _F16)]
        for w in weights:
            kw = {} if w is None else {"weight": w}
            ref = getattr(TF, name)(x, t, reduction=reduction, **kw)
            ours = getattr(F, name)(x, t, reduction=reduction, **kw)
            assert ours.dtype == ref.dtype, (xs, ts, xd, td, None if w is None else w.dtype)
            # torch computes half precision in half (and rounds its steps), here in float32
            torch.testing.assert_close(ours, ref, rtol=2e-2, atol=2e-2)


@pytest.mark.filterwarnings("ignore:Using a target size")
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss"])
@pytest.mark.parametrize("target_dtype", [torch.int64, torch.int32, torch.uint8, torch.bool])
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32, torch.float16])
def test_regression_losses_take_integer_targets_as_torch(name, target_dtype, dtype):
    """torch promotes an integer or bool target to the input's dtype (it was refused with a
    TypeError): same value and dtype, also broadcast; l1_loss refuses a bool target, as torch.
    The input gradient is compared with torch's for the target converted to the input's dtype
    (torch's own huber_loss backward fails on an integer target)."""
    g = torch.Generator().manual_seed(0)
    x = (3.0 * torch.randn(3, 4, generator=g)).to(dtype)
    ours, ref = getattr(F, name), getattr(TF, name)
    for t in (torch.randint(0, 5, (3, 4), generator=g), torch.randint(0, 5, (4,), generator=g)):
        t = t.to(target_dtype)
        if name == "l1_loss" and target_dtype == torch.bool:
            with pytest.raises(RuntimeError, match="Subtraction, the `-` operator, with a bool"):
                ref(x, t)
            with pytest.raises(RuntimeError, match="l1_loss: target must be a floating-point"):
                ours(x, t)
            continue
        leaves = [x.clone().requires_grad_() for _ in range(2)]
        y, ref_y = ours(leaves[0], t, reduction="sum"), ref(x, t, reduction="sum")
        assert y.dtype == ref_y.dtype == dtype
        tol = {"rtol": 1e-2, "atol": 1e-2} if dtype == torch.float16 else {}
        torch.testing.assert_close(y, ref_y, **tol)
        (grad,) = torch.autograd.grad(y, leaves[0])
        (ref_grad,) = torch.autograd.grad(ref(leaves[1], t.to(dtype), reduction="sum"), leaves[1])
        torch.testing.assert_close(grad, ref_grad, **tol)


@pytest.mark.parametrize("shape", [(2, 0, 3, 4), (0, 0, 3, 4), (2, 0), (0, 0), (0,)])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_cross_entropy_of_zero_classes_matches_torch(shape, reduction, smoothing):
    # an input with no classes (C = 0): every loss is an empty sum, 0, and the mean 0/0 = NaN,
    # as torch; ours raised torch's reshape or amax RuntimeError
    x = torch.randn(shape, dtype=torch.float64)
    x_ours, x_ref = x.clone().requires_grad_(), x.clone().requires_grad_()
    probs = torch.rand(shape, dtype=torch.float64)
    kw = {"reduction": reduction, "label_smoothing": smoothing}
    ours, ref = F.cross_entropy(x_ours, probs, **kw), TF.cross_entropy(x_ref, probs, **kw)
    assert ours.shape == ref.shape and ours.dtype == ref.dtype
    torch.testing.assert_close(ours, ref, equal_nan=True)
    (g_ours,) = torch.autograd.grad(ours.sum(), x_ours)
    (g_ref,) = torch.autograd.grad(ref.sum(), x_ref)
    assert g_ours.shape == g_ref.shape
    if len(shape) > 1:  # index targets, all ignored, or none at all
        t = torch.full((shape[0], *shape[2:]), -100, dtype=torch.long)
        w = torch.ones(0, dtype=torch.float64)
        ours = F.cross_entropy(x, t, w, **kw)
        ref = TF.cross_entropy(x, t, w, **kw)
        assert ours.shape == ref.shape and ours.dtype == ref.dtype
        torch.testing.assert_close(ours, ref, equal_nan=True)
