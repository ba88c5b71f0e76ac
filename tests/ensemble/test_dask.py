"""The random forest's joblib fit, unchanged, on a Dask cluster of two worker processes.

A few seconds (two processes start); tests/ensemble/test_forest.py's loky test covers the same
joblib code path without Dask.
"""

import joblib
import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer

from mlcanon.ensemble import RandomForestClassifier

distributed = pytest.importorskip("dask.distributed")


def test_forest_fits_on_a_dask_local_cluster():
    X, y = load_breast_cancer(return_X_y=True)
    local = RandomForestClassifier(n_estimators=6, random_state=0).fit(X, y)
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    try:
        with distributed.Client(cluster) as client:
            with distributed.get_task_stream(client) as tasks:
                with joblib.parallel_config(backend="dask"):
                    remote = RandomForestClassifier(n_estimators=6, n_jobs=2, random_state=0)
                    remote.fit(X, y)
            workers = {t["worker"] for t in tasks.data}
    finally:
        cluster.close()
    assert len(tasks.data) > 0  # the trees were fitted by the cluster
    assert workers  # at least one worker process did work
    np.testing.assert_array_equal(remote.predict_proba(X), local.predict_proba(X))
