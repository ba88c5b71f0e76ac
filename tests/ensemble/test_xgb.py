"""The second-order histogram booster against xgboost (hist) and LightGBM."""

import json
import warnings

import numpy as np
import pytest
from scipy.special import expit
from sklearn.datasets import (
    load_breast_cancer,
    load_digits,
    load_linnerud,
    make_classification,
    make_regression,
)
from sklearn.metrics import accuracy_score, mean_squared_error, roc_auc_score
from sklearn.model_selection import KFold, StratifiedKFold

from mlcanon import io
from mlcanon.ensemble import XGBClassifier, XGBRegressor

xgb = pytest.importorskip("xgboost")

PARAMS = dict(n_estimators=40, learning_rate=0.3, max_depth=3, reg_lambda=1.0, min_child_weight=1.0)


def _lgb(kind):
    lgb = pytest.importorskip("lightgbm")
    cls = lgb.LGBMRegressor if kind == "reg" else lgb.LGBMClassifier
    # num_leaves = 2^depth and no sample-count floor: the same trees as a depth-wise grower
    return cls(
        n_estimators=40,
        learning_rate=0.3,
        max_depth=3,
        num_leaves=8,
        reg_lambda=1.0,
        min_child_weight=1.0,
        min_child_samples=1,
        max_bin=255,
        verbose=-1,
    )


def _cv_score(model, X, y, metric, kind, n_splits=3):
    folds = (KFold if kind == "reg" else StratifiedKFold)(n_splits, shuffle=True, random_state=0)
    scores = []
    for tr, te in folds.split(X, y):
        model.fit(X[tr], y[tr])
        if metric == "auc":
            scores.append(roc_auc_score(y[te], model.predict_proba(X[te])[:, 1]))
        elif metric == "accuracy":
            scores.append(accuracy_score(y[te], model.predict(X[te])))
        else:
            scores.append(mean_squared_error(y[te], model.predict(X[te])) ** 0.5)
    return float(np.mean(scores))


def _nan_data(kind, seed=0):
    rng = np.random.default_rng(seed)
    make = make_regression if kind == "reg" else make_classification
    kw = dict(noise=10.0) if kind == "reg" else {}
    X, y = make(3000, 20, n_informative=8, random_state=seed, **kw)
    # On a 0.05 grid every feature has fewer distinct values than bins, so the comparison
    # measures the boosting and the missing-value handling, not two quantile sketches.
    X = np.round(X * 20) / 20
    X[rng.random(X.shape) < 0.2] = np.nan  # 20% of the values missing
    return X, y


CASES = {
    "breast_cancer-auc": (lambda: load_breast_cancer(return_X_y=True), "clf", "auc"),
    "digits-accuracy": (lambda: load_digits(return_X_y=True), "clf", "accuracy"),
    "nan20-auc": (lambda: _nan_data("clf"), "clf", "auc"),
    "nan20-rmse": (lambda: _nan_data("reg"), "reg", "rmse"),
}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("reference", ["xgboost", "lightgbm"])
def test_metric_within_half_percent_of_reference(case, reference):
    load, kind, metric = CASES[case]
    if case.startswith("digits") and reference == "lightgbm":
        pytest.skip(
            "LightGBM's multiclass hessian is K/(K-1) p(1-p), xgboost's (and ours) 2 p(1-p): "
            "the same learning_rate takes different steps, so the two agree only at convergence"
        )
    X, y = load()
    if reference == "xgboost":
        cls = xgb.XGBRegressor if kind == "reg" else xgb.XGBClassifier
        ref = cls(**PARAMS, tree_method="hist", max_bin=256)
    else:
        ref = _lgb(kind)
    ours = (XGBRegressor if kind == "reg" else XGBClassifier)(**PARAMS)
    a, b = _cv_score(ours, X, y, metric, kind), _cv_score(ref, X, y, metric, kind)
    assert abs(a - b) <= 0.005 * abs(b), (a, b)


def _xgb_nodes(booster):
    """Node dicts of the first tree of an xgboost model, by node id."""
    tree = json.loads(booster.get_booster().get_dump(dump_format="json", with_stats=True)[0])
    out, stack = {}, [tree]
    while stack:
        node = stack.pop()
        out[node["nodeid"]] = node
        stack.extend(node.get("children", []))
    return out


@pytest.mark.parametrize("nan_rate", [0.0, 0.2])
def test_first_tree_gains_and_leaves_equal_xgboost(nan_rate):
    """One depth-2 tree on data with fewer distinct values than bins: same splits, same gains
    G_L^2/(H_L+l) + G_R^2/(H_R+l) - G^2/(H+l), same leaves -G/(H+l), same missing sides."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(150, 3))
    y = np.sin(2 * X[:, 0]) + X[:, 1] + 0.1 * rng.normal(size=150)
    X[rng.random(X.shape) < nan_rate] = np.nan
    params = dict(
        n_estimators=1, max_depth=2, learning_rate=1.0, reg_lambda=2.0, base_score=float(y.mean())
    )
    ours = XGBRegressor(**params, max_bin=256).fit(X, y)
    ref = _xgb_nodes(xgb.XGBRegressor(**params, tree_method="hist", max_bin=256).fit(X, y))
    nd = ours.nodes_
    assert len(nd["left"]) == len(ref)
    for i, node in ref.items():
        if "leaf" in node:
            assert nd["left"][i] == -1
            assert nd["value"][i] == pytest.approx(node["leaf"], rel=1e-5)
            continue
        assert nd["feature"][i] == int(node["split"][1:])
        assert nd["gain"][i] == pytest.approx(node["gain"], rel=1e-5)
        assert nd["cover"][i] == pytest.approx(node["cover"], rel=1e-6)
        assert bool(nd["default_left"][i]) == (node["missing"] == node["yes"])


def test_hand_computed_leaf_weights_and_gain():
    """x = 1..4, y = (0, 0, 4, 4), base 0, lambda = 1: g = -y, h = 1.
    Root G = -8, H = 4; split at 2.5: G_L = 0, H_L = 2; G_R = -8, H_R = 2.
    gain = 0 + 64/3 - 64/5; leaves -0/3 = 0 and 8/3."""
    X = np.arange(1.0, 5.0)[:, None]
    m = XGBRegressor(
        n_estimators=1, max_depth=1, learning_rate=1.0, base_score=0.0, min_child_weight=0.0
    ).fit(X, [0.0, 0.0, 4.0, 4.0])
    nd = m.nodes_
    assert nd["threshold"][0] == 2.5
    assert nd["gain"][0] == pytest.approx(64 / 3 - 64 / 5)
    np.testing.assert_allclose(nd["value"][1:], [0.0, 8 / 3])
    np.testing.assert_allclose(m.predict([[1.0], [4.0]]), [0.0, 8 / 3])


def test_gamma_blocks_weak_splits_as_xgboost():
    X = np.arange(1.0, 5.0)[:, None]
    y = [0.0, 0.0, 4.0, 4.0]
    gain = 64 / 3 - 64 / 5
    kw = dict(n_estimators=1, max_depth=1, learning_rate=1.0, base_score=0.0, min_child_weight=0.0)
    assert len(XGBRegressor(gamma=gain * 0.99, **kw).fit(X, y).nodes_["left"]) == 3
    assert len(XGBRegressor(gamma=gain * 1.01, **kw).fit(X, y).nodes_["left"]) == 1
    ref = xgb.XGBRegressor(gamma=gain * 1.01, tree_method="hist", **kw).fit(X, y)
    assert len(_xgb_nodes(ref)) == 1


def test_missing_goes_right_when_training_had_none():
    """No NaN at fit: both our booster and xgboost send NaN to the right child."""
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 3, size=(500, 1))
    y = 10.0 * (X[:, 0] > 0.5)  # the left child is the smaller one
    kw = dict(n_estimators=1, max_depth=1, learning_rate=1.0, base_score=0.0)
    ours = XGBRegressor(**kw).fit(X, y)
    ref = xgb.XGBRegressor(**kw, tree_method="hist").fit(X, y)
    probe = np.array([[np.nan], [2.9]])
    assert not ours.nodes_["default_left"][0]
    np.testing.assert_allclose(ours.predict(probe), ref.predict(probe), rtol=1e-5)


def test_informative_missing_learns_its_side():
    """NaN rows behave like small x: the learned default is left, as in xgboost."""
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, 400)
    y = (x > 0.5).astype(float)
    x[rng.random(400) < 0.3] = np.nan
    y[np.isnan(x)] = 0.0
    kw = dict(n_estimators=1, max_depth=1, learning_rate=1.0, base_score=0.5)
    ours = XGBRegressor(**kw).fit(x[:, None], y)
    ref = _xgb_nodes(xgb.XGBRegressor(**kw, tree_method="hist").fit(x[:, None], y))
    assert ours.nodes_["default_left"][0]
    assert ref[0]["missing"] == ref[0]["yes"]


def test_custom_objective_equals_builtin():
    X, y = make_classification(400, 6, random_state=0)

    def logistic(y_true, margin):
        p = expit(margin)
        return p - y_true, p * (1 - p)

    a = XGBClassifier(n_estimators=20, base_score=0.5).fit(X, y)
    b = XGBClassifier(n_estimators=20, base_score=0.5, objective=logistic).fit(X, y)
    np.testing.assert_allclose(b.predict_proba(X), a.predict_proba(X), rtol=1e-12)


def test_custom_objective_matches_xgboost_custom_objective():
    """Pseudo-Huber loss given as a (grad, hess) callable, in ours and in xgboost. With fewer
    distinct values than bins both split on the same candidates (xgboost's sketch weighs
    quantiles by hessian), so the models agree to xgboost's float32 precision."""
    X, y = make_regression(200, 5, noise=20.0, random_state=0)

    def pseudo_huber(y_true, margin):
        r = margin - y_true
        s = np.sqrt(1 + (r / 10.0) ** 2)
        return r / s, 1 / s**3

    kw = dict(n_estimators=30, max_depth=3, base_score=0.0)
    ours = XGBRegressor(objective=pseudo_huber, **kw).fit(X, y)
    ref = xgb.XGBRegressor(objective=pseudo_huber, tree_method="hist", **kw).fit(X, y)
    np.testing.assert_allclose(ours.predict(X), ref.predict(X), rtol=2e-5, atol=1e-3)


