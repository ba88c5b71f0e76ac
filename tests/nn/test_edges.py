"""Edge cases found by an adversarial sweep against torch: each case here once failed.

Ours and torch's op run on the same tensors. Where torch returns, ours returns the same values,
dtype and gradients; where torch refuses, ours raises a ``ValueError`` (that is also a
``RuntimeError`` where torch raises one) whose message names the parameter.
"""

import numpy as np
import pytest
import torch
import torch.nn as tnn
import torch.nn.functional as TF

import mlcanon.nn as N
import mlcanon.nn.functional as F

D = torch.float64


def r(*shape, dtype=D, seed=0):
    g = torch.Generator().manual_seed(seed + sum(shape))
    return torch.randn(*shape, generator=g, dtype=torch.float64).to(dtype)


def forward_backward(fn, tensors):
    """Output and the gradients of a random contraction of it with respect to every tensor."""
    leaves = [t.detach().clone().requires_grad_(True) for t in tensors]
    out = fn(*leaves)
    weights = torch.randn(out.shape, generator=torch.Generator().manual_seed(1), dtype=D)
    grads = torch.autograd.grad((out * weights.to(out.dtype)).sum(), leaves)
    return out.detach(), grads


def check_same(ours, theirs, tensors):
    (y, grads), (y_ref, grads_ref) = (
        forward_backward(ours, tensors),
        forward_backward(theirs, tensors),
    )
    assert y.dtype == y_ref.dtype and y.shape == y_ref.shape
    torch.testing.assert_close(y, y_ref)
    for k, (g, g_ref) in enumerate(zip(grads, grads_ref, strict=True)):
        torch.testing.assert_close(g, g_ref, msg=lambda m, k=k: f"gradient of tensor {k}: {m}")


def check_both_refuse(ours, theirs, match, torch_error=RuntimeError):
    with pytest.raises(torch_error):
        theirs()
    with pytest.raises((ValueError, TypeError), match=match) as info:
        ours()
    if torch_error is RuntimeError:
        assert isinstance(info.value, RuntimeError), "ours should also be caught as torch's error"


def both(name, **kw):
    return (lambda *a: getattr(F, name)(*a, **kw)), (lambda *a: getattr(TF, name)(*a, **kw))


# --- InstanceNorm2d on an unbatched (C, H, W) image: it was normalized as (N=C, C=H, L=W) ----
@pytest.mark.parametrize("affine", [False, True])
def test_instance_norm2d_unbatched_input_is_one_sample(affine):
    torch.manual_seed(0)
    kw = {"affine": affine, "track_running_stats": affine}
    ours, theirs = N.InstanceNorm2d(4, **kw).double(), tnn.InstanceNorm2d(4, **kw).double()
    if affine:
        ours.load_state_dict(theirs.state_dict())
        with torch.no_grad():
            theirs.weight.normal_(), theirs.bias.normal_()
            ours.weight.copy_(theirs.weight), ours.bias.copy_(theirs.bias)
    check_same(ours, theirs, [r(4, 5, 6)])
    for a, b in zip(ours.buffers(), theirs.buffers(), strict=True):  # running statistics
        torch.testing.assert_close(a, b)
    with pytest.raises(
        ValueError, match=r"InstanceNorm2d expects 3 or 4-D input, got shape \(4, 5\)"
    ):
        ours(r(4, 5))


# --- a norm with a weight but no bias (or the reverse): torch accepts, it used to raise ------
AFFINE_ALONE = {
    "batch_norm": lambda M, x, w, b: M.batch_norm(x, None, None, w, b, True),
    "batch_norm eval": lambda M, x, w, b: M.batch_norm(
        x, torch.zeros(4, dtype=D), torch.full((4,), 2.0, dtype=D), w, b, False
    ),
    "instance_norm": lambda M, x, w, b: M.instance_norm(x, weight=w, bias=b),
    "group_norm": lambda M, x, w, b: M.group_norm(x, 2, w, b),
    "layer_norm": lambda M, x, w, b: M.layer_norm(x.transpose(1, 2), (4,), w, b),
}


@pytest.mark.parametrize("op", AFFINE_ALONE)
@pytest.mark.parametrize("given", ["weight", "bias"])
def test_norm_accepts_weight_or_bias_alone(op, given):
    call = AFFINE_ALONE[op]

    def with_one(M):
        if given == "weight":
            return lambda x, p: call(M, x, p, None)
        return lambda x, p: call(M, x, None, p)

    theirs = with_one(TF)
    if (op, given) == ("group_norm", "bias"):  # torch's own backward fails here (no device)
        theirs = lambda x, p: TF.group_norm(x, 2) + p.view(1, -1, 1)  # noqa: E731
    check_same(with_one(F), theirs, [r(3, 4, 5), r(4, seed=1)])


