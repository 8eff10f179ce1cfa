"""The Loss pane: smoothed training loss and validation loss against step, drawn by the one chart widget."""

from __future__ import annotations

from rnntui.plot.loss import loss_chart, loss_lines
from rnntui.tui.widgets.chart_view import ChartView

EMPTY = "press space to start training"


class LossChart(ChartView):
    """Plots whatever history it was last given; the app decides how often."""

    def __init__(self, **kwargs):
        super().__init__(self._painter_for([], []), **kwargs)
        self.train: list[tuple[int, float]] = []
        self.val: list[tuple[int, float]] = []

    def on_mount(self) -> None:
        self.border_title = "Loss"

    def plot(self, train: list[tuple[int, float]], val: list[tuple[int, float]]) -> None:
        self.train, self.val = list(train), list(val)
        self.show(self._painter_for(self.train, self.val))

    @staticmethod
    def _painter_for(train, val):
        return lambda width, height: loss_chart(loss_lines(train, val), width, height, empty_message=EMPTY)
