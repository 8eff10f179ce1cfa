"""What a model predicts at each position of a text, and which earlier characters the prediction leaned on.

The text is read as one sequence from a zero state, in the model's dtype. At
position n (1 <= n < len(text)) the model has read text[:n] and gives a
distribution over text[n]; the saliency of an earlier position t < n is the L2
norm of d log p(x_n | x_<n) / d x_t, x_t being the embedding vector of text[t]
(the first recurrent layer's input), through full backpropagation through time.

`explain` computes every position in one forward and one backward pass, the
seeds carried as a batch (`engine.saliency.input_gradient_norms`);
`explain_plain` does one ordinary backward pass per position and is the
reference it is tested against. `memory_span` averages saliency against the
distance n - t over many windows of a text: how far back the model looks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

from rnntui.data.vocab import Vocabulary
from rnntui.engine.model import CharRNN
from rnntui.engine.saliency import input_gradient_norms, input_gradient_norms_plain
from rnntui.train.sampling import softmax

# The work grows with the square of the text's length: longer texts are explained one position at a time.
MAX_ALL_POSITIONS = 2000
# memory_span runs this many bytes of activations at a time, whatever the number of windows.
WINDOW_GROUP_BYTES = 64 << 20
# The backward is thousands of small products ([alive seeds, G*H] @ [G*H, H]), where OpenBLAS's
# second thread costs far more than it gives: on two busy cores, 300 characters through a 2-layer
# LSTM took 6-10 s with one thread and 57-76 s with two (1.5 s of CPU against 16-19 s).
BLAS_THREADS = 1
# What a window costs per hidden unit and step, at most (the LSTM): the cell's own buffers, the
# trace's copies, the backward's factors and the temporaries that make them.
NUMBERS_PER_UNIT_STEP = 32


@dataclass(frozen=True)
class Prediction:
    """The model's prediction of text[position] after reading text[:position]."""

    position: int
    target: str  # the character that actually follows
    prob: float  # the probability the model gave it
    top: tuple[tuple[str, float], ...]  # the likeliest characters, likeliest first
    saliency: np.ndarray  # [position]: how much each earlier character moved log prob

    def relative_saliency(self) -> np.ndarray:
        """Saliency as a share of its largest value, in [0, 1]: what a tint shows."""
        peak = float(self.saliency.max()) if self.saliency.size else 0.0
        return self.saliency / peak if peak > 0 else np.zeros_like(self.saliency)

    def to_json(self) -> dict:
        return {
            "position": self.position, "target": self.target, "prob": self.prob,
            "top": [[c, p] for c, p in self.top], "saliency": self.saliency.tolist(),
        }


@dataclass(frozen=True)
class Explanation:
    text: str
    predictions: tuple[Prediction, ...]  # in increasing position

    def at(self, position: int) -> Prediction:
        for prediction in self.predictions:
            if prediction.position == position:
                return prediction
        raise KeyError(f"position {position} was not explained")

    def to_json(self) -> dict:
        return {"text": self.text, "positions": [p.to_json() for p in self.predictions]}


def explain(
    model: CharRNN, vocab: Vocabulary, text: str, positions: list[int] | None = None, top: int = 5
) -> Explanation:
    """Every position of `text` (or only `positions`), in one forward and one batched backward pass.

    An unknown character raises UnknownCharacterError naming it.
    """
    ids, positions = _prepare(vocab, text, positions)
    run = model.forward(ids[None, : positions[-1]], logits=True, trace=True)
    probs = _probabilities(run.logits[0], positions)
    seeds = _seeds(probs, ids[positions], model.dtype)
    with threadpool_limits(BLAS_THREADS, user_api="blas"):
        norms = input_gradient_norms(model, run.trace, np.zeros(len(positions), int), positions - 1, seeds)
    return _explanation(vocab, text, ids, positions, probs, [row[:n] for row, n in zip(norms, positions)], top)


