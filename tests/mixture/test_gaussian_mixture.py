"""GaussianMixture against scikit-learn: from the same starting parameters, the same EM run."""

import warnings

import numpy as np
import pytest
from sklearn import mixture as skm
from sklearn.datasets import load_iris, load_wine, make_blobs
from sklearn.exceptions import NotFittedError
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from mlcanon import io
from mlcanon.mixture import ConvergenceWarning, GaussianMixture

COV_TYPES = ["full", "tied", "diag", "spherical"]


def _data(name):
    if name == "iris":
        return load_iris().data, 3
    if name == "wine":
        return StandardScaler().fit_transform(load_wine().data[:, :6]), 3
    return make_blobs(1500, 4, centers=4, cluster_std=[1.0, 2.0, 0.5, 1.5], random_state=2)[0], 4


def _start(X, k, cov_type, seed):
    """Random but valid starting weights, means and precisions of the given structure."""
    rng = np.random.default_rng(seed)
    d = X.shape[1]
    weights = rng.dirichlet(np.full(k, 5.0))
    means = X[rng.choice(len(X), k, replace=False)]
    scale = 1.0 / X.var(axis=0).mean()
    if cov_type == "full":
        A = rng.normal(size=(k, d, d)) * 0.2
        prec = scale * (np.eye(d) + A @ A.transpose(0, 2, 1))
    elif cov_type == "tied":
        A = rng.normal(size=(d, d)) * 0.2
        prec = scale * (np.eye(d) + A @ A.T)
    elif cov_type == "diag":
        prec = scale * rng.uniform(0.5, 2.0, size=(k, d))
    else:
        prec = scale * rng.uniform(0.5, 2.0, size=k)
    return {"weights_init": weights, "means_init": means, "precisions_init": prec}


@pytest.mark.parametrize("cov_type", COV_TYPES)
@pytest.mark.parametrize("name", ["iris", "wine", "blobs"])
@pytest.mark.parametrize("seed", [0, 1])
def test_same_start_gives_the_same_em_run_as_sklearn(cov_type, name, seed):
    X, k = _data(name)
    kw = dict(
        n_components=k,
        covariance_type=cov_type,
        max_iter=300,
        tol=1e-6,
        **_start(X, k, cov_type, seed),
    )
    ours = GaussianMixture(**kw).fit(X)
    ref = skm.GaussianMixture(**kw).fit(X)
    assert ours.n_iter_ == ref.n_iter_ and ours.converged_ == ref.converged_
    for attr in ["weights_", "means_", "covariances_", "precisions_", "precisions_cholesky_"]:
        np.testing.assert_allclose(
            getattr(ours, attr), getattr(ref, attr), rtol=1e-6, atol=1e-9, err_msg=attr
        )
    np.testing.assert_allclose(ours.lower_bound_, ref.lower_bound_, rtol=1e-6)
    np.testing.assert_allclose(ours.lower_bounds_, ref.lower_bounds_, rtol=1e-6)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-6)
    np.testing.assert_allclose(ours.score_samples(X), ref.score_samples(X), rtol=1e-6)
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))
    np.testing.assert_allclose(ours.bic(X), ref.bic(X), rtol=1e-6)
    np.testing.assert_allclose(ours.aic(X), ref.aic(X), rtol=1e-6)


@pytest.mark.parametrize("cov_type", COV_TYPES)
@pytest.mark.parametrize("init_params", ["kmeans", "k-means++", "random", "random_from_data"])
def test_lower_bound_never_decreases(cov_type, init_params):
    X, k = _data("wine")
    gm = GaussianMixture(
        k, covariance_type=cov_type, init_params=init_params, max_iter=500, tol=1e-8, random_state=0
    ).fit(X)
    assert gm.converged_
    steps = np.diff(gm.lower_bounds_)
    assert np.all(steps >= -1e-12 * np.abs(gm.lower_bounds_[1:])), steps.min()


