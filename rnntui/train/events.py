"""What the trainer tells its listeners: small frozen records, one per thing that happened.

Front ends (the Rich progress, the JSON Lines log, the TUI panes) consume these
and nothing else; `as_record` turns one into the JSON object the log writes.
"""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass(frozen=True)
class StepDone:
    step: int
    loss: float  # nats, mean over this step's characters
    chars_per_sec: float  # this step's own rate
    epoch: int
    grad_norm: float
    lr: float
    skipped: bool = False  # a non-finite step that was skipped, not applied


@dataclass(frozen=True)
class EvalDone:
    step: int
    val_loss: float  # nats
    train_loss: float  # smoothed training loss at this step
    full: bool = False  # over the whole validation split (a run's end), not the fixed subset


@dataclass(frozen=True)
class SampleReady:
    step: int
    text: str
    temperature: float
    probs: tuple[float, ...] = ()  # the probability the model gave each character of `text`


@dataclass(frozen=True)
class CheckpointSaved:
    step: int
    path: str


@dataclass(frozen=True)
class Failed:
    step: int
    message: str


@dataclass(frozen=True)
class Finished:
    step: int
    reason: str  # "steps", "time", "stopped"


EVENT_NAMES = {
    StepDone: "step", EvalDone: "eval", SampleReady: "sample",
    CheckpointSaved: "checkpoint", Failed: "failed", Finished: "finished",
}

Event = StepDone | EvalDone | SampleReady | CheckpointSaved | Failed | Finished


# Which fields each event's record keeps: the log keeps a sample's text, but the per-character
# tint (probs) is for the TUI.
RECORD_FIELDS = {kind: tuple(f.name for f in fields(kind) if f.name != "probs") for kind in EVENT_NAMES}


def as_record(event: Event) -> dict:
    """The JSON Lines form: {"event": "step", "step": 12, ...}."""
    # Field by field, not dataclasses.asdict: asdict deep-copies, which costs a noticeable
    # share of a small model's step when every step is logged.
    kind = type(event)
    record = {"event": EVENT_NAMES[kind]}
    for name in RECORD_FIELDS[kind]:
        record[name] = getattr(event, name)
    return record


