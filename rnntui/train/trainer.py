"""The training loop: steps, evaluations, samples and checkpoints, told to listeners as events.

One trainer serves the playground and `rnntui train`. It is a run (run.py):
it never imports a UI, tells its listeners events, and between steps takes
commands (pause, resume, stop, step once, change the learning rate, the clip
or the sampling temperature) from a thread-safe queue, so a UI thread can
steer a training thread. Each step is the engine's `train_step`.

Everything that decides the next step (weights, optimizer slots, carried
state, data cursor, dropout RNG, the worker count) is in the checkpoint, so a
resumed run takes exactly the steps the uninterrupted run would have taken.
With `workers` > 1 each step's gradient comes from worker processes, each a
shard of the batch (parallel.py); the step is otherwise the same. With
`engine="torch"` PyTorch takes the steps (torch_engine.py) and the loop is the
same: the NumPy model, brought up to date before each read, is evaluated,
sampled and saved, so the checkpoint is the same and resumes in either engine.

The work between steps stays a small share of a run whatever the corpus
size: an evaluation reads a fixed, seeded subset of the validation split
(validation.py), and the whole split is read once, when the run ends by its
budget. A checkpoint is written at the run's first evaluation, then at an
evaluation only when `SAVE_SECONDS` have passed since the last one, and
always at the end.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import time
from pathlib import Path

import numpy as np

from rnntui.data.batches import Streams, fit_batch, split
from rnntui.data.corpus import load_corpus
from rnntui.data.vocab import Vocabulary
from rnntui.engine.model import CharRNN
from rnntui.engine.optim import all_finite, make_optimizer
from rnntui.engine.shape import ModelShape, require_memory
from rnntui.engine.step import chunk_gradient, train_step
from rnntui.errors import TorchMissing, TrainingError
from rnntui.train.checkpoint import Checkpoint, save_checkpoint
from rnntui.train.checkpoint_schema import check_walk, load_resumable
from rnntui.train.config import DATA_WALK_FIELDS, ENGINES, SHAPE_FIELDS, START_FIELDS, TrainConfig
from rnntui.train.events import CheckpointSaved, EvalDone, Failed, Finished, SampleReady, StepDone
from rnntui.train.history import History
from rnntui.train.parallel import ShardPool, default_workers
from rnntui.train.run import Run, spent
from rnntui.train.sampling import generate
from rnntui.train.validation import split_loss, subset


def _as_option(name: str, value) -> str:
    """How a user would have typed this setting: seq_len 0 is full BPTT."""
    if name == "seq_len" and value == 0:
        return "--bptt full"
    return f"--{name.replace('_', '-')} {value}"


def text_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def load_torch_engine():
    """The torch engine's module; importing it imports PyTorch, so only a run on it pays for that."""
    try:
        from rnntui.train import torch_engine
    except ModuleNotFoundError as error:
        if error.name != "torch":
            raise
        raise TorchMissing("--engine torch needs PyTorch, which is not installed: pip install 'rnntui[torch]'") from None
    return torch_engine


def recorded_workers(train_state: dict) -> int:
    """The worker count a checkpoint was trained with (1 before counts were recorded; the schema checked it)."""
    return train_state.get("workers", 1)


