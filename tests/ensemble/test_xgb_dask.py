"""The data-parallel booster on a Dask cluster of two worker processes against the
single-process booster fitted on the computed arrays."""

from functools import partial

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits

from mlcanon.ensemble import DaskXGBClassifier, DaskXGBRegressor, XGBClassifier, XGBRegressor

distributed = pytest.importorskip("dask.distributed")
da = pytest.importorskip("dask.array")

STRUCTURE = ("left", "right", "feature", "split_bin", "threshold", "default_left")


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


def _same_model(ours, ref, X):
    for key in STRUCTURE:  # the same trees: same splits, thresholds and default directions
        np.testing.assert_array_equal(ours.nodes_[key], ref.nodes_[key], err_msg=key)
    np.testing.assert_array_equal(ours.tree_offsets_, ref.tree_offsets_)
    np.testing.assert_array_equal(ours.bin_edges_, ref.bin_edges_)
    # leaf values differ only by the order of the float64 sums (per partition, then summed)
    np.testing.assert_allclose(ours.nodes_["value"], ref.nodes_["value"], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ours.base_margin_, ref.base_margin_, rtol=1e-12)


@pytest.mark.parametrize(
    ("load", "kw"),
    [
        (load_breast_cancer, {}),
        # 10 classes, 10 trees per round; small integer pixels, so features often cut a node
        # into the same two sets and tie exactly: the tie rule must not depend on sum order
        (load_digits, {"n_estimators": 3}),
        (load_breast_cancer, {"subsample": 0.7, "colsample_bytree": 0.5, "random_state": 3}),
    ],
)
def test_classifier_equals_single_process(client, load, kw):
    X, y = load(return_X_y=True)
    X = X.copy()
    X[::17, 3] = np.nan  # missing values take the learned default direction
    params = {"n_estimators": 5, "max_depth": 3, "random_state": 0, **kw}
    ref = XGBClassifier(**params).fit(X, y)
    dX = da.from_array(X, chunks=(len(X) // 3 + 1, 8))  # 3 row partitions over 2 workers
    ours = DaskXGBClassifier(**params).fit(dX, da.from_array(y, chunks=len(X) // 3 + 1))
    assert len(ours.nodes_["left"]) > 10 * params["n_estimators"]  # real trees, not stumps
    _same_model(ours, ref, X)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), rtol=1e-9)
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))


def test_regressor_with_weights_equals_single_process(client):
    X, y = load_diabetes(return_X_y=True)
    w = np.random.default_rng(0).uniform(0.5, 2.0, len(y))
    params = {"n_estimators": 6, "max_depth": 4, "learning_rate": 0.2}
    ref = XGBRegressor(**params).fit(X, y, sample_weight=w)
    chunks = (150, X.shape[1])
    ours = DaskXGBRegressor(**params).fit(
        da.from_array(X, chunks=chunks), da.from_array(y, chunks=150), sample_weight=w
    )
    _same_model(ours, ref, X)
    np.testing.assert_allclose(ours.predict(X), ref.predict(X), rtol=1e-9)


def test_each_partition_is_worked_on_by_its_own_actor(client):
    """Training and eval rows stay partitioned on the cluster: one actor per row partition of
    each (on whichever worker the scheduler chose; which one is not promised)."""
    X, y = load_breast_cancer(return_X_y=True)
    dX, dy = da.from_array(X, chunks=(200, 30)), da.from_array(y, chunks=200)  # 3 partitions
    with distributed.get_task_stream(client) as ts:
        DaskXGBClassifier(n_estimators=2, max_depth=2).fit(dX, dy, eval_set=[(dX, dy)])
    workers = set(client.scheduler_info()["workers"])
    for actor in ("_Partition", "_EvalPartition"):
        made = [t for t in ts.data if str(t["key"]).startswith(actor)]
        assert len(made) == 3, actor
        assert {t["worker"] for t in made} <= workers


