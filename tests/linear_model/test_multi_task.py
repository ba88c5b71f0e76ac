"""MultiTaskLasso / MultiTaskElasticNet against scikit-learn on the same data, and the
optimality conditions of the group-penalized problem written out from the definition."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn import linear_model as sk
from sklearn.datasets import load_linnerud
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.estimator_checks import parametrize_with_checks

from mlcanon import io
from mlcanon.linear_model import MultiTaskElasticNet, MultiTaskLasso

TOL = 1e-12  # solver tolerance on both sides, so that the optima agree to rounding
RTOL = 1e-8  # required agreement, relative to the largest entry
PAIRS = [
    (MultiTaskLasso, sk.MultiTaskLasso, {}),
    (MultiTaskElasticNet, sk.MultiTaskElasticNet, {"l1_ratio": 0.4}),
]


def _synthetic(n, p, k, seed):
    """``n`` samples, ``p`` features of which about a third matter (for every target), ``k``
    targets with offsets."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    W = rng.normal(size=(k, p)) * (rng.random(p) < 0.35)
    return X, X @ W.T + 0.3 * rng.normal(size=(n, k)) + rng.normal(size=k)


def _linnerud():
    X, Y = load_linnerud(return_X_y=True)  # 20 samples, 3 exercises, 3 physiological targets
    return X / X.std(axis=0), Y


DATASETS = {
    "tall": _synthetic(80, 12, 3, 0),
    "wide": _synthetic(30, 50, 4, 1),
    "linnerud": _linnerud(),
}
SHARE = {"tall": 0.1, "wide": 0.1, "linnerud": 0.5}  # of alpha_max: some features kept, some not


def assert_close(ours, ref, rtol=RTOL):
    np.testing.assert_allclose(ours, ref, rtol=rtol, atol=rtol * np.abs(ref).max())


def _alpha(X, Y, l1_ratio, share):
    """``share`` of the smallest alpha that zeroes every coefficient."""
    Xc, Yc = X - X.mean(0), Y - Y.mean(0)
    return share * np.linalg.norm(Xc.T @ Yc, axis=1).max() / (len(X) * l1_ratio)


@pytest.mark.parametrize("name", DATASETS)
@pytest.mark.parametrize(("ours", "theirs", "kw"), PAIRS, ids=["lasso", "enet"])
def test_matches_sklearn(name, ours, theirs, kw):
    X, Y = DATASETS[name]
    params = {"alpha": _alpha(X, Y, kw.get("l1_ratio", 1.0), SHARE[name]), "tol": TOL, **kw}
    a, b = ours(**params).fit(X, Y), theirs(**params).fit(X, Y)
    assert a.coef_.shape == b.coef_.shape == (Y.shape[1], X.shape[1])
    assert 0 < (a.coef_ != 0).any(axis=0).sum() < X.shape[1]  # some features kept, some dropped
    assert_close(a.coef_, b.coef_)
    assert_close(a.intercept_, b.intercept_)
    assert a.n_iter_ == b.n_iter_  # the same cyclic sweeps and the same stopping rule
    # the gaps agree to rounding of the objective (both far below the stopping threshold)
    assert a.dual_gap_ == pytest.approx(b.dual_gap_, rel=1e-4, abs=1e-3 * b.eps_ / len(X))
    assert a.eps_ == pytest.approx(b.eps_, rel=1e-12)
    assert_close(a.predict(X), b.predict(X))


@pytest.mark.parametrize(("ours", "theirs", "kw"), PAIRS, ids=["lasso", "enet"])
def test_options_match_sklearn(ours, theirs, kw):
    """Weights, no intercept, float32, scipy.sparse X, the default tolerance."""
    X, Y = DATASETS["tall"]
    sw = np.random.default_rng(3).uniform(0.2, 2.0, len(X))
    params0 = {"alpha": _alpha(X, Y, kw.get("l1_ratio", 1.0), 0.1), **kw}
    cases = [
        ({"tol": TOL}, X, {"sample_weight": sw}),
        ({"tol": TOL, "fit_intercept": False}, X, {}),
        ({}, X, {}),  # default tol: n_iter_ and the stopping gap still agree
        ({"tol": TOL}, sp.csr_matrix(X), {}),
    ]
    for params, data, fit_kw in cases:
        a = ours(**params0, **params).fit(data, Y, **fit_kw)
        b = theirs(**params0, **params).fit(data, Y, **fit_kw)
        assert_close(a.coef_, b.coef_)
        assert_close(a.intercept_, b.intercept_)
        assert a.n_iter_ == b.n_iter_
    a32 = ours(**params0).fit(X.astype(np.float32), Y.astype(np.float32))
    b32 = theirs(**params0).fit(X.astype(np.float32), Y.astype(np.float32))
    assert a32.coef_.dtype == b32.coef_.dtype == np.float32
    assert_close(a32.coef_, b32.coef_, rtol=1e-4)


