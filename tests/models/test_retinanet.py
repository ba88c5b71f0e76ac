import math

import numpy as np
import pytest
import torch

from mlcanon.datasets import make_shapes
from mlcanon.models import TinyRetinaNet, match_anchors, retinanet_loss, tiny_retinanet
from mlcanon.vision import BoxCoder


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return TinyRetinaNet(num_classes=3, width=16, num_convs=1)


@pytest.mark.parametrize(("h", "w"), [(64, 64), (48, 80)])
def test_output_shapes_per_level_are_anchors_by_classes(model, h, w):
    out = model(torch.rand(2, 3, h, w))
    anchors = model.anchors((h, w))
    for s, cls, reg, anc in zip(
        (4, 8, 16), out["cls_logits"], out["bbox_regression"], anchors, strict=True
    ):
        n = (h // s) * (w // s) * 9
        assert cls.shape == (2, n, 3)
        assert reg.shape == (2, n, 4)
        assert anc.shape == (n, 4)


def test_class_bias_starts_at_the_prior(model):
    torch.manual_seed(1)
    with torch.no_grad():
        logits = torch.cat(model(torch.rand(1, 3, 32, 32))["cls_logits"], dim=1)
    p = torch.sigmoid(logits)
    # weights are N(0, 0.01^2): the output is the bias up to a small perturbation
    assert torch.allclose(p, torch.full_like(p, 0.01), atol=2e-3)
    assert math.isclose(torch.sigmoid(model.cls_subnet[-1].bias[0]).item(), 0.01, rel_tol=1e-6)


def test_anchor_layout_follows_cell_then_anchor_order(model):
    anc = model.anchors((16, 16))[0]  # stride 4, 4 x 4 cells, 9 anchors each
    base = model.anchor_generator.cell_anchors[0]
    torch.testing.assert_close(anc[:9], base)
    torch.testing.assert_close(anc[9:18], base + torch.tensor([4.0, 0.0, 4.0, 0.0]))
    torch.testing.assert_close(anc[4 * 9 : 5 * 9], base + torch.tensor([0.0, 4.0, 0.0, 4.0]))


def test_matching_hand_made_case():
    anchors = torch.tensor(
        [
            [0.0, 0.0, 10.0, 10.0],  # IoU 1 with gt 0 -> positive (0)
            [0.0, 0.0, 10.0, 5.0],  # IoU 0.5 with gt 0 -> positive (0), at the threshold
            [0.0, 0.0, 10.0, 4.5],  # IoU 0.45 -> ignored
            [0.0, 0.0, 10.0, 3.0],  # IoU 0.3 -> negative
            [50.0, 50.0, 60.0, 60.0],  # no overlap -> negative
            [20.0, 20.0, 30.0, 26.0],  # IoU 60/100 = 0.6 with gt 1 -> positive (1)
            [100.0, 100.0, 110.0, 113.0],  # IoU 100/130 with gt 2 (its best) -> positive (2)
        ]
    )
    gt = torch.tensor(
        [[0.0, 0.0, 10.0, 10.0], [20.0, 20.0, 30.0, 30.0], [100.0, 100.0, 110.0, 110.0]]
    )
    got = match_anchors(anchors, gt)
    assert got.tolist() == [0, 0, -2, -1, -1, 1, 2]


def test_low_quality_match_gives_each_ground_truth_its_best_anchor():
    anchors = torch.tensor([[0.0, 0.0, 10.0, 10.0], [0.0, 0.0, 10.0, 3.0]])
    gt = torch.tensor([[0.0, 0.0, 10.0, 2.0]])  # IoUs 0.2 and 2/3
    gt_far = torch.tensor([[0.0, 0.0, 30.0, 30.0]])  # IoUs 1/9 and 1/30: all < 0.4
    assert match_anchors(anchors, gt).tolist() == [-1, 0]
    assert match_anchors(anchors, gt_far).tolist() == [0, -1]
    assert match_anchors(anchors, gt_far, allow_low_quality_matches=False).tolist() == [-1, -1]
    assert match_anchors(anchors, torch.zeros(0, 4)).tolist() == [-1, -1]


def test_low_quality_match_keeps_tied_anchors_and_their_own_best_box():
    # two anchors tie at the box's best IoU, 4*8 / (256 + 64 - 32) = 1/9 each: both positive
    anchors = torch.tensor([[0.0, 0.0, 16.0, 16.0], [16.0, 0.0, 32.0, 16.0]])
    assert match_anchors(anchors, torch.tensor([[12.0, 4.0, 20.0, 12.0]])).tolist() == [0, 0]
    # box 0's best anchor is anchor 0 (IoU 100/400 = 0.25; anchor 1: 40/400), but anchor 0
    # overlaps box 1 more (30/100 = 0.3, below 0.4): it is matched to box 1, whose own best
    # anchor is anchor 1 (30/40 = 0.75, above 0.5)
    anchors = torch.tensor([[0.0, 0.0, 10.0, 10.0], [0.0, 0.0, 10.0, 4.0]])
    gt = torch.tensor([[0.0, 0.0, 20.0, 20.0], [0.0, 0.0, 10.0, 3.0]])
    assert match_anchors(anchors, gt).tolist() == [1, 1]
    assert match_anchors(anchors, gt, allow_low_quality_matches=False).tolist() == [-1, 1]


def _batch(n=4, seed=0):
    images, boxes, labels = make_shapes(n, image_size=32, random_state=seed)
    return torch.from_numpy(images), boxes, labels


@pytest.mark.parametrize("bbox_loss", ["smooth_l1", "giou"])
def test_loss_finite_and_decreasing_on_one_batch(bbox_loss):
    torch.manual_seed(0)
    net = tiny_retinanet(width=16, num_convs=1)
    x, boxes, labels = _batch()
    opt = torch.optim.Adam(net.parameters(), lr=2e-3)
    losses = []
    for _ in range(20):
        parts = net.loss(net(x), boxes, labels, (32, 32), bbox_loss=bbox_loss)
        assert all(torch.isfinite(v) for v in parts.values())
        assert parts["num_pos"] >= sum(len(b) for b in boxes)  # every object has an anchor
        opt.zero_grad()
        parts["total"].backward()
        opt.step()
        losses.append(parts["total"].item())
    assert losses[-1] < 0.5 * losses[0]


def test_classification_loss_is_the_focal_formula_over_non_ignored_anchors():
    torch.manual_seed(2)
    net = TinyRetinaNet(width=8, num_convs=1)
    x, boxes, labels = _batch(2, seed=3)
    out = {k: [t.double() for t in v] for k, v in net(x).items()}
    anchors = net.anchors((32, 32))
    got = retinanet_loss(out, anchors, boxes, labels)["classification"]
    logits, anc = torch.cat(out["cls_logits"], 1), torch.cat(anchors).double()
    want = 0.0
    for b in range(2):
        m = match_anchors(anc, torch.as_tensor(boxes[b], dtype=torch.float64))
        t = torch.zeros_like(logits[b])
        pos = m >= 0
        t[pos, torch.as_tensor(labels[b])[m[pos]]] = 1.0
        keep = m != -2
        p = torch.sigmoid(logits[b][keep])
        tt = t[keep]
        p_t = p * tt + (1 - p) * (1 - tt)
        a_t = 0.25 * tt + 0.75 * (1 - tt)
        want += (-a_t * (1 - p_t) ** 2 * torch.log(p_t)).sum() / max(1, int(pos.sum()))
    torch.testing.assert_close(got, want / 2, rtol=1e-12, atol=0)
    # the anchors as one tensor, all levels concatenated, shared or per image (this raised
    # IndexError: "Dimension out of range (expected to be in range of [-1, 0], but got -2)")
    for one in (anc, anc[None].expand(2, -1, -1)):
        got = retinanet_loss(out, one, boxes, labels)["classification"]
        torch.testing.assert_close(got, want / 2, rtol=1e-12, atol=0)
    with pytest.raises(TypeError, match="anchors must be a Tensor or a list of tensors"):
        retinanet_loss(out, [anc.numpy()], boxes, labels)


def test_bce_follows_its_definition():
    torch.manual_seed(4)
    net = TinyRetinaNet(width=8, num_convs=1)
    x, boxes, labels = _batch(2, seed=5)
    out = {k: [t.double() for t in v] for k, v in net(x).items()}
    anchors = net.anchors((32, 32))
    got = retinanet_loss(out, anchors, boxes, labels, classification="bce")["classification"]
    logits, anc = torch.cat(out["cls_logits"], 1), torch.cat(anchors).double()
    want = 0.0
    for b in range(2):
        m = match_anchors(anc, torch.as_tensor(boxes[b], dtype=torch.float64))
        t = torch.zeros_like(logits[b])
        pos = m >= 0
        t[pos, torch.as_tensor(labels[b])[m[pos]]] = 1.0
        p = torch.sigmoid(logits[b])
        bce = -(t * torch.log(p) + (1 - t) * torch.log(1 - p)).sum(1)  # per anchor
        want += bce[m != -2].sum() / max(1, int(pos.sum()))
    torch.testing.assert_close(got, want / 2, rtol=1e-13, atol=0)


def _ssd_matches_by_definition(anchors, gt):
    """torchvision's SSDMatcher written out: IoU >= 0.5 matched to the anchor's best box (the
    first on ties), every other anchor background (-1), nothing ignored; then, box by box in
    order, the box's highest-IoU anchor (the first on ties) matched to it whatever the IoU."""
    m = torch.full((len(anchors),), -1, dtype=torch.long)
    if len(gt) == 0:
        return m
    iou = torch.empty(len(anchors), len(gt), dtype=torch.float64)
    for i, a in enumerate(anchors.tolist()):
        for j, g in enumerate(gt.tolist()):
            w = max(0.0, min(a[2], g[2]) - max(a[0], g[0]))
            h = max(0.0, min(a[3], g[3]) - max(a[1], g[1]))
            area_a = (a[2] - a[0]) * (a[3] - a[1])
            area_g = (g[2] - g[0]) * (g[3] - g[1])
            iou[i, j] = w * h / (area_a + area_g - w * h)
    for i in range(len(anchors)):
        j = int(iou[i].argmax())
        if iou[i, j] >= 0.5:
            m[i] = j
    for j in range(len(gt)):
        m[int(iou[:, j].argmax())] = j
    return m


@pytest.mark.parametrize(
    ("empty", "ratio"), [(None, 3), (0, 3.0), (1, 1.5), ("all", 3), (2, 0.7), (None, 0)]
)
def test_ssd_hard_negative_mining_follows_torchvision(empty, ratio):
    """torchvision's SSD.compute_loss written out (with BCE per anchor for its softmax cross
    entropy): anchors matched by SSDMatcher (ours used RetinaNet's matcher, which ignores the
    anchors at IoU 0.4 to 0.5 and forces a box's best anchor only at IoU > 0); in each image the
    positives and the negatives whose loss rank is < ratio * N_pos (ratio a float in
    torchvision, ours refused 1.5; none in an image without positives), both terms summed over
    the batch and divided by max(1, the batch's positives)."""
    torch.manual_seed(4)
    net = TinyRetinaNet(width=8, num_convs=1)
    x, boxes, labels = _batch(3, seed=5)
    boxes, labels = list(boxes), list(labels)
    for b in {None: [], 0: [0], 1: [1], 2: [2], "all": [0, 1, 2]}[empty]:
        boxes[b], labels[b] = np.zeros((0, 4), np.float32), np.zeros(0, np.int64)
    out = {k: [t.double() for t in v] for k, v in net(x).items()}
    anchors = net.anchors((32, 32))
    got = retinanet_loss(
        out, anchors, boxes, labels, classification="hard_negative", neg_pos_ratio=ratio
    )
    logits, anc = torch.cat(out["cls_logits"], 1), torch.cat(anchors).double()
    deltas = torch.cat(out["bbox_regression"], 1)
    cls_sum, box_sum, n_pos_total = 0.0, 0.0, 0
    for b in range(3):
        gt = torch.as_tensor(boxes[b], dtype=torch.float64).reshape(-1, 4)
        m = _ssd_matches_by_definition(anc, gt)
        t = torch.zeros_like(logits[b])
        pos = m >= 0
        t[pos, torch.as_tensor(labels[b])[m[pos]]] = 1.0
        p = torch.sigmoid(logits[b])
        bce = -(t * torch.log(p) + (1 - t) * torch.log(1 - p)).sum(1)  # per anchor
        n_pos = int(pos.sum())
        negatives = sorted(bce[m == -1].tolist(), reverse=True)
        kept = [v for rank, v in enumerate(negatives) if rank < ratio * n_pos]
        cls_sum += bce[pos].sum() + sum(kept)
        n_pos_total += n_pos
        if n_pos:  # smooth L1 (beta 1/9) of the offsets (dx, dy, log dw, log dh)
            a, g = anc[pos], gt[m[pos]]
            aw, ah = a[:, 2] - a[:, 0], a[:, 3] - a[:, 1]
            gw, gh = g[:, 2] - g[:, 0], g[:, 3] - g[:, 1]
            target = torch.stack(
                (
                    (g[:, 0] + gw / 2 - a[:, 0] - aw / 2) / aw,
                    (g[:, 1] + gh / 2 - a[:, 1] - ah / 2) / ah,
                    torch.log(gw / aw),
                    torch.log(gh / ah),
                ),
                1,
            )
            d = (deltas[b][pos] - target).abs()
            box_sum += torch.where(d < 1 / 9, 0.5 * d**2 * 9, d - 0.5 / 9).sum()
    n = max(1, n_pos_total)
    torch.testing.assert_close(got["classification"], cls_sum / n, rtol=1e-13, atol=0)
    torch.testing.assert_close(
        got["bbox_regression"], torch.as_tensor(box_sum / n).double(), rtol=1e-13, atol=0
    )
    assert float(got["num_pos"]) == n_pos_total


def test_neg_pos_ratio_is_a_number_at_least_zero():
    net = TinyRetinaNet(width=8, num_convs=1)
    x, boxes, labels = _batch(1, seed=5)
    out = net(x)
    for bad, exc in (
        (-0.5, ValueError),
        ("3", TypeError),
        (True, TypeError),
        (math.inf, ValueError),
    ):
        with pytest.raises(exc, match="neg_pos_ratio"):
            retinanet_loss(
                out,
                net.anchors((32, 32)),
                boxes,
                labels,
                classification="hard_negative",
                neg_pos_ratio=bad,
            )


def test_ssd_matching_hand_made_case():
    """SSDMatcher on a hand-made case: an anchor at IoU 0.45 is background (RetinaNet's matcher
    ignores it), a box whose best anchor overlaps it at IoU 0.3 still gets that anchor, and two
    boxes with the same best anchor leave it to the later box (torchvision's assignment order).
    Checked through the loss: the positives counted and the box loss's matched boxes."""
    anchors = torch.tensor(
        [
            [0.0, 0.0, 10.0, 10.0],  # IoU 1 with gt 0 -> positive (0)
            [0.0, 0.0, 10.0, 4.5],  # IoU 0.45 with gt 0 -> background (RetinaNet: ignored)
            [40.0, 40.0, 50.0, 50.0],  # IoU 0.3 with gt 1, its best -> positive (1)
            [100.0, 100.0, 110.0, 110.0],  # best anchor of gt 2 and gt 3 -> positive (3)
            [200.0, 200.0, 210.0, 210.0],  # no overlap -> background
        ],
        dtype=torch.float64,
    )
    gt = [[0.0, 0.0, 10.0, 10.0], [40.0, 40.0, 50.0, 43.0], [100.0, 100.0, 110.0, 111.0]]
    gt.append([100.0, 100.0, 110.0, 112.0])
    want = torch.tensor([0, -1, 1, 3, -1])
    torch.testing.assert_close(_ssd_matches_by_definition(anchors, torch.tensor(gt)), want)
    logits = torch.zeros(1, 5, 4, dtype=torch.float64)  # BCE log 2 per class and anchor
    deltas = torch.zeros(1, 5, 4, dtype=torch.float64)
    out = {"cls_logits": [logits], "bbox_regression": [deltas]}
    got = retinanet_loss(
        out, anchors, [np.array(gt)], [np.array([0, 1, 2, 3])], classification="hard_negative"
    )
    assert float(got["num_pos"]) == 3
    # 3 positives and both negatives (rank < 9), 4 classes each: 5 * 4 * log 2 / 3
    torch.testing.assert_close(
        got["classification"], torch.tensor(20 * math.log(2) / 3, dtype=torch.float64)
    )
    # offsets to the matched boxes: only the height terms are non-zero, log(3/10), log(1.2)
    # with the centre shift -3.5/10 for gt 1 and 1/10 for gt 3 (smooth L1, beta 1/9)
    sl1 = lambda d: abs(d) - 0.5 / 9 if abs(d) >= 1 / 9 else 4.5 * d * d  # noqa: E731
    box = sl1(-3.5 / 10) + sl1(math.log(0.3)) + sl1(1 / 10) + sl1(math.log(1.2))
    torch.testing.assert_close(
        got["bbox_regression"], torch.tensor(box / 3, dtype=torch.float64), rtol=1e-13, atol=0
    )


def _matches_by_definition(anchors, gt):
    """RetinaNet's assignment written out: IoU >= 0.5 positive, < 0.4 background, between
    ignored (-2); every anchor at a box's best IoU (> 0) positive too, with its own best box."""
    lt = torch.maximum(anchors[:, None, :2], gt[None, :, :2])
    rb = torch.minimum(anchors[:, None, 2:], gt[None, :, 2:])
    inter = (rb - lt).clamp(min=0).prod(-1)
    area = lambda b: (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])  # noqa: E731
    iou = inter / (area(anchors)[:, None] + area(gt)[None, :] - inter)
    best, idx = iou.max(dim=1)
    m = torch.where(best >= 0.5, idx, torch.full_like(idx, -1))
    m[(best >= 0.4) & (best < 0.5)] = -2
    top = iou.max(dim=0).values
    low = ((iou == top) & (top > 0)).any(dim=1)
    m[low] = idx[low]
    return m


