"""COCO mAP/mAR of 500 images of detector-like output: ours vs pycocotools' COCOeval.

Both sides start from the same per-image dicts (xyxy boxes, scores, labels) and end with the
twelve summary numbers; the reference's time includes building its COCO objects, as
torchmetrics' MeanAveragePrecision does. Ours runs the greedy matching of every (image, class)
pair in one numba kernel and the ranking and precision envelopes in NumPy.
"""

from __future__ import annotations

import contextlib
import io

import numpy as np

from benchmarks._harness import compare
from mlcanon.metrics import mean_average_precision

N_IMAGES = 500


def _images(seed: int) -> tuple[list[dict], list[dict]]:
    """Objects of all sizes, each found 1-4 times with jitter, plus background boxes."""
    rng = np.random.default_rng(seed)
    preds, targets = [], []
    for _ in range(N_IMAGES):
        n = rng.integers(1, 10)
        c = rng.uniform(0, 600, (n, 2))
        wh = np.exp(rng.uniform(np.log(8), np.log(300), (n, 2)))
        gt = np.hstack([c - wh / 2, c + wh / 2])
        labels = rng.integers(0, 10, n)
        k = rng.integers(1, 5, n)
        det = (
            np.repeat(gt, k, 0)
            + rng.normal(0, 0.08, (k.sum(), 4)) * np.repeat(wh, k, 0)[:, [0, 1, 0, 1]]
        )
        det[:, 2:] = np.maximum(det[:, 2:], det[:, :2] + 1)
        xy = rng.uniform(0, 600, (20, 2))
        det = np.vstack([det, np.hstack([xy, xy + rng.uniform(5, 150, (20, 2))])])
        det_labels = np.concatenate([np.repeat(labels, k), rng.integers(0, 10, 20)])
        scores = np.concatenate([rng.uniform(0.3, 1, k.sum()), rng.uniform(0, 0.5, 20)])
        targets.append({"boxes": gt, "labels": labels})
        preds.append({"boxes": det, "scores": np.round(scores, 3), "labels": det_labels})
    return preds, targets


def _cocoeval(preds: list[dict], targets: list[dict]) -> np.ndarray:
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    def xywh(b: np.ndarray) -> list[list[float]]:
        return np.column_stack([b[:, :2], b[:, 2:] - b[:, :2]]).tolist()

    boxes = [
        (i, b, int(c))
        for i, t in enumerate(targets)
        for b, c in zip(xywh(t["boxes"]), t["labels"], strict=True)
    ]
    anns = [
        {"id": j, "image_id": i, "category_id": c, "bbox": b, "area": b[2] * b[3], "iscrowd": 0}
        for j, (i, b, c) in enumerate(boxes, start=1)
    ]
    results = [
        {"image_id": i, "category_id": int(c), "bbox": b, "score": float(s)}
        for i, p in enumerate(preds)
        for b, s, c in zip(xywh(p["boxes"]), p["scores"], p["labels"], strict=True)
    ]
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO()
        gt.dataset = {
            "images": [{"id": i} for i in range(len(targets))],
            "categories": [{"id": c} for c in range(10)],
            "annotations": anns,
        }
        gt.createIndex()
        ev = COCOeval(gt, gt.loadRes(results), "bbox")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return ev.stats


def main() -> None:
    preds, targets = _images(0)
    ours = mean_average_precision(preds, targets)
    keys = ["map", "map_50", "map_75", "map_small", "map_medium", "map_large"]
    keys += ["mar_1", "mar_10", "mar_100", "mar_small", "mar_medium", "mar_large"]
    np.testing.assert_allclose([ours[k] for k in keys], _cocoeval(preds, targets), atol=1e-12)
    n_det = sum(len(p["labels"]) for p in preds)
    compare(
        f"mean_average_precision, {N_IMAGES} images, {n_det} detections",
        lambda: mean_average_precision(preds, targets),
        lambda: _cocoeval(preds, targets),
        ref_name="COCOeval",
        target=1.0,
        repeat=5,
    )


if __name__ == "__main__":
    main()
