"""Non-maximum suppression: greedy (``nms``), per class (``batched_nms``) and soft-NMS.

The public functions validate and sort; the loops run in numba kernels, in float64 (so that the
comparison with the threshold does not depend on the input precision). Boxes follow the rule of
:func:`~mlcanon.vision.check_boxes` (finite, ``x1 <= x2``, ``y1 <= y2``): a reversed box raises a
ValueError rather than being kept or dropped by a meaningless negative area.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
import torch
from numba import njit

from .._validation import check_option, check_scalar
from ._boxes import check_boxes, check_real, result_dtype

__all__ = ["batched_nms", "nms", "soft_nms"]


@njit(cache=True, error_model="numpy")  # 0 / 0 gives NaN (two empty boxes), not an exception
def _iou(b, area, i, j):  # type: ignore[no-untyped-def]
    w = max(0.0, min(b[i, 2], b[j, 2]) - max(b[i, 0], b[j, 0]))
    h = max(0.0, min(b[i, 3], b[j, 3]) - max(b[i, 1], b[j, 1]))
    inter = w * h
    return inter / (area[i] + area[j] - inter)


@njit(cache=True, error_model="numpy")
def _greedy_kernel(b: np.ndarray, labels: np.ndarray, iou_threshold: float) -> np.ndarray:
    """Greedy NMS over boxes already sorted by decreasing score; returns positions kept."""
    n = b.shape[0]
    area = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    suppressed = np.zeros(n, dtype=np.bool_)
    keep = np.empty(n, dtype=np.int64)
    n_keep = 0
    for i in range(n):
        if suppressed[i]:
            continue
        keep[n_keep] = i
        n_keep += 1
        for j in range(i + 1, n):
            if suppressed[j] or labels[j] != labels[i]:
                continue
            # a NaN IoU (two empty boxes) compares False: nothing is suppressed, as torchvision
            if _iou(b, area, i, j) > iou_threshold:
                suppressed[j] = True
    return keep[:n_keep]


@njit(cache=True, error_model="numpy")
def _soft_kernel(
    b: np.ndarray,
    s: np.ndarray,
    iou_threshold: float,
    sigma: float,
    score_threshold: float,
    gaussian: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """Soft-NMS (Bodla et al. 2017, Algorithm 1) over boxes sorted by decreasing score.

    Every box is in play at the start: the threshold drops the boxes that are rescored, so the
    best box is kept whatever its score (as the authors' ``cpu_soft_nms`` and mmcv's)."""
    n = b.shape[0]
    area = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    scores = s.copy()
    alive = np.arange(n)  # positions still in play, in order
    keep = np.empty(n, dtype=np.int64)
    kept_scores = np.empty(n, dtype=np.float64)
    n_keep = 0
    n_alive = alive.size
    while n_alive > 0:
        best = 0
        for a in range(1, n_alive):  # first maximum: ties go to the earlier box
            if scores[alive[a]] > scores[alive[best]]:
                best = a
        m = alive[best]
        keep[n_keep] = m
        kept_scores[n_keep] = scores[m]
        n_keep += 1
        n_next = 0
        for a in range(n_alive):
            i = alive[a]
            if i == m:
                continue
            iou = _iou(b, area, m, i)
            if gaussian:
                scores[i] *= math.exp(-(iou * iou) / sigma)
            elif iou >= iou_threshold:
                scores[i] *= 1.0 - iou
            if scores[i] >= score_threshold:
                alive[n_next] = i  # compact in place, order preserved
                n_next += 1
        n_alive = n_next
    return keep[:n_keep], kept_scores[:n_keep]


def _prepare(boxes: object, scores: object) -> tuple[torch.Tensor, np.ndarray, np.ndarray]:
    """Validated float64 boxes and scores, and the stable order of decreasing score."""
    boxes = check_boxes(boxes, "boxes")
    if not isinstance(scores, torch.Tensor):
        raise TypeError(f"scores must be a torch.Tensor, got {type(scores).__name__}")
    if scores.dim() != 1 or scores.shape[0] != boxes.shape[0]:
        raise ValueError(
            f"scores must have shape (N,) with N = {boxes.shape[0]} boxes, "
            f"got {tuple(scores.shape)}"
        )
    check_real(scores, "scores")
    if "meta" in (boxes.device.type, scores.device.type):
        raise ValueError(
            "boxes and scores must hold values: suppression depends on them, and tensors on the "
            f"meta device have none (got boxes on {boxes.device}, scores on {scores.device})"
        )
    b = boxes.detach().cpu().to(torch.float64).numpy()
    s = scores.detach().cpu().to(torch.float64).numpy()
    if not np.isfinite(s).all():
        raise ValueError(f"scores must be finite, got {s[~np.isfinite(s)][:3].tolist()} among them")
    order = np.argsort(-s, kind="stable")  # ties keep the input order
    return boxes, np.ascontiguousarray(b[order]), order


def _threshold(iou_threshold: object) -> float:
    return float(check_scalar(iou_threshold, "iou_threshold", kind=numbers.Real))


def nms(boxes: torch.Tensor, scores: torch.Tensor, iou_threshold: float) -> torch.Tensor:
    """Greedy non-maximum suppression.

    Repeatedly keep the highest-scoring remaining box and discard every remaining box whose
    IoU with it is greater than ``iou_threshold``.

    Parameters
    ----------
    boxes : Tensor[N, 4]
        xyxy boxes (finite, ``x1 <= x2``, ``y1 <= y2``).
    scores : Tensor[N]
        Their scores (finite); equal scores are visited in input order.
    iou_threshold : float
        Boxes with IoU > ``iou_threshold`` with a kept box are discarded.

    Returns
    -------
    Tensor[K] (int64)
        Indices of the kept boxes, by decreasing score.

    References
    ----------
    P. F. Felzenszwalb, R. B. Girshick, D. McAllester and D. Ramanan, "Object Detection with
    Discriminatively Trained Part-Based Models", TPAMI 2010, Section 3.3 (greedy NMS), with the
    IoU criterion of torchvision.ops.nms.
    """
    thr = _threshold(iou_threshold)
    boxes, b, order = _prepare(boxes, scores)
    kept = _greedy_kernel(b, np.zeros(len(order), dtype=np.int64), thr)
    return torch.from_numpy(order[kept]).to(boxes.device)


def batched_nms(
    boxes: torch.Tensor, scores: torch.Tensor, idxs: torch.Tensor, iou_threshold: float
) -> torch.Tensor:
    """Non-maximum suppression within each category: boxes of different ``idxs`` never
    suppress each other.

    Parameters
    ----------
    boxes : Tensor[N, 4]
    scores : Tensor[N]
    idxs : Tensor[N]
        Category of each box: integers, or floats (finite) where boxes of equal value share a
        category, as torchvision, which takes any dtype (``torch.unique`` per class, or an offset
        ``idxs.to(boxes)`` times the largest coordinate that keeps the categories apart).
    iou_threshold : float

    Returns
    -------
    Tensor[K] (int64)
        Indices of the kept boxes, by decreasing score (all categories mixed); an empty tensor
        for empty input, on the device of ``boxes``.
    """
    thr = _threshold(iou_threshold)
    boxes, b, order = _prepare(boxes, scores)
    if not isinstance(idxs, torch.Tensor) or idxs.shape != (boxes.shape[0],):
        raise ValueError(f"idxs must be a Tensor of shape ({boxes.shape[0]},), got {idxs!r}")
    if len(order) == 0:  # whatever the dtype of idxs, as torchvision
        return torch.empty(0, dtype=torch.int64, device=boxes.device)
    if idxs.is_complex():
        raise TypeError(f"idxs must be an integer or float tensor, got dtype={idxs.dtype}")
    if idxs.is_floating_point():
        values = idxs.detach().cpu().to(torch.float64).numpy()
        if not np.isfinite(values).all():
            bad = values[~np.isfinite(values)][:3].tolist()
            raise ValueError(f"idxs must be finite category values, got {bad} among them")
        labels = np.unique(values, return_inverse=True)[1].reshape(-1)[order]  # equal = same
    else:
        labels = idxs.detach().cpu().to(torch.int64).numpy()[order]
    kept = _greedy_kernel(b, np.ascontiguousarray(labels), thr)
    return torch.from_numpy(order[kept]).to(boxes.device)


def soft_nms(
    boxes: torch.Tensor,
    scores: torch.Tensor,
    iou_threshold: float = 0.3,
    sigma: float = 0.5,
    score_threshold: float = 0.001,
    method: str = "gaussian",
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Soft-NMS: decay the scores of overlapping boxes instead of discarding them.

    At each step the box M with the highest current score is kept and every remaining box
    :math:`b_i` is rescored, then dropped if its score falls below ``score_threshold``. The
    first box is kept whatever its score (a box under the threshold is dropped once rescored),
    as in the authors' implementation and mmcv's ``soft_nms``.

    Parameters
    ----------
    boxes : Tensor[N, 4]
    scores : Tensor[N]
    iou_threshold : float
        :math:`N_t` of the linear rule.
    sigma : float
        :math:`\sigma` of the Gaussian rule, > 0.
    score_threshold : float
        Rescored boxes whose score is below this are removed.
    method : {'gaussian', 'linear'}

    Returns
    -------
    keep : Tensor[K] (int64)
        Indices in the order they were selected (decreasing decayed score).
    scores : Tensor[K]
        Their decayed scores at selection, in the dtype of ``scores`` (the default float dtype
        for integer scores: a decayed score is a fraction).

    Notes
    -----
    .. math::
        s_i \leftarrow s_i\,(1 - \mathrm{IoU}(M, b_i)) \ \text{if IoU} \ge N_t
        \quad\text{(linear)}, \qquad
        s_i \leftarrow s_i\, e^{-\mathrm{IoU}(M, b_i)^2 / \sigma} \quad\text{(Gaussian)}.

    References
    ----------
    N. Bodla, B. Singh, R. Chellappa and L. S. Davis, "Soft-NMS -- Improving Object Detection
    With One Line of Code", ICCV 2017, Algorithm 1 and eqs. (2)-(3).
    """
    check_option(method, "method", ("gaussian", "linear"))
    thr = _threshold(iou_threshold)
    sigma = float(check_scalar(sigma, "sigma", low=0, include_low=False))
    score_threshold = float(check_scalar(score_threshold, "score_threshold"))
    boxes, b, order = _prepare(boxes, scores)
    s = scores.detach().cpu().to(torch.float64).numpy()[order]
    kept, kept_scores = _soft_kernel(b, s, thr, sigma, score_threshold, method == "gaussian")
    keep = torch.from_numpy(order[kept]).to(boxes.device)
    return keep, torch.from_numpy(kept_scores).to(device=scores.device, dtype=result_dtype(scores))
