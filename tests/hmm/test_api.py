"""HMM training, sampling, persistence, input errors and the scikit-learn estimator contract."""

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import parametrize_with_checks

from mlcanon import io
from mlcanon.cluster import ConvergenceWarning
from mlcanon.hmm import CategoricalHMM, GaussianHMM


def _true_categorical():
    model = CategoricalHMM(2, init_params="")
    model.startprob_ = np.array([0.8, 0.2])
    model.transmat_ = np.array([[0.95, 0.05], [0.10, 0.90]])
    model.emissionprob_ = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]])
    return model


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_baum_welch_never_lowers_the_likelihood(seed):
    X, _ = _true_categorical().sample(3000, random_state=seed)
    model = CategoricalHMM(3, n_iter=30, tol=1e-9, random_state=seed)
    with pytest.warns(ConvergenceWarning):
        model.fit(X, lengths=[1000, 1000, 1000])
    steps = np.diff(model.lower_bounds_)
    assert np.all(steps >= -1e-9 * np.abs(model.lower_bounds_[1:]))


def test_training_recovers_the_generating_parameters():
    truth = _true_categorical()
    X, _ = truth.sample(20000, random_state=0)
    model = CategoricalHMM(2, n_iter=200, tol=1e-6, random_state=0).fit(X)
    order = np.argsort(model.emissionprob_[:, 0])[::-1]  # state 0 emits symbol 0 most
    np.testing.assert_allclose(model.transmat_[np.ix_(order, order)], truth.transmat_, atol=0.03)
    np.testing.assert_allclose(model.emissionprob_[order], truth.emissionprob_, atol=0.03)


def test_gaussian_fit_separates_two_regimes():
    truth = GaussianHMM(2, covariance_type="full", init_params="")
    truth.startprob_ = np.array([0.5, 0.5])
    truth.transmat_ = np.array([[0.97, 0.03], [0.05, 0.95]])
    truth.means_ = np.array([[0.0, 0.0], [4.0, 3.0]])
    truth.covars_ = np.array([np.eye(2), [[1.0, 0.5], [0.5, 1.0]]])
    X, states = truth.sample(5000, random_state=0)
    model = GaussianHMM(2, covariance_type="full", n_iter=100, random_state=0).fit(X)
    flip = model.means_[0, 0] > model.means_[1, 0]
    np.testing.assert_allclose(model.means_[::-1] if flip else model.means_, truth.means_, atol=0.1)
    accuracy = np.mean((model.predict(X) == 1 - flip) == (states == 1))
    assert accuracy > 0.98


def test_sample_follows_the_chain():
    model = _true_categorical()
    X, states = model.sample(50000, random_state=0)
    assert X.shape == (50000, 1) and states.shape == (50000,)
    # the stationary distribution pi = pi A of this chain is (2/3, 1/3)
    np.testing.assert_allclose(np.bincount(states) / len(states), [2 / 3, 1 / 3], atol=0.02)
    for j in range(2):
        freq = np.bincount(X[states == j, 0], minlength=3) / (states == j).sum()
        np.testing.assert_allclose(freq, model.emissionprob_[j], atol=0.02)
    _, forced = model.sample(5, random_state=0, currstate=1)
    assert forced[0] == 1
    a, _ = model.sample(10, random_state=3)
    b, _ = model.sample(10, random_state=3)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("cov_type", ["spherical", "diag", "full", "tied"])
def test_gaussian_sample_has_the_model_moments(cov_type):
    model = GaussianHMM(2, covariance_type=cov_type, init_params="")
    model.startprob_ = np.array([0.5, 0.5])
    model.transmat_ = np.array([[0.9, 0.1], [0.2, 0.8]])
    model.means_ = np.array([[0.0, 1.0], [5.0, -2.0]])
    full = np.array([[[1.0, 0.6], [0.6, 2.0]], [[0.5, -0.2], [-0.2, 0.3]]])
    model.covars_ = {"spherical": np.array([0.5, 2.0]), "diag": np.array([[1.0, 2.0], [0.5, 0.3]]),
                     "full": full, "tied": full[0]}[cov_type]  # fmt: skip
    X, states = model.sample(40000, random_state=1)
    for j in range(2):
        Xj = X[states == j]
        cov = model.covars_[j]  # full matrices whatever the type, as hmmlearn's property
        se = np.sqrt(np.diag(cov) / len(Xj))
        assert np.all(np.abs(Xj.mean(axis=0) - model.means_[j]) < 5 * se)
        np.testing.assert_allclose(np.cov(Xj.T), cov, atol=0.06)


