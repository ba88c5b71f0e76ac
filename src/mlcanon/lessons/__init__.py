"""Lessons: one per question of the notes, each checking the library against its reference.

Lesson modules (one per section of the notes) register functions with :func:`lesson`; they are
discovered on first use, so importing this package stays cheap.
"""

from ._catalog import CATALOG, SECTIONS, Entry
from ._core import (
    Check,
    Context,
    Lesson,
    LessonResult,
    get_lesson,
    lesson,
    registered_lessons,
    run_lesson,
)

__all__ = [
    "CATALOG",
    "SECTIONS",
    "Check",
    "Context",
    "Entry",
    "Lesson",
    "LessonResult",
    "get_lesson",
    "lesson",
    "registered_lessons",
    "run_lesson",
]
