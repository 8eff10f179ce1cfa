"""One lesson: its text at the top, its live view, the "try this" line, and its keys in the footer.

The lesson's run trains in one thread worker (the project's one idiom across
threads): `run.run()` with a RunFeed listening, which posts a LessonTick at
most ~20 times a second; a tick from any other run is dropped. Leaving the
screen stops the run. The lesson's keys are priority bindings, so they work
whichever widget has focus.
"""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Static

from rnntui.lessons import LESSONS
from rnntui.lessons.base import Lesson, pick
from rnntui.tui.lessons.feed import PERIOD, LessonTick, RunFeed
from rnntui.tui.lessons.keys import with_bindings

SCREEN_WORDS = {
    "en": {"next": "next", "previous": "previous", "back": "lessons"},
    "ko": {"next": "다음", "previous": "이전", "back": "목록"},
}


class LessonScreen(Screen):
    DEFAULT_CSS = """
    LessonScreen { layout: vertical; }
    LessonScreen #title { text-style: bold; padding: 0 1; background: $primary-background; }
    LessonScreen #text { padding: 0 1; color: $text-muted; }
    LessonScreen #body { height: 1fr; padding: 1 1 0 1; overflow: hidden; }
    LessonScreen #try { padding: 0 1; text-style: italic; color: $accent; }
    """

    def __init__(self, lesson: Lesson, lang: str) -> None:
        super().__init__()
        self.lesson = lesson
        self.lang = lang
        self.run_ = lesson.run()
        self.feed: RunFeed | None = None

    def compose(self) -> ComposeResult:
        lesson = self.lesson
        yield Static(f"{lesson.number}. {pick(lesson.title, self.lang)}", id="title")
        yield Static("\n".join(pick(lesson.text, self.lang)), id="text")
        with Vertical(id="body"):
            yield Static(id="view")
        yield Static(pick(lesson.try_this, self.lang), id="try")
        yield Footer()

    def on_mount(self) -> None:
        self.redraw()
        if self.run_ is not None:
            self.feed = RunFeed(self.run_, self.post_message)
            self.run_.listeners.append(self.feed)
            self.train(self.run_)

    def on_unmount(self) -> None:
        if self.run_ is not None:
            self.run_.send("stop")  # wakes a paused or slowly paced run at once

    @work(thread=True, exclusive=True, exit_on_error=False)
    def train(self, run) -> None:
        run.run()

    # ----- drawing ----------------------------------------------------------------------

    def redraw(self) -> None:
        view = self.query_one("#view", Static)
        width = max(self.size.width - 2, 40) if self.size.width else 118
        view.update(self.lesson.view(self.lang, width))

    def on_lesson_tick(self, tick: LessonTick) -> None:
        if tick.run is not self.run_ or self.feed is None:
            return  # a run this screen no longer shows
        self.redraw()
        self.set_timer(PERIOD, self._quiet_period_over)

    def _quiet_period_over(self) -> None:
        if self.feed is not None and self.feed.release():
            self.redraw()
            self.set_timer(PERIOD, self._quiet_period_over)

    def on_resize(self) -> None:
        self.redraw()

    # ----- keys -------------------------------------------------------------------------

    def action_lesson(self, action: str) -> None:
        self.lesson.press(action)
        self.redraw()  # cursors and settings show at once; steps arrive as ticks

    def action_next_lesson(self) -> None:
        self._go(+1)

    def action_previous_lesson(self) -> None:
        self._go(-1)

    def _go(self, offset: int) -> None:
        index = next(i for i, lesson in enumerate(LESSONS) if lesson.name == self.lesson.name) + offset
        if 0 <= index < len(LESSONS):
            self.app.switch_screen(lesson_screen(LESSONS[index], self.lang, self.lesson.seed))

    def action_back(self) -> None:
        self.app.pop_screen()


def lesson_screen(lesson_class: type[Lesson], lang: str, seed: int = 0) -> LessonScreen:
    """A screen for a new lesson of this class: its keys, then n, p and Esc, in the footer in `lang`."""
    words = pick(SCREEN_WORDS, lang)
    bindings = [
        Binding(key.key, f"lesson({key.action!r})", pick(key.help, lang), priority=True)
        for key in lesson_class.keys
    ]
    bindings += [
        Binding("n", "next_lesson", words["next"]),
        Binding("p", "previous_lesson", words["previous"]),
        Binding("escape", "back", words["back"]),
    ]
    return with_bindings(LessonScreen, bindings)(lesson_class(seed), lang)
