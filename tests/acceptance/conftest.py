"""Run the reference libraries' own test files against mlcanon (issue 16, item 3).

The upstream test files that ship inside the installed scikit-learn, hmmlearn and
imbalanced-learn packages are collected in place, from site-packages; nothing is copied into
the repository. Each file is executed with an ``__import__`` that hands out mlcanon's object
wherever the test imports a scikit-learn/hmmlearn/imbalanced-learn name that mlcanon implements
(``from sklearn.linear_model import Ridge`` gives ``mlcanon.linear_model.Ridge``, also inside
parametrize lists and module-level tables). Everything mlcanon does not implement stays upstream,
and so do the exceptions and warnings the tests expect.

Which tests count: a test is collected only if it can reach a rebound name (its code, the
module-level helpers and fixtures it calls, its parameters); a collected test is counted as
exercising mlcanon only if mlcanon code actually ran during it (a flag set by every rebound
function and by every method of a rebound class while the test runs). The others are reported
as skipped ("mlcanon code did not run").

Expected failures live in ``expected_failures/`` (one list per upstream file), grouped under
the reason each fails (a private internal, a random-number stream, a documented difference, a
parameter not yet implemented); they are strict xfails, so a fixed test must leave the list.
``expected.py`` regenerates the lists from a run, naming each reason from the failure it saw.

``python tests/acceptance/table.py`` prints the per-file pass/xfail/fail counts.
"""

from __future__ import annotations

import builtins
import functools
import importlib
import importlib.util
import inspect
import os
import random
import sys
import types
import zlib
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).parent

# (mlcanon module, upstream module): every public name of the first that the second also has is
# rebound. Warnings and exceptions are left upstream (mlcanon's subclass the references').
FAMILIES = [
    ("mlcanon.linear_model", "sklearn.linear_model"),
    ("mlcanon.metrics", "sklearn.metrics"),
    ("mlcanon.cluster", "sklearn.cluster"),
    ("mlcanon.mixture", "sklearn.mixture"),
    ("mlcanon.naive_bayes", "sklearn.naive_bayes"),
    ("mlcanon.svm", "sklearn.svm"),
    ("mlcanon.tree", "sklearn.tree"),
    ("mlcanon.ensemble", "sklearn.ensemble"),
    ("mlcanon.decomposition", "sklearn.decomposition"),
    ("mlcanon.discriminant_analysis", "sklearn.discriminant_analysis"),
    ("mlcanon.preprocessing", "sklearn.impute"),
    ("mlcanon.preprocessing", "imblearn.over_sampling"),
    ("mlcanon.preprocessing", "imblearn.under_sampling"),
    ("mlcanon.hmm", "hmmlearn.hmm"),
]
UPSTREAM_PACKAGES = ("sklearn", "hmmlearn", "imblearn")


def _load_suites() -> tuple[list[str], set[str]]:
    """Upstream test files (relative to site-packages) from upstream.txt, and the slow ones.

    ``MLCANON_ACCEPTANCE_FILES`` (comma-separated substrings) keeps only the matching files.
    """
    only = [x for x in os.environ.get("MLCANON_ACCEPTANCE_FILES", "").split(",") if x]
    files, slow = [], set()
    for raw in (HERE / "upstream.txt").read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        speed, rel = line.split()
        assert speed in ("fast", "slow"), f"upstream.txt: {raw!r}"
        if only and not any(part in rel for part in only):
            continue
        files.append(rel)
        if speed == "slow":
            slow.add(rel)
    return files, slow


FILES, SLOW = _load_suites()


def _site_packages() -> Path:
    import sklearn

    return Path(sklearn.__file__).resolve().parent.parent


# ---------------------------------------------------------------------------------------------
# Rebinding
# ---------------------------------------------------------------------------------------------
class _Ran:
    """Set by rebound mlcanon code; read and reset around every upstream test."""

    flag = False


def _flagging(func):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        _Ran.flag = True
        return func(*args, **kwargs)

    return wrapper


def _build_map() -> tuple[dict[int, object], list[type]]:
    """``id(upstream object) -> mlcanon object`` and the rebound mlcanon classes."""
    mapping: dict[int, object] = {}
    classes: list[type] = []
    for ours_name, theirs_name in FAMILIES:
        ours, theirs = importlib.import_module(ours_name), importlib.import_module(theirs_name)
        for name in ours.__all__:
            obj = getattr(ours, name)
            if not hasattr(theirs, name) or (
                isinstance(obj, type) and issubclass(obj, BaseException)
            ):
                continue
            if isinstance(obj, type):
                classes.append(obj)
                mapping[id(getattr(theirs, name))] = obj
            elif callable(obj):
                mapping[id(getattr(theirs, name))] = _flagging(obj)
    return mapping, classes


