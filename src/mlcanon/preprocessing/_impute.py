"""Missing-value imputation: per-column statistics and k-nearest-neighbour averages.

``SimpleImputer`` replaces each missing entry of column :math:`j` by a statistic of the observed
entries of that column seen at fit: their mean, median, most frequent value (the smallest one
on ties) or a constant. ``KNNImputer`` replaces it by the mean of column :math:`j` over the
:math:`k` training rows closest to the row (among those that observe column :math:`j`), under
the NaN-Euclidean distance, which rescales the squared distance over the coordinates both rows
observe to all :math:`d` coordinates:

.. math:: d(x, z) = \\sqrt{\\frac{d}{|P|} \\sum_{f \\in P} (x_f - z_f)^2},
          \\quad P = \\{f : x_f, z_f \\text{ observed}\\}.

Columns that are missing in every training row cannot be imputed; they are dropped from the
output unless ``keep_empty_features=True`` (then filled with 0, or ``fill_value``).

References
----------
Troyanskaya et al. (2001). Missing value estimation methods for DNA microarrays.
Bioinformatics 17(6), 520-525.
Little, Rubin (2019). Statistical Analysis with Missing Data, 3rd ed., ch. 4.
"""

from __future__ import annotations

import numbers
import warnings
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from mlcanon._estimator import check_X
from mlcanon._validation import check_option, check_scalar

__all__ = ["KNNImputer", "SimpleImputer"]


def _is_nan_marker(value: Any) -> bool:
    return isinstance(value, float) and np.isnan(value)


def _warn_empty(valid: np.ndarray, keep: bool) -> None:
    if not valid.all() and not keep:
        warnings.warn(
            f"features {np.flatnonzero(~valid).tolist()} have no observed value; they are "
            "dropped from the output (keep_empty_features=True keeps them)",
            UserWarning,
            stacklevel=3,
        )


class _BaseImputer(TransformerMixin, BaseEstimator):
    def _validate(self, X: Any, *, reset: bool) -> np.ndarray:
        X = check_X(self, X, reset=reset, allow_nan=_is_nan_marker(self.missing_values))
        return X.copy()

    def _mask(self, X: np.ndarray) -> np.ndarray:
        if _is_nan_marker(self.missing_values):
            return np.isnan(X)
        return X == self.missing_values

    def _check_common(self) -> None:
        if not (
            _is_nan_marker(self.missing_values) or isinstance(self.missing_values, numbers.Real)
        ):
            raise TypeError(
                f"missing_values must be np.nan or a number, got {self.missing_values!r}"
            )

    def _finish(self, X: np.ndarray, mask: np.ndarray, filled: np.ndarray) -> np.ndarray:
        """Drop (or zero) the empty columns and append the missing-value indicators."""
        keep = self._valid if not self.keep_empty_features else np.ones_like(self._valid)
        out = filled[:, keep]
        if self.add_indicator:
            out = np.hstack([out, mask[:, self.indicator_features_].astype(np.float64)])
        return out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags


