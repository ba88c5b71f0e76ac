"""Mixture models: Gaussian mixtures fitted by EM with four covariance structures."""

from mlcanon._estimator import ConvergenceWarning

from ._gaussian_mixture import GaussianMixture

__all__ = ["ConvergenceWarning", "GaussianMixture"]
