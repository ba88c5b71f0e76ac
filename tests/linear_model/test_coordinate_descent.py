"""Lasso / ElasticNet / lasso_path / enet_path against scikit-learn, plus hand-solved cases.

Both sides run cyclic coordinate descent with the same duality-gap stopping rule, so at the same
``alpha`` and ``tol`` they stop after the same number of sweeps with the same coefficients.
"""

import numpy as np
import pytest
import sklearn
from sklearn import linear_model as sk
from sklearn.datasets import load_diabetes
from sklearn.exceptions import ConvergenceWarning

from mlcanon.linear_model import ElasticNet, Lasso, MultiTaskLasso, enet_path, lasso_path

RTOL = 1e-6  # required agreement for coefficients and intercepts


@pytest.fixture(scope="module")
def diabetes():
    return load_diabetes(return_X_y=True)


def assert_coef_close(ours, ref):
    # relative to the scale of the solution; exact zeros must stay exact zeros
    np.testing.assert_allclose(ours, ref, rtol=RTOL, atol=RTOL * np.abs(ref).max())
    np.testing.assert_array_equal(ours == 0, ref == 0)


@pytest.mark.parametrize("alpha", [0.005, 0.1, 1.0])
@pytest.mark.parametrize("tol", [1e-4, 1e-8])
@pytest.mark.parametrize("precompute", [False, True])
def test_lasso_matches_sklearn_on_diabetes(diabetes, alpha, tol, precompute):
    X, y = diabetes
    ours = Lasso(alpha=alpha, tol=tol, precompute=precompute).fit(X, y)
    ref = sk.Lasso(alpha=alpha, tol=tol, precompute=precompute).fit(X, y)
    assert_coef_close(ours.coef_, ref.coef_)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=RTOL)
    assert ours.n_iter_ == ref.n_iter_
    # the gap is primal - dual objective, both near 0.5 ||y - Xw - b||^2 / n: it carries their
    # rounding (a few ulps of the objective, which BLAS kernels of other CPUs round differently)
    residual = y - X @ ref.coef_ - ref.intercept_
    objective = 0.5 * residual @ residual / len(y)
    atol = 16 * np.finfo(float).eps * objective
    np.testing.assert_allclose(ours.dual_gap_, ref.dual_gap_, rtol=1e-6, atol=atol)


@pytest.mark.parametrize("l1_ratio", [0.1, 0.5, 0.9])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_elastic_net_matches_sklearn(diabetes, l1_ratio, fit_intercept):
    X, y = diabetes
    kw = dict(alpha=0.01, l1_ratio=l1_ratio, fit_intercept=fit_intercept, tol=1e-8)
    ours, ref = ElasticNet(**kw).fit(X, y), sk.ElasticNet(**kw).fit(X, y)
    assert_coef_close(ours.coef_, ref.coef_)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=RTOL, atol=1e-12)
    np.testing.assert_allclose(ours.predict(X), ref.predict(X), rtol=RTOL)


def test_positive_and_sample_weight_match_sklearn(diabetes):
    X, y = diabetes
    w = np.random.default_rng(0).uniform(0.1, 3.0, size=len(y))
    kw = dict(alpha=0.05, l1_ratio=0.7, positive=True, tol=1e-8)
    ours = ElasticNet(**kw).fit(X, y, sample_weight=w)
    ref = sk.ElasticNet(**kw).fit(X, y, sample_weight=w)
    assert (ours.coef_ >= 0).all()
    assert_coef_close(ours.coef_, ref.coef_)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=RTOL)