MAP, CLASSES = _build_map()
REBOUND = {id(v) for v in MAP.values()}


class _Proxy(types.ModuleType):
    """An upstream module seen through the rebinding: mlcanon's objects where mapped."""

    def __init__(self, real: types.ModuleType):
        super().__init__(real.__name__, real.__doc__)
        object.__setattr__(self, "_real", real)

    def __getattr__(self, attr):
        value = getattr(self._real, attr)
        return _rebind(value)

    def __setattr__(self, attr, value):  # tests monkeypatch module attributes
        setattr(self._real, attr, value)

    def __delattr__(self, attr):
        delattr(self._real, attr)

    def __dir__(self):
        return dir(self._real)

    def __getattribute__(self, attr):
        # monkeypatch (pytest >= 9) records the value to restore from ``target.__dict__``: the
        # real module's, or it would delete a patched name from the real module on undo
        if attr == "__dict__":
            return object.__getattribute__(self, "_real").__dict__
        return super().__getattribute__(attr)


_PROXIES: dict[str, _Proxy] = {}


def _rebind(value):
    if id(value) in MAP:
        return MAP[id(value)]
    if isinstance(value, types.ModuleType) and value.__name__.split(".")[0] in UPSTREAM_PACKAGES:
        name = value.__name__
        # Test helpers and testing utilities stay exactly upstream.
        if ".tests" in name or name.endswith("_testing"):
            return value
        if name not in _PROXIES:
            _PROXIES[name] = _Proxy(value)
        return _PROXIES[name]
    return value


def _rebinding_import(name, globals=None, locals=None, fromlist=(), level=0):
    # `from pkg import a` reads `a` from what is returned, `import pkg.mod` binds the top package
    # and reads `.mod` from it: a proxy answers both with mlcanon's objects where mapped
    return _rebind(builtins.__import__(name, globals, locals, fromlist, level))


def _import_rebound(dotted: str) -> types.ModuleType:
    """Execute an upstream test module afresh with the rebinding ``__import__``.

    NumPy's floating-point error state is restored afterwards: hmmlearn's test package sets
    ``np.seterr(all="warn")`` when imported, which would leak into every later test.
    """
    saved = np.geterr()
    try:
        spec = importlib.util.find_spec(dotted)
        module = importlib.util.module_from_spec(spec)
        module.__dict__["__builtins__"] = dict(builtins.__dict__, __import__=_rebinding_import)
        sys.modules["mlcanon_acceptance." + dotted] = module
        spec.loader.exec_module(module)
    finally:
        np.seterr(**saved)
    return module


# ---------------------------------------------------------------------------------------------
# Which tests can reach mlcanon (a static over-approximation, refined by the runtime flag)
# ---------------------------------------------------------------------------------------------
def _contains_rebound(value, depth=0) -> bool:
    if id(value) in REBOUND or isinstance(value, _Proxy):
        return True
    if isinstance(value, tuple(CLASSES)):
        return True
    if depth > 3:
        return False
    if isinstance(value, functools.partial):
        return _contains_rebound(value.func, depth + 1) or any(
            _contains_rebound(v, depth + 1) for v in (*value.args, *value.keywords.values())
        )
    if isinstance(value, dict):
        return any(_contains_rebound(v, depth + 1) for v in (*value.keys(), *value.values()))
    if isinstance(value, (list, tuple, set, frozenset)):
        return any(_contains_rebound(v, depth + 1) for v in value)
    return False


def _code_names(code: types.CodeType) -> set[str]:
    names = set(code.co_names) | set(code.co_freevars)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _code_names(const)
    return names


def _reaches(func, module_globals, seen) -> bool:
    func = inspect.unwrap(getattr(func, "__func__", func))
    code = getattr(func, "__code__", None)
    if code is None or code in seen:
        return False
    seen.add(code)
    for name in _code_names(code):
        value = module_globals.get(name)
        if value is None:
            continue
        if _contains_rebound(value):
            return True
        if isinstance(value, types.FunctionType) and value.__globals__ is module_globals:
            if _reaches(value, module_globals, seen):
                return True
        if inspect.isclass(value) and value.__module__ == module_globals.get("__name__"):
            if any(_reaches(m, module_globals, seen) for m in vars(value).values()):
                return True
    return False


