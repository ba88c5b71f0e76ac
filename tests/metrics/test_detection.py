"""Detection metrics: COCO mAP/mAR against pycocotools' COCOeval, PASCAL VOC AP against its
definition written out with loops, hand cases and error paths."""

import contextlib
import io

import numpy as np
import pytest
import torch

from mlcanon.metrics import (
    interpolated_average_precision,
    mean_average_precision,
    voc_average_precision,
)
from mlcanon.metrics._detection import _coco_arrays

KEYS = [  # COCOeval.stats, in order
    "map",
    "map_50",
    "map_75",
    "map_small",
    "map_medium",
    "map_large",
    "mar_1",
    "mar_10",
    "mar_100",
    "mar_small",
    "mar_medium",
    "mar_large",
]
# Sums of the same float64 numbers in possibly another order: far below the 1e-6 asked for
TOL = 1e-12


# ------------------------------------------------------------------------------------------
# the reference: pycocotools on the same detections
def _xywh(boxes):
    return _xyxy_to_xywh(boxes)


def _xyxy_to_xywh(boxes):
    b = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    return np.column_stack([b[:, 0], b[:, 1], b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]])


def coco_eval(preds, targets, iou_thrs=None, max_dets=(1, 10, 100), cat_ids=None, fmt="xyxy"):
    """COCOeval on the same detections (image ids 1..n in list order, categories = all labels);
    boxes in ``fmt`` 'xyxy' (converted to COCO's xywh) or 'xywh' (passed as they are)."""

    def _xywh(boxes):
        if fmt == "xywh":
            return np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        return _xyxy_to_xywh(boxes)

    coco = pytest.importorskip("pycocotools.coco")
    cocoeval = pytest.importorskip("pycocotools.cocoeval")
    labels = [np.asarray(d["labels"], dtype=np.int64) for d in [*preds, *targets]]
    classes = sorted(set(np.concatenate([*labels, np.zeros(0, np.int64)]).tolist()))
    images = [{"id": i + 1} for i in range(len(targets))]
    cats = [{"id": c} for c in classes]
    anns = []
    for i, t in enumerate(targets):
        xywh, labels = _xywh(t["boxes"]), np.asarray(t["labels"]).tolist()
        crowd = np.asarray(t.get("iscrowd", np.zeros(len(labels))), dtype=int).tolist()
        areas = np.asarray(t.get("area", xywh[:, 2] * xywh[:, 3]), dtype=np.float64).tolist()
        for box, lab, c, area in zip(xywh, labels, crowd, areas, strict=True):
            anns.append(
                {
                    "id": len(anns) + 1,
                    "image_id": i + 1,
                    "category_id": lab,
                    "bbox": box.tolist(),
                    "area": area,
                    "iscrowd": c,
                }
            )
    results = [
        {"image_id": i + 1, "category_id": lab, "bbox": box.tolist(), "score": s}
        for i, p in enumerate(preds)
        for box, s, lab in zip(
            _xywh(p["boxes"]),
            np.asarray(p["scores"]).tolist(),
            np.asarray(p["labels"]).tolist(),
            strict=True,
        )
    ]
    with contextlib.redirect_stdout(io.StringIO()):
        gt = coco.COCO()
        gt.dataset = {"images": images, "categories": cats, "annotations": anns}
        gt.createIndex()
        if results:
            dt = gt.loadRes(results)
        else:  # loadRes cannot take an empty list
            dt = coco.COCO()
            dt.dataset = {"images": images, "categories": cats, "annotations": []}
            dt.createIndex()
        ev = cocoeval.COCOeval(gt, dt, "bbox")
        if iou_thrs is not None:
            ev.params.iouThrs = np.asarray(iou_thrs, dtype=np.float64)
        ev.params.maxDets = list(max_dets)
        if cat_ids is not None:
            ev.params.catIds = list(cat_ids)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return ev


