"""Edge cases of the box ops found by an adversarial audit: half precision, integer scores,
tensors without values, and parameters that used to fail with an unrelated error. Expected
values are written out here (closed forms and the formulas in float64)."""

import math

import numpy as np
import pytest
import torch

from mlcanon.vision import (
    AnchorGenerator,
    BoxCoder,
    batched_nms,
    box_convert,
    complete_box_iou,
    complete_box_iou_loss,
    distance_box_iou,
    distance_box_iou_loss,
    generalized_box_iou_loss,
    kmeans_anchors,
    nms,
    receptive_field_single_path,
    soft_nms,
    wh_iou,
)

HALVES = [torch.float16, torch.bfloat16]
LOSSES = [generalized_box_iou_loss, distance_box_iou_loss, complete_box_iou_loss]
BOXES = torch.tensor([[0.0, 0, 10, 10], [5, 5, 15, 15], [20, 20, 30, 30]])


@pytest.mark.parametrize("dtype", HALVES)
def test_wh_iou_of_large_half_precision_sizes_does_not_overflow(dtype):
    # 300 x 300 against 200 x 200: 40000 / 90000; the area 90000 overflows float16 (max 65504)
    iou = wh_iou(torch.full((2, 2), 300.0, dtype=dtype), torch.full((1, 2), 200.0, dtype=dtype))
    torch.testing.assert_close(iou, torch.full((2, 1), 4 / 9), rtol=1e-6, atol=0)


@pytest.mark.parametrize("dtype", [torch.bool, torch.complex64])
def test_wh_iou_refuses_non_real_tensors(dtype):
    with pytest.raises(TypeError, match=rf"wh1 must hold real numbers, got dtype={dtype}"):
        wh_iou(torch.ones(1, 2, dtype=dtype), torch.ones(1, 2, dtype=dtype))


def test_soft_nms_integer_scores_decay_to_fractions():
    keep, scores = soft_nms(BOXES, torch.tensor([3, 2, 1]), sigma=0.5)
    # box 1 overlaps box 0 by 25 / 175; box 2 overlaps neither: s_i * exp(-IoU^2 / sigma)
    assert keep.tolist() == [0, 1, 2]
    assert scores.dtype == torch.get_default_dtype()
    want = [3.0, 2 * math.exp(-((25 / 175) ** 2) / 0.5), 1.0]
    np.testing.assert_allclose(scores.numpy(), want, rtol=1e-6)


@pytest.mark.parametrize(
    "call",
    [
        lambda b, s: nms(b, s, 0.5),
        lambda b, s: batched_nms(b, s, torch.zeros(len(s), dtype=torch.long, device=s.device), 0.5),
        lambda b, s: soft_nms(b, s),
    ],
)
def test_suppression_needs_values_and_real_scores(call):
    scores = torch.tensor([0.9, 0.8, 0.7])
    for boxes, s in ((BOXES.to("meta"), scores.to("meta")), (BOXES.to("meta"), scores)):
        with pytest.raises(ValueError, match=r"must hold values: .* meta device have none"):
            call(boxes, s)
    for bad in (scores > 0.75, scores.to(torch.complex64)):
        with pytest.raises(TypeError, match=r"scores must hold real numbers, got dtype"):
            call(BOXES, bad)


def _box_losses_by_formula(a, b):
    """GIoU, DIoU and CIoU losses written out in float64, eps = 1e-7 as the losses:
    GIoU = 1 - IoU + (C - U) / C, DIoU = 1 - IoU + rho^2 / c^2 (centre distance over the
    enclosing diagonal), CIoU = DIoU + alpha v with v = 4 / pi^2 (atan(w_b / h_b) -
    atan(w_a / h_a))^2 and alpha = v / (1 - IoU + v)."""
    a, b = a.double(), b.double()
    iw = (torch.minimum(a[:, 2], b[:, 2]) - torch.maximum(a[:, 0], b[:, 0])).clamp(min=0)
    ih = (torch.minimum(a[:, 3], b[:, 3]) - torch.maximum(a[:, 1], b[:, 1])).clamp(min=0)
    inter = iw * ih
    wa, ha, wb, hb = a[:, 2] - a[:, 0], a[:, 3] - a[:, 1], b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]
    union = wa * ha + wb * hb - inter
    iou = inter / (union + 1e-7)
    cw = torch.maximum(a[:, 2], b[:, 2]) - torch.minimum(a[:, 0], b[:, 0])
    ch = torch.maximum(a[:, 3], b[:, 3]) - torch.minimum(a[:, 1], b[:, 1])
    rho2 = ((a[:, 0] + a[:, 2] - b[:, 0] - b[:, 2]) / 2) ** 2
    rho2 = rho2 + ((a[:, 1] + a[:, 3] - b[:, 1] - b[:, 3]) / 2) ** 2
    diou = 1 - iou + rho2 / (cw**2 + ch**2 + 1e-7)
    v = 4 / math.pi**2 * (torch.atan(wb / hb) - torch.atan(wa / ha)) ** 2
    return {
        generalized_box_iou_loss: 1 - iou + (cw * ch - union) / (cw * ch + 1e-7),
        distance_box_iou_loss: diou,
        complete_box_iou_loss: diou + v / (1 - iou + v + 1e-7) * v,
    }


