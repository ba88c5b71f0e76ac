"""Lessons: one per question of the notes, each checking the library against its reference.

Each catalogue entry names the lesson module that registers it with :func:`lesson`; a lesson is
looked up from its slug by importing that one module, so importing this package stays cheap.
"""

from ._catalog import CATALOG, SECTIONS, Entry
from ._core import (
    Check,
    Context,
    Figure,
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
    "Figure",
    "Lesson",
    "LessonResult",
    "get_lesson",
    "lesson",
    "registered_lessons",
    "run_lesson",
]
