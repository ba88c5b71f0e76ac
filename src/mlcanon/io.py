"""Safe persistence of fitted estimators: arrays in an ``.npz`` archive plus JSON metadata.

Loading never unpickles: the archive is read with ``allow_pickle=False``, the metadata is JSON,
and the only classes that can be re-created are the public mlcanon estimators (or ones registered
explicitly with :func:`register`). An estimator is saved as its class name and its ``__dict__``
(hyper-parameters and fitted attributes), encoded recursively:

- ``None``, ``bool``, ``int``, ``float``, ``str`` as JSON;
- NumPy arrays (numeric, boolean or string dtypes) and NumPy scalars as archive members;
- scipy.sparse CSR matrices and arrays (an SVC's support vectors after a sparse fit) as their
  shape and their ``data``, ``indices`` and ``indptr`` members, checked on load;
- object arrays of ``None``, ``bool``, ``int``, ``float`` and ``str`` entries (a data frame's
  ``feature_names_in_``) and of NumPy scalars (``classes_`` of labels given as an object array
  of ``np.str_`` or ``np.int64``) as JSON lists, a NumPy scalar as its dtype and its bytes;
- lists, tuples, dicts (keys of the types above, as ``class_weight``'s class labels) and
  scikit-learn's ``Bunch`` of the above;
- nested mlcanon estimators (e.g. the trees of a forest) the same way;
- a ``random_state`` given as a ``np.random.RandomState``, as its Mersenne Twister state (it
  comes back at the same point of its stream).

Each comes back with its type (a NumPy float64 as a NumPy float64, a ``Bunch`` as a ``Bunch``).
Anything else (a lambda, a file handle, an object array of other objects, a dict subclass) raises
``TypeError`` at save time naming the attribute, so a model that cannot round-trip is never
written.

A file is checked before it becomes a model, and every failure is a ``ValueError`` naming the
file and what is wrong:

- a SHA-256 digest of the metadata and of every array, written by :func:`save`, must match, so a
  damaged file (flipped bits, a truncated or edited member) is refused rather than loaded as a
  different model;
- the archive's declared size, unpacked, is at most ``MAX_MODEL_BYTES`` (2 GiB; raise it to
  load larger models), checked before anything is unpacked, so a small file cannot unpack into
  gigabytes;
- the metadata is bounded in size and nesting depth, and every entry must be one that
  :func:`save` writes;
- a class must be one that :func:`save` writes, its stored attributes must be its own (every
  hyper-parameter, no foreign ones; a hyper-parameter the class gained after the file was
  written takes its default, with a warning naming it; fitted classifiers (and label
  encoders) carry ``classes_``, nothing else does;
  per-feature arrays such as ``coef_`` or ``means_`` end in an axis of ``n_features_in_``, and
  are float arrays but for an imputer's fill values ``statistics_``, which may be strings);
- classes with invariants that prediction relies on (a tree's node arrays: indices in range,
  every node reachable exactly once from the root, split features below ``n_features_in_``)
  register a check with :func:`on_load`; those checks defend against a file that was edited
  and re-sealed on purpose, which would otherwise make ``predict`` loop or read out of bounds.

Example
-------
>>> from mlcanon import io                                   # doctest: +SKIP
>>> io.save(model, "model.npz"); same = io.load("model.npz")  # doctest: +SKIP
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import importlib
import inspect
import json
import math
import numbers
import stat
import struct
import warnings
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import ClassifierMixin
from sklearn.utils import Bunch

__all__ = ["load", "on_load", "register", "save"]

FORMAT = "mlcanon-model"
VERSION = 2  # version 2 added the digest
_META = "__meta__"
_DIGEST = "__sha256__"
MAX_META_BYTES = 64 << 20
MAX_MODEL_BYTES = 2 << 30  # the arrays and the metadata, unpacked
MAX_DEPTH = 64  # nesting of the metadata: a stacking of forests of trees is about 12 deep
_REGISTRY: dict[str, type] = {}
_CHECKS: dict[type, list[Callable[[Any], None]]] = {}
# What a damaged archive can raise from inside zipfile / zlib / numpy's .npy reader.
_READ_ERRORS = (
    ValueError,
    OSError,
    EOFError,
    zipfile.BadZipFile,
    zlib.error,
    struct.error,
    NotImplementedError,
    MemoryError,
    OverflowError,
    UnicodeDecodeError,
    KeyError,
    RuntimeError,  # zipfile: a flipped "encrypted" flag asks for a password
)


def register(cls: type) -> type:
    """Allow instances of ``cls`` (defined outside mlcanon) to be saved and loaded."""
    _REGISTRY[_class_key(cls)] = cls
    return cls


def on_load(cls: type) -> Callable[[Callable[[Any], None]], Callable[[Any], None]]:
    """Decorator: run ``check(obj)`` on every loaded instance of ``cls`` (or of a subclass).

    The check raises ``ValueError`` (or ``TypeError``) saying what is inconsistent; :func:`load`
    adds the file name and where in the model the object sits.
    """

    def decorate(check: Callable[[Any], None]) -> Callable[[Any], None]:
        _CHECKS.setdefault(cls, []).append(check)
        return check

    return decorate


def _class_key(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def _is_persistable(obj: Any) -> bool:
    cls = type(obj)
    return _class_key(cls) in _REGISTRY or (
        cls.__module__.startswith("mlcanon.") and hasattr(obj, "get_params")
    )


class _Encoder:
    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}

    def array(self, a: np.ndarray, where: str) -> dict[str, str]:
        if a.dtype.kind not in "biufcUS":
            raise TypeError(f"cannot save {where}: arrays of dtype {a.dtype} are not supported")
        key = f"a{len(self.arrays)}"
        self.arrays[key] = a
        return {"__array__": key}

    def encode(self, v: Any, where: str) -> Any:
        if isinstance(v, np.generic):  # before float: np.float64 is a float and must stay one
            return {"__scalar__": self.array(np.asarray(v), where)["__array__"]}
        if v is None or type(v) in (bool, int, float, str):
            return v
        if isinstance(v, np.ndarray):
            return self.objects(v, where) if v.dtype == object else self.array(v, where)
        if type(v) in (sp.csr_matrix, sp.csr_array):
            parts = {k: self.array(getattr(v, k), f"{where}.{k}")["__array__"] for k in _CSR_PARTS}
            csr = {"shape": list(v.shape), "array": type(v) is sp.csr_array, **parts}
            return {"__csr__": csr}
        if type(v) in (list, tuple):
            items = [self.encode(x, f"{where}[{i}]") for i, x in enumerate(v)]
            return {"__tuple__": items} if isinstance(v, tuple) else {"__list__": items}
        if type(v) in (dict, Bunch):
            if type(v) is dict and not all(type(k) is str for k in v):
                pairs = [
                    [self.encode(k, f"{where} key"), self.encode(x, f"{where}[{k!r}]")]
                    for k, x in v.items()
                ]
                return {"__pairs__": pairs}
            if not all(type(k) is str for k in v):
                raise TypeError(f"cannot save {where}: a Bunch's keys must be strings")
            items = {k: self.encode(x, f"{where}[{k!r}]") for k, x in v.items()}
            return {"__bunch__" if type(v) is Bunch else "__dict__": items}
        if type(v) is np.random.RandomState:  # a random_state given as an instance
            name, keys, pos, has_gauss, cached = v.get_state(legacy=True)
            key = self.array(keys, f"{where} state")["__array__"]
            return {"__random_state__": [name, key, int(pos), int(has_gauss), float(cached)]}
        if _is_persistable(v):
            return {"__object__": self.state(v, where)}
        raise TypeError(f"cannot save {where}: values of type {type(v).__name__} are not supported")

    def objects(self, a: np.ndarray, where: str) -> dict[str, Any]:
        """An object array of JSON scalars (``feature_names_in_``, ``l1_ratios_ = [None]``) and
        NumPy scalars (``classes_`` of an object array of ``np.str_`` labels), each of the
        latter as ``{"__np__": [dtype, base64 of its bytes]}`` so that it comes back exactly."""
        items = a.ravel().tolist()
        for i, x in enumerate(items):
            if isinstance(x, np.generic) and np.asarray(x).dtype.kind in _SCALAR_KINDS:
                b = np.asarray(x)
                items[i] = {"__np__": [b.dtype.str, base64.b64encode(b.tobytes()).decode()]}
            elif not (x is None or type(x) in (bool, int, float, str)):
                raise TypeError(
                    f"cannot save {where}: arrays of dtype object are supported with None, "
                    f"bool, int, float and str entries and NumPy scalars (bool, numbers, "
                    f"strings) only, got an entry of type {type(x).__name__}"
                )
        return {"__objects__": {"shape": list(a.shape), "items": items}}

    def state(self, obj: Any, where: str) -> dict[str, Any]:
        attrs = {k: self.encode(x, f"{where}.{k}") for k, x in vars(obj).items()}
        return {"class": _class_key(type(obj)), "attrs": attrs}


def _digest(meta: np.ndarray, arrays: dict[str, np.ndarray]) -> np.ndarray:
    h = hashlib.sha256(meta.tobytes())
    for name in sorted(arrays):
        a = arrays[name]
        h.update(f"\0{name}\0{a.dtype.str}\0{a.shape}\0".encode())
        h.update(np.ascontiguousarray(a).tobytes())
    return np.frombuffer(h.digest(), dtype=np.uint8)


def save(obj: Any, path: str | Path) -> Path:
    """Save a (fitted) mlcanon estimator to ``path`` (a ``.npz`` archive); return the path."""
    if not _is_persistable(obj):
        raise TypeError(
            f"obj must be an mlcanon estimator or a class registered with mlcanon.io.register, "
            f"got {type(obj).__name__}"
        )
    enc = _Encoder()
    meta = {"format": FORMAT, "version": VERSION, "object": enc.state(obj, type(obj).__name__)}
    blob = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)
    path = Path(path)
    with path.open("wb") as fh:
        members = {_META: blob, _DIGEST: _digest(blob, enc.arrays)}
        np.savez_compressed(fh, **members, **enc.arrays)
    return path


def _public(cls: type) -> bool:
    """Whether ``cls`` is exported by its package (``mlcanon.tree`` for ``mlcanon.tree._x``)."""
    module = cls.__module__
    head, _, last = module.rpartition(".")
    package = importlib.import_module(head if last.startswith("_") else module)
    name = cls.__qualname__
    return name in getattr(package, "__all__", ()) and getattr(package, name, None) is cls


def _resolve(key: str) -> type:
    if key not in _REGISTRY:
        module, _, qualname = key.partition(":")
        if not module.startswith("mlcanon."):
            raise ValueError(f"refusing to load class {key!r}: not an mlcanon class")
        try:
            cls: Any = importlib.import_module(module)
            for part in qualname.split("."):
                cls = getattr(cls, part)
        except (ImportError, AttributeError) as exc:
            raise ValueError(f"unknown class {key!r} in model file") from exc
        if not isinstance(cls, type):
            raise ValueError(f"{key!r} in model file is not a class")
        if not (hasattr(cls, "get_params") and _public(cls)):
            raise ValueError(
                f"refusing to load class {key!r}: mlcanon.io.save writes public estimators "
                f"(and registered classes) only"
            )
        _REGISTRY[key] = cls
    return _REGISTRY[key]


_CSR_PARTS = ("data", "indices", "indptr")
_SCALAR_KINDS = "biufcUS"  # NumPy scalars that an object array may hold (no datetime, void)


# Fitted arrays whose last axis runs over the input features; prediction multiplies them with X.
_PER_FEATURE = (
    "cluster_centers_",
    "coef_",
    "components_",
    "feature_count_",
    "feature_log_prob_",
    "mean_",
    "means_",
    "statistics_",
    "support_vectors_",
    "theta_",
    "var_",
    "xbar_",
)
# Of these, the ones that hold values of X rather than weights: an imputer's fill values are
# strings or booleans (an object array) when it was fitted on such columns.
_ANY_DTYPE = ("statistics_",)


def _check_attrs(cls: type, attrs: dict[str, Any]) -> None:
    """The stored attributes must be those of ``cls``: its hyper-parameters plus fitted ones."""
    if not hasattr(cls, "_get_param_names"):
        return
    params = set(cls._get_param_names())
    missing = sorted(params - set(attrs))
    # a parameter the class gained after the file was written takes its default, as the
    # constructor would (a file of an older mlcanon loads); one without a default is refused
    defaults = {
        k: p.default
        for k, p in inspect.signature(cls.__init__).parameters.items()
        if k in missing and p.default is not inspect.Parameter.empty
    }
    if len(defaults) < len(missing):
        lacking = sorted(set(missing) - set(defaults))
        raise ValueError(f"attributes do not match class {cls.__name__}: missing {lacking}")
    # What the constructor stores (scikit-learn's rule: __init__ only stores its arguments).
    made = set(vars(cls(**{k: {**attrs, **defaults}[k] for k in params})))
    foreign = sorted(k for k in set(attrs) - made if not (k.endswith("_") or k[0] == "_"))
    if foreign:
        raise ValueError(
            f"attributes do not match class {cls.__name__}: it has no attributes {foreign}"
        )
    if defaults:
        warnings.warn(
            f"the file has no {missing} of {cls.__name__} (written by an older mlcanon?): "
            f"they take their defaults {defaults}",
            UserWarning,
            stacklevel=2,
        )
        attrs.update(defaults)
    fitted = any(k.endswith("_") and not k.startswith("__") for k in attrs)
    ours = cls.__module__.startswith("mlcanon.")
    labels = getattr(cls, "_encodes_labels", False)  # a LabelEncoder: classes_, no classifier
    if ours and fitted and (issubclass(cls, ClassifierMixin) or labels) != ("classes_" in attrs):
        kind = "a classifier without" if "classes_" not in attrs else "a non-classifier with"
        raise ValueError(f"attributes do not match class {cls.__name__}: {kind} classes_")
    n = attrs.get("n_features_in_", 1)
    if not isinstance(n, numbers.Integral) or isinstance(n, bool) or n < 0:
        raise ValueError(f"n_features_in_ must be a non-negative integer, got {n!r}")
    for name in _PER_FEATURE if ours and "n_features_in_" in attrs else ():
        a = attrs.get(name)
        kinds = "fiubO" if name in _ANY_DTYPE else "f"
        if name == "support_vectors_" and attrs.get("kernel") == "precomputed":
            # the kernel matrix stands for X: no support vectors are kept, shape (0, 0)
            if isinstance(a, np.ndarray) and a.shape == (0, 0) and a.dtype.kind == "f":
                continue
        if a is not None and not (
            isinstance(a, np.ndarray | sp.csr_matrix | sp.csr_array)
            and a.dtype.kind in kinds
            and a.ndim in (1, 2)
            and a.shape[-1] == n
        ):
            got = f"{a.dtype} {a.shape}" if isinstance(a, np.ndarray) else type(a).__name__
            what = "an array" if name in _ANY_DTYPE else "a float array"
            raise ValueError(
                f"{name} must be {what} with a last axis of n_features_in_={n}, got {got}"
            )


class _Decoder:
    def __init__(self, path: Path, arrays: dict[str, np.ndarray]) -> None:
        self.path, self.arrays = path, arrays

    def fail(self, where: str, what: str) -> ValueError:
        return ValueError(f"{self.path} is not a valid mlcanon model file: {where}: {what}")

    def array(self, key: Any, where: str) -> np.ndarray:
        if not isinstance(key, str) or key not in self.arrays:
            raise self.fail(where, f"refers to a missing array {key!r}")
        return self.arrays[key]

    def decode(self, v: Any, where: str, depth: int = 0) -> Any:
        if depth > MAX_DEPTH:
            raise self.fail(where, f"nested deeper than {MAX_DEPTH} levels")
        if v is None or isinstance(v, bool | int | float | str):
            return v
        if not (isinstance(v, dict) and len(v) == 1):
            raise self.fail(where, f"unexpected entry of type {type(v).__name__}")
        ((tag, payload),) = v.items()
        kinds = {
            "__list__": list,
            "__tuple__": list,
            "__dict__": dict,
            "__bunch__": dict,
            "__pairs__": list,
            "__objects__": dict,
            "__object__": dict,
            "__csr__": dict,
            "__random_state__": list,
        }
        if tag == "__array__":
            return self.array(payload, where)
        if tag == "__scalar__":
            a = self.array(payload, where)
            if a.ndim != 0:
                raise self.fail(where, f"a scalar stored as an array of shape {a.shape}")
            return a[()]
        if tag not in kinds:
            raise self.fail(where, f"unknown entry {tag!r}")
        if not isinstance(payload, kinds[tag]):
            raise self.fail(where, f"{tag} holds a {type(payload).__name__}")
        if tag in ("__list__", "__tuple__"):
            items = [self.decode(x, f"{where}[{i}]", depth + 1) for i, x in enumerate(payload)]
            return items if tag == "__list__" else tuple(items)
        if tag in ("__dict__", "__bunch__"):
            items = {k: self.decode(x, f"{where}[{k!r}]", depth + 1) for k, x in payload.items()}
            return items if tag == "__dict__" else Bunch(**items)
        if tag == "__pairs__":
            return self.pairs(payload, where, depth)
        if tag == "__objects__":
            return self.objects(payload, where)
        if tag == "__csr__":
            return self.csr(payload, where)
        if tag == "__random_state__":
            return self.random_state(payload, where)
        return self.object(payload, where, depth)

    def random_state(self, payload: list[Any], where: str) -> np.random.RandomState:
        """A ``RandomState`` from its Mersenne Twister state (``get_state()``'s five parts)."""
        ok = len(payload) == 5 and payload[0] == "MT19937"
        if ok:
            _, key, pos, has_gauss, cached = payload
            keys = self.array(key, where)
            ok = (
                keys.dtype == np.uint32
                and keys.shape == (624,)
                and type(pos) is int
                and 0 <= pos <= 624
                and has_gauss in (0, 1)
                and type(has_gauss) is int
                and isinstance(cached, float)
            )
        if not ok:
            raise self.fail(
                where,
                "a RandomState needs 'MT19937', 624 uint32 keys, a position in [0, 624], "
                "a 0/1 flag and a float",
            )
        rs = np.random.RandomState()
        rs.set_state(("MT19937", keys, pos, has_gauss, cached))
        return rs

    def csr(self, payload: dict[str, Any], where: str) -> sp.csr_matrix | sp.csr_array:
        """A CSR matrix from its shape and members, its structure checked by scipy (indices
        in range, ``indptr`` non-decreasing from 0 to ``nnz``), so that no product reads out of
        bounds."""
        shape, array = payload.get("shape"), payload.get("array")
        if not (
            set(payload) == {"shape", "array", *_CSR_PARTS}
            and isinstance(shape, list)
            and len(shape) == 2
            and all(type(n) is int and n >= 0 for n in shape)
            and type(array) is bool
        ):
            raise self.fail(where, "a CSR matrix needs a 2-D 'shape', 'array' and its members")
        data, indices, indptr = (self.array(payload[k], f"{where}.{k}") for k in _CSR_PARTS)
        if not (
            data.ndim == indices.ndim == indptr.ndim == 1
            and data.dtype.kind in "biufc"
            and indices.dtype.kind in "iu"
            and indptr.dtype.kind in "iu"
        ):
            raise self.fail(where, "a CSR matrix needs 1-D numeric data and integer indices")
        if not (indptr.size and data.size == indices.size == indptr[-1]):  # scipy would prune
            raise self.fail(
                where,
                f"an invalid CSR matrix: {data.size} data, {indices.size} indices and an "
                f"indptr ending in {indptr[-1] if indptr.size else None} must agree",
            )
        try:
            cls = sp.csr_array if array else sp.csr_matrix
            m = cls((data, indices, indptr), shape=tuple(shape))
            m.check_format(full_check=True)
        except (ValueError, TypeError, OverflowError) as exc:
            raise self.fail(where, f"an invalid CSR matrix: {exc}") from exc
        return m

    def pairs(self, payload: list[Any], where: str, depth: int) -> dict[Any, Any]:
        """A dict whose keys are not all strings, stored as ``[key, value]`` pairs."""
        out = {}
        for i, pair in enumerate(payload):
            if not (isinstance(pair, list) and len(pair) == 2):
                raise self.fail(where, f"entry {i} must be a [key, value] pair")
            key = self.decode(pair[0], f"{where} key {i}", depth + 1)
            try:
                hash(key)
            except TypeError:
                raise self.fail(
                    where, f"the key of entry {i} is an unhashable {type(key).__name__}"
                ) from None
            out[key] = self.decode(pair[1], f"{where}[{key!r}]", depth + 1)
        return out

    def objects(self, payload: dict[str, Any], where: str) -> np.ndarray:
        """An object array of JSON scalars, stored as its shape and its entries."""
        shape, items = payload.get("shape"), payload.get("items")
        if not (
            set(payload) == {"shape", "items"}
            and isinstance(shape, list)
            and all(type(n) is int and n >= 0 for n in shape)
            and isinstance(items, list)
            and len(items) == math.prod(shape)
        ):
            raise self.fail(where, "an object array needs a 'shape' and its scalar 'items'")
        out = np.empty(len(items), dtype=object)
        for i, x in enumerate(items):
            if isinstance(x, dict):
                out[i] = self.numpy_scalar(x, where, i)
            elif x is None or isinstance(x, bool | int | float | str):
                out[i] = x
            else:
                raise self.fail(where, "an object array needs a 'shape' and its scalar 'items'")
        return out.reshape(shape)

    def numpy_scalar(self, entry: dict[str, Any], where: str, i: int) -> np.generic:
        """A NumPy scalar stored as ``{"__np__": [dtype, base64 of its bytes]}``."""
        spec = entry.get("__np__")
        try:
            if not (
                len(entry) == 1
                and isinstance(spec, list)
                and len(spec) == 2
                and all(isinstance(p, str) for p in spec)
            ):
                raise ValueError("not a [dtype, bytes] pair")
            dtype = np.dtype(spec[0])
            raw = base64.b64decode(spec[1], validate=True)
            if dtype.kind not in _SCALAR_KINDS or dtype.hasobject or dtype.fields:
                raise ValueError(f"dtype {dtype} is not one that save writes")
            if len(raw) != dtype.itemsize or not raw:
                raise ValueError(f"{len(raw)} bytes for a {dtype.itemsize}-byte {dtype}")
        except (TypeError, ValueError, binascii.Error) as exc:
            raise self.fail(
                where, f"an invalid NumPy scalar at entry {i}, {str(entry)[:60]}: {exc}"
            ) from None
        return np.frombuffer(raw, dtype=dtype)[0]

    def object(self, payload: dict[str, Any], where: str, depth: int) -> Any:
        if set(payload) != {"class", "attrs"} or not isinstance(payload["attrs"], dict):
            raise self.fail(where, "an object needs exactly a 'class' name and an 'attrs' dict")
        try:
            cls = _resolve(str(payload["class"]))
            attrs = {
                k: self.decode(x, f"{where}.{k}", depth + 1) for k, x in payload["attrs"].items()
            }
            _check_attrs(cls, attrs)
            obj = object.__new__(cls)
            obj.__dict__.update(attrs)
            for klass in cls.__mro__:
                for check in _CHECKS.get(klass, ()):
                    check(obj)
        except (ValueError, TypeError, AttributeError, IndexError, KeyError) as exc:
            if str(exc).startswith(f"{self.path} "):
                raise
            raise self.fail(where, str(exc)) from exc
        return obj


def _check_unpacked_size(path: Path) -> None:
    """Refuse an archive whose members declare more than ``MAX_MODEL_BYTES`` unpacked (zipfile
    unpacks a member up to its declared size and no further)."""
    try:
        with zipfile.ZipFile(path) as archive:
            sizes = [(info.filename, info.file_size) for info in archive.infolist()]
    except _READ_ERRORS:
        return  # not a zip archive: np.load says what it is
    total = sum(size for _, size in sizes)
    if total > MAX_MODEL_BYTES:
        raise ValueError(
            f"{path} unpacks to {total} bytes, more than mlcanon.io.MAX_MODEL_BYTES = "
            f"{MAX_MODEL_BYTES} (raise it to load a larger model from a trusted file)"
        )
    meta = dict(sizes).get(f"{_META}.npy", 0)
    if meta > MAX_META_BYTES + 1024:  # the .npy header is at most a few hundred bytes
        raise ValueError(
            f"{path} is a corrupt mlcanon model file: its metadata unpacks to {meta} bytes, "
            f"more than {MAX_META_BYTES}"
        )


_ZIP_MAGIC = b"PK\x03\x04"  # what np.savez_compressed writes first


def _read(path: Path) -> dict[str, np.ndarray]:
    # np.load reads anything that is neither a zip archive nor an .npy array as a pickle, and
    # refuses it with advice to unpickle it: a file that is not an archive is refused here
    mode = path.stat().st_mode  # a missing file raises FileNotFoundError, as np.load
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):  # a folder: open() says so
        # opening a FIFO blocks until a writer comes; /dev/zero never ends
        raise ValueError(
            f"{path} is not a readable mlcanon model file: not a regular file (a pipe, a "
            f"socket or a device)"
        )
    with path.open("rb") as fh:  # a folder raises IsADirectoryError
        magic = fh.read(len(_ZIP_MAGIC))
    if magic == b"\x93NUM":
        raise ValueError(f"{path} is not an mlcanon model file (a bare .npy array)")
    if magic != _ZIP_MAGIC:
        raise ValueError(
            f"{path} is not a readable mlcanon model file: not an .npz archive (which starts "
            f"with {_ZIP_MAGIC!r}; this file starts with {magic!r})"
        )
    _check_unpacked_size(path)
    try:
        archive = np.load(path, allow_pickle=False)
    except _READ_ERRORS as exc:
        raise ValueError(f"{path} is not a readable mlcanon model file: {exc}") from exc
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ValueError(f"{path} is not an mlcanon model file (a bare .npy array)")
    with archive:
        if _META not in archive.files:
            raise ValueError(f"{path} is not an mlcanon model file (no metadata)")
        try:
            members = {k: archive[k] for k in archive.files}
        except _READ_ERRORS as exc:
            raise ValueError(f"{path} is a corrupt mlcanon model file: {exc!r}") from exc
    for k, a in members.items():
        if not isinstance(a, np.ndarray):
            raise ValueError(f"{path} is a corrupt mlcanon model file: member {k!r} is not .npy")
    return members