@pytest.mark.parametrize("n_classes", [0, 2, 3])
def test_custom_objective_starts_from_xgboost_default_base_score(n_classes):
    """A callable objective leaves xgboost no intercept to estimate: it starts from
    base_score=0.5, a margin of 0.5 (regression, each of several classes) or logit(0.5) = 0
    (two classes). Compared on the raw margins of one shrunken round (before, ours started
    from 0: every regression margin was 0.5 lower)."""
    X = np.random.default_rng(0).normal(size=(120, 3))
    if n_classes == 0:
        y, est, ref = X[:, 0] * 3 + 5, XGBRegressor, xgb.XGBRegressor

        def fn(y_true, margin):
            return margin - y_true, np.ones_like(margin)
    else:
        y, est, ref = (
            (X[:, 0] > 0).astype(int) + (X[:, 1] > 1) * (n_classes - 2),
            XGBClassifier,
            xgb.XGBClassifier,
        )

        def fn(y_true, margin):
            if margin.ndim == 1:
                p = expit(margin)
                return p - y_true, p * (1 - p)
            p = np.exp(margin - margin.max(1, keepdims=True))
            p /= p.sum(1, keepdims=True)
            g = p.copy()
            g[np.arange(len(y_true)), y_true.astype(int)] -= 1
            return g, 2 * p * (1 - p)

    kw = dict(n_estimators=1, max_depth=1, learning_rate=1e-3)
    ours = est(objective=fn, **kw).fit(X, y)
    theirs = ref(objective=fn, tree_method="hist", **kw).fit(X, y)
    margins = theirs.predict(X, output_margin=True).reshape(len(X), -1)
    np.testing.assert_allclose(ours.decision_function_raw(X), margins, atol=1e-5)


@pytest.mark.parametrize("kind", ["reg", "clf"])
def test_equal_to_xgboost_when_bins_are_exact(kind):
    """Every feature has fewer distinct values than max_bin: the same boosting, tree by tree."""
    X, y = (make_regression if kind == "reg" else make_classification)(200, 6, random_state=1)
    kw = dict(n_estimators=20, max_depth=4, learning_rate=0.3, base_score=0.5)
    if kind == "reg":
        ours = XGBRegressor(**kw).fit(X, y).predict(X)
        ref = xgb.XGBRegressor(**kw, tree_method="hist").fit(X, y).predict(X)
        np.testing.assert_allclose(ours, ref, rtol=1e-4, atol=1e-3)
    else:
        ours = XGBClassifier(**kw).fit(X, y).predict_proba(X)
        ref = xgb.XGBClassifier(**kw, tree_method="hist").fit(X, y).predict_proba(X)
        np.testing.assert_allclose(ours, ref, atol=1e-5)


@pytest.mark.parametrize("n_classes", [0, 2, 3])
def test_predict_takes_xgboost_output_margin_and_iteration_range(n_classes):
    """xgboost's predict(X, output_margin=, iteration_range=) and predict_proba(X,
    iteration_range=): a sub-range of rounds still starts from the base margin, and a stop of
    0 means the default rounds. Every feature has fewer values than bins, so the trees are
    xgboost's."""
    rng = np.random.default_rng(0)
    X = rng.integers(0, 20, size=(300, 4)).astype(float)
    score = X[:, 0] - X[:, 1] + rng.normal(scale=4, size=300)
    kw = dict(n_estimators=6, max_depth=3, learning_rate=0.3)
    if n_classes == 0:
        ours, ref = XGBRegressor(**kw).fit(X, score), xgb.XGBRegressor(**kw).fit(X, score)
    else:
        y = np.digitize(score, np.quantile(score, np.linspace(0, 1, n_classes + 1)[1:-1]))
        ours, ref = XGBClassifier(**kw).fit(X, y), xgb.XGBClassifier(**kw).fit(X, y)
    for rounds in [None, (0, 0), (0, 6), (2, 5), (5, 6)]:
        margin = dict(output_margin=True, iteration_range=rounds)
        np.testing.assert_allclose(ours.predict(X, **margin), ref.predict(X, **margin), atol=1e-5)
        if n_classes:
            np.testing.assert_allclose(
                ours.predict_proba(X, iteration_range=rounds),
                ref.predict_proba(X, iteration_range=rounds),
                atol=1e-6,
            )
            np.testing.assert_array_equal(
                ours.predict(X, iteration_range=rounds), ref.predict(X, iteration_range=rounds)
            )


@pytest.mark.parametrize("n_classes", [0, 2, 3])
def test_feature_importances_equal_xgboost_gain(n_classes):
    """feature_importances_ is xgboost's default "gain" importance (exact bins: same trees),
    in its dtype, float32."""
    rng = np.random.default_rng(0)
    X = rng.integers(0, 20, size=(300, 5)).astype(float)
    score = X[:, 0] - 2 * X[:, 1] + 0.3 * X[:, 2] + rng.normal(scale=4, size=300)
    kw = dict(n_estimators=8, max_depth=3, learning_rate=0.3, reg_lambda=1.5)
    if n_classes == 0:
        ours, ref = XGBRegressor(**kw).fit(X, score), xgb.XGBRegressor(**kw).fit(X, score)
    else:
        y = np.digitize(score, np.quantile(score, np.linspace(0, 1, n_classes + 1)[1:-1]))
        ours, ref = XGBClassifier(**kw).fit(X, y), xgb.XGBClassifier(**kw).fit(X, y)
    np.testing.assert_allclose(ours.feature_importances_, ref.feature_importances_, atol=1e-6)
    assert ours.feature_importances_.sum() == pytest.approx(1.0)
    # xgboost's are float32 (ours were float64)
    assert ours.feature_importances_.dtype == ref.feature_importances_.dtype == np.float32


