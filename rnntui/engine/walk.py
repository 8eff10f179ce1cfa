"""The chunked walk: a long sequence read k steps at a time, the state carried from chunk to chunk.

Reading [B, T] in chunks gives the same forward values as one pass over all T
steps, in memory that grows with k instead of T. Every place that reads a long
sequence walks it here: validation and evaluation (`walk`, `mean_loss`), gate
statistics (`walk` with traces), truncated BPTT over a batch whose gradient is
cut at each chunk boundary (`truncated_gradient`, the memory lab), and the
exact full-BPTT gradient of a whole text (`full_gradient`).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from rnntui.engine.model import CharRNN, Pass, State


def spans(length: int, k: int) -> list[slice]:
    """The chunks of a sequence of `length` steps, k at a time (k <= 0: one chunk)."""
    k = length if k <= 0 else k
    return [slice(start, start + k) for start in range(0, length, max(k, 1))]


def walk(
    model: CharRNN,
    inputs: np.ndarray,
    targets: np.ndarray | None = None,
    mask: np.ndarray | None = None,
    *,
    k: int,
    state: State | None = None,
    trace: bool = False,
    logits: bool = False,
) -> Iterator[tuple[slice, Pass]]:
    """Forward over [B, T] in chunks of k steps, the state carried; yields each chunk's span and pass."""
    for span in spans(inputs.shape[1], k):
        result = model.forward(
            inputs[:, span],
            None if targets is None else targets[:, span],
            None if mask is None else mask[:, span],
            state=state, trace=trace, logits=logits,
        )
        state = result.state
        yield span, result


def mean_loss(model: CharRNN, inputs: np.ndarray, targets: np.ndarray, *, k: int) -> tuple[float, int]:
    """(mean loss in nats over every position, the number of positions) of [B, T], read in chunks."""
    total, count = 0.0, 0
    for _, result in walk(model, inputs, targets, k=k):
        total += result.loss * result.count
        count += result.count
    return (total / count if count else float("nan")), count


def truncated_gradient(model: CharRNN, inputs, targets, mask=None, *, k: int, state: State | None = None) -> Pass:
    """Truncated BPTT over a whole batch: the gradient of its mean scored loss, cut every k steps.

    Each chunk's gradient is its share of the batch's mean, so a step means
    the same thing for every k. Chunks with nothing scored still run forward
    (their state carries the memory) but need no backward pass: with the
    gradient cut at their end, nothing flows back into them.
    """
    T = inputs.shape[1]
    total = int(mask.sum()) if mask is not None else inputs.size
    grad = np.zeros_like(model.grad_flat)
    loss = 0.0
    for span in spans(T, k):
        part_mask = None if mask is None else mask[:, span]
        count = int(part_mask.sum()) if part_mask is not None else inputs[:, span].size
        if count == 0:
            state = model.forward(inputs[:, span], state=state).state
            continue
        result = model.forward(inputs[:, span], targets[:, span], part_mask, state=state)
        model.backward()
        grad += model.grad_flat * (count / total)
        loss += result.loss * count / total
        state = result.state
    model.grad_flat[...] = grad
    return Pass(loss=loss, count=total, state=state)


def full_gradient(model: CharRNN, inputs: np.ndarray, targets: np.ndarray, *, k: int) -> Pass:
    """The exact full-BPTT gradient of the mean loss over [B, T], in memory that grows with k, not T.

    The forward pass keeps only the state at each chunk boundary; the backward
    pass walks the chunks from last to first, recomputes each chunk's forward
    from its boundary state, and hands dLoss/dstate back across the boundary.
    """
    chunks = spans(inputs.shape[1], k)
    boundary: list[State | None] = [None]
    for span in chunks[:-1]:
        boundary.append(model.forward(inputs[:, span], state=boundary[-1]).state)
    total = np.zeros_like(model.grad_flat)
    predictions = inputs.size
    loss, dstate, last = 0.0, None, None
    for span, state in zip(reversed(chunks), reversed(boundary)):
        result = model.forward(inputs[:, span], targets[:, span], state=state)
        last = last or result.state
        # The chunk's mean loss becomes its share of the whole mean; dstate arrives in whole-text
        # units, so it is handed in rescaled to this chunk's units and taken back out after.
        share = result.count / predictions
        if dstate is not None:
            dstate = [tuple(d / share for d in layer) for layer in dstate]
        dstate, _ = model.backward(dstate)
        total += model.grad_flat * share
        loss += result.loss * share
        dstate = [tuple(d * share for d in layer) for layer in dstate]
    model.grad_flat[...] = total
    return Pass(loss=loss, count=predictions, state=last)
