"""Keeping the panes in step with a model that trains on another thread.

The training thread's events arrive through the runner's feed, which the app
takes ten times a second: the header, the loss chart (at most twice a second
while training) and, after a single step, the gates follow. Samples, prompt
continuations and gate traces run on a snapshot of the model in thread
workers, and a result that comes back after the model was replaced, or while
the app is closing, is dropped.
"""

from __future__ import annotations

import time

import numpy as np
from textual import work
from textual.worker import get_current_worker

from rnntui.engine.optim import all_finite
from rnntui.train.events import EvalDone, Failed, Finished, SampleReady
from rnntui.train.sampling import generate
from rnntui.tui.playground.probe import Trace, known_text, trace_model, validation_snippet
from rnntui.tui.playground.runner import TrainingRunner
from rnntui.tui.playground.samples import marked_prompt
from rnntui.tui.playground.status import Status

SAMPLE_EVERY = 4.0  # seconds between samples while training
TRACE_EVERY = 2.0  # seconds between gate traces while training
CHART_EVERY = 0.5  # seconds between loss chart redraws while training
SAMPLE_LENGTH = 160
CONTINUATION_LENGTH = 240
STREAM_EVERY = 0.05  # seconds between pushes of streamed characters to the UI
SAMPLE_STREAM, PROMPT_STREAM = 0, 1  # separate random streams for samples and prompt continuations


