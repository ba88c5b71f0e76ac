"""hmmlearn's own calls, written as its users and its test-suite write them, on both libraries.

Covers hmmlearn's argument order (``fit(X, lengths)``, ``score(X, lengths)``), its full-matrix
``covars_`` for every covariance type, ``CategoricalHMM.n_features`` after fit, and the fits
that need hmmlearn's Cholesky retry (a constant feature, a state with too few points).
"""

import warnings

import numpy as np
import pytest

from mlcanon.hmm import CategoricalHMM, GaussianHMM

hmm = pytest.importorskip("hmmlearn.hmm")

# hmmlearn's test_fit_zero_variance (its GitHub issue #2): a constant first column.
ZERO_VARIANCE_X = np.array(
    [
        [715.0, 585.0, 0.0, 0.0],
        [715.0, 520.0, 1.04705811, -60.3696289],
        [715.0, 455.0, 0.72088623, -52.7055664],
        [715.0, 390.0, -0.457946777, -78.0605469],
        [715.0, 325.0, -6.43127441, -55.9954834],
        [715.0, 260.0, -2.90063477, -78.0220947],
        [715.0, 195.0, 8.45532227, -70.3294373],
        [715.0, 130.0, 4.09387207, -58.3621216],
        [715.0, 65.0, -1.21667480, -44.8131409],
    ]
)


def _both(cls_ours, cls_ref, *args, **kwargs):
    return cls_ours(*args, **kwargs), cls_ref(*args, **kwargs)


def _quiet(fn, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args)


def test_positional_lengths_in_fit_and_score():
    rng = np.random.default_rng(0)
    X = rng.integers(0, 3, size=(30, 1))
    lengths = [10, 8, 12]
    ours, ref = _both(CategoricalHMM, hmm.CategoricalHMM, 2, n_iter=3, random_state=0)
    # hmmlearn's calls, verbatim: fit(X, lengths), score(X, lengths), score_samples(X, lengths)
    _quiet(ours.fit, X, lengths)
    _quiet(ref.fit, X, lengths)
    for name in ("startprob_", "transmat_", "emissionprob_"):
        ref_value = getattr(ref, name)
        setattr(ours, name, ref_value)  # same parameters: only the argument handling differs
    np.testing.assert_allclose(ours.score(X, lengths), ref.score(X, lengths), rtol=1e-10)
    assert ours.score(X, lengths) != pytest.approx(ours.score(X))  # lengths were not ignored
    np.testing.assert_allclose(ours.aic(X, lengths), ref.aic(X, lengths), rtol=1e-10)
    np.testing.assert_allclose(ours.bic(X, lengths), ref.bic(X, lengths), rtol=1e-10)


def test_positional_lengths_change_the_fit():
    """``fit(X, lengths)`` with lengths of 1 is n independent draws, not one chain."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(20, 2))
    lengths = np.ones(20, dtype=int)
    model = GaussianHMM(2, n_iter=2, random_state=0, init_params="mc", params="st")
    model.startprob_ = np.array([0.5, 0.5])
    model.transmat_ = np.array([[0.5, 0.5], [0.0, 1.0]])
    _quiet(model.fit, X, lengths)
    # sequences of length 1 carry no transition statistics: the M-step keeps transmat_
    np.testing.assert_array_equal(model.transmat_, [[0.5, 0.5], [0.0, 1.0]])


def test_scikit_learn_y_in_second_place_is_ignored():
    """A label vector (one entry per sample, not summing to n_samples) is scikit-learn's y."""
    rng = np.random.default_rng(2)
    X = rng.normal(size=(40, 2))
    y = rng.integers(0, 2, size=40)
    a = _quiet(GaussianHMM(2, n_iter=3, random_state=0).fit, X, y)
    b = _quiet(GaussianHMM(2, n_iter=3, random_state=0).fit, X)
    np.testing.assert_array_equal(a.means_, b.means_)
    assert a.score(X, y) == b.score(X)


