"""Analytic gradients against centred differences, in float64, on a small random model."""

from __future__ import annotations

import numpy as np

from rnntui.engine.model import CharRNN
from rnntui.engine.shape import ModelShape


def random_problem(cell: str, layers: int = 2, seed: int = 0, *, vocab: int = 7, batch: int = 3, steps: int = 6,
                   initial_state: bool = True, mask: bool = True, embed: int = 5, hidden: int = 4):
    """A float64 model, a batch of tokens and targets, and optionally a carried state and a mask."""
    rng = np.random.default_rng(seed)
    model = CharRNN(ModelShape(cell, vocab, embed, hidden, layers), dtype=np.float64, seed=seed)
    # Larger biases than the default so that gates sit away from 0.5 and every term matters.
    for name, p in model.params.items():
        if "bias" in name:
            p[...] = rng.uniform(-1, 1, p.shape)
    inputs = rng.integers(0, vocab, (batch, steps))
    targets = rng.integers(0, vocab, (batch, steps))
    state = None
    if initial_state:
        state = [tuple(rng.uniform(-0.8, 0.8, (batch, hidden)) for _ in range(c.state_size)) for c in model.cells]
    score = (rng.random((batch, steps)) < 0.6).astype(np.float64) if mask else None
    if score is not None:
        score[0, -1] = 1.0  # never an empty mask
    return model, dict(inputs=inputs, targets=targets, mask=score, state=state)


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """||a - b|| / (||a|| + ||b||): the whole tensor's error, not one tiny entry's rounding noise."""
    scale = np.linalg.norm(a) + np.linalg.norm(b)
    return float(np.linalg.norm(a - b) / scale) if scale > 0 else 0.0


def check_gradients(model: CharRNN, batch: dict, eps: float = 1e-5) -> dict[str, float]:
    """Worst relative error per tensor between backward() and centred differences."""
    model.forward(**batch)
    model.backward()
    analytic = {name: g.copy() for name, g in model.grads.items()}
    worst = {}
    for name, p in model.params.items():
        numeric = np.zeros_like(p)
        flat, num = p.reshape(-1), numeric.reshape(-1)
        for i in range(flat.size):
            keep = flat[i]
            flat[i] = keep + eps
            plus = model.forward(**batch).loss
            flat[i] = keep - eps
            minus = model.forward(**batch).loss
            flat[i] = keep
            num[i] = (plus - minus) / (2 * eps)
        worst[name] = relative_error(analytic[name], numeric)
    return worst