def explain_plain(
    model: CharRNN, vocab: Vocabulary, text: str, positions: list[int] | None = None, top: int = 5
) -> Explanation:
    """The same numbers as `explain`, one ordinary forward and backward pass per position."""
    ids, positions = _prepare(vocab, text, positions)
    run = model.forward(ids[None, : positions[-1]], logits=True)
    probs = _probabilities(run.logits[0], positions)
    seeds = _seeds(probs, ids[positions], model.dtype)
    rows = [input_gradient_norms_plain(model, ids, n - 1, seed) for n, seed in zip(positions, seeds)]
    return _explanation(vocab, text, ids, positions, probs, rows, top)


def _prepare(vocab: Vocabulary, text: str, positions: list[int] | None) -> tuple[np.ndarray, np.ndarray]:
    ids = vocab.encode(text)
    if positions is None:
        positions = range(1, len(ids))
    positions = np.unique(np.asarray(list(positions), dtype=np.int64))
    if positions.size == 0 or positions[0] < 1 or positions[-1] >= len(ids):
        raise ValueError(f"positions must lie in 1..{len(ids) - 1}, and there must be some")
    return ids, positions


def _probabilities(logits: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """[P, V]: the distribution over text[n] for each position n (the logits of step n-1), in float64."""
    return np.array([softmax(logits[n - 1]) for n in positions])


def _seeds(probs: np.ndarray, targets: np.ndarray, dtype) -> np.ndarray:
    """d log p(target) / d logits = onehot(target) - p, one row a position."""
    seeds = -probs
    seeds[np.arange(len(targets)), targets] += 1.0
    return seeds.astype(dtype)


def _explanation(vocab, text, ids, positions, probs, saliency_rows, top) -> Explanation:
    chars = vocab.chars
    predictions = []
    for n, p, saliency in zip(positions.tolist(), probs, saliency_rows):
        likeliest = np.argsort(-p, kind="stable")[:top]
        predictions.append(Prediction(
            position=n, target=text[n], prob=float(p[ids[n]]),
            top=tuple((chars[i], float(p[i])) for i in likeliest), saliency=saliency,
        ))
    return Explanation(text, tuple(predictions))


@dataclass(frozen=True)
class MemorySpan:
    """Mean saliency against the distance n - t back from the predicted character."""

    distances: np.ndarray  # [L]: 1, 2, ..., L
    saliency: np.ndarray  # [L]: mean over the windows
    windows: int

    def within(self, share: float) -> int:
        """The shortest distance d such that distances 1..d hold `share` of the summed mean saliency."""
        cumulative = np.cumsum(self.saliency)
        if cumulative[-1] <= 0:
            return int(self.distances[-1])
        return int(self.distances[np.searchsorted(cumulative, share * cumulative[-1])])


def memory_span(model: CharRNN, ids: np.ndarray, windows: int = 200, length: int = 200, seed: int = 0) -> MemorySpan:
    """Saliency of the last prediction of `windows` random windows of `length` + 1 characters, by distance.

    Each window is read from a zero state; its last character is the one
    predicted, so every distance 1..length is measured once a window.
    Raises ValueError when the text is shorter than a window.
    """
    ids = np.asarray(ids)
    if len(ids) < length + 1:
        raise ValueError(f"the text has {len(ids)} characters; windows of {length} need {length + 1}")
    starts = np.random.default_rng(seed).integers(0, len(ids) - length, windows)
    per_window = length * model.shape.hidden_size * len(model.cells) * NUMBERS_PER_UNIT_STEP * model.dtype.itemsize
    group = max(1, WINDOW_GROUP_BYTES // per_window)
    total = np.zeros(length)
    for first in range(0, windows, group):
        block = np.stack([ids[s:s + length + 1] for s in starts[first:first + group]])
        run = model.forward(block[:, :-1], logits=True, trace=True)
        probs = np.array([softmax(row) for row in run.logits[:, -1]])
        seeds = _seeds(probs, block[:, -1], model.dtype)
        rows = np.arange(len(block))
        with threadpool_limits(BLAS_THREADS, user_api="blas"):
            norms = input_gradient_norms(model, run.trace, rows, np.full(len(block), length - 1), seeds)
        total += norms.sum(axis=0)[::-1]  # step t of the window is distance length - t
    return MemorySpan(np.arange(1, length + 1), total / windows, windows)
