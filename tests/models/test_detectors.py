"""The detectors on any device and float dtype, their backbone, and their answers to bad
targets and images."""

import math

import numpy as np
import pytest
import torch

from mlcanon.datasets import SHAPES_SPLITS, load_shapes, make_shapes
from mlcanon.models import (
    MobileNetV2FPN,
    TinyRetinaNet,
    TinyYOLOv3,
    decode_yolo,
    retinanet_mobilenet_v2,
    yolov3_mobilenet_v2,
)
from mlcanon.train._detection import ShapesDetection, collate

BOX = [[4.0, 6.0, 20.0, 30.0]]


def _yolo():
    torch.manual_seed(0)
    return TinyYOLOv3(num_classes=3, width=8)


def _retina():
    torch.manual_seed(0)
    return TinyRetinaNet(num_classes=3, width=8, num_convs=1)


def _loss(model, images, boxes, labels):
    out = model(images)
    if isinstance(model, TinyRetinaNet):
        return model.loss(out, boxes, labels, tuple(images.shape[-2:]))
    return model.loss(out, boxes, labels)


def _post(model, images):
    out = model(images)
    if isinstance(model, TinyRetinaNet):
        return model.postprocess(out, tuple(images.shape[-2:]), score_thresh=0.0)
    return model.postprocess(out, score_thresh=0.0)


@pytest.mark.parametrize("build", [yolov3_mobilenet_v2, retinanet_mobilenet_v2])
def test_mobilenet_detectors_forward_on_meta(build):
    model = build(num_classes=3).to("meta")
    out = model(torch.empty(2, 3, 64, 96, device="meta"))
    tensors = out if isinstance(out, list) else out["cls_logits"] + out["bbox_regression"]
    assert all(t.device.type == "meta" for t in tensors)


