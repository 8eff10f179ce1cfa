"""The Prompt pane: text for the model to continue; characters it cannot read are flagged as you type."""

from __future__ import annotations

from rich.highlighter import Highlighter
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, Static

from rnntui.data.vocab import Vocabulary
from rnntui.tui.playground.samples import UNKNOWN_STYLE

HINT = "Enter: continue · Esc: keys"


class UnknownCharacters(Highlighter):
    """Marks, inside the input itself, each character outside the model's vocabulary."""

    def __init__(self) -> None:
        self.vocab: Vocabulary | None = None

    def highlight(self, text: Text) -> None:
        if self.vocab is None:
            return
        unknown = set(self.vocab.unknown_chars(text.plain))
        for i, char in enumerate(text.plain):
            if char in unknown:
                text.stylize(UNKNOWN_STYLE, i, i + 1)


def describe_unknown(chars: list[str]) -> str:
    shown = " ".join(repr(c) for c in chars[:6]) + (" …" if len(chars) > 6 else "")
    return f"unknown, skipped: {shown}"


class PromptPane(Vertical):
    class Submitted(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.highlighter = UnknownCharacters()

    def compose(self) -> ComposeResult:
        yield Input(placeholder="text for the model to continue", highlighter=self.highlighter,
                    compact=True, id="prompt-input")
        yield Static(HINT, id="prompt-flag")

    def on_mount(self) -> None:
        self.border_title = "Prompt"

    @property
    def input(self) -> Input:
        return self.query_one("#prompt-input", Input)

    def set_vocab(self, vocab: Vocabulary) -> None:
        self.highlighter.vocab = vocab
        self._flag(self.input.value)
        self.input.refresh()

    def unknown(self, text: str) -> list[str]:
        return self.highlighter.vocab.unknown_chars(text) if self.highlighter.vocab else []

    def _flag(self, text: str) -> None:
        flag = self.query_one("#prompt-flag", Static)
        unknown = self.unknown(text)
        flag.set_class(bool(unknown), "-unknown")
        flag.update(describe_unknown(unknown) if unknown else HINT)

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._flag(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.post_message(self.Submitted(event.value))
