"""The probe text itself, each character tinted by one unit's value as it was read.

This is the view in which a unit that tracks quotes, line length or indentation
shows itself: the text reads normally and the colour runs along it. Lines wrap
at spaces where they can; a newline in the text is shown as ⏎ and ends a line.
"""

from __future__ import annotations

import numpy as np
from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.events import Resize
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from rnntui.tui.widgets.heatmap import ColourScale, visible_char

CAPTION_STYLE = Style(dim=True, italic=True)
CURSOR_STYLE = Style(bold=True, underline=True)


def text_glyph(char: str) -> str:
    """How a character of the text is drawn here: spaces stay spaces, invisibles get a sign."""
    return " " if char == " " else visible_char(char)


def wrap_positions(text: str, width: int) -> list[list[int]]:
    """Split the text into screen lines of character positions, at most `width` cells each.

    A line that overflows breaks after its last space (the word moves down); a
    word longer than the line is cut. A newline ends its line.
    """
    width = max(1, width)
    lines: list[list[int]] = [[]]
    used = 0
    for t, char in enumerate(text):
        w = cell_len(text_glyph(char))
        line = lines[-1]
        if used + w > width and line:
            spaces = [k for k, pos in enumerate(line) if text[pos] == " "]
            carry: list[int] = []
            if spaces and spaces[-1] < len(line) - 1:
                carry = line[spaces[-1] + 1:]
                if sum(cell_len(text_glyph(text[p])) for p in carry) + w > width:
                    carry = []
            del line[len(line) - len(carry):]
            lines.append(carry)
            used = sum(cell_len(text_glyph(text[p])) for p in carry)
        lines[-1].append(t)
        used += w
        if char == "\n":
            lines.append([])
            used = 0
    if len(lines) > 1 and not lines[-1]:
        lines.pop()
    return lines


class UnitTextView(ScrollView, can_focus=False):
    """Line 0 is a caption; below it the wrapped text, tinted by the chosen unit."""

    DEFAULT_CSS = """
    UnitTextView {
        scrollbar-size: 1 1;
        scrollbar-gutter: stable;
        overflow-x: hidden;
        height: 1fr;
    }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._text = ""
        self._levels: list[int] = []
        self._scale: ColourScale | None = None
        self._cursor_t = 0
        self._caption = ""
        self._lines: list[list[int]] = []
        self._wrapped_at = -1

    def set_unit(self, text: str, values: np.ndarray, scale: ColourScale, cursor_t: int, caption: str) -> None:
        """Tint `text` by `values` ([T], one unit over time) and mark timestep `cursor_t`."""
        if text != self._text:
            self._wrapped_at = -1
        self._text = text
        self._levels = scale.levels(values).tolist()
        self._scale = scale
        self._cursor_t = cursor_t
        self._caption = caption
        self._rewrap()
        self.refresh()

    @property
    def lines(self) -> list[list[int]]:
        """The wrapped text as character positions, one list per screen line."""
        return self._lines

    def _rewrap(self) -> None:
        width = self.size.width
        if width != self._wrapped_at:
            self._lines = wrap_positions(self._text, width) if self._text else []
            self._wrapped_at = width
            self.virtual_size = Size(width, 1 + len(self._lines))

    def on_resize(self, event: Resize) -> None:
        self._rewrap()
        self.refresh()

    def scroll_to_cursor(self) -> None:
        """Keep the cursor's line on screen (the caption line scrolls with the text)."""
        for number, line in enumerate(self._lines, start=1):
            if line and line[0] <= self._cursor_t <= line[-1]:
                top = int(self.scroll_y)
                if number < top:
                    self.scroll_to(y=number, animate=False)
                elif number >= top + self.size.height:
                    self.scroll_to(y=number - self.size.height + 1, animate=False)
                return

    def render_line(self, y: int) -> Strip:
        # Every segment gets a style: under NO_COLOR the terminal's colour filter reads each one's.
        return self._line(y).apply_style(self.rich_style)

    def _line(self, y: int) -> Strip:
        width = self.size.width
        number = y + int(self.scroll_y)
        if number == 0:
            return Strip([Segment(self._caption, CAPTION_STYLE)]).adjust_cell_length(width)
        if self._scale is None or number > len(self._lines):
            return Strip.blank(width)
        palette = self._scale.palette
        segments = []
        for t in self._lines[number - 1]:
            style = palette[self._levels[t]] if t < len(self._levels) else None
            if t == self._cursor_t:
                style = (style or Style()) + CURSOR_STYLE
            segments.append(Segment(text_glyph(self._text[t]), style))
        return Strip(segments).adjust_cell_length(width)
