"""Pieces of gradient boosting: the ``init`` parameter's constraint, one stage's raw output,
the leaf line search, the init estimator's fit, the early-stopping split and stopper, and the
progress printout."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from sklearn.base import clone

from mlcanon.tree._checks import as_float32

from ._base import accepts_sample_weight
from ._gb_losses import SquaredError

__all__ = [
    "InitEstimator",
    "Progress",
    "ValidationStop",
    "fit_init",
    "line_search",
    "stage_raw",
    "validation_mask",
]


class InitEstimator:
    """Parameter constraint: an object with ``fit`` and ``method`` (scikit-learn's wording)."""

    def __init__(self, owner: str, method: str) -> None:
        self.owner, self.method = owner, method

    def check(self, value: Any, name: str) -> Any:
        if isinstance(value, type) or not (hasattr(value, "fit") and hasattr(value, self.method)):
            raise ValueError(
                f"The '{name}' parameter of {self.owner} must be a str among {{'zero'}}, None or "
                f"an object implementing 'fit' and '{self.method}'. Got {value!r} instead."
            )
        return value

    def __str__(self) -> str:
        return f"an object implementing 'fit' and '{self.method}'"


def stage_raw(stage: list, X32: np.ndarray) -> np.ndarray:
    """One stage's tree outputs, shape (n_samples, K)."""
    return np.column_stack([tree.tree_.predict(X32)[:, 0] for tree in stage])


def line_search(tree, leaves, mask, y, F, r, w, loss, k) -> None:
    """Replace each leaf's mean residual by the loss's optimal step on in-bag samples."""
    if isinstance(loss, SquaredError):
        return  # the mean residual is already the optimal step
    for leaf in np.flatnonzero(tree.tree_.children_left == -1):
        inleaf = (leaves == leaf) & mask
        if not inleaf.any():
            continue
        v = loss.leaf_value(y[inleaf], F[inleaf], r[inleaf], w[inleaf], k)
        if v is not None:
            tree.tree_.value[leaf, 0, 0] = v


def fit_init(init: Any, X: np.ndarray, y: np.ndarray, w: np.ndarray | None) -> Any:
    """Fit a copy of the ``init`` estimator (with the weights, when given)."""
    model = clone(init)
    if w is None:
        return model.fit(X, y)
    if not accepts_sample_weight(model):
        raise ValueError(
            f"The initial estimator {type(model).__name__} does not support sample weights."
        )
    return model.fit(X, y, sample_weight=w)


def validation_mask(y: np.ndarray, fraction: float, random_state: Any, stratify: bool):
    """Rows held out for early stopping: ``ceil(fraction * n)`` of them at random, spread over
    the classes in proportion to their sizes when ``stratify``.

    With an int, a ``RandomState`` or ``None`` as ``random_state`` these are the rows that
    scikit-learn holds out (its ``train_test_split``, stratified for a classifier), so that
    early stopping stops at the same stage; a ``numpy.random.Generator`` draws them itself.
    """
    n = len(y)
    n_val = int(np.ceil(fraction * n))
    if n_val == n:
        raise ValueError(
            f"validation_fraction={fraction} holds out ceil({fraction} * {n}) = {n} of the {n} "
            "samples for early stopping, leaving none to train on; lower validation_fraction"
        )
    classes = _check_stratifiable(y, n, n_val, fraction) if stratify else None
    mask = np.zeros(n, bool)
    if not isinstance(random_state, np.random.Generator):
        from sklearn.model_selection import train_test_split

        rows = np.arange(n)
        _, held_out = train_test_split(
            rows, test_size=fraction, random_state=random_state, stratify=y if stratify else None
        )
        mask[held_out] = True
    elif not stratify:
        mask[random_state.choice(n, n_val, replace=False)] = True
    else:
        for c, size in zip(*np.unique(y, return_counts=True), strict=True):
            rows = np.flatnonzero(y == c)
            mask[random_state.choice(rows, round(n_val * size / n), replace=False)] = True
    if stratify and len(np.unique(y[~mask])) != len(classes):
        raise ValueError(
            "The training data after the early stopping split is missing some classes. Try "
            "using another random seed."
        )
    return mask


def _check_stratifiable(y: np.ndarray, n: int, n_val: int, fraction: float) -> np.ndarray:
    """The classes of ``y``, which a stratified split of ``n_val`` held-out rows needs: two
    members of each, and as many rows as classes on both sides."""
    classes, counts = np.unique(y, return_counts=True)
    if counts.min() < 2:
        raise ValueError(
            f"The least populated classes in y have only {counts.min()} member, which is too "
            "few to split them between training and validation data. Classes with too few "
            f"members are: {classes[counts < 2].tolist()}"
        )
    for size, part in ((n - n_val, "train_size"), (n_val, "test_size")):
        if size < len(classes):  # the stratified split could leave a part empty
            raise ValueError(
                f"The {part} = {size} should be greater or equal to the number of classes = "
                f"{len(classes)}: validation_fraction={fraction} of {n} samples holds out "
                f"{n_val} for early stopping and trains on {n - n_val}"
            )
    return classes


def check_split_weights(w: np.ndarray, inside: np.ndarray, why: str, names: tuple) -> None:
    """Rows split in two (``inside`` and the rest) for a tree and a loss: each part needs a
    positive total weight, else its tree or its weighted mean loss is undefined."""
    for part, name in ((inside, names[0]), (~inside, names[1])):
        if not w[part].sum() > 0:
            raise ValueError(
                f"{why}, and the {np.count_nonzero(part)} {name} rows all have sample_weight "
                "0; give more rows a positive weight or change that parameter"
            )


class ValidationStop:
    """Held-out loss after each stage; says stop once ``n_iter_no_change`` stages in a row
    have not beaten any of the last ``n_iter_no_change`` losses by ``tol``."""

    def __init__(self, model: Any, loss: Any, X: np.ndarray, y: np.ndarray, w: np.ndarray):
        self.model, self.loss, self.y, self.w = model, loss, y, w
        self.X32 = as_float32(X)
        self.F = model._raw_init(X)
        for stage in model._stages:
            self.F += model.learning_rate * stage_raw(stage, self.X32)
        self.history = np.full(model.n_iter_no_change, np.inf)
        self.count = len(model._stages)

    def after(self, stage: list) -> bool:
        self.F += self.model.learning_rate * stage_raw(stage, self.X32)
        val = self.loss.score_factor * self.loss(self.y, self.F, self.w)
        if np.any(val + self.model.tol < self.history):
            self.history[self.count % len(self.history)] = val
            self.count += 1
            return False
        return True


class Progress:
    """Training loss (and out-of-bag improvement) every stage for ``verbose > 1``; for
    ``verbose == 1`` every stage up to 10, then every 10th up to 100, and so on."""

    def __init__(self, verbose: int, with_oob: bool, first_stage: int) -> None:
        fields = ["Iter", "Train Loss"] + (["OOB Improve"] if with_oob else []) + ["Remaining Time"]
        print(" ".join([f"{fields[0]:>10}"] + [f"{f:>16}" for f in fields[1:]]))
        self.verbose, self.with_oob, self.first = verbose, with_oob, first_stage
        self.every, self.start = 1, time.perf_counter()

    def update(self, stage: int, model: Any) -> None:
        done = stage - self.first + 1
        if done % self.every:
            return
        left = (model.n_estimators - stage - 1) * (time.perf_counter() - self.start) / done
        left_text = f"{left / 60:.2f}m" if left > 60 else f"{left:.2f}s"
        cols = [f"{stage + 1:>10d}", f"{model.train_score_[stage]:>16.4f}"]
        if self.with_oob:
            cols.append(f"{model.oob_improvement_[stage]:>16.4f}")
        print(" ".join([*cols, f"{left_text:>16}"]))
        if self.verbose == 1 and done // (self.every * 10) > 0:
            self.every *= 10
