"""Empty and mixed-dtype input: every op and module does what torch does.

Each case runs ours and torch's op on the same tensors. Either both return (same shape and dtype,
the same values, gradients of the same shapes for every input) or both raise, ours an exception
that is an instance of torch's type (ours are ValueErrors that are also RuntimeErrors where torch
raises RuntimeError) with a message naming what is wrong.
"""

import pytest
import torch
import torch.nn as tnn
import torch.nn.functional as TF

import mlcanon.nn as N
import mlcanon.nn.functional as F

D = torch.float64


def r(*shape, dtype=D):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(len(shape)), dtype=dtype)


def run(fn, args):
    """(output, gradients of its sum with respect to every floating-point input) or the error."""
    args = [a.clone().requires_grad_(True) if torch.is_tensor(a) else a for a in args]
    try:
        out = fn(*args)
    except Exception as exc:
        return exc
    out = out[0] if isinstance(out, tuple) else out
    inputs = [a for a in args if torch.is_tensor(a)]
    grads = torch.autograd.grad(out.sum(), inputs, allow_unused=True, materialize_grads=True)
    return out.detach(), grads


def assert_like_torch(ours, theirs, args, words=None):
    got, want = run(ours, args), run(theirs, args)
    if isinstance(want, Exception):
        assert isinstance(got, type(want)), (got, want)
        if words is not None:
            assert words in str(got), str(got)
        return
    assert not isinstance(got, Exception), got
    (y, grads), (y_ref, grads_ref) = got, want
    assert y.shape == y_ref.shape and y.dtype == y_ref.dtype
    torch.testing.assert_close(y, y_ref, equal_nan=True)
    for g, g_ref in zip(grads, grads_ref, strict=True):
        assert g.shape == g_ref.shape
        torch.testing.assert_close(g, g_ref)


def both(name, *extra, **kw):
    """(ours, torch's) functional op ``name``; ``extra`` and ``kw`` follow the tensors."""
    return (
        lambda *a: getattr(F, name)(*a, *extra, **kw),
        lambda *a: getattr(TF, name)(*a, *extra, **kw),
    )


def both_fn(call):
    """(ours, torch's) ``call(module, *tensors)`` with ``module`` our functional or torch's."""
    return (lambda *a: call(F, *a)), (lambda *a: call(TF, *a))


EMPTY_OPS = {
    "conv2d, 0 samples": (both("conv2d"), [r(0, 3, 5, 5), r(4, 3, 3, 3)]),
    "conv2d, 0 samples, stride and padding": (
        both("conv2d", stride=2, padding=1),
        [r(0, 3, 5, 5), r(4, 3, 3, 3), r(4)],
    ),
    "conv2d, 0 input channels": (both("conv2d"), [r(2, 0, 5, 5), r(4, 0, 3, 3)]),
    "conv2d, 0 input channels, bias": (both("conv2d"), [r(2, 0, 5, 5), r(4, 0, 3, 3), r(4)]),
    "conv_transpose2d, 0 samples": (both("conv_transpose2d"), [r(0, 3, 5, 5), r(3, 4, 3, 3)]),
    "conv_transpose2d, 0 samples, groups": (
        both("conv_transpose2d", groups=3, stride=2),
        [r(0, 3, 5, 5), r(3, 2, 3, 3)],
    ),
    "conv1d, 0 samples, stride and padding": (
        both("conv1d", stride=2, padding=1),
        [r(0, 3, 5), r(4, 3, 3), r(4)],
    ),
    "conv1d, 0 input channels": (both("conv1d"), [r(2, 0, 5), r(4, 0, 3), r(4)]),
    "conv_transpose1d, 0 samples, any output_padding": (
        both("conv_transpose1d", stride=2, output_padding=3),
        [r(0, 3, 5), r(3, 4, 3)],
    ),
    "max_pool1d, 0 samples": (both("max_pool1d", 2), [r(0, 3, 4)]),
    "avg_pool1d, 0 samples": (both("avg_pool1d", 2), [r(0, 3, 4)]),
    "adaptive_avg_pool1d, 0 samples": (both("adaptive_avg_pool1d", 2), [r(0, 3, 4)]),
    "group_norm, 0 samples": (
        both_fn(lambda M, x, w, b: M.group_norm(x, 2, w, b)),
        [r(0, 4, 3, 3), r(4), r(4)],
    ),
    "group_norm, 0 positions": (both("group_norm", 2), [r(2, 4, 0, 3)]),
    "layer_norm, 0 rows": (
        both_fn(lambda M, x, w, b: M.layer_norm(x, (5,), w, b)),
        [r(0, 5), r(5), r(5)],
    ),
    "layer_norm, 0 features": (both("layer_norm", (0,)), [r(3, 0)]),
    "instance_norm, 0 samples": (both("instance_norm"), [r(0, 3, 4, 4)]),
    "instance_norm, 0 positions": (both("instance_norm"), [r(2, 3, 0, 3)]),
    "batch_norm training, 0 samples": (
        both("batch_norm", None, None, training=True),
        [r(0, 3, 4, 4)],
    ),
    "batch_norm eval, 0 samples": (
        both("batch_norm", torch.zeros(3, dtype=D), torch.ones(3, dtype=D)),
        [r(0, 3, 4, 4)],
    ),
    "max_pool2d, 0 samples": (both("max_pool2d", 2), [r(0, 3, 4, 4)]),
    "avg_pool2d, 0 samples": (both("avg_pool2d", 2), [r(0, 3, 4, 4)]),
    "adaptive_avg_pool2d, 0 samples": (both("adaptive_avg_pool2d", 2), [r(0, 3, 4, 4)]),
    "softmax over 0 classes": (both("softmax", 1), [r(2, 0)]),
    "softmax of 0 rows": (both("softmax", 1), [r(0, 3)]),
    "log_softmax over 0 classes": (both("log_softmax", 1), [r(2, 0)]),
    "attention with 0 keys": (
        both("scaled_dot_product_attention"),
        [r(2, 3, 4), r(2, 0, 4), r(2, 0, 4)],
    ),
    "attention with 0 keys, batched heads": (
        both("scaled_dot_product_attention"),
        [r(2, 2, 3, 4), r(2, 2, 0, 4), r(2, 2, 0, 5)],
    ),
    "attention with 0 queries": (
        both("scaled_dot_product_attention"),
        [r(2, 0, 4), r(2, 5, 4), r(2, 5, 4)],
    ),
    "linear, 0 samples": (both("linear"), [r(0, 3), r(4, 3)]),
    "linear, 0 inputs": (both("linear"), [r(2, 0), r(3, 0), r(3)]),
    "relu, empty": (both("relu"), [r(0, 3)]),
    "mse_loss, empty": (both("mse_loss"), [r(0), r(0)]),
}