def test_errors(client):
    X, y = load_breast_cancer(return_X_y=True)
    with pytest.raises(TypeError, match="X must be a 2-D dask array, got ndarray"):
        DaskXGBClassifier().fit(X, y)
    with pytest.raises(ValueError, match=r"X has 569 rows but y has shape \(100,\)"):
        DaskXGBClassifier().fit(da.from_array(X), da.from_array(y[:100]))
    dX, dy = da.from_array(X), da.from_array(y)
    with pytest.raises(ValueError, match="early_stopping_rounds needs at least one eval_set"):
        DaskXGBClassifier(early_stopping_rounds=2).fit(dX, dy)
    with pytest.raises(ValueError, match=r"eval_set\[0\] must be a pair \(X, y\), got ndarray"):
        DaskXGBClassifier().fit(dX, dy, eval_set=[X])
    with pytest.raises(ValueError, match=r"eval_set\[0\]: X must be 2-D with 30 features as in "):
        DaskXGBClassifier().fit(dX, dy, eval_set=[(X[:, :5], y)])
    with pytest.raises(ValueError, match=r"eval_set\[1\]: X has 569 rows but y has shape \(9,\)"):
        DaskXGBClassifier().fit(dX, dy, eval_set=[(X, y), (dX, y[:9])])
    with pytest.raises(ValueError, match=r"sample_weight must have shape \(569,\), got \(5,\)"):
        DaskXGBClassifier().fit(dX, dy, sample_weight=np.ones(5))
    with pytest.raises(ValueError, match=r"eval_set\[0\]: X must have known chunk sizes"):
        DaskXGBClassifier().fit(dX, dy, eval_set=[(dX[dX[:, 0] > 10], y)])
    with pytest.raises(ValueError, match=r"eval_set y has labels \[7\] not seen in training"):
        DaskXGBClassifier(n_estimators=1).fit(dX, dy, eval_set=[(dX, np.where(y == 1, 7, 0))])


def _curves(model):
    return {
        f"{name}-{metric}": np.array(c)
        for name, sets in model.evals_result().items()
        for metric, c in sets.items()
    }


@pytest.mark.parametrize(
    ("load", "kw"),
    [
        (load_diabetes, {"eval_metric": "mae", "learning_rate": 0.3}),
        (load_breast_cancer, {"learning_rate": 0.5}),  # logloss
        (load_breast_cancer, {"eval_metric": "error", "subsample": 0.7, "random_state": 2}),
        # 5 classes; stops after round 4: merror ties its best (round 2) there, a tie is no gain
        (
            partial(load_digits, n_class=5),
            {"n_estimators": 12, "eval_metric": "merror", "early_stopping_rounds": 2},
        ),
        (load_breast_cancer, {"eval_metric": ["error", "logloss"], "learning_rate": 0.5}),
    ],
    ids=[
        "diabetes-mae",
        "cancer-logloss",
        "cancer-error-subsample",
        "digits5-merror",
        "cancer-error,logloss",
    ],
)
def test_eval_set_and_early_stopping_equal_single_process(client, load, kw):
    """Metric curves, best round and the stopped model equal the single-process fit's; the
    eval sets come as Dask arrays cut differently from the training rows, and as NumPy."""
    X, y = load(return_X_y=True)
    X = X.copy()
    X[::13, 2] = np.nan
    rng = np.random.default_rng(0)
    va = rng.random(len(y)) < 0.3
    Xt, yt, Xv, yv = X[~va], y[~va], X[va], y[va]
    params = {"n_estimators": 60, "max_depth": 3, "early_stopping_rounds": 4, **kw}
    ref = (XGBClassifier if load is not load_diabetes else XGBRegressor)(**params)
    ref.fit(Xt, yt, eval_set=[(Xt, yt), (Xv, yv)])
    ours = (DaskXGBClassifier if load is not load_diabetes else DaskXGBRegressor)(**params)
    chunk = len(yt) // 3 + 1
    ours.fit(
        da.from_array(Xt, chunks=(chunk, 7)),
        da.from_array(yt, chunks=chunk),
        eval_set=[(Xt, yt), (da.from_array(Xv, chunks=(45, 5)), da.from_array(yv, chunks=60))],
    )
    assert ours.n_iterations_ < params["n_estimators"]  # early stopping did stop the fit
    assert ours.best_iteration_ == ref.best_iteration_
    assert ours.n_iterations_ == ref.n_iterations_
    ref_curves, our_curves = _curves(ref), _curves(ours)
    metrics = kw.get("eval_metric", ["logloss"])
    metrics = [metrics] if isinstance(metrics, str) else metrics
    assert ref_curves.keys() == our_curves.keys()
    assert {k.split("-")[0] for k in our_curves} == {"validation_0", "validation_1"}
    assert len(our_curves) == 2 * len(metrics)
    for name, curve in ref_curves.items():
        # the leaf values agree to rtol 1e-9 (see _same_model); the sums over partitions
        # differ from one sum over all rows only by float64 rounding
        np.testing.assert_allclose(our_curves[name], curve, rtol=1e-9, err_msg=name)
    assert ours.best_score == pytest.approx(ref.best_score_, rel=1e-9)
    assert ours.best_iteration == ours.best_iteration_
    _same_model(ours, ref, X)
    np.testing.assert_allclose(ours.predict(Xv), ref.predict(Xv), rtol=1e-9)


