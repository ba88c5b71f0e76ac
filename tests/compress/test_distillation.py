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


def test_class_ruled_out_by_the_teacher():
    # a masked class (teacher logit -inf) has p = 0 and adds 0 log 0 = 0 to the KL, as in torch's
    # kl_div on probabilities; the log-probability form gave 0 * (-inf) = NaN
    g = torch.Generator().manual_seed(0)
    s = torch.randn(6, 5, generator=g, dtype=torch.float64).requires_grad_()
    t = torch.randn(6, 5, generator=g, dtype=torch.float64)
    t[:, 0] = -math.inf
    y = torch.randint(0, 5, (6,), generator=g)
    kl = F.kl_div(F.log_softmax(s / 3.0, 1), F.softmax(t / 3.0, 1), reduction="batchmean")
    ref = 0.7 * 9.0 * kl + 0.3 * F.cross_entropy(s, y)
    ours = distillation_loss(s, t, y, T=3.0, alpha=0.7)
    torch.testing.assert_close(ours, ref, rtol=1e-12, atol=1e-12)
    (g1,) = torch.autograd.grad(ours, s)
    (g2,) = torch.autograd.grad(ref, s)
    torch.testing.assert_close(g1, g2, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    ("target", "error", "words"),
    [
        (torch.tensor([0.0, 1.0, 2.0, 0.0]), TypeError, "target must hold integer class indices"),
        (torch.tensor([True, False, True, True]), TypeError, "got dtype torch.bool"),
        (
            torch.tensor([0, 1, 3, 0]),
            ValueError,
            r"class indices in \[0, 2\], got values in \[0, 3\]",
        ),
        (torch.tensor([0, -1, 2, 0]), ValueError, r"in \[0, 2\], got values in \[-1, 2\]"),
    ],
)
def test_bad_target_is_refused(target, error, words):
    s = torch.randn(4, 3)
    with pytest.raises(error, match=words):
        distillation_loss(s, s, target)


def test_narrow_integer_targets_equal_int64():
    s, t = torch.randn(4, 3), torch.randn(4, 3)
    y = torch.tensor([0, 1, 2, 0])
    for narrow in (y.int(), y.to(torch.uint8)):  # uint8 indices failed in gather
        assert distillation_loss(s, t, narrow).item() == distillation_loss(s, t, y).item()
