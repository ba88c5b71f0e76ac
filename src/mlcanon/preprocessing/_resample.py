"""Rebalancing classes: random over- and under-sampling, SMOTE, and balanced class weights.

The samplers follow imbalanced-learn's API: ``fit_resample(X, y)`` returns a new data set, and
``sampling_strategy`` says how many samples each class should end with. Resample the training
split only: a resampled test set no longer measures the class balance the model will meet.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator

from mlcanon._estimator import check_X
from mlcanon._validation import check_array, check_random_state, check_sample_weight, check_scalar

__all__ = ["SMOTE", "RandomOverSampler", "RandomUnderSampler", "compute_class_weight"]

_STRATEGIES = ("auto", "minority", "majority", "not minority", "not majority", "all")


def _check_y(y: Any, n_samples: int, owner: str) -> np.ndarray:
    if y is None:
        raise ValueError(f"{owner} requires y to be passed, but the target y is None")
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"y should be a 1d array of class labels, got shape {y.shape}")
    if y.shape[0] != n_samples:
        raise ValueError(f"inconsistent numbers of samples: X={n_samples}, y={y.shape[0]}")
    if y.dtype.kind == "f" and not np.all(np.isfinite(y) & (y == np.round(y))):
        raise ValueError("y must hold class labels; got continuous (non-integer) values")
    return y


def _string_targets(strategy: str, stats: dict[Any, int], kind: str) -> dict[Any, int]:
    if strategy not in _STRATEGIES:
        raise ValueError(f"sampling_strategy must be one of {_STRATEGIES}; got {strategy!r}")
    if strategy == "auto":
        strategy = "not majority" if kind == "over" else "not minority"
    if (kind, strategy) in (("over", "majority"), ("under", "minority")):
        raise ValueError(f"sampling_strategy={strategy!r} cannot be used when {kind}-sampling")
    lo, hi = min(stats, key=stats.get), max(stats, key=stats.get)  # ties: the smaller label
    chosen = {
        "minority": [lo],
        "majority": [hi],
        "not minority": [c for c in stats if c != lo],
        "not majority": [c for c in stats if c != hi],
        "all": list(stats),
    }[strategy]
    return {c: (stats[hi] - stats[c] if kind == "over" else stats[lo]) for c in chosen}


def _dict_targets(strategy: dict, stats: dict[Any, int], kind: str) -> dict[Any, int]:
    unknown = set(strategy) - set(stats)
    if unknown:
        raise ValueError(f"sampling_strategy names classes absent from y: {sorted(unknown)}")
    targets = {}
    for c, n in strategy.items():
        if not isinstance(n, numbers.Integral) or n < 0:
            raise ValueError(f"sampling_strategy[{c!r}] must be a non-negative int, got {n!r}")
        if kind == "over" and n < stats[c]:
            raise ValueError(
                f"over-sampling cannot shrink class {c!r}: it has {stats[c]} samples, {n} asked"
            )
        if kind == "under" and n > stats[c]:
            raise ValueError(
                f"under-sampling cannot grow class {c!r}: it has {stats[c]} samples, {n} asked"
            )
        targets[c] = n - stats[c] if kind == "over" else n
    return targets


def _ratio_targets(ratio: float, stats: dict[Any, int], kind: str) -> dict[Any, int]:
    if len(stats) != 2:
        raise ValueError("a float sampling_strategy needs binary y; use a dict for more classes")
    if not 0 < ratio <= 1:
        raise ValueError(f"sampling_strategy as a float must lie in (0, 1], got {ratio}")
    lo, hi = min(stats, key=stats.get), max(stats, key=stats.get)
    if kind == "over":
        targets = {lo: int(stats[hi] * ratio - stats[lo])}
        if targets[lo] <= 0:
            raise ValueError(f"sampling_strategy={ratio} would remove minority samples")
    else:
        targets = {hi: int(stats[lo] / ratio)}
        if targets[hi] > stats[hi]:
            raise ValueError(f"sampling_strategy={ratio} would add majority samples")
    return targets


def sampling_targets(strategy: Any, y: np.ndarray, kind: str) -> dict[Any, int]:
    """Turn ``sampling_strategy`` into ``{class: n}`` (classes in sorted order).

    For ``kind='over'``, ``n`` is the number of samples to add; for ``kind='under'`` it is the
    number of samples to keep. ``'auto'`` is ``'not majority'`` when over-sampling and
    ``'not minority'`` when under-sampling; a float ``r`` (binary ``y`` only) asks for
    ``n_minority / n_majority = r`` after resampling; a dict gives the final counts; a callable
    ``f(y)`` returns such a dict. Ties in the class counts go to the smaller label.
    """
    classes, counts = np.unique(y, return_counts=True)
    if classes.size < 2:
        raise ValueError(f"y must contain at least 2 classes, got {classes.size} class")
    stats = dict(zip(classes.tolist(), counts.tolist(), strict=True))  # sorted by label
    if callable(strategy):
        strategy = strategy(y)
    if isinstance(strategy, str):
        targets = _string_targets(strategy, stats, kind)
    elif isinstance(strategy, dict):
        targets = _dict_targets(strategy, stats, kind)
    elif isinstance(strategy, numbers.Real) and not isinstance(strategy, bool):
        targets = _ratio_targets(float(strategy), stats, kind)
    else:
        raise TypeError(
            "sampling_strategy must be a str, a float, a dict or a callable, "
            f"got {type(strategy).__name__}"
        )
    return dict(sorted(targets.items()))


class _BaseSampler(BaseEstimator):
    _kind = "over"

    def fit(self, X: Any, y: Any) -> _BaseSampler:
        """Check the data and work out ``sampling_strategy_`` (``{class: n}``)."""
        X = check_X(self, X, reset=True)
        y = _check_y(y, X.shape[0], type(self).__name__)
        targets = sampling_targets(self.sampling_strategy, y, self._kind)
        # kept as two arrays so that mlcanon.io can save them (its dicts need string keys)
        self._target_classes = np.array(list(targets), dtype=y.dtype)
        self._target_counts = np.array(list(targets.values()), dtype=np.int64)
        return self

    @property
    def sampling_strategy_(self) -> dict[Any, int]:
        """``{class: n}`` worked out by :meth:`fit` (samples to add, or to keep)."""
        if not hasattr(self, "_target_counts"):
            raise AttributeError("sampling_strategy_ is set by fit")
        classes, counts = self._target_classes.tolist(), self._target_counts.tolist()
        return dict(zip(classes, counts, strict=True))

    def fit_resample(self, X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
        """Resample ``(X, y)``; returns ``X_resampled`` and ``y_resampled``."""
        self.fit(X, y)
        X = check_X(self, X, reset=False)
        return self._resample(X, np.asarray(y), check_random_state(self.random_state))

    def _resample(self, X: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> Any:
        raise NotImplementedError

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        return tags


class RandomOverSampler(_BaseSampler):
    r"""Add copies of randomly chosen samples (with replacement) of the targeted classes.

    Parameters
    ----------
    sampling_strategy : str, float, dict or callable, default='auto'
        See :func:`sampling_targets`; ``'auto'`` grows every class to the majority count.
    random_state : None, int or numpy.random.Generator
    shrinkage : float >= 0, dict or None, default=None
        ``None`` copies the drawn samples (plain bootstrap). A number (or one per targeted
        class, as a dict) draws a smoothed bootstrap instead: each copy is moved by Gaussian
        noise, :math:`x' = x + s\,h\,\sigma_c \odot z`, :math:`z \sim \mathcal N(0, I)`,
        with :math:`\sigma_c` the per-feature standard deviation of the class and
        :math:`h = (4 / ((d + 2) n))^{1 / (d + 4)}` Silverman's rule-of-thumb bandwidth
        (:math:`n` samples, :math:`d` features), as imbalanced-learn does.

    Attributes
    ----------
    sampling_strategy_ : dict
        Number of samples added to each class.
    sample_indices_ : ndarray
        Row of the input behind each output row (the originals come first).
    shrinkage_ : dict or None
        The shrinkage of each targeted class.

    References
    ----------
    Japkowicz & Stephen, "The class imbalance problem: a systematic study", Intelligent Data
    Analysis 6(5), 2002. Menardi & Torelli, "Training and assessing classification rules with
    imbalanced data", Data Mining and Knowledge Discovery 28, 2014 (smoothed bootstrap, ROSE).
    Silverman, *Density Estimation for Statistics and Data Analysis*, 1986, eq. (4.14).
    """

    _kind = "over"

    def __init__(
        self, *, sampling_strategy: Any = "auto", random_state: Any = None, shrinkage: Any = None
    ) -> None:
        self.sampling_strategy = sampling_strategy
        self.random_state = random_state
        self.shrinkage = shrinkage

    def _shrinkages(self) -> dict[Any, float] | None:
        targets = self.sampling_strategy_
        if self.shrinkage is None:
            return None
        if isinstance(self.shrinkage, dict):
            missing = set(targets) - set(self.shrinkage)
            if missing:
                raise ValueError(
                    f"shrinkage must give a factor for every class that is resampled; missing: "
                    f"{sorted(missing, key=str)}"
                )
            shrink = {c: self.shrinkage[c] for c in targets}
        else:
            shrink = dict.fromkeys(targets, self.shrinkage)
        for c, factor in shrink.items():
            check_scalar(factor, f"shrinkage of class {c!r}", low=0)
        return shrink

    def _resample(self, X, y, rng):
        self.shrinkage_ = self._shrinkages()
        extra = [
            rng.choice(np.flatnonzero(y == c), size=n) for c, n in self.sampling_strategy_.items()
        ]
        self.sample_indices_ = np.concatenate([np.arange(len(y)), *extra]).astype(np.int64)
        X_new, y_new = X[self.sample_indices_], y[self.sample_indices_]
        if self.shrinkage_ is not None:
            n, d = X.shape
            bandwidth = (4 / ((d + 2) * n)) ** (1 / (d + 4))
            start = n
            for c, count in self.sampling_strategy_.items():
                scale = self.shrinkage_[c] * bandwidth * X[y == c].std(axis=0)  # (n_features,)
                X_new[start : start + count] += rng.standard_normal((count, d)) * scale
                start += count
        return X_new, y_new


class RandomUnderSampler(_BaseSampler):
    """Keep a random subset of the targeted classes.

    Parameters
    ----------
    sampling_strategy : str, float, dict or callable, default='auto'
        ``'auto'`` shrinks every class to the minority count.
    random_state : None, int or numpy.random.Generator
    replacement : bool, default=False
        Draw the kept samples with replacement.

    Attributes
    ----------
    sampling_strategy_ : dict
        Number of samples kept in each targeted class.
    sample_indices_ : ndarray
        Rows of the input kept, grouped by class in sorted class order.

    References
    ----------
    Japkowicz & Stephen 2002 (see :class:`RandomOverSampler`).
    """

    _kind = "under"

    def __init__(
        self,
        *,
        sampling_strategy: Any = "auto",
        random_state: Any = None,
        replacement: bool = False,
    ) -> None:
        self.sampling_strategy = sampling_strategy
        self.random_state = random_state
        self.replacement = replacement

    def _resample(self, X, y, rng):
        if not isinstance(self.replacement, bool | np.bool_):
            raise TypeError(f"replacement must be a bool, got {self.replacement!r}")
        keep = []
        for c in np.unique(y).tolist():
            idx = np.flatnonzero(y == c)
            if c in self.sampling_strategy_:
                n = self.sampling_strategy_[c]
                idx = idx[rng.choice(idx.size, size=n, replace=self.replacement)]
            keep.append(idx)
        self.sample_indices_ = np.concatenate(keep).astype(np.int64)
        return X[self.sample_indices_], y[self.sample_indices_]


def _nearest_neighbors(X: np.ndarray, k: int, chunk: int = 1024) -> np.ndarray:
    """Indices (n, k) of each row's k nearest other rows, nearest first (ties by index)."""
    sq = np.einsum("ij,ij->i", X, X)
    out = np.empty((X.shape[0], k), dtype=np.int64)
    for start in range(0, X.shape[0], chunk):
        rows = np.arange(start, min(start + chunk, X.shape[0]))
        d = sq[rows, None] - 2.0 * X[rows] @ X.T + sq[None, :]  # (chunk, n) squared distances
        d[np.arange(rows.size), rows] = np.inf  # a sample is not its own neighbour
        part = np.argpartition(d, k - 1, axis=1)[:, :k] if k < X.shape[0] else np.argsort(d, 1)
        order = np.lexsort((part, np.take_along_axis(d, part, axis=1)), axis=1)
        out[rows] = np.take_along_axis(part, order, axis=1)[:, :k]
    return out


