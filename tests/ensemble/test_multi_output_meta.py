"""2-D targets in bagging and stacking against scikit-learn on the same data: a multi-output y
for BaggingRegressor, a multilabel indicator y for StackingClassifier, and the 2-D targets
scikit-learn refuses (BaggingClassifier, StackingRegressor) refused here too."""

import numpy as np
import pytest
from sklearn import ensemble as ske
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.datasets import make_multilabel_classification, make_regression
from sklearn.linear_model import LinearRegression, RidgeClassifier
from sklearn.metrics import r2_score
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.tree import DecisionTreeClassifier

from mlcanon import ensemble as me

XR, YR = make_regression(n_samples=60, n_features=4, n_targets=3, noise=5.0, random_state=0)
XM, YM = make_multilabel_classification(n_samples=100, n_classes=3, random_state=42)


class _RecordingFinal(ClassifierMixin, BaseEstimator):
    """Final estimator that keeps the meta-features it was fit on; predicts all zeros."""

    def fit(self, X, y):
        self.Z_, self.y_ = np.asarray(X), np.asarray(y)
        self.classes_ = [np.unique(c) for c in self.y_.T]
        return self

    def predict(self, X):
        return np.zeros((len(X), self.y_.shape[1]), dtype=np.int64)


def test_bagging_regressor_multi_output_is_the_mean_of_its_members():
    """Each member is a LinearRegression fit with the drawn rows as counts; the ensemble's
    (n, 3) prediction is their plain mean, computed here with scikit-learn's own fits."""
    ours = me.BaggingRegressor(LinearRegression(), n_estimators=5, random_state=0).fit(XR, YR)
    fits = [
        LinearRegression().fit(XR, YR, sample_weight=np.bincount(rows, minlength=len(XR)))
        for rows in ours.estimators_samples_
    ]
    expected = np.mean([f.predict(XR) for f in fits], axis=0)
    assert ours.predict(XR).shape == YR.shape
    np.testing.assert_allclose(ours.predict(XR), expected, rtol=1e-10, atol=1e-10)