@pytest.mark.parametrize("cov_type", COV_TYPES)
def test_each_init_finds_the_separated_components(cov_type):
    centers = np.array([[0.0, 0.0], [12.0, 0.0], [0.0, 12.0]])
    X, y = make_blobs(900, 2, centers=centers, random_state=0)
    for init_params in ["kmeans", "k-means++", "random_from_data"]:
        gm = GaussianMixture(
            3, covariance_type=cov_type, init_params=init_params, random_state=1
        ).fit(X)
        order = np.argsort(gm.means_[:, 0] + 2 * gm.means_[:, 1])
        np.testing.assert_allclose(gm.means_[order], centers, atol=0.2)
        assert len(set(zip(gm.predict(X), y, strict=True))) == 3  # a one-to-one labeling


def test_warm_start_continues_like_sklearn():
    X, k = _data("iris")
    kw = dict(n_components=k, max_iter=4, warm_start=True, **_start(X, k, "full", 3))
    ours, ref = GaussianMixture(**kw), skm.GaussianMixture(**kw)
    for _ in range(3):
        with pytest.warns(ConvergenceWarning):
            ours.fit(X)
        with pytest.warns(Warning):
            ref.fit(X)
        np.testing.assert_allclose(ours.means_, ref.means_, rtol=1e-8)
        np.testing.assert_allclose(ours.lower_bound_, ref.lower_bound_, rtol=1e-8)


@pytest.mark.parametrize("cov_type", COV_TYPES)
def test_sample_moments_follow_the_model(cov_type):
    X, k = _data("iris")
    gm = GaussianMixture(k, covariance_type=cov_type, random_state=0).fit(X)
    Xs, ys = gm.sample(60000)
    assert Xs.shape == (60000, 4) and np.all(np.diff(ys) >= 0)
    np.testing.assert_allclose(np.bincount(ys) / len(ys), gm.weights_, atol=0.01)
    for j in range(k):
        mean = Xs[ys == j].mean(axis=0)
        se = np.sqrt(np.diag(np.cov(Xs[ys == j].T)) / (ys == j).sum())
        assert np.all(np.abs(mean - gm.means_[j]) < 5 * se)


def test_hand_computed_single_component():
    X = np.array([[0.0, 1.0], [2.0, 1.0], [1.0, 4.0]])
    gm = GaussianMixture(1, reg_covar=0.0).fit(X)
    np.testing.assert_allclose(gm.means_, [[1.0, 2.0]])
    np.testing.assert_allclose(gm.covariances_[0], np.cov(X.T, bias=True), atol=1e-12)
    # log N(x | mu, S) at the mean: -(d/2) log(2 pi) - (1/2) log det S
    expected = -np.log(2 * np.pi) - 0.5 * np.log(np.linalg.det(np.cov(X.T, bias=True)))
    np.testing.assert_allclose(gm.score_samples([[1.0, 2.0]]), [expected], rtol=1e-12)


def test_max_iter_reached_warns():
    X, k = _data("blobs")
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        GaussianMixture(k, max_iter=1, random_state=0).fit(X)


def test_save_load_round_trip(tmp_path):
    X, k = _data("iris")
    gm = GaussianMixture(k, covariance_type="diag", random_state=0).fit(X)
    back = io.load(io.save(gm, tmp_path / "gm.npz"))
    np.testing.assert_array_equal(back.predict_proba(X), gm.predict_proba(X))
    np.testing.assert_array_equal(back.score_samples(X), gm.score_samples(X))


@pytest.mark.parametrize(
    "kwargs, X, match",
    [
        (
            {"n_components": 4},
            np.eye(3),
            r"n_samples >= n_components .* n_components = 4, n_samples = 3",
        ),
        ({"covariance_type": "block"}, np.eye(3), "covariance_type must be one of"),
        ({"init_params": "kmeans+"}, np.eye(3), "init_params must be one of"),
        ({}, [[0.0, np.nan], [1.0, 2.0]], "X contains NaN"),
        ({"n_components": 2, "weights_init": [0.6, 0.6]}, np.eye(3), "should be normalized"),
        (
            {"n_components": 2, "means_init": np.zeros((2, 2))},
            np.eye(3),
            r"The parameter 'means' should have the shape of \(2, 3\)",
        ),
        (
            {"n_components": 1, "precisions_init": -np.eye(3)[None]},
            np.eye(3),
            "symmetric, positive-definite",
        ),
        (
            {"covariance_type": "diag", "precisions_init": [[1.0, 0.0, 1.0]]},
            np.eye(3),
            "'diag precision' should be positive",
        ),
        ({"reg_covar": -1.0}, np.eye(3), "reg_covar must be >= 0"),
    ],
)
def test_bad_input_is_refused(kwargs, X, match):
    with pytest.raises(ValueError, match=match):
        GaussianMixture(**kwargs).fit(X)