def assert_matches_coco(preds, targets):
    ours = mean_average_precision(preds, targets)
    ev = coco_eval(preds, targets)
    got, want = np.array([ours[k] for k in KEYS]), np.asarray(ev.stats)
    np.testing.assert_allclose(got, want, rtol=0, atol=TOL)
    precision, recall, _ = _coco_arrays(
        preds, targets, "xyxy", ev.params.iouThrs, ev.params.recThrs, (1, 10, 100)
    )
    np.testing.assert_allclose(precision, ev.eval["precision"], rtol=0, atol=TOL)
    np.testing.assert_allclose(recall, ev.eval["recall"], rtol=0, atol=TOL)
    return ours


# ------------------------------------------------------------------------------------------
# data
def random_images(seed, n_images=25, n_classes=4):
    """Uniform boxes of all sizes, random labels and scores rounded to 0.1 (many ties); some
    images without ground truth, some without detections; class 3 never detected, class 4
    never present."""
    rng = np.random.default_rng(seed)
    preds, targets = [], []
    for i in range(n_images):
        n_gt = 0 if i % 5 == 0 else rng.integers(1, 7)
        n_det = 0 if i % 7 == 1 else rng.integers(0, 12)
        xy = rng.uniform(0, 300, (n_gt + n_det, 2))
        wh = np.exp(rng.uniform(np.log(3), np.log(200), (n_gt + n_det, 2)))
        boxes = np.hstack([xy, xy + wh])
        targets.append({"boxes": boxes[:n_gt], "labels": rng.integers(0, n_classes, n_gt)})
        det_labels = rng.integers(0, n_classes - 1, n_det)  # never the last class ...
        det_labels[det_labels == 2] = rng.choice([2, n_classes], size=(det_labels == 2).sum())
        # ... and sometimes a class with no ground truth anywhere
        preds.append(
            {
                "boxes": boxes[n_gt:],
                "scores": np.round(rng.uniform(0, 1, n_det), 1),
                "labels": det_labels,
            }
        )
    return preds, targets


def detector_like(seed, n_images=30, crowded=()):
    """What a detector outputs: every object found several times with jitter (one good box,
    duplicates, loose boxes), confident class confusions, low-score background boxes; objects
    small, medium and large; integer-rounded scores so that ties happen; images in ``crowded``
    get more than 100 detections of one class."""
    rng = np.random.default_rng(seed)
    preds, targets = [], []
    for i in range(n_images):
        n = rng.integers(0, 8)
        side = rng.choice([rng.uniform(8, 31), rng.uniform(33, 95), rng.uniform(97, 250)], n)
        cxy = rng.uniform(0, 400, (n, 2))
        wh = side[:, None] * rng.uniform(0.6, 1.4, (n, 2))
        gt = np.hstack([cxy - wh / 2, cxy + wh / 2])
        labels = rng.integers(0, 3, n)
        targets.append({"boxes": gt, "labels": labels})
        boxes, scores, det_labels = [], [], []
        for box, lab, s in zip(gt, labels, side, strict=True):
            for j in range(rng.integers(1, 5)):
                jitter = rng.normal(0, (0.04 + 0.1 * j) * s, 4)
                b = box + jitter
                b[2:] = np.maximum(b[2:], b[:2] + 1)
                boxes.append(b)
                scores.append(np.clip(0.95 - 0.2 * j + rng.normal(0, 0.1), 0.01, 1))
                det_labels.append(lab if rng.uniform() > 0.1 else (lab + 1) % 3)
        n_bg = 150 if i in crowded else rng.integers(0, 10)
        xy = rng.uniform(0, 400, (n_bg, 2))
        bg = np.hstack([xy, xy + rng.uniform(5, 120, (n_bg, 2))])
        boxes += list(bg)
        scores += list(rng.uniform(0.01, 0.5, n_bg))
        det_labels += [0] * n_bg if i in crowded else list(rng.integers(0, 3, n_bg))
        preds.append(
            {
                "boxes": np.array(boxes).reshape(-1, 4),
                "scores": np.round(np.array(scores), 2),
                "labels": np.array(det_labels, dtype=np.int64),
            }
        )
    return preds, targets


# ------------------------------------------------------------------------------------------
# COCO
@pytest.mark.parametrize("seed", range(6))
def test_random_detections_match_cocoeval(seed):
    preds, targets = random_images(seed)
    ours = assert_matches_coco(preds, targets)
    assert all(-1 <= ours[k] <= 1 for k in KEYS)


