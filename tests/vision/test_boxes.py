"""Box conversions, the IoU family and its losses: closed forms, properties, torchvision."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from mlcanon.vision import (
    box_area,
    box_convert,
    box_iou,
    complete_box_iou,
    complete_box_iou_loss,
    distance_box_iou,
    distance_box_iou_loss,
    generalized_box_iou,
    generalized_box_iou_loss,
    predicted_box_loss,
)

PAIRWISE = [box_iou, generalized_box_iou, distance_box_iou, complete_box_iou]
LOSSES = [generalized_box_iou_loss, distance_box_iou_loss, complete_box_iou_loss]
# An eps that changes no non-zero float64 denominator but still turns CIoU's 0/0 (identical
# boxes: 1 - IoU + v = 0) into 0, so that closed forms can be compared to ~1e-15.
TINY = 1e-300


def t(rows):
    return torch.tensor(rows, dtype=torch.float64)


@st.composite
def boxes(draw):
    k = draw(st.integers(1, 6))
    coord = st.floats(-50, 50, allow_nan=False)
    size = st.floats(0.1, 40, allow_nan=False)
    rows = []
    for _ in range(k):
        x, y, w, h = draw(coord), draw(coord), draw(size), draw(size)
        rows.append([x, y, x + w, y + h])
    return t(rows)


def test_box_convert_hand_case():
    xyxy = t([[1, 2, 5, 8]])
    assert torch.equal(box_convert(xyxy, "xyxy", "xywh"), t([[1, 2, 4, 6]]))
    assert torch.equal(box_convert(xyxy, "xyxy", "cxcywh"), t([[3, 5, 4, 6]]))
    assert torch.equal(box_convert(t([[3, 5, 4, 6]]), "cxcywh", "xywh"), t([[1, 2, 4, 6]]))
    assert torch.equal(box_area(xyxy), t([24]))


@given(boxes())
def test_box_convert_round_trips(b):
    for fmt in ("xywh", "cxcywh"):
        there = box_convert(b, "xyxy", fmt)
        torch.testing.assert_close(box_convert(there, fmt, "xyxy"), b, rtol=0, atol=1e-12)
    torch.testing.assert_close(
        box_convert(box_convert(b, "xyxy", "xywh"), "xywh", "cxcywh"),
        box_convert(b, "xyxy", "cxcywh"),
        rtol=0,
        atol=1e-12,
    )


def test_closed_forms_overlapping():
    a, b = t([[0, 0, 2, 2]]), t([[1, 1, 3, 3]])
    iou = 1 / 7  # intersection 1, union 4 + 4 - 1
    assert box_iou(a, b).item() == pytest.approx(iou, abs=1e-15)
    assert generalized_box_iou(a, b).item() == pytest.approx(iou - 2 / 9, abs=1e-15)  # C: 3x3
    # centres (1, 1) and (2, 2): rho^2 = 2, enclosing diagonal^2 = 18; equal aspect: v = 0
    assert distance_box_iou(a, b, eps=0).item() == pytest.approx(iou - 2 / 18, abs=1e-15)
    assert complete_box_iou(a, b, eps=0).item() == pytest.approx(iou - 2 / 18, abs=1e-15)


def test_closed_forms_disjoint_and_aspect():
    a, b = t([[0, 0, 1, 1]]), t([[2, 0, 3, 1]])
    assert box_iou(a, b).item() == 0
    assert generalized_box_iou(a, b).item() == pytest.approx(-1 / 3, abs=1e-15)
    assert distance_box_iou(a, b, eps=0).item() == pytest.approx(-4 / 10, abs=1e-15)
    p, g = t([[0, 0, 2, 1]]), t([[0, 0, 1, 2]])
    iou = 1 / 3
    v = 4 / math.pi**2 * (math.atan(1 / 2) - math.atan(2)) ** 2
    ciou = iou - 0.5 / 8 - v / (1 - iou + v) * v
    assert complete_box_iou(p, g, eps=0).item() == pytest.approx(ciou, abs=1e-15)
    expected_loss = 1 - iou + 0.5 / 8 + v / (1 - iou + v) * v
    assert complete_box_iou_loss(p, g, eps=0).item() == pytest.approx(expected_loss, abs=1e-15)


@given(boxes(), boxes())
def test_symmetry_and_bounds(a, b):
    iou, giou = box_iou(a, b), generalized_box_iou(a, b)
    diou, ciou = distance_box_iou(a, b), complete_box_iou(a, b)
    for fn in PAIRWISE:
        torch.testing.assert_close(fn(a, b), fn(b, a).T, rtol=0, atol=1e-12)
    assert ((iou >= 0) & (iou <= 1)).all()
    assert ((giou >= -1) & (giou <= iou + 1e-12)).all()  # GIoU <= IoU
    assert ((diou >= -1) & (diou <= iou + 1e-12)).all()
    assert (ciou <= diou + 1e-12).all()


@given(boxes(), st.floats(0.01, 100))
def test_scale_invariance(a, scale):
    b = a.flip(0) + 0.5
    for fn in (box_iou, generalized_box_iou):
        torch.testing.assert_close(fn(scale * a, scale * b), fn(a, b), rtol=1e-9, atol=1e-12)


@given(boxes())
def test_identical_boxes_give_one(a):
    for fn in PAIRWISE:
        torch.testing.assert_close(fn(a, a).diagonal(), torch.ones(len(a), dtype=a.dtype))
    for loss in LOSSES:
        assert loss(a, a, eps=TINY).abs().max() < 1e-12


@given(boxes(), boxes())
def test_losses_are_one_minus_the_pairwise_diagonal(a, b):
    n = min(len(a), len(b))
    a, b = a[:n], b[:n]
    for loss, fn in zip(LOSSES, PAIRWISE[1:], strict=True):
        kwargs = {} if fn is generalized_box_iou else {"eps": TINY}
        expected = 1 - fn(a, b, **kwargs).diagonal()
        torch.testing.assert_close(loss(a, b, eps=TINY), expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("loss", LOSSES)
def test_gradients_where_iou_is_zero(loss):
    pred = t([[0, 0, 1, 1], [5, 5, 6, 8]]).requires_grad_(True)
    target = t([[2, 0, 3, 1], [0, 0, 2, 2]])
    assert (box_iou(pred, target).diagonal() == 0).all()
    loss(pred, target, reduction="sum").backward()
    g = pred.grad
    assert torch.isfinite(g).all() and (g.abs().sum(1) > 0).all()
    # the plain IoU loss has no gradient there: nothing tells the box where to move
    plain = pred.detach().clone().requires_grad_(True)
    (1 - box_iou(plain, target).diagonal()).sum().backward()
    assert (plain.grad == 0).all()


@pytest.mark.parametrize("loss", LOSSES)
def test_loss_reductions_and_dtypes(loss):
    gen = torch.Generator().manual_seed(0)
    a = torch.rand(7, 4, generator=gen).cumsum(1)  # x1 < y1 < x2 < y2: valid boxes
    b = torch.rand(7, 4, generator=gen).cumsum(1)
    none = loss(a, b)
    assert none.shape == (7,) and none.dtype == torch.float32
    torch.testing.assert_close(loss(a, b, reduction="mean"), none.mean())
    torch.testing.assert_close(loss(a, b, reduction="sum"), none.sum())
    assert loss(a[:0], b[:0], reduction="mean").item() == 0


def test_integer_boxes_are_promoted():
    a = torch.tensor([[0, 0, 2, 2]])
    assert box_iou(a, a + 1).dtype == torch.get_default_dtype()
    assert box_iou(a, a + 1).item() == pytest.approx(1 / 7)


def test_errors():
    with pytest.raises(ValueError, match=r"boxes1 must have shape \(N, 4\), got \(3,\)"):
        box_iou(torch.zeros(3), torch.zeros(2, 4))
    with pytest.raises(TypeError, match=r"boxes2 must be a torch\.Tensor, got list"):
        generalized_box_iou(torch.zeros(1, 4), [[0, 0, 1, 1]])
    with pytest.raises(ValueError, match="in_fmt must be one of 'xyxy', 'xywh', 'cxcywh'"):
        box_convert(torch.zeros(1, 4), "xyhw", "xyxy")
    with pytest.raises(ValueError, match="reduction must be one of 'none', 'mean', 'sum'"):
        generalized_box_iou_loss(torch.zeros(1, 4), torch.zeros(1, 4), reduction="avg")
    with pytest.raises(ValueError, match="boxes1 and boxes2 must have the same shape"):
        distance_box_iou_loss(torch.zeros(2, 4), torch.zeros(3, 4))


def random_boxes(seed: int, n: int) -> torch.Tensor:
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 100, (n, 2))
    wh = rng.uniform(1, 50, (n, 2))
    return torch.tensor(np.hstack([xy, xy + wh]), dtype=torch.float32)


def family_by_definition(a, b, eps=1e-7):
    """IoU, GIoU, DIoU, CIoU and the three losses of one pair, from the papers, with torch
    scalars (0-d tensors) so that autograd differentiates the formula itself."""
    x1, y1, x2, y2 = a.unbind()
    u1, v1, u2, v2 = b.unbind()
    iw = max(min(x2, u2) - max(x1, u1), 0)
    ih = max(min(y2, v2) - max(y1, v1), 0)
    inter = iw * ih
    union = (x2 - x1) * (y2 - y1) + (u2 - u1) * (v2 - v1) - inter
    cw, ch = max(x2, u2) - min(x1, u1), max(y2, v2) - min(y1, v1)
    rho2 = ((x1 + x2) / 2 - (u1 + u2) / 2) ** 2 + ((y1 + y2) / 2 - (v1 + v2) / 2) ** 2
    v = (4 / math.pi**2) * (
        torch.atan((u2 - u1) / (v2 - v1)) - torch.atan((x2 - x1) / (y2 - y1))
    ) ** 2
    iou, iou_e = inter / union, inter / (union + eps)
    alpha = v / (1 - iou + v + eps)
    alpha_e = (v / (1 - iou_e + v + eps)).detach()  # CIoU's weight is not differentiated
    return {
        "box_iou": iou,
        "generalized_box_iou": iou - (cw * ch - union) / (cw * ch),
        "distance_box_iou": iou - rho2 / (cw**2 + ch**2 + eps),
        "complete_box_iou": iou - rho2 / (cw**2 + ch**2 + eps) - alpha * v,
        "generalized_box_iou_loss": 1 - iou_e + (cw * ch - union) / (cw * ch + eps),
        "distance_box_iou_loss": 1 - iou_e + rho2 / (cw**2 + ch**2 + eps),
        "complete_box_iou_loss": 1 - iou_e + rho2 / (cw**2 + ch**2 + eps) + alpha_e * v,
    }


@pytest.mark.parametrize("seed", range(3))
def test_pairwise_ops_match_the_definitions(seed):
    a, b = random_boxes(seed, 9).double(), random_boxes(seed + 100, 7).double()
    a[3] = b[2]  # identical boxes
    a[4] = torch.tensor([0.0, 0, 200, 200])  # one contains others
    for fn in PAIRWISE:
        expected = [[family_by_definition(p, q)[fn.__name__].item() for q in b] for p in a]
        torch.testing.assert_close(fn(a, b), t(expected), rtol=0, atol=1e-12)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("loss", LOSSES)
def test_losses_and_gradients_match_the_definitions(seed, loss):
    pred, target = random_boxes(seed, 12).double(), random_boxes(seed + 100, 12).double()
    pred[0] = target[0]  # identical
    # disjoint; no coordinate equal to the target's, where min/max have no derivative
    pred[1] = target[1] + torch.tensor([200.0, 3, 200, 3])
    ours = pred.clone().requires_grad_(True)
    loss(ours, target, reduction="sum").backward()
    plain = pred.clone().requires_grad_(True)
    values = [family_by_definition(p, q)[loss.__name__] for p, q in zip(plain, target, strict=True)]
    sum(values).backward()
    torch.testing.assert_close(
        loss(pred, target), t([v.item() for v in values]), rtol=0, atol=1e-12
    )
    # identical boxes (row 0) sit on the kinks of min/max: no gradient to compare there
    torch.testing.assert_close(ours.grad[1:], plain.grad[1:], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kind", ["giou", "diou", "ciou"])
def test_predicted_box_loss_matches_the_definitions_and_keeps_nan(kind):
    """A detector's decoded boxes, unchecked: the loss of the definitions (values and
    gradients) on valid boxes; a NaN or inverted prediction gives a NaN or a number, not the
    ValueError the user-facing losses raise; the targets, kind and shapes are still checked."""
    pred, target = random_boxes(5, 8).double(), random_boxes(105, 8).double()
    name = {"giou": "generalized", "diou": "distance", "ciou": "complete"}[kind] + "_box_iou_loss"
    ours = pred.clone().requires_grad_(True)
    got = predicted_box_loss(kind, ours, target, "sum")
    got.backward()
    plain = pred.clone().requires_grad_(True)
    want = sum(family_by_definition(p, q)[name] for p, q in zip(plain, target, strict=True))
    want.backward()
    torch.testing.assert_close(got, want.detach(), rtol=0, atol=1e-12)
    torch.testing.assert_close(ours.grad, plain.grad, rtol=1e-10, atol=1e-12)
    bad = pred.clone()
    bad[0, 0] = float("nan")
    bad[1] = bad[1, [2, 3, 0, 1]]  # x2 < x1: a box no user may pass
    out = predicted_box_loss(kind, bad, target)
    assert torch.isnan(out[0]) and torch.isfinite(out[1:]).all()
    with pytest.raises(ValueError, match=r"boxes1\[0\] = \[nan, .* is not a valid xyxy box"):
        generalized_box_iou_loss(bad, target)
    with pytest.raises(ValueError, match="kind must be one of 'giou', 'diou', 'ciou'"):
        predicted_box_loss("iou", pred, target)
    with pytest.raises(ValueError, match=r"boxes1 must be a Tensor of shape \(\.\.\., 4\)"):
        predicted_box_loss(kind, pred[:, :3], target)
    with pytest.raises(ValueError, match=r"boxes2\[0\] = .* is not a valid xyxy box"):
        predicted_box_loss(kind, pred, target[:, [2, 3, 0, 1]])


@pytest.mark.parametrize("seed", range(3))
def test_box_iou_against_pycocotools(seed):
    mask = pytest.importorskip("pycocotools.mask")
    a, b = random_boxes(seed, 30).double(), random_boxes(seed + 100, 20).double()
    a[:3] = b[:3]  # identical pairs give 1
    xywh = [box_convert(x, "xyxy", "xywh").numpy() for x in (a, b)]
    # pycocotools takes (x, y, w, h) and a crowd flag per ground truth (crowd changes the union)
    expected = mask.iou(xywh[0], xywh[1], np.zeros(len(b), dtype=np.uint8))
    np.testing.assert_allclose(box_iou(a, b).numpy(), expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("seed", range(3))
def test_against_torchvision(seed):
    ops = pytest.importorskip("torchvision.ops")  # torchvision is optional
    a, b = random_boxes(seed, 30), random_boxes(seed + 100, 20)
    for name in ("box_iou", "generalized_box_iou", "distance_box_iou", "complete_box_iou"):
        ours = globals()[name](a, b)
        torch.testing.assert_close(ours, getattr(ops, name)(a, b), rtol=1e-5, atol=1e-6)
    for name in ("generalized_box_iou_loss", "distance_box_iou_loss", "complete_box_iou_loss"):
        ours = globals()[name](a[:20], b)
        torch.testing.assert_close(ours, getattr(ops, name)(a[:20], b), rtol=1e-5, atol=1e-6)
    for fmt in ("xywh", "cxcywh"):
        torch.testing.assert_close(box_convert(a, "xyxy", fmt), ops.box_convert(a, "xyxy", fmt))
    torch.testing.assert_close(box_area(a), ops.box_area(a))


@pytest.mark.parametrize("device", ["cpu", "meta"])
def test_ops_follow_dtype_and_device(device):
    a = t([[0, 0, 2, 2], [1, 1, 4, 3]]).to(device)
    for fn in PAIRWISE:
        out = fn(a, a[:1])
        assert out.shape == (2, 1) and out.dtype == torch.float64 and out.device.type == device
    for loss in LOSSES:
        out = loss(a, a.flip(0))
        assert out.shape == (2,) and out.dtype == torch.float64 and out.device.type == device
    converted = box_convert(a, "xyxy", "cxcywh")
    assert converted.dtype == torch.float64 and converted.device.type == device
