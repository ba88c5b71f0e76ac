"""Batch, instance, group and layer norm against torch (float64 forward 1e-10, gradients 1e-8)."""

import math

import pytest
import torch
import torch.nn.functional as TF

import mlcanon.nn as mnn
import mlcanon.nn.functional as F

SHAPES = [(4, 3, 5, 7), (1, 6, 3, 5), (5, 3), (3, 2, 9)]


def _bn(fn, training, momentum=0.1):
    def run(x, w, b, rm, rv):
        return fn(x, rm.clone(), rv.clone(), w, b, training, momentum, 1e-5)

    return run


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_matches_torch(check_op, rand, shape, training):
    if training and shape[0] == 1 and len(shape) == 2:
        pytest.skip("one value per channel")
    c = shape[1]
    inputs = [
        rand(*shape),
        rand(c, seed=1),
        rand(c, seed=2),
        rand(c, seed=3),
        rand(c, seed=4, low=0.5, high=2),
    ]
    check_op(_bn(F.batch_norm, training), _bn(TF.batch_norm, training), inputs, diff=[0, 1, 2])


@pytest.mark.parametrize("momentum", [0.1, 0.7])
def test_batch_norm_running_statistics_match_torch(rand, momentum):
    x = rand(6, 3, 4, 5)
    ours = [rand(3, seed=1), rand(3, seed=2, low=0.5, high=2)]
    ref = [t.clone() for t in ours]
    for step in range(3):
        F.batch_norm(x + step, *ours, training=True, momentum=momentum)
        TF.batch_norm(x + step, *ref, training=True, momentum=momentum)
    for a, b in zip(ours, ref, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)


def test_batch_norm_running_var_is_unbiased():
    x = torch.tensor([[1.0], [3.0]], dtype=torch.float64)  # mean 2, biased var 1, unbiased var 2
    rm, rv = torch.zeros(1, dtype=torch.float64), torch.zeros(1, dtype=torch.float64)
    F.batch_norm(x, rm, rv, training=True, momentum=1.0)
    torch.testing.assert_close((rm.item(), rv.item()), (2.0, 2.0), rtol=1e-15, atol=0.0)