def test_collapsed_component_error_names_the_remedy():
    X = np.repeat([[0.0, 0.0], [5.0, 5.0]], 10, axis=0)
    with pytest.raises(ValueError, match="increase reg_covar"):
        GaussianMixture(2, reg_covar=0.0, random_state=0).fit(X)


def test_unfitted_and_wrong_width():
    with pytest.raises(NotFittedError):
        GaussianMixture().predict(np.eye(2))
    gm = GaussianMixture(random_state=0).fit(np.random.default_rng(0).normal(size=(20, 3)))
    with pytest.raises(ValueError, match="X has 2 features, but GaussianMixture is expecting 3"):
        gm.score_samples(np.eye(2))


@parametrize_with_checks([GaussianMixture(n_init=2, max_iter=5)])
def test_sklearn_estimator_contract(estimator, check):
    check(estimator)


def test_float32_weights_init_within_float32_rounding():
    """Upstream: float32 weights that sum to 1 up to float32 rounding are accepted (atol 1e-6)."""
    X, _ = make_blobs(100, centers=3, random_state=0)
    weights = np.array([0.1, 0.2, 0.7], dtype=np.float32)
    weights[2] = np.float32(1.0) - weights[0] - weights[1] + np.float32(1e-7)
    assert abs(float(weights.astype(np.float64).sum()) - 1.0) > 1e-8
    ours = GaussianMixture(3, weights_init=weights, random_state=0).fit(X)
    ref = skm.GaussianMixture(3, weights_init=weights, random_state=0).fit(X)
    assert ours.converged_ and ref.converged_
    with pytest.raises(ValueError, match="The parameter 'weights' should be normalized"):
        GaussianMixture(3, weights_init=weights.astype(np.float64) + 1e-7).fit(X)


def test_verbose_prints_scikit_learns_lines(capsys):
    X, _ = make_blobs(200, centers=3, random_state=0)
    kw = dict(n_components=3, means_init=X[:3], max_iter=40, tol=1e-8, verbose=1)
    kw["verbose_interval"] = 5
    GaussianMixture(**kw).fit(X)
    ours = capsys.readouterr().out.splitlines()
    skm.GaussianMixture(**kw).fit(X)
    ref = capsys.readouterr().out.splitlines()
    assert ours == ref
    GaussianMixture(**{**kw, "verbose": 2}).fit(X)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(ref) and "ll change" in lines[1] and "lower bound" in lines[-1]


def test_init_parameter_messages_name_the_parameter():
    X, _ = make_blobs(60, centers=3, random_state=0)
    with pytest.raises(ValueError, match=r"'weights' should have the shape of \(3,\)"):
        GaussianMixture(3, weights_init=np.ones((3, 1)) / 3).fit(X)
    with pytest.raises(ValueError, match=r"range \[0, 1\], but got min value -0.50000"):
        GaussianMixture(3, weights_init=[-0.5, 0.5, 1.0]).fit(X)
    with pytest.raises(ValueError, match=r"'tied precision' should have the shape of \(2, 2\)"):
        GaussianMixture(3, covariance_type="tied", precisions_init=np.eye(3)).fit(X)
    with pytest.raises(ValueError, match="Invalid value for 'n_samples': 0"):
        GaussianMixture(3, random_state=0).fit(X).sample(0)


def _start32(X, k, cov_type, seed):
    """:func:`_start` cast to float32, the weights renormalised in float32."""
    init = {key: v.astype(np.float32) for key, v in _start(X, k, cov_type, seed).items()}
    init["weights_init"] /= init["weights_init"].sum()
    return init


FITTED = ["weights_", "means_", "covariances_", "precisions_", "precisions_cholesky_"]


