"""Data frames in, as scikit-learn takes them: ``feature_names_in_`` recorded at fit and checked
afterwards, ``get_feature_names_out`` and ``set_output(transform="pandas")`` on the transformers,
and ``pandas.NA`` as the imputers' missing-value marker.

The references are scikit-learn's own estimator checks (run on every public estimator) and
scikit-learn's estimators given the same frames.
"""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path

import numpy as np
import pytest
import sklearn.ensemble as ske
import sklearn.impute as ski
import sklearn.linear_model as sklm
import sklearn.tree as sktree
from sklearn.base import BaseEstimator
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_diabetes
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import estimator_checks as checks

import mlcanon
import mlcanon.ensemble
import mlcanon.tree
from mlcanon.ensemble import (
    StackingClassifier,
    StackingRegressor,
    VotingClassifier,
    VotingRegressor,
)
from mlcanon.linear_model import LogisticRegression, Ridge, RidgeClassifierCV, RidgeCV
from mlcanon.preprocessing import KNNImputer, MissingIndicator, SimpleImputer
from mlcanon.tree import DecisionTreeClassifier, DecisionTreeRegressor

_SPEC = importlib.util.spec_from_file_location(
    "_mlcanon_test_estimators", Path(__file__).with_name("_estimators.py")
)
_estimators = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(_estimators)

pd = pytest.importorskip("pandas")

# CategoricalHMM takes one column of integer symbols (the check feeds continuous columns).
_OUT_OF_SCOPE = ("CategoricalHMM", "LabelEncoder")  # LabelEncoder: labels, not X
_MEMBERS = {
    "Classifier": [("lr", LogisticRegression()), ("tree", DecisionTreeClassifier())],
    "Regressor": [("ridge", Ridge()), ("tree", DecisionTreeRegressor())],
}


def _instance(cls: type) -> BaseEstimator:
    if cls in (StackingClassifier, StackingRegressor, VotingClassifier, VotingRegressor):
        return cls(
            estimators=_MEMBERS["Classifier" if "Classifier" in cls.__name__ else "Regressor"]
        )
    return cls()


def _public_estimators() -> list[BaseEstimator]:
    found = [RidgeCV(cv=3), RidgeClassifierCV(cv=3)]  # the grid-search path
    return found + [_instance(cls) for cls in _estimators.public_estimator_classes(_OUT_OF_SCOPE)]


ESTIMATORS = _public_estimators()
TRANSFORMERS = [e for e in ESTIMATORS if hasattr(e, "transform")] + [
    SimpleImputer(add_indicator=True),
    KNNImputer(add_indicator=True),
    StackingClassifier(estimators=_MEMBERS["Classifier"], passthrough=True),
]


def _id(estimator: BaseEstimator) -> str:
    cv = getattr(estimator, "cv", None)
    return type(estimator).__name__ + ("" if cv is None else f"(cv={cv})")


