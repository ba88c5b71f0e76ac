"""Distillation loss against a composition of torch's kl_div and cross_entropy."""

import math

import pytest
import torch
import torch.nn.functional as F

from mlcanon.compress import distillation_loss


def _reference(s, t, y, T, alpha):
    kl = F.kl_div(
        F.log_softmax(s / T, 1), F.log_softmax(t / T, 1), reduction="batchmean", log_target=True
    )
    return alpha * T**2 * kl + (1 - alpha) * F.cross_entropy(s, y)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize(("T", "alpha"), [(1.0, 0.5), (4.0, 0.9), (20.0, 0.0), (0.5, 1.0)])
def test_matches_torch_composition(seed, T, alpha):
    g = torch.Generator().manual_seed(seed)
    s = (torch.randn(33, 10, generator=g, dtype=torch.float64) * 3).requires_grad_()
    t = torch.randn(33, 10, generator=g, dtype=torch.float64) * 5
    y = torch.randint(0, 10, (33,), generator=g)
    ours, ref = distillation_loss(s, t, y, T, alpha), _reference(s, t, y, T, alpha)
    torch.testing.assert_close(ours, ref, rtol=1e-12, atol=1e-12)
    (g1,) = torch.autograd.grad(ours, s)
    (g2,) = torch.autograd.grad(ref, s)
    torch.testing.assert_close(g1, g2, rtol=1e-12, atol=1e-12)


def test_hand_cases():
    s = torch.tensor([[0.0, 0.0]], dtype=torch.float64)
    y = torch.tensor([0])
    # identical logits: KL = 0, so only the CE of a uniform prediction (log 2) remains
    assert distillation_loss(s, s, y, T=3.0, alpha=0.25).item() == pytest.approx(0.75 * math.log(2))
    # teacher certain of class 0 (p -> (1, 0)), uniform student: KL = log 2, times T^2 = 4
    t = torch.tensor([[1e4, 0.0]], dtype=torch.float64)
    assert distillation_loss(s, t, y, T=2.0, alpha=1.0).item() == pytest.approx(4 * math.log(2))


def test_teacher_gets_no_gradient():
    s = torch.randn(4, 3, requires_grad=True)
    t = torch.randn(4, 3, requires_grad=True)
    distillation_loss(s, t, torch.tensor([0, 1, 2, 0])).backward()
    assert t.grad is None and s.grad is not None


def test_errors():
    s, y = torch.randn(4, 3), torch.tensor([0, 1, 2, 0])
    with pytest.raises(ValueError, match="same shape"):
        distillation_loss(s, torch.randn(4, 5), y)
    with pytest.raises(ValueError, match="target must be a tensor of shape"):
        distillation_loss(s, s, y[:3])
    with pytest.raises(ValueError, match="T"):
        distillation_loss(s, s, y, T=0.0)
    with pytest.raises(ValueError, match="alpha"):
        distillation_loss(s, s, y, alpha=1.5)
    with pytest.raises(ValueError, match="2-D"):
        distillation_loss(s[0], s[0], y)
