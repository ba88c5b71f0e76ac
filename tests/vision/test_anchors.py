"""Box coder round trips and hand cases, the anchor grid, and k-means anchors with 1 - IoU."""

import math

import numpy as np
import pytest
import torch

from mlcanon.vision import AnchorGenerator, BoxCoder, kmeans_anchors, wh_iou


def random_boxes(rng: np.random.Generator, n: int) -> torch.Tensor:
    xy = rng.uniform(-50, 50, (n, 2))
    wh = rng.uniform(1, 60, (n, 2))
    return torch.tensor(np.hstack([xy, xy + wh]))


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("weights", [(1.0, 1.0, 1.0, 1.0), (10.0, 10.0, 5.0, 5.0)])
def test_encode_decode_round_trip(seed, weights):
    rng = np.random.default_rng(seed)
    gt, anchors = random_boxes(rng, 50), random_boxes(rng, 50)
    coder = BoxCoder(weights)
    codes = coder.encode_single(gt, anchors)
    torch.testing.assert_close(coder.decode_single(codes, anchors), gt, rtol=0, atol=1e-10)


def encode_by_definition(gt, anchors, weights):
    """R-CNN's (t_x, t_y, t_w, t_h), box by box with Python floats."""
    wx, wy, ww, wh = weights
    rows = []
    for (x1, y1, x2, y2), (a1, b1, a2, b2) in zip(gt.tolist(), anchors.tolist(), strict=True):
        w, h, wa, ha = x2 - x1, y2 - y1, a2 - a1, b2 - b1
        tx = ((x1 + x2) / 2 - (a1 + a2) / 2) / wa
        ty = ((y1 + y2) / 2 - (b1 + b2) / 2) / ha
        rows.append([wx * tx, wy * ty, ww * math.log(w / wa), wh * math.log(h / ha)])
    return torch.tensor(rows, dtype=torch.float64)


def decode_by_definition(codes, anchors, weights):
    """The inverse, with t_w and t_h clamped at log(1000 / 16) before exp."""
    wx, wy, ww, wh = weights
    clip = math.log(1000 / 16)
    rows = []
    for (tx, ty, tw, th), (a1, b1, a2, b2) in zip(codes.tolist(), anchors.tolist(), strict=True):
        wa, ha = a2 - a1, b2 - b1
        cx, cy = (a1 + a2) / 2 + tx / wx * wa, (b1 + b2) / 2 + ty / wy * ha
        w, h = wa * math.exp(min(tw / ww, clip)), ha * math.exp(min(th / wh, clip))
        rows.append([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2])
    return torch.tensor(rows, dtype=torch.float64)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("weights", [(1.0, 1.0, 1.0, 1.0), (10.0, 10.0, 5.0, 5.0)])
