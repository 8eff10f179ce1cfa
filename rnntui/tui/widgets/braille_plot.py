"""A line chart in braille characters, with axes, ticks and a legend, as lines of Rich Text.

Each character cell holds a 2x4 grid of dots, so a 60x8 plot area is a
120x32 canvas. Every series is resampled at each dot column and consecutive
columns are joined by a vertical run, so a line stays continuous however many
or few points it has. The left axis reads in nats, the right in bits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from rich.style import Style
from rich.text import Text

AXIS_STYLE = Style(color="grey50")
LABEL_STYLE = Style(color="grey62")
# Dot (row, column) inside a cell -> its bit in the braille code point (U+2800 + bits).
DOT_BITS = np.array([[0x01, 0x08], [0x02, 0x10], [0x04, 0x20], [0x40, 0x80]], dtype=np.int32)
BITS_PER_NAT = 1 / math.log(2)


@dataclass(frozen=True)
class Series:
    label: str
    points: list[tuple[int, float]]  # (step, loss in nats), steps increasing
    colour: str
    short_label: str = ""  # for a narrow legend


def nice_ticks(low: float, high: float, most: int) -> list[float]:
    """Round numbers (1, 2 or 5 times a power of ten) from low to high: at least two, at most `most`."""
    if high <= low:
        return [low]
    most = max(most, 2)
    power = 10 ** math.floor(math.log10((high - low) / most))
    for step in (m * power * scale for scale in (1, 10, 100) for m in (1, 2, 5)):  # smallest step that fits
        first = math.ceil(low / step - 1e-9) * step
        count = int(math.floor((high - first) / step + 1e-9)) + 1
        if count <= most:
            if count >= 2:
                return [first + i * step for i in range(count)]
            break
    return [low, high]  # a range too narrow for two round numbers: its ends


def tick_label(value: float) -> str:
    if value >= 10_000:
        return f"{value / 1000:.0f}k"
    if value >= 1000:
        return f"{value / 1000:g}k"
    return f"{value:g}"


def _canvas_rows(series: Series, x0: float, x1: float, y0: float, y1: float, cols: int, rows: int) -> np.ndarray:
    """The dots of one series on a [rows, cols] canvas (row 0 at the top)."""
    dots = np.zeros((rows, cols), dtype=bool)
    if not series.points:
        return dots
    xs = np.array([p[0] for p in series.points], dtype=np.float64)
    ys = np.array([p[1] for p in series.points], dtype=np.float64)
    finite = np.isfinite(ys)
    xs, ys = xs[finite], ys[finite]
    if xs.size == 0:
        return dots
    column_x = x0 + (x1 - x0) * np.arange(cols) / max(cols - 1, 1)
    # Only the columns the series spans: a validation curve starts at the first evaluation.
    half_column = (x1 - x0) / max(cols - 1, 1) / 2
    inside = np.flatnonzero((column_x >= xs[0] - half_column) & (column_x <= xs[-1] + half_column))
    if inside.size == 0:
        return dots
    values = np.interp(column_x[inside], xs, ys)
    row_of = np.clip(np.rint((y1 - values) / (y1 - y0) * (rows - 1)), 0, rows - 1).astype(int)
    previous = row_of[0]
    for column, row in zip(inside, row_of):
        low, high = min(previous, row), max(previous, row)
        dots[low:high + 1, column] = True
        previous = row
    return dots


def _cells(dots: np.ndarray) -> np.ndarray:
    """[rows*4, cols*2] dots -> [rows, cols] braille bit masks."""
    rows, cols = dots.shape[0] // 4, dots.shape[1] // 2
    blocks = dots.reshape(rows, 4, cols, 2).transpose(0, 2, 1, 3)
    return (blocks * DOT_BITS).sum(axis=(2, 3))


def render_chart(series: list[Series], width: int, height: int, empty_message: str = "") -> list[Text]:
    """Exactly `height` lines, each at most `width` cells: units, plot with y ticks, x axis, x labels, legend."""
    lines: list[Text] = []
    if width < 20 or height < 4:
        return [Text(_legend_text(series, width)[:width])] + [Text("")] * (height - 1)
    points = [p for s in series for p in s.points if math.isfinite(p[1])]
    units_row = height >= 10
    plot_rows = height - 3 - units_row  # x axis, x labels, legend
    if points:
        x0, x1 = min(p[0] for p in points), max(p[0] for p in points)
        y0, y1 = min(p[1] for p in points), max(p[1] for p in points)
    else:
        x0, x1, y0, y1 = 0, 100, 0.0, 5.0
    if x1 <= x0:
        x1 = x0 + 1
    pad = max((y1 - y0) * 0.05, 0.05)
    y0, y1 = max(0.0, y0 - pad), y1 + pad

    y_ticks = nice_ticks(y0, y1, max(2, plot_rows // 2 + 1))
    tick_rows = {int(round((y1 - v) / (y1 - y0) * (plot_rows - 1))): v for v in y_ticks}
    left = max(len(f"{v:.2f}") for v in y_ticks) + 1
    right = max(len(f"{v * BITS_PER_NAT:.2f}") for v in y_ticks) + 1
    cols = max(1, width - left - right - 1)

    canvases = [(s, _canvas_rows(s, x0, x1, y0, y1, cols * 2, plot_rows * 4)) for s in series]
    if units_row:
        lines.append(Text(" nats".ljust(width - 10) + "bits/char ", LABEL_STYLE))
    masks = [(s, _cells(dots)) for s, dots in canvases]
    for r in range(plot_rows):
        line = Text()
        tick = tick_rows.get(r)
        if tick is not None:
            line.append(f"{tick:.2f}".rjust(left - 1) + " ┤", AXIS_STYLE)
        else:
            line.append(" " * (left - 1) + " │", AXIS_STYLE)
        # Later series are drawn over earlier ones where both pass through a cell.
        codes = np.zeros(cols, dtype=np.int32)
        owner = [None] * cols
        for s, mask in masks:
            row = mask[r]
            for c in np.flatnonzero(row):
                codes[c] |= row[c]
                owner[c] = s.colour
        for c in range(cols):
            if owner[c] is None:
                line.append(" ")
            else:
                line.append(chr(0x2800 + int(codes[c])), Style(color=owner[c]))
        if tick is not None:
            line.append(" " + f"{tick * BITS_PER_NAT:.2f}".rjust(right - 1), AXIS_STYLE)
        lines.append(line)
    if not points and empty_message and plot_rows:
        middle = len(lines) - plot_rows + plot_rows // 2
        pad_left = left + 1 + max(0, (cols - len(empty_message)) // 2)
        lines[middle] = Text(" " * (left - 1) + " │", AXIS_STYLE) + Text(
            " " * (pad_left - left - 1) + empty_message[:cols], LABEL_STYLE
        )

    x_ticks = nice_ticks(x0, x1, max(2, cols // 10))
    axis = ["─"] * cols
    labels = [" "] * (cols + 8)
    for v in x_ticks:
        c = int(round((v - x0) / (x1 - x0) * (cols - 1)))
        axis[c] = "┬"
        text = tick_label(v)
        start = max(0, min(c - len(text) // 2, cols - len(text)))
        if all(ch == " " for ch in labels[max(0, start - 1):start + len(text) + 1]):
            labels[start:start + len(text)] = text
    lines.append(Text(" " * (left - 1) + " └" + "".join(axis), AXIS_STYLE))
    x_label = "".join(labels[:cols]).rstrip()
    lines.append(Text(" " * (left + 1) + x_label + " " * max(1, cols - len(x_label) - 4) + "step", LABEL_STYLE))
    lines.append(_legend(series, width))
    return lines[:height]


def _legend_text(series: list[Series], width: int) -> str:
    return _legend(series, width).plain


def _legend(series: list[Series], width: int) -> Text:
    """Each series' colour, name and latest value in nats and bits per character, as much as fits."""
    formats = (
        (False, lambda nats: f" {nats:.3f} nats {nats * BITS_PER_NAT:.2f} bpc"),
        (False, lambda nats: f" {nats:.2f} ({nats * BITS_PER_NAT:.2f} bpc)"),
        (True, lambda nats: f" {nats:.2f} ({nats * BITS_PER_NAT:.2f} bpc)"),
        (True, lambda nats: f" {nats:.2f}"),
    )
    for short, show in formats:
        legend = Text(" ")
        for s in series:
            legend.append("━━ ", Style(color=s.colour, bold=True))
            legend.append(s.short_label if short and s.short_label else s.label)
            if s.points:
                legend.append(show(s.points[-1][1]))
            legend.append("  ")
        legend.rstrip()
        if legend.cell_len <= width:
            return legend
    legend.truncate(width)
    return legend
