"""RidgeClassifier and RidgeClassifierCV against scikit-learn's, and against the ±1 coding and
the ridge closed form written out with numpy.linalg.solve."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn import linear_model as sk
from sklearn.utils.estimator_checks import parametrize_with_checks

from mlcanon import io
from mlcanon.linear_model import RidgeClassifier, RidgeClassifierCV

# the same closed forms as scikit-learn: the largest relative gaps, entry by entry, measured over
# these cases are 1.5e-14 (coef_ of svd/cholesky), 6e-12 (lsqr run to tol=1e-12), 2e-12 (coef_
# after leave-one-out) and 2.5e-10 (cv_results_)
RTOL = 1e-8
ALPHAS = (0.01, 0.3, 10.0)


def _data(kind, n=40, p=5, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) + 1.5  # off-center, so the intercept matters
    score = X[:, 0] - X[:, 1] + rng.standard_normal(n)
    if kind == "binary":
        y = np.where(score > 0.5, "yes", "no")
    elif kind == "multiclass":
        y = np.digitize(score, [-0.5, 0.5, 1.0])  # four classes, unbalanced
    else:  # multilabel indicator
        y = (X[:, :3] + rng.standard_normal((n, 3)) > 1.5).astype(int)
    return X, y, rng.uniform(0.3, 3.0, n)


def _assert_same(ours, ref, X):
    for name in ("classes_", "alpha_", "coef_", "intercept_", "best_score_", "cv_results_"):
        if hasattr(ref, name):
            got, want = getattr(ours, name), getattr(ref, name)
            assert np.shape(got) == np.shape(want), name
            if name == "classes_":
                np.testing.assert_array_equal(got, want)
                continue
            np.testing.assert_allclose(got, want, rtol=RTOL, atol=1e-13, err_msg=name)
    np.testing.assert_allclose(ours.decision_function(X), ref.decision_function(X), rtol=RTOL)
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))


KINDS = ["binary", "multiclass", "multilabel"]
WEIGHTING = [
    {},
    {"class_weight": "balanced"},
    {"class_weight": "dict"},
    {"sample_weight": True},
    {"class_weight": "balanced", "sample_weight": True},
]
# a dict class_weight is refused for a multilabel y (test_bad_targets), so that pair is left out
KIND_WEIGHTING = [
    pytest.param(kind, spec, id=f"{kind}-{spec}")
    for kind in KINDS
    for spec in WEIGHTING
    if not (kind == "multilabel" and spec.get("class_weight") == "dict")
]


def _weighting(y, w, spec):
    kw = {}
    if spec.get("class_weight") == "balanced":
        kw["class_weight"] = "balanced"
    elif spec.get("class_weight") == "dict":
        kw["class_weight"] = {np.unique(y)[0]: 3.0}
    return kw, (w if spec.get("sample_weight") else None)


@pytest.mark.parametrize(("kind", "spec"), KIND_WEIGHTING)
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("solver", ["auto", "svd", "cholesky", "lsqr"])
def test_ridge_classifier_matches_sklearn(kind, spec, fit_intercept, solver):
    X, y, w = _data(kind)
    kw, sw = _weighting(y, w, spec)
    kw.update(alpha=0.7, fit_intercept=fit_intercept, solver=solver)
    if solver == "lsqr":
        kw["tol"] = 1e-12  # iterative: run both to the closed form
    ours = RidgeClassifier(**kw).fit(X, y, sample_weight=sw)
    _assert_same(ours, sk.RidgeClassifier(**kw).fit(X, y, sample_weight=sw), X)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("solver", ["sparse_cg", "sag", "saga"])
def test_iterative_solvers_match_sklearn(kind, solver):
    # the same fixed point run to tol=1e-12; the epochs of sag/saga differ (our kernel and
    # scikit-learn's draw samples differently), so only the solution is compared, at 1e-9
    X, y, _ = _data(kind)
    kw = dict(alpha=0.7, solver=solver, tol=1e-12, max_iter=100_000, random_state=0)
    ours, ref = RidgeClassifier(**kw).fit(X, y), sk.RidgeClassifier(**kw).fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=0, atol=1e-9)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=0, atol=1e-9)
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))


@pytest.mark.parametrize(("kind", "spec"), KIND_WEIGHTING)
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("shape", [(40, 5), (12, 20)], ids=["tall", "wide"])
def test_ridge_classifier_cv_loo_matches_sklearn(kind, spec, fit_intercept, shape):
    X, y, w = _data(kind, *shape)
    kw, sw = _weighting(y, w, spec)
    kw.update(alphas=ALPHAS, fit_intercept=fit_intercept, store_cv_results=True)
    ours = RidgeClassifierCV(**kw).fit(X, y, sample_weight=sw)
    _assert_same(ours, sk.RidgeClassifierCV(**kw).fit(X, y, sample_weight=sw), X)


@pytest.mark.parametrize("scoring", ["accuracy", "balanced_accuracy"])
def test_loo_scoring_multiclass_matches_sklearn(scoring):
    X, y, w = _data("multiclass")
    kw = dict(alphas=ALPHAS, scoring=scoring, store_cv_results=True, class_weight="balanced")
    ours = RidgeClassifierCV(**kw).fit(X, y, sample_weight=w)
    _assert_same(ours, sk.RidgeClassifierCV(**kw).fit(X, y, sample_weight=w), X)


def test_loo_accuracy_binary_against_refits():
    # scikit-learn 1.9 scores every alpha 1.0 here (issue #34942); the definition instead:
    # refit without each sample in turn and classify it
    X, y, _ = _data("binary", n=25)
    ours = RidgeClassifierCV(alphas=ALPHAS, scoring="accuracy").fit(X, y)
    loo = []
    for alpha in ALPHAS:
        hits = [
            sk.RidgeClassifier(alpha=alpha)
            .fit(np.delete(X, i, 0), np.delete(y, i))
            .predict(X[i : i + 1])[0]
            == y[i]
            for i in range(len(y))
        ]
        loo.append(np.mean(hits))
    assert ours.best_score_ == max(loo) and 0 < ours.best_score_ < 1
    assert ours.alpha_ == ALPHAS[int(np.argmax(loo))]


@pytest.mark.parametrize("kind", ["binary", "multiclass"])
@pytest.mark.parametrize("scoring", [None, "accuracy"])
def test_ridge_classifier_cv_grid_search_matches_sklearn(kind, scoring):
    X, y, w = _data(kind)
    kw = dict(alphas=ALPHAS, cv=4, scoring=scoring, class_weight="balanced")
    ours = RidgeClassifierCV(**kw).fit(X, y, sample_weight=w)
    _assert_same(ours, sk.RidgeClassifierCV(**kw).fit(X, y, sample_weight=w), X)


@pytest.mark.parametrize("Estimator", [RidgeClassifier, RidgeClassifierCV])
def test_float32_and_sparse(Estimator):
    X, y, _ = _data("multiclass")
    X32 = X.astype(np.float32)
    ours, ref = Estimator().fit(X32, y), getattr(sk, Estimator.__name__)().fit(X32, y)
    assert ours.coef_.dtype == ref.coef_.dtype == np.float32
    assert ours.decision_function(X32).dtype == np.float32
    # both solve in float64 and round: the gap is that of one float32 rounding
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-6)
    dense = Estimator().fit(X, y)
    sparse = Estimator().fit(sp.csr_matrix(X), y)
    np.testing.assert_allclose(sparse.coef_, dense.coef_, rtol=1e-12)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_closed_form_on_plus_minus_one_targets(kind, fit_intercept):
    """The definition written out: code y as ±1 per class, weight by class, solve the normal
    equations of the centered weighted problem with numpy.linalg.solve."""
    X, y, w = _data(kind)
    alpha = 0.7
    if kind == "multilabel":
        classes, Y = np.arange(y.shape[1]), np.where(y == 1, 1.0, -1.0)
        s = w.copy()
        for k in range(y.shape[1]):
            counts = np.array([np.sum(y[:, k] == 0), np.sum(y[:, k] == 1)])
            s *= (len(y) / (2 * counts))[y[:, k]]
    else:
        classes = np.unique(y)
        Y = np.array([[1.0 if label == c else -1.0 for c in classes] for label in y])
        Y = Y[:, 1:] if len(classes) == 2 else Y
        counts = np.array([np.sum(y == c) for c in classes])
        s = w * np.array([len(y) / (len(classes) * counts[list(classes).index(v)]) for v in y])
    x_mean = s @ X / s.sum() if fit_intercept else np.zeros(X.shape[1])
    y_mean = s @ Y / s.sum() if fit_intercept else np.zeros(Y.shape[1])
    Xc, Yc = X - x_mean, Y - y_mean
    W = np.linalg.solve(
        Xc.T @ (s[:, None] * Xc) + alpha * np.eye(X.shape[1]), Xc.T @ (s[:, None] * Yc)
    )
    b = y_mean - x_mean @ W
    ours = RidgeClassifier(alpha=alpha, fit_intercept=fit_intercept, class_weight="balanced")
    ours.fit(X, y, sample_weight=w)
    np.testing.assert_array_equal(ours.classes_, classes)
    np.testing.assert_allclose(ours.coef_, W.T.squeeze(), rtol=1e-10)
    scores = X @ W + b
    np.testing.assert_allclose(ours.decision_function(X), scores.squeeze(), rtol=1e-10, atol=1e-12)
    if kind == "multilabel":
        want = (scores > 0).astype(int)
    elif len(classes) == 2:
        want = classes[(scores[:, 0] > 0).astype(int)]
    else:
        want = classes[np.argmax(scores, axis=1)]
    np.testing.assert_array_equal(ours.predict(X), want)


def test_loo_errors_against_refits():
    """cv_results_ (scoring=None) by definition: the squared error of the refit without sample
    i on each ±1 column, times the sample's weight."""
    X, y, w = _data("multiclass", n=20)
    ours = RidgeClassifierCV(alphas=[0.5], store_cv_results=True).fit(X, y, sample_weight=w)
    classes = np.unique(y)
    Y = np.where(y[:, None] == classes, 1.0, -1.0)
    for i in range(len(y)):
        keep = np.arange(len(y)) != i
        ref = sk.Ridge(alpha=0.5).fit(X[keep], Y[keep], sample_weight=w[keep])
        want = w[i] * (Y[i] - ref.predict(X[i : i + 1])[0]) ** 2
        np.testing.assert_allclose(ours.cv_results_[i, :, 0], want, rtol=1e-9)