def test_early_stopping_keeps_the_best_round():
    X, y = make_classification(600, 10, flip_y=0.2, random_state=0)
    Xtr, ytr, Xva, yva = X[:400], y[:400], X[400:], y[400:]
    m = XGBClassifier(n_estimators=300, learning_rate=0.3, early_stopping_rounds=10)
    m.fit(Xtr, ytr, eval_set=[(Xva, yva)])
    curve = m.evals_result_["validation_0"]["logloss"]
    assert m.best_iteration_ == int(np.argmin(curve))
    assert len(curve) == m.best_iteration_ + 11  # stopped 10 rounds after the best
    full = m.decision_function_raw(Xva, iteration_range=(0, m.best_iteration_ + 1))
    np.testing.assert_allclose(m.predict_proba(Xva)[:, 1], expit(full[:, 0]))


def test_multiclass_probabilities_and_eval_metric_match_definition():
    X, y = load_digits(return_X_y=True)
    m = XGBClassifier(n_estimators=5, max_depth=2, eval_metric="mlogloss")
    m.fit(X[:1000], y[:1000], eval_set=[(X[1000:], y[1000:])])
    P = m.predict_proba(X[1000:])
    np.testing.assert_allclose(P.sum(axis=1), 1.0)
    logloss = -np.mean(np.log(P[np.arange(len(P)), y[1000:]]))
    assert m.evals_result_["validation_0"]["mlogloss"][-1] == pytest.approx(logloss, rel=1e-10)


def test_subsampling_is_seeded():
    X, y = make_regression(300, 8, random_state=0)
    kw = dict(n_estimators=10, subsample=0.7, colsample_bytree=0.5, random_state=3)
    np.testing.assert_array_equal(
        XGBRegressor(**kw).fit(X, y).predict(X), XGBRegressor(**kw).fit(X, y).predict(X)
    )


def test_threads_do_not_change_the_model():
    X, y = _nan_data("clf")
    a = XGBClassifier(n_estimators=10, n_jobs=1).fit(X, y).predict_proba(X)
    b = XGBClassifier(n_estimators=10, n_jobs=2).fit(X, y).predict_proba(X)
    np.testing.assert_allclose(a, b, rtol=1e-12)


def test_save_load_round_trip(tmp_path):
    X, y = _nan_data("clf")
    m = XGBClassifier(n_estimators=10).fit(X[:500], y[:500])
    back = io.load(io.save(m, tmp_path / "booster.npz"))
    np.testing.assert_array_equal(back.predict_proba(X), m.predict_proba(X))


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(learning_rate=-0.1), "learning_rate must be >= 0"),
        (dict(max_depth=-1), "max_depth must be >= 0"),
        (dict(subsample=1.5), "subsample must be <= 1"),
        (dict(max_bin=1), "max_bin must be >= 2"),
        (dict(eval_metric="auc"), "eval_metric must be None or one of .rmse., .mae."),
        (
            dict(objective="reg:gamma"),
            "objective must be None or one of .reg:squarederror. or a call",
        ),
        (
            dict(n_jobs=0),
            r"n_jobs must be None or an int in the range \[1, inf\) or an int in the range "
            r"\(-inf, -1\]; got int 0",
        ),
    ],
)
def test_bad_parameters(params, match):
    X, y = make_regression(50, 3, random_state=0)
    with pytest.raises(ValueError, match=match):
        XGBRegressor(n_estimators=2, **params).fit(X, y)


@pytest.mark.parametrize(
    "objective, n_classes, error, match",
    [
        (
            "reg:squarederror",
            2,
            ValueError,
            r"^objective must be None or one of .binary:logistic., ",
        ),
        ("multi:softprob", 2, ValueError, r"^objective must be None or 'binary:logistic' for 2"),
        ("binary:logistic", 3, ValueError, r"for 3 classes; got 'binary:logistic'$"),
        (3, 2, TypeError, r"^objective must be None or one of .* or a callable; got int 3$"),
    ],
)
def test_classifier_objective_names_allowed_values(objective, n_classes, error, match):
    X, y = make_classification(
        60, 4, n_informative=3, n_redundant=0, n_classes=n_classes, random_state=0
    )
    with pytest.raises(error, match=match):
        XGBClassifier(n_estimators=2, objective=objective).fit(X, y)


def test_bad_input():
    X, y = make_classification(60, 4, random_state=0)
    with pytest.raises(ValueError, match="infinity"):
        XGBClassifier(n_estimators=2).fit(np.where(X > 1, np.inf, X), y)
    with pytest.raises(ValueError, match="at least 2 classes"):
        XGBClassifier(n_estimators=2).fit(X, np.zeros(60))
    with pytest.raises(ValueError, match="needs at least one eval_set"):
        XGBClassifier(n_estimators=2, early_stopping_rounds=2).fit(X, y)
    with pytest.raises(ValueError, match=r"labels \[7\] not seen in training"):
        XGBClassifier(n_estimators=2).fit(X, y, eval_set=[(X[:5], [0, 1, 7, 0, 1])])
    m = XGBClassifier(n_estimators=2).fit(X, y)
    with pytest.raises(ValueError, match="X has 3 features, but XGBClassifier"):
        m.predict(X[:, :3])
    with pytest.raises(ValueError, match="iteration_range"):
        m.decision_function_raw(X, iteration_range=(0, 5))


def test_rounds_do_not_rejoin_all_trees(monkeypatch):
    """Each round evaluates only its own trees; all trees are joined once, after the last round
    (joining them every round made the fit quadratic in the number of rounds)."""
    import mlcanon.ensemble._xgb_base as base

    calls = []
    real = base._join
    monkeypatch.setattr(base, "_join", lambda trees: calls.append(len(trees)) or real(trees))
    X, y = load_digits(return_X_y=True)
    m = XGBClassifier(n_estimators=6, max_depth=2).fit(X, y, eval_set=[(X, y)])
    assert calls == [10] * 6 + [60]  # 10 classes: 10 trees per round
    # the per-round evaluation equals predicting with the finished model
    last = m.evals_result_["validation_0"]["mlogloss"][-1]
    p = m.predict_proba(X)
    assert last == pytest.approx(-np.mean(np.log(p[np.arange(len(y)), y])), rel=1e-9)


@pytest.mark.parametrize("max_bin, nan", [(16, True), (256, False), (256, True), (300, False)])
def test_bins_are_searchsorted_of_the_edges(max_bin, nan):
    """The bin of x is the number of edges below it (NumPy's searchsorted); NaN -> max_bin."""
    from mlcanon.ensemble._binning import apply_bins, fit_bin_edges

    rng = np.random.default_rng(0)
    X = rng.standard_normal((3000, 4))
    X[:, 1] = rng.integers(0, 5, 3000)  # few distinct values: edges at midpoints
    if nan:
        X[rng.random(X.shape) < 0.1] = np.nan
    edges, n_edges = fit_bin_edges(X, max_bin, rng=rng)
    X[:50, 0] = edges[0, rng.integers(0, n_edges[0], 50)]  # values on an edge go left
    binned = apply_bins(X, edges, n_edges, max_bin)
    small = max_bin < 256 or (max_bin == 256 and not nan)  # every bin index fits a byte
    assert binned.dtype == (np.uint8 if small else np.uint16)
    for f in range(4):
        expected = np.searchsorted(edges[f, : n_edges[f]], X[:, f], side="left")
        np.testing.assert_array_equal(binned[f], np.where(np.isnan(X[:, f]), max_bin, expected))


