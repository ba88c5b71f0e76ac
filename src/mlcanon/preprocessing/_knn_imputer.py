"""k-nearest-neighbour imputation.

``KNNImputer`` replaces a missing entry of column :math:`j` by the mean of column :math:`j` over
the :math:`k` training rows closest to the row (among those that observe column :math:`j`),
under the NaN-Euclidean distance, which rescales the squared distance over the coordinates both
rows observe to all :math:`d` coordinates:

.. math:: d(x, z) = \\sqrt{\\frac{d}{|P|} \\sum_{f \\in P} (x_f - z_f)^2},
          \\quad P = \\{f : x_f, z_f \\text{ observed}\\}.

Columns that are missing in every training row cannot be imputed; they are dropped from the
output unless ``keep_empty_features=True`` (then filled with 0).

References
----------
Troyanskaya et al. (2001). Missing value estimation methods for DNA microarrays.
Bioinformatics 17(6), 520-525.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from mlcanon._estimator import input_feature_names, store_params
from mlcanon._validation import BOOL, Interval, IsCallable, Options, validate_params

from ._missing import (
    MISSING_VALUES,
    MissingIndicator,
    as_imputer_input,
    indicator_names,
    marks_nan,
    missing_mask,
    overflow_free_mean,
)

__all__ = ["KNNImputer"]


def _warn_empty(valid: np.ndarray, keep: bool) -> None:
    if not valid.all() and not keep:
        warnings.warn(
            f"features {np.flatnonzero(~valid).tolist()} have no observed value; they are "
            "dropped from the output (keep_empty_features=True keeps them)",
            UserWarning,
            stacklevel=3,
        )


class KNNImputer(TransformerMixin, BaseEstimator):
    """Fill each missing entry with the mean of that column over the k nearest training rows.

    Parameters
    ----------
    missing_values : number or np.nan, default=np.nan
    n_neighbors : int, default=5
    weights : {"uniform", "distance"} or callable, default="uniform"
        ``"distance"`` weights neighbours by :math:`1/d` (an exact match takes all the weight);
        a callable maps the (n_receivers, k) neighbour distances to weights (``None``: uniform).
    metric : "nan_euclidean" or callable, default="nan_euclidean"
        A callable ``metric(x, z, missing_values=...)`` gets two rows with their markers.
    copy : bool, default=True
        Kept for scikit-learn compatibility: the input is never modified.
    add_indicator : bool, default=False
        Append a 0/1 column per feature that had missing values at fit (the
        :class:`MissingIndicator` kept in ``indicator_``, None without).
    keep_empty_features : bool, default=False
        Keep columns that were entirely missing at fit (filled with 0); otherwise they are
        dropped with a ``UserWarning``.

    Notes
    -----
    Neighbours are searched among the training rows that observe the column being filled,
    using the NaN-Euclidean distance above; a row with no observed coordinate in common with
    any of them gets the column mean.

    References
    ----------
    Troyanskaya et al. (2001). Missing value estimation methods for DNA microarrays.
    """

    _parameter_constraints: ClassVar[dict[str, Any]] = {
        "missing_values": MISSING_VALUES,
        "n_neighbors": Interval(numbers.Integral, low=1),
        "weights": (Options("uniform", "distance"), IsCallable()),
        "metric": (Options("nan_euclidean"), IsCallable()),
        "copy": BOOL,
        "add_indicator": BOOL,
        "keep_empty_features": BOOL,
    }

    def __init__(
        self,
        *,
        missing_values: float = np.nan,
        n_neighbors: int = 5,
        weights: str | Callable[[np.ndarray], Any] = "uniform",
        metric: str | Callable[..., float] = "nan_euclidean",
        copy: bool = True,
        add_indicator: bool = False,
        keep_empty_features: bool = False,
    ) -> None:
        store_params(self, locals())

    def _validate(self, X: Any, *, reset: bool) -> np.ndarray:
        return as_imputer_input(
            self, X, reset=reset, dtype="float", allowed_kinds="f", copy=True, sparse=False
        )

    def fit(self, X: Any, y: Any = None) -> KNNImputer:
        """Store the training rows (the donors)."""
        validate_params(self)
        X = self._validate(X, reset=True)
        self._fit_mask = missing_mask(X, self.missing_values)
        self._fit_X = np.where(self._fit_mask, 0.0, X)
        self._valid = ~self._fit_mask.all(axis=0)
        _warn_empty(self._valid, self.keep_empty_features)
        self.indicator_features_ = np.flatnonzero(self._fit_mask.any(axis=0))
        self.indicator_ = None  # scikit-learn's: the MissingIndicator of the extra columns
        if self.add_indicator:
            self.indicator_ = MissingIndicator(
                missing_values=self.missing_values, error_on_new=False
            )
            self.indicator_.n_features_in_ = X.shape[1]
            self.indicator_._fit_mask(self._fit_mask)
        return self

    def _distances(self, X: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Distances (n_rows, n_train) from ``metric``; NaN where no coordinate is shared."""
        if callable(self.metric):
            x = np.where(mask, self.missing_values, X)
            z = np.where(self._fit_mask, self.missing_values, self._fit_X)
            kw = {"missing_values": self.missing_values}
            return np.array([[self.metric(a, b, **kw) for b in z] for a in x], dtype=float)
        return self._nan_euclidean(X, mask)

    def _nan_euclidean(self, X: np.ndarray, mask: np.ndarray) -> np.ndarray:
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

    def _neighbour_weights(self, nd: np.ndarray) -> np.ndarray:
        """Weights of the k nearest donors from their distances ``nd`` (NaN: not a donor)."""
        if self.weights == "uniform":
            return np.where(np.isnan(nd), 0.0, 1.0)
        if self.weights == "distance":
            with np.errstate(divide="ignore"):
                w = 1.0 / nd
            exact = nd == 0
            w = np.where(exact.any(axis=1, keepdims=True), exact.astype(float), w)
        else:
            w = self.weights(nd)
            if w is None:
                return np.where(np.isnan(nd), 0.0, 1.0)
            w = np.array(w, dtype=float)
        w[np.isnan(w)] = 0.0
        return w

    def _impute_column(self, dist: np.ndarray, donors: np.ndarray, col: int) -> np.ndarray:
        """Imputed values for receivers with distances ``dist`` to the ``donors`` rows."""
        values = self._fit_X[donors, col]
        k = min(self.n_neighbors, donors.size)
        # the k nearest as scikit-learn picks them, NaN (no shared feature) last: among equal
        # distances its argpartition's choice, not the lowest index
        nearest = np.argpartition(dist, k - 1, axis=1)[:, :k]
        w = self._neighbour_weights(np.take_along_axis(dist, nearest, axis=1))
        w /= np.sum(w, axis=1, keepdims=True)  # a convex combination cannot overflow
        return np.sum(w * values[nearest], axis=1)

    def transform(self, X: Any) -> np.ndarray:
        """Impute every missing entry of a valid column from the nearest training rows."""
        check_is_fitted(self)
        X = self._validate(X, reset=False)
        mask = missing_mask(X, self.missing_values)
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
                out[lonely] = overflow_free_mean(self._fit_X[donors, col])
                if (~lonely).any():
                    out[~lonely] = self._impute_column(sub[~lonely], donors, col)
                filled[rows[receivers], col] = out
        out = filled[:, self._kept()]
        if self.add_indicator:
            out = np.hstack([out, mask[:, self.indicator_features_].astype(X.dtype)])
        return out

    def _kept(self) -> np.ndarray:
        """Columns in the output: those observed at fit, or all with ``keep_empty_features``."""
        return self._valid if not self.keep_empty_features else np.ones_like(self._valid)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """The names of the imputed columns, then ``missingindicator_<name>`` for the
        indicators."""
        names = input_feature_names(self, input_features)
        kept = names[self._kept()]
        if not self.add_indicator:
            return kept
        return np.concatenate([kept, indicator_names(names[self.indicator_features_])])

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = marks_nan(self.missing_values)
        return tags