def test_batch_norm_two_pass_variance_survives_a_large_offset():
    # E[x^2] - E[x]^2 loses every digit at an offset of 1e8; two passes keep them
    x = 1e8 + torch.tensor([[0.0], [1.0], [2.0], [3.0]], dtype=torch.float64)
    y = F.batch_norm(x, None, None, training=True, eps=1e-12)
    expected = (torch.arange(4.0, dtype=torch.float64) - 1.5) / math.sqrt(1.25)
    torch.testing.assert_close(y[:, 0], expected, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("shape", [(4, 3, 5, 7), (1, 6, 3, 5), (2, 4, 9)])
@pytest.mark.parametrize("affine", [True, False])
def test_instance_norm_matches_torch(check_op, rand, shape, affine):
    c = shape[1]

    def make(fn):
        def run(x, w, b, rm, rv):
            return fn(x, rm.clone(), rv.clone(), w if affine else None, b if affine else None)

        return run

    inputs = [
        rand(*shape),
        rand(c, seed=1),
        rand(c, seed=2),
        rand(c, seed=3),
        rand(c, seed=4, low=0.5, high=2),
    ]
    check_op(
        make(F.instance_norm), make(TF.instance_norm), inputs, diff=[0, 1, 2] if affine else [0]
    )


def test_instance_norm_running_statistics_match_torch(rand):
    x = rand(3, 4, 5, 6)
    ours = [rand(4, seed=1), rand(4, seed=2, low=0.5, high=2)]
    ref = [t.clone() for t in ours]
    F.instance_norm(x, *ours, momentum=0.3)
    TF.instance_norm(x, *ref, momentum=0.3)
    for a, b in zip(ours, ref, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(
        F.instance_norm(x, *ours, use_input_stats=False),
        TF.instance_norm(x, *ref, use_input_stats=False),
    )


@pytest.mark.parametrize(
    ("shape", "groups"), [((4, 6, 5, 7), 3), ((1, 6, 3, 5), 2), ((2, 4, 9), 1), ((3, 4, 5, 3), 4)]
)
@pytest.mark.parametrize("affine", [True, False])
def test_group_norm_matches_torch(check_op, rand, shape, groups, affine):
    c = shape[1]

    def make(fn):
        return lambda x, w, b: fn(x, groups, w if affine else None, b if affine else None)

    inputs = [rand(*shape), rand(c, seed=1), rand(c, seed=2)]
    check_op(make(F.group_norm), make(TF.group_norm), inputs, diff=[0, 1, 2] if affine else [0])


@pytest.mark.parametrize(
    ("shape", "normalized"), [((4, 3, 5, 7), (5, 7)), ((1, 6), (6,)), ((2, 3, 9), [9])]
)
@pytest.mark.parametrize("affine", [True, False])
def test_layer_norm_matches_torch(check_op, rand, shape, normalized, affine):
    ns = (normalized,) if isinstance(normalized, int) else normalized

    def make(fn):
        return lambda x, w, b: fn(x, normalized, w if affine else None, b if affine else None)

    inputs = [rand(*shape), rand(*ns, seed=1), rand(*ns, seed=2)]
    check_op(make(F.layer_norm), make(TF.layer_norm), inputs, diff=[0, 1, 2] if affine else [0])


def test_group_norm_special_cases_are_layer_and_instance_norm(rand):
    x = rand(3, 4, 5, 6)
    torch.testing.assert_close(F.group_norm(x, 4), F.instance_norm(x), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(
        F.group_norm(x, 1), F.layer_norm(x, (4, 5, 6)), rtol=1e-12, atol=1e-12
    )


def test_bad_norm_arguments():
    x = torch.zeros(2, 6, 4, 4)
    with pytest.raises(ValueError, match="num_channels=6 must be divisible by num_groups=4"):
        F.group_norm(x, 4)
    with pytest.raises(
        ValueError, match=r"more than 1 value per channel, got input shape \(1, 6\)"
    ):
        F.batch_norm(torch.zeros(1, 6), None, None, training=True)
    with pytest.raises(
        ValueError, match="running_mean and running_var are required when training=False"
    ):
        F.batch_norm(x, None, None)
    with pytest.raises(ValueError, match=r"weight must have shape \(6,\), got \(4,\)"):
        F.batch_norm(x, None, None, torch.ones(4), torch.zeros(4), training=True)
    with pytest.raises(ValueError, match=r"normalized_shape=\(5,\) must match the trailing dims"):
        F.layer_norm(x, 5)
    with pytest.raises(ValueError, match=r"momentum must be <= 1\.0, got 2\.0"):
        F.batch_norm(x, None, None, training=True, momentum=2.0)
    with pytest.raises(ValueError, match=r"eps must be >= 0\.0, got -0\.1"):
        F.group_norm(x, 2, eps=-0.1)
    with pytest.raises(ValueError, match=r"eps must be > 0 for batch_norm in training"):
        F.batch_norm(x, None, None, training=True, eps=0.0)


def test_instance_norm_checks_momentum_and_running_statistics():
    x = torch.randn(3, 4, 5, 5)
    running = [torch.zeros(4), torch.ones(4)]
    with pytest.raises(ValueError, match=r"momentum must be <= 1\.0, got 5\.0"):
        F.instance_norm(x, *running, momentum=5.0)
    with pytest.raises(TypeError, match="momentum must be Real, got str 'a'"):
        F.instance_norm(x, *running, momentum="a")
    with pytest.raises(ValueError, match=r"running_mean must have shape \(4,\), got \(1,\)"):
        F.instance_norm(x, torch.zeros(1), torch.ones(4))
    assert torch.equal(running[0], torch.zeros(4))  # nothing updated on refusal


@pytest.mark.parametrize("affine", [False, True])
@pytest.mark.parametrize("batch", [0, 2])
def test_instance_norm_one_spatial_element_refused_whatever_the_batch_as_torch(batch, affine):
    """torch refuses one spatial element when using input statistics, for an empty batch too
    (this returned an empty result for N = 0); with running statistics in eval both return
    (torch's affine instance norm fails on an empty batch with an IndexError: not compared)."""
    x = torch.randn(batch, 3, 1, 1, dtype=torch.float64)
    for module in (torch.nn.InstanceNorm2d(3, affine=affine), mnn.InstanceNorm2d(3, affine=affine)):
        with pytest.raises(ValueError, match="more than 1 spatial element"):
            module.double()(x)
    if batch == 0 and affine:
        return
    tracked = [
        cls(3, affine=affine, track_running_stats=True).double().eval()
        for cls in (torch.nn.InstanceNorm2d, mnn.InstanceNorm2d)
    ]
    tracked[1].load_state_dict(tracked[0].state_dict())
    ys = [m(x) for m in tracked]
    assert ys[0].shape == ys[1].shape == x.shape
    torch.testing.assert_close(ys[1], ys[0], rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_input_with_float32_parameters_as_torch(dtype):
    """torch's mixed-type CPU kernels take a float16/bfloat16 input with float32 parameters and
    running statistics (a float32 norm layer in a half-precision network): same output dtype
    and values, float32 gradients and statistics; it was refused. Other mixes stay refused."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(3, 4, 5, generator=g).to(dtype)
    w, b = torch.randn(4, generator=g), torch.randn(4, generator=g)
    wl, bl = torch.randn(5, generator=g), torch.randn(5, generator=g)
    rm, rv = torch.randn(4, generator=g), torch.rand(4, generator=g) + 0.5
    cases = {
        "layer_norm": lambda M, p: M.layer_norm(p[0], (5,), p[3], p[4]),
        "group_norm": lambda M, p: M.group_norm(p[0], 2, p[1], p[2]),
        "batch_norm train": lambda M, p: M.batch_norm(p[0], p[5], p[6], p[1], p[2], True),
        "batch_norm eval": lambda M, p: M.batch_norm(p[0], p[5], p[6], p[1], p[2], False),
        "batch_norm stats only": lambda M, p: M.batch_norm(p[0], p[5], p[6], None, None, True),
        "instance_norm": lambda M, p: M.instance_norm(p[0], p[5], p[6], p[1], p[2]),
    }
    for name, fn in cases.items():
        results = []
        for M in (F, TF):
            leaves = [t.clone().requires_grad_() for t in (x, w, b, wl, bl)]
            params = [*leaves, rm.clone(), rv.clone()]
            y = fn(M, params)
            grads = torch.autograd.grad(y.float().square().sum(), leaves, allow_unused=True)
            results.append((y, grads, params[5:]))
        (y, grads, stats), (ref_y, ref_grads, ref_stats) = results
        assert y.dtype == ref_y.dtype == dtype, name
        torch.testing.assert_close(y, ref_y, rtol=2e-2, atol=2e-2, msg=name)
        for a, r in zip(grads, ref_grads, strict=True):
            assert (a is None) == (r is None), name
            if a is not None:
                assert a.dtype == r.dtype, name
                torch.testing.assert_close(a, r, rtol=5e-2, atol=5e-2, msg=name)
        for a, r in zip(stats, ref_stats, strict=True):
            torch.testing.assert_close(a, r, rtol=1e-2, atol=1e-2, msg=name)
    # a float32 weight beside a half bias, or float64 parameters: refused by both
    for bad in ((w, b.to(dtype)), (w.double(), b.double())):
        with pytest.raises(RuntimeError):
            TF.group_norm(x, 2, *bad)
        with pytest.raises(RuntimeError, match="must have the input's dtype"):
            F.group_norm(x, 2, *bad)


def test_zero_eps_and_single_value_groups_as_torch():
    """eps = 0 is taken by layer_norm, group_norm, instance_norm and batch_norm in eval mode,
    as torch (it was refused); group_norm refuses one sample whose groups hold one value each,
    as torch (it returned the bias)."""
    g = torch.Generator().manual_seed(1)
    x = torch.randn(3, 4, 5, generator=g, dtype=torch.float64)
    rm, rv = torch.randn(4, generator=g, dtype=torch.float64), torch.rand(4, dtype=torch.float64)
    pairs = [
        (lambda M: M.layer_norm(x, (4, 5), eps=0.0)),
        (lambda M: M.group_norm(x, 2, eps=0.0)),
        (lambda M: M.instance_norm(x, eps=0.0)),
        (lambda M: M.batch_norm(x, rm, rv, training=False, eps=0.0)),
    ]
    for fn in pairs:
        torch.testing.assert_close(fn(F), fn(TF), rtol=1e-10, atol=1e-10)
    for shape, groups in [((1, 2), 2), ((1, 3, 1), 3), ((1, 1, 1, 1), 1)]:
        x = torch.randn(shape, dtype=torch.float64)
        with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
            TF.group_norm(x, groups)
        with pytest.raises(ValueError, match="more than 1 value per group for a single sample"):
            F.group_norm(x, groups)
    for shape, groups in [((2, 2), 2), ((1, 2, 1), 1), ((1, 4), 2)]:  # accepted by both
        x = torch.randn(shape, dtype=torch.float64)
        torch.testing.assert_close(F.group_norm(x, groups), TF.group_norm(x, groups))


@pytest.mark.parametrize("op", ["layer_norm", "group_norm", "batch_norm", "instance_norm"])
@pytest.mark.parametrize("affine", [False, True])
def test_norm_of_constant_sets_is_exact(op, affine):
    # sets of equal float32 values: the rounded mean left a residual of one ulp in the centred
    # data, which 1/sqrt(eps) scaled to ~7e-5 (torch's layer_norm, and its group_norm without
    # affine, give the exact 0, or the bias; its batch_norm, instance_norm and affine group_norm
    # are off by as much as ours was); the residual is now taken out, ours within 2e-13.
    # Reference: torch's op on the same values in float64
    g = torch.Generator().manual_seed(0)
    levels = torch.randn(4, 6, 1, 1, generator=g) * 3 + 2.7182817
    x = levels.expand(4, 6, 5, 5).contiguous()
    if op == "batch_norm":  # one value per channel over the whole batch
        x = levels[:1].expand(4, 6, 5, 5).contiguous()
    n = 5 if op == "layer_norm" else x.shape[1]
    w = torch.randn(n, generator=g) if affine else None
    b = torch.randn(n, generator=g) if affine else None
    calls = {
        "layer_norm": lambda f, x, w, b: f.layer_norm(x, (5,), w, b),
        "group_norm": lambda f, x, w, b: f.group_norm(x, 6, w, b),
        "batch_norm": lambda f, x, w, b: f.batch_norm(x, None, None, w, b, training=True),
        "instance_norm": lambda f, x, w, b: f.instance_norm(x, weight=w, bias=b),
    }
    wide = [t.double() if t is not None else None for t in (x, w, b)]
    truth = calls[op](TF, *wide)
    ours, ref = calls[op](F, x, w, b), calls[op](TF, x, w, b)
    err_ours = (ours.double() - truth).abs().max()
    assert err_ours <= (ref.double() - truth).abs().max()
    assert err_ours < 1e-12


@pytest.mark.parametrize("op", ["layer_norm", "group_norm", "batch_norm"])
def test_norm_with_a_large_offset_is_at_least_as_accurate_as_torch(op):
    # float32 data around 1e4: errors against the float64 result of the same values
    g = torch.Generator().manual_seed(1)
    x = (torch.randn(8, 4, 16, generator=g, dtype=torch.float64) + 1e4).float()
    calls = {
        "layer_norm": lambda f, x: f.layer_norm(x, (16,)),
        "group_norm": lambda f, x: f.group_norm(x, 2),
        "batch_norm": lambda f, x: f.batch_norm(x, None, None, training=True),
    }
    truth = calls[op](TF, x.double())
    err_ours = (calls[op](F, x).double() - truth).abs().max()
    err_ref = (calls[op](TF, x).double() - truth).abs().max()
    assert err_ours <= err_ref
    assert err_ours < 1e-6
