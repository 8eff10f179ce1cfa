"""The race: RNN, LSTM and GRU of about the same size, trained side by side on one memory task.

Every cell sees the same batches in the same order and starts from the same
seed, so the only difference between the curves is the cell. A `Race` is a run
(train/run.py): `run()` tells its listeners the standings at step 0 and after
every evaluation, so a UI can plot them live, and takes pause, stop and
one-step commands between steps; `run_race()` drives one to the end.

Truncation k: each batch's sequences are walked in chunks of k timesteps with
the state carried forward but the gradient cut at every chunk boundary, the way
truncated BPTT trains on long text. The chunks' gradients are summed into one
update per batch, so a step means the same thing for every k. With k at least
the sequence length (the default, 0) this is full BPTT.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

import numpy as np

from rnntui.data.tasks import FILLERS, Task, TaskBatch, make_task
from rnntui.engine.model import CharRNN
from rnntui.engine.optim import make_optimizer
from rnntui.engine.shape import CELLS, ModelShape
from rnntui.engine.step import train_step
from rnntui.engine.walk import truncated_gradient
from rnntui.errors import RnntuiError
from rnntui.train.events import Finished
from rnntui.train.run import Run, spent


DEFAULT_STEPS = 1500  # a race given neither --steps nor --minutes


@dataclass(frozen=True)
class RaceConfig:
    """Defaults measured on recall with noise filler, span 40, seeds 0-2: GRU 100% within 250 steps, LSTM 100%, 100%
    and 87%, the vanilla RNN 28%, 29% and 76% (chance 12.5%); about half a minute a race on 2 busy cores."""

    task: str = "recall"
    span: int | None = None  # None: the task's own default
    filler: str = "noise"  # recall only: random distractors, or "constant" (one '.' repeated)
    bptt: int = 0  # truncation k; 0 = full BPTT over each sequence
    steps: int | None = DEFAULT_STEPS  # None: no step cap (a time budget alone)
    minutes: float = 0.0  # wall-clock budget of the race; 0 = none; with steps, whichever ends first
    batch: int = 32
    params: int = 3000  # parameter budget each cell's hidden size is fitted to
    hidden: int = 0  # > 0: this hidden size for every cell instead of a budget
    embed: int = 8
    cells: tuple[str, ...] = CELLS
    optimizer: str = "adam"
    lr: float = 1e-2
    clip: float = 1.0
    forget_bias: float = 3.0  # LSTM only: f starts near 0.95; at 1.0 it stalled at chance on recall beyond span ~20
    eval_every: int = 50
    eval_size: int = 256  # held-out sequences every evaluation scores
    seed: int = 0

    def validated(self) -> RaceConfig:
        for name in ("steps", "batch", "embed", "eval_every", "eval_size"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                raise RnntuiError(f"--{name.replace('_', '-')} must be at least 1, got {getattr(self, name)}")
        if self.steps is None and not self.minutes > 0:
            raise RnntuiError("a race needs --steps, --minutes or both")
        if self.minutes < 0:
            raise RnntuiError(f"--minutes must not be negative, got {self.minutes}")
        if self.filler not in FILLERS:
            raise RnntuiError(f"--filler is noise or constant, got {self.filler!r}")
        if self.bptt < 0:
            raise RnntuiError(f"--bptt must be 0 (full) or a positive truncation, got {self.bptt}")
        if not self.cells or any(c not in CELLS for c in self.cells):
            raise RnntuiError(f"--cells takes a comma-separated list of {', '.join(CELLS)}")
        if self.hidden < 0 or (self.hidden == 0 and self.params < 1):
            raise RnntuiError("give a positive --hidden or --params budget")
        if not self.lr > 0:
            raise RnntuiError(f"--lr must be positive, got {self.lr}")
        return replace(self, cells=tuple(dict.fromkeys(self.cells)))


def hidden_for_budget(cell: str, vocab_size: int, embed: int, budget: int, layers: int = 1) -> int:
    """The hidden size whose model has the parameter count nearest `budget` (the smaller one on a tie)."""
    def count(h: int) -> int:
        return ModelShape(cell, vocab_size, embed, h, layers).param_count()

    hidden = 1
    while count(hidden + 1) <= budget:  # the count grows with h, so walk up to the budget
        hidden += 1
    if abs(count(hidden + 1) - budget) < abs(count(hidden) - budget):
        hidden += 1
    return hidden


@dataclass(frozen=True)
class Score:
    step: int
    accuracy: float  # on the scored positions of the held-out sequences
    loss: float  # nats, mean over the same positions


@dataclass(frozen=True)
class Standings:
    """What the race yields after each evaluation: every cell's score at `step`."""

    step: int
    scores: dict[str, Score]
    seconds: dict[str, float]  # training time spent so far, per cell


@dataclass
class Racer:
    """One cell in the race: its model, optimizer and curve."""

    cell: str
    model: CharRNN
    optimizer: object
    curve: list[Score] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def params(self) -> int:
        return self.model.shape.param_count()