def _item_reaches_mlcanon(item) -> bool:
    callspec = getattr(item, "callspec", None)
    if callspec is not None and _contains_rebound(list(callspec.params.values())):
        return True
    module_globals = item.module.__dict__
    seen: set = set()
    funcs = [item.obj]
    if item.cls is not None:  # a test class: its helpers are methods (self.new_hmm(...))
        for klass in item.cls.__mro__:
            if klass.__module__ == item.module.__name__:
                funcs += [m for m in vars(klass).values() if callable(m) or hasattr(m, "__func__")]
    for defs in item._fixtureinfo.name2fixturedefs.values():
        funcs += [
            d.func
            for d in defs
            if getattr(d.func, "__module__", "") == module_globals.get("__name__")
        ]
    return any(_reaches(f, module_globals, seen) for f in funcs)


# ---------------------------------------------------------------------------------------------
# Expected failures
# ---------------------------------------------------------------------------------------------
def _load_expected() -> dict[str, str]:
    """``test id -> reason`` from expected_failures/*.txt (blocks under ``# reason:``).

    There is one file per upstream test file (``expected_failures/<upstream path with / as
    .>.txt``). A test id is ``upstream file::test name[parameters]``; one ending in ``*`` stands
    for every test id that starts with the text before it. Setting
    ``MLCANON_ACCEPTANCE_IGNORE_EXPECTED`` runs without the lists (to regenerate them with
    expected.py).
    """
    if os.environ.get("MLCANON_ACCEPTANCE_IGNORE_EXPECTED"):
        return {}
    entries = {}
    for path in sorted((HERE / "expected_failures").glob("*.txt")):
        reason = None
        for raw in path.read_text().splitlines():
            line = raw.strip()
            if line.startswith("# reason:"):
                reason = line.removeprefix("# reason:").strip()
            elif line and not line.startswith("#"):
                assert reason is not None, f"{path.name}: {line!r} has no reason above it"
                entries[line] = reason
    return entries


EXPECTED = _load_expected()
PREFIXES = [(k[:-1], v) for k, v in EXPECTED.items() if k.endswith("*")]


def _expected_reason(test_id: str) -> str | None:
    if test_id in EXPECTED:
        return EXPECTED[test_id]
    return next((reason for prefix, reason in PREFIXES if test_id.startswith(prefix)), None)


# ---------------------------------------------------------------------------------------------
# Collection
# ---------------------------------------------------------------------------------------------
class UpstreamModule(pytest.Module):
    def _getobj(self):
        return _import_rebound(self.dotted)

    def collect(self):
        slow = self.rel in SLOW
        try:
            self.obj  # imports the file with the rebinding
        except Exception as exc:
            # A module-level call into mlcanon failed (e.g. a missing parameter in a
            # parametrize list): the whole file is one failing test.
            yield from self._keep(ImportFailure.from_parent(self, name="<module>", exc=exc), slow)
            return
        for node in super().collect():
            yield from self._keep(node, slow)

    def _keep(self, node, slow):
        if isinstance(node, pytest.Class):
            for child in node.collect():
                yield from self._keep(child, slow)
            return
        if isinstance(node, pytest.Function):
            if not _item_reaches_mlcanon(node):
                return
        elif not isinstance(node, ImportFailure):
            return
        if slow:
            node.add_marker(pytest.mark.slow)
        test_id = self.rel + "::" + node.nodeid.split("::", 2)[2]
        reason = _expected_reason(test_id)
        if reason is not None:
            node.add_marker(pytest.mark.xfail(reason=reason, strict=True))
        node.user_properties.append(("upstream_file", self.rel))
        yield node


class ImportFailure(pytest.Item):
    """Stands for an upstream file that cannot be imported against mlcanon."""

    def __init__(self, *, exc, **kwargs):
        super().__init__(**kwargs)
        self.exc = exc

    def runtest(self):
        _Ran.flag = True  # the failing module-level call was into mlcanon
        raise self.exc

    def reportinfo(self):
        return self.path, 0, self.name


class UpstreamSuite(pytest.File):
    """Collected from ``upstream.txt``; yields one module node per upstream test file."""

    def collect(self):
        site = _site_packages()
        for rel in FILES:
            path = site / rel
            if not path.exists():
                continue
            dotted = rel.removesuffix(".py").replace("/", ".")
            mod = UpstreamModule.from_parent(
                self, path=path, name=rel, nodeid=f"{self.nodeid}::{rel}"
            )
            mod.rel, mod.dotted = rel, dotted
            yield mod


def pytest_collect_file(file_path, parent):
    if file_path.name == "upstream.txt" and file_path.parent == HERE:
        return UpstreamSuite.from_parent(parent, path=file_path)
    return None


