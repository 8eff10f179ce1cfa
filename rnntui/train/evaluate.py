"""A model's loss over a whole text read as one sequence from a zero state, and its exact gradient.

Long texts are read in chunks with the state carried (engine/walk.py), which
gives the same numbers as one pass; the gradient is full BPTT over the whole
text in memory that grows with the chunk, not the text.
"""

from __future__ import annotations

import numpy as np

from rnntui.engine.model import CharRNN
from rnntui.engine.walk import full_gradient, mean_loss

CHUNK = 1024


def text_loss(model: CharRNN, ids: np.ndarray, chunk: int = CHUNK) -> tuple[float, int]:
    """(mean loss in nats, number of predictions) over `ids` as one sequence."""
    return mean_loss(model, ids[:-1][None, :], ids[1:][None, :], k=chunk)


def text_gradient(model: CharRNN, ids: np.ndarray, chunk: int = CHUNK) -> dict[str, np.ndarray]:
    """dLoss/dparameter for the mean loss of `text_loss`, every tensor by name (copies)."""
    full_gradient(model, ids[:-1][None, :], ids[1:][None, :], k=chunk)
    return {name: g.copy() for name, g in model.grads.items()}
