"""The Loss pane: smoothed training loss and validation loss against step, drawn in braille."""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

from rnntui.tui.widgets.braille_plot import Series, render_chart

TRAIN_COLOUR = "#5fafff"
VAL_COLOUR = "#ffaf00"


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
        lines = render_chart(
            [Series("train (smoothed)", self.train, TRAIN_COLOUR, "train"),
             Series("validation", self.val, VAL_COLOUR, "val")],
            width, height, empty_message="press space to start training",
        )
        return Text("\n").join(lines)
