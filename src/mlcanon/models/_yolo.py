"""A YOLOv3-style detector: three FPN scales x three anchors, BCE objectness and class
scores, a GIoU box loss, decoding and per-class NMS."""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .._validation import check_scalar
from ..vision import batched_nms, box_iou, generalized_box_iou_loss, wh_iou
from ._fpn import TinyFPNBackbone

__all__ = [
    "DEFAULT_YOLO_ANCHORS",
    "TinyYOLOv3",
    "assign_yolo_targets",
    "decode_yolo",
    "tiny_yolo_v3",
    "yolo_loss",
    "yolo_postprocess",
]

# (width, height) in pixels for 64-pixel images; one row of three per level, finest first
DEFAULT_YOLO_ANCHORS = (
    ((8.0, 8.0), (10.0, 13.0), (13.0, 10.0)),
    ((16.0, 16.0), (14.0, 20.0), (20.0, 14.0)),
    ((30.0, 30.0), (24.0, 34.0), (34.0, 24.0)),
)


def _check_anchors(anchors: Any, n_levels: int) -> torch.Tensor:
    a = torch.as_tensor(np.asarray(anchors, dtype=np.float64), dtype=torch.float32)
    if a.dim() != 3 or a.shape[0] != n_levels or a.shape[2] != 2 or (a <= 0).any():
        raise ValueError(
            f"anchors must have shape ({n_levels}, A, 2) with positive (w, h), got {tuple(a.shape)}"
        )
    return a


def _grid(h: int, w: int) -> tuple[torch.Tensor, torch.Tensor]:
    gy, gx = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
    return gx.float(), gy.float()  # (H, W) cell columns and rows


def decode_yolo(
    outputs: Sequence[torch.Tensor], anchors: torch.Tensor, strides: Sequence[int]
) -> list[torch.Tensor]:
    r"""Boxes ``Tensor[B, A, H, W, 4]`` (xyxy, pixels) from raw outputs, one per level.

    :math:`b_x = (\sigma(t_x) + c_x) s`, :math:`b_y = (\sigma(t_y) + c_y) s`,
    :math:`b_w = p_w e^{t_w}`, :math:`b_h = p_h e^{t_h}` for cell :math:`(c_x, c_y)`, stride
    :math:`s` and anchor :math:`(p_w, p_h)` (Redmon & Farhadi 2018, Section 2.1).
    """
    boxes = []
    for out, anc, s in zip(outputs, anchors, strides, strict=True):
        gx, gy = _grid(out.shape[2], out.shape[3])
        cx = (torch.sigmoid(out[..., 0]) + gx) * s  # (B, A, H, W)
        cy = (torch.sigmoid(out[..., 1]) + gy) * s
        pw, ph = anc[:, 0].view(1, -1, 1, 1), anc[:, 1].view(1, -1, 1, 1)
        # clamp: an untrained net must not overflow exp
        w, h = pw * torch.exp(out[..., 2].clamp(max=8)), ph * torch.exp(out[..., 3].clamp(max=8))
        boxes.append(torch.stack((cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2), dim=-1))
    return boxes


