"""A lesson's model trained live: slowly, a few steps a second, so a learner can watch it learn.

A `LessonRun` is a run like the trainer and the race (train/run.py): the
lessons screen runs `run()` on a worker thread, listens for its events and
sends it commands. Each step is the engine's `train_step` on the gradient the
lesson hands in; after each, listeners get a `StepDone`. Besides pause,
resume, stop and one step (the same for every run) it takes:

    toggle            pause when training, train when paused
    faster, slower    the pace, through SPEEDS (steps a second; 0 is as fast as it goes)
    speed, value      a pace directly
    reset             the lesson's own `reset` (new weights, a fresh optimizer), between steps
    <name>, value     any other command the lesson gives in `commands`, applied between steps

A run starts paused: a learner presses a key to begin, or steps one at a time.
After a command that changes what a view shows (a pace, a reset, a lesson's
own command) listeners get `Changed`, so a paused lesson's screen redraws too.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from dataclasses import dataclass

from rnntui.engine.model import CharRNN, Pass
from rnntui.engine.optim import Optimizer
from rnntui.engine.step import train_step
from rnntui.train.events import Finished, StepDone
from rnntui.train.run import Run

SPEEDS = (1, 2, 5, 10, 20, 50, 0)  # steps a second, slowest first; 0: as fast as it goes


def faster(speed: float) -> float:
    return SPEEDS[min(SPEEDS.index(speed) + 1, len(SPEEDS) - 1)] if speed in SPEEDS else SPEEDS[-1]


def slower(speed: float) -> float:
    return SPEEDS[max(SPEEDS.index(speed) - 1, 0)] if speed in SPEEDS else SPEEDS[0]


@dataclass(frozen=True)
class Changed:
    """A command was applied between steps: what a view shows may have changed."""

    step: int
    command: str


class LessonRun(Run):
    def __init__(
        self,
        model: CharRNN,
        optimizer: Optimizer,
        gradient: Callable[[], Pass],
        *,
        clip: float = 1.0,
        speed: float = 2,
        steps: int | None = None,
        reset: Callable[[], None] | None = None,
        commands: dict[str, Callable[[object], None]] | None = None,
    ) -> None:
        super().__init__()
        self.model = model
        self.optimizer = optimizer
        self.gradient = gradient  # leaves dLoss/dparameters in model.grad_flat, returns the Pass
        self.clip = clip
        self.speed = speed
        self.steps = steps  # None: until stopped
        self.step = 0
        self.last: StepDone | None = None
        self._reset = reset
        self._commands = commands or {}
        self.paused = True
        self._wake = threading.Event()  # set by every command, so a slow pace never delays one

    # ----- one step ---------------------------------------------------------------------

    def advance(self) -> StepDone:
        """One training step through the engine; the caller holds `stepping()`."""
        start = time.perf_counter()
        outcome = train_step(self.model, self.optimizer, self.gradient, clip=self.clip)
        seconds = max(time.perf_counter() - start, 1e-9)
        self.step += 1
        self.last = StepDone(
            step=self.step, loss=outcome.loss, chars_per_sec=outcome.result.count / seconds, epoch=0,
            grad_norm=outcome.grad_norm, lr=self.optimizer.lr, skipped=not outcome.applied,
        )
        return self.last

    def train(self, steps: int) -> None:
        """`steps` steps at full speed on this thread, for headless use; listeners still hear each."""
        for _ in range(steps):
            with self.stepping():
                event = self.advance()
            self.emit(event)

    @property
    def finished(self) -> bool:
        return self.steps is not None and self.step >= self.steps

    # ----- commands ---------------------------------------------------------------------

    def send(self, command: str, value=None) -> None:
        super().send(command, value)
        self._wake.set()

    def apply(self, command: str, value) -> None:
        if command == "toggle":
            self.paused = not self.paused
        elif command == "faster":
            self.speed = faster(self.speed)
        elif command == "slower":
            self.speed = slower(self.speed)
        elif command == "speed":
            self.speed = float(value)
        elif command == "reset" and self._reset is not None:
            with self.stepping():
                self._reset()
                self.step = 0
                self.last = None
        elif command in self._commands:
            with self.stepping():
                self._commands[command](value)
        else:
            super().apply(command, value)
        self.emit(Changed(self.step, command))

    # ----- the loop ---------------------------------------------------------------------

    def run(self) -> Finished:
        reason = "steps"
        while not self.finished:
            one_step = self.handle_commands()
            if self.stopping:
                reason = "stopped"
                break
            with self.stepping():
                event = self.advance()
            self.emit(event)
            if one_step:
                self.paused = True
            else:
                self._pace()
        finished = Finished(self.step, reason)
        self.emit(finished)
        return finished

    def _pace(self) -> None:
        """Wait out the rest of this step's share of a second, or until a command arrives."""
        if self.speed > 0 and not self.stopping:
            self._wake.clear()
            if self.commands.empty():
                self._wake.wait(1.0 / self.speed)
