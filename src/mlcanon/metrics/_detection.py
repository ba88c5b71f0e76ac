"""Detection metrics: COCO mean average precision and recall, and PASCAL VOC average precision.

Inputs follow torchmetrics' ``MeanAveragePrecision``: one dict per image, ``preds[i]`` with
``boxes`` (N, 4), ``scores`` (N,) and ``labels`` (N,), ``targets[i]`` with ``boxes`` (M, 4) and
``labels`` (M,); tensors, arrays or lists. Boxes obey :func:`mlcanon.vision.check_boxes`.

The COCO matching is greedy and sequential within one (image, class) pair, so it runs in one
numba kernel over all pairs; everything around it (sorting, cumulative counts, the precision
envelope, the 101-point sampling) is vectorised NumPy.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
from numba import njit

from mlcanon._validation import check_array, check_option, check_scalar

__all__ = ["interpolated_average_precision", "mean_average_precision", "voc_average_precision"]

AREA_NAMES = ("all", "small", "medium", "large")
# COCO's area ranges in pixels^2, both ends inclusive (an area of exactly 32^2 is small and medium)
AREA_RANGES = np.array([[0.0, 1e10], [0.0, 32.0**2], [32.0**2, 96.0**2], [96.0**2, 1e10]])


class _Flat(NamedTuple):
    """Every box of one side (detections or ground truths), grouped by (class, image)."""

    boxes: np.ndarray  # (n, 4) xyxy float64 (COCO: x, y, x + w, y + h of its xywh box)
    box_area: np.ndarray  # (n,) the boxes' areas in the IoU (COCO: w * h)
    scores: np.ndarray  # (n,) (ones for ground truths)
    group: np.ndarray  # (n,) class index * n_images + image, non-decreasing
    rank: np.ndarray  # (n,) position within its group (score order for detections)
    crowd: np.ndarray  # (n,) bool: a crowd region (ground truths only; False for detections)
    difficult: np.ndarray  # (n,) bool: a VOC 'difficult' object (ground truths only)
    area: np.ndarray  # (n,) the area that sets the size range (the box's, unless given)


def _side(dicts: Any, name: str, keys: tuple[str, ...], box_format: str, coco: bool) -> list[dict]:
    """Validated per-image arrays: ``boxes`` as float64 xyxy and their ``box_area``, ``scores``,
    integer ``labels``. With ``coco`` the boxes are those pycocotools computes with: the
    corners ``(x, y, x + w, y + h)`` of the COCO box ``(x, y, w, h)`` (``w = x2 - x1`` for xyxy
    input, ``x = cx - w / 2`` for cxcywh), of area ``w * h``; in float64, ``x + w - x`` and
    ``x2 - x1`` may differ from ``w`` in the last bit, which moves IoUs that sit on a threshold
    and areas on a size-range end."""
    import torch

    from mlcanon.vision import box_convert, check_boxes

    if not isinstance(dicts, Sequence) or isinstance(dicts, str | bytes):
        raise TypeError(
            f"{name} must be a list with one dict per image, got {type(dicts).__name__}"
        )
    out = []
    for i, d in enumerate(dicts):
        if not isinstance(d, Mapping) or any(k not in d for k in keys):
            raise ValueError(f"{name}[{i}] must be a dict with keys {keys}, got {d!r:.80}")
        where = f"{name}[{i}]['boxes']"
        b = _numbers(d["boxes"], where, ndim=None, finite=False)  # check_boxes says which box
        b = torch.from_numpy(np.ascontiguousarray(b.reshape(0, 4) if b.size == 0 else b))
        # in float64: converting in the input's (perhaps half) precision would round
        b = check_boxes(b, where, fmt=box_format).double()
        if coco:
            if box_format == "cxcywh":  # the box's own w and h, not (cx + w/2) - (cx - w/2)
                cx, cy, w, h = b.numpy().T
                x, y = cx - 0.5 * w, cy - 0.5 * h
            else:
                x, y, w, h = box_convert(b, box_format, "xywh").numpy().T
            entry = {"boxes": np.column_stack((x, y, x + w, y + h)), "box_area": w * h}
        else:
            b = box_convert(b, box_format, "xyxy").numpy()
            entry = {"boxes": b, "box_area": _area(b)}
        for key in keys[1:]:
            v = _numbers(d[key], f"{name}[{i}]['{key}']", ndim=1, finite=True)
            if len(v) != len(b):
                raise ValueError(f"{name}[{i}]['{key}'] has {len(v)} entries for {len(b)} boxes")
            # an empty list is float64 for NumPy: no entry, nothing to refuse
            if key == "labels" and v.size and v.dtype.kind not in "iu":
                raise TypeError(f"{name}[{i}]['labels'] must hold integers, got dtype={v.dtype}")
            if key == "scores" and v.dtype.kind not in "iuf":
                raise TypeError(f"{name}[{i}]['scores'] must hold numbers, got dtype={v.dtype}")
            entry[key] = v.astype(np.int64 if key == "labels" else np.float64)
        # ground truths' optional annotations; detections have box areas (as COCO) and no flags
        given = d if name == "targets" else {}
        for key in ("iscrowd", "difficult"):
            entry[key] = _flags(given.get(key), f"{name}[{i}]['{key}']", len(b))
        entry["area"] = _given_area(given.get("area"), f"{name}[{i}]['area']", entry["box_area"])
        out.append(entry)
    return out


def _flags(value: Any, name: str, n: int) -> np.ndarray:
    """Optional flags (crowd, difficult) of one image's boxes, as bools (all False if absent)."""
    if value is None:
        return np.zeros(n, dtype=bool)
    v = _numbers(value, name, ndim=1, finite=True)
    if len(v) != n or (v.size and not np.isin(v, (0, 1)).all()):
        raise ValueError(f"{name} must hold {n} flags 0/1 (one per box), got {v.tolist()!r:.80}")
    return v.astype(bool)


