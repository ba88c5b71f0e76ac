"""Section I lessons on detectors: a YOLOv3-style model and its feature pyramid, trained on the
fixed shapes splits and scored with COCO's metrics."""

from __future__ import annotations

import time
from functools import lru_cache
from typing import Any

import numpy as np

from mlcanon.lessons import Context, lesson

_SEED = 0
# the lessons' short schedules; the full recipe (15 epochs) is `mlcanon train yolo|retinanet`
_EPOCHS = {"yolo": 5, "retinanet": 4}
_NAMES = ("square", "disk", "triangle")
# pycocotools' stats vector, in the order of mean_average_precision's keys
_COCO_KEYS = (
    "map",
    "map_50",
    "map_75",
    "map_small",
    "map_medium",
    "map_large",
    "mar_1",
    "mar_10",
    "mar_100",
    "mar_small",
    "mar_medium",
    "mar_large",
)


@lru_cache(maxsize=2)
def trained_detector(name: str) -> tuple:
    """A detector trained with the lessons' short schedule, its history, training seconds and
    its detections on the validation split (with that split)."""
    from mlcanon.datasets import load_shapes
    from mlcanon.train._detection import detect, fit_detector

    start = time.perf_counter()
    model, history = fit_detector(name, epochs=_EPOCHS[name], seed=_SEED)
    seconds = time.perf_counter() - start
    images, boxes, labels = load_shapes("val")
    return model, history, seconds, detect(model, images), (images, boxes, labels)


def targets_of(boxes: list, labels: list) -> list[dict]:
    import torch

    return [
        {"boxes": torch.from_numpy(b), "labels": torch.from_numpy(lab)}
        for b, lab in zip(boxes, labels, strict=True)
    ]


def coco_stats(dets: list[dict], boxes: list, labels: list, area_rng: Any = None) -> np.ndarray:
    """pycocotools' ``COCOeval.stats`` (12 numbers) for xyxy detections and ground truth.
    ``area_rng`` replaces COCO's (all, small, medium, large) area ranges in pixels^2."""
    import contextlib
    import io

    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    def xywh(b: list[float]) -> list[float]:
        return [b[0], b[1], b[2] - b[0], b[3] - b[1]]

    anns = []
    for i, (bs, cs) in enumerate(zip(boxes, labels, strict=True)):
        for b, c in zip(bs.tolist(), cs.tolist(), strict=True):
            area = (b[2] - b[0]) * (b[3] - b[1])
            anns.append(
                {
                    "id": len(anns) + 1,
                    "image_id": i,
                    "category_id": int(c),
                    "bbox": xywh(b),
                    "area": area,
                    "iscrowd": 0,
                }
            )
    gt = COCO()
    gt.dataset = {
        "images": [{"id": i} for i in range(len(boxes))],
        "annotations": anns,
        "categories": [{"id": c} for c in range(len(_NAMES))],
    }
    res = [
        {"image_id": i, "category_id": int(c), "bbox": xywh(b), "score": float(s)}
        for i, d in enumerate(dets)
        for b, s, c in zip(
            d["boxes"].tolist(), d["scores"].tolist(), d["labels"].tolist(), strict=True
        )
    ]
    with contextlib.redirect_stdout(io.StringIO()):
        gt.createIndex()
        evaluator = COCOeval(gt, gt.loadRes(res), "bbox")
        if area_rng is not None:
            evaluator.params.areaRng = [list(r) for r in area_rng]
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    return np.asarray(evaluator.stats)


def check_against_pycocotools(ctx: Context, name: str, dets: list, boxes: list, labels: list):
    """mean_average_precision on the lesson's detections, checked against COCOeval."""
    from mlcanon.metrics import mean_average_precision

    ours = mean_average_precision(dets, targets_of(boxes, labels), class_metrics=True)
    ctx.check(
        f"{name}: the 12 COCO metrics on the validation detections = pycocotools COCOeval",
        [ours[k] for k in _COCO_KEYS],
        lambda: coco_stats(dets, boxes, labels),
        rtol=1e-6,
        atol=1e-9,
        ref="pycocotools.cocoeval.COCOeval",
    )
    return ours


