"""Convolutional autoencoder: shapes, builder, error paths, and that it can learn."""

import pytest
import torch

from mlcanon.models import ConvAutoEncoder, conv_autoencoder, list_models


@pytest.mark.parametrize("latent_dim", [1, 2, 10])
def test_shapes(latent_dim):
    torch.manual_seed(0)
    model = conv_autoencoder(latent_dim=latent_dim)
    x = torch.rand(5, 1, 8, 8)
    assert model.encode(x).shape == (5, latent_dim)
    out = model(x)
    assert out.shape == x.shape and bool(((out >= 0) & (out <= 1)).all())


def test_parameter_count_by_hand():
    d = 2
    expected = (1 * 9 * 16 + 16) + (16 * 9 * 32 + 32) + (512 * d + d)  # encoder
    expected += (d * 512 + 512) + (32 * 16 * 16 + 16) + (16 * 9 + 1)  # decoder
    assert sum(p.numel() for p in ConvAutoEncoder(d).parameters()) == expected


def test_overfits_a_small_batch():
    torch.manual_seed(0)
    model = ConvAutoEncoder(latent_dim=4)
    x = torch.rand(8, 1, 8, 8)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    first = None
    for _ in range(150):
        opt.zero_grad()
        loss = torch.mean((model(x) - x) ** 2)
        first = loss.item() if first is None else first
        loss.backward()
        opt.step()
    assert loss.item() < 0.5 * first


def test_not_in_backbone_registry_and_errors():
    assert "conv_autoencoder" not in list_models()
    with pytest.raises(ValueError, match="latent_dim must be a positive int"):
        ConvAutoEncoder(0)
    model = ConvAutoEncoder(2)
    with pytest.raises(ValueError, match=r"x must have shape \(N, 1, 8, 8\)"):
        model.encode(torch.rand(2, 1, 28, 28))
    with pytest.raises(ValueError, match=r"z must have shape \(N, 2\)"):
        model.decode(torch.rand(2, 3))


def test_profiled_like_any_model():
    # the shape checks of encode/decode stopped torch.fx from tracing the model
    from mlcanon.vision import profile

    model = ConvAutoEncoder(2)
    p = profile(model, (1, 8, 8))
    assert p.params == sum(q.numel() for q in model.parameters()) and p.uncounted == ()
    rows = {r.name: r for r in p.layers}
    assert rows["encoder.0"].macs == 16 * 64 * 9  # 16 filters of 3x3 on every pixel
