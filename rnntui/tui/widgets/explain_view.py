"""The Explain view: what the model predicts at the cursor, and which earlier characters it leaned on.

Move the cursor onto a character of the probe text: the bars show the model's
likeliest guesses for it (the actual character marked), and every earlier
character is tinted by its saliency for that prediction, as a share of the
largest (see train/explain.py). Characters after the cursor are dimmed: the
prediction never saw them. A new explanation (the model trained on) keeps the
cursor where it is, so the tints can be watched spreading back as the model
learns to look further.

Drawn line by line: line 0 is a caption, then one line per bar, a blank line,
and the text, wrapped at spaces. Positions are measured in terminal cells:
a wide character (Korean, Chinese, emoji) takes two, and each bar's label is
padded to two cells, so the bars start in one column whatever the characters.
"""

from __future__ import annotations

import numpy as np
from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.events import Resize
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from rnntui.train.explain import Explanation, Prediction
from rnntui.plot.heatmap import FRACTION_PALETTE, ColourScale, visible_char
from rnntui.tui.playground.unit_text import text_glyph, wrap_positions

LABEL_CELLS = 2  # a bar's label: one character, padded to the width of a wide one
PERCENT = "{:6.1%}"
ACTUAL_MARK = " ◀ actual"
CAPTION_STYLE = Style(dim=True, italic=True)
BAR_STYLE = Style(color="rgb(236,117,57)")
ACTUAL_STYLE = Style(bold=True)
CURSOR_STYLE = Style(reverse=True, bold=True, underline=True)
UNSEEN_STYLE = Style(dim=True)
SALIENCY_SCALE = ColourScale(0.0, 1.0, FRACTION_PALETTE)


def bar_label(char: str) -> str:
    """A character as a bar's label: its visible sign, padded to exactly LABEL_CELLS cells."""
    glyph = visible_char(char)
    return glyph + " " * max(0, LABEL_CELLS - cell_len(glyph))


