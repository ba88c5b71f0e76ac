"""What the YOLO and RetinaNet detectors share: the checks on their ground truth (in the
losses) and the per-class NMS that ends their postprocessing."""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence, Sized
from typing import Any

import numpy as np
import torch

from ..vision import batched_nms, check_boxes

__all__ = [
    "best_detections",
    "check_image_size",
    "check_outputs",
    "check_targets",
    "clip_boxes_to_image",
    "clip_sizes",
]


def check_image_size(image_size: Any) -> tuple[int, int]:
    """``(H, W)`` as two ints >= 1; ValueError otherwise."""
    if not (
        isinstance(image_size, Sequence)
        and len(image_size) == 2
        and all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in image_size)
        and min(image_size) >= 1
    ):
        raise ValueError(f"image_size must be two integers (H, W) >= 1, got {image_size!r}")
    return int(image_size[0]), int(image_size[1])


def clip_sizes(image_sizes: Any, batch: int, padded: tuple[int, int]) -> list[tuple[float, float]]:
    """The ``(H, W)`` each image's detections are clipped to: ``padded`` (the batch's size)
    for every image when ``image_sizes`` is None, else one checked ``(H, W)`` per image, none
    larger than ``padded`` (images of different sizes padded into one batch, torchvision's
    ``ImageList.image_sizes``)."""
    if image_sizes is None:
        return [(float(padded[0]), float(padded[1]))] * batch
    if not isinstance(image_sizes, Sequence) or isinstance(image_sizes, str | bytes):
        raise TypeError(
            f"image_sizes must be a sequence of one (H, W) per image, got "
            f"{type(image_sizes).__name__} {image_sizes!r:.60}"
        )
    if len(image_sizes) != batch:
        raise ValueError(
            f"image_sizes must hold one (H, W) per image ({batch}), got {len(image_sizes)}"
        )
    sizes = [check_image_size(size) for size in image_sizes]
    for i, (h, w) in enumerate(sizes):
        if h > padded[0] or w > padded[1]:
            raise ValueError(
                f"image_sizes[{i}] = {(h, w)} is larger than the batch's images {padded}: each "
                f"must be the (H, W) of an image padded into the batch"
            )
    return [(float(h), float(w)) for h, w in sizes]


def clip_boxes_to_image(boxes: torch.Tensor, size: tuple[float, float]) -> torch.Tensor:
    """Boxes ``Tensor[N, 4]`` (xyxy) clipped to an image of ``size = (H, W)``: x to ``[0, W]``,
    y to ``[0, H]`` (torchvision's ``box_ops.clip_boxes_to_image``). A NaN coordinate stays
    NaN (:func:`best_detections` drops that box)."""
    h, w = size
    x, y = boxes[:, 0::2].clamp(0, w), boxes[:, 1::2].clamp(0, h)
    return torch.stack((x[:, 0], y[:, 0], x[:, 1], y[:, 1]), dim=1)


def check_outputs(outputs: Any, keys: Sequence[str]) -> None:
    """A detector's ``outputs``: a dict with a non-empty entry (one tensor per level) under
    each of ``keys``; ``ValueError`` naming the keys and what was given otherwise."""
    if not isinstance(outputs, dict):
        got = type(outputs).__name__
    else:
        bad = [key for key in keys if len(outputs.get(key, ())) == 0]
        if not bad:
            return
        got = f"no entry or an empty one under {', '.join(map(repr, bad))}"
    names = [repr(key) for key in keys]
    names = f"{', '.join(names[:-1])} and {names[-1]}" if len(names) > 1 else names[0]
    raise ValueError(f"outputs must be a dict with non-empty {names}, got {got}")


