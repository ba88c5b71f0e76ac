"""LogisticRegression against scikit-learn at tight tolerance, plus hand cases and errors.

Every solver is compared with scikit-learn's solution of the same objective (scikit-learn's
'lbfgs' for smooth penalties, 'saga' for L1 terms): coefficients to 1e-4 relative, identical
predictions.
"""

import warnings

import numpy as np
import pytest
from scipy.linalg import LinAlgWarning
from sklearn import linear_model as sk
from sklearn.datasets import (
    load_breast_cancer,
    load_digits,
    load_iris,
    load_wine,
    make_classification,
    make_low_rank_matrix,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.multiclass import OneVsRestClassifier
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from mlcanon import io
from mlcanon.linear_model import LogisticRegression

RTOL = 1e-4  # required agreement for logistic-regression coefficients


def _scaled(loader, columns=slice(None)):
    X, y = loader(return_X_y=True)
    return StandardScaler().fit_transform(X)[:, columns], y


DATA = {
    "breast_cancer": _scaled(load_breast_cancer, slice(0, 10)),  # binary
    "wine": _scaled(load_wine),  # 3 classes
    "iris": _scaled(load_iris),  # 3 classes
}
# a penalty -> scikit-learn >= 1.8 spelling of the same objective (shared by both libraries)
SK_PENALTY = {
    "l2": {},
    "l1": {"l1_ratio": 1.0},
    "elasticnet": {"l1_ratio": 0.5},
    None: {"C": np.inf},
}


def reference(X, y, penalty, C=1.0, **kw):
    solver = "saga" if penalty in ("l1", "elasticnet") else "lbfgs"
    params = {"C": C, "solver": solver, "tol": 1e-10, "max_iter": 20000, **SK_PENALTY[penalty]}
    return sk.LogisticRegression(**params, **kw).fit(X, y)


def assert_close_to(ours, ref, X):
    np.testing.assert_allclose(
        ours.coef_, ref.coef_, rtol=RTOL, atol=RTOL * np.abs(ref.coef_).max()
    )
    np.testing.assert_allclose(
        ours.intercept_, ref.intercept_, rtol=RTOL, atol=RTOL * np.abs(ref.coef_).max()
    )
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))


@pytest.mark.parametrize("data", list(DATA))
@pytest.mark.parametrize("solver", ["lbfgs", "newton-cholesky", "newton-cg", "gd", "fista"])
def test_l2_matches_sklearn(data, solver):
    X, y = DATA[data]
    ours = LogisticRegression(solver=solver, tol=1e-8, max_iter=20000).fit(X, y)
    assert_close_to(ours, reference(X, y, "l2"), X)


@pytest.mark.parametrize("data", list(DATA))
@pytest.mark.parametrize(("penalty", "C"), [("l1", 0.1), ("elasticnet", 1.0)])
def test_l1_terms_match_sklearn_saga(data, penalty, C):
    X, y = DATA[data]
    ours = LogisticRegression(
        **SK_PENALTY[penalty], C=C, solver="fista", tol=1e-8, max_iter=20000
    ).fit(X, y)
    ref = reference(X, y, penalty, C=C)
    assert_close_to(ours, ref, X)
    np.testing.assert_array_equal(ours.coef_ == 0, ref.coef_ == 0)  # the same features drop


@pytest.mark.parametrize(("data", "columns"), [("breast_cancer", slice(None)), ("wine", [1, 2, 3])])
@pytest.mark.parametrize("solver", ["lbfgs", "newton-cholesky"])
def test_no_penalty_matches_sklearn(data, columns, solver):
    # on these columns no class is separable, so the unpenalized model has a finite optimum;
    # for the softmax model it is unique up to a common shift of the classes, and both fits
    # keep the classes summing to zero
    X, y = DATA[data]
    X = X[:, columns]
    ours = LogisticRegression(C=np.inf, solver=solver, tol=1e-8, max_iter=20000).fit(X, y)
    assert_close_to(ours, reference(X, y, None), X)