class ExplainView(ScrollView, can_focus=True):
    """Shows one `Explanation`; the cursor picks which of its predictions."""

    DEFAULT_CSS = """
    ExplainView {
        scrollbar-size: 1 1;
        overflow-x: hidden;
        height: 1fr;
    }
    """

    BINDINGS = [
        Binding("left", "move(-1)", "previous character", show=False),
        Binding("right", "move(1)", "next character", show=False),
        Binding("up", "move_line(-1)", "line up", show=False),
        Binding("down", "move_line(1)", "line down", show=False),
        Binding("home", "move_to(0)", "first", show=False),
        Binding("end", "move_to(-1)", "last", show=False),
    ]

    class Moved(Message):
        """The cursor is on a new position of the text."""

        def __init__(self, position: int) -> None:
            super().__init__()
            self.position = position

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._explanation: Explanation | None = None
        self._positions: list[int] = []
        self._cursor = 0  # an index into _positions
        self._lines: list[list[int]] = []
        self._wrapped_at = -1

    # ----- data --------------------------------------------------------------------------

    def show(self, explanation: Explanation) -> None:
        """Show a new explanation; the cursor stays on its position when the new one has it."""
        kept = self.position
        if self._explanation is None or explanation.text != self._explanation.text:
            self._wrapped_at = -1
        self._explanation = explanation
        self._positions = [p.position for p in explanation.predictions]
        if kept is None or not self._positions:
            self._cursor = len(self._positions) - 1
        else:
            self._cursor = int(np.clip(np.searchsorted(self._positions, kept), 0, len(self._positions) - 1))
        self._relayout()

    @property
    def position(self) -> int | None:
        """The position under the cursor: the model read text[:position] and predicts text[position]."""
        return self._positions[self._cursor] if self._positions else None

    @property
    def prediction(self) -> Prediction | None:
        return self._explanation.predictions[self._cursor] if self._positions else None

    # ----- keys --------------------------------------------------------------------------

    def action_move(self, by: int) -> None:
        self._go(self._cursor + by)

    def action_move_to(self, index: int) -> None:
        self._go(index if index >= 0 else len(self._positions) + index)

    def action_move_line(self, by: int) -> None:
        """To the character in the same column of the line above or below (or that line's last)."""
        position = self.position
        if position is None:
            return
        number = self._line_of(position)
        target = number + by
        if not 0 <= target < len(self._lines):
            return
        line = self._lines[number]
        column = sum(cell_len(text_glyph(self._explanation.text[t])) for t in line[: line.index(position)])
        chosen, used = self._lines[target][-1], 0
        for t in self._lines[target]:
            used += cell_len(text_glyph(self._explanation.text[t]))
            if used > column:
                chosen = t
                break
        self._go(int(np.clip(np.searchsorted(self._positions, chosen), 0, len(self._positions) - 1)))

    def _go(self, index: int) -> None:
        if not self._positions:
            return
        index = max(0, min(len(self._positions) - 1, index))
        if index != self._cursor:
            self._cursor = index
            self.post_message(self.Moved(self.position))
            self._scroll_to_cursor()
            self.refresh()

    # ----- layout ------------------------------------------------------------------------

    @property
    def _bar_rows(self) -> int:
        prediction = self.prediction
        if prediction is None:
            return 0
        return len(prediction.top) + (prediction.target not in dict(prediction.top))

    @property
    def _text_top(self) -> int:
        """The first line of the text: after the caption, the bars and a blank line."""
        return 1 + self._bar_rows + 1

    def _relayout(self) -> None:
        width = self.size.width
        if width != self._wrapped_at and self._explanation is not None:
            self._lines = wrap_positions(self._explanation.text, width) if self._explanation.text else []
            self._wrapped_at = width
        self.virtual_size = Size(width, self._text_top + len(self._lines))
        self.refresh()

    def on_resize(self, event: Resize) -> None:
        self._relayout()

    def _line_of(self, position: int) -> int:
        for number, line in enumerate(self._lines):
            if line and line[0] <= position <= line[-1]:
                return number
        return 0

    def _scroll_to_cursor(self) -> None:
        y = self._text_top + self._line_of(self.position)
        top = int(self.scroll_y)
        if y < top:
            self.scroll_to(y=y, animate=False)
        elif y >= top + self.size.height:
            self.scroll_to(y=y - self.size.height + 1, animate=False)

    # ----- drawing -----------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        # The widget's style under every segment, as in every line-drawn widget: see ChartView.
        return self._render_line(y).apply_style(self.rich_style)

    def _render_line(self, y: int) -> Strip:
        width = self.size.width
        number = y + int(self.scroll_y)
        prediction = self.prediction
        if prediction is None:
            return Strip([Segment("no explanation yet", CAPTION_STYLE)]).adjust_cell_length(width)
        if number == 0:
            return Strip([Segment(self._caption(prediction), CAPTION_STYLE)]).adjust_cell_length(width)
        if number <= self._bar_rows:
            return self._bar(prediction, number - 1, width)
        text_line = number - self._text_top
        if 0 <= text_line < len(self._lines):
            return self._text_line(prediction, self._lines[text_line], width)
        return Strip.blank(width)

    def _caption(self, prediction: Prediction) -> str:
        return (f"position {prediction.position} of {len(self._explanation.text) - 1}: "
                f"p(actual '{visible_char(prediction.target)}') = {prediction.prob:.1%}")

    def _bar(self, prediction: Prediction, row: int, width: int) -> Strip:
        """One of the likeliest characters as a bar; the actual character's row is marked."""
        if row < len(prediction.top):
            char, p = prediction.top[row]
        else:  # the actual character, when it is not among the likeliest
            char, p = prediction.target, prediction.prob
        actual = char == prediction.target
        percent = PERCENT.format(p)
        room = max(1, width - LABEL_CELLS - 1 - len(percent) - 1 - len(ACTUAL_MARK))
        length = int(round(p * room))
        label_style = ACTUAL_STYLE if actual else None
        segments = [
            Segment(bar_label(char), label_style),
            Segment(" "),
            Segment("█" * length, BAR_STYLE),
            Segment(" " * (room - length + 1)),
            Segment(percent, label_style),
        ]
        if actual:
            segments.append(Segment(ACTUAL_MARK, ACTUAL_STYLE))
        return Strip(segments).adjust_cell_length(width)

    def _text_line(self, prediction: Prediction, line: list[int], width: int) -> Strip:
        """Characters before the cursor tinted by saliency, the cursor's own marked, later ones dimmed."""
        text = self._explanation.text
        levels = SALIENCY_SCALE.levels(prediction.relative_saliency())
        segments = []
        for t in line:
            if t < prediction.position:
                style = SALIENCY_SCALE.palette[levels[t]]
            elif t == prediction.position:
                style = CURSOR_STYLE
            else:
                style = UNSEEN_STYLE
            segments.append(Segment(text_glyph(text[t]), style))
        return Strip(segments).adjust_cell_length(width)
