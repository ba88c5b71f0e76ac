"""What each YOLO version added, as small modules: v1's grid output, loss and decoding; v2's
passthrough (space-to-depth) layer; v4/v5's CSP block, PANet path aggregation and mosaic
augmentation. (v2's k-means anchors, v3's three scales with logistic classes and v4/v5's CIoU
loss live in :mod:`~mlcanon.models._yolo` and :mod:`~mlcanon.vision`.)"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .._validation import check_random_state, check_scalar
from ._blocks import ConvBNAct
from ._detection import check_targets

__all__ = ["CSPBlock", "PANet", "SpaceToDepth", "mosaic", "yolo_v1_decode", "yolo_v1_loss"]


def _split_v1(output: torch.Tensor, boxes_per_cell: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``(…, S, S, B*5 + C)`` -> boxes ``(…, S, S, B, 5)`` (x, y, w, h, confidence) and class
    probabilities ``(…, S, S, C)``."""
    if not isinstance(output, torch.Tensor):
        raise TypeError(f"output must be a torch.Tensor, got {type(output).__name__}")
    b5 = 5 * int(check_scalar(boxes_per_cell, "boxes_per_cell", kind=numbers.Integral, low=1))
    if output.dim() < 3 or output.shape[-1] <= b5 or output.shape[-2] != output.shape[-3]:
        raise ValueError(
            f"output must have shape (N, S, S, {b5} + C) for boxes_per_cell={boxes_per_cell}, "
            f"got {tuple(output.shape)}"
        )
    if output.shape[-2] == 0:
        raise ValueError(
            f"output must have a grid of S >= 1 cells a side, got {tuple(output.shape)}"
        )
    return output[..., :b5].unflatten(-1, (boxes_per_cell, 5)), output[..., b5:]


