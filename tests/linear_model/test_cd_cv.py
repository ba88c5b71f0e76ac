"""LassoCV, ElasticNetCV and their multi-task versions against scikit-learn on the same data and
folds, and the cross-validation error and alpha grid recomputed from their definitions."""

import numpy as np
import pytest
import sklearn
from sklearn import linear_model as sk
from sklearn.datasets import load_diabetes
from sklearn.model_selection import GroupKFold, KFold
from sklearn.utils.estimator_checks import parametrize_with_checks

from mlcanon import io
from mlcanon.linear_model import (
    ElasticNetCV,
    Lasso,
    LassoCV,
    MultiTaskElasticNetCV,
    MultiTaskLassoCV,
)

TOL = 1e-10  # solver tolerance on both sides
RTOL = 1e-8


def _synthetic(n, p, k, seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    W = rng.normal(size=(k, p)) * (rng.random(p) < 0.3)
    Y = X @ W.T + 0.5 * rng.normal(size=(n, k)) + 2.0
    return X, Y[:, 0] if k == 1 else Y


def _diabetes():
    X, y = load_diabetes(return_X_y=True)
    return X[:150], y[:150]


def _two_targets():
    X, y = _diabetes()
    return X, np.c_[y, X @ np.arange(10.0) * 30 + np.random.default_rng(0).normal(size=150)]


SINGLE = {"synthetic": _synthetic(60, 15, 1, 0), "diabetes": _diabetes()}
MULTI = {"synthetic": _synthetic(60, 15, 3, 1), "diabetes": _two_targets()}
CASES = [
    (LassoCV, sk.LassoCV, {}, SINGLE),
    (ElasticNetCV, sk.ElasticNetCV, {"l1_ratio": [0.2, 0.7, 1.0]}, SINGLE),
    (MultiTaskLassoCV, sk.MultiTaskLassoCV, {}, MULTI),
    (MultiTaskElasticNetCV, sk.MultiTaskElasticNetCV, {"l1_ratio": [0.3, 0.9]}, MULTI),
]
IDS = ["lasso", "enet", "mt-lasso", "mt-enet"]


def assert_close(ours, ref, rtol=RTOL):
    np.testing.assert_allclose(ours, ref, rtol=rtol, atol=rtol * np.abs(ref).max())


def assert_same_fit(a, b):
    assert a.alpha_ == pytest.approx(b.alpha_, rel=1e-12)
    assert getattr(a, "l1_ratio_", None) == getattr(b, "l1_ratio_", None)
    assert_close(a.alphas_, b.alphas_, rtol=1e-12)
    assert a.mse_path_.shape == b.mse_path_.shape
    assert_close(a.mse_path_, b.mse_path_)
    assert_close(a.coef_, b.coef_)
    assert_close(a.intercept_, b.intercept_)
    assert a.n_iter_ == b.n_iter_


@pytest.mark.parametrize("name", ["synthetic", "diabetes"])
@pytest.mark.parametrize(("ours", "theirs", "kw", "data"), CASES, ids=IDS)
def test_matches_sklearn(name, ours, theirs, kw, data):
    X, y = data[name]
    params = {"alphas": 12, "cv": 3, "tol": TOL, **kw}
    assert_same_fit(ours(**params).fit(X, y), theirs(**params).fit(X, y))


@pytest.mark.parametrize(("ours", "theirs", "kw", "data"), CASES, ids=IDS)
def test_options_match_sklearn(ours, theirs, kw, data):
    """Weights, no intercept, a given grid, a shuffled splitter."""
    X, y = data["synthetic"]
    sw = np.random.default_rng(5).uniform(0.2, 3.0, len(X))
    folds = KFold(4, shuffle=True, random_state=0)
    for params, fit_kw in [
        ({"alphas": 8}, {"sample_weight": sw}),
        ({"alphas": 8, "fit_intercept": False}, {}),
        ({"alphas": [0.01, 1.0, 0.1, 0.3], "cv": folds}, {}),
    ]:
        params = {"cv": 3, "tol": TOL, **kw, **params}
        assert_same_fit(ours(**params).fit(X, y, **fit_kw), theirs(**params).fit(X, y, **fit_kw))


def test_mse_path_and_grid_from_their_definitions():
    """Each fold's test error recomputed with scikit-learn's Lasso at each alpha, and the grid's
    top: the smallest alpha with every coefficient zero, ``max |Xc^T yc| / n``."""
    X, y = SINGLE["diabetes"]
    model = LassoCV(alphas=6, eps=1e-2, cv=3, tol=1e-12).fit(X, y)
    Xc, yc = X - X.mean(0), y - y.mean()
    alpha_max = np.abs(Xc.T @ yc).max() / len(X)
    np.testing.assert_allclose(model.alphas_, np.geomspace(alpha_max, alpha_max / 100, 6))
    assert not sk.Lasso(alpha=alpha_max * (1 + 1e-9), tol=1e-12).fit(X, y).coef_.any()
    assert sk.Lasso(alpha=alpha_max * (1 - 1e-3), tol=1e-12).fit(X, y).coef_.any()
    for f, (train, test) in enumerate(KFold(3).split(X)):
        for a, alpha in enumerate(model.alphas_):
            fit = sk.Lasso(alpha=alpha, tol=1e-12).fit(X[train], y[train])
            mse = np.mean((fit.predict(X[test]) - y[test]) ** 2)
            assert model.mse_path_[a, f] == pytest.approx(mse, rel=1e-8)
    best = model.alphas_[np.argmin(model.mse_path_.mean(axis=1))]
    assert model.alpha_ == best
    assert_close(model.coef_, sk.Lasso(alpha=best, tol=1e-12).fit(X, y).coef_)


def test_n_jobs_gives_the_same_fit():
    X, y = SINGLE["synthetic"]
    one = ElasticNetCV(l1_ratio=[0.5, 1.0], alphas=10, cv=3, n_jobs=1).fit(X, y)
    two = ElasticNetCV(l1_ratio=[0.5, 1.0], alphas=10, cv=3, n_jobs=2).fit(X, y)
    np.testing.assert_array_equal(one.mse_path_, two.mse_path_)
    np.testing.assert_array_equal(one.coef_, two.coef_)


def test_the_kernels_release_the_gil():
    """n_jobs runs the folds in threads; they run at once only if the kernels drop the GIL."""
    from mlcanon.linear_model._cd_kernels import enet_cd, enet_cd_gram

    assert enet_cd.targetoptions.get("nogil") and enet_cd_gram.targetoptions.get("nogil")


@pytest.mark.parametrize(("precompute", "refit_with"), [(True, True), ("auto", False)])
def test_refit_precompute_follows_sklearn(monkeypatch, precompute, refit_with):
    """'auto' decides for each fold; the refit then runs without the Gram matrix, as sklearn."""
    seen = []

    class Spy(Lasso):
        def fit(self, X, y, sample_weight=None, check_input=True):
            seen.append(self.precompute)
            return super().fit(X, y, sample_weight=sample_weight, check_input=check_input)

    monkeypatch.setattr(LassoCV, "_model", Spy)
    X, y = SINGLE["synthetic"]
    LassoCV(precompute=precompute, alphas=5, cv=3).fit(X, y)
    assert seen == [refit_with]


def test_constant_target_gives_the_resolution_grid_as_sklearn():
    X = np.random.default_rng(0).random((10, 3))
    for model in (LassoCV(alphas=3), MultiTaskElasticNetCV(alphas=3)):
        y = np.full(10, 5.0) if isinstance(model, LassoCV) else np.full((10, 2), 5.0)
        np.testing.assert_array_equal(model.fit(X, y).predict(X), y)
        np.testing.assert_array_equal(model.alphas_, [np.finfo(float).resolution] * 3)


@pytest.mark.parametrize(
    ("model", "y_shape", "error", "match"),
    [
        (ElasticNetCV(l1_ratio=0), (30,), ValueError, "not supported for l1_ratio=0"),
        (ElasticNetCV(l1_ratio=[0.5, 1.5]), (30,), ValueError, r"l1_ratio\[1\] == 1.5, must be <="),
        (ElasticNetCV(l1_ratio=[0.5, "x"]), (30,), TypeError, r"l1_ratio\[1\] must be .* float"),
        (ElasticNetCV(l1_ratio=[]), (30,), ValueError, "l1_ratio must hold at least one value"),
        (MultiTaskElasticNetCV(l1_ratio=()), (30, 2), ValueError, "l1_ratio must hold at least"),
        (LassoCV(alphas=[1.0, -1.0]), (30,), ValueError, r"alphas\[1\] == -1.0, must be >= 0.0"),
        (LassoCV(alphas=[1.0, np.nan]), (30,), ValueError, r"alphas\[1\] == nan, must be finite"),
        (LassoCV(alphas=[1.0, "1"]), (30,), TypeError, r"alphas\[1\] must be .* float, not str"),
        (LassoCV(alphas=[]), (30,), ValueError, "alphas must hold at least one value"),
        (MultiTaskLassoCV(alphas=np.array([])), (30, 2), ValueError, "alphas must hold at least"),
        (LassoCV(alphas=0), (30,), ValueError, "alphas must be >= 1"),
        (LassoCV(cv=1), (30,), ValueError, "cv must be >= 2, got 1"),
        (LassoCV(cv="abc"), (30,), ValueError, r"cv must be None, an int >= 2, .*; got str 'abc'"),
        (LassoCV(), (30, 2), ValueError, "For multi-task outputs, use MultiTaskLassoCV"),
        (MultiTaskLassoCV(), (30,), ValueError, "For mono-task outputs, use LassoCV"),
    ],
)
def test_bad_input_is_named(model, y_shape, error, match):
    rng = np.random.default_rng(0)
    with pytest.raises(error, match=match):
        model.fit(rng.normal(size=(30, 4)), rng.normal(size=y_shape))


@pytest.mark.parametrize("cls", [LassoCV, ElasticNetCV, MultiTaskLassoCV, MultiTaskElasticNetCV])
@pytest.mark.parametrize(("zero", "part"), [(slice(0, 6), "test"), (slice(6, None), "training")])
def test_a_fold_without_weight_is_named(cls, zero, part):
    """KFold(5) on 30 rows: fold 0 tests rows 0-5 and trains on the rest (scikit-learn 1.9
    stops with a ZeroDivisionError or a NaN error)."""
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(30, 4)), rng.normal(size=(30, 2) if "MultiTask" in cls.__name__ else 30)
    w = np.ones(30)
    w[zero] = 0.0
    with pytest.raises(ValueError, match=f"sample_weight is 0 on every {part} row of fold 0"):
        cls(alphas=3).fit(X, y, sample_weight=w)


