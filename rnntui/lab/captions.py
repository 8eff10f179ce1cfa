"""What a race and its gradient reach showed, in sentences computed from the numbers, never the textbook's.

The textbook says the vanilla RNN cannot carry a symbol far, that truncating
the gradient at k < L stops every cell, and that a flat gradient reach is what
memory looks like. A given race may disagree (a GRU reaching 97% with k=10 and
L=40; an LSTM scoring 100% while its reach through h is tiny, its memory
being in c), so a caption about a result reads the result. Before there is
one, `expectation` says what the settings set up, and says that it is an
expectation.

`verdict` is the part a lesson can share: who remembers, who is at chance,
who got there first, as facts; the sentences here are the lab's (English).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

REMEMBERS = 0.9  # accuracy at which a cell is said to remember the symbol
NAMES = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}

Curve = Sequence[tuple[int, float]]  # (step, accuracy on the scored positions)


def first_at(curve: Curve, level: float = REMEMBERS) -> int | None:
    """The first evaluated step at which the accuracy reached `level`, or None."""
    return next((step for step, accuracy in curve if accuracy >= level), None)


def near_chance(accuracy: float, chance: float) -> bool:
    """Within a tenth of the way from chance to 100%: a guess, not a memory."""
    return accuracy <= chance + 0.1 * (1.0 - chance)


@dataclass(frozen=True)
class Verdict:
    step: int
    accuracy: dict[str, float]  # latest, per cell
    remembers: list[str]  # at REMEMBERS or above, in race order
    at_chance: list[str]
    learning: list[str]  # the rest: above chance, below REMEMBERS
    first: dict[str, int]  # step each remembering cell first reached REMEMBERS


def verdict(curves: Mapping[str, Curve], chance: float) -> Verdict | None:
    """The facts of the race so far; None before any cell was evaluated after step 0."""
    scored = {cell: curve for cell, curve in curves.items() if curve}
    step = max((curve[-1][0] for curve in scored.values()), default=0)
    if step == 0:
        return None
    accuracy = {cell: curve[-1][1] for cell, curve in scored.items()}
    remembers = [c for c, a in accuracy.items() if a >= REMEMBERS]
    at_chance = [c for c, a in accuracy.items() if c not in remembers and near_chance(a, chance)]
    learning = [c for c in accuracy if c not in remembers and c not in at_chance]
    first = {c: first_at(scored[c]) for c in remembers}
    return Verdict(step, accuracy, remembers, at_chance, learning, first)


def _names(cells: Sequence[str], accuracy: Mapping[str, float]) -> str:
    return ", ".join(f"{NAMES.get(c, c)} {accuracy[c]:.0%}" for c in cells)


def expectation(task: str, span: int, bptt: int, filler: str, chance: float) -> str:
    """What the settings set up, before a race has results; said as an expectation."""
    if bptt and bptt < max(span, 1):
        return (f"expected: the gradient is cut every k={bptt} steps, so nothing pushes a cell to carry the symbol "
                f"{span} steps; even the LSTM struggles unless its state keeps the symbol anyway (the race will tell)")
    if task == "recall" and filler == "constant":
        return (f"expected: with a constant filler the RNN can park the symbol in a fixed point of its dynamics and "
                f"beat chance ({chance:.0%}) without long-range gradient; f switches to noise")
    return (f"expected: LSTM and GRU climb towards 100%; the vanilla RNN lags behind, near chance "
            f"({chance:.0%}, dashed) on most seeds")


def race_caption(curves: Mapping[str, Curve], chance: float, span: int, bptt: int, filler: str,
                 finished: bool = False) -> str:
    """One or two sentences true of the curves on screen."""
    v = verdict(curves, chance)
    if v is None:
        return ""
    parts = []
    if v.remembers:
        order = sorted(v.remembers, key=lambda c: v.first[c])  # who got there first, first
        since = ", ".join(str(v.first[c]) for c in order)
        parts.append(f"step {v.step}: {_names(order, v.accuracy)} remember{'s' if len(order) == 1 else ''} "
                     f"(≥{REMEMBERS:.0%} since step {since})")
    else:
        when = f"after {v.step} steps" if finished else f"step {v.step}"
        parts.append(f"{when}: no cell remembers yet (≥{REMEMBERS:.0%})")
    if v.learning:
        parts.append(f"{_names(v.learning, v.accuracy)} above chance")
    if v.at_chance:
        parts.append(f"{_names(v.at_chance, v.accuracy)} near chance ({chance:.0%})")
    sentence = "; ".join(parts) + "."
    cut = bool(bptt) and bptt < max(span, 1)
    if cut and v.remembers:
        sentence += f" The gradient is cut every k={bptt} steps, yet a state carried the symbol {span} steps."
    elif cut and finished:
        sentence += f" With the gradient cut every k={bptt} steps, nothing taught a cell to carry it {span} steps."
    if filler == "constant" and "rnn" in v.accuracy and "rnn" not in v.at_chance:
        sentence += " The RNN beats chance: a constant filler lets a fixed point of its dynamics hold the symbol."
    return sentence


def reach_word(ratio: float) -> str:
    """How a gradient fares `distance` steps back, by the share of it left."""
    if ratio > 10:
        return "grows"
    if ratio >= 0.1:
        return "holds"
    if ratio >= 1e-3:
        return "fades"
    return "vanishes"


def reach_caption(ratios: Mapping[str, float], distance: int, accuracy: Mapping[str, float] | None = None) -> str:
    """The measured reach of each cell `distance` steps back (top layer), and where a score says more than h does."""
    if not ratios:
        return ""
    told = ", ".join(f"{NAMES.get(c, c)} {r:.0e} ({reach_word(r)})" for c, r in ratios.items())
    sentence = f"gradient through h left {distance} steps back: {told}."
    accuracy = accuracy or {}
    hidden_memory = [c for c, r in ratios.items() if c == "lstm" and r < 0.1 and accuracy.get(c, 0.0) >= REMEMBERS]
    if hidden_memory:
        sentence += f" The LSTM scores {accuracy['lstm']:.0%} anyway: its memory is in c, which this curve does not follow."
    return sentence
