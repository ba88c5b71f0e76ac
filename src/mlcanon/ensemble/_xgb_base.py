"""The boosting loop shared by :class:`XGBRegressor` and :class:`XGBClassifier`.

See :mod:`mlcanon.ensemble._xgb` for the algorithm; this module holds the parameters, their
validation, the rounds (gradients, one tree per output, evaluation, early stopping) and the
prediction of raw margins.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import numba
import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from mlcanon import io
from mlcanon._estimator import sample_weight_array, store_params
from mlcanon._validation import (
    RANDOM_STATE,
    InstanceOf,
    Interval,
    Options,
    check_random_state,
    validate_params,
)
from mlcanon.tree._checks import check_X, check_X_y
from mlcanon.tree._tree import check_nodes

from ._binning import apply_bins, fit_bin_edges
from ._hist_grower import GrowParams, RowBlock, add_tree, grow_tree
from ._hist_kernels import LEAF, predict_leaves, predict_raw
from ._objectives import (
    DEFAULT_METRIC,
    METRICS,
    OBJECTIVES,
    Objective,
    check_metric,
    metric_sums,
    metric_value,
)

__all__ = ["DOC_PARAMS", "BaseXGB"]

IMPORTANCE_TYPES = ("gain", "weight", "cover", "total_gain", "total_cover")  # xgboost's
NO_DEPTH_LIMIT = 2**62  # max_depth=0: grow until no split gains (xgboost's "no limit")
MULTI_STRATEGIES = ("one_output_per_tree", "multi_output_tree")  # xgboost's
DEFAULT_BASE_SCORE = 0.5  # xgboost's base_score where it cannot estimate one

_NODE_KEYS = (
    "left",
    "right",
    "feature",
    "split_bin",
    "threshold",
    "default_left",
    "value",
    "gain",
    "cover",
)


class BaseXGB(BaseEstimator):
    """Parameters, boosting rounds and raw margins shared by the XGB regressor and classifier."""

    def __init__(
        self,
        *,
        n_estimators: int = 100,
        learning_rate: float = 0.3,
        max_depth: int = 6,
        reg_lambda: float = 1.0,
        reg_alpha: float = 0.0,
        gamma: float = 0.0,
        min_child_weight: float = 1.0,
        subsample: float = 1.0,
        colsample_bytree: float = 1.0,
        max_bin: int = 256,
        objective: str | Callable | None = None,
        base_score: float | None = None,
        early_stopping_rounds: int | None = None,
        eval_metric: str | list[str] | None = None,
        n_jobs: int | None = None,
        random_state: int | np.random.Generator | None = None,
        importance_type: str | None = None,
        multi_strategy: str | None = None,
    ) -> None:
        store_params(self, locals())

    # --- validation --------------------------------------------------------------------------
    _parameter_constraints: ClassVar[dict[str, Any]] = {
        "n_estimators": Interval(numbers.Integral, low=1),
        "learning_rate": Interval(low=0.0),  # 0 keeps the base margin, as in xgboost
        "max_depth": Interval(numbers.Integral, low=0),
        "reg_lambda": Interval(low=0.0),
        "reg_alpha": Interval(low=0.0),
        "gamma": Interval(low=0.0),
        "min_child_weight": Interval(low=0.0),
        "subsample": Interval(low=0.0, high=1.0, include_low=False),
        "colsample_bytree": Interval(low=0.0, high=1.0, include_low=False),
        "max_bin": Interval(numbers.Integral, low=2, high=65535),
        "random_state": RANDOM_STATE,
        "early_stopping_rounds": (None, Interval(numbers.Integral, low=1)),
        "eval_metric": (None, Options(*METRICS), InstanceOf(list, tuple)),
        "n_jobs": (None, Interval(numbers.Integral, low=1), Interval(numbers.Integral, high=-1)),
        "base_score": (None, Interval()),
        "importance_type": (None, Options(*IMPORTANCE_TYPES)),
        "multi_strategy": (None, Options(*MULTI_STRATEGIES)),
    }

    def _grow_params(self) -> GrowParams:
        """The hyper-parameters that the tree grower reads, as plain floats and ints."""
        return GrowParams(
            self.max_depth or NO_DEPTH_LIMIT,
            float(self.learning_rate),
            float(self.reg_lambda),
            float(self.reg_alpha),
            float(self.gamma),
            float(self.min_child_weight),
            self.max_bin,
        )

    def _n_threads(self) -> int:
        n_max = numba.config.NUMBA_NUM_THREADS
        if self.n_jobs is None or self.n_jobs < 0:
            return n_max
        return min(self.n_jobs, n_max)

    def _objective(self) -> Objective:
        if callable(self.objective):
            return Objective(self.objective)
        return OBJECTIVES[self._default_objective()]()

    # --- fitting -----------------------------------------------------------------------------
    def _boost(
        self, X: np.ndarray, y: np.ndarray, w: np.ndarray, eval_set: list, verbose: int = 0
    ) -> None:
        rng = check_random_state(self.random_state)
        obj = self._objective()
        n, d = X.shape
        K = self.n_outputs_
        self.bin_edges_, self.n_bin_edges_ = fit_bin_edges(
            X, self.max_bin, rng=rng, sample_weight=w
        )
        binned = apply_bins(X, self.bin_edges_, self.n_bin_edges_, self.max_bin)
        data = RowBlock(binned, self.max_bin)
        n_bins = self.n_bin_edges_ + 1
        self.base_margin_ = self._base_margin(obj, y, w)
        FT = np.tile(self.base_margin_[:, None], (1, n))  # margins, one row per output
        params = self._grow_params()
        evals = [(Xe, ye, we, np.tile(self.base_margin_, (len(ye), 1))) for Xe, ye, we in eval_set]

        def grow_round(rows: np.ndarray, cols: np.ndarray) -> list[dict[str, np.ndarray]]:
            g, h = obj.weighted_grad_hess(y, FT.T, w)
            trees = []
            for k in range(K):
                tree = grow_tree(
                    data,
                    np.ascontiguousarray(g[:, k]),
                    np.ascontiguousarray(h[:, k]),
                    rows,
                    cols,
                    n_bins,
                    self.bin_edges_,
                    params,
                )
                if len(rows) == n:  # every row sits in one leaf's range: no need to walk the tree
                    data.add_leaf_values(tree, FT[k])
                else:
                    add_tree(binned, self.max_bin, tree, FT[k])
                trees.append(tree)
            return trees

        task = self._task()

        def score_round(nodes: dict, offsets: np.ndarray, metrics: list) -> list[list[float]]:
            scores = []
            for Xe, ye, we, Fe in evals:
                _add_margins(Xe, Fe, nodes, offsets, K, 0, K)
                scores.append([metric_value(m, metric_sums(m, ye, Fe, we, task)) for m in metrics])
            return scores

        self._boost_rounds(grow_round, score_round, obj, len(evals), rng, n, d, verbose)

    def _boost_rounds(
        self,
        grow_round: Callable,
        score_round: Callable,
        obj: Objective,
        n_evals: int,
        rng: np.random.Generator,
        n: int,
        d: int,
        verbose: int = 0,
    ) -> None:
        """The boosting rounds, wherever the rows live (one process, or Dask workers).

        ``grow_round(rows, cols)`` grows one round's trees (one per output) on the drawn rows
        and features and adds them to the training margins; ``score_round(nodes, offsets,
        metrics)`` adds them to the margins of each eval set and returns each set's metrics.
        The last metric on the last eval set drives early stopping, as in xgboost.
        ``verbose`` > 0 prints the metrics every ``verbose`` rounds, and those of the last
        round, as xgboost's ``EvaluationMonitor``.
        """
        metrics = self._metrics(obj)
        self.evals_result_ = {f"validation_{i}": {m: [] for m in metrics} for i in range(n_evals)}
        patience = self.early_stopping_rounds if n_evals else None
        n_rows = max(1, round(self.subsample * n))
        n_cols = max(1, int(self.colsample_bytree * d))
        trees: list[dict[str, np.ndarray]] = []
        unprinted = None  # the metrics of the last round, when verbose skipped it
        best_score, best_iter = np.inf, 0
        for it in range(self.n_estimators):
            rows = np.arange(n) if n_rows == n else np.sort(rng.choice(n, n_rows, replace=False))
            cols = np.arange(d) if n_cols == d else np.sort(rng.choice(d, n_cols, replace=False))
            new = grow_round(rows, cols)
            trees += new
            if not n_evals:
                continue
            # this round's trees only: joining all of them each round is quadratic
            scores = score_round(*_join(new), metrics)
            for i, set_scores in enumerate(scores):
                for m, score in zip(metrics, set_scores, strict=True):
                    self.evals_result_[f"validation_{i}"][m].append(score)
            if verbose:
                line = f"[{it}]" + "".join(
                    f"\tvalidation_{i}-{m}:{score:.5f}"
                    for i, set_scores in enumerate(scores)
                    for m, score in zip(metrics, set_scores, strict=True)
                )
                unprinted = None if it % verbose == 0 else line
                if unprinted is None:
                    print(line, flush=True)
            if patience is None:
                continue
            if scores[-1][-1] < best_score:
                best_score, best_iter = scores[-1][-1], it
            elif it - best_iter >= patience:
                break
        if unprinted is not None:
            print(unprinted, flush=True)
        self.nodes_, self.tree_offsets_ = _join(trees)
        self.n_iterations_ = len(trees) // self.n_outputs_
        vars(self).pop("best_score_", None)  # a score of an earlier fit would be stale
        if patience is None:
            self.best_iteration_ = self.n_iterations_ - 1
        else:
            self.best_iteration_, self.best_score_ = best_iter, float(best_score)

    def _base_margin(self, obj: Objective, y: np.ndarray, w: np.ndarray) -> np.ndarray:
        score = self.base_score
        if score is None:
            estimate = obj.base_margin(y, w, self.n_outputs_)
            if estimate is not None:
                return estimate.astype(np.float64)
            score = DEFAULT_BASE_SCORE  # a callable objective: xgboost's default
        return np.full(self.n_outputs_, self._score_to_margin(float(score)))

    def _score_to_margin(self, score: float) -> float:
        return score

    def _task(self) -> str:
        """What the margins predict: "regression", "binary" or "multiclass" probabilities."""
        if not isinstance(self, ClassifierMixin):
            return "regression"
        return "binary" if self.n_outputs_ == 1 else "multiclass"

    def _metrics(self, obj: Objective) -> list[str]:
        """``eval_metric`` (one name or a list), each checked to apply to the task, or the
        task's default metric."""
        if self.eval_metric is None:
            return [DEFAULT_METRIC[self._task()]]
        names = [self.eval_metric] if isinstance(self.eval_metric, str) else self.eval_metric
        if len(names) == 0:
            raise ValueError("eval_metric must name at least one metric; got an empty list")
        for name in names:
            if name not in METRICS:
                raise ValueError(
                    f"eval_metric must be None, one of {', '.join(map(repr, METRICS))} or a "
                    f"list of them; got {name!r} in {self.eval_metric!r}"
                )
            check_metric(name, self._task(), obj.name)
        return list(dict.fromkeys(names))

    def fit(
        self,
        X: Any,
        y: Any,
        sample_weight: Any = None,
        eval_set: Sequence[tuple[Any, Any]] | None = None,
        verbose: bool | int = False,
        sample_weight_eval_set: Sequence[Any] | None = None,
    ) -> BaseXGB:
        """Boost ``n_estimators`` rounds on ``X`` (NaN allowed) and ``y`` (targets, or class
        labels of at least two classes); each ``(X, y)`` of ``eval_set`` is scored after every
        round, and the last one drives early stopping. ``verbose`` (True, or a period of
        rounds) prints the metrics as xgboost's ``fit(verbose=)`` does; by default nothing is
        printed (xgboost prints every round). ``sample_weight_eval_set`` holds the weights of
        each eval set's rows (or None for equal weights): its metrics are weighted means, as
        in xgboost."""
        classifier = isinstance(self, ClassifierMixin)
        if not classifier and not sp.issparse(y):
            y_arr = np.asarray(y)
            if y_arr.ndim == 2 and y_arr.shape[1] == 1:
                y = y_arr[:, 0]  # one target, as xgboost takes it (no conversion warning)
        X, y = check_X_y(self, X, y, classifier=classifier, multi_output=not classifier)
        w = sample_weight_array(sample_weight, X.shape[0])
        y = self._encode_y(y)
        validate_params(self)
        if self.multi_strategy == "multi_output_tree":
            raise ValueError(
                "multi_strategy='multi_output_tree' (one tree with vector leaves for all "
                "outputs) is not implemented; use None or 'one_output_per_tree' (one tree per "
                "output each round, xgboost's default)"
            )
        evals = []
        pairs, sample_weight_eval_set = self._eval_pairs(eval_set, sample_weight_eval_set)
        for i, (Xe, ye) in enumerate(pairs):
            Xe = check_X(self, Xe, reset=False)
            ye = np.asarray(ye)
            if ye.ndim == 2 and ye.shape[1] == 1:
                ye = ye[:, 0]  # a column of labels, as xgboost takes it
            shape = (len(Xe),) if y.ndim == 1 else (len(Xe), y.shape[1])
            if ye.shape != shape:
                raise ValueError(
                    f"eval_set[{i}]: X has {len(Xe)} rows, so y must have shape {shape} (one "
                    f"column per target of fit's y); got {ye.shape}"
                )
            ye = self._encode_eval(ye)
            try:
                we = sample_weight_array(sample_weight_eval_set[i], len(ye))
            except ValueError as exc:
                raise ValueError(f"sample_weight_eval_set[{i}]: {exc}") from exc
            evals.append((Xe, ye, we))
        previous = numba.get_num_threads()
        numba.set_num_threads(self._n_threads())
        try:
            self._boost(X, y, w, evals, _verbose_period(verbose))
        finally:
            numba.set_num_threads(previous)
        return self

    def _eval_pairs(
        self, eval_set: Sequence | None, weights: Sequence | None
    ) -> tuple[list[tuple[Any, Any]], list[Any]]:
        """The ``(X, y)`` pairs of ``eval_set``, checked to be pairs (early stopping needs one),
        and their ``sample_weight_eval_set`` entries (None for unit weights), one per pair."""
        pairs = []
        for i, pair in enumerate(eval_set or []):
            if not (isinstance(pair, tuple | list) and len(pair) == 2):
                raise ValueError(f"eval_set[{i}] must be a pair (X, y), got {type(pair).__name__}")
            pairs.append(tuple(pair))
        if self.early_stopping_rounds is not None and not pairs:
            raise ValueError("early_stopping_rounds needs at least one eval_set=[(X_val, y_val)]")
        if weights is None:
            return pairs, [None] * len(pairs)
        if len(weights) != len(pairs):
            raise ValueError(
                f"sample_weight_eval_set must have one entry per eval_set pair ({len(pairs)}); "
                f"got {len(weights)}"
            )
        return pairs, list(weights)

    # xgboost's names for the results of early stopping and evaluation
    def evals_result(self) -> dict[str, dict[str, list[float]]]:
        """The metric of every round on each eval set: ``evals_result_``, as xgboost's."""
        return self.evals_result_

    @property
    def intercept_(self) -> np.ndarray:
        """The base score as xgboost's ``intercept_`` reports it (float32): ``base_margin_``,
        except for ``"binary:logistic"``, whose base score is a probability (its sigmoid)."""
        check_is_fitted(self, "base_margin_")
        return self._margin_to_score(np.asarray(self.base_margin_)).astype(np.float32)

    def _margin_to_score(self, margin: np.ndarray) -> np.ndarray:
        return margin

    def _early_stopped(self, name: str) -> None:
        """xgboost's ``best_iteration`` and ``best_score`` exist after early stopping only."""
        check_is_fitted(self, "best_iteration_")
        if "best_score_" not in vars(self):
            raise AttributeError(f"`{name}` is only defined when early stopping is used.")

    @property
    def best_iteration(self) -> int:
        """``best_iteration_``, after early stopping only (AttributeError otherwise, as in
        xgboost; ``best_iteration_`` is then the last round)."""
        self._early_stopped("best_iteration")
        return self.best_iteration_

    @property
    def best_score(self) -> float:
        """``best_score_``: the best metric on the last eval set, set by early stopping."""
        self._early_stopped("best_score")
        return self.best_score_

    def predict(
        self,
        X: Any,
        output_margin: bool = False,
        iteration_range: tuple[int, int] | None = None,
    ) -> np.ndarray:
        """Predicted targets or class labels from the margins of the rounds in
        ``iteration_range`` (see :meth:`decision_function_raw`); with ``output_margin`` the
        margins themselves, as xgboost gives them: shape (n_samples,) for one margin,
        (n_samples, n_classes) for several."""
        F = self.decision_function_raw(X, iteration_range)
        if output_margin:
            return F[:, 0] if self.n_outputs_ == 1 else F
        return self._from_margins(F)

    def _from_margins(self, F: np.ndarray) -> np.ndarray:
        """Predictions from the margins (n_samples, n_outputs)."""
        raise NotImplementedError

    @property
    def feature_importances_(self) -> np.ndarray:
        """xgboost's importance of each feature over the splits of every tree, scaled to sum to
        1 (all zeros when no tree splits): by ``importance_type``, the mean ("gain", the
        default) or total ("total_gain") split gain, the number of splits ("weight"), or the
        mean or total hessian sum of the split nodes ("cover", "total_cover"); float32, as
        xgboost's."""
        kind = self.importance_type or "gain"
        validate_params(self)
        nodes = self.nodes_
        split = nodes["left"] != LEAF
        feature, d = nodes["feature"][split], self.n_features_in_
        count = np.bincount(feature, minlength=d).astype(np.float64)
        if kind == "weight":
            score = count
        else:
            key = "gain" if kind.endswith("gain") else "cover"
            score = np.bincount(feature, weights=nodes[key][split], minlength=d)
            if not kind.startswith("total_"):
                score = np.divide(score, count, out=np.zeros(d), where=count > 0)
        # float32, as xgboost's (its scores are float32 from get_score)
        return (score / score.sum() if score.sum() > 0 else score).astype(np.float32)

    def decision_function_raw(self, X: Any, iteration_range: tuple[int, int] | None = None):
        """Raw margins (n_samples, n_outputs) of the rounds ``start..stop-1`` of
        ``iteration_range``; by default (``None``, or a stop of 0, as in xgboost) of rounds
        ``0..best_iteration_``. An empty range (``start == stop``) gives the base margins."""
        X = check_X(self, X, reset=False)
        start, stop = self._rounds(iteration_range)
        F = np.tile(self.base_margin_, (X.shape[0], 1))
        previous = numba.get_num_threads()
        numba.set_num_threads(self._n_threads())
        try:
            _add_margins(
                X,
                F,
                self.nodes_,
                self.tree_offsets_,
                self.n_outputs_,
                start * self.n_outputs_,
                stop * self.n_outputs_,
            )
        finally:
            numba.set_num_threads(previous)
        return F

    def _rounds(self, iteration_range: tuple[int, int] | None) -> tuple[int, int]:
        """``(start, stop)`` of ``iteration_range``: by default (``None``, or a stop of 0, as in
        xgboost) rounds ``0..best_iteration_``."""
        check_is_fitted(self, "nodes_")
        if iteration_range is None or iteration_range[1] == 0:
            iteration_range = (0, self.best_iteration_ + 1)
        start, stop = iteration_range
        if not 0 <= start <= stop <= self.n_iterations_:  # start == stop: the base margin
            raise ValueError(
                f"iteration_range must satisfy 0 <= start <= stop <= "
                f"{self.n_iterations_}, got {(start, stop)}"
            )
        return start, stop

    def apply(self, X: Any, iteration_range: tuple[int, int] | None = None) -> np.ndarray:
        """The leaf that each sample reaches in each tree of the rounds of ``iteration_range``
        (as :meth:`decision_function_raw`), as xgboost's ``apply``: float32 of shape
        (n_samples, n_rounds * n_outputs), trees in round order (one per output within a
        round), leaves numbered within their tree as in ``nodes_`` (xgboost's node ids when
        the trees are the same)."""
        X = check_X(self, X, reset=False)
        start, stop = self._rounds(iteration_range)
        K = self.n_outputs_
        out = np.zeros((X.shape[0], (stop - start) * K), np.int64)
        nodes = self.nodes_
        previous = numba.get_num_threads()
        numba.set_num_threads(self._n_threads())
        try:
            predict_leaves(
                X,
                nodes["left"],
                nodes["right"],
                nodes["feature"],
                nodes["threshold"],
                nodes["default_left"],
                self.tree_offsets_,
                start * K,
                stop * K,
                out,
            )
        finally:
            numba.set_num_threads(previous)
        return out.astype(np.float32)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags


