"""LogisticRegressionCV against scikit-learn's, and its fold scores recomputed by hand."""

import inspect
import warnings

import numpy as np
import pytest
import sklearn
import sklearn.linear_model as sk
from sklearn.datasets import load_breast_cancer, load_digits, load_iris
from sklearn.metrics import get_scorer
from sklearn.model_selection import GroupKFold, KFold, StratifiedKFold
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from mlcanon.linear_model import LogisticRegressionCV


def _standardized(loader, n=None, **kw):
    X, y = loader(return_X_y=True, **kw)
    return StandardScaler().fit_transform(X[:n]), y[:n]


BC = _standardized(load_breast_cancer)
IRIS = _standardized(load_iris)
DIGITS = _standardized(load_digits, n=200, n_class=4)
RNG = np.random.default_rng(0)
SW_BC, SW_IRIS = RNG.uniform(0.5, 2, len(BC[1])), RNG.uniform(0.5, 2, len(IRIS[1]))
TIGHT = {"scores": 1e-10, "paths": 1e-8, "coef": 1e-8}

# (data, sample_weight, parameters, tolerances): the solvers stop at tol=1e-10 on both sides;
# the tolerances are about 10x the largest differences measured (scores_ 9e-13, coefs_paths_
# 3e-9 for newton-cholesky; newton-cg on digits: 2e-9, 2e-8; lbfgs at tol=1e-8: 2e-8, 8e-7;
# liblinear's L1: 1e-9, 6e-7; saga's elastic net: 1e-11, 3e-10)
CASES = {
    "binary-newton-cholesky": (BC, None, {"solver": "newton-cholesky"}, TIGHT),
    "binary-weights-balanced-roc_auc": (
        BC,
        SW_BC,
        {
            "solver": "newton-cholesky",
            "class_weight": "balanced",
            "scoring": "roc_auc",
            "tol": 1e-8,
        },
        TIGHT,
    ),
    "multiclass-weights-dict-refit-false": (
        IRIS,
        SW_IRIS,
        {"solver": "newton-cholesky", "refit": False, "class_weight": {0: 2.0, 2: 0.5}},
        TIGHT,
    ),
    "multiclass-newton-cg-accuracy-no-intercept": (
        IRIS,
        None,
        {"solver": "newton-cg", "scoring": "accuracy", "fit_intercept": False},
        TIGHT,
    ),
    "multiclass-digits-newton-cg": (
        DIGITS,
        None,
        {"solver": "newton-cg", "Cs": [0.01, 0.1, 1.0]},
        {"scores": 2e-8, "paths": 2e-7, "coef": 3e-9},
    ),
    "multiclass-lbfgs": (
        IRIS,
        None,
        {"solver": "lbfgs", "tol": 1e-8, "Cs": [0.1, 1.0]},
        {"scores": 2e-7, "paths": 1e-5, "coef": 5e-6},
    ),
    "binary-liblinear-l1": (
        (BC[0][:200], BC[1][:200]),
        None,
        {"solver": "liblinear", "l1_ratios": (1.0,), "Cs": [0.01, 0.1, 1.0], "max_iter": 10000},
        {"scores": 1e-8, "paths": 1e-5, "coef": 1e-5},
    ),
    "multiclass-saga-elasticnet": (
        IRIS,
        None,
        {"solver": "saga", "l1_ratios": (0.2, 0.8), "Cs": [0.1, 1.0], "max_iter": 10000},
        {"scores": 1e-9, "paths": 5e-9, "coef": 5e-9},
    ),
}