class Trainer(Run):
    SAVE_SECONDS = 60.0  # after the first, at most one checkpoint a minute at evaluations; the end of a run always writes one

    def __init__(self, config: TrainConfig, text: str, checkpoint: Checkpoint | None = None,
                 workers: int | None = 1, engine: str = "numpy", device: str = "auto",
                 ranks: tuple[int, int, str] | None = None):
        """`workers`: processes that share each step (parallel.py); None derives it from the
        batch and the cores. The playground keeps the default, 1: one core stays with the screen.
        `engine`: "numpy", or "torch" to take the steps on PyTorch on `device` (auto, cpu, cuda);
        `ranks` (this rank, how many, rank 0's address): one of the processes that share a torch
        step (ranks.py). Only rank 0, the leader, evaluates, samples and saves."""
        super().__init__()
        if engine not in ENGINES:
            raise TrainingError(f"--engine must be one of {', '.join(ENGINES)}, got {engine!r}")
        if engine == "torch":
            world = ranks[1] if ranks else 1
            if workers not in (None, world):
                raise TrainingError(f"--engine torch with --workers {workers} needs that many ranks, not {world}")
            workers = world
            torch_engine = load_torch_engine()  # before any work: a missing PyTorch is said at once
        self.config = config.validated()
        self.text = text
        self.corpus_sha256 = text_digest(text)
        self.vocab = Vocabulary(checkpoint.vocab) if checkpoint else Vocabulary.from_text(text)
        ids = self.vocab.encode(text)
        train_ids, self.val_ids = split(ids, config.val_frac)
        self.val_subset = subset(self.val_ids, config.eval_chars, config.seed)
        self.batch = fit_batch(len(train_ids), config.batch, config.seq_len)
        self.streams = Streams(train_ids, self.batch, config.seq_len)

        shape = ModelShape(config.cell, self.vocab.size, config.embed, config.hidden, config.layers)
        steps = config.seq_len or self.streams.seq_len
        require_memory(shape.training_bytes(self.batch, steps, np.dtype(config.dtype).itemsize), f"this {config.cell}")
        self.model = CharRNN(shape, dtype=np.dtype(config.dtype), seed=config.seed, forget_bias=config.forget_bias)
        self.workers = default_workers(self.batch) if workers is None else workers
        self.pool = None
        if self.workers > 1 and engine == "numpy":
            self.pool = ShardPool(shape, config.dtype, self.batch, self.streams.seq_len, self.workers)
            self.model = self.pool.adopt(self.model)
        elif self.workers > self.batch:  # torch ranks (torch_engine.py) split the streams as the pool would
            raise TrainingError(f"--workers {self.workers} cannot split a batch of {self.batch} streams "
                                f"(each rank needs one stream at least)")
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
        self.started: float | None = None  # time.monotonic() when run() began
        self._saved_step: int | None = None  # of the checkpoint this run wrote last
        self._saved_at = 0.0
        if checkpoint:
            try:
                self._restore(checkpoint)
            except BaseException:
                self.close()
                raise
        # Steps on PyTorch, from the weights and slots above; None: the NumPy engine takes them.
        self.leader = ranks is None or ranks[0] == 0
        self.torch_steps = None
        if engine == "torch":
            self.torch_steps = torch_engine.TorchSteps(
                self.model, self.optimizer, device, torch_engine.Ranks(*ranks) if ranks else None)

    # ----- construction -----------------------------------------------------------------

    @classmethod
    def from_config(cls, config: TrainConfig, workers: int | None = 1, **engine) -> Trainer:
        """`workers` None: `rnntui train`'s default, from the batch and the cores; `engine`: engine=, device=."""
        config = config.validated()
        return cls(config, load_corpus(config.corpus).text, workers=workers, **engine)

    @classmethod
    def resume(cls, path: str | Path, workers: int | None = 1, engine: str = "numpy", device: str = "auto",
               ranks: tuple[int, int, str] | None = None, **changes) -> Trainer:
        """Continue from a checkpoint; shape options must agree with it, training options may change.

        `workers` None: `rnntui train`'s default, the checkpoint's count, which resumes bit for
        bit. Another count goes on from the same weights, optimizer and carried state, equal
        to float rounding (and with other dropout masks), not to the last bit.
        """
        ckpt = load_resumable(path)  # refuses a partial or damaged state before anything is built
        saved = TrainConfig.from_json(ckpt.config)
        for name in SHAPE_FIELDS + DATA_WALK_FIELDS + START_FIELDS:
            if name in changes and changes[name] != getattr(saved, name):
                keeps = ("its shape" if name in SHAPE_FIELDS else "the weights it has" if name in START_FIELDS
                         else "the data walk it was on, so that it goes on exactly")
                raise TrainingError(
                    f"{_as_option(name, changes[name])} disagrees with the checkpoint's "
                    f"{_as_option(name, getattr(saved, name))}; a resumed run keeps {keeps}"
                )
        config = saved.with_changes(**changes)
        text = load_corpus(saved.corpus).text
        if text_digest(text) != ckpt.train_state.get("corpus_sha256"):
            raise TrainingError(f"corpus {saved.corpus!r} has changed since {path} was saved; cannot resume exactly")
        recorded = recorded_workers(ckpt.train_state)
        if workers is None:
            workers = (ranks[1] if ranks else 1) if engine == "torch" else recorded
        trainer = cls(config, text, ckpt, workers=workers, engine=engine, device=device, ranks=ranks)
        trainer.resumed_from_workers = recorded
        try:
            check_walk(str(path), ckpt, trainer.batch, trainer.streams.chunks)
        except BaseException:
            trainer.close()
            raise
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

    def current_model(self) -> CharRNN:
        """The NumPy model with the latest weights: a run on PyTorch copies them (and the
        optimizer's slots) back only here, when something is about to read them."""
        if self.torch_steps:
            self.torch_steps.sync()
        return self.model

    def to_checkpoint(self) -> Checkpoint:
        self.current_model()
        tensors = {f"optim.{name}": slot for name, slot in self.optimizer.slots.items()}
        for k, layer in enumerate(self.state):
            for part, array in zip(("h", "c"), layer):
                tensors[f"state.l{k}.{part}"] = array
        train_state = dict(
            step=self.step, epoch=self.epoch, chunk=self.chunk, elapsed=self.elapsed,
            optimizer_steps=self.optimizer.steps, rng=self.rng.bit_generator.state, workers=self.workers,
            corpus_sha256=self.corpus_sha256, history=self.history.to_json(),
        )
        return Checkpoint(
            shape=self.model.shape, vocab=list(self.vocab.chars), params=dict(self.model.params),
            config=self.config.to_json(), train_state=train_state, train_tensors=tensors,
        )

    def save(self, path: str | Path) -> None:
        """Write a checkpoint atomically; a model that is not finite is never written."""
        if not all_finite(self.current_model().flat):
            raise TrainingError("the model's weights are not finite; the checkpoint was not written")
        save_checkpoint(path, self.to_checkpoint())
        self.emit(CheckpointSaved(self.step, str(path)))

    def snapshot(self) -> CharRNN:
        """A copy of the current model that another thread may run while training goes on."""
        copy = CharRNN(self.model.shape, dtype=self.model.dtype)
        with self.between_steps():
            copy.flat[...] = self.current_model().flat
        return copy

    def close(self) -> None:
        """End the worker processes, if any, or leave the torch ranks' group; the model stays usable."""
        if self.pool:
            self.pool.close()
        if self.torch_steps:
            self.torch_steps.close()

    # ----- commands ---------------------------------------------------------------------

    def apply(self, command: str, value) -> None:
        """The trainer's own commands, sent from another thread: 'lr', 'clip', 'temperature'."""
        if command == "lr":
            self.optimizer.lr = float(value)
            self.config = self.config.with_changes(lr=float(value))
        elif command == "clip":
            self.config = self.config.with_changes(clip=float(value))
        elif command == "temperature":
            self.temperature = float(value)
            self.config = self.config.with_changes(temperature=float(value))
        else:
            super().apply(command, value)

    # ----- the loop ---------------------------------------------------------------------

    def train_step(self) -> StepDone:
        with self.stepping(), self.pool.one_blas_thread() if self.pool else contextlib.nullcontext():
            return self._train_step()

    def _train_step(self) -> StepDone:
        cfg, model = self.config, self.model
        inputs, targets = self.streams.chunk(self.chunk)
        start = time.perf_counter()
        if self.torch_steps:
            outcome = self.torch_steps.step(inputs, targets, self.state, clip=cfg.clip, clip_value=cfg.clip_value,
                                      dropout=cfg.dropout, rng=self.rng)
        else:
            if self.pool:
                gradient = self.pool.gradient(model, inputs, targets, self.state, dropout=cfg.dropout, rng=self.rng)
            else:
                gradient = chunk_gradient(model, inputs, targets, self.state, dropout=cfg.dropout, rng=self.rng)
            outcome = train_step(model, self.optimizer, gradient, clip=cfg.clip, clip_value=cfg.clip_value)
        if not outcome.applied and not cfg.skip_nonfinite:
            raise TrainingError(
                f"the loss or gradient became non-finite at step {self.step + 1} (loss {outcome.loss}, "
                f"gradient norm {outcome.grad_norm}); lower --lr or --clip, or pass --skip-nonfinite"
            )
        if not outcome.weights_finite:
            # Not skippable: the weights themselves are lost. The last checkpoint is not.
            raise TrainingError(f"the weights became non-finite at step {self.step + 1}; lower --lr or --clip")
        if outcome.applied:
            self.state = outcome.result.state
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
        if outcome.applied:
            self.history.add_train(self.step, outcome.loss)
        return StepDone(
            step=self.step, loss=outcome.loss, chars_per_sec=inputs.size / max(seconds, 1e-9),
            epoch=self.epoch, grad_norm=outcome.grad_norm, lr=self.optimizer.lr, skipped=not outcome.applied,
        )

    def validation_loss(self, full: bool = False) -> float | None:
        """Mean loss over the fixed validation subset, or over the whole split (validation.py)."""
        if len(self.val_ids) < 2:
            return None
        spans = None if full else self.val_subset
        # With workers, they read it side by side: the number is the same, sooner.
        return split_loss(self.current_model(), self.val_ids, batch=self.batch, seq_len=self.config.seq_len,
                          spans=spans, terms=self.pool.terms if self.pool else None)[0]

    def sample(self, prompt: str = "", length: int | None = None, temperature: float | None = None) -> SampleReady:
        """A sample from the current model; its randomness depends only on the seed and the step."""
        rng = np.random.default_rng([self.config.seed, self.step])
        temperature = self.temperature if temperature is None else temperature
        ids = self.vocab.encode(prompt, unknown="skip")
        pairs = list(generate(self.current_model(), self.vocab, ids, length or self.config.sample_length, temperature, rng=rng))
        return SampleReady(
            self.step, "".join(c for c, _ in pairs), temperature, tuple(p for _, p in pairs)
        )

    def evaluate_now(self, full: bool = False) -> None:
        with self.stepping():
            val = self.validation_loss(full)
            if val is not None:
                self.history.add_val(self.step, val)
                self.emit(EvalDone(self.step, val, self.history.smoothed, full))

    def _checkpoint(self) -> None:
        self.save(self.checkpoint_path)
        self._saved_step, self._saved_at = self.step, time.monotonic()

    def run(self) -> Finished:
        """Train until the budget is spent or a stop; then evaluate on the whole split, save, and say why it ended."""
        cfg = self.config
        self.started = time.monotonic()
        self._saved_at = -math.inf  # the first evaluation saves: a run has a file to resume from early on
        first = self.step
        while True:
            one_step = self.handle_commands()
            reason = "stopped" if self.stopping else None if one_step else spent(self.step, cfg.steps, cfg.minutes, self.started)
            try:  # a step, or an evaluation the workers share, can fail (a worker or a rank lost, weights not finite)
                if self.torch_steps:
                    reason = self.torch_steps.agree(reason)  # processes sharing the steps end together
                if reason:
                    break
                self.emit(self.train_step())
                # The last step's evaluation is the whole split's, below.
                evaluating = self.leader and self.step % cfg.eval_every == 0 and self.step != cfg.steps
                if evaluating:
                    self.evaluate_now()
            except TrainingError as error:
                return self._failed(error)
            if evaluating and self.checkpoint_path is not None and time.monotonic() - self._saved_at >= self.SAVE_SECONDS:
                self._checkpoint()
            if self.leader and cfg.sample_every and self.step % cfg.sample_every == 0:
                self.emit(self.sample())
            if one_step:
                self.paused = True
        if self.leader and reason != "stopped" and self.step > first:  # a stop asked for now: the whole split would keep it waiting
            try:
                self.evaluate_now(full=True)
            except TrainingError as error:
                return self._failed(error)
        # A run that trained nothing writes nothing: the file it would write holds no new step.
        if self.checkpoint_path is not None and self.step > first and self._saved_step != self.step:
            self._checkpoint()
        finished = Finished(self.step, reason)
        self.emit(finished)
        return finished

    def _failed(self, error: TrainingError) -> Finished:
        self.emit(Failed(self.step, str(error)))
        return Finished(self.step, "failed")

    def resume_options(self) -> str:
        """The budget that goes on from here: the same step target, the minutes this run had left."""
        cfg, options = self.config, []
        if cfg.steps is not None:
            options.append(f"--steps {cfg.steps}")
        if cfg.minutes:
            used = (time.monotonic() - self.started) / 60 if self.started is not None else 0.0
            options.append(f"--minutes {max(math.ceil((cfg.minutes - used) * 10) / 10, 0.1):g}")
        return " ".join(options)
