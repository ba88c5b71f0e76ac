"""Terminal rendering of lesson results with rich."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from mlcanon.lessons import LessonResult

_STYLE = {"pass": "green", "fail": "bold red", "skip": "yellow"}


def print_result(result: LessonResult, console: Console, *, checks_only: bool = False) -> None:
    """Print a lesson: explanation, tables, figure paths and its checks."""
    entry = result.lesson.entry
    console.rule(f"[bold]{entry.title}[/bold]  ({entry.slug})")
    console.print(f"[dim]{entry.question}[/dim]")
    if not checks_only:
        for kind, payload in result.blocks:
            if kind == "text":
                console.print(escape(payload), end="\n\n")
            elif kind == "table":
                title, header, rows = payload
                t = Table(title=title, title_justify="left")
                for h in header:
                    t.add_column(h)
                for row in rows:
                    t.add_row(*(escape(c) for c in row))
                console.print(t)
            elif kind == "figure" and payload.path is not None:
                console.print(f"figure [cyan]{payload.name}[/cyan] written to {payload.path}")
    if result.checks:
        t = Table(title=f"checks ({result.seconds:.1f} s)", title_justify="left")
        for h in ("check", "ours", "reference", "tolerance", "against", "result", "detail"):
            t.add_column(h, overflow="fold")
        for c in result.checks:
            style = _STYLE[c.status]
            status = f"[{style}]{c.status}[/{style}]"
            cells = (c.name, c.ours, c.reference, c.tolerance, c.ref_name)
            t.add_row(*map(escape, cells), status, escape(c.detail))
        console.print(t)
    if result.error:
        console.print(f"[bold red]lesson raised an error[/bold red]\n{result.error}")


def summary_table(results: list[LessonResult]) -> Table:
    t = Table(title="lessons")
    for h in ("lesson", "passed", "failed", "skipped", "seconds", "status"):
        t.add_column(h, justify="left" if h in ("lesson", "status") else "right")
    for r in results:
        status = "[green]ok[/green]" if r.ok else "[bold red]FAILED[/bold red]"
        if r.error:
            status = "[bold red]ERROR[/bold red]"
        t.add_row(
            r.lesson.slug,
            str(r.count("pass")),
            str(r.count("fail")),
            str(r.count("skip")),
            f"{r.seconds:.1f}",
            status,
        )
    return t
