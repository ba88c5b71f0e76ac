"""The layering rule of the design, read from the source's import statements.

Library code never imports ``lessons``, ``report`` or the CLI; a family imports the shared base
modules (``_validation``, ``_estimator``, ``_special``, ``io``) and only the families listed below
it here; and it never reaches into another family's private module, except where it is made of
that family's parts (the ensembles are made of trees; the Gaussian HMM's emissions are the
mixture family's Gaussian densities).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "mlcanon"
BASE = {"_validation", "_estimator", "_special", "io"}
TOP = {"lessons", "report", "cli", "__main__"}
BASE_ORDER = ["_validation", "_special", "_estimator", "io"]  # each may import those before it

# family -> the families it may import (besides BASE); every family under src/mlcanon is listed
BELOW: dict[str, set[str]] = {
    "optim": set(),
    "vision": set(),
    "nn": {"vision"},  # conv and pooling sizes from vision's conv arithmetic, their one home
    "datasets": set(),
    "metrics": {"vision"},  # detection metrics match boxes with vision's IoU
    "linear_model": {"optim"},
    "svm": set(),
    "decomposition": set(),
    "naive_bayes": set(),
    "discriminant_analysis": set(),
    "tree": set(),
    "preprocessing": set(),
    "cluster": set(),
    "mixture": {"cluster"},
    "hmm": {"cluster", "mixture"},
    "ensemble": {"tree", "linear_model", "preprocessing"},  # VotingClassifier.le_: LabelEncoder
    "models": {"nn", "vision"},
    "train": {"nn", "optim", "models", "datasets", "metrics", "vision"},  # the training tasks
    "compress": {"nn"},
}
MADE_OF = {("ensemble", "tree"), ("hmm", "mixture")}


def _module_name(path: Path) -> tuple[str, ...]:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return parts[:-1] if parts[-1] == "__init__" else parts


def _imports(path: Path) -> list[tuple[int, tuple[str, ...]]]:
    """Every ``mlcanon...`` name the file imports, relative imports resolved, with line numbers."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name[:-1]
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, tuple(a.name.split("."))) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else ()
            module = base + tuple((node.module or "").split(".") if node.module else ())
            out += [(node.lineno, (*module, a.name)) for a in node.names]
    return [(line, m) for line, m in out if m[0] == "mlcanon" and len(m) > 1]


def _library_files() -> list[Path]:
    files = sorted(SRC.rglob("*.py"))
    return [f for f in files if _module_name(f)[1:2] and _module_name(f)[1] not in TOP]


def test_every_family_has_a_place_in_the_layers():
    families = {p.name for p in SRC.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert families - TOP == set(BELOW), "list a new family in BELOW with what it may import"


@pytest.mark.parametrize("path", _library_files(), ids=lambda p: str(p.relative_to(SRC)))
def test_imports_follow_the_layers(path):
    own = _module_name(path)[1]
    wrong = []
    for line, target in _imports(path):
        family = target[1]
        if family == own or (family in BASE and own not in BASE):
            continue
        where = f"{path.relative_to(SRC)}:{line} imports {'.'.join(target)}"
        if family in TOP:
            wrong.append(f"{where}: library code never imports lessons, report or the CLI")
        elif own in BASE:
            if family not in BASE or BASE_ORDER.index(family) >= BASE_ORDER.index(own):
                wrong.append(f"{where}: a base module imports only the base modules below it")
        elif family not in BELOW.get(own, set()):
            wrong.append(f"{where}: {own} may import only {sorted(BELOW[own] | BASE)}")
        elif len(target) > 2 and target[2].startswith("_") and (own, family) not in MADE_OF:
            wrong.append(f"{where}: private module of another family; use its public API")
    assert not wrong, "\n".join(wrong)


# a registry that imports its entries on first use, inside a function: the entries import the
# registry at module level to register themselves
LAZY_REGISTRY = {
    ("mlcanon.train._tasks", "mlcanon.train._digits"),
    ("mlcanon.train._tasks", "mlcanon.train._detection"),
}


def _module_graph() -> dict[str, set[str]]:
    """Module -> the package's modules it imports (a package's ``__init__`` left out)."""
    modules = {".".join(_module_name(f)): f for f in SRC.rglob("*.py") if f.name != "__init__.py"}
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for _, target in _imports(path):
            for cut in (len(target), len(target) - 1):  # `from m import name` or `import m`
                if ".".join(target[:cut]) in modules:
                    if (name, ".".join(target[:cut])) not in LAZY_REGISTRY:
                        graph[name].add(".".join(target[:cut]))
                    break
    return graph


def test_no_module_imports_itself_through_others():
    graph, cycles = _module_graph(), []
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(" -> ".join([*path[path.index(nxt) :], nxt]))
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for start in sorted(graph):
        if start not in state:
            visit(start, [start])
    assert not cycles, "\n".join(cycles)