def assign_yolo_targets(
    boxes: Sequence[Any],
    labels: Sequence[Any],
    anchors: torch.Tensor,
    strides: Sequence[int],
    grid_sizes: Sequence[tuple[int, int]],
) -> list[dict[str, torch.Tensor]]:
    """Give each ground-truth box to the one anchor of highest shape IoU (all levels
    compete), in the cell holding the box centre.

    Returns, per level, ``obj`` ``Tensor[B, A, H, W]`` (1 where responsible), ``cls``
    (long, the label there) and ``box`` ``Tensor[B, A, H, W, 4]`` (the xyxy target there).
    """
    n_anchors = anchors.shape[1]
    batch = len(boxes)
    targets = [
        {
            "obj": torch.zeros(batch, n_anchors, h, w),
            "cls": torch.zeros(batch, n_anchors, h, w, dtype=torch.long),
            "box": torch.zeros(batch, n_anchors, h, w, 4),
        }
        for h, w in grid_sizes
    ]
    flat = anchors.reshape(-1, 2).double().numpy()
    for b, (gt, lab) in enumerate(zip(boxes, labels, strict=True)):
        gt = torch.as_tensor(gt, dtype=torch.float32).reshape(-1, 4)
        if len(gt) == 0:
            continue
        wh = (gt[:, 2:] - gt[:, :2]).double().numpy()
        best = wh_iou(wh, flat).argmax(axis=1)  # (k,) over all L * A anchors
        for g, k in enumerate(best.tolist()):
            level, a = divmod(k, n_anchors)
            h, w = grid_sizes[level]
            cx, cy = (gt[g, :2] + gt[g, 2:]) / 2
            j = min(int(cx // strides[level]), w - 1)
            i = min(int(cy // strides[level]), h - 1)
            t = targets[level]
            t["obj"][b, a, i, j] = 1.0
            t["cls"][b, a, i, j] = int(lab[g])
            t["box"][b, a, i, j] = gt[g]
    return targets


def _ignore_mask(pred: torch.Tensor, gts: Sequence[torch.Tensor], thr: float) -> torch.Tensor:
    """True where a predicted box overlaps some ground truth by more than ``thr``."""
    out = torch.zeros(pred.shape[:-1], dtype=torch.bool)
    for b, gt in enumerate(gts):
        if len(gt):
            iou = box_iou(pred[b].detach().reshape(-1, 4), gt)  # (A H W, k)
            out[b] = (iou.max(dim=1).values > thr).reshape(out.shape[1:])
    return out


def yolo_loss(
    outputs: Sequence[torch.Tensor],
    boxes: Sequence[Any],
    labels: Sequence[Any],
    anchors: torch.Tensor,
    strides: Sequence[int],
    ignore_thresh: float = 0.5,
) -> dict[str, torch.Tensor]:
    r"""YOLOv3 loss, summed over anchors and averaged over images.

    Notes
    -----
    .. math::
        L = \sum_{\text{pos}} \big[\mathcal{L}_{GIoU}(\hat b, b)
            + \mathrm{BCE}(\hat o, 1) + \textstyle\sum_c \mathrm{BCE}(\hat p_c, [c = y])\big]
            + \sum_{\text{neg, not ignored}} \mathrm{BCE}(\hat o, 0)

    An anchor that is not responsible for a box but whose predicted box has IoU
    > ``ignore_thresh`` with one is left out of the no-object term: it is a good detection
    that should not be pushed down (Redmon & Farhadi 2018, Section 2.1). Class scores are
    independent logistic outputs, not a softmax (Section 2.2).

    References
    ----------
    J. Redmon and A. Farhadi, "YOLOv3: An Incremental Improvement", arXiv:1804.02767, 2018;
    H. Rezatofighi et al., "Generalized Intersection over Union", CVPR 2019.
    """
    thr = float(check_scalar(ignore_thresh, "ignore_thresh", low=0.0, high=1.0))
    grids = [(o.shape[2], o.shape[3]) for o in outputs]
    targets = assign_yolo_targets(boxes, labels, anchors, strides, grids)
    gts = [torch.as_tensor(g, dtype=torch.float32).reshape(-1, 4) for g in boxes]
    pred_boxes = decode_yolo(outputs, anchors, strides)
    zero = outputs[0].sum() * 0
    box_l, obj_l, cls_l = zero, zero, zero
    for out, pred, t in zip(outputs, pred_boxes, targets, strict=True):
        pos = t["obj"] > 0
        keep = pos | ~_ignore_mask(pred, gts, thr)
        obj = F.binary_cross_entropy_with_logits(out[..., 4], t["obj"], reduction="none")
        obj_l = obj_l + obj[keep].sum()
        if pos.any():
            box_l = box_l + generalized_box_iou_loss(pred[pos], t["box"][pos], reduction="sum")
            onehot = F.one_hot(t["cls"][pos], out.shape[-1] - 5).float()
            cls_l = cls_l + F.binary_cross_entropy_with_logits(
                out[..., 5:][pos], onehot, reduction="sum"
            )
    n = len(outputs[0])
    parts = {"box": box_l / n, "obj": obj_l / n, "cls": cls_l / n}
    parts["total"] = parts["box"] + parts["obj"] + parts["cls"]
    return parts


def yolo_postprocess(
    outputs: Sequence[torch.Tensor],
    anchors: torch.Tensor,
    strides: Sequence[int],
    score_thresh: float = 0.3,
    iou_threshold: float = 0.5,
) -> list[dict[str, torch.Tensor]]:
    """Detections per image: ``boxes``, ``scores`` (objectness x class probability),
    ``labels`` and ``levels`` (pyramid level index), after per-class NMS."""
    check_scalar(score_thresh, "score_thresh", low=0.0, high=1.0)
    decoded = decode_yolo(outputs, anchors, strides)
    results = []
    for b in range(len(outputs[0])):
        bx, sc, lv = [], [], []
        for level, (out, pred) in enumerate(zip(outputs, decoded, strict=True)):
            prob = torch.sigmoid(out[b, ..., 4:5]) * torch.sigmoid(out[b, ..., 5:])
            bx.append(pred[b].reshape(-1, 4))
            sc.append(prob.reshape(-1, prob.shape[-1]))  # (A H W, C)
            lv.append(torch.full((len(bx[-1]),), level))
        boxes, scores, levels = torch.cat(bx), torch.cat(sc), torch.cat(lv)
        idx, cls = torch.nonzero(scores > score_thresh, as_tuple=True)
        boxes, scores, levels = boxes[idx], scores[idx, cls], levels[idx]
        keep = batched_nms(boxes, scores, cls, iou_threshold)
        results.append(
            {
                "boxes": boxes[keep],
                "scores": scores[keep],
                "labels": cls[keep],
                "levels": levels[keep],
            }
        )
    return results


class TinyYOLOv3(nn.Module):
    """YOLOv3-style detector on :class:`TinyFPNBackbone` (strides 4, 8, 16).

    Parameters
    ----------
    num_classes : int
    anchors : array-like of shape (3, A, 2)
        Anchor (width, height) in pixels per level, finest level first.
    width : int
        FPN channels.

    ``forward`` returns, per level, raw outputs ``Tensor[B, A, H, W, 5 + num_classes]``
    holding :math:`(t_x, t_y, t_w, t_h, \\text{objectness}, \\text{class logits})`.
    """

    def __init__(self, num_classes: int = 3, anchors: Any = DEFAULT_YOLO_ANCHORS, width: int = 32):
        super().__init__()
        self.num_classes = int(
            check_scalar(num_classes, "num_classes", kind=numbers.Integral, low=1)
        )
        self.backbone = TinyFPNBackbone(out_channels=width)
        self.strides = self.backbone.strides
        self.register_buffer("anchors", _check_anchors(anchors, len(self.strides)))
        n_out = self.anchors.shape[1] * (5 + self.num_classes)
        self.heads = nn.ModuleList(
            nn.Sequential(
                nn.Conv2d(width, width, 3, padding=1), nn.ReLU(), nn.Conv2d(width, n_out, 1)
            )
            for _ in self.strides
        )
        n_a = self.anchors.shape[1]
        for head in self.heads:  # objectness prior 0.01: the many background cells start quiet
            head[-1].bias.data.view(n_a, -1)[:, 4] = -4.595  # -log((1 - 0.01) / 0.01)

    def forward(self, images: torch.Tensor) -> list[torch.Tensor]:
        outs = []
        for feat, head in zip(self.backbone(images), self.heads, strict=True):
            y = head(feat)  # (B, A (5 + C), H, W)
            b, _, h, w = y.shape
            outs.append(y.view(b, self.anchors.shape[1], -1, h, w).permute(0, 1, 3, 4, 2))
        return outs  # per level (B, A, H, W, 5 + C)

    def loss(
        self,
        outputs: Sequence[torch.Tensor],
        boxes: Sequence[Any],
        labels: Sequence[Any],
        ignore_thresh: float = 0.5,
    ) -> dict[str, torch.Tensor]:
        """:func:`yolo_loss` with this model's anchors and strides."""
        return yolo_loss(outputs, boxes, labels, self.anchors, self.strides, ignore_thresh)

    def postprocess(
        self, outputs: Sequence[torch.Tensor], score_thresh: float = 0.3, iou_threshold: float = 0.5
    ) -> list[dict[str, torch.Tensor]]:
        """:func:`yolo_postprocess` with this model's anchors and strides."""
        return yolo_postprocess(outputs, self.anchors, self.strides, score_thresh, iou_threshold)


def tiny_yolo_v3(**kwargs: Any) -> TinyYOLOv3:
    """Build a :class:`TinyYOLOv3`."""
    return TinyYOLOv3(**kwargs)
