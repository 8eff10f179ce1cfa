"""The validation loss: the held-out split read in stretches, all of them or a fixed, seeded subset.

The validation split is cut into consecutive stretches of `STRETCH`
characters (the last may be shorter), each read from a zero state. The full
validation loss is the mean over every prediction of every stretch: the
trainer reports it when a run ends, and `rnntui eval` reports the same number.

An evaluation during training reads a subset of those stretches instead,
drawn once from the whole split with the run's seed. Its cost is bounded
whatever the corpus size; every evaluation of a run reads the same characters,
so its curve moves with the model and not with the sample; and its mean is an
unbiased estimate of the full loss (benchmarks/val_subset.py measures how
closely it tracks it).
"""

from __future__ import annotations

import math

import numpy as np

from rnntui.engine.model import CharRNN
from rnntui.engine.walk import walk

STRETCH = 512  # predictions per stretch, each read from a zero state
SUBSET_STREAM = 7  # the subset's own random stream under the run's seed: it never shifts a training draw


def stretches(ids: np.ndarray, length: int = STRETCH) -> list[slice]:
    """Consecutive spans of predictions covering all of `ids` (n characters hold n - 1 predictions)."""
    predictions = len(ids) - 1
    return [slice(start, min(start + length, predictions)) for start in range(0, max(predictions, 0), length)]


def subset(ids: np.ndarray, chars: int, seed: int, length: int = STRETCH) -> list[slice]:
    """About `chars` predictions' worth of whole stretches, drawn from the whole split; all of them if it is small."""
    every = stretches(ids, length)
    whole = [span for span in every if span.stop - span.start == length]
    wanted = math.ceil(chars / length)
    if wanted >= len(whole):
        return every
    picked = np.random.default_rng([seed, SUBSET_STREAM]).choice(len(whole), wanted, replace=False)
    return [whole[i] for i in sorted(picked)]


def split_loss(model: CharRNN, ids: np.ndarray, *, batch: int, seq_len: int, spans: list[slice] | None = None) -> tuple[float, int]:
    """(mean loss, predictions) over `spans` of a validation split, all of it by default, read as the trainer reads it:
    `batch` stretches side by side in chunks of the training k, so the model's buffers for that shape serve again."""
    return stretch_loss(model, ids, stretches(ids) if spans is None else spans, batch=batch, k=seq_len or STRETCH)


def stretch_loss(model: CharRNN, ids: np.ndarray, spans: list[slice], *, batch: int, k: int) -> tuple[float, int]:
    """(mean loss in nats, predictions) over the stretches `spans` of `ids`, `batch` of them side by side in chunks of k."""
    length = max((span.stop - span.start for span in spans), default=0)
    inputs = np.zeros((len(spans), length), ids.dtype)
    targets = np.zeros_like(inputs)
    mask = np.zeros(inputs.shape, np.float32)
    for row, span in enumerate(spans):
        n = span.stop - span.start
        inputs[row, :n] = ids[span]
        targets[row, :n] = ids[span.start + 1: span.stop + 1]
        mask[row, :n] = 1.0
    total, count = 0.0, 0
    for start in range(0, len(spans), max(batch, 1)):
        rows = slice(start, start + max(batch, 1))
        ragged = None if mask[rows].all() else mask[rows]  # a shorter last stretch: score only its own predictions
        for _, result in walk(model, inputs[rows], targets[rows], ragged, k=k):
            total += result.loss * result.count
            count += result.count
    return (total / count if count else float("nan")), count