@pytest.mark.parametrize("seed", range(3))
def test_crowd_regions_match_cocoeval(seed):
    """About a third of the ground truths are crowd regions, with detections inside them: COCO
    measures their overlap by the detection's area, lets many detections match one region and
    ignores those that do (they were refused before)."""
    preds, targets = detector_like(seed, n_images=12)
    rng = np.random.default_rng(seed)
    for p, t in zip(preds, targets, strict=True):
        t["iscrowd"] = (rng.uniform(size=len(t["labels"])) < 0.35).astype(int)
        inside = t["boxes"][rng.integers(0, len(t["boxes"]), 3)] if len(t["boxes"]) else []
        if len(inside):  # small detections within ground truths (crowd or not)
            c = (inside[:, :2] + inside[:, 2:]) / 2
            inside = np.hstack([c - 2, c + 2])
            p["boxes"] = np.vstack([p["boxes"], inside])
            p["scores"] = np.append(p["scores"], [0.95, 0.6, 0.6])
            p["labels"] = np.append(p["labels"], t["labels"][:1].repeat(3))
    assert sum(t["iscrowd"].sum() for t in targets) >= 5
    ours = assert_matches_coco(preds, targets)
    plain = mean_average_precision(preds, [{**t, "iscrowd": 0 * t["iscrowd"]} for t in targets])
    assert ours["map"] != plain["map"]


@pytest.mark.parametrize("seed", range(2))
def test_given_areas_match_cocoeval(seed):
    """COCO places a ground truth in the small/medium/large ranges by its annotation's area (a
    segment's, below its box's), not by its box: targets' ``area`` was silently ignored."""
    preds, targets = detector_like(seed, n_images=12)
    rng = np.random.default_rng(seed)
    for t in targets:
        wh = np.asarray(t["boxes"])[:, 2:] - np.asarray(t["boxes"])[:, :2]
        t["area"] = wh.prod(axis=1) * rng.uniform(0.2, 1.0, len(wh))
    ours = assert_matches_coco(preds, targets)
    boxes_only = mean_average_precision(preds, [{**t, "area": None} for t in targets])
    assert ours["map_medium"] != boxes_only["map_medium"]


@pytest.mark.parametrize("seed", range(4))
def test_detector_output_matches_cocoeval(seed):
    preds, targets = detector_like(seed, crowded=(3,))
    assert max(len(p["labels"]) for p in preds) > 100  # the max-detections limit is exercised
    ours = assert_matches_coco(preds, targets)
    assert ours["map_50"] > 0.3  # not a degenerate case: most objects are found


def test_area_boundaries_and_iou_exactly_at_a_threshold():
    """Areas of exactly 32^2 and 96^2 (COCO's ranges include both ends) and IoU = 0.5 exactly
    (a match at the 0.5 threshold)."""
    gt = np.array([[0, 0, 32, 32], [100, 100, 196, 196], [300, 0, 310, 10], [0, 300, 10, 310]])
    det = np.array([[0, 0, 32, 32], [100, 100, 196, 196], [300, 0, 310, 5], [0, 300, 10, 309]])
    preds = [{"boxes": det, "scores": [0.9, 0.8, 0.7, 0.7], "labels": [0, 0, 0, 0]}]
    targets = [{"boxes": gt, "labels": [0, 0, 0, 0]}]
    ours = assert_matches_coco(preds, targets)
    assert ours["map_50"] == pytest.approx(1.0)  # the box of IoU 0.5 counts


def test_edge_cases_match_cocoeval():
    box = [[10.0, 10, 50, 60]]
    empty = {"boxes": np.zeros((0, 4)), "labels": np.zeros(0, np.int64)}
    no_dets = {"boxes": np.zeros((0, 4)), "scores": np.zeros(0), "labels": np.zeros(0, np.int64)}
    one_det = {"boxes": box, "scores": [0.5], "labels": [1]}
    cases = [
        ([no_dets], [{"boxes": box, "labels": [1]}]),  # nothing detected: AP 0, not -1
        ([one_det], [empty]),  # nothing to detect: -1 everywhere
        ([one_det, no_dets], [{"boxes": box, "labels": [1]}, empty]),
        ([one_det], [{"boxes": box, "labels": [2]}]),  # right box, wrong class
    ]
    for preds, targets in cases:
        assert_matches_coco(preds, targets)
    assert mean_average_precision([one_det], [empty])["map"] == -1
    assert mean_average_precision([], [])["map"] == -1