def check_targets(
    boxes: Sequence[Any],
    labels: Sequence[Any],
    num_classes: int | None,
    batch: int,
    like: torch.Tensor,
    *,
    positive: bool = True,
) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """Per-image boxes ``Tensor[k_i, 4]`` (xyxy) and labels ``Tensor[k_i]`` (int64) on
    ``like``'s device, boxes in ``like``'s dtype.

    An image may have no boxes. Refused with a ValueError naming the image and the box:
    a count of images other than ``batch``, boxes not of shape (k, 4), labels not of length k,
    non-finite coordinates or degenerate boxes (x2 <= x1 or y2 <= y1, the rule of
    :func:`~mlcanon.vision.check_boxes`), labels outside ``[0, num_classes)`` (negative ones
    only, when ``num_classes`` is None). With ``positive=False`` boxes of zero width or height
    pass (as :func:`~mlcanon.vision.check_boxes` lets them). Boxes reaching
    outside the image are kept as given: the YOLO assignment clamps their centre cell to the
    grid, RetinaNet matches them by IoU like any other box.
    """
    for name, value in (("boxes", boxes), ("labels", labels)):
        if (
            not isinstance(value, Sized)
            or isinstance(value, str | bytes)
            or getattr(value, "ndim", 1) == 0
        ):
            raise TypeError(
                f"{name} must be a sequence with one entry per image ({batch}), "
                f"got {type(value).__name__} {value!r:.40}"
            )
    sizes = [len(boxes), len(labels)]
    if sizes != [batch, batch]:
        raise ValueError(
            f"boxes and labels must be sequences with one entry per image ({batch}), "
            f"got {sizes[0]!r:.40} and {sizes[1]!r:.40}"
        )
    out_boxes, out_labels = [], []
    for i, (b, lab) in enumerate(zip(boxes, labels, strict=True)):
        b = _as_tensor(b, f"boxes[{i}]").to(device=like.device, dtype=like.dtype)
        b = b.reshape(0, 4) if b.numel() == 0 else b
        if b.dim() != 2 or b.shape[1] != 4:
            raise ValueError(f"boxes[{i}] must have shape (N, 4), got {tuple(b.shape)}")
        lab = _as_tensor(lab, f"labels[{i}]").to(device=like.device).reshape(-1)
        integer = not (lab.is_floating_point() or lab.is_complex() or lab.dtype == torch.bool)
        if len(lab) != len(b) or (len(lab) and not integer):
            raise ValueError(
                f"labels[{i}] must hold {len(b)} integer class indices, "
                f"got {tuple(lab.shape)} of dtype {lab.dtype}"
            )
        out_boxes.append(b)
        out_labels.append(lab.long())
    if (
        out_boxes
        and like.device.type != "meta"
        and not _values_ok(out_boxes, out_labels, num_classes, positive)
    ):
        _name_bad_values(out_boxes, out_labels, num_classes, positive)
    return out_boxes, out_labels


def _values_ok(
    boxes: list[torch.Tensor], labels: list[torch.Tensor], num_classes: int | None, positive: bool
) -> bool:
    """Whether every box of the batch passes :func:`~mlcanon.vision.check_boxes` and every label
    is in range, checked over the concatenated batch: two host synchronisations, not two per
    image."""
    try:
        check_boxes(torch.cat(boxes), "boxes", positive=positive)
    except ValueError:
        return False
    return not bool(_bad_labels(torch.cat(labels), num_classes).any())


def _bad_labels(lab: torch.Tensor, num_classes: int | None) -> torch.Tensor:
    """Mask of the labels outside ``[0, num_classes)`` (negative ones, with no ``num_classes``)."""
    return (lab < 0) | (lab >= (num_classes if num_classes is not None else math.inf))


def _name_bad_values(
    boxes: list[torch.Tensor], labels: list[torch.Tensor], num_classes: int | None, positive: bool
) -> None:
    """Raise the ValueError naming the first bad box or label (the batch failed _values_ok)."""
    for i, (b, lab) in enumerate(zip(boxes, labels, strict=True)):
        check_boxes(b, f"boxes[{i}]", positive=positive)
        bad = _bad_labels(lab, num_classes)
        if bad.any():
            j = int(bad.nonzero()[0])
            raise ValueError(
                f"labels[{i}][{j}] = {int(lab[j])} is outside [0, num_classes={num_classes})"
            )
    raise AssertionError("_values_ok failed, yet no image holds a bad box or label")


def _as_tensor(value: Any, name: str) -> torch.Tensor:
    """A tensor as given; anything else through NumPy, refused unless it holds numbers."""
    if isinstance(value, torch.Tensor):
        return value
    try:
        arr = np.asarray(value)
    except ValueError as exc:  # ragged nested lists
        raise TypeError(f"{name} must be an array of numbers, got {value!r:.60} ({exc})") from exc
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be an array of numbers, got {value!r:.60}")
    return torch.as_tensor(arr)


def best_detections(
    boxes: torch.Tensor,
    scores: torch.Tensor,
    labels: torch.Tensor,
    levels: torch.Tensor,
    iou_threshold: float,
    max_detections: int,
) -> dict[str, torch.Tensor]:
    """One image's candidates (``Tensor[N, 4]`` xyxy boxes, ``Tensor[N]`` scores, labels and
    pyramid levels) after per-class NMS at ``iou_threshold``: the ``max_detections`` best,
    best first.

    Candidates whose box is not finite (a NaN offset from an untrained or diverged network) are
    dropped first: they are no detection, and they take part in no suppression. torchvision
    keeps them through its NMS (a NaN IoU suppresses nothing; in its small-input path one NaN
    coordinate even turns the whole per-class offset to NaN, so that nothing is suppressed);
    the finite detections here are those of its per-class path.
    """
    if boxes.device.type != "meta":
        finite = torch.isfinite(boxes).all(dim=1)
        if not bool(finite.all()):
            boxes, scores, labels, levels = (t[finite] for t in (boxes, scores, labels, levels))
    keep = batched_nms(boxes, scores, labels, iou_threshold)[:max_detections]
    return {
        "boxes": boxes[keep],
        "scores": scores[keep],
        "labels": labels[keep],
        "levels": levels[keep],
    }