@pytest.mark.parametrize(
    ("estimator", "match"),
    [
        (
            RidgeClassifier(class_weight="auto"),
            "class_weight must be None or one of 'balanced'.*got str 'auto'",
        ),
        (RidgeClassifier(class_weight={9: 1.0}), r"class_weight has labels \[9\]"),
        (RidgeClassifier(solver="lbfgs"), "lbfgs.*positive=True"),
        (RidgeClassifierCV(alphas=[0.0, 1.0]), "alphas"),
        (RidgeClassifierCV(cv=3, store_cv_results=True), "store_cv_results"),
    ],
)
def test_bad_parameters(estimator, match):
    X, y, _ = _data("binary")
    with pytest.raises(ValueError, match=match):
        estimator.fit(X, y)


@pytest.mark.parametrize("Estimator", [RidgeClassifier, RidgeClassifierCV])
@pytest.mark.parametrize("code", [(1, 2), (0, 2), (-1, 0)], ids=["1/2", "0/2", "-1/0"])
def test_multilabel_y_other_than_indicator_is_refused(Estimator, code):
    # values other than 1 for 'set' and 0 or -1 for 'not set' were all read as 'set' (+1);
    # scikit-learn 1.9.1 regresses on the raw values, so {1, 2} predicts every label everywhere
    X, y, _ = _data("multilabel")
    with pytest.raises(ValueError, match=r"y: .*multilabel indicator.*got the values \["):
        Estimator().fit(X, np.where(y == 1, code[1], code[0]))


