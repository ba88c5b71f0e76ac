"""One self-contained HTML page for all lessons, grouped by the notes' sections."""

from __future__ import annotations

import base64
import datetime as _dt
from pathlib import Path

import jinja2

from mlcanon import __version__
from mlcanon.lessons import SECTIONS, LessonResult


def build_report(results: list[LessonResult], out_dir: str | Path) -> Path:
    """Write ``index.html`` (figures embedded as base64 PNG) into ``out_dir``; return its path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("mlcanon.report", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
    )
    env.filters["b64"] = lambda data: base64.b64encode(data).decode("ascii")
    sections = []
    for key, name in SECTIONS.items():
        members = [r for r in results if r.lesson.entry.section == key]
        if members:
            sections.append((key, name, members))
    totals = {s: sum(r.count(s) for r in results) for s in ("pass", "fail", "skip")}
    html = env.get_template("report.html.j2").render(
        sections=sections,
        totals=totals,
        errors=sum(r.error is not None for r in results),
        version=__version__,
        date=_dt.date.today().isoformat(),
    )
    path = out / "index.html"
    path.write_text(html, encoding="utf-8")
    return path