def _fit_both(X, y, sample_weight=None, **params):
    kw = {"Cs": 6, "cv": 3, "tol": 1e-10, "max_iter": 1000, "scoring": "neg_log_loss"}
    kw.update({"l1_ratios": (0.0,), "use_legacy_attributes": False, "random_state": 0})
    kw.update(params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        theirs = sk.LogisticRegressionCV(**kw).fit(X, y, sample_weight=sample_weight)
        ours = LogisticRegressionCV(**kw).fit(X, y, sample_weight=sample_weight)
    return ours, theirs


@pytest.mark.parametrize("case", CASES)
def test_matches_scikit_learn(case):
    (X, y), sample_weight, params, tol = CASES[case]
    ours, theirs = _fit_both(X, y, sample_weight, **params)
    assert ours.C_ == theirs.C_ and ours.l1_ratio_ == theirs.l1_ratio_
    np.testing.assert_array_equal(ours.Cs_, theirs.Cs_)
    np.testing.assert_array_equal(ours.l1_ratios_, theirs.l1_ratios_)
    np.testing.assert_allclose(ours.scores_, theirs.scores_, rtol=0, atol=tol["scores"])
    assert ours.coefs_paths_.shape == theirs.coefs_paths_.shape
    np.testing.assert_allclose(ours.coefs_paths_, theirs.coefs_paths_, atol=tol["paths"])
    np.testing.assert_allclose(ours.coef_, theirs.coef_, atol=tol["coef"])
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_, atol=tol["coef"])
    assert ours.n_iter_.shape == theirs.n_iter_.shape
    np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), atol=1e-6)


def test_scores_recomputed_fold_by_fold():
    """Each scores_ entry is the weighted test log-likelihood per unit weight of scikit-learn's
    LogisticRegression fitted on that fold's training rows with that C."""
    (X, y), sw = BC, SW_BC
    folds = list(StratifiedKFold(3).split(X, y))
    ours = LogisticRegressionCV(
        Cs=[0.01, 1.0],
        cv=folds,
        solver="newton-cholesky",
        tol=1e-10,
        scoring="neg_log_loss",
        l1_ratios=(0.0,),
        use_legacy_attributes=False,
    ).fit(X, y, sample_weight=sw)
    for k, (train, test) in enumerate(folds):
        for i, C in enumerate([0.01, 1.0]):
            ref = sk.LogisticRegression(C=C, solver="newton-cholesky", tol=1e-10)
            ref.fit(X[train], y[train], sample_weight=sw[train])
            p = ref.predict_proba(X[test])[np.arange(len(test)), y[test]]
            expected = np.sum(sw[test] * np.log(p)) / np.sum(sw[test])
            assert ours.scores_[k, 0, i] == pytest.approx(expected, abs=1e-9)
            path = np.append(ref.coef_[0], ref.intercept_)
            np.testing.assert_allclose(ours.coefs_paths_[k, 0, i, 0], path, atol=1e-8)


@pytest.mark.parametrize("l1_ratios", ["warn", (0.0,)])
@pytest.mark.parametrize("refit", [True, False])
@pytest.mark.parametrize("data", ["binary", "multiclass"])
def test_legacy_attributes_match(l1_ratios, refit, data):
    X, y = BC if data == "binary" else IRIS
    ours, theirs = _fit_both(
        X, y, Cs=3, solver="newton-cholesky", l1_ratios=l1_ratios, refit=refit,
        use_legacy_attributes=True,
    )  # fmt: skip
    assert list(ours.coefs_paths_) == list(theirs.coefs_paths_)
    for key in theirs.coefs_paths_:
        np.testing.assert_allclose(ours.coefs_paths_[key], theirs.coefs_paths_[key], atol=1e-8)
        np.testing.assert_allclose(ours.scores_[key], theirs.scores_[key], atol=1e-10)
    assert ours.n_iter_.shape == theirs.n_iter_.shape
    np.testing.assert_array_equal(ours.C_, theirs.C_)
    assert ours.l1_ratio_.shape == theirs.l1_ratio_.shape
    assert list(ours.l1_ratio_) == list(theirs.l1_ratio_)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # see below
def test_fold_missing_classes():
    """Unshuffled 3-fold KFold on the sorted iris labels: every fold's training rows lack the
    class of its test rows; the fits keep all three classes, as scikit-learn's."""
    X, y = IRIS
    ours, theirs = _fit_both(
        X, y, cv=KFold(3), Cs=[1e-4, 1e-2, 1.0], scoring="neg_brier_score", solver="newton-cholesky"
    )
    assert ours.C_ == theirs.C_ == 1e-4
    np.testing.assert_allclose(ours.scores_, theirs.scores_, atol=1e-12)  # measured 4e-16
    # the absent class's intercept is unpenalized and heads to -inf: each solver stops elsewhere
    np.testing.assert_allclose(
        ours.coefs_paths_[..., :-1], theirs.coefs_paths_[..., :-1], atol=1e-6
    )


