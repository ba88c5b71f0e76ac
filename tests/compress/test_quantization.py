"""Affine quantization against torch's quantize / fake-quantize ops and MinMax observers."""

import pytest
import torch

from mlcanon.compress import (
    calibrate_minmax,
    dequantize,
    fake_quantize,
    quantize_per_channel,
    quantize_per_tensor,
)

TORCH_DTYPE = {"qint8": torch.qint8, "quint8": torch.quint8}
pytestmark = pytest.mark.filterwarnings("ignore:.*deprecated:UserWarning")


def _data(seed, shape=(6, 40)):
    g = torch.Generator().manual_seed(seed)
    scale = torch.linspace(0.2, 3.0, shape[0]).reshape(-1, *[1] * (len(shape) - 1))
    x = torch.randn(shape, generator=g) * scale
    return x + 0.3  # off-centre so the zero point is not trivial


def _ties(scale):
    """Values on and next to the half-way points between codes (where rounding conventions show)."""
    x = (torch.arange(-300, 300, dtype=torch.float32) + 0.5) * torch.tensor(scale)
    return torch.cat([x, torch.nextafter(x, x + 1), torch.nextafter(x, x - 1)])


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("dtype", ["qint8", "quint8"])
@pytest.mark.parametrize("qscheme", ["affine", "symmetric"])
def test_calibration_matches_minmax_observers(seed, dtype, qscheme):
    from torch.ao.quantization import MinMaxObserver, PerChannelMinMaxObserver

    x = _data(seed)
    scheme = {"affine": "affine", "symmetric": "symmetric"}[qscheme]
    obs = MinMaxObserver(dtype=TORCH_DTYPE[dtype], qscheme=getattr(torch, f"per_tensor_{scheme}"))
    obs(x)
    s_ref, z_ref = obs.calculate_qparams()
    s, z = calibrate_minmax(x, dtype, qscheme)
    assert torch.equal(s, s_ref.reshape(())) and torch.equal(z, z_ref.reshape(()))
    obs = PerChannelMinMaxObserver(
        ch_axis=0, dtype=TORCH_DTYPE[dtype], qscheme=getattr(torch, f"per_channel_{scheme}")
    )
    obs(x)
    s_ref, z_ref = obs.calculate_qparams()
    s, z = calibrate_minmax(x, dtype, qscheme, axis=0)
    assert torch.equal(s, s_ref) and torch.equal(z, z_ref)


@pytest.mark.parametrize("scale", [0.1, 0.0371, 0.25, 1 / 3])
@pytest.mark.parametrize("dtype", ["qint8", "quint8"])
def test_quantize_per_tensor_matches_torch_including_ties(scale, dtype):
    zp = 3 if dtype == "qint8" else 130
    for x in (_ties(scale), _data(0).reshape(-1) * 10 * scale):
        ref = torch.quantize_per_tensor(x, scale, zp, TORCH_DTYPE[dtype])
        q = quantize_per_tensor(x, scale, zp, dtype)
        assert torch.equal(q, ref.int_repr())
        assert torch.equal(dequantize(q, scale, zp), ref.dequantize())


@pytest.mark.parametrize("axis", [0, 1, -1])
@pytest.mark.parametrize("dtype", ["qint8", "quint8"])
def test_quantize_per_channel_matches_torch(axis, dtype):
    x = _data(2, (5, 7, 9))
    scales, zps = calibrate_minmax(x, dtype, axis=axis)
    ref = torch.quantize_per_channel(x, scales.double(), zps, axis % 3, TORCH_DTYPE[dtype])
    q = quantize_per_channel(x, scales, zps, axis, dtype)
    assert torch.equal(q, ref.int_repr())
    assert torch.equal(dequantize(q, scales, zps, axis=axis), ref.dequantize())


@pytest.mark.parametrize("scale", [0.1, 0.0371, 0.25])
def test_fake_quantize_per_tensor_forward_and_ste_gradient(scale):
    x = torch.cat([_ties(scale), _data(3).reshape(-1) * 30 * scale])
    x1, x2 = x.clone().requires_grad_(), x.clone().requires_grad_()
    ref = torch.fake_quantize_per_tensor_affine(x1, scale, 3, -128, 127)
    ours = fake_quantize(x2, scale, 3, -128, 127)
    assert torch.equal(ours, ref)
    g = torch.randn(x.shape, generator=torch.Generator().manual_seed(0))
    ref.backward(g)
    ours.backward(g)
    assert torch.equal(x2.grad, x1.grad)
    assert 0 < int((x2.grad == 0).sum()) < x.numel()  # both clamped and passed-through entries


