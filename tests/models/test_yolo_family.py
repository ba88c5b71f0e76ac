"""YOLO v1 output/loss/decoding, v2's passthrough layer, v4/v5's CSP block, PANet and mosaic."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mlcanon.datasets import make_shapes
from mlcanon.models import CSPBlock, PANet, SpaceToDepth, mosaic, yolo_v1_decode, yolo_v1_loss


def test_yolo_v1_decoding_of_a_hand_made_tensor():
    out = torch.zeros(1, 2, 2, 2 * 5 + 3)  # S = 2, B = 2, C = 3
    out[0, 1, 0, 5:10] = torch.tensor([0.5, 0.25, 0.5, 0.25, 0.8])  # row 1, col 0, box 1
    out[0, 1, 0, 10:] = torch.tensor([0.1, 0.7, 0.2])
    boxes, scores = yolo_v1_decode(out, boxes_per_cell=2, image_size=448)
    assert boxes.shape == (1, 2, 2, 2, 4) and scores.shape == (1, 2, 2, 2, 3)
    # cell side 224: centre (0.5 * 224, (1 + 0.25) * 224) = (112, 280), size (224, 112)
    assert boxes[0, 1, 0, 1].tolist() == [0.0, 224.0, 224.0, 336.0]
    torch.testing.assert_close(scores[0, 1, 0, 1], 0.8 * torch.tensor([0.1, 0.7, 0.2]))
    assert scores[0, 1, 0, 0].abs().sum() == 0  # box 0's confidence is 0


def test_yolo_v1_loss_hand_case():
    # S = 1, B = 2, C = 1; box 0 matches the object exactly, box 1 does not
    out = torch.tensor([[[[0.5, 0.5, 0.5, 0.5, 0.9, 0.0, 0.0, 0.1, 0.1, 0.3, 0.6]]]])
    target = torch.tensor([[[[0.5, 0.5, 0.5, 0.5, 1.0, 1.0]]]])
    parts = yolo_v1_loss(out, target)
    want = {"coord": 0.0, "obj": (0.9 - 1) ** 2, "noobj": 0.5 * 0.3**2, "cls": (0.6 - 1) ** 2}
    for k, v in want.items():
        assert float(parts[k]) == pytest.approx(v, abs=1e-7), k
    assert float(parts["total"]) == pytest.approx(sum(want.values()), abs=1e-7)


def test_yolo_v1_loss_equals_the_equation_written_as_loops():
    torch.manual_seed(0)
    n, s, b, c = 2, 3, 2, 4
    out = torch.rand(n, s, s, b * 5 + c, dtype=torch.float64)
    target = torch.zeros(n, s, s, 5 + c, dtype=torch.float64)
    for img, i, j in [(0, 0, 1), (0, 2, 2), (1, 1, 0)]:
        target[img, i, j, :4] = torch.rand(4, dtype=torch.float64) * 0.5 + 0.2
        target[img, i, j, 4] = 1.0
        target[img, i, j, 5 + (i + j) % c] = 1.0

    def xyxy(x, y, w, h, i, j):
        return ((x + j) / s - w / 2, (y + i) / s - h / 2, (x + j) / s + w / 2, (y + i) / s + h / 2)

    def iou(p, q):
        iw = max(0.0, min(p[2], q[2]) - max(p[0], q[0]))
        ih = max(0.0, min(p[3], q[3]) - max(p[1], q[1]))
        inter = iw * ih
        return inter / ((p[2] - p[0]) * (p[3] - p[1]) + (q[2] - q[0]) * (q[3] - q[1]) - inter)

    total = 0.0
    for img in range(n):
        for i in range(s):
            for j in range(s):
                t = target[img, i, j].tolist()
                preds = [out[img, i, j, 5 * k : 5 * k + 5].tolist() for k in range(b)]
                if t[4] == 0:
                    total += sum(0.5 * p[4] ** 2 for p in preds)
                    continue
                ious = [iou(xyxy(*p[:4], i, j), xyxy(*t[:4], i, j)) for p in preds]
                r = int(np.argmax(ious))
                for k, p in enumerate(preds):
                    if k != r:
                        total += 0.5 * p[4] ** 2
                p = preds[r]
                total += 5 * ((p[0] - t[0]) ** 2 + (p[1] - t[1]) ** 2)
                total += 5 * ((p[2] ** 0.5 - t[2] ** 0.5) ** 2 + (p[3] ** 0.5 - t[3] ** 0.5) ** 2)
                total += (p[4] - ious[r]) ** 2
                total += sum(
                    (a - z) ** 2
                    for a, z in zip(out[img, i, j, b * 5 :].tolist(), t[5:], strict=True)
                )
    assert float(yolo_v1_loss(out, target)["total"]) == pytest.approx(total, rel=1e-12)


def test_yolo_v1_shape_errors():
    with pytest.raises(ValueError, match=r"output must have shape \(N, S, S, 10 \+ C\)"):
        yolo_v1_decode(torch.zeros(1, 2, 3, 13))
    with pytest.raises(ValueError, match="target must have shape"):
        yolo_v1_loss(torch.zeros(1, 2, 2, 13), torch.zeros(1, 2, 2, 7))


def test_space_to_depth_is_pixel_unshuffle():
    x = torch.randn(2, 3, 8, 6)
    torch.testing.assert_close(SpaceToDepth(2)(x), F.pixel_unshuffle(x, 2), rtol=0, atol=0)
    with pytest.raises(ValueError, match="multiples of block=2"):
        SpaceToDepth(2)(torch.zeros(1, 1, 5, 4))


def test_csp_block_parameters_by_hand_and_shape():
    cin, cout, n = 16, 32, 2
    h = cout // 2
    conv_bn = lambda i, o, k: i * o * k * k + 2 * o  # noqa: E731 (conv without bias + BN)
    want = (
        2 * conv_bn(cin, h, 1) + n * (conv_bn(h, h, 1) + conv_bn(h, h, 3)) + conv_bn(2 * h, cout, 1)
    )
    block = CSPBlock(cin, cout, n)
    assert sum(p.numel() for p in block.parameters()) == want
    assert block(torch.rand(2, cin, 8, 8)).shape == (2, cout, 8, 8)


def test_panet_shapes_and_bottom_up_path():
    torch.manual_seed(0)
    pan = PANet([8, 16, 24], 12).eval()
    feats = [torch.rand(1, 8, 16, 16, requires_grad=True), torch.rand(1, 16, 8, 8),
             torch.rand(1, 24, 4, 4)]  # fmt: skip
    out = pan(feats)
    assert [tuple(o.shape) for o in out] == [(1, 12, 16, 16), (1, 12, 8, 8), (1, 12, 4, 4)]
    out[-1].sum().backward()  # the coarsest output sees the finest input (bottom-up path)
    assert feats[0].grad.abs().sum() > 0


def test_mosaic_tiles_four_images_and_moves_their_boxes():
    images, boxes, labels = make_shapes(4, image_size=32, random_state=3, noise=0.0)
    out, b, lab = mosaic(images, boxes, labels, random_state=0)
    assert out.shape == images[0].shape and len(b) == len(lab)
    assert ((b[:, 2] - b[:, 0]) >= 2).all() and (b >= 0).all() and (b <= 32).all()
    # every kept box covers pixels copied from one source image: the box region differs from
    # the background grey only where a shape was drawn, so it holds some bright pixel
    for x1, y1, x2, y2 in b.astype(int):
        assert out[:, y1:y2, x1:x2].max() >= 0.5
    with pytest.raises(ValueError, match="mosaic takes 4"):
        mosaic(images[:3], boxes[:3], labels[:3])


@pytest.mark.parametrize("min_side", [0.0, 0.5, 2.0])
def test_mosaic_drops_boxes_left_outside_their_quadrant_also_with_min_side_zero(min_side):
    # the rule written out box by box: shift the box by the quadrant's offset, clip it to the
    # quadrant, keep it only if something of it is seen (both sides > 0) and both sides are
    # >= min_side; with min_side=0 the old code kept boxes clipped to lines at the quadrant's
    # edge ([64, 23, 64, 33]), which the detectors' losses refuse as degenerate
    rng = np.random.default_rng(5)
    s = 64
    images = [rng.random((3, s, s)).astype(np.float32) for _ in range(4)]
    boxes = [np.array([[0.0, 0, 10, 10], [50, 50, 60, 60], [20, 30, 45, 31]])] * 4
    labels = [np.array([0, 1, 2])] * 4
    _, got, got_lab = mosaic(images, boxes, labels, random_state=0, min_side=min_side)
    cx, cy = (int(v) for v in np.random.default_rng(0).integers(s // 4, 3 * s // 4 + 1, 2))
    want, want_lab = [], []
    quadrants = [(0, 0, cx, cy), (cx, 0, s, cy), (0, cy, cx, s), (cx, cy, s, s)]
    for q, (x1, y1, x2, y2) in enumerate(quadrants):
        dx = x1 - (s - (x2 - x1) if x1 == 0 else 0)
        dy = y1 - (s - (y2 - y1) if y1 == 0 else 0)
        for (a, b, c, d), lab in zip(boxes[q], labels[q], strict=True):
            a, c = min(max(a + dx, x1), x2), min(max(c + dx, x1), x2)
            b, d = min(max(b + dy, y1), y2), min(max(d + dy, y1), y2)
            if c - a > 0 and d - b > 0 and c - a >= min_side and d - b >= min_side:
                want.append([a, b, c, d])
                want_lab.append(lab)
    np.testing.assert_array_equal(got, np.array(want, dtype=np.float32).reshape(-1, 4))
    np.testing.assert_array_equal(got_lab, want_lab)
    assert ((got[:, 2] > got[:, 0]) & (got[:, 3] > got[:, 1])).all()