def test_lengths_that_do_not_sum_to_n_samples_warn():
    """Positive integers, one per sample, not summing to n_samples: hmmlearn refuses them as
    lengths; they are taken as scikit-learn's y (as above), with a warning that names them."""
    X = np.random.default_rng(4).normal(size=(4, 1))
    with pytest.raises(ValueError, match="doesn't sum to 4 samples"):
        _quiet(hmm.GaussianHMM(2, n_iter=2).fit, X, [2, 2, 2, 2])
    model = _quiet(GaussianHMM(2, n_iter=2, random_state=0).fit, X)
    for call in (GaussianHMM(2, n_iter=2, random_state=0).fit, model.score):
        with pytest.warns(UserWarning, match="lengths has one entry per sample but sums to 8"):
            call(X, [2, 2, 2, 2])
    with pytest.raises(ValueError, match="lengths must be a non-empty 1-D array of integers"):
        GaussianHMM(2).fit(X, np.array([], dtype=int))


@pytest.mark.parametrize("cov_type", ["spherical", "diag", "full", "tied"])
def test_covars_read_and_set_as_hmmlearn(cov_type):
    rng = np.random.default_rng(3)
    d, n = 3, 2
    compact = {
        "spherical": np.array([0.5, 2.0]),
        "diag": rng.uniform(0.5, 2.0, (n, d)),
        "full": np.array([np.eye(d) * 2.0, np.eye(d) + 0.3]),
        "tied": np.eye(d) + 0.3,
    }[cov_type]
    ours = GaussianHMM(n, covariance_type=cov_type)
    ref = hmm.GaussianHMM(n, covariance_type=cov_type)
    ref.n_features = d  # hmmlearn records it at fit; the property needs it
    for model in (ours, ref):
        model.means_ = np.zeros((n, d))
        model.covars_ = compact
    assert ours.covars_.shape == (n, d, d)
    np.testing.assert_array_equal(ours.covars_, ref.covars_)
    ours.covars_ = ref.covars_  # full matrices of the type's structure are accepted back
    np.testing.assert_array_equal(ours.covars_, ref.covars_)


def test_covars_full_form_must_have_the_structure():
    model = GaussianHMM(2, covariance_type="diag")
    model.means_ = np.zeros((2, 2))
    with pytest.raises(ValueError, match="must have the 'diag' structure"):
        model.covars_ = np.ones((2, 2, 2))


def test_categorical_n_features_after_fit():
    X = np.array([[0], [1], [3], [2], [1], [0]])
    ours = _quiet(CategoricalHMM(2, n_iter=2, random_state=0).fit, X)
    ref = _quiet(hmm.CategoricalHMM(2, n_iter=2, random_state=0).fit, X)
    assert ours.n_features == ref.n_features == 4


@pytest.mark.parametrize("cov_type", ["spherical", "diag", "full", "tied"])
def test_fit_zero_variance(cov_type):
    """hmmlearn's test_fit_zero_variance: a constant column, 9 samples, 3 states."""
    ref = _quiet(hmm.GaussianHMM(3, cov_type, random_state=0).fit, ZERO_VARIANCE_X)
    ours = _quiet(GaussianHMM(3, covariance_type=cov_type, random_state=0).fit, ZERO_VARIANCE_X)
    assert np.isfinite(ours.score(ZERO_VARIANCE_X))
    assert np.isfinite(ref.score(ZERO_VARIANCE_X))


@pytest.mark.parametrize("n_samples", [3, 15])
def test_full_covariance_with_few_points_per_state(n_samples):
    """Issue 14: 3 samples in 3-D, and 15 x 3 data, fit and score (hmmlearn fits both)."""
    X = np.random.default_rng(4).normal(size=(n_samples, 3))
    ours = _quiet(GaussianHMM(2, covariance_type="full", random_state=0).fit, X)
    ref = _quiet(hmm.GaussianHMM(2, covariance_type="full", random_state=0).fit, X)
    assert np.isfinite(ours.score(X)) and np.isfinite(ref.score(X))
    ours.means_, ours.covars_ = ref.means_, ref.covars_
    ours.startprob_, ours.transmat_ = ref.startprob_, ref.transmat_
    np.testing.assert_allclose(ours.score(X), ref.score(X), rtol=1e-10)


