"""Plain-text pictures for the headless lab: a log-scale bar and a sparkline (one line, for a table cell), and the
unit-square scatter of the lab screen's saturation pane, drawn by the same painter (rnntui/plot) without colour."""

from __future__ import annotations

import math

import numpy as np

from rnntui.plot.chart import Points, scatter_chart

SPARKS = " ▁▂▃▄▅▆▇█"


def log_bar(value: float, low: float, high: float, width: int = 40) -> str:
    """A bar whose length is log10(value) placed between log10(low) and log10(high)."""
    if not value > 0 or not high > low > 0:
        return ""
    share = (math.log10(value) - math.log10(low)) / max(math.log10(high) - math.log10(low), 1e-12)
    return "█" * max(1, round(min(max(share, 0.0), 1.0) * width))


def sparkline(values, low: float = 0.0, high: float = 1.0, width: int = 40) -> str:
    """Values in [low, high] as block heights, resampled to at most `width` characters."""
    values = np.asarray(values, float)
    if values.size == 0:
        return ""
    if values.size > width:
        values = values[np.linspace(0, values.size - 1, width).round().astype(int)]
    share = np.clip((values - low) / max(high - low, 1e-12), 0.0, 1.0)
    return "".join(SPARKS[int(round(s * (len(SPARKS) - 1)))] for s in share)


def scatter(x, y, width: int = 41, height: int = 21) -> list[str]:
    """Points in [0, 1]^2, y up, in braille with axes from 0 to 1: the TUI's saturation chart as plain lines."""
    drawn = scatter_chart([Points("a unit", x, y, "default")], width, height, x_title="right-saturated →", y_title="↑ left-saturated")
    return [line.plain.rstrip() for line in drawn]
