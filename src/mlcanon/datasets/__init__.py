"""Synthetic data sets drawn with NumPy (nothing is downloaded)."""

from ._shapes import make_shapes

__all__ = ["make_shapes"]
