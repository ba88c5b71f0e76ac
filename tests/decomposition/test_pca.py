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
    with pytest.raises(ValueError, match=r"n_components=5 must be between 0 and min\(n_samples, n"):
        PCA(5).fit(X)
    with pytest.raises(ValueError, match="n_components must be < 1"):
        PCA(1.5).fit(X)
    with pytest.raises(
        ValueError,
        match=r"^n_components must be None or an int in the range \[0, inf\) or .* or one of "
        r"'mle'; got str 'all'$",
    ):
        PCA("all").fit(X)
    match = r"^n_components must be None or an int in the range \[0, inf\) or a float"
    with pytest.raises(TypeError, match=match):
        PCA([2]).fit(X)
    with pytest.raises(ValueError, match="svd_solver must be one of 'auto', 'full'"):
        PCA(svd_solver="lapack").fit(X)
    with pytest.raises(
        ValueError, match=r"n_components=4 must be strictly less than .*=4 with svd_solver='arpack'"
    ):
        PCA(4, svd_solver="arpack").fit(X)
    with pytest.raises(ValueError, match="at least 2 are required"):
        PCA().fit(X[:1])
    with pytest.raises(ValueError, match="contains infinity"):
        PCA().fit(np.where(X > 7, np.inf, X))
    with pytest.raises(ValueError, match="X has 3 columns, expected n_components_=2"):
        PCA(2).fit(X).inverse_transform(np.ones((4, 3)))


def _component_error(model, exact):
    signs = np.sign(np.sum(model.components_ * exact.components_, axis=1))
    return np.abs(model.components_ * signs[:, None] - exact.components_).max()


def test_arpack_matches_the_full_svd():
    X = DATA["digits"]
    ours = PCA(8, svd_solver="arpack", random_state=0).fit(X)
    full = sk.PCA(8, svd_solver="full").fit(X)
    assert_components_equal_up_to_sign(ours.components_, full.components_, atol=1e-8)
    for attr in ("explained_variance_", "explained_variance_ratio_", "singular_values_"):
        np.testing.assert_allclose(getattr(ours, attr), getattr(full, attr), rtol=1e-10)
    np.testing.assert_allclose(ours.noise_variance_, full.noise_variance_, rtol=1e-10)


@pytest.mark.parametrize("normalizer", ["auto", "QR", "LU", "none"])
def test_randomized_is_as_accurate_as_sklearns(normalizer):
    """Randomized SVD approximates: with the default 4 power iterations both libraries are
    ~1e-3 off the exact components on digits; ours must be no worse than scikit-learn's,
    and with 20 iterations it converges to the exact SVD."""
    X = DATA["digits"]
    full = sk.PCA(8, svd_solver="full").fit(X)
    kw = dict(svd_solver="randomized", random_state=0, power_iteration_normalizer=normalizer)
    ours, ref = PCA(8, **kw).fit(X), sk.PCA(8, **kw).fit(X)
    assert _component_error(ours, full) <= 2 * _component_error(ref, full)
    np.testing.assert_allclose(ours.explained_variance_, full.explained_variance_, rtol=1e-4)
    Z = PCA(8, **kw).fit_transform(X)  # U diag(s) of the decomposition, as scikit-learn's
    np.testing.assert_allclose(Z.var(axis=0, ddof=1), ours.explained_variance_, rtol=1e-10)
    if normalizer != "none":  # without renormalization 20 iterations lose the small directions
        tight = PCA(8, iterated_power=20, **kw).fit(X)
        assert _component_error(tight, full) < 1e-6


def test_copy_false_centers_in_place_and_sparse_input():
    import scipy.sparse as sp

    X = DATA["wine"].copy()
    mean = X.mean(axis=0)
    ours = PCA(3, svd_solver="full", copy=False).fit(X)
    np.testing.assert_allclose(X, DATA["wine"] - mean)  # overwritten, as documented
    np.testing.assert_allclose(ours.mean_, mean)
    dense = PCA(3, svd_solver="arpack", random_state=0).fit(DATA["wine"])
    sparse = PCA(3, svd_solver="arpack", random_state=0).fit(sp.csr_matrix(DATA["wine"]))
    np.testing.assert_allclose(
        sparse.transform(sp.csr_matrix(DATA["wine"])), dense.transform(DATA["wine"])
    )
    with pytest.raises(TypeError, match='sparse inputs with the "arpack" and "covariance_eigh"'):
        PCA(svd_solver="randomized").fit(sp.csr_matrix(DATA["wine"]))


