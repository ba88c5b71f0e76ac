"""A YOLOv3-style detector: three FPN scales x three anchors, BCE objectness and class
scores, a GIoU (or CIoU) box loss, decoding and per-class NMS."""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from .._validation import check_array, check_option, check_scalar
from ..nn.functional import binary_cross_entropy_with_logits
from ..vision import pairwise_terms, predicted_box_loss, wh_iou
from ._detection import (
    best_detections,
    check_image_size,
    check_targets,
    clip_boxes_to_image,
    clip_sizes,
)
from ._detection_backbone import ON_MOBILENET_V2, build_backbone

__all__ = [
    "DEFAULT_YOLO_ANCHORS",
    "TinyYOLOv3",
    "assign_yolo_targets",
    "decode_yolo",
    "tiny_yolo_v3",
    "yolo_loss",
    "yolo_postprocess",
    "yolov3_mobilenet_v2",
]

# (width, height) in pixels for 64-pixel images; one row of three per level, finest first
DEFAULT_YOLO_ANCHORS = (
    ((8.0, 8.0), (10.0, 13.0), (13.0, 10.0)),
    ((16.0, 16.0), (14.0, 20.0), (20.0, 14.0)),
    ((30.0, 30.0), (24.0, 34.0), (34.0, 24.0)),
)
_BOX_LOSSES = ("giou", "ciou")


def _check_anchors(anchors: Any, n_levels: int) -> torch.Tensor:
    a = check_array(anchors, "anchors", ndim=3, allow_nan=True, allow_inf=True)
    if a.shape[0] != n_levels or a.shape[2] != 2 or not (np.isfinite(a) & (a > 0)).all():
        raise ValueError(
            f"anchors must have shape ({n_levels}, A, 2) with finite positive (w, h), got "
            f"{a.tolist()!r:.80}"
        )
    return torch.as_tensor(a, dtype=torch.float32)


def _check_levels(outputs: Sequence[torch.Tensor], anchors: Any, strides: Any) -> list[Any]:
    """One output ``Tensor[B, A, H, W, 5 + C]``, one row of A anchors and one stride per level
    (at least one level), every output with the same batch and class count. Returns the strides
    as a list of numbers (a 1-d tensor or array of strides is read as its values)."""
    if not isinstance(anchors, torch.Tensor) or anchors.dim() != 3 or anchors.shape[2] != 2:
        raise TypeError(f"anchors must be a Tensor of shape (L, A, 2), got {anchors!r:.60}")
    if anchors.device.type != "meta" and not (torch.isfinite(anchors) & (anchors > 0)).all():
        raise ValueError(f"anchors must hold finite positive (w, h), got {anchors.tolist()!r:.80}")
    if isinstance(strides, torch.Tensor | np.ndarray) and strides.ndim == 1:
        strides = strides.tolist()
    if not len(outputs) == len(anchors) == len(strides) or not len(outputs):
        raise ValueError(
            f"outputs, anchors and strides must have one entry per level, got {len(outputs)}, "
            f"{len(anchors)} and {len(strides)}"
        )
    for s in strides:
        check_scalar(s, "strides entries", low=0, include_low=False)
    want = (outputs[0].shape[0], anchors.shape[1]) if outputs[0].dim() == 5 else None
    for lv, out in enumerate(outputs):
        if out.dim() != 5 or out.shape[:2] != want or out.shape[-1] != outputs[0].shape[-1]:
            raise ValueError(
                f"outputs[{lv}] must have shape (B, A={anchors.shape[1]}, H, W, 5 + C), with one "
                f"B and one C for all levels, got {tuple(out.shape)}"
            )
    if outputs[0].shape[-1] < 5:
        raise ValueError(f"outputs must hold 5 + C >= 5 values per anchor, got {outputs[0].shape}")
    return list(strides)


def decode_yolo(
    outputs: Sequence[torch.Tensor], anchors: torch.Tensor, strides: Sequence[int]
) -> list[torch.Tensor]:
    r"""Boxes ``Tensor[B, A, H, W, 4]`` (xyxy, pixels) from raw outputs, one per level.

    :math:`b_x = (\sigma(t_x) + c_x) s`, :math:`b_y = (\sigma(t_y) + c_y) s`,
    :math:`b_w = p_w e^{t_w}`, :math:`b_h = p_h e^{t_h}` for cell :math:`(c_x, c_y)`, stride
    :math:`s` and anchor :math:`(p_w, p_h)` (Redmon & Farhadi 2018, Section 2.1). The
    result has the outputs' device and dtype.
    """
    return _decode_yolo(outputs, anchors, _check_levels(outputs, anchors, strides))


