"""The help screen: the keys, what each pane shows, and every gate with its equation.

It opens on the right, so the Gates pane stays in view beside the equations
that explain it. The equations are those of spec/model.md (PyTorch's), and the
model's own cell type comes first.
"""

from __future__ import annotations

from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from rnntui.plot.quantities import QUANTITIES

HEADING = Style(bold=True, color="#5fafff")
KEY = Style(bold=True, color="#ffaf00")
EQUATION = Style(color="#87d7af")
DIM = Style(color="grey62")

KEYS = [
    ("space", "start / pause training"),
    ("s", "one training step, then pause"),
    ("r", "reset the model to fresh weights (asks first)"),
    ("ctrl+s / ctrl+o", "save / load a checkpoint (the CLI's files)"),
    ("t / T", "sampling temperature down / up"),
    ("p or /", "type a prompt; Enter runs it, Esc leaves"),
    ("tab", "move between panes and fields"),
    ("e", "Explain in the Gates pane's place: the model's guesses and the characters it used; e again: gates"),
    ("E / ctrl+e", "export the focused pane / the whole screen as SVG, in the current folder"),
    ("m", "the memory lab: RNN, LSTM and GRU race on a memory task"),
    ("f2", "the lessons: the lecture, step by step, in English or Korean"),
    ("ctrl+p", "command palette: every action by name"),
    ("? or f1", "this help"),
    ("q", "quit (asks if the model is unsaved)"),
]
GATE_KEYS = [
    ("g / G", "next / previous quantity"),
    ("l / L", "next / previous layer"),
    ("arrows", "move the cursor: unit, step, character, value"),
    ("v / x / 0", "sort units by variance / by correlation with the character under the cursor / unsorted"),
    ("u", "switch to the text coloured by the unit under the cursor"),
]

PANES = [
    ("Loss", "smoothed training loss and validation loss (nats per character, left axis; bits per "
             "character, right axis) against step. Lower is better; validation above training means it "
             "memorises."),
    ("Samples", "text the model writes every few seconds while training, and prompt continuations. Each "
                "character is tinted by the probability the model gave it: red where it guessed, green where "
                "it was sure."),
    ("Prompt", "Enter streams the model's continuation into Samples at the current temperature, and the "
               "prompt becomes the Gates pane's probe text. Characters the model has never seen are flagged."),
    ("Explain", "the probe text again; ← → move a cursor onto a character. Bars: the model's likeliest guesses "
                "for it, the actual one marked. Every earlier character is tinted by how much it moved that "
                "guess (the gradient of log p with respect to its embedding, as a share of the largest); later "
                "ones are dim, the guess never saw them. Below: that saliency averaged over held-out text "
                "against how far back the character lies. Watch both reach further back as the model learns."),
    ("Controls", "Enter applies a field. Learning rate, clip (the gradient's global norm) and temperature "
                 "apply at once; corpus, cell, sizes, seq-len (the truncation k of backpropagation through "
                 "time: characters per chunk) and the optimizer build a new model, after asking."),
]


def _key_table(rows) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style=KEY, no_wrap=True)
    table.add_column()
    for key, what in rows:
        table.add_row(key, what)
    return table


def _gate_table(cell: str, quantity: str | None) -> Table:
    """One row per quantity: its equation, and under it what it means (wrapped, kept indented)."""
    table = Table.grid(padding=(0, 1))
    table.add_column(width=1, no_wrap=True)
    table.add_column()
    for q in QUANTITIES[cell]:
        table.add_row("▶" if q.name == quantity else "", Text.assemble((q.equation, EQUATION), "\n", q.meaning))
    return table


def help_parts(cell: str, quantity: str | None = None) -> list:
    """The gates first (the reason to open this screen), then the keys, then the other panes.

    A list, one Static each: Textual flattens a Rich Group, and the tables need to stay tables.
    """
    parts: list = [
        Text.assemble(("Gates", HEADING), " · the heatmap beside this help"),
        Text("Units run down, one column per character of the probe text (your last prompt, or a stretch "
             "of validation text); colour is the value. It follows training. σ is the logistic sigmoid; x "
             "is the layer's input; h and c are the state before this character. Gate order and weights "
             "are PyTorch's.", DIM),
        Text.assemble(("The equations, one gate a line: ", DIM), ("rnntui/engine/reference.py", EQUATION)),
    ]
    for name in [cell] + [c for c in QUANTITIES if c != cell]:
        parts.append(Text("\n" + name.upper() + ("  (this model)" if name == cell else ""), Style(bold=True)))
        parts.append(_gate_table(name, quantity if name == cell else None))
    parts.append(Text("\nGates pane keys", HEADING))
    parts.append(_key_table(GATE_KEYS))
    parts.append(Text("\nKeys", HEADING))
    parts.append(_key_table(KEYS))
    for title, text in PANES:
        parts.append(Text.assemble(("\n" + title, HEADING), "\n", text))
    return parts


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen { align: right top; background: $background 40%; }
    HelpScreen > VerticalScroll {
        width: 62; max-width: 100%; height: 100%;
        border: thick $accent; background: $surface; padding: 0 1;
    }
    """
    AUTO_FOCUS = "VerticalScroll"  # arrows and page keys scroll the help
    BINDINGS = [
        Binding("escape", "dismiss", "Close"),
        Binding("question_mark", "dismiss", "Close", show=False),
        Binding("f1", "dismiss", "Close", show=False),
        Binding("q", "dismiss", "Close", show=False),
    ]

    def __init__(self, cell: str, quantity: str | None = None):
        super().__init__()
        self.cell = cell
        self.quantity = quantity

    def compose(self) -> ComposeResult:
        with VerticalScroll() as scroll:
            scroll.border_title = "Help · Esc closes"
            for part in help_parts(self.cell, self.quantity):
                yield Static(part)