def test_bagging_regressor_multi_output_without_bootstrap_equals_sklearn():
    kw = dict(n_estimators=3, bootstrap=False, random_state=0)
    ours = me.BaggingRegressor(LinearRegression(), **kw).fit(XR, YR)
    ref = ske.BaggingRegressor(LinearRegression(), **kw).fit(XR, YR)
    np.testing.assert_allclose(ours.predict(XR), ref.predict(XR), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("n_outputs", [1, 3])
def test_bagging_regressor_oob_prediction_and_r2(n_outputs):
    """oob_prediction_: for each sample the mean of the members that never drew it;
    oob_score_: scikit-learn's r2_score of it (uniform average over outputs)."""
    y = YR[:, 0] if n_outputs == 1 else YR
    ours = me.BaggingRegressor(
        LinearRegression(), n_estimators=20, oob_score=True, random_state=0
    ).fit(XR, y)
    acc, hits = np.zeros(y.shape), np.zeros(len(y))
    for member, rows in zip(ours.estimators_, ours.estimators_samples_, strict=True):
        out = np.setdiff1d(np.arange(len(y)), rows)
        acc[out] += member.predict(XR[out])
        hits[out] += 1
    assert hits.min() > 0
    expected = acc / (hits if n_outputs == 1 else hits[:, None])
    np.testing.assert_allclose(ours.oob_prediction_, expected, rtol=1e-10)
    assert ours.oob_score_ == pytest.approx(r2_score(y, expected), rel=1e-12)


def test_bagging_regressor_oob_r2_of_a_constant_output_is_finite_as_r2_score():
    """A constant output column scores 1 when predicted exactly, else 0 (r2_score's
    force_finite), instead of NaN."""
    y = YR.copy()
    y[:, 1] = 1.0
    ours = me.BaggingRegressor(LinearRegression(), n_estimators=20, oob_score=True, random_state=0)
    ours.fit(XR, y)
    assert np.isfinite(ours.oob_score_)
    assert ours.oob_score_ == pytest.approx(r2_score(y, ours.oob_prediction_), rel=1e-12)


@pytest.mark.parametrize(
    ("ours", "ref", "y"),
    [
        (me.BaggingClassifier(), ske.BaggingClassifier(), YM),
        (
            me.StackingRegressor([("lin", LinearRegression())]),
            ske.StackingRegressor([("lin", LinearRegression())]),
            YR,
        ),
    ],
)
def test_2d_targets_scikit_learn_refuses_are_refused(ours, ref, y):
    X = XM if y is YM else XR
    with pytest.raises(ValueError):
        ref.fit(X, y)
    with pytest.raises(ValueError, match="y must be 1-D"):
        ours.fit(X, y)


MULTILABEL_MEMBERS = [
    ("tree", DecisionTreeClassifier(random_state=0)),  # predict_proba: one (n, 2) per label
    ("mlp", MLPClassifier(max_iter=50, random_state=0)),  # predict_proba: (n, n_labels)
    ("ridge", RidgeClassifier()),  # decision_function: (n, n_labels)
]


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("stack_method", ["auto", "predict"])
@pytest.mark.parametrize("passthrough", [False, True])
def test_stacking_classifier_multilabel_equals_sklearn(stack_method, passthrough):
    """Same deterministic members and 5 unshuffled folds of 20 (scikit-learn's KFold for a
    multilabel y): the final estimator sees the same out-of-fold meta-features, and
    transform, predict and stack_method_ agree."""
    kw = dict(final_estimator=KNeighborsClassifier(), stack_method=stack_method)
    kw["passthrough"] = passthrough
    ours = me.StackingClassifier(MULTILABEL_MEMBERS, **kw).fit(XM, YM)
    ref = ske.StackingClassifier(MULTILABEL_MEMBERS, **kw).fit(XM, YM)
    assert ours.stack_method_ == ref.stack_method_
    for a, b in zip(ours.classes_, ref.classes_, strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(ours.transform(XM), ref.transform(XM), rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(ours.predict(XM), ref.predict(XM))
    # one name per column (scikit-learn 1.9 names a member's three label columns once)
    names = [f"stackingclassifier_{m}{k}" for m in ("tree", "mlp", "ridge") for k in range(3)]
    names += [f"x{i}" for i in range(XM.shape[1])] if passthrough else []
    np.testing.assert_array_equal(ours.get_feature_names_out(), names)


@pytest.mark.filterwarnings("ignore:Number of classes in training fold")
def test_stacking_classifier_multilabel_out_of_fold_features_equal_sklearn():
    """A label with its only positive in the first fold: the four fold models that never saw
    it give one probability column, filled to probability 0 for the missing class as
    scikit-learn's cross_val_predict does."""
    y = YM.copy()
    y[:, 2] = 0
    y[3, 2] = 1
    members = [MULTILABEL_MEMBERS[0], MULTILABEL_MEMBERS[2]]
    kw = dict(final_estimator=_RecordingFinal(), stack_method="auto")
    ours = me.StackingClassifier(members, **kw).fit(XM, y)
    ref = ske.StackingClassifier(members, **kw).fit(XM, y)
    assert ours.final_estimator_.Z_.shape == (100, 6)
    np.testing.assert_allclose(ours.final_estimator_.Z_, ref.final_estimator_.Z_, atol=1e-12)
    np.testing.assert_array_equal(ours.final_estimator_.y_, ref.final_estimator_.y_)


def test_stacking_classifier_multilabel_forest_member_and_probabilities():
    """A fitted mlcanon forest gives one (n, 2) block per label: the stacked column of each
    label is its second column, in both stackers. predict_proba gives each label's probability
    of presence, the final KNN's second column (scikit-learn 1.9 returns the first, 1 - it)."""
    forest = me.RandomForestClassifier(n_estimators=10, random_state=0).fit(XM, YM)
    kw = dict(final_estimator=KNeighborsClassifier(), cv="prefit", stack_method="predict_proba")
    ours = me.StackingClassifier([("rf", forest)], **kw).fit(XM, YM)
    ref = ske.StackingClassifier([("rf", forest)], **kw).fit(XM, YM)
    expected = np.column_stack([p[:, 1] for p in forest.predict_proba(XM)])
    np.testing.assert_allclose(ours.transform(XM), expected, rtol=1e-12)
    np.testing.assert_allclose(ref.transform(XM), expected, rtol=1e-12)
    presence = np.column_stack([p[:, 1] for p in ours.final_estimator_.predict_proba(expected)])
    np.testing.assert_allclose(ours.predict_proba(XM), presence, rtol=1e-12)
    np.testing.assert_allclose(ref.predict_proba(XM), 1 - presence, rtol=1e-12)


def test_stacking_classifier_multilabel_probability_of_a_label_never_or_always_present():
    """A label absent from every training row has presence probability 0, one present in every
    row 1, in agreement with predict."""
    y = YM.copy()
    y[:, 1], y[:, 2] = 0, 1
    members = [MULTILABEL_MEMBERS[0]]
    model = me.StackingClassifier(members, final_estimator=KNeighborsClassifier()).fit(XM, y)
    proba = model.predict_proba(XM)
    np.testing.assert_array_equal(proba[:, 1:], np.column_stack([np.zeros(100), np.ones(100)]))
    np.testing.assert_array_equal(model.predict(XM)[:, 1:], y[:, 1:])


@pytest.mark.parametrize(
    ("y", "what"),
    [
        (np.where(np.arange(100)[:, None] == 0, 2, YM), "3 distinct value"),
        (YM + 0.5, "dtype float64"),
        (np.where(YM == 1, "yes", "no"), "dtype <U3"),
    ],
)
def test_stacking_classifier_refuses_a_2d_y_that_is_not_multilabel(y, what):
    stacker = me.StackingClassifier([("ridge", RidgeClassifier())], KNeighborsClassifier())
    with pytest.raises(ValueError, match=f"multilabel indicator.*{what}"):
        stacker.fit(XM, y)