def test_threads_give_the_same_model():
    X, y = IRIS
    kw = {"Cs": 3, "cv": 3, "scoring": "accuracy", "l1_ratios": (0,)}
    kw["use_legacy_attributes"] = False
    one = LogisticRegressionCV(**kw).fit(X, y)
    two = LogisticRegressionCV(n_jobs=2, **kw).fit(X, y)
    np.testing.assert_array_equal(one.coefs_paths_, two.coefs_paths_)
    np.testing.assert_array_equal(one.coef_, two.coef_)


def test_future_warnings_of_the_changing_defaults():
    X, y = BC
    with pytest.warns(FutureWarning) as record:
        LogisticRegressionCV(Cs=2, solver="newton-cholesky").fit(X, y)
    text = " ".join(str(w.message) for w in record)
    for name in ("l1_ratios", "scoring", "use_legacy_attributes"):
        assert name in text


@pytest.mark.parametrize(
    ("params", "error", "match"),
    [
        ({"Cs": 0}, ValueError, "Cs"),
        ({"Cs": [1.0, -1.0]}, ValueError, r"Cs\[1\] == -1.0, must be > 0"),
        ({"l1_ratios": [0.5, 2.0]}, ValueError, r"l1_ratios\[1\] == 2.0, must be <= 1"),
        ({"scoring": "nope"}, ValueError, "scoring must be None or one of .*'nope'"),
        ({"refit": "yes"}, TypeError, "refit must be bool"),
        ({"cv": 1}, ValueError, "cv must be >= 2, got 1"),
        ({"solver": "lbfgs", "l1_ratios": (1.0,)}, ValueError, "Solver lbfgs supports only"),
        ({"solver": "liblinear"}, ValueError, "'liblinear' solver does not support multiclass"),
    ],
)
def test_bad_parameters(params, error, match):
    kw = {"scoring": "accuracy", "l1_ratios": (0.0,), "use_legacy_attributes": False}
    with pytest.raises(error, match=match):
        LogisticRegressionCV(**{**kw, **params}).fit(*IRIS)


def test_elasticnet_penalty_needs_l1_ratios():
    est = LogisticRegressionCV(penalty="elasticnet", solver="saga", l1_ratios=None)
    with pytest.warns(FutureWarning), pytest.raises(ValueError, match="needs l1_ratios"):
        est.fit(*BC)


def test_extra_fit_parameters_are_refused():
    with pytest.raises(ValueError, match=r"enable_metadata_routing=True.*'groups'"):
        LogisticRegressionCV().fit(*BC, groups=np.zeros(len(BC[1])))


