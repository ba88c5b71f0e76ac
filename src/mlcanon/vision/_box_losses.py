"""Elementwise IoU-family losses for box regression, as torchvision.ops ``*_box_iou_loss``.

Each loss compares ``boxes1[i]`` with ``boxes2[i]`` (xyxy, shape ``(..., 4)``) and is 1 minus a
similarity. The plain IoU loss has zero gradient for disjoint boxes; the enclosing-box (GIoU),
centre-distance (DIoU) and aspect-ratio (CIoU) terms keep a gradient there. The terms are
computed in at least float32; the loss comes back in the boxes' dtype (half precision included).
"""

from __future__ import annotations

import torch

from .._validation import check_option
from ._boxes import IoUTerms, check_boxes, check_eps, iou_terms, result_dtype

__all__ = ["complete_box_iou_loss", "distance_box_iou_loss", "generalized_box_iou_loss"]


def _terms(
    boxes1: torch.Tensor, boxes2: torch.Tensor, reduction: str, eps: float
) -> tuple[IoUTerms, float, torch.dtype]:
    """The IoU terms (computed in at least float32), ``eps`` checked, and the dtype the loss is
    returned in: that of the boxes, as torchvision's losses."""
    check_option(reduction, "reduction", ("none", "mean", "sum"))
    b1 = check_boxes(boxes1, "boxes1", ndim=None)
    b2 = check_boxes(boxes2, "boxes2", ndim=None)
    if b1.shape != b2.shape:
        raise ValueError(
            f"boxes1 and boxes2 must have the same shape, got {tuple(b1.shape)} and "
            f"{tuple(b2.shape)}"
        )
    # the intersection has a gradient only where the boxes overlap with both sides > 0, as
    # torchvision's losses (touching boxes and a zero-width box inside the other give none)
    terms = iou_terms(b1, b2, strict_overlap=True)
    return terms, check_eps(eps), result_dtype(boxes1, boxes2)


def _reduce(loss: torch.Tensor, reduction: str, dtype: torch.dtype) -> torch.Tensor:
    if reduction == "mean":
        loss = loss.mean() if loss.numel() > 0 else loss.sum()  # empty: 0, not NaN
    elif reduction == "sum":
        loss = loss.sum()
    return loss.to(dtype)


def generalized_box_iou_loss(
    boxes1: torch.Tensor, boxes2: torch.Tensor, reduction: str = "none", eps: float = 1e-7
) -> torch.Tensor:
    r"""GIoU loss :math:`1 - \mathrm{IoU} + |C \setminus (A \cup B)| / |C|`, in [0, 2).

    Parameters
    ----------
    boxes1, boxes2 : Tensor[..., 4]
        Predicted and target boxes (xyxy), same shape.
    reduction : {'none', 'mean', 'sum'}
    eps : float
        Added to the union and the enclosing area (no 0 / 0 for degenerate boxes).

    References
    ----------
    H. Rezatofighi et al., "Generalized Intersection over Union", CVPR 2019, Algorithm 2.
    """
    t, eps, dtype = _terms(boxes1, boxes2, reduction, eps)
    iou = t.inter / (t.union + eps)
    loss = 1 - iou + (t.enclose_area - t.union) / (t.enclose_area + eps)
    return _reduce(loss, reduction, dtype)


def distance_box_iou_loss(
    boxes1: torch.Tensor, boxes2: torch.Tensor, reduction: str = "none", eps: float = 1e-7
) -> torch.Tensor:
    r"""DIoU loss :math:`1 - \mathrm{IoU} + \rho^2(b, b^{gt}) / c^2`, in [0, 2).

    Parameters
    ----------
    boxes1, boxes2 : Tensor[..., 4]
        Predicted and target boxes (xyxy), same shape.
    reduction : {'none', 'mean', 'sum'}
    eps : float
        Added to the union and to :math:`c^2`.

    References
    ----------
    Z. Zheng et al., "Distance-IoU Loss", AAAI 2020, eq. (7).
    """
    t, eps, dtype = _terms(boxes1, boxes2, reduction, eps)
    loss = 1 - t.inter / (t.union + eps) + t.center_dist2 / (t.enclose_diag2 + eps)
    return _reduce(loss, reduction, dtype)


def complete_box_iou_loss(
    boxes1: torch.Tensor, boxes2: torch.Tensor, reduction: str = "none", eps: float = 1e-7
) -> torch.Tensor:
    r"""CIoU loss :math:`1 - \mathrm{IoU} + \rho^2 / c^2 + \alpha v` (``boxes2`` = ground truth).

    Parameters
    ----------
    boxes1, boxes2 : Tensor[..., 4]
        Predicted and target boxes (xyxy), same shape.
    reduction : {'none', 'mean', 'sum'}
    eps : float
        Added to the union, to :math:`c^2` and to the denominator of :math:`\alpha`.

    Notes
    -----
    :math:`v = \frac{4}{\pi^2}(\arctan(w^{gt}/h^{gt}) - \arctan(w/h))^2` and
    :math:`\alpha = v / ((1 - \mathrm{IoU}) + v)`, the latter held constant by autograd. A box
    of zero width and height has no aspect ratio: its loss is NaN, as in torchvision.

    References
    ----------
    Z. Zheng et al., "Distance-IoU Loss", AAAI 2020, eqs. (9)-(11).
    """
    t, eps, dtype = _terms(boxes1, boxes2, reduction, eps)
    iou = t.inter / (t.union + eps)
    alpha = (t.aspect_v / (1 - iou + t.aspect_v + eps)).detach()
    loss = 1 - iou + t.center_dist2 / (t.enclose_diag2 + eps) + alpha * t.aspect_v
    return _reduce(loss, reduction, dtype)
