"""The ``mlcanon`` command: list, run, verify and report lessons; bench, profile and train.

Each subcommand is one ``_cmd_*`` handler plus one entry in :data:`_SUBCOMMANDS`, which declares
its help line and its arguments. Mistakes on the command line and files that cannot be written
end with a one-line message and exit status 2; Ctrl-C ends with status 130 and writes nothing.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from mlcanon.lessons import CATALOG, SECTIONS, Lesson, get_lesson, registered_lessons, run_lesson


class UsageError(Exception):
    """A mistake on the command line: printed without a traceback, exit status 2."""


class RunFailed(Exception):
    """A command that started but could not finish: printed without a traceback, exit status 1."""


def _select(slugs: Sequence[str]) -> list[Lesson]:
    """The lessons named on the command line (all of them when none is named), each once.

    Every slug is looked up before anything runs, so one unknown slug stops the whole command.
    A slug named twice runs once: twice, its checks counted twice in the totals and the report
    held two sections with the same ids.
    """
    if not slugs:
        return registered_lessons()
    slugs = list(dict.fromkeys(slugs))
    unknown = [s for s in slugs if s not in CATALOG]
    if unknown:
        hints = []
        for slug in unknown:
            close = difflib.get_close_matches(slug, list(CATALOG), n=3, cutoff=0.5)
            hints.append(f"{slug!r}" + (f" (did you mean {', '.join(close)}?)" if close else ""))
        raise UsageError(f"unknown lesson {', '.join(hints)}; see `mlcanon list`")
    chosen = []
    for slug in slugs:
        try:
            chosen.append(get_lesson(slug))
        except KeyError:
            raise UsageError(f"lesson {slug!r} is in the notes but not written yet") from None
    return chosen


def _writable_dir(path: str, option: str = "--out") -> Path:
    """Create ``path`` and prove a file can be written there, before any lesson runs."""
    out = Path(path)
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as exc:
        raise UsageError(f"{option} {path!r} cannot be written to: {exc.strerror or exc}") from None
    return out


# list ----------------------------------------------------------------------------------------
def _cmd_list(args: argparse.Namespace, console: Console) -> int:
    ready = {lesson.slug for lesson in registered_lessons()}
    records = [
        {
            "slug": e.slug,
            "status": "ready" if e.slug in ready else "planned",
            "section": e.section,
            "section_name": SECTIONS[e.section],
            "title": e.title,
            "question": e.question,
            "reference": e.reference,
            "module": f"mlcanon.lessons.{e.module}",
        }
        for e in CATALOG.values()
    ]
    if args.json:
        _print_json_lines(records)
    elif not console.is_terminal:  # whole fields, one lesson a line: for cut, grep and awk
        for r in records:
            print("\t".join((r["slug"], r["status"], r["section"], r["title"], r["question"])))
    else:
        from rich.table import Table

        t = Table(title=f"{len(ready)} of {len(CATALOG)} lessons ready")
        for h in ("slug", "question (notes)", "title", "section", "status"):
            t.add_column(h, no_wrap=h == "slug")
        for r in records:
            status = "[green]ready[/green]" if r["status"] == "ready" else "[dim]planned[/dim]"
            t.add_row(r["slug"], r["question"], r["title"], r["section_name"], status)
        console.print(t)
    return 0


def _print_json_lines(records: Sequence[dict[str, Any]]) -> None:
    for record in records:
        print(json.dumps(record, ensure_ascii=False), flush=True)


# run, verify, report -------------------------------------------------------------------------
def _run_all(
    lessons: list[Lesson],
    console: Console,
    *,
    figures: bool,
    on_result: Callable[[Any], None] | None = None,
) -> list[Any]:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

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
            result = run_lesson(lesson, figures=figures)
            results.append(result)
            if on_result is not None:
                on_result(result)
            progress.advance(task)
    return results


def _cmd_run(args: argparse.Namespace, console: Console) -> int:
    from mlcanon.report import print_result

    lessons = _select(args.slugs)
    out = _writable_dir(args.out)
    ok = True
    for lesson in lessons:
        result = run_lesson(lesson, figures=True, out_dir=out)
        print_result(result, console)
        ok &= result.ok
    return 0 if ok else 1


def _check_records(result: Any) -> list[dict[str, Any]]:
    """One JSON record per check of a lesson (and one for an error raised by the lesson)."""
    slug = result.lesson.slug
    records = [
        {
            "lesson": slug,
            "name": c.name,
            "kind": c.kind,
            "status": c.status,
            "value": c.ours,
            "reference_value": c.reference,
            "tolerance": c.tolerance,
            "reference": c.ref_name,
            "detail": c.detail,
        }
        for c in result.checks
    ]
    if result.error:  # the same fields as a check's, those that a check compares left null
        last = result.error.strip().splitlines()[-1]
        error = {"name": "lesson raised an error", "kind": "error", "status": "fail"}
        empty = dict.fromkeys(("value", "reference_value", "tolerance", "reference"))
        records.append({"lesson": slug, **error, **empty, "detail": last})
    return records


def _cmd_verify(args: argparse.Namespace, console: Console) -> int:
    from mlcanon.report import print_result, totals_line

    lessons = _select(args.slugs)
    if args.json:  # stdout carries only the records; the progress bar goes to stderr
        results = _run_all(
            lessons,
            Console(stderr=True),
            figures=False,
            on_result=lambda r: _print_json_lines(_check_records(r)),
        )
        return 0 if all(r.ok for r in results) else 1
    from mlcanon.report import summary_table

    results = _run_all(lessons, console, figures=False)
    console.print(summary_table(results))
    failed = [r for r in results if not r.ok]
    for r in failed:
        print_result(r, console, checks_only=True)
    console.print(totals_line(results))
    return 1 if failed else 0


def _cmd_report(args: argparse.Namespace, console: Console) -> int:
    from mlcanon.report import build_report, summary_table

    lessons = _select(args.slugs)
    out = _writable_dir(args.out)
    results = _run_all(lessons, console, figures=True)
    console.print(summary_table(results))
    path = build_report(results, out)
    console.print(f"report written to [bold]{escape(str(path.resolve()))}[/bold]")
    return 0 if all(r.ok for r in results) else 1


# bench, profile ------------------------------------------------------------------------------
def _cmd_bench(args: argparse.Namespace, console: Console) -> int:
    root = Path.cwd()
    if not (root / "benchmarks" / "_harness.py").is_file():
        raise UsageError(
            "the benchmarks ship with the source checkout, not the package: run `mlcanon bench` "
            f"from the repository root (no benchmarks/ folder in {root})"
        )
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    from benchmarks import _harness
    from benchmarks.__main__ import main as run_benchmarks

    status = run_benchmarks(list(args.topics))
    if status:
        return status
    print("\n| benchmark | reference | ours (ms) | reference (ms) | ratio | target |")
    print("|---|---|---|---|---|---|")
    for r in _harness.RESULTS:
        target = "—" if r["target"] is None else f"<= {r['target']:g}"
        print(
            f"| {r['name']} | {r['ref_name']} | {r['ours'] * 1e3:.2f} | "
            f"{r['ref'] * 1e3:.2f} | {r['ratio']:.2f} | {target} |"
        )
    return 0


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
    from mlcanon.train import SettingsMismatch, get_task, run_task
    from mlcanon.train._tasks import SEED_MAX

    # checked here, to name the option, before --out is created
    if not 0 <= args.seed <= SEED_MAX:
        raise UsageError(f"--seed must be an integer in [0, {SEED_MAX}], got {args.seed}")
    if args.epochs is not None and args.epochs < 1:
        raise UsageError(f"--epochs must be an integer >= 1, got {args.epochs}")
    try:
        get_task(args.task)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    _writable_dir(args.out)
    try:
        run_task(args.task, args.out, epochs=args.epochs, seed=args.seed, resume=args.resume)
    except SettingsMismatch as exc:  # the run's sample order or schedule would change
        option = "TASK" if exc.key == "task" else f"--{exc.key}"
        raise UsageError(
            f"{option} {exc.given} does not match the checkpointed run's {option} {exc.saved} "
            f"({exc.path}); resume with {option} {exc.saved}, or train into another --out"
        ) from None
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    except FloatingPointError as exc:  # the run diverged: say where, keep what was saved
        raise RunFailed(
            f"training stopped: {exc}; the checkpoints saved before it are kept in "
            f"{Path(args.out) / 'checkpoints'}"
        ) from None
    return 0


# the parser: one entry per subcommand --------------------------------------------------------
def _slugs(p: argparse.ArgumentParser, nargs: str = "*") -> None:
    p.add_argument("slugs", nargs=nargs, metavar="SLUG")


def _args_list(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="one JSON record per lesson")


def _args_run(p: argparse.ArgumentParser) -> None:
    _slugs(p, "+")
    p.add_argument("--out", default="build/figures", help="folder for figures (build/figures)")


def _args_verify(p: argparse.ArgumentParser) -> None:
    _slugs(p)
    p.add_argument("--json", action="store_true", help="one JSON record per check")


def _args_report(p: argparse.ArgumentParser) -> None:
    _slugs(p)
    p.add_argument("--out", default="build/report", help="output folder (build/report)")


def _args_bench(p: argparse.ArgumentParser) -> None:
    p.add_argument("topics", nargs="*", metavar="TOPIC", help="e.g. metrics, trees (all if none)")


def _args_profile(p: argparse.ArgumentParser) -> None:
    p.add_argument("arch", metavar="ARCH", help="bundled model name or package.module:callable")
    p.add_argument("--input", default="3x224x224", help="input shape C x H x W (3x224x224)")
    p.add_argument("--all", action="store_true", help="also list layers with no cost")


def _args_train(p: argparse.ArgumentParser) -> None:
    p.add_argument("task", metavar="TASK", help="task name, e.g. digits-cnn")
    p.add_argument("--out", required=True, help="output folder (checkpoints/, model.safetensors)")
    p.add_argument(
        "--epochs",
        type=int,
        default=None,
        help="total epochs (task default; with --resume, the checkpointed run's)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of every generator (0)")
    p.add_argument("--resume", action="store_true", help="continue from the newest checkpoint")


Handler = Callable[[argparse.Namespace, Console], int]

# name: (help, arguments, handler)
_SUBCOMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Handler]] = {
    "list": ("list every lesson of the notes and whether it is ready", _args_list, _cmd_list),
    "run": ("run lessons and print them in the terminal", _args_run, _cmd_run),
    "verify": ("run only the checks; exit status 1 on any failure", _args_verify, _cmd_verify),
    "report": ("write the HTML report and the corrected notes", _args_report, _cmd_report),
    "bench": ("run the benchmarks and print the ratio table", _args_bench, _cmd_bench),
    "profile": ("per-layer parameters, MACs, FLOPs, receptive field", _args_profile, _cmd_profile),
    "train": ("train a task with checkpoints; runs under torchrun too", _args_train, _cmd_train),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mlcanon",
        description="Machine-learning interview canon, implemented and checked against references.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (help_text, add_arguments, _) in _SUBCOMMANDS.items():
        add_arguments(sub.add_parser(name, help=help_text))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    console = Console()

    def fail(message: str) -> None:
        Console(stderr=True, soft_wrap=True).print(f"[bold red]error:[/bold red] {escape(message)}")

    try:
        return _SUBCOMMANDS[args.command][2](args, console)
    except UsageError as exc:
        fail(str(exc))
        return 2
    except RunFailed as exc:
        fail(str(exc))
        return 1
    except BrokenPipeError:  # the reader stopped early (`mlcanon list | head`): end quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except OSError as exc:  # a file that cannot be written or read: say which, no traceback
        fail(f"{exc.strerror or exc}" + (f": {exc.filename}" if exc.filename else ""))
        return 2
    except KeyboardInterrupt:
        Console(stderr=True).print("[bold red]interrupted[/bold red]: nothing more was written")
        return 130


if __name__ == "__main__":
    sys.exit(main())
