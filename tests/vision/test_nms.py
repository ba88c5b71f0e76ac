"""NMS against a pure-Python oracle (with ties), its defining properties, soft-NMS, torchvision."""

import math

import numpy as np
import pytest
import torch

from mlcanon.vision import batched_nms, box_iou, nms, soft_nms


def py_iou(a, b):
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - w * h
    return w * h / union if union else math.nan


def py_nms(boxes, scores, thr, labels=None):
    """The textbook loop: best remaining box, drop its overlaps (same class), repeat."""
    labels = [0] * len(scores) if labels is None else labels
    remaining = sorted(range(len(scores)), key=lambda i: -scores[i])  # stable: ties by index
    keep = []
    while remaining:
        i = remaining.pop(0)
        keep.append(i)
        remaining = [
            j for j in remaining if labels[j] != labels[i] or not py_iou(boxes[i], boxes[j]) > thr
        ]
    return keep


def py_soft_nms(boxes, scores, thr, sigma, score_thr, method):
    """Algorithm 1 of Bodla et al.: every box starts in play; rescored boxes under the
    threshold are dropped."""
    scores = list(scores)
    alive = sorted(range(len(scores)), key=lambda i: -scores[i])
    keep, kept = [], []
    while alive:
        m = max(alive, key=lambda i: (scores[i], -alive.index(i)))
        alive.remove(m)
        keep.append(m)
        kept.append(scores[m])
        for i in alive:
            iou = py_iou(boxes[m], boxes[i])
            if method == "gaussian":
                scores[i] *= math.exp(-iou * iou / sigma)
            elif iou >= thr:
                scores[i] *= 1 - iou
        alive = [i for i in alive if scores[i] >= score_thr]
    return keep, kept


def detections(seed: int, n: int = 300, dtype=torch.float32):
    """Clusters of jittered boxes around a few objects, scores with many ties, some duplicates."""
    rng = np.random.default_rng(seed)
    centers = rng.uniform(20, 180, (12, 2))
    c = centers[rng.integers(0, 12, n)] + rng.normal(0, 6, (n, 2))
    wh = rng.uniform(8, 40, (n, 2))
    b = np.hstack([c - wh / 2, c + wh / 2])
    b[-10:] = b[:10]  # exact duplicates
    scores = np.round(rng.uniform(0, 1, n), 1)  # ten distinct values: ties everywhere
    labels = rng.integers(0, 3, n)
    return torch.tensor(b, dtype=dtype), torch.tensor(scores, dtype=dtype), torch.tensor(labels)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("thr", [0.0, 0.3, 0.5, 0.7])
def test_nms_matches_oracle(seed, thr):
    boxes, scores, _ = detections(seed)
    expected = py_nms(boxes.double().tolist(), scores.double().tolist(), thr)
    assert nms(boxes, scores, thr).tolist() == expected


@pytest.mark.parametrize("seed", range(4))
def test_batched_nms_matches_oracle(seed):
    boxes, scores, labels = detections(seed)
    expected = py_nms(boxes.double().tolist(), scores.double().tolist(), 0.5, labels.tolist())
    assert batched_nms(boxes, scores, labels, 0.5).tolist() == expected


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("dtype", [torch.float16, torch.float32, torch.float64])
def test_batched_nms_takes_float_categories(seed, dtype):
    """torchvision takes idxs of any dtype (it offsets the boxes by ``idxs.to(boxes)``, or runs
    NMS per value of ``torch.unique(idxs)``): float categories group by equal value, fractional
    ones included. It was a TypeError."""
    boxes, scores, labels = detections(seed)
    values = torch.tensor([-1.5, 0.25, 3.0], dtype=dtype)[labels]  # exact in float16
    expected = py_nms(boxes.double().tolist(), scores.double().tolist(), 0.5, values.tolist())
    assert expected == py_nms(
        boxes.double().tolist(), scores.double().tolist(), 0.5, labels.tolist()
    )
    assert batched_nms(boxes, scores, values, 0.5).tolist() == expected
    # two boxes that overlap (IoU 0.81): one category when the float values are equal
    two = torch.tensor([[0.0, 0.0, 10.0, 10.0], [0.0, 0.0, 10.0, 8.1]])
    s = torch.tensor([0.9, 0.8])
    assert batched_nms(two, s, torch.tensor([2.0, 2.0], dtype=dtype), 0.5).tolist() == [0]
    assert batched_nms(two, s, torch.tensor([2.0, 2.5], dtype=dtype), 0.5).tolist() == [0, 1]


