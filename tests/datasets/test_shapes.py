import numpy as np
import pytest

from mlcanon.datasets import make_shapes


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_shapes_dtypes_and_boxes_inside(seed):
    images, boxes, labels = make_shapes(8, image_size=48, max_objects=4, random_state=seed)
    assert images.shape == (8, 3, 48, 48) and images.dtype == np.float32
    assert images.min() >= 0.0 and images.max() <= 1.0
    assert len(boxes) == len(labels) == 8
    for b, lab in zip(boxes, labels, strict=True):
        assert b.dtype == np.float32 and b.shape == (len(lab), 4) and 1 <= len(lab) <= 4
        assert lab.dtype == np.int64 and set(lab.tolist()) <= {0, 1, 2}
        assert (b[:, :2] >= 0).all() and (b[:, 2:] <= 48).all()
        assert (b[:, 2:] > b[:, :2]).all()


@pytest.mark.parametrize("seed", [0, 3, 7])
def test_single_object_box_is_tight_around_drawn_pixels(seed):
    images, boxes, _ = make_shapes(10, max_objects=1, noise=0.0, random_state=seed)
    for img, b in zip(images, boxes, strict=True):
        drawn = (img != img[:, 0, 0][:, None, None]).any(axis=0)  # background is flat
        if drawn[0, 0]:  # the object covers the corner: use the opposite corner instead
            drawn = (img != img[:, -1, -1][:, None, None]).any(axis=0)
        rows, cols = np.flatnonzero(drawn.any(axis=1)), np.flatnonzero(drawn.any(axis=0))
        np.testing.assert_array_equal(b[0], [cols[0], rows[0], cols[-1] + 1, rows[-1] + 1])


def test_hand_checked_square_and_triangle():
    # seed 0, image 2 holds a triangle: its apex row has 1-2 pixels, its base row is full
    images, boxes, labels = make_shapes(3, max_objects=1, noise=0.0, random_state=0)
    for img, b, lab in zip(images, boxes, labels, strict=True):
        x1, y1, x2, y2 = b[0].astype(int)
        bg = img[:, :, :].reshape(3, -1).min(axis=1)
        drawn = (img > bg[:, None, None] + 1e-6).any(axis=0)
        inside = drawn[y1:y2, x1:x2]
        assert inside.sum() == drawn.sum()  # nothing drawn outside the box
        if lab[0] == 0:  # a square fills its box
            assert inside.all()
        if lab[0] == 2:  # a triangle: widest at the base, narrow at the apex
            assert inside[-1].all() and inside[0].sum() <= 2


def test_union_of_boxes_covers_all_drawn_pixels_and_boxes_do_not_overlap():
    images, boxes, _ = make_shapes(6, max_objects=3, noise=0.0, random_state=5)
    for img, b in zip(images, boxes, strict=True):
        bg = img.reshape(3, -1).min(axis=1)
        drawn = (img > bg[:, None, None] + 1e-6).any(axis=0)
        covered = np.zeros_like(drawn)
        for x1, y1, x2, y2 in b.astype(int):
            assert not covered[y1:y2, x1:x2].any()
            covered[y1:y2, x1:x2] = True
        assert not (drawn & ~covered).any()


def test_deterministic_for_a_seed():
    a = make_shapes(5, random_state=11)
    b = make_shapes(5, random_state=11)
    c = make_shapes(5, random_state=12)
    np.testing.assert_array_equal(a[0], b[0])
    for x, y in zip(a[1] + a[2], b[1] + b[2], strict=True):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a[0], c[0])


def test_classes_subset_gives_labels_into_it():
    _, _, labels = make_shapes(10, classes=("disk",), random_state=0)
    assert all((lab == 0).all() for lab in labels)


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"n_images": 0}, ValueError, "n_images"),
        ({"n_images": 2.5}, TypeError, "n_images"),
        ({"n_images": 2, "image_size": 8}, ValueError, "image_size"),
        ({"n_images": 2, "max_objects": 0}, ValueError, "max_objects"),
        ({"n_images": 1, "max_objects": 10**9}, ValueError, "max_objects must be <= 64"),
        ({"n_images": 1, "image_size": 16, "max_objects": 17}, ValueError, "<= 16, got 17"),
        ({"n_images": 2, "classes": ("circle",)}, ValueError, "classes"),
        ({"n_images": 2, "classes": ()}, ValueError, "classes"),
        ({"n_images": 2, "classes": "disk"}, ValueError, "classes"),
        ({"n_images": 2, "classes": None}, TypeError, "classes must be a sequence"),
        ({"n_images": 2, "classes": 3}, TypeError, "classes must be a sequence"),
        # a set's order follows the strings' hashes, which change from process to process, so
        # label i would mean another shape in the next run with the same random_state
        ({"n_images": 2, "classes": {"disk", "square"}}, TypeError, "classes must be a sequence"),
        # label i means classes[i]: a repeated shape would carry two labels (it was accepted)
        ({"n_images": 2, "classes": ("disk", "square", "disk")}, ValueError, "at most once"),
        ({"n_images": 2, "noise": -1.0}, ValueError, "noise"),
        ({"n_images": 2, "random_state": "a"}, TypeError, "random_state"),
    ],
)
def test_errors(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        make_shapes(**kwargs)


def test_the_largest_max_objects_ends_with_non_overlapping_boxes():
    # (16 // max(4, 16 // 8)) ** 2 = 16 objects asked of a 16-pixel image: as many as fit
    _, boxes, labels = make_shapes(2, image_size=16, max_objects=16, random_state=0)
    for b, lab in zip(boxes, labels, strict=True):
        assert 1 <= len(lab) <= 16
        for i in range(len(b)):
            for j in range(i):
                apart = (b[i, 2] <= b[j, 0]) | (b[j, 2] <= b[i, 0]) | (b[i, 3] <= b[j, 1])
                assert apart | (b[j, 3] <= b[i, 1])