def test_anchor_mask_discards_anchors_from_both_terms():
    """RefineDet's negative anchor filtering: a masked anchor is discarded, a positive one too
    (out of the classification and box terms and of N_pos), written out with BCE and the
    smooth L1 of the offsets (dx, dy, log dw, log dh) of Girshick et al."""
    torch.manual_seed(6)
    net = TinyRetinaNet(width=8, num_convs=1)
    x, boxes, labels = _batch(2, seed=7)
    out = {k: [t.double() for t in v] for k, v in net(x).items()}
    anchors = net.anchors((32, 32))
    logits, deltas = (torch.cat(out[k], 1) for k in ("cls_logits", "bbox_regression"))
    anc = torch.cat(anchors).double()
    gen = torch.Generator().manual_seed(0)
    mask = torch.rand(2, len(anc), generator=gen) < 0.5
    got = retinanet_loss(out, anchors, boxes, labels, classification="bce", anchor_mask=mask)
    want_cls = want_box = n_pos_all = 0.0
    for b in range(2):
        gt = torch.as_tensor(boxes[b], dtype=torch.float64)
        m = _matches_by_definition(anc, gt)
        assert (~mask[b] & (m >= 0)).any()  # positives are masked in this draw
        m[~mask[b]] = -2
        pos = m >= 0
        t = torch.zeros_like(logits[b])
        t[pos, torch.as_tensor(labels[b])[m[pos]]] = 1.0
        p = torch.sigmoid(logits[b])
        bce = -(t * torch.log(p) + (1 - t) * torch.log(1 - p)).sum(1)
        n_pos = max(1, int(pos.sum()))
        want_cls += bce[m != -2].sum() / n_pos
        a, g = anc[pos], gt[m[pos]]
        aw, ah, gw, gh = a[:, 2] - a[:, 0], a[:, 3] - a[:, 1], g[:, 2] - g[:, 0], g[:, 3] - g[:, 1]
        target = torch.stack(
            [
                (g[:, 0] + gw / 2 - a[:, 0] - aw / 2) / aw,
                (g[:, 1] + gh / 2 - a[:, 1] - ah / 2) / ah,
                torch.log(gw / aw),
                torch.log(gh / ah),
            ],
            1,
        )
        diff = (deltas[b][pos] - target).abs()
        beta = 1 / 9
        want_box += torch.where(diff < beta, 0.5 * diff**2 / beta, diff - 0.5 * beta).sum() / n_pos
        n_pos_all += int(pos.sum())
    torch.testing.assert_close(got["classification"], want_cls / 2, rtol=1e-10, atol=0)
    torch.testing.assert_close(got["bbox_regression"], want_box / 2, rtol=1e-10, atol=0)
    assert got["num_pos"].item() == n_pos_all
    nothing = retinanet_loss(out, anchors, boxes, labels, anchor_mask=torch.zeros_like(mask))
    assert all(v.item() == 0 for v in nothing.values())


