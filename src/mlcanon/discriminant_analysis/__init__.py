"""Discriminant analysis: linear (shared covariance) Gaussian class models."""

from ._lda import LinearDiscriminantAnalysis

__all__ = ["LinearDiscriminantAnalysis"]