def test_same_cholesky_retry_as_hmmlearn():
    """A singular covariance scores as hmmlearn scores it (retry with 1e-7 on the diagonal)."""
    singular = np.array([[1.0, 1.0], [1.0, 1.0]])
    X = np.array([[0.0, 0.0], [1.0, 1.0], [0.5, 0.5]])
    ours, ref = GaussianHMM(1, covariance_type="full"), hmm.GaussianHMM(1, "full")
    for model in (ours, ref):
        model.startprob_, model.transmat_ = np.array([1.0]), np.array([[1.0]])
        model.means_ = np.zeros((1, 2))
    ours.covars_ = singular[None]
    ref._covars_ = singular[None]  # hmmlearn's setter refuses it; its EM can produce it
    np.testing.assert_allclose(ours.score(X), ref.score(X), rtol=1e-10)


def test_hopeless_covariance_names_hmm_parameters():
    model = GaussianHMM(1, covariance_type="full", init_params="")
    model.startprob_, model.transmat_ = np.array([1.0]), np.array([[1.0]])
    model.means_, model.covars_ = np.zeros((1, 2)), -np.eye(2)[None]
    with pytest.raises(ValueError, match=r"covars_ of state 0 .* min_covar or covars_prior"):
        model.score(np.zeros((2, 2)))


@pytest.mark.parametrize("cov_type", ["diag", "full"])
def test_scaling_implementation_matches_log_and_hmmlearn(cov_type):
    """hmmlearn's implementation='scaling' against ours and against the log-space kernels."""
    rng = np.random.default_rng(5)
    X = rng.normal(size=(300, 2)) + np.repeat([[0, 0], [3, 3], [0, 3]], 100, axis=0)
    lengths = [120, 100, 80]
    fits = {}
    for impl in ("log", "scaling"):
        ref = _quiet(
            hmm.GaussianHMM(3, cov_type, n_iter=5, random_state=0, implementation=impl).fit,
            X, lengths,
        )  # fmt: skip
        ours = GaussianHMM(3, covariance_type=cov_type, n_iter=5, implementation=impl)
        ours.set_params(init_params="")
        ours.startprob_, ours.transmat_ = ref.startprob_, ref.transmat_
        ours.means_, ours.covars_ = ref.means_, ref.covars_
        lp, post = ours.score_samples(X, lengths)
        ref_lp, ref_post = ref.score_samples(X, lengths)
        np.testing.assert_allclose(lp, ref_lp, rtol=1e-10)
        np.testing.assert_allclose(post, ref_post, atol=1e-10)
        fits[impl] = _quiet(ours.fit, X, lengths)
    for name in ("startprob_", "transmat_", "means_", "covars_"):
        np.testing.assert_allclose(
            getattr(fits["scaling"], name), getattr(fits["log"], name), rtol=1e-8, atol=1e-12
        )


def test_scaling_survives_tiny_emission_densities():
    """Emission densities around 1e-400 underflow as probabilities; the shift keeps them."""
    model = GaussianHMM(2, init_params="", implementation="scaling")
    model.startprob_, model.transmat_ = np.array([0.5, 0.5]), np.full((2, 2), 0.5)
    model.means_, model.covars_ = np.array([[0.0], [1.0]]), np.array([[1e-3], [1e-3]])
    X = np.array([[30.0], [31.0], [29.0]])
    log_model = GaussianHMM(2, init_params="")
    log_model.set_params(**{k: v for k, v in model.get_params().items() if k != "implementation"})
    log_model.startprob_, log_model.transmat_ = model.startprob_, model.transmat_
    log_model.means_, log_model.covars_ = model.means_, np.array([[1e-3], [1e-3]])
    assert np.isfinite(model.score(X))
    np.testing.assert_allclose(model.score(X), log_model.score(X), rtol=1e-12)


def _two_state_gaussian(implementation):
    model = GaussianHMM(2, init_params="", implementation=implementation)
    model.startprob_, model.transmat_ = np.array([1.0, 0.0]), np.eye(2)
    model.means_, model.covars_ = np.array([[40.0], [0.0]]), np.array([[1.0], [1.0]])
    return model


