"""Synthetic detection data: coloured squares, disks and triangles on a noisy background."""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from .._validation import check_option, check_random_state, check_scalar

__all__ = ["SHAPES_SPLITS", "load_shapes", "make_shapes"]

_KNOWN = ("square", "disk", "triangle")

# The fixed splits of :func:`load_shapes`: (number of images, seed). Different seeds make the
# splits independent draws, so validation images are never training images.
SHAPES_SPLITS = {"train": (2000, 20261), "val": (200, 20262), "test": (200, 20263)}


def _smallest_side(size: int) -> int:
    """The smallest side of a shape on an image of side ``size``."""
    return max(4, size // 8)


def _mask(kind: str, s: int) -> np.ndarray:
    """Boolean ``(s, s)`` mask of a shape inscribed in an ``s x s`` square, tested at pixel
    centres (the shape never leaves its square, so the rest of the image is not scanned)."""
    v, u = (np.mgrid[0:s, 0:s] + 0.5) / s  # pixel centres in unit-square coordinates
    if kind == "square":
        return np.ones((s, s), dtype=bool)
    if kind == "disk":
        return (u - 0.5) ** 2 + (v - 0.5) ** 2 <= 0.25
    # isosceles triangle, apex at the top centre, base on the bottom edge
    return v >= 2 * np.abs(u - 0.5)


def _tight_box(mask: np.ndarray) -> np.ndarray:
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    return np.array([cols[0], rows[0], cols[-1] + 1, rows[-1] + 1], dtype=np.float32)


def _overlaps(box: np.ndarray, boxes: list[np.ndarray]) -> bool:
    return any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for b in boxes)


def _draw_image(
    rng: np.random.Generator, size: int, max_objects: int, kinds: Sequence[str], noise: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    background = rng.uniform(0.0, 0.3)
    image = np.full((3, size, size), background)
    boxes: list[np.ndarray] = []
    labels: list[int] = []
    n_objects = int(rng.integers(1, max_objects + 1))
    lo, hi = _smallest_side(size), max(5, size // 2)
    for _ in range(20 * n_objects):  # rejection sampling: objects never overlap
        if len(boxes) == n_objects:
            break
        label = int(rng.integers(len(kinds)))
        s = int(rng.integers(lo, hi + 1))
        x0, y0 = (int(v) for v in rng.integers(0, size - s + 1, size=2))
        mask = _mask(kinds[label], s)
        box = _tight_box(mask) + np.array([x0, y0, x0, y0], dtype=np.float32)
        if _overlaps(box, boxes):
            continue
        colour = rng.uniform(0.5, 1.0, size=3)  # always brighter than the background
        image[:, y0 : y0 + s, x0 : x0 + s][:, mask] = colour[:, None]
        boxes.append(box)
        labels.append(label)
    image += rng.normal(0.0, noise, size=image.shape)
    return (
        np.clip(image, 0.0, 1.0).astype(np.float32),
        np.array(boxes, dtype=np.float32).reshape(-1, 4),
        np.array(labels, dtype=np.int64),
    )


def make_shapes(
    n_images: int,
    image_size: int = 64,
    max_objects: int = 3,
    classes: Sequence[str] = ("square", "disk", "triangle"),
    random_state: Any = None,
    *,
    noise: float = 0.05,
) -> tuple[np.ndarray, list[np.ndarray], list[np.ndarray]]:
    r"""Images of non-overlapping coloured shapes with their boxes and labels.

    Parameters
    ----------
    n_images : int
        Number of images N.
    image_size : int, default=64
        Side S of the square images (at least 16).
    max_objects : int, default=3
        Each image holds between 1 and ``max_objects`` objects (fewer if they cannot be
        placed without overlap); at most ``(image_size // max(4, image_size // 8)) ** 2`` (64
        from 32 pixels on), the number of squares of the smallest side that tile the image.
    classes : sequence of {'square', 'disk', 'triangle'}
        Shapes to draw; label ``i`` means ``classes[i]`` (a list, tuple or array: a set has no
        fixed order).
    random_state : None, int or numpy Generator
    noise : float, default=0.05
        Standard deviation of the Gaussian pixel noise (added after drawing, then clipped).

    Returns
    -------
    images : ndarray of shape (N, 3, S, S), float32 in [0, 1]
    boxes : list of N float32 arrays of shape (k_i, 4)
        Boxes ``(x1, y1, x2, y2)`` in pixel-edge coordinates: the tight box of the drawn
        pixels, so pixel column ``x2 - 1`` is the last one covered.
    labels : list of N int64 arrays of shape (k_i,)

    Notes
    -----
    A shape of side :math:`s \sim U\{S/8, \dots, S/2\}` is inscribed in an axis-aligned square
    at a uniform position; a pixel belongs to it when its centre does (disk:
    :math:`(u - \tfrac12)^2 + (v - \tfrac12)^2 \le \tfrac14`; triangle:
    :math:`v \ge 2|u - \tfrac12|` in unit-square coordinates). The box is computed from the
    mask, so it is tight by construction. The background is a grey level in [0, 0.3] and each
    object a random colour in :math:`[0.5, 1]^3`.

    References
    ----------
    A toy version of the box-annotated data of M. Everingham et al., "The PASCAL Visual Object
    Classes (VOC) Challenge", IJCV 2010.
    """
    n = check_scalar(n_images, "n_images", kind=numbers.Integral, low=1)
    size = check_scalar(image_size, "image_size", kind=numbers.Integral, low=16)
    # the placement tries 20 positions per object asked: an unbounded max_objects never ends
    most = (size // _smallest_side(size)) ** 2
    k = check_scalar(max_objects, "max_objects", kind=numbers.Integral, low=1, high=most)
    noise = check_scalar(noise, "noise", low=0.0)
    if not isinstance(classes, str | Sequence | np.ndarray):  # a set's order is the hash's
        raise TypeError(
            f"classes must be a sequence (list, tuple or array) of shape names, got "
            f"{type(classes).__name__} {classes!r:.60}"
        )
    if isinstance(classes, str) or len(classes) == 0:
        raise ValueError(f"classes must be a non-empty sequence of shape names, got {classes!r}")
    for c in classes:
        check_option(c, "classes entries", _KNOWN)
    if len(set(classes)) != len(classes):  # two labels would mean the same shape
        raise ValueError(
            f"classes must name each shape at most once, got {list(map(str, classes))}"
        )
    rng = check_random_state(random_state)
    images = np.empty((n, 3, size, size), dtype=np.float32)
    boxes, labels = [], []
    for i in range(n):
        images[i], b, lab = _draw_image(rng, int(size), int(k), tuple(classes), float(noise))
        boxes.append(b)
        labels.append(lab)
    return images, boxes, labels


def load_shapes(split: str = "train") -> tuple[np.ndarray, list[np.ndarray], list[np.ndarray]]:
    """A fixed split of :func:`make_shapes` with its defaults (64-pixel images, 1 to 3 objects
    of sides 8 to 32 pixels, three classes).

    Parameters
    ----------
    split : {'train', 'val', 'test'}
        2000, 200 and 200 images, each drawn from its own fixed seed (``SHAPES_SPLITS``), so the
        same call gives the same arrays on every machine.

    Returns
    -------
    images, boxes, labels : as :func:`make_shapes`
    """
    check_option(split, "split", tuple(SHAPES_SPLITS))
    n, seed = SHAPES_SPLITS[split]
    return make_shapes(n, random_state=seed)