def _low_rank_softmax_data(seed=42):
    # an ill-conditioned design (scikit-learn's generator) with labels drawn from a softmax
    rng = np.random.RandomState(seed)
    X = make_low_rank_matrix(100, 4, effective_rank=4, tail_strength=0.1, random_state=rng)
    Z = X @ rng.uniform(1, 3, size=(4, 3)) + rng.uniform(-1, 1, size=3)
    P = np.exp(Z - Z.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    return X, (P.cumsum(axis=1) < rng.uniform(size=(100, 1))).sum(axis=1)


@pytest.mark.parametrize(
    ("data", "C", "tol"), [("low_rank", np.inf, 1e-9), ("iris", 150.0, 1e-8)], ids=str
)
def test_newton_cg_softmax_keeps_classes_summing_to_zero_as_sklearn(data, C, tol):
    # the softmax is unchanged by adding one vector to every class: the gradient and every
    # Hessian product are orthogonal to those shifts, so conjugate gradient from 0 never
    # moves along them, and the fit keeps sum_k W_k = 0 and sum_k b_k = 0 up to rounding
    X, y = _low_rank_softmax_data() if data == "low_rank" else DATA[data]
    params = {"C": C, "solver": "newton-cg", "tol": tol}
    ours = LogisticRegression(**params).fit(X, y)
    ref = sk.LogisticRegression(**params).fit(X, y)
    np.testing.assert_allclose(ours.coef_.sum(axis=0), 0.0, atol=1e-11)
    assert abs(ours.intercept_.sum()) <= 1e-11
    assert_close_to(ours, ref, X)


@pytest.mark.parametrize(("seed", "C", "max_iter"), [(42, 1e30, 100), (42, 1e30, 5), (0, 1e4, 100)])
def test_newton_cholesky_stops_and_falls_back_to_lbfgs_as_sklearn(seed, C, max_iter):
    # 10 samples, 20 features: the Hessian has rank <= 11 of 21 plus the penalty's C^-1 / 10.
    # C = 1e30: too ill-conditioned to factor, both go on with L-BFGS (same iterates on this
    # data); C = 1e4: Newton runs until the gradient and the Newton decrement are below tol
    X, y = make_classification(n_samples=10, n_features=20, random_state=seed)
    params = {"solver": "newton-cholesky", "C": C, "max_iter": max_iter}
    caught = {}
    for name, cls in (("ours", LogisticRegression), ("ref", sk.LogisticRegression)):
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            caught[name] = (cls(**params).fit(X, y), {w.category for w in record})
    (ours, ours_warned), (ref, ref_warned) = caught["ours"], caught["ref"]
    assert ours_warned == ref_warned
    assert (LinAlgWarning in ours_warned) == (C == 1e30)
    assert ours.n_iter_[0] == ref.n_iter_[0]
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-8)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-8)


def test_multinomial_digits_probabilities_match_sklearn():
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    ours = LogisticRegression(tol=1e-8, max_iter=5000).fit(X, y)
    ref = sk.LogisticRegression(tol=1e-10, max_iter=5000).fit(X, y)
    assert_close_to(ours, ref, X)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-5)


def test_one_vs_rest_matches_sklearn_one_vs_rest_classifier():
    X, y = DATA["wine"]
    ours = LogisticRegression(multi_class="ovr", tol=1e-8, max_iter=5000).fit(X, y)
    ref = OneVsRestClassifier(sk.LogisticRegression(tol=1e-10, max_iter=5000)).fit(X, y)
    coef = np.vstack([e.coef_ for e in ref.estimators_])
    np.testing.assert_allclose(ours.coef_, coef, rtol=RTOL, atol=RTOL * np.abs(coef).max())
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-6)
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))
    assert ours.n_iter_.shape == (3,)


@pytest.mark.parametrize("class_weight", [{0: 3.0, 2: 0.5}, "balanced"])
def test_class_and_sample_weights_match_sklearn(class_weight):
    # 'balanced' counts each class by its sample weights, as scikit-learn does
    X, y = DATA["iris"]
    w = np.random.default_rng(0).uniform(0.2, 2.0, len(y))
    kw = {"class_weight": class_weight}
    ours = LogisticRegression(tol=1e-8, max_iter=5000, **kw).fit(X, y, sample_weight=w)
    ref = sk.LogisticRegression(tol=1e-10, max_iter=5000, **kw).fit(X, y, sample_weight=w)
    assert_close_to(ours, ref, X)