@pytest.mark.parametrize("n_components", [2, 5, 13])
def test_probabilistic_pca_covariance_and_scores_match_sklearn(n_components):
    X = DATA["wine"]
    ours = PCA(n_components, svd_solver="full").fit(X)
    ref = sk.PCA(n_components, svd_solver="full").fit(X)
    np.testing.assert_allclose(ours.get_covariance(), ref.get_covariance(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ours.get_precision(), ref.get_precision(), rtol=1e-7, atol=1e-12)
    np.testing.assert_allclose(ours.get_covariance() @ ours.get_precision(), np.eye(13), atol=1e-9)
    np.testing.assert_allclose(ours.score_samples(X), ref.score_samples(X), rtol=1e-9)
    np.testing.assert_allclose(ours.score(X), ref.score(X), rtol=1e-9)


@pytest.mark.parametrize(
    ("case", "solver"),
    [
        ("constant feature", "full"),
        ("constant feature", "covariance_eigh"),
        ("more features than samples", "full"),
    ],
)
def test_a_singular_model_scores_as_scipys_degenerate_gaussian(case, solver):
    # noise_variance_ = 0 and a component of (rounding-level) zero variance: the covariance is
    # singular (np.linalg.inv raised "Singular matrix", or returned ~1e30 entries); the density
    # is the degenerate Gaussian's on the span of the other components
    from scipy.stats import multivariate_normal

    X = DATA["wine"].copy()
    if case == "constant feature":
        X[:, 3] = 2.0
    else:
        X = X[:8]  # 8 samples: centered rank 7 < 13 features
    model = PCA(svd_solver=solver).fit(X)
    assert model.noise_variance_ == 0.0
    cov = model.get_covariance()
    ref = multivariate_normal(model.mean_, cov, allow_singular=True)
    np.testing.assert_allclose(model.score_samples(X), ref.logpdf(X), rtol=1e-8)
    np.testing.assert_allclose(
        model.get_precision(),
        np.linalg.pinv(cov, rcond=1e-10, hermitian=True),
        rtol=1e-6,
        atol=1e-8 * np.abs(model.get_precision()).max(),
    )


@pytest.mark.parametrize("solver", ["full", "covariance_eigh"])
def test_whitening_leaves_the_probabilistic_model_unchanged(solver):
    """Whitening rescales the projections only: with every component kept, the model's
    covariance is the sample covariance (ddof=1) and its log-likelihood the Gaussian's,
    whitened or not. scikit-learn 1.9's whitened get_covariance scales the components by
    sqrt(explained_variance_) and then weighs them by it again, so it is not compared here."""
    from scipy.stats import multivariate_normal

    X = DATA["wine"]
    model = PCA(svd_solver=solver, whiten=True).fit(X)
    S = np.cov(X, rowvar=False)
    np.testing.assert_allclose(model.get_covariance(), S, rtol=1e-9, atol=1e-9 * np.abs(S).max())
    np.testing.assert_allclose(model.get_precision() @ S, np.eye(13), atol=1e-7)
    ll = multivariate_normal(X.mean(axis=0), S).logpdf(X)
    np.testing.assert_allclose(model.score_samples(X), ll, rtol=1e-9)
    reduced = PCA(5, svd_solver=solver, whiten=True).fit(X)
    plain = sk.PCA(5, svd_solver=solver).fit(X)
    np.testing.assert_allclose(reduced.get_covariance(), plain.get_covariance(), rtol=1e-9)
    np.testing.assert_allclose(reduced.score_samples(X), plain.score_samples(X), rtol=1e-9)


def assert_close_in_float32(ours, ref):
    """Equal dtypes, and values within 1e-4 of the reference's largest magnitude: scikit-learn
    computes in float32 (eps 1.2e-7), we in float64 then round; on digits the largest gap
    measured over the four solvers was 4.3e-5 (randomized, whitened fit_transform)."""
    assert ours.dtype == ref.dtype
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-4 * np.max(np.abs(ref)))


