"""Truncated-SVD factorization: Eckart-Young error, layer equivalence, conv by reshaping."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from mlcanon.compress import low_rank_conv2d, low_rank_linear, truncated_svd


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("rank", [1, 5, 17])
def test_eckart_young_error(seed, rank):
    g = torch.Generator().manual_seed(seed)
    w = torch.randn(40, 25, generator=g, dtype=torch.float64)
    a, b = truncated_svd(w, rank)
    assert a.shape == (40, rank) and b.shape == (rank, 25)
    s = torch.linalg.svdvals(w)
    err = w - a @ b
    fro = torch.linalg.matrix_norm(err).item()
    assert fro == pytest.approx(s[rank:].square().sum().sqrt().item(), abs=1e-10)
    assert torch.linalg.matrix_norm(err, ord=2).item() == pytest.approx(s[rank].item(), abs=1e-10)
    # numpy's SVD gives the same best approximation (unique when singular values are distinct)
    u, sv, vt = (t.numpy() for t in torch.linalg.svd(w, full_matrices=False))
    ref = (u[:, :rank] * sv[:rank]) @ vt[:rank]
    torch.testing.assert_close(a @ b, torch.from_numpy(ref), rtol=0, atol=1e-10)


def test_full_rank_linear_is_exact_and_low_rank_is_close():
    torch.manual_seed(0)
    lin = nn.Linear(12, 9, dtype=torch.float64)
    x = torch.randn(5, 12, dtype=torch.float64)
    full = low_rank_linear(lin, 9)
    torch.testing.assert_close(full(x), lin(x), rtol=0, atol=1e-12)
    small = low_rank_linear(lin, 3)
    assert sum(p.numel() for p in small.parameters()) == 3 * (12 + 9) + 9
    w_eff = small[1].weight @ small[0].weight
    s = torch.linalg.svdvals(lin.weight.detach())
    assert torch.linalg.matrix_norm(lin.weight - w_eff).item() == pytest.approx(
        s[3:].square().sum().sqrt().item(), abs=1e-10
    )


@pytest.mark.parametrize(("k", "stride", "padding"), [(3, 1, 1), (3, 2, 0), (1, 1, 0)])
def test_conv_factorization(k, stride, padding):
    torch.manual_seed(1)
    conv = nn.Conv2d(6, 10, k, stride=stride, padding=padding, dtype=torch.float64)
    x = torch.randn(2, 6, 9, 11, dtype=torch.float64)
    full_rank = min(10, 6 * k * k)
    torch.testing.assert_close(low_rank_conv2d(conv, full_rank)(x), conv(x), rtol=0, atol=1e-12)
    seq = low_rank_conv2d(conv, 2)
    w = conv.weight.detach().reshape(10, -1)
    w2 = (seq[1].weight[:, :, 0, 0] @ seq[0].weight.reshape(2, -1)).detach()
    s = torch.linalg.svdvals(w)
    assert torch.linalg.matrix_norm(w - w2).item() == pytest.approx(
        s[2:].square().sum().sqrt().item(), abs=1e-10
    )
    # the sequence computes exactly the conv with the rank-2 weight
    ref = F.conv2d(x, w2.reshape(conv.weight.shape), conv.bias, stride, padding)
    torch.testing.assert_close(seq(x), ref, rtol=0, atol=1e-12)


def test_errors():
    with pytest.raises(ValueError, match=r"rank must be an int in \[1, 3\]"):
        truncated_svd(torch.randn(3, 5), 4)
    with pytest.raises(ValueError, match="2-D"):
        truncated_svd(torch.randn(3), 1)
    with pytest.raises(
        TypeError, match=r"weight must be a floating-point tensor, got dtype torch\.int64"
    ):
        truncated_svd(torch.ones(3, 5, dtype=torch.int64), 1)
    with pytest.raises(TypeError, match=r"nn\.Linear"):
        low_rank_linear(nn.Conv2d(2, 2, 1), 1)
    with pytest.raises(ValueError, match="groups=1"):
        low_rank_conv2d(nn.Conv2d(4, 4, 3, groups=2), 1)


def test_layers_follow_the_device_and_dtype_of_the_weight():
    # the factor layers were built on the CPU whatever the layer's device (a meta layer failed)
    with torch.device("meta"):
        lin, conv = nn.Linear(12, 9), nn.Conv2d(6, 10, 3, padding=1)
    for seq in (low_rank_linear(lin, 3), low_rank_conv2d(conv, 2)):
        assert {p.device.type for p in seq.parameters()} == {"meta"}


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_weights(dtype):
    # no SVD kernel in half precision: the factors come from a float32 SVD, cast back
    torch.manual_seed(2)
    lin = nn.Linear(12, 9).to(dtype)
    seq = low_rank_linear(lin, 3)
    assert all(p.dtype == dtype for p in seq.parameters())
    w = lin.weight.detach().double()
    u, s, vh = torch.linalg.svd(w, full_matrices=False)  # the best rank-3 fit, in float64
    best = (u[:, :3] * s[:3]) @ vh[:3]
    got = seq[1].weight.detach().double() @ seq[0].weight.detach().double()
    eps = torch.finfo(dtype).eps
    assert (got - best).abs().max().item() <= 4 * eps * w.abs().max().item()


def test_numpy_integer_rank():
    np = pytest.importorskip("numpy")
    a, b = truncated_svd(torch.randn(5, 4, dtype=torch.float64), np.int64(2))
    assert a.shape == (5, 2) and b.shape == (2, 4)
