"""A fitted tree or ensemble reads only the columns it was fitted on: ``X`` of another width is
refused by every prediction method (the numba kernels index rows without bounds checks), and a
``warm_start`` refit on other columns, classes or outputs is refused before the kept members
would read or score them wrongly."""

import numpy as np
import pytest
import sklearn.ensemble as ske

from mlcanon import ensemble as me
from mlcanon import tree as mt
from mlcanon.linear_model import LinearRegression, LogisticRegression

RNG = np.random.default_rng(0)
X = RNG.normal(size=(60, 5))
Y_CLF = np.arange(60) % 3
Y_REG = X[:, 4] + X[:, 0]

MODELS = {
    "DecisionTreeClassifier": mt.DecisionTreeClassifier,
    "DecisionTreeRegressor": mt.DecisionTreeRegressor,
    "ExtraTreeClassifier": mt.ExtraTreeClassifier,
    "ExtraTreeRegressor": mt.ExtraTreeRegressor,
    "RandomForestClassifier": lambda: me.RandomForestClassifier(5, random_state=0),
    "RandomForestRegressor": lambda: me.RandomForestRegressor(5, random_state=0),
    "ExtraTreesClassifier": lambda: me.ExtraTreesClassifier(5, random_state=0),
    "ExtraTreesRegressor": lambda: me.ExtraTreesRegressor(5, random_state=0),
    "GradientBoostingClassifier": lambda: me.GradientBoostingClassifier(n_estimators=5),
    "GradientBoostingRegressor": lambda: me.GradientBoostingRegressor(n_estimators=5),
    "AdaBoostClassifier": lambda: me.AdaBoostClassifier(n_estimators=5, random_state=0),
    "AdaBoostRegressor": lambda: me.AdaBoostRegressor(n_estimators=5, random_state=0),
    "BaggingClassifier": lambda: me.BaggingClassifier(n_estimators=5, random_state=0),
    "BaggingRegressor": lambda: me.BaggingRegressor(n_estimators=5, random_state=0),
    "XGBClassifier": lambda: me.XGBClassifier(n_estimators=5),
    "XGBRegressor": lambda: me.XGBRegressor(n_estimators=5),
    "VotingClassifier": lambda: me.VotingClassifier(
        [("t", mt.DecisionTreeClassifier()), ("lr", LogisticRegression())], voting="soft"
    ),
    "VotingRegressor": lambda: me.VotingRegressor(
        [("t", mt.DecisionTreeRegressor()), ("lr", LinearRegression())]
    ),
    "StackingClassifier": lambda: me.StackingClassifier(
        [("t", mt.DecisionTreeClassifier()), ("lr", LogisticRegression())], cv=3
    ),
    "StackingRegressor": lambda: me.StackingRegressor(
        [("t", mt.DecisionTreeRegressor()), ("lr", LinearRegression())], cv=3
    ),
}
METHODS = (
    "predict",
    "predict_proba",
    "predict_log_proba",
    "decision_function",
    "apply",
    "decision_path",
    "transform",
    "score",
    "staged_predict",
    "staged_predict_proba",
    "staged_decision_function",
    "staged_score",
)


@pytest.mark.parametrize("name", MODELS)
def test_every_prediction_method_refuses_another_width(name):
    model = MODELS[name]()
    y = Y_CLF if "Classifier" in name else Y_REG
    model.fit(X, y)
    methods = [m for m in METHODS if hasattr(model, m)]
    assert "predict" in methods
    for width in (4, 6):
        Xw = RNG.normal(size=(3, width))
        for method in methods:
            args = (Xw, y[:3]) if method in ("score", "staged_score") else (Xw,)
            with pytest.raises(ValueError, match=f"X has {width} features, but .* expecting 5"):
                out = getattr(model, method)(*args)
                if method.startswith("staged"):
                    next(iter(out))


WARM = {
    "GradientBoostingClassifier": me.GradientBoostingClassifier,
    "GradientBoostingRegressor": me.GradientBoostingRegressor,
    "RandomForestClassifier": me.RandomForestClassifier,
    "RandomForestRegressor": me.RandomForestRegressor,
    "ExtraTreesClassifier": me.ExtraTreesClassifier,
    "ExtraTreesRegressor": me.ExtraTreesRegressor,
    "BaggingClassifier": me.BaggingClassifier,
    "BaggingRegressor": me.BaggingRegressor,
}


def _warm(name):
    model = WARM[name](n_estimators=4, warm_start=True, random_state=0)
    return model.fit(X, Y_CLF if "Classifier" in name else Y_REG)


@pytest.mark.parametrize("name", WARM)
def test_warm_start_refuses_other_columns(name):
    """scikit-learn refuses the refit of gradient boosting ("X has 2 features, but
    DecisionTreeRegressor is expecting 5 features as input"); its forests accept it and fail
    at predict. Here every warm start refuses it at fit, and the fitted model is unchanged."""
    model = _warm(name)
    before = model.predict(X)
    y = Y_CLF if "Classifier" in name else Y_REG
    with pytest.raises(ValueError, match=f"X has 2 features, but {name} is expecting 5"):
        model.set_params(n_estimators=8).fit(X[:, :2], y)
    assert model.n_features_in_ == 5
    np.testing.assert_array_equal(model.predict(X), before)
    assert len(model.set_params(n_estimators=8).fit(X, y).estimators_) == 8  # same columns grow


def test_sklearn_refuses_fewer_columns_in_gradient_boosting():
    model = ske.GradientBoostingRegressor(n_estimators=4, warm_start=True).fit(X, Y_REG)
    with pytest.raises(ValueError, match=r"X has 2 features, but .* expecting 5 features"):
        model.set_params(n_estimators=8).fit(X[:, :2], Y_REG)


@pytest.mark.parametrize("name", [n for n in WARM if "Classifier" in n])
@pytest.mark.parametrize("y_new", [np.arange(60) % 2, np.where(Y_CLF == 2, 5, Y_CLF)])
def test_warm_start_refuses_other_classes(name, y_new):
    """The kept members score the classes [0, 1, 2] (scikit-learn 1.9 accepts the refit and
    returns probabilities for the wrong labels, or crashes)."""
    model = _warm(name)
    before = model.predict_proba(X)
    with pytest.raises(ValueError, match=r"fitted on the classes \[0, 1, 2\]; y has the classes"):
        model.set_params(n_estimators=8).fit(X, y_new)
    np.testing.assert_array_equal(model.predict_proba(X), before)


def test_warm_start_forest_refuses_other_outputs():
    model = _warm("RandomForestRegressor")
    with pytest.raises(ValueError, match=r"predict 1 output\(s\); y has 2"):
        model.set_params(n_estimators=8).fit(X, np.c_[Y_REG, Y_REG])
    multi = me.RandomForestClassifier(4, warm_start=True, random_state=0).fit(
        X, np.c_[Y_CLF, Y_CLF]
    )
    with pytest.raises(ValueError, match=r"fitted on the classes \[\[0, 1, 2\], \[0, 1, 2\]\]"):
        multi.set_params(n_estimators=8).fit(X, np.c_[Y_CLF, Y_CLF % 2])