@pytest.mark.parametrize("Model", [CategoricalHMM, GaussianHMM])
def test_save_load_round_trip(tmp_path, Model):
    X, _ = _true_categorical().sample(500, random_state=0)
    X = X if Model is CategoricalHMM else X + np.random.default_rng(0).normal(size=X.shape)
    model = Model(2, n_iter=5, random_state=0)
    with pytest.warns(ConvergenceWarning):
        model.fit(X)
    back = io.load(io.save(model, tmp_path / "hmm.npz"))
    np.testing.assert_array_equal(back.predict(X), model.predict(X))
    np.testing.assert_array_equal(back.score_samples(X)[1], model.score_samples(X)[1])


@pytest.mark.parametrize(
    "X, kwargs, match",
    [
        (
            [[0.5], [1.0], [2.0]],
            {},
            "X must hold integer symbols .* got dtype float64 with value 0.5",
        ),
        ([[0], [-1], [2]], {}, "non-negative symbols, got -1"),
        ([[0], [1], [3]], {"n_features": 3}, "Largest symbol is 3 .* up to 2"),
        ([[0, 1], [1, 0]], {}, r"one column of symbols, shape \(n_samples, 1\)"),
        ([[0], [1], [2]], {"n_iter": -1}, "n_iter must be >= 0"),
        ([[0], [1], [2]], {"params": "stx"}, "params must be a string of the letters 'ste'"),
        ([[0], [1], [2]], {"algorithm": "beam"}, "algorithm must be one of"),
    ],
)
def test_categorical_bad_input(X, kwargs, match):
    with pytest.raises(ValueError, match=match):
        CategoricalHMM(2, **kwargs).fit(X)


def test_lengths_must_describe_x():
    X = np.zeros((10, 1), dtype=int)
    model = CategoricalHMM(2, n_iter=1)
    with pytest.raises(ValueError, match=r"lengths must sum to n_samples=10 .* sum\(lengths\)=12"):
        model.fit(X, lengths=[4, 8])
    with pytest.raises(ValueError, match="lengths must all be >= 1"):
        model.fit(X, lengths=[10, 0])
    with pytest.raises(ValueError, match="lengths must be a non-empty 1-D array of integers"):
        model.fit(X, lengths=[5.0, 5.0])
    with pytest.raises(ValueError, match=r"sum\(lengths\)=12"):
        model.fit(X, [4, 8])  # positional, as hmmlearn users write it


@pytest.mark.parametrize(
    ("cls", "kwargs", "shape"),
    [
        (GaussianHMM, {"startprob_prior": np.ones(5)}, r"\(2,\), got shape \(5,\)"),
        (GaussianHMM, {"transmat_prior": np.ones(3)}, r"\(2, 2\), got shape \(3,\)"),
        (GaussianHMM, {"means_prior": np.ones((3, 3))}, r"\(2, 2\), got shape \(3, 3\)"),
        (GaussianHMM, {"covars_weight": np.ones(4)}, r"\(2, 2\), got shape \(4,\)"),
        (CategoricalHMM, {"emissionprob_prior": np.ones((4, 4))}, r"\(2, 3\), got shape"),
    ],
)
def test_prior_of_the_wrong_shape_is_named(cls, kwargs, shape):
    rng = np.random.default_rng(0)
    X = rng.integers(0, 3, (30, 1)) if cls is CategoricalHMM else rng.normal(size=(30, 2))
    (name,) = kwargs
    with pytest.raises(ValueError, match=rf"{name} must be a scalar or an array .* {shape}"):
        cls(2, n_iter=1, random_state=0, **kwargs).fit(X)


def test_gaussian_bad_input():
    with pytest.raises(ValueError, match="X contains NaN"):
        GaussianHMM(2).fit([[0.0], [np.nan], [1.0]])
    with pytest.raises(ValueError, match="covariance_type must be one of"):
        GaussianHMM(2, covariance_type="block").fit(np.eye(3))
    with pytest.raises(ValueError, match="n_samples=2 should be >= n_components=3"):
        GaussianHMM(3).fit(np.eye(2))
    model = GaussianHMM(2, init_params="")
    model.startprob_, model.transmat_ = np.array([0.5, 0.5]), np.eye(2)
    model.means_, model.covars_ = np.zeros((2, 2)), -np.ones((2, 2))
    with pytest.raises(ValueError, match="'diag' covars_ must be positive"):
        model.score(np.eye(2))