@pytest.mark.parametrize("quant_range", [(-128, 127), (-8, 7), (0, 15)])
def test_fake_quantize_per_channel_forward_and_ste_gradient(quant_range):
    qmin, qmax = quant_range
    x = _data(4, (6, 3, 5)) * 4
    scales = torch.linspace(0.05, 0.4, 6)
    zps = torch.tensor([0, 1, -1, 2, 0, 3], dtype=torch.int32).clamp(qmin, qmax)
    x1, x2 = x.clone().requires_grad_(), x.clone().requires_grad_()
    ref = torch.fake_quantize_per_channel_affine(x1, scales, zps, 0, qmin, qmax)
    ours = fake_quantize(x2, scales, zps, qmin, qmax, axis=0)
    assert torch.equal(ours, ref)
    ref.sum().backward()
    ours.sum().backward()
    assert torch.equal(x2.grad, x1.grad)


def test_hand_case():
    # scale 0.5, zero point 2: 1.0 -> 2 + 2 = 4; -3.0 -> -6 + 2 = -4; 100 clamps to 127
    x = torch.tensor([1.0, -3.0, 100.0, 0.0])
    q = quantize_per_tensor(x, 0.5, 2, "qint8")
    assert q.tolist() == [4, -4, 127, 2] and q.dtype == torch.int8
    assert dequantize(q, 0.5, 2).tolist() == [1.0, -3.0, 62.5, 0.0]
    # calibration on [-1, 3] to quint8: s = 4 / 255, z = round(255 / 4) = 64 (63.75 rounds up)
    s, z = calibrate_minmax(torch.tensor([-1.0, 3.0]), "quint8")
    assert s.item() == pytest.approx(4 / 255) and z.item() == 64


def test_errors():
    x = torch.randn(4, 3)
    with pytest.raises(ValueError, match="dtype must be one of"):
        quantize_per_tensor(x, 0.1, 0, "int4")
    with pytest.raises(ValueError, match="scale must be positive"):
        quantize_per_tensor(x, -0.1, 0)
    with pytest.raises(ValueError, match="floating-point"):
        quantize_per_tensor(torch.ones(3, dtype=torch.int64), 0.1, 0)
    with pytest.raises(ValueError, match="axis must be an int"):
        quantize_per_channel(x, torch.ones(4), torch.zeros(4), 2)
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        quantize_per_channel(x, torch.ones(4), torch.zeros(4), 1)
    with pytest.raises(ValueError, match="qscheme must be one of"):
        calibrate_minmax(x, qscheme="asymmetric")
    with pytest.raises(ValueError, match="quant_min <= quant_max"):
        fake_quantize(x, 0.1, 0, 6, 5)
    with pytest.raises(ValueError, match="zero_point must lie"):
        fake_quantize(x, 0.1, 300, 0, 255)
    with pytest.raises(TypeError, match=r"integer torch\.Tensor"):
        dequantize(x, 0.1, 0)


def test_per_tensor_calls_refuse_per_channel_parameters():
    # a vector of scales with axis=None was broadcast along the last axis, silently; torch's
    # per-tensor functions take one scale and one zero point
    x = torch.randn(3, 4)
    scales, zps = torch.full((4,), 0.1), torch.zeros(4, dtype=torch.int64)
    with pytest.raises(RuntimeError):
        torch.fake_quantize_per_tensor_affine(x, scales, zps, -128, 127)
    with pytest.raises(ValueError, match=r"scalars when axis is None .* got shapes \(4,\) and"):
        fake_quantize(x, scales, zps)
    q = quantize_per_tensor(x, 0.1, 0, "qint8")
    with pytest.raises(ValueError, match="scalars when axis is None"):
        dequantize(q, scales, zps)
    with pytest.raises(ValueError, match=r"must have shape \(4,\) for axis=1, got \(3,\)"):
        dequantize(q, scales[:3], zps[:3], axis=1)  # was a RuntimeError from broadcasting


