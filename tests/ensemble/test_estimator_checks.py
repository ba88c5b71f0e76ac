"""scikit-learn's estimator contract on every tree, ensemble and imputer of this package."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from mlcanon.ensemble import (
    AdaBoostClassifier,
    AdaBoostRegressor,
    BaggingClassifier,
    BaggingRegressor,
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
    StackingClassifier,
    StackingRegressor,
    VotingClassifier,
    VotingRegressor,
    XGBClassifier,
    XGBRegressor,
)
from mlcanon.preprocessing import KNNImputer, SimpleImputer
from mlcanon.tree import DecisionTreeClassifier, DecisionTreeRegressor

ESTIMATORS = [
    DecisionTreeClassifier(random_state=0),
    DecisionTreeRegressor(random_state=0),
    RandomForestClassifier(n_estimators=5, random_state=0),
    RandomForestRegressor(n_estimators=5, random_state=0),
    AdaBoostClassifier(n_estimators=5, random_state=0),
    AdaBoostRegressor(n_estimators=5, random_state=0),
    GradientBoostingClassifier(n_estimators=5, random_state=0),
    GradientBoostingRegressor(n_estimators=5, random_state=0),
    XGBClassifier(n_estimators=5, max_bin=32, random_state=0),
    XGBRegressor(n_estimators=5, max_bin=32, random_state=0),
    BaggingClassifier(n_estimators=3, random_state=0),
    BaggingRegressor(n_estimators=3, random_state=0),
    VotingClassifier(
        [
            ("a", DecisionTreeClassifier(max_depth=2, random_state=0)),
            ("b", DecisionTreeClassifier(random_state=0)),
        ],
        voting="soft",
    ),
    VotingRegressor(
        [
            ("a", DecisionTreeRegressor(max_depth=2, random_state=0)),
            ("b", DecisionTreeRegressor(random_state=0)),
        ]
    ),
    StackingClassifier(
        [
            ("a", DecisionTreeClassifier(max_depth=2, random_state=0)),
            ("b", DecisionTreeClassifier(random_state=0)),
        ],
        final_estimator=DecisionTreeClassifier(max_depth=2, random_state=0),
        cv=2,
    ),
    StackingRegressor(
        [
            ("a", DecisionTreeRegressor(max_depth=2, random_state=0)),
            ("b", DecisionTreeRegressor(random_state=0)),
        ],
        final_estimator=DecisionTreeRegressor(max_depth=2, random_state=0),
        cv=2,
    ),
    SimpleImputer(),
    KNNImputer(),
]


# Not applicable, with the reason (scikit-learn marks the same checks as expected failures for
# its own RandomForest*, AdaBoost* and GradientBoostingClassifier).
_WEIGHTS_NOT_REPEATS = {
    "RandomForestClassifier": "bootstrap draws differ between weighted and repeated rows",
    "RandomForestRegressor": "bootstrap draws differ between weighted and repeated rows",
    "AdaBoostClassifier": "randomised learners: equal in distribution, not sample by sample",
    "AdaBoostRegressor": "weighted bootstrap resampling: equal in distribution only",
    "GradientBoostingClassifier": "float sums of repeated vs weighted rows break exact ties",
    "BaggingClassifier": "rows are drawn with probabilities proportional to the weights",
    "BaggingRegressor": "rows are drawn with probabilities proportional to the weights",
}


def _expected_failures(estimator):
    reason = _WEIGHTS_NOT_REPEATS.get(type(estimator).__name__)
    if not reason:
        return {}
    checks = ["check_sample_weight_equivalence_on_dense_data"]
    if estimator.__sklearn_tags__().input_tags.sparse:
        checks.append("check_sample_weight_equivalence_on_sparse_data")
    return dict.fromkeys(checks, reason)


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected_failures)
def test_sklearn_contract(estimator, check):
    check(estimator)