@pytest.mark.parametrize("dtype", HALVES)
@pytest.mark.parametrize("loss", LOSSES)
def test_box_losses_come_back_in_the_half_dtype_of_the_boxes(loss, dtype):
    # rectangles of different aspect ratios (CIoU's v term), areas that overflow float16
    rects = torch.tensor([[0.0, 0, 10, 20], [5, 5, 25, 15], [20, 20, 30, 24]])
    a, b = (300 * rects).to(dtype), (300 * rects.flip(0)).to(dtype)
    out = loss(a, b)
    assert out.dtype == dtype and torch.isfinite(out).all()
    assert loss(a, b, reduction="sum").dtype == dtype
    # one rounding to the half dtype (relative 2^-8 at most), after a float32 computation
    # whose error on terms of size ~1 stays below 1e-6
    want = _box_losses_by_formula(a, b)[loss]
    torch.testing.assert_close(out.double(), want, rtol=2**-8, atol=1e-6)


@pytest.mark.parametrize("boxes", [[[0, 0, 1, 1]], "abc", None])
def test_box_convert_names_boxes_that_are_not_a_tensor(boxes):
    with pytest.raises(TypeError, match=r"boxes must be a torch\.Tensor"):
        box_convert(boxes, "xyxy", "cxcywh")


@pytest.mark.parametrize("dtype", HALVES)
def test_box_convert_and_box_coding_keep_half_precision(dtype):
    a = BOXES.to(dtype)
    x1, y1, x2, y2 = a.double().unbind(1)
    cxcywh = torch.stack(((x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1), 1)
    torch.testing.assert_close(box_convert(a, "xyxy", "cxcywh"), cxcywh.to(dtype), rtol=0, atol=0)
    assert box_convert(a, "xyxy", "xyxy").dtype == dtype
    gt, anchors = a[:2], a[1:].double()
    codes = BoxCoder().encode_single(gt, anchors.to(dtype))
    g, p = cxcywh[:2], cxcywh[1:]  # (tx, ty, tw, th) of R-CNN's Appendix C, in float64
    want = torch.stack(
        (
            (g[:, 0] - p[:, 0]) / p[:, 2],
            (g[:, 1] - p[:, 1]) / p[:, 3],
            torch.log(g[:, 2] / p[:, 2]),
            torch.log(g[:, 3] / p[:, 3]),
        ),
        1,
    )
    assert codes.dtype == dtype
    torch.testing.assert_close(codes, want.to(dtype), rtol=0, atol=0)


@pytest.mark.parametrize(
    "call",
    [
        *[lambda eps, f=f: f(BOXES, BOXES, eps=eps) for f in LOSSES],
        lambda eps: distance_box_iou(BOXES, BOXES, eps=eps),
        lambda eps: complete_box_iou(BOXES, BOXES, eps=eps),
    ],
)
def test_eps_is_a_non_negative_number(call):
    with pytest.raises(ValueError, match=r"eps must be >= 0\.0, got -1\.0"):
        call(-1.0)
    with pytest.raises(ValueError, match="eps must be finite, got nan"):
        call(float("nan"))
    with pytest.raises(TypeError, match="eps must be Real, got str"):
        call("1e-7")


def test_constructor_and_seed_arguments():
    with pytest.raises(ValueError, match=r"weights must be 4 numbers .* got 5"):
        BoxCoder(weights=5)
    with pytest.raises(ValueError, match=r"aspect_ratios must be a tuple of non-empty tuples"):
        AnchorGenerator(((32,),), ((),))
    wh = np.random.default_rng(0).uniform(1, 50, (20, 2))
    for init in ([[-1.0, 1], [2, 2]], [[0.0, 0], [2, 2]]):
        with pytest.raises(ValueError, match=r"init must have shape \(2, 2\) with positive"):
            kmeans_anchors(wh, 2, init=np.array(init))


def test_single_path_receptive_field_takes_numpy_integers():
    # kernels 3, 3, 2 with strides 2, 2, 1 and left paddings 1, 1, 0 (Distill eqs. 2, 3, 5):
    # r = 2*1 + 2*2 + 1*4 + 1 = 11, S = 4, P = 1*1 + 1*2 = 3
    rf = receptive_field_single_path(
        np.array([3, 3, 2]), (np.int64(2), np.int32(2), 1), paddings=np.array([1, 1, 0])
    )
    assert (rf.size, rf.stride, rf.padding) == ((11,), (4,), (3,))
    for bad in (3, None, "33", torch.tensor([3])):
        with pytest.raises(TypeError, match="kernel_sizes must be a sequence of ints, got"):
            receptive_field_single_path(bad, [1])