def test_l1_selects_features():
    # the notes' "logistic regression cannot select features": with an L1 term it does
    X, y = _scaled(load_breast_cancer)
    dense = LogisticRegression(tol=1e-6, max_iter=5000).fit(X, y)
    sparse = LogisticRegression(l1_ratio=1.0, C=0.05, solver="fista", tol=1e-6).fit(X, y)
    assert np.count_nonzero(dense.coef_) == X.shape[1]
    assert 0 < np.count_nonzero(sparse.coef_) < X.shape[1] // 3


def test_symmetric_data_by_hand():
    # y = 1 exactly when x > 0, mirrored data: intercept 0, and with C tiny the weight is
    # C * sum_i x_i (y_i - 1/2) to first order (the gradient at w = 0 times C)
    x = np.array([-2.0, -1.0, 1.0, 2.0])
    y = np.array([0, 0, 1, 1])
    model = LogisticRegression(C=1e-6, tol=1e-14, max_iter=100).fit(x[:, None], y)
    assert model.intercept_[0] == pytest.approx(0.0, abs=1e-15)
    assert model.coef_[0, 0] == pytest.approx(1e-6 * 3.0, rel=1e-5)
    np.testing.assert_allclose(model.predict_proba([[0.0]]), [[0.5, 0.5]])


def test_warm_start_and_convergence_warning():
    X, y = DATA["wine"]
    with pytest.warns(ConvergenceWarning, match="lbfgs failed to converge after 2 iteration"):
        model = LogisticRegression(max_iter=2, warm_start=True).fit(X, y)
    with pytest.warns(ConvergenceWarning):
        model.fit(X, y)  # two more iterations from where the first fit stopped
    assert model.n_iter_[0] >= 1


# some checks fit data centered at 100: badly conditioned for first-order FISTA, which then
# stops at max_iter with a ConvergenceWarning (the contract under test still holds)
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@parametrize_with_checks(
    [
        LogisticRegression(),
        LogisticRegression(l1_ratio=1.0, solver="fista", max_iter=1000),
        LogisticRegression(multi_class="ovr"),
        # a tight tol, so that the weighted and the repeated-sample fits stop at the same point
        LogisticRegression(solver="newton-cholesky", tol=1e-8),
    ]
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


@pytest.mark.parametrize(
    "params", [{}, {"multi_class": "ovr"}, {"l1_ratio": 1.0, "solver": "fista"}], ids=str
)
def test_save_load_round_trip(tmp_path, params):
    X, y = DATA["wine"]
    model = LogisticRegression(**params).fit(X, y)
    back = io.load(io.save(model, tmp_path / "lr.npz"))
    np.testing.assert_array_equal(back.predict_proba(X), model.predict_proba(X))


def test_errors_name_the_parameter():
    X, y = DATA["iris"]
    with pytest.raises(ValueError, match="Solver lbfgs supports only 'l2' or None penalties"):
        LogisticRegression(l1_ratio=1.0).fit(X, y)
    with pytest.warns(FutureWarning, match="'penalty' was deprecated"):
        with pytest.raises(ValueError, match="penalty='elasticnet' needs l1_ratio"):
            LogisticRegression(penalty="elasticnet", l1_ratio=None, solver="fista").fit(X, y)
    with pytest.raises(
        ValueError,
        match="solver must be one of 'lbfgs', 'newton-cholesky', 'gd', 'newton-cg', 'fista', "
        "'sag', 'saga', 'liblinear'; got 'newton'",
    ):
        LogisticRegression(solver="newton").fit(X, y)
    with pytest.raises(ValueError, match="penalty must be one of"):
        LogisticRegression(penalty="l3").fit(X, y)
    with pytest.raises(ValueError, match="l1_ratio must be <= 1, got 2"):
        LogisticRegression(l1_ratio=2).fit(X, y)
    with pytest.raises(ValueError, match="C must be > 0, got -1"):
        LogisticRegression(C=-1).fit(X, y)
    with pytest.raises(ValueError, match="max_iter must be >= 0, got -1"):
        LogisticRegression(max_iter=-1).fit(X, y)
    with pytest.raises(TypeError, match=r"warm_start must be bool \(True or False\); got str 'no'"):
        LogisticRegression(warm_start="no").fit(X, y)
    with pytest.raises(ValueError, match="only one class"):
        LogisticRegression().fit(X[:50], y[:50])
    with pytest.raises(ValueError, match="Unknown label type"):
        LogisticRegression().fit(X, y + 0.25)
    with pytest.raises(ValueError, match="contains NaN"):
        LogisticRegression().fit(np.where(X > 2, np.nan, X), y)


@pytest.mark.parametrize("solver", ["lbfgs", "saga", "liblinear"])
def test_class_weights_zeroing_every_row_are_refused(solver):
    # scikit-learn 1.9.1 stops here with a bare ZeroDivisionError ('float division by zero');
    # an all-zero sample_weight it refuses itself ('at least one non-zero number')
    X, y = DATA["breast_cancer"]
    est = LogisticRegression(class_weight={0: 0, 1: 0}, solver=solver)
    with pytest.raises(
        ValueError,
        match=r"sample_weight, class_weight: the sample weights times the class weights sum to "
        r"zero: nothing to fit; got class_weight=\{0: 0, 1: 0\}",
    ):
        est.fit(X, y)
    with pytest.raises(ValueError, match="sample_weight: all weights are zero"):
        LogisticRegression(solver=solver).fit(X, y, sample_weight=np.zeros(len(y)))


# scikit-learn 1.9's spellings of the penalty, and its warnings for the deprecated ones
# (upstream test_logistic.py: the l1_ratio / penalty / C=inf consistency warnings)
@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"penalty": "l2", "l1_ratio": 0.5},
            r"l1_ratio parameter is only used when penalty is 'elasticnet'\. Got \(penalty=l2\)",
        ),
        ({"penalty": "l1", "solver": "fista", "max_iter": 5000}, "Inconsistent values"),
        ({"penalty": None, "C": 2.0}, "Setting penalty=None will ignore the C and l1_ratio"),
    ],
)
def test_inconsistent_penalty_warns_as_sklearn(params, message):
    X, y = DATA["breast_cancer"]
    with pytest.warns(UserWarning, match=message):
        with pytest.warns(FutureWarning, match="'penalty' was deprecated"):
            LogisticRegression(**params).fit(X, y)
    with pytest.warns(UserWarning):  # the reference warns on the same spellings
        with pytest.warns(FutureWarning):
            ref_params = {**params, "solver": "saga"} if "solver" in params else params
            sk.LogisticRegression(**ref_params).fit(X, y)


