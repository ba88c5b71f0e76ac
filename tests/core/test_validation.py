import importlib
import inspect
import numbers
import re

import numpy as np
import pytest

from mlcanon._validation import (
    BOOL,
    CV,
    RANDOM_STATE,
    ArrayLike,
    HasMethods,
    Interval,
    Options,
    check_array,
    check_consistent_length,
    check_integer,
    check_option,
    check_random_state,
    check_sample_weight,
    check_scalar,
    check_scalars,
    validate_args,
    validate_params,
)


def test_check_scalar_bounds_and_types():
    assert check_scalar(0.5, "alpha", low=0, high=1) == 0.5
    with pytest.raises(ValueError, match=r"alpha must be >= 0, got -1"):
        check_scalar(-1, "alpha", low=0)
    with pytest.raises(ValueError, match=r"tol must be > 0, got 0"):
        check_scalar(0, "tol", low=0, include_low=False)
    with pytest.raises(TypeError, match=r"max_iter must be Integral, got float"):
        import numbers

        check_scalar(1.5, "max_iter", kind=numbers.Integral)
    with pytest.raises(TypeError, match="bool"):
        check_scalar(True, "alpha")
    with pytest.raises(ValueError, match="finite"):
        check_scalar(float("nan"), "alpha")


def test_numpy_bool_is_named_apart_from_pythons_bool():
    # NumPy's bool type is named 'bool' too: the message said 'must be bool, got bool np.True_'
    # (ClassBalancedSampler had a special case for it). Its name as Python spells it out:
    numpy_bool = f"{type(np.True_).__module__}.{type(np.True_).__name__}"
    assert numpy_bool == "numpy.bool"
    with pytest.raises(TypeError, match=re.escape(f"flag must be bool, got {numpy_bool} np.True_")):
        check_scalar(np.True_, "flag", kind=bool)
    with pytest.raises(TypeError, match=re.escape(f"n must be int, got {numpy_bool} np.False_")):
        check_integer(np.False_, "n")
    # names that are no builtin's stay bare, as before
    with pytest.raises(TypeError, match=re.escape("alpha must be Real, got str 'x'")):
        check_scalar("x", "alpha")
    with pytest.raises(TypeError, match=re.escape("n must be int, got float64 np.float64(2.0)")):
        check_integer(np.float64(2.0), "n")


def test_check_option_names_allowed_values():
    with pytest.raises(ValueError, match=r"average must be one of 'micro', 'macro'; got 'x'"):
        check_option("x", "average", ["micro", "macro"])


def test_check_array():
    X = check_array([[1, 2], [3, 4]], ndim=2)
    assert X.dtype == np.float64
    with pytest.raises(ValueError, match="X must be 2-D, got 1-D"):
        check_array([1, 2], ndim=2)
    with pytest.raises(ValueError, match="contains NaN"):
        check_array([1, np.nan])
    with pytest.raises(ValueError, match="infinity"):
        check_array([1, np.inf])
    assert np.isnan(check_array([1, np.nan], allow_nan=True)[1])
    with pytest.raises(ValueError, match="at least 2"):
        check_array([[1.0]], ndim=2, min_samples=2)
    with pytest.raises(TypeError, match="array-like of numbers"):
        check_array(["a", "b"])
    assert check_array(["a", "b"], dtype=None).dtype.kind == "U"
    with pytest.raises(ValueError, match="complex"):
        check_array(np.array([1 + 2j, 3]))


def test_check_array_names_sparse_input():
    # a scipy.sparse matrix: the error said "X must be array-like of numbers, got csr_matrix
    # (setting an array element with a sequence.)"; scikit-learn's check_array names sparsity
    sparse = pytest.importorskip("scipy.sparse")
    from sklearn.utils import check_array as sk_check_array

    X = sparse.csr_matrix(np.eye(3))
    with pytest.raises(TypeError) as theirs:
        sk_check_array(X, accept_sparse=False, input_name="X")
    with pytest.raises(TypeError) as ours:
        check_array(X)
    assert str(ours.value) == str(theirs.value)


def test_lengths_weights_and_random_state():
    assert check_consistent_length(a=[1, 2], b=[3, 4]) == 2
    with pytest.raises(ValueError, match="a=2, b=3"):
        check_consistent_length(a=[1, 2], b=[1, 2, 3])
    np.testing.assert_array_equal(check_sample_weight(None, 3), np.ones(3))
    with pytest.raises(ValueError, match="non-negative"):
        check_sample_weight([1, -1], 2)
    with pytest.raises(ValueError, match="expected n_samples=3"):
        check_sample_weight([1, 1], 3)
    a = check_random_state(0).random(3)
    np.testing.assert_array_equal(a, np.random.default_rng(0).random(3))
    with pytest.raises(TypeError, match="random_state"):
        check_random_state("seed")


@pytest.mark.parametrize("seed", [-1, np.int64(-5)])
def test_negative_random_state_is_named(seed):
    from mlcanon.datasets import make_shapes

    with pytest.raises(ValueError, match=rf"random_state must be an int >= 0, got {int(seed)}"):
        check_random_state(seed)
    with pytest.raises(ValueError, match=r"random_state must be an int >= 0, got -1"):
        make_shapes(2, random_state=-1)