@pytest.mark.parametrize("seed", range(4))
def test_nms_properties(seed):
    boxes, scores, labels = detections(seed, 400, torch.float64)
    thr = 0.4
    keep = batched_nms(boxes, scores, labels, thr)
    kept_scores = scores[keep]
    assert (kept_scores[:-1] >= kept_scores[1:]).all()  # sorted by score
    iou = box_iou(boxes, boxes)
    same = labels[:, None] == labels[None, :]
    k = keep.tolist()
    block = (iou[k][:, k] > thr) & same[k][:, k]
    assert not block.fill_diagonal_(False).any()  # no two kept boxes of a class overlap
    suppressed = sorted(set(range(len(boxes))) - set(k))
    for j in suppressed:  # each was removed by a kept box of its class scoring at least as much
        culprits = [i for i in k if same[i, j] and iou[i, j] > thr and scores[i] >= scores[j]]
        assert culprits, j
    # boxes of different classes never suppress each other
    per_class = sorted(
        i
        for c in range(3)
        for i in (labels == c)
        .nonzero()[:, 0][nms(boxes[labels == c], scores[labels == c], thr)]
        .tolist()
    )
    assert sorted(k) == per_class


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("method", ["linear", "gaussian"])
def test_soft_nms_matches_oracle(seed, method):
    boxes, scores, _ = detections(seed, 150, torch.float64)
    keep, kept = soft_nms(boxes, scores, 0.3, sigma=0.5, score_threshold=0.05, method=method)
    k, s = py_soft_nms(boxes.tolist(), scores.tolist(), 0.3, 0.5, 0.05, method)
    assert keep.tolist() == k
    np.testing.assert_allclose(kept.numpy(), s, rtol=1e-12)
    assert (kept[:-1] >= kept[1:]).all()  # decay only lowers scores: selection is monotone


