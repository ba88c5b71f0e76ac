"""1-D convolution, transposed convolution and pooling (functional and modules) against torch.

Random configurations (seeded): float64 values and gradients within 1e-12, float32 within 2e-6
(measured at most 4.4e-7); the modules' attributes, state_dict and printout as torch's; bad
arguments named as given.
"""

import random
from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as TF
from torch.func import functional_call

import mlcanon.nn as nn
import mlcanon.nn.functional as F

SEEDS = range(40)


def _size(r: random.Random):
    """An int or a 1-tuple, as users write either."""
    return lambda v: (v,) if r.random() < 0.3 else v


def _assert_like_torch(ours, theirs, tensors, dtype):
    """Same values, and the same gradients of a random contraction of the first output with
    respect to every tensor, in ``dtype`` (float64: 1e-12; float32: 2e-6)."""
    tol = 1e-12 if dtype == torch.float64 else 2e-6
    results = []
    for fn in (ours, theirs):
        leaves = [t.detach().to(dtype).requires_grad_() for t in tensors]
        out = fn(*leaves)
        y = out[0] if isinstance(out, tuple) else out
        up = torch.randn(y.shape, generator=torch.Generator().manual_seed(5), dtype=dtype)
        results.append((out, torch.autograd.grad(y, leaves, up)))
    (out, grads), (ref, ref_grads) = results
    for a, b in zip(*((o if isinstance(o, tuple) else (o,)) for o in (out, ref)), strict=True):
        assert a.shape == b.shape and a.dtype == b.dtype
        torch.testing.assert_close(a, b, rtol=tol, atol=tol)
    for a, b in zip(grads, ref_grads, strict=True):
        torch.testing.assert_close(a, b, rtol=tol, atol=tol)


def _signal(r: random.Random, c: int, length: int):
    """(N, C, L) or, a quarter of the time, an unbatched (C, L) signal."""
    x = torch.randn(r.randint(1, 3), c, length, dtype=torch.float64)
    return x[0] if r.random() < 0.25 else x


def _conv1d_case(seed):
    r = random.Random(seed)
    torch.manual_seed(seed)
    size, g, cg, og = _size(r), r.randint(1, 3), r.randint(1, 3), r.randint(1, 3)
    k, s, d = r.randint(1, 5), r.randint(1, 3), r.randint(1, 3)
    padding = r.choice([0, 1, 2, (1,), "valid", "same"])
    s = 1 if padding == "same" else s
    pad = {"valid": 0, "same": d * (k - 1)}.get(padding, padding)
    pad = pad[0] if isinstance(pad, tuple) else pad
    x = _signal(r, cg * g, max(1, d * (k - 1) + 1 - 2 * pad) + r.randint(0, 8))
    tensors = [x, torch.randn(og * g, cg, k, dtype=torch.float64)]
    tensors += [torch.randn(og * g, dtype=torch.float64)] * (r.random() < 0.7)
    args = (size(s), padding, size(d), g)
    return tensors, args


@pytest.mark.filterwarnings("ignore:Using padding=.same. with even kernel lengths:UserWarning")
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("seed", SEEDS)
def test_conv1d_random_configurations_match_torch(seed, dtype):
    tensors, args = _conv1d_case(seed)

    def call(fn):
        return lambda x, w, b=None: fn(x, w, b, *args)

    _assert_like_torch(call(F.conv1d), call(TF.conv1d), tensors, dtype)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("seed", SEEDS)
