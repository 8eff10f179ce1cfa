"""The units-by-timesteps heatmap's colours and its plain Rich drawing, with no Textual.

The Gates pane scrolls a grid of any size one screen line at a time; a figure
draws the whole grid at once. Both take their colours from the same palettes
and their column labels from the same function, so a figure shows what the
screen shows.

Every timestep column is exactly two cells wide, so a wide character (Korean,
Chinese, Japanese, most emoji) fills its column and a narrow one is padded:
labels and cells line up whatever the text is.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import numpy as np
from rich.cells import cell_len
from rich.color import Color
from rich.style import Style
from rich.text import Text

from rnntui.plot.colour import FRACTION_RAMP, SIGNED_RAMP, luminance, ramp_colour

COLUMN_WIDTH = 2  # cells per timestep
LEVELS = 129  # colours per scale; odd, so a signed scale has an exact middle for 0
GUTTER_STYLE = Style(dim=True)


def palette(ramp) -> tuple[Style, ...]:
    """LEVELS background styles along a ramp, each with the ink that stays readable on it."""
    styles = []
    for level in range(LEVELS):
        rgb = ramp_colour(ramp, level / (LEVELS - 1))
        ink = (0, 0, 0) if luminance(rgb) > 140 else (255, 255, 255)
        styles.append(Style(bgcolor=Color.from_rgb(*rgb), color=Color.from_rgb(*ink)))
    return tuple(styles)


FRACTION_PALETTE = palette(FRACTION_RAMP)
SIGNED_PALETTE = palette(SIGNED_RAMP)


@dataclass(frozen=True)
class ColourScale:
    """Maps a quantity's values to palette levels between `low` and `high`."""

    low: float
    high: float
    palette: tuple[Style, ...]

    @classmethod
    def for_range(cls, low: float, high: float, fraction: bool) -> ColourScale:
        return cls(low, high, FRACTION_PALETTE if fraction else SIGNED_PALETTE)

    def levels(self, values: np.ndarray) -> np.ndarray:
        """Palette index of every value (NaN counts as the low end)."""
        span = (self.high - self.low) or 1.0
        position = (np.nan_to_num(values, nan=self.low) - self.low) / span
        return np.clip(np.rint(position * (LEVELS - 1)), 0, LEVELS - 1).astype(np.intp)

    def style(self, value: float) -> Style:
        return self.palette[int(self.levels(np.array([value]))[0])]


def visible_char(char: str) -> str:
    """A character as it can be seen on one line: whitespace and invisibles get a sign."""
    if char == "\n":
        return "⏎"
    if char == "\t":
        return "→"
    if char == " ":
        return "·"
    if unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp") or cell_len(char) == 0:
        return "◌"  # a control, format or combining character has no glyph of its own
    return char


def column_label(char: str) -> str:
    """The header label of a timestep: its character, padded to exactly two cells."""
    glyph = visible_char(char)
    width = cell_len(glyph)
    if width > COLUMN_WIDTH:
        return "◌ "
    return glyph + " " * (COLUMN_WIDTH - width)


def heatmap(values: np.ndarray, scale: ColourScale, text: str) -> list[Text]:
    """The whole grid of `values` ([T, H]): a header of the text's characters, then a row per unit, numbered."""
    steps, units = values.shape
    gutter = len(str(max(units - 1, 0))) + 1
    levels = scale.levels(values)
    header = Text(" " * gutter)
    for t in range(steps):
        header.append(column_label(text[t]) if t < len(text) else " " * COLUMN_WIDTH)
    rows = [header]
    for unit in range(units):
        row = Text(f"{unit:>{gutter - 1}} ", GUTTER_STYLE)
        for level in levels[:, unit].tolist():
            row.append(" " * COLUMN_WIDTH, scale.palette[level])
        rows.append(row)
    return rows


def scale_key(scale: ColourScale, steps: int = 16) -> Text:
    """The scale read left to right: its low end, `steps` swatches, its high end."""
    key = Text(f"{scale.low:.3g} ")
    for k in range(steps):
        key.append(" " * COLUMN_WIDTH, scale.style(scale.low + (scale.high - scale.low) * k / (steps - 1)))
    key.append(f" {scale.high:.3g}")
    return key