@pytest.mark.parametrize("cls", [LassoCV, ElasticNetCV, MultiTaskLassoCV, MultiTaskElasticNetCV])
def test_docstring_lists_l1_ratio_and_copy_x_and_states_the_objective(cls):
    doc = cls.__doc__
    parameters = doc.split("Parameters\n    ----------\n")[1].split("Attributes")[0]
    assert ("l1_ratio : " in parameters) == ("l1_ratio" in cls().get_params())
    assert "default" not in doc.split("Parameters")[0]  # no parameter above its header
    assert "copy_X : " in parameters and "in place" in parameters
    assert "The objective is that of the refitted" in doc.split("Notes\n    -----\n")[1]


@pytest.mark.parametrize("copy_X", [True, False])
def test_copy_x_false_centers_the_callers_x_in_place_as_documented(copy_X):
    X, y = SINGLE["synthetic"]
    X = X + 3.0
    before = X.copy()
    LassoCV(alphas=3, cv=3, copy_X=copy_X).fit(X, y)
    if copy_X:
        np.testing.assert_array_equal(X, before)
    else:
        np.testing.assert_allclose(X, before - before.mean(axis=0), atol=1e-12)


def test_splitter_parameters_need_routing():
    X, y = SINGLE["synthetic"]
    with pytest.raises(ValueError, match="only supported if enable_metadata_routing=True"):
        LassoCV().fit(X, y, groups=np.arange(len(X)) % 2)