def test_anchor_generation_and_decoding_on_meta():
    model = _retina().to("meta")
    anchors = model.anchors((64, 64))
    assert all(a.device.type == "meta" for a in anchors)
    assert [len(a) for a in anchors] == [16 * 16 * 9, 8 * 8 * 9, 4 * 4 * 9]
    yolo = _yolo().to("meta")
    boxes = decode_yolo(yolo(torch.empty(1, 3, 64, 64, device="meta")), yolo.anchors, yolo.strides)
    assert [tuple(b.shape) for b in boxes] == [(1, 3, 64 // s, 64 // s, 4) for s in (4, 8, 16)]
    assert all(b.device.type == "meta" for b in boxes)


@pytest.mark.parametrize("build", [_yolo, _retina])
def test_float64_forward_loss_and_postprocess_stay_float64(build):
    model = build().double()
    images = torch.rand(2, 3, 64, 64, dtype=torch.float64)
    parts = _loss(model, images, [torch.tensor(BOX), torch.zeros(0, 4)], [[1], []])
    assert all(v.dtype == torch.float64 for v in parts.values())
    parts["total"].backward()
    dets = _post(model, images)
    assert dets[0]["boxes"].dtype == torch.float64 and dets[0]["scores"].dtype == torch.float64


def test_yolo_decoding_in_float64_is_exact_to_float64_precision():
    model = _yolo().double()
    out = [torch.zeros(1, 3, h, h, 8, dtype=torch.float64) for h in (16, 8, 4)]
    boxes = decode_yolo(out, model.anchors, model.strides)
    # t = 0: centre (0.5 + col) * stride, size = the anchor (float32 buffer cast to float64)
    s, (pw, ph) = 4, model.anchors[0, 0].double().tolist()
    want = [(0.5 + 3) * s - pw / 2, (0.5 + 2) * s - ph / 2, (0.5 + 3) * s + pw / 2]
    assert boxes[0].dtype == torch.float64
    assert boxes[0][0, 0, 2, 3, :3].tolist() == pytest.approx(want, abs=1e-12)


def test_yolo_half_precision_keeps_large_boxes_finite():
    """t_w = t_h = 8 (the clamp) with a 30-pixel anchor is a 89,000-pixel box, past float16's
    largest value (65504): the sizes stop at a quarter of it, the edges stay finite."""
    model = _yolo()
    out = [torch.zeros(1, 3, h, h, 8, dtype=torch.float16) for h in (16, 8, 4)]
    for t in out:
        t[..., 2:4] = 8.0
    boxes = decode_yolo(out, model.anchors, model.strides)
    assert all(b.dtype == torch.float16 and torch.isfinite(b).all() for b in boxes)
    widths = torch.cat([(b[..., 2] - b[..., 0]).flatten() for b in boxes]).float()
    assert widths.max() <= 65504 / 4
    loss = model.loss(out, [torch.tensor(BOX)], [[1]])
    assert torch.isfinite(loss["total"])
    assert len(model.postprocess(out)) == 1


@pytest.mark.parametrize("build", [_yolo, _retina])
@pytest.mark.parametrize(
    ("boxes", "labels", "match"),
    [
        ([[10.0, 4.0, 2.0, 20.0]], [0], r"boxes\[0\].*x2 - x1"),  # x2 < x1
        ([[4.0, 4.0, 4.0, 20.0]], [0], r"boxes\[0\].*x2 - x1"),  # zero width
        ([[4.0, math.nan, 12.0, 20.0]], [0], r"boxes\[0\].*non-finite"),
        ([[4.0, 4.0, 12.0, 20.0]], [3], r"labels\[0\]\[0\] = 3 is outside \[0, num_classes=3\)"),
        ([[4.0, 4.0, 12.0, 20.0]], [-1], r"labels\[0\]\[0\] = -1"),
        ([[4.0, 4.0, 12.0, 20.0]], [0, 1], r"labels\[0\] must hold 1 integer"),
        ([[4.0, 4.0, 12.0]], [0], r"boxes\[0\] must have shape"),
    ],
)
def test_bad_targets_are_refused(build, boxes, labels, match):
    model = build()
    with pytest.raises(ValueError, match=match):
        _loss(model, torch.rand(1, 3, 32, 32), [torch.tensor(boxes)], [torch.tensor(labels)])


@pytest.mark.parametrize("build", [_yolo, _retina])
def test_wrong_number_of_target_lists(build):
    with pytest.raises(ValueError, match=r"one entry per image \(2\), got 1 and 1"):
        _loss(build(), torch.rand(2, 3, 32, 32), [torch.tensor(BOX)], [[0]])


@pytest.mark.parametrize("build", [_yolo, _retina])
def test_images_without_boxes_and_boxes_outside_the_image(build):
    model = build()
    images = torch.rand(2, 3, 32, 32)
    none = _loss(model, images, [torch.zeros(0, 4), torch.zeros(0, 4)], [[], []])
    assert torch.isfinite(none["total"]) and none["total"] > 0  # only background terms
    # a box reaching past the right and bottom edges is learned from, as documented
    outside = _loss(
        model, images, [torch.tensor([[20.0, 24.0, 40.0, 44.0]]), torch.zeros(0, 4)], [[2], []]
    )
    assert torch.isfinite(outside["total"]) and outside["total"] > none["total"]


@pytest.mark.parametrize("build", [_yolo, _retina, lambda: MobileNetV2FPN(out_channels=8)])
@pytest.mark.parametrize(
    ("shape", "match"), [((1, 3, 40, 64), "multiples of 16"), ((3, 64, 64), r"\(B, C, H, W\)")]
)
def test_bad_images_are_refused(build, shape, match):
    with pytest.raises(ValueError, match=match):
        build()(torch.rand(*shape))


def test_integer_images_are_refused():
    with pytest.raises(TypeError, match="floating-point"):
        _yolo()(torch.zeros(1, 3, 32, 32, dtype=torch.uint8))


def test_mobilenet_fpn_levels_and_the_top_down_switch():
    torch.manual_seed(0)
    x = torch.rand(1, 3, 64, 48, requires_grad=True)
    with_td = MobileNetV2FPN(out_channels=8)
    feats = with_td(x)
    assert [tuple(f.shape) for f in feats] == [(1, 8, 64 // s, 48 // s) for s in (4, 8, 16)]
    without = MobileNetV2FPN(out_channels=8, top_down=False)
    without.load_state_dict(with_td.state_dict())
    with_td.eval(), without.eval()
    # without the top-down pathway the finest level is a function of the stride-4 map alone:
    # changing the deepest stage's weights leaves it unchanged
    before = without(x)[0].detach()
    with torch.no_grad():
        for p in without.stages[2].parameters():
            p.add_(1.0)
    torch.testing.assert_close(without(x)[0], before, rtol=0, atol=0)
    assert not torch.equal(with_td(x)[0], before)


def test_load_shapes_is_fixed_and_splits_differ():
    a, b = load_shapes("val"), load_shapes("val")
    np.testing.assert_array_equal(a[0], b[0])
    assert len(load_shapes("train")[0]) == SHAPES_SPLITS["train"][0]
    assert not np.array_equal(load_shapes("test")[0], a[0])
    with pytest.raises(ValueError, match="split must be one of"):
        load_shapes("validation")


def test_flip_augmentation_mirrors_image_and_boxes():
    images, boxes, labels = make_shapes(4, random_state=0, noise=0.0)
    data = ShapesDetection(images, boxes, labels, flip=True)
    torch.manual_seed(1)
    seen = set()
    for _ in range(20):
        img, box, _ = data[0]
        flipped = not torch.equal(img, torch.from_numpy(images[0]))
        seen.add(flipped)
        for (x1, y1, x2, y2), (gx1, gy1, gx2, gy2) in zip(
            box.tolist(), boxes[0].tolist(), strict=True
        ):
            # definition: a mirror maps column c to W - 1 - c, so pixel-edge x to W - x
            want = (64 - gx2, gy1, 64 - gx1, gy2) if flipped else (gx1, gy1, gx2, gy2)
            assert (x1, y1, x2, y2) == want
        if flipped:
            np.testing.assert_array_equal(img.numpy(), images[0][..., ::-1])
    assert seen == {True, False}
    imgs, bxs, lbs = collate([data[0], data[1]])
    assert imgs.shape == (2, 3, 64, 64) and len(bxs) == len(lbs) == 2


def _refinedet():
    from mlcanon.models import TinyRefineDet

    torch.manual_seed(0)
    return TinyRefineDet(num_classes=3, width=8, num_convs=1)


def test_refinedet_zero_arm_offsets_keep_the_anchors_and_filtering_drops_scores():
    model = _refinedet().eval()
    images = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        out = model(images)
    out["arm_regression"] = [torch.zeros_like(r) for r in out["arm_regression"]]
    out["arm_logits"] = [torch.zeros_like(t) for t in out["arm_logits"]]  # objectness 0.5
    refined, keep = model.refined_anchors(out, (32, 32))
    for r, a in zip(refined, model.anchors((32, 32)), strict=True):
        torch.testing.assert_close(r, a.expand_as(r))  # decode(0, anchor) = anchor
    assert keep.all()
    # anchors the ARM calls background with confidence > 0.99 can produce no detection
    out["arm_logits"] = [torch.full_like(t, -10.0) for t in out["arm_logits"]]
    out["cls_logits"] = [torch.full_like(t, 10.0) for t in out["cls_logits"]]
    assert all(len(d["boxes"]) == 0 for d in model.postprocess(out, (32, 32)))


def test_refinedet_loss_is_arm_plus_filtered_odm_and_trains():
    from mlcanon.models import retinanet_loss

    model = _refinedet()
    images, boxes, labels = make_shapes(4, image_size=32, random_state=1)
    x = torch.from_numpy(images)
    parts = model.loss(model(x), boxes, labels, (32, 32))
    out = model(x)
    refined, keep = model.refined_anchors(out, (32, 32))
    odm = retinanet_loss(out, refined, boxes, labels, anchor_mask=keep)
    arm = retinanet_loss(
        {"cls_logits": out["arm_logits"], "bbox_regression": out["arm_regression"]},
        model.anchors((32, 32)),
        boxes,
        [np.zeros(len(b), dtype=np.int64) for b in boxes],
    )
    torch.testing.assert_close(parts["total"], arm["total"] + odm["total"])
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    first = None
    for _ in range(15):
        loss = model.loss(model(x), boxes, labels, (32, 32))["total"]
        first = loss.item() if first is None else first
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.7 * first
