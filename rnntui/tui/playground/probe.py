"""What the Gates and Explain panes are fed: a probe text, and the model's trace or explanation of it.

These run on the training thread between steps (shared_trainer.py), so no
step changes the model while they read it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnntui.data.vocab import Vocabulary
from rnntui.engine.model import CharRNN
from rnntui.train.explain import Explanation, MemorySpan, explain, memory_span

PROBE_LENGTH = 48  # timesteps: two cells each, so it fits the pane at 120 columns without scrolling
# The memory span: the same seeded windows of the validation split each time, so only the model changes.
SPAN_WINDOWS = 32
SPAN_LENGTH = 48


@dataclass(frozen=True)
class Trace:
    text: str  # the characters the model read, one per timestep
    layers: list[dict[str, np.ndarray]]  # per layer: quantity -> [T, H]
    cell: str
    step: int


def known_text(vocab: Vocabulary, text: str) -> str:
    """`text` without the characters the model has no id for (they are flagged in the prompt)."""
    return vocab.decode(vocab.encode(text, unknown="skip"))


def validation_snippet(vocab: Vocabulary, val_ids: np.ndarray, train_text: str, length: int = PROBE_LENGTH) -> str:
    """A stretch of held-out text to probe with, starting at a line that has something on it."""
    text = vocab.decode(val_ids[: length * 40]) if len(val_ids) > 1 else train_text[: length * 40]
    start = 0
    # The held-out part begins wherever the split fell, often mid-line: begin at a line start.
    for line_start in [i + 1 for i, c in enumerate(text) if c == "\n"]:
        line = text[line_start:].split("\n", 1)[0]
        if len(line.strip()) >= 12:  # a blank or one-word line shows little
            start = line_start + len(line) - len(line.lstrip())
            break
    return text[start:start + length]


def trace_model(model: CharRNN, vocab: Vocabulary, text: str, step: int) -> Trace:
    """Every gate and state of every layer while the model reads `text` (unknown characters dropped)."""
    text = known_text(vocab, text)
    if not text:
        return Trace("", [], model.shape.cell, step)
    ids = vocab.encode(text)
    layers = model.forward(ids[None, :], trace=True).trace
    return Trace(text, [{name: values[0] for name, values in layer.items()} for layer in layers], model.shape.cell, step)


@dataclass(frozen=True)
class ProbeExplanation:
    """The model's explanation of the probe text, and how far back it looks on held-out text."""

    explanation: Explanation
    span: MemorySpan | None  # None when the validation split is shorter than a window
    cell: str
    step: int


def explain_model(model: CharRNN, vocab: Vocabulary, text: str, val_ids: np.ndarray, step: int) -> ProbeExplanation:
    """Every position of `text` (unknown characters dropped) explained, and the mean saliency by distance."""
    text = known_text(vocab, text)
    explanation = explain(model, vocab, text) if len(text) >= 2 else Explanation(text, ())
    span = memory_span(model, val_ids, SPAN_WINDOWS, SPAN_LENGTH) if len(val_ids) > SPAN_LENGTH else None
    return ProbeExplanation(explanation, span, model.shape.cell, step)