def test_layer_norm_without_bias_module_and_from_torch():
    torch.manual_seed(0)
    theirs = tnn.LayerNorm(5, bias=False).double()
    with torch.no_grad():
        theirs.weight.normal_()
    ours = N.LayerNorm(5, bias=False).double()
    assert ours.bias is None and ours.state_dict().keys() == theirs.state_dict().keys()
    ours.load_state_dict(theirs.state_dict())
    check_same(ours, theirs, [r(3, 5)])
    converted = N.from_torch(theirs)
    assert isinstance(converted, N.LayerNorm)
    check_same(converted, theirs, [r(3, 5)])
    with pytest.raises(ValueError, match="normalized_shape must be >= 0, got -1"):
        N.LayerNorm(-1)  # torch: a RuntimeError from deep inside torch.empty


# --- prelu -----------------------------------------------------------------------------------
def test_prelu_takes_a_0d_slope_like_torch():
    check_same(*both("prelu"), [r(2, 3, 4), torch.tensor(0.3, dtype=D)])


def test_prelu_weight_of_another_dtype_is_refused_like_torch():
    x, w = r(2, 3), torch.full((3,), 0.25)
    check_both_refuse(
        lambda: F.prelu(x, w),
        lambda: TF.prelu(x, w),
        r"prelu: input has dtype torch.float64 on cpu but weight has dtype torch.float32",
    )


# --- attention -------------------------------------------------------------------------------
def test_attention_with_zero_features_matches_torch():
    # every score is an empty sum: uniform weights (it raised ZeroDivisionError)
    check_same(*both("scaled_dot_product_attention"), [r(2, 3, 0), r(2, 4, 0), r(2, 4, 5)])


@pytest.mark.parametrize(
    ("shapes", "mask", "match"),
    [
        (
            [(2, 3, 4), (2, 5, 4), (2, 5, 3)],
            (4, 5),
            r"attn_mask of shape \(4, 5\) does not broadcast to the attention scores' shape "
            r"\(2, 3, 5\)",
        ),
        (
            [(2, 3, 4), (3, 5, 4), (3, 5, 3)],
            None,
            r"the batch dims of query \(2,\), key \(3,\) and value \(3,\) must broadcast",
        ),
    ],
)
def test_attention_shapes_that_do_not_broadcast_are_named(shapes, mask, match):
    q, k, v = (r(*s) for s in shapes)
    m = None if mask is None else r(*mask)
    check_both_refuse(
        lambda: F.scaled_dot_product_attention(q, k, v, attn_mask=m),
        lambda: TF.scaled_dot_product_attention(q, k, v, attn_mask=m),
        match,
    )


def test_attention_batch_dims_that_broadcast_match_torch():
    check_same(*both("scaled_dot_product_attention"), [r(2, 3, 4), r(1, 5, 4), r(1, 5, 3)])


@pytest.mark.parametrize(
    ("shapes", "match", "torch_error"),
    [
        ([(3, 2, 4), (3, 3, 4), (3, 3, 4)], "all three the same batch size", RuntimeError),
        (
            [(3, 2, 4), (3, 2, 4), (4, 2, 4)],
            "key and value must have the same source length",
            AssertionError,
        ),
        ([(3, 2, 4), (3, 4), (3, 4)], "must all be 3-D or all 2-D", AssertionError),
    ],
)
def test_multihead_attention_mismatched_inputs_are_named(shapes, match, torch_error):
    torch.manual_seed(0)
    ours, theirs = N.MultiheadAttention(4, 2), tnn.MultiheadAttention(4, 2)
    q, k, v = (r(*s, dtype=torch.float32) for s in shapes)
    check_both_refuse(lambda: ours(q, k, v), lambda: theirs(q, k, v), match, torch_error)


