"""The lab's charts in braille: a line chart (linear or log y) and a square scatter, as Strips, and a widget to show them.

Every character cell holds a 2x4 grid of dots, so a chart of C columns and R
rows is a canvas of 2C x 4R dots. A character takes the colour of the last
series drawn through it; that is the price of a terminal. The painters are
pure (data and a size in, lines out) so a test can read exactly what is drawn,
and the widget only calls one again when its data or its size changed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip
from textual.widget import Widget

AXIS = Style(color="grey50")
LABEL = Style(color="grey62")
# Dot (row, column) inside a character -> its bit in the braille code point U+2800 + bits.
BITS = np.array([[0x01, 0x08], [0x02, 0x10], [0x04, 0x20], [0x40, 0x80]], dtype=np.int32)


@dataclass(frozen=True)
class Line:
    label: str
    xs: Sequence[float]
    ys: Sequence[float]
    colour: str
    dashed: bool = False
    note: str = ""  # shown after the label in the legend (the latest value, say)


@dataclass(frozen=True)
class Points:
    label: str
    xs: Sequence[float]  # in 0..1
    ys: Sequence[float]  # in 0..1
    colour: str


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

    def row(self, r: int) -> list[Segment]:
        return [
            Segment(chr(0x2800 + int(code)), Style(color=colour)) if colour else Segment(" ")
            for code, colour in zip(self.codes[r], self.colour[r])
        ]


def polyline(xs: np.ndarray, ys: np.ndarray, width: int, height: int, dashed: bool = False) -> np.ndarray:
    """A [height, width] dot mask through points given in dot coordinates (x right, y down), joined column by column."""
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
        if not dashed or (column // 3) % 2 == 0:
            dots[min(previous, row):max(previous, row) + 1, column] = True
        previous = row
    return dots


def nice_ticks(low: float, high: float, most: int) -> list[float]:
    """Round values (1, 2 or 5 times a power of ten) between low and high, at most `most`."""
    if high <= low or most < 2:
        return [low]
    raw = (high - low) / (most - 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw * (1 - 1e-9))
    first = math.ceil(low / step - 1e-9) * step
    return [first + i * step for i in range(int((high - first) / step + 1e-9) + 1)]


def _compact(value: float) -> str:
    if abs(value) >= 1000:
        return f"{value / 1000:g}k"
    return f"{value:g}"


def _x_axis(left: int, cols: int, x0: float, x1: float, ticks: list[float], title: str) -> list[Strip]:
    """The axis line with a mark under every tick, and the tick labels with the axis title at the right end."""
    axis, labels = ["─"] * cols, [" "] * cols
    room = cols - len(title) - 1 if title and len(title) + 4 < cols else cols  # the title keeps the right end
    for value in ticks:
        c = int(round((value - x0) / (x1 - x0) * (cols - 1))) if x1 > x0 else 0
        axis[c] = "┬"
        text = _compact(value)
        start = max(0, min(c - len(text) // 2, cols - len(text)))
        if start + len(text) <= room and all(ch == " " for ch in labels[max(0, start - 1):start + len(text) + 1]):
            labels[start:start + len(text)] = text
    label_text = "".join(labels[:room]).rstrip()
    if room < cols:
        label_text = label_text.ljust(cols - len(title)) + title
    return [
        Strip([Segment(" " * (left - 1) + "└" + "".join(axis), AXIS)]),
        Strip([Segment(" " * left + label_text, LABEL)]),
    ]


def legend(items: Sequence[Line | Points], width: int) -> Strip:
    """Each series' colour and name (and note), as many as fit on one line."""
    segments, used = [Segment(" ")], 1
    for item in items:
        dash = "╌╌ " if getattr(item, "dashed", False) else "━━ "
        text = item.label + (f" {item.note}" if getattr(item, "note", "") else "") + "  "
        if used + len(dash) + len(text.rstrip()) > width:
            break
        segments += [Segment(dash, Style(color=item.colour, bold=True)), Segment(text)]
        used += len(dash) + len(text)
    return Strip(segments)


