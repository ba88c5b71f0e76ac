"""Shared input checks: every public entry point validates here and raises a clear error.

Messages name the parameter, what is allowed and what was given, e.g.
``ValueError: alpha must be >= 0, got -1.0``.
"""

from __future__ import annotations

import builtins
import numbers
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "BOOL",
    "CLASS_WEIGHT",
    "CV",
    "RANDOM_STATE",
    "AnyValue",
    "ArrayLike",
    "Boolean",
    "CVFolds",
    "HasMethods",
    "InstanceOf",
    "Interval",
    "IsCallable",
    "Options",
    "check_array",
    "check_consistent_length",
    "check_option",
    "check_random_state",
    "check_sample_weight",
    "check_scalar",
    "check_scalars",
    "is_nullable_number",
    "pandas_nullable_as_float",
    "validate_args",
    "validate_params",
]


def _type_name(value: Any) -> str:
    """The name of ``value``'s type, with its module where the name is a builtin's too
    (NumPy's bool is named ``bool``: ``numpy.bool``), so that 'must be bool, got bool' cannot
    be said."""
    kind = type(value)
    if kind.__module__ != "builtins" and hasattr(builtins, kind.__name__):
        return f"{kind.__module__}.{kind.__name__}"
    return kind.__name__


def check_scalar(
    value: Any,
    name: str,
    *,
    kind: type | tuple[type, ...] = numbers.Real,
    low: float | None = None,
    high: float | None = None,
    include_low: bool = True,
    include_high: bool = True,
) -> Any:
    """Check that ``value`` is a scalar of type ``kind`` inside ``[low, high]``.

    Booleans are rejected where a number is asked for, as scikit-learn does.
    """
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if (isinstance(value, bool) and bool not in kinds) or not isinstance(value, kinds):
        allowed = " or ".join(getattr(k, "__name__", str(k)) for k in kinds)
        raise TypeError(f"{name} must be {allowed}, got {_type_name(value)} {value!r}")
    if isinstance(value, numbers.Real) and not isinstance(value, int) and not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    if low is not None and (value < low if include_low else value <= low):
        raise ValueError(f"{name} must be {'>=' if include_low else '>'} {low}, got {value!r}")
    if high is not None and (value > high if include_high else value >= high):
        raise ValueError(f"{name} must be {'<=' if include_high else '<'} {high}, got {value!r}")
    return value


