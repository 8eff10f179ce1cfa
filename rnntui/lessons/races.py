"""Races as a lesson's live run: the memory lab's race (lab/race.py), paced and reset like any lesson model.

Lessons 5, 6 and 9 train several models on one memory task, side by side
(same batches, same seed, only the cell or the truncation differs). A
`RaceRun` steps every race it holds once per step, and rebuilds them all on
`reset` or when an option changes (`rebuild`), since a comparison is only fair
from the same start.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from rnntui.lab.race import Race, RaceConfig
from rnntui.lessons.run import LessonRun
from rnntui.train.events import StepDone

# Recall with noise filler, span 20, about 3000 parameters a cell, Adam 1e-2. Measured at seed 0: the
# LSTM reaches 100% at step 100, the GRU 90% at step 125, the RNN stays at 7-30% through 600 steps;
# on 2 busy cores the 125 steps take 3-5 s (benchmarks/lesson_timings.py).
LESSON_RACE = RaceConfig(span=20, steps=10**9, eval_every=25, eval_size=128)


def build_races(configs: dict[str, RaceConfig]) -> dict[str, Race]:
    races = {}
    for name, config in configs.items():
        race = Race(config)
        race.standings()  # the step-0 scores, so every curve starts where training starts
        races[name] = race
    return races


class RaceRun(LessonRun):
    def __init__(self, configs: Callable[[], dict[str, RaceConfig]], speed: float = 0,
                 built: Callable[[dict[str, Race]], None] | None = None):
        """`configs()` gives the races to build (again on reset); `built(races)` sees each new set untrained."""
        self.configs, self.built = configs, built
        self.races = build_races(configs())
        if built is not None:
            built(self.races)
        first = self.first
        super().__init__(first.model, first.optimizer, gradient=None, speed=speed, reset=self._rebuild,
                         commands={"rebuild": lambda _: self._rebuild()})

    @property
    def first(self):
        return next(iter(self.races.values())).racers[0]

    def _rebuild(self) -> None:
        """New races from the current options, untrained: the step count starts again with them."""
        self.step, self.last = 0, None
        self.races = build_races(self.configs())
        if self.built is not None:
            self.built(self.races)
        self.model, self.optimizer = self.first.model, self.first.optimizer

    def advance(self) -> StepDone:
        start = time.perf_counter()
        for race in self.races.values():
            race.advance()
        seconds = max(time.perf_counter() - start, 1e-9)
        self.step += 1
        latest = self.first.curve[-1].loss if self.first.curve else math.nan
        scored = sum(r.config.batch for r in self.races.values())
        self.last = StepDone(step=self.step, loss=latest, chars_per_sec=scored / seconds, epoch=0,
                             grad_norm=math.nan, lr=self.first.optimizer.lr)
        return self.last


def first_at(curve, level: float) -> int | None:
    """The first evaluated step at which a curve of Scores reached `level`, or None."""
    return next((s.step for s in curve if s.accuracy >= level), None)
