"""A lesson's run, heard on the UI's side: one typed message at a time, at most ~20 a second.

The run calls the feed (a listener) on its own thread after every step or
command. The feed posts a `LessonTick` only when none is in flight; the screen
redraws on it and, 50 ms later, `release`s the feed: if more happened in the
meantime it redraws once more and holds the feed again, else the next event
posts a new tick. So a run at full speed costs the UI twenty redraws a second,
a run stepped by hand redraws at once, and the last step before a pause is
never left unshown. Each tick names its run, so a tick from a run the screen
has left behind is dropped.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from textual.message import Message

PERIOD = 0.05  # seconds between redraws at most: 20 a second


class LessonTick(Message):
    """Something happened in `run` since the screen last drew it."""

    def __init__(self, run: object) -> None:
        super().__init__()
        self.run = run


class RunFeed:
    def __init__(self, run: object, post: Callable[[Message], object]) -> None:
        self.run = run
        self._post = post
        self._lock = threading.Lock()
        self._in_flight = False
        self._dirty = False

    def __call__(self, event) -> None:  # on the run's thread
        with self._lock:
            self._dirty = True
            if self._in_flight:
                return
            self._in_flight = True
            self._dirty = False
        self._post(LessonTick(self.run))

    def release(self) -> bool:
        """After a redraw's quiet period: True (and still held) when more happened meanwhile."""
        with self._lock:
            if self._dirty:
                self._dirty = False
                return True
            self._in_flight = False
            return False