def test_c_inf_is_no_penalty():
    X, y = DATA["breast_cancer"]
    X = X[:, :3]
    free = LogisticRegression(C=np.inf, tol=1e-10, max_iter=1000).fit(X, y)
    assert_close_to(free, reference(X, y, None), X)
    with pytest.warns(FutureWarning):
        old = LogisticRegression(penalty=None, tol=1e-10, max_iter=1000).fit(X, y)
    np.testing.assert_allclose(free.coef_, old.coef_, rtol=1e-10)


@pytest.mark.parametrize("solver", ["sag", "saga"])
@pytest.mark.parametrize("data", ["iris", "wine"])
def test_sag_saga_l2_match_sklearn(data, solver):
    X, y = DATA[data]
    ours = LogisticRegression(solver=solver, tol=1e-9, max_iter=20000, random_state=0).fit(X, y)
    assert_close_to(ours, reference(X, y, "l2"), X)
    assert 1 < ours.n_iter_[0] < 20000  # epochs, stopped by tol


@pytest.mark.parametrize("penalty", ["l1", "elasticnet"])
def test_saga_l1_terms_match_sklearn_saga(penalty):
    X, y = DATA["iris"]
    ours = LogisticRegression(
        **SK_PENALTY[penalty], C=0.5, solver="saga", tol=1e-10, max_iter=20000, random_state=0
    ).fit(X, y)
    ref = reference(X, y, penalty, C=0.5)
    assert_close_to(ours, ref, X)
    np.testing.assert_array_equal(ours.coef_ == 0, ref.coef_ == 0)


def test_saga_random_state_orders_the_draws():
    X, y = DATA["wine"]
    kw = {"solver": "saga", "max_iter": 3, "tol": 1e-12}
    with pytest.warns(ConvergenceWarning):
        a = LogisticRegression(random_state=0, **kw).fit(X, y)
        b = LogisticRegression(random_state=0, **kw).fit(X, y)
        c = LogisticRegression(random_state=1, **kw).fit(X, y)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    assert not np.array_equal(a.coef_, c.coef_)


