"""One unit of an LSTM or a GRU at one timestep, taken apart: each gate's sum, its parts, its value.

    i = σ(W_ii x + b_ii + W_hi h + b_hi)      (and f, g, o: the model contract's gate order)
    n = tanh(W_in x + b_in + r * (W_hn h + b_hn))

The values (the gates after their nonlinearity, c and h) are the engine's own,
read from its forward trace: the numbers the Gates pane shows. The parts are
computed here from the tensors, the input x_t (the embedding row of the
character) and the previous state h_(t-1), so a reader can check that the
parts add up to the sum whose nonlinearity the engine computed.

Only the first layer: its input is a character's embedding, which a reader can
name; that is the layer the lessons show.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnntui.engine.model import CharRNN
from rnntui.engine.shape import GATE_NAMES

SIGMOID, TANH = "σ", "tanh"
# The nonlinearity of each gate; the candidates (g, n) are tanh, every gate proper a sigmoid.
NONLINEARITY = {"i": SIGMOID, "f": SIGMOID, "g": TANH, "o": SIGMOID, "r": SIGMOID, "z": SIGMOID, "n": TANH}


@dataclass(frozen=True)
class GateLine:
    """gate = nonlinearity(input_part + input_bias + recurrent_part + recurrent_bias) = value.

    For the GRU's n the recurrent side is r * (W_hn h + b_hn): `reset` is that
    r, and the sum is input_part + input_bias + r * (recurrent_part + recurrent_bias).
    """

    gate: str
    input_part: float  # W_i? x_t
    input_bias: float  # b_i?
    recurrent_part: float  # W_h? h_(t-1)
    recurrent_bias: float  # b_h?
    value: float  # the engine's gate value: nonlinearity of the sum
    reset: float | None = None  # GRU n only: the r that scales the recurrent side

    @property
    def recurrent_side(self) -> float:
        side = self.recurrent_part + self.recurrent_bias
        return side if self.reset is None else self.reset * side

    @property
    def pre_activation(self) -> float:
        return self.input_part + self.input_bias + self.recurrent_side

    @property
    def nonlinearity(self) -> str:
        return NONLINEARITY[self.gate]


@dataclass(frozen=True)
class UnitStep:
    """One unit at one step: its gate lines in the contract's order and its state before and after."""

    cell: str
    unit: int
    t: int
    char: str
    gates: tuple[GateLine, ...]
    h_prev: float
    h: float
    c_prev: float | None = None  # LSTM only
    c: float | None = None

    def gate(self, name: str) -> GateLine:
        return next(g for g in self.gates if g.gate == name)


@dataclass(frozen=True)
class UnitHistory:
    """Every quantity of one unit over the whole probe text: name -> [T] (c_prev is c shifted by one)."""

    cell: str
    unit: int
    text: str
    values: dict[str, np.ndarray]


class ProbeTrace:
    """The engine's forward trace of a probe text through a model's first layer, ready to take apart."""

    def __init__(self, model: CharRNN, ids: np.ndarray, text: str):
        if model.shape.cell not in ("lstm", "gru"):
            raise ValueError(f"gate parts are for the LSTM and the GRU, not {model.shape.cell!r}")
        self.model, self.text = model, text
        self.ids = np.asarray(ids)
        self.trace = {k: v[0] for k, v in model.forward(self.ids[None, :], trace=True).trace[0].items()}  # name -> [T, H]
        self.cell = model.shape.cell

    @property
    def length(self) -> int:
        return len(self.ids)

    @property
    def hidden_size(self) -> int:
        return self.model.shape.hidden_size

    def _previous(self, name: str, t: int) -> np.ndarray:
        """h or c before step t: the zero initial state at t = 0."""
        return self.trace[name][t - 1] if t > 0 else np.zeros(self.hidden_size, self.trace[name].dtype)

    def step(self, unit: int, t: int) -> UnitStep:
        p = self.model.params
        H = self.hidden_size
        W_ih, W_hh = p["rnn.weight_ih_l0"], p["rnn.weight_hh_l0"]
        b_ih, b_hh = p["rnn.bias_ih_l0"], p["rnn.bias_hh_l0"]
        x = p["embedding.weight"][self.ids[t]]
        h_prev = self._previous("h", t)
        lines = []
        for k, gate in enumerate(GATE_NAMES[self.cell]):
            row = k * H + unit
            # The GRU's candidate sees the old state only through the reset gate.
            reset = float(self.trace["r"][t, unit]) if gate == "n" else None
            lines.append(GateLine(
                gate, float(W_ih[row] @ x), float(b_ih[row]), float(W_hh[row] @ h_prev), float(b_hh[row]),
                float(self.trace[gate][t, unit]), reset,
            ))
        cells = {}
        if self.cell == "lstm":
            cells = dict(c_prev=float(self._previous("c", t)[unit]), c=float(self.trace["c"][t, unit]))
        return UnitStep(
            self.cell, unit, t, self.text[t], tuple(lines), float(h_prev[unit]), float(self.trace["h"][t, unit]), **cells,
        )

    def history(self, unit: int) -> UnitHistory:
        names = GATE_NAMES[self.cell]
        values = {name: self.trace[name][:, unit].astype(float) for name in names}
        h = self.trace["h"][:, unit].astype(float)
        if self.cell == "lstm":
            c = self.trace["c"][:, unit].astype(float)
            values["c_prev"] = np.concatenate([[0.0], c[:-1]])
            values["c"] = c
        values["h_prev"] = np.concatenate([[0.0], h[:-1]])
        values["h"] = h
        return UnitHistory(self.cell, unit, self.text, values)