def _given_area(value: Any, name: str, box_area: np.ndarray) -> np.ndarray:
    """The optional areas of one image's ground truths (COCO's ``area`` field: a segment's area
    may be below its box's), finite and >= 0; the box areas if absent."""
    if value is None:
        return box_area
    v = _numbers(value, name, ndim=1, finite=True)
    if len(v) != len(box_area) or (v < 0).any():
        raise ValueError(f"{name} must hold {len(box_area)} areas >= 0, got {v.tolist()!r:.80}")
    return v.astype(np.float64)


def _numbers(value: Any, name: str, ndim: int | None, finite: bool) -> np.ndarray:
    """``value`` (a Tensor on any device and in any dtype, an array or nested lists) as a NumPy
    array of numbers, NaN and infinity refused if ``finite``; errors name ``name``."""
    import torch

    if isinstance(value, torch.Tensor):
        if value.device.type == "meta":
            raise ValueError(f"{name} must hold values, got a tensor on the meta device")
        value = value.detach().cpu()
        if value.dtype in (torch.float16, torch.bfloat16):  # NumPy has no bfloat16
            value = value.float()
        value = value.numpy()
    v = check_array(
        value,
        name,
        ndim=ndim,
        min_samples=0,
        dtype=None,
        allow_nan=not finite,
        allow_inf=not finite,
    )
    if v.size and v.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold numbers, got dtype={v.dtype}")
    return v


