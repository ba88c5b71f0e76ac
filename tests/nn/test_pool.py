"""Max, average and adaptive pooling against torch (float64 forward 1e-10, gradients 1e-8)."""

import pytest
import torch
import torch.nn.functional as TF

import mlcanon.nn.functional as F

SHAPES = [(2, 3, 7, 10), (1, 2, 9, 5)]
MAX = [
    dict(kernel_size=3),
    dict(kernel_size=(3, 2), stride=2, padding=1, ceil_mode=True),
    dict(kernel_size=3, stride=2, padding=1, dilation=2, ceil_mode=True),
    dict(kernel_size=(2, 4), stride=(3, 2), padding=(1, 2), ceil_mode=True),
    dict(kernel_size=2, stride=1),
]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("kw", MAX, ids=[str(i) for i in range(len(MAX))])
def test_max_pool2d_matches_torch(check_op, rand, shape, kw):
    check_op(lambda x: F.max_pool2d(x, **kw), lambda x: TF.max_pool2d(x, **kw), [rand(*shape)])


@pytest.mark.parametrize("kw", MAX, ids=[str(i) for i in range(len(MAX))])
def test_max_pool2d_indices_match_torch(rand, kw):
    x = rand(2, 3, 7, 10)
    _, ours = F.max_pool2d(x, **kw, return_indices=True)
    _, ref = TF.max_pool2d(x, **kw, return_indices=True)
    assert torch.equal(ours, ref)


AVG = [
    dict(kernel_size=3),
    dict(kernel_size=(3, 2), stride=2, padding=1, ceil_mode=True),
    dict(kernel_size=(3, 2), stride=2, padding=1, ceil_mode=True, count_include_pad=False),
    dict(
        kernel_size=(2, 4), stride=(3, 2), padding=(1, 2), ceil_mode=True, count_include_pad=False
    ),
    dict(kernel_size=3, stride=2, padding=1, divisor_override=5),
]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("kw", AVG, ids=[str(i) for i in range(len(AVG))])
def test_avg_pool2d_matches_torch(check_op, rand, shape, kw):
    check_op(lambda x: F.avg_pool2d(x, **kw), lambda x: TF.avg_pool2d(x, **kw), [rand(*shape)])


@pytest.mark.parametrize("size", [3, (4, 3), (None, 4), (7, 10), (5, 13), 1])
def test_adaptive_avg_pool2d_matches_torch(check_op, rand, size):
    check_op(lambda x: F.adaptive_avg_pool2d(x, size), lambda x: TF.adaptive_avg_pool2d(x, size),
             [rand(2, 3, 7, 10)])  # fmt: skip


def test_max_pool_routes_gradient_to_argmax_and_avg_spreads_it():
    x = torch.tensor([[[[1.0, 5.0], [3.0, 2.0]]]], requires_grad=True)
    F.max_pool2d(x, 2).sum().backward()
    assert torch.equal(x.grad, torch.tensor([[[[0.0, 1.0], [0.0, 0.0]]]]))
    x.grad = None
    F.avg_pool2d(x, 2).sum().backward()
    assert torch.equal(x.grad, torch.full((1, 1, 2, 2), 0.25))


def test_max_pool_ties_go_to_the_first_position_as_torch():
    x = torch.ones(1, 1, 4, 4, dtype=torch.float64)
    a, b = x.clone().requires_grad_(), x.clone().requires_grad_()
    F.max_pool2d(a, 2, 1).sum().backward()
    TF.max_pool2d(b, 2, 1).sum().backward()
    assert torch.equal(a.grad, b.grad)


NAN, INF = float("nan"), float("inf")


