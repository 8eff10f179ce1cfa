"""The one chart widget: shows whatever a painter of rnntui.plot draws at the widget's size.

The painter is called again only when the data (a new painter) or the size
changed; between those, Textual asks for lines and gets the cached ones.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual.strip import Strip
from textual.widget import Widget

from rnntui.plot.chart import plain

Painter = Callable[[int, int], list[Text]]  # (width, height) -> exactly height lines of width cells


class ChartView(Widget):
    DEFAULT_CSS = "ChartView { height: 1fr; }"

    def __init__(self, painter: Painter | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self._painter = painter
        self._lines: list[Text] | None = None
        self._strips: list[Strip] = []
        self._painted_at = (-1, -1)

    def show(self, painter: Painter) -> None:
        self._painter, self._lines = painter, None
        self.refresh()

    def lines(self) -> list[Text]:
        width, height = self.content_size
        if self._lines is None or self._painted_at != (width, height):
            self._lines = self._painter(width, height) if self._painter and width and height else []
            self._painted_at = (width, height)
            console = self.app.console
            self._strips = [Strip(list(line.render(console)), line.cell_len) for line in self._lines]
        return self._lines

    def text(self) -> str:
        """What is on screen, as plain text (for a reader or a test)."""
        return plain(self.lines())

    def render_line(self, y: int) -> Strip:
        self.lines()
        strip = self._strips[y] if y < len(self._strips) else Strip.blank(self.content_size.width)
        # The widget's style under every segment: a segment with none breaks Textual's colour
        # filters (NO_COLOR, a dumb terminal), and the chart's blanks take the pane's background.
        return strip.apply_style(self.rich_style)