def report_training(
    ctx: Context,
    name: str,
    title: str,
    history: list,
    seconds: float,
    dets: list,
    boxes: list,
    labels: list,
    loss_drop: float,
) -> dict:
    """The trained detector's COCO scores (checked against pycocotools), a per-class table,
    and the claims on its loss and on AP@0.5 after the short schedule."""
    epochs = _EPOCHS[name]
    scores = check_against_pycocotools(ctx, title, dets, boxes, labels)
    per_class = zip(
        scores["classes"], scores["map_per_class"], scores["mar_100_per_class"], strict=True
    )
    ctx.table(
        f"{title}: COCO AP on the {len(boxes)} validation images after {epochs} epochs",
        ["class", "AP@[.5:.95]", "AR@100"],
        [[_NAMES[int(c)], ap, ar] for c, ap, ar in per_class]
        + [["all", scores["map"], scores["mar_100"]]],
    )
    losses = [h["loss"] for h in history]
    ctx.claim(
        "training loss falls",
        losses[-1] < loss_drop * losses[0],
        f"mean loss epoch 1 {losses[0]:.3f}, epoch {len(losses)} {losses[-1]:.3f}",
    )
    ctx.claim(
        f"the short schedule ({epochs} epochs) reaches AP@0.5 >= 0.70 on held-out images",
        scores["map_50"] >= 0.70,
        f"AP@0.5 {scores['map_50']:.3f}, AP@[.5:.95] {scores['map']:.3f}, "
        f"{seconds:.0f} s of training",
    )
    from mlcanon.train._detection import RECIPES

    ctx.say(f"""
        This lesson trains {epochs} epochs ({seconds:.0f} s here). The full recipe,
        `mlcanon train {name} --out DIR` ({RECIPES[name][2]} epochs, the same data and schedule
        shape), is measured by `make bench` (benchmarks/bench_detectors.py); its figures are in
        the README.""")
    return scores


def _lloyd_fixed_point(wh: np.ndarray, anchors: np.ndarray) -> np.ndarray:
    """YOLOv2's dimension clusters, by definition: each box joins the anchor of highest IoU
    (shapes on one centre), each anchor is the mean (w, h) of its boxes."""
    inter = np.minimum(wh[:, None, 0], anchors[None, :, 0]) * np.minimum(
        wh[:, None, 1], anchors[None, :, 1]
    )
    union = wh.prod(1)[:, None] + anchors.prod(1)[None] - inter
    nearest = (inter / union).argmax(axis=1)
    return np.array([wh[nearest == c].mean(0) for c in range(len(anchors))])