def test_fractional_zero_point_is_refused_everywhere():
    # dequantize truncated 3.7 to 3 and fake_quantize shifted the codes by 2.5
    x = torch.randn(3, 4)
    with pytest.raises(TypeError):  # torch takes an int zero point only
        torch.fake_quantize_per_tensor_affine(x, 0.1, 2.5, -128, 127)
    with pytest.raises(TypeError, match=r"zero_point must hold integers, got 2\.5"):
        fake_quantize(x, 0.1, 2.5)
    with pytest.raises(TypeError, match=r"zero_point must hold integers, got 3\.7"):
        dequantize(quantize_per_tensor(x, 0.1, 3, "qint8"), 0.1, 3.7)
    # an integer held in a float is an integer
    q = quantize_per_tensor(x, 0.1, 3, "qint8")
    assert torch.equal(dequantize(q, 0.1, 3.0), dequantize(q, 0.1, 3))


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float64])
@pytest.mark.parametrize("per_channel", [False, True])
def test_fake_quantize_other_float_dtypes_match_torch(dtype, per_channel):
    # torch widens half and bfloat16 to float32 (the code and the product s (q - z)) and keeps
    # float64 for the code; the product of a per-tensor call is float32. Computing in the
    # input's own dtype moved 387 of 1000 float16 values (by up to one step, 0.05), and every
    # float64 value by up to 2.2e-7
    g = torch.Generator().manual_seed(0)
    x = (torch.randn(10, 100, generator=g, dtype=torch.float64) * 3).to(dtype)
    x = torch.cat([x, (torch.arange(-40, 40).reshape(1, -1).expand(10, -1) + 0.5).to(dtype)], 1)
    x1, x2 = x.clone().requires_grad_(), x.clone().requires_grad_()
    if per_channel:
        scales = torch.rand(10, generator=g) * 0.3 + 0.01
        zps = torch.randint(-5, 5, (10,), generator=g, dtype=torch.int32)
        ref = torch.fake_quantize_per_channel_affine(x1, scales, zps, 0, -128, 127)
        ours = fake_quantize(x2, scales, zps, -128, 127, axis=0)
    else:
        ref = torch.fake_quantize_per_tensor_affine(x1, 0.05, 3, -128, 127)
        ours = fake_quantize(x2, 0.05, 3, -128, 127)
    assert ours.dtype == ref.dtype == dtype
    assert torch.equal(ours, ref)
    w = torch.randn(x.shape, generator=g, dtype=torch.float64).to(dtype)
    ref.backward(w)
    ours.backward(w)
    assert torch.equal(x2.grad, x1.grad)


@pytest.mark.parametrize("zp_dtype", [torch.float32, torch.float16])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16])
def test_per_channel_floating_zero_point_matches_torch(dtype, zp_dtype):
    # torch.fake_quantize_per_channel_affine takes a float / half zero point and rounds
    # x/s + z (the shift inside the rounding); ours refused it with a TypeError
    g = torch.Generator().manual_seed(0)
    x = (torch.randn(4, 6, 5, generator=g) * 3).to(dtype)
    scale = torch.rand(6, generator=g) * 0.3 + 0.01
    zp = (torch.rand(6, generator=g) * 255 - 128).to(zp_dtype)  # fractional, e.g. 126.5
    zp[0] = 126.5
    xs, xt = x.clone().requires_grad_(), x.clone().requires_grad_()
    ours = fake_quantize(xs, scale, zp, -128, 127, axis=1)
    ref = torch.fake_quantize_per_channel_affine(xt, scale, zp, 1, -128, 127)
    grad = torch.randn(x.shape, generator=g).to(dtype)
    ours.backward(grad)
    ref.backward(grad)
    assert ours.dtype == ref.dtype
    assert torch.equal(ours, ref)
    assert torch.equal(xs.grad, xt.grad)  # the straight-through mask, clamped codes included


@pytest.mark.parametrize("axis", [None, 0])
def test_a_one_code_range_matches_torch(axis):
    # quant_min == quant_max is allowed by torch (every value on one code, gradient 0 except
    # where the unclamped code is that one); ours refused it
    x = torch.tensor([[-1.0, 0.0, 0.04, 0.2, 2.0]]).T.repeat(1, 2).requires_grad_()
    xt = x.detach().clone().requires_grad_()
    if axis is None:
        ours = fake_quantize(x, 0.1, 3, 3, 3)
        ref = torch.fake_quantize_per_tensor_affine(xt, 0.1, 3, 3, 3)
    else:
        scale, zp = torch.full((5,), 0.1), torch.full((5,), 3, dtype=torch.int32)
        ours = fake_quantize(x, scale, zp, 3, 3, axis=0)
        ref = torch.fake_quantize_per_channel_affine(xt, scale, zp, 0, 3, 3)
    ours.sum().backward()
    ref.sum().backward()
    assert torch.equal(ours, ref)
    assert torch.equal(x.grad, xt.grad)
