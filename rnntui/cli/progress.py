"""Rendering trainer events for a terminal (Rich) and for scripts (JSON Lines)."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Callable

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from rnntui.files import open_for_append
from rnntui.train.events import EvalDone, SampleReady, StepDone, as_record


class JsonLog:
    """One JSON object per event, written every few tenths of a second so `tail -f` follows a
    run. Step events wait in a list until then and are encoded together: encoding each one
    between two steps of a small model cost it about three times as much (the encoder and the
    model keep displacing each other from the cache). Any other event writes at once."""

    FLUSH_SECONDS = 0.2

    def __init__(self, path: Path, on_failure: Callable[[], None] = lambda: None):
        self.path = path
        self.file = open_for_append(path)
        self.flushed = time.monotonic()
        self.pending: list = []
        # A log that cannot be written (a full disk) stops the run rather than the process, so
        # the checkpoint is still saved; the command reports `failure` when the run has ended.
        self.on_failure = on_failure
        self.failure: str | None = None

    def __call__(self, event) -> None:
        self.pending.append(event)
        now = time.monotonic()
        if now - self.flushed >= self.FLUSH_SECONDS or not isinstance(event, StepDone):
            self.flush(now)

    def flush(self, now: float | None = None) -> None:
        lines, self.pending = self.pending, []
        self.flushed = time.monotonic() if now is None else now
        if self.failure:
            return
        try:
            self.file.write("".join(json.dumps(as_record(e), ensure_ascii=False) + "\n" for e in lines))
            self.file.flush()
        except OSError as e:
            self.failure = f"{self.path}: cannot write the log: {e.strerror or e}"
            self.on_failure()

    def close(self) -> None:
        self.flush()
        try:
            self.file.close()
        except OSError:
            pass  # what could not be written was reported by flush


class ProgressView:
    """A progress bar with step, loss, validation loss, chars/s and time left; samples printed above it."""

    def __init__(self, trainer):
        self.console = Console(stderr=True)
        self.trainer = trainer
        self.progress = Progress(
            TextColumn("[bold]step"), MofNCompleteColumn(), BarColumn(),
            TextColumn("loss {task.fields[loss]}  val {task.fields[val]}  {task.fields[rate]} chars/s"),
            TimeRemainingColumn(), console=self.console, transient=False,
        )
        self.val = "-"

    def __enter__(self):
        self.progress.start()
        self.task = self.progress.add_task(
            "train", total=self.trainer.config.steps, completed=self.trainer.step, loss="-", val=self.val, rate="-"
        )
        return self

    def __exit__(self, *exc):
        self.progress.stop()

    def __call__(self, event) -> None:
        if isinstance(event, StepDone):
            smoothed = self.trainer.history.smoothed
            loss = f"{smoothed:.3f}" if math.isfinite(smoothed) else "-"
            self.progress.update(self.task, completed=event.step, loss=loss, rate=f"{event.chars_per_sec:,.0f}")
        elif isinstance(event, EvalDone):
            self.val = f"{event.val_loss:.3f} ({event.val_loss / math.log(2):.2f} bpc)"
            self.progress.update(self.task, val=self.val)
        elif isinstance(event, SampleReady):
            self.console.rule(f"sample at step {event.step}, temperature {event.temperature}")
            self.console.print(event.text, markup=False, highlight=False)
