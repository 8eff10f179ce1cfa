"""`rnntui learn` in the terminal: the list of lessons, or one lesson opened over it."""

from __future__ import annotations

from textual.app import App
from textual.binding import Binding

from rnntui.lessons import find
from rnntui.tui.lessons.lesson_screen import lesson_screen
from rnntui.tui.lessons.list_screen import lesson_list


class LessonsApp(App):
    TITLE = "rnntui learn"
    ENABLE_COMMAND_PALETTE = False  # the footer has room for the lesson's keys
    BINDINGS = [Binding("q", "quit", "quit", show=False), Binding("ctrl+c", "quit", show=False)]

    def __init__(self, lang: str = "en", lesson: int | str | None = None, seed: int = 0) -> None:
        super().__init__()
        self.lang = lang
        self.first = find(lesson) if lesson is not None else None
        self.seed = seed

    def on_mount(self) -> None:
        # Esc on the list ends the app; Esc in a lesson comes back to the list.
        self.push_screen(lesson_list(self.lang, self.seed), callback=lambda _: self.exit())
        if self.first is not None:
            self.push_screen(lesson_screen(self.first, self.lang, self.seed))


def run_lessons(lesson: int | None, lang: str, seed: int = 0) -> None:
    # One BLAS thread: the lesson's training takes one core and the UI keeps the other.
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")
    LessonsApp(lang, lesson, seed).run()