def test_scaling_underflow_gives_the_log_space_answer():
    """State 0 must emit x = 0 from a mean of 40 (density e^-800.9 each step): the scaled
    recursion underflows (c_t = 0) and the sequence is done again in log space; hmmlearn's
    log implementation is the reference (its scaling raises)."""
    X = np.array([[0.0], [0.0]])
    ref = hmm.GaussianHMM(2, init_params="", implementation="log")
    ref.startprob_, ref.transmat_ = np.array([1.0, 0.0]), np.eye(2)
    ref.means_, ref.covars_ = np.array([[40.0], [0.0]]), np.array([[1.0], [1.0]])
    ref_lp, ref_post = ref.score_samples(X)
    lp, post = _two_state_gaussian("scaling").score_samples(X)
    np.testing.assert_allclose(lp, ref_lp, rtol=1e-12)  # -1601.84
    np.testing.assert_allclose(post, ref_post, atol=1e-12)
    # with another, well-scaled sequence beside it, and through one EM step
    X2, lengths = np.array([[0.0], [0.0], [39.0], [41.0]]), [2, 2]
    ref_lp2 = ref.score(X2, lengths)
    np.testing.assert_allclose(_two_state_gaussian("scaling").score(X2, lengths), ref_lp2)
    ours = _quiet(_two_state_gaussian("scaling").set_params(n_iter=1).fit, X2, lengths)
    ref.set_params(n_iter=1)
    _quiet(ref.fit, X2, lengths)
    for name in ("startprob_", "means_", "covars_"):
        np.testing.assert_allclose(getattr(ours, name), getattr(ref, name), rtol=1e-10)
    # state 1 is never visited: hmmlearn leaves its transition row all zeros, ours keeps it
    np.testing.assert_allclose(ours.transmat_[0], ref.transmat_[0], rtol=1e-10)


def test_scaling_sequence_of_probability_zero_is_the_log_spaces():
    """The start state cannot emit the first symbol: log P = -inf and undefined (NaN)
    posteriors, as hmmlearn's log implementation gives, not uninitialized memory."""
    X = np.array([[1], [0], [1]])
    answers = []
    for model in (CategoricalHMM(2, implementation="scaling", init_params=""),
                  hmm.CategoricalHMM(2, implementation="log", init_params="")):  # fmt: skip
        model.n_features = 2
        model.startprob_, model.transmat_ = np.array([1.0, 0.0]), np.array([[0.5, 0.5], [0, 1]])
        model.emissionprob_ = np.array([[1.0, 0.0], [0.5, 0.5]])
        answers.append(_quiet(model.score_samples, X))
    assert answers[0][0] == answers[1][0] == -np.inf
    assert np.isnan(answers[0][1]).all() and np.isnan(answers[1][1]).all()


def test_unknown_implementation_is_refused():
    with pytest.raises(ValueError, match="implementation must be one of 'log', 'scaling'"):
        GaussianHMM(2, implementation="fast").fit(np.eye(3))


def test_constructor_positions_as_hmmlearn():
    """hmmlearn's tests write GaussianHMM(3, 'full') and CategoricalHMM(2, 1.0, 1.0)."""
    import inspect

    for ours, ref in ((GaussianHMM, hmm.GaussianHMM), (CategoricalHMM, hmm.CategoricalHMM)):
        ours_sig = inspect.signature(ours.__init__).parameters
        ref_sig = inspect.signature(ref.__init__).parameters
        assert list(ours_sig) == list(ref_sig)
        assert [p.kind for p in ours_sig.values()] == [p.kind for p in ref_sig.values()]
    assert GaussianHMM(3, "full").covariance_type == "full"


def test_verbose_reports_each_iteration(capsys):
    X = np.random.default_rng(6).normal(size=(60, 1))
    _quiet(GaussianHMM(2, n_iter=3, tol=0.0, verbose=True, random_state=0).fit, X)
    lines = capsys.readouterr().err.strip().splitlines()
    assert 1 <= len(lines) <= 3 and "nan" in lines[0]


def test_zero_iterations_only_initialize():
    """hmmlearn's tests fit with n_iter=0 to get the initialization alone."""
    X = np.random.default_rng(7).normal(size=(50, 2))
    model = GaussianHMM(2, n_iter=0, random_state=0).fit(X)
    assert model.n_iter_ == 0 and model.lower_bounds_ == []
    # 'diag': the variances of the data plus min_covar
    np.testing.assert_allclose(model.covars_[0], np.diag(np.var(X, axis=0, ddof=1) + 1e-3))


