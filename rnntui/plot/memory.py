"""The memory span chart: mean saliency against how far back a character lies, as a share of the largest.

Log y, because saliency falls about exponentially with distance: the tail,
where a trained model keeps looking and a fresh one does not, is what a
learner watches grow.
"""

from __future__ import annotations

from rich.text import Text

from rnntui.plot.chart import Line, line_chart
from rnntui.plot.colour import TRAIN_COLOUR
from rnntui.train.explain import MemorySpan

FLOOR = 1e-4  # the chart's bottom, as a share of the largest mean saliency


def memory_span_chart(span: MemorySpan | None, width: int, height: int) -> list[Text]:
    """Exactly `height` lines of `width` cells; the legend says how far back half the saliency reaches."""
    if span is None or not span.saliency.size:
        return line_chart([], width, height, empty_message="no span yet")
    peak = float(span.saliency.max())
    shares = span.saliency / peak if peak > 0 else span.saliency
    half = span.within(0.5)
    line = Line("saliency", span.distances.tolist(), [max(s, FLOOR) for s in shares.tolist()], TRAIN_COLOUR,
                legend=(f"half within {half} chars back", f"half ≤ {half} back", f"½ ≤ {half}"))
    return line_chart([line], width, height, log_y=True, y_range=(FLOOR, 1.0), x_title="chars back",
                      y_format=lambda v: f"{v:g}")