def _verbose_period(verbose: Any) -> int:
    """The rounds between printed metrics: 0 (none) for False/None/0, 1 for True."""
    if verbose is None or isinstance(verbose, bool | np.bool_):
        return int(bool(verbose))
    if not isinstance(verbose, numbers.Integral) or verbose < 0:
        raise ValueError(f"verbose must be a bool or an int >= 0; got {verbose!r}")
    return int(verbose)


def _join(trees: list[dict[str, np.ndarray]]) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Concatenated node arrays of ``trees`` and the offset of each tree's first node."""
    sizes = [len(t["left"]) for t in trees]
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    return {k: np.concatenate([t[k] for t in trees]) for k in _NODE_KEYS}, offsets


def _add_margins(X, F, nodes, offsets, n_outputs, first, stop) -> None:
    """``F += margins`` of trees ``first <= t < stop`` of the joined ``nodes``."""
    predict_raw(
        X,
        nodes["left"],
        nodes["right"],
        nodes["feature"],
        nodes["threshold"],
        nodes["default_left"],
        nodes["value"],
        offsets,
        n_outputs,
        first,
        stop,
        F,
    )


@io.on_load(BaseXGB)
def _check_loaded(model: BaseXGB) -> None:
    """The prediction kernel trusts the node arrays: check each tree and the bookkeeping."""
    state = vars(model)
    if "nodes_" not in state:
        return
    nodes, offsets, k = model.nodes_, model.tree_offsets_, model.n_outputs_
    if not (isinstance(nodes, dict) and set(nodes) == set(_NODE_KEYS)):
        raise ValueError(f"nodes_ must be a dict of the arrays {list(_NODE_KEYS)}")
    n_nodes = len(nodes["left"])
    if not (isinstance(offsets, np.ndarray) and offsets.dtype == np.int64 and offsets.ndim == 1):
        raise ValueError("tree_offsets_ must be a 1-D int64 array")
    if (
        offsets.size < 2
        or offsets[0] != 0
        or offsets[-1] != n_nodes
        or np.any(np.diff(offsets) < 1)
    ):
        raise ValueError(f"tree_offsets_ must rise from 0 to the node count {n_nodes}")
    n_trees = offsets.size - 1
    if not (isinstance(k, int) and k >= 1 and n_trees == model.n_iterations_ * k):
        raise ValueError(f"{n_trees} trees do not make n_iterations_ rounds of n_outputs_={k!r}")
    if not 0 <= model.best_iteration_ < model.n_iterations_:
        raise ValueError(f"best_iteration_ must lie in [0, {model.n_iterations_})")
    if getattr(model.base_margin_, "shape", None) != (k,):
        raise ValueError(f"base_margin_ must have shape ({k},)")
    if "classes_" in state and k != (1 if len(model.classes_) == 2 else len(model.classes_)):
        raise ValueError(f"n_outputs_={k} does not fit {len(model.classes_)} classes")
    value = nodes["value"]
    if not (
        isinstance(value, np.ndarray) and value.dtype == np.float64 and value.shape == (n_nodes,)
    ):
        raise ValueError(f"nodes_['value'] must be float64 of shape ({n_nodes},)")
    for t in range(n_trees):
        part = slice(offsets[t], offsets[t + 1])
        try:
            check_nodes(
                *(nodes[key][part] for key in ("left", "right", "feature", "threshold")),
                nodes["default_left"][part],
                model.n_features_in_,
            )
        except ValueError as exc:
            raise ValueError(f"tree {t} of nodes_: {exc}") from exc