def test_every_family_is_covered():
    families = {type(e).__module__.split(".")[1] for e in ESTIMATORS}
    assert len(ESTIMATORS) >= 45
    assert families >= {"linear_model", "tree", "ensemble", "svm", "preprocessing", "cluster"}


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=_id)
def test_column_names_consistency(estimator):
    """scikit-learn's check: names recorded at fit, warnings for arrays after frames (and the
    reverse), and its error wording for renamed, reordered, missing or extra columns."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        # scikit-learn's check turns only its own modules' name warnings into errors
        warnings.filterwarnings("error", message="X (does not have valid|has) feature names")
        checks.check_dataframe_column_names_consistency(_id(estimator), estimator)


@pytest.mark.parametrize(
    "check",
    [
        checks.check_get_feature_names_out_error,
        checks.check_transformer_get_feature_names_out,
        checks.check_transformer_get_feature_names_out_pandas,
        checks.check_set_output_transform,
        checks.check_set_output_transform_pandas,
        checks.check_global_output_transform_pandas,
    ],
    ids=lambda check: check.__name__,
)
@pytest.mark.parametrize("transformer", TRANSFORMERS, ids=_id)
def test_transformer_output_names(transformer, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the checks mix frames and arrays
        check(_id(transformer), transformer)


def _frame_with_gaps() -> pd.DataFrame:
    nan = np.nan
    columns = {
        "age": [31, nan, 45, 22],
        "income": [nan, nan, nan, 1],
        "score": [0.5, 0.7, nan, 0.1],
    }
    return pd.DataFrame({**columns, "empty": [nan] * 4}, dtype=float)


@pytest.mark.parametrize(
    ("ours", "ref"),
    [
        (SimpleImputer(add_indicator=True), ski.SimpleImputer(add_indicator=True)),
        (KNNImputer(add_indicator=True), ski.KNNImputer(add_indicator=True)),
        (MissingIndicator(features="all"), ski.MissingIndicator(features="all")),
    ],
    ids=lambda e: repr(e),
)
def test_imputer_names_match_scikit_learn(ours, ref):
    X = _frame_with_gaps()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the all-missing column is dropped
        ours.fit(X)
        ref.fit(X)
    np.testing.assert_array_equal(ours.feature_names_in_, ref.feature_names_in_)
    out, expected = ours.get_feature_names_out(), ref.get_feature_names_out()
    assert out.dtype == object
    np.testing.assert_array_equal(out, expected)
    given = ["a", "b", "c", "d"]  # input_features when fitted without names
    ours.fit(X.to_numpy())
    ref.fit(X.to_numpy())
    assert not hasattr(ours, "feature_names_in_")
    np.testing.assert_array_equal(
        ours.get_feature_names_out(given), ref.get_feature_names_out(given)
    )


def test_kept_empty_feature_is_named():
    """With ``keep_empty_features`` the all-missing column stays in the output, so it keeps its
    name. (scikit-learn 1.9's KNNImputer drops the name but not the column: 7 names for 8
    columns, and ``set_output(transform="pandas")`` fails on the length mismatch.)"""
    X = _frame_with_gaps()
    imputer = KNNImputer(add_indicator=True, keep_empty_features=True).set_output(
        transform="pandas"
    )
    out = imputer.fit_transform(X)
    expected = ["age", "income", "score", "empty"] + [
        f"missingindicator_{name}" for name in ("age", "income", "score", "empty")
    ]
    assert list(out.columns) == expected
    np.testing.assert_array_equal(imputer.get_feature_names_out(), expected)


def test_stacking_passthrough_names_match_scikit_learn():
    X = pd.DataFrame({"petal": [0.1, 0.9, 0.2, 0.8, 0.3, 0.7] * 3, "sepal": np.arange(18.0)})
    y = np.array([0, 1] * 9)
    members = [("lr", LogisticRegression()), ("tree", DecisionTreeClassifier(random_state=0))]
    ours = StackingClassifier(estimators=members, passthrough=True, cv=3).fit(X, y)
    ref_members = [("lr", sklm.LogisticRegression()), ("tree", sktree.DecisionTreeClassifier())]
    ref = ske.StackingClassifier(estimators=ref_members, passthrough=True, cv=3).fit(X, y)
    np.testing.assert_array_equal(ours.get_feature_names_out(), ref.get_feature_names_out())


def _error(estimator: BaseEstimator, X: pd.DataFrame, y: np.ndarray, X_new: pd.DataFrame) -> str:
    estimator.fit(X, y)
    with pytest.raises(ValueError) as info:
        estimator.predict(X_new)
    return str(info.value)


@pytest.mark.parametrize(
    "rename",
    [
        {"a": "z"},  # one unseen, one missing
        {"a": "b", "b": "a"},  # the same names in another order
    ],
)
def test_mismatch_message_is_scikit_learns(rename):
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(20, 3)), columns=["a", "b", "c"])
    y = X.to_numpy() @ [1.0, -2.0, 0.5]
    X_new = X.rename(columns=rename)
    assert _error(Ridge(), X, y, X_new) == _error(sklm.Ridge(), X, y, X_new)


def test_mixed_column_name_types_are_refused():
    X = pd.DataFrame({"a": [1.0, 2.0, 3.0], 0: [0.0, 1.0, 0.0]})
    with pytest.raises(TypeError, match="Feature names are only supported if all input"):
        sklm.Ridge().fit(X, [1.0, 2.0, 3.0])  # the reference refuses it the same way
    with pytest.raises(TypeError, match="Feature names are only supported if all input"):
        Ridge().fit(X, [1.0, 2.0, 3.0])


def test_refit_on_an_array_forgets_the_names():
    X = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0], "b": [1.0, 0.0, 1.0, 0.0]})
    model = Ridge().fit(X, [0.0, 1.0, 2.0, 3.0])
    np.testing.assert_array_equal(model.feature_names_in_, ["a", "b"])
    model.fit(X.to_numpy(), [0.0, 1.0, 2.0, 3.0])
    assert not hasattr(model, "feature_names_in_")


_NULLABLE = [
    (pd.Series([1, None, 3, 3], dtype="Int64"), dict(strategy="constant", fill_value=-1)),
    (pd.Series([1, None, 2, 3], dtype="Int64"), dict(strategy="median")),
    (pd.Series([1, None, 2, 7], dtype="Int64"), dict(strategy="mean")),
    (pd.Series([1.5, None, 2.0, 2.0], dtype="Float64"), dict(strategy="most_frequent")),
]
_STRINGS = [
    (pd.Series(["x", None, "yy", "x"], dtype="string"), dict(strategy="most_frequent")),
    (pd.Series(["x", None, "yy", "x"], dtype="string"), dict(strategy="constant", fill_value="?")),
]


def _case_id(value):
    if isinstance(value, dict):
        return value["strategy"]
    return value.dtype.name if hasattr(value, "dtype") else repr(value)


@pytest.mark.parametrize(
    ("column", "params", "missing"),
    [(*case, pd.NA) for case in _NULLABLE + _STRINGS] + [(*case, np.nan) for case in _NULLABLE],
    ids=_case_id,
)
def test_pandas_na_marker_matches_scikit_learn(column, params, missing):
    X = pd.DataFrame({"f": column})
    ours = SimpleImputer(missing_values=missing, **params).fit_transform(X)
    ref = ski.SimpleImputer(missing_values=missing, **params).fit_transform(X)
    assert ours.dtype == ref.dtype
    np.testing.assert_array_equal(ours, ref)


@pytest.mark.parametrize(("column", "params"), _STRINGS, ids=_case_id)
def test_pandas_na_under_a_nan_marker_is_refused(column, params):
    """A string column holds pandas.NA, not NaN: np.nan does not mark it. (scikit-learn 1.9
    fails inside its mask with "TypeError: boolean value of NA is ambiguous".)"""
    X = pd.DataFrame({"f": column})
    with pytest.raises(ValueError, match=r"pass missing_values=pandas\.NA"):
        SimpleImputer(missing_values=np.nan, **params).fit(X)


def test_pandas_na_marker_in_the_constraint_message():
    with pytest.raises(TypeError, match=r"missing_values must be .*pandas\.NA"):
        SimpleImputer(missing_values=[0]).fit([[1.0]])


def test_pipeline_of_frames_matches_scikit_learn():
    """In a pipeline whose steps output frames, the final estimator sees the step's column
    names as scikit-learn's does, and nothing warns about names along the way."""
    X, y = load_diabetes(return_X_y=True, as_frame=True)

    def fitted(model):
        steps = [SimpleImputer(), StandardScaler()]
        steps = [step.set_output(transform="pandas") for step in steps]
        return make_pipeline(*steps, model).fit(X, y)

    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        ours, ref = fitted(Ridge(alpha=0.5)), fitted(sklm.Ridge(alpha=0.5))
        np.testing.assert_allclose(ours.predict(X), ref.predict(X), rtol=1e-10)
    np.testing.assert_array_equal(ours[-1].feature_names_in_, ref[-1].feature_names_in_)
    np.testing.assert_array_equal(ours[0].get_feature_names_out(), X.columns)


