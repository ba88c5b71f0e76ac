"""Box conversions and the IoU family (IoU, GIoU, DIoU, CIoU), pairwise, as torchvision.ops.

Boxes are ``(x1, y1, x2, y2)`` with ``x1 <= x2`` and ``y1 <= y2`` unless a format says otherwise.
All functions are differentiable torch code. :func:`check_boxes` is the one validation rule of
the box ops, NMS, anchors, the box coder and the box losses: a reversed box or a non-finite
coordinate raises a ValueError that names the parameter, the box's index and its values.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch

from .._validation import check_option, check_scalar

__all__ = [
    "box_area",
    "box_convert",
    "box_iou",
    "check_boxes",
    "complete_box_iou",
    "distance_box_iou",
    "generalized_box_iou",
]

FORMATS = ("xyxy", "xywh", "cxcywh")


def check_boxes(
    boxes: object,
    name: str = "boxes",
    *,
    ndim: int | None = 2,
    fmt: str = "xyxy",
    positive: bool = False,
) -> torch.Tensor:
    """Validate boxes: the one rule shared by the box ops, NMS, anchors, the box coder and the
    box losses.

    Parameters
    ----------
    boxes : Tensor[N, 4] (``ndim=2``) or Tensor[..., 4] (``ndim=None``)
        In format ``fmt``: ``'xyxy'`` needs ``x1 <= x2`` and ``y1 <= y2``, ``'xywh'`` and
        ``'cxcywh'`` need ``w >= 0`` and ``h >= 0``.
    name : str
        Parameter name used in error messages.
    ndim : int or None
        Required number of dimensions, or None for any leading shape.
    fmt : {'xyxy', 'xywh', 'cxcywh'}
    positive : bool
        Also refuse zero widths and heights (``x2 == x1``), as torchvision's detectors refuse
        such target boxes; the box coder needs them positive (it takes their logarithm).

    Returns
    -------
    Tensor
        ``boxes`` itself, or a float copy: integer boxes are promoted to float64 (exact for
        coordinates up to 2**53; float32 rounds those above 2**24) and half-precision ones to
        float32 (products of coordinates overflow them). :func:`result_dtype` gives the dtype
        results are returned in.

    Raises
    ------
    TypeError
        ``boxes`` is not a real-valued tensor.
    ValueError
        Wrong shape, a non-finite coordinate, or a reversed (degenerate) box; the message names
        ``name``, the index of the first offending box and its values.

    Notes
    -----
    One vectorised pass and one host synchronisation; tensors on the ``meta`` device have no
    values and are checked for shape only. Zero-area boxes are valid (unless ``positive``): the
    IoU of two of them is 0 / 0 = NaN, as in torchvision.
    """
    if not isinstance(boxes, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(boxes).__name__}")
    if boxes.shape[-1:] != (4,) or (ndim is not None and boxes.dim() != ndim):
        want = "(N, 4)" if ndim == 2 else "(..., 4)"
        raise ValueError(f"{name} must have shape {want}, got {tuple(boxes.shape)}")
    boxes = as_compute_float(boxes, name)
    if boxes.device.type != "meta" and boxes.numel():
        _check_box_values(boxes.detach(), name, fmt, positive)
    return boxes


def as_compute_float(t: torch.Tensor, name: str) -> torch.Tensor:
    """``t`` in a float dtype fit for products of coordinates: integers go to float64 (exact up
    to 2**53, where float32 would round coordinates above 2**24 to multiples of 2 or more before
    any difference is taken) and half precision to float32 (a 300 x 300 area overflows float16);
    booleans and complex numbers raise a TypeError naming ``name``."""
    check_real(t, name)
    if not t.is_floating_point():
        return t.to(torch.float64)
    if t.dtype in (torch.float16, torch.bfloat16):
        return t.float()
    return t


def check_real(t: torch.Tensor, name: str) -> None:
    """Refuse a boolean or complex tensor with a TypeError naming ``name``."""
    if t.is_complex() or t.dtype == torch.bool:
        raise TypeError(f"{name} must hold real numbers, got dtype={t.dtype}")


def result_dtype(*tensors: torch.Tensor, half_as_float32: bool = False) -> torch.dtype:
    """The dtype a result created from ``tensors`` is returned in: their promoted float dtype
    (the default float dtype for integers), half precision included, or float32 for it with
    ``half_as_float32`` (the areas and IoUs, which torchvision computes in float32 for
    half-precision boxes)."""
    dtype = tensors[0].dtype
    for t in tensors[1:]:
        dtype = torch.promote_types(dtype, t.dtype)
    if not dtype.is_floating_point:
        return torch.get_default_dtype()
    if half_as_float32 and dtype in (torch.float16, torch.bfloat16):
        return torch.float32
    return dtype


def check_eps(eps: object) -> float:
    """``eps`` as a float >= 0 (the guard added to denominators of the IoU family)."""
    return float(check_scalar(eps, "eps", low=0.0))


_SIDES = {"xyxy": ("x2 - x1", "y2 - y1"), "xywh": ("w", "h"), "cxcywh": ("w", "h")}


def _check_box_values(b: torch.Tensor, name: str, fmt: str, positive: bool) -> None:
    if fmt == "xyxy":
        w, h = b[..., 2] - b[..., 0], b[..., 3] - b[..., 1]
    else:
        w, h = b[..., 2], b[..., 3]
    finite = torch.isfinite(b).all(-1)
    bad_w, bad_h = (w <= 0, h <= 0) if positive else (w < 0, h < 0)
    bad = ~finite | bad_w | bad_h
    if not bool(bad.any()):
        return
    where = tuple(bad.nonzero()[0].tolist())
    wide, tall = _SIDES[fmt]
    low, ok = ("<= 0", "> 0") if positive else ("< 0", ">= 0")
    reason = (
        "a non-finite coordinate"
        if not finite[where]
        else f"{wide if bad_w[where] else tall} {low}"
    )
    raise ValueError(
        f"{name}[{', '.join(map(str, where))}] = {b[where].tolist()} is not a valid {fmt} box: "
        f"{reason} ({int(bad.sum())} invalid box(es) in {name}); boxes need finite coordinates "
        f"with {wide} {ok} and {tall} {ok}"
    )


def box_convert(boxes: torch.Tensor, in_fmt: str, out_fmt: str) -> torch.Tensor:
    """Convert boxes between ``'xyxy'`` (corners), ``'xywh'`` (corner + size) and ``'cxcywh'``
    (centre + size).

    Parameters
    ----------
    boxes : Tensor[..., 4]
    in_fmt, out_fmt : {'xyxy', 'xywh', 'cxcywh'}

    Returns
    -------
    Tensor[..., 4]
        In the dtype of ``boxes`` (the default float dtype for integer boxes).
    """
    check_option(in_fmt, "in_fmt", FORMATS)
    check_option(out_fmt, "out_fmt", FORMATS)
    checked = check_boxes(boxes, ndim=None, fmt=in_fmt)
    dtype, boxes = result_dtype(boxes), checked
    if in_fmt == out_fmt:
        return boxes.to(dtype, copy=True)
    a, b, c, d = boxes.unbind(-1)
    if in_fmt == "xywh":
        a, b, c, d = a, b, a + c, b + d
    elif in_fmt == "cxcywh":
        a, b, c, d = a - 0.5 * c, b - 0.5 * d, a + 0.5 * c, b + 0.5 * d
    # (a, b, c, d) is now xyxy
    if out_fmt == "xywh":
        a, b, c, d = a, b, c - a, d - b
    elif out_fmt == "cxcywh":
        a, b, c, d = (a + c) / 2, (b + d) / 2, c - a, d - b
    return torch.stack((a, b, c, d), dim=-1).to(dtype)


def box_area(boxes: torch.Tensor) -> torch.Tensor:
    """Area ``(x2 - x1) * (y2 - y1)`` of boxes ``Tensor[N, 4]`` in xyxy format -> ``Tensor[N]``."""
    dtype, boxes = result_dtype(boxes, half_as_float32=True), check_boxes(boxes, ndim=None)
    return ((boxes[..., 2] - boxes[..., 0]) * (boxes[..., 3] - boxes[..., 1])).to(dtype)


class IoUTerms(NamedTuple):
    inter: torch.Tensor
    union: torch.Tensor
    enclose_area: torch.Tensor  # area of the smallest box containing both
    enclose_diag2: torch.Tensor  # squared diagonal of that box
    center_dist2: torch.Tensor  # squared distance between the centres
    aspect_v: torch.Tensor  # CIoU aspect-ratio term v


def iou_terms(b1: torch.Tensor, b2: torch.Tensor, *, strict_overlap: bool = False) -> IoUTerms:
    """Every quantity of the IoU family for broadcastable boxes ``b1``, ``b2`` (..., 4).

    The intersection is ``max(0, iw) * max(0, ih)``; its value is the same either way, only its
    gradient where an overlap side is exactly 0 (touching boxes, a zero-width box inside the
    other) depends on ``strict_overlap``. False: the clamp passes the gradient there, as
    torchvision's pairwise ``box_iou`` family. True: the intersection counts (and has a
    gradient) only where both sides are > 0, as torchvision's ``*_box_iou_loss`` functions.
    """
    x1, y1, x2, y2 = b1.unbind(-1)
    u1, v1, u2, v2 = b2.unbind(-1)
    iw = torch.minimum(x2, u2) - torch.maximum(x1, u1)
    ih = torch.minimum(y2, v2) - torch.maximum(y1, v1)
    if strict_overlap:
        inter = torch.where((iw > 0) & (ih > 0), iw * ih, torch.zeros_like(iw))
    else:
        inter = iw.clamp(min=0) * ih.clamp(min=0)
    w1, h1, w2, h2 = x2 - x1, y2 - y1, u2 - u1, v2 - v1
    union = w1 * h1 + w2 * h2 - inter
    cw = torch.maximum(x2, u2) - torch.minimum(x1, u1)
    ch = torch.maximum(y2, v2) - torch.minimum(y1, v1)
    center_dist2 = ((x1 + x2 - u1 - u2) / 2) ** 2 + ((y1 + y2 - v1 - v2) / 2) ** 2
    v = (4 / math.pi**2) * (torch.atan(w2 / h2) - torch.atan(w1 / h1)) ** 2
    return IoUTerms(inter, union, cw * ch, cw**2 + ch**2, center_dist2, v)


def _pairwise(boxes1: torch.Tensor, boxes2: torch.Tensor) -> tuple[IoUTerms, torch.dtype]:
    """The pairwise terms of the checked boxes, and the dtype the result is returned in."""
    b1, b2 = check_boxes(boxes1, "boxes1"), check_boxes(boxes2, "boxes2")
    return pairwise_terms(b1, b2), result_dtype(boxes1, boxes2, half_as_float32=True)


def pairwise_terms(b1: torch.Tensor, b2: torch.Tensor) -> IoUTerms:
    """:func:`iou_terms` of every pair (N, M) of boxes ``b1`` (N, 4) and ``b2`` (M, 4) already
    returned by :func:`check_boxes` (for callers that check one set once and pair it often)."""
    dtype = torch.promote_types(b1.dtype, b2.dtype)
    return iou_terms(b1.to(dtype)[:, None, :], b2.to(dtype)[None, :, :])  # (N, M) terms


def box_iou(boxes1: torch.Tensor, boxes2: torch.Tensor) -> torch.Tensor:
    r"""Intersection over union of every pair: :math:`|A \cap B| / |A \cup B|`.

    Parameters
    ----------
    boxes1 : Tensor[N, 4]
    boxes2 : Tensor[M, 4]
        xyxy boxes.

    Returns
    -------
    Tensor[N, M]
        Values in [0, 1]; NaN for two boxes of zero area (0 / 0), as torchvision. A reversed
        box (``x2 < x1`` or ``y2 < y1``) or a non-finite coordinate raises a ValueError.
    """
    t, dtype = _pairwise(boxes1, boxes2)
    return (t.inter / t.union).to(dtype)


def generalized_box_iou(boxes1: torch.Tensor, boxes2: torch.Tensor) -> torch.Tensor:
    r"""Generalized IoU of every pair, in (-1, 1].

    Notes
    -----
    With C the smallest box enclosing A and B,

    .. math:: \mathrm{GIoU} = \mathrm{IoU} - \frac{|C \setminus (A \cup B)|}{|C|} .

    Unlike IoU it keeps decreasing as disjoint boxes move apart.

    References
    ----------
    H. Rezatofighi et al., "Generalized Intersection over Union", CVPR 2019, Algorithm 1.
    """
    t, dtype = _pairwise(boxes1, boxes2)
    return (t.inter / t.union - (t.enclose_area - t.union) / t.enclose_area).to(dtype)


def distance_box_iou(boxes1: torch.Tensor, boxes2: torch.Tensor, eps: float = 1e-7) -> torch.Tensor:
    r"""Distance IoU of every pair, in [-1, 1].

    Notes
    -----
    With :math:`\rho` the distance between the box centres and c the diagonal of the
    enclosing box, :math:`\mathrm{DIoU} = \mathrm{IoU} - \rho^2 / (c^2 + \epsilon)`.

    References
    ----------
    Z. Zheng et al., "Distance-IoU Loss: Faster and Better Learning for Bounding Box
    Regression", AAAI 2020, eq. (6).
    """
    eps = check_eps(eps)
    t, dtype = _pairwise(boxes1, boxes2)
    return (t.inter / t.union - t.center_dist2 / (t.enclose_diag2 + eps)).to(dtype)


def complete_box_iou(boxes1: torch.Tensor, boxes2: torch.Tensor, eps: float = 1e-7) -> torch.Tensor:
    r"""Complete IoU of every pair (``boxes2`` plays the ground truth in the aspect term).

    Notes
    -----
    .. math::
        \mathrm{CIoU} = \mathrm{DIoU} - \alpha v, \quad
        v = \frac{4}{\pi^2}\left(\arctan\frac{w^{gt}}{h^{gt}} - \arctan\frac{w}{h}\right)^2,
        \quad \alpha = \frac{v}{(1 - \mathrm{IoU}) + v + \epsilon},

    with :math:`\alpha` treated as a constant by autograd. A box of zero width and height has no
    aspect ratio: its :math:`v` is NaN (0 / 0), as in torchvision.

    References
    ----------
    Z. Zheng et al., "Distance-IoU Loss: Faster and Better Learning for Bounding Box
    Regression", AAAI 2020, eqs. (9)-(11).
    """
    eps = check_eps(eps)
    t, dtype = _pairwise(boxes1, boxes2)
    iou = t.inter / t.union
    # alpha is a trade-off weight, held constant when differentiating (Section 4 of the paper)
    alpha = (t.aspect_v / (1 - iou + t.aspect_v + eps)).detach()
    return (iou - t.center_dist2 / (t.enclose_diag2 + eps) - alpha * t.aspect_v).to(dtype)
