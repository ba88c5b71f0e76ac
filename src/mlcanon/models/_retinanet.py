"""A RetinaNet-style one-stage detector: FPN features, 9 anchors per location, class and box
subnets shared across levels, focal loss, decoding and per-class NMS (Lin et al. 2017)."""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from .._validation import check_option, check_scalar
from ..nn.functional import binary_cross_entropy_with_logits, sigmoid_focal_loss, smooth_l1_loss
from ..vision import (
    AnchorGenerator,
    BoxCoder,
    check_boxes,
    pairwise_terms,
    predicted_box_loss,
)
from ._detection import (
    best_detections,
    check_image_size,
    check_outputs,
    check_targets,
    clip_boxes_to_image,
    clip_sizes,
)
from ._detection_backbone import ON_MOBILENET_V2, build_backbone

__all__ = [
    "TinyRetinaNet",
    "match_anchors",
    "retinanet_loss",
    "retinanet_mobilenet_v2",
    "tiny_retinanet",
]

# matched index of an anchor that is background / that is left out of the loss (torchvision's
# Matcher uses the same two codes)
BELOW_LOW_THRESHOLD = -1
BETWEEN_THRESHOLDS = -2


def match_anchors(
    anchors: torch.Tensor,
    gt_boxes: torch.Tensor,
    fg_iou_thresh: float = 0.5,
    bg_iou_thresh: float = 0.4,
    allow_low_quality_matches: bool = True,
) -> torch.Tensor:
    r"""Ground-truth index of every anchor, or -1 (negative) or -2 (ignored).

    Parameters
    ----------
    anchors : Tensor[N, 4]
        Anchors (xyxy).
    gt_boxes : Tensor[k, 4]
        Ground-truth boxes (xyxy); ``k`` may be 0 (every anchor is then negative).
    fg_iou_thresh, bg_iou_thresh : float
        An anchor whose best IoU is >= ``fg_iou_thresh`` is positive, < ``bg_iou_thresh``
        negative, in between ignored.
    allow_low_quality_matches : bool
        Also make positive the anchor (or the tied anchors) of highest IoU with each ground
        truth, if that IoU is > 0. Such an anchor is matched to the ground truth it overlaps
        most, as every anchor is (torchvision's ``Matcher``): an object whose best anchor
        overlaps another object more is left without a positive anchor.

    Returns
    -------
    Tensor[N] (int64)

    References
    ----------
    T.-Y. Lin, P. Goyal, R. Girshick, K. He and P. Dollar, "Focal Loss for Dense Object
    Detection", ICCV 2017, Section 4 ("Anchors").
    """
    low_quality = allow_low_quality_matches
    if not isinstance(low_quality, bool | np.bool_):  # NumPy booleans too, as class_metrics
        raise TypeError(
            f"allow_low_quality_matches must be bool, got {type(low_quality).__name__} "
            f"{low_quality!r:.40}"
        )
    fg = float(check_scalar(fg_iou_thresh, "fg_iou_thresh", low=0.0, high=1.0))
    bg = float(check_scalar(bg_iou_thresh, "bg_iou_thresh", low=0.0, high=1.0))
    if bg > fg:
        raise ValueError(f"bg_iou_thresh={bg} should be <= fg_iou_thresh={fg}")
    anchors, gt_boxes = check_boxes(anchors, "anchors"), check_boxes(gt_boxes, "gt_boxes")
    return _match_anchors(anchors, gt_boxes, fg, bg, bool(low_quality))


