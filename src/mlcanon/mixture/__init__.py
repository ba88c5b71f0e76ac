"""Mixture models: Gaussian mixtures fitted by EM with four covariance structures."""

from mlcanon.cluster._common import ConvergenceWarning

from ._gaussian_mixture import GaussianMixture

__all__ = ["ConvergenceWarning", "GaussianMixture"]