def check_integer(value: Any, name: str, *, low: int | None = None, high: int | None = None) -> int:
    """Check that ``value`` is an integer inside ``[low, high]``; return it as a Python ``int``.

    Any ``numbers.Integral`` counts (NumPy's ``np.int64`` and the like, as torch and scikit-learn
    accept them); booleans and integral floats (``3.0``) are refused.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be int, got {_type_name(value)} {value!r}")
    return check_scalar(int(value), name, kind=int, low=low, high=high)


def check_scalars(
    values: Any,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    include_low: bool = True,
    include_high: bool = True,
) -> np.ndarray:
    """Check a real scalar, or each entry of a sequence of them, against ``[low, high]``; return
    the values as a 1-D float64 array.

    A grid of hyper-parameters (``alphas``, a list of ``l1_ratio``) is checked here. An entry is
    named by its index, and the wording is scikit-learn's (``alphas[1] == -1, must be >= 0.0.``,
    ``alphas[2] must be an instance of float, not str``), so tests written against scikit-learn
    match. An empty sequence, a bool, NaN and infinity are refused too.
    """
    scalar = not isinstance(values, list | tuple) and np.ndim(values) == 0
    entries = [values] if scalar else list(values)
    if not entries:
        raise ValueError(
            f"{name} must hold at least one value; got an empty {type(values).__name__}"
        )
    for i, value in enumerate(entries):
        label = name if scalar else f"{name}[{i}]"
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            kind = type(value).__name__
            raise TypeError(f"{label} must be an instance of float, not {kind} ({value!r})")
        if not np.isfinite(value):
            raise ValueError(f"{label} == {value}, must be finite.")
        if low is not None and (value < low if include_low else value <= low):
            raise ValueError(
                f"{label} == {value}, must be {'>=' if include_low else '>'} {float(low)}."
            )
        if high is not None and (value > high if include_high else value >= high):
            raise ValueError(
                f"{label} == {value}, must be {'<=' if include_high else '<'} {float(high)}."
            )
    return np.asarray(entries, dtype=np.float64)


def check_option(value: Any, name: str, options: Iterable[Any]) -> Any:
    """Check that ``value`` is one of ``options`` (string options never fall through)."""
    options = tuple(options)
    if value not in options:
        allowed = ", ".join(repr(o) for o in options)
        raise ValueError(f"{name} must be one of {allowed}; got {value!r}")
    return value


def pandas_nullable_as_float(X: Any, dtype: Any = np.float64) -> Any:
    """A pandas DataFrame or Series with a nullable (extension) integer, float or boolean
    column converted as scikit-learn's ``check_array`` converts it, before anything else: with
    ``X.astype(dtype)`` (float64 for ``dtype=None``, object when a column is of object dtype),
    ``pandas.NA`` becoming NaN, which the caller then refuses or keeps as for any array.
    Anything else comes back unchanged (``np.asarray`` of such a frame is an object array of
    ``pandas.NA`` that no float conversion takes). pandas is not imported here."""
    pandas = sys.modules.get("pandas")
    if pandas is None or not isinstance(X, pandas.DataFrame | pandas.Series):
        return X
    dtypes = list(X.dtypes) if isinstance(X, pandas.DataFrame) else [X.dtype]
    if not any(is_nullable_number(d) for d in dtypes):
        return X
    if dtype is None:
        dtype = object if any(getattr(d, "kind", None) == "O" for d in dtypes) else np.float64
    return X.astype(dtype)


def is_nullable_number(dtype: Any) -> bool:
    """Whether a pandas column dtype is an extension (nullable) bool, integer or float dtype."""
    return not isinstance(dtype, np.dtype) and getattr(dtype, "kind", "O") in "biuf"


def check_array(
    X: Any,
    name: str = "X",
    *,
    ndim: int | tuple[int, ...] | None = None,
    dtype: Any = np.float64,
    allow_nan: bool = False,
    allow_inf: bool = False,
    min_samples: int = 1,
    copy: bool = False,
) -> np.ndarray:
    """Convert ``X`` to an ndarray and check its dimensions, size and finiteness.

    ``dtype=None`` keeps the input dtype (used for labels, which may be strings). A
    scipy.sparse matrix is refused with scikit-learn's message (``np.asarray`` would wrap it in
    a 0-d object array, whose conversion error says nothing of sparsity).
    """
    if hasattr(X, "tocsr") and hasattr(X, "nnz"):
        raise TypeError(
            f"Sparse data was passed for {name}, but dense data is required. Use '.toarray()' to "
            "convert to a dense numpy array."
        )
    try:
        raw = np.asarray(pandas_nullable_as_float(X, dtype))
        if raw.dtype.kind != "c":
            arr = np.array(raw, dtype=dtype, copy=True) if copy else np.asarray(raw, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"{name} must be array-like of numbers, got {type(X).__name__} ({exc})"
        ) from exc
    if raw.dtype.kind == "c":  # casting would silently drop the imaginary part
        raise ValueError(f"{name} must be real: complex data are not supported")
    if arr.dtype == object:
        raise TypeError(f"{name} must be a numeric or string array, got dtype=object")
    if ndim is not None:
        dims = ndim if isinstance(ndim, tuple) else (ndim,)
        if arr.ndim not in dims:
            want = " or ".join(f"{d}-D" for d in dims)
            raise ValueError(f"{name} must be {want}, got {arr.ndim}-D array of shape {arr.shape}")
    n = arr.shape[0] if arr.ndim else 1
    if n < min_samples:
        raise ValueError(
            f"{name} has {n} sample(s) (shape={arr.shape}), while at least {min_samples} "
            f"{'is' if min_samples == 1 else 'are'} required"
        )
    if np.issubdtype(arr.dtype, np.inexact):
        if not allow_nan and np.isnan(arr).any():
            raise ValueError(f"Input {name} contains NaN.")
        if not allow_inf and np.isinf(arr).any():
            raise ValueError(f"Input {name} contains infinity.")
    return arr


def check_consistent_length(**arrays: Any) -> int:
    """Check that all given arrays have the same first dimension; return it."""
    # shape[0], not len(): a scipy.sparse matrix has a shape but no length
    lengths = {
        k: v.shape[0] if getattr(v, "shape", ()) else len(v)
        for k, v in arrays.items()
        if v is not None
    }
    if len(set(lengths.values())) > 1:
        desc = ", ".join(f"{k}={n}" for k, n in lengths.items())
        raise ValueError(f"Found input variables with inconsistent numbers of samples: {desc}")
    return next(iter(lengths.values()), 0)


def check_sample_weight(sample_weight: Any, n_samples: int) -> np.ndarray:
    """Return weights of length ``n_samples`` (ones for ``None``), non-negative and finite; a
    number is that weight for every sample, as scikit-learn's (a 0-D array is refused)."""
    if sample_weight is None:
        return np.ones(n_samples)
    if isinstance(sample_weight, numbers.Number):
        sample_weight = np.full(n_samples, sample_weight, dtype=np.float64)
    w = check_array(sample_weight, "sample_weight", ndim=1)
    if w.shape[0] != n_samples:
        raise ValueError(f"sample_weight has {w.shape[0]} entries, expected n_samples={n_samples}")
    if (w < 0).any():
        raise ValueError(f"sample_weight must be non-negative, got min {w.min()!r}")
    return w


