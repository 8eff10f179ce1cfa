"""The lessons: the lecture on recurrent networks, one idea at a time, on small live models.

Every module of this package that defines `LESSON` (a `Lesson` subclass, see
base.py) is a lesson; `LESSONS` holds them in the lecture's order (by number).
A new lesson is a new module here: nothing else to register.
"""

from __future__ import annotations

import importlib
import pkgutil

from rnntui.lessons.base import Lesson


def _discover() -> list[type[Lesson]]:
    found = []
    for module in pkgutil.iter_modules(__path__):
        lesson = getattr(importlib.import_module(f"{__name__}.{module.name}"), "LESSON", None)
        if lesson is not None:
            found.append(lesson)
    found.sort(key=lambda lesson: lesson.number)
    numbers = [lesson.number for lesson in found]
    if len(set(numbers)) != len(numbers):
        raise RuntimeError(f"two lessons share a number: {numbers}")
    return found


LESSONS: list[type[Lesson]] = _discover()


def find(name_or_number: str | int) -> type[Lesson] | None:
    """A lesson by its name ("char-lm") or number (3 or "3"); None when there is none."""
    key = str(name_or_number).strip().lower()
    for lesson in LESSONS:
        if key in (lesson.name, str(lesson.number)):
            return lesson
    return None


def names() -> list[str]:
    return [lesson.name for lesson in LESSONS]
