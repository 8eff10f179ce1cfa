"""Backpropagation through time, measured: the per-step losses, and the gradient as it walks back.

    L = L_0 + L_1 + ... + L_(T-1)          every step's error, summed
    ||dL/dh_t||, t = T-1 down to 0          what the backward pass carries back to each step

With truncation k the sequence is read in chunks of k steps: the state is
carried forward across a chunk boundary, but each chunk's backward pass starts
from nothing at its end, so no gradient crosses a boundary. `gradient_walk`
measures that with the engine's own backward pass (its `reach`), chunk by
chunk, exactly as `truncated_gradient` trains.
"""

from __future__ import annotations

import numpy as np

from rnntui.engine.model import CharRNN
from rnntui.engine.walk import spans


def step_losses(model: CharRNN, inputs: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """[T]: -log p(target_t) at every step of one sequence, read from a zero state in one pass."""
    logits = model.forward(np.asarray(inputs)[None, :], logits=True).logits[0].astype(float)
    top = logits.max(axis=1, keepdims=True)
    log_norm = np.log(np.exp(logits - top).sum(axis=1)) + top[:, 0]
    return log_norm - logits[np.arange(len(targets)), np.asarray(targets)]


def gradient_walk(model: CharRNN, inputs: np.ndarray, targets: np.ndarray, mask: np.ndarray, k: int) -> np.ndarray:
    """[T]: ||dL/dh_t|| of one sequence, L the SUM of the losses where `mask` is set, cut every k steps (k <= 0: never).

    Chunk by chunk, from the state the chunks before it carried; in each, the
    engine's backward pass starts at the chunk's end with no gradient from later.
    The engine's loss is a mean over a chunk's scored steps, so its gradient is
    scaled back up by their count to be the sum's.
    """
    inputs, targets, mask = (np.asarray(a)[None, :] for a in (inputs, targets, mask))
    norms = np.zeros(inputs.shape[1])
    state = None
    for span in spans(inputs.shape[1], k):
        result = model.forward(inputs[:, span], targets[:, span], mask[:, span], state=state)
        state = result.state
        if result.count:
            _, (reach, *_) = model.backward(reach=True)
            norms[span] = reach * result.count
    return norms
