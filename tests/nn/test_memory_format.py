"""Memory format: a channels_last input (or, for a convolution, a channels_last weight) gives a
channels_last result, as torch's convolution and pooling kernels return it; values unchanged.
Reference: torch 2.13's own ops on the same tensors."""

import pytest
import torch
import torch.nn as tnn
import torch.nn.functional as TF

import mlcanon.nn as N
import mlcanon.nn.functional as F

CL = torch.channels_last


def _layout(t):
    return t.is_contiguous(), t.is_contiguous(memory_format=CL)


def _x(shape=(2, 4, 5, 6), cl=True, dtype=torch.float64):
    x = torch.randn(shape, generator=torch.Generator().manual_seed(0), dtype=dtype)
    return x.contiguous(memory_format=CL) if cl else x


def _w(shape, cl):
    w = torch.randn(shape, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    return w.contiguous(memory_format=CL) if cl else w


CASES = {
    "conv2d": lambda f, x, cl: f.conv2d(x, _w((3, 4, 3, 3), cl), padding=1),
    "conv2d_1x1": lambda f, x, cl: f.conv2d(x, _w((3, 4, 1, 1), cl)),
    "conv2d_stride": lambda f, x, cl: f.conv2d(x, _w((6, 2, 2, 3), cl), stride=2, groups=2),
    "conv2d_depthwise": lambda f, x, cl: f.conv2d(x, _w((8, 1, 3, 3), cl), groups=4),
    "conv_transpose2d": lambda f, x, cl: f.conv_transpose2d(x, _w((4, 3, 3, 3), cl), stride=2),
    "conv_transpose2d_groups": lambda f, x, cl: f.conv_transpose2d(
        x, _w((4, 1, 2, 2), cl), groups=2
    ),
    "max_pool2d": lambda f, x, cl: f.max_pool2d(x, 2, 1, 1, 1, True),
    "max_pool2d_indices": lambda f, x, cl: f.max_pool2d(x, 3, 2, 1, return_indices=True)[1],
    "avg_pool2d": lambda f, x, cl: f.avg_pool2d(x, 3, 2, 1, count_include_pad=False),
    "adaptive_avg_pool2d": lambda f, x, cl: f.adaptive_avg_pool2d(x, (3, 2)),
}


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize(("x_cl", "w_cl"), [(True, False), (False, True), (True, True)])
def test_conv_and_pool_outputs_keep_channels_last_like_torch(name, x_cl, w_cl):
    fn = CASES[name]
    x = _x(cl=x_cl)
    ours, ref = fn(F, x, w_cl), fn(TF, x, w_cl)
    assert _layout(ours) == _layout(ref)
    assert ours.dtype == ref.dtype
    if ref.is_floating_point():
        torch.testing.assert_close(ours, ref, rtol=1e-12, atol=1e-12)
    else:
        assert torch.equal(ours, ref)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
def test_half_precision_conv_keeps_channels_last(dtype):
    x, w = _x(dtype=dtype), _w((3, 4, 3, 3), False).to(dtype)
    ours, ref = F.conv2d(x, w, padding=1), TF.conv2d(x, w, padding=1)
    assert ours.dtype == ref.dtype and _layout(ours) == _layout(ref)
    tol = {torch.float32: 1e-5, torch.float16: 1e-2, torch.bfloat16: 5e-2}[dtype]
    torch.testing.assert_close(ours.float(), ref.float(), rtol=tol, atol=tol)


@pytest.mark.parametrize(
    "shape", [(2, 1, 5, 6), (2, 4, 1, 1), (0, 4, 5, 6), (1, 4, 5, 6), (2, 4, 1, 6)]
)
def test_ambiguous_or_empty_layouts_follow_torch(shape):
    for cl in (False, True):
        x = _x(shape, cl)
        for name in ("max_pool2d", "avg_pool2d"):
            ours, ref = getattr(F, name)(x, 1), getattr(TF, name)(x, 1)
            assert _layout(ours) == _layout(ref), (shape, cl, name)
        w = _w((3, shape[1], 1, 1), False)
        assert _layout(F.conv2d(x, w)) == _layout(TF.conv2d(x, w)), (shape, cl)


def test_transposed_views_are_not_channels_last():
    x = torch.randn(6, 5, 4, 2, dtype=torch.float64).permute(3, 2, 1, 0)  # strides (1, 2, 8, 40)
    w = _w((3, 4, 3, 3), False)
    assert _layout(F.conv2d(x, w)) == _layout(TF.conv2d(x, w)) == (True, False)
    assert _layout(F.max_pool2d(x, 2)) == _layout(TF.max_pool2d(x, 2))


@pytest.mark.parametrize("padding_mode", ["zeros", "reflect"])
def test_channels_last_model_keeps_the_format_through_layers(padding_mode):
    torch.manual_seed(0)
    ref = tnn.Sequential(
        tnn.Conv2d(4, 6, 3, padding=1, padding_mode=padding_mode),
        tnn.BatchNorm2d(6),
        tnn.ReLU(),
        tnn.MaxPool2d(2),
        tnn.ConvTranspose2d(6, 4, 2, stride=2),
        tnn.AdaptiveAvgPool2d(3),
    ).double()
    ours = N.from_torch(ref)
    ref, ours = ref.to(memory_format=CL), ours.to(memory_format=CL)
    x = _x().requires_grad_()
    y_ref, y_ours = ref(x), ours(x)
    assert _layout(y_ours) == _layout(y_ref) == (False, True)
    torch.testing.assert_close(y_ours, y_ref, rtol=1e-10, atol=1e-10)
    g = torch.randn(y_ref.shape, dtype=torch.float64)
    (gx_ref,) = torch.autograd.grad(y_ref, x, g)
    (gx_ours,) = torch.autograd.grad(y_ours, x, g)
    torch.testing.assert_close(gx_ours, gx_ref, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("padding_mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("padding", ["valid", 0, 1, "same"])
@pytest.mark.parametrize("weight_cl", [False, True])
def test_padding_mode_layouts_follow_torch(padding_mode, padding, weight_cl):
    # torch pads first (reflect and replicate keep channels_last, circular returns a contiguous
    # copy, also with no padding at all), then convolves: ours skipped the copy for 'valid'
    # and its reflect/replicate padding returned a contiguous tensor
    torch.manual_seed(0)
    ref = tnn.Conv2d(4, 3, 3, padding=padding, padding_mode=padding_mode).double()
    ours = N.Conv2d(4, 3, 3, padding=padding, padding_mode=padding_mode).double()
    ours.load_state_dict(ref.state_dict())
    if weight_cl:
        ref, ours = ref.to(memory_format=CL), ours.to(memory_format=CL)
    x = _x().requires_grad_()
    y_ref, y_ours = ref(x), ours(x)
    assert _layout(y_ours) == _layout(y_ref)
    torch.testing.assert_close(y_ours, y_ref, rtol=1e-12, atol=1e-12)
    g = torch.randn(y_ref.shape, dtype=torch.float64)
    torch.testing.assert_close(
        torch.autograd.grad(y_ours, x, g)[0], torch.autograd.grad(y_ref, x, g)[0]
    )
