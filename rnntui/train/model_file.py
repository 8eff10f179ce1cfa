"""A model and its vocabulary from a checkpoint (checked as usable), computing in the file's dtype."""

from __future__ import annotations

from pathlib import Path

from rnntui.data.vocab import Vocabulary
from rnntui.engine.model import CharRNN
from rnntui.train.checkpoint_schema import load_usable


def load_model(path: str | Path) -> tuple[CharRNN, Vocabulary]:
    ckpt = load_usable(path)
    model = CharRNN(ckpt.shape, dtype=ckpt.dtype)
    model.load_params(ckpt.params)
    return model, Vocabulary(ckpt.vocab)
