"""CategoricalHMM and GaussianHMM against hmmlearn on sequences of 10^4 steps (1e-8)."""

import warnings

import numpy as np
import pytest

from mlcanon.hmm import CategoricalHMM, GaussianHMM

hmm = pytest.importorskip("hmmlearn.hmm")

T = 10_000
LENGTHS = [4000, 3500, 2500]


def _chain(rng, N):
    return rng.dirichlet(np.ones(N)), rng.dirichlet(np.full(N, 0.7) + 3 * np.eye(N)[0], size=N)


def _set(model, **params):
    for k, v in params.items():
        setattr(model, k, np.array(v, copy=True))
    return model


def _pair_categorical(seed, N=3, M=6, **kw):
    rng = np.random.default_rng(seed)
    start, trans = _chain(rng, N)
    params = dict(
        startprob_=start, transmat_=trans, emissionprob_=rng.dirichlet(np.ones(M), size=N)
    )
    ref = _set(hmm.CategoricalHMM(N, init_params="", **kw), **params)
    ours = _set(CategoricalHMM(N, init_params="", **kw), **params)
    X, _ = ref.sample(T, random_state=seed)
    return ours, ref, X


def _gaussian_params(rng, N, d, cov_type):
    A = rng.normal(size=(N, d, d)) * 0.4
    full = np.eye(d) + A @ A.transpose(0, 2, 1)
    covars = {
        "spherical": rng.uniform(0.5, 2.0, N),
        "diag": rng.uniform(0.5, 2.0, (N, d)),
        "full": full,
        "tied": full[0],
    }[cov_type]
    return rng.normal(scale=2.0, size=(N, d)), covars


def _pair_gaussian(seed, cov_type, N=3, d=2, **kw):
    rng = np.random.default_rng(seed)
    start, trans = _chain(rng, N)
    means, covars = _gaussian_params(rng, N, d, cov_type)
    params = dict(startprob_=start, transmat_=trans, means_=means, covars_=covars)
    ref = _set(hmm.GaussianHMM(N, covariance_type=cov_type, init_params="", **kw), **params)
    ours = _set(GaussianHMM(N, covariance_type=cov_type, init_params="", **kw), **params)
    X, _ = ref.sample(T, random_state=seed)
    return ours, ref, X


def _assert_inference_matches(ours, ref, X, lengths):
    lp, post = ours.score_samples(X, lengths)
    ref_lp, ref_post = ref.score_samples(X, lengths)
    np.testing.assert_allclose(lp, ref_lp, rtol=1e-8)
    np.testing.assert_allclose(post, ref_post, rtol=1e-8, atol=1e-8)
    np.testing.assert_allclose(ours.score(X, lengths=lengths), ref.score(X, lengths), rtol=1e-8)
    vit_lp, path = ours.decode(X, lengths)
    ref_vit_lp, ref_path = ref.decode(X, lengths)
    np.testing.assert_array_equal(path, ref_path)
    np.testing.assert_allclose(vit_lp, ref_vit_lp, rtol=1e-8)
    map_lp, map_path = ours.decode(X, lengths, algorithm="map")
    _, ref_map_path = ref.decode(X, lengths, algorithm="map")
    np.testing.assert_array_equal(map_path, ref_map_path)
    # hmmlearn 0.3 returns the sum of the max posteriors (not of their logs) as the MAP score
    np.testing.assert_allclose(map_lp, np.log(ref_post.max(axis=1)).sum(), rtol=1e-8)


def _ref_covars(ref):
    """hmmlearn's covariances as full matrices (its property repeats 'spherical' ones d times)."""
    c = ref._covars_
    if ref.covariance_type == "spherical":
        return c[:, 0, None, None] * np.eye(c.shape[1])
    return ref.covars_