@parametrize_with_checks(
    [LogisticRegressionCV(Cs=3, l1_ratios=(0.0,), scoring="accuracy", use_legacy_attributes=False)]
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def test_fold_without_weight_is_refused():
    X, y = IRIS
    sw = np.ones(len(y))
    sw[:50] = 0.0  # the test rows of the first unshuffled fold
    with pytest.raises(ValueError, match="sample_weight is 0 on every test row of fold 0"):
        LogisticRegressionCV(cv=KFold(3), scoring="accuracy").fit(X, y, sample_weight=sw)


def test_fold_whose_training_rows_have_zero_class_weight_is_refused():
    # the first fold trains on class 0 alone, which class_weight zeroes: scikit-learn 1.9.1
    # fits that fold silently (coefficients ~1e-10) and scores it; ours would end in a NaN loss
    X, y = IRIS
    zeros, rest = np.flatnonzero(y == 0), np.flatnonzero(y != 0)
    est = LogisticRegressionCV(class_weight={0: 0.0}, cv=[(zeros, rest)], scoring="accuracy")
    with pytest.raises(
        ValueError, match="sample_weight times class_weight is 0 on every training row of fold 0"
    ):
        est.fit(X, y)
    with pytest.raises(ValueError, match="the sample weights times the class weights sum to zero"):
        LogisticRegressionCV(class_weight={0: 0, 1: 0, 2: 0}, scoring="accuracy").fit(X, y)


@pytest.mark.parametrize("scoring", ["neg_log_loss", "neg_brier_score", "accuracy"])
def test_named_scorers_keep_the_private_parts_read_for_labels(scoring):
    # the fold scorer is rebuilt from a scikit-learn scorer's private attributes (checked on
    # scikit-learn 1.9.1): if a release drops them, this test names the missing one
    from mlcanon.linear_model._logistic_cv import _SCORER_PARTS, _scorer

    scorer = get_scorer(scoring)
    for name in _SCORER_PARTS:
        assert hasattr(scorer, name), f"scikit-learn's {scoring} scorer has no {name}"
    # and the rebuilt scorer binds every class as labels where the metric takes them
    classes = np.array([0, 1, 2])
    rebuilt = _scorer(scoring, classes)
    if "labels" in inspect.signature(scorer._score_func).parameters:
        np.testing.assert_array_equal(rebuilt._kwargs["labels"], classes)


def test_named_scorer_without_the_private_parts_fails_loudly(monkeypatch):
    from mlcanon.linear_model import _logistic_cv

    def bare(estimator, X, y):
        return 0.0

    monkeypatch.setattr(_logistic_cv, "get_scorer", lambda name: bare)
    with pytest.raises(RuntimeError, match=r"lacks \['_score_func'.*scikit-learn 1.9.1"):
        LogisticRegressionCV(scoring="neg_log_loss", Cs=2).fit(*IRIS)


def test_metadata_routing_matches_scikit_learn():
    """With routing on, ``groups`` reach the splitter, and the folds' scorer takes
    ``sample_weight`` only if it asks for it (``set_score_request``), as in scikit-learn."""
    X, y = BC
    groups = np.arange(len(y)) % 7
    w = np.random.default_rng(0).uniform(0.2, 3.0, size=len(y))
    kw = {"Cs": 4, "tol": 1e-10, "solver": "newton-cholesky", "l1_ratios": (0.0,)}
    kw["use_legacy_attributes"] = False
    with sklearn.config_context(enable_metadata_routing=True), warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        for wants_weights in (True, False):
            fits = []
            for cls in (LogisticRegressionCV, sk.LogisticRegressionCV):
                scoring = get_scorer("neg_log_loss").set_score_request(sample_weight=wants_weights)
                model = cls(cv=GroupKFold(3), scoring=scoring, **kw)
                model.set_fit_request(sample_weight=True)
                fits.append(model.fit(X, y, sample_weight=w, groups=groups))
            ours, theirs = fits
            assert ours.C_ == theirs.C_
            np.testing.assert_allclose(ours.scores_, theirs.scores_, rtol=0, atol=1e-10)
            if wants_weights:
                got, want = ours.score(X, y, sample_weight=w), theirs.score(X, y, sample_weight=w)
                np.testing.assert_allclose(got, want, rtol=1e-9)
            else:  # weights that nothing asked for are refused by the routing, on both sides
                for model in fits:
                    with pytest.raises(TypeError, match="not routed to any object"):
                        model.score(X, y, sample_weight=w)


def test_routing_with_folds_from_a_generator_and_unweighted_scores_as_scikit_learn():
    """Routing reads cv without consuming a generator of folds; a test fold whose rows all weigh
    zero is fine when the scorer does not take the weights (the training rows are weighted)."""
    X, y = BC
    w = np.ones(len(y))
    w[: len(y) // 3] = 0.0  # KFold(3)'s first test fold
    fits = []
    with sklearn.config_context(enable_metadata_routing=True), warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        for cls in (LogisticRegressionCV, sk.LogisticRegressionCV):
            scoring = get_scorer("accuracy").set_score_request(sample_weight=False)
            model = cls(cv=KFold(3).split(X), Cs=3, solver="newton-cholesky", scoring=scoring)
            fits.append(model.set_fit_request(sample_weight=True).fit(X, y, sample_weight=w))
    ours, theirs = fits
    assert ours.C_ == theirs.C_
    np.testing.assert_allclose(ours.scores_[1], theirs.scores_[1], rtol=0, atol=1e-12)