@pytest.mark.parametrize("solver", ["lbfgs", "newton-cholesky", "sag", "saga"])
def test_float32_input_gives_float32_model(solver):
    X, y = DATA["breast_cancer"]
    X = StandardScaler().fit_transform(X).astype(np.float32)
    params = dict(solver=solver, tol=1e-8, max_iter=5000, random_state=0)
    ours = LogisticRegression(**params).fit(X, y)
    ref = sk.LogisticRegression(**params).fit(X, y)
    assert ours.coef_.dtype == ours.intercept_.dtype == ref.coef_.dtype == np.float32
    assert ours.decision_function(X).dtype == np.float32
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize("solver", ["newton-cg", "sag", "saga"])
def test_zero_max_iter_keeps_the_start_as_sklearn(solver):
    X, y = DATA["iris"]
    y = y == 2
    with pytest.warns(ConvergenceWarning):
        ours = LogisticRegression(solver=solver, max_iter=0).fit(X, y)
    with warnings.catch_warnings():  # scikit-learn warns for some solvers only
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref = sk.LogisticRegression(solver=solver, max_iter=0).fit(X, y)
    np.testing.assert_array_equal(ours.coef_, ref.coef_)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X))


def test_sparsify_and_densify_keep_predictions_as_sklearn():
    import scipy.sparse

    X, y = DATA["iris"]
    X = StandardScaler().fit_transform(X)
    ours = LogisticRegression(tol=1e-10, max_iter=1000).fit(X, y)
    dense = ours.decision_function(X)
    assert scipy.sparse.issparse(ours.sparsify().coef_)
    ref = sk.LogisticRegression(tol=1e-10, max_iter=1000).fit(X, y).sparsify()
    np.testing.assert_allclose(ours.coef_.toarray(), ref.coef_.toarray(), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(ours.decision_function(X), dense, rtol=1e-12)
    np.testing.assert_allclose(ours.decision_function(scipy.sparse.csr_matrix(X)), dense)
    assert isinstance(ours.densify().coef_, np.ndarray)


def test_n_jobs_is_deprecated_and_ignored_as_in_sklearn():
    X, y = DATA["iris"]
    with pytest.warns(FutureWarning, match="'n_jobs' has no effect since 1.8"):
        ours = LogisticRegression(n_jobs=2, max_iter=1000).fit(X, y)
    plain = LogisticRegression(max_iter=1000).fit(X, y)
    np.testing.assert_array_equal(ours.coef_, plain.coef_)
    with pytest.warns(FutureWarning, match="'n_jobs' has no effect since 1.8"):
        sk.LogisticRegression(n_jobs=2, max_iter=1000).fit(X, y)


@pytest.mark.parametrize(
    ("kw", "category"),
    [
        ({"max_iter": 2}, ConvergenceWarning),
        ({"solver": "liblinear", "max_iter": 1}, ConvergenceWarning),
        ({"solver": "newton-cholesky", "C": 1e30}, LinAlgWarning),
    ],
)
def test_solver_warnings_name_the_callers_line(kw, category):
    X = np.random.default_rng(0).standard_normal((10, 20))
    X, y = np.hstack([X, X]), np.arange(10) % 2  # collinear: newton-cholesky cannot factor
    with pytest.warns(category) as record:
        LogisticRegression(**kw).fit(X, y)
    assert {w.filename for w in record if w.category is category} == {__file__}


def test_ovr_probabilities_whose_sigmoids_all_underflow_are_their_ratios():
    # every one-vs-rest score far below 0: the K sigmoids are e^{s_k} (to rounding), so the
    # normalized probabilities are softmax(s); normalizing the underflowed sigmoids gave 0 / 0
    from scipy.special import log_softmax, softmax

    X, y = load_iris(return_X_y=True)
    model = LogisticRegression(multi_class="ovr").fit(X, y)
    model.intercept_ = model.intercept_ - 2000.0
    scores = model.decision_function(X[:5])
    assert (scores < -1900).all()
    np.testing.assert_allclose(model.predict_proba(X[:5]), softmax(scores, axis=1), rtol=1e-12)
    np.testing.assert_allclose(
        model.predict_log_proba(X[:5]), log_softmax(scores, axis=1), rtol=0, atol=1e-12
    )  # differences of scores near -2000 round at 2000 * 2^-52 = 4.4e-13


def test_binary_log_probabilities_stay_finite_for_confident_scores():
    # log P(y=0) = log σ(-s) = -s - log(1 + e^{-s}) for s >> 0 (log(1 - σ(s)) rounds to -inf)
    X, y = load_breast_cancer(return_X_y=True)
    model = LogisticRegression(max_iter=5).fit(X, y)  # unscaled: confident scores
    scores = model.decision_function(X)
    log_proba = model.predict_log_proba(X)
    assert np.isfinite(log_proba).all()
    np.testing.assert_allclose(log_proba[:, 0], -np.logaddexp(0.0, scores), rtol=1e-12)
    np.testing.assert_allclose(log_proba[:, 1], -np.logaddexp(0.0, -scores), rtol=1e-12)


# the penalty's curvature (1e12 / n) makes the last digits of the coefficients (~1e-12) lower f
# by less than its rounding, so lbfgs may end on "no lower point" with the answer already found
@pytest.mark.filterwarnings("ignore:lbfgs failed to converge:sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("solver", ["lbfgs", "newton-cg", "newton-cholesky"])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_tiny_C_leaves_the_intercept_at_the_class_log_odds(solver, n_classes):
    # C -> 0 holds every coefficient at 0; the unpenalized intercept then fits the class
    # proportions: softmax(b) (two classes: σ(b)) equals them. lbfgs stopped at zeros with a
    # failed line search at C=1e-12 (the first step had to shrink by 1e-11)
    X, y = load_iris(return_X_y=True)
    rows = slice(0, 90) if n_classes == 2 else slice(10, None)  # unequal proportions
    X, y = X[rows], y[rows]
    model = LogisticRegression(C=1e-12, solver=solver, tol=1e-8).fit(X, y)
    share = np.bincount(y)[np.unique(y)] / len(y)
    assert np.abs(model.coef_).max() < 1e-9
    b = model.intercept_
    scores = np.r_[0.0, b] if n_classes == 2 else b  # two classes: σ(b) = softmax([0, b])
    np.testing.assert_allclose(np.exp(scores) / np.exp(scores).sum(), share, rtol=1e-6)


def test_verbose_prints_one_line_per_model(capsys):
    # scikit-learn's LogisticRegression takes verbose; ours refused it with a TypeError
    X, y = load_iris(return_X_y=True)
    quiet = LogisticRegression(max_iter=1000).fit(X, y)
    loud = LogisticRegression(max_iter=1000, verbose=1).fit(X, y)
    assert capsys.readouterr().out.count("LogisticRegression(lbfgs)") == 1
    np.testing.assert_array_equal(loud.coef_, quiet.coef_)  # printing changes nothing
    LogisticRegression(solver="liblinear", multi_class="ovr", verbose=1).fit(X, y)
    assert capsys.readouterr().out.count("LogisticRegression(liblinear)") == 3  # one per class
    with pytest.raises(ValueError, match="verbose must be >= 0"):
        LogisticRegression(verbose=-1).fit(X, y)


@pytest.mark.parametrize("loader", [load_iris, load_breast_cancer, load_wine, load_digits])
@pytest.mark.parametrize("scaled", [True, False])
@pytest.mark.parametrize("binary", [True, False])
@pytest.mark.parametrize("C", [0.01, 1.0, 100.0])
def test_lbfgs_at_the_default_tol_stops_where_sklearn_does(loader, scaled, binary, C):
    """At the default tol=1e-4, lbfgs takes scikit-learn's L-BFGS-B path: the same n_iter_
    and, where that run converges, the same coefficients to ~1e-8. Before, the first step
    (min(1, 1/||g||) against 1/||g||) and another line search (zoom against Moré-Thuente)
    made another path: n_iter_ 7 against 8 (iris scaled, binary, C=0.01), 99 against 40
    (iris unscaled, 3 classes, C=100), coefficients apart by up to 34% of their scale."""
    X, y = loader(return_X_y=True)
    X = StandardScaler().fit_transform(X) if scaled else X
    y = (y == y.max()).astype(int) if binary else y
    if loader is load_breast_cancer and not binary:
        pytest.skip("breast_cancer has two classes")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = LogisticRegression(C=C).fit(X, y)
        ref = sk.LogisticRegression(C=C).fit(X, y)
    np.testing.assert_array_equal(ours.n_iter_, ref.n_iter_)
    if ref.n_iter_[0] < 100:  # converged: one path to the same stop (rounding apart, which
        # 80 steps on unscaled digits grow to ~1e-7 of the coefficients' scale)
        scale = max(np.abs(ref.coef_).max(), np.abs(ref.intercept_).max())
        np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=0, atol=1e-6 * scale)
        np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=0, atol=1e-6 * scale)


