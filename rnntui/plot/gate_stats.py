"""Numbers behind the Gates pane: colour ranges and unit orderings, NumPy only.

Every function takes one quantity of one layer as an array `values` of shape
[T, H] (timesteps down, units across), the layout the engine's trace has once
the batch axis is dropped.
"""

from __future__ import annotations

import numpy as np

from rnntui.plot.quantities import names_squashed_by

# Squashed by the logistic sigmoid: a fraction from 0 (shut) to 1 (open).
SIGMOID_QUANTITIES = names_squashed_by("sigmoid")
# Squashed by tanh (the LSTM's h is o * tanh(c), so it lives there too).
TANH_QUANTITIES = names_squashed_by("tanh")


def is_fraction(quantity: str) -> bool:
    """True for the 0..1 gates, which get a one-sided colour scale."""
    return quantity in SIGMOID_QUANTITIES


def value_range(quantity: str, values: np.ndarray) -> tuple[float, float]:
    """The colour scale's ends for one quantity.

    Gates and tanh outputs have fixed ranges, so colours mean the same thing
    from one refresh to the next. The cell state is unbounded: it is scaled
    symmetrically by its largest magnitude so that 0 stays in the middle.
    """
    if quantity in SIGMOID_QUANTITIES:
        return 0.0, 1.0
    if quantity in TANH_QUANTITIES:
        return -1.0, 1.0
    finite = np.abs(values[np.isfinite(values)]) if np.size(values) else np.zeros(0)
    peak = float(finite.max()) if finite.size else 0.0
    if peak == 0.0:
        peak = 1.0  # an all-zero state still needs a range that is not empty
    return -peak, peak


def order_by_variance(values: np.ndarray) -> np.ndarray:
    """Unit indexes, the unit whose value moves most over the text first.

    Ties keep unit order, so a constant trace leaves the order unchanged.
    """
    values = np.asarray(values, np.float64)
    if values.shape[0] == 0:  # no timesteps: nothing moves
        return np.arange(values.shape[1])
    variance = np.nan_to_num(np.var(values, axis=0))
    return np.argsort(-variance, kind="stable")


def char_correlation(values: np.ndarray, text: str, char: str) -> np.ndarray:
    """Pearson correlation of every unit with "the input at t is `char`", shape [H].

    Defined as 0 where it is not defined: a unit that never changes, or a
    character that is everywhere or nowhere in the text.
    """
    values = np.asarray(values, np.float64)
    steps = values.shape[0]
    present = np.array([c == char for c in text[:steps]] + [False] * (steps - len(text)), np.float64)
    present -= present.mean() if steps else 0.0
    centred = values - values.mean(axis=0) if steps else values
    spread = np.sqrt((centred ** 2).sum(axis=0) * (present ** 2).sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (centred * present[:, None]).sum(axis=0) / spread
    return np.nan_to_num(np.where(spread > 0, r, 0.0))


def order_by_correlation(correlation: np.ndarray) -> np.ndarray:
    """Unit indexes, the unit that tracks the character most closely (either sign) first.

    `correlation` is char_correlation's [H]. A unit that dips on the character
    is as much a detector of it as one that peaks, so the order is by |r|; ties
    keep unit order.
    """
    return np.argsort(-np.abs(correlation), kind="stable")
