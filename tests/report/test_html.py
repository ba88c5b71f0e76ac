"""The HTML pages without a browser: structure, counts kept apart, atomic writes."""

import re
import warnings

import pytest

from mlcanon.lessons import Entry, Lesson, run_lesson
from mlcanon.report import _html, build_report

ENTRY = Entry("made-up", "B", "编造的课", "A made-up lesson", "—", module="none", answer="Short.")


def _body(ctx):
    ctx.check("agrees", 2.0, 2.0, ref="closed form")
    ctx.check("array", [1.0, 2.0], [1.0, 2.0], ref="closed form")
    ctx.check("disagrees", 1.0, 2.0, ref="closed form")
    ctx.claim("measured", True, "0.3 < 0.5")
    ctx.skip("needs a package", "pkg missing", ref="pkg")
    warnings.warn("raised inside", UserWarning, stacklevel=1)
    with ctx.figure("line") as fig:
        fig.subplots().imshow([[0.0, 1.0], [1.0, 0.0]])


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    out = tmp_path_factory.mktemp("rep")
    build_report([run_lesson(Lesson(ENTRY, _body))], out)
    return (out / "index.html").read_text("utf-8"), (out / "notes.html").read_text("utf-8")


def test_report_structure(pages):
    html, _ = pages
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert '<span class="q" lang="zh">编造的课</span>' in html  # contents entry
    assert '<p class="q" lang="zh">编造的课</p>' in html
    assert 'href="#made-up"' in html and 'id="made-up"' in html
    assert "prefers-color-scheme: dark" in html
    # reference checks and claims are counted apart; the counts link to their first rows
    text = " ".join(re.sub(r"<[^>]+>", "", html).split())
    assert "paper's table): 2 passed, 1 failed, 1 skipped." in text
    assert "settles): 1 held, 0 did not." in text
    assert 'href="#made-up--3" data-filter="failed"' in html
    assert 'href="#made-up--5" data-filter="skipped"' in html
    assert 'href="#made-up--4" data-filter="claims"' in html
    assert '<details class="checks" open>' in html  # a failure opens the checks
    assert "UserWarning: raised inside" in html
    (img,) = re.findall(r"<img [^>]+>", html)
    assert 'loading="lazy"' in img and 'width="640" height="400"' in img
    assert re.search(r'src="data:image/(webp|png|svg\+xml);base64,', img)


def test_notes_card(pages):
    _, notes = pages
    assert notes.count('<article class="card"') == 1
    assert "Short." in notes
    # the headline number is the first passed reference check on a single number
    assert "agrees: ours <span" in notes
    assert "break-before: page" in notes


def test_interrupted_write_keeps_the_old_page(tmp_path, monkeypatch):
    page = tmp_path / "index.html"
    page.write_text("old")

    def interrupted(*args):
        raise KeyboardInterrupt  # Ctrl-C just before the rename

    monkeypatch.setattr(_html.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        _html._write_atomic(page, "new")
    assert page.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["index.html"]  # no temporary file left
