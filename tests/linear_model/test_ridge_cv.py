"""RidgeCV against scikit-learn's RidgeCV, and its leave-one-out errors against n refits."""

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn
from sklearn import linear_model as sk
from sklearn.metrics import get_scorer
from sklearn.model_selection import GroupKFold, KFold
from sklearn.utils.estimator_checks import parametrize_with_checks

from mlcanon import io
from mlcanon.linear_model import RidgeCV

ALPHAS = np.logspace(-3, 3, 7)
# the same closed form as scikit-learn: the largest gaps on these grids are 2e-9 (cv_results_)
# and 2e-12 (coef_), relative, entry by entry
RTOL = 1e-8


def _data(n, p, n_targets, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) + 3.0  # off-center, so the intercept matters
    W = rng.standard_normal((p, n_targets or 1))
    Y = X @ W + 2.0 * rng.standard_normal((n, n_targets or 1)) + 5.0
    return X, (Y[:, 0] if n_targets is None else Y), rng.uniform(0.3, 3.0, n)


def _assert_same(ours, ref, fit_intercept=True):
    np.testing.assert_array_equal(ours.alpha_, ref.alpha_)
    for name in ("coef_", "best_score_", "cv_results_"):
        if hasattr(ref, name):
            got, want = getattr(ours, name), getattr(ref, name)
            assert np.shape(got) == np.shape(want), name
            np.testing.assert_allclose(got, want, rtol=RTOL, atol=0, err_msg=name)
    atol = 0 if fit_intercept else 1e-300
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=RTOL, atol=atol)


@pytest.mark.parametrize("shape", [(40, 8), (15, 30)], ids=["tall", "wide"])
@pytest.mark.parametrize("n_targets", [None, 3])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("gcv_mode", [None, "svd", "eigen"])
def test_loo_matches_sklearn(shape, n_targets, fit_intercept, weighted, gcv_mode):
    X, y, w = _data(*shape, n_targets)
    kw = dict(
        alphas=ALPHAS,
        fit_intercept=fit_intercept,
        gcv_mode=gcv_mode,
        store_cv_results=True,
        alpha_per_target=n_targets is not None,
    )
    sw = w if weighted else None
    ours = RidgeCV(**kw).fit(X, y, sample_weight=sw)
    _assert_same(ours, sk.RidgeCV(**kw).fit(X, y, sample_weight=sw), fit_intercept)


@pytest.mark.parametrize("alpha_per_target", [False, True])
@pytest.mark.parametrize("scoring", ["neg_mean_absolute_error", "r2"])
@pytest.mark.parametrize("shape", [(40, 8), (15, 30)], ids=["tall", "wide"])
def test_scoring_on_loo_predictions_matches_sklearn(alpha_per_target, scoring, shape):
    X, Y, w = _data(*shape, 2, seed=1)
    kw = dict(alphas=ALPHAS, scoring=scoring, store_cv_results=True)
    kw["alpha_per_target"] = alpha_per_target
    ours = RidgeCV(**kw).fit(X, Y, sample_weight=w)
    _assert_same(ours, sk.RidgeCV(**kw).fit(X, Y, sample_weight=w))


def test_callable_scoring_and_column_y_match_sklearn():
    X, y, _ = _data(30, 5, 1, seed=2)  # y of shape (30, 1): cv_results_ keeps the middle axis

    def neg_max_error(estimator, X, y):
        return -np.max(np.abs(estimator.predict(X) - y))

    for scoring in (None, neg_max_error):
        kw = dict(alphas=ALPHAS, scoring=scoring, store_cv_results=True)
        ours, ref = RidgeCV(**kw).fit(X, y), sk.RidgeCV(**kw).fit(X, y)
        assert ours.cv_results_.shape == (30, 1, len(ALPHAS))
        _assert_same(ours, ref)