def _xgb_base_score(model) -> np.ndarray:
    """xgboost's fitted intercept: a probability for binary:logistic, margins for softprob."""
    config = json.loads(model.get_booster().save_config())
    return np.asarray(json.loads(config["learner"]["learner_model_param"]["base_score"]))


def test_leaf_lighter_than_min_child_weight_is_zero_as_xgboost():
    """Total hessian 0.5 < min_child_weight = 1: the root cannot split and xgboost's CalcWeight
    gives it 0 (not -G / (H + lambda)), so the model stays at base_score."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 2))
    y = 3 * X[:, 0] + rng.normal(size=100) + 10
    w = np.full(100, 0.005)
    kw = dict(n_estimators=5, min_child_weight=1.0, reg_lambda=1e-3, base_score=0.0)
    ours = XGBRegressor(**kw).fit(X, y, sample_weight=w)
    ref = xgb.XGBRegressor(tree_method="hist", **kw).fit(X, y, sample_weight=w)
    np.testing.assert_array_equal(ref.predict(X), 0.0)
    np.testing.assert_array_equal(ours.predict(X), 0.0)
    assert np.all(ours.nodes_["value"] == 0.0)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_saturated_classifier_stops_moving_as_xgboost(n_classes):
    """learning_rate=50 saturates the margins within a few rounds; then a tree's root hessian
    sum p(1-p) falls below min_child_weight and its value is 0, in ours as in xgboost."""
    X, y = make_classification(
        200, 4, n_informative=3, n_redundant=0, n_classes=n_classes, random_state=0
    )
    X = np.round(X, 1)  # fewer distinct values than bins: the same candidate splits
    kw = dict(n_estimators=30, learning_rate=50.0)
    ours = XGBClassifier(**kw).fit(X, y)
    ref = xgb.XGBClassifier(tree_method="hist", **kw).fit(X, y)
    margin = ref.predict(X, output_margin=True)
    np.testing.assert_allclose(
        ours.decision_function_raw(X), margin.reshape(len(X), -1), rtol=1e-5, atol=1e-3
    )
    assert ours.score(X, y) == ref.score(X, y)


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("weighted", [False, True])
def test_default_base_score_equals_xgboost(n_classes, weighted):
    """base_score=None: xgboost 3.2 starts binary:logistic at the log-odds of the weighted
    mean label and multi:softprob at log(freq_k + 1e-6) - mean_j log(freq_j + 1e-6)."""
    X, y = make_classification(
        300,
        4,
        n_informative=3,
        n_redundant=0,
        n_classes=n_classes,
        weights=[0.6, 0.3] if n_classes == 3 else [0.7],
        random_state=0,
    )
    X = np.round(X, 1)
    w = np.random.default_rng(0).uniform(0.1, 2.0, len(y)) if weighted else None
    ours = XGBClassifier(n_estimators=10).fit(X, y, sample_weight=w)
    ref = xgb.XGBClassifier(tree_method="hist", n_estimators=10).fit(X, y, sample_weight=w)
    start = ours.base_margin_ if n_classes == 3 else expit(ours.base_margin_)
    np.testing.assert_allclose(start, _xgb_base_score(ref), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-6)


@pytest.mark.parametrize("metric", ["rmse", "mae", "logloss", "error"])
def test_binary_eval_metrics_and_early_stopping_equal_xgboost(metric):
    """rmse and mae of a binary classifier score its probabilities, as xgboost's do: the same
    curve, so early stopping keeps the same round."""
    X, y = make_classification(300, 5, random_state=0)
    X = np.round(X, 1)
    kw = dict(n_estimators=60, early_stopping_rounds=5, eval_metric=metric, base_score=0.5)
    fit = dict(eval_set=[(X[200:], y[200:])])
    ours = XGBClassifier(**kw).fit(X[:200], y[:200], **fit)
    ref = xgb.XGBClassifier(tree_method="hist", **kw).fit(X[:200], y[:200], verbose=False, **fit)
    curve, ref_curve = (m.evals_result()["validation_0"][metric] for m in (ours, ref))
    np.testing.assert_allclose(curve, ref_curve, rtol=1e-5, atol=1e-6)
    assert ours.best_iteration == ref.best_iteration


@pytest.mark.parametrize(
    "n_classes, metric, allowed",
    [
        (2, "merror", "'rmse', 'mae', 'logloss', 'error' for a binary model"),
        (2, "mlogloss", "'rmse', 'mae', 'logloss', 'error' for a binary model"),
        (3, "logloss", "'mlogloss', 'merror' for a multiclass model"),
        (3, "error", "'mlogloss', 'merror' for a multiclass model"),
        (3, "rmse", "'mlogloss', 'merror' for a multiclass model"),
    ],
)
def test_eval_metric_of_another_class_count_raises_as_xgboost(n_classes, metric, allowed):
    X, y = make_classification(
        60, 4, n_informative=3, n_redundant=0, n_classes=n_classes, random_state=0
    )
    kw = dict(n_estimators=2, eval_metric=metric)
    with pytest.raises(ValueError, match=f"^eval_metric must be None or one of {allowed} .*"):
        XGBClassifier(**kw).fit(X, y, eval_set=[(X, y)])
    with pytest.raises(xgb.core.XGBoostError):
        xgb.XGBClassifier(tree_method="hist", **kw).fit(X, y, eval_set=[(X, y)], verbose=False)


@pytest.mark.parametrize("metric", ["logloss", "error", "mlogloss", "merror"])
def test_regressor_refuses_classification_metrics(metric):
    X, y = make_regression(50, 3, random_state=0)
    match = f"one of 'rmse', 'mae' for a regression model .*; got '{metric}'$"
    with pytest.raises(ValueError, match=match):
        XGBRegressor(n_estimators=2, eval_metric=metric).fit(X, y, eval_set=[(X, y)])


@pytest.mark.parametrize("n_classes", [0, 2, 3])
def test_zero_weight_rows_do_not_move_the_bins_as_xgboost(n_classes):
    """xgboost's sketch leaves out rows of weight 0: values held only by such rows are no bin
    boundary, so those rows fall where xgboost's thresholds put them, and the model is the one
    fitted without them. Values of feature 0 that are 1 mod 3 have weight 0."""
    rng = np.random.default_rng(0)
    X = rng.integers(0, 15, size=(200, 3)).astype(float)
    score = X[:, 0] - X[:, 1] + rng.normal(scale=2, size=200)
    w = np.where(X[:, 0] % 3 == 1, 0.0, 1.0)
    kw = dict(n_estimators=5, max_depth=3, learning_rate=0.3)
    if n_classes == 0:
        y, ours, ref = score, XGBRegressor(**kw), xgb.XGBRegressor(**kw)
    else:
        y = np.digitize(score, np.quantile(score, np.linspace(0, 1, n_classes + 1)[1:-1]))
        ours, ref = XGBClassifier(**kw), xgb.XGBClassifier(**kw)
    ours.fit(X, y, sample_weight=w)
    ref.set_params(tree_method="hist").fit(X, y, sample_weight=w)
    margin = dict(output_margin=True)
    np.testing.assert_allclose(ours.predict(X, **margin), ref.predict(X, **margin), atol=1e-5)


@pytest.mark.parametrize("n_classes", [0, 2, 3])
def test_eval_set_column_labels_score_as_xgboost(n_classes):
    """Eval labels given as a column (n, 1) are the labels, as xgboost reads them; they were
    broadcast against the (n,) predictions into an (n, n) table, so the metric was that of
    every prediction against every label (12.9 instead of xgboost's rmse 1.43)."""
    rng = np.random.default_rng(0)
    X = rng.integers(0, 6, size=(60, 2)).astype(float)
    score = X[:, 0] + rng.normal(size=60)
    # (min_child_weight 0.5: no child's hessian sum lands on the bound, up to rounding)
    kw = dict(n_estimators=3, max_depth=3, min_child_weight=0.5)
    if n_classes == 0:
        y, ours, ref = score, XGBRegressor(**kw), xgb.XGBRegressor(**kw)
    else:
        y = np.digitize(score, np.quantile(score, np.linspace(0, 1, n_classes + 1)[1:-1]))
        ours, ref = XGBClassifier(**kw), xgb.XGBClassifier(**kw)
    ours.fit(X, y, eval_set=[(X, y[:, None])])
    ref.set_params(tree_method="hist").fit(X, y, eval_set=[(X, y[:, None])], verbose=False)
    ((metric, curve),) = ref.evals_result()["validation_0"].items()
    np.testing.assert_allclose(ours.evals_result_["validation_0"][metric], curve, rtol=1e-6)


def test_eval_set_bad_labels_raise():
    """Non-finite regression labels in eval_set are refused, as xgboost refuses them (the metric
    was NaN, and early stopping kept round 0); labels of another shape name the shape."""
    X, y = make_regression(40, 3, random_state=0)
    with pytest.raises(ValueError, match="eval_set y must be finite"):
        XGBRegressor(n_estimators=2).fit(X, y, eval_set=[(X, np.r_[np.nan, y[1:]])])
    with pytest.raises(ValueError, match=r"eval_set\[0\]: X has 40 rows, so y must have shape"):
        XGBRegressor(n_estimators=2).fit(X, y, eval_set=[(X, np.c_[y, y])])


def test_custom_objective_of_wrong_shape_names_the_shapes():
    X, y = make_regression(40, 3, random_state=0)
    with pytest.raises(ValueError, match=r"margins' shape \(40,\); got \(3,\) and \(3,\)"):
        XGBRegressor(n_estimators=2, objective=lambda t, f: (np.ones(3), np.ones(3))).fit(X, y)


@pytest.mark.parametrize("n_classes", [0, 2, 3])
def test_empty_iteration_range_predicts_the_base_margin_as_xgboost(n_classes):
    """xgboost's iteration_range=(k, k) predicts the base margin; it was a ValueError."""
    rng = np.random.default_rng(0)
    X = rng.integers(0, 20, size=(150, 3)).astype(float)
    score = X[:, 0] - X[:, 1] + rng.normal(scale=3, size=150)
    kw = dict(n_estimators=3, max_depth=3, min_child_weight=0.5)
    if n_classes == 0:
        y, ours, ref = score, XGBRegressor(**kw), xgb.XGBRegressor(**kw)
    else:
        y = np.digitize(score, np.quantile(score, np.linspace(0, 1, n_classes + 1)[1:-1]))
        ours, ref = XGBClassifier(**kw), xgb.XGBClassifier(**kw)
    ours.fit(X, y)
    ref.set_params(tree_method="hist").fit(X, y)
    for rounds in [(1, 1), (3, 3)]:
        margin = dict(output_margin=True, iteration_range=rounds)
        np.testing.assert_allclose(ours.predict(X, **margin), ref.predict(X, **margin), atol=1e-5)
        if n_classes:
            np.testing.assert_allclose(
                ours.predict_proba(X, iteration_range=rounds),
                ref.predict_proba(X, iteration_range=rounds),
                atol=1e-6,
            )


def test_max_depth_zero_grows_without_limit_as_xgboost():
    """xgboost's max_depth=0 grows trees without a depth limit; it was a ValueError."""
    rng = np.random.default_rng(0)
    X = rng.integers(0, 20, size=(150, 3)).astype(float)
    y = X[:, 0] - X[:, 1] + rng.normal(scale=3, size=150)
    kw = dict(n_estimators=3, max_depth=0, min_child_weight=0.5)
    ours = XGBRegressor(**kw).fit(X, y)
    ref = xgb.XGBRegressor(**kw, tree_method="hist").fit(X, y)
    n_nodes = ref.get_booster().trees_to_dataframe().groupby("Tree").size().to_numpy()
    np.testing.assert_array_equal(np.diff(ours.tree_offsets_), n_nodes)
    margin = dict(output_margin=True)
    np.testing.assert_allclose(ours.predict(X, **margin), ref.predict(X, **margin), atol=1e-5)
    depth = np.zeros(len(ours.nodes_["left"]), int)  # children are numbered after parents
    for t in range(len(n_nodes)):
        first = ours.tree_offsets_[t]
        for v in range(n_nodes[t]):
            if ours.nodes_["left"][first + v] >= 0:
                for c in (ours.nodes_["left"][first + v], ours.nodes_["right"][first + v]):
                    depth[first + c] = depth[first + v] + 1
    assert depth.max() > 6  # deeper than the default depth allows


@pytest.mark.parametrize("kind", ["gain", "weight", "cover", "total_gain", "total_cover"])
@pytest.mark.parametrize("n_classes", [0, 3])
def test_feature_importance_types_equal_xgboost(kind, n_classes):
    """xgboost's importance_type (exact bins: same trees); only "gain" was available."""
    rng = np.random.default_rng(0)
    X = rng.integers(0, 20, size=(300, 5)).astype(float)
    score = X[:, 0] - 2 * X[:, 1] + 0.3 * X[:, 2] + rng.normal(scale=4, size=300)
    kw = dict(n_estimators=8, max_depth=3, learning_rate=0.3, importance_type=kind)
    if n_classes == 0:
        ours, ref = XGBRegressor(**kw).fit(X, score), xgb.XGBRegressor(**kw).fit(X, score)
    else:
        y = np.digitize(score, np.quantile(score, np.linspace(0, 1, n_classes + 1)[1:-1]))
        ours, ref = XGBClassifier(**kw).fit(X, y), xgb.XGBClassifier(**kw).fit(X, y)
    np.testing.assert_allclose(ours.feature_importances_, ref.feature_importances_, atol=1e-6)


def test_bad_importance_type_names_the_allowed_values():
    X, y = make_regression(40, 3, random_state=0)
    m = XGBRegressor(n_estimators=2).fit(X, y)
    m.set_params(importance_type="split")
    with pytest.raises(ValueError, match="importance_type must be None or one of 'gain', 'wei"):
        m.feature_importances_


@pytest.mark.parametrize("n_classes", [0, 3])
def test_custom_objective_with_sample_weight_parameter_weighs_itself_as_xgboost(n_classes):
    """xgboost hands the weights to a callable with a ``sample_weight`` parameter and uses its
    gradients as they are; ours called it without them (a required parameter: TypeError) and
    then multiplied its gradients by the weights again."""
    rng = np.random.default_rng(0)
    X = rng.integers(0, 20, size=(200, 3)).astype(float)
    score = X[:, 0] - X[:, 1] + rng.normal(scale=3, size=200)
    w = rng.integers(1, 4, size=200).astype(float)

    def squared(y_true, margin, sample_weight):
        return (margin - y_true) * sample_weight, sample_weight

    def softmax_obj(y_true, margin, sample_weight):
        p = np.exp(margin - margin.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        onehot = np.eye(margin.shape[1])[y_true.astype(int)]
        sw = sample_weight[:, None]
        return (p - onehot) * sw, np.maximum(2 * p * (1 - p), 1e-16) * sw

    kw = dict(n_estimators=5, max_depth=3, base_score=0.5)
    if n_classes == 0:
        y, ours, ref = score, XGBRegressor(objective=squared, **kw), xgb.XGBRegressor
        ref = ref(objective=squared, tree_method="hist", **kw)
    else:
        y = np.digitize(score, np.quantile(score, np.linspace(0, 1, n_classes + 1)[1:-1]))
        ours = XGBClassifier(objective=softmax_obj, **kw)
        ref = xgb.XGBClassifier(objective=softmax_obj, tree_method="hist", **kw)
    ours.fit(X, y, sample_weight=w)
    ref.fit(X, y, sample_weight=w)
    margin = dict(output_margin=True)
    np.testing.assert_allclose(ours.predict(X, **margin), ref.predict(X, **margin), atol=1e-5)


def _printed_metrics(text):
    rows = []
    for line in text.strip().splitlines():
        head, *fields = line.split("\t")
        rows.append(
            (head, [f.split(":")[0] for f in fields], [float(f.split(":")[1]) for f in fields])
        )
    return rows


@pytest.mark.parametrize("verbose", [True, 3])
def test_fit_verbose_prints_the_metrics_as_xgboost(verbose, capsys):
    """fit(..., verbose=) as in xgboost: every round (True) or every 3rd and the last one; it
    was a TypeError (an unexpected keyword), which broke code written for xgboost."""
    X, y = make_classification(300, 5, flip_y=0.2, random_state=0)
    X = np.round(X * 4) / 4  # fewer values than bins: the same trees
    kw = dict(n_estimators=40, max_depth=3, early_stopping_rounds=4, learning_rate=0.5)
    evals = [(X[:200], y[:200]), (X[200:], y[200:])]
    XGBClassifier(**kw).fit(X[:200], y[:200], eval_set=evals, verbose=verbose)
    ours = _printed_metrics(capsys.readouterr().out)
    xgb.XGBClassifier(**kw, tree_method="hist").fit(
        X[:200], y[:200], eval_set=evals, verbose=verbose
    )
    ref = _printed_metrics(capsys.readouterr().out)
    assert [r[:2] for r in ours] == [r[:2] for r in ref]
    assert len(ours) < 40
    np.testing.assert_allclose([r[2] for r in ours], [r[2] for r in ref], atol=1.01e-5)
    XGBClassifier(**kw).fit(X[:200], y[:200], eval_set=evals)
    assert capsys.readouterr().out == ""
    with pytest.raises(ValueError, match="verbose must be a bool or an int >= 0; got -1"):
        XGBClassifier(n_estimators=2).fit(X, y, verbose=-1)


def _eval_set_problem(n_classes, **kw):
    """300 samples of 3 integer features, a noisy score as the target (0 classes) or cut into
    ``n_classes`` quantile classes; ours and xgboost's estimator with ``kw``, max_depth 3 and
    early stopping after 3 rounds. Returns the generator too, for draws that follow."""
    rng = np.random.default_rng(0)
    X = rng.integers(0, 20, size=(300, 3)).astype(float)
    score = X[:, 0] - X[:, 1] + rng.normal(scale=4, size=300)
    kw = dict(max_depth=3, early_stopping_rounds=3, **kw)
    if n_classes == 0:
        return rng, X, score, XGBRegressor(**kw), xgb.XGBRegressor(**kw)
    y = np.digitize(score, np.quantile(score, np.linspace(0, 1, n_classes + 1)[1:-1]))
    return rng, X, y, XGBClassifier(**kw), xgb.XGBClassifier(**kw)


@pytest.mark.parametrize(
    "n_classes, metric", [(0, "rmse"), (0, "mae"), (2, "logloss"), (2, "error"), (3, "mlogloss")]
)
def test_sample_weight_eval_set_weighs_the_metrics_as_xgboost(n_classes, metric):
    """xgboost's fit(..., sample_weight_eval_set=): weighted eval metrics, and early stopping
    on them; it was a TypeError (an unexpected keyword)."""
    rng, X, y, ours, ref = _eval_set_problem(n_classes, n_estimators=30, eval_metric=metric)
    evals = [(X[:200], y[:200]), (X[200:], y[200:])]
    weights = [None, rng.exponential(size=100)]
    ours.fit(X[:200], y[:200], eval_set=evals, sample_weight_eval_set=weights)
    ref.set_params(tree_method="hist")
    ref.fit(X[:200], y[:200], eval_set=evals, sample_weight_eval_set=weights, verbose=False)
    for name, curves in ref.evals_result().items():
        np.testing.assert_allclose(ours.evals_result_[name][metric], curves[metric], rtol=1e-5)
    assert ours.best_iteration_ == ref.best_iteration
    with pytest.raises(ValueError, match=r"one entry per eval_set pair \(2\); got 1"):
        ours.fit(X[:200], y[:200], eval_set=evals, sample_weight_eval_set=weights[:1])
    with pytest.raises(ValueError, match=r"sample_weight_eval_set\[1\]: sample_weight has 3"):
        ours.fit(X[:200], y[:200], eval_set=evals, sample_weight_eval_set=[None, np.ones(3)])


@pytest.mark.parametrize(
    "n_classes, metrics",
    [
        (0, ["mae", "rmse"]),
        (2, ["error", "logloss"]),
        (2, ["logloss", "rmse"]),
        (3, ["merror", "mlogloss"]),
    ],
)
def test_eval_metric_list_records_all_and_stops_on_the_last_as_xgboost(n_classes, metrics):
    """xgboost's eval_metric=[...]: each metric's curve on each eval set, and early stopping
    (best_iteration, best_score) on the last metric of the last set; a list was refused."""
    _, X, y, ours, ref = _eval_set_problem(n_classes, n_estimators=40, eval_metric=metrics)
    evals = [(X[:200], y[:200]), (X[200:], y[200:])]
    ours.fit(X[:200], y[:200], eval_set=evals)
    ref.set_params(tree_method="hist").fit(X[:200], y[:200], eval_set=evals, verbose=False)
    result = ref.evals_result()
    assert {k: list(v) for k, v in ours.evals_result_.items()} == {
        k: list(v) for k, v in result.items()
    }
    for name, curves in result.items():
        for metric, curve in curves.items():
            np.testing.assert_allclose(ours.evals_result_[name][metric], curve, rtol=1e-5)
    assert ours.best_iteration == ref.best_iteration
    assert ours.best_score == pytest.approx(ref.best_score, rel=1e-5)


def test_bad_eval_metric_list_names_the_allowed_values():
    X, y = make_regression(40, 3, random_state=0)
    with pytest.raises(ValueError, match=r"or a list of them; got 'auc' in \['rmse', 'auc'\]"):
        XGBRegressor(n_estimators=2, eval_metric=["rmse", "auc"]).fit(X, y, eval_set=[(X, y)])
    with pytest.raises(ValueError, match="eval_metric must be None or one of 'rmse', 'mae' for"):
        XGBRegressor(n_estimators=2, eval_metric=["rmse", "logloss"]).fit(X, y, eval_set=[(X, y)])
    with pytest.raises(ValueError, match="at least one metric; got an empty list"):
        XGBRegressor(n_estimators=2, eval_metric=[]).fit(X, y, eval_set=[(X, y)])


@pytest.mark.parametrize("n_classes", [0, 2, 3])  # 3: several classes (4)
def test_apply_gives_the_leaf_of_every_tree_as_xgboost(n_classes):
    """xgboost's apply(X, iteration_range=): the leaf id each row reaches in each tree, float32
    (n_samples, n_rounds * n_outputs); by default the rounds up to best_iteration. On an
    integer grid (fewer values than bins, NaN in one column) both grow the same trees, so the
    leaf ids are the same. It was an AttributeError."""
    X, y = make_classification(300, 4, n_informative=3, n_redundant=0, random_state=0)
    X = np.round(X * 2)
    X[::7, 1] = np.nan
    if n_classes == 0:
        y = X[:, 0] * 2 + y
    elif n_classes == 3:
        y = np.digitize(X[:, 0] + np.nan_to_num(X[:, 1]), [-1.5, 0.5]) + y  # 4 classes
    kw = dict(n_estimators=30, max_depth=3, learning_rate=1.0, early_stopping_rounds=2)
    kw["base_score"] = 0.5
    if n_classes == 3:
        kw["base_score"] = 0.0
    ours_cls, ref_cls = (
        (XGBRegressor, xgb.XGBRegressor) if n_classes == 0 else (XGBClassifier, xgb.XGBClassifier)
    )
    evals = [(X[200:], y[200:])]
    ours = ours_cls(**kw).fit(X[:200], y[:200], eval_set=evals)
    ref = ref_cls(tree_method="hist", **kw).fit(X[:200], y[:200], eval_set=evals, verbose=False)
    assert 2 < ours.best_iteration == ref.best_iteration < 29  # the default range stops early
    # the training rows: an unseen value between two bins may route differently, as the
    # thresholds differ there (ours halfway between the bins' values, xgboost's at a bin edge)
    Xt = X[:200]
    leaves = ours.apply(Xt)
    assert leaves.dtype == np.float32
    assert leaves.shape == (200, (ours.best_iteration + 1) * (4 if n_classes == 3 else 1))
    np.testing.assert_array_equal(leaves, ref.apply(Xt))
    np.testing.assert_array_equal(ours.apply(Xt, iteration_range=(0, 2)), ref.apply(Xt, (0, 2)))


@pytest.mark.parametrize("n_classes", [0, 2, 3])
def test_zero_learning_rate_keeps_the_base_margin_as_xgboost(n_classes):
    """xgboost takes learning_rate=0 (eta in [0, inf)): the trees are grown (their gains count
    in feature_importances_) but add nothing to the base margin; it was refused."""
    X, y = make_classification(200, 4, random_state=0)
    X = np.round(X * 2)  # fewer values than bins: the same trees
    if n_classes == 0:
        y = X[:, 0] + y
    elif n_classes == 3:
        y = np.digitize(X[:, 0], [-1, 1])
    kw = dict(n_estimators=4, max_depth=3, learning_rate=0.0)
    ours_cls, ref_cls = (
        (XGBRegressor, xgb.XGBRegressor) if n_classes == 0 else (XGBClassifier, xgb.XGBClassifier)
    )
    ours = ours_cls(**kw).fit(X, y)
    ref = ref_cls(tree_method="hist", **kw).fit(X, y)
    margins = ref.predict(X, output_margin=True).reshape(len(X), -1)
    np.testing.assert_allclose(ours.decision_function_raw(X), margins, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(
        ours.decision_function_raw(X), ours.base_margin_[None, :].repeat(200, 0)
    )
    np.testing.assert_allclose(ours.feature_importances_, ref.feature_importances_, atol=1e-6)


def _squared(y, p):
    return p - y, np.ones_like(p)


def _logistic(y, p):
    q = expit(p)
    return q - y, q * (1 - q)


@pytest.mark.parametrize(
    ("task", "kw"),
    [
        ("binary", {}),
        ("multiclass", {}),
        ("regression", {}),
        ("binary", {"base_score": 0.3}),
        ("multiclass", {"base_score": 0.3}),
        ("regression", {"base_score": 0.3}),
        ("binary", {"objective": _logistic}),
        ("regression", {"objective": _squared}),
    ],
)
def test_intercept_and_n_classes_as_xgboost(task, kw):
    """xgboost's fitted XGBClassifier has n_classes_ and both estimators intercept_ (the base
    score: a probability for binary:logistic, margins for multi:softprob, the mean target for
    regression); ours had neither (AttributeError)."""
    rng = np.random.default_rng(0)
    X = rng.random((60, 3))
    y = {
        "binary": (X[:, 0] > 0.5).astype(int),
        "multiclass": (X[:, 0] * 3).astype(int),
        "regression": X @ [1.0, 2.0, 3.0],
    }[task]
    ours_cls, ref_cls = (
        (XGBRegressor, xgb.XGBRegressor)
        if task == "regression"
        else (XGBClassifier, xgb.XGBClassifier)
    )
    ours = ours_cls(n_estimators=3, **kw).fit(X, y)
    ref = ref_cls(n_estimators=3, **kw).fit(X, y)
    assert ours.intercept_.dtype == ref.intercept_.dtype == np.float32
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-6)
    if task != "regression":
        assert ours.n_classes_ == ref.n_classes_ == len(np.unique(y))
    else:
        assert not hasattr(ours, "n_classes_") and not hasattr(ref, "n_classes_")
    assert not hasattr(ours_cls(), "intercept_")  # not fitted


def test_best_iteration_and_best_score_exist_after_early_stopping_only_as_xgboost():
    """Without early stopping xgboost's best_iteration and best_score raise AttributeError
    (also after a refit without it); ours gave the last round for best_iteration."""
    rng = np.random.default_rng(0)
    X = rng.random((60, 3))
    y = X @ [1.0, 2.0, 3.0]
    for cls in (XGBRegressor, xgb.XGBRegressor):
        est = cls(n_estimators=4).fit(X, y)
        for name in ("best_iteration", "best_score"):
            with pytest.raises(AttributeError, match=f"`{name}` is only defined when early"):
                getattr(est, name)
        est.set_params(early_stopping_rounds=2).fit(X, y, eval_set=[(X, y)], verbose=False)
        assert est.best_iteration == 3
        est.set_params(early_stopping_rounds=None).fit(X, y)
        assert not hasattr(est, "best_iteration") and not hasattr(est, "best_score")
    assert XGBRegressor(n_estimators=4).fit(X, y).best_iteration_ == 3  # predictions use it


def _multi_target_data(n=300, nan=False):
    """Three targets of an integer grid (fewer values than bins: xgboost's trees are ours)."""
    rng = np.random.default_rng(0)
    X = rng.integers(0, 20, size=(n, 4)).astype(float)
    Y = np.column_stack([X[:, 0] - X[:, 1], 2 * X[:, 2], X[:, 3] + X[:, 0]])
    Y += rng.normal(size=Y.shape)
    if nan:
        X[::7, 1] = np.nan
    return X, Y, rng.random(n)


def _all_trees(model):
    """Node dicts of every tree of an xgboost model, by node id, in xgboost's tree order."""
    trees = []
    for dump in model.get_booster().get_dump(dump_format="json", with_stats=True):
        out, stack = {}, [json.loads(dump)]
        while stack:
            node = stack.pop()
            out[node["nodeid"]] = node
            stack.extend(node.get("children", []))
        trees.append(out)
    return trees


@pytest.mark.parametrize(
    "kw",
    [{}, {"weighted": True}, {"base_score": 0.3}, {"weighted": True, "nan": True}],
    ids=["plain", "weighted", "base_score", "weighted-nan"],
)
def test_multi_output_regression_equals_xgboost(kw):
    """A 2-D y (n, 3): xgboost 3.2's multi_strategy="one_output_per_tree" grows one tree per
    target each round from that target's gradients, starts each target from its weighted mean
    (or base_score), predicts (n, 3) and scores the metrics over all n * 3 entries. Ours
    refused a 2-D y ("y should be a 1d array")."""
    kw = dict(kw)
    X, Y, w = _multi_target_data(nan=kw.pop("nan", False))
    sw = w if kw.pop("weighted", False) else None
    params = dict(n_estimators=8, max_depth=3, learning_rate=0.3, eval_metric=["rmse", "mae"])
    evals = [(X[:100], Y[:100]), (X[100:], Y[100:])]
    ours = XGBRegressor(**params, **kw).fit(X, Y, sample_weight=sw, eval_set=evals)
    ref = xgb.XGBRegressor(tree_method="hist", **params, **kw)
    ref.fit(X, Y, sample_weight=sw, eval_set=evals, verbose=False)
    assert ours.predict(X).shape == ref.predict(X).shape == (300, 3)
    np.testing.assert_allclose(ours.predict(X), ref.predict(X), atol=1e-5)
    for rounds in [(0, 0), (2, 5)]:
        margin = dict(output_margin=True, iteration_range=rounds)
        np.testing.assert_allclose(ours.predict(X, **margin), ref.predict(X, **margin), atol=1e-5)
    assert ours.intercept_.dtype == ref.intercept_.dtype == np.float32
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-6)
    for name in ("validation_0", "validation_1"):
        for metric in ("rmse", "mae"):
            np.testing.assert_allclose(
                ours.evals_result_[name][metric], ref.evals_result_[name][metric], rtol=1e-6
            )
    np.testing.assert_allclose(ours.feature_importances_, ref.feature_importances_, atol=1e-6)
    np.testing.assert_array_equal(ours.apply(X), ref.apply(X))
    # the trees one by one: round r's tree for target k is tree 3 r + k in both (gains to
    # 1e-5 of the tree's largest: xgboost's float32 gradients round the small ones)
    trees = _all_trees(ref)
    assert len(trees) == len(ours.tree_offsets_) - 1 == 8 * 3
    nd, offsets = ours.nodes_, ours.tree_offsets_
    for t, tree in enumerate(trees):
        at = offsets[t]
        assert offsets[t + 1] - at == len(tree)
        top = max(node.get("gain", 0.0) for node in tree.values())
        for i, node in tree.items():
            if "leaf" in node:
                assert nd["left"][at + i] == -1
                assert nd["value"][at + i] == pytest.approx(node["leaf"], rel=1e-5, abs=1e-6)
            else:
                assert nd["feature"][at + i] == int(node["split"][1:])
                assert nd["cover"][at + i] == pytest.approx(node["cover"], rel=1e-6)
                assert nd["gain"][at + i] == pytest.approx(node["gain"], abs=1e-5 * top)


def test_multi_output_early_stopping_equals_xgboost():
    """Early stopping on a multi-output eval set: the last metric ("mae", over all entries)
    of the last set decides; n_estimators counts rounds (3 trees each), best_iteration is a
    round, as in xgboost."""
    X, Y, _ = _multi_target_data()
    params = dict(n_estimators=60, max_depth=3, early_stopping_rounds=3)
    params["eval_metric"] = ["rmse", "mae"]
    evals = [(X[200:], Y[200:])]
    ours = XGBRegressor(**params).fit(X[:200], Y[:200], eval_set=evals)
    ref = xgb.XGBRegressor(tree_method="hist", **params)
    ref.fit(X[:200], Y[:200], eval_set=evals, verbose=False)
    assert 2 < ours.best_iteration == ref.best_iteration < 50
    assert ours.best_score == pytest.approx(ref.best_score, rel=1e-6)
    n_rounds = ref.get_booster().num_boosted_rounds()
    assert ours.n_iterations_ == n_rounds == len(ref.evals_result_["validation_0"]["mae"])
    assert len(ours.tree_offsets_) - 1 == len(_all_trees(ref)) == 3 * n_rounds
    for metric in ("rmse", "mae"):
        np.testing.assert_allclose(
            ours.evals_result_["validation_0"][metric],
            ref.evals_result_["validation_0"][metric],
            rtol=1e-6,
        )
    np.testing.assert_allclose(ours.predict(X), ref.predict(X), atol=1e-5)


def test_multi_output_custom_objective_equals_xgboost():
    """A callable objective gets y and the margins as (n, 3), in ours as in xgboost, and
    starts from xgboost's default base score 0.5 for every target."""
    X, Y, _ = _multi_target_data()

    def squared(y, margin):
        assert y.shape == margin.shape == (300, 3)
        return margin - y, np.ones_like(margin)

    kw = dict(n_estimators=6, max_depth=3)
    ours = XGBRegressor(objective=squared, **kw).fit(X, Y)
    ref = xgb.XGBRegressor(objective=squared, tree_method="hist", **kw).fit(X, Y)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-6)
    np.testing.assert_allclose(ours.predict(X), ref.predict(X), atol=1e-5)