def _flatten(per_image: list[dict], classes: np.ndarray, is_det: bool) -> _Flat:
    """Concatenate the images, sort by (class, image, decreasing score, input order)."""
    n = sum(len(d["labels"]) for d in per_image)
    boxes = np.concatenate([d["boxes"] for d in per_image]) if n else np.zeros((0, 4))
    box_area = np.concatenate([d["box_area"] for d in per_image]) if n else np.zeros(0)
    labels = np.concatenate([d["labels"] for d in per_image]) if n else np.zeros(0, np.int64)
    scores = np.concatenate([d["scores"] for d in per_image]) if is_det and n else np.ones(n)
    crowd = np.concatenate([d["iscrowd"] for d in per_image]) if n else np.zeros(0, bool)
    hard = np.concatenate([d["difficult"] for d in per_image]) if n else np.zeros(0, bool)
    area = np.concatenate([d["area"] for d in per_image]) if n else np.zeros(0)
    image = np.repeat(np.arange(len(per_image)), [len(d["labels"]) for d in per_image])
    group = np.searchsorted(classes, labels) * len(per_image) + image
    # np.lexsort: last key first; the input position breaks ties, as COCO's stable mergesort
    order = np.lexsort((np.arange(n), -scores, group))
    group = group[order]
    starts = np.searchsorted(group, group, side="left")
    return _Flat(
        boxes[order],
        box_area[order],
        scores[order],
        group,
        np.arange(n) - starts,
        crowd[order],
        hard[order],
        area[order],
    )


@njit(cache=True)
def _group_iou(
    det: np.ndarray, gt: np.ndarray, det_area: np.ndarray, gt_area: np.ndarray, crowd: np.ndarray
) -> np.ndarray:
    """IoU (n_det, n_gt) of xyxy boxes of the given areas; 0 when they do not overlap (also for
    empty boxes). For a crowd region the union is the detection's own area (COCO: the part of a
    detection inside the crowd)."""
    iou = np.zeros((det.shape[0], gt.shape[0]))
    for d in range(det.shape[0]):
        for g in range(gt.shape[0]):
            w = min(det[d, 2], gt[g, 2]) - max(det[d, 0], gt[g, 0])
            h = min(det[d, 3], gt[g, 3]) - max(det[d, 1], gt[g, 1])
            if w > 0 and h > 0:
                i = w * h
                iou[d, g] = i / (det_area[d] if crowd[g] else det_area[d] + gt_area[g] - i)
    return iou


@njit(cache=True)
def _voc_match_kernel(
    det_boxes: np.ndarray,
    gt_boxes: np.ndarray,
    det_area: np.ndarray,
    gt_area: np.ndarray,
    gt_difficult: np.ndarray,
    groups: np.ndarray,
    threshold: float,
) -> np.ndarray:
    """PASCAL VOC's matching for every (class, image) group: each detection, in decreasing score
    order, is ignored (-1) if the ground truth of highest IoU (the first on a tie) overlaps it
    with IoU >= ``threshold`` and is difficult, a true positive (1) if that one is not difficult
    and not taken yet, otherwise a false positive (0). (The devkit only looks at overlapping
    ground truths, so at ``threshold`` 0 a disjoint one is no match.)"""
    outcome = np.zeros(det_boxes.shape[0], dtype=np.int8)
    for grp in range(groups.shape[0]):
        d0, d1, g0, g1 = groups[grp]
        plain = np.zeros(g1 - g0, dtype=np.bool_)  # no crowd regions in VOC
        iou = _group_iou(det_boxes[d0:d1], gt_boxes[g0:g1], det_area[d0:d1], gt_area[g0:g1], plain)
        taken = np.zeros(g1 - g0, dtype=np.bool_)
        for d in range(d1 - d0):
            j = np.argmax(iou[d])
            if iou[d, j] > 0 and iou[d, j] >= threshold:
                if gt_difficult[g0 + j]:
                    outcome[d0 + d] = -1
                elif not taken[j]:
                    taken[j] = True
                    outcome[d0 + d] = 1
    return outcome


