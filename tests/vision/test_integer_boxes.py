"""Integer boxes with coordinates above 2**24 (where float32 holds only even integers): the box
ops compute in float64, so the answers are those of exact integer arithmetic (torchvision keeps
int64 boxes in int64 for the areas and intersections), returned in the default float dtype."""

import math
from fractions import Fraction

import pytest
import torch

from mlcanon.vision import (
    BoxCoder,
    box_area,
    box_convert,
    box_iou,
    distance_box_iou,
    distance_box_iou_loss,
    generalized_box_iou,
    generalized_box_iou_loss,
    wh_iou,
)

BIG = 2**24 + 1  # odd: float32 rounds it to 2**24
BOXES = [[BIG, 0, BIG + 3, 3], [BIG + 1, 1, BIG + 6, 3], [BIG + 2, 0, BIG + 4, 2]]


def _exact(a, b):
    """Intersection, union, enclosing area, squared centre distance and enclosing diagonal of
    two xyxy boxes, as exact fractions."""
    iw = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    cw, ch = max(a[2], b[2]) - min(a[0], b[0]), max(a[3], b[3]) - min(a[1], b[1])
    rho2 = Fraction(a[0] + a[2] - b[0] - b[2], 2) ** 2 + Fraction(a[1] + a[3] - b[1] - b[3], 2) ** 2
    return Fraction(inter), Fraction(union), Fraction(cw * ch), rho2, Fraction(cw**2 + ch**2)


def _table(f):
    return torch.tensor([[float(f(*_exact(a, b))) for b in BOXES] for a in BOXES])


@pytest.mark.parametrize("dtype", [torch.int64, torch.int32])
def test_pairwise_ops_on_integer_boxes_above_2_24_are_exact(dtype):
    # float32 rounding first gave box_area 12, 12 and 0 for areas 9, 10 and 4
    b = torch.tensor(BOXES, dtype=dtype)
    want_area = torch.tensor([float((x2 - x1) * (y2 - y1)) for x1, y1, x2, y2 in BOXES])
    assert box_area(b).dtype == torch.get_default_dtype()
    torch.testing.assert_close(box_area(b), want_area, rtol=0, atol=0)
    iou = box_iou(b, b)
    assert iou.dtype == torch.get_default_dtype()
    torch.testing.assert_close(iou, _table(lambda i, u, c, r, d: i / u), rtol=1e-7, atol=0)
    want = _table(lambda i, u, c, r, d: i / u - (c - u) / c)
    torch.testing.assert_close(generalized_box_iou(b, b), want, rtol=1e-7, atol=1e-7)
    want = _table(lambda i, u, c, r, d: i / u - r / d)  # eps = 1e-7 below the tolerance
    torch.testing.assert_close(distance_box_iou(b, b), want, rtol=1e-6, atol=1e-6)
    wh = b[:, 2:] - b[:, :2]
    assert wh_iou(wh, wh).dtype == torch.get_default_dtype()


def test_box_convert_and_losses_on_integer_boxes_above_2_24():
    b = torch.tensor(BOXES)
    want = [[x1, y1, x2 - x1, y2 - y1] for x1, y1, x2, y2 in BOXES]
    want = torch.tensor(want, dtype=torch.float64)
    # the widths were 4, 6 and 0 (float32 corners) for 3, 5 and 2
    torch.testing.assert_close(box_convert(b, "xyxy", "xywh").double(), want, rtol=1e-7, atol=0)
    a, g = b[[0, 1]], b[[1, 2]]
    pairs = [_exact(BOXES[0], BOXES[1]), _exact(BOXES[1], BOXES[2])]
    giou = torch.tensor([float(1 - i / u + (c - u) / c) for i, u, c, r, d in pairs])
    diou = torch.tensor([float(1 - i / u + r / d) for i, u, c, r, d in pairs])
    torch.testing.assert_close(generalized_box_iou_loss(a, g), giou, rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(distance_box_iou_loss(a, g), diou, rtol=1e-6, atol=1e-6)


def test_box_coder_encodes_integer_boxes_above_2_24_exactly():
    gt, anchors = torch.tensor(BOXES[1:2]), torch.tensor(BOXES[0:1])
    # centres (BIG + 3.5, 2) and (BIG + 1.5, 1.5), sizes (5, 2) and (3, 3)
    want = torch.tensor([[2 / 3, 1 / 6, math.log(5 / 3), math.log(2 / 3)]])
    torch.testing.assert_close(BoxCoder().encode_single(gt, anchors), want, rtol=1e-6, atol=1e-7)
