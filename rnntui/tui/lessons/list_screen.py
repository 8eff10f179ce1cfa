"""The list of lessons: Enter opens one."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from rnntui.lessons import LESSONS
from rnntui.lessons.base import pick
from rnntui.tui.lessons.keys import with_bindings

HEADING = {
    "en": "rnntui lessons: the lecture on recurrent networks, on small models training in front of you",
    "ko": "rnntui 강의: 순환 신경망 강의를, 눈앞에서 학습하는 작은 모델로",
}
LEAVE = {"en": "quit", "ko": "나가기"}


class LessonListScreen(Screen):
    DEFAULT_CSS = """
    LessonListScreen { padding: 1 2; }
    LessonListScreen #heading { text-style: bold; margin-bottom: 1; }
    LessonListScreen OptionList { height: auto; max-height: 100%; border: none; }
    """

    def __init__(self, lang: str, seed: int = 0) -> None:
        super().__init__()
        self.lang = lang
        self.seed = seed

    def compose(self) -> ComposeResult:
        yield Static(pick(HEADING, self.lang), id="heading")
        yield OptionList(*[
            Option(f"{lesson.number}. {lesson.name:<12} {pick(lesson.title, self.lang)}", id=lesson.name)
            for lesson in LESSONS
        ])
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.open(event.option_index)

    def open(self, index: int) -> None:
        from rnntui.tui.lessons.lesson_screen import lesson_screen

        self.app.push_screen(lesson_screen(LESSONS[index], self.lang, self.seed))

    def action_leave(self) -> None:
        self.dismiss()


def lesson_list(lang: str, seed: int = 0) -> LessonListScreen:
    """The list, its footer in `lang`."""
    screen_class = with_bindings(LessonListScreen, [Binding("escape", "leave", pick(LEAVE, lang))])
    return screen_class(lang, seed)