@pytest.mark.parametrize("case", EMPTY_OPS, ids=str)
def test_empty_input_follows_torch(case):
    (ours, theirs), args = EMPTY_OPS[case]
    assert_like_torch(ours, theirs, args)


@pytest.mark.parametrize(
    ("case", "args", "words"),
    [
        ("conv2d", [r(2, 3, 5, 5), r(0, 3, 3, 3)], "at least 1 entry at dimension 0"),
        ("conv2d", [r(2, 3, 0, 5), r(4, 3, 1, 1)], "larger than the padded input (0, 5)"),
        ("conv_transpose2d", [r(2, 0, 5, 5), r(0, 4, 3, 3)], "at least 1 entry at dimension 0"),
        ("max_pool2d", [r(2, 0, 4, 4), 2], "only the batch dimension"),
        ("max_pool2d", [r(2, 3, 0, 4), 1], "only the batch dimension"),
        ("avg_pool2d", [r(2, 3, 0, 4), 1], "got shape (2, 3, 0, 4)"),
        ("adaptive_avg_pool2d", [r(2, 3, 0, 4), 2], "non-zero height and width"),
    ],
)
def test_empty_input_torch_refuses_is_refused(case, args, words):
    got = run(getattr(F, case), args)
    assert isinstance(run(getattr(TF, case), args), RuntimeError)
    assert isinstance(got, RuntimeError) and isinstance(got, ValueError), got
    assert words in str(got)


RECURRENT = ["RNN", "LSTM", "GRU"]


def modules(name, **kw):
    torch.manual_seed(0)
    ours = getattr(N, name)(3, 4, **kw).double()
    torch.manual_seed(0)
    theirs = getattr(tnn, name)(3, 4, **kw).double()
    return ours, theirs


@pytest.mark.parametrize("name", RECURRENT)
@pytest.mark.parametrize(
    ("kw", "shape"),
    [
        ({}, (5, 0, 3)),
        ({"batch_first": True}, (0, 5, 3)),
        ({"num_layers": 2, "bidirectional": True}, (5, 0, 3)),
    ],
)
@pytest.mark.parametrize("part", ["output", "final state"])
def test_recurrent_empty_batch_follows_torch(name, kw, shape, part):
    ours, theirs = modules(name, **kw)

    def pick(out):
        if part == "output":
            return out[0]
        return out[1][0] if name == "LSTM" else out[1]

    assert_like_torch(lambda x: pick(ours(x)), lambda x: pick(theirs(x)), [r(*shape)])


@pytest.mark.parametrize("name", RECURRENT)
@pytest.mark.parametrize("shape", [(0, 2, 3), (0, 3)])
def test_recurrent_empty_sequence_is_refused_as_torch(name, shape):
    ours, theirs = modules(name)
    assert_like_torch(ours, theirs, [r(*shape)], words="sequence length to be larger than 0")


