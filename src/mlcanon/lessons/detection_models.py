"""Section I lessons on detectors: a YOLOv3-style model and its feature pyramid."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

from mlcanon.lessons import Context, lesson

_SEED = 0


def average_precision(scores: Any, is_tp: Any, n_gt: int) -> float:
    """All-point interpolated AP: area under the precision envelope, vectorised."""
    order = np.argsort(-np.asarray(scores), kind="stable")
    tp = np.asarray(is_tp, dtype=float)[order]
    if n_gt == 0:
        return float("nan")
    recall = np.concatenate(([0.0], np.cumsum(tp) / n_gt))
    precision = np.concatenate(([1.0], np.cumsum(tp) / np.arange(1, len(tp) + 1)))
    envelope = np.maximum.accumulate(precision[::-1])[::-1]  # max precision at recall >= r
    return float(np.sum(np.diff(recall) * envelope[1:]))


def _ap_brute_force(scores: list, is_tp: list, n_gt: int) -> float:
    """The definition with loops: for each new recall level, the best precision reached at
    that recall or beyond, times the recall step."""
    ranked = sorted(zip(scores, is_tp, strict=True), key=lambda p: -p[0])
    points, hits = [], 0
    for k, (_, t) in enumerate(ranked, start=1):
        hits += bool(t)
        points.append((hits / n_gt, hits / k))
    ap, prev = 0.0, 0.0
    for r, _ in points:
        if r > prev:
            ap += (r - prev) * max(p for rr, p in points if rr >= r)
            prev = r
    return ap


def _match(dets: list[dict], gts: list, gt_labels: list, n_classes: int, thr: float = 0.5):
    """Greedy matching by score (PASCAL VOC): per class, scores, TP flags and #gt."""
    from mlcanon.vision import box_iou

    out = {c: ([], [], 0) for c in range(n_classes)}
    for det, gt, lab in zip(dets, gts, gt_labels, strict=True):
        for c in range(n_classes):
            g = gt[lab == c]
            m = det["labels"] == c
            b, s = det["boxes"][m], det["scores"][m]
            order = np.argsort(-s.numpy(), kind="stable")
            used = np.zeros(len(g), bool)
            iou = box_iou(b, g).numpy() if len(g) and len(b) else np.zeros((len(b), len(g)))
            sc, tp, n = out[c]
            for i in order:
                j = int(iou[i].argmax()) if len(g) else -1
                hit = j >= 0 and iou[i, j] >= thr and not used[j]
                if hit:
                    used[j] = True
                sc.append(float(s[i]))
                tp.append(hit)
            out[c] = (sc, tp, n + len(g))
    return out


@lru_cache(maxsize=1)
def _trained() -> tuple:
    import torch

    from mlcanon.datasets import make_shapes
    from mlcanon.models import TinyYOLOv3
    from mlcanon.vision import kmeans_anchors

    torch.manual_seed(_SEED)
    images, boxes, labels = make_shapes(96, random_state=_SEED)
    wh = np.concatenate([b[:, 2:] - b[:, :2] for b in boxes[:64]]).astype(np.float64)
    km = kmeans_anchors(wh, 9, random_state=_SEED)
    model = TinyYOLOv3(num_classes=3, anchors=km.anchors.reshape(3, 3, 2))
    opt = torch.optim.Adam(model.parameters(), lr=5e-3)
    x = torch.from_numpy(images)
    model.eval()
    with torch.no_grad():
        before = model.postprocess(model(x[64:]), score_thresh=0.05, iou_threshold=0.5)
    model.train()
    rng = np.random.default_rng(_SEED)
    losses = []
    for _ in range(200):
        idx = rng.choice(64, 16, replace=False)
        loss = model.loss(model(x[idx]), [boxes[i] for i in idx], [labels[i] for i in idx])
        opt.zero_grad()
        loss["total"].backward()
        opt.step()
        losses.append(loss["total"].item())
    model.eval()
    with torch.no_grad():
        dets = model.postprocess(model(x[64:]), score_thresh=0.05, iou_threshold=0.5)
    gts = [torch.from_numpy(b) for b in boxes[64:]]
    labs = [torch.from_numpy(lab) for lab in labels[64:]]
    return model, km, wh, losses, images[64:], dets, gts, labs, before


