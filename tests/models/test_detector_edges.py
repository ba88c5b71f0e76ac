"""Edge cases of the detectors found by an adversarial audit: images without targets (loss and
gradient against the formula written out with torch's own functions), empty batches, half
precision, mismatched image sizes, YOLOv1's square roots at zero, and mosaic's boxes."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mlcanon.models import (
    PANet,
    SpaceToDepth,
    TinyRefineDet,
    TinyRetinaNet,
    TinyYOLOv3,
    assign_yolo_targets,
    decode_yolo,
    match_anchors,
    yolo_loss,
    yolo_postprocess,
    yolo_v1_decode,
)
from mlcanon.models._retinanet import retinanet_loss
from mlcanon.models._yolo_family import mosaic, yolo_v1_loss
from mlcanon.vision import AnchorGenerator

BOX = [[4.0, 6.0, 20.0, 30.0]]


def _yolo(**kw):
    torch.manual_seed(0)
    return TinyYOLOv3(num_classes=3, width=8, **kw)


def _retina():
    torch.manual_seed(0)
    return TinyRetinaNet(num_classes=3, width=8, num_convs=1)


def _refinedet():
    torch.manual_seed(0)
    return TinyRefineDet(num_classes=3, width=8, num_convs=1)


def test_yolo_loss_without_targets_is_the_no_object_term():
    torch.manual_seed(1)
    anchors = _yolo().anchors.double()
    outs = [torch.randn(2, 3, h, h, 8, dtype=torch.float64, requires_grad=True) for h in (8, 4, 2)]
    parts = yolo_loss(outs, [torch.zeros(0, 4), []], [[], []], anchors, (4, 8, 16))
    # nothing to find, nothing ignored: BCE(objectness, 0) over every anchor, over 2 images
    want = (
        sum(
            F.binary_cross_entropy_with_logits(
                o[..., 4], torch.zeros_like(o[..., 4]), reduction="sum"
            )
            for o in outs
        )
        / 2
    )
    assert parts["box"].detach() == 0 and parts["cls"].detach() == 0
    torch.testing.assert_close(parts["total"], want, rtol=1e-12, atol=0)
    got = torch.autograd.grad(parts["total"], outs)
    for g, w in zip(got, torch.autograd.grad(want, outs), strict=True):
        torch.testing.assert_close(g, w, rtol=1e-12, atol=1e-15)


def test_retinanet_loss_without_targets_is_the_focal_background_term():
    torch.manual_seed(2)
    alpha, gamma = 0.25, 2.0
    gen = AnchorGenerator(((8.0, 10.0),), ((0.5, 1.0),))
    anchors = gen.grid_anchors([(4, 4)], [(8, 8)], dtype=torch.float64)
    logits = torch.randn(1, len(anchors[0]), 3, dtype=torch.float64, requires_grad=True)
    deltas = torch.randn(1, len(anchors[0]), 4, dtype=torch.float64, requires_grad=True)
    out = {"cls_logits": [logits], "bbox_regression": [deltas]}
    parts = retinanet_loss(out, anchors, [np.zeros((0, 4))], [np.zeros(0, np.int64)])
    # every anchor is background: (1 - alpha) p^gamma (-log(1 - p)), normalised by max(1, 0)
    p = torch.sigmoid(logits)
    want = ((1 - alpha) * p**gamma * F.softplus(logits)).sum()
    torch.testing.assert_close(parts["total"], want, rtol=1e-12, atol=0)
    g_logits, g_deltas = torch.autograd.grad(parts["total"], (logits, deltas), allow_unused=True)
    torch.testing.assert_close(g_logits, torch.autograd.grad(want, logits)[0], rtol=1e-10, atol=0)
    assert g_deltas is None or not g_deltas.any()


def test_yolo_on_an_empty_batch():
    model = _yolo()
    out = model(torch.rand(0, 3, 32, 32))
    assert [tuple(o.shape) for o in out] == [(0, 3, h, h, 8) for h in (8, 4, 2)]
    parts = model.loss(out, [], [])
    assert all(v.detach() == 0 for v in parts.values()) and parts["total"].requires_grad
    assert model.postprocess(out) == []


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_yolo_loss_stays_in_half_precision(dtype):
    model = _yolo().to(dtype)
    out = [o.detach() for o in model(torch.rand(1, 3, 32, 32, dtype=dtype))]
    parts = model.loss(out, [torch.tensor(BOX)], [[1]])
    assert {k: v.dtype for k, v in parts.items()} == dict.fromkeys(parts, dtype)
    # the same outputs in float64: equal within two units of the half type's last place
    ref = model.loss([o.double() for o in out], [torch.tensor(BOX)], [[1]])
    eps = torch.finfo(dtype).eps
    for key, value in parts.items():
        assert float(value) == pytest.approx(float(ref[key]), rel=2 * eps, abs=0), key


@pytest.mark.parametrize("build", [_yolo, _retina, _refinedet])
def test_targets_that_are_not_arrays_of_numbers(build):
    # RefineDet made its ARM's one-class labels with torch.as_tensor before any check, so that
    # these raised torch's own errors ("too many dimensions 'str'", "'int' object is not
    # iterable", "Could not infer dtype of NoneType") instead of naming labels[i]
    model = build()
    out = model(torch.rand(1, 3, 32, 32))
    loss = model.loss if build is _yolo else lambda o, b, lab: model.loss(o, b, lab, (32, 32))
    with pytest.raises(TypeError, match=r"boxes\[0\] must be an array of numbers, got None"):
        loss(out, [None], [[1]])
    with pytest.raises(TypeError, match=r"labels\[0\] must be an array of numbers, got 'a'"):
        loss(out, [torch.tensor(BOX)], ["a"])
    with pytest.raises(ValueError, match=r"labels\[0\] must hold 1 integer .* torch\.bool"):
        loss(out, [torch.tensor(BOX)], [[True]])
    with pytest.raises(
        TypeError, match=r"boxes must be a sequence with one entry per image \(1\), got int 5"
    ):
        loss(out, 5, [[1]])
    with pytest.raises(TypeError, match=r"labels must be a sequence .* got int 1"):
        loss(out, [torch.tensor(BOX)], 1)
    with pytest.raises(TypeError, match=r"labels\[0\] must be an array of numbers, got None"):
        loss(out, [torch.tensor(BOX)], [None])
    with pytest.raises(TypeError, match=r"labels\[0\] must be an array of numbers, got \['a'\]"):
        loss(out, [torch.tensor(BOX)], [["a"]])
    with pytest.raises(TypeError, match=r"labels must be a sequence .* got str 'ab'"):
        loss(out, [torch.tensor(BOX)], "ab")


def test_yolo_functions_check_outputs_and_anchors():
    model = _yolo()
    out, anchors, strides = model(torch.rand(1, 3, 32, 32)), model.anchors, model.strides
    with pytest.raises(TypeError, match=r"anchors must be a Tensor of shape \(L, A, 2\)"):
        yolo_loss(out, [torch.tensor(BOX)], [[1]], anchors.numpy(), strides)
    with pytest.raises(ValueError, match=r"outputs\[0\] must have shape \(B, A=2, H, W, 5 \+ C\)"):
        decode_yolo(out, anchors[:, :2], strides)
    with pytest.raises(ValueError, match=r"outputs\[1\] must have shape .* got \(1, 3, 4, 4, 7\)"):
        decode_yolo([out[0], out[1][..., :7], out[2]], anchors, strides)
    with pytest.raises(ValueError, match=r"5 \+ C >= 5 values per anchor"):
        yolo_loss([o[..., :4] for o in out], [[]], [[]], anchors, strides)
    with pytest.raises(ValueError, match="one entry per level, got 0, 0 and 0"):
        decode_yolo([], anchors[:0], ())


def test_retinanet_refuses_an_image_size_its_outputs_do_not_come_from():
    model = _retina()
    out = model(torch.rand(1, 3, 32, 32))
    # (64, 64) has 4x the anchors: the outputs' rows would be decoded from other anchors
    for call in (
        lambda size: model.postprocess(out, size, score_thresh=0.0),
        lambda size: model.loss(out, [torch.tensor(BOX)], [[1]], size),
    ):
        with pytest.raises(ValueError, match=r"image_size=\(64, 64\) gives \[2304, 576, 144\]"):
            call((64, 64))
        for bad in ((0, 0), (32, 32, 3), "ab", (32.0, 32)):
            with pytest.raises(ValueError, match=r"image_size must be two integers \(H, W\)"):
                call(bad)
    with pytest.raises(TypeError, match="box_coder must be a BoxCoder or None, got str"):
        model.loss(out, [torch.tensor(BOX)], [[1]], (32, 32), box_coder="smooth")
    with pytest.raises(ValueError, match=r"anchor_mask must have shape \(1, 756\)"):
        model.loss(out, [torch.tensor(BOX)], [[1]], (32, 32), anchor_mask=torch.ones(3) > 0)


def test_yolo_v1_gradient_at_non_positive_predicted_sizes():
    # one box per cell, so the responsible predictor is the cell's only one
    s, c, lam = 2, 2, 5.0
    out = torch.rand(1, s, s, 5 + c, dtype=torch.float64)
    out[0, 0, 0, 2:4] = torch.tensor([-0.3, 0.0])  # w < 0 and h = 0 in a cell with an object
    out[0, 1, 1, 2:4] = torch.tensor([0.25, 0.36])
    out.requires_grad_()
    target = torch.zeros(1, s, s, 5 + c, dtype=torch.float64)
    target[0, 0, 0] = torch.tensor([0.5, 0.5, 0.16, 0.09, 1, 1, 0], dtype=torch.float64)
    target[0, 1, 1] = torch.tensor([0.5, 0.5, 0.49, 0.04, 1, 0, 1], dtype=torch.float64)
    grad = torch.autograd.grad(yolo_v1_loss(out, target, 1, lam)["total"], out)[0]
    # d/dw lam (sqrt w - sqrt t)^2 = lam (sqrt w - sqrt t) / sqrt w for w > 0; 0 where the
    # prediction is clamped (w <= 0)
    w, t = out.detach()[..., 2:4], target[..., 2:4]
    obj = target[..., 4:5]
    want = torch.where(w > 0, lam * obj * (w.clamp(min=1e-300).sqrt() - t.sqrt()) / w.sqrt(), 0)
    torch.testing.assert_close(grad[..., 2:4], want, rtol=1e-12, atol=1e-15)


def test_yolo_v1_refuses_what_has_no_square_root_or_no_grid():
    out = torch.rand(1, 2, 2, 13)
    target = torch.zeros(1, 2, 2, 8)
    target[0, 0, 0, 2] = -0.1
    with pytest.raises(ValueError, match=r"target widths and heights .* \[-0\.1"):
        yolo_v1_loss(out, target)
    target[0, 0, 0, 2] = float("nan")
    with pytest.raises(ValueError, match=r"must be finite and >= 0 .* \[nan\]"):
        yolo_v1_loss(out, target)
    with pytest.raises(ValueError, match="boxes_per_cell must be >= 1, got 0"):
        yolo_v1_loss(out, torch.zeros(1, 2, 2, 13), boxes_per_cell=0)
    with pytest.raises(ValueError, match="grid of S >= 1 cells a side"):
        yolo_v1_loss(torch.rand(1, 0, 0, 13), torch.zeros(1, 0, 0, 8))


def test_mosaic_reads_empty_lists_and_refuses_bad_boxes():
    images = [np.full((1, 16, 16), k, dtype=np.float32) for k in range(4)]
    none = mosaic(images, [np.zeros((0, 4))] * 4, [np.zeros(0, np.int64)] * 4, random_state=0)
    listed = mosaic(images, [[]] * 4, [[]] * 4, random_state=0)
    np.testing.assert_array_equal(listed[0], none[0])
    assert listed[1].shape == (0, 4) and listed[2].shape == (0,)
    empty = [np.zeros((0, 4))] * 3
    with pytest.raises(ValueError, match=r"boxes\[0\]\[0\] = \[10\.0, 10\.0, 0\.0, 0\.0\]"):
        mosaic(images, [np.array([[10.0, 10, 0, 0]]), *empty], [[0], [], [], []])
    with pytest.raises(ValueError, match=r"boxes\[0\]\[0\] .* non-finite"):
        mosaic(images, [np.array([[np.nan, 0, 5, 5]]), *empty], [[0], [], [], []])
    with pytest.raises(
        ValueError, match=r"labels\[0\] must hold 1 integer class indices, got \(2,\)"
    ):
        mosaic(images, [np.array([[0.0, 0, 8, 8]]), *empty], [[0, 1], [], [], []])


def test_yolo_strides_anchors_and_targets_of_the_functional_api():
    model = _yolo()
    out, anchors, strides = model(torch.rand(1, 3, 32, 32)), model.anchors, model.strides
    for bad in ((0, 8, 16), (4, -8, 16)):
        with pytest.raises(ValueError, match="strides entries must be > 0"):
            decode_yolo(out, anchors, bad)
        with pytest.raises(ValueError, match="strides entries must be > 0"):
            yolo_postprocess(out, anchors, bad)
    for bad in (-anchors, anchors * float("inf")):
        with pytest.raises(ValueError, match=r"anchors must hold finite positive \(w, h\)"):
            decode_yolo(out, bad, strides)
    with pytest.raises(ValueError, match=r"anchors must have shape \(3, A, 2\) with finite"):
        TinyYOLOv3(anchors=[[[float("inf"), 1.0]]] * 3)
    with pytest.raises(TypeError, match="anchors must be array-like of numbers"):
        TinyYOLOv3(anchors=[[[1.0, 1.0]], [[1.0, 1.0], [2.0, 2.0]], [[1.0, 1.0]]])
    grids = [(8, 8), (4, 4), (2, 2)]
    with pytest.raises(TypeError, match=r"boxes\[0\] must be an array of numbers, got None"):
        assign_yolo_targets([None], [[1]], anchors, strides, grids)
    with pytest.raises(ValueError, match=r"labels\[0\] must hold 1 integer class indices"):
        assign_yolo_targets([BOX], [[]], anchors, strides, grids)
    with pytest.raises(ValueError, match="one entry per level, got 2, 3 and 3"):
        assign_yolo_targets([BOX], [[1]], anchors, strides, grids[:2])


def test_yolo_v1_decode_and_the_passthrough_layer_inputs():
    with pytest.raises(ValueError, match="image_size must be > 0, got 0"):
        yolo_v1_decode(torch.rand(1, 2, 2, 13), image_size=0)
    with pytest.raises(TypeError, match=r"output must be a torch\.Tensor, got ndarray"):
        yolo_v1_decode(np.zeros((1, 2, 2, 13)))
    # unbatched and extra leading dims, as torch's pixel_unshuffle takes them
    for shape in ((3, 4, 6), (2, 2, 3, 4, 6)):
        x = torch.randn(shape)
        torch.testing.assert_close(SpaceToDepth(2)(x), F.pixel_unshuffle(x, 2), rtol=0, atol=0)
    with pytest.raises(ValueError, match=r"input must have shape \(\*, C, H, W\), got \(4, 4\)"):
        SpaceToDepth(2)(torch.zeros(4, 4))
    with pytest.raises(ValueError, match="in_channels_list must have one entry per level"):
        PANet([], 8)


def test_retinanet_functions_name_their_bad_arguments():
    anchors = torch.tensor([[0.0, 0, 8, 8], [4, 4, 12, 12]])
    with pytest.raises(TypeError, match=r"anchors must be a torch\.Tensor, got list"):
        match_anchors(anchors.tolist(), anchors)
    with pytest.raises(TypeError, match="allow_low_quality_matches must be bool, got str"):
        match_anchors(anchors, anchors, allow_low_quality_matches="no")
    model = _retina()
    out = model(torch.rand(1, 3, 32, 32))
    levels = model.anchors((32, 32))
    with pytest.raises(
        ValueError,
        match="outputs must be a dict with non-empty 'cls_logits' and 'bbox_regression', got no "
        "entry or an empty one under 'bbox_regression'",
    ):
        retinanet_loss({"cls_logits": out["cls_logits"]}, levels, [BOX], [[1]])
    with pytest.raises(ValueError, match=r"non-empty 'cls_logits' and 'bbox_regression', got list"):
        retinanet_loss([out["cls_logits"]], levels, [BOX], [[1]])
    refinedet = _refinedet()
    outputs = refinedet(torch.rand(1, 3, 32, 32))
    outputs["arm_logits"] = []
    match = (
        "outputs must be a dict with non-empty 'cls_logits', 'bbox_regression', 'arm_logits' and "
        "'arm_regression', got no entry or an empty one under 'arm_logits'"
    )
    with pytest.raises(ValueError, match=match):
        refinedet.loss(outputs, [BOX], [[1]], (32, 32))
    with pytest.raises(ValueError, match="anchors must hold one tensor per level, got none"):
        retinanet_loss(out, [], [BOX], [[1]])


def test_yolo_v1_refuses_an_infinite_target_size_and_a_target_that_is_not_a_tensor():
    target = torch.zeros(1, 2, 2, 8)
    target[0, 0, 0] = torch.tensor([0.5, 0.5, float("inf"), 0.1, 1, 1, 0, 0])
    with pytest.raises(ValueError, match=r"must be finite and >= 0 .* got \[inf\]"):
        yolo_v1_loss(torch.rand(1, 2, 2, 13), target)
    with pytest.raises(TypeError, match=r"target must be a torch\.Tensor, got list"):
        yolo_v1_loss(torch.rand(1, 2, 2, 13), [[0.0]])


def test_numpy_booleans_arrays_and_tensors_where_the_meaning_is_plain():
    # match_anchors: np.True_ as True; each anchor's best IoU is 64 / 72 with the box one pixel
    # taller, between the thresholds 0.4 and 0.9 (ignored, -2) unless low-quality matches count
    a = torch.tensor([[0.0, 0, 8, 8], [4, 4, 12, 12]])
    for flag, want in ((np.True_, [0, 1]), (np.False_, [-2, -2])):
        got = match_anchors(a, a + torch.tensor([0.0, 0, 0, 1]), 0.9, 0.4, flag)
        assert got.tolist() == want
    # strides as a tensor or an array decode as the same numbers in a tuple
    model = _yolo()
    out = model(torch.rand(1, 3, 32, 32))
    want = decode_yolo(out, model.anchors, (4, 8, 16))
    for strides in (torch.tensor([4, 8, 16]), np.array([4, 8, 16])):
        for got, ref in zip(decode_yolo(out, model.anchors, strides), want, strict=True):
            torch.testing.assert_close(got, ref, rtol=0, atol=0)
    # aspect ratios and sizes as 1-d arrays: the anchors of the same values as tuples
    gen = AnchorGenerator((np.array([32.0, 64.0]),), (np.array([0.5, 1.0, 2.0]),))
    ref = AnchorGenerator(((32.0, 64.0),), ((0.5, 1.0, 2.0),))
    torch.testing.assert_close(gen.cell_anchors[0], ref.cell_anchors[0], rtol=0, atol=0)


def test_passthrough_layer_with_no_channels():
    # (N, C b^2, H/b, W/b) by definition; torch's pixel_unshuffle returns an empty input
    # unchanged, so the shape is written out rather than taken from it
    assert SpaceToDepth(2)(torch.zeros(2, 0, 4, 4)).shape == (2, 0, 2, 2)
    assert SpaceToDepth(2)(torch.zeros(3, 2, 0, 4, 4)).shape == (3, 2, 0, 2, 2)


def test_a_bad_target_in_a_later_image_is_named_by_image_and_index():
    # the batch is checked at once; the message still points at the image and the box
    good = [4.0, 4.0, 12.0, 20.0]
    out = _yolo()(torch.rand(3, 3, 32, 32))
    boxes = [torch.tensor([good]), torch.tensor([good, [9.0, 4, 9, 8]]), torch.tensor([good])]
    with pytest.raises(ValueError, match=r"boxes\[1\]\[1\] .*x2 - x1"):
        _yolo().loss(out, boxes, [[0], [0, 1], [0]])
    with pytest.raises(ValueError, match=r"labels\[2\]\[0\] = 7 is outside \[0, num_classes=3\)"):
        _yolo().loss(out, [torch.tensor([good])] * 3, [[0], [2], [7]])
    with pytest.raises(ValueError, match=r"labels\[1\]\[0\] = -1 is outside"):
        assign_yolo_targets([[good]] * 2, [[0], [-1]], _yolo().anchors, (4, 8, 16), [(8, 8)] * 3)


def _iou(a, b):
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    return w * h / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - w * h)


def _per_class_nms(boxes, scores, labels, thr):
    """Written-out greedy NMS per class: visit by decreasing score, keep a box unless a kept box
    of its class overlaps it by IoU > thr."""
    keep = []
    for i in sorted(range(len(scores)), key=lambda i: -scores[i]):
        if all(labels[j] != labels[i] or not _iou(boxes[i], boxes[j]) > thr for j in keep):
            keep.append(i)
    return keep


def _nan_candidates(out_logits, out_reg, anchors):
    """Five candidates on level 0 (anchors 0-4 share a cell: they overlap) with known scores;
    the other logits are -30. Candidates 1 and 3 get a NaN offset (all four, or tw only)."""
    logits = [torch.full_like(c, -30.0) for c in out_logits]
    reg = [r.clone() for r in out_reg]
    picks = [(0, 0, 2.0), (1, 0, 1.5), (2, 0, 1.0), (3, 1, 0.5), (4, 0, 0.0)]
    for a, k, z in picks:
        logits[0][0, a, k] = z
    reg[0][0, 1] = float("nan")
    reg[0][0, 3, 2] = float("nan")
    expected = []  # torchvision's decode (weights 1, tw clamped to log(1000/16)) and clipping
    for a, k, z in picks:
        t = reg[0][0, a].double().tolist()
        x1, y1, x2, y2 = anchors[0][a].double().tolist()
        aw, ah = x2 - x1, y2 - y1
        cx, cy = x1 + 0.5 * aw + t[0] * aw, y1 + 0.5 * ah + t[1] * ah
        w = aw * np.exp(min(t[2], np.log(1000 / 16)))
        h = ah * np.exp(min(t[3], np.log(1000 / 16)))
        box = [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2]
        box = [min(max(v, 0.0), 32.0) for v in box]
        if all(np.isfinite(box)):
            expected.append((box, 1 / (1 + np.exp(-z)), k))
    return logits, reg, expected


def _assert_detections(det, expected, thr):
    boxes, scores, labels = zip(*expected, strict=True)
    keep = _per_class_nms(boxes, scores, labels, thr)
    assert det["labels"].tolist() == [labels[i] for i in keep]
    np.testing.assert_allclose(det["scores"].double(), [scores[i] for i in keep], rtol=1e-6)
    np.testing.assert_allclose(det["boxes"].double(), [boxes[i] for i in keep], atol=1e-4)


@pytest.mark.parametrize("thr", [0.3, 0.9])
def test_retinanet_postprocess_drops_nan_boxes_instead_of_raising(thr):
    """A NaN box offset gives a NaN box (torchvision's decode and clamp keep it); postprocess
    raised a ValueError from the box check of its NMS. Now that candidate is dropped and the rest
    is torchvision's pipeline, written out here."""
    net = _retina().eval()
    with torch.no_grad():
        out = net(torch.rand(1, 3, 32, 32))
    anchors = net.anchors((32, 32))
    logits, reg, expected = _nan_candidates(out["cls_logits"], out["bbox_regression"], anchors)
    assert len(expected) == 3
    det = net.postprocess({"cls_logits": logits, "bbox_regression": reg}, (32, 32), nms_thresh=thr)
    _assert_detections(det[0], expected, thr)


def test_refinedet_postprocess_drops_anchors_refined_to_nan():
    """A NaN ARM offset refines an anchor to NaN; the ODM decoded from it raised a ValueError
    (the anchors' box check). Such an anchor now gives no detection, as a filtered one."""
    from mlcanon.models import TinyRefineDet

    torch.manual_seed(0)
    net = TinyRefineDet(num_classes=3, width=8, num_convs=1).eval()
    with torch.no_grad():
        out = net(torch.rand(1, 3, 32, 32))
    out["arm_logits"] = [torch.zeros_like(t) for t in out["arm_logits"]]  # none filtered
    out["arm_regression"] = [torch.zeros_like(r) for r in out["arm_regression"]]  # = anchors
    out["arm_regression"][0][0, 2, 0] = float("nan")  # anchor 2: refined to NaN
    anchors = net.anchors((32, 32))
    out["cls_logits"], out["bbox_regression"], expected = _nan_candidates(
        out["cls_logits"], out["bbox_regression"], anchors
    )
    expected = [e for e in expected if e[1] != pytest.approx(1 / (1 + np.exp(-1.0)))]  # anchor 2
    assert len(expected) == 2
    _assert_detections(net.postprocess(out, (32, 32), nms_thresh=0.3)[0], expected, 0.3)


def test_yolo_postprocess_drops_nan_boxes_instead_of_raising():
    """YOLO's decoded box is NaN for a NaN t_x or t_w; postprocess raised a ValueError. The
    other candidates are decoded by Redmon & Farhadi's formulas, written out here."""
    net = _yolo().eval()
    with torch.no_grad():
        out = net(torch.rand(1, 3, 32, 32))
    picks = [(0, 1, 1, 0, 3.0), (1, 1, 1, 0, 2.0), (2, 1, 2, 0, 1.0), (0, 1, 2, 2, 0.5)]
    out = [o.clone() for o in out]
    out[0][..., 4] = -30.0
    for a, i, j, k, z in picks:
        out[0][0, a, i, j, 4] = z
        out[0][0, a, i, j, 5:] = -30.0
        out[0][0, a, i, j, 5 + k] = 30.0
    out[0][0, 1, 1, 1, 0] = float("nan")  # second pick: t_x
    out[0][0, 0, 1, 2, 2] = float("nan")  # fourth pick: t_w
    s = net.strides[0]
    expected = []
    for a, i, j, k, z in picks:
        tx, ty, tw, th = out[0][0, a, i, j, :4].double().tolist()
        pw, ph = net.anchors[0, a].double().tolist()
        cx, cy = (1 / (1 + np.exp(-tx)) + j) * s, (1 / (1 + np.exp(-ty)) + i) * s
        w, h = pw * np.exp(tw), ph * np.exp(th)
        box = [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2]
        if all(np.isfinite(box)):
            expected.append((box, 1 / (1 + np.exp(-z)) / (1 + np.exp(-30.0)), k))
    assert len(expected) == 2
    det = net.postprocess(out, score_thresh=0.3, iou_threshold=0.3)
    _assert_detections(det[0], expected, 0.3)


def test_refinedet_loss_filters_anchors_refined_to_nan():
    """The ODM loss matched the ground truth to the refined anchors and raised a ValueError on
    a NaN one. Such an anchor is now filtered: the ODM terms are those of the same anchor
    filtered by its ARM objectness (0.01 threshold, logit -30)."""
    from mlcanon.models import TinyRefineDet

    torch.manual_seed(0)
    net = TinyRefineDet(num_classes=3, width=8, num_convs=1)
    with torch.no_grad():
        out = net(torch.rand(1, 3, 32, 32))
    out["arm_logits"] = [torch.zeros_like(t) for t in out["arm_logits"]]
    nan, filtered = dict(out), dict(out)
    nan["arm_regression"] = [r.clone() for r in out["arm_regression"]]
    nan["arm_regression"][0][0, 7, 1] = float("nan")
    filtered["arm_logits"] = [t.clone() for t in out["arm_logits"]]
    filtered["arm_logits"][0][0, 7] = -30.0
    got = net.loss(nan, [BOX], [[1]], (32, 32))
    want = net.loss(filtered, [BOX], [[1]], (32, 32))
    for key in ("classification", "bbox_regression", "num_pos"):
        assert torch.isfinite(got[key]) and got[key] == want[key], key


def test_yolo_loss_with_a_nan_box_output_away_from_the_targets():
    """A NaN box output at an anchor responsible for nothing raised a ValueError (the ignore
    mask's IoU checked the predictions), and ``ref.sum() * 0`` made every term NaN. As a torch
    YOLO loss: its NaN IoUs exceed no threshold, so the anchor is not ignored, and the loss is
    that of the same output with a finite box there that overlaps no target."""
    torch.manual_seed(0)
    net = _yolo()
    with torch.no_grad():
        out = [o.clone() for o in net(torch.rand(1, 3, 32, 32))]
    out[0][0, 0, 0, 0, :4] = 0.0  # cell (0, 0): a box around (2, 2), IoU < 0.5 with BOX
    finite = net.loss(out, [BOX], [[1]])
    out[0][0, 0, 0, 0, :4] = float("nan")
    got = net.loss(out, [BOX], [[1]])
    for key in ("box", "obj", "cls", "total"):
        assert torch.isfinite(got[key]) and got[key] == finite[key], key


@pytest.mark.parametrize("bbox_loss", ["smooth_l1", "giou"])
def test_retinanet_loss_of_nan_offsets_is_nan_for_both_box_losses(bbox_loss):
    """NaN offsets at the positive anchors: the smooth L1 term was NaN, the GIoU term raised a
    ValueError about boxes1 (the decoded predictions were checked as user boxes). Both are NaN
    now, as torchvision's losses give, and Trainer reports it as a diverged run."""
    net = _retina()
    with torch.no_grad():
        out = net(torch.rand(1, 3, 32, 32))
    out["bbox_regression"] = [torch.full_like(r, float("nan")) for r in out["bbox_regression"]]
    parts = net.loss(out, [BOX], [[1]], (32, 32), bbox_loss=bbox_loss)
    assert torch.isnan(parts["bbox_regression"])
    assert torch.isfinite(parts["classification"])


# ground truth at ~300 px whose coordinates half precision cannot hold: bfloat16 (spacing 2
# there) rounds it to (300, 258, 340, 290), which moves its centre from x = 319.7 to 320, across
# the cell edge at 320 of a stride-32 grid, and changes the IoU of anchors near 0.4 and 0.5
GT_300 = [300.3, 257.7, 339.1, 289.9]


def _giou_loss_by_formula(p, g):
    """1 - GIoU of paired xyxy boxes (Rezatofighi et al. 2019, Algorithm 1), written out."""
    iw = (torch.minimum(p[:, 2], g[:, 2]) - torch.maximum(p[:, 0], g[:, 0])).clamp(min=0)
    ih = (torch.minimum(p[:, 3], g[:, 3]) - torch.maximum(p[:, 1], g[:, 1])).clamp(min=0)
    inter = iw * ih
    union = (p[:, 2] - p[:, 0]) * (p[:, 3] - p[:, 1]) + (g[:, 2] - g[:, 0]) * (g[:, 3] - g[:, 1])
    union = union - inter
    cw = torch.maximum(p[:, 2], g[:, 2]) - torch.minimum(p[:, 0], g[:, 0])
    ch = torch.maximum(p[:, 3], g[:, 3]) - torch.minimum(p[:, 1], g[:, 1])
    return 1 - (inter / union - (cw * ch - union) / (cw * ch))


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_yolo_loss_in_half_precision_keeps_the_targets_in_float32(dtype):
    """The targets were built in the outputs' dtype: in bfloat16 the box above moved to the
    next cell (the loss of another anchor, 30% off). Reference: YOLOv3's loss written out in
    float64 (one level, one anchor, nothing ignored) on the same half-precision outputs."""
    torch.manual_seed(3)
    s, n, anchor = 32, 16, (36.0, 30.0)
    out = (0.5 * torch.randn(1, 1, n, n, 8)).to(dtype)
    anchors = torch.tensor([[anchor]])
    parts = yolo_loss(
        [out], [torch.tensor([GT_300], dtype=torch.float64)], [[2]], anchors, [s], 1.0
    )
    o = out.double()[0, 0]  # (H, W, 8)
    gy, gx = torch.meshgrid(torch.arange(n), torch.arange(n), indexing="ij")
    cx, cy = (torch.sigmoid(o[..., 0]) + gx) * s, (torch.sigmoid(o[..., 1]) + gy) * s
    w, h = anchor[0] * torch.exp(o[..., 2]), anchor[1] * torch.exp(o[..., 3])
    gt = torch.tensor([GT_300], dtype=torch.float64)
    j, i = int((gt[0, 0] + gt[0, 2]) / 2 // s), int((gt[0, 1] + gt[0, 3]) / 2 // s)  # cell 9, 8
    pred = torch.stack((cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2), -1)[i, j][None]
    obj_t = torch.zeros(n, n, dtype=torch.float64)
    obj_t[i, j] = 1
    want = {
        "box": _giou_loss_by_formula(pred, gt).sum(),
        "obj": F.binary_cross_entropy_with_logits(o[..., 4], obj_t, reduction="sum"),
        "cls": F.binary_cross_entropy_with_logits(
            o[i, j, 5:], torch.tensor([0.0, 0, 1], dtype=torch.float64), reduction="sum"
        ),
    }
    want["total"] = want["box"] + want["obj"] + want["cls"]
    eps = torch.finfo(dtype).eps  # one rounding of a float32 result: half a unit, 2^-8 relative
    for key, value in want.items():
        assert parts[key].dtype == dtype
        assert float(parts[key]) == pytest.approx(float(value), rel=eps, abs=0), key


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_retinanet_loss_in_half_precision_keeps_the_targets_in_float32(dtype):
    """The ground truth, the anchors, the matching and the offsets were rounded to the outputs'
    dtype: in bfloat16, 2 anchors more were positive than by the true IoU, and the box term was
    8 units of the last place off. Reference: the focal and smooth L1 terms written out in
    float64 on the same half-precision outputs, anchors matched by IoU (0.5 / 0.4, plus the
    best anchor of the box)."""
    torch.manual_seed(4)
    alpha, gamma, beta = 0.25, 2.0, 1.0 / 9
    # 32 x 32 and 28 x 36 anchors, centres every 4 px around the box: exact in both dtypes
    c = torch.arange(296.0, 348.0, 4.0)
    cy, cx = torch.meshgrid(c - 32, c, indexing="ij")
    cx, cy = cx.reshape(-1, 1), cy.reshape(-1, 1)
    anchors = torch.cat(
        [
            torch.cat((cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2), 1)
            for w, h in ((32, 32), (28, 36))
        ]
    ).double()
    n = len(anchors)
    logits = (torch.randn(1, n, 3) - 2).to(dtype)
    deltas = (0.1 * torch.randn(1, n, 4)).to(dtype)
    gt = torch.tensor([GT_300], dtype=torch.float64)
    parts = retinanet_loss(
        {"cls_logits": [logits], "bbox_regression": [deltas]}, [anchors], [gt], [[1]], beta=beta
    )
    iw = (torch.minimum(anchors[:, 2], gt[0, 2]) - torch.maximum(anchors[:, 0], gt[0, 0])).clamp(
        min=0
    )
    ih = (torch.minimum(anchors[:, 3], gt[0, 3]) - torch.maximum(anchors[:, 1], gt[0, 1])).clamp(
        min=0
    )
    area = (anchors[:, 2] - anchors[:, 0]) * (anchors[:, 3] - anchors[:, 1])
    iou = iw * ih / (area + (gt[0, 2] - gt[0, 0]) * (gt[0, 3] - gt[0, 1]) - iw * ih)
    pos = (iou >= 0.5) | (iou == iou.max())
    valid = pos | (iou < 0.4)
    x, t = logits.double()[0], torch.zeros(n, 3, dtype=torch.float64)
    t[pos, 1] = 1
    p = torch.sigmoid(x)
    p_t = p * t + (1 - p) * (1 - t)
    focal = (alpha * t + (1 - alpha) * (1 - t)) * (1 - p_t) ** gamma
    focal = focal * F.binary_cross_entropy_with_logits(x, t, reduction="none")
    a = anchors[pos]
    aw, ah = a[:, 2] - a[:, 0], a[:, 3] - a[:, 1]
    gw, gh = gt[0, 2] - gt[0, 0], gt[0, 3] - gt[0, 1]
    target = torch.stack(
        (
            (gt[0, 0] + gw / 2 - a[:, 0] - aw / 2) / aw,
            (gt[0, 1] + gh / 2 - a[:, 1] - ah / 2) / ah,
            torch.log(gw / aw),
            torch.log(gh / ah),
        ),
        1,
    )
    n_pos = int(pos.sum())
    want = {
        "classification": focal[valid].sum() / n_pos,
        "bbox_regression": F.smooth_l1_loss(
            deltas.double()[0][pos], target, beta=beta, reduction="sum"
        )
        / n_pos,
        "num_pos": torch.tensor(float(n_pos)),
    }
    want["total"] = want["classification"] + want["bbox_regression"]
    eps = torch.finfo(dtype).eps
    for key, value in want.items():
        assert parts[key].dtype == (torch.float32 if key == "num_pos" else dtype)
        assert float(parts[key]) == pytest.approx(float(value), rel=eps, abs=0), key


@pytest.mark.parametrize(("dtype", "n"), [(torch.bfloat16, 257), (torch.float16, 2049)])
def test_retinanet_loss_counts_positives_exactly_in_half_precision(dtype, n):
    """num_pos was returned in the outputs' dtype: 257 positives read 256 in bfloat16 and
    2049 read 2048 in float16. Reference: n ground-truth boxes, each equal to one of n
    disjoint anchors, make exactly n positives (and so does the float64 run)."""
    i = torch.arange(n, dtype=torch.float64)
    x0, y0 = 10 * (i % 50), 10 * (i // 50)
    anchors = torch.stack((x0, y0, x0 + 8, y0 + 8), 1)  # 8 px boxes 10 px apart: IoU 0
    torch.manual_seed(0)
    logits, deltas = torch.randn(1, n, 2), 0.1 * torch.randn(1, n, 4)
    runs = {}
    for dt in (dtype, torch.float64):
        out = {"cls_logits": [logits.to(dt)], "bbox_regression": [deltas.to(dt)]}
        runs[dt] = retinanet_loss(out, [anchors], [anchors], [torch.zeros(n, dtype=torch.long)])
    assert runs[torch.float64]["num_pos"].item() == n
    assert runs[dtype]["num_pos"].item() == n and runs[dtype]["num_pos"].dtype == torch.float32
    assert runs[dtype]["total"].dtype == dtype
    empty = retinanet_loss(
        {"cls_logits": [logits[:0].to(dtype)], "bbox_regression": [deltas[:0].to(dtype)]},
        [anchors],
        [],
        [],
    )
    assert empty["num_pos"].item() == 0 and empty["num_pos"].dtype == torch.float32
