"""The full training configuration: what the CLI's options and the TUI's controls set.

It is stored as JSON in every checkpoint, so a resumed run knows its corpus and
shape. Shape fields fix the model; the others may change between runs.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace

from rnntui.engine.optim import OPTIMIZERS
from rnntui.engine.shape import CELLS
from rnntui.errors import TrainingError

# Upper bounds: what one machine can hold and a run can use (the memory estimate then refuses what
# this machine cannot). The CLI declares them on its options; a checkpoint's config is held to them too.
MAX_UNITS = 16_384  # hidden or embedding units per layer
MAX_LAYERS = 64
MAX_BATCH = 65_536  # parallel streams or sequences
MAX_SPAN = 100_000  # characters in one stretch of backprop
LARGEST = {
    "hidden": MAX_UNITS, "embed": MAX_UNITS, "layers": MAX_LAYERS, "batch": MAX_BATCH, "seq_len": MAX_SPAN,
    "sample_length": 1_000_000, "eval_chars": 100_000_000,
}

# Fields that fix the model's tensors: a resume may not change them.
SHAPE_FIELDS = ("cell", "hidden", "layers", "embed", "dtype")
# Fields that fix which characters each step reads: an exact resume may not change them either.
DATA_WALK_FIELDS = ("corpus", "seq_len", "batch", "val_frac", "seed")
# Fields that only set the weights a run starts from: a resumed run has its own weights already.
START_FIELDS = ("forget_bias",)
# Who takes the steps (not part of the config: a checkpoint resumes in either) and, on PyTorch, where.
ENGINES = ("numpy", "torch")
DEVICES = ("auto", "cpu", "cuda")
# The step cap of a run given neither --steps nor --minutes.
DEFAULT_STEPS = 1000


@dataclass(frozen=True)
class TrainConfig:
    corpus: str = "python"
    cell: str = "lstm"
    hidden: int = 128
    layers: int = 1
    embed: int = 32
    seq_len: int = 64  # truncation k; 0 means full BPTT over each whole stream
    batch: int = 32
    steps: int | None = DEFAULT_STEPS  # the step to reach; None = no step cap (a time budget alone)
    minutes: float = 0.0  # wall-clock budget of this run; 0 = none; with steps, whichever ends first
    lr: float = 2e-3
    optimizer: str = "adam"
    momentum: float = 0.9  # SGD only
    clip: float = 5.0  # global gradient norm; 0 = off
    clip_value: float = 0.0  # elementwise; 0 = off
    dropout: float = 0.0
    # The LSTM's forget-gate bias at start. 0 is PyTorch's initialisation, so a model here and one a
    # PyTorch loop trains learn alike; 1.0 (a common recipe for long memories) cost 0.08 nats of
    # held-out loss at 1,000 steps on tiny-shakespeare (benchmarks/RESULTS.md, "Equal time").
    forget_bias: float = 0.0
    dtype: str = "float32"
    seed: int = 0
    val_frac: float = 0.1
    eval_every: int = 500  # with the subset below, about 2% of a run at the defaults (benchmarks/overhead.py)
    eval_chars: int = 40_000  # validation predictions each evaluation scores: a fixed, seeded subset (validation.py)
    sample_every: int = 200
    sample_length: int = 200
    temperature: float = 0.8
    skip_nonfinite: bool = False  # skip a step whose loss or gradient is not finite, instead of stopping

    def validated(self) -> TrainConfig:
        """Refuse what cannot work before any work starts, with one clear line."""
        problems = []
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, float) and not math.isfinite(value):
                problems.append(f"--{f.name.replace('_', '-')} must be a finite number")
        if self.cell not in CELLS:
            problems.append(f"--cell must be one of {', '.join(CELLS)}")
        if self.optimizer not in OPTIMIZERS:
            problems.append(f"--optimizer must be one of {', '.join(OPTIMIZERS)}")
        if self.dtype not in ("float32", "float64"):
            problems.append("--dtype must be float32 or float64")
        for name in ("hidden", "layers", "embed", "batch", "eval_every", "sample_every", "eval_chars"):
            if getattr(self, name) < 1:
                problems.append(f"--{name.replace('_', '-')} must be at least 1")
        for name, largest in LARGEST.items():
            if (getattr(self, name) or 0) > largest:
                problems.append(f"--{name.replace('_', '-')} must be at most {largest}")
        for name in ("seq_len", "steps", "sample_length", "seed"):
            if (getattr(self, name) or 0) < 0:
                problems.append(f"--{name.replace('_', '-')} must not be negative")
        for name in ("minutes", "clip", "clip_value", "temperature"):
            if getattr(self, name) < 0:
                problems.append(f"--{name.replace('_', '-')} must not be negative")
        if not self.lr > 0:
            problems.append("--lr must be positive")
        if not 0 <= self.val_frac < 1:
            problems.append("--val-frac must be in [0, 1)")
        if not 0 <= self.dropout < 1:
            problems.append("--dropout must be in [0, 1)")
        if problems:
            raise TrainingError("; ".join(problems))
        return self

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def with_changes(self, **changes) -> TrainConfig:
        return replace(self, **changes)
