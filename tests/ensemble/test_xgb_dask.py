"""The data-parallel booster on a Dask cluster of two worker processes against the
single-process booster fitted on the computed arrays."""

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


def test_work_runs_on_both_workers(client):
    X, y = load_breast_cancer(return_X_y=True)
    with distributed.get_task_stream(client) as ts:
        DaskXGBClassifier(n_estimators=2, max_depth=2).fit(
            da.from_array(X, chunks=(300, 30)), da.from_array(y, chunks=300)
        )
    assert len({t["worker"] for t in ts.data}) == 2


def test_errors(client):
    X, y = load_breast_cancer(return_X_y=True)
    with pytest.raises(TypeError, match="X must be a 2-D dask array, got ndarray"):
        DaskXGBClassifier().fit(X, y)
    with pytest.raises(ValueError, match=r"X has 569 rows but y has shape \(100,\)"):
        DaskXGBClassifier().fit(da.from_array(X), da.from_array(y[:100]))