@pytest.mark.parametrize("solver", ["full", "covariance_eigh", "arpack", "randomized"])
@pytest.mark.parametrize("whiten", [False, True])
def test_float32_in_float32_out(solver, whiten):
    X32 = DATA["digits"].astype(np.float32)
    kwargs = dict(n_components=5, svd_solver=solver, whiten=whiten, random_state=0)
    ours, ref = PCA(**kwargs), sk.PCA(**kwargs)
    Z_ours, Z_ref = ours.fit_transform(X32), ref.fit_transform(X32)
    assert Z_ref.dtype == np.float32
    signs = np.sign(np.sum(ours.components_ * ref.components_, axis=1))
    assert_close_in_float32(ours.components_ * signs[:, None], ref.components_)
    for name in ("explained_variance_", "explained_variance_ratio_", "singular_values_", "mean_"):
        assert_close_in_float32(getattr(ours, name), getattr(ref, name))
    assert_close_in_float32(np.asarray(ours.noise_variance_), np.asarray(ref.noise_variance_))
    assert_close_in_float32(Z_ours * signs, Z_ref)
    Z_ours, Z_ref = ours.transform(X32), ref.transform(X32)
    assert_close_in_float32(Z_ours * signs, Z_ref)
    assert_close_in_float32(ours.inverse_transform(Z_ours), ref.inverse_transform(Z_ref))
    if not whiten:  # scikit-learn's whitened covariance also scales the components (not ours)
        assert_close_in_float32(ours.get_covariance(), ref.get_covariance())
        assert_close_in_float32(ours.get_precision(), ref.get_precision())
        assert_close_in_float32(ours.score_samples(X32), ref.score_samples(X32))


def test_float64_wins_over_float32_as_in_sklearn():
    """A float32 model applied to float64 data, or a float64 model to float32 data, gives
    float64 (numpy's promotion of scikit-learn's products)."""
    X = DATA["wine"]
    X32 = X.astype(np.float32)
    for fit_on, apply_to in ((X32, X), (X, X32)):
        ours, ref = PCA(3).fit(fit_on), sk.PCA(3).fit(fit_on)
        for method in ("transform", "score_samples"):
            got, want = getattr(ours, method)(apply_to), getattr(ref, method)(apply_to)
            assert got.dtype == want.dtype == np.float64
        Z = ref.transform(apply_to)
        assert ours.inverse_transform(Z).dtype == ref.inverse_transform(Z).dtype == np.float64


@pytest.mark.parametrize("name", ["wine", "digits", "iris"])
def test_mle_rank_and_evidence_match_sklearn(name):
    from sklearn.decomposition._pca import _assess_dimension

    from mlcanon.decomposition._pca_mle import log_evidence

    X = DATA[name]
    ours, ref = PCA("mle", svd_solver="full").fit(X), sk.PCA("mle", svd_solver="full").fit(X)
    assert ours.n_components_ == ref.n_components_
    spectrum = sk.PCA(svd_solver="full").fit(X).explained_variance_
    for rank in range(1, len(spectrum)):
        want = _assess_dimension(spectrum, rank, X.shape[0])
        np.testing.assert_allclose(log_evidence(spectrum, rank, X.shape[0]), want, rtol=1e-10)
    with pytest.raises(ValueError, match="only supported if n_samples >= n_features"):
        PCA("mle").fit(X[:3])


@pytest.mark.filterwarnings("ignore:invalid value encountered in divide")  # sklearn's 0/0 ratio
@pytest.mark.parametrize("case", ["one feature", "constant data"])
@pytest.mark.parametrize("solver", ["full", "covariance_eigh"])
def test_mle_without_a_finite_evidence_keeps_no_component_as_sklearn(case, solver):
    # Minka's evidence exists for ranks 1..d-1 only: none with one feature, and every rank of
    # a zero spectrum has evidence -inf; scikit-learn then keeps 0 components (we raised
    # "argmax of an empty sequence", and kept 1 of a constant X)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 1)) if case == "one feature" else np.full((20, 3), 2.5)
    ours = PCA("mle", svd_solver=solver).fit(X)
    ref = sk.PCA("mle", svd_solver=solver).fit(X)
    assert ours.n_components_ == ref.n_components_ == 0
    np.testing.assert_allclose(ours.noise_variance_, ref.noise_variance_, rtol=1e-12)
    assert ours.transform(X).shape == ref.transform(X).shape == (20, 0)


