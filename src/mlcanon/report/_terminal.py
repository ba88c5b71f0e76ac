"""Terminal rendering of lesson results with rich."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from mlcanon.lessons import LessonResult

_STYLE = {"pass": "green", "fail": "bold red", "skip": "yellow"}


def print_result(result: LessonResult, console: Console, *, checks_only: bool = False) -> None:
    """Print a lesson: explanation, tables, figure paths, its checks and its warnings."""
    entry = result.lesson.entry
    console.rule(f"[bold]{escape(entry.title)}[/bold]  ({entry.slug})")
    console.print(f"[dim]{escape(entry.question)}[/dim]")
    if not checks_only:
        for kind, payload in result.blocks:
            if kind == "text":
                console.print(escape(payload), end="\n\n")
            elif kind == "table":
                title, header, rows = payload
                t = Table(title=title, title_justify="left")
                for h in header:
                    t.add_column(escape(h))
                for row in rows:
                    t.add_row(*(escape(c) for c in row))
                console.print(t)
            elif kind == "figure" and payload.path is not None:
                name, path = escape(payload.name), escape(str(payload.path))
                console.print(f"figure [cyan]{name}[/cyan] written to {path}")
    if result.checks:
        t = Table(title=f"checks ({result.seconds:.1f} s)", title_justify="left")
        for h in ("result", "kind", "check", "ours", "reference", "tolerance", "against", "detail"):
            t.add_column(h, overflow="fold")
        for c in result.checks:
            style = _STYLE[c.status]
            cells = (c.kind, c.name, c.ours, c.reference, c.tolerance, c.ref_name, c.detail)
            t.add_row(f"[{style}]{c.status}[/{style}]", *map(escape, cells))
        console.print(t)
    for line in result.warnings:
        console.print(f"[yellow]warning[/yellow] {escape(line)}")
    if result.error:
        console.print(f"[bold red]lesson raised an error[/bold red]\n{escape(result.error)}")


def totals(results: Sequence[LessonResult]) -> dict[str, dict[str, int]]:
    """Counts of passed / failed / skipped checks, for reference checks and claims apart."""
    return {
        kind: {s: sum(r.count(s, kind) for r in results) for s in ("pass", "fail", "skip")}
        for kind in ("reference", "claim")
    }


def totals_line(results: Sequence[LessonResult]) -> str:
    n = totals(results)
    ref, claim = n["reference"], n["claim"]
    errors = sum(r.error is not None for r in results)
    line = (
        f"reference checks: {ref['pass']} passed, {ref['fail']} failed, {ref['skip']} skipped; "
        f"measured claims: {claim['pass']} held, {claim['fail']} did not"
    )
    return line + (f"; {errors} lesson(s) raised an error" if errors else "")


def summary_table(results: Sequence[LessonResult]) -> Table:
    t = Table(title="lessons", caption=totals_line(results))
    for h in ("lesson", "reference ok", "claims ok", "failed", "skipped", "warnings", "seconds"):
        t.add_column(h, justify="left" if h == "lesson" else "right")
    t.add_column("status")
    for r in results:
        status = "[green]ok[/green]" if r.ok else "[bold red]FAILED[/bold red]"
        if r.error:
            status = "[bold red]ERROR[/bold red]"
        t.add_row(
            r.lesson.slug,
            str(r.count("pass", "reference")),
            str(r.count("pass", "claim")),
            str(r.count("fail")),
            str(r.count("skip")),
            str(len(r.warnings)),
            f"{r.seconds:.1f}",
            status,
        )
    return t
