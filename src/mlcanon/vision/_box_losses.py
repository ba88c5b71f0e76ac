"""Elementwise IoU-family losses for box regression, as torchvision.ops ``*_box_iou_loss``.

Each loss compares ``boxes1[i]`` with ``boxes2[i]`` (xyxy, shape ``(..., 4)``) and is 1 minus a
similarity. The plain IoU loss has zero gradient for disjoint boxes; the enclosing-box (GIoU),
centre-distance (DIoU) and aspect-ratio (CIoU) terms keep a gradient there. The terms are
computed in at least float32; the loss comes back in the boxes' dtype (half precision included).
"""

from __future__ import annotations

import torch

from .._validation import check_option
from ._boxes import IoUTerms, as_compute_float, check_boxes, check_eps, iou_terms, result_dtype

__all__ = ["complete_box_iou_loss", "distance_box_iou_loss", "generalized_box_iou_loss"]


def _terms(
    boxes1: torch.Tensor,
    boxes2: torch.Tensor,
    reduction: str,
    eps: float,
    *,
    predicted: bool = False,
) -> tuple[IoUTerms, float, torch.dtype]:
    """The IoU terms (computed in at least float32), ``eps`` checked, and the dtype the loss is
    returned in: that of the boxes, as torchvision's losses. With ``predicted``, ``boxes1`` are
    a network's decoded boxes: not checked (only their type and shape), so that a NaN
    prediction gives a NaN loss, as torchvision's losses and :class:`BoxCoder`'s decoding."""
    check_option(reduction, "reduction", ("none", "mean", "sum"))
    if predicted:
        if not isinstance(boxes1, torch.Tensor) or boxes1.shape[-1:] != (4,):
            raise ValueError(f"boxes1 must be a Tensor of shape (..., 4), got {boxes1!r:.60}")
        b1 = as_compute_float(boxes1, "boxes1")
    else:
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


def predicted_box_loss(
    kind: str, pred: torch.Tensor, target: torch.Tensor, reduction: str = "none", eps: float = 1e-7
) -> torch.Tensor:
    """The ``kind`` ('giou', 'diou' or 'ciou') loss of a detector's decoded boxes ``pred``
    against checked targets, ``pred`` not checked: a NaN prediction gives a NaN loss (which
    :class:`~mlcanon.train.Trainer` reports as a diverged run) rather than a ValueError about
    boxes the user never passed."""
    check_option(kind, "kind", tuple(_LOSSES))
    t, eps, dtype = _terms(pred, target, reduction, eps, predicted=True)
    return _reduce(_LOSSES[kind](t, eps), reduction, dtype)


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
    return _reduce(_giou(t, eps), reduction, dtype)


def _giou(t: IoUTerms, eps: float) -> torch.Tensor:
    return 1 - t.inter / (t.union + eps) + (t.enclose_area - t.union) / (t.enclose_area + eps)


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
    return _reduce(_diou(t, eps), reduction, dtype)


def _diou(t: IoUTerms, eps: float) -> torch.Tensor:
    return 1 - t.inter / (t.union + eps) + t.center_dist2 / (t.enclose_diag2 + eps)


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
    return _reduce(_ciou(t, eps), reduction, dtype)


def _ciou(t: IoUTerms, eps: float) -> torch.Tensor:
    iou = t.inter / (t.union + eps)
    alpha = (t.aspect_v / (1 - iou + t.aspect_v + eps)).detach()
    return 1 - iou + t.center_dist2 / (t.enclose_diag2 + eps) + alpha * t.aspect_v


_LOSSES = {"giou": _giou, "diou": _diou, "ciou": _ciou}