def test_lbfgs_stops_on_scipys_relative_reduction_as_sklearn():
    """scikit-learn runs L-BFGS-B with ftol=64 eps: a step that lowers the objective by no
    more than 64 eps of it ends the fit as converged. On iris shifted by 1e7 (a loss too flat
    to descend in float64) it stops after 1 iteration without a warning; we went on for 37
    and warned that lbfgs had not converged."""
    X, y = DATA["iris"]
    X = X + 1e7
    fits = {}
    for name, cls in (("ours", LogisticRegression), ("ref", sk.LogisticRegression)):
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            fits[name] = (cls().fit(X, y), [w.category for w in record])
    (ours, ours_warned), (ref, ref_warned) = fits["ours"], fits["ref"]
    assert ours_warned == ref_warned == []
    np.testing.assert_array_equal(ours.n_iter_, ref.n_iter_)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-9, atol=1e-15)


@pytest.mark.parametrize("loader", [load_iris, load_breast_cancer, load_wine])
@pytest.mark.parametrize("binary", [True, False])
@pytest.mark.parametrize("C", [0.01, 1.0, 100.0])
def test_newton_cg_takes_sklearns_steps(loader, binary, C):
    """newton-cg ends its inner conjugate gradient as scikit-learn's _newton_cg (1-norm of the
    residual against min(0.5, sqrt(|g|_1)) |g|_1) and searches the step with scipy's
    line_search_wolfe1 (Moré-Thuente from min(1, 2.02 (f_k - f_k-1) / g.d)): the same n_iter_
    and coefficients at the default tol. Before (2-norm forcing term, Armijo backtracking
    from 1), n_iter_ agreed in 18 of 48 fits of four data sets, e.g. 7 against 6 on iris."""
    X, y = loader(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    y = (y == y.max()).astype(int) if binary else y
    ours = LogisticRegression(C=C, solver="newton-cg").fit(X, y)
    ref = sk.LogisticRegression(C=C, solver="newton-cg").fit(X, y)
    np.testing.assert_array_equal(ours.n_iter_, ref.n_iter_)
    scale = max(np.abs(ref.coef_).max(), np.abs(ref.intercept_).max())
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=0, atol=1e-5 * scale)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=0, atol=1e-5 * scale)


