"""The lesson contract: a registry of lesson functions and the context they record into.

A lesson is a function ``fn(ctx)`` registered under a slug of the catalogue, from the module
that the catalogue entry names. It explains in prose (``ctx.say``), records tables
(``ctx.table``), figures (``ctx.figure``) and checks: comparisons of our numbers with a reference
(``ctx.check``, kind ``"reference"``) and measured claims (``ctx.claim``, kind ``"claim"``), which
are counted apart. A check whose reference package is missing is recorded as skipped, never as
passed. Warnings raised while a lesson runs are recorded in its result.
"""

from __future__ import annotations

import contextlib
import difflib
import importlib
import io
import sys
import time
import traceback
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ._catalog import CATALOG, Entry

PASS, FAIL, SKIP = "pass", "fail", "skip"
REFERENCE, CLAIM = "reference", "claim"


@dataclass(frozen=True)
class Lesson:
    entry: Entry
    fn: Callable[[Context], None]

    @property
    def slug(self) -> str:
        return self.entry.slug


_FUNCTIONS: dict[str, Callable[[Context], None]] = {}


def lesson(slug: str) -> Callable[[Callable[[Context], None]], Callable[[Context], None]]:
    """Register ``fn(ctx)`` as the lesson for ``slug`` (from the module its entry names)."""
    if slug not in CATALOG:
        raise ValueError(f"unknown lesson slug {slug!r}: add it to the catalogue first")
    entry = CATALOG[slug]

    def register(fn: Callable[[Context], None]) -> Callable[[Context], None]:
        home = f"{__package__}.{entry.module}"
        if fn.__module__ != home:
            raise ValueError(
                f"lesson {slug!r} is registered from {fn.__module__} but its catalogue entry "
                f"names module={entry.module!r} ({home}): fix one of them"
            )
        if _FUNCTIONS.get(slug, fn) is not fn:
            raise ValueError(f"lesson {slug!r} is registered twice")
        _FUNCTIONS[slug] = fn
        return fn

    return register


def _import_home(entry: Entry) -> bool:
    """Import the module that registers ``entry``; False when that module does not exist yet."""
    name = f"{__package__}.{entry.module}"
    if name in sys.modules:
        return True
    try:
        importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name:
            raise
        return False
    return True


def get_lesson(slug: str) -> Lesson:
    """The lesson for ``slug``; only its own module is imported.

    Raises ``KeyError`` for a slug outside the catalogue (naming the closest slugs) and for one
    whose lesson is not written.
    """
    if slug not in CATALOG:
        close = difflib.get_close_matches(str(slug).lower(), list(CATALOG), n=3, cutoff=0.5)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise KeyError(f"unknown lesson slug {slug!r}{hint}; CATALOG lists every slug")
    entry = CATALOG[slug]
    _import_home(entry)
    try:
        return Lesson(entry, _FUNCTIONS[slug])
    except KeyError:
        raise KeyError(f"lesson {slug!r} is in the catalogue but not written yet") from None


def registered_lessons() -> list[Lesson]:
    """All written lessons, in catalogue order (imports every lesson module)."""
    for entry in CATALOG.values():
        _import_home(entry)
    return [Lesson(e, _FUNCTIONS[e.slug]) for e in CATALOG.values() if e.slug in _FUNCTIONS]


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
    kind: str = REFERENCE  # REFERENCE: compared with a reference; CLAIM: a measured statement


@dataclass
class Figure:
    """A drawn figure: PNG or SVG bytes and its size in CSS pixels."""

    name: str
    data: bytes
    mime: str  # "image/png" or "image/svg+xml"
    width: int
    height: int
    path: Path | None

    @property
    def suffix(self) -> str:
        return ".svg" if self.mime == "image/svg+xml" else ".png"


@dataclass
class LessonResult:
    lesson: Lesson
    blocks: list[tuple[str, Any]] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None

    def count(self, status: str, kind: str | None = None) -> int:
        """Checks with ``status``, of one ``kind`` (reference or claim) or of both."""
        return sum(c.status == status and kind in (None, c.kind) for c in self.checks)

    @property
    def ok(self) -> bool:
        return self.error is None and self.count(FAIL) == 0


def _summarize(value: Any) -> str:
    arr = np.asarray(value)
    if arr.ndim == 0:
        v = arr.item()
        return repr(v) if isinstance(v, float) else str(v)  # shortest exact form
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
        verdict = "holds" if holds else "does not hold"
        self._add(Check(name, verdict, "—", "—", ref, status, detail, kind=CLAIM))
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
        data, mime = _encode(fig)
        width, height = (round(v * _CSS_DPI) for v in fig.get_size_inches())
        figure = Figure(name, data, mime, width, height, None)
        if self.out_dir is not None:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            figure.path = self.out_dir / f"{self._result.lesson.slug}-{name}{figure.suffix}"
            figure.path.write_bytes(data)
        self._result.blocks.append(("figure", figure))


_CSS_DPI = 100  # CSS pixels per inch of figsize; the bitmap is drawn at twice that


def _encode(fig: Any) -> tuple[bytes, str]:
    """The smaller of a 2x palette PNG and an SVG (text kept as text) of ``fig``."""
    import matplotlib
    from PIL import Image

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=2 * _CSS_DPI)
    # Plots use few colours: a 256-colour palette is about a third of the RGBA size.
    image = Image.open(io.BytesIO(buf.getvalue())).convert("RGB")
    png = io.BytesIO()
    image.quantize(256, method=Image.Quantize.FASTOCTREE).save(png, format="png", optimize=True)
    svg = io.BytesIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "mlcanon"}):
        fig.savefig(svg, format="svg", dpi=2 * _CSS_DPI, metadata={"Date": None})
    if svg.tell() < png.tell():
        return svg.getvalue(), "image/svg+xml"
    return png.getvalue(), "image/png"


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
    from threadpoolctl import threadpool_limits

    result = LessonResult(lesson)
    ctx = Context(result, figures=figures, out_dir=out_dir)
    # torch is imported by the lesson modules that use it; the others need not pay for it.
    torch = sys.modules.get("torch")
    torch_threads = torch.get_num_threads() if torch else 0
    caught: list[warnings.WarningMessage] = []
    start = time.perf_counter()
    try:
        if torch:
            torch.set_num_threads(1)
        with threadpool_limits(1, user_api="blas"), warnings.catch_warnings(record=True) as caught:
            lesson.fn(ctx)
    except Exception:
        result.error = traceback.format_exc()
    finally:
        if torch:
            torch.set_num_threads(torch_threads)
    result.seconds = time.perf_counter() - start
    result.warnings = _warning_lines(caught)
    return result


def _warning_lines(caught: list[warnings.WarningMessage]) -> list[str]:
    """One line per distinct warning (category and message), with its count when repeated."""
    counts: dict[str, int] = {}
    for w in caught:
        line = f"{w.category.__name__}: {w.message}"
        counts[line] = counts.get(line, 0) + 1
    return [line if n == 1 else f"{line} (x{n})" for line, n in counts.items()]