@pytest.mark.filterwarnings("ignore:covariance is not symmetric positive-semidefinite")
@pytest.mark.parametrize("cov_type", COV_TYPES)
@pytest.mark.parametrize("seed", [0, 1])
def test_float32_same_start_gives_sklearns_float32_run(cov_type, seed):
    """float32 data and starting values: the fitted attributes and the outputs are float32
    like scikit-learn's, and the run matches its float32 run. On standardised (centred) data,
    where scikit-learn's expanded float32 distances lose nothing to cancellation (see the next
    test for uncentred data). Our M-step sums in float64 and rounds (scikit-learn's sums in
    float32). Measured worst over these 8 cases: the same number of iterations and labels,
    predict_proba 5.2e-6 and score_samples 3.2e-5 absolute, the lower bound 1.8e-7 relative."""
    X, k = _data("wine")
    X = X.astype(np.float32)
    kw = dict(n_components=k, covariance_type=cov_type, max_iter=300, tol=1e-4)
    kw.update(_start32(X, k, cov_type, seed))
    ours = GaussianMixture(**kw).fit(X)
    ref = skm.GaussianMixture(**kw).fit(X)
    assert ours.n_iter_ == ref.n_iter_ and ours.converged_ == ref.converged_
    for attr in FITTED:
        got, want = getattr(ours, attr), getattr(ref, attr)
        assert got.dtype == want.dtype == np.float32, attr
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6 * np.abs(want).max())
    assert type(ours.lower_bound_) is type(ref.lower_bound_) is np.float32
    np.testing.assert_allclose(ours.lower_bound_, ref.lower_bound_, rtol=1e-6)
    for method, atol in [("predict_proba", 1e-5), ("score_samples", 1e-4)]:
        got, want = getattr(ours, method)(X), getattr(ref, method)(X)
        assert got.dtype == want.dtype == np.float32, method
        np.testing.assert_allclose(got, want, rtol=0, atol=atol, err_msg=method)
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))
    assert ours.sample(5)[0].dtype == ref.sample(5)[0].dtype == np.float64


@pytest.mark.parametrize("cov_type", COV_TYPES)
@pytest.mark.parametrize("name", ["iris", "wine", "blobs"])
@pytest.mark.parametrize("seed", [0, 1])
def test_float32_run_stays_with_sklearns_float64_run(cov_type, name, seed):
    """Our float32 EM follows scikit-learn's float64 EM from the same start, also on
    uncentred data (iris' feature means are near 5). There scikit-learn's own float32 run can
    drift: its 'diag' and 'spherical' distances |x|^2 - 2 x.mu + |mu|^2 lose digits to
    cancellation (measured on iris 'spherical', seed 0: 27 iterations instead of 59, means 5e-2
    off); ours, |x - mu|^2, does not. Measured worst over these 24 cases: the same number of
    iterations, means 6e-5 and covariances 2e-4 off relative to their largest entry (blobs
    'diag'), the lower bound 9e-7 off."""
    X, k = _data(name)
    init = _start32(X.astype(np.float32), k, cov_type, seed)
    kw = dict(n_components=k, covariance_type=cov_type, max_iter=300, tol=1e-4)
    ours = GaussianMixture(**kw, **init).fit(X.astype(np.float32))
    init64 = {key: v.astype(np.float64) for key, v in init.items()}
    init64["weights_init"] /= init64["weights_init"].sum()
    ref64 = skm.GaussianMixture(**kw, **init64).fit(X)
    assert ours.means_.dtype == np.float32
    assert ours.n_iter_ == ref64.n_iter_
    for attr, rel in [("means_", 2e-4), ("covariances_", 1e-3)]:
        want = getattr(ref64, attr)
        np.testing.assert_allclose(getattr(ours, attr), want, atol=rel * np.abs(want).max())
    np.testing.assert_allclose(ours.lower_bound_, ref64.lower_bound_, rtol=0, atol=1e-5)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.filterwarnings("ignore::mlcanon.mixture.ConvergenceWarning")
