"""Bad input to quantization: zero points outside the code range, empty calibration data."""

import warnings

import pytest
import torch

from mlcanon.compress import calibrate_minmax, dequantize, quantize_per_channel, quantize_per_tensor

W = torch.randn(4, 4, generator=torch.Generator().manual_seed(0))
TORCH_DTYPES = {"quint8": torch.quint8, "qint8": torch.qint8}


@pytest.mark.parametrize(
    ("dtype", "zero_point", "words"),
    [
        ("quint8", 300, r"zero_point must lie in \[0, 255\] for dtype='quint8', got 300"),
        ("quint8", -1, r"zero_point must lie in \[0, 255\] for dtype='quint8', got -1"),
        ("qint8", 128, r"zero_point must lie in \[-128, 127\] for dtype='qint8', got 128"),
        ("qint8", -129, r"\[-128, 127\].*got -129"),
    ],
)
def test_zero_point_out_of_range_is_refused(dtype, zero_point, words):
    with warnings.catch_warnings(), pytest.raises(RuntimeError, match="zero_point"):
        warnings.simplefilter("ignore")  # torch deprecates its quantized tensors
        torch.quantize_per_tensor(W, 0.1, zero_point, TORCH_DTYPES[dtype])
    with pytest.raises(ValueError, match=words):
        quantize_per_tensor(W, 0.1, zero_point, dtype)


@pytest.mark.parametrize("dtype", ["quint8", "qint8"])
def test_zero_points_at_the_ends_of_the_range_are_accepted(dtype):
    qmin, qmax = (0, 255) if dtype == "quint8" else (-128, 127)
    for zp in (qmin, qmax):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = torch.quantize_per_tensor(W, 0.1, zp, TORCH_DTYPES[dtype]).int_repr()
        assert torch.equal(quantize_per_tensor(W, 0.1, zp, dtype), ref)


def test_per_channel_zero_point_out_of_range_is_refused():
    with pytest.raises(ValueError, match=r"\[-128, 127\] for dtype='qint8', got \[0, 0, 0, 300\]"):
        quantize_per_channel(W, torch.full((4,), 0.1), torch.tensor([0, 0, 0, 300]), 0)


def test_fractional_zero_point_is_refused():
    with pytest.raises(TypeError, match=r"zero_point must hold integers, got 3\.5"):
        quantize_per_tensor(W, 0.1, 3.5)


@pytest.mark.parametrize("shape", [(0,), (3, 0)])
def test_calibration_on_empty_data_is_refused(shape):
    with pytest.raises(
        ValueError, match=r"calibrate_minmax needs at least one value, got x of shape"
    ):
        calibrate_minmax(torch.zeros(shape))
    with pytest.raises(ValueError, match="at least one value"):
        calibrate_minmax(torch.zeros(shape), axis=0)


def test_dequantize_still_round_trips():
    q = quantize_per_tensor(W, 0.05, 128)
    assert torch.allclose(dequantize(q, 0.05, 128), W, atol=0.05 / 2 + 1e-7)