class _Toy:
    _parameter_constraints = {  # noqa: RUF012
        "alpha": Interval(low=0.0),
        "depth": (None, Interval(numbers.Integral, low=1)),
        "gamma": (Options("scale", "auto"), Interval(low=0, include_low=False)),
        "solver": Options("svd", "lsqr"),
    }

    def __init__(self, alpha=1.0, depth=None, gamma="scale", solver="svd"):
        self.alpha, self.depth, self.gamma, self.solver = alpha, depth, gamma, solver


@pytest.mark.parametrize(
    ("params", "error", "match"),
    [
        ({"alpha": -1.0}, ValueError, r"^alpha must be >= 0.0, got -1.0$"),
        ({"alpha": "big"}, TypeError, r"^alpha must be Real, got str 'big'$"),
        ({"depth": 0}, ValueError, r"^depth must be >= 1, got 0$"),
        (
            {"depth": 2.5},
            TypeError,
            r"^depth must be None or an int in the range \[1, inf\); got float 2.5$",
        ),
        (
            {"gamma": "fast"},
            ValueError,
            r"^gamma must be one of 'scale', 'auto' or a float in the range \(0, inf\); got str "
            r"'fast'$",
        ),
        (  # the alternatives too, in scikit-learn's words (which its tests match)
            {"gamma": 0.0},
            ValueError,
            r"^gamma must be > 0, got 0.0 \(the 'gamma' parameter of _Toy must be one of "
            r"'scale', 'auto' or a float in the range \(0, inf\)\)$",
        ),
        (
            {"gamma": [1]},
            TypeError,
            r"^gamma must be one of 'scale', 'auto' or a float in the range \(0, inf\); got list",
        ),
        ({"solver": 3}, TypeError, r"^solver must be one of 'svd', 'lsqr'; got int 3$"),
    ],
)
def test_validate_params_names_parameter_allowed_values_and_value(params, error, match):
    with pytest.raises(error, match=match):
        validate_params(_Toy(**params))


def test_validate_params_accepts_every_allowed_form():
    for params in ({}, {"depth": 3, "gamma": 0.5, "solver": "lsqr"}, {"gamma": "auto"}):
        assert validate_params(_Toy(**params)) is None  # no error for any allowed form


_ARGS = {
    "weights": (None, ArrayLike(low=0)),
    "estimator": HasMethods("fit", "predict"),
    "seed": RANDOM_STATE,
    "flag": BOOL,
}


@pytest.mark.parametrize(
    ("args", "error", "match"),
    [
        (
            {"weights": [1.0, -2.0]},
            ValueError,
            r"^weights must be >= 0 in every entry; got min -2.0$",
        ),
        ({"weights": [1.0, np.nan]}, ValueError, r"^Input weights contains NaN\.$"),
        ({"weights": 3.0}, TypeError, r"^weights must be None or an array-like of entries >= 0"),
        ({"weights": "abc"}, TypeError, r"^weights must be None or an array-like"),
        ({"weights": [[1.0], [1.0, 2.0]]}, TypeError, r"^weights must be None or an array-lik"),
        ({"estimator": object()}, TypeError, r"^estimator must be an object with methods fit, pre"),
        ({"seed": -1}, ValueError, r"^seed must be >= 0, got -1 \(the 'seed' parameter must be"),
        ({"flag": 1}, TypeError, r"^flag must be bool \(True or False\); got int 1$"),
        (
            {"seed": "x"},
            TypeError,
            r"^seed must be None or an int in the range \[0, inf\) or an instance of Gen",
        ),
    ],
)
def test_validate_args_names_argument_allowed_values_and_value(args, error, match):
    with pytest.raises(error, match=match):
        validate_args(_ARGS, **args)


def test_validate_args_accepts_every_allowed_form():
    class Model:
        def fit(self): ...

        def predict(self): ...

    allowed = [
        {"weights": None, "estimator": Model(), "seed": None},
        {"weights": np.array([0.0, 2.0]), "seed": 3},
        {"weights": (1, 2), "seed": np.random.default_rng(0)},
        {"seed": np.random.RandomState(0)},
        {"flag": np.True_},
        {"flag": False},
    ]
    for args in allowed:
        assert validate_args(_ARGS, **args) is None  # no error for any allowed form


def _declaring_classes():
    found = {}
    families = ("tree", "svm", "decomposition", "discriminant_analysis", "naive_bayes", "cluster")
    families += ("mixture", "linear_model", "ensemble", "hmm", "preprocessing")
    for family in families:
        module = importlib.import_module(f"mlcanon.{family}")
        for name in module.__all__:
            obj = getattr(module, name)
            if isinstance(obj, type) and hasattr(obj, "_parameter_constraints"):
                found[f"{family}.{name}"] = obj
    return found


DECLARING = _declaring_classes()


