"""The lab screen's three panes: the race, the gradient reach and the gate saturation.

Each pane is a titled box with one line saying what to look for and a chart
under it. The screen hands a pane plain numbers; the pane keeps them and
repaints its chart at whatever size it has.
"""

from __future__ import annotations

import numpy as np
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from rnntui.lab.reach import Reach
from rnntui.lab.saturation import GateSaturation
from rnntui.plot.chart import Line, Points, line_chart, scatter_chart
from rnntui.plot.race import race_chart
from rnntui.plot.colour import CELL_COLOURS, GATE_COLOURS
from rnntui.tui.widgets.chart_view import ChartView

EMPTY = "press space to start the race"


class LabPane(Vertical):
    """A bordered pane: a title, an explanatory line, a chart."""

    DEFAULT_CSS = """
    LabPane {
        border: round $panel-lighten-2;
        height: 1fr;
        padding: 0 1;
    }
    LabPane > .lab-explain {
        height: auto;
        max-height: 2;
        color: $text-muted;
    }
    """

    TITLE = ""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.border_title = self.TITLE

    def compose(self) -> ComposeResult:
        yield Static(EMPTY, classes="lab-explain")
        yield ChartView()

    @property
    def plot(self) -> ChartView:
        return self.query_one(ChartView)

    def explain(self, text: str) -> None:
        self.query_one(".lab-explain", Static).update(text)

    @property
    def explanation(self) -> str:
        return str(self.query_one(".lab-explain", Static).render())


class RacePane(LabPane):
    """Scored-position accuracy against step, one line per cell, and chance as a dashed line."""

    TITLE = "Race"

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.curves: dict[str, list[tuple[int, float]]] = {}
        self.steps, self.chance, self.bptt = 1, 0.0, 0

    def reset(self, cells, steps: int, chance: float, bptt: int) -> None:
        self.curves = {cell: [] for cell in cells}
        self.steps, self.chance, self.bptt = steps, chance, bptt
        self._repaint()

    def add(self, cell: str, step: int, accuracy: float) -> None:
        self.curves.setdefault(cell, []).append((step, accuracy))

    def points(self) -> int:
        return sum(len(c) for c in self.curves.values())

    def _repaint(self) -> None:
        curves, steps, chance = {c: list(v) for c, v in self.curves.items()}, self.steps, self.chance
        self.plot.show(lambda w, h: race_chart(curves, steps, chance, w, h))

    def refresh_chart(self) -> None:
        self._repaint()


class ReachPane(LabPane):
    """||dLoss_T/dh_t|| against T - t on a log scale, one line per cell and layer; k marked when it cuts."""

    TITLE = "Gradient reach"

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.reach: dict[str, Reach] = {}
        self.step: int | None = None

    def show_reach(self, reach: dict[str, Reach], step: int, bptt: int) -> None:
        self.reach, self.step = reach, step
        lines = []
        for cell, r in reach.items():
            layers = r.norms.shape[0]
            for k in range(layers):
                label = cell if layers == 1 else f"{cell} l{k + 1}"
                far = int(r.distances[-1])
                lines.append(Line(label, r.distances, r.norms[k], CELL_COLOURS.get(cell, "white"),
                                  legend=(f"{label} {r.ratio(far, k):.0e}",)))
        far = max((int(r.distances[-1]) for r in reach.values()), default=1)
        positive = np.concatenate([r.norms[r.norms > 0] for r in reach.values()]) if reach else np.ones(1)
        if positive.size == 0:
            positive = np.ones(1)
        low = 10 ** np.floor(np.log10(max(positive.min(), 1e-30)))
        high = 10 ** np.ceil(np.log10(positive.max()))
        marks = [(bptt, "k")] if 0 < bptt < far else []
        self.plot.show(lambda w, h: line_chart(
            lines, w, h, x_range=(0, far), y_range=(low, max(high, low * 10)), log_y=True, x_title="T-t", marks=marks,
        ))

    def ratios(self) -> dict[str, float]:
        """Share of the gradient left at the farthest distance, per cell (top layer)."""
        return {cell: r.ratio(int(r.distances[-1])) for cell, r in self.reach.items()}


class SaturationPane(LabPane):
    """One gated cell's units: share of steps above 0.9 on x, below 0.1 on y, a colour per gate."""

    TITLE = "Gate saturation"

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.gates: dict[str, list[GateSaturation]] = {}
        self.cell = "lstm"

    def show_gates(self, gates: dict[str, list[GateSaturation]], cell: str | None = None) -> None:
        self.gates = gates
        if cell is not None:
            self.cell = cell
        if self.cell not in gates and gates:
            self.cell = next(iter(gates))
        found = gates.get(self.cell, [])
        groups = [
            Points(f"{g.gate}" if len({x.layer for x in found}) == 1 else f"{g.gate}{g.layer + 1}",
                   g.right, g.left, GATE_COLOURS.get(g.gate, "white"))
            for g in found
        ]
        self.border_subtitle = f"{self.cell.upper()} · g: other cell" if found else ""
        self.plot.show(lambda w, h: scatter_chart(
            groups, w, h, x_title="right-saturated (>0.9) →", y_title=f"{self.cell} ↑ left-saturated (<0.1)",
        ))

    def points(self) -> int:
        return sum(len(g.right) for g in self.gates.get(self.cell, []))
