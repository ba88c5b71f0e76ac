"""Box regression targets relative to anchors: (tx, ty, tw, th), as torchvision's BoxCoder."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch

from .._validation import check_scalar
from ._boxes import check_boxes, result_dtype

__all__ = ["BoxCoder"]


class BoxCoder:
    r"""Encode boxes as offsets from anchors (proposals), and decode offsets back to boxes.

    Parameters
    ----------
    weights : tuple of 4 floats
        :math:`(w_x, w_y, w_w, w_h)` multiplying the four offsets (Faster R-CNN's second stage
        uses (10, 10, 5, 5) so that targets have roughly unit variance); a list or a 1-d array
        or tensor of 4 numbers too, as torchvision takes.
    bbox_xform_clip : float
        Upper clamp on :math:`t_w, t_h` before ``exp`` in :meth:`decode_single`, so that a wild
        prediction cannot overflow (default :math:`\log(1000/16)`, as torchvision).

    Notes
    -----
    For an anchor with centre :math:`(x_a, y_a)` and size :math:`(w_a, h_a)` and a box
    :math:`(x, y, w, h)`:

    .. math::
        t_x = w_x \frac{x - x_a}{w_a},\quad t_y = w_y \frac{y - y_a}{h_a},\quad
        t_w = w_w \log\frac{w}{w_a},\quad t_h = w_h \log\frac{h}{h_a}.

    Dividing by the anchor size makes the centre offsets scale-free; the logarithm makes
    the size offsets scale-free, symmetric for growing and shrinking, and its inverse
    ``exp`` always yields a positive size. Widths are ``x2 - x1`` (no +1).

    References
    ----------
    R. Girshick et al., "Rich feature hierarchies for accurate object detection and semantic
    segmentation", CVPR 2014, Appendix C (eqs. 1-4, 6-9); S. Ren et al., "Faster R-CNN",
    NeurIPS 2015, eq. (2).
    """

    def __init__(
        self,
        weights: Sequence[float] = (1.0, 1.0, 1.0, 1.0),
        bbox_xform_clip: float = math.log(1000.0 / 16),
    ):
        given = weights
        if isinstance(weights, torch.Tensor | np.ndarray) and weights.ndim == 1:
            weights = weights.tolist()  # torchvision unpacks and as_tensor()s them: any 4 numbers
        if not isinstance(weights, Sequence) or isinstance(weights, str) or len(weights) != 4:
            raise ValueError(
                f"weights must be 4 numbers (wx, wy, ww, wh): a tuple, list or 1-d array, "
                f"got {given!r}"
            )
        for w in weights:
            check_scalar(w, "weights", low=0, include_low=False)
        self.weights = tuple(float(w) for w in weights)
        self.bbox_xform_clip = float(check_scalar(bbox_xform_clip, "bbox_xform_clip"))

    def encode(
        self, reference_boxes: Sequence[torch.Tensor], proposals: Sequence[torch.Tensor]
    ) -> tuple[torch.Tensor, ...]:
        """:meth:`encode_single` over a batch: one ``Tensor[N_i, 4]`` of ground truths and of
        proposals per image; the offsets come back split per image (as torchvision)."""
        per_image = _lengths(reference_boxes, "reference_boxes")
        if per_image != _lengths(proposals, "proposals"):
            raise ValueError(
                f"reference_boxes and proposals must hold as many boxes per image, got "
                f"{per_image} and {_lengths(proposals, 'proposals')}"
            )
        return self.encode_single(
            torch.cat(list(reference_boxes)), torch.cat(list(proposals))
        ).split(per_image)

    def decode(self, rel_codes: torch.Tensor, boxes: Sequence[torch.Tensor]) -> torch.Tensor:
        """:meth:`decode_single` over a batch: ``rel_codes`` ``Tensor[sum N_i, 4k]`` for the
        anchors ``boxes`` (one ``Tensor[N_i, 4]`` per image, concatenated in order); returns
        ``Tensor[sum N_i, k, 4]`` (as torchvision)."""
        n = sum(_lengths(boxes, "boxes"))
        if not isinstance(rel_codes, torch.Tensor):
            raise TypeError(f"rel_codes must be a torch.Tensor, got {type(rel_codes).__name__}")
        if n > 0:
            rel_codes = rel_codes.reshape(n, -1)
        pred = self.decode_single(rel_codes, torch.cat(list(boxes)))
        return pred.reshape(n, -1, 4) if n > 0 else pred

    def encode_single(self, reference_boxes: torch.Tensor, proposals: torch.Tensor) -> torch.Tensor:
        """Offsets ``Tensor[N, 4]`` that move ``proposals[i]`` (anchors) onto
        ``reference_boxes[i]`` (ground truth); both ``Tensor[N, 4]`` in xyxy with positive
        widths and heights (their logarithms are taken). The offsets have the device and dtype
        of ``reference_boxes`` (the default float dtype for integer boxes)."""
        shapes = [tuple(getattr(b, "shape", ())) for b in (reference_boxes, proposals)]
        if shapes[0] != shapes[1]:
            raise ValueError(
                f"reference_boxes and proposals must have the same shape, got {shapes[0]} and "
                f"{shapes[1]}"
            )
        gt = check_boxes(reference_boxes, "reference_boxes", positive=True)
        anchors = check_boxes(proposals, "proposals", positive=True).to(gt.dtype)
        dtype = result_dtype(reference_boxes)  # computed in at least float32, returned in this
        wx, wy, ww, wh = self.weights
        aw, ah = anchors[:, 2] - anchors[:, 0], anchors[:, 3] - anchors[:, 1]
        ax, ay = anchors[:, 0] + 0.5 * aw, anchors[:, 1] + 0.5 * ah
        gw, gh = gt[:, 2] - gt[:, 0], gt[:, 3] - gt[:, 1]
        gx, gy = gt[:, 0] + 0.5 * gw, gt[:, 1] + 0.5 * gh
        return torch.stack(
            (
                wx * (gx - ax) / aw,
                wy * (gy - ay) / ah,
                ww * torch.log(gw / aw),
                wh * torch.log(gh / ah),
            ),
            dim=1,
        ).to(dtype)

    def decode_single(self, rel_codes: torch.Tensor, boxes: torch.Tensor) -> torch.Tensor:
        """Boxes ``Tensor[N, 4k]`` (xyxy) from offsets ``rel_codes`` ``Tensor[N, 4k]`` (k sets
        of (tx, ty, tw, th) per anchor, e.g. one per class) and anchors ``boxes`` ``Tensor[N, 4]``.

        The boxes have the device and dtype of ``rel_codes`` (integer codes are promoted to the
        default float dtype). The codes are network outputs and are not checked: a NaN code gives
        a NaN box, as in torchvision.
        """
        anchors = check_boxes(boxes, "boxes")
        if not isinstance(rel_codes, torch.Tensor):
            raise TypeError(f"rel_codes must be a torch.Tensor, got {type(rel_codes).__name__}")
        if rel_codes.dim() != 2 or rel_codes.shape[1] % 4 or rel_codes.shape[0] != len(anchors):
            raise ValueError(
                f"rel_codes must have shape ({len(anchors)}, 4k), got {tuple(rel_codes.shape)}"
            )
        if not rel_codes.is_floating_point():
            rel_codes = rel_codes.to(torch.get_default_dtype())
        anchors = anchors.to(rel_codes.dtype)
        wx, wy, ww, wh = self.weights
        aw, ah = anchors[:, 2:3] - anchors[:, 0:1], anchors[:, 3:4] - anchors[:, 1:2]  # (N, 1)
        ax, ay = anchors[:, 0:1] + 0.5 * aw, anchors[:, 1:2] + 0.5 * ah
        dx, dy = rel_codes[:, 0::4] / wx, rel_codes[:, 1::4] / wy  # (N, k)
        dw = (rel_codes[:, 2::4] / ww).clamp(max=self.bbox_xform_clip)
        dh = (rel_codes[:, 3::4] / wh).clamp(max=self.bbox_xform_clip)
        cx, cy = dx * aw + ax, dy * ah + ay
        half_w, half_h = 0.5 * torch.exp(dw) * aw, 0.5 * torch.exp(dh) * ah
        out = torch.stack((cx - half_w, cy - half_h, cx + half_w, cy + half_h), dim=2)  # (N, k, 4)
        return out.flatten(1)


def _lengths(boxes: object, name: str) -> list[int]:
    """Boxes per image of a list or tuple of tensors (one per image)."""
    if not isinstance(boxes, list | tuple) or not all(isinstance(b, torch.Tensor) for b in boxes):
        raise TypeError(f"{name} must be a list of tensors (one per image), got {boxes!r:.60}")
    if not boxes:
        raise ValueError(f"{name} must hold one tensor per image, got none")
    return [len(b) for b in boxes]