DOC_PARAMS = """
    Parameters
    ----------
    n_estimators : int, default=100
        Boosting rounds (trees per output).
    learning_rate : float, default=0.3
        Shrinkage :math:`\\eta` of each tree (>= 0; 0 leaves the base margin, as in xgboost).
    max_depth : int, default=6
        Depth of each tree (grown level by level); 0 for no limit, as in xgboost.
    reg_lambda, reg_alpha : float, default=1.0, 0.0
        L2 and L1 penalties on leaf values.
    gamma : float, default=0.0
        Minimum gain (as defined above) for a split.
    min_child_weight : float, default=1.0
        Minimum hessian sum in each child.
    subsample, colsample_bytree : float, default=1.0
        Fraction of rows / features drawn (without replacement) for each tree.
    max_bin : int, default=256
        Maximum number of quantile bins per feature (missing values get their own).
    objective : str or callable, optional
        Built-in name (``"reg:squarederror"``; ``"binary:logistic"`` for two classes,
        ``"multi:softprob"`` for more) or ``fn(y_true, margin) -> (grad, hess)``, whose
        results are multiplied by the sample weights; as in xgboost, a callable with a
        ``sample_weight`` parameter receives the weights and applies them itself.
    base_score : float, optional
        Initial prediction (a probability for two classes, a margin of every class for more);
        estimated from ``y`` when ``None``, as xgboost does: the weighted mean, its log-odds,
        or the centred logs of the class frequencies (see :mod:`._objectives`); with a callable
        ``objective``, xgboost's default 0.5 (a margin of 0 for two classes).
    early_stopping_rounds : int, optional
        Stop when the metric on the last ``eval_set`` has not improved for this many rounds;
        predictions then use the best round (``best_iteration_``).
    eval_metric : str or list of str, optional
        "rmse" or "mae" (regression, and the probabilities of two classes), "logloss" or
        "error" (two classes), "mlogloss" or "merror" (more classes); by default the first
        of its task's. With a list, every metric is recorded and the last one drives early
        stopping, as in xgboost. A metric of another task is a ValueError (xgboost scores
        "logloss" and "error" of a regressor's raw predictions).
    n_jobs : int, optional
        Threads of the numba kernels (default: all).
    random_state : int, Generator or None
        Seeds row/column subsampling and the quantile sample.
    importance_type : {"gain", "weight", "cover", "total_gain", "total_cover"}, optional
        What ``feature_importances_`` measures, as in xgboost (default "gain").
    multi_strategy : {"one_output_per_tree"}, optional
        How several outputs (classes, or the columns of a 2-D regression ``y``) are fitted:
        one tree per output each round (``None`` is the same, xgboost's default).
        ``"multi_output_tree"`` (vector leaves) is refused: not implemented.
"""