def _log_messages(caplog, fn):
    caplog.clear()
    with caplog.at_level("WARNING"):
        fn()
    return [r.getMessage() for r in caplog.records]


@pytest.mark.parametrize("covariance_type", ["spherical", "diag", "full", "tied"])
def test_init_hook_and_logged_warnings_as_hmmlearn(caplog, covariance_type):
    """hmmlearn's ``_init(X, lengths)`` initializes what ``init_params`` names and logs, as
    hmmlearn does, a parameter it overwrites and a fit with fewer numbers than parameters."""
    X = np.random.default_rng(0).normal(size=(5, 3))
    logs = []
    for cls in (GaussianHMM, hmm.GaussianHMM):
        model = cls(3, covariance_type, init_params="")
        model.startprob_ = np.full(3, 1 / 3)
        model.transmat_ = np.full((3, 3), 1 / 3)
        model.means_ = np.eye(3)
        model.covars_ = {
            "spherical": np.ones(3),
            "diag": np.ones((3, 3)),
            "full": np.tile(np.eye(3), (3, 1, 1)),
            "tied": np.eye(3),
        }[covariance_type]
        logs.append(_log_messages(caplog, lambda m=model: m._init(X, [5])))
        model.init_params = "s"
        logs.append(_log_messages(caplog, lambda m=model: m._init(X, [5])))
    assert logs[0] == logs[2] and "degenerate solution" in logs[0][0]
    assert logs[1] == logs[3] and "'startprob_' attribute is set" in logs[1][0]


def test_check_and_spherical_covars_of_one_value_per_state():
    ours, ref = _both(GaussianHMM, hmm.GaussianHMM, 2, "spherical")
    for model in (ours, ref):
        model.startprob_ = np.array([0.6, 0.4])
        model.transmat_ = np.array([[0.4, 0.6], [0.9, 0.1]])
        model.means_ = np.array([[3.0], [5.0]])
        model.covars_ = np.array([[[[4.0]]], [[[3.0]]]])
        model.n_features = 1
    np.testing.assert_array_equal(ours.covars_, ref.covars_)
    ours.covars_ = [[1.0], [2.0]]
    np.testing.assert_array_equal(ours.covars_[:, 0, 0], [1.0, 2.0])
    ours.transmat_ = np.ones((2, 2))
    with pytest.raises(ValueError, match="transmat_ must sum to 1"):
        ours._check()


@pytest.mark.parametrize("covariance_type", ["spherical", "diag", "full", "tied"])
@pytest.mark.parametrize("params", ["", "st", "mc", "sm"])
def test_aic_bic_count_every_parameter_whatever_params_fits(covariance_type, params):
    # hmmlearn's aic and bic count the free scalars of all of the model's parameters, those
    # left out of ``params`` too; ours counted only the fitted ones (params='sm', 3 states,
    # 2 features: 18 scalars fewer, aic lower by 36)
    rng = np.random.default_rng(1)
    X = rng.normal(size=(25, 2))
    ours, ref = _both(
        GaussianHMM,
        hmm.GaussianHMM,
        3,
        covariance_type=covariance_type,
        params=params,
        n_iter=2,
        random_state=0,
    )
    _quiet(ref.fit, X)
    ours.startprob_, ours.transmat_ = ref.startprob_, ref.transmat_
    covars = ref._covars_  # hmmlearn keeps spherical variances repeated per feature
    ours.means_ = ref.means_
    ours.covars_ = covars[:, 0] if covariance_type == "spherical" else covars
    np.testing.assert_allclose(ours.aic(X), ref.aic(X), rtol=1e-10)
    np.testing.assert_allclose(ours.bic(X), ref.bic(X), rtol=1e-10)


@pytest.mark.parametrize("params", ["", "e", "st"])
def test_categorical_aic_bic_count_every_parameter(params):
    rng = np.random.default_rng(2)
    X = rng.integers(0, 4, size=(30, 1))
    ours, ref = _both(CategoricalHMM, hmm.CategoricalHMM, 2, params=params, n_iter=2)
    ref.random_state = 0
    _quiet(ref.fit, X)
    ours.n_features = ref.n_features
    ours.startprob_, ours.transmat_ = ref.startprob_, ref.transmat_
    ours.emissionprob_ = ref.emissionprob_
    np.testing.assert_allclose(ours.aic(X), ref.aic(X), rtol=1e-10)
    np.testing.assert_allclose(ours.bic(X), ref.bic(X), rtol=1e-10)