def test_tied_scores_within_and_across_images():
    """Equal scores: COCO ranks them in image order, then input order (a stable sort)."""
    gt = {"boxes": [[0.0, 0, 10, 10], [20, 20, 30, 30]], "labels": [0, 0]}
    miss = [[50.0, 50, 60, 60]]
    preds = [
        {"boxes": [*miss, [0.0, 0, 10, 10]], "scores": [0.5, 0.5], "labels": [0, 0]},
        {"boxes": [[20.0, 20, 30, 30], *miss], "scores": [0.5, 0.5], "labels": [0, 0]},
    ]
    assert_matches_coco(preds, [gt, gt])


@pytest.mark.parametrize(("seed", "as_array"), [(0, True), (1, False), (2, False)])
def test_custom_thresholds_match_cocoeval(seed, as_array):
    preds, targets = detector_like(seed, n_images=12, crowded=(2,))
    thrs, max_dets = [0.3, 0.5, 0.6, 0.75, 0.9], (1, 5, 20)
    ev = coco_eval(preds, targets, iou_thrs=thrs, max_dets=max_dets)
    ours = mean_average_precision(  # the limits also as a NumPy array of NumPy integers
        preds,
        targets,
        iou_thresholds=thrs,
        max_detection_thresholds=np.array(max_dets) if as_array else max_dets,
    )
    # COCOeval.summarize hard-codes 100 detections: take its arrays at the last limit
    p, r = ev.eval["precision"], ev.eval["recall"]

    def mean(x):
        return x[x > -1].mean() if (x > -1).any() else -1

    assert ours["map"] == pytest.approx(mean(p[..., 0, -1]), abs=TOL)
    assert ours["map_50"] == pytest.approx(mean(p[1, ..., 0, -1]), abs=TOL)
    assert ours["map_75"] == pytest.approx(mean(p[3, ..., 0, -1]), abs=TOL)
    assert ours["map_small"] == pytest.approx(mean(p[..., 1, -1]), abs=TOL)
    for m, mi in zip(max_dets, range(3), strict=True):
        assert ours[f"mar_{m}"] == pytest.approx(mean(r[..., 0, mi]), abs=TOL)
    assert ours["mar_large"] == pytest.approx(mean(r[..., 3, -1]), abs=TOL)
    no_half = mean_average_precision(preds, targets, iou_thresholds=[0.6, 0.7])
    assert no_half["map_50"] == no_half["map_75"] == -1


def test_per_class_metrics_match_cocoeval():
    preds, targets = random_images(7)
    ours = mean_average_precision(preds, targets, class_metrics=True)
    assert ours["classes"].tolist() == [0, 1, 2, 3, 4]
    for c, ap, ar in zip(
        ours["classes"], ours["map_per_class"], ours["mar_100_per_class"], strict=True
    ):
        ev = coco_eval(preds, targets, cat_ids=[int(c)])
        assert ap == pytest.approx(ev.stats[0], abs=TOL)
        assert ar == pytest.approx(ev.stats[8], abs=TOL)
    assert ours["map_per_class"][3] == 0  # present, never detected
    assert ours["map_per_class"][4] == -1  # detected, never present


def test_inputs_tensors_and_box_formats():
    preds, targets = detector_like(0, n_images=6)
    expected = mean_average_precision(preds, targets)
    as_tensors = [{k: torch.as_tensor(v) for k, v in d.items()} for d in preds]
    assert mean_average_precision(as_tensors, targets) == expected
    for fmt, convert in [
        ("xywh", _xywh),
        ("cxcywh", lambda b: np.column_stack([(b[:, :2] + b[:, 2:]) / 2, b[:, 2:] - b[:, :2]])),
    ]:
        p = [{**d, "boxes": convert(np.asarray(d["boxes"]))} for d in preds]
        t = [{**d, "boxes": convert(np.asarray(d["boxes"]))} for d in targets]
        got = mean_average_precision(p, t, box_format=fmt)
        for k in KEYS:
            assert got[k] == pytest.approx(expected[k], abs=1e-9), (fmt, k)