@pytest.mark.parametrize(
    ("cls", "multi"),
    [(Lasso, False), (ElasticNet, False), (MultiTaskLasso, True)],
    ids=["Lasso", "ElasticNet", "MultiTaskLasso"],
)
@pytest.mark.parametrize("precompute", [False, True])
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # both: gap 8.7
def test_features_of_magnitude_1e140_are_fitted_as_sklearn(cls, multi, precompute):
    """The coordinate update divided by rho * ||x_j||^2, which overflows to inf for features
    of size 1e140 (rho ~ 1e141, ||x_j||^2 ~ 1e281): every coefficient came out 0 (the intercept
    alone) where scikit-learn fits (coef_ * 1e140 = [1.35, 2.14, 2.26] here)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 3))
    y = X @ [1.0, 2.0, 3.0] + rng.normal(size=20)
    Y = np.c_[y, -y] if multi else y
    kw = {"alpha": 0.01, "tol": 1e-10, "max_iter": 100_000}
    if not multi:
        kw["precompute"] = precompute
    elif precompute:
        pytest.skip("MultiTaskLasso has no precompute")
    ours = cls(**kw).fit(X * 1e140, Y)
    ref = getattr(sk, cls.__name__)(**kw).fit(X * 1e140, Y)
    np.testing.assert_allclose(ours.coef_ * 1e140, ref.coef_ * 1e140, rtol=1e-6)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-6)


@pytest.mark.parametrize("seed", [0, 1])
def test_random_selection_reaches_the_same_optimum(diabetes, seed):
    X, y = diabetes
    ours = Lasso(alpha=0.05, tol=1e-12, selection="random", random_state=seed).fit(X, y)
    ref = sk.Lasso(alpha=0.05, tol=1e-12).fit(X, y)
    assert_coef_close(ours.coef_, ref.coef_)


def test_warm_start_restarts_from_previous_solution(diabetes):
    X, y = diabetes
    model = Lasso(alpha=0.05, tol=1e-8, warm_start=True).fit(X, y)
    first = model.n_iter_
    model.fit(X, y)  # already optimal: the gap test before the first sweep passes
    assert model.n_iter_ == 0 < first
    assert_coef_close(model.coef_, sk.Lasso(alpha=0.05, tol=1e-8).fit(X, y).coef_)


@pytest.mark.parametrize("precompute", ["auto", False])
def test_lasso_path_equal_along_the_whole_path(diabetes, precompute):
    X, y = diabetes
    Xc, yc = X - X.mean(axis=0), y - y.mean()
    a1, c1, g1 = lasso_path(Xc, yc, precompute=precompute, tol=1e-4)
    a2, c2, g2 = sk.lasso_path(Xc, yc, precompute=precompute, tol=1e-4)
    np.testing.assert_allclose(a1, a2, rtol=1e-12)
    for k in range(len(a1)):
        assert_coef_close(c1[:, k], c2[:, k])
    np.testing.assert_allclose(g1, g2, rtol=1e-6, atol=1e-6 * np.abs(g2).max())


def test_enet_path_with_given_alphas(diabetes):
    X, y = diabetes
    Xc, yc = X - X.mean(axis=0), y - y.mean()
    alphas = [0.3, 0.01, 0.1]  # unsorted on purpose: both sort decreasingly
    a1, c1, _, it1 = enet_path(Xc, yc, l1_ratio=0.4, alphas=alphas, return_n_iter=True)
    a2, c2, _, it2 = sk.enet_path(Xc, yc, l1_ratio=0.4, alphas=alphas, return_n_iter=True)
    np.testing.assert_array_equal(a1, a2)
    assert list(it1) == list(it2)
    for k in range(len(a1)):
        assert_coef_close(c1[:, k], c2[:, k])


def test_orthogonal_design_is_soft_thresholding():
    # with X^T X = n I each coordinate decouples: w_j = S(x_j^T y / n, alpha)
    n = 8
    X = np.linalg.qr(np.random.default_rng(3).standard_normal((n, 3)))[0] * np.sqrt(n)
    y = X @ np.array([2.0, -0.3, 0.05]) + 0.0
    alpha = 0.1
    z = X.T @ y / n
    expected = np.sign(z) * np.maximum(np.abs(z) - alpha, 0.0)
    model = Lasso(alpha=alpha, fit_intercept=False, tol=1e-14).fit(X, y)
    np.testing.assert_allclose(model.coef_, expected, atol=1e-12)
    assert model.coef_[2] == 0.0  # |0.05| < alpha: thresholded to exactly zero


def test_alpha_above_alpha_max_gives_all_zero(diabetes):
    X, y = diabetes
    alpha_max = np.abs((X - X.mean(0)).T @ (y - y.mean())).max() / len(y)
    model = Lasso(alpha=alpha_max * 1.0001).fit(X, y)
    assert not model.coef_.any()
    assert model.intercept_ == pytest.approx(y.mean())


def test_max_iter_warns_convergence(diabetes):
    X, y = diabetes
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        Lasso(alpha=1e-4, max_iter=2, tol=1e-12).fit(X, y)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"alpha": -1.0}, "alpha must be >= 0, got -1.0"),
        ({"l1_ratio": 1.5}, "l1_ratio must be <= 1"),
        ({"tol": -1e-3}, "tol must be >= 0"),
        ({"selection": "greedy"}, "selection must be one of 'cyclic', 'random'; got 'greedy'"),
        (
            {"precompute": "yes"},
            r"precompute must be bool \(True or False\) or one of 'auto' or an array-like; got str",
        ),
    ],
)
def test_bad_parameters_are_named(params, match):
    X, y = np.random.default_rng(0).standard_normal((10, 3)), np.arange(10.0)
    with pytest.raises(ValueError, match=match):
        ElasticNet(**params).fit(X, y)


def test_bad_input_is_refused():
    X, y = np.random.default_rng(0).standard_normal((10, 3)), np.arange(10.0)
    with pytest.raises(TypeError, match="max_iter must be Integral"):
        Lasso(max_iter=2.5).fit(X, y)
    with pytest.raises(ValueError, match="contains NaN"):
        Lasso().fit(np.where(X > 1, np.nan, X), y)
    with pytest.raises(ValueError, match="contains infinity"):
        Lasso().fit(X, np.where(y > 5, np.inf, y))
    with pytest.raises(ValueError, match="at least 1 is required"):
        Lasso().fit(X[:0], y[:0])  # one sample is fitted, as scikit-learn
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        Lasso().fit(X, y[:-1])
    with pytest.raises(ValueError, match="X has 2 features, but Lasso is expecting 3"):
        Lasso().fit(X, y).predict(X[:, :2])
    with pytest.raises(TypeError, match="unexpected keyword argument 'l1_ratio'"):
        lasso_path(X, y, l1_ratio=0.5)
    with pytest.raises(ValueError, match="alphas must be >= 0"):
        lasso_path(X, y, alphas=[0.1, -1.0])


@pytest.mark.parametrize("model", [ElasticNet, Lasso])
def test_non_finite_parameters_raise(model):
    """Upstream test_enet_nonfinite_params: X near 1e308 overflows the updates."""
    rng = np.random.RandomState(0)
    X = np.finfo(np.float64).max * rng.uniform(size=(10, 2))
    y = rng.randint(0, 2, size=10)
    with pytest.raises(ValueError, match="non-finite parameter values"):
        with np.errstate(all="ignore"):
            sk.ElasticNet(alpha=0.1).fit(X, y)
    with pytest.raises(ValueError, match="non-finite parameter values"):
        model(alpha=0.1).fit(X, y)


def test_precomputed_gram_matches_sklearn_and_is_checked():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(60, 5)), rng.normal(size=60)
    sw = rng.uniform(0.5, 2.0, 60)
    w = sw * (60 / sw.sum())
    Xc = X - np.average(X, axis=0, weights=w)
    gram = (Xc * np.sqrt(w)[:, None]).T @ (Xc * np.sqrt(w)[:, None])
    ours = ElasticNet(alpha=0.01, precompute=gram).fit(Xc, y, sample_weight=sw)
    ref = sk.ElasticNet(alpha=0.01, precompute=gram).fit(Xc, y, sample_weight=sw)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-6)
    with pytest.raises(ValueError, match="Gram matrix passed in via 'precompute' parameter did"):
        ElasticNet(precompute=np.eye(5)).fit(Xc, y, sample_weight=sw)
    with pytest.warns(UserWarning, match="Gram matrix was provided but X was centered"):
        ElasticNet(precompute=X.T @ X).fit(X, y)


def test_copy_X_false_and_check_input_false_center_in_place():
    rng = np.random.default_rng(1)
    X = np.asfortranarray(rng.normal(loc=2.0, size=(30, 4)))
    y = rng.normal(size=30)
    original = X.copy()
    ElasticNet(alpha=0.1).fit(X, y, check_input=False)
    np.testing.assert_array_equal(X, original)
    ours = ElasticNet(alpha=0.1, copy_X=False).fit(X, y, check_input=False)
    np.testing.assert_allclose(X, original - original.mean(axis=0))
    ref = sk.ElasticNet(alpha=0.1).fit(original, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-7)


def test_path_deprecations_and_unknown_parameters_as_sklearn():
    rng = np.random.default_rng(2)
    X, y = rng.normal(size=(20, 4)), rng.normal(size=20)
    with pytest.warns(FutureWarning, match="'n_alphas' was deprecated in 1.9"):
        alphas, _, _ = enet_path(X, y, n_alphas=5)
    np.testing.assert_allclose(alphas, sk.enet_path(X, y, alphas=5)[0])
    with pytest.warns(FutureWarning, match="'alphas=None' is deprecated"):
        assert len(lasso_path(X, y, alphas=None)[0]) == 100
    with pytest.raises(ValueError, match="Unexpected parameters in params"):
        enet_path(X, y, normalize=True)


@pytest.mark.parametrize("interface", ["spmatrix", "sparray"])
@pytest.mark.parametrize("n_targets", [1, 3])
def test_sparse_coef_as_sklearn(diabetes, interface, n_targets):
    """``sparse_coef_``: coef_ as one CSR row per target, in the configured sparse interface."""
    X, y = diabetes
    Y = np.column_stack([y * (k + 1) for k in range(n_targets)]) if n_targets > 1 else y
    pairs = [(Lasso(alpha=1.0), sk.Lasso(alpha=1.0))]
    if n_targets > 1:
        pairs += [(MultiTaskLasso(alpha=1.0), sk.MultiTaskLasso(alpha=1.0))]
    with sklearn.config_context(sparse_interface=interface):
        for ours, ref in pairs:
            got, want = ours.fit(X, Y).sparse_coef_, ref.fit(X, Y).sparse_coef_
            assert type(got) is type(want) and got.format == want.format == "csr"
            assert got.shape == want.shape == (n_targets, X.shape[1])
            assert_coef_close(got.toarray(), want.toarray())


@pytest.mark.parametrize("n_targets", [None, 2])
def test_path_refuses_an_Xy_of_the_wrong_shape(n_targets):
    # X^T y has one entry per feature (a row per feature for several targets); a wrong one was
    # a bare reshape error (scikit-learn uses it unchecked)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 3))
    y = rng.normal(size=20 if n_targets is None else (20, n_targets))
    with pytest.raises(ValueError, match=r"Xy has shape \(2,.*expected X\^T y of shape \(3,"):
        enet_path(X, y, Xy=(X.T @ y)[:2])
    alphas, coefs, _ = enet_path(X, y, Xy=X.T @ y, alphas=3)
    ref_alphas, ref_coefs, _ = sk.enet_path(X, y, Xy=X.T @ y, alphas=3)
    np.testing.assert_allclose(alphas, ref_alphas, rtol=1e-12)
    np.testing.assert_allclose(coefs, ref_coefs, rtol=1e-6, atol=1e-10)


@pytest.mark.parametrize(
    ("cls", "kw"),
    [
        (Lasso, {}),
        (ElasticNet, {"precompute": True}),
        (Lasso, {"fit_intercept": False}),
        (ElasticNet, {"fit_intercept": False, "l1_ratio": 0.3}),
    ],
    ids=str,
)
def test_one_sample_is_fitted_as_sklearn(cls, kw):
    """scikit-learn's Lasso and ElasticNet fit a single sample (as our LinearRegression and
    Ridge do): with an intercept the model is that sample's y, without one the penalized fit
    of one equation. Ours refused it (X has 1 sample(s), while at least 2 are required)."""
    X, y = np.array([[1.0, 2.0]]), np.array([3.0])
    ours = cls(**kw).fit(X, y, sample_weight=[2.0])
    ref = getattr(sk, cls.__name__)(**kw).fit(X, y, sample_weight=[2.0])
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-12)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-12)
    np.testing.assert_allclose(ours.predict(X), ref.predict(X), atol=1e-12)