def _decode_yolo(
    outputs: Sequence[torch.Tensor], anchors: torch.Tensor, strides: Sequence[Any]
) -> list[torch.Tensor]:
    """:func:`decode_yolo` on checked levels."""
    boxes = []
    for out, anc, s in zip(outputs, anchors, strides, strict=True):
        h, w = out.shape[2], out.shape[3]
        gy = torch.arange(h, device=out.device, dtype=out.dtype).view(h, 1)  # cell rows
        gx = torch.arange(w, device=out.device, dtype=out.dtype).view(1, w)  # cell columns
        cx = (torch.sigmoid(out[..., 0]) + gx) * s  # (B, A, H, W)
        cy = (torch.sigmoid(out[..., 1]) + gy) * s
        anc = anc.to(device=out.device, dtype=out.dtype)
        pw, ph = anc[:, 0].view(1, -1, 1, 1), anc[:, 1].view(1, -1, 1, 1)
        # clamps: an untrained net must not overflow exp, nor float16 the box edges
        big = torch.finfo(out.dtype).max / 4
        w_ = (pw * torch.exp(out[..., 2].clamp(max=8))).clamp(max=big)
        h_ = (ph * torch.exp(out[..., 3].clamp(max=8))).clamp(max=big)
        boxes.append(torch.stack((cx - w_ / 2, cy - h_ / 2, cx + w_ / 2, cy + h_ / 2), dim=-1))
    return boxes


def assign_yolo_targets(
    boxes: Sequence[Any],
    labels: Sequence[Any],
    anchors: torch.Tensor,
    strides: Sequence[int],
    grid_sizes: Sequence[tuple[int, int]],
    *,
    like: torch.Tensor | None = None,
) -> list[dict[str, torch.Tensor]]:
    """Give each ground-truth box to the one anchor of highest shape IoU (all levels
    compete), in the cell holding the box centre (clamped to the grid).

    Returns, per level, ``obj`` ``Tensor[B, A, H, W]`` (1 where responsible), ``cls``
    (long, the label there) and ``box`` ``Tensor[B, A, H, W, 4]`` (the xyxy target there), on
    ``like``'s device and dtype (default: ``anchors``'). When two boxes claim the same anchor
    of the same cell, one of them is kept.
    """
    like = anchors if like is None else like
    if not len(grid_sizes) == len(strides) == len(anchors):
        raise ValueError(
            f"grid_sizes, strides and anchors must have one entry per level, got "
            f"{len(grid_sizes)}, {len(strides)} and {len(anchors)}"
        )
    boxes, labels = check_targets(boxes, labels, None, len(boxes), like)
    return _assign_yolo_targets(boxes, labels, anchors, strides, grid_sizes, like)


def _assign_yolo_targets(
    gts: Sequence[torch.Tensor],
    labs: Sequence[torch.Tensor],
    anchors: torch.Tensor,
    strides: Sequence[Any],
    grid_sizes: Sequence[tuple[int, int]],
    like: torch.Tensor,
) -> list[dict[str, torch.Tensor]]:
    """:func:`assign_yolo_targets` on targets checked by
    :func:`~mlcanon.models._detection.check_targets` (on ``like``'s device and dtype)."""
    dev, dt = like.device, like.dtype
    n_anchors, batch = anchors.shape[1], len(gts)
    targets = [
        {
            "obj": torch.zeros(batch, n_anchors, h, w, device=dev, dtype=dt),
            "cls": torch.zeros(batch, n_anchors, h, w, device=dev, dtype=torch.long),
            "box": torch.zeros(batch, n_anchors, h, w, 4, device=dev, dtype=dt),
        }
        for h, w in grid_sizes
    ]
    if sum(len(g) for g in gts) == 0:  # no box in the batch (or no image)
        return targets
    gt = torch.cat(gts)  # (K, 4) over the batch
    lab = torch.cat(labs)
    img = torch.cat([torch.full((len(g),), b, device=dev) for b, g in enumerate(gts)])
    flat = anchors.reshape(-1, 2).to(device=dev, dtype=dt)
    best = wh_iou(gt[:, 2:] - gt[:, :2], flat).argmax(dim=1)  # (K,) over all L * A anchors
    level, a = best // n_anchors, best % n_anchors
    centre = (gt[:, :2] + gt[:, 2:]) / 2
    for lv, ((h, w), s, t) in enumerate(zip(grid_sizes, strides, targets, strict=True)):
        m = level == lv
        j = torch.div(centre[m, 0], s, rounding_mode="floor").long().clamp(0, w - 1)
        i = torch.div(centre[m, 1], s, rounding_mode="floor").long().clamp(0, h - 1)
        # boxes that claim one (image, anchor, cell): the last one is kept, for all three
        # targets alike (repeated indices in an indexed write may pick any one on a GPU)
        cell = ((img[m] * n_anchors + a[m]) * h + i) * w + j
        order = torch.arange(cell.numel(), device=dev)
        last = torch.full((batch * n_anchors * h * w,), -1, device=dev, dtype=torch.long)
        keep = last.scatter_reduce_(0, cell, order, "amax")[cell] == order
        where = (img[m][keep], a[m][keep], i[keep], j[keep])
        t["obj"][where] = 1.0
        t["cls"][where] = lab[m][keep]
        t["box"][where] = gt[m][keep]
    return targets