@pytest.mark.parametrize("name", RECURRENT)
def test_recurrent_dtype_mismatch_names_both(name):
    torch.manual_seed(0)
    ours, theirs = getattr(N, name)(3, 4), getattr(tnn, name)(3, 4)  # float32 weights
    words = "input has dtype torch.float64 on cpu but its weights have dtype torch.float32"
    assert_like_torch(ours, theirs, [r(5, 2, 3)], words=words)
    h0 = r(1, 2, 4)
    words = f"{name}: input has dtype torch.float32 .* hx has dtype torch.float64"
    with pytest.raises(ValueError, match=words):
        ours(r(5, 2, 3, dtype=torch.float32), (h0, h0) if name == "LSTM" else h0)


MIXED = {
    "Conv2d": (lambda: (N.Conv2d(3, 4, 3), tnn.Conv2d(3, 4, 3)), (1, 3, 5, 5), "conv2d"),
    "ConvTranspose2d": (
        lambda: (N.ConvTranspose2d(3, 4, 3), tnn.ConvTranspose2d(3, 4, 3)),
        (1, 3, 5, 5),
        "conv_transpose2d",
    ),
    "Linear": (lambda: (N.Linear(3, 4), tnn.Linear(3, 4)), (2, 3), "linear"),
    "GroupNorm": (lambda: (N.GroupNorm(2, 4), tnn.GroupNorm(2, 4)), (2, 4, 3, 3), "group_norm"),
    "BatchNorm2d": (lambda: (N.BatchNorm2d(4), tnn.BatchNorm2d(4)), (2, 4, 3, 3), "batch_norm"),
    "LayerNorm": (lambda: (N.LayerNorm(4), tnn.LayerNorm(4)), (2, 4), "layer_norm"),
    "InstanceNorm2d": (
        lambda: (N.InstanceNorm2d(4, affine=True), tnn.InstanceNorm2d(4, affine=True)),
        (2, 4, 3, 3),
        "instance_norm",
    ),
}


@pytest.mark.parametrize("name", MIXED)
def test_float64_input_to_float32_module_names_both_dtypes(name):
    make, shape, op = MIXED[name]
    torch.manual_seed(0)
    ours, theirs = make()
    words = f"{op}: input has dtype torch.float64 on cpu but weight has dtype torch.float32"
    assert_like_torch(ours, theirs, [r(*shape)], words=words)


def test_multihead_attention_mixed_dtype_and_empty_input():
    torch.manual_seed(0)
    ours, theirs = N.MultiheadAttention(4, 2), tnn.MultiheadAttention(4, 2)
    x = r(3, 2, 4)
    assert_like_torch(lambda x: ours(x, x, x)[0], lambda x: theirs(x, x, x)[0], [x], words="dtype")
    ours, theirs = ours.double(), theirs.double()
    for q, kv in ((r(3, 0, 4), r(3, 0, 4)), (r(3, 2, 4), r(0, 2, 4))):  # 0 samples, 0 keys
        assert_like_torch(
            lambda q, kv: ours(q, kv, kv)[0], lambda q, kv: theirs(q, kv, kv)[0], [q, kv]
        )


@pytest.mark.parametrize(
    ("op", "args", "words"),
    [
        (
            "scaled_dot_product_attention",
            [r(2, 3, 4), r(2, 3, 4, dtype=torch.float32), r(2, 3, 4)],
            "key has dtype torch.float32",
        ),
        (
            "batch_norm",
            [r(2, 3, 4), torch.zeros(3), torch.ones(3)],
            "running_mean has dtype torch.float32",
        ),
        ("conv2d", [r(1, 3, 5, 5), r(4, 3, 3, 3), torch.zeros(4)], "bias has dtype torch.float32"),
    ],
)
def test_mixed_dtype_arguments_name_both(op, args, words):
    assert_like_torch(getattr(F, op), getattr(TF, op), args, words=words)
    assert "input has dtype torch.float64" in str(run(getattr(F, op), args))


def test_device_mismatch_is_named():
    x = torch.randn(2, 3, device="meta")
    with pytest.raises(
        RuntimeError, match=r"input has dtype torch\.float32 on meta but weight has"
    ):
        F.linear(x, torch.randn(4, 3))


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda x: F.conv2d(x, r(2, 2, 3, 3), stride=1.5), "stride .* got float 1.5"),
        (lambda x: F.max_pool2d(x, 2.0), "kernel_size .* got float 2.0"),
        (lambda x: F.avg_pool2d(x, 2, padding=None), "padding .* got NoneType None"),
        (lambda x: N.MaxPool2d(2.0)(x), "kernel_size .* got float 2.0"),
        (lambda x: N.Conv2d(2, 2, 3.0), "kernel_size .* got float 3.0"),
        (
            lambda x: N.ConvTranspose2d(2, 2, 3, stride=(2.0, 1)),
            "stride must be Integral, got float",
        ),
    ],
)
def test_a_float_size_argument_is_a_type_error_naming_it(call, words):
    # torch refuses these as TypeErrors too ("must be tuple of ints, not float")
    with pytest.raises(TypeError, match=words):
        call(r(1, 2, 6, 6))