def _grid_problem(kind: str, seed: int):
    """(X, y, xgboost's class, ours) on an integer grid, where xgboost (hist) and ours grow the
    same trees: a regression, or a 2- or 3-class problem with noisy labels."""
    xgb = pytest.importorskip("xgboost")
    from sklearn.datasets import make_classification, make_regression

    if kind == "reg":
        X, y = make_regression(300, 6, noise=40.0, random_state=seed)
        return np.round(X * 3), y, xgb.XGBRegressor, DaskXGBRegressor
    n_classes = 2 if kind == "binary" else 3
    X, y = make_classification(
        300, 6, n_informative=4, n_classes=n_classes, flip_y=0.2, random_state=seed
    )
    return np.round(X * 3), y, xgb.XGBClassifier, DaskXGBClassifier


@pytest.mark.parametrize("kind", ["reg", "binary", "multi"])
def test_eval_curve_equals_xgboost(client, kind):
    """Against xgboost (hist) on one machine. On an integer grid every feature has fewer
    distinct values than bins and the eval rows take training values, so both boosters grow
    the same trees and route the eval rows alike; xgboost keeps margins in float32
    (eps 1.2e-7): the curves agree to 4e-8 when measured, checked at 1e-6 (8 eps)."""
    X, y, ref_cls, our_cls = _grid_problem(kind, seed=1)
    params = dict(n_estimators=60, max_depth=3, learning_rate=0.5, early_stopping_rounds=5)
    # xgboost estimates its own intercept (one per class for softmax): fix the same start
    params["base_score"] = 0.0 if kind == "multi" else 0.5
    ref = ref_cls(tree_method="hist", n_jobs=1, **params)
    ref.fit(X[:200], y[:200], eval_set=[(X[200:], y[200:])], verbose=False)
    ours = our_cls(**params).fit(
        da.from_array(X[:200], chunks=(70, 6)),
        da.from_array(y[:200], chunks=70),
        eval_set=[(da.from_array(X[200:], chunks=(40, 6)), da.from_array(y[200:], chunks=40))],
    )
    assert ours.best_iteration == ref.best_iteration
    (metric,) = ref.evals_result()["validation_0"]
    curve = ref.evals_result()["validation_0"][metric]
    assert len(curve) < params["n_estimators"]  # early stopping did stop both fits
    np.testing.assert_allclose(ours.evals_result()["validation_0"][metric], curve, rtol=1e-6)
    assert ours.best_score == pytest.approx(ref.best_score, rel=1e-6)


