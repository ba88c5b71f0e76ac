"""The elbow method: inertia as a function of k, and where the curve bends most."""

from __future__ import annotations

import numbers
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from mlcanon._validation import check_array, check_scalar

from ._kmeans import KMeans

__all__ = ["ElbowResult", "find_knee", "kmeans_elbow"]


@dataclass(frozen=True)
class ElbowResult:
    """Inertia of k-means for each tried number of clusters, and the detected knee.

    Attributes
    ----------
    n_clusters : ndarray of shape (n_values,)
    inertia : ndarray of shape (n_values,)
    knee : int or None
        The number of clusters at the knee (``None`` when the curve is flat or too short).
    """

    n_clusters: np.ndarray
    inertia: np.ndarray
    knee: int | None


def find_knee(x: Any, y: Any) -> int | None:
    r"""Index of the knee of a decreasing, convex curve ``y(x)`` (the Kneedle rule).

    Both axes are rescaled to :math:`[0, 1]`; the knee is the point farthest below the chord
    from the first to the last point, i.e. the argmax of
    :math:`(1 - \tilde x_i) - \tilde y_i`. Returns ``None`` when fewer than three points are
    given or the curve never drops below its chord.

    Parameters
    ----------
    x : array-like of shape (n,), strictly increasing
    y : array-like of shape (n,)

    References
    ----------
    Satopää, Albrecht, Irwin & Raghavan, "Finding a 'Kneedle' in a haystack: detecting knee
    points in system behavior", ICDCS Workshops 2011.
    """
    x = check_array(x, "x", ndim=1)
    y = check_array(y, "y", ndim=1)
    if x.shape != y.shape:
        raise ValueError(f"x and y must have the same length, got {x.size} and {y.size}")
    if np.any(np.diff(x) <= 0):
        raise ValueError("x must be strictly increasing")
    if x.size < 3 or np.ptp(y) == 0:
        return None
    xn = (x - x[0]) / (x[-1] - x[0])
    yn = (y - y.min()) / np.ptp(y)
    gap = (1.0 - xn) - yn
    i = int(np.argmax(gap))
    return i if gap[i] > 0 else None


def kmeans_elbow(
    X: Any,
    n_clusters: Iterable[int] = range(1, 11),
    *,
    sample_weight: Any = None,
    **kmeans_params: Any,
) -> ElbowResult:
    r"""Fit :class:`KMeans` for each ``k`` in ``n_clusters`` and locate the elbow.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    n_clusters : iterable of int, default=range(1, 11)
        Increasing numbers of clusters to try.
    sample_weight : array-like of shape (n_samples,), default=None
    **kmeans_params
        Passed to :class:`KMeans` (``init``, ``n_init``, ``random_state``, ...).

    Returns
    -------
    ElbowResult
        ``inertia[i]`` is ``KMeans(n_clusters=ks[i], **kmeans_params).fit(X).inertia_``;
        ``knee`` is chosen by :func:`find_knee` on :math:`\log` inertia.

    Notes
    -----
    Inertia always decreases with k (k = n puts each sample on its own center), so its minimum
    says nothing; the elbow is where adding a cluster stops paying off. The knee is searched on
    the logarithm of the inertia: what matters is the fraction of the remaining inertia that
    one more cluster removes, and on the raw scale the first, largest drops would hide a later
    bend.

    References
    ----------
    Thorndike, "Who belongs in the family?", Psychometrika 18(4), 1953.
    """
    ks = np.array([check_scalar(k, "n_clusters", kind=numbers.Integral, low=1) for k in n_clusters])
    if ks.size == 0:
        raise ValueError("n_clusters must contain at least one value")
    if np.any(np.diff(ks) <= 0):  # checked before fitting (find_knee's message names x)
        raise ValueError(f"n_clusters must be strictly increasing, got {ks.tolist()}")
    inertia = np.array(
        [
            KMeans(n_clusters=int(k), **kmeans_params).fit(X, sample_weight=sample_weight).inertia_
            for k in ks
        ]
    )
    curve = np.log(inertia) if np.all(inertia > 0) else inertia
    i = find_knee(ks, curve) if ks.size > 1 else None
    return ElbowResult(ks, inertia, None if i is None else int(ks[i]))