def test_single_column_y_is_one_output_as_xgboost():
    """y of shape (n, 1) is one target: predictions (n,), as xgboost's, without the
    column-vector DataConversionWarning that ours gave."""
    X, Y, _ = _multi_target_data()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ours = XGBRegressor(n_estimators=4).fit(X, Y[:, :1])
    ref = xgb.XGBRegressor(n_estimators=4, tree_method="hist").fit(X, Y[:, :1])
    assert ours.predict(X).shape == ref.predict(X).shape == (300,)
    np.testing.assert_allclose(ours.predict(X), ref.predict(X), atol=1e-5)


def test_multi_output_save_load_round_trip(tmp_path):
    X, Y, w = _multi_target_data(nan=True)
    m = XGBRegressor(n_estimators=5).fit(X, Y, sample_weight=w)
    back = io.load(io.save(m, tmp_path / "multi.npz"))
    assert back.n_outputs_ == 3
    np.testing.assert_array_equal(back.predict(X), m.predict(X))
    np.testing.assert_array_equal(back.intercept_, m.intercept_)


def test_multi_output_bad_parameters_name_them():
    X, Y, _ = _multi_target_data(60)
    with pytest.raises(ValueError, match=r"^multi_strategy='multi_output_tree' .* not implemented"):
        XGBRegressor(n_estimators=2, multi_strategy="multi_output_tree").fit(X, Y)
    with pytest.raises(
        ValueError,
        match=r"^multi_strategy must be None or one of 'one_output_per_tree', "
        r"'multi_output_tree'; got str 'vector'$",
    ):
        XGBRegressor(n_estimators=2, multi_strategy="vector").fit(X, Y)
    with pytest.raises(
        ValueError, match=r"^objective must be None or one of 'reg:squarederror' or a call"
    ):
        XGBRegressor(n_estimators=2, objective="reg:absoluteerror").fit(X, Y)
    with pytest.raises(
        ValueError,
        match=r"^eval_set\[0\]: X has 10 rows, so y must have shape \(10, 3\) .*"
        r"got \(10, 2\)$",
    ):
        XGBRegressor(n_estimators=2).fit(X, Y, eval_set=[(X[:10], Y[:10, :2])])
    # the default strategy, named, is the same model
    a = XGBRegressor(n_estimators=3, multi_strategy="one_output_per_tree").fit(X, Y).predict(X)
    np.testing.assert_array_equal(a, XGBRegressor(n_estimators=3).fit(X, Y).predict(X))


def test_multi_output_on_bundled_linnerud_equals_xgboost():
    """scikit-learn's bundled multi-output set (20 athletes, 3 exercises -> 3 body measures;
    fewer distinct values than bins, so the two histograms are the same): predictions and
    intercepts as xgboost's."""
    X, Y = load_linnerud(return_X_y=True)
    params = dict(n_estimators=20, max_depth=2, learning_rate=0.3, min_child_weight=0.5)
    ours = XGBRegressor(**params).fit(X, Y)
    ref = xgb.XGBRegressor(tree_method="hist", **params).fit(X, Y)
    assert ours.predict(X).shape == (20, 3)
    np.testing.assert_allclose(ours.predict(X), ref.predict(X), rtol=1e-6, atol=0)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-6)