# ----- the equations as text, with their numbers -----------------------------------------------

DIGITS = 3


def number(value: float, digits: int = DIGITS) -> str:
    text = f"{value:.{digits}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text  # never "-0.000"


def factor(value: float, digits: int = DIGITS) -> str:
    """A number as a factor of a product: negative ones in parentheses."""
    text = number(value, digits)
    return f"({text})" if text.startswith("-") else text


def signed_sum(values: list[float], digits: int = DIGITS) -> str:
    """'0.842 - 0.100 + 0.523': a sum as a reader writes it, each term rounded as printed."""
    out = number(values[0], digits)
    for v in values[1:]:
        term = number(v, digits)
        out += f" - {term[1:]}" if term.startswith("-") else f" + {term}"
    return out


def gate_equation(line: GateLine, digits: int = DIGITS) -> str:
    """f = σ(W_if x + b_if + W_hf h + b_hf) = σ(0.842 + 0.100 + 0.523 - 0.031) = σ(1.434) = 0.808"""
    g, act = line.gate, line.nonlinearity
    if line.reset is None:
        symbols = f"W_i{g} x + b_i{g} + W_h{g} h + b_h{g}"
        numbers = signed_sum([line.input_part, line.input_bias, line.recurrent_part, line.recurrent_bias], digits)
    else:
        symbols = f"W_i{g} x + b_i{g} + r * (W_h{g} h + b_h{g})"
        inner = signed_sum([line.recurrent_part, line.recurrent_bias], digits)
        numbers = f"{signed_sum([line.input_part, line.input_bias], digits)} + {number(line.reset, digits)} * ({inner})"
    pre, value = number(line.pre_activation, digits), number(line.value, digits)
    return f"{g} = {act}({symbols}) = {act}({numbers}) = {act}({pre}) = {value}"


def state_equations(step: UnitStep, digits: int = DIGITS) -> list[str]:
    """The new state from the gates: c and h for the LSTM, h for the GRU (rnntui's z: z keeps the past)."""
    n = lambda v: factor(v, digits)  # noqa: E731
    g = {line.gate: line.value for line in step.gates}
    if step.cell == "lstm":
        return [
            f"c = f * c_prev + i * g = {n(g['f'])} * {n(step.c_prev)} + {n(g['i'])} * {n(g['g'])} = {number(step.c, digits)}",
            f"h = o * tanh(c) = {n(g['o'])} * tanh({number(step.c, digits)}) = {n(g['o'])} * {n(np.tanh(step.c))} = {number(step.h, digits)}",
        ]
    return [
        f"h = (1 - z) * n + z * h_prev = (1 - {n(g['z'])}) * {n(g['n'])} + {n(g['z'])} * {n(step.h_prev)} = {number(step.h, digits)}",
    ]


def equations(step: UnitStep, digits: int = DIGITS) -> list[str]:
    """Every gate in the contract's order, then the state: the lines `rnntui learn lstm --print` shows."""
    return [gate_equation(line, digits) for line in step.gates] + state_equations(step, digits)