@pytest.mark.parametrize("cov_type", ["spherical", "diag"])
@pytest.mark.parametrize(
    "kwargs",
    [
        dict(params="mc"),
        dict(params="smc", n_iter=1),
        dict(params="smc", covars_prior=0.5, covars_weight=3, means_prior=1.0, means_weight=2.0),
    ],
)
def test_one_sample_fits_as_hmmlearn(cov_type, kwargs):
    """hmmlearn fits one sample with one state (its initial covariance is NaN, which the first
    M-step replaces): the same means_, covars_ and score. (It was refused: "at least 2 samples
    are required".)"""
    X = np.array([[0.7, 0.2]])
    ref = _quiet(hmm.GaussianHMM(1, cov_type, random_state=0, **kwargs).fit, X)
    ours = _quiet(GaussianHMM(1, covariance_type=cov_type, random_state=0, **kwargs).fit, X)
    np.testing.assert_allclose(ours.means_, ref.means_, rtol=1e-12)
    # hmmlearn's spherical covars_ of a one-sample fit comes out (n, n, d, d); each is the same
    np.testing.assert_allclose(ours.covars_[0], ref.covars_.reshape(-1, 2, 2)[0], rtol=1e-12)
    np.testing.assert_allclose(ours.startprob_, ref.startprob_)
    np.testing.assert_allclose(ours.score(X), ref.score(X), rtol=1e-12)


@pytest.mark.parametrize("cov_type", ["full", "tied"])
def test_one_sample_full_covariance_is_refused_as_by_hmmlearn(cov_type):
    """One sample has no covariance matrix to start from: hmmlearn's NaN one fails its check,
    ours is refused by name; with covars_ given (not initialized) both fit."""
    X = np.array([[0.7, 0.2]])
    with pytest.raises(ValueError, match="covars must be symmetric, positive-definite"):
        _quiet(hmm.GaussianHMM(1, cov_type, params="mc").fit, X)
    with pytest.raises(ValueError, match=f"covariance_type='{cov_type}' needs at least 2"):
        _quiet(GaussianHMM(1, covariance_type=cov_type, params="mc").fit, X)
    covars = np.eye(2) if cov_type == "tied" else np.eye(2)[None]
    models = []
    for model in _both(GaussianHMM, hmm.GaussianHMM, 1, cov_type, params="mc", init_params="m"):
        model.startprob_, model.transmat_, model.covars_ = [1.0], [[1.0]], covars
        models.append(_quiet(model.fit, X))
    np.testing.assert_allclose(models[0].covars_, models[1].covars_, rtol=1e-12)
    np.testing.assert_allclose(models[0].score(X), models[1].score(X), rtol=1e-12)


def test_a_falling_log_likelihood_is_logged_as_hmmlearn(caplog):
    """A MAP fit (emissionprob_prior=5) lowers the log-likelihood from its second iteration
    on; hmmlearn logs "Model is not converging" then, we logged nothing."""
    X = np.array([[0, 1, 0, 0, 2, 2, 0, 2, 2, 0, 1, 1]]).T
    logs, histories = [], []
    for cls in (CategoricalHMM, hmm.CategoricalHMM):
        model = cls(2, init_params="", n_iter=5, tol=0, emissionprob_prior=5.0)
        model.startprob_ = np.array([0.7, 0.3])
        model.transmat_ = np.array([[0.8, 0.2], [0.3, 0.7]])
        model.emissionprob_ = np.array([[0.6, 0.3, 0.1], [0.1, 0.2, 0.7]])
        logs.append(_log_messages(caplog, lambda m=model: m.fit(X)))
        histories.append(list(model.monitor_.history))
    np.testing.assert_allclose(histories[0], histories[1], rtol=1e-12)
    assert len(logs[0]) == len(logs[1]) == 1
    assert logs[0][0].startswith("Model is not converging.  Current: -12.9474878159302")
    assert logs[1][0].startswith("Model is not converging.  Current: -12.9474878159302")