def swap_soft_nms(boxes, scores, thr, sigma, min_score, method):
    """The loop of the authors' cpu_soft_nms and mmcv's softnms_cpu (offset 0), on lists: the
    best of positions i.. is swapped to i and kept; each later box is rescored and, under
    min_score, swapped with the last one and dropped. Returns kept indices and scores."""
    b, sc, ind = [list(x) for x in boxes], list(scores), list(range(len(scores)))
    n, i = len(sc), 0
    while i < n:
        m = max(range(i, n), key=lambda p: (sc[p], -p))  # first maximum
        for arr in (b, sc, ind):
            arr[i], arr[m] = arr[m], arr[i]
        pos = i + 1
        while pos < n:
            iou = py_iou(b[i], b[pos])
            if method == "gaussian":
                sc[pos] *= math.exp(-iou * iou / sigma)
            elif iou >= thr:
                sc[pos] *= 1 - iou
            if sc[pos] < min_score:
                for arr in (b, sc, ind):
                    arr[pos] = arr[n - 1]
                n -= 1
                pos -= 1
            pos += 1
        i += 1
    return ind[:n], sc[:n]


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("method", ["linear", "gaussian"])
def test_soft_nms_keeps_its_first_box_under_the_threshold_as_the_authors_code(seed, method):
    """Scores that start under score_threshold were dropped before the first round: with every
    score under it, nothing was returned, where the authors' and mmcv's loop keep the best box
    (a box is dropped only once rescored)."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 60, (12, 2))
    boxes = torch.tensor(np.hstack([xy, xy + rng.uniform(10, 40, (12, 2))]))
    scale = [1.0, 0.05, 0.01][seed % 3]  # some, most or all of the scores under 0.02
    scores = torch.tensor(rng.permutation(np.linspace(0.001, 1, 12)) * scale)
    keep, kept = soft_nms(boxes, scores, 0.3, sigma=0.5, score_threshold=0.02, method=method)
    k, s = swap_soft_nms(boxes.tolist(), scores.tolist(), 0.3, 0.5, 0.02, method)
    assert keep.tolist() == k
    np.testing.assert_allclose(kept.numpy(), s, rtol=1e-12)
    one = soft_nms(boxes[:1], torch.tensor([1e-4], dtype=torch.float64), score_threshold=0.02)
    assert one[0].tolist() == [0] and one[1].tolist() == [1e-4]


def test_soft_nms_hand_case():
    boxes = torch.tensor([[0, 0, 10, 10], [0, 0, 10, 5], [20, 20, 30, 30.0]])
    scores = torch.tensor([0.9, 0.8, 0.7])
    keep, kept = soft_nms(boxes, scores, iou_threshold=0.3, method="linear")
    assert keep.tolist() == [0, 2, 1]  # box 1 (IoU 0.5 with box 0) decays to 0.8 * 0.5
    torch.testing.assert_close(kept, torch.tensor([0.9, 0.7, 0.4]))
    keep, kept = soft_nms(boxes, scores, sigma=0.5)
    assert kept[2].item() == pytest.approx(0.8 * math.exp(-0.25 / 0.5), rel=1e-6)
    assert nms(boxes, scores, 0.3).tolist() == [0, 2]


def test_edge_cases():
    empty = torch.zeros(0, 4)
    assert nms(empty, torch.zeros(0), 0.5).dtype == torch.int64
    assert nms(empty, torch.zeros(0), 0.5).numel() == 0
    # two empty boxes: IoU is 0/0, which never exceeds the threshold (as torchvision)
    point = torch.tensor([[1.0, 1, 1, 1], [1, 1, 1, 1]])
    assert nms(point, torch.tensor([0.5, 0.5]), 0.5).tolist() == [0, 1]
    assert nms(point.int(), torch.tensor([0.5, 0.6]), 0.5).tolist() == [1, 0]


def test_errors():
    b = torch.rand(3, 4).cumsum(1)
    with pytest.raises(ValueError, match=r"scores must have shape \(N,\) with N = 3"):
        nms(b, torch.rand(4), 0.5)
    with pytest.raises(ValueError, match=r"scores must be finite, got \[nan\]"):
        nms(b, torch.tensor([0.1, float("nan"), 0.3]), 0.5)
    with pytest.raises(TypeError, match="iou_threshold must be Real"):
        nms(b, torch.rand(3), "0.5")
    with pytest.raises(TypeError, match="idxs must be an integer or float tensor"):
        batched_nms(b, torch.rand(3), torch.zeros(3, dtype=torch.complex64), 0.5)
    with pytest.raises(ValueError, match=r"idxs must be finite category values, got \[nan\]"):
        batched_nms(b, torch.rand(3), torch.tensor([0.0, float("nan"), 1.0]), 0.5)
    with pytest.raises(ValueError, match=r"idxs must be a Tensor of shape \(3,\)"):
        batched_nms(b, torch.rand(3), torch.zeros(2, dtype=torch.int64), 0.5)
    with pytest.raises(ValueError, match="method must be one of 'gaussian', 'linear'"):
        soft_nms(b, torch.rand(3), method="hard")
    with pytest.raises(ValueError, match="sigma must be > 0"):
        soft_nms(b, torch.rand(3), sigma=0.0)


@pytest.mark.parametrize("seed", range(3))
def test_against_torchvision(seed):
    ops = pytest.importorskip("torchvision.ops")  # torchvision is optional
    boxes, scores, labels = detections(seed, 500)
    # float32 inputs: torchvision computes IoU in float32 and we in float64, so an IoU within
    # one rounding of the threshold could differ; random data puts none there
    assert nms(boxes, scores, 0.5).tolist() == ops.nms(boxes, scores, 0.5).tolist()
    expected = ops.batched_nms(boxes, scores, labels, 0.5).tolist()
    assert batched_nms(boxes, scores, labels, 0.5).tolist() == expected