def check_random_state(seed: Any) -> np.random.Generator:
    """Turn ``None``, an int or a Generator into a ``numpy.random.Generator``.

    ``None`` draws the seed from NumPy's global generator, as scikit-learn's ``None`` uses it:
    ``np.random.seed(...)`` then makes an unseeded fit reproducible.
    """
    if seed is None:
        return np.random.default_rng(np.random.randint(np.iinfo(np.int32).max))  # noqa: NPY002
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool):
        if seed < 0:  # NumPy's seed sequences take only non-negative integers
            raise ValueError(f"random_state must be an int >= 0, got {seed}")
        return np.random.default_rng(seed)
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, np.random.RandomState):
        return np.random.default_rng(seed.randint(np.iinfo(np.int32).max))
    raise TypeError(f"random_state must be None, an int or a numpy Generator, got {seed!r}")


# Declarative parameter constraints ------------------------------------------------------------
# An estimator lists its hyper-parameters once, in a class attribute read by one validator:
#
#     _parameter_constraints = {
#         "C": Interval(low=0, include_low=False),
#         "max_depth": (None, Interval(numbers.Integral, low=1)),
#         "gamma": (Options("scale", "auto"), Interval(low=0)),
#     }
#
# and calls ``validate_params(self)`` at the start of ``fit``. A tuple lists alternatives;
# ``None`` among them allows the value ``None``. A function declares its arguments the same way
# in a module-level dict and calls ``validate_args(CONSTRAINTS, name=value, ...)``.


@dataclass(frozen=True)
class Interval:
    """A scalar of type ``kind`` (default real) between optional bounds (see check_scalar)."""

    kind: type | tuple[type, ...] = numbers.Real
    low: float | None = None
    high: float | None = None
    include_low: bool = True
    include_high: bool = True

    def check(self, value: Any, name: str) -> Any:
        bounds = {"low": self.low, "high": self.high}
        closed = {"include_low": self.include_low, "include_high": self.include_high}
        return check_scalar(value, name, kind=self.kind, **bounds, **closed)

    def __str__(self) -> str:
        """scikit-learn's wording: "an int in the range [2, inf)", "a float in the range (0.0,
        1.0]" (the bounds as declared, an absent one as -inf or inf, open)."""
        kinds = self.kind if isinstance(self.kind, tuple) else (self.kind,)
        names: list[str] = []
        for k in kinds:
            if isinstance(k, type) and issubclass(k, numbers.Integral | np.integer):
                name = "an int"
            elif isinstance(k, type) and issubclass(k, numbers.Real | np.floating):
                name = "a float"
            else:
                name = getattr(k, "__name__", str(k))
            if name not in names:
                names.append(name)
        left = "[" if self.include_low and self.low is not None else "("
        right = "]" if self.include_high and self.high is not None else ")"
        low = "-inf" if self.low is None else self.low
        high = "inf" if self.high is None else self.high
        return f"{' or '.join(names)} in the range {left}{low}, {high}{right}"


