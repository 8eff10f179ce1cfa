"""The units-by-timesteps grid, drawn line by line; its colour scales and labels are in rnntui/plot/heatmap.py.

Only the lines on screen are built, so a 512-unit, 200-step grid costs as much
to draw as the pane has rows. The header row (one label per timestep) and the
unit gutter stay put while the grid scrolls under them.
"""

from __future__ import annotations

import numpy as np
from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.events import Click
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from rnntui.plot.heatmap import (  # noqa: F401 (the Gates pane takes the scale and the labels from here)
    COLUMN_WIDTH,
    GUTTER_STYLE,
    SIGNED_PALETTE,
    ColourScale,
    column_label,
    visible_char,
)


def _left_half(segment: Segment) -> Segment:
    """The first cell of a two-cell column (half a wide character is a blank)."""
    text = segment.text
    return Segment(text[0] if cell_len(text[0]) == 1 else " ", segment.style)


def _right_half(segment: Segment) -> Segment:
    """The second cell of a two-cell column."""
    text = segment.text
    return Segment(text[-1] if len(text) == COLUMN_WIDTH else " ", segment.style)
CURSOR_MARK_STYLE = Style(reverse=True, bold=True)


class HeatmapView(ScrollView, can_focus=False):
    """Units down, timesteps across; the owning pane keeps the cursor and the data."""

    DEFAULT_CSS = """
    HeatmapView {
        scrollbar-size: 1 1;
        height: 1fr;
    }
    """

    class CellClicked(Message):
        """The user clicked a cell: `row` in display order, timestep `t`."""

        def __init__(self, row: int, t: int) -> None:
            super().__init__()
            self.row = row
            self.t = t

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._levels: np.ndarray | None = None  # [H, T] palette indexes, unit-major
        self._palette: tuple[Style, ...] = SIGNED_PALETTE
        self._cells: tuple[Segment, ...] = ()
        self._labels: list[str] = []
        self._order: np.ndarray = np.zeros(0, np.intp)
        self._cursor = (0, 0)  # (row in display order, timestep)
        self._gutter = 0

    # ----- data -------------------------------------------------------------------------

    def set_grid(self, levels: np.ndarray, scale: ColourScale, labels: list[str], order: np.ndarray,
                 cursor_row: int, cursor_t: int) -> None:
        """Show `levels` ([T, H] palette indexes) with units in `order`."""
        steps, units = levels.shape
        self._levels = np.ascontiguousarray(levels.T)
        if scale.palette is not self._palette or not self._cells:
            self._palette = scale.palette
            self._cells = tuple(Segment(" " * COLUMN_WIDTH, style) for style in scale.palette)
        self._labels = labels
        self._order = order
        self._cursor = (cursor_row, cursor_t)
        self._gutter = len(str(max(units - 1, 0))) + 1
        self.virtual_size = Size(self._gutter + COLUMN_WIDTH * steps, 1 + units)
        self.refresh()

    def clear(self) -> None:
        self._levels = None
        self.virtual_size = Size(0, 0)
        self.refresh()

    @property
    def gutter_width(self) -> int:
        return self._gutter

    def scroll_to_cell(self, row: int, t: int) -> None:
        """Scroll just enough that cell (row, t) is on screen beside the frozen header and gutter."""
        span_x = max(COLUMN_WIDTH, self.size.width - self._gutter)
        span_y = max(1, self.size.height - 1)
        x, y = int(self.scroll_x), int(self.scroll_y)
        left = COLUMN_WIDTH * t
        if left < x:
            x = left
        elif left + COLUMN_WIDTH > x + span_x:
            x = left + COLUMN_WIDTH - span_x
            x += x % COLUMN_WIDTH  # start on a column boundary, so no label is cut in half
        if row < y:
            y = row
        elif row >= y + span_y:
            y = row - span_y + 1
        self.scroll_to(x, y, animate=False)

    # ----- drawing ----------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        # Every segment gets a style: under NO_COLOR the terminal's colour filter reads each one's.
        return self._line(y).apply_style(self.rich_style)

    def _line(self, y: int) -> Strip:
        width = self.size.width
        if self._levels is None or width <= 0:
            return Strip.blank(width)
        units, steps = self._levels.shape
        scroll_x, scroll_y = int(self.scroll_x), int(self.scroll_y)
        span = max(0, width - self._gutter)
        # Only the columns on screen; the one at either edge may show half.
        first = scroll_x // COLUMN_WIDTH
        last = min(steps, -(-(scroll_x + span) // COLUMN_WIDTH)) if span else first
        cursor_row, cursor_t = self._cursor
        if y == 0:
            gutter = Segment(" " * self._gutter)
            cells = [
                Segment(self._labels[t], CURSOR_MARK_STYLE if t == cursor_t else None)
                for t in range(first, last)
            ]
        else:
            row = y - 1 + scroll_y
            if row >= units:
                return Strip.blank(width)
            unit = int(self._order[row])
            gutter_style = CURSOR_MARK_STYLE if row == cursor_row else GUTTER_STYLE
            gutter = Segment(f"{unit:>{self._gutter - 1}} ", gutter_style)
            levels = self._levels[unit, first:last].tolist()
            cells = [self._cells[level] for level in levels]
            if row == cursor_row and first <= cursor_t < last:
                style = self._palette[levels[cursor_t - first]] + Style(bold=True)
                cells[cursor_t - first] = Segment("[]", style)
        used = COLUMN_WIDTH * len(cells)
        if cells and scroll_x > first * COLUMN_WIDTH:
            cells[0] = _right_half(cells[0])
            used -= 1
        if cells and used > span:
            cells[-1] = _left_half(cells[-1])
            used -= 1
        return Strip([gutter, *cells], self._gutter + used).adjust_cell_length(width)

    def on_click(self, event: Click) -> None:
        if self._levels is None or event.y < 1 or event.x < self._gutter:
            return
        row = event.y - 1 + int(self.scroll_y)
        t = (event.x - self._gutter + int(self.scroll_x)) // COLUMN_WIDTH
        units, steps = self._levels.shape
        if row < units and t < steps:
            self.post_message(self.CellClicked(row, t))
