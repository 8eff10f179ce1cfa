"""Gate saturation: how often each gate unit sits near 0 or near 1 over a text.

For every unit of every sigmoid gate, the fraction of timesteps it is below 0.1 (left-saturated)
and above 0.9 (right-saturated). Plotted one point per unit, right on x and
left on y, the forget-gate units that are nearly always open (integrators that
hold memory) sit far right, and gates that switch cleanly sit on the diagonal
x + y = 1. The tanh candidates (LSTM g, GRU n) are not gates and a vanilla RNN
has none, so they are left out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnntui.engine.model import CharRNN
from rnntui.engine.walk import walk

# The sigmoid gates of each cell, by the names of the engine's trace.
GATES = {"rnn": (), "lstm": ("i", "f", "o"), "gru": ("r", "z")}
LOW, HIGH = 0.1, 0.9
CHUNK = 1024


@dataclass(frozen=True)
class GateSaturation:
    layer: int
    gate: str
    left: np.ndarray  # [H]: fraction of timesteps below LOW
    right: np.ndarray  # [H]: fraction of timesteps above HIGH
    steps: int  # timesteps counted per unit


def gate_saturation(model: CharRNN, ids: np.ndarray, low: float = LOW, high: float = HIGH, chunk: int = CHUNK) -> list[GateSaturation]:
    """Saturation of every gate unit over `ids`: one text ([T]) or parallel sequences ([B, T]), read from a zero state.

    Long texts are read in chunks with the state carried, so the gates see
    the same history they would in one pass.
    """
    ids = np.asarray(ids)
    if ids.ndim == 1:
        ids = ids[None, :]
    gates = GATES[model.shape.cell]
    H, layers = model.shape.hidden_size, model.shape.num_layers
    left = {(k, g): np.zeros(H) for k in range(layers) for g in gates}
    right = {(k, g): np.zeros(H) for k in range(layers) for g in gates}
    for _, result in walk(model, ids, k=chunk, trace=bool(gates)):
        for k, quantities in enumerate(result.trace or []):
            for g in gates:
                values = quantities[g]  # [B, T, H]
                left[k, g] += (values < low).sum(axis=(0, 1))
                right[k, g] += (values > high).sum(axis=(0, 1))
    steps = ids.size
    return [GateSaturation(k, g, left[k, g] / steps, right[k, g] / steps, steps) for (k, g) in left]