@njit(cache=True)
def _match_kernel(
    det_boxes: np.ndarray,
    gt_boxes: np.ndarray,
    det_area: np.ndarray,
    gt_area: np.ndarray,
    gt_crowd: np.ndarray,
    gt_ignored: np.ndarray,
    groups: np.ndarray,
    thresholds: np.ndarray,
) -> np.ndarray:
    """COCO's greedy matching for every (class, image) group, area range and IoU threshold.

    Detections of a group come in decreasing score order. For each one, among the ground truths
    not matched yet whose IoU reaches the threshold, take the one of highest IoU (on a tie the
    later one), preferring the ground truths not ignored in the area range (``gt_ignored``,
    (A, n_gt): out of the range, or a crowd) to the others. A crowd region may be matched any
    number of times.
    Returns the matched ground truth's index (-1: none), shape (A, T, n_detections).
    """
    A, T = gt_ignored.shape[0], thresholds.shape[0]
    match = np.full((A, T, det_boxes.shape[0]), -1, dtype=np.int64)
    for grp in range(groups.shape[0]):
        d0, d1, g0, g1 = groups[grp]
        gt, crowd = gt_boxes[g0:g1], gt_crowd[g0:g1]
        iou = _group_iou(det_boxes[d0:d1], gt, det_area[d0:d1], gt_area[g0:g1], crowd)
        for a in range(A):
            outside = gt_ignored[a, g0:g1]
            for t in range(T):
                thr = min(thresholds[t], 1 - 1e-10)
                taken = np.zeros(g1 - g0, dtype=np.bool_)
                for d in range(d1 - d0):
                    m = -1
                    for p in range(2):  # ground truths not ignored first, then ignored ones
                        best = thr
                        for g in range(g1 - g0):
                            if (taken[g] and not crowd[g]) or outside[g] != (p == 1):
                                continue
                            if iou[d, g] < best:
                                continue
                            best, m = iou[d, g], g  # >=: on a tie the later one
                        if m >= 0:
                            taken[m] = True
                            match[a, t, d0 + d] = g0 + m
                            break
    return match


