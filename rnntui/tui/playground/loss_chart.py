"""The Loss pane: smoothed training loss and validation loss against step, drawn in braille."""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

from rnntui.plot.loss import loss_chart, loss_lines


class LossChart(Widget):
    """Plots whatever history it was last given; the app decides how often."""

    DEFAULT_CSS = "LossChart { height: 1fr; }"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.train: list[tuple[int, float]] = []
        self.val: list[tuple[int, float]] = []

    def on_mount(self) -> None:
        self.border_title = "Loss"

    def plot(self, train: list[tuple[int, float]], val: list[tuple[int, float]]) -> None:
        self.train, self.val = list(train), list(val)
        self.refresh()

    def render(self) -> Text:
        width, height = self.content_size
        lines = loss_chart(loss_lines(self.train, self.val), width, height, empty_message="press space to start training")
        return Text("\n").join(lines)
