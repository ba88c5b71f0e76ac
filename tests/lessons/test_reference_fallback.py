"""check_first_available: the first reference whose package imports decides the check, and
the check names that reference; with none installed it is a skip, never a pass."""

from mlcanon.lessons import CATALOG, Lesson, run_lesson
from mlcanon.lessons.detection import check_first_available


def _missing():
    import mlcanon_no_such_package  # noqa: F401


def _run(refs, ours=1.0):
    def body(ctx):
        check_first_available(ctx, "c", ours, refs, rtol=1e-9)

    (check,) = run_lesson(Lesson(CATALOG["nms"], body), figures=False).checks
    return check


def test_first_installed_reference_is_used_and_named():
    c = _run([("absent", _missing), ("second", lambda: 1.0), ("third", lambda: 2.0)])
    assert (c.status, c.ref_name) == ("pass", "second")
    c = _run([("first", lambda: 2.0), ("second", lambda: 1.0)])
    assert (c.status, c.ref_name) == ("fail", "first")  # a mismatch is not retried elsewhere


def test_no_reference_installed_is_a_skip():
    c = _run([("a", _missing), ("b", _missing)])
    assert c.status == "skip" and c.ref_name == "a / b"
