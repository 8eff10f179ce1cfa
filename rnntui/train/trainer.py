"""The training loop: steps, evaluations, samples and checkpoints, told to listeners as events.

One trainer serves every front end. It never imports a UI; it calls each
listener with an event, and between steps it takes commands (pause, resume,
stop, step once, change the learning rate or the sampling temperature) from a
thread-safe queue, so a UI thread can steer a training thread.

Everything that decides the next step (weights, optimizer slots, carried
state, data cursor, dropout RNG) is in the checkpoint, so a resumed run takes
exactly the steps the uninterrupted run would have taken.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import queue
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from rnntui.data.batches import Streams, fit_batch, split
from rnntui.data.corpus import load_corpus
from rnntui.data.vocab import Vocabulary
from rnntui.engine.model import CharRNN
from rnntui.engine.optim import all_finite, clip_by_norm, clip_by_value, make_optimizer
from rnntui.engine.shape import ModelShape, require_memory
from rnntui.errors import TrainingError
from rnntui.train.checkpoint import Checkpoint, save_checkpoint
from rnntui.train.checkpoint_schema import check_walk, load_resumable
from rnntui.train.config import DATA_WALK_FIELDS, SHAPE_FIELDS, TrainConfig
from rnntui.train.events import CheckpointSaved, EvalDone, Event, Failed, Finished, SampleReady, StepDone
from rnntui.train.history import History
from rnntui.train.sampling import generate

Listener = Callable[[Event], None]


def _as_option(name: str, value) -> str:
    """How a user would have typed this setting: seq_len 0 is full BPTT."""
    if name == "seq_len" and value == 0:
        return "--bptt full"
    return f"--{name.replace('_', '-')} {value}"


def text_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Trainer:
    def __init__(self, config: TrainConfig, text: str, checkpoint: Checkpoint | None = None):
        self.config = config.validated()
        self.text = text
        self.corpus_sha256 = text_digest(text)
        self.vocab = Vocabulary(checkpoint.vocab) if checkpoint else Vocabulary.from_text(text)
        ids = self.vocab.encode(text)
        train_ids, self.val_ids = split(ids, config.val_frac)
        self.batch = fit_batch(len(train_ids), config.batch, config.seq_len)
        self.streams = Streams(train_ids, self.batch, config.seq_len)

        shape = ModelShape(config.cell, self.vocab.size, config.embed, config.hidden, config.layers)
        steps = config.seq_len or self.streams.seq_len
        require_memory(shape.training_bytes(self.batch, steps, np.dtype(config.dtype).itemsize), f"this {config.cell}")
        self.model = CharRNN(shape, dtype=np.dtype(config.dtype), seed=config.seed, forget_bias=config.forget_bias)
        self.optimizer = make_optimizer(config.optimizer, self.model.flat, config.lr, config.momentum)
        self.rng = np.random.default_rng(config.seed)  # dropout only: sampling has its own, per step
        self.state = self.model.zero_state(self.batch)
        self.step = 0
        self.epoch = 0
        self.chunk = 0
        self.elapsed = 0.0  # training seconds over all runs, resumed ones included
        self.history = History()
        self.temperature = config.temperature
        self.checkpoint_path: Path | None = None
        self.listeners: list[Listener] = []
        self.commands: queue.SimpleQueue = queue.SimpleQueue()
        self.paused = False
        self._stop = False
        # Another thread (a UI saving or copying the weights) waits out a step through these:
        # `_busy` is held for a whole step or evaluation, `_turnstile` by a thread waiting for
        # its turn, so a tight training loop cannot starve it.
        self._busy = threading.RLock()
        self._turnstile = threading.Lock()
        if checkpoint:
            self._restore(checkpoint)

    # ----- construction -----------------------------------------------------------------

    @classmethod
    def from_config(cls, config: TrainConfig) -> Trainer:
        config = config.validated()
        return cls(config, load_corpus(config.corpus).text)

    @classmethod
    def resume(cls, path: str | Path, **changes) -> Trainer:
        """Continue from a checkpoint; shape options must agree with it, training options may change."""
        ckpt = load_resumable(path)  # refuses a partial or damaged state before anything is built
        saved = TrainConfig.from_json(ckpt.config)
        for name in SHAPE_FIELDS + DATA_WALK_FIELDS:
            if name in changes and changes[name] != getattr(saved, name):
                keeps = "its shape" if name in SHAPE_FIELDS else "the data walk it was on, so that it goes on exactly"
                raise TrainingError(
                    f"{_as_option(name, changes[name])} disagrees with the checkpoint's "
                    f"{_as_option(name, getattr(saved, name))}; a resumed run keeps {keeps}"
                )
        config = saved.with_changes(**changes)
        text = load_corpus(saved.corpus).text
        if text_digest(text) != ckpt.train_state.get("corpus_sha256"):
            raise TrainingError(f"corpus {saved.corpus!r} has changed since {path} was saved; cannot resume exactly")
        trainer = cls(config, text, ckpt)
        check_walk(str(path), ckpt, trainer.batch, trainer.streams.chunks)
        trainer.checkpoint_path = Path(path)
        return trainer

    def _restore(self, ckpt: Checkpoint) -> None:
        self.model.load_params(ckpt.params)
        state = ckpt.train_state or {}
        tensors = ckpt.train_tensors
        for name, slot in self.optimizer.slots.items():
            if f"optim.{name}" in tensors:
                slot[...] = tensors[f"optim.{name}"]
        self.optimizer.steps = state.get("optimizer_steps", 0)
        self.state = [
            tuple(tensors[f"state.l{k}.{part}"] for part in ("h", "c")[: len(layer)])
            for k, layer in enumerate(self.state)
        ] if "state.l0.h" in tensors else self.state
        self.step = state.get("step", 0)
        self.epoch = state.get("epoch", 0)
        self.chunk = state.get("chunk", 0)
        self.elapsed = state.get("elapsed", 0.0)
        if "rng" in state:
            self.rng.bit_generator.state = state["rng"]
        self.history = History.from_json(state.get("history", {}))

    # ----- checkpoints ------------------------------------------------------------------

    def to_checkpoint(self) -> Checkpoint:
        tensors = {f"optim.{name}": slot for name, slot in self.optimizer.slots.items()}
        for k, layer in enumerate(self.state):
            for part, array in zip(("h", "c"), layer):
                tensors[f"state.l{k}.{part}"] = array
        train_state = dict(
            step=self.step, epoch=self.epoch, chunk=self.chunk, elapsed=self.elapsed,
            optimizer_steps=self.optimizer.steps, rng=self.rng.bit_generator.state,
            corpus_sha256=self.corpus_sha256, history=self.history.to_json(),
        )
        return Checkpoint(
            shape=self.model.shape, vocab=list(self.vocab.chars), params=dict(self.model.params),
            config=self.config.to_json(), train_state=train_state, train_tensors=tensors,
        )

    def save(self, path: str | Path) -> None:
        """Write a checkpoint atomically; a model that is not finite is never written."""
        if not all_finite(self.model.flat):
            raise TrainingError("the model's weights are not finite; the checkpoint was not written")
        save_checkpoint(path, self.to_checkpoint())
        self.emit(CheckpointSaved(self.step, str(path)))

    @contextlib.contextmanager
    def between_steps(self):
        """Hold the trainer still: no step or evaluation runs inside this block."""
        with self._turnstile, self._busy:
            yield

    def snapshot(self) -> CharRNN:
        """A copy of the current model that another thread may run while training goes on."""
        copy = CharRNN(self.model.shape, dtype=self.model.dtype)
        with self.between_steps():
            copy.flat[...] = self.model.flat
        return copy

    # ----- events and commands ----------------------------------------------------------

    def emit(self, event: Event) -> None:
        for listener in self.listeners:
            listener(event)

    def send(self, command: str, value=None) -> None:
        """Thread-safe: 'pause', 'resume', 'stop', 'step', 'lr', 'temperature', 'clip'."""
        self.commands.put((command, value))

    def request_stop(self) -> None:
        """Safe from a signal handler: the run ends after the current step."""
        self._stop = True

    def _handle_commands(self) -> bool:
        """Apply waiting commands; while paused, wait for them. True when one step is asked for."""
        while True:
            if not self.paused and self.commands.empty():  # the common case, without an exception
                return False
            try:
                command, value = self.commands.get(timeout=0.05) if self.paused and not self._stop else self.commands.get_nowait()
            except queue.Empty:
                if self.paused and not self._stop:
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
            elif command == "lr":
                self.optimizer.lr = float(value)
                self.config = self.config.with_changes(lr=float(value))
            elif command == "clip":
                self.config = self.config.with_changes(clip=float(value))
            elif command == "temperature":
                self.temperature = float(value)
                self.config = self.config.with_changes(temperature=float(value))

    # ----- the loop ---------------------------------------------------------------------

    def train_step(self) -> StepDone:
        with self._turnstile:  # wait here while another thread has asked for a turn
            pass
        with self._busy:
            return self._train_step()

    def _train_step(self) -> StepDone:
        cfg, model = self.config, self.model
        inputs, targets = self.streams.chunk(self.chunk)
        start = time.perf_counter()
        # Overflow is caught below as a non-finite loss or gradient, with one clear message,
        # instead of numpy's warnings.
        with np.errstate(over="ignore", invalid="ignore"):
            result = model.forward(inputs, targets, state=self.state, dropout=cfg.dropout, rng=self.rng)
            model.backward()
            norm = clip_by_norm(model.grad_flat, cfg.clip)
            if cfg.clip_value:
                clip_by_value(model.grad_flat, cfg.clip_value)
            finite = math.isfinite(result.loss) and math.isfinite(norm)
            if not finite and not cfg.skip_nonfinite:
                raise TrainingError(
                    f"the loss or gradient became non-finite at step {self.step + 1} (loss {result.loss}, "
                    f"gradient norm {norm}); lower --lr or --clip, or pass --skip-nonfinite"
                )
            if finite:
                self.optimizer.step(model.grad_flat)
                if not all_finite(model.flat):
                    # Not skippable: the weights themselves are lost. The last checkpoint is not.
                    raise TrainingError(
                        f"the weights became non-finite at step {self.step + 1}; lower --lr or --clip"
                    )
        if finite:
            self.state = result.state
        else:
            self.state = model.zero_state(self.batch)  # a non-finite state would poison every later step
        self.step += 1
        self.chunk += 1
        if self.chunk == self.streams.chunks:
            self.chunk = 0
            self.epoch += 1
            self.state = model.zero_state(self.batch)
        seconds = time.perf_counter() - start
        self.elapsed += seconds
        if finite:
            self.history.add_train(self.step, result.loss)
        return StepDone(
            step=self.step, loss=result.loss, chars_per_sec=inputs.size / max(seconds, 1e-9),
            epoch=self.epoch, grad_norm=norm, lr=self.optimizer.lr, skipped=not finite,
        )

    def validation_loss(self) -> float | None:
        """Mean loss over the first `eval_chars` of the validation text, read as streams."""
        ids = self.val_ids[: self.config.eval_chars + 1]
        if len(ids) < 2:
            return None
        batch = max(1, min(self.batch, (len(ids) - 1) // max(self.config.seq_len, 16)))
        streams = Streams(ids, batch, max(self.config.seq_len, 64) if self.config.seq_len else 0)
        state, total, count = None, 0.0, 0
        for j in range(streams.chunks):
            inputs, targets = streams.chunk(j)
            result = self.model.forward(inputs, targets, state=state)
            state = result.state
            total += result.loss * result.count
            count += result.count
        return total / count

    def sample(self, prompt: str = "", length: int | None = None, temperature: float | None = None) -> SampleReady:
        """A sample from the current model; its randomness depends only on the seed and the step."""
        rng = np.random.default_rng([self.config.seed, self.step])
        temperature = self.temperature if temperature is None else temperature
        ids = self.vocab.encode(prompt, unknown="skip")
        pairs = list(generate(self.model, self.vocab, ids, length or self.config.sample_length, temperature, rng=rng))
        return SampleReady(
            self.step, "".join(c for c, _ in pairs), temperature, tuple(p for _, p in pairs)
        )

    def evaluate_now(self) -> None:
        with self._busy:
            self._evaluate()

    def _evaluate(self) -> None:
        val = self.validation_loss()
        if val is not None:
            self.history.add_val(self.step, val)
            self.emit(EvalDone(self.step, val, self.history.smoothed))
        if self.checkpoint_path is not None:
            self.save(self.checkpoint_path)

    def run(self) -> Finished:
        """Train until the step target, the time budget, or a stop; then save and say why it ended."""
        cfg = self.config
        start = time.monotonic()
        reason = "steps"
        while True:
            one_step = self._handle_commands()
            if self._stop:
                reason = "stopped"
                break
            if self.step >= cfg.steps and not one_step:
                break
            if cfg.minutes and time.monotonic() - start >= cfg.minutes * 60:
                reason = "time"
                break
            try:
                self.emit(self.train_step())
            except TrainingError as error:
                self.emit(Failed(self.step, str(error)))
                return Finished(self.step, "failed")
            if self.step % cfg.eval_every == 0:
                self.evaluate_now()
            if cfg.sample_every and self.step % cfg.sample_every == 0:
                self.emit(self.sample())
            if one_step:
                self.paused = True
        if self.checkpoint_path is not None and self.step % cfg.eval_every != 0:
            self.save(self.checkpoint_path)
        finished = Finished(self.step, reason)
        self.emit(finished)
        return finished
