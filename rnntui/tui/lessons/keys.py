"""Bindings made per language and per lesson: a screen class whose BINDINGS are given."""

from __future__ import annotations

from textual.binding import Binding


def with_bindings(screen_class: type, bindings: list[Binding]) -> type:
    """A subclass of `screen_class` with these bindings, so the footer speaks the lesson's language
    and shows exactly the lesson's keys."""
    return type(screen_class.__name__, (screen_class,), {"BINDINGS": bindings})
