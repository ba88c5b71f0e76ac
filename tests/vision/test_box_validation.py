"""One box-validation rule (check_boxes) across box ops, NMS, anchors, the box coder and the box
losses: reversed boxes and non-finite coordinates raise a ValueError naming the parameter, the
box's index and its values."""

import numpy as np
import pytest
import torch

from mlcanon.vision import (
    AnchorGenerator,
    BoxCoder,
    batched_nms,
    box_area,
    box_convert,
    box_iou,
    check_boxes,
    complete_box_iou,
    complete_box_iou_loss,
    distance_box_iou,
    distance_box_iou_loss,
    generalized_box_iou,
    generalized_box_iou_loss,
    nms,
    soft_nms,
    wh_iou,
)

GOOD = torch.tensor([[0.0, 0, 10, 10], [5, 5, 20, 8]])
REVERSED_X = torch.tensor([[0.0, 0, 10, 10], [10, 0, 0, 10]])  # box 1: x2 < x1
REVERSED_Y = torch.tensor([[0.0, 10, 10, 0]])  # box 0: y2 < y1
NAN = torch.tensor([[0.0, 0, 1, 1], [0, 0, 1, 1], [0, float("nan"), 1, 1]])
INF = torch.tensor([[0.0, 0, float("inf"), 1]])

PAIRWISE = [box_iou, generalized_box_iou, distance_box_iou, complete_box_iou]
LOSSES = [generalized_box_iou_loss, distance_box_iou_loss, complete_box_iou_loss]


def test_the_rule_and_its_message():
    with pytest.raises(
        ValueError, match=r"boxes1\[1\] = \[10\.0, 0\.0, 0\.0, 10\.0\] .* x2 - x1 < 0"
    ):
        check_boxes(REVERSED_X, "boxes1")
    with pytest.raises(ValueError, match=r"b\[0\] = .* y2 - y1 < 0 \(1 invalid box\(es\) in b\)"):
        check_boxes(REVERSED_Y, "b")
    with pytest.raises(ValueError, match=r"boxes\[2\] = \[0\.0, nan, 1\.0, 1\.0\] .* non-finite"):
        check_boxes(NAN)
    with pytest.raises(ValueError, match=r"boxes\[0\] .* non-finite"):
        check_boxes(INF)
    with pytest.raises(ValueError, match=r"boxes\[0, 1\] .* x2 - x1 < 0"):
        check_boxes(REVERSED_X[None], ndim=None)
    point = torch.tensor([[1.0, 1, 1, 3]])  # zero width: valid, unless positive sizes are asked
    assert check_boxes(point) is point
    with pytest.raises(ValueError, match=r"x2 - x1 <= 0 .* with x2 - x1 > 0 and y2 - y1 > 0"):
        check_boxes(point, positive=True)
    with pytest.raises(
        ValueError, match=r"boxes\[0\] = \[0\.0, 0\.0, -1\.0, 1\.0\] .*xywh box: w < 0"
    ):
        check_boxes(torch.tensor([[0.0, 0, -1, 1]]), fmt="xywh")
    with pytest.raises(TypeError, match=r"must hold real numbers, got dtype=torch\.complex64"):
        check_boxes(torch.zeros(1, 4, dtype=torch.complex64))
    # integers are computed in float64, exact where float32 rounds (above 2**24)
    assert check_boxes(torch.tensor([[0, 0, 1, 1]])).dtype == torch.float64


def test_meta_tensors_are_checked_for_shape_only():
    meta = torch.empty(5, 4, device="meta", dtype=torch.float64)
    assert check_boxes(meta) is meta
    with pytest.raises(ValueError, match=r"must have shape \(N, 4\), got \(5, 3\)"):
        check_boxes(torch.empty(5, 3, device="meta"))


@pytest.mark.parametrize("fn", PAIRWISE)
@pytest.mark.parametrize("bad", [REVERSED_X, REVERSED_Y, NAN, INF])
def test_pairwise_ops_refuse(fn, bad):
    with pytest.raises(ValueError, match=r"boxes1\[\d\] = .* is not a valid xyxy box"):
        fn(bad, GOOD)
    with pytest.raises(ValueError, match=r"boxes2\[\d\] = .* is not a valid xyxy box"):
        fn(GOOD, bad)


