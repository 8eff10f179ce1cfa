"""A model's loss over a whole text read as one sequence from a zero state, and its exact gradient;
and over the whole validation split of the run that trained it.

Long texts are read in chunks with the state carried (engine/walk.py), which
gives the same numbers as one pass; the gradient is full BPTT over the whole
text in memory that grows with the chunk, not the text.
"""

from __future__ import annotations

import numpy as np

from rnntui.data.batches import fit_batch, split
from rnntui.data.vocab import Vocabulary
from rnntui.engine.model import CharRNN
from rnntui.engine.walk import full_gradient, mean_loss
from rnntui.train.config import TrainConfig
from rnntui.train.parallel import ShardPool
from rnntui.train.validation import split_loss

CHUNK = 1024


def text_loss(model: CharRNN, ids: np.ndarray, chunk: int = CHUNK, progress=None) -> tuple[float, int]:
    """(mean loss in nats, number of predictions) over `ids` as one sequence; `progress` hears the predictions read."""
    return mean_loss(model, ids[:-1][None, :], ids[1:][None, :], k=chunk, progress=progress)


def text_gradient(model: CharRNN, ids: np.ndarray, chunk: int = CHUNK) -> dict[str, np.ndarray]:
    """dLoss/dparameter for the mean loss of `text_loss`, every tensor by name (copies)."""
    full_gradient(model, ids[:-1][None, :], ids[1:][None, :], k=chunk)
    return {name: g.copy() for name, g in model.grads.items()}


def validation_loss(model: CharRNN, vocab: Vocabulary, text: str, config: TrainConfig,
                    workers: int = 1) -> tuple[float, int]:
    """(mean loss, predictions) over the whole validation split of `text` as the run `config` cut it,
    read as its trainer read it at the run's end, so the two agree to the last digit: by as many
    worker processes as the run had (a worker's one BLAS thread rounds as the run's workers did)."""
    train_ids, val_ids = split(vocab.encode(text), config.val_frac)
    batch = fit_batch(len(train_ids), config.batch, config.seq_len)
    if workers < 2 or workers > batch:
        return split_loss(model, val_ids, batch=batch, seq_len=config.seq_len)
    pool = ShardPool(model.shape, model.dtype, batch, config.seq_len or 1, workers)
    try:
        return split_loss(pool.adopt(model), val_ids, batch=batch, seq_len=config.seq_len, terms=pool.terms)
    finally:
        pool.close()