def _lloyd_1_minus_iou(wh: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """YOLOv2's dimension clusters, written out: assign by max IoU, move to the mean."""
    labels = None
    for _ in range(300):
        inter = np.minimum(wh[:, None, 0], centers[None, :, 0]) * np.minimum(
            wh[:, None, 1], centers[None, :, 1]
        )
        union = (wh[:, 0] * wh[:, 1])[:, None] + (centers[:, 0] * centers[:, 1])[None] - inter
        new_lab = (inter / union).argmax(axis=1)
        if labels is not None and np.array_equal(new_lab, labels):
            break  # assignments stopped changing
        labels = new_lab
        centers = np.array(
            [wh[labels == c].mean(0) if (labels == c).any() else centers[c] for c in range(9)]
        )
    return centers[np.argsort(centers.prod(1), kind="stable")]


@lesson("yolo")
def yolo(ctx: Context) -> None:
    from mlcanon.vision import kmeans_anchors

    ctx.say("""
        A YOLOv3-style detector predicts, in every cell of three feature maps (strides 4, 8
        and 16 here) and for each of three anchors, four box offsets, one objectness logit and
        one independent logistic score per class (no softmax, so labels need not be exclusive).
        The box centre is sigmoid(t) + cell index (it cannot leave its cell) and the size is
        the anchor's size times exp(t). Each ground-truth box is given to the single anchor,
        over all nine, whose shape has the highest IoU with it, in the cell holding its centre.
        Non-responsible anchors whose predicted box already overlaps a ground truth by more
        than 0.5 IoU are left out of the no-object loss. The loss is BCE for objectness and
        classes and GIoU for the box; inference multiplies objectness by class probability,
        thresholds and runs per-class NMS.

        The nine anchor shapes come from k-means on the training boxes' widths and heights with
        distance 1 - IoU (YOLOv2), so that large boxes do not dominate as they would with
        Euclidean distance.""")
    model, km, wh, losses, _, dets, gts, labs, before = _trained()
    init = wh[np.random.default_rng(_SEED).choice(len(wh), 9, replace=False)]
    ours = _lloyd_1_minus_iou(wh, init.copy())
    ref = kmeans_anchors(wh, 9, init=init, random_state=_SEED).anchors
    ctx.check(
        "k-means anchors (1 - IoU), same seeding",
        ours,
        ref,
        rtol=1e-10,
        ref="mlcanon.vision.kmeans_anchors",
    )
    ctx.table(
        "anchors (w, h) per level, from k-means on 64 training images",
        ["level (stride)", "anchor 1", "anchor 2", "anchor 3"],
        [
            [f"{lv} ({s})", *[f"{w:.1f} x {h:.1f}" for w, h in km.anchors[3 * lv : 3 * lv + 3]]]
            for lv, s in enumerate(model.strides)
        ],
    )
    ctx.claim(
        "training loss falls",
        np.mean(losses[-20:]) < 0.2 * np.mean(losses[:5]),
        f"mean loss first 5 steps {np.mean(losses[:5]):.2f}, last 20 {np.mean(losses[-20:]):.3f}",
    )

    hand = average_precision([0.9, 0.8, 0.7, 0.6], [1, 0, 1, 0], 3)
    ctx.check(
        "AP on a hand case (TP, FP, TP, FP; 3 ground truths) = 1/3 + 1/3 * 2/3",
        hand,
        5 / 9,
        rtol=1e-12,
        ref="hand computation",
    )
    matched = _match(dets, gts, labs, 3)
    aps = [average_precision(s, t, n) for s, t, n in matched.values()]
    brute = [_ap_brute_force(s, t, n) for s, t, n in matched.values()]
    ctx.check(
        "AP@0.5 per class: vectorised vs brute-force loops",
        aps,
        brute,
        rtol=1e-12,
        ref="brute-force definition",
    )
    names = ("square", "disk", "triangle")
    ctx.table(
        "AP@0.5 on 32 held-out images (200 Adam steps)",
        ["class", "AP@0.5", "#gt"],
        [[names[c], aps[c], matched[c][2]] for c in range(3)],
    )
    mAP = float(np.mean(aps))
    base = float(np.mean([average_precision(*v) for v in _match(before, gts, labs, 3).values()]))
    ctx.claim(
        "training raises mAP@0.5 above the untrained network's",
        mAP > base + 0.1,
        f"mAP@0.5 untrained {base:.3f}, after 200 steps {mAP:.3f}",
    )
    ctx.say("""
        200 steps on 64 images is far from convergence: the measured mAP above is what this
        budget buys, not what the architecture can reach.""")
    if ctx.figures:
        _figure(ctx, dets, gts)


def _figure(ctx: Context, dets: list, gts: list) -> None:
    from matplotlib.patches import Rectangle

    images = _trained()[4]
    with ctx.figure("yolo_detections", figsize=(8, 2.4)) as fig:
        for k, ax in enumerate(fig.subplots(1, 4)):
            ax.imshow(images[k].transpose(1, 2, 0))
            for box, col in [(b, "lime") for b in gts[k].tolist()] + [
                (b, "red")
                for b, s in zip(dets[k]["boxes"].tolist(), dets[k]["scores"], strict=True)
                if s > 0.3
            ]:
                x1, y1, x2, y2 = box
                ax.add_patch(Rectangle((x1, y1), x2 - x1, y2 - y1, fill=False, color=col))
            ax.set_axis_off()
        fig.suptitle("ground truth (green), detections with score > 0.3 (red)")


@lesson("fpn")
def fpn(ctx: Context) -> None:
    import torch

    ctx.say("""
        A feature pyramid network turns a backbone's maps C3, C4, C5 (strides growing by 2)
        into maps P3, P4, P5 that all have the same channels: each C is projected by a 1x1
        lateral convolution, the coarser merged map is upsampled by 2 and added (top-down
        pathway), and a 3x3 convolution smooths the sum. Fine levels keep their resolution
        but receive the semantics of the deep levels, so small objects can be detected on a
        fine grid and large ones on a coarse grid with a large receptive field.""")
    model, _, _, _, _, dets, gts, _, _ = _trained()
    with torch.no_grad():
        feats = model.backbone(torch.zeros(1, 3, 64, 64))
    ctx.check(
        "pyramid grid sizes for a 64 x 64 image",
        [f.shape[-1] for f in feats],
        [64 // s for s in model.strides],
        ref="Lin et al. 2017, strides 4/8/16 here",
    )
    rows, medians = [], []
    from mlcanon.vision import box_iou

    for level in range(3):
        sizes = []
        for det, gt in zip(dets, gts, strict=True):
            m = (det["levels"] == level) & (det["scores"] > 0.3)
            if m.any() and len(gt):
                iou = box_iou(det["boxes"][m], gt)
                best = iou.max(dim=1)
                hit = best.values >= 0.5
                g = gt[best.indices[hit]]
                sizes += torch.sqrt((g[:, 2] - g[:, 0]) * (g[:, 3] - g[:, 1])).tolist()
        med = float(np.median(sizes)) if sizes else float("nan")
        medians.append(med)
        rows.append(
            [
                f"P{level} (stride {model.strides[level]})",
                len(sizes),
                med,
                float(np.min(sizes)) if sizes else float("nan"),
                float(np.max(sizes)) if sizes else float("nan"),
            ]
        )
    ctx.table(
        "correct detections (IoU >= 0.5, score > 0.3) by the level that fired",
        ["level", "#detections", "median sqrt(area) px", "min", "max"],
        rows,
    )
    ok = all(np.isfinite(medians)) and medians[0] < medians[1] < medians[2]
    ctx.claim(
        "finer levels catch smaller objects (median object side grows with stride)",
        ok,
        "medians " + ", ".join(f"{m:.1f}" for m in medians),
    )
    ctx.say("""
        The split is built in, not learned: the k-means anchors are sorted by area and the
        smallest three sit on the stride-4 level, so a small box is always given to a fine-level
        anchor in training. What the table measures is that each level, after training, does
        detect the objects of its size range.""")
