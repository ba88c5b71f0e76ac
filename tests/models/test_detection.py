import math

import numpy as np
import pytest
import torch

from mlcanon.datasets import make_shapes
from mlcanon.models import FPN, TinyFPNBackbone, TinyYOLOv3, assign_yolo_targets, tiny_yolo_v3
from mlcanon.vision import box_iou

ANCHORS = torch.tensor(
    [
        [[8.0, 8.0], [10.0, 13.0], [13.0, 10.0]],
        [[16.0, 16.0], [14.0, 20.0], [20.0, 14.0]],
        [[30.0, 30.0], [24.0, 34.0], [34.0, 24.0]],
    ]
)
STRIDES = (4, 8, 16)
GRIDS = [(16, 16), (8, 8), (4, 4)]


@pytest.mark.parametrize(("h", "w"), [(64, 64), (48, 80)])
def test_fpn_output_strides_and_channels(h, w):
    torch.manual_seed(0)
    feats = TinyFPNBackbone(out_channels=8)(torch.rand(2, 3, h, w))
    assert [tuple(f.shape) for f in feats] == [(2, 8, h // s, w // s) for s in STRIDES]


def test_fpn_top_down_pathway_carries_coarse_features_to_fine_levels():
    torch.manual_seed(0)
    fpn = FPN([4, 6, 8], out_channels=5)
    c = [torch.rand(1, 4, 8, 8), torch.rand(1, 6, 4, 4), torch.rand(1, 8, 2, 2, requires_grad=True)]
    fine = fpn(c)[0]
    fine.sum().backward()
    assert c[2].grad.abs().sum() > 0  # the finest output depends on the coarsest input
    # with the lateral maps zeroed, P_l is the smoothed, upsampled coarse sum
    with torch.no_grad():
        for lat in fpn.lateral[:2]:
            lat.weight.zero_()
            lat.bias.zero_()
        m3 = fpn.lateral[2](c[2])
        expected = fpn.smooth[0](m3.repeat_interleave(4, 2).repeat_interleave(4, 3))
        torch.testing.assert_close(fpn(c)[0], expected, rtol=1e-6, atol=1e-6)


def test_yolo_output_shapes_per_level():
    torch.manual_seed(0)
    model = tiny_yolo_v3(num_classes=4, width=8)
    outs = model(torch.rand(2, 3, 64, 48))
    assert [tuple(o.shape) for o in outs] == [(2, 3, 64 // s, 48 // s, 9) for s in STRIDES]


def test_target_assignment_hand_made():
    # box A 10x13 centred at (21, 30): exact match with anchor (10, 13) -> level 0, anchor 1,
    # cell (col 5, row 7). Box B 30x30 centred at (40, 24): IoU 1 with (30, 30) -> level 2,
    # anchor 0, cell (col 2, row 1). Box C 20x15: IoU with (20, 14) = 280/300 = 0.933, the best
    # (with (16, 16): 240/316) -> level 1, anchor 2, cell (col 1, row 6).
    boxes = [torch.tensor([[16.0, 23.5, 26.0, 36.5], [25.0, 9.0, 55.0, 39.0], [0.0, 45.0, 20, 60]])]
    labels = [torch.tensor([2, 0, 1])]
    t = assign_yolo_targets(boxes, labels, ANCHORS, STRIDES, GRIDS)
    where = [torch.nonzero(level["obj"]).tolist() for level in t]
    assert where == [[[0, 1, 7, 5]], [[0, 2, 6, 1]], [[0, 0, 1, 2]]]
    assert t[0]["cls"][0, 1, 7, 5] == 2 and t[2]["cls"][0, 0, 1, 2] == 0
    torch.testing.assert_close(t[1]["box"][0, 2, 6, 1], boxes[0][2])


def test_target_assignment_keeps_one_box_per_cell():
    """Two boxes of one size centred in the same cell claim one (anchor, cell): the last box
    given is kept for the class and the coordinates alike (on a GPU a repeated-index write could
    take the class of one and the box of the other; here both come from box 2)."""
    boxes = [torch.tensor([[16.0, 23.5, 26.0, 36.5], [16.5, 24.0, 26.5, 37.0]])]
    labels = [torch.tensor([2, 1])]
    t = assign_yolo_targets(boxes, labels, ANCHORS, STRIDES, GRIDS)
    assert torch.nonzero(t[0]["obj"]).tolist() == [[0, 1, 7, 5]]
    assert t[0]["cls"][0, 1, 7, 5] == 1
    torch.testing.assert_close(t[0]["box"][0, 1, 7, 5], boxes[0][1])


def _perfect_outputs(boxes, labels, num_classes=3):
    """Raw outputs that decode exactly to the ground truth: t_x = logit(frac), t_w = log(w/p_w),
    objectness and the right class at +20 logits, everything else at -20."""
    outs = [torch.full((len(boxes), 3, h, w, 5 + num_classes), -20.0) for h, w in GRIDS]
    t = assign_yolo_targets(boxes, labels, ANCHORS, STRIDES, GRIDS)
    for level, (out, tl) in enumerate(zip(outs, t, strict=True)):
        for b, a, i, j in torch.nonzero(tl["obj"]).tolist():
            x1, y1, x2, y2 = tl["box"][b, a, i, j].tolist()
            s = STRIDES[level]
            fx, fy = (x1 + x2) / 2 / s - j, (y1 + y2) / 2 / s - i
            pw, ph = ANCHORS[level, a].tolist()
            out[b, a, i, j, :4] = torch.tensor(
                [
                    math.log(fx / (1 - fx)),
                    math.log(fy / (1 - fy)),
                    math.log((x2 - x1) / pw),
                    math.log((y2 - y1) / ph),
                ]
            )
            out[b, a, i, j, 4] = 20.0
            out[b, a, i, j, 5 + int(tl["cls"][b, a, i, j])] = 20.0
    return outs


@pytest.mark.parametrize("seed", [0, 1])
def test_decoding_a_perfect_prediction_returns_the_ground_truth(seed):
    _, boxes, labels = make_shapes(4, max_objects=3, random_state=seed, noise=0.0)
    boxes = [torch.from_numpy(b) + 0.25 for b in boxes]  # centres off the cell borders
    labels = [torch.from_numpy(lab) for lab in labels]
    model = TinyYOLOv3(num_classes=3, anchors=ANCHORS)
    dets = model.postprocess(_perfect_outputs(boxes, labels), score_thresh=0.5)
    for det, gt, lab in zip(dets, boxes, labels, strict=True):
        order = torch.argsort(gt[:, 0] * 1000 + gt[:, 1])
        got = torch.argsort(det["boxes"][:, 0] * 1000 + det["boxes"][:, 1])
        torch.testing.assert_close(det["boxes"][got], gt[order], rtol=0, atol=1e-4)
        assert det["labels"][got].tolist() == lab[order].tolist()


def test_ignore_threshold_drops_good_non_responsible_predictions():
    boxes = [torch.tensor([[16.0, 23.5, 26.0, 36.5]])]
    labels = [torch.tensor([0])]
    outs = _perfect_outputs(boxes, labels)
    # a second anchor of the same cell also predicts the box exactly
    outs[0][0, 0, 7, 5, :4] = outs[0][0, 1, 7, 5, :4]
    outs[0][0, 0, 7, 5, 2:4] += torch.log(ANCHORS[0, 1] / ANCHORS[0, 0])
    model = TinyYOLOv3(num_classes=3, anchors=ANCHORS)
    # the duplicate has objectness logit 3: counted as a negative it costs BCE(3, 0)
    outs[0][0, 0, 7, 5, 4] = 3.0
    kept = model.loss(outs, boxes, labels, ignore_thresh=0.5)["obj"]
    counted = model.loss(outs, boxes, labels, ignore_thresh=1.0)["obj"]
    expected_gap = math.log1p(math.exp(3.0))  # BCE(3, target 0)
    assert counted - kept == pytest.approx(expected_gap, rel=1e-5)


def test_loss_is_finite_and_decreases_on_one_batch():
    torch.manual_seed(0)
    images, boxes, labels = make_shapes(8, random_state=0)
    model = TinyYOLOv3(width=16)
    opt = torch.optim.Adam(model.parameters(), lr=5e-3)
    x = torch.from_numpy(images)
    losses = []
    for _ in range(15):
        loss = model.loss(model(x), boxes, labels)["total"]
        assert torch.isfinite(loss)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


def test_decoded_boxes_iou_with_itself():
    # decode/IoU consistency: every decoded box is a valid xyxy box
    torch.manual_seed(0)
    model = TinyYOLOv3(width=8)
    dets = model.postprocess(model(torch.rand(1, 3, 32, 32)), score_thresh=0.0)
    b = dets[0]["boxes"]
    assert (b[:, 2:] > b[:, :2]).all()
    torch.testing.assert_close(torch.diagonal(box_iou(b, b)), torch.ones(len(b)))


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"num_classes": 0}, ValueError, "num_classes"),
        ({"anchors": np.ones((2, 3, 2))}, ValueError, "anchors"),
        ({"anchors": -np.ones((3, 3, 2))}, ValueError, "anchors"),
    ],
)
def test_model_errors(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        TinyYOLOv3(**kwargs)


def test_input_errors():
    model = TinyYOLOv3(width=8)
    with pytest.raises(ValueError, match="images"):
        model(torch.rand(3, 64, 64))
    with pytest.raises(ValueError, match="multiples of 16"):
        model(torch.rand(1, 3, 60, 64))
    with pytest.raises(ValueError, match="ignore_thresh"):
        model.loss(model(torch.rand(1, 3, 32, 32)), [torch.zeros(0, 4)], [[]], ignore_thresh=2.0)
    with pytest.raises(ValueError, match="in_channels_list"):
        FPN([], 8)