def _fit_both(ours, ref, X, lengths):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # n_iter=1 never converges; hmmlearn logs, we warn
        ours.fit(X, lengths=lengths)
        ref.fit(X, lengths)
    np.testing.assert_allclose(ours.lower_bounds_, list(ref.monitor_.history), rtol=1e-8)
    np.testing.assert_allclose(ours.startprob_, ref.startprob_, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(ours.transmat_, ref.transmat_, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("lengths", [None, LENGTHS])
def test_categorical_inference(seed, lengths):
    ours, ref, X = _pair_categorical(seed)
    _assert_inference_matches(ours, ref, X, lengths)


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("lengths", [None, LENGTHS])
@pytest.mark.parametrize("n_iter", [1, 3])
def test_categorical_baum_welch(seed, lengths, n_iter):
    ours, ref, X = _pair_categorical(seed, n_iter=n_iter, tol=0.0)
    _fit_both(ours, ref, X, lengths)
    np.testing.assert_allclose(ours.emissionprob_, ref.emissionprob_, rtol=1e-8, atol=1e-10)


def test_categorical_priors_match():
    ours, ref, X = _pair_categorical(
        3, n_iter=1, startprob_prior=2.0, transmat_prior=3.0, emissionprob_prior=1.5
    )
    _fit_both(ours, ref, X, None)
    np.testing.assert_allclose(ours.emissionprob_, ref.emissionprob_, rtol=1e-8)


def test_categorical_priors_as_nested_lists_match():
    """Priors given per state as Python lists (hmmlearn needs arrays: it subtracts from them)."""
    priors = dict(
        startprob_prior=[2.0, 1.0, 1.5],
        transmat_prior=[[3.0, 1.0, 1.0], [1.0, 3.0, 1.0], [1.0, 1.0, 3.0]],
        emissionprob_prior=[[1.5] * 6, [1.0] * 6, [2.0] * 6],
    )
    ours, ref, X = _pair_categorical(4, n_iter=1)
    ours.set_params(**priors)
    ref.set_params(**{k: np.array(v) for k, v in priors.items()})
    _fit_both(ours, ref, X, None)
    np.testing.assert_allclose(ours.emissionprob_, ref.emissionprob_, rtol=1e-8)


@pytest.mark.parametrize("cov_type", ["spherical", "diag", "full", "tied"])
@pytest.mark.parametrize("lengths", [None, LENGTHS])
def test_gaussian_inference(cov_type, lengths):
    ours, ref, X = _pair_gaussian(0, cov_type)
    _assert_inference_matches(ours, ref, X, lengths)


@pytest.mark.parametrize("cov_type", ["spherical", "diag", "full", "tied"])
@pytest.mark.parametrize("lengths", [None, LENGTHS])
def test_gaussian_baum_welch(cov_type, lengths):
    ours, ref, X = _pair_gaussian(1, cov_type, n_iter=1)
    _fit_both(ours, ref, X, lengths)
    np.testing.assert_allclose(ours.means_, ref.means_, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(ours.covars_, _ref_covars(ref), rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("cov_type", ["diag", "full"])
def test_gaussian_map_priors_match(cov_type):
    kw = dict(
        means_prior=0.5, means_weight=2.0, covars_prior=0.3, covars_weight=4.0, n_iter=2, tol=0.0
    )
    ours, ref, X = _pair_gaussian(2, cov_type, **kw)
    _fit_both(ours, ref, X, None)
    np.testing.assert_allclose(ours.means_, ref.means_, rtol=1e-8)
    np.testing.assert_allclose(ours.covars_, _ref_covars(ref), rtol=1e-8)


def test_left_right_model_keeps_its_zeros():
    rng = np.random.default_rng(4)
    start = np.array([1.0, 0.0, 0.0])
    trans = np.array([[0.9, 0.1, 0.0], [0.0, 0.95, 0.05], [0.0, 0.0, 1.0]])
    params = dict(
        startprob_=start, transmat_=trans, emissionprob_=rng.dirichlet(np.ones(4), size=3)
    )
    ref = _set(hmm.CategoricalHMM(3, init_params="", n_iter=2, tol=0.0), **params)
    ours = _set(CategoricalHMM(3, init_params="", n_iter=2, tol=0.0), **params)
    X, _ = ref.sample(3000, random_state=0)
    _assert_inference_matches(ours, ref, X, None)
    _fit_both(ours, ref, X, None)
    assert np.all(ours.transmat_[trans == 0] == 0)


@pytest.mark.parametrize(("n_iter", "tol"), [(0, 1e-2), (3, 0.0), (50, 1e-2), (50, 1e3)])
def test_convergence_monitor_as_hmmlearn(n_iter, tol):
    # hmmlearn exposes Baum-Welch's record as model.monitor_ (history, iter, converged, tol,
    # n_iter, verbose); it was an AttributeError here
    ours, ref, X = _pair_categorical(3, n_iter=n_iter, tol=tol)
    X = X[:2000]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours.fit(X)
        ref.fit(X)
    m, r = ours.monitor_, ref.monitor_
    np.testing.assert_allclose(list(m.history), list(r.history), rtol=1e-8)
    assert (m.iter, m.converged, m.tol, m.n_iter) == (r.iter, r.converged, r.tol, r.n_iter)
    assert m.iter == ours.n_iter_ and list(m.history) == ours.lower_bounds_


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_stationary_distribution_as_hmmlearn(seed):
    # hmmlearn's get_stationary_distribution(); it was an AttributeError here
    ours, ref, _ = _pair_categorical(seed, N=4)
    pi = ours.get_stationary_distribution()
    np.testing.assert_allclose(pi, ref.get_stationary_distribution(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(pi @ ours.transmat_, pi, atol=1e-12)  # pi A = pi, plainly
    assert pi.sum() == pytest.approx(1.0)


def test_a_state_with_no_observed_transition_keeps_its_row_and_warns(caplog):
    """States 1 and 2 of a deterministic cycle 0 -> 1 -> 2 are never left in sequences of two
    steps: hmmlearn warns and leaves their rows at 0 (its score then refuses the model); ours
    warns the same and keeps their previous rows, the observed row 0 as hmmlearn's."""
    X, lengths = np.array([[0], [1], [0], [1]]), [2, 2]
    params = dict(
        startprob_=[1.0, 0.0, 0.0],
        transmat_=[[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]],
        emissionprob_=[[0.9, 0.1], [0.1, 0.9], [0.5, 0.5]],
    )
    models = [
        _set(cls(n_components=3, init_params="", params="t", n_iter=2), **params)
        for cls in (hmm.CategoricalHMM, CategoricalHMM)
    ]
    warned = []
    for model in models:
        caplog.clear()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(X, lengths)
        warned.append(any("no transition from the state" in r.message for r in caplog.records))
    ref, ours = models
    assert warned == [True, True]
    np.testing.assert_array_equal(ref.transmat_[1:], 0.0)  # hmmlearn's rows with no mass
    with pytest.raises(ValueError, match="transmat_ rows must sum to 1"):
        ref.score(X, lengths)
    np.testing.assert_allclose(ours.transmat_[0], ref.transmat_[0], atol=1e-12)
    np.testing.assert_array_equal(ours.transmat_[1:], params["transmat_"][1:])
    # each sequence is the path 0 -> 1 emitting 0 then 1: probability 0.9 * 0.9
    np.testing.assert_allclose(ours.score(X, lengths), 2 * np.log(0.9 * 0.9), rtol=1e-12)


def test_gaussian_n_features_is_read_as_in_hmmlearn():
    """hmmlearn's GaussianHMM exposes n_features after fit and score; ours had no such
    attribute (AttributeError), only n_features_in_."""
    X = np.random.default_rng(0).normal(size=(30, 3))
    ref = hmm.GaussianHMM(n_components=2, n_iter=2, random_state=0).fit(X)
    ours = GaussianHMM(n_components=2, n_iter=2, random_state=0)
    with pytest.raises(AttributeError, match="n_features"):
        ours.n_features  # unknown before fit or means_, as in hmmlearn
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours.fit(X)
    assert ours.n_features == ref.n_features == 3
    user_set = GaussianHMM(n_components=2, init_params="")
    user_set.means_ = np.zeros((2, 4))
    assert user_set.n_features == 4
    user_set.n_features = 4  # hmmlearn's users set it to sample from a model built by hand
    assert user_set.n_features == 4
    with pytest.raises(ValueError, match="n_features"):
        user_set.n_features = 0
