"""The loss chart: training and validation loss against step, read in nats on the left and bits per character on the right."""

from __future__ import annotations

import math
from collections.abc import Sequence

from rich.text import Text

from rnntui.plot.chart import Line, line_chart
from rnntui.plot.colour import TRAIN_COLOUR, VALIDATION_COLOUR

BITS_PER_NAT = 1 / math.log(2)
MIN_PAD = 0.05  # nats above and below the data, so a flat curve is not drawn on the frame


def loss_line(label: str, points: Sequence[tuple[int, float]], colour: str, short_label: str = "") -> Line:
    """(step, loss in nats) points as a chart line whose legend gives the latest loss in both units, as room allows."""
    legend: tuple[str, ...] = ()
    if points:
        nats = points[-1][1]
        bits = nats * BITS_PER_NAT
        short = short_label or label
        legend = (f"{label} {nats:.3f} nats {bits:.2f} bpc", f"{label} {nats:.2f} ({bits:.2f} bpc)",
                  f"{short} {nats:.2f} ({bits:.2f} bpc)", f"{short} {nats:.2f}")
    elif short_label:
        legend = (label, short_label)
    return Line(label, [p[0] for p in points], [p[1] for p in points], colour, legend=legend)


def loss_lines(train: Sequence[tuple[int, float]], val: Sequence[tuple[int, float]]) -> list[Line]:
    """The playground's two curves: smoothed training loss and validation loss."""
    return [loss_line("train (smoothed)", train, TRAIN_COLOUR, "train"),
            loss_line("validation", val, VALIDATION_COLOUR, "val")]


def loss_chart(lines: Sequence[Line], width: int, height: int, empty_message: str = "") -> list[Text]:
    """Exactly `height` lines of `width` cells; y from a little under the lowest loss (never below 0) to a little over the highest."""
    ys = [y for line in lines for y in line.ys if math.isfinite(y)]
    low, high = (min(ys), max(ys)) if ys else (0.0, 5.0)
    pad = max((high - low) * 0.05, MIN_PAD)
    return line_chart(
        lines, width, height, y_range=(max(0.0, low - pad), high + pad), x_range=None if ys else (0, 100),
        y_format=lambda v: f"{v:.2f}", right_format=lambda v: f"{v * BITS_PER_NAT:.2f}",
        units=("nats", "bits/char"), x_title="step", empty_message=empty_message, even_ticks=True,
    )
