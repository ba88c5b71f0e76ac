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

References
----------
Chen, Guestrin (2016). XGBoost: A Scalable Tree Boosting System, KDD, sec. 4.1 (column blocks
for parallel learning) and the distributed (Rabit all-reduce) histogram method of xgboost.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mlcanon._validation import check_random_state, validate_params

from ._binning import apply_bins, fit_bin_edges
from ._hist_grower import RowBlock, add_tree, grow_from
from ._xgb import XGBClassifier, XGBRegressor
from ._xgb_base import _join

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
        g, h = self.obj.grad_hess(self.y, self.FT.T)
        self.g, self.h = g * self.w[:, None], h * self.w[:, None]

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
    """The data source of :func:`grow_from` over all partitions: sums what each returns."""

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


def _as_dask(a: Any, name: str, chunks):
    import dask.array as da

    if isinstance(a, da.Array):
        return a
    if a is None:
        return None
    return da.from_array(np.asarray(a), chunks=chunks)


class _DaskBoost:
    """The fit shared by the two Dask estimators (mixed in before the single-process class)."""

    def _fit_dask(self, X, y, sample_weight, client) -> None:
        import dask.array as da

        client = _client(client)
        if not isinstance(X, da.Array) or X.ndim != 2:
            raise TypeError(f"X must be a 2-D dask array, got {type(X).__name__}")
        if any(np.isnan(c) for c in X.chunks[0]):
            raise ValueError("X must have known chunk sizes (call X.compute_chunk_sizes())")
        X = X.rechunk({1: -1})  # a partition holds whole rows
        y = _as_dask(y, "y", (X.chunks[0],))
        n, d = X.shape
        if y.ndim != 1 or y.shape[0] != n:
            raise ValueError(f"X has {n} rows but y has shape {y.shape}; y must be (n_samples,)")
        y = y.rechunk((X.chunks[0],))
        validate_params(self)
        self.n_features_in_ = d
        y_all = np.asarray(y.compute())  # labels are small: classes and base margin need all
        codes = self._encode_y(y_all)
        if sample_weight is None:
            w = da.ones(n, chunks=(X.chunks[0],))
            w_all = np.ones(n)
        else:
            w = _as_dask(sample_weight, "sample_weight", (X.chunks[0],)).rechunk((X.chunks[0],))
            w_all = np.asarray(w.compute(), np.float64)
        rng = check_random_state(self.random_state)
        sample = np.sort(rng.choice(n, EDGE_SAMPLE, replace=False)) if n > EDGE_SAMPLE else None
        X_edges = np.asarray((X if sample is None else X[sample]).compute(), np.float64)
        self.bin_edges_, self.n_bin_edges_ = fit_bin_edges(
            X_edges, self.max_bin, subsample=max(n, 1), rng=rng
        )
        obj = self._objective()
        self.base_margin_ = self._base_margin(obj, codes, w_all)
        codes_d = da.from_array(codes, chunks=(X.chunks[0],))
        actors = []
        for xp, yp, wp in zip(
            X.to_delayed().ravel(), codes_d.to_delayed(), w.to_delayed(), strict=True
        ):
            xf, yf, wf = client.compute([xp, yp, wp])
            actors.append(
                client.submit(
                    _Partition,
                    xf,
                    yf,
                    wf,
                    self.bin_edges_,
                    self.n_bin_edges_,
                    self.max_bin,
                    self.base_margin_,
                    obj,
                    actor=True,
                )
            )
        actors = [a.result() for a in actors]
        self._rounds(_Summed(actors), np.cumsum([0, *X.chunks[0]]), rng, n, d)

    def _rounds(self, data: _Summed, bounds: np.ndarray, rng, n: int, d: int) -> None:
        K = self.n_outputs_
        params = self._grow_params()
        n_bins = self.n_bin_edges_ + 1
        n_rows = max(1, round(self.subsample * n))
        n_cols = max(1, int(self.colsample_bytree * d))
        trees = []
        for _ in range(self.n_estimators):
            data._all("gradients")
            rows = np.arange(n) if n_rows == n else np.sort(rng.choice(n, n_rows, replace=False))
            cols = np.arange(d) if n_cols == d else np.sort(rng.choice(d, n_cols, replace=False))
            cut = np.searchsorted(rows, bounds)
            local = [rows[cut[p] : cut[p + 1]] - bounds[p] for p in range(len(bounds) - 1)]
            for k in range(K):
                futures = [a.start_tree(k, r) for a, r in zip(data.actors, local, strict=True)]
                G, H, count = np.sum([f.result() for f in futures], axis=0)
                tree = grow_from(
                    data,
                    (float(G), float(H), int(count)),
                    cols,
                    n_bins,
                    self.bin_edges_,
                    params,
                    d,
                )
                data._all("finish_tree", k, tree, n_rows == n)
                trees.append(tree)
        self.nodes_, self.tree_offsets_ = _join(trees)
        self.n_iterations_ = len(trees) // K
        self.best_iteration_ = self.n_iterations_ - 1
        self.evals_result_ = {}


class DaskXGBRegressor(_DaskBoost, XGBRegressor):
    """:class:`XGBRegressor` fitted data-parallel on the workers of a Dask cluster.

    ``fit(X, y, sample_weight=None, client=None)`` takes Dask arrays (row chunks become the
    partitions) and uses ``client``, or the current ``dask.distributed`` client. The fitted
    model is an ordinary in-memory :class:`XGBRegressor` for prediction and saving. Early
    stopping and ``eval_set`` are not supported here.
    """

    def fit(self, X: Any, y: Any, sample_weight: Any = None, client: Any = None):
        """Boost on the Dask arrays ``X`` (n, d) and ``y`` (n,) with the cluster's workers."""
        self._fit_dask(X, y, sample_weight, client)
        return self


class DaskXGBClassifier(_DaskBoost, XGBClassifier):
    """:class:`XGBClassifier` fitted data-parallel on the workers of a Dask cluster.

    As :class:`DaskXGBRegressor`; the labels are gathered on the client to find the classes.
    """

    def fit(self, X: Any, y: Any, sample_weight: Any = None, client: Any = None):
        """Boost on the Dask arrays ``X`` (n, d) and class labels ``y`` (n,)."""
        self._fit_dask(X, y, sample_weight, client)
        return self
