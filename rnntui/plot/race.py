"""The race chart: accuracy on the scored positions against step, one line per cell, chance dashed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.text import Text

from rnntui.plot.chart import Line, line_chart
from rnntui.plot.colour import CELL_COLOURS, REFERENCE_COLOUR


def race_chart(
    curves: Mapping[str, Sequence[tuple[int, float]]], steps: int, chance: float, width: int, height: int
) -> list[Text]:
    """Exactly `height` lines of `width` cells; each cell's latest accuracy and chance in the legend."""
    lines = [
        Line(cell, [s for s, _ in curve], [a for _, a in curve], CELL_COLOURS.get(cell, "white"),
             legend=(f"{cell} {curve[-1][1]:.0%}", cell) if curve else ())
        for cell, curve in curves.items()
    ]
    lines.append(Line("chance", [0, steps], [chance, chance], REFERENCE_COLOUR, dashed=True,
                      legend=(f"chance {chance:.0%}", "chance")))
    return line_chart(
        lines, width, height, x_range=(0, steps), y_range=(0.0, 1.0), y_format=lambda v: f"{v:.0%}", x_title="step",
    )
