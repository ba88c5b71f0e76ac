"""The lesson contract: checks, claims, skips, figures, warnings, errors; the registry."""

import io
import re
import warnings
from pathlib import Path

import numpy as np
import pytest

from mlcanon.lessons import CATALOG, SECTIONS, Lesson, get_lesson, lesson, run_lesson

NOTES_MAP = Path(__file__).resolve().parents[2].parent / "shared" / "NOTES_MAP.md"


def _run(fn, **kwargs):
    return run_lesson(Lesson(CATALOG["auc"], fn), **kwargs)


def test_check_passes_within_tolerance_and_fails_outside():
    def body(ctx):
        ctx.check("close", 1.0 + 1e-13, 1.0, rtol=1e-12, ref="x")
        ctx.check("far", 1.0 + 1e-9, 1.0, rtol=1e-12, ref="x")
        ctx.check("exact arrays", np.arange(3), [0, 1, 2], ref="x")
        ctx.check("shape mismatch", np.zeros(3), np.zeros(4), atol=1, ref="x")
        ctx.check("labels", np.array(["a", "b"]), np.array(["a", "c"]), ref="x")

    r = _run(body)
    assert [c.status for c in r.checks] == ["pass", "fail", "pass", "fail", "fail"]
    assert "shape" in r.checks[3].detail
    assert not r.ok


def test_missing_reference_package_is_skipped_not_passed():
    def body(ctx):
        def ref():
            import mlcanon_no_such_package  # noqa: F401

        ctx.check("needs a package", 1.0, ref, rtol=1e-9, ref="nothing")

    r = _run(body)
    (c,) = r.checks
    assert c.status == "skip"
    assert "mlcanon_no_such_package" in c.detail
    assert r.ok  # a skip is not a failure, and not a pass either
    assert r.count("pass") == 0


def test_claim_records_evidence_and_is_counted_apart():
    def body(ctx):
        ctx.check("compared", 1.0, 1.0, ref="x")
        ctx.claim("holds", True, "because")
        ctx.claim("fails", False, "measured 3")

    r = _run(body)
    assert [(c.kind, c.status) for c in r.checks] == [
        ("reference", "pass"),
        ("claim", "pass"),
        ("claim", "fail"),
    ]
    assert r.checks[2].detail == "measured 3"
    assert (r.count("pass"), r.count("pass", "reference"), r.count("pass", "claim")) == (2, 1, 1)


def test_warnings_raised_in_a_lesson_are_recorded_not_printed(recwarn):
    def body(ctx):
        warnings.warn("slow convergence", UserWarning, stacklevel=1)

    r = _run(body)
    assert r.warnings == ["UserWarning: slow convergence"]
    assert len(recwarn) == 0  # nothing escaped to the caller


def test_error_in_lesson_is_recorded():
    def body(ctx):
        raise RuntimeError("boom")

    r = _run(body)
    assert not r.ok
    assert "boom" in r.error


def test_text_tables_and_figures(tmp_path):
    def body(ctx):
        ctx.say("first paragraph\nstill first\n\nsecond")
        ctx.table("t", ["a", "b"], [[1, 0.5]])
        with ctx.figure("curve") as fig:
            fig.subplots().plot([0, 1], [0, 1])

    r = _run(body, out_dir=tmp_path)
    kinds = [k for k, _ in r.blocks]
    assert kinds == ["text", "text", "table", "figure"]
    assert r.blocks[0][1] == "first paragraph still first"
    fig = r.blocks[3][1]
    assert fig.path.read_bytes() == fig.data and fig.path.suffix == fig.suffix
    assert (fig.width, fig.height) == (640, 400)  # CSS pixels of the default 6.4 x 4.0 in
    r2 = _run(body, figures=False)
    assert [k for k, _ in r2.blocks] == ["text", "text", "table"]


def test_figure_is_drawn_at_twice_its_size_or_as_svg(tmp_path):
    from PIL import Image

    def line(ctx):
        with ctx.figure("line") as fig:
            fig.subplots().plot([0, 1], [0, 1])

    def noise(ctx):  # an image: the SVG would embed the same bitmap plus markup
        with ctx.figure("noise", figsize=(3.0, 2.0)) as fig:
            fig.subplots().imshow(np.random.default_rng(0).random((64, 64)))

    svg = _run(line).blocks[0][1]
    assert svg.mime == "image/svg+xml" and svg.data.lstrip().startswith(b"<?xml")
    png = _run(noise).blocks[0][1]
    assert png.mime == "image/png" and png.data.startswith(b"\x89PNG")
    assert Image.open(io.BytesIO(png.data)).size == (2 * png.width, 2 * png.height)


def test_register_rejects_unknown_slug_and_wrong_module():
    with pytest.raises(ValueError, match="unknown lesson slug 'no-such'"):
        lesson("no-such")
    with pytest.raises(ValueError, match="names module='metrics'"):
        lesson("auc")(lambda ctx: None)  # registered from this test module, not metrics


def test_get_lesson_imports_its_module_only_and_refuses_unknown_slugs():
    assert get_lesson("auc").fn.__module__ == "mlcanon.lessons.metrics"
    with pytest.raises(KeyError, match=r"unknown lesson slug 'no-such' .*CATALOG lists"):
        get_lesson("no-such")


@pytest.mark.parametrize(("slug", "close"), [("aucc", "auc"), ("AUC", "auc")])
def test_unknown_slug_names_the_closest_ones(slug, close):
    """The KeyError said only the slug (``KeyError: 'aucc'``); ``mlcanon verify aucc`` already
    suggested the closest slugs, the library call now does too."""
    assert close in CATALOG
    with pytest.raises(KeyError, match=rf"unknown lesson slug '{slug}' \(did you mean {close}\b"):
        get_lesson(slug)


def test_catalogue_covers_all_sections():
    assert set(SECTIONS) == {e.section for e in CATALOG.values()}
    assert all(e.question and e.title and e.module for e in CATALOG.values())
    assert all(e.answer for e in CATALOG.values())


@pytest.mark.skipif(not NOTES_MAP.is_file(), reason="../shared/NOTES_MAP.md not beside the repo")
def test_catalogue_follows_the_notes_map():
    """NOTES_MAP.md is the source of the slugs and questions, in its order."""
    rows = re.findall(r"^\| ([a-z0-9-]+) \| ([^|]+?) \|", NOTES_MAP.read_text("utf-8"), re.M)
    notes = [(slug, question) for slug, question in rows if slug != "slug"]
    assert [(e.slug, e.question) for e in CATALOG.values()] == notes