class LiveViews:
    """Mixed into the app, which provides the runner, the panes and the state flags."""

    # ----- the feed from the training thread ----------------------------------------------

    def _poll(self) -> None:
        batch = self.runner.feed.take()
        if not batch:
            if self._chart_dirty and time.monotonic() - self._chart_drawn >= CHART_EVERY:
                self._draw_chart()
            return
        if batch.chars_per_sec is not None:
            self.chars_per_sec = batch.chars_per_sec
        if batch.steps:
            self._chart_dirty = True
        for event in batch.events:
            if isinstance(event, EvalDone):
                self._chart_dirty = True
            elif isinstance(event, SampleReady):
                self._show_sample(self.runner, event.step, event.temperature, event.text, event.probs)
            elif isinstance(event, Failed):
                self.training, self.failed = False, True
                self.notify(f"training stopped: {event.message}", severity="error", timeout=10)
            elif isinstance(event, Finished) and event.reason != "stopped":
                self.training = False
        if self._chart_dirty and (not self.training or time.monotonic() - self._chart_drawn >= CHART_EVERY):
            self._draw_chart()
        if not self.training and self.trainer.step != self._last_step_seen:
            self.refresh_trace()  # a single step: show what it changed
        self._last_step_seen = self.trainer.step
        self._show_state()

    def _draw_chart(self) -> None:
        history = self.trainer.history
        self.chart.plot(history.train, history.val)
        self._chart_drawn = time.monotonic()
        self._chart_dirty = False

    def _show_state(self) -> None:
        trainer = self.trainer
        state = "loading" if self.loading else "failed" if self.failed else "training" if self.training else "paused"
        self.status_line.show(Status(
            model=self._describe(trainer), step=trainer.step, epoch=trainer.epoch,
            chars_per_sec=self.chars_per_sec, state=state, temperature=self.temperature, unsaved=self.unsaved,
        ))
        if (self.training, self.loading) != self._bindings_state:
            # Only on a change: the Footer rebuilds itself on every refresh.
            self._bindings_state = (self.training, self.loading)
            self.controls.set_training(self.training)
            self.refresh_bindings()

    # ----- samples, prompts and traces (on snapshots, in workers) -------------------------

    def _sample_tick(self) -> None:
        if self.training:
            self._take_sample(self.runner, self.temperature)

    def _trace_tick(self) -> None:
        if self.training:
            self.refresh_trace()

    @work(thread=True, exclusive=True, group="sample")
    def _take_sample(self, runner: TrainingRunner, temperature: float) -> None:
        trainer = runner.trainer
        step, model = trainer.step, trainer.snapshot()
        if not self._finite(model):
            return
        # Start at a line break when the corpus has one: samples then begin where text does.
        start = trainer.vocab.encode("\n", unknown="skip")
        rng = np.random.default_rng([trainer.config.seed, step, SAMPLE_STREAM])
        pairs = list(generate(model, trainer.vocab, start, SAMPLE_LENGTH, temperature, rng=rng))
        text, probs = "".join(c for c, _ in pairs), [p for _, p in pairs]
        self.call_from_thread(self._show_sample, runner, step, temperature, text, probs)

    def _finite(self, model) -> bool:
        """False, with a message, for weights a failed run left non-finite: nothing to sample from."""
        if all_finite(model.flat):
            return True
        self.call_from_thread(self.notify, "the model's weights are not finite: reset it (r) or load a checkpoint",
                              severity="error")
        return False

    def _current(self, runner: TrainingRunner) -> bool:
        """Whether a worker's result is still wanted: same model, app not closing."""
        return runner is self.runner and not self.closing

    def _show_sample(self, runner, step: int, temperature: float, text: str, probs) -> None:
        if self._current(runner):
            self.samples.add_entry(f"step {step} · T {temperature:.2f}", text=text, probs=probs)

    def refresh_trace(self) -> None:
        """Trace the model over the probe text in a worker; the Gates pane shows it when done."""
        trainer = self.trainer
        text = known_text(trainer.vocab, self.probe_text) if self.probe_text else ""
        if not text:
            text = validation_snippet(trainer.vocab, trainer.val_ids, trainer.text)
        self._trace(self.runner, text)

    @work(thread=True, exclusive=True, group="trace")
    def _trace(self, runner: TrainingRunner, text: str) -> None:
        trainer = runner.trainer
        step, model = trainer.step, trainer.snapshot()
        trace = trace_model(model, trainer.vocab, text, step)
        self.call_from_thread(self._show_trace, runner, trace)

    def _show_trace(self, runner: TrainingRunner, trace: Trace) -> None:
        if self._current(runner):
            self.gates.show(trace.layers, trace.text, trace.cell, trace.step)

    def run_prompt(self, prompt: str) -> None:
        """Stream the model's continuation of `prompt` into Samples; the prompt becomes the probe text."""
        vocab = self.trainer.vocab
        unknown = set(vocab.unknown_chars(prompt))
        if prompt and not known_text(vocab, prompt):
            self.notify("none of the prompt's characters are in the model's vocabulary", severity="warning")
            return
        samples = self.samples
        header = f"step {self.trainer.step} · T {self.temperature:.2f} · prompt"
        if unknown:
            header += f" · {len(unknown)} skipped"  # they are the red ones in the prompt below
        entry = samples.add_entry(header, marked_prompt(prompt, unknown))
        self._prompts += 1
        self._continue(self.runner, prompt, self.temperature, entry, self._prompts)
        if prompt:
            self.probe_text = prompt
            self.refresh_trace()

    @work(thread=True, exclusive=True, group="prompt")
    def _continue(self, runner: TrainingRunner, prompt: str, temperature: float, entry, number: int) -> None:
        """Stream the continuation into `entry` in small batches, so it appears as it is written."""
        worker = get_current_worker()
        trainer = runner.trainer
        step, model = trainer.step, trainer.snapshot()
        if not self._finite(model):
            return
        ids = trainer.vocab.encode(prompt, unknown="skip")
        # Seeded, so a run can be repeated, but not like the samples: the same random draws
        # would make a continuation echo the sample taken at the same step.
        rng = np.random.default_rng([trainer.config.seed, step, PROMPT_STREAM, number])
        chars, probs, pushed = [], [], time.monotonic()
        for char, p in generate(model, trainer.vocab, ids, CONTINUATION_LENGTH, temperature, rng=rng):
            if worker.is_cancelled:
                return
            chars.append(char)
            probs.append(p)
            if time.monotonic() - pushed >= STREAM_EVERY:
                self.call_from_thread(self._stream, runner, entry, "".join(chars), probs)
                chars, probs, pushed = [], [], time.monotonic()
        if chars:
            self.call_from_thread(self._stream, runner, entry, "".join(chars), probs)

    def _stream(self, runner: TrainingRunner, entry, chars: str, probs) -> None:
        if self._current(runner) and entry.is_attached:
            entry.extend(chars, probs)