def _ignore_mask(pred: torch.Tensor, gts: Sequence[torch.Tensor], thr: float) -> torch.Tensor:
    """True where a predicted box overlaps some ground truth by more than ``thr``.

    The predictions are not checked: a NaN box has NaN IoUs, which exceed no threshold (as in a
    torch YOLO loss), so it is not ignored; the objectness of its anchor is trained as usual."""
    out = torch.zeros(pred.shape[:-1], dtype=torch.bool, device=pred.device)
    for b, gt in enumerate(gts):
        if len(gt):
            p = pred[b].detach().reshape(-1, 4)
            t = pairwise_terms(p.to(torch.promote_types(p.dtype, torch.float32)), gt)  # no overflow
            iou = t.inter / t.union  # (A H W, k)
            out[b] = (iou.max(dim=1).values > thr).reshape(out.shape[1:])
    return out


def yolo_loss(
    outputs: Sequence[torch.Tensor],
    boxes: Sequence[Any],
    labels: Sequence[Any],
    anchors: torch.Tensor,
    strides: Sequence[int],
    ignore_thresh: float = 0.5,
    box_loss: str = "giou",
) -> dict[str, torch.Tensor]:
    r"""YOLOv3 loss, summed over anchors and averaged over images.

    Parameters
    ----------
    outputs : list of Tensor[B, A, H, W, 5 + C]
        Raw outputs per level, as :class:`TinyYOLOv3` returns them.
    boxes, labels : sequences of B arrays of shapes (k_i, 4) (xyxy pixels) and (k_i,)
        Ground truth; an image may have none. Degenerate or non-finite boxes and labels
        outside ``[0, C)`` raise ValueError.
    anchors : Tensor[L, A, 2]
    strides : sequence of L ints
    ignore_thresh : float
    box_loss : {'giou', 'ciou'}

    Notes
    -----
    .. math::
        L = \sum_{\text{pos}} \big[\mathcal{L}_{box}(\hat b, b)
            + \mathrm{BCE}(\hat o, 1) + \textstyle\sum_c \mathrm{BCE}(\hat p_c, [c = y])\big]
            + \sum_{\text{neg, not ignored}} \mathrm{BCE}(\hat o, 0)

    An anchor that is not responsible for a box but whose predicted box has IoU
    > ``ignore_thresh`` with one is left out of the no-object term: it is a good detection
    that should not be pushed down (Redmon & Farhadi 2018, Section 2.1). Class scores are
    independent logistic outputs, not a softmax (Section 2.2). The box term is GIoU
    (Rezatofighi et al. 2019) or CIoU (Zheng et al. 2020, used by YOLOv4/v5).

    References
    ----------
    J. Redmon and A. Farhadi, "YOLOv3: An Incremental Improvement", arXiv:1804.02767, 2018;
    H. Rezatofighi et al., "Generalized Intersection over Union", CVPR 2019;
    Z. Zheng et al., "Distance-IoU Loss", AAAI 2020.
    """
    thr = float(check_scalar(ignore_thresh, "ignore_thresh", low=0.0, high=1.0))
    check_option(box_loss, "box_loss", _BOX_LOSSES)
    strides = _check_levels(outputs, anchors, strides)
    out_dtype = outputs[0].dtype
    # targets, decoded boxes and loss in at least float32, the loss rounded once to the outputs'
    # dtype (torch's autocast runs losses in float32): ground truth rounded to half precision
    # moves boxes (by up to 1 px at 300 px in bfloat16) and may move their centre cell
    work = torch.promote_types(out_dtype, torch.float32)
    outputs = [o.to(work) for o in outputs]
    ref = outputs[0]
    n_classes = ref.shape[-1] - 5
    gts, labs = check_targets(boxes, labels, n_classes, len(ref), ref.detach())
    grids = [(o.shape[2], o.shape[3]) for o in outputs]
    targets = _assign_yolo_targets(gts, labs, anchors, strides, grids, ref.detach())
    pred_boxes = _decode_yolo(outputs, anchors, strides)
    zero = ref.flatten()[:0].sum()  # 0 on the graph, whatever ref holds (ref.sum() * 0: NaN)
    box_l, obj_l, cls_l = zero, zero, zero
    for out, pred, t in zip(outputs, pred_boxes, targets, strict=True):
        pos = t["obj"] > 0
        keep = pos | ~_ignore_mask(pred, gts, thr)
        obj = binary_cross_entropy_with_logits(out[..., 4][keep], t["obj"][keep], reduction="sum")
        obj_l = obj_l + obj
        if pos.any():
            box_l = box_l + predicted_box_loss(box_loss, pred[pos], t["box"][pos], "sum")
            cls_pos = t["cls"][pos]
            onehot = torch.zeros_like(out[..., 5:][pos])
            onehot[torch.arange(len(cls_pos), device=onehot.device), cls_pos] = 1.0
            cls_l = cls_l + binary_cross_entropy_with_logits(
                out[..., 5:][pos], onehot, reduction="sum"
            )
    n = max(1, len(ref))
    parts = {"box": box_l / n, "obj": obj_l / n, "cls": cls_l / n}
    parts["total"] = parts["box"] + parts["obj"] + parts["cls"]
    return {key: value.to(out_dtype) for key, value in parts.items()}


