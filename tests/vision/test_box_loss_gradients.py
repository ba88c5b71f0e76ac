"""Gradients of the IoU-family losses at the edges (coincident, nested, touching, disjoint and
zero-width boxes), against autograd on torchvision's formula written out in float64."""

import math

import pytest
import torch

from mlcanon.vision import complete_box_iou_loss, distance_box_iou_loss, generalized_box_iou_loss

EPS = 1e-7


def _inter_union(a, b):
    """torchvision.ops._utils._loss_inter_union: the intersection is set only where both
    overlap sides are > 0 (a boolean mask), so it has no gradient anywhere else."""
    xk1, yk1 = torch.max(a[..., 0], b[..., 0]), torch.max(a[..., 1], b[..., 1])
    xk2, yk2 = torch.min(a[..., 2], b[..., 2]), torch.min(a[..., 3], b[..., 3])
    inter = torch.zeros_like(xk1)
    m = (yk2 > yk1) & (xk2 > xk1)
    inter[m] = (xk2[m] - xk1[m]) * (yk2[m] - yk1[m])
    area_a = (a[..., 2] - a[..., 0]) * (a[..., 3] - a[..., 1])
    area_b = (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])
    return inter, area_a + area_b - inter


def _enclosing(a, b):
    cw = torch.max(a[..., 2], b[..., 2]) - torch.min(a[..., 0], b[..., 0])
    ch = torch.max(a[..., 3], b[..., 3]) - torch.min(a[..., 1], b[..., 1])
    return cw, ch


def _giou_loss(a, b):
    inter, union = _inter_union(a, b)
    cw, ch = _enclosing(a, b)
    return 1 - inter / (union + EPS) + (cw * ch - union) / (cw * ch + EPS)


def _diou_loss_and_iou(a, b):
    inter, union = _inter_union(a, b)
    iou = inter / (union + EPS)
    cw, ch = _enclosing(a, b)
    rho2 = ((a[..., 0] + a[..., 2]) / 2 - (b[..., 0] + b[..., 2]) / 2) ** 2
    rho2 = rho2 + ((a[..., 1] + a[..., 3]) / 2 - (b[..., 1] + b[..., 3]) / 2) ** 2
    return 1 - iou + rho2 / (cw**2 + ch**2 + EPS), iou


def _ciou_loss(a, b):
    diou, iou = _diou_loss_and_iou(a, b)
    wa, ha = a[..., 2] - a[..., 0], a[..., 3] - a[..., 1]
    wb, hb = b[..., 2] - b[..., 0], b[..., 3] - b[..., 1]
    v = 4 / math.pi**2 * (torch.atan(wb / hb) - torch.atan(wa / ha)) ** 2
    with torch.no_grad():
        alpha = v / (1 - iou + v + EPS)
    return diou + alpha * v


REFERENCES = {
    generalized_box_iou_loss: _giou_loss,
    distance_box_iou_loss: lambda a, b: _diou_loss_and_iou(a, b)[0],
    complete_box_iou_loss: _ciou_loss,
}

PAIRS = {
    "coincident": ([0.0, 0, 10, 10], [0.0, 0, 10, 10]),
    "nested": ([2.0, 2, 5, 6], [0.0, 0, 10, 10]),
    "nested_sharing_an_edge": ([0.0, 0, 5, 10], [0.0, 0, 10, 10]),
    "disjoint": ([0.0, 0, 1, 1], [3.0, 4, 5, 7]),
    "touching_in_x": ([0.0, 0, 2, 2], [2.0, 0, 4, 3]),
    "touching_in_y": ([0.0, 0, 2, 2], [0.0, 2, 3, 4]),
    "touching_at_a_corner": ([0.0, 0, 2, 2], [2.0, 2, 4, 4]),
    "zero_width_inside": ([1.0, 1, 1, 5], [0.0, 0, 4, 4]),
}


@pytest.mark.parametrize("pair", list(PAIRS))
@pytest.mark.parametrize("loss", list(REFERENCES), ids=lambda f: f.__name__)
def test_box_loss_gradients_match_torchvision_formula(loss, pair):
    # touching boxes and a zero-width box inside the other gave the intersection's one-sided
    # gradient (the overlap side's derivative times the other side): 0.28 where torchvision's
    # DIoU loss has 0.08 in the touching coordinate
    a0, b0 = (torch.tensor([v], dtype=torch.float64) for v in PAIRS[pair])
    a, b = a0.clone().requires_grad_(), b0.clone().requires_grad_()
    ra, rb = a0.clone().requires_grad_(), b0.clone().requires_grad_()
    out, want = loss(a, b), REFERENCES[loss](ra, rb)
    out.sum().backward()
    want.sum().backward()
    torch.testing.assert_close(out, want, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(a.grad, ra.grad, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(b.grad, rb.grad, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("loss", list(REFERENCES), ids=lambda f: f.__name__)
def test_box_loss_gradients_over_a_batch_with_touching_edges(loss):
    # a (2, 8, 4) batch on an integer grid: many pairs touch, nest or coincide exactly
    g = torch.Generator().manual_seed(3)
    lo = torch.randint(0, 4, (2, 8, 2), generator=g)
    a0 = torch.cat([lo, lo + torch.randint(1, 4, (2, 8, 2), generator=g)], -1).double()
    lo = torch.randint(0, 4, (2, 8, 2), generator=g)
    b0 = torch.cat([lo, lo + torch.randint(1, 4, (2, 8, 2), generator=g)], -1).double()
    a, b = a0.clone().requires_grad_(), b0.clone().requires_grad_()
    ra, rb = a0.clone().requires_grad_(), b0.clone().requires_grad_()
    loss(a, b, reduction="mean").backward()
    REFERENCES[loss](ra, rb).mean().backward()
    torch.testing.assert_close(a.grad, ra.grad, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(b.grad, rb.grad, rtol=1e-12, atol=1e-12)
