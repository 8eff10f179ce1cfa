"""What lessons 7 (lstm) and 8 (gru) share: a small model training on a real text, one unit under a cursor.

The model is the trainer's (the playground's loop) on the bundled `fables`
corpus, paced by a LessonRun. The probe text is one sentence of it; arrow keys
move the unit (up, down) and the timestep (left, right). Every number on
screen comes from the engine's forward pass over the probe (gate_parts.py);
the views only lay them out.
"""

from __future__ import annotations

from rnntui.data.corpus import load_corpus
from rnntui.lessons.base import TRAINING_KEYS, Lesson, LessonKey
from rnntui.lessons.gate_parts import ProbeTrace, UnitStep, equations
from rnntui.lessons.run import LessonRun
from rnntui.train.config import TrainConfig
from rnntui.train.trainer import Trainer

CORPUS = "fables"
PROBE = "The kettle did not believe him."
WINDOW = 15  # timesteps of the probe shown side by side around the cursor


def text_config(cell: str, seed: int) -> TrainConfig:
    """Measured on 2 busy cores (seed 0): 200 steps take 18 s at full speed and 22 s at the screen's 10
    steps a second; the loss falls from 3.9 nats to 2.0 (LSTM) and 1.7 (GRU)."""
    return TrainConfig(
        corpus=CORPUS, cell=cell, hidden=32, embed=16, seq_len=32, batch=16, lr=1e-2, val_frac=0.0,
        steps=10**9, eval_every=10**9, sample_every=10**9, seed=seed,
        forget_bias=1.0,  # the LSTM's f starts near 0.73: the gates the lesson shows were measured so
    )


class TextRun(LessonRun):
    """The trainer's own step, paced: a model learning the corpus while the learner reads its gates."""

    def __init__(self, cell: str, seed: int, speed: float = 10):
        self.cell, self.seed = cell, seed
        self.trainer = Trainer(text_config(cell, seed), load_corpus(CORPUS).text)
        super().__init__(self.trainer.model, self.trainer.optimizer, None, speed=speed, reset=self._restart)

    def _restart(self) -> None:
        self.trainer = Trainer(text_config(self.cell, self.seed), self.trainer.text)
        self.model, self.optimizer = self.trainer.model, self.trainer.optimizer

    def advance(self):
        self.last = self.trainer.train_step()
        self.step = self.trainer.step
        return self.last


class CellLesson(Lesson):
    """A lesson on one gated cell; lstm.py and gru.py give the cell, the texts and the drawing."""

    cell = ""
    keys = (
        LessonKey("left", "earlier", {"en": "earlier", "ko": "이전 글자"}),
        LessonKey("right", "later", {"en": "later", "ko": "다음 글자"}),
        LessonKey("up", "unit_up", {"en": "unit -", "ko": "유닛 -"}),
        LessonKey("down", "unit_down", {"en": "unit +", "ko": "유닛 +"}),
        *TRAINING_KEYS,
    )
    default_steps = 200

    def __init__(self, seed: int = 0) -> None:
        super().__init__(seed)
        self.live = TextRun(self.cell, seed)
        self.unit = 0
        self.t = PROBE.index("k")  # a letter inside a word: something to remember already

    @property
    def hidden_size(self) -> int:
        return self.live.model.shape.hidden_size

    def focus(self, unit: int | None, at: int | None) -> None:
        """Put the cursor on a unit and a timestep (`rnntui learn lstm --print --unit U --at T`)."""
        if unit is not None:
            if not 0 <= unit < self.hidden_size:
                raise ValueError(f"--unit is 0 to {self.hidden_size - 1}, got {unit}")
            self.unit = unit
        if at is not None:
            if not 0 <= at < len(PROBE):
                raise ValueError(f"--at is a timestep of the probe text, 0 to {len(PROBE) - 1}, got {at}")
            self.t = at

    def press(self, action: str) -> None:
        if action == "earlier":
            self.t = max(0, self.t - 1)
        elif action == "later":
            self.t = min(len(PROBE) - 1, self.t + 1)
        elif action == "unit_up":
            self.unit = (self.unit - 1) % self.hidden_size
        elif action == "unit_down":
            self.unit = (self.unit + 1) % self.hidden_size
        else:
            super().press(action)

    def probe(self) -> ProbeTrace:
        """The engine's trace of the probe text through the live model (call inside `still()`)."""
        trainer = self.live.trainer
        return ProbeTrace(trainer.model, trainer.vocab.encode(PROBE), PROBE)

    def read(self):
        """(this unit at this step, its history over the probe), from a still model."""
        with self.still():
            trace = self.probe()
            step, history = trace.step(self.unit, self.t), trace.history(self.unit)
        return step, history


def equation_block(step: UnitStep):
    """The equation lines, the value at the end of each in bold: what --print shows for --unit/--at."""
    from rich.text import Text

    block = Text()
    for i, line in enumerate(equations(step)):
        head, _, value = line.rpartition(" = ")
        if i:
            block.append("\n")
        block.append(head + " = ")
        block.append(value, style="bold")
    return block


def history_table(history, names: list[tuple[str, str]], t: int, char_label: str):
    """The unit's quantities side by side over a window of the probe around step t, the cursor's column marked."""
    from rich.table import Table
    from rich.text import Text

    from rnntui.lessons.draw import heat

    T = len(history.text)
    start = max(0, min(t - WINDOW // 2, T - WINDOW))
    steps = range(start, min(T, start + WINDOW))
    table = Table(box=None, padding=(0, 0), show_edge=False, pad_edge=False, show_header=False)
    table.add_column("", min_width=8)
    for s in steps:
        table.add_column(justify="right", min_width=7)
    shown = [repr(history.text[s])[1:-1] if history.text[s] != " " else "␣" for s in steps]
    table.add_row(Text(char_label, style="dim"), *[
        Text(f"{c} ", style="bold reverse" if s == t else "bold") for s, c in zip(steps, shown)
    ])
    table.add_row(Text("t", style="dim"), *[Text(f"{s} ", style="dim") for s in steps])
    for key, label in names:
        values = history.values[key]
        table.add_row(Text(label), *[
            Text(f"{values[s]:6.2f} ", style=heat(values[s]) if s == t else "") for s in steps
        ])
    return table


class Canvas:
    """Text placed at columns of rows, for a cell diagram whose arrows must meet: row, column, text, style."""

    def __init__(self) -> None:
        self.rows: dict[int, list[tuple[int, str, str]]] = {}

    def put(self, row: int, col: int, text: str, style: str = "") -> int:
        """Place `text` at (row, col); returns the column after it."""
        self.rows.setdefault(row, []).append((col, text, style))
        return col + len(text)

    def render(self):
        from rich.text import Text

        out = Text()
        for r in range(max(self.rows, default=-1) + 1):
            col = 0
            for start, text, style in sorted(self.rows.get(r, [])):
                out.append(" " * max(0, start - col))
                out.append(text, style=style)
                col = max(col, start) + len(text)
            if r < max(self.rows):
                out.append("\n")
        return out
