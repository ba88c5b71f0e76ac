"""The detectors' postprocessing against torchvision's one-stage pipeline written out in plain
Python: decode, clip the boxes to the image (``box_ops.clip_boxes_to_image``), score threshold
(strictly greater), per-class greedy NMS (IoU strictly greater than the threshold suppresses),
the ``detections_per_img`` best."""

import math

import numpy as np
import pytest
import torch

from mlcanon.models import TinyYOLOv3, yolo_postprocess


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
    assert det["labels"].tolist() == [lab for _, _, lab in expected]
    np.testing.assert_allclose(det["scores"].double(), [s for _, s, _ in expected], rtol=1e-5)
    np.testing.assert_allclose(det["boxes"].double(), [b for b, _, _ in expected], atol=1e-4)


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
    assert len(want) == min(n_max, len(want)) and len(want) > 2
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
    np.testing.assert_allclose(det["boxes"][0].tolist(), [0.0, 0.0, 22.0, 12.0], atol=1e-5)


def test_yolo_postprocess_refuses_a_bad_image_size():
    net = TinyYOLOv3(num_classes=1, width=8).eval()
    outs = net(torch.rand(1, 3, 32, 32))
    with pytest.raises(ValueError, match=r"image_size must be two integers \(H, W\) >= 1"):
        net.postprocess(outs, image_size=(0, 32))