def _parse_meta(path: Path, members: dict[str, np.ndarray]) -> Any:
    blob, digest = members.pop(_META), members.pop(_DIGEST, None)
    if blob.dtype != np.uint8 or blob.ndim != 1 or blob.size > MAX_META_BYTES:
        raise ValueError(
            f"{path} is a corrupt mlcanon model file: metadata must be at most "
            f"{MAX_META_BYTES} bytes of uint8, got {blob.dtype} of shape {blob.shape}"
        )
    if digest is None:
        raise ValueError(f"{path} has no {_DIGEST} digest (written by an older mlcanon?)")
    if not np.array_equal(digest, _digest(blob, members)):
        raise ValueError(f"{path} is a damaged mlcanon model file: its SHA-256 digest differs")
    try:
        return json.loads(blob.tobytes().decode("utf-8"))
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"{path} has corrupt metadata: {type(exc).__name__}: {exc}") from exc


def load(path: str | Path) -> Any:
    """Load an estimator written by :func:`save`. Never unpickles; rejects foreign files.

    Raises ``ValueError`` naming the file for anything that :func:`save` would not have written,
    and, as ``np.load`` does, the ``OSError`` of a path that cannot be opened
    (``FileNotFoundError``, ``IsADirectoryError``).
    """
    path = Path(path)
    members = _read(path)
    meta = _parse_meta(path, members)
    fmt = meta.get("format") if isinstance(meta, dict) else None
    if fmt != FORMAT:
        raise ValueError(f"{path} is not an mlcanon model file (format {fmt!r})")
    if meta.get("version") != VERSION:
        raise ValueError(f"{path} has format version {meta.get('version')!r}; expected {VERSION}")
    if not isinstance(meta.get("object"), dict):
        raise ValueError(f"{path} is not a valid mlcanon model file: no 'object' entry")
    return _Decoder(path, members).decode({"__object__": meta["object"]}, "model")
