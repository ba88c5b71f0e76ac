"""Vision toolkit: NMS on 10,000 boxes and the profiler on MobileNetV2."""

from __future__ import annotations

import copy
import time

import numpy as np
import torch

from benchmarks._harness import compare
from mlcanon import models
from mlcanon.vision import batched_nms, nms, profile


def detections(n: int = 10_000, objects: int = 500, seed: int = 0):
    """Detector-like boxes: clusters of jittered proposals around 500 objects, random scores."""
    rng = np.random.default_rng(seed)
    centers = rng.uniform(0, 1000, (objects, 2))
    sizes = rng.uniform(20, 120, (objects, 2))
    who = rng.integers(0, objects, n)
    c = centers[who] + rng.normal(0, 0.15, (n, 2)) * sizes[who]
    wh = sizes[who] * rng.uniform(0.7, 1.3, (n, 2))
    boxes = np.hstack([c - wh / 2, c + wh / 2]).astype(np.float32)
    labels = torch.tensor(rng.integers(0, 20, n))
    return torch.tensor(boxes), torch.tensor(rng.uniform(0, 1, n), dtype=torch.float32), labels


def python_nms(boxes: list, scores: list, threshold: float) -> list[int]:
    """The textbook loop in pure Python (lists of floats), the oracle of the tests."""
    order = sorted(range(len(scores)), key=lambda i: -scores[i])
    remaining = [
        (i, *boxes[i], (boxes[i][2] - boxes[i][0]) * (boxes[i][3] - boxes[i][1])) for i in order
    ]
    keep = []
    while remaining:
        i, x1, y1, x2, y2, area = remaining[0]
        keep.append(i)
        survivors = []
        for r in remaining[1:]:
            w, h = min(x2, r[3]) - max(x1, r[1]), min(y2, r[4]) - max(y1, r[2])
            inter = w * h if w > 0 and h > 0 else 0.0
            if not inter / (area + r[5] - inter) > threshold:
                survivors.append(r)
        remaining = survivors
    return keep


def main() -> None:
    boxes, scores, labels = detections()
    as_lists = boxes.double().tolist(), scores.double().tolist()
    assert nms(boxes, scores, 0.5).tolist() == python_nms(*as_lists, 0.5)
    compare(
        "nms, 10,000 boxes",
        lambda: nms(boxes, scores, 0.5),
        lambda: python_nms(*as_lists, 0.5),
        ref_name="pure Python",
        target=0.1,
        repeat=3,
    )
    try:
        import torchvision.ops as tv_ops
    except ModuleNotFoundError:
        print("torchvision not installed: nms vs torchvision.ops.nms skipped", flush=True)
    else:
        compare(
            "nms, 10,000 boxes",
            lambda: nms(boxes, scores, 0.5),
            lambda: tv_ops.nms(boxes, scores, 0.5),
            ref_name="torchvision",
            target=3.0,
        )
        compare(
            "batched_nms, 10,000 boxes, 20 classes",
            lambda: batched_nms(boxes, scores, labels, 0.5),
            lambda: tv_ops.batched_nms(boxes, scores, labels, 0.5),
            ref_name="torchvision",
            target=3.0,
        )

    model = models.mobilenet_v2().eval()
    x = torch.zeros(1, 3, 224, 224)
    profile(model, (3, 224, 224))  # warm-up: torch.fx and the meta kernels
    start = time.perf_counter()
    profile(model, (3, 224, 224))
    seconds = time.perf_counter() - start
    verdict = "met" if seconds < 1 else "MISSED"
    print(f"profile(mobilenet_v2): {seconds * 1e3:.1f} ms (target < 1 s: {verdict})", flush=True)
    try:
        import thop
        from fvcore.nn import FlopCountAnalysis
    except ModuleNotFoundError:
        print("fvcore/thop not installed: profiler comparisons skipped", flush=True)
        return

    def fvcore_count() -> float:
        analysis = FlopCountAnalysis(model, x)
        analysis.unsupported_ops_warnings(False)
        analysis.uncalled_modules_warnings(False)
        return analysis.total()

    compare(
        "profile mobilenet_v2 (224x224)",
        lambda: profile(model, (3, 224, 224)),
        fvcore_count,
        ref_name="fvcore",
        repeat=3,
        note="no target: for scale",
    )
    compare(
        "profile mobilenet_v2 (224x224)",
        lambda: profile(model, (3, 224, 224)),
        lambda: thop.profile(copy.deepcopy(model), (x,), verbose=False),
        ref_name="thop",
        repeat=3,
        note="no target: for scale (thop's time includes a deepcopy)",
    )