@pytest.mark.parametrize("X_dtype", [np.float32, np.float64])
@pytest.mark.parametrize("init_dtype", [np.float32, np.float64, None])
@pytest.mark.parametrize("cov_type", COV_TYPES)
def test_dtypes_follow_sklearn(X_dtype, init_dtype, cov_type):
    """Every fitted attribute and output has scikit-learn's dtype, for float32 and float64 data
    with float32, float64 or no starting values (then from k-means), fitted or not iterated."""
    X, k = _data("wine")
    X = X.astype(X_dtype)
    kw = dict(n_components=k, covariance_type=cov_type, random_state=0)
    if init_dtype is not None:
        init = {key: v.astype(init_dtype) for key, v in _start32(X, k, cov_type, 0).items()}
        init["weights_init"] /= init["weights_init"].sum()
        kw.update(init)
    # scikit-learn's max_iter=0 with precisions_init given has no covariances_ and fails
    for max_iter in [0, 5] if init_dtype is None else [5]:
        ours = GaussianMixture(max_iter=max_iter, **kw).fit(X)
        ref = skm.GaussianMixture(max_iter=max_iter, **kw).fit(X)
        for attr in ["weights_", "means_", "precisions_", "precisions_cholesky_"]:
            assert getattr(ours, attr).dtype == getattr(ref, attr).dtype, (attr, max_iter)
        for method in ["predict_proba", "score_samples"]:
            assert getattr(ours, method)(X).dtype == getattr(ref, method)(X).dtype, method


