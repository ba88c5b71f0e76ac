"""ElasticNet / Lasso / enet_path beyond one float64 target: several targets, float32 data and
scipy.sparse X, each against scikit-learn on the same data.

scikit-learn's ElasticNet fits each column of a 2-D ``y`` on its own, while its ``enet_path``
solves the joint multi-task problem (a feature kept or dropped for all targets); both are checked.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn import linear_model as sk

from mlcanon.linear_model import ElasticNet, Lasso, enet_path, lasso_path

TOL = 1e-12  # solver tolerance on both sides, so that the optima agree to rounding
RTOL = 1e-8  # required agreement of coefficients, relative to the largest one


@pytest.fixture(scope="module")
def data():
    """80 samples, 12 features (half of them irrelevant per target), 3 targets."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 12))
    W = rng.normal(size=(3, 12)) * (rng.random((3, 12)) < 0.5)
    return X, X @ W.T + 0.1 * rng.normal(size=(80, 3)) + np.array([1.0, -2.0, 0.5])


def assert_close(ours, ref, rtol=RTOL):
    np.testing.assert_allclose(ours, ref, rtol=rtol, atol=rtol * np.abs(ref).max())


@pytest.mark.parametrize(("model", "reference"), [(ElasticNet, sk.ElasticNet), (Lasso, sk.Lasso)])
@pytest.mark.parametrize("precompute", [False, True])
def test_multi_output_fit_matches_sklearn(data, model, reference, precompute):
    X, Y = data
    ours = model(alpha=0.05, tol=TOL, precompute=precompute).fit(X, Y)
    ref = reference(alpha=0.05, tol=TOL, precompute=precompute).fit(X, Y)
    assert ours.coef_.shape == ref.coef_.shape == (3, 12)
    assert_close(ours.coef_, ref.coef_)
    assert_close(ours.intercept_, ref.intercept_)
    assert ours.n_iter_ == ref.n_iter_  # a list, one count per target
    assert ours.dual_gap_.shape == (3,)
    assert (ours.dual_gap_ <= TOL * Y.var(axis=0)).all()  # gap / n <= tol ||y - ȳ||² / n
    assert_close(ours.predict(X), ref.predict(X))


def test_one_target_as_a_column_gives_1d_coef_as_sklearn(data):
    X, Y = data
    ours, ref = ElasticNet(alpha=0.1).fit(X, Y[:, :1]), sk.ElasticNet(alpha=0.1).fit(X, Y[:, :1])
    assert ours.coef_.shape == ref.coef_.shape == (12,)
    assert np.shape(ours.intercept_) == np.shape(ref.intercept_) == (1,)
    assert ours.predict(X).shape == ref.predict(X).shape == (80,)
    assert_close(ours.coef_, ref.coef_, rtol=1e-6)


def test_multi_output_positive_and_warm_start_match_sklearn(data):
    X, Y = data
    ours = ElasticNet(alpha=0.02, positive=True, tol=TOL).fit(X, Y)
    ref = sk.ElasticNet(alpha=0.02, positive=True, tol=TOL).fit(X, Y)
    assert_close(ours.coef_, ref.coef_)
    warm = ElasticNet(alpha=0.02, tol=TOL, warm_start=True).fit(X, Y)
    warm.set_params(alpha=0.01).fit(X, Y)
    assert_close(warm.coef_, sk.ElasticNet(alpha=0.01, tol=TOL).fit(X, Y).coef_)


