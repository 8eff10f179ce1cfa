"""The playground's trainer: the shared trainer, plus what the panes ask of the model between steps.

The app runs it in its RunWorker (widgets/run_worker.py) for the life of one
model, paused until told to start. Samples, prompt continuations, gate
traces and explanations are commands too: the trainer's own thread computes them between
steps, on the training model itself, with the trainer's sampling, and tells
them as events like any other. Saving needs the weights, the optimizer slots,
the carried state and the step to agree, so it happens inside the trainer's
`between_steps()`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnntui.engine.optim import all_finite
from rnntui.train.config import TrainConfig
from rnntui.train.events import SampleReady
from rnntui.train.sampling import generate
from rnntui.train.trainer import Trainer
from rnntui.tui.playground.probe import explain_model, trace_model

# The playground trains until the person stops it.
UNBOUNDED = 10**9

# A small LSTM that visibly learns the python corpus within seconds on one core.
PLAYGROUND_CONFIG = TrainConfig(
    corpus="python", cell="lstm", hidden=64, layers=1, embed=32, seq_len=64, batch=32,
    steps=UNBOUNDED, eval_every=50, eval_chars=10_000, sample_every=UNBOUNDED,
)

# Options only the playground sets; a resumed file gets them too, whatever it was saved with.
PLAYGROUND_OVERRIDES = dict(steps=UNBOUNDED, minutes=0.0, sample_every=UNBOUNDED)

SAMPLE_LENGTH = 160
CONTINUATION_LENGTH = 240


@dataclass(frozen=True)
class Continuation:
    """The model's continuation of a prompt; `number` says which prompt (the Samples pane's entry)."""

    number: int
    sample: SampleReady


class SharedTrainer(Trainer):
    """The playground's trainer, whose files resume sensibly in `rnntui train` too."""

    def to_checkpoint(self):
        # Another default run's worth of steps, not the playground's unbounded target.
        ckpt = super().to_checkpoint()
        defaults = TrainConfig()
        ckpt.config = dict(ckpt.config, steps=self.step + defaults.steps, sample_every=defaults.sample_every)
        return ckpt

    # What the panes ask for, computed on the training thread between steps.
    REQUESTS = ("sample", "continue", "trace", "explain")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.asked = 0  # requests sent (by the UI thread) ...
        self.answered = 0  # ... and handled (by the training thread): equal when nothing is owed

    def request(self, command: str, value=None) -> None:
        """Ask for a sample, a continuation, a trace or an explanation; the answer comes as an event."""
        self.asked += 1
        self.send(command, value)

    def apply(self, command: str, value) -> None:
        if command not in self.REQUESTS:
            super().apply(command, value)
            return
        try:
            with self.stepping():  # the training model itself is read: no other thread may step it meanwhile
                self._answer(command, value)
        finally:
            self.answered += 1

    def _answer(self, command: str, value) -> None:
        if command == "sample":
            if all_finite(self.model.flat):  # a failed run's weights have nothing to say
                self.emit(self.sample(length=SAMPLE_LENGTH))
        elif command == "continue":
            number, prompt = value
            if all_finite(self.model.flat):
                self.emit(Continuation(number, self._continue(prompt, number)))
        elif command == "trace":
            self.emit(trace_model(self.model, self.vocab, value, self.step))
        elif command == "explain":
            if all_finite(self.model.flat):
                self.emit(explain_model(self.model, self.vocab, value, self.val_ids, self.step))

    def _continue(self, prompt: str, number: int) -> SampleReady:
        """`sample`'s drawing, with a random stream of the prompt's own: the same draws as the
        sample taken at this step would make the continuation echo it."""
        rng = np.random.default_rng([self.config.seed, self.step, number])
        ids = self.vocab.encode(prompt, unknown="skip")
        pairs = list(generate(self.model, self.vocab, ids, CONTINUATION_LENGTH, self.temperature, rng=rng))
        return SampleReady(self.step, "".join(c for c, _ in pairs), self.temperature, tuple(p for _, p in pairs))


def new_trainer(config: TrainConfig) -> SharedTrainer:
    return SharedTrainer.from_config(config.with_changes(**PLAYGROUND_OVERRIDES))


def open_trainer(path: str) -> SharedTrainer:
    """A saved run, ready to continue; its file is not overwritten unless the person saves."""
    trainer = SharedTrainer.resume(path, **PLAYGROUND_OVERRIDES)
    trainer.checkpoint_path = None  # the trainer would otherwise write it at every evaluation
    return trainer