def test_xywh_boxes_match_cocoeval_on_the_same_boxes():
    """COCO's own format: pycocotools takes the areas as w * h and intersects at x + w. They
    were computed from the xyxy corners, (x + w) - x, which for 0.3 + 32 is 31.999999999999996:
    a 32 x 32 box at x = 0.3 fell out of the medium range (map_medium -1 instead of 1), and
    IoUs that sit on a threshold (a detection half as wide as its object: IoU 0.5) came out on
    the other side of it in a third of the cases (AP 0 instead of 1, or 1 instead of 0)."""
    rng = np.random.default_rng(0)
    preds, targets = [], []
    for _ in range(40):
        xy = np.round(rng.uniform(0, 600, (3, 2)), 1)
        wh = np.round(rng.uniform(1, 60, (3, 2)), 1)
        wh[0] = 32.0 if rng.uniform() < 0.5 else 96.0  # on an area-range end
        gt = np.hstack([xy, wh])
        half = gt * [1, 1, 0.5, 1]  # IoU 0.5 with its object, in exact arithmetic
        targets.append({"boxes": gt, "labels": [1, 1, 2]})
        scores = np.round(rng.uniform(0, 1, 6), 2)
        preds.append({"boxes": np.vstack([gt[:1], half]), "scores": scores[:4]})
        preds[-1]["labels"] = [1, 1, 1, 2]
    ours = mean_average_precision(preds, targets, box_format="xywh")
    ev = coco_eval(preds, targets, fmt="xywh")
    np.testing.assert_allclose([ours[k] for k in KEYS], ev.stats, rtol=0, atol=TOL)
    precision, recall, _ = _coco_arrays(
        preds, targets, "xywh", ev.params.iouThrs, ev.params.recThrs, (1, 10, 100)
    )
    np.testing.assert_allclose(precision, ev.eval["precision"], rtol=0, atol=TOL)
    np.testing.assert_allclose(recall, ev.eval["recall"], rtol=0, atol=TOL)
    one = [{"boxes": [[0.3, 0.0, 32.0, 32.0]], "labels": [0]}]
    got = mean_average_precision([{**one[0], "scores": [0.9]}], one, box_format="xywh")
    assert got["map_medium"] == got["map_small"] == pytest.approx(1.0)  # 32 x 32: both ranges


def test_hand_case():
    """One class, two objects, three detections: TP (0.9), FP (0.8, duplicate), TP (0.7).
    Precision 1, 1/2, 2/3 at recall 1/2, 1/2, 1: the envelope is 1 up to recall 1/2 and 2/3
    after, so AP = (51 * 1 + 50 * 2/3) / 101 at every IoU threshold the boxes pass."""
    gt = [[0.0, 0, 100, 100], [200, 200, 300, 300]]
    det = [[0.0, 0, 100, 100], [0, 0, 100, 100], [200, 200, 300, 300]]
    ours = mean_average_precision(
        [{"boxes": det, "scores": [0.9, 0.8, 0.7], "labels": [0, 0, 0]}],
        [{"boxes": gt, "labels": [0, 0]}],
    )
    assert ours["map"] == pytest.approx((51 + 50 * 2 / 3) / 101, abs=1e-15)
    assert ours["mar_1"] == 0.5 and ours["mar_10"] == 1.0
    assert ours["map_large"] == ours["map"] and ours["map_small"] == -1