def test_coder_matches_the_definition(seed, weights):
    rng = np.random.default_rng(seed)
    gt, anchors = random_boxes(rng, 40), random_boxes(rng, 40)
    coder = BoxCoder(weights)
    expected = encode_by_definition(gt, anchors, weights)
    torch.testing.assert_close(coder.encode_single(gt, anchors), expected, rtol=1e-12, atol=1e-12)
    codes = torch.tensor(rng.normal(0, 3, (40, 4))) * torch.tensor(weights)  # some clamped
    expected = decode_by_definition(codes, anchors, weights)
    torch.testing.assert_close(coder.decode_single(codes, anchors), expected, rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize("as_", [np.array, torch.tensor, list])
def test_coder_takes_weights_as_an_array_or_a_tensor(as_):
    # torchvision's BoxCoder unpacks its weights (wx, wy, ww, wh = self.weights) and as_tensor()s
    # them, so a 1-d array or tensor of 4 numbers works there; ours refused them with "weights
    # must have 4 entries ... got array([10., 10., 5., 5.])"
    weights = (10.0, 10.0, 5.0, 5.0)
    rng = np.random.default_rng(7)
    gt, anchors = random_boxes(rng, 20), random_boxes(rng, 20)
    coder = BoxCoder(as_(weights))
    assert coder.weights == weights
    expected = encode_by_definition(gt, anchors, weights)
    torch.testing.assert_close(coder.encode_single(gt, anchors), expected, rtol=1e-12, atol=1e-12)
    codes = torch.tensor(rng.normal(0, 3, (20, 4)))
    expected = decode_by_definition(codes, anchors, weights)
    torch.testing.assert_close(coder.decode_single(codes, anchors), expected, rtol=1e-12, atol=1e-9)


def test_batched_encode_decode_match_the_definition():
    """torchvision's list API (it was missing): encode splits the offsets per image, decode takes
    per-image anchors and returns (sum N_i, k, 4)."""
    rng = np.random.default_rng(5)
    gts, anchors = (
        [random_boxes(rng, n) for n in (3, 0, 5)],
        [random_boxes(rng, n) for n in (3, 0, 5)],
    )
    coder, weights = BoxCoder((10.0, 10.0, 5.0, 5.0)), (10.0, 10.0, 5.0, 5.0)
    codes = coder.encode(gts, anchors)
    assert [len(c) for c in codes] == [3, 0, 5]
    for c, g, a in zip(codes, gts, anchors, strict=True):
        if len(g):
            torch.testing.assert_close(
                c, encode_by_definition(g, a, weights), rtol=1e-12, atol=1e-12
            )
    flat = torch.cat(codes)
    decoded = coder.decode(flat, anchors)
    assert decoded.shape == (8, 1, 4)
    want = decode_by_definition(flat, torch.cat(anchors), weights)
    torch.testing.assert_close(decoded[:, 0], want, rtol=1e-12, atol=1e-9)
    with pytest.raises(TypeError, match="boxes must be a list of tensors"):
        coder.decode(flat, torch.cat(anchors))
    with pytest.raises(ValueError, match="as many boxes per image"):
        coder.encode(gts, anchors[::-1])


def test_encode_hand_case():
    anchor = torch.tensor([[0.0, 0, 10, 10]])  # centre (5, 5), 10 x 10
    gt = torch.tensor([[5.0, 5, 25, 15]])  # centre (15, 10), 20 x 10
    codes = BoxCoder().encode_single(gt, anchor)
    torch.testing.assert_close(codes, torch.tensor([[1.0, 0.5, math.log(2), 0.0]]))
    codes = BoxCoder((10, 10, 5, 5)).encode_single(gt, anchor)
    torch.testing.assert_close(codes, torch.tensor([[10.0, 5.0, 5 * math.log(2), 0.0]]))


def test_decode_clamps_and_handles_several_classes():
    anchor = torch.tensor([[0.0, 0, 10, 10]])
    coder = BoxCoder()
    codes = torch.tensor([[0.0, 0, 100, -1, 0, 0, 0, 0]])  # two sets of offsets
    out = coder.decode_single(codes, anchor)
    width = 10 * 1000 / 16  # exp(log(1000 / 16)) * anchor width: clamped, not exp(100)
    expected = [5 - width / 2, 5 - 5 / math.e, 5 + width / 2, 5 + 5 / math.e, 0, 0, 10, 10]
    torch.testing.assert_close(out, torch.tensor([expected]))


def test_box_coder_errors():
    with pytest.raises(ValueError, match=r"weights must be 4 numbers .* got \(1, 1\)"):
        BoxCoder((1, 1))
    with pytest.raises(ValueError, match=r"weights must be 4 numbers .* got '1234'"):
        BoxCoder("1234")
    with pytest.raises(ValueError, match=r"weights must be 4 numbers .* got array"):
        BoxCoder(np.ones((2, 2)))
    with pytest.raises(ValueError, match="weights must be > 0"):
        BoxCoder((1, 1, 0, 1))
    with pytest.raises(ValueError, match="reference_boxes and proposals must have the same shape"):
        BoxCoder().encode_single(torch.zeros(2, 4), torch.zeros(3, 4))
    with pytest.raises(ValueError, match=r"rel_codes must have shape \(1, 4k\)"):
        BoxCoder().decode_single(torch.zeros(1, 5), torch.zeros(1, 4))


def test_box_coder_against_torchvision():
    det_utils = pytest.importorskip("torchvision.models.detection._utils")
    rng = np.random.default_rng(0)
    gt, anchors = random_boxes(rng, 40).float(), random_boxes(rng, 40).float()
    ref = det_utils.BoxCoder((10.0, 10.0, 5.0, 5.0))
    ours = BoxCoder((10.0, 10.0, 5.0, 5.0))
    codes = ours.encode_single(gt, anchors)
    torch.testing.assert_close(codes, ref.encode_single(gt, anchors))
    torch.testing.assert_close(
        ours.decode_single(codes, anchors), ref.decode_single(codes, anchors)
    )


def test_cell_anchors_hand_case():
    base = AnchorGenerator(((32,),), ((0.5, 1.0, 2.0),)).cell_anchors[0]
    # ratio 0.5: w = 32 / sqrt(0.5) = 45.25, h = 22.63 -> halves 22.63, 11.31 -> rounded
    expected = [[-23, -11, 23, 11], [-16, -16, 16, 16], [-11, -23, 11, 23]]
    assert base.tolist() == expected


def test_flat_sizes_and_ratios_as_torchvision():
    """torchvision's shorthands: flat sizes are one size per level and flat ratios serve every
    level (they raised a ValueError). Cell anchors written out: w = s / sqrt(r), h = s sqrt(r),
    halves rounded."""
    gen = AnchorGenerator((32, 64), (0.5, 1.0, 2.0))
    assert gen.num_anchors_per_location() == [3, 3]
    assert gen.cell_anchors[0].tolist() == [
        [-23, -11, 23, 11],
        [-16, -16, 16, 16],
        [-11, -23, 11, 23],
    ]
    # size 64: w = 90.51, h = 45.25 for ratio 0.5 -> halves 45.25, 22.63
    assert gen.cell_anchors[1].tolist() == [
        [-45, -23, 45, 23],
        [-32, -32, 32, 32],
        [-23, -45, 23, 45],
    ]
    nested = AnchorGenerator(((32,), (64,)), ((0.5, 1.0, 2.0), (0.5, 1.0, 2.0)))
    torch.testing.assert_close(gen((64, 64), [(8, 8), (4, 4)]), nested((64, 64), [(8, 8), (4, 4)]))


def test_anchor_grid():
    gen = AnchorGenerator(((16, 32), (64,)), ((0.5, 1.0, 2.0),))
    assert gen.num_anchors_per_location() == [6, 3]
    anchors = gen((64, 96), [(8, 12), (4, 6)])  # strides 8 and 16
    assert anchors.shape == (8 * 12 * 6 + 4 * 6 * 3, 4)
    first = anchors[:6]
    torch.testing.assert_close(first, gen.cell_anchors[0])
    # the cell at row 2, column 5 of level 0 is shifted by (5 * 8, 2 * 8)
    cell = anchors[(2 * 12 + 5) * 6 : (2 * 12 + 6) * 6]
    torch.testing.assert_close(cell, gen.cell_anchors[0] + torch.tensor([40.0, 16, 40, 16]))
    w, h = (anchors[:, 2] - anchors[:, 0]), (anchors[:, 3] - anchors[:, 1])
    ratios = torch.tensor([0.5, 0.5, 1, 1, 2, 2] * 96 + [0.5, 1, 2] * 24)
    assert ((h / w - ratios).abs() / ratios < 0.1).all()  # up to the integer rounding


def test_anchor_generator_errors():
    with pytest.raises(ValueError, match="aspect_ratios must have one tuple per level"):
        AnchorGenerator(((32,), (64,), (128,)), ((1.0,), (2.0,)))
    with pytest.raises(ValueError, match="need one grid size and one stride per level"):
        AnchorGenerator(((32,),)).grid_anchors([(2, 2), (1, 1)], [(8, 8), (16, 16)])
    with pytest.raises(ValueError, match="must be > 0"):
        AnchorGenerator(((0,),))


def test_anchor_generator_against_torchvision():
    anchor_utils = pytest.importorskip("torchvision.models.detection.anchor_utils")
    image_list = pytest.importorskip("torchvision.models.detection.image_list")
    sizes, ratios = ((32, 40), (64,)), ((0.5, 1.0, 2.0), (1.0, 3.0))
    ref = anchor_utils.AnchorGenerator(sizes, ratios)
    images = image_list.ImageList(torch.zeros(1, 3, 64, 96), [(64, 96)])
    feats = [torch.zeros(1, 8, 8, 12), torch.zeros(1, 8, 4, 6)]
    expected = ref(images, feats)[0]
    torch.testing.assert_close(
        AnchorGenerator(sizes, ratios)((64, 96), [(8, 12), (4, 6)]), expected
    )


def shape_clusters(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Three families of box shapes (tall small, square medium, wide large)."""
    rng = np.random.default_rng(seed)
    means = np.array([[10.0, 30.0], [60.0, 60.0], [200.0, 80.0]])
    labels = rng.integers(0, 3, 600)
    wh = means[labels] * rng.uniform(0.9, 1.1, (600, 2))
    return wh, means


def py_kmeans(wh: np.ndarray, centers: np.ndarray, max_iter: int = 300):
    """Lloyd's algorithm with 1 - IoU, written plainly (the oracle)."""
    centers = [list(c) for c in centers]
    labels = None
    for _ in range(max_iter):
        new = []
        for w, h in wh:
            ious = [
                min(w, cw) * min(h, ch) / (w * h + cw * ch - min(w, cw) * min(h, ch))
                for cw, ch in centers
            ]
            new.append(int(np.argmax(ious)))
        if new == labels:
            break
        labels = new
        for c in range(len(centers)):
            members = [wh[i] for i in range(len(wh)) if labels[i] == c]
            if members:
                centers[c] = list(np.mean(members, axis=0))
    return np.array(centers), np.array(labels)


@pytest.mark.parametrize("seed", range(3))
def test_kmeans_matches_oracle(seed):
    wh, _ = shape_clusters(seed)
    rng = np.random.default_rng(seed + 10)
    init = wh[rng.choice(len(wh), 5, replace=False)]
    result = kmeans_anchors(wh, 5, init=init)
    centers, labels = py_kmeans(wh, init)
    order = np.argsort(centers[:, 0] * centers[:, 1], kind="stable")
    np.testing.assert_allclose(result.anchors, centers[order], rtol=1e-12)
    np.testing.assert_array_equal(result.anchors[result.labels], centers[labels])


@pytest.mark.parametrize("seed", range(3))
def test_kmeans_recovers_clusters_and_is_a_fixed_point(seed):
    wh, means = shape_clusters(seed)
    result = kmeans_anchors(wh, 3, random_state=seed)
    np.testing.assert_allclose(result.anchors, means, rtol=0.05)  # sorted by area already
    np.testing.assert_array_equal(result.labels, wh_iou(wh, result.anchors).argmax(1))
    for c in range(3):
        np.testing.assert_allclose(result.anchors[c], wh[result.labels == c].mean(0), rtol=1e-12)
    assert 0.8 < result.mean_iou <= 1


@pytest.mark.parametrize("max_iter", [1, 2, 3])
def test_kmeans_stopped_by_max_iter_labels_the_returned_anchors(max_iter):
    """Stopped by ``max_iter``, the anchors had moved after the last assignment and the labels
    were that stale assignment: 28 of 500 boxes (max_iter=1) were labelled with an anchor other
    than their best one. Labels are now each box's anchor of highest IoU among those returned
    (scikit-learn's KMeans also ends with an assignment step); the oracle's anchors are
    unchanged."""
    rng = np.random.default_rng(0)
    wh = np.exp(rng.normal(3, 0.7, (500, 2)))
    init = wh[rng.choice(len(wh), 5, replace=False)]
    result = kmeans_anchors(wh, 5, init=init, max_iter=max_iter)
    assert result.n_iter == max_iter  # not converged yet
    centers, _ = py_kmeans(wh, init, max_iter=max_iter)
    order = np.argsort(centers[:, 0] * centers[:, 1], kind="stable")
    np.testing.assert_allclose(result.anchors, centers[order], rtol=1e-12)
    best = [
        int(
            np.argmax(
                [
                    min(w, cw) * min(h, ch) / (w * h + cw * ch - min(w, cw) * min(h, ch))
                    for cw, ch in result.anchors
                ]
            )
        )
        for w, h in wh
    ]
    np.testing.assert_array_equal(result.labels, best)
    iou = [
        min(w, cw) * min(h, ch) / (w * h + cw * ch - min(w, cw) * min(h, ch))
        for (w, h), (cw, ch) in zip(wh, result.anchors[best], strict=True)
    ]
    assert result.mean_iou == pytest.approx(np.mean(iou), rel=1e-12)


def test_kmeans_errors():
    wh, _ = shape_clusters(0)
    with pytest.raises(ValueError, match="n_samples=600 should be >= n_clusters=601"):
        kmeans_anchors(wh, 601)
    with pytest.raises(ValueError, match="wh must have shape"):
        kmeans_anchors(-wh, 3)
    with pytest.raises(ValueError, match=r"init must have shape \(3, 2\)"):
        kmeans_anchors(wh, 3, init=wh[:2])
    with pytest.raises(ValueError, match="init must be one of 'k-means\\+\\+', 'random'"):
        kmeans_anchors(wh, 3, init="forgy")
    with pytest.raises(TypeError, match="n_clusters must be Integral"):
        kmeans_anchors(wh, 2.0)


@pytest.mark.parametrize("device", ["cpu", "meta"])
def test_anchors_follow_dtype_and_device(device):
    gen = AnchorGenerator(((16, 32), (64,)), ((0.5, 1.0, 2.0),))
    out = gen((64, 96), [(8, 12), (4, 6)], dtype=torch.float64, device=device)
    assert out.device.type == device and out.dtype == torch.float64
    assert out.shape == (8 * 12 * 6 + 4 * 6 * 3, 4)
    levels = gen.grid_anchors(
        [(8, 12), (4, 6)], [(8, 8), (16, 16)], dtype=torch.float64, device=device
    )
    assert all(v.device.type == device and v.dtype == torch.float64 for v in levels)
    base = AnchorGenerator.generate_anchors((32,), (1.0,), torch.float64, device)
    assert base.device.type == device and base.dtype == torch.float64
    if device == "cpu":  # rounded integers: the same values in float32 and float64
        torch.testing.assert_close(out, gen((64, 96), [(8, 12), (4, 6)]).double(), rtol=0, atol=0)


@pytest.mark.parametrize(
    ("dtype", "grid", "stride"),
    [(torch.bfloat16, (300, 600), 3), (torch.float16, (2, 2500), 7), (torch.float32, (9, 5), 5)],
)
def test_half_precision_grid_shifts_are_rounded_once_as_torchvision(dtype, grid, stride):
    """torchvision shifts by ``arange(int32) * stride`` (exact), rounded once to the anchors'
    dtype when added. The shifts were an arange in that dtype times the stride: in bfloat16 a
    300 x 600 grid at stride 3 moved 503100 coordinates by up to 8 px, in float16 a 2500-wide
    grid at stride 7 moved 3350 by up to 24 px."""
    gen = AnchorGenerator(((32, 64),), ((0.5, 1.0, 2.0),))
    gh, gw = grid
    sx = torch.arange(gw, dtype=torch.int32) * stride
    sy = torch.arange(gh, dtype=torch.int32) * stride
    yy, xx = (t.reshape(-1) for t in torch.meshgrid(sy, sx, indexing="ij"))
    shifts = torch.stack((xx, yy, xx, yy), dim=1)
    base = torch.tensor(
        [
            [-23, -11, 23, 11],
            [-45, -23, 45, 23],
            [-16, -16, 16, 16],
            [-32, -32, 32, 32],
            [-11, -23, 11, 23],
            [-23, -45, 23, 45],
        ],
        dtype=dtype,
    )  # sizes 32, 64 at ratios 0.5, 1, 2: (w, h) = (s / sqrt(a), s sqrt(a)) / 2, rounded
    expected = (shifts.view(-1, 1, 4) + base.view(1, -1, 4)).reshape(-1, 4)
    got = gen.grid_anchors([grid], [(stride, stride)], dtype=dtype)[0]
    assert got.dtype == dtype and torch.equal(got, expected)


@pytest.mark.parametrize("device", ["cpu", "meta"])
def test_box_coding_follows_dtype_and_device(device):
    rng = np.random.default_rng(0)
    gt, anchors = random_boxes(rng, 6).to(device), random_boxes(rng, 6).to(device)
    coder = BoxCoder((10.0, 10.0, 5.0, 5.0))
    codes = coder.encode_single(gt, anchors)
    boxes = coder.decode_single(codes, anchors)
    for out in (codes, boxes):
        assert out.device.type == device and out.dtype == torch.float64 and out.shape == (6, 4)
    wide = coder.decode_single(torch.zeros(6, 8, dtype=torch.float64, device=device), anchors)
    assert wide.shape == (6, 8) and wide.device.type == device
    ints = coder.decode_single(torch.zeros(6, 4, dtype=torch.int64, device=device), anchors)
    assert ints.dtype == torch.get_default_dtype()  # integer codes are promoted, not truncated