@pytest.mark.parametrize(("C", "tol"), [(100.0, 1e-10), (1.0, 1e-10), (1e4, 1e-8)])
def test_newton_cg_stops_where_no_step_is_found_as_sklearn(C, tol):
    """On unscaled breast-cancer features (up to ~4e3) a gradient of 1e-10 is below what
    rounding lets the loss show. scikit-learn's newton-cg then falls back from line_search_wolfe1
    to the full step (if the loss moved by at most 16 epsilons of itself and |g|_1 fell), then to
    line_search_wolfe2, and stops when all fail ("Line Search failed"): 55 iterations at
    C=100. Ours backtracked from the full step instead and ran to max_iter (1,000 here, 10,000
    took 77 s) without moving the coefficients further."""
    X, y = load_breast_cancer(return_X_y=True)
    params = {"C": C, "solver": "newton-cg", "tol": tol, "max_iter": 1000}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = LogisticRegression(**params).fit(X, y)
        ref = sk.LogisticRegression(**params).fit(X, y)
    assert abs(int(ours.n_iter_[0]) - int(ref.n_iter_[0])) <= 3, (ours.n_iter_, ref.n_iter_)
    scale = max(np.abs(ref.coef_).max(), np.abs(ref.intercept_).max())
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=0, atol=1e-5 * scale)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=0, atol=1e-5 * scale)
