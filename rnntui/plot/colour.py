"""Every colour rnntui draws numbers with: the ramps (a value in 0..1 to a colour) and the series colours.

A ramp is a list of (position 0..1, RGB) anchors, interpolated linearly. The
heatmap colours gate values and signed quantities with one, the Samples pane
tints each character by the model's confidence with another, and the charts
take each cell's and each gate's colour from here, so a cell looks the same
on every screen.
"""

from __future__ import annotations

# One-sided, for 0..1 gates: near-black for shut, pale yellow for open, with a
# change of hue on the way so 0.05 and 0.95 read as different at a glance.
FRACTION_RAMP = (
    (0.00, (10, 8, 36)),
    (0.25, (64, 34, 140)),
    (0.50, (176, 52, 120)),
    (0.75, (246, 128, 46)),
    (1.00, (252, 250, 164)),
)
# Two-sided, for signed quantities: blue below zero, orange above, dark at zero,
# so the sign is the hue and the size is the brightness.
SIGNED_RAMP = (
    (0.00, (110, 200, 255)),
    (0.25, (36, 104, 196)),
    (0.50, (26, 26, 30)),
    (0.75, (200, 76, 30)),
    (1.00, (255, 196, 96)),
)
# The probability a model gave a character: red where it was guessing, amber in
# between, pale green where it was sure (text colour on a dark background).
CONFIDENCE_RAMP = (
    (0.00, (255, 85, 85)),
    (0.30, (255, 175, 95)),
    (0.65, (215, 215, 175)),
    (1.00, (135, 255, 175)),
)

# Series colours: a cell, a gate, a reference line.
CELL_COLOURS = {"rnn": "#ff7b72", "lstm": "#58a6ff", "gru": "#7ee787"}
GATE_COLOURS = {"i": "#ffa657", "f": "#79c0ff", "o": "#d2a8ff", "r": "#ff7b72", "z": "#56d364"}
TRAIN_COLOUR = "#5fafff"
VALIDATION_COLOUR = "#ffaf00"
REFERENCE_COLOUR = "grey58"  # chance, a cut: lines to compare against, not data


def ramp_colour(ramp, position: float) -> tuple[int, int, int]:
    """The ramp's colour at `position` in 0..1 (clamped)."""
    position = min(1.0, max(0.0, position))
    for (p0, c0), (p1, c1) in zip(ramp, ramp[1:]):
        if position <= p1:
            k = (position - p0) / (p1 - p0)
            return tuple(round(a + (b - a) * k) for a, b in zip(c0, c1))
    return ramp[-1][1]


def ramp_hex(ramp, position: float) -> str:
    """The same colour as '#rrggbb', for a Rich style."""
    r, g, b = ramp_colour(ramp, position)
    return f"#{r:02x}{g:02x}{b:02x}"


def luminance(rgb: tuple[int, int, int]) -> float:
    """Perceived brightness, 0..255, to pick text that stays readable on a colour."""
    r, g, b = rgb
    return 0.299 * r + 0.587 * g + 0.114 * b
