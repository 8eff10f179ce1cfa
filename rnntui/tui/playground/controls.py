"""The Controls pane: the training configuration as a form, and the buttons that drive training.

A field applies when Enter is pressed (a choice, when it is chosen); leaving a
field without Enter puts the current value back. The pane only says what the
person asked for (Changed) or that nothing changed (Undone): the app decides
whether it applies live or restarts the model, and where focus goes next. The
temperature is the app's, bound to this pane's `temperature`.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.containers import Grid, Horizontal, Vertical
from textual.events import DescendantBlur
from textual.message import Message
from textual.reactive import reactive
from textual.suggester import SuggestFromList
from textual.widgets import Button, Input, Label, Select

from rnntui.data.corpus import corpus_names
from rnntui.engine.optim import OPTIMIZERS
from rnntui.engine.shape import CELLS
from rnntui.errors import TrainingError
from rnntui.train.config import TrainConfig

# Fields that change without touching the model's tensors or its optimizer: applied live.
LIVE_FIELDS = ("lr", "clip", "temperature")


@dataclass(frozen=True)
class Field:
    name: str  # the TrainConfig field
    label: str
    kind: type | tuple  # int, float, str, or the choices of a Select


FIELDS = (
    Field("corpus", "corpus", str), Field("cell", "cell", CELLS),
    Field("hidden", "hidden", int), Field("layers", "layers", int),
    Field("seq_len", "seq-len", int), Field("batch", "batch", int),
    Field("lr", "lr", float), Field("optimizer", "optim", tuple(OPTIMIZERS)),
    Field("clip", "clip", float), Field("temperature", "temp", float),
)


def parse(field: Field, text: str):
    """The typed text as the field's value; TrainingError with one line if it is not one."""
    text = text.strip()
    if field.kind is str:
        if not text:
            raise TrainingError(f"{field.label} needs a corpus name or a file path")
        return text
    try:
        return field.kind(text)
    except ValueError:
        kind = "a whole number" if field.kind is int else "a number"
        raise TrainingError(f"{field.label} must be {kind}, not {text!r}") from None


def shown(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


class ControlsPane(Vertical):
    class Changed(Message):
        """The person applied a new value to one field."""

        def __init__(self, name: str, value) -> None:
            super().__init__()
            self.name = name
            self.value = value

    class Undone(Message):
        """The person left a field, or pressed Enter on it, without changing the value."""

    temperature: reactive[float] = reactive(0.8, init=False)

    def __init__(self, config: TrainConfig, **kwargs):
        super().__init__(**kwargs)
        self.config = config

    def compose(self) -> ComposeResult:
        with Grid(id="fields"):
            for field in FIELDS:
                yield Label(field.label, classes="field-label")
                if isinstance(field.kind, tuple):
                    # Built with the model's value: a Select announces its first value as a change,
                    # and that must read as no change at all.
                    yield Select([(c, c) for c in field.kind], value=self.current(field.name),
                                 allow_blank=False, compact=True, id=f"field-{field.name}")
                else:
                    suggester = SuggestFromList(corpus_names()) if field.name == "corpus" else None
                    yield Input(shown(self.current(field.name)), compact=True, id=f"field-{field.name}",
                                suggester=suggester, select_on_focus=True)
        with Horizontal(id="buttons"):
            yield Button("Start", id="start-pause", compact=True, variant="success")
            yield Button("Step", id="step", compact=True)
            yield Button("Reset", id="reset", compact=True)
            yield Button("Save", id="save", compact=True)
            yield Button("Load", id="load", compact=True)

    def on_mount(self) -> None:
        self.border_title = "Controls"
        self.border_subtitle = "Enter applies"

    def current(self, name: str):
        return self.temperature if name == "temperature" else getattr(self.config, name)

    def show_config(self, config: TrainConfig) -> None:
        """Put the model's actual settings in every field."""
        self.config = config
        for field in FIELDS:
            self._show(field)

    def watch_temperature(self) -> None:
        self._show(self._field("field-temperature"))

    def _show(self, field: Field) -> None:
        widget = self.query_one(f"#field-{field.name}")
        value = self.current(field.name)
        if isinstance(widget, Select):
            with widget.prevent(Select.Changed):
                widget.value = value
        else:
            with widget.prevent(Input.Changed):
                widget.value = shown(value)

    def set_training(self, training: bool) -> None:
        button = self.query_one("#start-pause", Button)
        button.label = "Pause" if training else "Start"
        button.variant = "warning" if training else "success"

    def _field(self, widget_id: str) -> Field:
        return next(f for f in FIELDS if f"field-{f.name}" == widget_id)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        field = self._field(event.input.id)
        try:
            value = parse(field, event.value)
        except TrainingError as error:
            self.app.notify(str(error), severity="error")
            self._show(field)
            self.post_message(self.Undone())
            return
        self.post_message(self.Changed(field.name, value) if value != self.current(field.name) else self.Undone())

    @on(Select.Changed)
    def _chosen(self, event: Select.Changed) -> None:
        event.stop()
        if not event.select.has_focus_within:  # set by the app (its first value, show_config), not chosen
            return
        field = self._field(event.select.id)
        if event.value != self.current(field.name):
            self.post_message(self.Changed(field.name, event.value))
        else:
            self.post_message(self.Undone())

    def on_descendant_blur(self, event: DescendantBlur) -> None:
        # An edit left without Enter is undone, so the form always shows what the model uses.
        if isinstance(event.widget, Input) and (event.widget.id or "").startswith("field-"):
            self._show(self._field(event.widget.id))