@pytest.mark.parametrize(
    ("path", "reference"), [(enet_path, sk.enet_path), (lasso_path, sk.lasso_path)]
)
@pytest.mark.parametrize("precompute", [False, True])
def test_multi_output_path_is_the_multi_task_problem_as_sklearn(data, path, reference, precompute):
    X, Y = data
    Xc, Yc = X - X.mean(0), Y - Y.mean(0)
    alphas, coefs, _ = path(Xc, Yc, alphas=6, tol=TOL, precompute=precompute)
    ref_alphas, ref_coefs, _ = reference(Xc, Yc, alphas=6, tol=TOL)
    assert coefs.shape == ref_coefs.shape == (3, 12, 6)
    assert_close(alphas, ref_alphas, rtol=1e-12)
    assert_close(coefs, ref_coefs)
    # the group penalty keeps or drops a feature for every target at once
    np.testing.assert_array_equal((coefs == 0).all(axis=0), (coefs == 0).any(axis=0))
    # and it is not the column-by-column fit: one target alone gives another path
    assert not np.allclose(coefs[0], path(Xc, Yc[:, 0], alphas=alphas, tol=TOL)[1])


@pytest.mark.parametrize("n_targets", [1, 3])
def test_sparse_X_in_the_paths_matches_sklearn(data, n_targets):
    X, Y = data
    rng = np.random.default_rng(1)
    Xs = sp.csr_matrix(X * (rng.random(X.shape) < 0.3))
    y = Y[:, 0] if n_targets == 1 else Y
    _, coefs, _ = enet_path(Xs, y, alphas=5, tol=TOL)
    _, ref, _ = sk.enet_path(Xs, y, alphas=5, tol=TOL)
    assert_close(coefs, ref)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("y_columns", [None, 3])
def test_float32_in_float32_out_as_sklearn(data, fit_intercept, y_columns):
    """scikit-learn solves in float32, we in float64 and round the result once: the dtypes are
    scikit-learn's, the values the float64 optimum on the same (float32) numbers."""
    X, Y = data
    y = Y[:, 0] if y_columns is None else Y
    X32, y32 = X.astype(np.float32), y.astype(np.float32)
    ours = ElasticNet(alpha=0.05, tol=TOL, fit_intercept=fit_intercept).fit(X32, y32)
    ref32 = sk.ElasticNet(alpha=0.05, fit_intercept=fit_intercept).fit(X32, y32)
    for attr in ("coef_", "intercept_", "dual_gap_"):
        assert np.asarray(getattr(ours, attr)).dtype == np.asarray(getattr(ref32, attr)).dtype
    assert ours.predict(X32).dtype == ref32.predict(X32).dtype == np.float32
    X64, y64 = X32.astype(np.float64), y32.astype(np.float64)
    ref64 = sk.ElasticNet(alpha=0.05, tol=TOL, fit_intercept=fit_intercept).fit(X64, y64)
    assert_close(ours.coef_, ref64.coef_, rtol=1e-7)  # float32 rounding: 6e-8 relative
    assert_close(ours.intercept_, ref64.intercept_, rtol=1e-7)
    _, coefs, _ = lasso_path(X32, y32, alphas=4, tol=TOL)
    assert coefs.dtype == sk.lasso_path(X32, y32, alphas=4)[1].dtype == np.float32
    _, ref_coefs, _ = sk.lasso_path(X64, y64, alphas=4, tol=TOL)
    assert_close(coefs, ref_coefs, rtol=1e-7)


def test_bad_multi_output_input_is_named(data):
    X, Y = data
    with pytest.raises(ValueError, match=r"positive=True needs a single target: y has shape"):
        enet_path(X, Y, positive=True)
    with pytest.raises(ValueError, match=r"coef_init must be 2-D, got 1-D array of shape"):
        enet_path(X, Y, coef_init=np.zeros(12))
    with pytest.raises(ValueError, match=r"coef_init has shape \(3, 11\), expected \(3, 12\)"):
        enet_path(X, Y, coef_init=np.zeros((3, 11)))
    with pytest.raises(ValueError, match="y must be 1-D or 2-D, got 3-D"):
        Lasso().fit(X, Y[:, :, None])
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        ElasticNet().fit(X, Y[:-1])
    with pytest.raises(ValueError, match=r"check_input=False needs a 2-D X and a y of shape"):
        ElasticNet().fit(np.asfortranarray(X), Y[:-1], check_input=False)
    with pytest.raises(ValueError, match="requires y to be passed"):
        ElasticNet().fit(X, None)
