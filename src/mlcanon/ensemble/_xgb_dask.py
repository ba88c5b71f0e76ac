"""Data-parallel fit of the histogram booster on a Dask cluster, as ``xgboost.dask`` does.

The rows stay where Dask holds them. Each row partition lives in a Dask actor on a worker,
which bins its rows with the bin edges chosen on the client, keeps its labels and margins, and
computes its gradients. Growing a tree is the single-process loop
(:func:`~mlcanon.ensemble._hist_grower.grow_from`) over a data source that asks every actor
for the gradient/hessian histograms of its rows, sums them, and broadcasts the chosen splits,
which every actor applies to its own rows. Trees are boosting rounds in sequence; the work
within a tree is spread over the workers.

The bin edges come from the same rows as in a single-process fit (all rows, or the same
random sample of 200,000 when there are more), gathered on the client; so the model has the
same trees as ``XGBClassifier``/``XGBRegressor`` fitted on the computed arrays. Only the order
of the floating-point sums differs (per partition, then across partitions), which moves leaf
values by rounding; gains within rounding of each other count as a tie, broken by the lower
feature index in both fits.

Eval sets stay on the workers too: an actor per eval partition keeps its rows and margins,
adds each round's trees to them and returns the sums :math:`(\\sum_i w_i l_i, \\sum_i w_i)` of
the metric's per-row loss (:func:`~mlcanon.ensemble._objectives.metric_sums`); the client adds
these numbers across partitions and turns them into the metric, so ``evals_result_`` and early
stopping are those of the single-process fit, up to the order of the sums.

References
----------
Chen, Guestrin (2016). XGBoost: A Scalable Tree Boosting System, KDD, sec. 4.1 (column blocks
for parallel learning) and the distributed (Rabit all-reduce) histogram method of xgboost.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from mlcanon._estimator import sample_weight_array
from mlcanon._validation import check_random_state, validate_params

from ._binning import apply_bins, fit_bin_edges
from ._hist_grower import RowBlock, add_tree, grow_from
from ._objectives import metric_sums, metric_value
from ._xgb import XGBClassifier, XGBRegressor
from ._xgb_base import _add_margins, _verbose_period

__all__ = ["DaskXGBClassifier", "DaskXGBRegressor"]

EDGE_SAMPLE = 200_000  # rows used for the quantile edges, as in fit_bin_edges


class _Partition:
    """One row partition on a worker (a Dask actor): bins, labels, weights, margins."""

    def __init__(self, X, y, w, edges, n_edges, max_bin, base_margin, objective):
        self.binned = apply_bins(np.asarray(X, np.float64), edges, n_edges, max_bin)
        self.block = RowBlock(self.binned, max_bin)
        self.y, self.w, self.max_bin, self.obj = y, w, max_bin, objective
        self.FT = np.tile(np.asarray(base_margin)[:, None], (1, len(y)))

    def gradients(self) -> None:
        self.g, self.h = self.obj.weighted_grad_hess(self.y, self.FT.T, self.w)

    def start_tree(self, k: int, rows: np.ndarray) -> tuple:
        g, h = np.ascontiguousarray(self.g[:, k]), np.ascontiguousarray(self.h[:, k])
        return self.block.start_tree(g, h, rows)

    def histograms(self, nodes, features, shape, slots) -> np.ndarray:
        out = np.zeros(shape)
        self.block.histograms(nodes, features, out, slots)
        return out

    def split(self, nodes, feats, bins, lefts, last) -> np.ndarray:
        return self.block.split(nodes, feats, bins, lefts, last)

    def finish_tree(self, k: int, tree: dict, all_rows: bool) -> None:
        if all_rows:
            self.block.add_leaf_values(tree, self.FT[k])
        else:
            add_tree(self.binned, self.max_bin, tree, self.FT[k])


class _Summed:
    """The actors of all partitions as one; the data source of :func:`grow_from` (it sums what
    each partition returns)."""

    def __init__(self, actors: list) -> None:
        self.actors = actors

    def _all(self, method: str, *args) -> list:
        futures = [getattr(a, method)(*args) for a in self.actors]
        return [f.result() for f in futures]

    def histograms(self, nodes, features, out, slots) -> None:
        parts = self._all("histograms", list(nodes), features, out.shape, list(slots))
        total = parts[0]
        for p in parts[1:]:
            total += p
        out[...] = total

    def split(self, nodes, feats, bins, lefts, last=False) -> np.ndarray:
        return np.sum(self._all("split", nodes, feats, bins, lefts, last), axis=0)


def _client(client):
    try:
        from dask.distributed import get_client
    except ImportError as e:  # pragma: no cover - the distributed extra is not installed
        raise ImportError(
            "the Dask boosters need dask.distributed (pip install mlcanon[distributed])"
        ) from e
    if client is not None:
        return client
    try:
        return get_client()
    except ValueError:
        raise ValueError(
            "no Dask client: create one first, e.g. Client('tcp://scheduler:8786') or "
            "Client(LocalCluster())"
        ) from None


def _as_dask(a: Any):
    """``a`` as a Dask array (one chunk when it was in memory)."""
    import dask.array as da

    return a if isinstance(a, da.Array) else da.from_array(np.asarray(a), chunks=-1)


def _rows(X, y, where: str) -> tuple:
    """``X`` in chunks of whole rows and ``y`` chunked as its rows; ``where`` names them."""
    if any(np.isnan(c) for c in X.chunks[0]):
        raise ValueError(f"{where}X must have known chunk sizes (call X.compute_chunk_sizes())")
    X = X.rechunk({1: -1})  # a partition holds whole rows
    y = _as_dask(y)
    if y.ndim != 1 or y.shape[0] != X.shape[0]:
        raise ValueError(
            f"{where}X has {X.shape[0]} rows but y has shape {y.shape}; y must be (n_samples,)"
        )
    return X, y.rechunk((X.chunks[0],))


def _actors(client, cls, arrays: list, *args) -> list:
    """One ``cls(*partitions, *args)`` actor per row partition of the row-aligned ``arrays``,
    on a worker that holds the partition."""
    futures = []
    for parts in zip(*(a.to_delayed().ravel() for a in arrays), strict=True):
        futures.append(client.submit(cls, *client.compute(list(parts)), *args, actor=True))
    return [f.result() for f in futures]


class _EvalPartition:
    """One row partition of an eval set on a worker (a Dask actor): rows, labels, margins."""

    def __init__(self, X, y, w, base_margin) -> None:
        self.X = np.ascontiguousarray(X, dtype=np.float64)
        self.y = np.asarray(y, np.float64)
        self.w = np.asarray(w, np.float64)
        self.F = np.tile(base_margin, (len(self.y), 1))

    def score(
        self, nodes: dict, offsets: np.ndarray, metrics: list, task: str
    ) -> list[tuple[float, float]]:
        """Add one round's trees to the margins; each metric's sums over these rows."""
        K = self.F.shape[1]
        _add_margins(self.X, self.F, nodes, offsets, K, 0, K)
        return [metric_sums(m, self.y, self.F, self.w, task) for m in metrics]


class _DaskBoost:
    """The fit shared by the two Dask estimators (mixed in before the single-process class)."""

    def fit(
        self,
        X: Any,
        y: Any,
        sample_weight: Any = None,
        eval_set: Sequence[tuple[Any, Any]] | None = None,
        client: Any = None,
        verbose: bool | int = False,
        sample_weight_eval_set: Sequence[Any] | None = None,
    ):
        """Boost on the Dask arrays ``X`` (n, d) and ``y`` (n,) (targets, or class labels) with
        the workers of ``client`` (default: the current client); each ``(X, y)`` of
        ``eval_set`` (Dask or NumPy arrays) is scored after every round on the workers that
        hold it, and the last one drives early stopping. ``verbose`` and
        ``sample_weight_eval_set`` (one weight array, Dask or NumPy, or None per eval pair)
        are those of the single-process ``fit`` and of ``xgboost.dask``."""
        import dask.array as da

        period = _verbose_period(verbose)
        client = _client(client)
        if not isinstance(X, da.Array) or X.ndim != 2:
            raise TypeError(f"X must be a 2-D dask array, got {type(X).__name__}")
        X, y = _rows(X, y, "")
        n, d = X.shape
        validate_params(self)
        self.n_features_in_ = d
        y_all = np.asarray(y.compute())  # labels are small: classes and base margin need all
        codes = self._encode_y(y_all)
        evals = self._dask_evals(eval_set, X.chunks[0][0], sample_weight_eval_set)
        if sample_weight is None:
            w = da.ones(n, chunks=(X.chunks[0],))
            w_all = np.ones(n)
        else:
            w = _as_dask(sample_weight)
            if w.shape != (n,):
                raise ValueError(f"sample_weight must have shape ({n},), got {w.shape}")
            w = w.rechunk((X.chunks[0],))
            w_all = np.asarray(w.compute(), np.float64)
        rng = check_random_state(self.random_state)
        sample = np.sort(rng.choice(n, EDGE_SAMPLE, replace=False)) if n > EDGE_SAMPLE else None
        X_edges = np.asarray((X if sample is None else X[sample]).compute(), np.float64)
        self.bin_edges_, self.n_bin_edges_ = fit_bin_edges(
            X_edges,
            self.max_bin,
            subsample=max(n, 1),
            rng=rng,
            sample_weight=w_all if sample is None else w_all[sample],
        )
        obj = self._objective()
        self.base_margin_ = self._base_margin(obj, codes, w_all)
        codes_d = da.from_array(codes, chunks=(X.chunks[0],))
        self._boost_on_workers(client, [X, codes_d, w], evals, obj, rng, period)
        return self

    def _boost_on_workers(
        self, client, rows: list, evals: list, obj, rng, verbose: int = 0
    ) -> None:
        """The rounds, with the training ``rows`` (X, codes, weights) and each eval set's
        partitions (X, codes, weights) held by actors on the workers; ``verbose`` prints the
        metrics every that many rounds."""
        X = rows[0]
        n, d = X.shape
        args = (self.bin_edges_, self.n_bin_edges_, self.max_bin, self.base_margin_, obj)
        data = _Summed(_actors(client, _Partition, rows, *args))
        scored = [
            _Summed(_actors(client, _EvalPartition, pair, self.base_margin_)) for pair in evals
        ]
        bounds = np.cumsum([0, *X.chunks[0]])
        params = self._grow_params()
        n_bins = self.n_bin_edges_ + 1

        def grow_round(rows: np.ndarray, cols: np.ndarray) -> list[dict[str, np.ndarray]]:
            data._all("gradients")
            cut = np.searchsorted(rows, bounds)
            local = [rows[cut[p] : cut[p + 1]] - bounds[p] for p in range(len(bounds) - 1)]
            trees = []
            for k in range(self.n_outputs_):
                futures = [a.start_tree(k, r) for a, r in zip(data.actors, local, strict=True)]
                G, H, count = np.sum([f.result() for f in futures], axis=0)
                root = (float(G), float(H), int(count))
                tree = grow_from(data, root, cols, n_bins, self.bin_edges_, params, d)
                data._all("finish_tree", k, tree, len(rows) == n)
                trees.append(tree)
            return trees

        task = self._task()

        def score_round(nodes: dict, offsets: np.ndarray, metrics: list) -> list[list[float]]:
            scores = []
            for s in scored:
                sums = np.sum(s._all("score", nodes, offsets, metrics, task), axis=0)
                scores.append([metric_value(m, tuple(sums[j])) for j, m in enumerate(metrics)])
            return scores

        self._boost_rounds(grow_round, score_round, obj, len(evals), rng, n, d, verbose)

    def _dask_evals(self, eval_set, chunk_rows: int, weights: Sequence | None) -> list[tuple]:
        """Each ``(X, y)`` of ``eval_set`` and its row weights (``weights``: one entry per
        pair, None for unit weights) as row-aligned Dask arrays, labels encoded lazily (on the
        workers); NumPy arrays are cut into partitions of ``chunk_rows`` rows."""
        import dask.array as da

        pairs, weights = self._eval_pairs(eval_set, weights)
        evals = []
        for i, (Xe, ye) in enumerate(pairs):
            in_memory = not isinstance(Xe, da.Array)
            Xe = _as_dask(Xe)
            if Xe.ndim != 2 or Xe.shape[1] != self.n_features_in_:
                raise ValueError(
                    f"eval_set[{i}]: X must be 2-D with {self.n_features_in_} features as in "
                    f"fit, got shape {Xe.shape}"
                )
            if in_memory:
                Xe = Xe.rechunk((chunk_rows, -1))
            Xe, ye = _rows(Xe, ye, f"eval_set[{i}]: ")
            we = _eval_weights(weights[i], Xe, i)
            evals.append((Xe, ye.map_blocks(self._encode_eval, dtype=np.float64), we))
        return evals


def _eval_weights(w: Any, Xe, i: int):
    """The weights of eval set ``i`` (None: ones) as a Dask array chunked as its rows."""
    import dask.array as da

    n = Xe.shape[0]
    if w is None:
        return da.ones(n, chunks=(Xe.chunks[0],))
    if not isinstance(w, da.Array):
        try:
            w = sample_weight_array(w, n)
        except ValueError as exc:
            raise ValueError(f"sample_weight_eval_set[{i}]: {exc}") from exc
    w = _as_dask(w)
    if w.shape != (n,):
        raise ValueError(
            f"sample_weight_eval_set[{i}] must have shape ({n},) (one weight per row of "
            f"eval_set[{i}]), got {w.shape}"
        )
    return w.astype(np.float64).rechunk((Xe.chunks[0],))


class DaskXGBRegressor(_DaskBoost, XGBRegressor):
    """:class:`XGBRegressor` fitted data-parallel on the workers of a Dask cluster.

    ``fit(X, y, sample_weight=None, eval_set=None, client=None, verbose=False,
    sample_weight_eval_set=None)`` takes Dask arrays (row chunks become the partitions) and
    uses ``client``, or the current ``dask.distributed`` client. The fitted model is an
    ordinary in-memory :class:`XGBRegressor` for prediction and saving. ``eval_set`` takes
    pairs of Dask (or NumPy) arrays, ``sample_weight_eval_set`` their row weights; each eval
    partition stays on a worker, which adds every round's trees to its margins and returns the
    weighted sums of the metric's loss over its rows, so the client only adds numbers. Metric
    values, ``best_iteration_`` and early stopping are those of :class:`XGBRegressor` on the
    computed arrays.
    """


class DaskXGBClassifier(_DaskBoost, XGBClassifier):
    """:class:`XGBClassifier` fitted data-parallel on the workers of a Dask cluster.

    As :class:`DaskXGBRegressor`; the labels are gathered on the client to find the classes.
    """