# --- convolution -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("call", "match"),
    [
        (
            lambda M: M.conv_transpose2d(r(2, 4, 5, 5), r(4, 0, 3, 3)),
            r"weight of shape \(4, 0, 3, 3\) must have at least 1 entry at dimension 1",
        ),
        (
            lambda M: M.conv2d(r(2, 4, 5, 0), r(3, 4, 1, 1), padding=1),
            r"conv2d: the input must have non-zero height and width .* \(2, 4, 5, 0\)",
        ),
        (
            lambda M: M.conv_transpose2d(r(2, 4, 0, 5), r(4, 3, 3, 3)),
            r"conv_transpose2d: the input must have non-zero height and width",
        ),
    ],
)
def test_conv_without_output_maps_or_pixels_is_refused_like_torch(call, match):
    check_both_refuse(lambda: call(F), lambda: call(TF), match)


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"padding": "full"}, "padding must be an int, a pair, 'valid' or 'same'; got 'full'"),
        ({"padding": "same", "stride": 2}, r"padding='same' needs stride 1, got stride=\(2, 2\)"),
    ],
)
def test_conv2d_module_checks_its_padding_when_built_like_torch(kw, match):
    with pytest.raises(ValueError):
        tnn.Conv2d(4, 6, 3, **kw)
    with pytest.raises(ValueError, match=match):
        N.Conv2d(4, 6, 3, **kw)


# --- cross-entropy with probabilities of another float dtype: torch promotes ----------------
@pytest.mark.parametrize("dtypes", [(D, torch.float32), (torch.float32, D)])
def test_cross_entropy_promotes_a_target_of_another_dtype(dtypes):
    x, t = r(3, 4, dtype=dtypes[0]), torch.softmax(r(3, 4, seed=1), 1).to(dtypes[1])
    (y, (gx, gt)), (y_ref, (gx_ref, gt_ref)) = (
        forward_backward(M.cross_entropy, [x, t]) for M in (F, TF)
    )
    assert y.dtype == y_ref.dtype == D
    assert (gx.dtype, gt.dtype) == (gx_ref.dtype, gt_ref.dtype) == dtypes
    tol = {"rtol": 1e-5, "atol": 1e-6}  # part of it computed in float32
    torch.testing.assert_close(y, y_ref, **tol)
    torch.testing.assert_close(gx, gx_ref, **tol)
    torch.testing.assert_close(gt, gt_ref, **tol)


def test_dropout_training_must_be_a_bool_like_torch():
    x = r(3)
    with pytest.raises(TypeError):
        TF.dropout(x, 0.5, training="yes")
    with pytest.raises(TypeError, match="training must be bool, got str 'yes'"):
        F.dropout(x, 0.5, training="yes")  # it was taken as True


# --- additive and multiplicative attention (no torch counterpart: the definition written out) --
def additive_reference(q, k, v, w_q, w_k, v_a):
    scores = torch.tanh((q @ w_q.T)[:, :, None, :] + (k @ w_k.T)[:, None, :, :]) @ v_a
    return torch.softmax(scores, -1) @ v


def test_additive_attention_refuses_different_batch_sizes():
    q, k, v = r(1, 3, 4), r(2, 5, 6), r(2, 5, 7)
    w_q, w_k, v_a = r(8, 4), r(8, 6), r(8)
    check_same(
        lambda q, k, v: F.additive_attention(q.expand(2, 3, 4), k, v, w_q, w_k, v_a)[0],
        lambda q, k, v: additive_reference(q.expand(2, 3, 4), k, v, w_q, w_k, v_a),
        [q, k, v],
    )
    # the forward broadcast q over the batch, the backward then failed in a matrix product
    with pytest.raises(ValueError, match="the same batch size, got 1, 2 and 2"):
        F.additive_attention(q, k, v, w_q, w_k, v_a)


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: N.AdditiveAttention(4, 6, 8)(r(2, 3, 4), r(2, 5, 6)), "weight_query has dtype"),
        (lambda: N.MultiplicativeAttention(4, 6)(r(2, 3, 4), r(2, 5, 6)), "weight has dtype"),
    ],
)
def test_attention_modules_name_a_dtype_mismatch(make, match):
    torch.manual_seed(0)
    with pytest.raises(ValueError, match=f"input has dtype torch.float64 on cpu but {match}"):
        make()  # float32 parameters, float64 input: a RuntimeError from a matmul before


def test_multiplicative_attention_sizes_are_checked():
    with pytest.raises(ValueError, match="query_size must be >= 1, got -1"):
        N.MultiplicativeAttention(-1, 6)


# --- the NumPy MLP: a target of the wrong shape was reshaped onto the wrong samples ----------
def test_mlp_target_of_the_wrong_shape_is_refused():
    mlp = N.MLP([3, 4, 2], random_state=0)
    X = r(2, 3).numpy()
    with pytest.raises(ValueError, match=r"y must have shape \(2, 2\) for 2 samples, got \(4,\)"):
        mlp.cost(X, r(4).numpy())
    y = r(2, 2).numpy()
    out = mlp.forward(X)[1][-1]
    assert mlp.cost(X, y) == pytest.approx(0.5 * ((out - y) ** 2).sum() / 2)


