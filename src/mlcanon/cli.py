"""The ``mlcanon`` command: list, run, verify and report lessons."""

from __future__ import annotations

import argparse
import difflib
import sys
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from mlcanon.lessons import CATALOG, SECTIONS, Lesson, get_lesson, registered_lessons, run_lesson


class UsageError(Exception):
    """A mistake on the command line: printed without a traceback, exit status 2."""


def _select(slugs: Sequence[str]) -> list[Lesson]:
    if not slugs:
        return registered_lessons()
    chosen = []
    for slug in slugs:
        try:
            chosen.append(get_lesson(slug))
        except KeyError:
            known = [lesson.slug for lesson in registered_lessons()]
            close = difflib.get_close_matches(slug, known, n=3, cutoff=0.5)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            if slug in CATALOG:
                raise UsageError(f"lesson {slug!r} is in the notes but not written yet") from None
            raise UsageError(f"unknown lesson {slug!r}{hint} (see `mlcanon list`)") from None
    return chosen


def _cmd_list(args: argparse.Namespace, console: Console) -> int:
    ready = {lesson.slug for lesson in registered_lessons()}
    t = Table(title=f"{len(ready)} of {len(CATALOG)} lessons ready")
    for h in ("slug", "question (notes)", "title", "section", "status"):
        t.add_column(h)
    for e in CATALOG.values():
        status = "[green]ready[/green]" if e.slug in ready else "[dim]planned[/dim]"
        t.add_row(e.slug, e.question, e.title, f"{e.section}. {SECTIONS[e.section]}", status)
    console.print(t)
    return 0


def _run_all(lessons: list[Lesson], console: Console, *, figures: bool, out: Path | None):
    from mlcanon.report import summary_table

    results = []
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("lessons", total=len(lessons))
        for lesson in lessons:
            progress.update(task, description=f"{lesson.slug:<24}")
            results.append(run_lesson(lesson, figures=figures, out_dir=out))
            progress.advance(task)
    console.print(summary_table(results))
    return results


def _cmd_run(args: argparse.Namespace, console: Console) -> int:
    from mlcanon.report import print_result

    ok = True
    for lesson in _select(args.slugs):
        result = run_lesson(lesson, figures=True, out_dir=Path(args.out))
        print_result(result, console)
        ok &= result.ok
    return 0 if ok else 1


def _cmd_verify(args: argparse.Namespace, console: Console) -> int:
    from mlcanon.report import print_result

    results = _run_all(_select(args.slugs), console, figures=False, out=None)
    failed = [r for r in results if not r.ok]
    for r in failed:
        print_result(r, console, checks_only=True)
    n = {s: sum(r.count(s) for r in results) for s in ("pass", "fail", "skip")}
    console.print(f"checks: {n['pass']} passed, {n['fail']} failed, {n['skip']} skipped")
    return 1 if failed else 0


def _cmd_report(args: argparse.Namespace, console: Console) -> int:
    from mlcanon.report import build_report

    out = Path(args.out)
    results = _run_all(_select(args.slugs), console, figures=True, out=None)
    path = build_report(results, out)
    console.print(f"report written to [bold]{path.resolve()}[/bold]")
    return 0 if all(r.ok for r in results) else 1


def _cmd_profile(args: argparse.Namespace, console: Console) -> int:
    from mlcanon.models import get_model
    from mlcanon.vision import check_input_shape, profile

    try:
        result = profile(get_model(args.arch), check_input_shape(args.input))
    except (ValueError, TypeError) as exc:
        raise UsageError(str(exc)) from None
    console.print(
        result.table(skip_zero=not args.all), markup=False, highlight=False, soft_wrap=True
    )
    return 0


def _cmd_train(args: argparse.Namespace, console: Console) -> int:
    from mlcanon.train import run_task

    try:
        run_task(args.task, args.out, epochs=args.epochs, seed=args.seed, resume=args.resume)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mlcanon",
        description="Machine-learning interview canon, implemented and checked against references.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list every lesson of the notes and whether it is ready")
    p = sub.add_parser("run", help="run lessons and print them in the terminal")
    p.add_argument("slugs", nargs="+", metavar="SLUG")
    p.add_argument("--out", default="build/figures", help="folder for figures (build/figures)")
    p = sub.add_parser("verify", help="run only the checks; non-zero exit status on any failure")
    p.add_argument("slugs", nargs="*", metavar="SLUG")
    p = sub.add_parser("report", help="run lessons and write one self-contained HTML report")
    p.add_argument("slugs", nargs="*", metavar="SLUG")
    p.add_argument("--out", default="build/report", help="output folder (build/report)")
    p = sub.add_parser("profile", help="parameters, MACs, FLOPs and receptive field per layer")
    p.add_argument("arch", metavar="ARCH", help="bundled model name or package.module:callable")
    p.add_argument("--input", default="3x224x224", help="input shape C x H x W (3x224x224)")
    p.add_argument("--all", action="store_true", help="also list layers with no cost")
    p = sub.add_parser("train", help="train a task with checkpoints; runs under torchrun too")
    p.add_argument("task", metavar="TASK", help="task name, e.g. digits-cnn")
    p.add_argument("--out", required=True, help="output folder (checkpoints/, model.safetensors)")
    p.add_argument("--epochs", type=int, default=None, help="total epochs (task default)")
    p.add_argument("--seed", type=int, default=0, help="seed of every generator (0)")
    p.add_argument("--resume", action="store_true", help="continue from the newest checkpoint")
    return parser


_COMMANDS = {
    "list": _cmd_list,
    "run": _cmd_run,
    "verify": _cmd_verify,
    "report": _cmd_report,
    "profile": _cmd_profile,
    "train": _cmd_train,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    console = Console()
    try:
        return _COMMANDS[args.command](args, console)
    except UsageError as exc:
        Console(stderr=True).print(f"[bold red]error:[/bold red] {exc}")
        return 2


if __name__ == "__main__":
    sys.exit(main())
