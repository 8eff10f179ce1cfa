"""What the Gates pane is fed: a probe text and the model's trace over it.

These run on a snapshot of the model in a worker thread, never on the
training model (its forward buffers belong to the training thread).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnntui.data.vocab import Vocabulary
from rnntui.engine.model import CharRNN

PROBE_LENGTH = 48  # timesteps: two cells each, so it fits the pane at 120 columns without scrolling


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