class SimpleImputer(_BaseImputer):
    """Fill missing values with a per-column mean, median, most frequent value or constant.

    Parameters
    ----------
    missing_values : float, default=np.nan
        Marker of a missing entry.
    strategy : {"mean", "median", "most_frequent", "constant"}, default="mean"
    fill_value : float, optional
        Value used by ``strategy="constant"`` (default 0).
    add_indicator : bool, default=False
        Append a 0/1 column per feature that had missing values at fit.
    keep_empty_features : bool, default=False
        Keep columns that were entirely missing at fit (filled with 0, or ``fill_value`` for
        ``strategy="constant"``); otherwise they are dropped with a ``UserWarning``.

    Attributes
    ----------
    statistics_ : ndarray of shape (n_features,)
        Fill value of each column (NaN for an empty column).
    indicator_features_ : ndarray of int
        Columns that get an indicator (when ``add_indicator``).

    Notes
    -----
    :math:`\\hat x_{ij} = s_j(\\{x_{kj} : x_{kj}\\text{ observed}\\})` with :math:`s_j` the chosen
    statistic.

    References
    ----------
    Little, Rubin (2019). Statistical Analysis with Missing Data, 3rd ed., sec. 4.2.
    """

    def __init__(
        self,
        *,
        missing_values: float = np.nan,
        strategy: str = "mean",
        fill_value: float | None = None,
        add_indicator: bool = False,
        keep_empty_features: bool = False,
    ) -> None:
        self.missing_values = missing_values
        self.strategy = strategy
        self.fill_value = fill_value
        self.add_indicator = add_indicator
        self.keep_empty_features = keep_empty_features

    def fit(self, X: Any, y: Any = None) -> SimpleImputer:
        """Compute the fill value of every column from its observed entries."""
        self._check_common()
        check_option(self.strategy, "strategy", ("mean", "median", "most_frequent", "constant"))
        if self.fill_value is not None:
            check_scalar(self.fill_value, "fill_value")
        X = self._validate(X, reset=True)
        mask = self._mask(X)
        stats = np.full(X.shape[1], np.nan)
        for j in range(X.shape[1]):
            seen = X[~mask[:, j], j]
            if self.strategy == "constant":
                stats[j] = 0.0 if self.fill_value is None else self.fill_value
            elif seen.size == 0:
                continue
            elif self.strategy == "mean":
                stats[j] = seen.mean()
            elif self.strategy == "median":
                stats[j] = np.median(seen)
            else:
                values, counts = np.unique(seen, return_counts=True)
                stats[j] = values[np.argmax(counts)]  # first maximum = smallest value
        self._valid = ~mask.all(axis=0)
        if not self.keep_empty_features:
            stats[~self._valid] = np.nan  # nothing observed: the column is dropped
        elif self.strategy != "constant":
            stats[~self._valid] = 0.0  # a kept empty column is filled with 0
        self.statistics_ = stats
        _warn_empty(self._valid, self.keep_empty_features)
        self.indicator_features_ = np.flatnonzero(mask.any(axis=0))
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Replace missing entries by the fitted statistics; shape (n_samples, n_kept [+ ind])."""
        X = self._validate(X, reset=False)
        mask = self._mask(X)
        fill = np.where(np.isnan(self.statistics_), 0.0, self.statistics_)
        filled = np.where(mask, fill[None, :], X)
        return self._finish(X, mask, filled)


class KNNImputer(_BaseImputer):
    """Fill each missing entry with the mean of that column over the k nearest training rows.

    Parameters
    ----------
    missing_values : float, default=np.nan
    n_neighbors : int, default=5
    weights : {"uniform", "distance"}, default="uniform"
        ``"distance"`` weights neighbours by :math:`1/d` (an exact match takes all the weight).
    add_indicator, keep_empty_features : bool, default=False
        As in :class:`SimpleImputer`.

    Notes
    -----
    Neighbours are searched among the training rows that observe the column being filled,
    using the NaN-Euclidean distance above; a row with no observed coordinate in common with
    any of them gets the column mean.

    References
    ----------
    Troyanskaya et al. (2001). Missing value estimation methods for DNA microarrays.
    """

    def __init__(
        self,
        *,
        missing_values: float = np.nan,
        n_neighbors: int = 5,
        weights: str = "uniform",
        add_indicator: bool = False,
        keep_empty_features: bool = False,
    ) -> None:
        self.missing_values = missing_values
        self.n_neighbors = n_neighbors
        self.weights = weights
        self.add_indicator = add_indicator
        self.keep_empty_features = keep_empty_features

    def fit(self, X: Any, y: Any = None) -> KNNImputer:
        """Store the training rows (the donors)."""
        self._check_common()
        check_scalar(self.n_neighbors, "n_neighbors", kind=numbers.Integral, low=1)
        check_option(self.weights, "weights", ("uniform", "distance"))
        X = self._validate(X, reset=True)
        self._fit_mask = self._mask(X)
        self._fit_X = np.where(self._fit_mask, 0.0, X)
        self._valid = ~self._fit_mask.all(axis=0)
        _warn_empty(self._valid, self.keep_empty_features)
        self.indicator_features_ = np.flatnonzero(self._fit_mask.any(axis=0))
        return self

    def _distances(self, X: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """NaN-Euclidean distances (n_rows, n_train); NaN where no coordinate is shared.

        Computed from the differences themselves (in blocks of rows) rather than by expanding
        the square, so that rows close to a training row do not lose their digits.
        """
        Z, PZ = self._fit_X, ~self._fit_mask
        out = np.empty((X.shape[0], Z.shape[0]))
        block = max(1, (1 << 22) // max(1, Z.size))
        for s in range(0, X.shape[0], block):
            x, px = X[s : s + block, None, :], ~mask[s : s + block, None, :]
            both = px & PZ[None, :, :]
            sq = np.sum(np.where(both, (x - Z[None, :, :]) ** 2, 0.0), axis=2)
            shared = both.sum(axis=2)
            with np.errstate(invalid="ignore", divide="ignore"):
                out[s : s + block] = np.where(shared > 0, np.sqrt(sq * X.shape[1] / shared), np.nan)
        return out

    def _impute_column(self, dist: np.ndarray, donors: np.ndarray, col: int) -> np.ndarray:
        """Imputed values for receivers with distances ``dist`` to the ``donors`` rows."""
        values = self._fit_X[donors, col]
        k = min(self.n_neighbors, donors.size)
        ranked = np.where(np.isnan(dist), np.inf, dist)
        nearest = np.argsort(ranked, axis=1, kind="stable")[:, :k]
        nd = np.take_along_axis(dist, nearest, axis=1)
        if self.weights == "uniform":
            w = np.where(np.isnan(nd), 0.0, 1.0)
        else:
            with np.errstate(divide="ignore"):
                w = 1.0 / nd
            exact = nd == 0
            w = np.where(exact.any(axis=1, keepdims=True), exact.astype(float), w)
            w[np.isnan(w)] = 0.0
        return np.sum(w * values[nearest], axis=1) / np.sum(w, axis=1)

    def transform(self, X: Any) -> np.ndarray:
        """Impute every missing entry of a valid column from the nearest training rows."""
        X = self._validate(X, reset=False)
        mask = self._mask(X)
        filled = np.where(mask, 0.0, X)
        rows = np.flatnonzero(mask[:, self._valid].any(axis=1))
        if rows.size:
            dist = self._distances(X[rows], mask[rows])
            for col in np.flatnonzero(self._valid):
                receivers = np.flatnonzero(mask[rows, col])
                if receivers.size == 0:
                    continue
                donors = np.flatnonzero(~self._fit_mask[:, col])
                sub = dist[np.ix_(receivers, donors)]
                lonely = np.isnan(sub).all(axis=1)
                out = np.empty(receivers.size)
                out[lonely] = self._fit_X[donors, col].mean()
                if (~lonely).any():
                    out[~lonely] = self._impute_column(sub[~lonely], donors, col)
                filled[rows[receivers], col] = out
        return self._finish(X, mask, filled)
