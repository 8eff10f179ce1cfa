"""Small modal questions: confirm something that loses work, or ask for a file path."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

DIALOG_CSS = """
{name} {{ align: center middle; }}
{name} > Vertical {{
    width: 72; max-width: 95%; height: auto;
    border: thick $accent; background: $surface; padding: 1 2;
}}
{name} Horizontal {{ height: auto; margin-top: 1; align-horizontal: right; }}
{name} Button {{ margin-left: 1; }}
"""


class ConfirmDialog(ModalScreen[str | None]):
    """A question with a few answers; Escape means none of them (None)."""

    DEFAULT_CSS = DIALOG_CSS.format(name="ConfirmDialog")
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]
    AUTO_FOCUS = "Button"  # the first answer

    def __init__(self, question: str, choices: list[tuple[str, str, str]]):
        """`choices` are (answer, button label, button variant); the first is focused."""
        super().__init__()
        self.question = question
        self.choices = choices

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.question, id="question")
            with Horizontal():
                for answer, label, variant in self.choices:
                    yield Button(label, id=f"answer-{answer}", variant=variant)

    @on(Button.Pressed)
    def _answer(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id.removeprefix("answer-"))


class PathDialog(ModalScreen[str | None]):
    """Ask for a checkpoint path; Enter accepts, Escape cancels (None)."""

    DEFAULT_CSS = DIALOG_CSS.format(name="PathDialog")
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]
    AUTO_FOCUS = "#path"

    def __init__(self, title: str, path: str, action: str):
        super().__init__()
        self.title_text = title
        self.path = path
        self.action_label = action

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.title_text)
            yield Input(self.path, placeholder="path of a .safetensors checkpoint", id="path")
            with Horizontal():
                yield Button("Cancel", id="cancel")
                yield Button(self.action_label, id="accept", variant="primary")

    @on(Input.Submitted)
    @on(Button.Pressed, "#accept")
    def _accept(self) -> None:
        path = self.query_one("#path", Input).value.strip()
        if path:
            self.dismiss(path)
        else:
            self.notify("give a path first", severity="warning")

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)
