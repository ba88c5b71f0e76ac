"""The detectors' full recipe: training time on this machine and COCO accuracy on the held-out
splits, scored by ours and by pycocotools' COCOeval.

``python -m benchmarks detectors`` trains YOLO and RetinaNet with the recipe of
``mlcanon train yolo|retinanet`` (15 epochs, MobileNetV2 + FPN) and prints AP@0.5 and
AP@[.5:.95] on the validation and test splits against the targets (0.90 and 0.60 within 5
minutes on 2 cores), and RefineDet's for comparison.

``python -m benchmarks.bench_detectors ablations [retinanet|yolo]`` runs the ablations, several
seeds each at the lessons' budget: RetinaNet's focal loss vs SSD's hard-negative mining vs plain
BCE, and RefineDet against that one-stage head; YOLO's CIoU vs GIoU box loss, and FPN's
top-down pathway on and off (AP by object size, pycocotools' area ranges scaled to 64-pixel
images).
"""

from __future__ import annotations

import statistics
import sys
import time

import numpy as np
import torch

from mlcanon.datasets import load_shapes
from mlcanon.lessons.detection_models import _EPOCHS, coco_stats, targets_of
from mlcanon.metrics import mean_average_precision
from mlcanon.models import MobileNetV2FPN
from mlcanon.train._detection import detect, fit_detector

TARGET_AP50, TARGET_MAP, TARGET_SECONDS = 0.90, 0.60, 300.0
# object sides are 8 to 32 pixels: COCO's 32 / 96 pixel limits scaled to 14 / 22 pixels
AREA_RNG = ((0, 1e10), (0, 14**2), (14**2, 22**2), (22**2, 1e10))


def _score(model: torch.nn.Module, split: str, area_rng=None) -> tuple[dict, np.ndarray]:
    images, boxes, labels = load_shapes(split)
    dets = [{k: v.cpu() for k, v in d.items()} for d in detect(model, images)]
    ours = mean_average_precision(dets, targets_of(boxes, labels))
    return ours, coco_stats(dets, boxes, labels, area_rng)


def recipe(seed: int = 0) -> list[dict]:
    torch.set_num_threads(2)
    rows = []
    for name in ("yolo", "retinanet", "refinedet"):
        start = time.perf_counter()
        model, _ = fit_detector(name, seed=seed)
        seconds = time.perf_counter() - start
        for split in ("val", "test"):
            ours, ref = _score(model, split)
            assert abs(ours["map"] - ref[0]) < 1e-6 and abs(ours["map_50"] - ref[1]) < 1e-6
            rows.append(
                {
                    "detector": name,
                    "split": split,
                    "seconds": seconds,
                    "ap50": ours["map_50"],
                    "map": ours["map"],
                }
            )
            ok = ours["map_50"] >= TARGET_AP50 and ours["map"] >= TARGET_MAP
            print(
                f"{name:9s} {split:4s} train {seconds:6.1f} s (target <= {TARGET_SECONDS:.0f})  "
                f"AP@0.5 {ours['map_50']:.3f} (>= {TARGET_AP50})  "
                f"AP@[.5:.95] {ours['map']:.3f} (>= {TARGET_MAP})  "
                f"{'ok' if ok and seconds <= TARGET_SECONDS else 'MISSED'}  "
                "(pycocotools agrees to 1e-6)",
                flush=True,
            )
    return rows


def _ablation(label: str, name: str, seeds: range, epochs: int, model_kwargs=dict, **kw) -> None:
    """``model_kwargs()`` is called per seed (after seeding), so a backbone passed there is
    freshly initialised for each run."""
    aps, small, large = [], [], []
    for seed in seeds:
        torch.manual_seed(seed)
        model, _ = fit_detector(name, epochs, seed, model_kwargs=model_kwargs(), **kw)
        _, ref = _score(model, "val", AREA_RNG)
        aps.append(ref[1])
        small.append(ref[3])
        large.append(ref[5])
    print(
        f"{label:38s} AP@0.5 {statistics.mean(aps):.3f} +- {statistics.stdev(aps):.3f}  "
        f"AP_small {statistics.mean(small):.3f}  AP_large {statistics.mean(large):.3f}  "
        f"(seeds {list(seeds)}: {', '.join(f'{a:.3f}' for a in aps)})",
        flush=True,
    )


def ablations(group: str = "all", seeds: range = range(3)) -> None:
    """RetinaNet's classification term (group ``retinanet``); YOLO's box loss and FPN's
    top-down pathway (group ``yolo``; the GIoU row is also the top-down-on row). Each run uses
    the lessons' schedule (RetinaNet and RefineDet 4 epochs, YOLO 5)."""
    torch.set_num_threads(1 if group != "all" else 2)
    print("ablations: validation split, pycocotools, areas scaled to 64-pixel images", flush=True)
    if group in ("all", "retinanet"):
        for kind in ("focal", "hard_negative", "bce"):
            _ablation(
                f"retinanet classification={kind}",
                "retinanet",
                seeds,
                _EPOCHS["retinanet"],
                loss_kwargs={"classification": kind},
            )
        _ablation("refinedet (ARM + ODM, focal)", "refinedet", seeds, _EPOCHS["retinanet"])
    if group in ("all", "yolo"):
        for box in ("giou", "ciou"):
            _ablation(
                f"yolo box_loss={box} (FPN top-down on)",
                "yolo",
                seeds,
                _EPOCHS["yolo"],
                lambda b=box: {"box_loss": b},
            )
    if group in ("all", "yolo", "fpn"):  # 'fpn': this row alone
        _ablation(
            "yolo box_loss=giou, FPN top-down off",
            "yolo",
            seeds,
            _EPOCHS["yolo"],
            lambda: {"backbone": MobileNetV2FPN(out_channels=48, top_down=False)},
        )


def main() -> None:
    recipe()


if __name__ == "__main__":
    if sys.argv[1:2] == ["ablations"]:
        ablations(*sys.argv[2:3])
    else:
        main()
