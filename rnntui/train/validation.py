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
from collections.abc import Callable
from functools import partial

import numpy as np

from rnntui.engine.model import CharRNN
from rnntui.engine.walk import walk

STRETCH = 512  # predictions per stretch, each read from a zero state
SUBSET_STREAM = 7  # the subset's own random stream under the run's seed: it never shifts a training draw


# (ids, groups of stretches, k) -> the per-chunk (mean loss, predictions) of every group, in order.
Terms = Callable[[np.ndarray, list[list[slice]], int], list[tuple[float, int]]]


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


def split_loss(model: CharRNN, ids: np.ndarray, *, batch: int, seq_len: int, spans: list[slice] | None = None,
               terms: Terms | None = None) -> tuple[float, int]:
    """(mean loss, predictions) over `spans` of a validation split, all of it by default, read as the trainer reads it:
    `batch` stretches side by side in chunks of the training k, so the model's buffers for that shape serve again.

    `terms` computes the per-chunk terms of groups of stretches (a worker pool's, parallel.py); by default
    this process does. Either way the terms are summed here in one order, so both give the same number."""
    groups = stretch_groups(stretches(ids) if spans is None else spans, batch)
    return mean_of((terms or partial(stretch_terms, model))(ids, groups, seq_len or STRETCH))


def stretch_loss(model: CharRNN, ids: np.ndarray, spans: list[slice], *, batch: int, k: int) -> tuple[float, int]:
    """(mean loss in nats, predictions) over the stretches `spans` of `ids`, `batch` of them side by side in chunks of k."""
    return mean_of(stretch_terms(model, ids, stretch_groups(spans, batch), k))


def stretch_groups(spans: list[slice], batch: int) -> list[list[slice]]:
    """The stretches, `batch` at a time: the rows of one forward pass."""
    batch = max(batch, 1)
    return [spans[start:start + batch] for start in range(0, len(spans), batch)]


def stretch_terms(model: CharRNN, ids: np.ndarray, groups: list[list[slice]], k: int) -> list[tuple[float, int]]:
    """(mean loss, predictions) of every chunk of every group, in order: the terms `mean_of` sums."""
    out = []
    for group in groups:
        length = max(span.stop - span.start for span in group)
        inputs = np.zeros((len(group), length), ids.dtype)
        targets = np.zeros_like(inputs)
        mask = np.zeros(inputs.shape, np.float32)
        for row, span in enumerate(group):
            n = span.stop - span.start
            inputs[row, :n] = ids[span]
            targets[row, :n] = ids[span.start + 1: span.stop + 1]
            mask[row, :n] = 1.0
        ragged = None if mask.all() else mask  # a shorter last stretch: score only its own predictions
        out.extend((result.loss, result.count) for _, result in walk(model, inputs, targets, ragged, k=k))
    return out


def mean_of(terms: list[tuple[float, int]]) -> tuple[float, int]:
    """(mean loss, predictions) from per-chunk terms, summed in their order."""
    total, count = 0.0, 0
    for loss, n in terms:
        total += loss * n
        count += n
    return (total / count if count else float("nan")), count