def test_ridge_limit_and_random_selection_match_sklearn():
    X, Y = DATASETS["wide"]
    a = MultiTaskElasticNet(alpha=0.3, l1_ratio=0.0, tol=TOL).fit(X, Y)
    b = sk.MultiTaskElasticNet(alpha=0.3, l1_ratio=0.0, tol=TOL).fit(X, Y)
    assert_close(a.coef_, b.coef_)
    # a random feature order reaches the same optimum (the streams differ, so n_iter_ may too)
    alpha = _alpha(X, Y, 1.0, 0.2)
    rand = MultiTaskLasso(alpha=alpha, tol=TOL, selection="random", random_state=0).fit(X, Y)
    assert_close(rand.coef_, sk.MultiTaskLasso(alpha=alpha, tol=TOL).fit(X, Y).coef_)


def test_warm_start_continues_from_previous_coef_as_sklearn():
    X, Y = DATASETS["tall"]
    alpha = _alpha(X, Y, 1.0, 0.05)
    ours = MultiTaskLasso(alpha=alpha, tol=TOL, max_iter=3, warm_start=True)
    theirs = sk.MultiTaskLasso(alpha=alpha, tol=TOL, max_iter=3, warm_start=True)
    with pytest.warns(ConvergenceWarning):
        ours.fit(X, Y).fit(X, Y)  # 3 + 3 sweeps
    with pytest.warns(ConvergenceWarning):
        theirs.fit(X, Y).fit(X, Y)
    assert_close(ours.coef_, theirs.coef_, rtol=1e-12)


@pytest.mark.parametrize("name", DATASETS)
@pytest.mark.parametrize("l1_ratio", [1.0, 0.6])
def test_block_subgradient_optimality(name, l1_ratio):
    """At the optimum, with ``g_j = X_j^T (Y - X W^T - b) / n`` (one entry per target), each
    kept feature satisfies ``g_j - a (1 - r) W_j = a r W_j / ||W_j||`` and each dropped one
    ``||g_j|| <= a r`` — the zero-subgradient condition of the L2/L1 penalty."""
    X, Y = DATASETS[name]
    alpha = _alpha(X, Y, l1_ratio, SHARE[name])
    model = MultiTaskElasticNet(alpha=alpha, l1_ratio=l1_ratio, tol=1e-14, max_iter=10_000)
    model.fit(X, Y)
    W, b = model.coef_, model.intercept_
    residual = Y - X @ W.T - b
    np.testing.assert_allclose(residual.mean(axis=0), 0.0, atol=1e-10)  # intercept condition
    for j in range(X.shape[1]):
        g = X[:, j] @ residual / len(X)
        norm = np.linalg.norm(W[:, j])
        if norm > 0:
            lhs = g - alpha * (1 - l1_ratio) * W[:, j]
            np.testing.assert_allclose(lhs, alpha * l1_ratio * W[:, j] / norm, atol=1e-9)
        else:
            assert np.linalg.norm(g) <= alpha * l1_ratio * (1 + 1e-9)


def test_alpha_max_zeroes_everything_and_a_column_is_one_task():
    X, Y = DATASETS["tall"]
    top = MultiTaskLasso(alpha=_alpha(X, Y, 1.0, 1.0) * (1 + 1e-9)).fit(X, Y)
    assert not top.coef_.any()
    np.testing.assert_allclose(top.intercept_, Y.mean(axis=0))
    one = MultiTaskLasso(alpha=0.05, tol=TOL).fit(X, Y[:, :1])
    assert one.coef_.shape == (1, X.shape[1])
    assert_close(one.coef_[0], sk.Lasso(alpha=0.05, tol=TOL).fit(X, Y[:, 0]).coef_)


@pytest.mark.parametrize(
    ("params", "error", "match"),
    [
        ({"alpha": -1.0}, ValueError, "alpha must be >= 0"),
        ({"l1_ratio": 1.5}, ValueError, "l1_ratio must be <= 1"),
        ({"selection": "greedy"}, ValueError, "selection"),
        ({"max_iter": 0}, ValueError, "max_iter must be >= 1"),
        ({"warm_start": 1}, TypeError, "warm_start must be bool"),
    ],
)
def test_bad_parameters_are_named(params, error, match):
    X, Y = DATASETS["tall"]
    with pytest.raises(error, match=match):
        MultiTaskElasticNet(**params).fit(X, Y)


def test_one_dimensional_y_and_single_task_options_are_refused():
    X, Y = DATASETS["tall"]
    with pytest.raises(ValueError, match="For mono-task outputs, use ElasticNet"):
        MultiTaskElasticNet().fit(X, Y[:, 0])
    with pytest.raises(ValueError, match="For mono-task outputs, use Lasso"):
        MultiTaskLasso().fit(X, Y[:, 0])
    with pytest.raises(TypeError, match="positive"):
        MultiTaskLasso(positive=True)
    assert "l1_ratio" not in MultiTaskLasso().get_params()
    assert "l1_ratio" not in vars(MultiTaskLasso())  # a fixed class attribute, not a parameter


@parametrize_with_checks([MultiTaskLasso(), MultiTaskElasticNet()])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def test_save_load_round_trip(tmp_path):
    X, Y = DATASETS["linnerud"]
    model = MultiTaskElasticNet(alpha=0.5).fit(X, Y)
    back = io.load(io.save(model, tmp_path / "model.npz"))
    assert type(back) is MultiTaskElasticNet and back.get_params() == model.get_params()
    np.testing.assert_array_equal(back.predict(X), model.predict(X))
