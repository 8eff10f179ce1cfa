"""The one chart painter: line charts (linear or log y, an optional second unit on the right) and square scatters in braille.

A painter is a pure function: data and a size in, exactly `height` lines of
Rich Text, each exactly `width` cells, out. So a test reads what is drawn, the
TUI shows the lines in a thin widget, and a headless command prints them or
saves them through Rich. Every character cell holds a 2x4 grid of dots, so a
chart of C columns and R rows is a canvas of 2C x 4R dots; a character takes
the colour of the last series drawn through it (the price of a terminal).

Layout of a line chart, top to bottom: a units row (tall charts with a right
axis), the plot with y ticks on the left (and the same ticks in the right
unit on the right), the x axis, its labels with the x title at the right end,
and the legend.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from rich.style import Style
from rich.text import Text

AXIS = Style(color="grey50")
LABEL = Style(color="grey62")
MARK_COLOUR = "grey42"
# Dot (row, column) inside a character -> its bit in the braille code point U+2800 + bits.
BITS = np.array([[0x01, 0x08], [0x02, 0x10], [0x04, 0x20], [0x40, 0x80]], dtype=np.int32)
DASH = 3  # dot columns on, then off, along a dashed line
MAX_GROWTH = 1.5  # even_ticks may grow a y range to at most this many times its span


@dataclass(frozen=True)
class Line:
    label: str
    xs: Sequence[float]  # increasing
    ys: Sequence[float]
    colour: str
    dashed: bool = False
    legend: tuple[str, ...] = ()  # its legend entry, fullest first (the label when empty); see `legend`


@dataclass(frozen=True)
class Points:
    label: str
    xs: Sequence[float]  # in 0..1
    ys: Sequence[float]  # in 0..1
    colour: str


# ----- numbers on axes -----------------------------------------------------------------------


def nice_ticks(low: float, high: float, most: int) -> list[float]:
    """Round numbers (1, 2 or 5 times a power of ten) from low to high: at least two, at most `most`."""
    if high <= low:
        return [low]
    most = max(most, 2)
    power = 10 ** math.floor(math.log10((high - low) / most))
    for step in (m * power * scale for scale in (1, 10, 100) for m in (1, 2, 5)):  # the smallest step that fits
        first = math.ceil(low / step - 1e-9) * step
        count = int(math.floor((high - first) / step + 1e-9)) + 1
        if count <= most:
            if count >= 2:
                return [first + i * step for i in range(count)]
            break
    return [low, high]  # a range too narrow for two round numbers: its ends


def compact(value: float) -> str:
    """A tick label: 1500 -> 1.5k."""
    if abs(value) >= 1000:
        return f"{value / 1000:g}k"
    return f"{value:g}"


# ----- dots ------------------------------------------------------------------------------------


class Canvas:
    """Dots on a grid of characters; each character remembers which colour drew it last."""

    def __init__(self, cols: int, rows: int):
        self.cols, self.rows = cols, rows
        self.codes = np.zeros((rows, cols), np.int32)
        self.colour: list[list[str | None]] = [[None] * cols for _ in range(rows)]

    @property
    def dot_size(self) -> tuple[int, int]:
        return 2 * self.cols, 4 * self.rows

    def draw(self, dots: np.ndarray, colour: str) -> None:
        """Add a [4*rows, 2*cols] boolean dot mask in `colour`."""
        cells = (dots.reshape(self.rows, 4, self.cols, 2).transpose(0, 2, 1, 3) * BITS).sum(axis=(2, 3))
        self.codes |= cells
        for r, c in zip(*np.nonzero(cells)):
            self.colour[r][c] = colour

    def row(self, r: int) -> Text:
        """One row of characters, a run of one colour a span."""
        text = Text()
        for code, colour in zip(self.codes[r], self.colour[r]):
            text.append(chr(0x2800 + int(code)) if colour else " ", Style(color=colour) if colour else None)
        return text


def polyline(xs: np.ndarray, ys: np.ndarray, width: int, height: int, dashed: bool = False) -> np.ndarray:
    """A [height, width] dot mask through points in dot coordinates (x right, y down).

    The series is read at every dot column it spans and consecutive columns
    are joined by a vertical run, so a line stays continuous however many or
    few points it has.
    """
    dots = np.zeros((height, width), bool)
    keep = np.isfinite(xs) & np.isfinite(ys)
    xs, ys = xs[keep], ys[keep]
    if xs.size == 0:
        return dots
    columns = np.arange(max(0, math.ceil(xs[0] - 0.5)), min(width, math.floor(xs[-1] + 0.5) + 1))
    if columns.size == 0:
        return dots
    rows = np.clip(np.rint(np.interp(columns, xs, ys)), 0, height - 1).astype(int)
    previous = rows[0]
    for column, row in zip(columns, rows):
        if not dashed or (column // DASH) % 2 == 0:
            dots[min(previous, row):max(previous, row) + 1, column] = True
        previous = row
    return dots


# ----- the frame around the dots ---------------------------------------------------------------


def _fit(text: Text, width: int) -> Text:
    """Exactly `width` cells: cut, or padded with unstyled spaces."""
    fitted = Text()
    fitted.append_text(text)  # the line's own style becomes a span, so the padding is left plain
    fitted.truncate(width, pad=True)
    return fitted


def legend(items: Sequence[Line | Points], width: int) -> Text:
    """Each series' colour and entry on one line: every entry at its fullest, else every entry one step shorter, ..."""
    entries = [getattr(item, "legend", ()) or (item.label,) for item in items]
    text = Text()
    for level in range(max((len(e) for e in entries), default=1)):
        text = Text(" ")
        for item, entry in zip(items, entries):
            text.append("╌╌ " if getattr(item, "dashed", False) else "━━ ", Style(color=item.colour, bold=True))
            text.append(entry[min(level, len(entry) - 1)] + "  ")
        text.rstrip()
        if text.cell_len <= width:
            return text
    return text


