"""Every registered lesson runs without error and none of its checks fails."""

import pytest

from mlcanon.lessons import registered_lessons, run_lesson

LESSONS = registered_lessons()


@pytest.mark.parametrize("lesson", LESSONS, ids=[lesson.slug for lesson in LESSONS])
def test_lesson_checks_pass(lesson):
    result = run_lesson(lesson, figures=False)
    assert result.error is None, result.error
    failed = [c for c in result.checks if c.status == "fail"]
    assert not failed, "\n".join(
        f"{c.name}: ours={c.ours} ref={c.reference} {c.detail}" for c in failed
    )
    assert result.checks, f"lesson {lesson.slug} records no checks"
    for c in result.checks:
        if c.status == "skip":
            # a skip must say why (the missing reference package)
            assert c.detail, c.name