@pytest.mark.parametrize(
    "name", ["DecisionTreeRegressor", "ExtraTreeRegressor", "RandomForestRegressor"]
)
def test_multi_output_trees_keep_the_names(name):
    """A 2-D y is validated column by column; the names of X survive it, as in scikit-learn."""
    ours_cls = getattr(mlcanon.tree, name, None) or getattr(mlcanon.ensemble, name)
    ref_cls = getattr(sktree, name, None) or getattr(ske, name)
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(30, 3)), columns=["a", "b", "c"])
    Y = np.c_[X["a"] - X["b"], X["c"]]
    for model in (ours_cls(random_state=0), ref_cls(random_state=0)):
        model.fit(X, Y)
        np.testing.assert_array_equal(model.feature_names_in_, ["a", "b", "c"])
        with pytest.raises(ValueError, match="Feature names must be in the same order"):
            model.predict(X[["c", "b", "a"]])


def test_members_get_the_frame():
    """Voting and stacking hand a data frame to their members as it came, so a member that
    picks columns by name works, as in scikit-learn."""
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(40, 3)), columns=["a", "b", "c"])
    y = (X["a"] > 0).astype(int).to_numpy()

    def member():
        pick = ColumnTransformer([("s", StandardScaler(), ["a", "b"])])
        return make_pipeline(pick, sklm.LogisticRegression())

    for ours, ref in [
        (
            VotingClassifier([("p", member())], voting="soft"),
            ske.VotingClassifier([("p", member())], voting="soft"),
        ),
        (  # the same final estimator on both sides: only the members' input is under test
            StackingClassifier([("p", member())], final_estimator=sklm.LogisticRegression(), cv=3),
            ske.StackingClassifier([("p", member())], cv=3),
        ),
    ]:
        ours.fit(X, y)
        ref.fit(X, y)
        np.testing.assert_array_equal(ours.estimators_[0].feature_names_in_, X.columns)
        np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), rtol=1e-10)


