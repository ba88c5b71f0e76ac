"""Safe persistence of fitted estimators: arrays in an ``.npz`` archive plus JSON metadata.

Loading never unpickles: the archive is read with ``allow_pickle=False``, the metadata is JSON,
and the only classes that can be re-created are mlcanon's own (or ones registered explicitly with
:func:`register`). An estimator is saved as its class name and its ``__dict__`` (hyper-parameters
and fitted attributes), encoded recursively:

- ``None``, ``bool``, ``int``, ``float``, ``str`` as JSON;
- NumPy arrays (numeric, boolean or string dtypes) and NumPy scalars as archive members;
- lists, tuples and string-keyed dicts of the above;
- nested mlcanon estimators (e.g. the trees of a forest) the same way.

Anything else (a lambda, a file handle, an object array) raises ``TypeError`` at save time naming
the attribute, so a model that cannot round-trip is never written.

Example
-------
>>> from mlcanon import io                                   # doctest: +SKIP
>>> io.save(model, "model.npz"); same = io.load("model.npz")  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["load", "register", "save"]

FORMAT = "mlcanon-model"
VERSION = 1
_META = "__meta__"
_REGISTRY: dict[str, type] = {}


def register(cls: type) -> type:
    """Allow instances of ``cls`` (defined outside mlcanon) to be saved and loaded."""
    _REGISTRY[_class_key(cls)] = cls
    return cls


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
        if v is None or isinstance(v, bool | int | float | str):
            return v
        if isinstance(v, np.ndarray):
            return self.array(v, where)
        if isinstance(v, np.generic):
            return {"__scalar__": self.array(np.asarray(v), where)["__array__"]}
        if isinstance(v, list | tuple):
            items = [self.encode(x, f"{where}[{i}]") for i, x in enumerate(v)]
            return {"__tuple__": items} if isinstance(v, tuple) else {"__list__": items}
        if isinstance(v, dict):
            if not all(isinstance(k, str) for k in v):
                raise TypeError(f"cannot save {where}: dict keys must be strings")
            return {"__dict__": {k: self.encode(x, f"{where}[{k!r}]") for k, x in v.items()}}
        if _is_persistable(v):
            return {"__object__": self.state(v, where)}
        raise TypeError(f"cannot save {where}: values of type {type(v).__name__} are not supported")

    def state(self, obj: Any, where: str) -> dict[str, Any]:
        attrs = {k: self.encode(x, f"{where}.{k}") for k, x in vars(obj).items()}
        return {"class": _class_key(type(obj)), "attrs": attrs}


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
        np.savez_compressed(fh, **{_META: blob}, **enc.arrays)
    return path


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
        _REGISTRY[key] = cls
    return _REGISTRY[key]


_TAGS = {"__array__", "__scalar__", "__list__", "__tuple__", "__dict__", "__object__"}


def _decode(v: Any, arrays: dict[str, np.ndarray]) -> Any:
    if not isinstance(v, dict):
        return v
    if len(v) != 1 or next(iter(v)) not in _TAGS:
        raise ValueError(f"malformed model file: unexpected entry {sorted(v)!r}")
    ((tag, payload),) = v.items()
    if tag == "__array__":
        return arrays[payload]
    if tag == "__scalar__":
        return arrays[payload][()]
    if tag in ("__list__", "__tuple__"):
        items = [_decode(x, arrays) for x in payload]
        return items if tag == "__list__" else tuple(items)
    if tag == "__dict__":
        return {k: _decode(x, arrays) for k, x in payload.items()}
    obj = object.__new__(_resolve(payload["class"]))
    obj.__dict__.update({k: _decode(x, arrays) for k, x in payload["attrs"].items()})
    return obj


def _read(path: Path) -> tuple[Any, dict[str, np.ndarray]]:
    try:
        archive = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise ValueError(f"{path} is not a readable mlcanon model file: {exc}") from exc
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ValueError(f"{path} is not an mlcanon model file (a bare .npy array)")
    with archive:
        if _META not in archive.files:
            raise ValueError(f"{path} is not an mlcanon model file (no metadata)")
        try:
            meta = json.loads(archive[_META].tobytes().decode("utf-8"))
            arrays = {k: archive[k] for k in archive.files if k != _META}
        except (ValueError, zipfile.BadZipFile, EOFError, UnicodeDecodeError) as exc:
            raise ValueError(f"{path} is a corrupt mlcanon model file: {exc}") from exc
    return meta, arrays


def load(path: str | Path) -> Any:
    """Load an estimator written by :func:`save`. Never unpickles; rejects foreign files."""
    path = Path(path)
    meta, arrays = _read(path)
    fmt = meta.get("format") if isinstance(meta, dict) else None
    if fmt != FORMAT:
        raise ValueError(f"{path} is not an mlcanon model file (format {fmt!r})")
    if meta.get("version") != VERSION:
        raise ValueError(f"{path} has format version {meta.get('version')!r}; expected {VERSION}")
    try:
        return _decode({"__object__": meta["object"]}, arrays)
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"malformed model file {path}: {exc!r}") from exc