@dataclass(frozen=True, init=False)
class Options:
    """One of a fixed set of values; a value of another type is a TypeError."""

    values: tuple[Any, ...]

    def __init__(self, *values: Any) -> None:
        object.__setattr__(self, "values", values)

    def check(self, value: Any, name: str) -> Any:
        if not any(isinstance(value, type(v)) for v in self.values):
            raise TypeError(f"{name} must be {self}; got {type(value).__name__} {value!r}")
        return check_option(value, name, self.values)

    def __str__(self) -> str:
        return "one of " + ", ".join(repr(v) for v in self.values)


@dataclass(frozen=True)
class IsCallable:
    """Any callable (a user-supplied function such as a kernel)."""

    def check(self, value: Any, name: str) -> Any:
        if not callable(value):
            raise TypeError(f"{name} must be a callable; got {type(value).__name__} {value!r}")
        return value

    def __str__(self) -> str:
        return "a callable"


@dataclass(frozen=True)
class ArrayLike:
    """An array-like of finite numbers (a list, tuple or ndarray of at least one dimension),
    every entry >= ``low`` when it is given; its shape is checked where it is used."""

    low: float | None = None

    def check(self, value: Any, name: str) -> Any:
        try:
            scalar = isinstance(value, (str, bytes)) or np.ndim(value) == 0
        except ValueError as exc:  # nested sequences of unequal lengths
            raise TypeError(f"{name} must be {self}; got a ragged {type(value).__name__}") from exc
        if scalar:
            raise TypeError(f"{name} must be {self}; got {type(value).__name__} {value!r}")
        arr = check_array(value, name, ndim=None)
        if self.low is not None and arr.size and not (arr >= self.low).all():
            low = float(arr.min())
            raise ValueError(f"{name} must be >= {self.low} in every entry; got min {low!r}")
        return value

    def __str__(self) -> str:
        return "an array-like" + ("" if self.low is None else f" of entries >= {self.low}")


@dataclass(frozen=True, init=False)
class InstanceOf:
    """An instance of one of the given types."""

    types: tuple[type, ...]

    def __init__(self, *types: type) -> None:
        object.__setattr__(self, "types", types)

    def check(self, value: Any, name: str) -> Any:
        if not isinstance(value, self.types):
            raise TypeError(f"{name} must be {self}; got {type(value).__name__} {value!r}")
        return value

    def __str__(self) -> str:
        return "an instance of " + " or ".join(t.__name__ for t in self.types)


@dataclass(frozen=True, init=False)
class HasMethods:
    """An object with the given methods (an estimator: ``HasMethods("fit", "predict")``)."""

    methods: tuple[str, ...]

    def __init__(self, *methods: str) -> None:
        object.__setattr__(self, "methods", methods)

    def check(self, value: Any, name: str) -> Any:
        if not all(callable(getattr(value, m, None)) for m in self.methods):
            raise TypeError(f"{name} must be {self}; got {type(value).__name__} {value!r}")
        return value

    def __str__(self) -> str:
        return "an object with methods " + ", ".join(self.methods)


@dataclass(frozen=True)
class AnyValue:
    """No constraint: the value is used as given (a fill value of any type)."""

    def check(self, value: Any, name: str) -> Any:
        return value

    def __str__(self) -> str:
        return "any value"


@dataclass(frozen=True)
class Boolean:
    """``True`` or ``False``, a NumPy bool too (an int is refused)."""

    def check(self, value: Any, name: str) -> Any:
        if not isinstance(value, bool | np.bool_):
            raise TypeError(f"{name} must be {self}; got {type(value).__name__} {value!r}")
        return value

    def __str__(self) -> str:
        return "bool (True or False)"


