"""LogisticRegression(solver='liblinear') against scikit-learn's liblinear, and its rules.

Both sides run to tight tolerances (ours tol=1e-10 on the scaled objective's (sub)gradient,
scikit-learn's liblinear tol=1e-12 with a large max_iter), so they reach the same optimum of the
same convex objective by different algorithms. The tests ask for 1e-6 of the largest
coefficient: the gradient tests both sides stop at bound the distance to the optimum far below
that (the objective is strongly convex for L2; for L1, on the support), and it is far below any
difference between two objectives (a penalized versus an unpenalized intercept moves the
intercept by more than 1e-2 here, see test_intercept_is_penalized_unless_its_feature_is_large).
"""

import numpy as np
import pytest
from sklearn import linear_model as sk
from sklearn.datasets import load_breast_cancer, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.multiclass import OneVsRestClassifier
from sklearn.preprocessing import StandardScaler

from mlcanon.linear_model import LogisticRegression

RTOL = 1e-6  # of the largest coefficient; see the module docstring
pytestmark = pytest.mark.filterwarnings("error::sklearn.exceptions.ConvergenceWarning")


def _scaled(loader, columns=slice(None)):
    X, y = loader(return_X_y=True)
    return StandardScaler().fit_transform(X)[:, columns], y


BINARY = _scaled(load_breast_cancer, slice(0, 10))
THREE = _scaled(load_wine)
TIGHT = {"solver": "liblinear", "tol": 1e-10, "max_iter": 5000}
SK_TIGHT = {"solver": "liblinear", "tol": 1e-12, "max_iter": 100_000}

CASES = [
    {},
    {"dual": True},
    {"l1_ratio": 1.0},
    {"C": 0.1, "intercept_scaling": 5.0},
    {"C": 10.0, "l1_ratio": 1.0, "intercept_scaling": 0.5},
    {"C": 3.0, "dual": True, "intercept_scaling": 10.0},
    {"fit_intercept": False, "l1_ratio": 1.0},
    {"dual": True, "class_weight": "balanced"},
    {"C": 0.3, "l1_ratio": 1.0, "class_weight": {0: 2.0, 1: 0.5}},
]


def _assert_same_model(coef, intercept, ref_coef, ref_intercept):
    scale = np.abs(ref_coef).max()
    np.testing.assert_allclose(coef, ref_coef, rtol=0, atol=RTOL * scale)
    np.testing.assert_allclose(intercept, ref_intercept, rtol=0, atol=RTOL * scale)


@pytest.mark.parametrize("params", CASES, ids=str)
def test_binary_matches_sklearn(params):
    X, y = BINARY
    rng = np.random.default_rng(0)
    sw = rng.uniform(0.5, 2.0, size=len(y))
    ours = LogisticRegression(**TIGHT, **params).fit(X, y, sample_weight=sw)
    ref = sk.LogisticRegression(**SK_TIGHT, **params).fit(X, y, sample_weight=sw)
    _assert_same_model(ours.coef_, ours.intercept_, ref.coef_, ref.intercept_)
    assert ours.n_iter_.shape == (1,)
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))


@pytest.mark.parametrize("params", CASES[:6], ids=str)
def test_three_classes_one_vs_rest_matches_sklearn(params):
    """scikit-learn 1.9 fits liblinear one-vs-rest only through OneVsRestClassifier."""
    X, y = THREE
    ours = LogisticRegression(multi_class="ovr", **TIGHT, **params).fit(X, y)
    ref = OneVsRestClassifier(sk.LogisticRegression(**SK_TIGHT, **params)).fit(X, y)
    ref_coef = np.vstack([e.coef_ for e in ref.estimators_])
    ref_intercept = np.concatenate([np.atleast_1d(e.intercept_) for e in ref.estimators_])
    _assert_same_model(ours.coef_, ours.intercept_, ref_coef, ref_intercept)
    assert ours.n_iter_.shape == (3,)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-6)


def test_intercept_is_penalized_unless_its_feature_is_large():
    """A large intercept_scaling makes the penalty on the intercept negligible: the fit tends
    to the unpenalized-intercept one of 'lbfgs' (the definition of the synthetic feature: with
    ``b = c w_c`` the penalty on the intercept is ``b² / (2 c²)``, 1e-6 b² / 2 for c = 1e3)."""
    X, y = BINARY
    lbfgs = sk.LogisticRegression(C=0.05, tol=1e-10, max_iter=1000).fit(X, y)
    small = LogisticRegression(C=0.05, intercept_scaling=0.1, **TIGHT).fit(X, y)
    large = LogisticRegression(C=0.05, intercept_scaling=1e3, **TIGHT).fit(X, y)
    assert abs(small.intercept_[0] - lbfgs.intercept_[0]) > 1e-2
    np.testing.assert_allclose(large.coef_, lbfgs.coef_, atol=1e-5)
    np.testing.assert_allclose(large.intercept_, lbfgs.intercept_, atol=1e-5)


