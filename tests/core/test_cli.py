"""The command line: list, run, verify, report and their exit statuses."""

import pytest

from mlcanon import cli
from mlcanon.lessons import registered_lessons


def test_list_shows_whole_catalogue(capsys):
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    assert "lessons ready" in out
    assert "planned" in out or len(registered_lessons()) == len(cli.CATALOG)


def test_unknown_slug_exits_nonzero_and_suggests(capsys):
    if not registered_lessons():
        pytest.skip("no lesson registered yet")
    slug = registered_lessons()[0].slug
    typo = slug[:-1] + ("x" if slug[-1] != "x" else "y")
    assert cli.main(["run", typo]) == 2
    err = capsys.readouterr().err
    assert "unknown lesson" in err and slug in err


def test_planned_lesson_is_reported(capsys):
    planned = [s for s in cli.CATALOG if s not in {x.slug for x in registered_lessons()}]
    if not planned:
        pytest.skip("every lesson is registered")
    assert cli.main(["verify", planned[0]]) == 2
    assert "not written yet" in capsys.readouterr().err


def test_run_verify_and_report(tmp_path, capsys):
    lessons = registered_lessons()
    if not lessons:
        pytest.skip("no lesson registered yet")
    slug = lessons[0].slug
    assert cli.main(["run", slug, "--out", str(tmp_path / "figs")]) == 0
    out = capsys.readouterr().out
    assert "checks" in out
    assert cli.main(["verify", slug]) == 0
    assert "0 failed" in capsys.readouterr().out
    assert cli.main(["report", slug, "--out", str(tmp_path / "rep")]) == 0
    html = (tmp_path / "rep" / "index.html").read_text(encoding="utf-8")
    assert lessons[0].entry.question in html and "<table>" in html
    assert 'src="data:image/png;base64,' in html or "figure" not in out


def test_verify_fails_when_a_check_fails(monkeypatch, capsys):
    from mlcanon.lessons import CATALOG, Lesson

    def bad(ctx):
        ctx.check("wrong", 1.0, 2.0, rtol=1e-9, ref="x")

    fake = Lesson(CATALOG["auc"], bad)
    monkeypatch.setattr(cli, "get_lesson", lambda slug: fake)
    assert cli.main(["verify", "auc"]) == 1
    assert "1 failed" in capsys.readouterr().out