@pytest.mark.parametrize("solver", ["full", "arpack", "randomized", "covariance_eigh"])
def test_fit_transform_with_copy_false_matches_sklearn(solver):
    X = DATA["wine"]
    kw = dict(n_components=4, whiten=True, svd_solver=solver, random_state=0, iterated_power=12)
    ours = PCA(copy=False, **kw).fit_transform(X.copy())
    ref = sk.PCA(copy=False, **kw).fit_transform(X.copy())
    signs = np.sign(np.sum(ours * ref, axis=0))
    np.testing.assert_allclose(ours * signs, ref, atol=1e-7)


def test_fraction_above_the_last_cumulated_ratio_keeps_every_component():
    # the cumulated ratios end at 0.9999999999999998 here (rounding): the next float counted
    # one past the end, n_components_ = 7 for 6 features and 6 components_
    X = np.random.default_rng(2).normal(size=(10, 6))
    last = np.cumsum(PCA(svd_solver="covariance_eigh").fit(X).explained_variance_ratio_)[-1]
    assert last < np.nextafter(last, 1.0) < 1.0
    model = PCA(float(np.nextafter(last, 1.0)), svd_solver="covariance_eigh").fit(X)
    assert model.n_components_ == model.components_.shape[0] == 6


@pytest.mark.filterwarnings("ignore:invalid value encountered in divide")  # sklearn's 0/0 ratio
@pytest.mark.parametrize("solver", ["full", "covariance_eigh"])
def test_fraction_of_no_variance_keeps_one_component_as_sklearn(solver):
    # constant data: every ratio is 0 (nan in scikit-learn), and we kept 4 of 3 features
    constant = np.full((20, 3), 2.0)
    ours = PCA(0.5, svd_solver=solver).fit(constant)
    ref = sk.PCA(0.5, svd_solver=solver).fit(constant)
    assert ours.n_components_ == ref.n_components_ == ours.components_.shape[0] == 1


def test_sparse_input_under_auto_is_solved_by_arpack_as_sklearn():
    """scikit-learn's 'auto' takes 'arpack' for scipy.sparse X: n_components=None keeps
    min(n_samples, n_features) - 1 components (we kept 13 of wine's 13), and a fraction or
    'mle' is refused as with 'arpack'."""
    import scipy.sparse as sp

    X = sp.csr_matrix(DATA["wine"])
    ours = PCA(random_state=0).fit(X)
    ref = sk.PCA(random_state=0).fit(X)
    assert ours.n_components_ == ref.n_components_ == 12
    np.testing.assert_allclose(ours.explained_variance_, ref.explained_variance_, rtol=1e-8)
    np.testing.assert_allclose(ours.noise_variance_, ref.noise_variance_, rtol=1e-8)
    for n_components, match in [(0.5, "must be between 1 and"), ("mle", "cannot be a string")]:
        with pytest.raises(ValueError, match=match):
            sk.PCA(n_components).fit(X)
        with pytest.raises(ValueError, match=match):
            PCA(n_components).fit(X)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("solver", ["full", "covariance_eigh", "arpack", "randomized"])
@pytest.mark.parametrize("n_components", [2, 4])
def test_noise_variance_type_as_sklearn(solver, n_components, dtype):
    """A mean of discarded variances is a NumPy scalar of the data's dtype (float64 data gave a
    Python float); with every component kept scikit-learn's noise is the Python float 0.0 (ours
    was a float32 0 for float32 data)."""
    if solver == "arpack" and n_components == 4:
        pytest.skip("arpack keeps fewer than min(n_samples, n_features) components")
    X = DATA["iris"].astype(dtype)
    ours = PCA(n_components, svd_solver=solver, random_state=0).fit(X)
    ref = sk.PCA(n_components, svd_solver=solver, random_state=0).fit(X)
    assert type(ours.noise_variance_) is type(ref.noise_variance_)
    np.testing.assert_allclose(ours.noise_variance_, ref.noise_variance_, rtol=1e-4)


