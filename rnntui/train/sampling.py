"""Drawing text from a model, one character at a time, primed with a prompt."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from rnntui.data.vocab import Vocabulary
from rnntui.engine.model import CharRNN

# Below this a temperature is greedy: dividing logits by it would overflow to inf and then NaN.
GREEDY_BELOW = 1e-6


def next_distribution(logits: np.ndarray, temperature: float, top_k: int = 0) -> np.ndarray:
    """Probabilities to draw from: softmax(logits / T) over the top k (all if k is 0); T near 0 is argmax."""
    logits = logits.astype(np.float64)
    if temperature < GREEDY_BELOW:
        p = np.zeros_like(logits)
        p[np.argmax(logits)] = 1.0
        return p
    z = logits / temperature
    if 0 < top_k < len(z):
        cutoff = np.partition(z, -top_k)[-top_k]
        z = np.where(z >= cutoff, z, -np.inf)
    z -= z.max()
    p = np.exp(z)
    return p / p.sum()


def generate(
    model: CharRNN,
    vocab: Vocabulary,
    prompt_ids: np.ndarray,
    length: int,
    temperature: float = 1.0,
    top_k: int = 0,
    rng: np.random.Generator | None = None,
) -> Iterator[tuple[str, float]]:
    """Yield (character, probability the model gave it) for `length` new characters after the prompt.

    An empty prompt starts from a character drawn uniformly from the vocabulary.
    """
    rng = rng or np.random.default_rng()
    ids = np.asarray(prompt_ids, dtype=np.int64)
    if ids.size == 0:
        ids = np.array([rng.integers(vocab.size)])
    with model.weights_held():  # a pass a character: its loop's copy of the weights is made once
        primed = model.forward(ids[None, :], logits=True)
        logits, state = primed.logits[0, -1], primed.state
        for _ in range(length):
            p = next_distribution(logits, temperature, top_k)
            token = int(rng.choice(len(p), p=p)) if temperature >= GREEDY_BELOW else int(np.argmax(p))
            yield vocab.chars[token], float(softmax(logits)[token])
            step = model.forward(np.array([[token]]), state=state, logits=True)
            logits, state = step.logits[0, -1], step.state


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits.astype(np.float64) - logits.max()
    p = np.exp(z)
    return p / p.sum()