def test_dual_order_follows_random_state():
    X, y = BINARY
    fit = lambda seed: LogisticRegression(  # noqa: E731
        solver="liblinear", dual=True, tol=1e-2, random_state=seed
    ).fit(X, y)
    np.testing.assert_array_equal(fit(0).coef_, fit(0).coef_)
    assert not np.array_equal(fit(0).coef_, fit(1).coef_)


def test_float32_gives_float64_coefficients_as_sklearn():
    X, y = BINARY
    ours = LogisticRegression(solver="liblinear").fit(X.astype(np.float32), y)
    ref = sk.LogisticRegression(solver="liblinear").fit(X.astype(np.float32), y)
    assert ours.coef_.dtype == ref.coef_.dtype == np.float64


@pytest.mark.parametrize("warm_start", [False, True])
def test_no_intercept_is_the_float_zero_as_sklearn(warm_start):
    """scikit-learn's liblinear fit without intercept sets ``intercept_ = 0.0`` (a float, where
    the other solvers give ``zeros(1)``); ours gave ``array([0.])``. A warm refit keeps it."""
    X, y = BINARY
    kw = {"fit_intercept": False, "warm_start": warm_start}
    ours = LogisticRegression(**TIGHT, **kw).fit(X, y)
    ref = sk.LogisticRegression(**SK_TIGHT, **kw).fit(X, y)
    if warm_start:
        ours.fit(X, y)
        ref.fit(X, y)
    assert type(ours.intercept_) is type(ref.intercept_) is float
    assert ours.intercept_ == ref.intercept_ == 0.0
    _assert_same_model(ours.coef_, ours.intercept_, ref.coef_, ref.intercept_)


@pytest.mark.parametrize("params", [{}, {"dual": True}, {"l1_ratio": 1.0}], ids=str)
def test_max_iter_warns_in_sklearn_words(params):
    X, y = BINARY
    msg = "Liblinear failed to converge, increase the number of iterations."
    with pytest.warns(ConvergenceWarning, match=msg):
        model = LogisticRegression(solver="liblinear", tol=1e-15, max_iter=1, **params).fit(X, y)
    np.testing.assert_array_equal(model.n_iter_, [1])


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({}, "The 'liblinear' solver does not support multiclass classification"),
        ({"multi_class": "multinomial"}, "does not support multiclass classification"),
        ({"C": np.inf}, "C=np.inf as well as penalty=None is not supported for the liblinear"),
        ({"l1_ratio": 0.5}, "Only 'saga' solver supports elasticnet penalty, got solver=liblin"),
        ({"l1_ratio": 1.0, "dual": True}, "dual=True needs the L2 penalty"),
        ({"intercept_scaling": 0.0}, "intercept_scaling must be > 0, got 0.0"),
    ],
    ids=str,
)
def test_liblinear_errors(params, match):
    X, y = THREE
    with pytest.raises(ValueError, match=match):
        LogisticRegression(solver="liblinear", **params).fit(X, y)


def test_dual_needs_liblinear_and_large_values_are_refused():
    X, y = BINARY
    with pytest.raises(ValueError, match="Solver lbfgs supports only dual=False, got dual=True"):
        LogisticRegression(dual=True).fit(X, y)
    X_big = np.array([[0.0], [1e100]])
    with pytest.raises(ValueError, match="X contains a maximum value > 1e30"):
        LogisticRegression(solver="liblinear").fit(X_big, [0, 1])
    with pytest.raises(ValueError, match=r"intercept_scaling must be <= 1e30 .*; got 1e\+300"):
        LogisticRegression(solver="liblinear", intercept_scaling=1e300).fit(X, y)
    LogisticRegression(solver="liblinear", intercept_scaling=1e300, fit_intercept=False).fit(X, y)


def test_dual_with_a_large_C_matches_sklearn():
    """At C = 100 some dual variables sit within 1e-38 of a bound: the one-variable solves keep
    the variable nearer its bound apart from the other (they divided by zero before)."""
    X, y = BINARY
    ours = LogisticRegression(solver="liblinear", dual=True, C=100.0, tol=1e-8, max_iter=50_000)
    ref = sk.LogisticRegression(C=100.0, **SK_TIGHT).fit(X, y)
    ours.fit(X, y)
    _assert_same_model(ours.coef_, ours.intercept_, ref.coef_, ref.intercept_)