@pytest.mark.parametrize(
    "plane, kw",
    [
        ([[NAN, 1.0], [NAN, 2.0]], dict(kernel_size=2)),  # two NaNs: the last one wins
        ([[NAN, 2.0], [3.0, NAN]], dict(kernel_size=2)),
        ([[INF, NAN], [NAN, INF]], dict(kernel_size=2)),  # NaN beats +inf, last NaN
        ([[1.0, INF], [INF, 2.0]], dict(kernel_size=2)),  # +inf ties: the first
        ([[-INF] * 3] * 3, dict(kernel_size=3, stride=2, padding=1)),  # never the padding
        ([[-INF] * 4] * 4, dict(kernel_size=3, stride=2, padding=1, dilation=2)),
        ([[-INF, 1.0, -INF], [NAN, -INF, NAN], [-INF, -INF, -INF]], dict(kernel_size=2, stride=1)),
    ],
)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_max_pool2d_nan_and_infinite_winner_as_torch(plane, kw, dtype):
    """torch's kernel scans a window row by row and takes v when v > best or v is NaN, from
    best = -inf at the first input position: the last NaN wins, the first of equal (also
    infinite) maxima, and a window of -inf inputs answers its first input position. Both the
    indices and the gradient go there."""
    x = torch.tensor(plane, dtype=dtype).expand(2, 1, -1, -1)
    got = []
    for fn in (F.max_pool2d, TF.max_pool2d):
        leaf = x.clone().requires_grad_()
        y, idx = fn(leaf, return_indices=True, **kw)
        y.backward(torch.arange(1.0, y.numel() + 1, dtype=dtype).reshape(y.shape))
        got.append((y.detach(), idx, leaf.grad))
    (y, idx, grad), (ref_y, ref_idx, ref_grad) = got
    torch.testing.assert_close(y, ref_y, equal_nan=True, rtol=0, atol=0)
    assert torch.equal(idx, ref_idx)
    torch.testing.assert_close(grad, ref_grad, rtol=0, atol=0)


def test_bad_pool_arguments():
    x = torch.zeros(1, 2, 5, 5)
    with pytest.raises(ValueError, match=r"padding=\(2, 2\) must be at most half of kernel_size"):
        F.max_pool2d(x, 2, padding=2)
    with pytest.raises(RuntimeError, match="half of kernel size"):  # torch: dilation does not help
        TF.max_pool2d(x, 2, padding=2, dilation=3)
    with pytest.raises(ValueError, match=r"padding=\(2, 2\) must be at most half of kernel_size"):
        F.max_pool2d(x, 2, padding=2, dilation=3)
    with pytest.raises(
        ValueError, match=r"kernel_size=\(7, 7\) .* larger than the padded input \(5, 5\)"
    ):
        F.avg_pool2d(x, 7)
    with pytest.raises(ValueError, match="kernel_size must be >= 1, got 0"):
        F.max_pool2d(x, 0)
    with pytest.raises(ValueError, match="divisor_override must be a positive int, got 0"):
        F.avg_pool2d(x, 2, divisor_override=0)
    with pytest.raises(ValueError, match="output_size must hold positive ints"):
        F.adaptive_avg_pool2d(x, (0, 2))


