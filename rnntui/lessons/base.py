"""The lesson protocol: what every lesson is, for the lessons screen and `rnntui learn`.

A lesson is one idea of the lecture on one small live model:

    number, name, title        3, "char-lm", {"en": ..., "ko": ...}
    text                       a few lines (at most eight) per language, shown at the top
    try_this                   one line per language naming the keys that change something
    keys                       LessonKey(key, action, help): the lesson's own keys
    train(steps)               headless training of its model (`rnntui learn NAME --print --steps N`)
    press(action)              a key's effect: move a cursor, change k, one step, a temperature ...
    view(lang, width)          the live view, a Rich renderable; every number in it from the engine
    run()                      its model as a LessonRun to train live (None: a static lesson)

Threads: the lessons screen trains `run()` on a worker thread and calls
`press` and `view` on the UI thread. So `press` changes only what the view
shows (cursors, options) or sends commands to the run (`self.live.send(...)`),
and `view` reads the model inside `self.still()`, which holds the run between
two steps. The keys n, p, escape and q belong to the screen; a lesson uses others.

Nothing here imports Textual; Rich is imported only inside `view`.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rnntui.lessons.run import LessonRun

if TYPE_CHECKING:
    from rich.console import RenderableType

LANGUAGES = ("en", "ko")
MAX_TEXT_LINES = 8  # what fits above the view at 120x40
SCREEN_KEYS = ("n", "p", "escape", "q")  # next, previous, back to the list, quit


@dataclass(frozen=True)
class LessonKey:
    key: str  # a key name as the terminal reports it: "right", "space", "t", "plus"
    action: str  # what `Lesson.press` is given
    help: dict[str, str] = field(default_factory=dict)  # the footer's word for it, per language


# The keys of a lesson that trains live; a lesson lists the ones it uses in its `keys`.
TRAINING_KEYS = (
    LessonKey("space", "play", {"en": "train", "ko": "학습"}),
    LessonKey("s", "step", {"en": "step", "ko": "한 스텝"}),
    LessonKey("plus", "faster", {"en": "faster", "ko": "빠르게"}),
    LessonKey("minus", "slower", {"en": "slower", "ko": "느리게"}),
    LessonKey("r", "reset", {"en": "reset", "ko": "처음부터"}),
)


class Lesson:
    number: int = 0
    name: str = ""
    title: dict[str, str] = {}
    text: dict[str, list[str]] = {}
    try_this: dict[str, str] = {}
    keys: tuple[LessonKey, ...] = ()
    default_steps: int = 0  # what `--print` trains when no --steps is given

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self.live: LessonRun | None = None  # set by a lesson that trains live

    # ----- what a lesson overrides --------------------------------------------------------

    def view(self, lang: str, width: int) -> RenderableType:
        raise NotImplementedError

    def run(self) -> LessonRun | None:
        return self.live

    def train(self, steps: int) -> None:
        """Train the live model `steps` steps at full speed, on this thread (headless)."""
        if self.live is not None:
            self.live.train(steps)

    def press(self, action: str) -> None:
        """The training keys, for a lesson that has a live run; a lesson handles its own first."""
        run = self.live
        if run is None:
            raise ValueError(f"{self.name}: unknown action {action!r}")
        if action == "play":
            run.send("toggle")  # decided on the run's thread: a run may also pause itself
        elif action in ("step", "faster", "slower", "reset"):
            run.send(action)
        else:
            raise ValueError(f"{self.name}: unknown action {action!r}")

    # ----- helpers ----------------------------------------------------------------------

    def still(self):
        """Hold the live model still while the view reads it (a no-op for a static lesson)."""
        return self.live.between_steps() if self.live is not None else contextlib.nullcontext()

    def action_for(self, key: str) -> str | None:
        return next((k.action for k in self.keys if k.key == key), None)


def default_language() -> str:
    """The locale's language, as POSIX ranks the variables: Korean when it starts with "ko"."""
    for variable in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(variable, "")
        if value:
            return "ko" if value.lower().startswith("ko") else "en"
    return "en"


def pick(texts: dict, lang: str):
    """A lesson text in `lang`, English when that language has none."""
    return texts.get(lang) or texts["en"]