@lesson("yolo")
def yolo(ctx: Context) -> None:
    from mlcanon.datasets import load_shapes

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
        thresholds and runs per-class NMS. The backbone here is MobileNetV2 (width 0.5) cut at
        strides 4, 8 and 16 with a feature pyramid on top.

        The nine anchor shapes come from k-means on the training boxes' widths and heights with
        distance 1 - IoU (YOLOv2), so that large boxes do not dominate as they would with
        Euclidean distance.""")
    model, history, seconds, dets, (_, boxes, labels) = trained_detector("yolo")
    train_boxes = load_shapes("train")[1]
    wh = np.concatenate([b[:, 2:] - b[:, :2] for b in train_boxes]).astype(np.float64)
    anchors = model.anchors.reshape(-1, 2).double().numpy()
    ctx.check(
        "k-means anchors are a Lloyd fixed point under the 1 - IoU distance",
        anchors,
        _lloyd_fixed_point(wh, anchors),
        rtol=1e-6,  # the anchors are stored in float32
        ref="definition (Redmon & Farhadi 2017, Section 2)",
    )
    ctx.table(
        "anchors (w, h) per level, k-means on the training split's boxes",
        ["level (stride)", "anchor 1", "anchor 2", "anchor 3"],
        [
            [f"{lv} ({s})", *[f"{w:.1f} x {h:.1f}" for w, h in anchors[3 * lv : 3 * lv + 3]]]
            for lv, s in enumerate(model.strides)
        ],
    )
    report_training(ctx, "yolo", "YOLO", history, seconds, dets, boxes, labels, 0.3)
    _versions(ctx)
    if ctx.figures:
        _figure(ctx, dets, boxes)


def _versions(ctx: Context) -> None:
    import torch
    import torch.nn.functional as F

    from mlcanon.models import CSPBlock, SpaceToDepth, yolo_v1_decode

    ctx.say("""
        What each version changed. v1: one S x S grid, each cell predicts B boxes (x, y, w, h,
        confidence) and one set of C class probabilities, so the output is S x S x (5B + C);
        the loss is sum-squared error with weights 5 on coordinates and 0.5 on empty cells and
        square roots of w and h. v2: batch norm, anchors from k-means (1 - IoU), offsets
        squashed by a sigmoid to stay in their cell, and a passthrough layer that turns the
        26 x 26 map into 13 x 13 x 4C channels (space-to-depth) to keep fine detail. v3: three
        scales with an FPN-like top-down path, 3 anchors per scale and independent logistic
        class scores (the model in this lesson). v4/v5: CSP blocks in the backbone, PANet's
        extra bottom-up path in the neck, mosaic augmentation (four images in one) and the
        CIoU box loss. mlcanon.models has each of these as a module.""")
    out = torch.zeros(1, 7, 7, 2 * 5 + 20)  # the paper's S = 7, B = 2, C = 20 (VOC)
    boxes, scores = yolo_v1_decode(out)
    ctx.check(
        "YOLOv1 output per image: S x S x (5B + C) = 7 x 7 x 30 (VOC)",
        [out[0].numel(), *boxes.shape[1:4], scores.shape[-1]],
        [1470, 7, 7, 2, 20],
        ref="Redmon et al. 2016, Section 2",
    )
    x = torch.randn(1, 64, 26, 26)
    ctx.check(
        "v2 passthrough: 26 x 26 x 64 -> 13 x 13 x 256, = torch pixel_unshuffle",
        SpaceToDepth(2)(x).numpy(),
        F.pixel_unshuffle(x, 2).numpy(),
        rtol=0,
        ref="torch.nn.functional.pixel_unshuffle",
    )

    def conv_bn(c_in: int, c_out: int, k: int) -> int:  # bias-free conv + BN scale and shift
        return c_in * c_out * k * k + 2 * c_out

    csp = sum(p.numel() for p in CSPBlock(64, 64, n=1).parameters())
    plain = 2 * conv_bn(64, 64, 1) + conv_bn(64, 64, 3)  # 1x1, then a 1x1 + 3x3 bottleneck
    ctx.check(
        "CSP block (64 -> 64, one bottleneck): parameters by hand",
        csp,
        2 * conv_bn(64, 32, 1) + conv_bn(32, 32, 1) + conv_bn(32, 32, 3) + conv_bn(64, 64, 1),
        ref="hand count: two 1x1 splits, bottleneck 1x1 + 3x3 on half, 1x1 fuse",
    )
    ctx.claim(
        "the CSP block costs less than the same bottleneck on all channels",
        csp < plain,
        f"CSP {csp:,} parameters vs {plain:,} for a 1x1 + (1x1, 3x3) stack at width 64",
    )


def _figure(ctx: Context, dets: list, boxes: list) -> None:
    from matplotlib.patches import Rectangle

    from mlcanon.datasets import load_shapes

    images = load_shapes("val")[0]
    with ctx.figure("yolo_detections", figsize=(8, 2.4)) as fig:
        for k, ax in enumerate(fig.subplots(1, 4)):
            ax.imshow(images[k].transpose(1, 2, 0))
            shown = [(b, "lime") for b in boxes[k].tolist()] + [
                (b, "red")
                for b, s in zip(dets[k]["boxes"].tolist(), dets[k]["scores"], strict=True)
                if s > 0.3
            ]
            for (x1, y1, x2, y2), col in shown:
                ax.add_patch(Rectangle((x1, y1), x2 - x1, y2 - y1, fill=False, color=col))
            ax.set_axis_off()
        fig.suptitle("ground truth (green), detections with score > 0.3 (red)")


@lesson("fpn")
def fpn(ctx: Context) -> None:
    import torch

    from mlcanon.vision import box_iou

    ctx.say("""
        A feature pyramid network turns a backbone's maps C3, C4, C5 (strides growing by 2)
        into maps P3, P4, P5 that all have the same channels: each C is projected by a 1x1
        lateral convolution, the coarser merged map is upsampled by 2 and added (top-down
        pathway), and a 3x3 convolution smooths the sum. Fine levels keep their resolution
        but receive the semantics of the deep levels, so small objects can be detected on a
        fine grid and large ones on a coarse grid with a large receptive field.""")
    model, _, _, dets, (_, boxes, _) = trained_detector("yolo")
    with torch.no_grad():
        feats = model.backbone(torch.zeros(1, 3, 64, 64))
    ctx.check(
        "pyramid grid sizes for a 64 x 64 image",
        [f.shape[-1] for f in feats],
        [64 // 4, 64 // 8, 64 // 16],
        ref="Lin et al. 2017, strides 4/8/16 here",
    )
    rows, medians = [], []
    gts = [torch.from_numpy(b) for b in boxes]
    for level in range(3):
        sizes = []
        for det, gt in zip(dets, gts, strict=True):
            m = (det["levels"] == level) & (det["scores"] > 0.3)
            if m.any() and len(gt):
                best = box_iou(det["boxes"][m], gt).max(dim=1)
                g = gt[best.indices[best.values >= 0.5]]
                sizes += torch.sqrt((g[:, 2] - g[:, 0]) * (g[:, 3] - g[:, 1])).tolist()
        med = float(np.median(sizes)) if sizes else float("nan")
        medians.append(med)
        rows.append(
            [
                f"P{level} (stride {model.strides[level]})",
                len(sizes),
                med,
                min(sizes, default=float("nan")),
                max(sizes, default=float("nan")),
            ]
        )
    ctx.table(
        "correct detections (IoU >= 0.5, score > 0.3) by the level that fired",
        ["level", "#detections", "median sqrt(area) px", "min", "max"],
        rows,
    )
    ctx.claim(
        "finer levels catch smaller objects (median object side grows with stride)",
        bool(np.all(np.isfinite(medians))) and medians[0] < medians[1] < medians[2],
        "medians " + ", ".join(f"{m:.1f}" for m in medians),
    )
    ctx.say("""
        The split is built in, not learned: the k-means anchors are sorted by area and the
        smallest three sit on the stride-4 level, so a small box is always given to a fine-level
        anchor in training. What the table measures is that each level, after training, does
        detect the objects of its size range.""")
