"""The command line: list, run, verify, report, bench; their output formats and exit statuses."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mlcanon import cli
from mlcanon.lessons import CATALOG, Entry, Lesson, registered_lessons

ROOT = Path(__file__).resolve().parents[2]


def _json_lines(text):
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_list_prints_every_entry_whole_when_not_a_terminal(capsys):
    assert cli.main(["list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("\t")[0] for line in lines] == list(CATALOG)
    ready = {lesson.slug for lesson in registered_lessons()}
    for line in lines:
        slug, status, section, title, question = line.split("\t")
        assert status == ("ready" if slug in ready else "planned")
        entry = CATALOG[slug]
        assert (section, title, question) == (entry.section, entry.title, entry.question)


def test_list_json(capsys):
    assert cli.main(["list", "--json"]) == 0
    records = _json_lines(capsys.readouterr().out)
    assert [r["slug"] for r in records] == list(CATALOG)
    auc = records[list(CATALOG).index("auc")]
    assert auc["status"] == "ready" and auc["question"] == "AUC / ROC"
    assert auc["module"] == "mlcanon.lessons.metrics"


def test_unknown_slug_stops_before_anything_runs(capsys, tmp_path):
    out = tmp_path / "rep"
    assert cli.main(["report", "auc", "aucc", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "unknown lesson 'aucc'" in err and "did you mean auc" in err
    assert not out.exists()  # nothing ran, nothing was written


def test_planned_lesson_is_reported(capsys, monkeypatch):
    planned = Entry("not-yet", "A", "还没有", "Not written", "—", module="no_such_module")
    monkeypatch.setitem(cli.CATALOG, "not-yet", planned)
    assert cli.main(["verify", "not-yet"]) == 2
    assert "not written yet" in capsys.readouterr().err


def _fake(monkeypatch, body):
    fake = Lesson(CATALOG["auc"], body)
    monkeypatch.setattr(cli, "get_lesson", lambda slug: fake)


def _mixed(ctx):
    ctx.check("agrees", 1.0, 1.0 + 1e-12, rtol=1e-9, ref="closed form")
    ctx.claim("a measured statement", True, "measured 0.3")
    ctx.skip("needs a package", "nothing missing", ref="nothing")


def test_verify_json_one_record_per_check(monkeypatch, capsys):
    _fake(monkeypatch, _mixed)
    assert cli.main(["verify", "--json", "auc"]) == 0
    records = _json_lines(capsys.readouterr().out)
    assert [(r["lesson"], r["name"], r["kind"], r["status"]) for r in records] == [
        ("auc", "agrees", "reference", "pass"),
        ("auc", "a measured statement", "claim", "pass"),
        ("auc", "needs a package", "reference", "skip"),
    ]
    assert records[0]["value"] == "1.0" and records[0]["reference_value"] == "1.000000000001"
    assert records[0]["tolerance"] == "rtol=1e-09, atol=0"


def test_verify_json_error_record_has_every_field(monkeypatch, capsys):
    """A lesson that raises gives one more record, with the fields README lists for every
    record (lesson, name, kind, status, value, reference_value, tolerance, reference, detail);
    the old one lacked the four that a check compares, so ``r["value"]`` was a KeyError."""

    def body(ctx):
        _mixed(ctx)
        raise RuntimeError("lost the thread")

    _fake(monkeypatch, body)
    assert cli.main(["verify", "--json", "auc"]) == 1
    records = _json_lines(capsys.readouterr().out)
    fields = ["lesson", "name", "kind", "status", "value", "reference_value", "tolerance"]
    fields += ["reference", "detail"]
    assert [sorted(r) for r in records] == [sorted(fields)] * 4
    assert records[-1] == {
        "lesson": "auc",
        "name": "lesson raised an error",
        "kind": "error",
        "status": "fail",
        "value": None,
        "reference_value": None,
        "tolerance": None,
        "reference": None,
        "detail": "RuntimeError: lost the thread",
    }


def test_verify_counts_claims_apart_and_fails_on_a_failed_check(monkeypatch, capsys):
    def body(ctx):
        _mixed(ctx)
        ctx.check("wrong", 1.0, 2.0, rtol=1e-9, ref="x")

    _fake(monkeypatch, body)
    assert cli.main(["verify", "auc"]) == 1
    out = " ".join(capsys.readouterr().out.split())
    assert "reference checks: 1 passed, 1 failed, 1 skipped" in out
    assert "measured claims: 1 held, 0 did not" in out


def test_warnings_inside_a_lesson_are_recorded_in_it(monkeypatch, capsys, tmp_path):
    import warnings

    def body(ctx):
        ctx.check("agrees", 1.0, 1.0, ref="x")
        for _ in range(3):
            warnings.warn("did not converge", UserWarning, stacklevel=1)

    _fake(monkeypatch, body)
    assert cli.main(["run", "auc", "--out", str(tmp_path)]) == 0
    captured = capsys.readouterr()
    assert "warning UserWarning: did not converge" in " ".join(captured.out.split())
    assert "did not converge" not in captured.err


def test_run_and_report_a_real_lesson(tmp_path, capsys):
    assert cli.main(["run", "sqrt", "--out", str(tmp_path / "figs")]) == 0
    assert "checks" in capsys.readouterr().out
    assert cli.main(["report", "sqrt", "--out", str(tmp_path / "rep")]) == 0
    html = (tmp_path / "rep" / "index.html").read_text(encoding="utf-8")
    assert f'<p class="q" lang="zh">{CATALOG["sqrt"].question}</p>' in html
    assert 'id="sqrt"' in html
    # written through temporary files that were renamed: nothing else is left in the folder
    assert sorted(p.name for p in (tmp_path / "rep").iterdir()) == ["index.html", "notes.html"]


@pytest.mark.parametrize("command", ["run", "report"])
def test_out_that_cannot_be_written_is_refused_before_running(tmp_path, capsys, command):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    assert cli.main([command, "auc", "--out", str(blocker / "sub")]) == 2
    captured = capsys.readouterr()
    assert "--out" in captured.err and "cannot be written" in captured.err
    assert "checks" not in captured.out  # no lesson ran


def test_interrupted_report_leaves_no_page(monkeypatch, tmp_path, capsys):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "run_lesson", interrupted)
    out = tmp_path / "rep"
    assert cli.main(["report", "auc", "--out", str(out)]) == 130
    assert "interrupted" in capsys.readouterr().err
    assert list(out.iterdir()) == []


def test_python_dash_m_and_lazy_lookup():
    """`python -m mlcanon` works, and finding one lesson imports only its own module."""
    code = (
        "import sys; from mlcanon.cli import main; from mlcanon.lessons import get_lesson;"
        "get_lesson('auc');"
        "print(sorted(m for m in sys.modules if m.startswith('mlcanon.lessons.')))"
    )
    env_path = str(ROOT / "src")
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": env_path, "PATH": "/usr/bin:/bin"},
        check=True,
    )
    assert done.stdout.split() == [
        "['mlcanon.lessons._catalog',",
        "'mlcanon.lessons._core',",
        "'mlcanon.lessons.metrics']",
    ]
    done = subprocess.run(
        [sys.executable, "-m", "mlcanon", "list", "--json"],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": env_path, "PATH": "/usr/bin:/bin"},
        check=True,
    )
    assert len(_json_lines(done.stdout)) == len(CATALOG)


def test_bench_outside_a_checkout_is_a_usage_error(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["bench"]) == 2
    assert "repository root" in capsys.readouterr().err


def test_bench_unknown_topic(monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    assert cli.main(["bench", "no-such-topic"]) == 2
    assert "unknown benchmark" in capsys.readouterr().out


def test_os_error_while_writing_is_a_message_not_a_traceback(monkeypatch, tmp_path, capsys):
    import mlcanon.report

    def denied(results, out):
        raise PermissionError(13, "Permission denied", str(out / "index.html"))

    _fake(monkeypatch, _mixed)
    monkeypatch.setattr(mlcanon.report, "build_report", denied)
    assert cli.main(["report", "auc", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"error: Permission denied: {tmp_path / 'index.html'}" in err
    assert "Traceback" not in err


def test_figure_path_with_brackets_is_printed_as_it_is(monkeypatch, tmp_path, capsys):
    """A figure's name and path were printed as rich markup: an --out folder named ``a[/b]`` (a
    legal path) ended `mlcanon run` with a MarkupError traceback, and ``[bold]`` vanished."""

    def body(ctx):
        with ctx.figure("curve[bold]") as fig:
            fig.add_subplot().plot([0, 1])

    _fake(monkeypatch, body)
    out = tmp_path / "a[/b]" / "figs"
    assert cli.main(["run", "auc", "--out", str(out)]) == 0
    printed = "".join(capsys.readouterr().out.split())  # rich wraps long lines
    (written,) = out.iterdir()
    assert written.name.startswith("auc-curve[bold].")
    assert f"figurecurve[bold]writtento{written}" in printed


def test_slug_named_twice_runs_once(monkeypatch, capsys):
    """`mlcanon verify auc auc` ran the lesson twice and counted its checks twice in the totals
    (a report held two sections with the same ids)."""
    runs = []

    def body(ctx):
        runs.append(1)
        ctx.check("one", 1.0, 1.0, ref="the same number")

    _fake(monkeypatch, body)
    assert cli.main(["verify", "--json", "auc", "auc"]) == 0
    assert len(runs) == 1 and len(_json_lines(capsys.readouterr().out)) == 1
