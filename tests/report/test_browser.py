"""The report and the corrected notes in a real browser: headless Chromium driven by Playwright.

The report is built from a few fast lessons and one made-up lesson that records every kind of
result (a failure, a skip, a claim, a warning, a long unbreakable detail). Screenshots and the
notes' PDF are saved under ``build/browser/`` for a person to look at.

Runs with ``make test-browser``. Where Chromium or Playwright is missing the module is skipped,
unless ``MLCANON_REQUIRE_BROWSER=1`` (set by ``.ci/run``), which turns the skip into a failure.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
from pathlib import Path

import pytest

from mlcanon.lessons import Entry, Lesson, get_lesson, run_lesson
from mlcanon.report import build_report

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
_missing = [
    what
    for what, there in [
        (f"chromium ({CHROMIUM})", Path(CHROMIUM).exists()),
        ("playwright", importlib.util.find_spec("playwright") is not None),
    ]
    if not there
]
if _missing:
    if os.environ.get("MLCANON_REQUIRE_BROWSER") == "1":
        raise RuntimeError(f"MLCANON_REQUIRE_BROWSER=1 but {', '.join(_missing)} missing")
    pytest.skip(f"{', '.join(_missing)} not installed", allow_module_level=True)

from playwright.sync_api import sync_playwright  # noqa: E402

FAST = ["auc", "sqrt", "pooling-backprop"]
SHOTS = Path(__file__).resolve().parents[2] / "build" / "browser"
PHONE = {"device_scale_factor": 3, "is_mobile": True, "has_touch": True}
WIDTHS = {
    "desktop": {"viewport": {"width": 1280, "height": 900}},
    "phone": {"viewport": {"width": 390, "height": 844}, **PHONE},
}


def _every_result(ctx):
    ctx.say("A made-up lesson that records one result of every kind.")
    ctx.check("agrees", 1.0, 1.0, rtol=1e-12, ref="closed form")
    ctx.check("disagrees", 1.0, 2.0, rtol=1e-12, ref="closed form")
    ctx.check("x" * 160, [1.0] * 8, [1.0] * 8, atol=1e-9, ref="y" * 90)  # nothing to break on
    ctx.claim("a measured statement", True, "measured 0.3 < 0.5")
    ctx.skip("needs a package", "no_such_package missing", ref="no_such_package")
    ctx.table("a wide table", [f"column {i}" for i in range(14)], [list(range(14))])
    import warnings

    warnings.warn("raised inside the lesson", UserWarning, stacklevel=1)
    with ctx.figure("line") as fig:
        fig.subplots().plot([0, 1, 2], [0, 1, 4])


MADE_UP = Entry("every-result", "A", "每一种结果", "Every kind of result", "—", module="none")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    results = [run_lesson(get_lesson(slug)) for slug in FAST]
    results.append(run_lesson(Lesson(MADE_UP, _every_result)))
    out = tmp_path_factory.mktemp("report")
    build_report(results, out)
    SHOTS.mkdir(parents=True, exist_ok=True)
    return out, results


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


def _open(browser, url, width):
    context = browser.new_context(**WIDTHS[width])
    page = context.new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(url)
    page.wait_for_load_state("load")
    return page, errors


@pytest.mark.parametrize("width", list(WIDTHS))
def test_report_layout(site, browser, width):
    out, results = site
    page, errors = _open(browser, (out / "index.html").as_uri(), width)
    page.screenshot(path=SHOTS / f"report-{width}.png")
    page.screenshot(path=SHOTS / f"report-{width}-full.png", full_page=True)

    # every in-page link (contents, section bar, self-links, header counts) has a target
    dangling = page.eval_on_selector_all(
        'a[href^="#"]',
        "links => links.map(a => a.getAttribute('href').slice(1))"
        ".filter(id => !document.getElementById(id))",
    )
    assert dangling == []
    toc = page.eval_on_selector_all(".toc a[href^='#']", "links => links.map(a => a.hash)")
    for r in results:
        assert f"#{r.lesson.slug}" in toc
    assert page.locator(".toc [lang=zh]").count() == len(results)

    # no checks table is wider than its lesson, and the page never scrolls sideways
    page.eval_on_selector_all("details.checks", "ds => ds.forEach(d => d.open = true)")
    overflow = page.eval_on_selector_all(
        "table.checks",
        "ts => ts.filter(t => t.getBoundingClientRect().width >"
        " t.closest('article').getBoundingClientRect().width + 0.5).length",
    )
    assert overflow == 0
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    # every image loads (they are lazy: bring each into view first)
    n_images = page.locator("img").count()
    assert n_images >= len(FAST)
    for i in range(n_images):
        img = page.locator("img").nth(i)
        img.scroll_into_view_if_needed()
        page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0", arg=img.element_handle()
        )
    assert errors == []


def test_filter_hides_passed_rows(site, browser):
    out, _ = site
    page, errors = _open(browser, (out / "index.html").as_uri(), "desktop")
    visible = "sel => Array.from(document.querySelectorAll(sel)).filter(e => e.offsetParent).length"
    assert page.evaluate(visible, "tr.pass") > 0
    page.check("input[value=failed]")
    assert page.evaluate(visible, "tr.pass") == 0
    assert page.evaluate(visible, "tr.fail") == 1
    assert page.evaluate(visible, ".lesson img") == 0  # only the checks of failing lessons
    page.screenshot(path=SHOTS / "report-filter-failed.png")
    page.check("input[value=skipped]")
    assert page.evaluate(visible, "tr.pass") == 0
    assert page.evaluate(visible, "tr.skip") == 1
    page.check("input[value=claims]")
    assert page.evaluate(visible, "tr.kind-reference") == 0
    assert page.evaluate(visible, "tr.kind-claim") > 0
    page.check("input[value=all]")
    assert page.evaluate(visible, "tr.pass") > 0

    # a header count applies its filter and lands on its row
    page.click("a[data-filter=skipped]")
    assert page.evaluate(visible, "tr.pass") == 0
    assert page.evaluate("location.hash") == "#every-result--5"
    assert errors == []


@pytest.mark.parametrize("width", list(WIDTHS))
def test_notes_page_renders_every_card(site, browser, width):
    out, results = site
    page, errors = _open(browser, (out / "notes.html").as_uri(), width)
    page.screenshot(path=SHOTS / f"notes-{width}.png", full_page=True)
    cards = page.locator("article.card")
    assert cards.count() == len(results)
    for r in results:
        card = page.locator(f"#card-{r.lesson.slug}")
        assert card.is_visible()
        assert card.bounding_box()["height"] > 40
        if r.lesson.entry.answer:
            assert r.lesson.entry.answer in card.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert errors == []
    if width == "desktop":  # print: one section per page
        pdf = page.pdf(path=SHOTS / "notes.pdf")
        pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
        assert pages >= page.locator("section.sec").count()