def test_errors():
    ok_t = [{"boxes": [[0.0, 0, 1, 1]], "labels": [0]}]
    ok_p = [{"boxes": [[0.0, 0, 1, 1]], "scores": [0.5], "labels": [0]}]
    with pytest.raises(
        ValueError, match=r"preds\[0\]\['boxes'\]\[0\] = \[1\.0, 0\.0, 0\.0, 1\.0\]"
    ):
        mean_average_precision([{**ok_p[0], "boxes": [[1.0, 0, 0, 1]]}], ok_t)
    with pytest.raises(ValueError, match=r"targets\[0\]\['boxes'\]\[0\] .* non-finite"):
        mean_average_precision(ok_p, [{**ok_t[0], "boxes": [[0.0, 0, np.nan, 1]]}])
    with pytest.raises(ValueError, match=r"preds\[0\] must be a dict with keys .*'scores'"):
        mean_average_precision([{"boxes": [[0.0, 0, 1, 1]], "labels": [0]}], ok_t)
    with pytest.raises(ValueError, match="one dict per image each, got 1 and 2"):
        mean_average_precision(ok_p, ok_t * 2)
    with pytest.raises(ValueError, match=r"preds\[0\]\['scores'\] has 2 entries for 1 boxes"):
        mean_average_precision([{**ok_p[0], "scores": [0.1, 0.2]}], ok_t)
    with pytest.raises(ValueError, match=r"preds\[0\]\['scores'\] contains NaN"):
        mean_average_precision([{**ok_p[0], "scores": [np.nan]}], ok_t)
    with pytest.raises(TypeError, match=r"targets\[0\]\['labels'\] must hold integers"):
        mean_average_precision(ok_p, [{**ok_t[0], "labels": [0.5]}])
    with pytest.raises(ValueError, match=r"targets\[0\]\['iscrowd'\] must hold 1 flags 0/1"):
        mean_average_precision(ok_p, [{**ok_t[0], "iscrowd": [2]}])
    with pytest.raises(ValueError, match=r"targets\[0\]\['area'\] must hold 1 areas >= 0"):
        mean_average_precision(ok_p, [{**ok_t[0], "area": [-1.0]}])
    with pytest.raises(ValueError, match="VOC has no crowd annotations"):
        voc_average_precision(ok_p, [{**ok_t[0], "iscrowd": [1]}])
    with pytest.raises(ValueError, match=r"iou_thresholds must lie in \[0, 1\]"):
        mean_average_precision(ok_p, ok_t, iou_thresholds=[0.5, 1.5])
    with pytest.raises(ValueError, match="max_detection_thresholds must be increasing integers"):
        mean_average_precision(ok_p, ok_t, max_detection_thresholds=(10, 1))
    with pytest.raises(ValueError, match="box_format must be one of"):
        mean_average_precision(ok_p, ok_t, box_format="yxyx")
    with pytest.raises(TypeError, match="preds must be a list with one dict per image"):
        mean_average_precision(ok_p[0], ok_t)


# ------------------------------------------------------------------------------------------
# PASCAL VOC: the definitions written out with loops
def voc_ap_by_definition(scores, is_tp, n_gt):
    """For each detection in score order: recall step times the best precision reached at
    that recall or later."""
    ranked = sorted(range(len(scores)), key=lambda i: -scores[i])  # stable: ties by index
    points, hits = [], 0
    for k, i in enumerate(ranked, start=1):
        hits += bool(is_tp[i])
        points.append((hits / n_gt, hits / k))
    ap, prev = 0.0, 0.0
    for j, (r, _) in enumerate(points):
        ap += (r - prev) * max(p for _, p in points[j:])
        prev = r
    return ap


def plain_iou(a, b):
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    area = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1])
    return w * h / (area - w * h)