def test_user_set_parameters_are_validated():
    model = _true_categorical()
    model.startprob_ = np.array([0.5, 0.6])
    with pytest.raises(ValueError, match="startprob_ must sum to 1"):
        model.score([[0], [1]])
    model = _true_categorical()
    model.transmat_ = np.ones((3, 3)) / 3
    with pytest.raises(ValueError, match=r"transmat_ must have shape \(2, 2\)"):
        model.predict([[0], [1]])
    with pytest.raises(NotFittedError):
        CategoricalHMM(2).predict([[0], [1]])


_SEQUENCE_MODEL = (
    "an HMM reads the rows of X as one time series, so a row's result depends on its "
    "neighbours and on their order"
)
_SYMBOLS_ONLY = (
    "CategoricalHMM takes one column of integer symbols; this check feeds a continuous "
    "matrix with several columns (its API is tested on symbol data in this file)"
)


def _expected_failures(estimator):
    failures = {
        "check_methods_subset_invariance": _SEQUENCE_MODEL,
        "check_methods_sample_order_invariance": _SEQUENCE_MODEL,
    }
    failures["check_fit_score_takes_y"] = (
        "hmmlearn's signature: the second argument of fit and score is lengths (scikit-learn's "
        "y is accepted there when it cannot be lengths, and by keyword)"
    )
    if isinstance(estimator, CategoricalHMM):
        for name in _MULTI_COLUMN_CHECKS:
            failures.setdefault(name, _SYMBOLS_ONLY)
    return failures


_MULTI_COLUMN_CHECKS = [
    "check_fit_score_takes_y",
    "check_estimators_overwrite_params",
    "check_dont_overwrite_parameters",
    "check_estimators_fit_returns_self",
    "check_readonly_memmap_input",
    "check_n_features_in_after_fitting",
    "check_positive_only_tag_during_fit",
    "check_estimators_dtypes",
    "check_dtype_object",
    "check_pipeline_consistency",
    "check_estimators_nan_inf",
    "check_estimators_pickle",
    "check_f_contiguous_array_estimator",
    "check_fit2d_1sample",
    "check_dict_unchanged",
    "check_fit_idempotent",
    "check_fit_check_is_fitted",
    "check_n_features_in",
    "check_fit2d_predict1d",
]


@parametrize_with_checks(
    [GaussianHMM(2, n_iter=5), CategoricalHMM(2, n_iter=5)],
    expected_failed_checks=_expected_failures,
)
def test_sklearn_estimator_contract(estimator, check):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)


def test_categorical_contract_on_symbol_data():
    """What the skipped generic checks verify, on valid symbol sequences."""
    from sklearn.base import clone

    rng = np.random.default_rng(0)
    X = rng.integers(0, 4, size=(200, 1))
    model = CategoricalHMM(3, n_iter=5, random_state=0)
    params = model.get_params()
    assert not any(k.endswith("_") for k in vars(model))  # __init__ stores parameters only
    with pytest.warns(ConvergenceWarning):
        assert model.fit(X) is model
    # hmmlearn records the alphabet size in the n_features parameter at fit
    assert model.get_params() == {**params, "n_features": 4} and model.n_features_in_ == 1
    first = model.predict_proba(X)
    with pytest.warns(ConvergenceWarning):
        np.testing.assert_array_equal(clone(model).fit(X).predict_proba(X), first)  # idempotent
    np.testing.assert_array_equal(model.predict(X.astype(np.int32)), model.predict(X))
    np.testing.assert_array_equal(model.predict(np.asfortranarray(X)), model.predict(X))
    with pytest.raises(ValueError, match="0 sample"):
        CategoricalHMM(2).fit(np.empty((0, 1), dtype=int))
    with pytest.raises(ValueError, match="X contains NaN"):
        model.predict([[0.0], [np.nan]])
    with pytest.raises(ValueError, match="Reshape your data"):
        model.predict(np.array([[[0]]]))
    with pytest.raises(ValueError, match="Largest symbol is 7"):
        model.predict([[7]])
