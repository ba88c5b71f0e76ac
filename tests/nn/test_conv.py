"""conv2d and conv_transpose2d against torch (float64 forward 1e-10, gradients 1e-8)."""

import itertools
from unittest import mock

import pytest
import torch
import torch.nn.functional as TF
from hypothesis import given, settings
from hypothesis import strategies as st

import mlcanon.nn.functional as F

# (N, C, H, W, O, kernel, stride, padding, dilation, groups, bias)
CONV = [
    (2, 3, 7, 9, 4, 3, 1, 1, 1, 1, True),  # odd, non-square
    (1, 4, 8, 5, 6, (2, 3), 2, (1, 0), 1, 2, True),  # batch 1, grouped, rectangular kernel
    (2, 4, 9, 7, 4, 3, (2, 1), 2, (2, 1), 4, False),  # depthwise, dilated, no bias
    (3, 6, 5, 6, 9, 1, 1, 0, 1, 3, True),  # 1x1, grouped
    (2, 2, 7, 6, 3, (3, 4), 1, "same", (2, 1), 1, True),  # 'same' with an odd total padding
    (1, 3, 6, 8, 2, (3, 5), 1, "valid", 1, 1, True),
    (3, 5, 8, 7, 5, 3, 2, 1, 1, 5, True),  # depthwise, strided, with bias (MobileNet's)
    (2, 6, 5, 4, 3, 1, 1, 0, 1, 1, False),  # pointwise, few positions: one product for the batch
    (2, 3, 10, 9, 5, 1, 1, 0, 1, 1, True),  # pointwise, 90 positions: a product per sample
    (2, 4, 7, 8, 3, 1, 2, 0, 1, 1, True),  # pointwise, strided
    (2, 4, 11, 9, 3, 1, (3, 2), 0, 1, 1, True),  # pointwise, strided, a product per sample
    (2, 3, 5, 5, 4, 1, 1, 1, 1, 1, True),  # 1x1 with padding: the im2col route
    (2, 4, 11, 10, 4, 3, 3, (2, 1), 2, 4, True),  # depthwise, stride 3, dilated
    (2, 3, 6, 7, 3, (2, 3), 1, "same", 1, 3, True),  # depthwise, odd total padding
    (2, 3, 9, 8, 3, (4, 2), (2, 3), (0, 1), (1, 2), 3, True),  # depthwise, mixed geometry
    (1, 2, 6, 6, 4, 3, 2, 1, 1, 2, True),  # two filters per channel: the grouped im2col route
]