@pytest.mark.parametrize("shape", [(12, 4), (12, 12), (8, 12)], ids=["tall", "square", "wide"])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_loo_errors_equal_n_refits(shape, fit_intercept):
    # the definition written out: refit without sample i (scikit-learn's Ridge), predict it.
    # Down to alpha = 1e-10 on square and wide X, where scikit-learn's RidgeCV (which cancels
    # the intercept's leverage against a near-null eigenvector) is off by up to 7e-4, relative
    # (scikit-learn 1.9.1: square X with intercept, alpha = 1e-10; 6e-5 on the wide X).
    X, Y, w = _data(*shape, 2, seed=3)
    n, alphas = len(X), [1e-10, 1e-6, 1e-3, 1.0, 1e3]
    kw = dict(alphas=alphas, fit_intercept=fit_intercept, store_cv_results=True)
    errors = RidgeCV(**kw).fit(X, Y, sample_weight=w).cv_results_
    kw["scoring"] = "neg_mean_squared_error"
    predictions = RidgeCV(**kw).fit(X, Y, sample_weight=w).cv_results_
    for k, alpha in enumerate(alphas):
        refit = np.empty_like(Y)
        for i in range(n):
            rest = np.arange(n) != i
            ridge = sk.Ridge(alpha=alpha, fit_intercept=fit_intercept, solver="svd")
            ridge.fit(X[rest], Y[rest], sample_weight=w[rest])
            refit[i] = ridge.predict(X[i : i + 1])[0]
        np.testing.assert_allclose(predictions[..., k], refit, rtol=1e-10)
        np.testing.assert_allclose(errors[..., k], w[:, None] * (Y - refit) ** 2, rtol=1e-8)


def test_float32_keeps_the_dtypes_sklearn_gives():
    X, Y, _ = _data(25, 6, 2, seed=4)
    X32, Y32 = X.astype(np.float32), Y.astype(np.float32)
    kw = dict(alphas=ALPHAS, store_cv_results=True)
    ours, ref = RidgeCV(**kw).fit(X32, Y32), sk.RidgeCV(**kw).fit(X32, Y32)
    for name in ("coef_", "intercept_", "cv_results_"):
        assert getattr(ours, name).dtype == getattr(ref, name).dtype == np.float32, name
    assert ours.predict(X32).dtype == np.float32
    _assert_same(ours, ref)  # both compute in float64 from the same float32 numbers


def test_sparse_input_matches_sklearn_and_svd_falls_back_to_eigen():
    X, y, w = _data(20, 30, None, seed=5)
    X[X < 3.5] = 0.0
    Xs = sp.csr_matrix(X)
    kw = dict(alphas=ALPHAS, store_cv_results=True)
    _assert_same(RidgeCV(**kw).fit(Xs, y, w), sk.RidgeCV(**kw).fit(Xs, y, w))
    with pytest.warns(FutureWarning, match="'svd' mode is not supported for sparse X"):
        ours = RidgeCV(gcv_mode="svd", **kw).fit(Xs, y, w)
    with pytest.warns(FutureWarning):  # scikit-learn falls back to 'eigen' too
        ref = sk.RidgeCV(gcv_mode="svd", **kw).fit(Xs, y, w)
    _assert_same(ours, ref)


@pytest.mark.parametrize("scoring", [None, "neg_mean_squared_error"])
def test_grid_search_cv_matches_sklearn(scoring):
    X, y, w = _data(40, 6, None, seed=6)
    kw = dict(alphas=(0.0, *ALPHAS), cv=KFold(4, shuffle=True, random_state=0), scoring=scoring)
    ours, ref = RidgeCV(**kw).fit(X, y, w), sk.RidgeCV(**kw).fit(X, y, w)
    assert ours.alpha_ == ref.alpha_
    np.testing.assert_allclose(ours.best_score_, ref.best_score_, rtol=1e-10)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-10)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-10)
    assert not hasattr(ours, "cv_results_")