def voc_by_definition(preds, targets, thr):
    """Per class: every detection over all images by decreasing score; TP if the ground truth
    of highest IoU in its image (the first on a tie) reaches ``thr`` and is still free; left
    out if that ground truth is difficult (which counts in no recall either)."""
    classes = sorted({int(c) for d in [*preds, *targets] for c in np.asarray(d["labels"]).tolist()})
    aps = []
    for c in classes:
        taken, scores, hits, n_gt = set(), [], [], 0
        dets = []
        for i, (p, t) in enumerate(zip(preds, targets, strict=True)):
            hard = np.asarray(t.get("difficult", np.zeros(len(t["labels"]))), dtype=bool)
            n_gt += int(((np.asarray(t["labels"]) == c) & ~hard).sum())
            for box, s, lab in zip(p["boxes"], p["scores"], p["labels"], strict=True):
                if lab == c:
                    dets.append((i, list(box), float(s)))
        for i, box, s in sorted(dets, key=lambda d: -d[2]):
            gts = [
                (j, list(g))
                for j, (g, lab) in enumerate(
                    zip(targets[i]["boxes"], targets[i]["labels"], strict=True)
                )
                if lab == c
            ]
            best, best_j = -1.0, None
            for j, g in gts:
                if plain_iou(box, g) > best:
                    best, best_j = plain_iou(box, g), j
            hard = np.asarray(
                targets[i].get("difficult", np.zeros(len(targets[i]["labels"]))), bool
            )
            if best_j is not None and best >= thr and hard[best_j]:
                continue  # a difficult object: neither true nor false positive
            hit = best_j is not None and best >= thr and (i, best_j) not in taken
            if hit:
                taken.add((i, best_j))
            scores.append(s)
            hits.append(hit)
        aps.append(voc_ap_by_definition(scores, hits, n_gt) if n_gt else -1.0)
    return classes, aps


def test_interpolated_ap_hand_case_and_definition():
    # TP, FP, TP, FP with 3 ground truths: 1/3 * 1 + 1/3 * 2/3
    assert interpolated_average_precision([0.9, 0.8, 0.7, 0.6], [1, 0, 1, 0], 3) == pytest.approx(
        5 / 9, abs=1e-15
    )
    rng = np.random.default_rng(0)
    for _ in range(20):
        n = rng.integers(1, 40)
        scores = np.round(rng.uniform(0, 1, n), 1)
        hits = rng.uniform(size=n) < 0.5
        n_gt = int(hits.sum()) + int(rng.integers(0, 5)) or 1
        want = voc_ap_by_definition(scores.tolist(), hits.tolist(), n_gt)
        got = interpolated_average_precision(scores, hits, n_gt)
        assert got == pytest.approx(want, abs=1e-14)
    assert interpolated_average_precision([], [], 0) == -1


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("thr", [0.5, 0.75])
def test_voc_matches_definition(seed, thr):
    preds, targets = detector_like(seed, n_images=10)
    ours = voc_average_precision(preds, targets, iou_threshold=thr)
    classes, aps = voc_by_definition(preds, targets, thr)
    assert ours["classes"].tolist() == classes
    np.testing.assert_allclose(ours["ap_per_class"], aps, rtol=0, atol=1e-12)
    assert ours["map"] == pytest.approx(np.mean([a for a in aps if a > -1]), abs=1e-12)


@pytest.mark.parametrize("seed", range(3))
def test_voc_difficult_objects_match_definition(seed):
    """The devkit's 'difficult' flag: such objects are out of the recall and detections whose
    best ground truth is one are ignored (the flag was silently ignored)."""
    preds, targets = detector_like(seed, n_images=10)
    rng = np.random.default_rng(seed)
    for t in targets:
        t["difficult"] = (rng.uniform(size=len(t["labels"])) < 0.3).astype(int)
    assert sum(t["difficult"].sum() for t in targets) >= 3
    ours = voc_average_precision(preds, targets)
    classes, aps = voc_by_definition(preds, targets, 0.5)
    assert ours["classes"].tolist() == classes
    np.testing.assert_allclose(ours["ap_per_class"], aps, rtol=0, atol=1e-12)
    easy = voc_average_precision(preds, [{**t, "difficult": None} for t in targets])
    assert not np.allclose(easy["ap_per_class"], ours["ap_per_class"])


def test_voc_differs_from_coco_matching():
    """A duplicate whose best ground truth is taken: a false positive for VOC even though a
    second ground truth overlaps it with IoU 0.6; COCO gives it that second one."""
    gt = [[0.0, 0, 10, 10], [4, 0, 14, 10]]  # IoU 0.43 between them
    det = [[0.0, 0, 10, 10], [1, 0, 11, 10]]  # the second: IoU 0.82 and 0.54
    preds = [{"boxes": det, "scores": [0.9, 0.8], "labels": [0, 0]}]
    targets = [{"boxes": gt, "labels": [0, 0]}]
    assert voc_average_precision(preds, targets)["map"] == pytest.approx(0.5)
    assert mean_average_precision(preds, targets)["map_50"] == pytest.approx(1.0)