def test_unknown_classification_loss():
    torch.manual_seed(0)
    net = TinyRetinaNet(width=8, num_convs=0)
    x, boxes, labels = _batch(1, seed=0)
    with pytest.raises(ValueError, match="classification must be one of 'focal', 'bce'"):
        net.loss(net(x), boxes, labels, (32, 32), classification="ohem")


def test_loss_matches_torchvision_focal_loss():
    ops = pytest.importorskip("torchvision.ops")  # skipped where torchvision is absent
    logits = torch.randn(50, 3, dtype=torch.float64)
    target = (torch.rand(50, 3) < 0.2).double()
    from mlcanon.nn.functional import sigmoid_focal_loss

    torch.testing.assert_close(
        sigmoid_focal_loss(logits, target, reduction="sum"),
        ops.sigmoid_focal_loss(logits, target, reduction="sum"),
        rtol=1e-12,
        atol=0,
    )


def _perfect_outputs(net, boxes, labels, size):
    anchors = net.anchors(size)
    coder = BoxCoder()
    cls, reg = [], []
    all_anc = torch.cat(anchors)
    m = match_anchors(all_anc, torch.as_tensor(boxes))
    logits = torch.full((len(all_anc), net.num_classes), -20.0)
    deltas = torch.zeros(len(all_anc), 4)
    pos = m >= 0
    logits[pos, torch.as_tensor(labels)[m[pos]]] = 20.0
    deltas[pos] = coder.encode_single(torch.as_tensor(boxes)[m[pos]], all_anc[pos])
    start = 0
    for a in anchors:
        cls.append(logits[start : start + len(a)][None])
        reg.append(deltas[start : start + len(a)][None])
        start += len(a)
    return {"cls_logits": cls, "bbox_regression": reg}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_decoding_a_perfect_prediction_returns_the_ground_truth(seed):
    net = TinyRetinaNet(width=8, num_convs=0)
    _, boxes, labels = make_shapes(1, image_size=64, random_state=seed)
    out = _perfect_outputs(net, boxes[0], labels[0], (64, 64))
    det = net.postprocess(out, (64, 64))[0]
    order = torch.argsort(det["boxes"][:, 0] * 1000 + det["boxes"][:, 1])
    gt = torch.as_tensor(boxes[0])
    gorder = torch.argsort(gt[:, 0] * 1000 + gt[:, 1])
    torch.testing.assert_close(det["boxes"][order], gt[gorder], rtol=0, atol=1e-4)
    assert det["labels"][order].tolist() == torch.as_tensor(labels[0])[gorder].tolist()
    assert torch.all(det["scores"] > 0.99)