@pytest.mark.parametrize("solver", ["full", "covariance_eigh", "arpack", "randomized"])
@pytest.mark.parametrize("n_components", [1, 2, 0.5])
@pytest.mark.parametrize("shape", [(5, 10), (3, 20), (10, 5)])
def test_noise_variance_with_fewer_samples_than_features_as_sklearn(solver, n_components, shape):
    """With n_samples < n_features scikit-learn's 'covariance_eigh' averages every discarded
    eigenvalue of the (n_features, n_features) covariance, its zeros too; ours averaged only the
    first min(n_samples, n_features) (22.5 vs 50.6 on the (5, 10) case, one component)."""
    if solver in ("arpack", "randomized") and not isinstance(n_components, int):
        pytest.skip("the truncated solvers take an int n_components")
    X = np.random.default_rng(0).normal(size=shape) * np.arange(1, shape[1] + 1)
    ours = PCA(n_components, svd_solver=solver, random_state=0).fit(X)
    ref = sk.PCA(n_components, svd_solver=solver, random_state=0).fit(X)
    assert ours.n_components_ == ref.n_components_
    # atol: a noise of zero (the rank is n_samples - 1) comes out at rounding level, ~1e-13
    scale = ref.explained_variance_[0]
    np.testing.assert_allclose(
        ours.noise_variance_, ref.noise_variance_, rtol=1e-8, atol=1e-12 * scale
    )
    if ref.noise_variance_ > 1e-8 * ref.explained_variance_[0]:  # else the covariance is
        # singular and scikit-learn inverts it anyway (see test_a_singular_model_...)
        np.testing.assert_allclose(ours.score_samples(X), ref.score_samples(X), rtol=1e-8)


@pytest.mark.parametrize("solver", ["auto", "covariance_eigh"])
def test_covariance_eigh_keeps_the_spread_of_data_far_from_the_origin(solver):
    # mean 1e4, spread 1e-3 .. 1e-4 (n >= 10 p: 'auto' picks 'covariance_eigh'). The expanded
    # X^T X - n m m^T (scikit-learn's) cancelled: 4% off the first variance, the last lost;
    # the centred cross product agrees with scikit-learn's 'full' SVD solver
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3)) @ np.diag([1e-3, 3e-4, 1e-4]) + 1e4
    ours = PCA(svd_solver=solver).fit(X)
    ref = sk.PCA(svd_solver="full").fit(X)
    np.testing.assert_allclose(ours.explained_variance_, ref.explained_variance_, rtol=1e-7)
    np.testing.assert_allclose(
        ours.explained_variance_ratio_, ref.explained_variance_ratio_, rtol=1e-7
    )
    assert_components_equal_up_to_sign(ours.components_, ref.components_, atol=1e-6)


@pytest.mark.parametrize("whiten", [False, True])
def test_transform_keeps_the_digits_of_data_far_from_the_origin(whiten):
    # transform was X V^T - m V^T (scikit-learn's order): both terms ~1e6 here, the projections
    # ~1e-4, so the difference kept 7 to 8 digits (4e-8 relative). The definition written out:
    # X - m is exact for X and m this close (Sterbenz), then one product with unit rows
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3)) @ np.diag([1e-3, 3e-4, 1e-4]) + 1e6
    ours = PCA(svd_solver="full", whiten=whiten).fit(X)
    want = (X - ours.mean_) @ ours.components_.T
    if whiten:
        want /= np.sqrt(ours.explained_variance_)
    np.testing.assert_allclose(ours.transform(X), want, rtol=0, atol=1e-13 * np.abs(want).max())
    # the model is scikit-learn's on the same data
    ref = sk.PCA(svd_solver="full", whiten=whiten).fit(X)
    assert_components_equal_up_to_sign(ours.components_, ref.components_, atol=1e-12)
