"""A model's loss over a whole text read as one sequence from a zero state, and its exact gradient.

Long texts are read in chunks with the state carried, which gives the same
numbers as one pass. The gradient is full BPTT over the whole text, computed
in O(chunk) memory: the forward pass keeps only the state at each chunk
boundary; the backward pass walks the chunks from last to first, recomputes
each chunk's forward from its boundary state, and hands dLoss/dstate back.
"""

from __future__ import annotations

import numpy as np

from rnntui.engine.model import CharRNN

CHUNK = 1024


def text_loss(model: CharRNN, ids: np.ndarray, chunk: int = CHUNK) -> tuple[float, int]:
    """(mean loss in nats, number of predictions) over `ids` as one sequence."""
    inputs, targets = ids[:-1][None, :], ids[1:][None, :]
    state, total = None, 0.0
    for start in range(0, inputs.shape[1], chunk):
        span = slice(start, start + chunk)
        result = model.forward(inputs[:, span], targets[:, span], state=state)
        total += result.loss * result.count
        state = result.state
    predictions = inputs.shape[1]
    return total / predictions, predictions


def text_gradient(model: CharRNN, ids: np.ndarray, chunk: int = CHUNK) -> dict[str, np.ndarray]:
    """dLoss/dparameter for the mean loss of `text_loss`, every tensor by name."""
    inputs, targets = ids[:-1][None, :], ids[1:][None, :]
    predictions = inputs.shape[1]
    starts = list(range(0, predictions, chunk))
    boundary = [None]
    for start in starts[:-1]:
        boundary.append(model.forward(inputs[:, start:start + chunk], state=boundary[-1]).state)
    total = np.zeros_like(model.grad_flat)
    dstate = None
    for start, state in zip(reversed(starts), reversed(boundary)):
        span = slice(start, start + chunk)
        result = model.forward(inputs[:, span], targets[:, span], state=state)
        # The chunk's mean loss becomes its share of the whole text's mean; dstate arrives in
        # whole-text units, so it is handed in rescaled to this chunk's units.
        share = result.count / predictions
        if dstate is not None:
            dstate = [tuple(d / share for d in layer) for layer in dstate]
        dstate, _ = model.backward(dstate)
        total += model.grad_flat * share
        dstate = [tuple(d * share for d in layer) for layer in dstate]
    offsets = np.cumsum([0] + [g.size for g in model.grads.values()])
    return {name: total[a:b].reshape(g.shape) for (name, g), a, b in zip(model.grads.items(), offsets, offsets[1:])}