def test_postprocess_limits_and_empty_images():
    torch.manual_seed(0)
    net = TinyRetinaNet(width=8, num_convs=0)
    with torch.no_grad():
        out = net(torch.rand(2, 3, 32, 32))
    assert all(len(d["boxes"]) == 0 for d in net.postprocess(out, (32, 32), score_thresh=0.5))
    dets = net.postprocess(out, (32, 32), score_thresh=0.0, detections_per_img=7)
    assert [len(d["boxes"]) for d in dets] == [7, 7]
    assert all(((d["boxes"] >= 0) & (d["boxes"] <= 32)).all() for d in dets)


def test_error_paths():
    with pytest.raises(ValueError, match="num_classes"):
        TinyRetinaNet(num_classes=0)
    with pytest.raises(ValueError, match="prior_probability"):
        TinyRetinaNet(prior_probability=1.0)
    with pytest.raises(ValueError, match="sizes"):
        TinyRetinaNet(sizes=((8, 10, 12),))
    anc, gt = torch.tensor([[0.0, 0.0, 2.0, 2.0]]), torch.tensor([[0.0, 0.0, 2.0, 2.0]])
    with pytest.raises(ValueError, match="bg_iou_thresh"):
        match_anchors(anc, gt, fg_iou_thresh=0.3, bg_iou_thresh=0.4)
    with pytest.raises(ValueError, match="fg_iou_thresh"):
        match_anchors(anc, gt, fg_iou_thresh=1.5)
    net = TinyRetinaNet(width=8, num_convs=0)
    x, boxes, labels = _batch(2)
    out = net(x)
    with pytest.raises(ValueError, match="bbox_loss"):
        net.loss(out, boxes, labels, (32, 32), bbox_loss="l2")
    with pytest.raises(ValueError, match="one entry per image"):
        net.loss(out, boxes[:1], labels[:1], (32, 32))
    with pytest.raises(ValueError, match="anchors"):
        net.loss(out, boxes, labels, (64, 64))
    with pytest.raises(ValueError, match="score_thresh"):
        net.postprocess(out, (32, 32), score_thresh=2.0)
    with pytest.raises(ValueError, match="detections_per_img"):
        net.postprocess(out, (32, 32), detections_per_img=0)