def yolo_postprocess(
    outputs: Sequence[torch.Tensor],
    anchors: torch.Tensor,
    strides: Sequence[int],
    score_thresh: float = 0.3,
    iou_threshold: float = 0.5,
    max_detections: int = 100,
    *,
    image_size: Sequence[int] | None = None,
    image_sizes: Sequence[Sequence[int]] | None = None,
) -> list[dict[str, torch.Tensor]]:
    """Detections per image: ``boxes`` (xyxy, clipped to the image), ``scores`` (objectness x
    class probability), ``labels`` and ``levels`` (pyramid level index), after per-class NMS;
    at most ``max_detections`` per image, best first.

    The boxes are decoded (:func:`decode_yolo`) and clipped to the image ``image_size``
    ``(H, W)`` (default: the extent of the first level's grid, ``(H_0 s_0, W_0 s_0)``, the
    image size when its sides are multiples of the strides, as the backbones require) before
    the score threshold and the NMS, in the order of torchvision's one-stage detectors
    (``clip_boxes_to_image`` before ``batched_nms``): a box reaching outside the image is
    compared with the others by the part of it inside the image. ``image_sizes``, one
    ``(H, W)`` per image, clips each image's boxes to its own size instead: images of different
    sizes padded into one batch (torchvision's ``image_sizes``).
    """
    check_scalar(score_thresh, "score_thresh", low=0.0, high=1.0)
    check_scalar(iou_threshold, "iou_threshold", low=0.0, high=1.0)
    n_max = int(check_scalar(max_detections, "max_detections", kind=numbers.Integral, low=1))
    strides = _check_levels(outputs, anchors, strides)
    if image_size is None:
        padded = (outputs[0].shape[2] * strides[0], outputs[0].shape[3] * strides[0])
    else:
        padded = check_image_size(image_size)
    sizes = clip_sizes(image_sizes, len(outputs[0]), padded)
    decoded = _decode_yolo(outputs, anchors, strides)
    results = []
    for b in range(len(outputs[0])):
        bx, sc, lv = [], [], []
        for level, (out, pred) in enumerate(zip(outputs, decoded, strict=True)):
            prob = torch.sigmoid(out[b, ..., 4:5]) * torch.sigmoid(out[b, ..., 5:])
            bx.append(pred[b].reshape(-1, 4))
            sc.append(prob.reshape(-1, prob.shape[-1]))  # (A H W, C)
            lv.append(torch.full((len(bx[-1]),), level, device=out.device))
        boxes, scores, levels = torch.cat(bx), torch.cat(sc), torch.cat(lv)
        boxes = clip_boxes_to_image(boxes, sizes[b])
        idx, cls = torch.nonzero(scores > score_thresh, as_tuple=True)
        boxes, scores, levels = boxes[idx], scores[idx, cls], levels[idx]
        results.append(best_detections(boxes, scores, cls, levels, iou_threshold, n_max))
    return results