def _match_anchors(
    anchors: torch.Tensor,
    gt_boxes: torch.Tensor,
    fg: float,
    bg: float,
    low_quality: bool,
    ssd: bool = False,
) -> torch.Tensor:
    """:func:`match_anchors` on boxes checked by :func:`~mlcanon.vision.check_boxes`.

    ``ssd`` forces instead each ground truth's single highest-IoU anchor (the first, on ties)
    whatever that IoU, a later ground truth taking the anchor from an earlier one that had the
    same best anchor (as torchvision's in-place assignment in ``SSDMatcher`` does on the CPU);
    with ``fg == bg`` no anchor is ignored, which is SSD's matching."""
    matches = torch.full(
        (len(anchors),), BELOW_LOW_THRESHOLD, dtype=torch.long, device=anchors.device
    )
    if len(gt_boxes) == 0 or len(anchors) == 0:
        return matches
    t = pairwise_terms(anchors, gt_boxes)
    iou = t.inter / t.union  # (N, k)
    best, idx = iou.max(dim=1)
    matches = torch.where(best >= fg, idx, matches)
    matches[(best >= bg) & (best < fg)] = BETWEEN_THRESHOLDS
    if ssd:
        forced = torch.full_like(matches, BELOW_LOW_THRESHOLD)
        gt_index = torch.arange(len(gt_boxes), device=anchors.device)
        forced.scatter_reduce_(0, iou.argmax(dim=0), gt_index, reduce="amax")  # last gt wins
        matches = torch.where(forced >= 0, forced, matches)
    elif low_quality:  # every anchor tied at a ground truth's best IoU keeps its own best match
        top = iou.max(dim=0).values  # (k,)
        is_best = ((iou == top) & (top > 0)).any(dim=1)
        matches = torch.where(is_best, idx, matches)
    return matches