def make_racers(config: RaceConfig, task: Task) -> list[Racer]:
    racers = []
    for cell in config.cells:
        hidden = config.hidden or hidden_for_budget(cell, task.vocab.size, config.embed, config.params)
        shape = ModelShape(cell, task.vocab.size, config.embed, hidden, 1)
        model = CharRNN(shape, seed=config.seed, forget_bias=config.forget_bias if cell == "lstm" else None)
        racers.append(Racer(cell, model, make_optimizer(config.optimizer, model.flat, config.lr)))
    return racers


def batch_gradient(model: CharRNN, batch: TaskBatch, bptt: int):
    """The gradient of one race step, for `train_step`: the batch's mean scored loss, cut every `bptt` steps."""
    return lambda: truncated_gradient(model, batch.inputs, batch.targets, batch.mask, k=bptt)


def race_step(racer: Racer, batch: TaskBatch, bptt: int, clip: float) -> float:
    """One step of one cell; a non-finite step is skipped, never applied."""
    start = time.perf_counter()
    outcome = train_step(racer.model, racer.optimizer, batch_gradient(racer.model, batch, bptt), clip=clip, check_weights=False)
    racer.seconds += time.perf_counter() - start
    return outcome.loss


def evaluate(model: CharRNN, task: Task, batch: TaskBatch, step: int) -> Score:
    """Accuracy and loss on the scored positions; one forward pass, the state carried through as in training."""
    result = model.forward(batch.inputs, batch.targets, batch.mask, logits=True)
    return Score(step, task.accuracy(result.logits, batch), result.loss)


class Race(Run):
    """Every cell trained on the same batches; listeners get the standings at step 0 and every `eval_every` steps.

    The racers' models are live: a UI may read them between steps, inside
    `between_steps()` (for the gradient reach, say).
    """

    def __init__(self, config: RaceConfig):
        super().__init__()
        self.config = config = config.validated()
        self.task = make_task(config.task, config.span, config.filler)
        self.racers = make_racers(config, self.task)
        # Separate streams for training and evaluation: the held-out set never depends on the step count.
        self.train_rng = np.random.default_rng([config.seed, 0])
        self.held_out = self.task.batch(np.random.default_rng([config.seed, 1]), config.eval_size)
        self.step = 0

    def standings(self) -> Standings:
        for racer in self.racers:
            racer.curve.append(evaluate(racer.model, self.task, self.held_out, self.step))
        return Standings(self.step, {r.cell: r.curve[-1] for r in self.racers}, {r.cell: r.seconds for r in self.racers})

    @property
    def finished(self) -> bool:
        """The step cap is reached (a race with a time budget may end earlier, in `run`)."""
        return self.config.steps is not None and self.step >= self.config.steps

    def advance(self) -> Standings | None:
        """One training step for every cell; the standings when this step is an evaluation, else None.

        For a caller that must look up between steps (a UI checking whether it
        was told to stop); iterating the race is the same steps, evaluations only.
        """
        config = self.config
        batch = self.task.batch(self.train_rng, config.batch)
        for racer in self.racers:
            race_step(racer, batch, config.bptt, config.clip)
        self.step += 1
        if self.step % config.eval_every == 0 or self.step == config.steps:
            return self.standings()
        return None

    def run(self) -> Finished:
        """Race until the budget is spent or a stop; the standings go to the listeners as they come."""
        if self.step == 0 and not self.racers[0].curve:
            self.emit(self.standings())
        started = time.monotonic()
        while True:
            one_step = self.handle_commands()
            reason = "stopped" if self.stopping else None if one_step else spent(
                self.step, self.config.steps, self.config.minutes, started)
            if reason:
                break
            with self.stepping():
                standings = self.advance()
            if standings is not None:
                self.emit(standings)
            if one_step:
                self.paused = True
        if reason == "time" and self.racers[0].curve[-1].step != self.step:
            with self.stepping():
                self.emit(self.standings())  # the curves end where the time ran out
        finished = Finished(self.step, reason)
        self.emit(finished)
        return finished

    def results(self) -> list[CellResult]:
        return [
            CellResult(
                r.cell, r.model.shape.hidden_size, r.params, r.curve[-1].accuracy, r.curve[-1].loss,
                self.task.chance, [(s.step, s.accuracy) for s in r.curve], r.seconds,
            )
            for r in self.racers
        ]


@dataclass(frozen=True)
class CellResult:
    cell: str
    hidden: int
    params: int
    accuracy: float  # final, on scored positions
    loss: float
    chance: float
    curve: list[tuple[int, float]]  # (step, accuracy)
    seconds: float

    def to_json(self) -> dict:
        return dict(
            cell=self.cell, hidden=self.hidden, params=self.params, accuracy=self.accuracy, loss=self.loss,
            chance=self.chance, curve=[[s, a] for s, a in self.curve], seconds=round(self.seconds, 3),
        )


def run_race(config: RaceConfig, on_standings=None) -> Race:
    """Run a race to its end; `on_standings` (if given) sees every evaluation as it happens."""
    race = Race(config)
    if on_standings is not None:
        race.listeners.append(lambda event: on_standings(event) if isinstance(event, Standings) else None)
    race.run()
    return race