def line_chart(
    lines: Sequence[Line], width: int, height: int, x_range: tuple[float, float], y_range: tuple[float, float],
    log_y: bool = False, y_format: Callable[[float], str] = _compact, x_title: str = "", marks: Sequence[tuple[float, str]] = (),
) -> list[Strip]:
    """Exactly `height` lines of `width` cells: y ticks and plot, x axis, x labels, legend.

    `log_y` places log10 of the values (y_range in real units, powers of ten
    as ticks). `marks` are vertical dashed lines at given x, labelled on top.
    """
    width, height = max(width, 0), max(height, 0)
    if height < 5 or width < 16:
        return [legend(lines, width).adjust_cell_length(width)] + [Strip.blank(width)] * max(height - 1, 0)
    y0, y1 = (math.log10(v) for v in y_range) if log_y else y_range
    if y1 <= y0:
        y1 = y0 + 1
    x0, x1 = x_range
    if x1 <= x0:
        x1 = x0 + 1
    rows = height - 3
    if log_y:
        ticks = [float(k) for k in range(math.ceil(y0), math.floor(y1) + 1)]
        while len(ticks) > max(2, rows // 2 + 1):
            ticks = ticks[::2]
        tick_text = {v: f"1e{int(v)}" if v else "1" for v in ticks}
    else:
        ticks = nice_ticks(y0, y1, max(2, rows // 2 + 1))
        tick_text = {v: y_format(v) for v in ticks}
    tick_row = {int(round((y1 - v) / (y1 - y0) * (rows - 1))): text for v, text in tick_text.items()}
    left = max(len(t) for t in tick_text.values()) + 2
    cols = width - left - 1
    canvas = Canvas(cols, rows)
    dot_w, dot_h = canvas.dot_size

    def to_dots(xs, ys):
        xs, ys = np.asarray(xs, float), np.asarray(ys, float)
        if log_y:
            with np.errstate(divide="ignore", invalid="ignore"):
                ys = np.log10(np.where(ys > 0, ys, np.nan))
        return (xs - x0) / (x1 - x0) * (dot_w - 1), (y1 - ys) / (y1 - y0) * (dot_h - 1)

    for x, _ in marks:  # drawn first, so the lines pass over them
        column = int(round((x - x0) / (x1 - x0) * (dot_w - 1)))
        if 0 <= column < dot_w:
            mask = np.zeros((dot_h, dot_w), bool)
            mask[:, column] = (np.arange(dot_h) // 2) % 2 == 0
            canvas.draw(mask, "grey42")
    for line in lines:
        canvas.draw(polyline(*to_dots(line.xs, line.ys), dot_w, dot_h, line.dashed), line.colour)
    out = []
    for r in range(rows):
        text = tick_row.get(r)
        gutter = Segment((text.rjust(left - 2) + " ┤") if text else " " * (left - 1) + "│", AXIS)
        out.append(Strip([gutter, *canvas.row(r)]))
    for x, label in marks:  # the mark's label on its top row, where no line passes
        c = int(round((x - x0) / (x1 - x0) * (cols - 1)))
        if 0 <= c < cols and label:
            top = out[0]
            start = min(c + 1, cols - len(label))
            out[0] = Strip.join([top.crop(0, left + start), Strip([Segment(label, LABEL)]), top.crop(left + start + len(label))])
    x_ticks = nice_ticks(x0, x1, max(2, cols // 10))
    out += _x_axis(left, cols, x0, x1, x_ticks, x_title)
    out.append(legend(lines, width))
    return [strip.adjust_cell_length(width) for strip in out[:height]]


def scatter_chart(groups: Sequence[Points], width: int, height: int, x_title: str, y_title: str) -> list[Strip]:
    """Points of the unit square in a square plot (a character is about twice as tall as wide), axes 0..1."""
    width, height = max(width, 0), max(height, 0)
    left = 5  # "0.5 ┤"
    rows = min(height - 5, (width - left - 1) // 2)  # title, axis, labels, x title, legend
    if rows < 2:
        return [legend(groups, width).adjust_cell_length(width)] + [Strip.blank(width)] * max(height - 1, 0)
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
    out = [Strip([Segment(y_title[:width], LABEL)])]
    for r in range(rows):
        text = tick_row.get(r)
        gutter = Segment(text.rjust(left - 2) + " ┤" if text else " " * (left - 1) + "│", AXIS)
        out.append(Strip([gutter, *canvas.row(r)]))
    out += _x_axis(left, cols, 0.0, 1.0, [0.0, 0.5, 1.0], "")
    out.append(Strip([Segment(" " * left + x_title, LABEL)]))
    out.append(legend(groups, width))
    return [strip.adjust_cell_length(width) for strip in out[:height]] + [Strip.blank(width)] * max(0, height - len(out))


Painter = Callable[[int, int], list[Strip]]


class PlotView(Widget):
    """Shows whatever its painter draws at the widget's size; repainted only when the data or the size changes."""

    DEFAULT_CSS = "PlotView { height: 1fr; }"

    def __init__(self, painter: Painter | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self._painter = painter
        self._lines: list[Strip] | None = None
        self._painted_at = (-1, -1)

    def show(self, painter: Painter) -> None:
        self._painter, self._lines = painter, None
        self.refresh()

    def lines(self) -> list[Strip]:
        width, height = self.size
        if self._lines is None or self._painted_at != (width, height):
            self._lines = self._painter(width, height) if self._painter and width and height else []
            self._painted_at = (width, height)
        return self._lines

    def text(self) -> str:
        """What is on screen, as plain text (for a reader or a test)."""
        return "\n".join(strip.text for strip in self.lines())

    def render_line(self, y: int) -> Strip:
        lines = self.lines()
        return lines[y] if y < len(lines) else Strip.blank(self.size.width)
