"""Every quantity a gates view can show, per cell type: the one list of gates.

The help screen's equations, the Gates pane's and the figures' one-line
meanings and the colour ranges (gate_stats.py) all read it. The gates come in the engine's order
(rnntui.engine.shape.GATE_NAMES, PyTorch's), the states after them; the
equations are those of spec/model.md. σ is the logistic sigmoid.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Quantity:
    name: str
    squash: str  # "sigmoid" (0 to 1), "tanh" (-1 to 1), or "" (unbounded)
    equation: str
    gist: str  # a few words, for the pane's status line
    meaning: str  # a sentence, for the help


QUANTITIES: dict[str, tuple[Quantity, ...]] = {
    "lstm": (
        Quantity("i", "sigmoid", "i = σ(W_ii x + b_ii + W_hi h + b_hi)",
                 "input gate: how much of the candidate is written to the cell",
                 "input gate: how much of the candidate g is written into the cell (0 none, 1 all)"),
        Quantity("f", "sigmoid", "f = σ(W_if x + b_if + W_hf h + b_hf)",
                 "forget gate: how much of the cell state is kept",
                 "forget gate: how much of the old cell state is kept (1 keeps, 0 erases)"),
        Quantity("g", "tanh", "g = tanh(W_ig x + b_ig + W_hg h + b_hg)",
                 "candidate: the new content offered to the cell",
                 "candidate: the new content offered to the cell, from -1 to 1"),
        Quantity("o", "sigmoid", "o = σ(W_io x + b_io + W_ho h + b_ho)",
                 "output gate: how much of the cell is shown as h",
                 "output gate: how much of the cell is let out as h"),
        Quantity("c", "", "c' = f * c + i * g",
                 "cell state: the long-term memory",
                 "cell state: the long memory; not squashed, so it can grow past ±1"),
        # h = o * tanh(c): a gate times a tanh, so it lives in -1..1 too.
        Quantity("h", "tanh", "h' = o * tanh(c')",
                 "hidden state: what the layer passes on",
                 "hidden state: what the layer says to the next layer and the head"),
    ),
    "gru": (
        Quantity("r", "sigmoid", "r = σ(W_ir x + b_ir + W_hr h + b_hr)",
                 "reset gate: how much of the old state feeds the candidate",
                 "reset gate: how much of the old h the candidate may look at"),
        Quantity("z", "sigmoid", "z = σ(W_iz x + b_iz + W_hz h + b_hz)",
                 "update gate: how much of the old state is kept",
                 "update gate: how much of the old h is kept (1 keeps it, 0 takes n)"),
        Quantity("n", "tanh", "n = tanh(W_in x + b_in + r * (W_hn h + b_hn))",
                 "candidate: the new state on offer",
                 "candidate: the new state on offer, from -1 to 1"),
        Quantity("h", "tanh", "h' = (1 - z) * n + z * h",
                 "hidden state: what the layer passes on",
                 "hidden state: a blend of the old state and the candidate"),
    ),
    "rnn": (
        Quantity("h", "tanh", "h' = tanh(W_ih x + b_ih + W_hh h + b_hh)",
                 "hidden state: what the layer passes on",
                 "hidden state: the whole memory, rewritten at every character"),
    ),
}


def names_squashed_by(squash: str) -> frozenset[str]:
    return frozenset(q.name for cell in QUANTITIES.values() for q in cell if q.squash == squash)


def gist(name: str) -> str:
    """The few words for a quantity's name (the same for every cell that has it)."""
    return next((q.gist for cell in QUANTITIES.values() for q in cell if q.name == name), "")