@pytest.mark.parametrize("cov_type", COV_TYPES)
def test_float32_far_from_the_origin_follows_sklearns_float64_run(cov_type):
    """Data around 1000: the tied, diag and spherical covariances subtract N_k mu mu^T from a
    raw second moment, which cancels to noise in float32 (scikit-learn's float32 run raises
    'ill-defined empirical covariance' here); ours sum in float64 and round. Measured: the
    covariances within 5e-3 of scikit-learn's float64 run, relative to their largest entry."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 3))
    X[250:] += 3.0
    X += 1000.0
    start = np.array([[1000.0] * 3, [1003.0] * 3])
    kw = dict(n_components=2, covariance_type=cov_type)
    ours = GaussianMixture(**kw, means_init=start.astype(np.float32)).fit(X.astype(np.float32))
    ref = skm.GaussianMixture(**kw, means_init=start).fit(X)
    assert ours.covariances_.dtype == np.float32
    want = ref.covariances_
    np.testing.assert_allclose(ours.covariances_, want, rtol=0, atol=1e-2 * np.abs(want).max())
    np.testing.assert_allclose(ours.means_, ref.means_, rtol=1e-5)


@pytest.mark.parametrize("cov_type", COV_TYPES)
def test_one_component_far_from_the_origin_has_the_data_covariance(cov_type):
    # one component: r_ik = 1, so the fit is the sample mean and the (ddof=0) covariance plus
    # reg_covar, written out with numpy's two-pass formula. Near 1e7 a raw second moment minus
    # N mu mu^T lost 4-5% of a unit variance (tied, diag, spherical; scikit-learn's too), and
    # near 1e8 all of it ("ill-defined empirical covariance")
    rng = np.random.default_rng(0)
    for offset in (1e7, 1e8):
        X = rng.normal(size=(500, 2)) * [1.0, 2.0] + offset
        gm = GaussianMixture(1, covariance_type=cov_type, reg_covar=1e-6).fit(X)
        S = np.cov(X.T, bias=True) + 1e-6 * np.eye(2)
        want = {
            "full": S[None],
            "tied": S,
            "diag": np.diag(S)[None],
            "spherical": np.diag(S).mean(keepdims=True),
        }[cov_type]
        np.testing.assert_allclose(gm.covariances_, want, rtol=1e-9)
        np.testing.assert_allclose(gm.means_, X.mean(axis=0, keepdims=True), rtol=1e-13)


@pytest.mark.filterwarnings("ignore::mlcanon.mixture.ConvergenceWarning")
@pytest.mark.parametrize("cov_type", COV_TYPES)
def test_max_iter_zero_keeps_the_covariances_of_the_given_precisions(cov_type):
    # no EM step: the fitted covariances are the inverses of precisions_init (written out
    # with np.linalg.inv); they were left from an earlier fit, from the seeding, or None
    # (scikit-learn raises AttributeError here)
    X, k = _data("iris")
    start = _start(X, k, cov_type, seed=0)
    precisions = start["precisions_init"]
    want = np.linalg.inv(precisions) if cov_type in ("full", "tied") else 1.0 / precisions
    gm = GaussianMixture(k, covariance_type=cov_type, random_state=0).fit(X)
    for weights in (start["weights_init"], None):  # all three given, then the seeding's weights
        gm.set_params(**start, max_iter=0).set_params(weights_init=weights).fit(X)
        np.testing.assert_allclose(gm.covariances_, want, rtol=1e-12)
        np.testing.assert_allclose(gm.precisions_, precisions, rtol=1e-12)


def test_bic_and_aic_are_python_floats_as_sklearn():
    # scikit-learn's bic uses math.log, so it is a Python float; ours was a numpy float64
    X, k = _data("iris")
    kw = dict(n_components=k, covariance_type="diag", **_start(X, k, "diag", 0))
    ours = GaussianMixture(**kw).fit(X)
    ref = skm.GaussianMixture(**kw).fit(X)
    for name in ["bic", "aic", "score"]:
        assert type(getattr(ours, name)(X)) is type(getattr(ref, name)(X)) is float, name
        np.testing.assert_allclose(getattr(ours, name)(X), getattr(ref, name)(X), rtol=1e-6)


def test_warm_start_on_data_of_another_width_says_so():
    # scikit-learn fails too, with numpy's "matmul: Input operand 1 has a mismatch in its core
    # dimension 0"; so did we
    X, k = _data("iris")
    for model in [GaussianMixture(k, warm_start=True), skm.GaussianMixture(k, warm_start=True)]:
        model.set_params(random_state=0).fit(X)
        with pytest.raises(ValueError) as error:
            model.fit(X[:, :2])
        if isinstance(model, GaussianMixture):
            assert "last fit, which had n_features=4, but n_features=2 now" in str(error.value)


def test_warm_start_with_another_covariance_type_or_n_components_says_so():
    """scikit-learn fails inside numpy when covariance_type changed ('operands could not be
    broadcast'; ours too), and with another n_components fits the old number of components
    (weights_ of 2 for n_components=3); we did the same. Both are now refused by name."""
    X, _ = _data("iris")
    for name, value in [("covariance_type", "diag"), ("n_components", 3)]:
        ours = GaussianMixture(2, warm_start=True, random_state=0).fit(X)
        ref = skm.GaussianMixture(2, warm_start=True, random_state=0).fit(X)
        ours.set_params(**{name: value})
        ref.set_params(**{name: value})
        with pytest.raises(ValueError, match=f"had {name}=.*, but {name}={value!r} now"):
            ours.fit(X)
        if name == "covariance_type":
            with pytest.raises(ValueError, match="could not be broadcast"):
                ref.fit(X)
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                assert ref.fit(X).weights_.shape == (2,) != (ref.n_components,)


@pytest.mark.parametrize("cov_type", ["full", "tied"])
def test_float32_data_with_float64_means_init_stay_float32_as_sklearn(cov_type):
    # scikit-learn fills the 'full'/'tied' log-densities into an array of X's dtype, so with
    # float32 weights and precisions the fit stays float32; ours took float64 from a float64
    # means_init (weights_, means_, lower_bound_, score_samples: 12 of 432 dtype combinations)
    X, k = _data("iris")
    kw = dict(n_components=k, covariance_type=cov_type, **_start(X, k, cov_type, 0))  # float64
    kw["precisions_init"] = kw["precisions_init"].astype(np.float32)
    kw["weights_init"] = kw["weights_init"].astype(np.float32)
    X = X.astype(np.float32)
    ours = GaussianMixture(**kw).fit(X)
    ref = skm.GaussianMixture(**kw).fit(X)
    for attr in ["weights_", "means_", "covariances_", "precisions_cholesky_"]:
        assert getattr(ours, attr).dtype == getattr(ref, attr).dtype == np.float32, attr
    assert type(ours.lower_bound_) is type(ref.lower_bound_) is np.float32
    assert ours.score_samples(X).dtype == ref.score_samples(X).dtype == np.float32
    assert ours.n_iter_ == ref.n_iter_
    np.testing.assert_allclose(ours.means_, ref.means_, rtol=1e-5, atol=1e-5)
