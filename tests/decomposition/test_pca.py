"""PCA against scikit-learn on bundled data, the estimator contract, hand cases and errors."""

import numpy as np
import pytest
from sklearn import decomposition as sk
from sklearn.datasets import load_digits, load_iris, load_wine
from sklearn.utils.estimator_checks import parametrize_with_checks

from mlcanon import io
from mlcanon.decomposition import PCA

DATA = {"digits": load_digits().data, "wine": load_wine().data, "iris": load_iris().data}


def assert_components_equal_up_to_sign(ours, ref, atol=1e-8):
    signs = np.sign(np.sum(ours * ref, axis=1))
    np.testing.assert_allclose(ours * signs[:, None], ref, atol=atol)


@pytest.mark.parametrize("name", list(DATA))
@pytest.mark.parametrize("solver", ["full", "covariance_eigh"])
@pytest.mark.parametrize("n_components", [2, 10, 0.9])
def test_matches_sklearn(name, solver, n_components):
    X = DATA[name]
    if isinstance(n_components, int):
        n_components = min(n_components, X.shape[1])
    ours = PCA(n_components, svd_solver=solver).fit(X)
    ref = sk.PCA(n_components, svd_solver=solver).fit(X)
    assert ours.n_components_ == ref.n_components_
    assert_components_equal_up_to_sign(ours.components_, ref.components_)
    np.testing.assert_allclose(ours.explained_variance_, ref.explained_variance_, rtol=1e-10)
    np.testing.assert_allclose(
        ours.explained_variance_ratio_, ref.explained_variance_ratio_, rtol=1e-10
    )
    np.testing.assert_allclose(ours.singular_values_, ref.singular_values_, rtol=1e-10)
    np.testing.assert_allclose(ours.noise_variance_, ref.noise_variance_, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(
        np.abs(ours.transform(X)), np.abs(ref.transform(X)), rtol=1e-8, atol=1e-8
    )


@pytest.mark.parametrize("whiten", [False, True])
def test_whiten_and_inverse_transform_match_sklearn(whiten):
    X = DATA["wine"]
    ours = PCA(5, whiten=whiten).fit(X)
    ref = sk.PCA(5, whiten=whiten).fit(X)
    Z_ours, Z_ref = ours.transform(X), ref.transform(X)
    signs = np.sign(np.sum(Z_ours * Z_ref, axis=0))
    np.testing.assert_allclose(Z_ours * signs, Z_ref, rtol=1e-8, atol=1e-8)
    np.testing.assert_allclose(
        ours.inverse_transform(Z_ours), ref.inverse_transform(Z_ref), rtol=1e-8, atol=1e-8
    )
    if whiten:
        np.testing.assert_allclose(np.var(Z_ours, axis=0, ddof=1), 1.0, rtol=1e-10)


def test_full_rank_round_trip_and_solvers_agree():
    X = DATA["iris"]
    full = PCA(svd_solver="full").fit(X)
    eigh = PCA(svd_solver="covariance_eigh").fit(X)
    np.testing.assert_allclose(full.inverse_transform(full.transform(X)), X, atol=1e-12)
    assert_components_equal_up_to_sign(full.components_, eigh.components_, atol=1e-10)
    np.testing.assert_allclose(full.explained_variance_, eigh.explained_variance_, rtol=1e-10)


def test_points_on_a_line_by_hand():
    # points t (1, 2) / sqrt(5): one direction with all the variance
    t = np.array([-2.0, -1.0, 0.0, 1.0, 2.0])
    X = np.outer(t, [1.0, 2.0]) / np.sqrt(5.0) + [3.0, -1.0]
    model = PCA().fit(X)
    np.testing.assert_allclose(model.components_[0], np.array([1.0, 2.0]) / np.sqrt(5.0))
    np.testing.assert_allclose(model.explained_variance_, [2.5, 0.0], atol=1e-14)  # var(t)
    np.testing.assert_allclose(model.explained_variance_ratio_, [1.0, 0.0], atol=1e-14)
    np.testing.assert_allclose(model.mean_, [3.0, -1.0])


def test_fraction_keeps_fewest_components_exceeding_it():
    model = PCA(0.95).fit(DATA["digits"])
    cum = np.cumsum(model.explained_variance_ratio_)
    assert cum[-1] > 0.95 and cum[-2] <= 0.95


@parametrize_with_checks([PCA(), PCA(whiten=True, svd_solver="covariance_eigh")])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def test_save_load_round_trip(tmp_path):
    X = DATA["digits"]
    model = PCA(10, whiten=True).fit(X)
    back = io.load(io.save(model, tmp_path / "pca.npz"))
    np.testing.assert_array_equal(back.transform(X), model.transform(X))


def test_errors_name_the_parameter():
    X = DATA["iris"]
    with pytest.raises(ValueError, match="n_components must be <= 4, got 5"):
        PCA(5).fit(X)
    with pytest.raises(ValueError, match="n_components must be < 1"):
        PCA(1.5).fit(X)
    with pytest.raises(TypeError, match="n_components must be an int"):
        PCA("mle").fit(X)
    with pytest.raises(ValueError, match="svd_solver must be one of 'auto', 'full'"):
        PCA(svd_solver="arpack").fit(X)
    with pytest.raises(ValueError, match="at least 2 are required"):
        PCA().fit(X[:1])
    with pytest.raises(ValueError, match="contains infinity"):
        PCA().fit(np.where(X > 7, np.inf, X))
    with pytest.raises(ValueError, match="X has 3 columns, expected n_components_=2"):
        PCA(2).fit(X).inverse_transform(np.ones((4, 3)))
