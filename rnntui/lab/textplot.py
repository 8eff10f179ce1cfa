"""Plain-text pictures for the headless lab: a log-scale bar, a sparkline, a scatter of points in the unit square."""

from __future__ import annotations

import math

import numpy as np

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
    """Points in [0, 1]^2 on a character grid, y up; a cell's mark grows with its count (. o O @)."""
    grid = np.zeros((height, width), int)
    cols = np.clip(np.round(np.asarray(x) * (width - 1)).astype(int), 0, width - 1)
    rows = np.clip(np.round((1.0 - np.asarray(y)) * (height - 1)).astype(int), 0, height - 1)
    np.add.at(grid, (rows, cols), 1)
    marks = " .oO@"
    lines = []
    for r in range(height):
        body = "".join(marks[min(n, len(marks) - 1)] for n in grid[r])
        lines.append("|" + body + "|")
    return ["+" + "-" * width + "+", *lines, "+" + "-" * width + "+"]
