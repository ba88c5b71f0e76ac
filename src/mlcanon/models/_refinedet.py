"""A RefineDet-style detector: an anchor refinement module (ARM) filters and moves the anchors,
then an object detection module (ODM) classifies and regresses from the refined anchors."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch

from .._validation import check_scalar
from ..vision import BoxCoder
from ._detection import check_outputs, check_targets
from ._detection_backbone import ON_MOBILENET_V2
from ._retinanet import TinyRetinaNet, retinanet_loss

__all__ = ["TinyRefineDet", "refinedet_mobilenet_v2"]


class TinyRefineDet(TinyRetinaNet):
    r"""RetinaNet's anchors, backbone and subnets as the object detection module, preceded by
    an anchor refinement module with its own two subnets (objectness, 1 per anchor; offsets, 4
    per anchor) on the same pyramid levels.

    Parameters
    ----------
    filter_threshold : float, default=0.01
        Anchors whose ARM objectness is below this (negative confidence above 0.99, the
        paper's theta) are discarded in training the ODM (both loss terms) and give no
        detection.
    **kwargs
        As :class:`TinyRetinaNet`.

    Notes
    -----
    Training: the ARM learns binary objectness (focal loss) and offsets on the original
    anchors; the refined anchors are the ARM-decoded boxes (gradients stopped), matched to the
    ground truth again; the ODM learns classes and offsets relative to them. Inference: the
    ODM's offsets are decoded from the refined anchors, and filtered anchors score 0. Here the
    ARM and the ODM both read the FPN levels; the paper's ARM reads the backbone maps and a
    transfer connection block (FPN-like) feeds the ODM.

    References
    ----------
    S. Zhang, L. Wen, X. Bian, Z. Lei and S. Z. Li, "Single-Shot Refinement Neural Network for
    Object Detection", CVPR 2018, Section 3.
    """

    def __init__(self, filter_threshold: float = 0.01, **kwargs: Any):
        super().__init__(**kwargs)
        self.filter_threshold = float(
            check_scalar(filter_threshold, "filter_threshold", low=0.0, high=1.0)
        )
        n_conv = sum(isinstance(m, torch.nn.Conv2d) for m in self.cls_subnet) - 1
        d, a = self.backbone.out_channels, self.num_anchors
        self.arm_cls = self._subnet(d, n_conv, a)
        self.arm_box = self._subnet(d, n_conv, a * 4)
        with torch.no_grad():  # the same prior as the class outputs
            self.arm_cls[-1].bias.copy_(self.cls_subnet[-1].bias[:1].expand(a))

    def forward(self, images: torch.Tensor) -> dict[str, list[torch.Tensor]]:
        feats = self.backbone(images)
        out = self._heads(feats, self.cls_subnet, self.box_subnet, self.num_classes)
        arm = self._heads(feats, self.arm_cls, self.arm_box, 1)
        out["arm_logits"], out["arm_regression"] = arm["cls_logits"], arm["bbox_regression"]
        return out

    def refined_anchors(
        self, outputs: dict[str, list[torch.Tensor]], image_size: Sequence[int]
    ) -> tuple[list[torch.Tensor], torch.Tensor]:
        """Per level ``Tensor[B, H W A, 4]`` of ARM-refined anchors (no gradient), and the mask
        ``Tensor[B, N]`` of anchors kept by the filter.

        An anchor whose refinement is not finite (a NaN ARM offset) is filtered too, and stays
        as it was: it then neither matches a ground truth in the loss nor gives a detection
        (its NaN box made both raise)."""
        coder, refined, finite = BoxCoder(), [], []
        anchors = self._anchors_like(outputs, image_size)
        for anc, deltas in zip(anchors, outputs["arm_regression"], strict=True):
            d = deltas.detach().to(anc.dtype)  # decoded in at least float32, as the anchors
            r = coder.decode_single(d.reshape(-1, 4), anc.repeat(len(d), 1)).view_as(d)
            ok = torch.isfinite(r).all(dim=-1)  # (B, H W A)
            refined.append(torch.where(ok[..., None], r, anc.to(r.dtype)))
            finite.append(ok)
        objectness = torch.sigmoid(torch.cat(outputs["arm_logits"], dim=1).detach())[..., 0]
        return refined, (objectness >= self.filter_threshold) & torch.cat(finite, dim=1)

    def loss(
        self,
        outputs: dict[str, list[torch.Tensor]],
        boxes: Sequence[Any],
        labels: Sequence[Any],
        image_size: Sequence[int],
        **kwargs: Any,
    ) -> dict[str, torch.Tensor]:
        """ARM loss (binary focal + smooth L1 on the original anchors) plus ODM loss
        (:func:`retinanet_loss` on the refined anchors, filtered); ``kwargs`` go to the ODM."""
        check_outputs(outputs, ("cls_logits", "bbox_regression", "arm_logits", "arm_regression"))
        # the targets checked once here, so that a bad label is named (labels[i]) as the ODM's
        # loss names it, before the ARM's one-class labels are made from it; checked in at
        # least float32, as the losses compute their targets
        ref = outputs["cls_logits"][0]
        like = torch.empty(
            0, device=ref.device, dtype=torch.promote_types(ref.dtype, torch.float32)
        )
        _, labs = check_targets(boxes, labels, self.num_classes, len(ref), like)
        arm = retinanet_loss(
            {"cls_logits": outputs["arm_logits"], "bbox_regression": outputs["arm_regression"]},
            self._anchors_like(outputs, image_size),
            boxes,
            [torch.zeros_like(lab) for lab in labs],
        )
        refined, keep = self.refined_anchors(outputs, image_size)
        odm = retinanet_loss(outputs, refined, boxes, labels, anchor_mask=keep, **kwargs)
        parts = {f"arm_{k}": v for k, v in arm.items() if k != "total"}
        parts.update({k: v for k, v in odm.items() if k != "total"})
        parts["total"] = arm["total"] + odm["total"]
        return parts

    def _decode_inputs(
        self, outputs: dict[str, list[torch.Tensor]], image_size: Sequence[int]
    ) -> tuple[list[torch.Tensor], list[torch.Tensor], list[torch.Tensor]]:
        """The ODM's outputs relative to the refined anchors; filtered anchors score 0."""
        refined, keep = self.refined_anchors(outputs, image_size)
        masks = torch.split(keep, [r.shape[1] for r in refined], dim=1)
        logits = [
            c.masked_fill(~m[..., None], -math.inf)
            for c, m in zip(outputs["cls_logits"], masks, strict=True)
        ]
        return logits, outputs["bbox_regression"], refined


def refinedet_mobilenet_v2(**kwargs: Any) -> TinyRefineDet:
    """Build a :class:`TinyRefineDet` on :class:`MobileNetV2FPN` (width 0.5, 48 channels)."""
    return TinyRefineDet(**{**ON_MOBILENET_V2, **kwargs})