def test_check_scalars_names_the_entry_in_scikit_learns_wording():
    np.testing.assert_array_equal(check_scalars((1, 0.5), "alphas", low=0), [1.0, 0.5])
    np.testing.assert_array_equal(check_scalars(0.5, "l1_ratio", low=0, high=1), [0.5])
    with pytest.raises(ValueError, match=r"^alphas\[1\] == -1, must be >= 0.0.$"):
        check_scalars((1, -1, -100), "alphas", low=0)
    with pytest.raises(ValueError, match=r"^alphas\[0\] == 0.0, must be > 0.0.$"):
        check_scalars(np.array([0.0, 1.0]), "alphas", low=0, include_low=False)
    with pytest.raises(ValueError, match=r"^l1_ratio == 1.5, must be <= 1.0.$"):
        check_scalars(1.5, "l1_ratio", low=0, high=1)
    with pytest.raises(TypeError, match=r"^alphas\[2\] must be an instance of float, not str"):
        check_scalars((1, 1.0, "1"), "alphas")
    for bad in (True, [1.0, [2.0, 3.0]]):
        with pytest.raises(TypeError, match="must be an instance of float"):
            check_scalars(bad, "alphas")
    with pytest.raises(ValueError, match="must be finite"):
        check_scalars([np.nan], "alphas")
    with pytest.raises(ValueError, match="alphas must hold at least one value; got an empty list"):
        check_scalars([], "alphas")


def test_cv_folds_accepts_what_check_cv_reads_and_refuses_a_string():
    from sklearn.model_selection import KFold

    pairs = [(np.arange(5, 10), np.arange(5)), (np.arange(5), np.arange(5, 10))]
    for value in (None, 2, np.int64(5), KFold(3), pairs, iter(pairs)):
        validate_args({"cv": CV}, cv=value)
    allowed = r"cv must be None, an int >= 2, a splitter \(an object with split and get_n_splits"
    with pytest.raises(ValueError, match=allowed + r".*; got str 'abc'"):
        validate_args({"cv": CV}, cv="abc")  # a str has .split, but is no splitter
    with pytest.raises(ValueError, match="cv must be >= 2, got 1"):
        validate_args({"cv": CV}, cv=1)
    for value in (2.5, True, object()):
        with pytest.raises(TypeError, match=allowed):
            validate_args({"cv": CV}, cv=value)
    with pytest.raises(ValueError, match=r"cv must be one of 'prefit' or None, an int >= 2"):
        validate_args({"cv": (Options("prefit"), CV)}, cv="abc")


@pytest.mark.parametrize("cls", list(DECLARING.values()), ids=list(DECLARING))
def test_declared_constraints_name_constructor_parameters(cls):
    params = set(inspect.signature(cls.__init__).parameters) - {"self"}
    assert set(cls._parameter_constraints) <= params


@pytest.mark.parametrize("cls", list(DECLARING.values()), ids=list(DECLARING))
def test_every_constructor_parameter_is_declared(cls):
    """Each hyper-parameter is checked in one place, validate_params (issue 15, item 2)."""
    params = set(inspect.signature(cls.__init__).parameters) - {"self"}
    assert params - set(cls._parameter_constraints) == set()


@pytest.mark.parametrize("value", [1, 0, 1.5, 0.0])
def test_a_value_of_an_alternatives_type_names_all_alternatives_as_sklearn(value):
    """min_samples_split=1 is an int below 2, but also not the fraction 1.0: as scikit-learn
    does, the error lists both alternatives in its words, which its own tests match
    (sklearn/tree/tests/test_tree.py::test_min_sample_split_1_error); it said only
    "min_samples_split must be >= 2, got 1"."""
    from sklearn.tree import DecisionTreeClassifier as SkTree

    from mlcanon.tree import DecisionTreeClassifier

    X, y = np.array([[0.0, 0.0], [1.0, 1.0]]), np.array([0, 1])
    match = (
        r"'min_samples_split' .* must be an int in the range \[2, inf\) "
        r"or a float in the range \(0.0, 1.0\]"
    )
    with pytest.raises(ValueError, match=match):
        SkTree(min_samples_split=value).fit(X, y)
    with pytest.raises(ValueError, match=match) as caught:
        DecisionTreeClassifier(min_samples_split=value).fit(X, y)
    assert str(caught.value).startswith("min_samples_split must be ")  # the failed bound first
    assert f"got {value!r}" in str(caught.value)


_NU_RANGE = r" \(the 'nu' parameter must be a float in the range \(0, 1\]\)$"


@pytest.mark.parametrize(
    ("value", "match"),
    [(1.5, r"^nu must be <= 1, got 1\.5" + _NU_RANGE), (0, r"^nu must be > 0, got 0" + _NU_RANGE)],
)
def test_two_sided_range_names_both_bounds(value, match):
    # "nu must be <= 1, got 1.5" named only the bound that failed; scikit-learn's message for
    # the same constraint reads "must be a float in the range (0.0, 1.0]"
    with pytest.raises(ValueError, match=match):
        validate_args({"nu": Interval(low=0, high=1, include_low=False)}, nu=value)


def test_one_sided_range_message_unchanged():
    with pytest.raises(ValueError, match=r"^alpha must be >= 0, got -1$"):
        validate_args({"alpha": Interval(low=0)}, alpha=-1)