def test_conv_transpose1d_random_configurations_match_torch(seed, dtype):
    r = random.Random(seed)
    torch.manual_seed(seed)
    size, g, cg, og = _size(r), r.randint(1, 3), r.randint(1, 3), r.randint(1, 3)
    k, s, d = r.randint(1, 4), r.randint(1, 3), r.randint(1, 3)
    x = _signal(r, cg * g, r.randint(1, 7))
    out_pad = r.randint(0, max(s, d) - 1)
    full = (x.shape[-1] - 1) * s + d * (k - 1) + out_pad + 1
    pad = r.randint(0, (full - 1) // 2)  # at least one output position left
    tensors = [x, torch.randn(cg * g, og, k, dtype=torch.float64)]
    tensors += [torch.randn(og * g, dtype=torch.float64)] * (r.random() < 0.7)
    args = (size(s), size(pad), size(out_pad), g, size(d))

    def call(fn):
        return lambda x, w, b=None: fn(x, w, b, *args)

    _assert_like_torch(call(F.conv_transpose1d), call(TF.conv_transpose1d), tensors, dtype)


def _pool_case(seed, dilated):
    """A signal and pooling options (dilation if ``dilated``) whose windows fit the padded
    signal; ``ceil_mode`` may add a last, overhanging one."""
    r = random.Random(seed)
    torch.manual_seed(seed)
    size, k = _size(r), r.randint(1, 5)
    s, p, d = r.choice([None, 1, 2, 3]), r.randint(0, k // 2), r.randint(1, 3) if dilated else 1
    x = _signal(r, r.randint(1, 3), max(1, d * (k - 1) + 1 - 2 * p) + r.randint(0, 8))
    kw = dict(kernel_size=size(k), stride=None if s is None else size(s), padding=size(p))
    kw |= dict(dilation=size(d)) if dilated else {}
    return x, r, kw | dict(ceil_mode=r.random() < 0.5)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("seed", SEEDS)
def test_max_pool1d_random_configurations_match_torch(seed, dtype):
    x, r, kw = _pool_case(seed, dilated=True)
    kw["return_indices"] = r.random() < 0.5
    if TF.max_pool1d(x, **kw | {"return_indices": False}).isinf().any():
        # a dilated window that steps over the input sees only padding: torch's backward adds
        # its gradient outside the window (into another channel), so only the values and the
        # indices compare (see max_pool2d)
        pairs = (fn(x, **kw | {"return_indices": True}) for fn in (F.max_pool1d, TF.max_pool1d))
        assert all(map(torch.equal, *pairs))
        return
    _assert_like_torch(
        lambda t: F.max_pool1d(t, **kw), lambda t: TF.max_pool1d(t, **kw), [x], dtype
    )


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("seed", SEEDS)
def test_avg_pool1d_random_configurations_match_torch(seed, dtype):
    x, r, kw = _pool_case(seed, dilated=False)
    kw["count_include_pad"] = r.random() < 0.5
    _assert_like_torch(
        lambda t: F.avg_pool1d(t, **kw), lambda t: TF.avg_pool1d(t, **kw), [x], dtype
    )


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("seed", SEEDS)
def test_adaptive_avg_pool1d_random_configurations_match_torch(seed, dtype):
    r = random.Random(seed)
    torch.manual_seed(seed)
    x, out = _signal(r, r.randint(1, 3), r.randint(1, 12)), _size(r)(r.randint(1, 15))
    _assert_like_torch(
        lambda t: F.adaptive_avg_pool1d(t, out),
        lambda t: TF.adaptive_avg_pool1d(t, out),
        [x],
        dtype,
    )


NAN, INF = float("nan"), float("inf")


@pytest.mark.parametrize(
    "row",
    [[NAN, 1.0, NAN, 2.0], [INF, NAN, INF, 1.0], [1.0, INF, INF, 2.0], [-INF] * 5,
     [-INF, 1.0, -INF, NAN, -INF, NAN]],
)  # fmt: skip
@pytest.mark.parametrize(
    "kw",
    [dict(kernel_size=2), dict(kernel_size=3, stride=1), dict(kernel_size=3, stride=2, padding=1),
     dict(kernel_size=3, stride=2, padding=1, dilation=2)],
)  # fmt: skip
def test_max_pool1d_nan_and_infinite_winner_as_torch(row, kw):
    """torch's winner (last NaN, first of equal maxima, first input tap of a -inf window) for
    the values, the indices and the gradient."""
    x = torch.tensor(row, dtype=torch.float64).expand(2, 3, -1)
    got = []
    for fn in (F.max_pool1d, TF.max_pool1d):
        leaf = x.clone().requires_grad_()
        y, idx = fn(leaf, return_indices=True, **kw)
        y.backward(torch.arange(1.0, y.numel() + 1, dtype=y.dtype).reshape(y.shape))
        got.append((y.detach(), idx, leaf.grad))
    for a, b in zip(*got, strict=True):
        torch.testing.assert_close(a, b, equal_nan=True, rtol=0, atol=0)


def _attributes(m):
    return {k: v for k, v in vars(m).items() if not k.startswith("_")}


def _assert_module_like_torch(cls, args, kwargs, x, dtype=torch.float64):
    """Our module and torch's, built from the same seed: the same printout, attributes and
    state_dict (torch's initial draws), then the same values and gradients (input and
    parameters)."""
    torch.manual_seed(0)
    ref = getattr(torch.nn, cls)(*args, **kwargs)
    torch.manual_seed(0)
    ours = getattr(nn, cls)(*args, **kwargs)
    assert repr(ours) == repr(ref)
    assert _attributes(ours) == _attributes(ref)
    state, ref_state = ours.state_dict(), ref.state_dict()
    assert list(state) == list(ref_state)
    assert all(torch.equal(state[k], t) for k, t in ref_state.items())
    names = list(dict(ref.named_parameters()))

    def call(m):
        return lambda x, *ps: functional_call(m, dict(zip(names, ps, strict=True)), (x,))

    _assert_like_torch(call(ours), call(ref), [x, *ref.parameters()], dtype)


MODULES = [
    ("Conv1d", (4, 6, 3), {}),
    (
        "Conv1d",
        (4, 6, (2,)),
        {"stride": 2, "padding": 1, "dilation": 2, "groups": 2, "bias": False},
    ),
    ("Conv1d", (4, 6, 4), {"padding": "same", "padding_mode": "reflect", "dilation": 2}),
    ("Conv1d", (4, 4, 3), {"padding": 2, "padding_mode": "circular", "groups": 4}),
    ("Conv1d", (4, 6, 3), {"padding": (1,), "padding_mode": "replicate", "stride": 3}),
    ("Conv1d", (4, 6, 3), {"padding": "valid", "padding_mode": "reflect"}),
    ("ConvTranspose1d", (4, 6, 3), {}),
    (
        "ConvTranspose1d",
        (4, 6, 3),
        {"stride": 2, "padding": 1, "output_padding": 1, "groups": 2, "dilation": 2, "bias": False},
    ),
    ("MaxPool1d", (3,), {}),
    ("MaxPool1d", ((3,),), {"stride": 2, "padding": 1, "dilation": 2, "ceil_mode": True}),
    ("MaxPool1d", (2,), {"return_indices": True}),
    ("AvgPool1d", (3,), {}),
    ("AvgPool1d", (3, 2, 1), {"ceil_mode": True, "count_include_pad": False}),
    ("AdaptiveAvgPool1d", (4,), {}),
    ("AdaptiveAvgPool1d", ((3,),), {}),
]


@pytest.mark.filterwarnings("ignore:Using padding=.same. with even kernel lengths:UserWarning")
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("unbatched", [False, True])
@pytest.mark.parametrize(("cls", "args", "kwargs"), MODULES, ids=lambda v: repr(v)[:40])
def test_modules_as_torch(cls, args, kwargs, unbatched, dtype):
    x = torch.randn(2, 4, 11, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    _assert_module_like_torch(cls, args, kwargs, x[0] if unbatched else x, dtype)


@pytest.mark.filterwarnings("ignore:Using padding=.same. with even kernel lengths:UserWarning")
@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("seed", range(10))
def test_conv1d_module_random_configurations_with_padding_modes(mode, seed):
    r = random.Random(seed)
    g, k, d = r.randint(1, 2), r.randint(1, 4), r.randint(1, 2)
    padding = r.choice([0, 1, (2,), "same", "valid"])
    s = 1 if padding == "same" else r.randint(1, 2)
    options = dict(stride=s, padding=padding, dilation=d, groups=g, bias=r.random() < 0.7)
    x = _signal(r, 2 * g, d * (k - 1) + 3 + r.randint(0, 5))
    _assert_module_like_torch("Conv1d", (2 * g, 3 * g, k), options | {"padding_mode": mode}, x)


@pytest.mark.parametrize("unbatched", [False, True])
def test_conv_transpose1d_output_size_picks_the_output_padding_as_torch(unbatched):
    torch.manual_seed(0)
    ref = torch.nn.ConvTranspose1d(4, 2, 3, stride=3, padding=1, dilation=2).double()
    ours = nn.ConvTranspose1d(4, 2, 3, stride=3, padding=1, dilation=2).double()
    ours.load_state_dict(ref.state_dict())
    x = torch.randn(2, 4, 5, dtype=torch.float64)
    x = x[0] if unbatched else x
    for size in (15, 16, 17):  # every length torch accepts for this input
        for given in ((size,), [*x.shape[:-1], size], torch.Size([size])):
            torch.testing.assert_close(ours(x, output_size=given), ref(x, output_size=given))
    for size in (14, 18):
        with pytest.raises(ValueError, match="valid sizes range"):
            ref(x, output_size=(size,))
        with pytest.raises(
            ValueError, match=r"output_size=\(\d+,\) cannot be reached: valid sizes range from "
            r"\(15,\) to \(17,\)"
        ):  # fmt: skip
            ours(x, output_size=(size,))
    with pytest.raises(ValueError, match="output_size must have 1 or"):
        ref(x, output_size=(2, 4, 5, 15))
    with pytest.raises(ValueError, match=r"output_size must hold 1 int \(L\)"):
        ours(x, output_size=(2, 4, 5, 15))


@pytest.mark.parametrize(
    ("cls", "args"),
    [("Conv2d", (2, 4, 3)), ("ConvTranspose2d", (2, 4, (2, 3))), ("Conv1d", (2, 4, 3)),
     ("ConvTranspose1d", (2, 4, 3))],
)  # fmt: skip
def test_convolutions_have_torchs_transposed_and_output_padding(cls, args):
    """Conv2d had neither ``transposed`` nor ``output_padding``, ConvTranspose2d no
    ``transposed``, where torch's have them (False / True, zeros for a convolution)."""
    kwargs = {"output_padding": 1, "stride": 2} if "Transpose" in cls else {"padding": 1}
    ours, ref = getattr(nn, cls)(*args, **kwargs), getattr(torch.nn, cls)(*args, **kwargs)
    assert (ours.transposed, ours.output_padding) == (ref.transposed, ref.output_padding)
    assert _attributes(ours) == _attributes(ref)


def _x(*shape):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(0), dtype=torch.float64)


W = _x(4, 3, 3)
ERRORS = [
    # (call with M = our functional or torch's, error type, our message)
    (lambda M: M.conv1d(_x(2, 3, 4, 5), W), ValueError,
     "input must be 2-D or 3-D for conv1d, (C, L) unbatched or (N, C, L); got shape (2, 3, 4, 5)"),
    (lambda M: M.conv1d(_x(5), W), ValueError, "input must be 2-D or 3-D for conv1d"),
    (lambda M: M.conv_transpose1d(_x(2, 4, 3, 5), W), ValueError,
     "input must be 2-D or 3-D for conv_transpose1d"),
    (lambda M: M.max_pool1d(_x(2, 3, 4, 5), 2), ValueError,
     "input must be 2-D or 3-D for max_pool1d"),
    (lambda M: M.avg_pool1d(_x(5), 2), ValueError, "input must be 2-D or 3-D for avg_pool1d"),
    (lambda M: M.adaptive_avg_pool1d(_x(2, 3, 4, 5), 2), ValueError,
     "input must be 2-D or 3-D for adaptive_avg_pool1d"),
    (lambda M: M.conv1d(_x(2, 3, 5), _x(4, 3, 3, 3)), ValueError, "weight must be 3-D"),
    (lambda M: M.conv1d(_x(2, 3, 5), W, stride=(1, 1)), ValueError,
     "stride must be an int or a 1-tuple of ints, got (1, 1)"),
    (lambda M: M.conv1d(_x(2, 3, 5), W, stride=0), ValueError, "stride must be >= 1, got 0"),
    (lambda M: M.conv1d(_x(2, 3, 5), W, dilation=1.5), TypeError,
     "dilation must be an int or a 1-tuple of ints, got float 1.5"),
    (lambda M: M.conv1d(_x(2, 3, 5), W, padding=-1), ValueError, "padding must be >= 0, got -1"),
    (lambda M: M.conv1d(_x(2, 3, 5), W, padding="full"), ValueError,
     "padding must be an int, a 1-tuple, 'valid' or 'same'; got 'full'"),
    (lambda M: M.conv1d(_x(2, 3, 5), W, stride=2, padding="same"), ValueError,
     "padding='same' needs stride 1, got stride=(2,)"),
    (lambda M: M.conv1d(_x(2, 3, 2), W), ValueError,
     "kernel size (3,) with dilation (1,) spans (3,), larger than the padded input (2,)"),
    (lambda M: M.conv1d(_x(2, 3, 0), _x(4, 3, 1)), ValueError, "padded input (0,)"),
    (lambda M: M.conv1d(_x(2, 4, 5), W, groups=3), ValueError,
     "in_channels=4 must be divisible by groups=3"),
    (lambda M: M.conv_transpose1d(_x(2, 3, 5), _x(3, 2, 3), stride=2, output_padding=2),
     ValueError, "output_padding=(2,) must be smaller than stride=(2,) or dilation=(1,)"),
    (lambda M: M.conv_transpose1d(_x(2, 3, 0), _x(3, 2, 3)), ValueError,
     "conv_transpose1d: the input must have non-zero length (only the batch and channel "
     "dimensions may be empty), got shape (2, 3, 0)"),
    (lambda M: M.max_pool1d(_x(2, 3, 5), (2, 2)), ValueError,
     "kernel_size must be an int or a 1-tuple of ints, got (2, 2)"),
    (lambda M: M.max_pool1d(_x(2, 3, 5), 2.0), TypeError, "kernel_size must be an int or a 1-"),
    (lambda M: M.max_pool1d(_x(2, 3, 5), 0), ValueError, "kernel_size must be >= 1, got 0"),
    (lambda M: M.max_pool1d(_x(2, 3, 5), 2, padding=2), ValueError,
     "padding=(2,) must be at most half of kernel_size=(2,)"),
    (lambda M: M.max_pool1d(_x(2, 0, 5), 2), ValueError,
     "max_pool1d: the input must have non-zero channels and length (only the batch dimension"),
    (lambda M: M.avg_pool1d(_x(2, 3, 5), (7,)), ValueError,
     "kernel_size=(7,) (dilation (1,)) is larger than the padded input (5,)"),
    (lambda M: M.avg_pool1d(_x(2, 3, 5), 2, stride=(1, 2)), ValueError,
     "stride must be an int or a 1-tuple of ints, got (1, 2)"),
    (lambda M: M.adaptive_avg_pool1d(_x(2, 3, 5), (2, 2)), ValueError,
     "output_size must be an int or a 1-tuple, got (2, 2)"),
    (lambda M: M.adaptive_avg_pool1d(_x(2, 3, 5), (None,)), ValueError,
     "output_size must hold a positive int, got (None,)"),
    (lambda M: M.adaptive_avg_pool1d(_x(2, 3, 0), 2), ValueError,
     "adaptive_avg_pool1d: the input must have non-zero length"),
    (lambda M: M.Conv1d(3, 4, 3, padding=4, padding_mode="reflect")(_x(2, 3, 4)), ValueError,
     "the left padding 4 must be less than the input's size 4 along that axis (input shape "
     "(2, 3, 4))"),
    (lambda M: M.Conv1d(3, 4, 3, padding=1, padding_mode="circular")(_x(2, 3, 0)), ValueError,
     "padding_mode='circular' needs a non-empty length, got shape (2, 3, 0)"),
    (lambda M: M.ConvTranspose1d(3, 4, 3, padding_mode="reflect")(_x(2, 3, 5)), ValueError,
     "ConvTranspose1d supports only padding_mode='zeros'"),
    (lambda M: M.Conv1d(3, 4, (3, 3))(_x(2, 3, 5)), ValueError,
     "kernel_size must be an int or a 1-tuple of ints, got (3, 3)"),
    (lambda M: M.MaxPool1d(2, stride=(1, 1))(_x(2, 3, 5)), ValueError,
     "stride must be an int or a 1-tuple of ints, got (1, 1)"),
]  # fmt: skip


def _library(functional, modules):
    """A library's functional ops and module classes under one name (M.conv1d, M.Conv1d)."""
    classes = {k: v for k, v in vars(modules).items() if k[:1].isupper()}
    return SimpleNamespace(**{**vars(functional), **classes})


@pytest.mark.parametrize(("call", "error", "words"), ERRORS, ids=[e[2][:50] for e in ERRORS])
def test_bad_arguments_are_refused_as_torch_and_named_as_given(call, error, words):
    with pytest.raises(Exception):  # noqa: B017 - torch refuses too, in its own words
        call(_library(TF, torch.nn))
    with pytest.raises(error) as info:
        call(_library(F, nn))
    assert words in str(info.value)
