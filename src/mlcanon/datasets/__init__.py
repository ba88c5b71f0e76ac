"""Synthetic data sets drawn with NumPy (nothing is downloaded)."""

from ._shapes import SHAPES_SPLITS, load_shapes, make_shapes

__all__ = ["SHAPES_SPLITS", "load_shapes", "make_shapes"]