def test_ties_keep_the_first_alpha():
    X, y, _ = _data(20, 3, None, seed=7)
    constant = lambda estimator, X, y: 0.5  # noqa: E731
    ours = RidgeCV(alphas=[5.0, 1.0, 0.1], scoring=constant).fit(X, y)
    assert ours.alpha_ == 5.0 and ours.best_score_ == 0.5


@pytest.mark.parametrize(
    "params, error, match",
    [
        ({"alphas": (1, -1, -100)}, ValueError, r"alphas\[1\] == -1, must be > 0.0"),
        ({"alphas": (0.0, 1.0)}, ValueError, r"alphas\[0\] == 0.0, must be > 0.0"),
        (
            {"alphas": (1, 1.0, "1")},
            TypeError,
            r"alphas\[2\] must be an instance of float, not str",
        ),
        ({"alphas": ()}, ValueError, r"alphas has 0 sample\(s\)"),
        ({"alphas": -2.0}, ValueError, r"alphas == -2.0, must be > 0.0"),
        ({"alphas": [1.0, np.inf]}, ValueError, "Input alphas contains infinity"),
        ({"gcv_mode": "cholesky"}, ValueError, "gcv_mode must be None or one of 'auto', 'svd'"),
        ({"scoring": "accuracyy"}, ValueError, "scoring must be None or one of .*'r2'"),
        ({"cv": 1}, ValueError, "cv must be >= 2, got 1"),
        ({"cv": "abc"}, ValueError, r"cv must be None, an int >= 2, .*; got str 'abc'"),
        ({"cv": 3, "store_cv_results": True}, ValueError, "cv!=None and store_cv_results=True"),
        ({"cv": 3, "alpha_per_target": True}, ValueError, "cv!=None and alpha_per_target=True"),
        ({"fit_intercept": 1}, TypeError, "fit_intercept must be bool"),
    ],
)
def test_bad_parameters_are_named(params, error, match):
    X, y, _ = _data(10, 3, None)
    with pytest.raises(error, match=match):
        RidgeCV(**params).fit(X, y)


def test_zero_alpha_is_allowed_with_a_grid_search():
    X, y, _ = _data(20, 3, None)
    assert RidgeCV(alphas=(0.0, 1.0), cv=3).fit(X, y).alpha_ in (0.0, 1.0)


def test_save_load_round_trip(tmp_path):
    X, Y, w = _data(20, 4, 2)
    model = RidgeCV(alphas=ALPHAS, alpha_per_target=True, store_cv_results=True).fit(X, Y, w)
    back = io.load(io.save(model, tmp_path / "model.npz"))
    np.testing.assert_array_equal(back.alpha_, model.alpha_)
    np.testing.assert_array_equal(back.predict(X), model.predict(X))


@parametrize_with_checks([RidgeCV()])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


@pytest.mark.parametrize("cv", ["loo", "groups"])
@pytest.mark.parametrize("wants_weights", [True, False])
def test_metadata_routing_as_sklearn(cv, wants_weights):
    """With routing on, ``groups`` reach the grid search's splitter, and the scorer takes the
    fit's ``sample_weight`` only when it asks for it, as in scikit-learn."""
    X, y, w = _data(60, 8, None)
    metadata = {"sample_weight": w}
    splitter = None
    if cv == "groups":
        splitter, metadata["groups"] = GroupKFold(3), np.arange(len(y)) % 6
    fits = []
    with sklearn.config_context(enable_metadata_routing=True):
        for cls in (RidgeCV, sk.RidgeCV):
            scoring = get_scorer("neg_mean_absolute_error")
            model = cls(
                alphas=ALPHAS,
                cv=splitter,
                scoring=scoring.set_score_request(sample_weight=wants_weights),
            )
            fits.append(model.set_fit_request(sample_weight=True).fit(X, y, **metadata))
    ours, ref = fits
    assert ours.alpha_ == ref.alpha_
    np.testing.assert_allclose(ours.best_score_, ref.best_score_, rtol=RTOL)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=RTOL)