@dataclass(frozen=True)
class CVFolds:
    """Cross-validation folds for :func:`sklearn.model_selection.check_cv`, what scikit-learn's
    own parameter check accepts as ``cv``: None, an int >= 2 (k-fold), a splitter (``split`` and
    ``get_n_splits``) or an iterable of (train, test) index pairs. A string is refused, though
    it has a ``split`` method."""

    def check(self, value: Any, name: str) -> Any:
        if value is None or (hasattr(value, "split") and hasattr(value, "get_n_splits")):
            return value
        if isinstance(value, numbers.Integral) and not isinstance(value, bool):
            return check_scalar(value, name, kind=numbers.Integral, low=2)
        if isinstance(value, str | bytes):  # iterable, but of characters
            raise ValueError(f"{name} must be {self}; got {type(value).__name__} {value!r}")
        if not isinstance(value, Iterable):
            raise TypeError(f"{name} must be {self}; got {type(value).__name__} {value!r}")
        return value

    def __str__(self) -> str:
        return (
            "None, an int >= 2, a splitter (an object with split and get_n_splits) or an "
            "iterable of (train, test) index pairs"
        )


BOOL = Boolean()
CV = CVFolds()
# What ``check_random_state`` accepts.
RANDOM_STATE = (
    None,
    Interval(numbers.Integral, low=0),
    InstanceOf(np.random.Generator, np.random.RandomState),
)
# What ``mlcanon._estimator.class_weights`` takes for one target: 'balanced' or {class: weight}.
CLASS_WEIGHT = (None, Options("balanced"), InstanceOf(dict))


def validate_params(estimator: Any) -> None:
    """Check every parameter of ``type(estimator)._parameter_constraints`` against its entry
    (see :func:`validate_args`); an error names the estimator's class too."""
    constraints = type(estimator)._parameter_constraints
    values = {name: getattr(estimator, name) for name in constraints}
    _validate(constraints, values, f" of {type(estimator).__name__}")


def validate_args(constraints: dict[str, Any], **values: Any) -> None:
    """Check each of ``values`` against its entry in ``constraints``.

    A failing parameter raises the error of the one alternative whose type it has (a
    ``ValueError`` naming the parameter, the allowed values and the value given: "alpha must be
    >= 0, got -1"), followed, when there are other alternatives than None, by all of them in
    scikit-learn's words ("min_samples_split must be >= 2, got 1 (the 'min_samples_split'
    parameter of DecisionTreeClassifier must be an int in the range [2, inf) or a float in the
    range (0.0, 1.0])"). Otherwise the error lists every alternative ("max_depth must be None
    or an int in the range [1, inf); got float 2.5"): a
    ``ValueError`` when some alternative had the value's type (a string not among the
    options), a ``TypeError`` when none had.
    """
    _validate(constraints, values, "")


def _validate(constraints: dict[str, Any], values: dict[str, Any], owner: str) -> None:
    for name, value in values.items():
        alternatives = constraints[name]
        alternatives = alternatives if isinstance(alternatives, tuple) else (alternatives,)
        if value is None and None in alternatives:
            continue
        wrong_type, wrong_value = [], []
        for constraint in (c for c in alternatives if c is not None):
            try:
                constraint.check(value, name)
                break
            except TypeError as exc:
                wrong_type.append(exc)
            except ValueError as exc:
                wrong_value.append((constraint, exc))
        else:
            others = [c for c in alternatives if c is not None]
            if len(wrong_value) == 1 and not (
                isinstance(wrong_value[0][0], Options) and len(alternatives) > 1
            ):
                constraint, exc = wrong_value[0]
                if len(others) == 1:  # "alpha must be >= 0, got -1"
                    if isinstance(constraint, Interval) and None not in (
                        constraint.low,
                        constraint.high,
                    ):  # a range bounded on both sides: the bound that held is named too
                        raise ValueError(
                            f"{exc} (the {name!r} parameter{owner} must be {constraint})"
                        ) from None
                    raise exc
                # of the same type as another alternative's: name them all, as scikit-learn does
                allowed = " or ".join("None" if c is None else str(c) for c in alternatives)
                raise ValueError(f"{exc} (the {name!r} parameter{owner} must be {allowed})")
            if len(alternatives) == 1:
                raise wrong_type[0]
            allowed = " or ".join("None" if c is None else str(c) for c in alternatives)
            error = ValueError if wrong_value else TypeError
            raise error(f"{name} must be {allowed}; got {type(value).__name__} {value!r}")
