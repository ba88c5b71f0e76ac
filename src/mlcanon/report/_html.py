"""The HTML report (``index.html``) and the corrected notes (``notes.html``).

Both pages are self-contained (figures embedded, no network) and written atomically: each is
rendered to a temporary file in the output folder and renamed over the old page, so an
interrupted run never leaves a half-written page behind.
"""

from __future__ import annotations

import base64
import datetime as _dt
import io
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jinja2

from mlcanon import __version__
from mlcanon.lessons import SECTIONS, Check, Figure, LessonResult

from ._terminal import totals

_STATUS_WORD = {"pass": "passed", "fail": "failed", "skip": "skipped"}


def build_report(results: Sequence[LessonResult], out_dir: str | Path) -> Path:
    """Write ``index.html`` and ``notes.html`` into ``out_dir``; return the report's path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("mlcanon.report", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["data_uri"] = _data_uri
    env.globals["status_word"] = _STATUS_WORD
    lessons = [_lesson_view(r) for r in results]
    sections = [
        (key, name, [v for v in lessons if v["entry"].section == key])
        for key, name in SECTIONS.items()
    ]
    sections = [s for s in sections if s[2]]
    context = {
        "sections": sections,
        "totals": totals(results),
        "first": _first_rows(lessons),
        "errors": sum(r.error is not None for r in results),
        "n_lessons": len(results),
        "version": __version__,
        "date": _dt.date.today().isoformat(),
    }
    _write_atomic(out / "notes.html", env.get_template("notes.html.j2").render(context))
    path = out / "index.html"
    _write_atomic(path, env.get_template("report.html.j2").render(context))
    return path


def _lesson_view(result: LessonResult) -> dict[str, Any]:
    """What the templates need of one lesson: its checks with row ids, counts and evidence."""
    slug = result.lesson.slug
    rows = [(f"{slug}--{i}", c) for i, c in enumerate(result.checks, 1)]
    statuses = {c.status for c in result.checks}
    return {
        "r": result,
        "entry": result.lesson.entry,
        "slug": slug,
        "rows": rows,
        "has": {
            "fail": "fail" in statuses or result.error is not None,
            "skip": "skip" in statuses,
            "claim": any(c.kind == "claim" for c in result.checks),
        },
        "open": bool(statuses & {"fail", "skip"}) or result.error is not None,
        "n": {
            kind: {s: result.count(s, kind) for s in _STATUS_WORD}
            for kind in ("reference", "claim")
        },
        "evidence": _evidence(result.checks),
        "claims": [c for c in result.checks if c.kind == "claim"],
    }


def _evidence(checks: Sequence[Check]) -> Check | None:
    """The lesson's headline number: its first passed reference check on a single number (else
    on an array), else its first check."""
    passed = [c for c in checks if c.kind == "reference" and c.status == "pass"]
    scalar = [c for c in passed if "[" not in c.ours]
    return (scalar or passed or list(checks) or [None])[0]


def _first_rows(lessons: Sequence[dict[str, Any]]) -> dict[str, str]:
    """Row id of the first failed, skipped and claim row: where the header counts link."""
    first: dict[str, str] = {}
    for view in lessons:
        for row_id, c in view["rows"]:
            first.setdefault(c.status, row_id)
            if c.kind == "claim":
                first.setdefault("claim", row_id)
    return first


def _data_uri(figure: Figure) -> str:
    """A figure as a data URI; a PNG is re-encoded as lossless WebP where that is smaller (the
    same pixels in about three quarters of the bytes)."""
    from PIL import Image

    mime, data = figure.mime, figure.data
    if mime == "image/png":
        webp = io.BytesIO()
        Image.open(io.BytesIO(data)).save(webp, format="webp", lossless=True, method=2)
        if webp.tell() < len(data):
            mime, data = "image/webp", webp.getvalue()
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def _write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to a temporary file beside ``path`` and rename it over ``path``."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o644)  # mkstemp's 0600 would hide the page from a web server
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