@pytest.mark.filterwarnings("ignore:Using padding=.same. with even kernel lengths:UserWarning")
@pytest.mark.parametrize("case", CONV, ids=[str(i) for i in range(len(CONV))])
def test_conv2d_matches_torch(check_op, rand, case):
    n, c, h, w, o, k, s, p, d, g, bias = case
    kh, kw = (k, k) if isinstance(k, int) else k
    inputs = [rand(n, c, h, w), rand(o, c // g, kh, kw, seed=1), rand(o, seed=2)]

    def make(fn):
        return lambda x, wt, b: fn(x, wt, b if bias else None, s, p, d, g)

    check_op(make(F.conv2d), make(TF.conv2d), inputs, diff=[0, 1, 2] if bias else [0, 1])


# (N, C, H, W, O, kernel, stride, padding, output_padding, groups, dilation, bias)
CONV_T = [
    (2, 3, 5, 4, 4, 3, 2, 1, 1, 1, 1, True),
    (1, 4, 3, 6, 6, (2, 3), (3, 1), (0, 1), (2, 0), 2, 1, True),
    (2, 4, 4, 5, 4, 3, 1, 0, 0, 4, 2, False),  # depthwise, dilated
    (2, 2, 3, 3, 5, 2, 2, 1, 2, 1, 3, True),  # output_padding >= stride, allowed by dilation
]


@pytest.mark.parametrize("case", CONV_T, ids=[str(i) for i in range(len(CONV_T))])
def test_conv_transpose2d_matches_torch(check_op, rand, case):
    n, c, h, w, o, k, s, p, op, g, d, bias = case
    kh, kw = (k, k) if isinstance(k, int) else k
    inputs = [rand(n, c, h, w), rand(c, o // g, kh, kw, seed=1), rand(o, seed=2)]

    def make(fn):
        return lambda x, wt, b: fn(x, wt, b if bias else None, s, p, op, g, d)

    check_op(make(F.conv_transpose2d), make(TF.conv_transpose2d), inputs,
             diff=[0, 1, 2] if bias else [0, 1])  # fmt: skip


def test_unbatched_input(rand):
    x, w = rand(3, 6, 5), rand(2, 3, 3, 3)
    torch.testing.assert_close(F.conv2d(x, w, padding=1), TF.conv2d(x, w, padding=1))
    torch.testing.assert_close(
        F.conv_transpose2d(x, w.transpose(0, 1)), TF.conv_transpose2d(x, w.transpose(0, 1))
    )


def test_conv2d_by_hand():
    # a 2x2 kernel of ones sums each 2x2 window; the input gradient counts the windows
    x = torch.arange(9.0).reshape(1, 1, 3, 3).requires_grad_()
    y = F.conv2d(x, torch.ones(1, 1, 2, 2))
    assert torch.equal(y, torch.tensor([[[[8.0, 12.0], [20.0, 24.0]]]]))
    y.sum().backward()
    assert torch.equal(
        x.grad[0, 0], torch.tensor([[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]])
    )


def test_transposed_conv_is_the_adjoint_of_conv(rand):
    # <conv(x), y> = <x, conv_transpose(y)> for the same kernel, stride, padding
    x, w, y = rand(2, 3, 9, 8), rand(4, 3, 3, 3, seed=1), rand(2, 4, 5, 4, seed=2)
    lhs = (F.conv2d(x, w, stride=2, padding=1) * y).sum()
    rhs = (x * F.conv_transpose2d(y, w, stride=2, padding=1, output_padding=(0, 1))).sum()
    torch.testing.assert_close(lhs, rhs, rtol=1e-12, atol=1e-12)


@settings(max_examples=25)
@given(
    n=st.integers(1, 2), cg=st.integers(1, 3), og=st.integers(1, 3), g=st.integers(1, 3),
    h=st.integers(1, 9), w=st.integers(1, 9), k=st.tuples(st.integers(1, 4), st.integers(1, 4)),
    s=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    p=st.tuples(st.integers(0, 2), st.integers(0, 2)),
    d=st.tuples(st.integers(1, 2), st.integers(1, 2)),
)  # fmt: skip
def test_conv2d_any_geometry_matches_torch(n, cg, og, g, h, w, k, s, p, d):
    if any(
        dd * (kk - 1) + 1 > size + 2 * pp for dd, kk, size, pp in zip(d, k, (h, w), p, strict=True)
    ):
        with pytest.raises(ValueError, match="larger than the padded input"):
            F.conv2d(torch.zeros(n, cg * g, h, w), torch.zeros(og * g, cg, *k), None, s, p, d, g)
        return
    gen = torch.Generator().manual_seed(h * 100 + w)
    x = torch.randn(n, cg * g, h, w, generator=gen, dtype=torch.float64)
    wt = torch.randn(og * g, cg, *k, generator=gen, dtype=torch.float64)
    ours, ref = F.conv2d(x, wt, None, s, p, d, g), TF.conv2d(x, wt, None, s, p, d, g)
    assert ours.shape == ref.shape
    torch.testing.assert_close(ours, ref, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("route", ["depthwise", "pointwise per sample", "pointwise folded"])
@settings(max_examples=15, deadline=None)
@given(
    n=st.integers(1, 2), c=st.integers(1, 3), h=st.integers(1, 9), w=st.integers(1, 9),
    k=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    s=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    p=st.tuples(st.integers(0, 2), st.integers(0, 2)),
    d=st.tuples(st.integers(1, 2), st.integers(1, 2)),
)  # fmt: skip
def test_depthwise_and_pointwise_gradients_match_torch(route, n, c, h, w, k, s, p, d):
    # the special routes (groups = C = O; 1x1 with groups 1 and no padding) for any geometry
    from mlcanon.nn import _conv

    depthwise = route == "depthwise"
    if not depthwise:
        k, p, d = (1, 1), (0, 0), (1, 1)
    if any(
        dd * (kk - 1) + 1 > size + 2 * pp for dd, kk, size, pp in zip(d, k, (h, w), p, strict=True)
    ):
        return  # covered by test_conv2d_any_geometry_matches_torch
    gen = torch.Generator().manual_seed(h * 100 + w * 10 + c)
    o, cg = (c, 1) if depthwise else (c + 1, c)
    x = torch.randn(n, c, h, w, generator=gen, dtype=torch.float64)
    wt = torch.randn(o, cg, *k, generator=gen, dtype=torch.float64)
    b = torch.randn(o, generator=gen, dtype=torch.float64)
    groups = c if depthwise else 1
    fold_below = 0 if route == "pointwise per sample" else 10**9
    results = []
    for conv in (F.conv2d, TF.conv2d):
        leaves = [t.clone().requires_grad_() for t in (x, wt, b)]
        with mock.patch.object(_conv, "_FOLD_BELOW", fold_below):
            y = conv(*leaves, s, p, d, groups)
        y.backward(torch.linspace(-1, 1, y.numel(), dtype=y.dtype).view(y.shape))
        results.append([y.detach()] + [t.grad for t in leaves])
    for ours, ref in zip(*results, strict=True):
        torch.testing.assert_close(ours, ref, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize(
    ("c", "o", "k", "hw", "groups"),
    [(4, 4, 3, 5, 4), (3, 5, 1, 5, 1), (3, 5, 1, 9, 1)],
    ids=["depthwise", "pointwise folded", "pointwise per sample"],
)
def test_non_contiguous_input_and_weight_match_torch(c, o, k, hw, groups):
    # a channels-last input, a strided weight and a strided upstream gradient
    gen = torch.Generator().manual_seed(5)
    x = torch.randn(2, c, hw, hw, generator=gen, dtype=torch.float64)
    wt = torch.randn(o, c // groups, k, 2 * k, generator=gen, dtype=torch.float64)
    out = hw - k + 1
    g = torch.randn(out, out, o, 2, generator=gen, dtype=torch.float64).permute(3, 2, 1, 0)
    results = []
    for conv in (F.conv2d, TF.conv2d):
        leaves = [x.clone().requires_grad_(), wt.clone().requires_grad_()]
        xs, ws = leaves[0].to(memory_format=torch.channels_last), leaves[1][..., ::2]
        assert not xs.is_contiguous() and not ws.is_contiguous()
        y = conv(xs, ws, None, 1, 0, 1, groups)
        y.backward(g)
        results.append([y.detach(), *(t.grad for t in leaves)])
    for ours, ref in zip(*results, strict=True):
        torch.testing.assert_close(ours, ref, rtol=1e-10, atol=1e-10)


def test_bad_conv_arguments():
    x = torch.zeros(2, 6, 5, 5)
    with pytest.raises(ValueError, match="in_channels=6 must be divisible by groups=4"):
        F.conv2d(x, torch.zeros(4, 1, 3, 3), groups=4)
    with pytest.raises(
        ValueError, match=r"weight.shape\[1\]=2 times groups=2 must equal in_channels=6"
    ):
        F.conv2d(x, torch.zeros(4, 2, 3, 3), groups=2)
    with pytest.raises(ValueError, match="out_channels=5 must be divisible by groups=3"):
        F.conv2d(x, torch.zeros(5, 2, 3, 3), groups=3)
    with pytest.raises(
        ValueError, match=r"spans \(7, 7\), larger than the padded input \(7, 7\)|larger"
    ):
        F.conv2d(x, torch.zeros(1, 6, 4, 4), padding=0, dilation=3)
    with pytest.raises(ValueError, match="padding='same' needs stride 1, got stride=\\(2, 2\\)"):
        F.conv2d(x, torch.zeros(1, 6, 3, 3), stride=2, padding="same")
    with pytest.raises(
        ValueError, match="padding must be an int, a pair, 'valid' or 'same'; got 'full'"
    ):
        F.conv2d(x, torch.zeros(1, 6, 3, 3), padding="full")
    with pytest.raises(ValueError, match="stride must be >= 1, got 0"):
        F.conv2d(x, torch.zeros(1, 6, 3, 3), stride=0)
    with pytest.raises(ValueError, match=r"bias must have shape \(1,\), got \(2,\)"):
        F.conv2d(x, torch.zeros(1, 6, 3, 3), torch.zeros(2))
    with pytest.raises(
        ValueError, match=r"output_padding=\(2, 2\) must be smaller than stride=\(2, 2\)"
    ):
        F.conv_transpose2d(x, torch.zeros(6, 1, 3, 3), stride=2, output_padding=2)
    with pytest.raises(ValueError, match=r"weight.shape\[0\]=4 must equal in_channels=6"):
        F.conv_transpose2d(x, torch.zeros(4, 1, 3, 3))
    with pytest.raises(ValueError, match="input must be 3-D or 4-D"):
        F.conv2d(torch.zeros(5, 5), torch.zeros(1, 1, 3, 3))


def test_conv2d_unrolled_in_blocks_of_samples_matches_torch(check_op, rand, monkeypatch):
    from mlcanon.nn import _conv

    monkeypatch.setattr(_conv, "_COLS_BUDGET", 100)  # one sample per block of columns
    make = lambda fn: lambda x, w, b: fn(x, w, b, 2, 1, 1, 2)  # noqa: E731
    check_op(
        make(F.conv2d),
        make(TF.conv2d),
        [rand(3, 4, 7, 6), rand(6, 2, 3, 3, seed=1), rand(6, seed=2)],
    )


def _saved_bytes(fn, *inputs):
    """Bytes of the distinct storages that autograd keeps for the backward of fn(*inputs)."""
    storages = {}

    def pack(t):
        storages[t.untyped_storage().data_ptr()] = t.untyped_storage().nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        fn(*inputs)
    return sum(storages.values())


def _nbytes(*tensors):
    return sum(t.numel() * t.element_size() for t in tensors)


@pytest.mark.parametrize(
    ("name", "fn", "shapes", "budget"),
    [
        # x and the weight only: the padded copy (conv) and the folded or strided columns
        # (1x1 conv) were saved beside x
        (
            "conv 3x3 padded",
            lambda x, w: F.conv2d(x, w, padding=1),
            [(2, 4, 9, 9), (5, 4, 3, 3)],
            lambda x, w: _nbytes(x, w),
        ),
        ("conv 1x1 folded", F.conv2d, [(3, 8, 5, 5), (6, 8, 1, 1)], lambda x, w: _nbytes(x, w)),
        (
            "conv 1x1 strided",
            lambda x, w: F.conv2d(x, w, stride=2),
            [(2, 8, 16, 16), (6, 8, 1, 1)],
            lambda x, w: _nbytes(x, w),
        ),
        # input and target only: the two softplus terms were saved too
        (
            "bce with logits",
            F.binary_cross_entropy_with_logits,
            [(6, 7), (6, 7)],
            lambda x, t: _nbytes(x, t),
        ),
        # the difference only: input, target and difference were saved
        ("mse", F.mse_loss, [(6, 7), (6, 7)], lambda x, t: _nbytes(x)),
        ("huber", F.huber_loss, [(6, 7), (6, 7)], lambda x, t: _nbytes(x)),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_backward_keeps_no_copy_of_the_input(name, fn, shapes, budget):
    g = torch.Generator().manual_seed(0)
    inputs = [torch.rand(s, generator=g, dtype=torch.float64).requires_grad_() for s in shapes]
    assert _saved_bytes(fn, *inputs) <= budget(*inputs)
    # and the gradients are torch's
    ref = getattr(TF, fn.__name__) if fn.__name__ != "<lambda>" else None
    if ref is not None:
        out = fn(*inputs)
        v = torch.linspace(-1.0, 1.0, out.numel(), dtype=out.dtype).reshape(out.shape)
        ours = torch.autograd.grad(out, inputs, v)
        theirs = torch.autograd.grad(ref(*inputs), inputs, v)
        for a, b in zip(ours, theirs, strict=True):
            torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


def test_conv_transpose2d_empty_batch_as_torch():
    """A batch of 0 samples: torch only sizes the output, so it accepts an output_padding not
    smaller than stride or dilation, an empty height or width, and an output of size 0, all
    refused before; it still refuses a negative output size."""
    g = torch.Generator().manual_seed(0)
    grid = itertools.product([(5, 4), (0, 3), (1, 1)], [1, 2], [0, 2], [0, 1, 3], [1, 2], [1, 2])
    accepted = 0
    for hw, s, p, op, d, groups in grid:
        x = torch.randn(0, 4, *hw, generator=g, dtype=torch.float64)
        w = torch.randn(4, 3, 2, 3, generator=g, dtype=torch.float64)
        b = torch.randn(3 * groups, generator=g, dtype=torch.float64)
        args = (s, p, op, groups, d)
        try:
            ref = TF.conv_transpose2d(x, w, b, *args)
        except RuntimeError:
            with pytest.raises(ValueError, match=r"padding=.* is too large"):
                F.conv_transpose2d(x, w, b, *args)
            continue
        accepted += 1
        leaves = [t.clone().requires_grad_() for t in (x, w, b)]
        y = F.conv_transpose2d(*leaves, *args)
        assert y.shape == ref.shape and y.dtype == ref.dtype
        grads = torch.autograd.grad(y.sum(), leaves)
        for grad, t in zip(grads, (x, w, b), strict=True):
            assert torch.equal(grad, torch.zeros_like(t))
    assert accepted > 100
