"""Pruning masks against torch.nn.utils.prune (random weights, and tied ones)."""

import pytest
import torch
from torch import nn
from torch.nn.utils import prune

from mlcanon.compress import (
    apply_masks,
    global_magnitude_masks,
    ln_structured_mask,
    magnitude_mask,
)


def _layer(seed, shape=(12, 5, 3, 3)):
    torch.manual_seed(seed)
    return nn.Conv2d(shape[1], shape[0], shape[2:]) if len(shape) == 4 else nn.Linear(*shape[::-1])


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("amount", [0.0, 0.3, 0.5, 0.97, 17, 1.0])
@pytest.mark.parametrize("shape", [(12, 5, 3, 3), (7, 30)])
def test_magnitude_mask_matches_l1_unstructured(seed, amount, shape):
    layer = _layer(seed, shape)
    ours = magnitude_mask(layer.weight, amount)
    prune.l1_unstructured(layer, "weight", amount)
    assert torch.equal(ours, layer.weight_mask)


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("amount", [0.2, 0.6, 100])
def test_global_masks_match_global_unstructured(seed, amount):
    torch.manual_seed(seed)
    net = nn.Sequential(nn.Conv2d(3, 8, 3), nn.Conv2d(8, 4, 3), nn.Flatten(), nn.Linear(36, 5))
    layers = [net[0], net[1], net[3]]
    ours = global_magnitude_masks([m.weight for m in layers], amount)
    prune.global_unstructured(
        [(m, "weight") for m in layers], pruning_method=prune.L1Unstructured, amount=amount
    )
    for m, mask in zip(layers, ours, strict=True):
        assert torch.equal(mask, m.weight_mask)
    # the threshold is global: the layers lose different fractions
    fractions = {round(float((1 - m).mean()), 3) for m in ours}
    assert len(fractions) > 1


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize(("amount", "n", "dim"), [(0.5, 1, 0), (3, 2, 0), (0.4, 1, 1), (2, 1, -1)])
def test_ln_structured_matches_torch(seed, amount, n, dim):
    layer = _layer(seed)
    ours = ln_structured_mask(layer.weight, amount, n=n, dim=dim)
    prune.ln_structured(layer, "weight", amount, n=n, dim=dim)
    assert torch.equal(ours, layer.weight_mask)


@pytest.mark.parametrize("n", [float("inf"), float("-inf"), -1, 0.5, "fro"])
@pytest.mark.parametrize("shape", [(12, 5, 3), (7, 30)])
def test_ln_structured_other_norm_orders_match_torch(n, shape):
    # torch's ln_structured takes any norm order and 'fro'; only n > 0 was accepted
    torch.manual_seed(3)
    layer = nn.Module()
    layer.weight = nn.Parameter(torch.randn(shape))
    ours = ln_structured_mask(layer.weight, 0.4, n=n, dim=0)
    prune.ln_structured(layer, "weight", 0.4, n=n, dim=0)
    assert torch.equal(ours, layer.weight_mask)


def test_ln_structured_order_zero_counts_nonzeros():
    # rows with 1, 3 and 2 non-zero weights: removing one row removes the sparsest
    w = torch.tensor([[0.0, 0.0, 9.0], [1.0, 1.0, 1.0], [0.0, 2.0, 2.0]])
    assert ln_structured_mask(w, 1, n=0)[:, 0].tolist() == [0.0, 1.0, 1.0]


def test_hand_cases_and_apply():
    w = torch.tensor([[0.1, -3.0], [2.0, -0.5]])
    assert magnitude_mask(w, 2).tolist() == [[0.0, 1.0], [1.0, 0.0]]
    # rows' L1 norms 3.1 and 2.5: removing one filter removes row 1
    assert ln_structured_mask(w, 1).tolist() == [[1.0, 1.0], [0.0, 0.0]]
    lin = nn.Linear(2, 2)
    with torch.no_grad():
        lin.weight.copy_(w)
    apply_masks(lin, {"weight": magnitude_mask(lin.weight, 0.5)})
    assert lin.weight.tolist() == [[0.0, -3.0], [2.0, 0.0]]


def test_errors():
    w = torch.randn(4, 3)
    with pytest.raises(ValueError, match=r"amount as a fraction must be in \[0, 1\]"):
        magnitude_mask(w, 1.5)
    with pytest.raises(ValueError, match=r"amount must be in \[0, 12\]"):
        magnitude_mask(w, 13)
    with pytest.raises(TypeError, match="amount must be an int or a float"):
        magnitude_mask(w, "half")
    with pytest.raises(ValueError, match="dim must be an int"):
        ln_structured_mask(w, 1, dim=2)
    with pytest.raises(ValueError, match=r"n must be a number .* or 'fro', got 'nuc'"):
        ln_structured_mask(w, 1, n="nuc")
    with pytest.raises(ValueError, match="n must be a number"):
        ln_structured_mask(w, 1, n=float("nan"))
    with pytest.raises(ValueError, match="non-empty sequence"):
        global_magnitude_masks([], 0.5)
    with pytest.raises(ValueError, match="unknown parameter"):
        apply_masks(nn.Linear(3, 4), {"kernel": w})
    with pytest.raises(ValueError, match="has shape"):
        apply_masks(nn.Linear(3, 4), {"weight": w.T})
    with pytest.raises(TypeError, match=r"mask for 'weight' must be a torch\.Tensor, got ndarray"):
        apply_masks(nn.Linear(3, 4), {"weight": w.numpy()})  # was an AttributeError


def _tied_weights():
    g = torch.Generator().manual_seed(0)
    return [
        torch.full((6, 5), -1.5),  # every magnitude equal
        torch.randint(-2, 3, (4, 3, 2, 2), generator=g).float(),  # five values, many ties
        torch.round(torch.randn(9, 7, generator=g) * 2) / 2,
    ]


@pytest.mark.parametrize("amount", [1, 0.3, 0.5, 7, 0.9])
@pytest.mark.parametrize("case", range(3))
def test_ties_are_broken_as_torch_prune(case, amount):
    # torch.nn.utils.prune picks among equal scores with torch.topk (smallest to prune for
    # unstructured, largest to keep for ln_structured); a stable argsort picked other entries:
    # on 30 equal weights with amount=0.5 all 30 mask entries differed
    w = _tied_weights()[case]
    layer = nn.Module()
    layer.weight = nn.Parameter(w.clone())
    prune.l1_unstructured(layer, "weight", amount)
    assert torch.equal(magnitude_mask(w, amount), layer.weight_mask)
    for n, dim in [(1, 0), (2, 1), (float("inf"), -1), (0, 0)]:
        n_slices = w.shape[dim]
        k = amount if isinstance(amount, float) else min(amount, n_slices)
        layer = nn.Module()
        layer.weight = nn.Parameter(w.clone())
        prune.ln_structured(layer, "weight", k, n=n, dim=dim)
        assert torch.equal(ln_structured_mask(w, k, n=n, dim=dim), layer.weight_mask), (n, dim)
    others = [w, torch.full((3, 3), 1.0), torch.full((2, 4), -1.5)]
    layers = []
    for t in others:
        m = nn.Module()
        m.weight = nn.Parameter(t.clone())
        layers.append(m)
    prune.global_unstructured(
        [(m, "weight") for m in layers], pruning_method=prune.L1Unstructured, amount=amount
    )
    for mask, m in zip(global_magnitude_masks(others, amount), layers, strict=True):
        assert torch.equal(mask, m.weight_mask)
