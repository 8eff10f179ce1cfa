"""Training off the UI loop: the trainer's own loop on a background thread, steered by commands.

The thread runs `Trainer.run()` for the life of one model, paused until told
to start. Start, pause and single step are the trainer's commands. Saving
needs the weights, the optimizer slots, the carried state and the step to
agree, so it happens *between* steps, inside the trainer's `between_steps()`.
"""

from __future__ import annotations

import threading

from rnntui.train.config import TrainConfig
from rnntui.train.events import Finished
from rnntui.train.trainer import Trainer
from rnntui.tui.playground.bridge import EventFeed

# The playground trains until the person stops it.
UNBOUNDED = 10**9

# A small LSTM that visibly learns the python corpus within seconds on one core.
PLAYGROUND_CONFIG = TrainConfig(
    corpus="python", cell="lstm", hidden=64, layers=1, embed=32, seq_len=64, batch=32,
    steps=UNBOUNDED, eval_every=50, eval_chars=10_000, sample_every=UNBOUNDED,
)

# Options only the playground sets; a resumed file gets them too, whatever it was saved with.
PLAYGROUND_OVERRIDES = dict(steps=UNBOUNDED, minutes=0.0, sample_every=UNBOUNDED)

STOP_TIMEOUT = 1.0  # seconds; a paused trainer notices a stop within 50 ms, a running one after its step


class SharedTrainer(Trainer):
    """The playground's trainer, whose files resume sensibly in `rnntui train` too."""

    def to_checkpoint(self):
        # Another default run's worth of steps, not the playground's unbounded target.
        ckpt = super().to_checkpoint()
        defaults = TrainConfig()
        ckpt.config = dict(ckpt.config, steps=self.step + defaults.steps, sample_every=defaults.sample_every)
        return ckpt


def new_trainer(config: TrainConfig) -> SharedTrainer:
    return SharedTrainer.from_config(config.with_changes(**PLAYGROUND_OVERRIDES))


def open_trainer(path: str) -> SharedTrainer:
    """A saved run, ready to continue; its file is not overwritten unless the person saves."""
    trainer = SharedTrainer.resume(path, **PLAYGROUND_OVERRIDES)
    trainer.checkpoint_path = None  # the trainer would otherwise write it at every evaluation
    return trainer


class TrainingRunner:
    """One trainer and the thread that trains it."""

    def __init__(self, trainer: SharedTrainer):
        self.trainer = trainer
        self.feed = EventFeed()
        trainer.listeners.append(self.feed)
        self._thread: threading.Thread | None = None
        self.finished: Finished | None = None

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def open(self) -> None:
        """Start the loop, paused: it waits for commands."""
        self._ensure_thread(paused=True)

    def _ensure_thread(self, paused: bool) -> None:
        """Start the loop if it is not running (at first, or after it failed)."""
        if self.alive:
            return
        self.trainer.paused = paused
        self.finished = None
        self._thread = threading.Thread(target=self._run, name="rnntui-training", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        self.finished = self.trainer.run()

    def start(self) -> None:
        if self.alive:
            self.trainer.send("resume")
        else:
            self._ensure_thread(paused=False)

    def pause(self) -> None:
        if self.alive:
            self.trainer.send("pause")

    def step(self) -> None:
        """One step, then paused (also when it was training)."""
        self._ensure_thread(paused=True)
        self.trainer.send("step")

    def stop(self, timeout: float = STOP_TIMEOUT) -> bool:
        """End the loop; True when the thread is gone within `timeout` seconds."""
        self.trainer.request_stop()
        self.trainer.send("stop")
        if self._thread is not None:
            self._thread.join(timeout)
        return not self.alive
