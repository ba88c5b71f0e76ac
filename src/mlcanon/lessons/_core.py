"""The lesson contract: a registry of lesson functions and the context they record into.

A lesson is a function ``fn(ctx)`` registered under a slug of the catalogue. It explains in prose
(``ctx.say``), records tables (``ctx.table``), figures (``ctx.figure``) and checks of our numbers
against a reference (``ctx.check``) or of a measured claim (``ctx.claim``). A check whose reference
package is missing is recorded as skipped, never as passed.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import pkgutil
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ._catalog import CATALOG, Entry

__all__ = [
    "Check",
    "Context",
    "Lesson",
    "LessonResult",
    "get_lesson",
    "lesson",
    "registered_lessons",
    "run_lesson",
]

PASS, FAIL, SKIP = "pass", "fail", "skip"


@dataclass(frozen=True)
class Lesson:
    entry: Entry
    fn: Callable[[Context], None]

    @property
    def slug(self) -> str:
        return self.entry.slug


_REGISTRY: dict[str, Lesson] = {}


def lesson(slug: str) -> Callable[[Callable[[Context], None]], Callable[[Context], None]]:
    """Register ``fn(ctx)`` as the lesson for ``slug`` (which must be in the catalogue)."""
    if slug not in CATALOG:
        raise ValueError(f"unknown lesson slug {slug!r}: add it to the catalogue first")

    def register(fn: Callable[[Context], None]) -> Callable[[Context], None]:
        if slug in _REGISTRY and _REGISTRY[slug].fn is not fn:
            raise ValueError(f"lesson {slug!r} is registered twice")
        _REGISTRY[slug] = Lesson(CATALOG[slug], fn)
        return fn

    return register


def _discover() -> None:
    from mlcanon import lessons as pkg

    for info in pkgutil.iter_modules(pkg.__path__):
        if not info.name.startswith("_"):
            importlib.import_module(f"{pkg.__name__}.{info.name}")


def registered_lessons() -> list[Lesson]:
    """All registered lessons, in catalogue order."""
    _discover()
    return [_REGISTRY[s] for s in CATALOG if s in _REGISTRY]


def get_lesson(slug: str) -> Lesson:
    _discover()
    try:
        return _REGISTRY[slug]
    except KeyError:
        raise KeyError(slug) from None


@dataclass
class Check:
    """One comparison: ours vs the reference (or a measured claim), with its verdict."""

    name: str
    ours: str
    reference: str
    tolerance: str
    ref_name: str
    status: str
    detail: str = ""


@dataclass
class Figure:
    name: str
    png: bytes
    path: Path | None


@dataclass
class LessonResult:
    lesson: Lesson
    blocks: list[tuple[str, Any]] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None

    def count(self, status: str) -> int:
        return sum(c.status == status for c in self.checks)

    @property
    def ok(self) -> bool:
        return self.error is None and self.count(FAIL) == 0


def _summarize(value: Any) -> str:
    arr = np.asarray(value)
    if arr.ndim == 0:
        v = arr.item()
        return f"{v:.10g}" if isinstance(v, float) else str(v)
    flat = arr.ravel()
    head = ", ".join(
        f"{x:.6g}" if isinstance(x, float | np.floating) else str(x) for x in flat[:4].tolist()
    )
    return f"{arr.dtype}{list(arr.shape)} [{head}{', ...' if flat.size > 4 else ''}]"


class Context:
    """What a lesson records into. ``figures=False`` draws nothing to disk (used by ``verify``)."""

    def __init__(self, result: LessonResult, *, figures: bool = True, out_dir: Path | None = None):
        self._result = result
        self.figures = figures
        self.out_dir = out_dir

    # prose and numbers -------------------------------------------------------------------
    def say(self, text: str) -> None:
        """A paragraph of explanation (blank lines separate paragraphs)."""
        for para in text.strip().split("\n\n"):
            self._result.blocks.append(("text", " ".join(para.split())))

    def table(self, title: str, header: list[str], rows: list[list[Any]]) -> None:
        cells = [[_cell(v) for v in row] for row in rows]
        self._result.blocks.append(("table", (title, list(header), cells)))

    # checks --------------------------------------------------------------------------------
    def check(
        self,
        name: str,
        ours: Any,
        reference: Any,
        *,
        rtol: float = 0.0,
        atol: float = 0.0,
        ref: str,
    ) -> bool:
        """Compare ``ours`` with ``reference`` elementwise (``|a - b| <= atol + rtol * |b|``).

        ``reference`` may be a zero-argument callable; if it raises ``ModuleNotFoundError`` the
        check is recorded as skipped with the missing package named.
        """
        tol = f"rtol={rtol:g}, atol={atol:g}" if rtol or atol else "exact"
        if callable(reference):
            try:
                reference = reference()
            except ModuleNotFoundError as exc:
                self._add(Check(name, _summarize(ours), "—", tol, ref, SKIP, f"{exc.name} missing"))
                return False
        a, b = np.asarray(ours), np.asarray(reference)
        if a.shape != b.shape:
            ok, detail = False, f"shape {a.shape} vs {b.shape}"
        elif a.dtype.kind in "biuf" and b.dtype.kind in "biuf":
            a, b = a.astype(float), b.astype(float)
            ok = bool(np.all(np.abs(a - b) <= atol + rtol * np.abs(b)) or np.array_equal(a, b))
            err = float(np.max(np.abs(a - b), initial=0.0)) if a.size else 0.0
            detail = f"max |diff| = {err:.3g}"
        else:
            ok, detail = bool(np.array_equal(a, b)), ""
        self._add(Check(name, _summarize(a), _summarize(b), tol, ref, PASS if ok else FAIL, detail))
        return ok

    def claim(self, name: str, holds: bool, detail: str, *, ref: str = "measured") -> bool:
        """Record a measured statement (e.g. 'Adam ends far from the optimum') with evidence."""
        status = PASS if holds else FAIL
        self._add(Check(name, "holds" if holds else "does not hold", "—", "—", ref, status, detail))
        return bool(holds)

    def skip(self, name: str, reason: str, *, ref: str) -> None:
        self._add(Check(name, "—", "—", "—", ref, SKIP, reason))

    def _add(self, check: Check) -> None:
        self._result.checks.append(check)

    # figures -------------------------------------------------------------------------------
    @contextlib.contextmanager
    def figure(self, name: str, *, figsize: tuple[float, float] = (6.4, 4.0)) -> Iterator[Any]:
        """Yield a matplotlib Figure; it is saved as PNG when the block ends (if figures are on)."""
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib.figure import Figure as MplFigure

        fig = MplFigure(figsize=figsize, layout="constrained")
        yield fig
        if not self.figures:
            return
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=100)
        path = None
        if self.out_dir is not None:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            path = self.out_dir / f"{self._result.lesson.slug}-{name}.png"
            path.write_bytes(buf.getvalue())
        self._result.blocks.append(("figure", Figure(name, buf.getvalue(), path)))


def _cell(v: Any) -> str:
    if isinstance(v, float | np.floating):
        return f"{v:.6g}"
    return str(v)


def run_lesson(
    lesson: Lesson, *, figures: bool = True, out_dir: Path | None = None
) -> LessonResult:
    """Run one lesson; an exception inside it is recorded as an error (and fails verification).

    BLAS and torch are held to one thread: lessons solve small problems, where threads gain
    nothing and, on a busy machine, spin-wait (seen to slow a lesson more than twentyfold).
    """
    import torch
    from threadpoolctl import threadpool_limits

    result = LessonResult(lesson)
    ctx = Context(result, figures=figures, out_dir=out_dir)
    start = time.perf_counter()
    torch_threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        with threadpool_limits(1, user_api="blas"):
            lesson.fn(ctx)
    except Exception:
        result.error = traceback.format_exc()
    finally:
        torch.set_num_threads(torch_threads)
    result.seconds = time.perf_counter() - start
    return result
