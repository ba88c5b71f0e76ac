"""The detectors' postprocessing against torchvision's one-stage pipeline written out in plain
Python: decode, clip the boxes to the image (``box_ops.clip_boxes_to_image``), score threshold
(strictly greater), per-class greedy NMS (IoU strictly greater than the threshold suppresses),
the ``detections_per_img`` best."""

import math

import numpy as np
import pytest
import torch

from mlcanon.models import TinyRefineDet, TinyRetinaNet, TinyYOLOv3, yolo_postprocess


def _sigmoid(v):
    return 1 / (1 + math.exp(-v))


def _iou(a, b):
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - w * h
    return w * h / union if union > 0 else math.nan  # two empty boxes: 0 / 0, suppresses nothing


def _reference(candidates, thr, n_max):
    """candidates: (box, score, label); greedy per-class NMS by decreasing score, n_max best."""
    keep = []
    for i in sorted(range(len(candidates)), key=lambda i: -candidates[i][1]):
        box, _, lab = candidates[i]
        if all(candidates[j][2] != lab or not _iou(box, candidates[j][0]) > thr for j in keep):
            keep.append(i)
    return [candidates[i] for i in keep[:n_max]]


def _yolo_reference(outputs, anchors, strides, size, score_thresh, thr, n_max):
    """Redmon & Farhadi's decoding (b_x = (sigma(t_x) + c_x) s, b_w = p_w e^{t_w}), the box
    clipped to the image, score sigma(objectness) sigma(class logit)."""
    h_img, w_img = size
    candidates = []
    for out, anc, s in zip(outputs, anchors.tolist(), strides, strict=True):
        o = out[0].double().numpy()  # (A, H, W, 5 + C)
        n_a, gh, gw, n = o.shape
        for a in range(n_a):
            for i in range(gh):
                for j in range(gw):
                    tx, ty, tw, th, to = o[a, i, j, :5]
                    cx, cy = (_sigmoid(tx) + j) * s, (_sigmoid(ty) + i) * s
                    bw, bh = anc[a][0] * math.exp(tw), anc[a][1] * math.exp(th)
                    box = [cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2]
                    box = [
                        min(max(v, 0.0), w_img if k % 2 == 0 else h_img) for k, v in enumerate(box)
                    ]
                    for c in range(n - 5):
                        score = _sigmoid(to) * _sigmoid(o[a, i, j, 5 + c])
                        if score > score_thresh:
                            candidates.append((box, score, c))
    return _reference(candidates, thr, n_max)


def _assert_same(det, expected):
    """float32 detections against the float64 reference: measured at most 1.9e-7 relative in
    the scores and 3.1e-6 px in the boxes (coordinates up to 32 px)."""
    assert det["labels"].tolist() == [lab for _, _, lab in expected]
    np.testing.assert_allclose(det["scores"].double(), [s for _, s, _ in expected], rtol=1e-6)
    np.testing.assert_allclose(det["boxes"].double(), [b for b, _, _ in expected], atol=1e-5)


@pytest.mark.parametrize(
    ("size", "score_thresh", "thr", "n_max"),
    [
        (None, 0.3, 0.5, 100),
        ((28, 20), 0.2, 0.3, 100),
        (None, 0.0, 0.5, 7),
        ((32, 32), 0.1, 0.6, 3),
    ],
)
def test_yolo_postprocess_clips_boxes_to_the_image_before_nms(size, score_thresh, thr, n_max):
    """Boxes decoded reaching outside the image were returned unclipped (up to 366 px out of
    a 32 px image here) and suppressed by their IoU outside the image; torchvision's detectors
    clip them before the NMS. Random outputs with large t_w, t_h (boxes 2-3 times their
    anchors), the whole pipeline written out; default image size: the grid's extent (32, 32)."""
    torch.manual_seed(0)
    net = TinyYOLOv3(num_classes=3, width=8).eval()
    gen = torch.Generator().manual_seed(1)
    outs = [torch.randn(1, 3, g, g, 8, generator=gen) for g in (8, 4, 2)]
    for o in outs:
        o[..., 2:4] = o[..., 2:4].abs() + 0.7  # wide boxes: many reach outside the image
    kw = {} if size is None else {"image_size": size}
    det = net.postprocess(outs, score_thresh, thr, n_max, **kw)[0]
    want = _yolo_reference(
        outs, net.anchors, net.strides, size or (32, 32), score_thresh, thr, n_max
    )
    assert len(want) > 2  # a case with detections to compare (the reference keeps <= n_max)
    _assert_same(det, want)
    got = yolo_postprocess(outs, net.anchors, net.strides, score_thresh, thr, n_max, **kw)
    _assert_same(got[0], want)


def test_yolo_postprocess_suppresses_by_the_overlap_inside_the_image():
    """Two boxes of one class straddling the left edge: IoU 0.5 as decoded (not > 0.5, both
    kept before), 144 / 264 = 0.55 once clipped to the image (torchvision suppresses the
    second)."""
    net = TinyYOLOv3(num_classes=1, width=8, anchors=[[[8, 8]] * 2] * 3).eval()
    outs = [torch.full((1, 2, g, g, 6), -30.0) for g in (8, 4, 2)]
    # cell (0, 0) of level 0, stride 4: centre (sigma(tx) 4, 2) with t_x = 0 -> x = 2
    for a, (tw, z) in enumerate([(math.log(40 / 8), 3.0), (math.log(20 / 8), 2.0)]):
        outs[0][0, a, 0, 0, :6] = torch.tensor([0.0, 0.0, tw, math.log(20 / 8), z, 30.0])
    det = net.postprocess(outs, 0.3, 0.5)[0]
    want = _yolo_reference(outs, net.anchors, net.strides, (32, 32), 0.3, 0.5, 100)
    assert len(want) == 1
    _assert_same(det, want)
    np.testing.assert_allclose(det["boxes"][0].tolist(), [0.0, 0.0, 22.0, 12.0], atol=2e-6)


