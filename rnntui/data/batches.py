"""Cutting a text into training batches: a contiguous split, then B parallel streams in chunks.

Each stream is a contiguous stretch of the training text; chunk j of every
stream forms one batch [B, k]. Walking the chunks in order while carrying the
hidden state from one to the next is truncated BPTT: the model sees one long
text per stream, but the gradient stops at each chunk's start.
"""

from __future__ import annotations

import math

import numpy as np

from rnntui.errors import CorpusError


def split(ids: np.ndarray, val_frac: float) -> tuple[np.ndarray, np.ndarray]:
    """The first (1 - val_frac) of the text trains; the rest validates."""
    cut = len(ids) - int(len(ids) * val_frac)
    return ids[:cut], ids[cut:]


def fit_batch(n_chars: int, batch: int, seq_len: int) -> int:
    """The largest batch <= `batch` whose streams each hold one chunk; refuse a text too short for one.

    A text of n characters holds n - 1 predictions.
    """
    predictions = n_chars - 1
    if predictions < max(seq_len, 1):
        raise CorpusError(
            f"the training text has {n_chars} characters, fewer than one chunk of "
            f"--seq-len {seq_len} needs ({seq_len + 1}); use a longer text, a smaller --seq-len or a smaller --val-frac"
        )
    if seq_len == 0:
        return min(batch, predictions)
    return min(batch, predictions // seq_len)


class Streams:
    """B streams over `ids`, walked in chunks of `seq_len` steps (0 = the whole stream at once)."""

    def __init__(self, ids: np.ndarray, batch: int, seq_len: int):
        length = (len(ids) - 1) // batch
        if length < 1:
            raise CorpusError(f"a text of {len(ids)} characters cannot fill {batch} streams")
        self.batch = batch
        self.seq_len = seq_len or length
        self.inputs = ids[: batch * length].reshape(batch, length)
        self.targets = ids[1: batch * length + 1].reshape(batch, length)
        self.chunks = math.ceil(length / self.seq_len)

    @property
    def chars_per_epoch(self) -> int:
        return self.inputs.size

    def chunk(self, j: int) -> tuple[np.ndarray, np.ndarray]:
        """Inputs and targets of chunk j, each [B, k] (the last chunk may be shorter)."""
        span = slice(j * self.seq_len, (j + 1) * self.seq_len)
        return self.inputs[:, span], self.targets[:, span]