def yolo_v1_decode(
    output: torch.Tensor, boxes_per_cell: int = 2, image_size: float = 448.0
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Boxes and class-specific scores from a YOLOv1 output ``Tensor[N, S, S, B*5 + C]``.

    Each cell (row i, column j) predicts B boxes :math:`(x, y, w, h, c)`: the centre
    :math:`(x, y)` relative to the cell, :math:`(w, h)` relative to the image, and a confidence
    :math:`c \approx P(\text{object}) \cdot \mathrm{IoU}`; and C class probabilities
    :math:`P(\text{class} \mid \text{object})` shared by its B boxes. The score of box b for
    class k is :math:`c_b \, P(k \mid \text{object})` (Redmon et al. 2016, Section 2).

    Returns
    -------
    boxes : Tensor[N, S, S, B, 4]
        xyxy in pixels of an image of side ``image_size``.
    scores : Tensor[N, S, S, B, C]
    """
    box, cls = _split_v1(output, boxes_per_cell)
    image_size = float(check_scalar(image_size, "image_size", low=0, include_low=False))
    return _cells_to_xyxy(box, image_size), box[..., 4:5] * cls.unsqueeze(-2)


def _cells_to_xyxy(box: torch.Tensor, image_size: float) -> torch.Tensor:
    """``(…, S, S, B, >= 4)`` cell-relative (x, y) and image-relative (w, h) -> xyxy pixels."""
    s = box.shape[-3]
    cell = image_size / s
    j = torch.arange(s, device=box.device, dtype=box.dtype).view(1, s, 1)  # columns
    i = torch.arange(s, device=box.device, dtype=box.dtype).view(s, 1, 1)  # rows
    cx, cy = (box[..., 0] + j) * cell, (box[..., 1] + i) * cell
    w, h = box[..., 2] * image_size, box[..., 3] * image_size
    return torch.stack((cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2), dim=-1)


def yolo_v1_loss(
    output: torch.Tensor,
    target: torch.Tensor,
    boxes_per_cell: int = 2,
    lambda_coord: float = 5.0,
    lambda_noobj: float = 0.5,
) -> dict[str, torch.Tensor]:
    r"""YOLOv1's sum-squared loss, summed over the batch.

    Parameters
    ----------
    output : Tensor[N, S, S, B*5 + C]
        Predictions (already squashed as the paper's final layer gives them).
    target : Tensor[N, S, S, 5 + C]
        Per cell: the box (x, y relative to the cell, w, h relative to the image), an
        object flag (1 in the cell holding an object's centre) and the one-hot class.

    Notes
    -----
    The predictor "responsible" for an object is the one of the cell's B boxes with the
    highest IoU with it. With :math:`\mathbb 1^{obj}_{ij}` that indicator,

    .. math::
        L = \lambda_{coord}\sum \mathbb 1^{obj}_{ij}\big[(x - \hat x)^2 + (y - \hat y)^2
              + (\sqrt w - \sqrt{\hat w})^2 + (\sqrt h - \sqrt{\hat h})^2\big]
          + \sum \mathbb 1^{obj}_{ij} (C - \hat C)^2
          + \lambda_{noobj} \sum (1 - \mathbb 1^{obj}_{ij}) \hat C^2
          + \sum_{\text{cells with object}} \sum_c (p(c) - \hat p(c))^2

    with target confidence :math:`C` = the IoU of the responsible box with the object. The
    square roots make an error on a small box cost more than the same error on a large one.

    References
    ----------
    J. Redmon, S. Divvala, R. Girshick and A. Farhadi, "You Only Look Once", CVPR 2016,
    Section 2.2, equation (3).
    """
    box, cls = _split_v1(output, boxes_per_cell)
    if not isinstance(target, torch.Tensor):
        raise TypeError(f"target must be a torch.Tensor, got {type(target).__name__}")
    if target.shape != (*output.shape[:-1], 5 + cls.shape[-1]):
        raise ValueError(
            f"target must have shape {(*output.shape[:-1], 5 + cls.shape[-1])}, "
            f"got {tuple(target.shape)}"
        )
    wh_target = target[..., 2:4].detach()
    ok = torch.isfinite(wh_target) & (wh_target >= 0)
    if target.device.type != "meta" and not ok.all():
        raise ValueError(
            "target widths and heights (target[..., 2:4]) must be finite and >= 0 (their "
            f"square roots are taken), got {wh_target[~ok][:3].tolist()} among them"
        )
    obj = target[..., 4]  # (N, S, S)
    t = target[..., None, :4]  # (N, S, S, 1, 4)
    iou = _paired_iou(_cells_to_xyxy(box, 1.0), _cells_to_xyxy(t, 1.0))  # (N, S, S, B)
    best = iou.argmax(dim=-1, keepdim=True)
    resp = torch.zeros_like(iou).scatter_(-1, best, 1.0) * obj.unsqueeze(-1)  # 1^obj_ij
    xy = ((box[..., :2] - t[..., :2]) ** 2).sum(-1)
    # a predicted size <= 0 has no square root: clamped to the smallest normal number, so that
    # its gradient is 0 there rather than 0 * inf = NaN (sqrt has an infinite slope at 0)
    tiny = torch.finfo(box.dtype).tiny
    wh = ((box[..., 2:4].clamp(min=tiny).sqrt() - t[..., 2:4].sqrt()) ** 2).sum(-1)
    conf_target = iou.detach()  # the IoU is a target, not a path for gradients
    parts = {
        "coord": lambda_coord * (resp * (xy + wh)).sum(),
        "obj": (resp * (box[..., 4] - conf_target) ** 2).sum(),
        "noobj": lambda_noobj * ((1 - resp) * box[..., 4] ** 2).sum(),
        "cls": (obj.unsqueeze(-1) * (cls - target[..., 5:]) ** 2).sum(),
    }
    parts["total"] = sum(parts.values())
    return parts


def _paired_iou(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """IoU of boxes ``a[..., B, 4]`` with ``b[..., 1, 4]`` (xyxy), elementwise."""
    lt, rb = torch.maximum(a[..., :2], b[..., :2]), torch.minimum(a[..., 2:], b[..., 2:])
    inter = (rb - lt).clamp(min=0).prod(-1)
    area = (a[..., 2:] - a[..., :2]).clamp(min=0).prod(-1) + (b[..., 2:] - b[..., :2]).prod(-1)
    return inter / (area - inter).clamp(min=torch.finfo(a.dtype).tiny)


class SpaceToDepth(nn.Module):
    """YOLOv2's passthrough ("reorg") layer: each ``block x block`` patch of a map becomes
    ``block**2`` channels, ``(N, C, H, W) -> (N, C b^2, H/b, W/b)``, so the fine 26x26 features
    can be concatenated with the coarse 13x13 ones (Redmon & Farhadi 2017, "Fine-Grained
    Features"). Channel order as ``torch.nn.functional.pixel_unshuffle``."""

    def __init__(self, block: int = 2):
        super().__init__()
        self.block = int(check_scalar(block, "block", kind=numbers.Integral, low=1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() < 3:
            raise ValueError(f"input must have shape (*, C, H, W), got {tuple(x.shape)}")
        *lead, c, h, w = x.shape  # any leading dims, as pixel_unshuffle
        b = self.block
        if h % b or w % b:
            raise ValueError(f"height and width must be multiples of block={b}, got {(h, w)}")
        # (N, C, H/b, b, W/b, b); N from the leading dims, not -1, which is ambiguous at C = 0
        x = x.reshape(math.prod(lead), c, h // b, b, w // b, b)
        return x.permute(0, 1, 3, 5, 2, 4).reshape(*lead, c * b * b, h // b, w // b)


class CSPBlock(nn.Module):
    r"""Cross Stage Partial block (YOLOv4's CSPDarknet, YOLOv5's C3): the input is split by two
    1x1 convolutions into halves; one half goes through ``n`` residual bottlenecks, the other
    bypasses them; the two are concatenated and fused by a 1x1 convolution. Half the channels
    skip the expensive path, so gradients reach the input through two routes and the block
    costs less than a plain stack of bottlenecks of the same width.

    References
    ----------
    C.-Y. Wang et al., "CSPNet", CVPR Workshops 2020; A. Bochkovskiy et al., "YOLOv4",
    arXiv:2004.10934, Section 3.4.
    """

    def __init__(self, in_channels: int, out_channels: int, n: int = 1):
        super().__init__()
        n = int(check_scalar(n, "n", kind=numbers.Integral, low=0))
        half = out_channels // 2
        if half < 1:
            raise ValueError(f"out_channels must be >= 2, got {out_channels}")
        act = nn.SiLU
        self.main = ConvBNAct(in_channels, half, 1, activation=act)
        self.bypass = ConvBNAct(in_channels, half, 1, activation=act)
        self.bottlenecks = nn.ModuleList(
            nn.Sequential(
                ConvBNAct(half, half, 1, activation=act), ConvBNAct(half, half, 3, activation=act)
            )
            for _ in range(n)
        )
        self.fuse = ConvBNAct(2 * half, out_channels, 1, activation=act)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.main(x)
        for block in self.bottlenecks:
            y = y + block(y)  # residual bottleneck
        return self.fuse(torch.cat((y, self.bypass(x)), dim=1))


class PANet(nn.Module):
    r"""Path aggregation (YOLOv4/v5's neck): FPN's top-down pathway followed by a bottom-up one,
    so that the coarse levels also receive the precise localisation of the fine ones through a
    short path (a few layers instead of the whole backbone).

    Takes maps finest first with ``in_channels_list`` channels and returns maps of
    ``out_channels`` at the same sizes: :math:`P_l` top-down as in FPN, then
    :math:`N_1 = P_1`, :math:`N_{l+1} = \mathrm{CSP}(\mathrm{conv}_{3\times3, s=2}(N_l) + P_{l+1})`.

    References
    ----------
    S. Liu, L. Qi, H. Qin, J. Shi and J. Jia, "Path Aggregation Network for Instance
    Segmentation", CVPR 2018, Section 3.1 and Figure 2.
    """

    def __init__(self, in_channels_list: Sequence[int], out_channels: int):
        super().__init__()
        d = int(check_scalar(out_channels, "out_channels", kind=numbers.Integral, low=2))
        if len(in_channels_list) == 0:
            raise ValueError("in_channels_list must have one entry per level, got none")
        self.lateral = nn.ModuleList(ConvBNAct(c, d, 1) for c in in_channels_list)
        self.top_down = nn.ModuleList(CSPBlock(d, d) for _ in in_channels_list[:-1])
        self.down = nn.ModuleList(ConvBNAct(d, d, 3, stride=2) for _ in in_channels_list[:-1])
        self.bottom_up = nn.ModuleList(CSPBlock(d, d) for _ in in_channels_list[:-1])
        self.out_channels = d

    def forward(self, feats: Sequence[torch.Tensor]) -> list[torch.Tensor]:
        if len(feats) != len(self.lateral):
            raise ValueError(f"expected {len(self.lateral)} feature maps, got {len(feats)}")
        p = [lat(f) for lat, f in zip(self.lateral, feats, strict=True)]
        for i in range(len(p) - 2, -1, -1):  # top-down, coarse to fine
            up = F.interpolate(p[i + 1], size=p[i].shape[-2:], mode="nearest")
            p[i] = self.top_down[i](p[i] + up)
        out = [p[0]]
        for i in range(len(p) - 1):  # bottom-up, fine to coarse
            out.append(self.bottom_up[i](self.down[i](out[-1]) + p[i + 1]))
        return out  # finest first, each (B, d, H_l, W_l)


def mosaic(
    images: Sequence[np.ndarray],
    boxes: Sequence[np.ndarray],
    labels: Sequence[np.ndarray],
    random_state: Any = None,
    min_side: float = 2.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """YOLOv4's mosaic augmentation: four images ``(C, S, S)`` tiled around a random centre
    into one ``(C, S, S)`` image; each quadrant shows the part of one image nearest the centre,
    and its boxes are shifted, clipped to the quadrant and dropped when a side falls below
    ``min_side`` pixels or to zero (a box clipped to a line lies outside the quadrant: with
    ``min_side=0`` too, only boxes of positive width and height remain, the boxes a detector's
    loss takes) (Bochkovskiy et al. 2020, Section 3.3, Figure 3)."""
    if len(images) != 4 or len(boxes) != 4 or len(labels) != 4:
        raise ValueError(
            f"mosaic takes 4 images, boxes and labels, got {len(images)}, {len(boxes)} and "
            f"{len(labels)}"
        )
    c, s, s2 = images[0].shape
    if s != s2 or any(im.shape != (c, s, s) for im in images):
        raise ValueError("mosaic takes four square images of one shape")
    min_side = float(check_scalar(min_side, "min_side", low=0.0))
    # boxes of zero width or height are valid input (and are not kept: nothing of them is seen)
    like = torch.zeros((), dtype=torch.float64)
    boxes, labels = (
        [t.numpy() for t in ts]
        for ts in check_targets(boxes, labels, None, 4, like, positive=False)
    )
    rng = check_random_state(random_state)
    cx, cy = (int(v) for v in rng.integers(s // 4, 3 * s // 4 + 1, size=2))
    out = np.zeros_like(images[0])
    all_boxes, all_labels = [], []
    # quadrant k: its region in the output and the offset that maps source pixels into it
    regions = [(0, 0, cx, cy), (cx, 0, s, cy), (0, cy, cx, s), (cx, cy, s, s)]
    for (x1, y1, x2, y2), im, b, lab in zip(regions, images, boxes, labels, strict=True):
        # take the source part that touches the mosaic centre: source corner opposite to it
        sx = s - (x2 - x1) if x1 == 0 else 0
        sy = s - (y2 - y1) if y1 == 0 else 0
        out[:, y1:y2, x1:x2] = im[:, sy : sy + y2 - y1, sx : sx + x2 - x1]
        shifted = b + np.array([x1 - sx, y1 - sy, x1 - sx, y1 - sy])
        clipped = np.clip(shifted, [x1, y1, x1, y1], [x2, y2, x2, y2])
        # a box is kept if it is still seen in the quadrant (width and height > 0: a box
        # clipped to a line or a point lies outside it) with both sides >= min_side
        w, h = clipped[:, 2] - clipped[:, 0], clipped[:, 3] - clipped[:, 1]
        keep = (w > 0) & (h > 0) & (w >= min_side) & (h >= min_side)
        all_boxes.append(clipped[keep])
        all_labels.append(lab[keep])
    return (
        out,
        np.concatenate(all_boxes).astype(np.float32),
        np.concatenate(all_labels).astype(np.int64),
    )