class SMOTE(_BaseSampler):
    r"""Synthetic minority over-sampling: new points on segments between close neighbours.

    Each synthetic sample picks a sample :math:`x_i` of the class uniformly, one of its
    ``k_neighbors`` nearest neighbours :math:`x_{nn}` within the class uniformly, and a gap
    :math:`\lambda \sim U[0, 1)`:

    .. math:: x_{new} = x_i + \lambda (x_{nn} - x_i) .

    Parameters
    ----------
    sampling_strategy : str, float, dict or callable, default='auto'
    random_state : None, int or numpy.random.Generator
    k_neighbors : int, default=5
        Must be smaller than the number of samples of every class that is over-sampled.

    Attributes
    ----------
    sampling_strategy_ : dict
        Number of synthetic samples made for each class.

    References
    ----------
    Chawla, Bowyer, Hall & Kegelmeyer, "SMOTE: synthetic minority over-sampling technique",
    JAIR 16, 2002, section 4.2.
    """

    _kind = "over"

    def __init__(
        self, *, sampling_strategy: Any = "auto", random_state: Any = None, k_neighbors: int = 5
    ) -> None:
        self.sampling_strategy = sampling_strategy
        self.random_state = random_state
        self.k_neighbors = k_neighbors

    def _resample(self, X, y, rng):
        k = check_scalar(self.k_neighbors, "k_neighbors", kind=numbers.Integral, low=1)
        X_parts, y_parts = [X], [y]
        for c, n in self.sampling_strategy_.items():
            if n == 0:
                continue
            Xc = X[y == c]
            if k >= Xc.shape[0]:
                raise ValueError(
                    f"k_neighbors={k} must be smaller than the number of samples of class "
                    f"{c!r} ({Xc.shape[0]}): SMOTE needs k_neighbors + 1 samples of a class"
                )
            nn = _nearest_neighbors(Xc, k)
            rows = rng.integers(0, Xc.shape[0], size=n)
            cols = rng.integers(0, k, size=n)
            gap = rng.uniform(size=(n, 1))
            X_parts.append(Xc[rows] + gap * (Xc[nn[rows, cols]] - Xc[rows]))
            y_parts.append(np.full(n, c, dtype=y.dtype))
        return np.vstack(X_parts), np.concatenate(y_parts)


