"""One training step, the same for every run: a gradient, clipped, then one optimizer update.

    loss, grad = gradient()                 # forward and backward, however the run reads its data
    clip the global norm (and each value)   # the norm is measured before clipping
    if loss and norm are finite: update     # a non-finite step is never applied

Every run (the trainer, the memory lab's race, a lesson's model, the worker
processes of a data-parallel step) trains through `train_step`; they differ
only in the `gradient` they hand it, which leaves dLoss/dparameters in
`model.grad_flat` and returns the forward `Pass`. The caller decides what a
non-finite step means (stop with a message, or skip it): the engine only says.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from rnntui.engine.model import CharRNN, Pass
from rnntui.engine.optim import Optimizer, all_finite, clip_by_norm, clip_by_value


@dataclass(frozen=True)
class Outcome:
    result: Pass  # the forward pass: loss, scored count, the state to carry on
    grad_norm: float  # global norm of the gradient before clipping
    applied: bool  # the update was made: loss and gradient were finite
    weights_finite: bool  # after the update (True when none was made)

    @property
    def loss(self) -> float:
        return self.result.loss


def train_step(
    model: CharRNN,
    optimizer: Optimizer,
    gradient: Callable[[], Pass],
    *,
    clip: float = 0.0,
    clip_value: float = 0.0,
    check_weights: bool = True,
) -> Outcome:
    """Compute the gradient, clip it, and apply one update unless the loss or the gradient is not finite."""
    # An overflow shows up below as a non-finite loss or norm, which the caller turns into one
    # clear message; NumPy's warnings would only repeat it less clearly.
    with np.errstate(over="ignore", invalid="ignore"):
        result = gradient()
        norm = clip_by_norm(model.grad_flat, clip)
        if clip_value:
            clip_by_value(model.grad_flat, clip_value)
        applied = math.isfinite(result.loss) and math.isfinite(norm)
        weights_finite = True
        if applied:
            optimizer.step(model.grad_flat)
            weights_finite = not check_weights or all_finite(model.flat)
    return Outcome(result, norm, applied, weights_finite)


def chunk_gradient(model: CharRNN, inputs, targets, state=None, *, mask=None, dropout: float = 0.0, rng=None):
    """The gradient of one chunk of truncated BPTT: forward from the carried state, backward to its start."""
    def gradient() -> Pass:
        result = model.forward(inputs, targets, mask, state=state, dropout=dropout, rng=rng)
        model.backward()  # no dstate: the gradient stops at the chunk's first step
        return result
    return gradient