def test_yolo_postprocess_refuses_a_bad_image_size():
    net = TinyYOLOv3(num_classes=1, width=8).eval()
    outs = net(torch.rand(1, 3, 32, 32))
    with pytest.raises(ValueError, match=r"image_size must be two integers \(H, W\) >= 1"):
        net.postprocess(outs, image_size=(0, 32))


def test_yolo_postprocess_clips_each_image_to_its_own_size():
    """Images of different sizes padded into one 32 x 32 batch: torchvision clips each image's
    boxes to its own size (``image_sizes``); the keyword did not exist (every box was clipped
    to the batch's size, or, before, not at all)."""
    torch.manual_seed(0)
    net = TinyYOLOv3(num_classes=3, width=8).eval()
    gen = torch.Generator().manual_seed(2)
    outs = [torch.randn(2, 3, g, g, 8, generator=gen) for g in (8, 4, 2)]
    for o in outs:
        o[..., 2:4] = o[..., 2:4].abs() + 0.7
    sizes = [(32, 32), (20, 27)]
    det = net.postprocess(outs, 0.2, 0.4, image_sizes=sizes)
    for b, size in enumerate(sizes):
        one = [o[b : b + 1] for o in outs]
        _assert_same(det[b], _yolo_reference(one, net.anchors, net.strides, size, 0.2, 0.4, 100))
    assert float(det[1]["boxes"][:, 2].max()) == 27.0 and float(det[1]["boxes"][:, 3].max()) == 20


def _retina_reference(logits, deltas, anchors, size, score_thresh, thr, topk, n_max):
    """torchvision's RetinaNet.postprocess_detections for one image: per level the scores
    > score_thresh, their topk_candidates best, decoded (weights 1, t_w and t_h clamped to
    log(1000 / 16)) and clipped; then per-class NMS and the detections_per_img best."""
    h_img, w_img = size
    candidates = []
    for lg, dl, anc in zip(logits, deltas, anchors, strict=True):
        n_cls = lg.shape[1]
        scores = [(_sigmoid(v), i) for i, v in enumerate(lg.double().flatten().tolist())]
        kept = sorted((s for s in scores if s[0] > score_thresh), key=lambda s: -s[0])[:topk]
        for score, i in kept:
            a, c = divmod(i, n_cls)
            tx, ty, tw, th = dl[a].double().tolist()
            x1, y1, x2, y2 = anc[a].double().tolist()
            aw, ah = x2 - x1, y2 - y1
            cx, cy = x1 + aw / 2 + tx * aw, y1 + ah / 2 + ty * ah
            bw = aw * math.exp(min(tw, math.log(1000 / 16)))
            bh = ah * math.exp(min(th, math.log(1000 / 16)))
            box = [cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2]
            box = [min(max(v, 0.0), w_img if k % 2 == 0 else h_img) for k, v in enumerate(box)]
            candidates.append((box, score, c))
    return _reference(candidates, thr, n_max)


@pytest.mark.parametrize("refine", [False, True])
def test_retinanet_postprocess_clips_each_image_to_its_own_size(refine):
    """RetinaNet (and RefineDet, whose ARM here leaves the anchors as they are) against
    torchvision's pipeline, one batch of two images padded to 32 x 32 of sizes 32 x 32 and
    17 x 26: each image's boxes clipped to its own size."""
    torch.manual_seed(0)
    cls = TinyRefineDet if refine else TinyRetinaNet
    net = cls(num_classes=3, width=8, num_convs=1).eval()
    anchors = net.anchors((32, 32))
    gen = torch.Generator().manual_seed(3)
    logits = [torch.randn(2, len(a), 3, generator=gen) - 1 for a in anchors]
    deltas = [torch.randn(2, len(a), 4, generator=gen) + 0.3 for a in anchors]
    out = {"cls_logits": logits, "bbox_regression": deltas}
    if refine:  # objectness 1 (nothing filtered), offsets 0 (refined anchors = anchors)
        out["arm_logits"] = [torch.full((2, len(a), 1), 30.0) for a in anchors]
        out["arm_regression"] = [torch.zeros(2, len(a), 4) for a in anchors]
    sizes = [(32, 32), (17, 26)]
    det = net.postprocess(out, (32, 32), 0.3, 0.5, 40, 25, image_sizes=sizes)
    for b, size in enumerate(sizes):
        want = _retina_reference(
            [t[b] for t in logits], [t[b] for t in deltas], anchors, size, 0.3, 0.5, 40, 25
        )
        assert len(want) == 25
        _assert_same(det[b], want)


def test_image_sizes_are_checked():
    net = TinyRetinaNet(num_classes=3, width=8, num_convs=1).eval()
    yolo = TinyYOLOv3(num_classes=3, width=8).eval()
    with torch.no_grad():
        x = torch.rand(2, 3, 32, 32)
        out, yout = net(x), yolo(x)
    for post in (
        lambda s: net.postprocess(out, (32, 32), image_sizes=s),
        lambda s: yolo.postprocess(yout, image_sizes=s),
    ):
        with pytest.raises(ValueError, match=r"one \(H, W\) per image \(2\), got 1"):
            post([(32, 32)])
        with pytest.raises(ValueError, match=r"image_sizes\[1\] = \(32, 40\) is larger"):
            post([(32, 32), (32, 40)])
        with pytest.raises(ValueError, match=r"image_size must be two integers"):
            post([(32, 32), (0, 4)])
        with pytest.raises(TypeError, match="image_sizes must be a sequence"):
            post(torch.tensor([[32, 32], [32, 32]]))