def _on_rows(low: float, high: float, step: float, rows: int) -> tuple[float, float, list[float]]:
    """A y range of `rows` rows holding low..high in which every multiple of a tick step falls on a
    row, the ticks the same number of rows apart (two at least); and those multiples.

    A row is worth `step / per_step`; the bottom is the multiple of that at or below `low`, so a
    range that starts at 0 or above stays there. The given step is tried first, then 2, 2.5, 5 and
    10 times it; for each, the most rows per step that still reach `high`, so the range grows as
    little as it can. Where none fits without growing the range past MAX_GROWTH times (a plot of a
    few rows), the range and ticks stay as they were.
    """
    for tick_step in (step, 2 * step, 2.5 * step, 5 * step, 10 * step):
        for per_step in range(min(rows - 1, int((rows - 1) * tick_step / (high - low))), 1, -1):
            unit = tick_step / per_step
            bottom = math.floor(low / unit + 1e-9) * unit
            top = bottom + (rows - 1) * unit
            first, last = math.ceil(bottom / tick_step - 1e-9), math.floor(top / tick_step + 1e-9)
            # It holds the data, two ticks at least, and the data keeps most of the height.
            if top >= high - 1e-12 and last > first and top - bottom <= MAX_GROWTH * (high - low):
                return bottom, top, [k * tick_step for k in range(first, last + 1)]
    return low, high, nice_ticks(low, high, max(2, rows // 2 + 1))


def _x_axis(gutter: int, cols: int, area: int, x0: float, x1: float, title: str, ticks=None) -> list[Text]:
    """The axis line with a mark under every tick, and the tick labels with the title ending under the plot's right edge.

    Where the last label is in the way the title moves right, into the
    `area` beyond the plot if there is room; else the labels in its way go.
    """
    axis, labels = ["─"] * cols, [" "] * cols
    placed = []
    for value in ticks or nice_ticks(x0, x1, max(2, cols // 10)):
        c = int(round((value - x0) / (x1 - x0) * (cols - 1))) if x1 > x0 else 0
        axis[c] = "┬"
        label = compact(value)
        start = max(0, min(c - len(label) // 2, cols - len(label)))
        if all(ch == " " for ch in labels[max(0, start - 1):start + len(label) + 1]):
            labels[start:start + len(label)] = label
            placed.append((start, label))
    label_text = "".join(labels).rstrip()
    if title:
        at = max(cols - len(title), len(label_text) + 1)
        if at + len(title) > area:  # no room beyond the plot: the labels under the title give way
            at = max(cols - len(title), 0)
            for start, label in placed:
                if start + len(label) >= at:
                    labels[start:start + len(label)] = " " * len(label)
            label_text = "".join(labels).rstrip()
        label_text = label_text.ljust(at) + title
    return [Text(" " * (gutter - 1) + "└" + "".join(axis), AXIS), Text(" " * gutter + label_text, LABEL)]


def _too_small(items, width: int, height: int) -> list[Text]:
    return [_fit(legend(items, width), width)] + [_fit(Text(), width)] * max(height - 1, 0)


# ----- the painters ----------------------------------------------------------------------------


def line_chart(
    lines: Sequence[Line], width: int, height: int, *,
    x_range: tuple[float, float] | None = None, y_range: tuple[float, float] | None = None, log_y: bool = False,
    y_format: Callable[[float], str] = compact, right_format: Callable[[float], str] | None = None,
    units: tuple[str, str] = ("", ""), x_title: str = "", marks: Sequence[tuple[float, str]] = (),
    empty_message: str = "", even_ticks: bool = False,
) -> list[Text]:
    """Exactly `height` lines of `width` cells.

    Ranges left out are the data's own. `log_y` places log10 of the values
    (y_range in real units, powers of ten as ticks). `right_format` labels the
    same ticks on the right in a second unit (nats on the left, bits on the
    right), and `units` names both units on a row above the plot when the
    chart is tall. `marks` are vertical dashed lines at given x, labelled on
    top; `empty_message` is written across a chart with no data.
    `even_ticks` lets a linear y range grow by less than a row at each end,
    so that every tick sits on a character row, the ticks evenly spaced.
    """
    width, height = max(width, 0), max(height, 0)
    if height < 5 or width < 16:
        return _too_small(lines, width, height)
    xs = np.concatenate([np.asarray(line.xs, float) for line in lines]) if lines else np.zeros(0)
    ys = np.concatenate([np.asarray(line.ys, float) for line in lines]) if lines else np.zeros(0)
    seen = np.isfinite(xs) & np.isfinite(ys) & ((ys > 0) if log_y else True)
    has_data = bool(seen.any())
    x0, x1 = x_range or ((xs[seen].min(), xs[seen].max()) if has_data else (0.0, 100.0))
    if y_range is None:
        if not has_data:
            y_range = (1e-3, 1.0) if log_y else (0.0, 1.0)
        elif log_y:
            y_range = (10 ** math.floor(math.log10(ys[seen].min())), 10 ** math.ceil(math.log10(ys[seen].max())))
        else:
            y_range = (float(ys[seen].min()), float(ys[seen].max()))
    y0, y1 = (math.log10(v) for v in y_range) if log_y else y_range
    if y1 <= y0:
        y1 = y0 + 1
    if x1 <= x0:
        x1 = x0 + 1

    units_row = bool(units[0] or units[1]) and height >= 10
    rows = height - 3 - units_row
    if log_y:
        ticks = [float(k) for k in range(math.ceil(y0), math.floor(y1) + 1)]
        while len(ticks) > max(2, rows // 2 + 1):
            ticks = ticks[::-1][::2][::-1]  # every other power, keeping the top one
        left_text = {v: f"1e{int(v)}" if v else "1" for v in ticks}
    else:
        ticks = nice_ticks(y0, y1, max(2, rows // 2 + 1))
        if even_ticks and len(ticks) >= 2:
            y0, y1, ticks = _on_rows(y0, y1, ticks[1] - ticks[0], rows)
        left_text = {v: y_format(v) for v in ticks}
    right_text = {v: right_format(10 ** v if log_y else v) for v in ticks} if right_format else {}
    tick_row = {int(round((y1 - v) / (y1 - y0) * (rows - 1))): v for v in ticks}
    gutter = max(len(t) for t in left_text.values()) + 2  # "1.00 ┤"
    right = max(len(t) for t in right_text.values()) + 1 if right_text else 0
    cols = width - gutter - right - (0 if right else 1)  # a spare column at the right when no axis is there
    canvas = Canvas(cols, rows)
    dot_w, dot_h = canvas.dot_size

    def to_dots(line_xs, line_ys):
        line_xs, line_ys = np.asarray(line_xs, float), np.asarray(line_ys, float)
        if log_y:
            with np.errstate(divide="ignore", invalid="ignore"):
                line_ys = np.log10(np.where(line_ys > 0, line_ys, np.nan))
        return (line_xs - x0) / (x1 - x0) * (dot_w - 1), (y1 - line_ys) / (y1 - y0) * (dot_h - 1)

    for x, _ in marks:  # drawn first, so the lines pass over them
        column = int(round((x - x0) / (x1 - x0) * (dot_w - 1)))
        if 0 <= column < dot_w:
            mask = np.zeros((dot_h, dot_w), bool)
            mask[:, column] = (np.arange(dot_h) // 2) % 2 == 0
            canvas.draw(mask, MARK_COLOUR)
    for line in lines:
        canvas.draw(polyline(*to_dots(line.xs, line.ys), dot_w, dot_h, line.dashed), line.colour)

    out = []
    if units_row:
        out.append(Text(" " + units[0].ljust(width - len(units[1]) - 2) + units[1] + " ", LABEL))
    plot = []
    for r in range(rows):
        tick = tick_row.get(r)
        row = Text()  # styled by spans, not a base style, so the plot's blanks stay unstyled
        row.append(left_text[tick].rjust(gutter - 2) + " ┤" if tick is not None else " " * (gutter - 1) + "│", AXIS)
        row.append_text(canvas.row(r))
        if tick is not None and right_text:
            row.append(" " + right_text[tick].rjust(right - 1), AXIS)
        plot.append(row)
    for x, label in marks:  # the mark's label on its top row
        c = int(round((x - x0) / (x1 - x0) * (cols - 1)))
        if 0 <= c < cols and label:
            start = gutter + min(c + 1, cols - len(label))
            top = plot[0]
            plot[0] = Text.assemble(top[:start], (label, LABEL), top[start + len(label):])
    if not has_data and empty_message and rows:
        middle = rows // 2
        pad = max(0, (cols - len(empty_message)) // 2)
        plot[middle] = Text(" " * (gutter - 1) + "│", AXIS) + Text(" " * pad + empty_message[:cols], LABEL)
    out += plot
    out += _x_axis(gutter, cols, width - gutter, x0, x1, x_title)
    out.append(legend(lines, width))
    return [_fit(line, width) for line in out[:height]]


def scatter_chart(groups: Sequence[Points], width: int, height: int, x_title: str, y_title: str) -> list[Text]:
    """Points of the unit square in a square plot (a character is about twice as tall as wide), axes 0..1."""
    width, height = max(width, 0), max(height, 0)
    gutter = 5  # "0.5 ┤"
    rows = min(height - 5, (width - gutter - 1) // 2)  # title, axis, labels, x title, legend
    if rows < 2:
        return _too_small(groups, width, height)
    cols = 2 * rows  # 2C x 4R dots: a square of dots and, on most terminals, on screen
    canvas = Canvas(cols, rows)
    dot_w, dot_h = canvas.dot_size
    for group in groups:
        xs = np.clip(np.rint(np.asarray(group.xs, float) * (dot_w - 1)), 0, dot_w - 1).astype(int)
        ys = np.clip(np.rint((1.0 - np.asarray(group.ys, float)) * (dot_h - 1)), 0, dot_h - 1).astype(int)
        dots = np.zeros((dot_h, dot_w), bool)
        dots[ys, xs] = True
        canvas.draw(dots, group.colour)
    tick_row = {0: "1", (rows - 1) // 2: "0.5", rows - 1: "0"} if rows >= 3 else {0: "1", rows - 1: "0"}
    out = [Text(y_title, LABEL)]
    for r in range(rows):
        tick = tick_row.get(r)
        row = Text()
        row.append(tick.rjust(gutter - 2) + " ┤" if tick else " " * (gutter - 1) + "│", AXIS)
        row.append_text(canvas.row(r))
        out.append(row)
    out += _x_axis(gutter, cols, cols + 1, 0.0, 1.0, "", ticks=[0.0, 0.5, 1.0])
    out.append(Text(" " * gutter + x_title, LABEL))
    out.append(legend(groups, width))
    out += [Text()] * max(0, height - len(out))
    return [_fit(line, width) for line in out[:height]]


def plain(lines: Sequence[Text]) -> str:
    """What a painter drew, as text without colour (for a reader, a log or a test)."""
    return "\n".join(line.plain for line in lines)
