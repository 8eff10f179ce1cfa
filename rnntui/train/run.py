"""A run: one model (or one set of models) being trained, and its loop.

The trainer (the playground and `rnntui train`), the memory lab's race and a
lesson's small model are all runs, and every front end drives them the same
way:

    run.listeners.append(listener)   # each event, on the run's own thread
    run.send("pause") ...            # commands, thread-safe, applied between steps
    run.run()                        # blocks until the run ends; returns Finished

A front end never loops over steps itself. Between steps `handle_commands`
applies what was sent: pause, resume, stop and one step are the same for
every run; the rest (a learning rate, a temperature) go to the run's `apply`.
Another thread that must see the model still (to save it, or copy it) waits
in `between_steps()`.

A run's budget is a step, a time, or both (`budget`): `--steps N` alone ends
at step N, `--minutes M` alone after M minutes with no step cap, both at
whichever comes first.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Callable

from rnntui.train.events import Event, Finished

Listener = Callable[[Event], None]


def budget(steps: int | None, minutes: float | None, default_steps: int) -> tuple[int | None, float]:
    """(step cap or None, minutes or 0) from what was asked: a time alone lifts the step cap;
    neither gives `default_steps`."""
    if steps is None and not minutes:
        return default_steps, 0.0
    return steps, float(minutes or 0.0)


def spent(step: int, steps: int | None, minutes: float, started: float) -> str | None:
    """Why a run with this budget ends now ('steps' or 'time'), or None while it has some left.
    `started` is the run's time.monotonic() at its start."""
    if steps is not None and step >= steps:
        return "steps"
    if minutes and time.monotonic() - started >= minutes * 60:
        return "time"
    return None


class Run:
    def __init__(self) -> None:
        self.listeners: list[Listener] = []
        self.commands: queue.SimpleQueue = queue.SimpleQueue()
        self.paused = False
        self._stop = False
        # `_busy` is held for a whole step or evaluation, `_turnstile` by a thread waiting for its
        # turn, so a tight training loop cannot starve a thread that asked to see the model still.
        self._busy = threading.RLock()
        self._turnstile = threading.Lock()

    # ----- events and commands ----------------------------------------------------------

    def emit(self, event: Event) -> None:
        for listener in self.listeners:
            listener(event)

    def send(self, command: str, value=None) -> None:
        """Thread-safe: 'pause', 'resume', 'stop', 'step', or a command the run's `apply` knows."""
        self.commands.put((command, value))

    def request_stop(self) -> None:
        """Safe from a signal handler: the run ends after the current step."""
        self._stop = True

    @property
    def stopping(self) -> bool:
        return self._stop

    def apply(self, command: str, value) -> None:
        """A run's own commands (a learning rate, a temperature); the base knows none."""
        raise ValueError(f"unknown command {command!r}")

    def handle_commands(self) -> bool:
        """Apply waiting commands; while paused, wait for them. True when one step is asked for."""
        while True:
            if not self.paused and self.commands.empty():  # the common case, without an exception
                return False
            waiting = self.paused and not self._stop
            try:
                command, value = self.commands.get(timeout=0.05) if waiting else self.commands.get_nowait()
            except queue.Empty:
                if waiting:
                    continue
                return False
            if command == "pause":
                self.paused = True
            elif command == "resume":
                self.paused = False
            elif command == "stop":
                self._stop = True
            elif command == "step":
                return True
            else:
                self.apply(command, value)

    # ----- holding the model still ------------------------------------------------------

    @contextlib.contextmanager
    def stepping(self):
        """Around one step or evaluation: waits while another thread has asked for a turn."""
        with self._turnstile:
            pass
        with self._busy:
            yield

    @contextlib.contextmanager
    def between_steps(self):
        """Hold the run still: no step or evaluation runs inside this block."""
        with self._turnstile, self._busy:
            yield

    def run(self) -> Finished:
        raise NotImplementedError