def test_repeated_column_names_are_refused():
    X = pd.DataFrame([[1.0, 2.0], [3.0, 4.0], [5.0, 7.0]], columns=["a", "a"])
    with pytest.raises(ValueError, match=r"repeated column names \['a'\]"):
        Ridge().fit(X, [1.0, 2.0, 3.0])


def test_float32_frame_stays_float32_as_scikit_learn():
    X = pd.DataFrame(np.random.default_rng(0).normal(size=(40, 3)).astype(np.float32))
    X.columns = ["a", "b", "c"]
    y = X.to_numpy() @ [1.0, 2.0, 3.0]
    assert Ridge().fit(X, y).coef_.dtype == sklm.Ridge().fit(X, y).coef_.dtype == np.float32
    mixed = X.astype({"a": np.float64})  # one float64 column: float64, as scikit-learn
    assert Ridge().fit(mixed, y).coef_.dtype == sklm.Ridge().fit(mixed, y).coef_.dtype


def _nullable_frame(with_na: bool) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    a = rng.normal(size=40)
    if with_na:
        a[[3, 7]] = np.nan
    counts = rng.integers(0, 5, 40).astype(object)
    if with_na:
        counts[11] = None
    return pd.DataFrame({"a": pd.array(a, dtype="Float64"), "b": pd.array(counts, dtype="Int64")})


_TWO_CENTRES = np.array([[-1.0, 0.0], [1.0, 4.0]])
_NULLABLE_FITS = [
    ("KMeans", "cluster", dict(n_clusters=2, init=_TWO_CENTRES), "transform"),
    ("PCA", "decomposition", dict(n_components=1), "transform"),
    ("GaussianNB", "naive_bayes", {}, "predict_proba"),
    ("LinearDiscriminantAnalysis", "discriminant_analysis", {}, "predict_proba"),
    ("SVC", "svm", {}, "decision_function"),
    ("GaussianMixture", "mixture", dict(n_components=1), "score_samples"),
    ("DecisionTreeClassifier", "tree", dict(random_state=0), "predict_proba"),
]


@pytest.mark.parametrize("with_na", [False, True], ids=["no_na", "pandas_na"])
@pytest.mark.parametrize(("name", "package", "params", "method"), _NULLABLE_FITS, ids=lambda v: v)
def test_nullable_columns_are_read_as_scikit_learn_reads_them(
    name, package, params, method, with_na
):
    """Float64 and Int64 columns (pandas' nullable dtypes) become float64 with NaN for
    pandas.NA, as scikit-learn's check_array converts them: without NA the fit is the one on the
    float64 array; with NA an estimator that takes NaN (the tree) predicts as scikit-learn's,
    the others refuse NaN as scikit-learn's do. (They were refused as not numeric.)"""
    import importlib

    ours_cls = getattr(importlib.import_module(f"mlcanon.{package}"), name)
    ref_cls = getattr(importlib.import_module(f"sklearn.{package}"), name)
    X = _nullable_frame(with_na)
    y = np.arange(40) % 2
    try:
        ref = ref_cls(**params).fit(X, y)
    except ValueError as exc:
        assert "contains NaN" in str(exc)
        with pytest.raises(ValueError, match="contains NaN"):
            ours_cls(**params).fit(X, y)
        return
    ours = ours_cls(**params).fit(X, y)
    expected = getattr(ref, method)(X)
    np.testing.assert_allclose(getattr(ours, method)(X), expected, rtol=1e-7, atol=1e-9)
    np.testing.assert_array_equal(ours.feature_names_in_, ["a", "b"])