# Fixtures the upstream files use, from scikit-learn's own conftest. Its float32 cases run too
# (scikit-learn skips them unless this is set; it reads the variable when its conftest loads).
os.environ["SKLEARN_RUN_FLOAT32_TESTS"] = "1"
from sklearn.conftest import global_dtype, pyplot  # noqa: E402, F401


class _Plugin:
    """Hooks that must see upstream items (conftest hooks are filtered by the item's path)."""

    @pytest.hookimpl
    def pytest_generate_tests(self, metafunc):
        # scikit-learn's conftest parametrizes this argument directly (seed 42 by default).
        if (
            "global_random_seed" in metafunc.fixturenames
            and isinstance(metafunc.module, types.ModuleType)
            and metafunc.module.__name__.startswith(UPSTREAM_PACKAGES)
        ):
            metafunc.parametrize("global_random_seed", [42])

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item, nextitem):
        if not _is_upstream(item):
            return (yield)
        _Ran.flag = False
        # the same global random state for a test whichever worker runs it, and after whatever
        # ran before (upstream tests that use np.random's global generator stay reproducible)
        seed = zlib.crc32(item.nodeid.encode())
        np.random.seed(seed)  # noqa: NPY002 (seeds the legacy global generator on purpose)
        random.seed(seed)
        patched, saved = _patch_classes(), np.geterr()
        try:
            return (yield)
        finally:
            _unpatch(patched)
            np.seterr(**saved)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item, call):
        report = yield
        if _is_upstream(item):
            report.user_properties.append(("mlcanon_ran", _Ran.flag))
            # A pass counts only if mlcanon code ran; failures always count against us.
            if call.when == "call" and report.passed and not _Ran.flag:
                report.outcome = "skipped"
                report.longrepr = (str(item.path), 0, "Skipped: mlcanon code did not run")
        return report


class _Results:
    """Writes every upstream test's outcome to $MLCANON_ACCEPTANCE_JSON (read by table.py)."""

    def __init__(self, path):
        self.path, self.rows = path, {}

    def pytest_runtest_logreport(self, report):
        props = dict(report.user_properties)
        if "upstream_file" not in props:
            return
        row = self.rows.setdefault(report.nodeid, {"file": props["upstream_file"]})
        row["seconds"] = row.get("seconds", 0.0) + report.duration
        if report.when == "call" or report.outcome != "passed":
            if hasattr(report, "wasxfail"):
                outcome = "xfail" if report.skipped else "xpass"
            else:
                outcome = report.outcome
            row.setdefault("outcome", outcome)
            row["ran"] = props.get("mlcanon_ran", False)
            crash = getattr(report.longrepr, "reprcrash", None)
            if outcome in ("failed", "error") and crash is not None:
                row["error"] = crash.message.splitlines()[0][:300]

    def pytest_sessionfinish(self):
        import json

        Path(self.path).write_text(json.dumps(self.rows, indent=0))


def _is_upstream(item) -> bool:
    return any(key == "upstream_file" for key, _ in item.user_properties)


def _patch_classes():
    patched = []
    owners = {k for cls in CLASSES for k in cls.__mro__ if k.__module__.startswith("mlcanon")}
    for owner in owners:
        for attr, value in list(vars(owner).items()):
            if isinstance(value, types.FunctionType):
                patched.append((owner, attr, value))
                setattr(owner, attr, _flagging(value))
            elif isinstance(value, functools.partialmethod):  # e.g. a constructor, other defaults
                patched.append((owner, attr, value))
                func, args, kwargs = _flagging(value.func), value.args, value.keywords
                setattr(owner, attr, functools.partialmethod(func, *args, **kwargs))
    return patched


def _unpatch(patched):
    for owner, attr, value in patched:
        setattr(owner, attr, value)


def pytest_configure(config):
    for line in (
        "thread_unsafe: upstream marker (scikit-learn)",
        "parallel_threads(n): upstream marker (scikit-learn)",
        "iterations(n): upstream marker (scikit-learn)",
        "no_check_spmatrix: upstream marker (scikit-learn)",
    ):
        config.addinivalue_line("markers", line)
    # Upstream parametrize lists built from generators (scikit-learn's array-API helpers).
    config.addinivalue_line("filterwarnings", "ignore::pytest.PytestRemovedIn10Warning")
    if not config.pluginmanager.has_plugin("mlcanon-acceptance"):
        config.pluginmanager.register(_Plugin(), "mlcanon-acceptance")
        out = os.environ.get("MLCANON_ACCEPTANCE_JSON")
        if out and not os.environ.get("PYTEST_XDIST_WORKER"):
            config.pluginmanager.register(_Results(out), "mlcanon-acceptance-results")