@pytest.mark.parametrize("Estimator", [RidgeClassifier, RidgeClassifierCV])
def test_multilabel_y_coded_minus_one_matches_sklearn(Estimator):
    # -1 for 'not this label' is the ±1 coding itself: the fit of the 0/1 indicator, and
    # scikit-learn's (which fits the values as given); it was read as +1 everywhere
    X, y, _ = _data("multilabel")
    signed = 2 * y - 1
    ours = Estimator().fit(X, signed)
    _assert_same(ours, getattr(sk, Estimator.__name__)().fit(X, signed), X)
    np.testing.assert_allclose(ours.coef_, Estimator().fit(X, y).coef_, rtol=1e-12)
    assert 0 < ours.predict(X).mean() < 1


def test_bad_targets():
    X, y, _ = _data("multilabel")
    with pytest.raises(ValueError, match="multilabel indicator"):
        RidgeClassifier().fit(X, y * 3 - 1 + np.arange(3))
    with pytest.raises(ValueError, match="class_weight must be 'balanced' or None"):
        RidgeClassifier(class_weight={0: 2.0}).fit(X, y)
    with pytest.raises(ValueError, match="continuous"):
        RidgeClassifier().fit(X, X[:, 0])


def test_save_load_round_trip(tmp_path):
    X, y, _ = _data("binary")
    model = RidgeClassifierCV(alphas=ALPHAS).fit(X, y)
    back = io.load(io.save(model, tmp_path / "model.npz"))
    assert type(back) is RidgeClassifierCV and back.get_params() == model.get_params()
    np.testing.assert_array_equal(back.predict(X), model.predict(X))


@parametrize_with_checks(
    [RidgeClassifier(), RidgeClassifierCV()],
    expected_failed_checks=lambda e: (
        {"check_non_transformer_estimators_n_iter": "n_iter_ is None, as scikit-learn's"}
        if isinstance(e, RidgeClassifier)
        else {}
    ),
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


@pytest.mark.parametrize("copy_X", [True, False])
def test_copy_X(copy_X):
    X, y, _ = _data("multiclass")
    ref = sk.RidgeClassifier().fit(X, y)
    X_fit = X.copy()
    ours = RidgeClassifier(copy_X=copy_X).fit(X_fit, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=RTOL)
    # copy_X=False centers the caller's float64 X in place, as scikit-learn may
    assert np.array_equal(X_fit, X) == copy_X