def _bounds(group: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """(len(keys), 2) start and end of each key's run in the sorted ``group``."""
    return np.stack(
        (np.searchsorted(group, keys, "left"), np.searchsorted(group, keys, "right")), axis=1
    )


def _shared_groups(det: _Flat, gt: _Flat) -> np.ndarray:
    """(n, 4) ``d0, d1, g0, g1``: the runs of detections and of ground truths of each (class,
    image) group that has both (a group without one of them matches nothing)."""
    keys = np.intersect1d(det.group, gt.group)
    return np.hstack((_bounds(det.group, keys), _bounds(gt.group, keys)))


def _pr_at_recalls(
    tps: np.ndarray, fps: np.ndarray, n_pos: int, rec_thresholds: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Interpolated precision at each recall threshold (T, R) and final recall (T,).

    ``tps``/``fps`` are (T, n) flags of detections in decreasing score order (an ignored
    detection is neither). The precision at recall r is the highest precision reached at any
    recall >= r, 0 where recall r is never reached.
    """
    T, n = tps.shape
    tp = np.cumsum(tps, axis=1, dtype=np.float64)
    fp = np.cumsum(fps, axis=1, dtype=np.float64)
    rc = tp / n_pos
    pr = tp / (fp + tp + np.spacing(1))
    envelope = np.maximum.accumulate(pr[:, ::-1], axis=1)[:, ::-1]
    q = np.zeros((T, len(rec_thresholds)))
    for t in range(T):
        idx = np.searchsorted(rc[t], rec_thresholds, side="left")
        reached = idx < n
        q[t, reached] = envelope[t, idx[reached]]
    return q, (rc[:, -1] if n else np.zeros(T))


def _mean_defined(x: np.ndarray) -> float:
    """Mean of the entries that are defined (> -1); -1 if none is."""
    v = x[x > -1]
    return float(v.mean()) if v.size else -1.0


def _thresholds(values: Any, name: str, default: np.ndarray) -> np.ndarray:
    if values is None:
        return default
    v = check_array(values, name, ndim=1)
    if ((v < 0) | (v > 1)).any():
        raise ValueError(f"{name} must lie in [0, 1], got {v.tolist()}")
    return v


def _max_dets(values: Any) -> tuple[int, ...]:
    listlike = isinstance(values, Sequence | np.ndarray) and not isinstance(values, str)
    v = tuple(values) if listlike and np.ndim(values) == 1 else ()
    if (
        not v
        or not all(isinstance(m, numbers.Integral) and not isinstance(m, bool) for m in v)
        or min(v) < 1
        or list(v) != sorted(set(v))
    ):
        raise ValueError(
            f"max_detection_thresholds must be increasing integers >= 1, got {values!r}"
        )
    return tuple(int(m) for m in v)


def mean_average_precision(
    preds: Sequence[Mapping[str, Any]],
    targets: Sequence[Mapping[str, Any]],
    *,
    box_format: str = "xyxy",
    iou_thresholds: Sequence[float] | None = None,
    rec_thresholds: Sequence[float] | None = None,
    max_detection_thresholds: Sequence[int] = (1, 10, 100),
    class_metrics: bool = False,
) -> dict[str, Any]:
    r"""COCO mean average precision and recall of box detections, as pycocotools' ``COCOeval``.

    Parameters
    ----------
    preds : list of dict, one per image
        ``boxes`` (N, 4), ``scores`` (N,), ``labels`` (N,) integers.
    targets : list of dict, one per image
        ``boxes`` (M, 4), ``labels`` (M,), optionally ``iscrowd`` (M,) flags 0/1 and ``area``
        (M,), the areas that place the ground truths in the size ranges (COCO's annotation
        area, e.g. a segment's; default the box areas). A crowd region is never a positive to
        find: a detection matched to it (IoU = intersection over the detection's area; any
        number of detections may match one) is ignored.
    box_format : {'xyxy', 'xywh', 'cxcywh'}
    iou_thresholds : sequence of float, default 0.5, 0.55, ..., 0.95
    rec_thresholds : sequence of float, default 0, 0.01, ..., 1 (101 points)
    max_detection_thresholds : increasing ints, default (1, 10, 100)
        At most this many detections per image *and class*, the highest-scoring ones, as COCO.
        The AP keys and the size-specific recalls use the last (largest) one.
    class_metrics : bool
        Also return ``map_per_class``, ``mar_{max}_per_class`` and ``classes``.

    Returns
    -------
    dict
        ``map`` (AP averaged over IoU thresholds and classes), ``map_50``, ``map_75`` (-1 if the
        threshold is not among ``iou_thresholds``), ``map_small``, ``map_medium``,
        ``map_large``, ``mar_{m}`` for each max-detections threshold, ``mar_small``,
        ``mar_medium``, ``mar_large`` (floats), and with ``class_metrics`` the per-class arrays
        and the sorted class labels. A value is -1 where it is undefined: no ground truth of any
        class in the area range.

    Notes
    -----
    For each IoU threshold t, image and class, the detections (best ``max`` by score) are
    matched greedily in decreasing score order: each takes the unmatched ground truth of
    highest IoU >= t. Ground truths whose area (``area`` if given, else the box's) lies
    outside the area range (small: :math:`[0, 32^2]`, medium: :math:`[32^2, 96^2]`, large:
    :math:`[96^2, \infty)`), and crowd regions, are matched only when no other ground truth
    qualifies, and a detection matched to one, or unmatched with its own area outside the
    range, is ignored (neither true nor false positive). Over all images, detections are
    ranked by score (ties in image, then input, order); with :math:`p(r)` precision at recall r,

    .. math::
        \mathrm{AP}_{t,k} = \frac{1}{101} \sum_{r \in \{0, 0.01, \ldots, 1\}}
        \max_{r' \ge r} p(r'),

    0 for recalls never reached. Recall is the final recall. ``map`` averages
    :math:`\mathrm{AP}_{t,k}` over thresholds and over the classes with a ground truth (a class
    with detections only is undefined, not zero).

    References
    ----------
    T.-Y. Lin et al., "Microsoft COCO: Common Objects in Context", ECCV 2014; the COCO detection
    evaluation (cocodataset.org/#detection-eval) and its reference implementation,
    pycocotools ``COCOeval``.
    """
    ious = _thresholds(iou_thresholds, "iou_thresholds", np.linspace(0.5, 0.95, 10))
    recs = _thresholds(rec_thresholds, "rec_thresholds", np.linspace(0.0, 1.0, 101))
    max_dets = _max_dets(max_detection_thresholds)
    if not isinstance(class_metrics, bool | np.bool_):
        raise TypeError(f"class_metrics must be bool, got {type(class_metrics).__name__}")
    precision, recall, classes = _coco_arrays(preds, targets, box_format, ious, recs, max_dets)
    return _summarize(precision, recall, ious, max_dets, classes, class_metrics)


def _coco_arrays(
    preds: Any,
    targets: Any,
    box_format: str,
    ious: np.ndarray,
    recs: np.ndarray,
    max_dets: tuple[int, ...],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """COCOeval's ``eval['precision']`` (T, R, K, A, M), ``eval['recall']`` (T, K, A, M) and
    the classes (K,)."""
    det, gt, classes, n_img = _prepare(preds, targets, box_format, coco=True)
    det = _Flat(*(v[det.rank < max_dets[-1]] for v in det))
    gt_ignored = _out_of_range(gt.area) | gt.crowd  # (A, n_gt)
    groups = _shared_groups(det, gt)
    match = _match_kernel(
        det.boxes, gt.boxes, det.box_area, gt.box_area, gt.crowd, gt_ignored, groups, ious
    )
    precision, recall = _accumulate(det, gt, gt_ignored, match, len(classes), n_img, recs, max_dets)
    return precision, recall, classes


def _prepare(
    preds: Any, targets: Any, box_format: str, coco: bool
) -> tuple[_Flat, _Flat, np.ndarray, int]:
    """Validated detections and ground truths, flattened (boxes as COCO computes with them if
    ``coco``); the sorted classes; the image count."""
    check_option(box_format, "box_format", ("xyxy", "xywh", "cxcywh"))
    dets = _side(preds, "preds", ("boxes", "scores", "labels"), box_format, coco)
    gts = _side(targets, "targets", ("boxes", "labels"), box_format, coco)
    if len(dets) != len(gts):
        raise ValueError(
            f"preds and targets must hold one dict per image each, got {len(dets)} and {len(gts)}"
        )
    labels = [d["labels"] for d in dets + gts]
    classes = np.unique(np.concatenate([*labels, np.zeros(0, np.int64)]))
    return _flatten(dets, classes, True), _flatten(gts, classes, False), classes, len(gts)


def _area(boxes: np.ndarray) -> np.ndarray:
    return (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])


def _out_of_range(area: np.ndarray) -> np.ndarray:
    """(A, n): whether each area lies outside each of COCO's area ranges."""
    return (area < AREA_RANGES[:, :1]) | (area > AREA_RANGES[:, 1:])


def _accumulate(
    det: _Flat,
    gt: _Flat,
    gt_out: np.ndarray,
    match: np.ndarray,
    n_classes: int,
    n_images: int,
    recs: np.ndarray,
    max_dets: tuple[int, ...],
) -> tuple[np.ndarray, np.ndarray]:
    """Precision (T, R, K, A, M) and recall (T, K, A, M), -1 where a class has no ground truth
    in the area range."""
    A, T = match.shape[:2]
    K, M = n_classes, len(max_dets)
    precision = -np.ones((T, len(recs), K, A, M))
    recall = -np.ones((T, K, A, M))
    det_out = _out_of_range(det.area)  # (A, n_det)
    matched = match >= 0
    # a detection matched to an out-of-range ground truth, or unmatched and out of range itself
    gt_out_ext = np.concatenate([gt_out, np.zeros((A, 1), bool)], axis=1)  # index -1 -> False
    to_out = np.take_along_axis(gt_out_ext[:, None, :], match, axis=2)  # (A, T, n_det)
    ignored = to_out | (~matched & det_out[:, None, :])
    tp, fp = matched & ~ignored, ~matched & ~ignored
    det_k = _bounds(det.group // n_images, np.arange(K))
    gt_k = _bounds(gt.group // n_images, np.arange(K))
    for k in range(K):
        dsl, gsl = slice(*det_k[k]), slice(*gt_k[k])
        n_pos = (~gt_out[:, gsl]).sum(axis=1)  # (A,)
        for mi, m in enumerate(max_dets):
            # one class, all images in order, each image's best m detections by score
            idx = np.arange(dsl.start, dsl.stop)[det.rank[dsl] < m]
            idx = idx[np.argsort(-det.scores[idx], kind="stable")]
            for a in range(A):
                if n_pos[a] == 0:
                    continue  # undefined: stays -1
                q, rc = _pr_at_recalls(tp[a][:, idx], fp[a][:, idx], n_pos[a], recs)
                precision[:, :, k, a, mi], recall[:, k, a, mi] = q, rc
    return precision, recall


def _summarize(
    precision: np.ndarray,
    recall: np.ndarray,
    ious: np.ndarray,
    max_dets: tuple[int, ...],
    classes: np.ndarray,
    class_metrics: bool,
) -> dict[str, Any]:
    out: dict[str, Any] = {"map": _mean_defined(precision[:, :, :, 0, -1])}
    for name, thr in (("map_50", 0.5), ("map_75", 0.75)):
        at = np.flatnonzero(np.isclose(ious, thr, rtol=0, atol=1e-12))
        out[name] = _mean_defined(precision[at, :, :, 0, -1])
    for a, area in enumerate(AREA_NAMES[1:], start=1):
        out[f"map_{area}"] = _mean_defined(precision[:, :, :, a, -1])
    for mi, m in enumerate(max_dets):
        out[f"mar_{m}"] = _mean_defined(recall[:, :, 0, mi])
    for a, area in enumerate(AREA_NAMES[1:], start=1):
        out[f"mar_{area}"] = _mean_defined(recall[:, :, a, -1])
    if class_metrics:
        k = len(classes)
        out["map_per_class"] = np.array(
            [_mean_defined(precision[:, :, c, 0, -1]) for c in range(k)]
        )
        out[f"mar_{max_dets[-1]}_per_class"] = np.array(
            [_mean_defined(recall[:, c, 0, -1]) for c in range(k)]
        )
        out["classes"] = classes
    return out


def interpolated_average_precision(scores: Any, is_tp: Any, n_gt: int) -> float:
    r"""All-point interpolated average precision (PASCAL VOC 2010 and later).

    Parameters
    ----------
    scores : array-like of shape (n,)
        Scores of the detections of one class, over all images.
    is_tp : array-like of bool, shape (n,)
        Whether each detection is a true positive (matched to a ground truth).
    n_gt : int
        Number of ground truths of the class (>= the number of true positives).

    Returns
    -------
    float
        The area under the precision envelope; -1 when ``n_gt`` is 0 (undefined).

    Notes
    -----
    Ranking by decreasing score (ties in input order) gives recall :math:`r_i` and precision
    :math:`p_i` after the i-th detection;

    .. math:: \mathrm{AP} = \sum_i (r_i - r_{i-1}) \max_{j \ge i} p_j, \quad r_0 = 0.

    References
    ----------
    M. Everingham et al., "The PASCAL Visual Object Classes Challenge 2012 Development Kit",
    Section 4.2 (average precision).
    """
    scores = check_array(scores, "scores", ndim=1, min_samples=0)
    hits = check_array(is_tp, "is_tp", ndim=1, min_samples=0, dtype=None)
    if (
        hits.shape != scores.shape
        or (hits.size > 0 and hits.dtype.kind not in "biu")
        or not np.isin(hits, (0, 1)).all()
    ):
        raise ValueError(
            f"is_tp must hold {len(scores)} booleans (one per score), got {hits!r:.80}"
        )
    if not isinstance(n_gt, numbers.Integral) or isinstance(n_gt, bool) or n_gt < hits.sum():
        raise ValueError(
            f"n_gt must be an integer >= the number of true positives ({int(hits.sum())}), "
            f"got {n_gt!r}"
        )
    if n_gt == 0:
        return -1.0
    tp = np.cumsum(hits[np.argsort(-scores, kind="stable")], dtype=np.float64)
    recall = np.concatenate(([0.0], tp / n_gt))
    precision = tp / np.arange(1, len(tp) + 1)
    envelope = np.maximum.accumulate(precision[::-1])[::-1]
    return float(np.sum(np.diff(recall) * envelope))


def voc_average_precision(
    preds: Sequence[Mapping[str, Any]],
    targets: Sequence[Mapping[str, Any]],
    *,
    iou_threshold: float = 0.5,
    box_format: str = "xyxy",
) -> dict[str, Any]:
    """PASCAL VOC average precision per class at one IoU threshold, and its mean.

    Parameters
    ----------
    preds, targets : list of dict, one per image
        As in :func:`mean_average_precision`; targets may hold ``difficult`` (M,) flags 0/1:
        such objects count in no recall, and a detection whose best ground truth is one (IoU
        >= ``iou_threshold``) is ignored, neither true nor false positive, as in the devkit.
    iou_threshold : float
        A detection is a true positive if its best ground truth (highest IoU, same class and
        image) overlaps it with IoU >= ``iou_threshold`` and was not taken by a higher-scoring
        detection.
    box_format : {'xyxy', 'xywh', 'cxcywh'}

    Returns
    -------
    dict
        ``map`` (mean over the classes with a ground truth, -1 if none), ``ap_per_class``
        (-1 for a class without ground truth) and ``classes`` (sorted labels).

    Notes
    -----
    Unlike COCO's matching, a detection whose best ground truth is taken is a false positive
    even if another ground truth overlaps it enough. Boxes are continuous (width x2 - x1, not
    the devkit's x2 - x1 + 1 pixels). AP is :func:`interpolated_average_precision`.

    References
    ----------
    M. Everingham et al., "The PASCAL Visual Object Classes (VOC) Challenge", IJCV 2010,
    Section 4.1.
    """
    thr = float(check_scalar(iou_threshold, "iou_threshold", low=0.0, high=1.0))
    det, gt, classes, n_img = _prepare(preds, targets, box_format, coco=False)
    if gt.crowd.any():
        raise ValueError("targets[i]['iscrowd']: VOC has no crowd annotations (COCO's mAP does)")
    outcome = _voc_match_kernel(
        det.boxes,
        gt.boxes,
        det.box_area,
        gt.box_area,
        gt.difficult,
        _shared_groups(det, gt),
        thr,
    )
    det_k = _bounds(det.group // n_img, np.arange(len(classes)))
    n_gt = np.bincount(gt.group[~gt.difficult] // max(n_img, 1), minlength=len(classes))
    ap = np.array(
        [
            interpolated_average_precision(
                det.scores[lo:hi][outcome[lo:hi] >= 0],
                outcome[lo:hi][outcome[lo:hi] >= 0] == 1,
                int(n_gt[k]),
            )
            for k, (lo, hi) in enumerate(det_k)
        ]
    )
    return {"map": _mean_defined(ap), "ap_per_class": ap, "classes": classes}
