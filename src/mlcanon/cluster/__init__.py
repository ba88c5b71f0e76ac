"""Clustering: k-means (greedy k-means++ seeding, Lloyd iterations) and the elbow method."""

from mlcanon._estimator import ConvergenceWarning

from ._elbow import ElbowResult, find_knee, kmeans_elbow
from ._kmeans import KMeans, kmeans_plusplus

__all__ = [
    "ConvergenceWarning",
    "ElbowResult",
    "KMeans",
    "find_knee",
    "kmeans_elbow",
    "kmeans_plusplus",
]
