"""Generated tasks with a known memory span, for the memory lab.

Each task draws seeded batches of token ids over a small vocabulary, and a
mask that marks the only positions that are scored: the ones that need memory.
Everything else in a sequence is context the model reads but is not graded on.

Accuracy on a task is asked as a multiple-choice question: at a scored
position, does the model rank the right symbol first among the task's possible
answers (`answers`)? For recall and Reber this is the plain argmax once the
model has learnt what kind of symbol comes there; for brackets it is what makes
"which closer is due?" a fair question (see BracketsTask). `chance` is the
accuracy of the best guess that remembers nothing, computed exactly from the
generator's distribution.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnntui.data.vocab import Vocabulary
from rnntui.errors import RnntuiError

TASKS = ("recall", "reber", "brackets")


@dataclass(frozen=True)
class TaskBatch:
    """B sequences of the same length T: the model reads `inputs` and is scored on `targets` where `mask` is 1."""

    inputs: np.ndarray  # [B, T] int64 token ids
    targets: np.ndarray  # [B, T] int64, inputs shifted by one
    mask: np.ndarray  # [B, T] float32, 1 at scored positions

    @property
    def scored(self) -> int:
        return int(self.mask.sum())


def _batch_from_rows(rows: list[list[int]], pad: int) -> tuple[np.ndarray, np.ndarray]:
    """Right-pad token rows to one length; padding follows the real text, so it never changes what came before."""
    width = max(len(r) for r in rows)
    ids = np.full((len(rows), width), pad, dtype=np.int64)
    for b, row in enumerate(rows):
        ids[b, : len(row)] = row
    return ids[:, :-1], ids[:, 1:]


class Task:
    """A generator of scored batches. Subclasses set the vocabulary, answers, chance and `rows`."""

    name = ""
    vocab: Vocabulary
    answers: np.ndarray  # token ids a scored position may hold
    chance: float
    span: int  # the distance the task's memory must bridge (see each task)

    def batch(self, rng: np.random.Generator, size: int) -> TaskBatch:
        raise NotImplementedError

    def accuracy(self, logits: np.ndarray, batch: TaskBatch) -> float:
        """Share of scored positions where the right answer has the highest logit among the answers."""
        return correct_count(logits, batch, self.answers) / max(batch.scored, 1)

    def describe(self) -> str:
        raise NotImplementedError

    def show(self, batch: TaskBatch, row: int = 0) -> str:
        """One sequence as text, with the scored targets in [brackets]: for a UI or a test."""
        text = self.vocab.decode(batch.inputs[row, :1]) if batch.inputs.shape[1] else ""
        for t in range(batch.targets.shape[1]):
            char = self.vocab.decode(batch.targets[row, t : t + 1])
            text += f"[{char}]" if batch.mask[row, t] else char
        return text


def correct_count(logits: np.ndarray, batch: TaskBatch, answers: np.ndarray) -> int:
    """Scored positions where argmax over the answer ids is the target. logits: [B, T, V]."""
    b, t = np.nonzero(batch.mask)
    choice = answers[np.argmax(logits[b, t][:, answers], axis=1)]
    return int(np.sum(choice == batch.targets[b, t]))


FILLERS = ("noise", "constant")


class RecallTask(Task):
    """A random symbol, `span` filler characters, then the same symbol again; only that last symbol is scored.

    The symbol is read at t = 0 and predicted at t = span, so the model must
    carry it exactly `span` steps. All sequences have the same length, and the
    filler tells nothing about the symbol: a model that remembers nothing can
    only guess, right 1 time in `symbols`.

    The filler is either `noise`, random distractors from an alphabet of their
    own (digits, never a recall symbol), or `constant`, one '.' repeated. The
    difference matters: under constant input a vanilla RNN is an autonomous
    dynamical system that can park the symbol in one of its fixed points and
    stay there, which it finds without any gradient from the far end. Noise
    keeps kicking the state, so only a cell built to hold it keeps it.
    """

    name = "recall"
    CONSTANT = "."
    NOISE = "0123"  # four distractors, drawn uniformly and independently of the symbol

    def __init__(self, span: int = 40, symbols: int = 8, filler: str = "noise"):
        if span < 1:
            raise RnntuiError(f"--span must be at least 1 for recall, got {span}")
        if not 2 <= symbols <= 26:
            raise RnntuiError(f"recall needs 2 to 26 symbols, got {symbols}")
        if filler not in FILLERS:
            raise RnntuiError(f"--filler is noise or constant, got {filler!r}")
        self.span, self.filler = span, filler
        self.symbols = "abcdefghijklmnopqrstuvwxyz"[:symbols]
        fillers = self.NOISE if filler == "noise" else self.CONSTANT
        self.vocab = Vocabulary(fillers + self.symbols)  # fillers sort first
        self.fillers = np.array([self.vocab.index(c) for c in fillers])
        self.answers = np.array([self.vocab.index(c) for c in self.symbols])
        self.chance = 1.0 / symbols

    def batch(self, rng, size):
        # The symbol is drawn first, the filler after: the same seed gives the same symbols for either filler.
        picks = self.answers[rng.integers(0, len(self.answers), size)]
        ids = self.fillers[rng.integers(0, len(self.fillers), (size, self.span + 2))]
        ids[:, 0] = picks
        ids[:, -1] = picks
        mask = np.zeros((size, self.span + 1), np.float32)
        mask[:, -1] = 1.0
        return TaskBatch(ids[:, :-1], ids[:, 1:], mask)

    def describe(self):
        return (
            f"recall a symbol after {self.span} {self.filler} fillers "
            f"({len(self.symbols)} symbols, chance {self.chance:.3f})"
        )


# The Reber grammar as an automaton: node -> [(symbol, next node), ...], each edge taken with equal probability.
REBER = {
    0: [("T", 1), ("P", 2)],
    1: [("S", 1), ("X", 3)],
    2: [("T", 2), ("V", 4)],
    3: [("X", 2), ("S", 5)],
    4: [("P", 3), ("V", 5)],
}  # node 5 is the end


class EmbeddedReberTask(Task):
    """Hochreiter & Schmidhuber's embedded Reber grammar: B (T|P) <Reber string> (same T|P) E.

    Only the penultimate symbol is scored: it repeats the second, across the
    whole inner string. The inner string never depends on that choice, so a
    model that forgot it is right half the time: chance is exactly 1/2.
    `span` here is a minimum for the distance between the two T|P symbols
    (0 keeps the grammar's own lengths, 6 at the shortest); longer strings are
    drawn by rejection, which is why it is capped.
    """

    name = "reber"
    PAD = "_"
    MAX_SPAN = 20  # 1.6% of strings reach 20: rejection costs ~60 draws per string there

    def __init__(self, span: int = 0):
        if not 0 <= span <= self.MAX_SPAN:
            raise RnntuiError(f"--span for reber is a minimum distance from 0 to {self.MAX_SPAN}, got {span}")
        self.span = span
        self.vocab = Vocabulary("BEPSTVX" + self.PAD)
        self.answers = np.array([self.vocab.index("P"), self.vocab.index("T")])
        self.chance = 0.5

    def inner(self, rng) -> str:
        """One Reber string, B to E."""
        node, out = 0, ["B"]
        coins = iter(rng.integers(0, 2, 256).tolist())  # one draw per string, not per symbol; 256 coins run out with p < 1e-30
        while node != 5:
            symbol, node = REBER[node][next(coins)]
            out.append(symbol)
        return "".join(out) + "E"

    def string(self, rng) -> str:
        while True:
            inner = self.inner(rng)
            if len(inner) + 1 >= self.span:  # distance from the first T|P to the second
                break
        branch = "TP"[rng.integers(2)]
        return "B" + branch + inner + branch + "E"

    def batch(self, rng, size):
        rows = [list(self.vocab.encode(self.string(rng))) for _ in range(size)]
        inputs, targets = _batch_from_rows(rows, self.vocab.index(self.PAD))
        mask = np.zeros(inputs.shape, np.float32)
        for b, row in enumerate(rows):
            mask[b, len(row) - 3] = 1.0  # the target there is the penultimate symbol
        return TaskBatch(inputs, targets, mask)

    def describe(self):
        least = f", T|P at least {self.span} apart" if self.span else ""
        return f"embedded Reber grammar{least} (chance {self.chance:.3f})"


class BracketsTask(Task):
    """Balanced brackets of bounded depth with filler text; scored where a closer or the end is due.

    A string is `pairs` bracket pairs of random kinds, nested at most `depth`
    deep, with exactly `span` random filler letters after every bracket, then
    the end mark '.'. All strings have the same length. The scored positions
    are those whose target is a closing bracket or the end: there the question
    is "which of ) ] } or the end comes next?", answered right only by a model
    that remembers the innermost open bracket (across the filler and the
    pairs nested inside it) and whether any is open at all.

    Chance is the best constant guess: per string there are `pairs` closers,
    `pairs / kinds` of each kind on average, and one end, so guessing the most
    common of them is right max(pairs / kinds, 1) / (pairs + 1) of the time.
    """

    name = "brackets"
    KINDS = ("()", "[]", "{}")
    FILLER = "abcd"
    END = "."

    def __init__(self, span: int = 4, pairs: int = 4, depth: int = 3):
        if span < 0:
            raise RnntuiError(f"--span for brackets is the filler after each bracket, at least 0, got {span}")
        if pairs < 1 or depth < 1:
            raise RnntuiError("brackets need at least one pair and a depth of at least 1")
        self.span, self.pairs, self.depth = span, pairs, depth
        self.vocab = Vocabulary(sorted("".join(self.KINDS) + self.FILLER + self.END))
        self.answers = np.array([self.vocab.index(c) for c in [k[1] for k in self.KINDS] + [self.END]])
        kinds = len(self.KINDS)
        self.chance = max(pairs / kinds, 1.0) / (pairs + 1)

    def brackets(self, rng) -> str:
        """A random balanced string of `pairs` pairs, depth at most `depth`: open or close, evenly when both may."""
        out, stack, opened = [], [], 0
        while opened < self.pairs or stack:
            can_open = opened < self.pairs and len(stack) < self.depth
            if can_open and (not stack or rng.integers(2) == 0):
                kind = self.KINDS[rng.integers(len(self.KINDS))]
                stack.append(kind[1])
                out.append(kind[0])
                opened += 1
            else:
                out.append(stack.pop())
        return "".join(out)

    def batch(self, rng, size):
        closers = set(self.answers.tolist())
        n = 2 * self.pairs * (self.span + 1) + 1
        ids = np.empty((size, n), np.int64)
        filler = np.array([self.vocab.index(c) for c in self.FILLER])
        for b in range(size):
            row = ids[b]
            row[:] = filler[rng.integers(0, len(filler), n)]
            row[:: self.span + 1][: 2 * self.pairs] = self.vocab.encode(self.brackets(rng))
            row[-1] = self.vocab.index(self.END)
        targets = ids[:, 1:]
        mask = np.isin(targets, list(closers)).astype(np.float32)
        return TaskBatch(ids[:, :-1], targets, mask)

    def describe(self):
        return (
            f"{self.pairs} bracket pairs, depth <= {self.depth}, {self.span} filler letters after each "
            f"(chance {self.chance:.3f})"
        )


def make_task(name: str, span: int | None = None, filler: str = "noise") -> Task:
    """A task by name; `span` None takes the task's default. `filler` is recall's (the other tasks have their own)."""
    kinds = {"recall": RecallTask, "reber": EmbeddedReberTask, "brackets": BracketsTask}
    if name not in kinds:
        raise RnntuiError(f"unknown task {name!r}: choose one of {', '.join(TASKS)}")
    if filler not in FILLERS:
        raise RnntuiError(f"--filler is noise or constant, got {filler!r}")
    options = {} if span is None else {"span": span}
    if name == "recall":
        options["filler"] = filler
    return kinds[name](**options)
