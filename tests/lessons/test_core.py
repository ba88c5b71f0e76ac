"""The lesson contract: checks, claims, skips, figures, errors and the catalogue."""

import numpy as np
import pytest

from mlcanon.lessons import CATALOG, SECTIONS, Lesson, lesson, run_lesson


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


def test_claim_records_evidence():
    def body(ctx):
        ctx.claim("holds", True, "because")
        ctx.claim("fails", False, "measured 3")

    r = _run(body)
    assert [c.status for c in r.checks] == ["pass", "fail"]
    assert r.checks[1].detail == "measured 3"


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
    assert fig.png.startswith(b"\x89PNG") and fig.path.read_bytes() == fig.png
    r2 = _run(body, figures=False)
    assert [k for k, _ in r2.blocks] == ["text", "text", "table"]


def test_register_rejects_unknown_slug():
    with pytest.raises(ValueError, match="unknown lesson slug 'no-such'"):
        lesson("no-such")


def test_catalogue_covers_all_sections():
    assert set(SECTIONS) == {e.section for e in CATALOG.values()}
    assert len(CATALOG) == 72
    assert all(e.question and e.title for e in CATALOG.values())