def _printed_rows(out: str) -> list[tuple[str, list[str], list[float]]]:
    """``[round]\\tset-metric:value...`` lines as (round, names, values)."""
    rows = []
    for line in out.strip().splitlines():
        head, *fields = line.split("\t")
        names = [f.rsplit(":", 1)[0] for f in fields]
        rows.append((head, names, [float(f.rsplit(":", 1)[1]) for f in fields]))
    return rows


@pytest.mark.parametrize("kind", ["reg", "binary", "multi"])
def test_fit_takes_xgboost_verbose_and_sample_weight_eval_set(client, kind, capsys):
    """xgboost.dask's fit(..., verbose=, sample_weight_eval_set=) against xgboost (hist) on
    one machine, on an integer grid where both grow the same trees (see
    test_eval_curve_equals_xgboost): weighted eval metrics, early stopping on them, and the
    printed metric lines. Both keywords were a TypeError (unexpected keyword)."""
    X, y, ref_cls, our_cls = _grid_problem(kind, seed=2)
    we = np.random.default_rng(0).exponential(size=100)
    params = dict(n_estimators=40, max_depth=3, learning_rate=0.5, early_stopping_rounds=4)
    params["base_score"] = 0.0 if kind == "multi" else 0.5
    evals = [(X[:200], y[:200]), (X[200:], y[200:])]
    ref = ref_cls(tree_method="hist", n_jobs=1, **params)
    ref.fit(X[:200], y[:200], eval_set=evals, sample_weight_eval_set=[None, we], verbose=3)
    printed_ref = _printed_rows(capsys.readouterr().out)
    ours = our_cls(**params).fit(
        da.from_array(X[:200], chunks=(70, 6)),
        da.from_array(y[:200], chunks=70),
        eval_set=[evals[0], (da.from_array(X[200:], chunks=(40, 6)), y[200:])],
        sample_weight_eval_set=[None, da.from_array(we, chunks=30)],
        verbose=3,
    )
    printed = _printed_rows(capsys.readouterr().out)
    assert ours.best_iteration == ref.best_iteration
    for name, curves in ref.evals_result().items():
        (metric,) = curves
        assert len(curves[metric]) < params["n_estimators"]  # early stopping stopped both
        np.testing.assert_allclose(ours.evals_result()[name][metric], curves[metric], rtol=1e-6)
    assert [r[:2] for r in printed] == [r[:2] for r in printed_ref]
    np.testing.assert_allclose([r[2] for r in printed], [r[2] for r in printed_ref], atol=1.01e-5)
    # the weights do weigh: unit weights give another curve on the second set
    plain = our_cls(**params).fit(
        da.from_array(X[:200], chunks=(70, 6)), da.from_array(y[:200], chunks=70), eval_set=evals
    )
    (metric,) = ref.evals_result()["validation_1"]
    unit, weighted = plain.evals_result()["validation_1"][metric], _curves(ours)
    weighted = weighted[f"validation_1-{metric}"]
    n = min(len(unit), len(weighted))
    assert not np.allclose(unit[:n], weighted[:n])


def test_sample_weight_eval_set_errors(client):
    X, y = load_diabetes(return_X_y=True)
    dX, dy = da.from_array(X, chunks=(150, 10)), da.from_array(y, chunks=150)
    model = DaskXGBRegressor(n_estimators=2)
    evals = [(X[:50], y[:50]), (X[50:80], y[50:80])]
    with pytest.raises(ValueError, match=r"one entry per eval_set pair \(2\); got 1"):
        model.fit(dX, dy, eval_set=evals, sample_weight_eval_set=[None])
    with pytest.raises(ValueError, match=r"sample_weight_eval_set\[1\]: sample_weight has 3"):
        model.fit(dX, dy, eval_set=evals, sample_weight_eval_set=[None, np.ones(3)])
    with pytest.raises(ValueError, match=r"sample_weight_eval_set\[0\] must have shape \(50,\)"):
        model.fit(dX, dy, eval_set=evals, sample_weight_eval_set=[da.ones(7), None])
    with pytest.raises(ValueError, match="verbose must be a bool or an int >= 0; got -1"):
        model.fit(dX, dy, verbose=-1)