# --- NumPy integers for sizes and options, as torch takes them (they raised TypeError) --------
i64 = np.int64
NUMPY_INT_MODULES = {
    "Linear": (lambda M: M.Linear(i64(3), i64(4)), (2, 3)),
    "Conv2d": (
        lambda M: M.Conv2d(i64(3), i64(4), i64(3), i64(1), i64(1), groups=i64(1)),
        (1, 3, 5, 5),
    ),
    "BatchNorm2d": (lambda M: M.BatchNorm2d(i64(3)), (2, 3, 4, 4)),
    "GroupNorm": (lambda M: M.GroupNorm(i64(1), i64(3)), (2, 3, 4, 4)),
    "LayerNorm": (lambda M: M.LayerNorm(i64(4)), (2, 4)),
    "PReLU": (lambda M: M.PReLU(i64(3)), (2, 3)),
    "Softmax": (lambda M: M.Softmax(i64(1)), (2, 3)),
    "MultiheadAttention": (lambda M: M.MultiheadAttention(i64(4), i64(2)), (3, 1, 4)),
}


@pytest.mark.parametrize("name", NUMPY_INT_MODULES)
def test_modules_take_numpy_integers_like_torch(name):
    make, shape = NUMPY_INT_MODULES[name]
    torch.manual_seed(0)
    theirs = make(tnn).double()
    ours = make(N).double()
    ours.load_state_dict(theirs.state_dict())
    if name == "MultiheadAttention":
        check_same(lambda x: ours(x, x, x)[0], lambda x: theirs(x, x, x)[0], [r(*shape)])
    else:
        check_same(ours, theirs, [r(*shape)])


@pytest.mark.parametrize(
    "call",
    [
        lambda M: M.softmax(r(2, 3), i64(1)),
        lambda M: M.group_norm(r(2, 4, 3), i64(2)),
        lambda M: M.layer_norm(r(2, 4), (i64(4),)),
        lambda M: M.cross_entropy(r(2, 4), torch.tensor([0, -1]), ignore_index=i64(-1)),
    ],
    ids=["softmax dim", "group_norm num_groups", "layer_norm shape", "ignore_index"],
)
def test_functions_take_numpy_integers_like_torch(call):
    torch.testing.assert_close(call(F), call(TF))


@pytest.mark.parametrize(
    "shapes",
    [
        ((5, 3), (3,), None),  # a 1-D weight: one output, its dimension dropped
        ((3,), (3,), None),
        ((2, 5, 3), (3,), None),
        ((5, 3), (2, 3), (1,)),  # biases that broadcast to the output
        ((5, 3), (2, 3), ()),
        ((5, 3), (2, 3), (5, 2)),
        ((5, 3), (2, 3), (5, 1)),
        ((7, 5, 3), (2, 3), (5, 2)),
        ((3,), (2, 3), (1,)),
        ((5, 0), (2, 0), (5, 1)),
    ],
)
def test_linear_vector_weight_and_broadcast_bias_match_torch(shapes):
    # torch's linear takes a 1-D weight and any bias that broadcasts to the output; ours
    # refused both (weight must be 2-D, bias must have shape (out_features,))
    tensors = [r(*s, 1, seed=i).reshape(s) for i, s in enumerate(shapes) if s is not None]
    out, grads = forward_backward(F.linear, tensors)
    out_ref, grads_ref = forward_backward(TF.linear, tensors)
    assert out.shape == out_ref.shape
    torch.testing.assert_close(out, out_ref, rtol=1e-12, atol=1e-12)
    for g, g_ref in zip(grads, grads_ref, strict=True):
        assert g.shape == g_ref.shape
        torch.testing.assert_close(g, g_ref, rtol=1e-12, atol=1e-12)
    leaves = [t.clone().requires_grad_() for t in tensors]
    assert torch.autograd.gradgradcheck(F.linear, leaves)


@pytest.mark.parametrize(
    ("shapes", "match"),
    [
        (((5, 3), (3,), (1,)), "1-D weight"),
        (((5, 3), (2, 3), (4, 5, 2)), "does not broadcast"),
        (((5, 3), (2, 3), (3,)), "does not broadcast"),
    ],
)
def test_linear_bias_torch_refuses_is_refused(shapes, match):
    tensors = [r(*s) for s in shapes]
    with pytest.raises(RuntimeError):
        TF.linear(*tensors)
    with pytest.raises(ValueError, match=match):
        F.linear(*tensors)