def retinanet_loss(
    outputs: dict[str, list[torch.Tensor]],
    anchors: Sequence[torch.Tensor],
    boxes: Sequence[Any],
    labels: Sequence[Any],
    box_coder: BoxCoder | None = None,
    *,
    alpha: float = 0.25,
    gamma: float = 2.0,
    bbox_loss: str = "smooth_l1",
    beta: float = 1.0 / 9,
    classification: str = "focal",
    neg_pos_ratio: float = 3.0,
    anchor_mask: torch.Tensor | None = None,
) -> dict[str, torch.Tensor]:
    r"""RetinaNet loss: focal loss over all non-ignored anchors plus a box loss on positives,
    each normalised by the number of positive anchors of the image, averaged over images
    (with ``classification='hard_negative'``: SSD's loss, both terms summed over the batch and
    divided by its number of positive anchors).

    Parameters
    ----------
    outputs : dict
        ``cls_logits`` (per level ``Tensor[B, H W A, K]``) and ``bbox_regression`` (per level
        ``Tensor[B, H W A, 4]``), as returned by :class:`TinyRetinaNet`.
    anchors : sequence of Tensor[H W A, 4] or Tensor[B, H W A, 4], or one Tensor
        Anchors per level, in the same order as the outputs; shared by the images, or one set
        per image (RefineDet's refined anchors). A single ``Tensor[N, 4]`` (or ``[B, N, 4]``)
        holds the levels already concatenated.
    boxes, labels : sequences of B arrays of shapes (k_i, 4) and (k_i,)
    box_coder : BoxCoder, optional
        Offset encoding, default weights (1, 1, 1, 1).
    alpha, gamma : float
        Focal-loss class weight and focusing parameter (0.25 and 2 in the paper).
    bbox_loss : {'smooth_l1', 'giou'}
        Smooth L1 on the offsets (``beta`` = transition point) or GIoU on decoded boxes.
    classification : {'focal', 'bce', 'hard_negative'}
        The classification term: the focal loss (RetinaNet); plain binary cross-entropy over
        every non-ignored anchor; or SSD's loss with hard-negative mining: anchors matched as
        SSD matches them (torchvision's ``SSDMatcher``: IoU >= 0.5 positive, every other anchor
        background, none ignored, and each ground truth's highest-IoU anchor made positive for
        it), binary cross-entropy over the positives and, of the negatives, those whose rank
        by loss in the image (0 for the highest) is < ``neg_pos_ratio * N_pos`` (none in an
        image without positives), both terms then normalised by the positives of the whole
        batch (Liu et al. 2016, Sections 2.2 and 3; torchvision's ``SSD.compute_loss``).
    neg_pos_ratio : float
        Negatives kept per positive with ``'hard_negative'``: torchvision's
        ``neg_to_pos_ratio = (1 - positive_fraction) / positive_fraction``, 3 in SSD (>= 0).
        Where it asks for more negatives than an image has, all of them are kept (torchvision
        would then count some positives a second time as negatives).
    anchor_mask : Tensor[B, N] of bool, optional
        Anchors to use; the others are discarded as ignored anchors, positives among them too:
        out of both terms and of :math:`N_{pos}` (RefineDet's negative anchor filtering).

    Returns
    -------
    dict with ``classification``, ``bbox_regression``, ``total`` (in the outputs' dtype) and
    ``num_pos`` (total number of positive anchors in the batch, exact: a float in at least
    float32, which half precision outputs would round above 256 or 2048).

    Notes
    -----
    .. math::
        L = \frac{1}{B}\sum_b \frac{1}{\max(1, N^b_{pos})}\Big[
            \sum_{a \notin \text{ignored}} \sum_{c} FL(x_{ac}, [c = y_a])
            + \sum_{a \in \text{pos}} \ell_{box}(\hat t_a, t_a)\Big]

    References
    ----------
    T.-Y. Lin et al., "Focal Loss for Dense Object Detection", ICCV 2017, Sections 3.3 and 4.
    """
    check_option(bbox_loss, "bbox_loss", ("smooth_l1", "giou"))
    check_scalar(beta, "beta", low=0.0, include_low=False)
    check_option(classification, "classification", ("focal", "bce", "hard_negative"))
    ratio = float(check_scalar(neg_pos_ratio, "neg_pos_ratio", low=0.0))
    if box_coder is not None and not isinstance(box_coder, BoxCoder):
        raise TypeError(f"box_coder must be a BoxCoder or None, got {type(box_coder).__name__}")
    coder = box_coder if box_coder is not None else BoxCoder()
    check_outputs(outputs, ("cls_logits", "bbox_regression"))
    if isinstance(anchors, torch.Tensor):  # the levels already concatenated
        anchors = [anchors]
    if (
        not isinstance(anchors, Sequence)
        or isinstance(anchors, str)
        or not all(isinstance(a, torch.Tensor) for a in anchors)
    ):
        raise TypeError(
            f"anchors must be a Tensor or a list of tensors (one per level), got "
            f"{type(anchors).__name__} {anchors!r:.60}"
        )
    if len(anchors) == 0:
        raise ValueError("anchors must hold one tensor per level, got none")
    logits = torch.cat(outputs["cls_logits"], dim=1)  # (B, N, K)
    out_dtype = logits.dtype
    # the targets (ground truth, anchors, matching, offsets) and the loss are computed in at
    # least float32 and the loss rounded once to the outputs' dtype, as torch's autocast runs
    # losses in float32: ground truth rounded to half precision moves boxes by up to 1 px in
    # bfloat16 at 300 px, enough to change which anchors are positive
    work = torch.promote_types(out_dtype, torch.float32)
    logits = logits.to(work)
    deltas = torch.cat(outputs["bbox_regression"], dim=1).to(work)  # (B, N, 4)
    anc = torch.cat(list(anchors), dim=-2).to(device=logits.device, dtype=work)
    checked = check_boxes(anc, "anchors", ndim=None)  # once, for all images
    anc, checked = (a.expand(len(logits), -1, -1) if a.dim() == 2 else a for a in (anc, checked))
    if anc.shape[:2] != logits.shape[:2]:
        raise ValueError(f"anchors give {tuple(anc.shape[:2])} anchors, outputs {logits.shape[1]}")
    batch, k = logits.shape[0], logits.shape[2]
    gts, labs = check_targets(boxes, labels, k, batch, logits.detach())
    zero = logits.flatten()[:0].sum()  # 0 on the graph (logits.sum() * 0 would be NaN for a NaN)
    if batch == 0:  # an empty batch: nothing to learn from, a zero loss that keeps the graph
        parts = {key: zero.to(out_dtype) for key in ("classification", "bbox_regression", "total")}
        return {**parts, "num_pos": zero.detach()}
    if classification == "hard_negative":  # SSD's matcher
        match = [
            _match_anchors(a, gt, 0.5, 0.5, True, ssd=True)
            for a, gt in zip(checked, gts, strict=True)
        ]
    else:
        match = [_match_anchors(a, gt, 0.5, 0.4, True) for a, gt in zip(checked, gts, strict=True)]
    matches = torch.stack(match)
    if anchor_mask is not None:
        if not isinstance(anchor_mask, torch.Tensor) or anchor_mask.dtype != torch.bool:
            raise TypeError(f"anchor_mask must be a boolean Tensor, got {anchor_mask!r:.60}")
        if anchor_mask.shape != matches.shape:
            raise ValueError(
                f"anchor_mask must have shape {tuple(matches.shape)} (images, anchors), got "
                f"{tuple(anchor_mask.shape)}"
            )
        matches = matches.masked_fill(~anchor_mask.to(matches.device), BETWEEN_THRESHOLDS)
    pos, valid = matches >= 0, matches != BETWEEN_THRESHOLDS  # (B, N)
    n_pos = pos.sum(dim=1)
    if classification == "hard_negative":  # SSD: sums over the batch / its positives
        scale = (1 / n_pos.sum().clamp(min=1).to(logits.dtype)).expand(batch)
    else:  # RetinaNet: per image / its positives, averaged over the images
        scale = 1 / (n_pos.clamp(min=1).to(logits.dtype) * batch)  # (B,)
    img, a_idx = pos.nonzero(as_tuple=True)  # positives over the batch
    # ground truth of every positive: index into the batch's concatenated boxes
    offsets = torch.tensor([0] + [len(g) for g in gts[:-1]], device=logits.device).cumsum(0)
    g_idx = offsets[img] + matches[img, a_idx]
    all_gt, all_lab = torch.cat(gts), torch.cat(labs)
    target = torch.zeros_like(logits)
    target[img, a_idx, all_lab[g_idx]] = 1.0
    if classification == "focal":
        per_anchor = sigmoid_focal_loss(logits, target, alpha, gamma, "none").sum(dim=2)
    else:
        per_anchor = binary_cross_entropy_with_logits(logits, target, reduction="none").sum(2)
    if classification == "hard_negative":
        k_neg = ratio * n_pos.to(logits.dtype)  # rank < 3.0 N_pos, torchvision's test
        valid = pos | _hardest_negatives(per_anchor.detach(), matches, k_neg)
    cls_l = ((per_anchor * valid).sum(dim=1) * scale).sum()  # per_anchor: (B, N)
    box_l = zero
    if len(img):
        matched_gt, weight = all_gt[g_idx], scale[img]
        if bbox_loss == "smooth_l1":
            t = coder.encode_single(matched_gt, anc[img, a_idx])
            reg = smooth_l1_loss(deltas[img, a_idx], t, reduction="none", beta=beta).sum(1)
        else:
            pred = coder.decode_single(deltas[img, a_idx], anc[img, a_idx])
            reg = predicted_box_loss("giou", pred, matched_gt, "none")
        box_l = (reg * weight).sum()
    parts = {"classification": cls_l, "bbox_regression": box_l}
    parts["total"] = parts["classification"] + parts["bbox_regression"]
    parts = {key: value.to(out_dtype) for key, value in parts.items()}
    parts["num_pos"] = n_pos.sum().to(work)  # a count: bfloat16 would make 257 positives 256
    return parts