@pytest.mark.parametrize(("size", "hw"), [(3, (4, 4)), (2, (4, 4)), ((4, 3), (7, 10)), (9, (5, 6))])
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_adaptive_avg_pool2d_keeps_nan_and_inf_in_their_bins_as_torch(rand, size, hw, dtype):
    x = rand(2, 3, *hw).to(dtype)
    x[0, 1, -1, -1] = float("nan")
    x[1, 0, 0, 0] = float("inf")
    x[1, 2, hw[0] // 2, 1] = float("-inf")
    x[1, 2, hw[0] // 2, 2] = float("inf")  # +inf and -inf in one bin: NaN there only
    ours, ref = F.adaptive_avg_pool2d(x, size), TF.adaptive_avg_pool2d(x, size)
    assert ref.isfinite().any()  # torch keeps the other bins finite
    torch.testing.assert_close(ours, ref, equal_nan=True, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize(("size", "hw"), [(3, (4, 4)), ((4, 3), (7, 10)), (9, (5, 6))])
def test_adaptive_avg_pool2d_gradient_keeps_nan_and_inf_in_their_bins_as_torch(rand, size, hw):
    """A non-finite upstream gradient of one bin reaches only that bin's pixels (before, the
    matrix products spread it to every pixel)."""
    x = rand(2, 3, *hw).requires_grad_()
    ho, wo = (size, size) if isinstance(size, int) else size
    g = torch.ones(2, 3, ho, wo, dtype=x.dtype)
    g[0, 1, -1, -1] = float("nan")
    g[1, 0, 0, 0] = float("inf")
    ours = torch.autograd.grad(F.adaptive_avg_pool2d(x, size), x, g)[0]
    ref = torch.autograd.grad(TF.adaptive_avg_pool2d(x, size), x, g)[0]
    assert ref.isfinite().any()
    torch.testing.assert_close(ours, ref, equal_nan=True, rtol=1e-12, atol=1e-12)


# 1-D windows along the width (height 1); ceil mode may keep a last window that overhangs the
# padded input by less than a stride, if it starts inside the input or the left padding
CEIL_GRID = [
    (w, k, s, p)
    for w in range(1, 6)
    for k in range(1, 5)
    for s in range(1, 4)
    for p in range(k // 2 + 1)
]


@pytest.mark.parametrize("ceil_mode", [True, False])
@pytest.mark.parametrize("op", ["max", "avg", "avg-exclude-pad"])
def test_pool_output_size_rule_matches_torch(op, ceil_mode):
    pools = {
        "max": (F.max_pool2d, TF.max_pool2d, {}),
        "avg": (F.avg_pool2d, TF.avg_pool2d, {}),
        "avg-exclude-pad": (F.avg_pool2d, TF.avg_pool2d, {"count_include_pad": False}),
    }
    ours, theirs, kw = pools[op]
    kept = 0
    for w, k, s, p in CEIL_GRID:
        x = torch.arange(2.0 * w, dtype=torch.float64).view(1, 2, 1, w) ** 1.5
        args = ((1, k), (1, s), (0, p))
        try:
            ref = theirs(x, *args, ceil_mode=ceil_mode, **kw)
        except RuntimeError:
            with pytest.raises(ValueError, match="larger than the padded input"):
                ours(x, *args, ceil_mode=ceil_mode, **kw)
            continue
        torch.testing.assert_close(ours(x, *args, ceil_mode=ceil_mode, **kw), ref)
        kept += 1
    assert kept > 50


def test_ceil_mode_kernel_larger_than_the_input_as_torch():
    x = torch.arange(8.0, dtype=torch.float64).view(1, 1, 2, 4)
    # torch 2.13 gives [[6, 7]] and [[3, 5]]: the window rows overhang the 2 input rows
    assert F.max_pool2d(x, 3, 3, 0, 1, True).tolist() == [[[[6.0, 7.0]]]]
    assert F.avg_pool2d(x, 3, 3, 0, True).tolist() == [[[[3.0, 5.0]]]]
    for ours, theirs in ((F.max_pool2d, TF.max_pool2d), (F.avg_pool2d, TF.avg_pool2d)):
        xs = [x.clone().requires_grad_() for _ in range(2)]
        ours(xs[0], 3, 3, ceil_mode=True).sum().backward()
        theirs(xs[1], 3, 3, ceil_mode=True).sum().backward()
        torch.testing.assert_close(xs[0].grad, xs[1].grad)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32, torch.bfloat16])
def test_max_pool2d_window_of_padding_only_as_torch(dtype):
    """A dilated window whose taps all fall in the padding (it was refused): torch answers
    -inf, and as index that of its first row and column at or after 0. torch's backward adds
    the gradient at that index, outside the window and perhaps past the tensor's end (it can
    abort the process), so the gradient is compared with the derivative written out: each
    finite output's gradient at torch's index, none from the -inf ones (constant outputs)."""
    x = torch.zeros(2, 3, 2, 3, dtype=dtype)
    y = F.max_pool2d(x, (2, 2), (1, 2), (1, 1), (3, 2))  # rows of window 0: {-1, 2}
    assert torch.isneginf(y[:, :, 0]).all()
    blind = 0
    g = torch.Generator().manual_seed(0)
    for size in range(1, 6):
        for k, s, p, d in [(2, 1, 1, 2), (2, 1, 1, 3), (3, 2, 1, 4), (2, 3, 1, 5), (3, 1, 1, 2)]:
            for ceil in (False, True):
                for shape, args in [
                    ((2, 3, 1, size), ((1, k), (1, s), (0, p), (1, d), ceil)),
                    ((3, size, 2), ((k, 2), (s, 1), (p, 1), (d, 1), ceil)),
                ]:
                    x = torch.randn(shape, generator=g, dtype=torch.float64).to(dtype)
                    try:
                        ref_y, ref_idx = TF.max_pool2d(x, *args, return_indices=True)
                    except RuntimeError:  # output size < 1: both refuse
                        with pytest.raises(ValueError):
                            F.max_pool2d(x, *args)
                        continue
                    leaf = x.clone().requires_grad_()
                    y, idx = F.max_pool2d(leaf, *args, return_indices=True)
                    torch.testing.assert_close(y, ref_y, rtol=0, atol=0)
                    assert torch.equal(idx, ref_idx)
                    up = torch.randn(y.shape, generator=g, dtype=torch.float64).to(dtype)
                    y.backward(up)
                    seen = ref_y.isfinite()
                    blind += int((~seen).any())
                    expected = torch.zeros_like(x.flatten(-2)).scatter_add(
                        -1,
                        torch.where(seen, ref_idx, 0).flatten(-2),
                        torch.where(seen, up, 0).flatten(-2),
                    )
                    torch.testing.assert_close(leaf.grad, expected.reshape(x.shape))
    assert blind > 10


@pytest.mark.parametrize(("size", "hw"), [(3, (4, 4)), (2, (4, 4)), ((4, 3), (7, 10)), (9, (5, 6))])
@pytest.mark.parametrize("special", [False, True])
def test_adaptive_avg_pool2d_accelerator_path_reads_no_value_on_the_host(
    monkeypatch, rand, size, hw, special
):
    """On an accelerator the finiteness check (a sum turned into a Python bool) would wait for
    the device at every step; there the bin-by-bin path runs without it. Run here on the CPU by
    taking the accelerator's branch, with every way of reading a value on the host refused;
    forward and backward against torch, NaN and inf included."""
    from mlcanon.nn import _pool

    x = rand(2, 3, *hw)
    ho, wo = (size, size) if isinstance(size, int) else size
    g = torch.linspace(-1.0, 1.0, 2 * 3 * ho * wo, dtype=x.dtype).reshape(2, 3, ho, wo)
    if special:
        x[0, 1, -1, -1], x[1, 0, 0, 0] = float("nan"), float("inf")
        g[1, 2, -1, 0], g[0, 0, 0, 0] = float("nan"), float("-inf")
    ref_x = x.clone().requires_grad_()
    ref = TF.adaptive_avg_pool2d(ref_x, size)
    (ref_grad,) = torch.autograd.grad(ref, ref_x, g)

    def host_read(*_args, **_kwargs):
        raise AssertionError("a tensor value was read on the host")

    monkeypatch.setattr(_pool, "_host_checks", lambda t: False, raising=False)
    for name in ("__bool__", "item", "tolist", "__float__", "__int__"):
        monkeypatch.setattr(torch.Tensor, name, host_read)
    leaf = x.clone().requires_grad_()
    ours = F.adaptive_avg_pool2d(leaf, size)
    (grad,) = torch.autograd.grad(ours, leaf, g)
    monkeypatch.undo()
    torch.testing.assert_close(ours, ref, equal_nan=True, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(grad, ref_grad, equal_nan=True, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("padding", [0, 1])
def test_max_pool2d_on_meta_tensors_sizes_like_torch(padding):
    # ours called .any() on the output to look for -inf and NaN windows, which a meta tensor
    # cannot answer (RuntimeError: Tensor.item() cannot be called on meta tensors)
    x = torch.empty(2, 3, 7, 6, device="meta")
    ours, ours_idx = F.max_pool2d(x, 3, 2, padding, return_indices=True)
    ref, ref_idx = TF.max_pool2d(x, 3, 2, padding, return_indices=True)
    for a, b in ((ours, ref), (ours_idx, ref_idx)):
        assert a.shape == b.shape and a.dtype == b.dtype and a.device.type == "meta"


def test_max_pool2d_off_cpu_path_picks_torch_winners(monkeypatch):
    # off the CPU the NaN and -inf winner fixes run without looking at the values first (no
    # device sync); the same winners as torch's, exercised here on the CPU
    from mlcanon.nn import _pool

    monkeypatch.setattr(_pool, "_host_checks", lambda t: False)
    g = torch.Generator().manual_seed(3)
    x = torch.randn(2, 3, 6, 7, generator=g, dtype=torch.float64)
    x[0, 0, :3, :3] = float("-inf")
    x[1, 2, 2, 2:4] = float("nan")
    for args in ((3, 2, 1), (2, 1, 1, 2, True), (3, 1, 0)):
        xo, xt = x.clone().requires_grad_(), x.clone().requires_grad_()
        yo, io = F.max_pool2d(xo, *args, return_indices=True)
        yt, it = TF.max_pool2d(xt, *args, return_indices=True)
        torch.testing.assert_close(yo, yt, equal_nan=True)
        assert torch.equal(io, it)
        w = torch.randn(yt.shape, generator=g, dtype=torch.float64)
        (go,) = torch.autograd.grad(yo, xo, w)
        (gt,) = torch.autograd.grad(yt, xt, w)
        torch.testing.assert_close(go, gt)
