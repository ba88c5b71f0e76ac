"""Anchors: a grid generator (sizes x aspect ratios per feature level) and k-means anchor
shapes with the 1 - IoU distance."""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
import torch

from .._validation import check_array, check_option, check_random_state, check_scalar
from ._boxes import as_compute_float, result_dtype

__all__ = ["AnchorGenerator", "KMeansAnchors", "kmeans_anchors", "wh_iou"]


class AnchorGenerator:
    r"""Anchors for every position of every feature level, as torchvision's AnchorGenerator.

    Parameters
    ----------
    sizes : tuple of tuples of float
        Anchor sides (square-root areas) per feature level, e.g. ``((32,), (64,), (128,))``;
        a flat tuple ``(32, 64, 128)`` means one size per level, as in torchvision.
    aspect_ratios : tuple of tuples of float
        Height/width ratios per level; one tuple, or a flat tuple ``(0.5, 1.0, 2.0)``, is used
        for every level.

    Notes
    -----
    For size s and ratio a the anchor has :math:`h = s\sqrt{a}`, :math:`w = s/\sqrt{a}`
    (area :math:`s^2`), centred on :math:`(0, 0)` and rounded to integers, then shifted to
    every cell ``(i * stride_y, j * stride_x)`` of the level's grid (cell corners, torchvision's
    convention). Anchors are listed level by level, row-major over cells, and for each cell
    ratio-major over (ratio, size).

    References
    ----------
    S. Ren, K. He, R. Girshick and J. Sun, "Faster R-CNN", NeurIPS 2015, Section 3.1.1;
    T.-Y. Lin et al., "Feature Pyramid Networks for Object Detection", CVPR 2017, Section 4.1.
    """

    def __init__(
        self,
        sizes: Sequence[Sequence[float]] = ((128, 256, 512),),
        aspect_ratios: Sequence[Sequence[float]] = ((0.5, 1.0, 2.0),),
    ):
        if _is_flat(sizes):  # torchvision's shorthand: one size per level
            sizes = tuple((s,) for s in sizes)
        if _is_flat(aspect_ratios):  # the same ratios for every level
            aspect_ratios = (tuple(aspect_ratios),)
        if len(sizes) == 0 or not all(_is_row(s) for s in sizes):
            raise ValueError(f"sizes must be a non-empty tuple of tuples, got {sizes!r}")
        if len(aspect_ratios) == 1:
            aspect_ratios = tuple(aspect_ratios) * len(sizes)
        if len(aspect_ratios) != len(sizes):
            raise ValueError(
                f"aspect_ratios must have one tuple per level ({len(sizes)}), got {aspect_ratios!r}"
            )
        if not all(_is_row(a) for a in aspect_ratios):
            raise ValueError(
                f"aspect_ratios must be a tuple of non-empty tuples, got {aspect_ratios!r}"
            )
        for s, a in zip(sizes, aspect_ratios, strict=True):
            for v in (*s, *a):
                check_scalar(v, "sizes and aspect_ratios entries", low=0, include_low=False)
        self.sizes = tuple(tuple(float(v) for v in s) for s in sizes)
        self.aspect_ratios = tuple(tuple(float(v) for v in a) for a in aspect_ratios)
        self.cell_anchors = [
            self.generate_anchors(s, a) for s, a in zip(self.sizes, self.aspect_ratios, strict=True)
        ]

    @staticmethod
    def generate_anchors(
        scales: Sequence[float],
        aspect_ratios: Sequence[float],
        dtype: torch.dtype = torch.float32,
        device: torch.device | str | None = None,
    ) -> torch.Tensor:
        """Zero-centred anchors ``Tensor[len(ratios) * len(scales), 4]`` (xyxy, rounded)."""
        s = torch.as_tensor(scales, dtype=dtype, device=device)
        r = torch.as_tensor(aspect_ratios, dtype=dtype, device=device)
        h_ratio = torch.sqrt(r)
        w_ratio = 1 / h_ratio  # multiplied, not divided: the same rounding as torchvision
        ws = (w_ratio[:, None] * s[None, :]).reshape(-1)  # (ratios * scales,)
        hs = (h_ratio[:, None] * s[None, :]).reshape(-1)
        return (torch.stack((-ws, -hs, ws, hs), dim=1) / 2).round()

    def num_anchors_per_location(self) -> list[int]:
        return [len(s) * len(a) for s, a in zip(self.sizes, self.aspect_ratios, strict=True)]

    def grid_anchors(
        self,
        grid_sizes: Sequence[Sequence[int]],
        strides: Sequence[Sequence[int]],
        *,
        dtype: torch.dtype = torch.float32,
        device: torch.device | str | None = None,
    ) -> list[torch.Tensor]:
        """Anchors ``Tensor[H * W * A, 4]`` per level for grids ``(H, W)`` and strides, in
        ``dtype`` on ``device`` (pass those of the feature maps, as torchvision does)."""
        if len(grid_sizes) != len(self.cell_anchors) or len(strides) != len(grid_sizes):
            raise ValueError(
                f"need one grid size and one stride per level ({len(self.cell_anchors)}), got "
                f"{len(grid_sizes)} grid sizes and {len(strides)} strides"
            )
        grid_sizes = _int_pairs(grid_sizes, "grid_sizes", low=0)
        strides = _int_pairs(strides, "strides", low=1)
        out = []
        for (gh, gw), (sh, sw), base in zip(grid_sizes, strides, self.cell_anchors, strict=True):
            # cell anchors are rounded integers, exact in any float dtype
            base = base.to(device=device, dtype=dtype)
            # shifts exact in integers, rounded once to dtype (as torchvision's int32 shifts);
            # an arange in float16 / bfloat16 rounds past 2048 / 256 cells, then again * stride
            ys = (torch.arange(gh, device=device) * sh).to(dtype)
            xs = (torch.arange(gw, device=device) * sw).to(dtype)
            sy, sx = torch.meshgrid(ys, xs, indexing="ij")
            shifts = torch.stack((sx, sy, sx, sy), dim=-1).reshape(-1, 1, 4)  # (H W, 1, 4)
            out.append((shifts + base[None]).reshape(-1, 4))
        return out

    def __call__(
        self,
        image_size: Sequence[int],
        feature_map_sizes: Sequence[Sequence[int]],
        *,
        dtype: torch.dtype = torch.float32,
        device: torch.device | str | None = None,
    ) -> torch.Tensor:
        """All anchors ``Tensor[sum_l H_l W_l A_l, 4]`` for an image ``(H, W)`` and its feature
        maps ``[(H_1, W_1), ...]``; strides are ``image_size // feature_map_size``."""
        (ih, iw), *_ = _int_pairs([image_size], "image_size", low=1)
        grids = _int_pairs(feature_map_sizes, "feature_map_sizes", low=1)
        for gh, gw in grids:
            if gh > ih or gw > iw:
                raise ValueError(
                    f"feature_map_sizes must not exceed image_size={(ih, iw)}, got {(gh, gw)}"
                )
        strides = [(ih // gh, iw // gw) for gh, gw in grids]
        return torch.cat(self.grid_anchors(grids, strides, dtype=dtype, device=device))


def _int_pairs(pairs: Sequence[Sequence[int]], name: str, low: int) -> list[tuple[int, int]]:
    """``pairs`` as (int, int) tuples, each entry >= ``low``."""
    out = []
    for p in pairs:
        if (
            len(p) != 2
            or not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in p)
            or min(p) < low
        ):
            raise ValueError(f"{name} must hold pairs of integers >= {low}, got {p!r}")
        out.append((int(p[0]), int(p[1])))
    return out


def wh_iou(wh1: Any, wh2: Any) -> Any:
    """IoU ``(n, k)`` of boxes given by width and height only, as if sharing one centre.

    Parameters
    ----------
    wh1 : array-like or Tensor of shape (n, 2)
    wh2 : array-like or Tensor of shape (k, 2)
        Finite, non-negative widths and heights (the rule of
        :func:`~mlcanon.vision.check_boxes`); a negative size raises a ValueError.

    Returns
    -------
    ndarray or Tensor of shape (n, k)
        A Tensor (on the inputs' device, in their promoted dtype; float32 for half precision,
        whose areas overflow, as :func:`~mlcanon.vision.box_iou`) when both inputs are Tensors,
        otherwise a float64 array. NaN for two boxes of zero area (0 / 0), as
        :func:`~mlcanon.vision.box_iou`.
    """
    if isinstance(wh1, torch.Tensor) and isinstance(wh2, torch.Tensor):
        a, b = _check_wh(wh1, "wh1", torch), _check_wh(wh2, "wh2", torch)
        dtype = torch.promote_types(a.dtype, b.dtype)  # integers are computed in float64
        return _wh_iou(a.to(dtype), b.to(dtype), torch).to(
            result_dtype(wh1, wh2, half_as_float32=True)
        )
    return _wh_iou(_check_wh(wh1, "wh1", np), _check_wh(wh2, "wh2", np), np)


def _check_wh(wh: Any, name: str, xp: Any) -> Any:
    """Sizes of shape (n, 2), finite and >= 0 (a Tensor, or a float64 array)."""
    if xp is np:
        wh = check_array(wh, name, ndim=2, min_samples=0, allow_nan=True, allow_inf=True)
    else:
        wh = as_compute_float(wh, name)
    if wh.ndim != 2 or wh.shape[1] != 2:
        raise ValueError(f"{name} must have shape (n, 2), got {tuple(wh.shape)}")
    if xp is torch and wh.device.type == "meta":
        return wh  # no values to check
    bad = ~xp.isfinite(wh).all(1) | (wh < 0).any(1)
    if bad.any():
        i = int(bad.nonzero()[0][0])
        raise ValueError(
            f"{name}[{i}] = {wh[i].tolist()} is not a valid (w, h): widths and heights must be "
            f"finite and >= 0 ({int(bad.sum())} invalid row(s) in {name})"
        )
    return wh


def _wh_iou(wh1: Any, wh2: Any, xp: Any) -> Any:
    """IoU of validated (n, 2) and (k, 2) sizes; ``xp`` is numpy or torch."""
    inter = xp.minimum(wh1[:, None, 0], wh2[None, :, 0]) * xp.minimum(
        wh1[:, None, 1], wh2[None, :, 1]
    )
    area1 = wh1[:, 0] * wh1[:, 1]
    area2 = wh2[:, 0] * wh2[:, 1]
    return inter / (area1[:, None] + area2[None, :] - inter)


class KMeansAnchors(NamedTuple):
    anchors: np.ndarray  # (n_clusters, 2) widths and heights, by increasing area
    labels: np.ndarray  # (n,) anchor of each box
    mean_iou: float  # mean over boxes of the best IoU with an anchor
    n_iter: int


def _init_centers(wh: np.ndarray, k: int, init: Any, rng: np.random.Generator) -> np.ndarray:
    if not isinstance(init, str):
        centers = check_array(init, "init", ndim=2)
        if centers.shape != (k, 2) or (centers <= 0).any():
            raise ValueError(
                f"init must have shape ({k}, 2) with positive widths and heights, got "
                f"{centers.tolist()!r:.80}"
            )
        return centers.copy()
    check_option(init, "init", ("k-means++", "random"))
    if init == "random":
        return wh[rng.choice(len(wh), size=k, replace=False)].copy()
    # k-means++ seeding with d = 1 - IoU (Arthur & Vassilvitskii 2007, sampling prop. to d^2)
    centers = [wh[rng.integers(len(wh))]]
    for _ in range(1, k):
        d = 1.0 - _wh_iou(wh, np.array(centers), np).max(axis=1)
        p = d**2
        centers.append(wh[rng.choice(len(wh), p=p / p.sum())] if p.sum() > 0 else wh[0])
    return np.array(centers)


def kmeans_anchors(
    wh: Any,
    n_clusters: int,
    *,
    init: Any = "k-means++",
    max_iter: int = 300,
    random_state: Any = None,
) -> KMeansAnchors:
    r"""Anchor shapes by k-means on box widths and heights with the distance 1 - IoU.

    Parameters
    ----------
    wh : array-like of shape (n, 2)
        Positive widths and heights of the training boxes.
    n_clusters : int
        Number of anchors k.
    init : {'k-means++', 'random'} or array of shape (n_clusters, 2)
        Seeding; k-means++ samples new centres with probability proportional to
        :math:`d^2`.
    max_iter : int
        Maximum number of Lloyd iterations.
    random_state : None, int or numpy Generator

    Returns
    -------
    KMeansAnchors
        ``anchors`` sorted by area, ``labels``, ``mean_iou`` and ``n_iter``.

    Notes
    -----
    Lloyd's iterations with :math:`d(\text{box}, \text{centroid}) = 1 - \mathrm{IoU}`, boxes
    aligned on a common centre: assign each box to the anchor of highest IoU, then move each
    anchor to the mean width and height of its boxes, until the assignment stops changing. An
    anchor that loses all its boxes stays where it was. Unlike Euclidean k-means on (w, h),
    large boxes do not dominate the error.

    References
    ----------
    J. Redmon and A. Farhadi, "YOLO9000: Better, Faster, Stronger", CVPR 2017, Section 2
    ("Dimension Clusters"), Table 1.
    """
    wh = check_array(wh, "wh", ndim=2)
    if wh.shape[1] != 2 or (wh <= 0).any():
        raise ValueError(f"wh must have shape (n, 2) with positive entries, got shape {wh.shape}")
    k = check_scalar(n_clusters, "n_clusters", kind=numbers.Integral, low=1)
    if k > len(wh):
        raise ValueError(f"n_samples={len(wh)} should be >= n_clusters={k}")
    max_iter = check_scalar(max_iter, "max_iter", kind=numbers.Integral, low=1)
    centers = _init_centers(wh, k, init, check_random_state(random_state))
    labels = np.full(len(wh), -1)
    n_iter = 0
    for n_iter in range(1, max_iter + 1):  # noqa: B007 - n_iter is reported
        new = _wh_iou(wh, centers, np).argmax(axis=1)
        if np.array_equal(new, labels):
            break
        labels = new
        for c in range(k):
            members = wh[labels == c]
            if len(members):
                centers[c] = members.mean(axis=0)
    # stopped by max_iter, the centres moved after the last assignment: assign once more, so
    # that each label is the anchor of highest IoU among those returned (as scikit-learn's
    # KMeans ends with an E-step); after convergence this changes nothing
    labels = _wh_iou(wh, centers, np).argmax(axis=1)
    order = np.argsort(centers[:, 0] * centers[:, 1], kind="stable")
    rank = np.empty(k, dtype=np.int64)
    rank[order] = np.arange(k)
    centers = centers[order]
    mean_iou = float(_wh_iou(wh, centers, np).max(axis=1).mean())
    return KMeansAnchors(centers, rank[labels], mean_iou, n_iter)


def _is_flat(values: Any) -> bool:
    """A non-empty row of plain numbers (not a tuple of rows)."""
    return _is_row(values) and all(
        isinstance(v, numbers.Real) and not isinstance(v, bool) for v in values
    )


def _is_row(values: object) -> bool:
    """A non-empty sequence or 1-d array (one level's sizes or aspect ratios)."""
    if isinstance(values, np.ndarray):
        return values.ndim == 1 and len(values) > 0
    return isinstance(values, Sequence) and not isinstance(values, str) and len(values) > 0