def compute_class_weight(
    class_weight: dict[Any, float] | str | None,
    *,
    classes: Any,
    y: Any,
    sample_weight: Any = None,
) -> np.ndarray:
    r"""Weight of each class, for losses that should not be dominated by the majority.

    ``'balanced'`` gives class :math:`c` the weight :math:`n / (K \, n_c)` (with sample weights,
    :math:`n_c` and :math:`n` are weight sums), so every class carries the same total weight;
    a dict gives weights by label (missing labels get 1); ``None`` gives 1 everywhere.

    Parameters
    ----------
    class_weight : dict, 'balanced' or None
    classes : array-like of shape (n_classes,)
        The labels, in the order of the returned weights.
    y : array-like of shape (n_samples,)
    sample_weight : array-like of shape (n_samples,), default=None

    Returns
    -------
    ndarray of shape (n_classes,)

    References
    ----------
    King & Zeng, "Logistic regression in rare events data", Political Analysis 9(2), 2001.
    """
    classes = check_array(classes, "classes", ndim=1, dtype=None)
    y = check_array(y, "y", ndim=1, dtype=None)
    if np.setdiff1d(y, classes).size:
        raise ValueError(
            f"classes should include all labels of y; missing {np.setdiff1d(y, classes)}"
        )
    if class_weight is None or (isinstance(class_weight, dict) and not class_weight):
        return np.ones(classes.size)
    if isinstance(class_weight, str):
        if class_weight != "balanced":
            raise ValueError(
                f"class_weight must be 'balanced', a dict or None; got {class_weight!r}"
            )
        if not np.isin(classes, y).all():
            raise ValueError("classes should have valid labels that are in y")
        w = check_sample_weight(sample_weight, y.shape[0])
        present, y_ind = np.unique(y, return_inverse=True)
        per_class = np.bincount(y_ind, weights=w)
        recip = per_class.sum() / (present.size * per_class)
        return recip[np.searchsorted(present, classes)]
    if not isinstance(class_weight, dict):
        raise TypeError(f"class_weight must be 'balanced', a dict or None; got {class_weight!r}")
    unknown = [c for c in class_weight if c not in set(classes.tolist())]
    if unknown:
        raise ValueError(f"class_weight names labels that are not in classes: {unknown}")
    return np.array([float(class_weight.get(c, 1.0)) for c in classes.tolist()])
