"""The Gates pane: what every unit of every layer did while reading the probe text.

A fresh trace arrives from the run as a `Traced` message (or through
`show(trace, text, cell, step)`); everything the user chose (layer, quantity, cursor, unit order, view) survives
the refresh. Two views of the same numbers:

- the grid: one row per unit, one column per timestep, a colour per value;
- the text view (u): the probe text tinted by the unit under the cursor.
"""

from __future__ import annotations

import numpy as np
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.events import Resize
from textual.widget import Widget
from textual.widgets import Static

from rnntui.plot import gate_stats
from rnntui.tui.playground.probe import Trace
from rnntui.plot.quantities import gist
from rnntui.tui.playground.unit_text import UnitTextView
from rnntui.tui.widgets.heatmap import ColourScale, HeatmapView, column_label, visible_char
from rnntui.tui.widgets.run_worker import RunMessage

PLACEHOLDER = "press space to train; the gates appear here"


LEGEND_CELLS = 8  # width of the colour bar in the status line


def _as_steps_by_units(array) -> np.ndarray:
    """A private [T, H] copy: the engine may reuse its buffers for the next pass."""
    a = np.array(array, copy=True)
    if a.ndim == 3:  # [B, T, H] straight from the engine: the first sequence
        a = a[0]
    if a.ndim == 1:
        a = a[:, None]
    return a


def _format_bound(x: float) -> str:
    return f"{x:.3g}"


class Traced(RunMessage):
    event_type = Trace