class TinyYOLOv3(nn.Module):
    r"""YOLOv3-style detector on a three-level feature pyramid (strides 4, 8, 16).

    Parameters
    ----------
    num_classes : int
    anchors : array-like of shape (3, A, 2)
        Anchor (width, height) in pixels per level, finest level first.
    width : int
        FPN channels.
    backbone : {'tiny', 'mobilenet_v2'} or nn.Module
        See :func:`build_backbone`.
    box_loss : {'giou', 'ciou'}
        Box term of :meth:`loss`.

    ``forward`` returns, per level, raw outputs ``Tensor[B, A, H, W, 5 + num_classes]``
    holding :math:`(t_x, t_y, t_w, t_h, \text{objectness}, \text{class logits})`.
    """

    def __init__(
        self,
        num_classes: int = 3,
        anchors: Any = DEFAULT_YOLO_ANCHORS,
        width: int = 32,
        backbone: str | nn.Module = "tiny",
        box_loss: str = "giou",
    ):
        super().__init__()
        self.num_classes = int(
            check_scalar(num_classes, "num_classes", kind=numbers.Integral, low=1)
        )
        width = int(check_scalar(width, "width", kind=numbers.Integral, low=1))
        self.box_loss = check_option(box_loss, "box_loss", _BOX_LOSSES)
        self.backbone = build_backbone(backbone, width)
        self.strides = tuple(self.backbone.strides)
        self.register_buffer("anchors", _check_anchors(anchors, len(self.strides)))
        d, n_a = self.backbone.out_channels, self.anchors.shape[1]
        n_out = n_a * (5 + self.num_classes)
        self.heads = nn.ModuleList(
            nn.Sequential(nn.Conv2d(d, d, 3, padding=1), nn.ReLU(), nn.Conv2d(d, n_out, 1))
            for _ in self.strides
        )
        for head in self.heads:  # objectness prior 0.01: the many background cells start quiet
            head[-1].bias.data.view(n_a, -1)[:, 4] = -4.595  # -log((1 - 0.01) / 0.01)

    def forward(self, images: torch.Tensor) -> list[torch.Tensor]:
        outs = []
        for feat, head in zip(self.backbone(images), self.heads, strict=True):
            y = head(feat)  # (B, A (5 + C), H, W)
            b, _, h, w = y.shape
            n_a = self.anchors.shape[1]
            outs.append(y.view(b, n_a, 5 + self.num_classes, h, w).permute(0, 1, 3, 4, 2))
        return outs  # per level (B, A, H, W, 5 + C)

    def loss(
        self,
        outputs: Sequence[torch.Tensor],
        boxes: Sequence[Any],
        labels: Sequence[Any],
        ignore_thresh: float = 0.5,
    ) -> dict[str, torch.Tensor]:
        """:func:`yolo_loss` with this model's anchors, strides and box loss."""
        return yolo_loss(
            outputs, boxes, labels, self.anchors, self.strides, ignore_thresh, self.box_loss
        )

    def postprocess(
        self,
        outputs: Sequence[torch.Tensor],
        score_thresh: float = 0.3,
        iou_threshold: float = 0.5,
        max_detections: int = 100,
        *,
        image_size: Sequence[int] | None = None,
        image_sizes: Sequence[Sequence[int]] | None = None,
    ) -> list[dict[str, torch.Tensor]]:
        """:func:`yolo_postprocess` with this model's anchors and strides."""
        return yolo_postprocess(
            outputs,
            self.anchors,
            self.strides,
            score_thresh,
            iou_threshold,
            max_detections,
            image_size=image_size,
            image_sizes=image_sizes,
        )


def tiny_yolo_v3(**kwargs: Any) -> TinyYOLOv3:
    """Build a :class:`TinyYOLOv3` (tiny convolutional backbone by default)."""
    return TinyYOLOv3(**kwargs)


def yolov3_mobilenet_v2(**kwargs: Any) -> TinyYOLOv3:
    """Build a :class:`TinyYOLOv3` on :class:`MobileNetV2FPN` (width 0.5, 48 FPN channels)."""
    return TinyYOLOv3(**{**ON_MOBILENET_V2, **kwargs})