def test_issue_cases():
    # formerly NaN: a reversed box gave union 0 and IoU 0 / 0
    with pytest.raises(ValueError, match=r"boxes1\[0\] = \[10\.0, 0\.0, 0\.0, 10\.0\]"):
        box_iou(torch.tensor([[10.0, 0, 0, 10]]), torch.tensor([[0.0, 0, 10, 10]]))
    # formerly both kept: two identical reversed boxes had a negative area and IoU -1
    with pytest.raises(ValueError, match=r"boxes\[0\] = \[10\.0, 10\.0, 0\.0, 0\.0\]"):
        nms(torch.tensor([[10.0, 10, 0, 0]] * 2), torch.tensor([0.9, 0.8]), 0.5)
    # formerly -1
    with pytest.raises(ValueError, match=r"wh1\[0\] = \[-1\.0, 1\.0\] is not a valid \(w, h\)"):
        wh_iou(np.array([[-1.0, 1]]), np.array([[1.0, 1]]))
    # formerly a TypeError about float idxs: empty input gives an empty result, as torchvision
    for idxs in (torch.zeros(0), torch.zeros(0, dtype=torch.int64)):
        keep = batched_nms(torch.zeros(0, 4), torch.zeros(0), idxs, 0.5)
        assert keep.shape == (0,) and keep.dtype == torch.int64


@pytest.mark.parametrize("loss", LOSSES)
def test_losses_refuse(loss):
    with pytest.raises(ValueError, match=r"boxes1\[1\] = \[10\.0, 0\.0, 0\.0, 10\.0\]"):
        loss(REVERSED_X, GOOD)
    with pytest.raises(ValueError, match=r"boxes2\[2\] .* non-finite"):
        loss(GOOD[[0, 0, 0]], NAN)


def test_nms_family_refuses():
    scores = torch.tensor([0.9, 0.8])
    for call in (
        lambda b: nms(b, scores, 0.5),
        lambda b: batched_nms(b, scores, torch.tensor([0, 1]), 0.5),
        lambda b: soft_nms(b, scores),
    ):
        with pytest.raises(ValueError, match=r"boxes\[1\] = \[10\.0, 0\.0, 0\.0, 10\.0\]"):
            call(REVERSED_X)
        with pytest.raises(ValueError, match=r"boxes\[0\] .* non-finite"):
            call(torch.cat([INF, GOOD[:1]]))


def test_conversions_and_area_refuse():
    with pytest.raises(ValueError, match=r"boxes\[1\] .* x2 - x1 < 0"):
        box_area(REVERSED_X)
    with pytest.raises(
        ValueError, match=r"boxes\[0\] = \[0\.0, 0\.0, 2\.0, -1\.0\] .*cxcywh box: h < 0"
    ):
        box_convert(torch.tensor([[0.0, 0, 2, -1]]), "cxcywh", "xyxy")


def test_box_coder_refuses():
    coder = BoxCoder()
    with pytest.raises(ValueError, match=r"reference_boxes\[1\] = .* x2 - x1 <= 0"):
        coder.encode_single(REVERSED_X, GOOD)
    # zero-width boxes have no logarithm: the coder needs positive sizes
    flat = torch.tensor([[0.0, 0, 10, 10], [3, 3, 3, 8]])
    with pytest.raises(ValueError, match=r"proposals\[1\] = \[3\.0, 3\.0, 3\.0, 8\.0\] .* <= 0"):
        coder.encode_single(GOOD, flat)
    with pytest.raises(ValueError, match=r"boxes\[2\] .* non-finite"):
        coder.decode_single(torch.zeros(3, 4), NAN)


def test_wh_iou_rule():
    with pytest.raises(ValueError, match=r"wh2\[1\] = \[1\.0, nan\] .* finite and >= 0"):
        wh_iou(np.ones((2, 2)), np.array([[1.0, 1], [1, np.nan]]))
    with pytest.raises(ValueError, match=r"wh1\[0\] = \[-2\.0, 1\.0\]"):
        wh_iou(torch.tensor([[-2.0, 1]]), torch.ones(1, 2))
    with pytest.raises(ValueError, match=r"wh1 must have shape \(n, 2\), got \(3, 3\)"):
        wh_iou(np.ones((3, 3)), np.ones((1, 2)))
    assert wh_iou(np.zeros((0, 2)), np.ones((2, 2))).shape == (0, 2)


def test_anchor_generator_refuses_bad_sizes():
    gen = AnchorGenerator(((32,),))
    with pytest.raises(ValueError, match=r"feature_map_sizes must hold pairs of integers >= 1"):
        gen((64, 64), [(0, 4)])
    with pytest.raises(ValueError, match=r"feature_map_sizes must not exceed image_size"):
        gen((64, 64), [(128, 128)])
    with pytest.raises(ValueError, match=r"strides must hold pairs of integers >= 1, got \(0, 8\)"):
        gen.grid_anchors([(2, 2)], [(0, 8)])
    with pytest.raises(ValueError, match=r"image_size must hold pairs of integers >= 1"):
        gen((64.5, 64), [(4, 4)])