def _hardest_negatives(loss: torch.Tensor, matches: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """Mask ``(B, N)`` of the background anchors whose rank by ``loss`` in their image (0 for
    the highest) is < ``k[b]``."""
    neg_loss = loss.masked_fill(matches != BELOW_LOW_THRESHOLD, -math.inf)
    order = neg_loss.argsort(dim=1, descending=True)
    rank = torch.empty_like(order)
    rank.scatter_(1, order, torch.arange(order.shape[1], device=order.device).expand_as(order))
    return (rank < k[:, None]) & (matches == BELOW_LOW_THRESHOLD)


class TinyRetinaNet(nn.Module):
    r"""RetinaNet on a three-level feature pyramid (strides 4, 8 and 16).

    Parameters
    ----------
    num_classes : int
        Object classes K (no background class: every class has its own sigmoid).
    width : int
        FPN and subnet channels (256 in the paper).
    num_convs : int
        3x3 conv + ReLU layers in each subnet before the output layer (4 in the paper).
    sizes : tuple of tuples of float, optional
        Anchor sides per level; default :math:`2 s \cdot 2^{\{0, 1/3, 2/3\}}` for stride s,
        which covers the 6 to 40 pixel objects of 64-pixel images.
    aspect_ratios : tuple of float
        Height/width ratios (1:2, 1:1, 2:1 in the paper).
    prior_probability : float
        Initial foreground probability :math:`\pi` of every class output.
    backbone : {'tiny', 'mobilenet_v2'} or nn.Module
        See :func:`~mlcanon.models.build_backbone`.

    Notes
    -----
    ``forward`` returns ``{'cls_logits': [Tensor[B, H_l W_l A, K]], 'bbox_regression':
    [Tensor[B, H_l W_l A, 4]]}``, one entry per level, anchors ordered as
    :class:`~mlcanon.vision.AnchorGenerator` lists them (row-major cells, A per cell). The
    class output bias is :math:`b = -\log((1 - \pi)/\pi)` so that at the start every anchor
    predicts :math:`p = \pi`: with ~10^4 to 10^5 background anchors, p = 0.5 would make the
    first steps' loss and gradients be dominated by background (Section 4.1, "Initialization").

    References
    ----------
    T.-Y. Lin, P. Goyal, R. Girshick, K. He and P. Dollar, "Focal Loss for Dense Object
    Detection", ICCV 2017, Section 4 and Figure 3.
    """

    def __init__(
        self,
        num_classes: int = 3,
        width: int = 32,
        num_convs: int = 2,
        sizes: Sequence[Sequence[float]] | None = None,
        aspect_ratios: Sequence[float] = (0.5, 1.0, 2.0),
        prior_probability: float = 0.01,
        backbone: str | nn.Module = "tiny",
    ):
        super().__init__()
        k = int(check_scalar(num_classes, "num_classes", kind=numbers.Integral, low=1))
        n_conv = int(check_scalar(num_convs, "num_convs", kind=numbers.Integral, low=0))
        pi = float(check_scalar(prior_probability, "prior_probability", low=0.0, high=1.0))
        if not 0 < pi < 1:
            raise ValueError(f"prior_probability must be in (0, 1), got {prior_probability}")
        width = int(check_scalar(width, "width", kind=numbers.Integral, low=1))
        self.backbone = build_backbone(backbone, width)
        self.strides = self.backbone.strides
        if sizes is None:
            sizes = tuple(tuple(2 * s * 2 ** (i / 3) for i in range(3)) for s in self.strides)
        if len(sizes) != len(self.strides):
            raise ValueError(f"sizes must have one tuple per level (3), got {len(sizes)}")
        self.anchor_generator = AnchorGenerator(tuple(sizes), (tuple(aspect_ratios),))
        a = self.anchor_generator.num_anchors_per_location()[0]
        if len(set(self.anchor_generator.num_anchors_per_location())) != 1:
            raise ValueError("every level must have the same number of sizes (shared subnets)")
        self.num_classes, self.num_anchors = k, a
        d = self.backbone.out_channels
        self.cls_subnet = self._subnet(d, n_conv, a * k)
        self.box_subnet = self._subnet(d, n_conv, a * 4)
        with torch.no_grad():
            self.cls_subnet[-1].bias.fill_(-math.log((1 - pi) / pi))

    @staticmethod
    def _subnet(d: int, n_conv: int, n_out: int) -> nn.Sequential:
        layers: list[nn.Module] = []
        for _ in range(n_conv):
            layers += [nn.Conv2d(d, d, 3, padding=1), nn.ReLU()]
        layers.append(nn.Conv2d(d, n_out, 3, padding=1))
        for m in layers:  # Gaussian sigma = 0.01 and zero bias (Section 4.1)
            if isinstance(m, nn.Conv2d):
                nn.init.normal_(m.weight, std=0.01)
                nn.init.zeros_(m.bias)
        return nn.Sequential(*layers)

    def forward(self, images: torch.Tensor) -> dict[str, list[torch.Tensor]]:
        return self._heads(
            self.backbone(images), self.cls_subnet, self.box_subnet, self.num_classes
        )

    def _heads(
        self, feats: Sequence[torch.Tensor], cls_net: nn.Module, box_net: nn.Module, k: int
    ) -> dict[str, list[torch.Tensor]]:
        cls, reg = [], []
        a = self.num_anchors
        for feat in feats:
            b, _, h, w = feat.shape
            c = cls_net(feat).view(b, a, k, h, w)
            r = box_net(feat).view(b, a, 4, h, w)
            cls.append(c.permute(0, 3, 4, 1, 2).reshape(b, h * w * a, k))
            reg.append(r.permute(0, 3, 4, 1, 2).reshape(b, h * w * a, 4))
        return {"cls_logits": cls, "bbox_regression": reg}  # per level (B, H W A, K) / (.., 4)

    def anchors(
        self,
        image_size: Sequence[int],
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> list[torch.Tensor]:
        """Anchors ``Tensor[H_l W_l A, 4]`` per level for an image of size ``(H, W)``, on
        ``device`` in ``dtype`` (default: those of the model's parameters)."""
        h, w = check_image_size(image_size)
        p = next(self.parameters())
        device = p.device if device is None else device
        dtype = p.dtype if dtype is None else dtype
        grids = [(h // s, w // s) for s in self.strides]
        strides = [(s, s) for s in self.strides]
        return self.anchor_generator.grid_anchors(grids, strides, device=device, dtype=dtype)

    def _anchors_like(
        self, outputs: dict[str, list[torch.Tensor]], image_size: Sequence[int]
    ) -> list[torch.Tensor]:
        """:meth:`anchors` on the device of ``outputs``, in their dtype or float32 if narrower
        (the anchors are targets' references, not rounded to half precision), as many per level
        as the outputs have rows (a wrong ``image_size`` would pair outputs with other anchors)."""
        ref = outputs["cls_logits"]
        work = torch.promote_types(ref[0].dtype, torch.float32)
        anchors = self.anchors(image_size, ref[0].device, work)
        rows = [r.shape[1] for r in ref]
        if [len(a) for a in anchors] != rows:
            raise ValueError(
                f"image_size={tuple(image_size)} gives {[len(a) for a in anchors]} anchors per "
                f"level, but the outputs hold {rows}: pass the (H, W) of the images they come from"
            )
        return anchors

    def loss(
        self,
        outputs: dict[str, list[torch.Tensor]],
        boxes: Sequence[Any],
        labels: Sequence[Any],
        image_size: Sequence[int],
        **kwargs: Any,
    ) -> dict[str, torch.Tensor]:
        """:func:`retinanet_loss` with this model's anchors (``kwargs`` are passed on)."""
        anchors = self._anchors_like(outputs, image_size)
        return retinanet_loss(outputs, anchors, boxes, labels, **kwargs)

    def postprocess(
        self,
        outputs: dict[str, list[torch.Tensor]],
        image_size: Sequence[int],
        score_thresh: float = 0.05,
        nms_thresh: float = 0.5,
        topk_candidates: int = 1000,
        detections_per_img: int = 100,
        *,
        image_sizes: Sequence[Sequence[int]] | None = None,
    ) -> list[dict[str, torch.Tensor]]:
        """Detections per image: ``boxes`` (xyxy, clipped to the image), ``scores``,
        ``labels`` and ``levels``.

        Per level, the (anchor, class) pairs with sigmoid score > ``score_thresh`` are kept,
        at most ``topk_candidates`` of them, decoded with :class:`~mlcanon.vision.BoxCoder`;
        the levels are merged, per-class NMS at IoU ``nms_thresh`` is run and the
        ``detections_per_img`` best remain (torchvision's names and defaults).

        ``image_size`` is the ``(H, W)`` of the batch (it gives the anchors); the boxes are
        clipped to it, or, with ``image_sizes`` (one ``(H, W)`` per image), each image's to its
        own size: images of different sizes padded into one batch, as torchvision's anchors
        come from the padded batch and its boxes are clipped to ``image_sizes``.
        """
        check_scalar(score_thresh, "score_thresh", low=0.0, high=1.0)
        check_scalar(nms_thresh, "nms_thresh", low=0.0, high=1.0)
        topk = int(check_scalar(topk_candidates, "topk_candidates", kind=numbers.Integral, low=1))
        n_det = int(
            check_scalar(detections_per_img, "detections_per_img", kind=numbers.Integral, low=1)
        )
        cls_logits, regression, anchors = self._decode_inputs(outputs, image_size)
        sizes = clip_sizes(image_sizes, len(cls_logits[0]), check_image_size(image_size))
        return self._detect(
            cls_logits, regression, anchors, sizes, score_thresh, nms_thresh, topk, n_det
        )

    def _decode_inputs(
        self, outputs: dict[str, list[torch.Tensor]], image_size: Sequence[int]
    ) -> tuple[list[torch.Tensor], list[torch.Tensor], list[torch.Tensor]]:
        """Class logits, offsets and the anchors they are relative to, per level."""
        anchors = self._anchors_like(outputs, image_size)
        return outputs["cls_logits"], outputs["bbox_regression"], anchors

    def _detect(
        self,
        cls_logits: Sequence[torch.Tensor],
        bbox_regression: Sequence[torch.Tensor],
        anchors: Sequence[torch.Tensor],
        sizes: Sequence[tuple[float, float]],
        score_thresh: float,
        nms_thresh: float,
        topk: int,
        n_det: int,
    ) -> list[dict[str, torch.Tensor]]:
        """Per-level top-k, decoding from ``anchors`` (per level ``[N, 4]`` or ``[B, N, 4]``),
        clipping to ``sizes[b]`` (H, W), per-class NMS."""
        coder, k = BoxCoder(), self.num_classes
        results = []
        for b in range(len(cls_logits[0])):
            bx, sc, lb, lv = [], [], [], []
            for level, anc in enumerate(anchors):
                anc = anc[b] if anc.dim() == 3 else anc
                scores = torch.sigmoid(cls_logits[level][b]).flatten()  # (N K,)
                idx = torch.nonzero(scores > score_thresh).flatten()
                idx = idx[scores[idx].topk(min(topk, len(idx))).indices]
                a_idx = idx // k
                deltas = bbox_regression[level][b][a_idx]
                boxes = coder.decode_single(deltas, anc[a_idx].to(deltas.dtype))
                bx.append(clip_boxes_to_image(boxes, sizes[b]))
                sc.append(scores[idx])
                lb.append(idx % k)
                lv.append(torch.full((len(idx),), level, device=idx.device))
            boxes, scores, labels, levels = (torch.cat(v) for v in (bx, sc, lb, lv))
            results.append(best_detections(boxes, scores, labels, levels, nms_thresh, n_det))
        return results


def tiny_retinanet(**kwargs: Any) -> TinyRetinaNet:
    """Build a :class:`TinyRetinaNet` (tiny convolutional backbone by default)."""
    return TinyRetinaNet(**kwargs)


def retinanet_mobilenet_v2(**kwargs: Any) -> TinyRetinaNet:
    """Build a :class:`TinyRetinaNet` on :class:`MobileNetV2FPN` (width 0.5, 48 channels)."""
    return TinyRetinaNet(**{**ON_MOBILENET_V2, **kwargs})