@parametrize_with_checks(
    [LassoCV(alphas=5, cv=3), ElasticNetCV(alphas=5, cv=3), MultiTaskLassoCV(alphas=5, cv=3)]
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def test_save_load_round_trip(tmp_path):
    X, Y = MULTI["synthetic"]
    model = MultiTaskElasticNetCV(l1_ratio=[0.5, 0.9], alphas=5, cv=3).fit(X, Y)
    back = io.load(io.save(model, tmp_path / "model.npz"))
    assert type(back) is MultiTaskElasticNetCV and back.get_params() == model.get_params()
    np.testing.assert_array_equal(back.mse_path_, model.mse_path_)
    np.testing.assert_array_equal(back.predict(X), model.predict(X))


@pytest.mark.parametrize(
    ("ours", "ref", "k"),
    [
        (LassoCV, sk.LassoCV, 1),
        (ElasticNetCV, sk.ElasticNetCV, 1),
        (MultiTaskLassoCV, sk.MultiTaskLassoCV, 3),
        (MultiTaskElasticNetCV, sk.MultiTaskElasticNetCV, 3),
    ],
    ids=lambda v: v.__name__ if isinstance(v, type) else str(v),
)
def test_float32_input_gives_float32_results_as_sklearn(ours, ref, k):
    X, y = _synthetic(60, 15, k, 2)
    X, y = X.astype(np.float32), y.astype(np.float32)
    a, b = ours(cv=3).fit(X, y), ref(cv=3).fit(X, y)
    # the dual gap: float32 for one target, float64 for several (the multi-task kernel's)
    assert np.asarray(a.dual_gap_).dtype == np.asarray(b.dual_gap_).dtype
    for name in ("coef_", "intercept_", "mse_path_"):
        got, want = np.asarray(getattr(a, name)), np.asarray(getattr(b, name))
        assert got.dtype == want.dtype == np.float32, name
        # scikit-learn solves the folds in float32, we in float64: 1.3e-5 apart at most here
        # (ElasticNetCV's mse_path_), 2e-7 for the rest
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4 * np.abs(want).max())


@pytest.mark.parametrize(
    ("ours", "ref"),
    [
        (LassoCV, sk.LassoCV),
        (ElasticNetCV, sk.ElasticNetCV),
        (MultiTaskLassoCV, sk.MultiTaskLassoCV),
        (MultiTaskElasticNetCV, sk.MultiTaskElasticNetCV),
    ],
    ids=lambda cls: cls.__name__,
)
def test_groups_reach_the_splitter_with_routing_as_sklearn(ours, ref):
    X, y = (MULTI if ours._multitask else SINGLE)["diabetes"]
    groups = np.arange(len(y)) % 5
    with sklearn.config_context(enable_metadata_routing=True):
        a = ours(cv=GroupKFold(3), tol=TOL).fit(X, y, groups=groups)
        b = ref(cv=GroupKFold(3), tol=TOL).fit(X, y, groups=groups)
    np.testing.assert_allclose(a.alpha_, b.alpha_, rtol=1e-14)  # the same grid point
    np.testing.assert_allclose(a.mse_path_, b.mse_path_, rtol=RTOL)
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=RTOL, atol=RTOL * np.abs(b.coef_).max())
