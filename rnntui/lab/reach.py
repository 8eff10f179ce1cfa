"""Gradient reach: how strongly a loss at step T still pulls on the hidden state at step t, against T - t.

For a probe sequence scored at one position T only, the engine's backward pass
gives ||dLoss_T/dh_t|| for every t and every layer. Read against the distance
T - t on a log scale, a vanilla RNN's curve falls by orders of magnitude (the
vanishing gradient) or climbs (exploding), while a cell that can hold its state
keeps it nearly flat: that distance is how far back the model can learn.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnntui.data.tasks import TaskBatch
from rnntui.engine.model import CharRNN


@dataclass(frozen=True)
class Reach:
    distances: np.ndarray  # [N]: 0, 1, ..., N-1 steps back from the scored position
    norms: np.ndarray  # [layers, N]: geometric mean over the probes of ||dLoss_T/dh_(T-d)||

    def ratio(self, distance: int, layer: int = -1) -> float:
        """How much of the gradient survives `distance` steps back: norm there over norm at the scored step."""
        return float(self.norms[layer, distance] / self.norms[layer, 0])


def probe_reach(model: CharRNN, inputs: np.ndarray, targets: np.ndarray, position: int, through: str = "h") -> np.ndarray:
    """[layers, position + 1]: ||dLoss/dh_t|| for one sequence scored only at `position`, from t = position down to 0.

    The sequence is cut after the scored position, so nothing later enters.
    `through="c"` measures an LSTM's ||dLoss/dc_t|| instead.
    """
    inputs = np.asarray(inputs)[None, : position + 1]
    targets = np.asarray(targets)[None, : position + 1]
    mask = np.zeros(inputs.shape, np.float32)
    mask[0, position] = 1.0
    model.forward(inputs, targets, mask)
    _, reaches = model.backward(reach="c" if through == "c" else True)
    return np.array([r[::-1] for r in reaches])  # index = distance back


def gradient_reach(model: CharRNN, batch: TaskBatch, through: str = "h") -> Reach:
    """Each sequence of `batch` probed at its last scored position; per distance, the geometric mean over sequences.

    A geometric mean because the norms span orders of magnitude: an arithmetic
    mean would show only the largest probe. Distances that only some probes
    reach (sequences of different lengths) average over those that do.
    Note: this runs forward and backward, so it overwrites the model's gradients.
    """
    curves = []
    for b in range(batch.inputs.shape[0]):
        scored = np.flatnonzero(batch.mask[b])
        if len(scored):
            curves.append(probe_reach(model, batch.inputs[b], batch.targets[b], int(scored[-1]), through))
    if not curves:
        raise ValueError("the probe batch has no scored position")
    longest = max(c.shape[1] for c in curves)
    logs = np.full((len(curves), len(model.cells), longest), np.nan)
    for i, c in enumerate(curves):
        logs[i, :, : c.shape[1]] = np.log(np.maximum(c, 1e-300))  # a norm of exactly 0 reads as 1e-300
    return Reach(np.arange(longest), np.exp(np.nanmean(logs, axis=0)))