def test_voc_errors():
    with pytest.raises(ValueError, match="n_gt must be an integer >= the number of true positives"):
        interpolated_average_precision([0.5, 0.4], [1, 1], 1)
    with pytest.raises(ValueError, match="is_tp must hold 2 booleans"):
        interpolated_average_precision([0.5, 0.4], [1, 2], 3)
    with pytest.raises(ValueError, match="iou_threshold must be <= 1"):
        voc_average_precision([], [], iou_threshold=2)


# ------------------------------------------------------------------------------------------
# inputs that used to be refused or to crash
def test_empty_lists_bfloat16_and_reversed_views_match_cocoeval():
    box = np.array([[10.0, 10, 50, 60], [0, 0, 5, 5]])
    targets = [{"boxes": box, "labels": [1, 1]}, {"boxes": box[:1], "labels": [2]}]
    # an image without detections given as empty lists (NumPy reads [] as float64)
    preds = [{"boxes": [], "scores": [], "labels": []}, {"boxes": box, "scores": [0.9, 0.4]}]
    preds[1]["labels"] = [2, 1]
    assert_matches_coco(preds, targets)
    # a reversed view (negative strides) and bfloat16 tensors (NumPy has no bfloat16)
    flipped = {"boxes": box[::-1], "scores": np.array([0.9, 0.4])[::-1], "labels": [1, 2]}
    want = assert_matches_coco([flipped, preds[0]], targets)
    bf16 = {k: torch.as_tensor(np.ascontiguousarray(v)) for k, v in flipped.items()}
    bf16["boxes"], bf16["scores"] = bf16["boxes"].bfloat16(), bf16["scores"].bfloat16()
    got = mean_average_precision([bf16, preds[0]], targets)  # these values are exact in bf16
    assert [got[k] for k in KEYS] == [want[k] for k in KEYS]


def test_unreadable_inputs_are_named():
    box = [[0.0, 0, 1, 1]]
    ok = [{"boxes": box, "scores": [0.5], "labels": [0]}]
    for bad, words in (
        ([["a", "b", "c", "d"]], "must hold numbers"),
        ([[None, 1, 2, 3]], "must be a numeric or string array, got dtype=object"),
        ([[0, 1, 2], [0, 1, 2, 3]], "must be array-like of numbers"),
    ):
        with pytest.raises(TypeError, match=rf"preds\[0\]\['boxes'\] {words}"):
            mean_average_precision([{**ok[0], "boxes": bad}], ok)
    with pytest.raises(ValueError, match=r"preds\[0\]\['scores'\] must hold values, got a tensor"):
        mean_average_precision([{**ok[0], "scores": torch.ones(1, device="meta")}], ok)
    with pytest.raises(ValueError, match="max_detection_thresholds must be increasing integers"):
        mean_average_precision(ok, ok, max_detection_thresholds=100)
    with pytest.raises(TypeError, match="class_metrics must be bool, got str"):
        mean_average_precision(ok, ok, class_metrics="yes")
    with pytest.raises(ValueError, match=r"n_gt must be an integer .* got True"):
        interpolated_average_precision([0.5], [1], True)


def test_voc_at_threshold_zero_needs_an_overlap():
    """The VOC devkit (VOCevaldet.m) computes IoU only for ground truths that intersect the
    detection (iw > 0 and ih > 0), so a disjoint detection is a false positive even at a
    threshold of 0: here FP then TP, AP = 1 (recall) x 1/2 (precision at it)."""
    gt = [{"boxes": [[0.0, 0, 10, 10]], "labels": [0]}]
    dets = [{"boxes": [[20.0, 20, 30, 30], [0, 0, 10, 10]], "scores": [0.9, 0.8], "labels": [0, 0]}]
    assert voc_average_precision(dets, gt, iou_threshold=0.0)["map"] == pytest.approx(0.5)
    assert voc_average_precision(dets, gt, iou_threshold=1.0)["map"] == pytest.approx(0.5)
