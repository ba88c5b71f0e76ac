"""The one list of mlcanon's public estimators for the tests that run over all of them
(``test_io.py``, ``test_feature_names.py``). Not a test module: they load it by path, as the
tests run with ``--import-mode=importlib`` (no test folder on ``sys.path``)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Iterator

from sklearn.base import BaseEstimator

import mlcanon

# Subpackages that hold no estimators of their own (teaching code, reports, the command line).
_NOT_ESTIMATOR_PACKAGES = ("lessons", "report", "cli")


def public_estimator_classes(exclude: tuple[str, ...] = ()) -> Iterator[type[BaseEstimator]]:
    """Every class in a public subpackage's ``__all__`` that is a scikit-learn estimator, in
    package then ``__all__`` order; the Dask boosters (which take Dask arrays) left out, and
    any whose ``module.Name`` contains one of ``exclude``."""
    for info in pkgutil.iter_modules(mlcanon.__path__):
        if info.name.startswith("_") or info.name in _NOT_ESTIMATOR_PACKAGES:
            continue
        module = importlib.import_module(f"mlcanon.{info.name}")
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if not (inspect.isclass(obj) and issubclass(obj, BaseEstimator)):
                continue
            if any(mark in f"{obj.__module__}.{name}" for mark in ("Dask", *exclude)):
                continue
            yield obj