class GatesPane(Widget, can_focus=True):
    """Heatmap of one quantity (gate, cell or hidden state) of one layer, with a cursor."""

    DEFAULT_CSS = """
    GatesPane {
        border: round $panel-lighten-2;
        height: 1fr;
    }
    GatesPane:focus {
        border: round $accent;
    }
    GatesPane > #gates-status {
        height: auto;
        max-height: 4;
    }
    GatesPane > UnitTextView {
        display: none;
    }
    GatesPane.-text-view > HeatmapView {
        display: none;
    }
    GatesPane.-text-view > UnitTextView {
        display: block;
    }
    """

    BINDINGS = [
        Binding("g", "next_quantity", "Quantity"),
        Binding("G", "previous_quantity", "Prev quantity", show=False),
        Binding("l", "next_layer", "Layer"),
        Binding("L", "previous_layer", "Prev layer", show=False),
        Binding("left", "move(0, -1)", "Earlier", show=False),
        Binding("right", "move(0, 1)", "Later", show=False),
        Binding("up", "move(-1, 0)", "Unit up", show=False),
        Binding("down", "move(1, 0)", "Unit down", show=False),
        Binding("pageup", "page(-1)", "Units page up", show=False),
        Binding("pagedown", "page(1)", "Units page down", show=False),
        Binding("home", "move(0, -1000000)", "First step", show=False),
        Binding("end", "move(0, 1000000)", "Last step", show=False),
        # Sorting keys stay out of the Footer (it is full at 120 columns); the help screen and
        # the pane's own status line ("order: ...") tell them.
        Binding("v", "sort('variance')", "By variance", show=False),
        Binding("x", "sort('correlation')", "By char", show=False),
        Binding("0", "sort('unit')", "Unit order", show=False),
        Binding("u", "toggle_text_view", "Text"),
    ]

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.border_title = "Gates"
        self._layers: list[dict[str, np.ndarray]] = []  # per layer: quantity -> [T, H]
        self._text = ""
        self._cell = ""
        self._train_step: int | None = None  # None until the first show()
        self._layer = 0
        self._quantity = ""
        self._unit = 0
        self._t = 0
        self._sort = "unit"  # "unit", "variance" or "correlation"
        self._sort_char = ""  # the character a correlation order is about
        self._order = np.zeros(0, np.intp)
        self._correlation: np.ndarray | None = None
        self._composed = False  # children exist only once mounted

    def compose(self) -> ComposeResult:
        yield Static(PLACEHOLDER, id="gates-status")
        yield HeatmapView()
        yield UnitTextView()

    # ----- the contract with the app ----------------------------------------------------

    def on_traced(self, message: Traced) -> None:
        trace = message.event
        self.show(trace.layers, trace.text, trace.cell, trace.step)

    def show(self, trace: list[dict[str, np.ndarray]], text: str, cell: str, step: int) -> None:
        """Take a fresh trace (per layer: quantity -> [T, H]) of `text`, keeping the user's choices."""
        self._layers = [{name: _as_steps_by_units(a) for name, a in layer.items()} for layer in trace]
        self._text, self._cell, self._train_step = text, cell, step
        if not self._layers or not self._layers[0]:
            self._layers = []
            self._redraw()
            return
        self._layer = min(self._layer, len(self._layers) - 1)
        names = self.quantities
        if self._quantity not in names:
            self._quantity = names[0]
        steps, units = self._values().shape
        self._t = min(self._t, max(steps - 1, 0))
        self._unit = min(self._unit, max(units - 1, 0))
        self._resort()

    @property
    def layer_index(self) -> int:
        """Index of the layer shown (0 is the one next to the input).

        Not `layer`: Textual's Widget.layer names the CSS layer a widget is drawn in."""
        return self._layer

    @property
    def quantity(self) -> str:
        """Name of the quantity shown: i, f, g, o, c, h (LSTM), r, z, n, h (GRU) or h (RNN)."""
        return self._quantity

    @property
    def quantities(self) -> list[str]:
        return list(self._layers[self._layer]) if self._layers else []

    @property
    def cursor(self) -> tuple[int, int]:
        """(unit, timestep) under the cursor; the unit is its real index, whatever the order."""
        return self._unit, self._t

    @property
    def order(self) -> list[int]:
        """Unit indexes from the top row down."""
        return self._order.tolist()

    @property
    def sort_mode(self) -> str:
        return self._sort

    @property
    def text_view(self) -> bool:
        """True while the text view (u) replaces the grid."""
        return self.has_class("-text-view")

    def value_at_cursor(self) -> float | None:
        values = self._values()
        if values is None or values.size == 0:
            return None
        return float(values[self._t, self._unit])

    def title_text(self) -> str:
        """The status line as plain text."""
        return self._status().plain

    # ----- actions ----------------------------------------------------------------------

    def action_next_quantity(self) -> None:
        self._step_quantity(1)

    def action_previous_quantity(self) -> None:
        self._step_quantity(-1)

    def action_next_layer(self) -> None:
        self._step_layer(1)

    def action_previous_layer(self) -> None:
        self._step_layer(-1)

    def action_move(self, rows: int, steps: int) -> None:
        values = self._values()
        if values is None or values.size == 0:
            return
        T, H = values.shape
        self._t = min(max(self._t + steps, 0), T - 1)
        row = min(max(self._row() + rows, 0), H - 1)
        self._unit = int(self._order[row])
        self._redraw()

    def action_page(self, direction: int) -> None:
        self.action_move(direction * max(1, self.query_one(HeatmapView).size.height - 2), 0)

    def action_sort(self, mode: str) -> None:
        if not self._layers:
            return
        if mode == "correlation":
            self._sort_char = self._text[self._t] if self._t < len(self._text) else ""
        self._sort = mode
        self._resort(to_top=True)

    def action_toggle_text_view(self) -> None:
        self.toggle_class("-text-view")
        self._redraw()

    def on_heatmap_view_cell_clicked(self, message: HeatmapView.CellClicked) -> None:
        self._t = message.t
        self._unit = int(self._order[message.row])
        self.focus()
        self._redraw()

    def on_resize(self, event: Resize) -> None:
        self.call_after_refresh(self._scroll_to_cursor)

    # ----- internals --------------------------------------------------------------------

    def _values(self) -> np.ndarray | None:
        if not self._layers:
            return None
        return self._layers[self._layer][self._quantity]

    def _row(self) -> int:
        """Where the cursor's unit sits in the current order."""
        rows = np.flatnonzero(self._order == self._unit)
        return int(rows[0]) if rows.size else 0

    def _step_quantity(self, direction: int) -> None:
        names = self.quantities
        if names:
            self._quantity = names[(names.index(self._quantity) + direction) % len(names)]
            self._resort()

    def _step_layer(self, direction: int) -> None:
        if self._layers:
            self._layer = (self._layer + direction) % len(self._layers)
            self._resort()

    def _resort(self, to_top: bool = False) -> None:
        """Recompute the unit order for the current values, then redraw.

        A refresh keeps the cursor on its unit wherever that unit lands; a sort
        the user asked for moves it to the top row, the unit the sort is about.
        """
        values = self._values()
        self._correlation = None
        if self._sort == "variance":
            self._order = gate_stats.order_by_variance(values)
        elif self._sort == "correlation":
            self._correlation = gate_stats.char_correlation(values, self._text, self._sort_char)
            self._order = gate_stats.order_by_correlation(self._correlation)
        else:
            self._order = np.arange(values.shape[1])
        if to_top and self._order.size:
            self._unit = int(self._order[0])
        self._redraw()

    def on_mount(self) -> None:
        self._composed = True
        if self._layers:
            self._redraw()

    def _redraw(self) -> None:
        if not self._composed:
            return  # show() before mounting: on_mount draws it
        status = self.query_one("#gates-status", Static)
        grid = self.query_one(HeatmapView)
        text_view = self.query_one(UnitTextView)
        values = self._values()
        status.update(self._status())
        self.border_subtitle = f"{self._cell.upper()} · step {self._train_step}" if self._layers else ""
        if values is None or values.size == 0:
            grid.clear()
            return
        scale = self._colour_scale(values)
        if self.text_view:
            caption = f"unit {self._unit} tints the text · ↑↓ unit · ←→ step · u grid"
            text = self._text[: values.shape[0]]
            text_view.set_unit(text, values[:, self._unit], scale, self._t, caption)
        else:
            labels = [column_label(self._text[t]) if t < len(self._text) else "  " for t in range(values.shape[0])]
            grid.set_grid(scale.levels(values), scale, labels, self._order, self._row(), self._t)
        self.call_after_refresh(self._scroll_to_cursor)

    def _colour_scale(self, values: np.ndarray) -> ColourScale:
        low, high = gate_stats.value_range(self._quantity, values)
        return ColourScale.for_range(low, high, gate_stats.is_fraction(self._quantity))

    def _scroll_to_cursor(self) -> None:
        if self._values() is None:
            return
        if self.text_view:
            self.query_one(UnitTextView).scroll_to_cursor()
        else:
            self.query_one(HeatmapView).scroll_to_cell(self._row(), self._t)

    def _status(self) -> Text:
        """Two lines: where we are and what it means; the cursor, the scale and the order."""
        values = self._values()
        if values is None:
            if self._train_step is None:
                return Text(PLACEHOLDER)
            return Text("nothing to trace: the probe text is empty or has no character the model knows")
        if values.size == 0:
            return Text("the probe text is empty: nothing to show")
        meaning = gist(self._quantity)
        head = f"layer {self._layer + 1} of {len(self._layers)} · {self._quantity} — {meaning}"
        scale = self._colour_scale(values)
        char = visible_char(self._text[self._t]) if self._t < len(self._text) else "?"
        readout = f"unit {self._unit}, t={self._t} '{char}': {values[self._t, self._unit]:.3f}"
        if self._sort == "correlation":
            order = f"order: |r| with '{visible_char(self._sort_char) if self._sort_char else '?'}'"
            if self._correlation is not None:
                readout += f" (r={self._correlation[self._unit]:+.2f})"
        else:
            order = f"order: {self._sort}"
        low, high = scale.low, scale.high
        status = Text(f"{head}\n{readout} · scale {_format_bound(low)}..{_format_bound(high)} ")
        for k in range(LEGEND_CELLS):
            status.append(" ", scale.style(low + (high - low) * k / (LEGEND_CELLS - 1)))
        status.append(f" · {order}")
        return status
