"""Tasks ``yolo``, ``retinanet`` and ``refinedet``: the detectors on the fixed splits of the
synthetic shapes set, with the recipe whose measured accuracy the README reports.

Recipe (all three): MobileNetV2 (width 0.5) + FPN with 48 channels, AdamW (weight decay 1e-4),
global batch 32, linear warmup (60 steps for YOLO, 100 for the others: with its prior-probability
bias, RetinaNet's short runs did better with the longer warmup) then cosine decay per step,
gradient clipping at norm 10, random horizontal flips (every shape is symmetric about its
vertical axis, so a flipped image is a valid image of the same classes). YOLO's nine anchors
are k-means (1 - IoU) clusters of the training boxes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, DistributedSampler

from .._validation import check_integer
from ..datasets import load_shapes
from ..metrics import mean_average_precision
from ..models import refinedet_mobilenet_v2, retinanet_mobilenet_v2, yolov3_mobilenet_v2
from ..vision import kmeans_anchors
from ._schedule import warmup_cosine
from ._tasks import SEED_MAX, TaskConfig, TaskSetup, register_task

__all__ = ["ShapesDetection", "detect", "evaluate_detector", "fit_detector"]

GLOBAL_BATCH = 32
IMAGE_SIZE = (64, 64)
# learning rate, warmup steps and default epochs of each detector's recipe
RECIPES = {"yolo": (4e-3, 60, 15), "retinanet": (4e-3, 100, 15), "refinedet": (4e-3, 100, 15)}


class ShapesDetection(Dataset):
    """Images ``Tensor[3, H, W]`` with their boxes ``Tensor[k, 4]`` and labels ``Tensor[k]``;
    with ``flip=True`` each item is mirrored left-right with probability 1/2 (torch's global
    generator, so a checkpointed run replays the same flips)."""

    def __init__(
        self,
        images: np.ndarray,
        boxes: Sequence[np.ndarray],
        labels: Sequence[Any],
        flip: bool = False,
    ):
        self.images, self.boxes, self.labels, self.flip = images, boxes, labels, flip

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        image, boxes = torch.from_numpy(self.images[i]), torch.from_numpy(self.boxes[i])
        if self.flip and torch.rand(()) < 0.5:
            w = image.shape[-1]
            image = image.flip(-1)
            boxes = torch.stack((w - boxes[:, 2], boxes[:, 1], w - boxes[:, 0], boxes[:, 3]), 1)
        return image, boxes, torch.as_tensor(self.labels[i])


def collate(batch: list) -> tuple[torch.Tensor, list[torch.Tensor], list[torch.Tensor]]:
    """Stack the images; keep boxes and labels as per-image lists (their counts differ)."""
    images, boxes, labels = zip(*batch, strict=True)
    return torch.stack(images), list(boxes), list(labels)


def _loss_fn(**loss_kwargs: Any) -> Any:
    def loss(model: nn.Module, batch: Any) -> torch.Tensor:
        images, boxes, labels = batch
        out = model(images)
        if hasattr(model, "anchor_generator"):  # RetinaNet needs the image size for anchors
            size = tuple(images.shape[-2:])
            return model.loss(out, boxes, labels, size, **loss_kwargs)["total"]
        return model.loss(out, boxes, labels, **loss_kwargs)["total"]

    return loss


@torch.no_grad()
def detect(model: nn.Module, images: Any, batch_size: int = 100) -> list[dict[str, torch.Tensor]]:
    """Detections of a trained detector on ``images`` (array or tensor ``[N, 3, H, W]``), in
    evaluation mode, with a low score threshold (0.01) as AP needs the whole ranking."""
    was_training = model.training
    model.eval()
    p = next(model.parameters())
    x = torch.as_tensor(images).to(device=p.device, dtype=p.dtype)
    dets: list[dict[str, torch.Tensor]] = []
    for i in range(0, len(x), batch_size):
        out = model(x[i : i + batch_size])
        if hasattr(model, "anchor_generator"):
            dets += model.postprocess(out, tuple(x.shape[-2:]), score_thresh=0.01)
        else:
            dets += model.postprocess(out, score_thresh=0.01)
    model.train(was_training)
    return dets


def evaluate_detector(model: nn.Module, split: str = "val") -> dict[str, float]:
    """COCO metrics (:func:`~mlcanon.metrics.mean_average_precision`) on a shapes split."""
    images, boxes, labels = load_shapes(split)
    preds = detect(model, images)
    targets = [
        {"boxes": torch.from_numpy(b), "labels": torch.from_numpy(lab)}
        for b, lab in zip(boxes, labels, strict=True)
    ]
    preds = [{k: v.cpu() for k, v in d.items()} for d in preds]
    scores = mean_average_precision(preds, targets)
    return {k: float(scores[k]) for k in ("map", "map_50", "map_75", "mar_100")}


def _build(
    name: str,
    cfg: TaskConfig,
    model_kwargs: dict[str, Any] | None = None,
    loss_kwargs: dict[str, Any] | None = None,
) -> TaskSetup:
    lr, warmup, _ = RECIPES[name]
    model_kwargs = model_kwargs or {}
    images, boxes, labels = load_shapes("train")
    if name == "yolo":
        wh = np.concatenate([b[:, 2:] - b[:, :2] for b in boxes]).astype(np.float64)
        anchors = kmeans_anchors(wh, 9, random_state=cfg.seed).anchors.reshape(3, 3, 2)
        model = yolov3_mobilenet_v2(num_classes=3, anchors=anchors, **model_kwargs)
    elif name == "refinedet":
        model = refinedet_mobilenet_v2(num_classes=3, **model_kwargs)
    else:
        model = retinanet_mobilenet_v2(num_classes=3, **model_kwargs)
    model = model.to(cfg.device)
    data = ShapesDetection(images, boxes, labels, flip=True)
    sampler = (
        DistributedSampler(
            data, cfg.world_size, cfg.rank, shuffle=True, seed=cfg.seed, drop_last=True
        )
        if cfg.world_size > 1
        else None
    )
    loader = DataLoader(
        data,
        batch_size=cfg.per_rank(GLOBAL_BATCH),
        shuffle=sampler is None,
        sampler=sampler,
        collate_fn=collate,
        drop_last=True,
    )
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    total = cfg.epochs * len(loader)
    # a run shorter than the warmup (RetinaNet's one epoch, 62 steps) ends within it, as the
    # composed torch schedule does, rather than at the peak rate of a warmup cut to fit
    schedule = warmup_cosine(opt, warmup, total)
    return TaskSetup(
        model,
        opt,
        _loss_fn(**(loss_kwargs or {})),
        loader,
        scheduler=schedule,
        clip_grad_norm=10.0,
        evaluate=evaluate_detector,
    )


def build_yolo(cfg: TaskConfig) -> TaskSetup:
    """The ``yolo`` task (see the module docstring)."""
    return _build("yolo", cfg)


def build_retinanet(cfg: TaskConfig) -> TaskSetup:
    """The ``retinanet`` task (see the module docstring)."""
    return _build("retinanet", cfg)


def build_refinedet(cfg: TaskConfig) -> TaskSetup:
    """The ``refinedet`` task (see the module docstring)."""
    return _build("refinedet", cfg)


def fit_detector(
    name: str,
    epochs: int | None = None,
    seed: int = 0,
    progress: bool = False,
    *,
    model_kwargs: dict[str, Any] | None = None,
    loss_kwargs: dict[str, Any] | None = None,
) -> tuple[nn.Module, list[dict[str, float]]]:
    """Train detector ``name`` (``'yolo'``, ``'retinanet'`` or ``'refinedet'``) in this
    process, without checkpoints, and return it with its per-epoch history (validation
    metrics included).

    ``model_kwargs`` go to the model's builder (e.g. ``backbone=MobileNetV2FPN(top_down=False)``,
    ``box_loss='ciou'``), ``loss_kwargs`` to its ``loss`` (e.g. RetinaNet's
    ``classification='hard_negative'``): the ablations of the lessons and benchmarks."""
    if name not in RECIPES:
        allowed = ", ".join(repr(n) for n in RECIPES)
        raise ValueError(f"name must be one of {allowed}; got {name!r}")
    epochs = check_integer(RECIPES[name][2] if epochs is None else epochs, "epochs", low=1)
    seed = check_integer(seed, "seed", low=0, high=SEED_MAX)
    torch.manual_seed(seed)
    setup = _build(name, TaskConfig(epochs, seed), model_kwargs, loss_kwargs)
    trainer = setup.trainer(progress=progress)
    return setup.model, trainer.fit(epochs)


register_task(
    "yolo", build_yolo, "YOLOv3-style detector on the shapes set", default_epochs=RECIPES["yolo"][2]
)
register_task(
    "retinanet",
    build_retinanet,
    "RetinaNet on the shapes set",
    default_epochs=RECIPES["retinanet"][2],
)
register_task(
    "refinedet",
    build_refinedet,
    "RefineDet (anchor refinement + detection module) on the shapes set",
    default_epochs=RECIPES["refinedet"][2],
)
