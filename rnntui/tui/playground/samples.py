"""The Samples pane: what the model writes, each character tinted by how sure the model was of it.

Entries are a sample taken while training or a prompt's continuation. The
pane takes both straight from the run's messages. Only the newest few are
kept, so hours of training do not grow the pane.
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from rnntui.plot.colour import CONFIDENCE_RAMP, ramp_hex
from rnntui.tui.playground.shared_trainer import Continuation
from rnntui.tui.widgets.run_worker import RunMessage, Sampled

MAX_ENTRIES = 24
HEADER_STYLE = Style(color="grey62", italic=True)
PROMPT_STYLE = Style(bold=True, underline=True)
UNKNOWN_STYLE = Style(color="white", bgcolor="red3", bold=True)

def tint(probability: float) -> Style:
    """The probability the model gave a character, as its colour (the one confidence ramp)."""
    return Style(color=ramp_hex(CONFIDENCE_RAMP, probability))


def tinted(text: str, probs) -> Text:
    out = Text()
    for char, p in zip(text, probs):
        out.append("    " if char == "\t" else char, tint(p))
    return out


def tint_legend() -> Text:
    legend = Text("unsure ")
    for p in (0.0, 0.2, 0.4, 0.6, 0.8, 1.0):
        legend.append("█", tint(p))
    return legend + Text(" sure")


def marked_prompt(prompt: str, unknown: set[str]) -> Text:
    """The prompt as typed, with the characters the model cannot read flagged."""
    out = Text()
    for char in prompt:
        out.append(char, UNKNOWN_STYLE if char in unknown else PROMPT_STYLE)
    return out


class Continued(RunMessage):
    event_type = Continuation


class SampleEntry(Static):
    """One sample: a header line, then the text, growing while it streams."""

    DEFAULT_CSS = "SampleEntry { margin: 0 0 1 0; }"

    def __init__(self, header: str, prompt: Text | None = None, number: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.header = header
        self.number = number  # the prompt it continues, if it is a continuation
        self.prompt = prompt or Text()
        self.body = Text()

    def on_mount(self) -> None:
        self._redraw()

    @property
    def text(self) -> str:
        """The generated characters so far (the prompt not included)."""
        return self.body.plain

    def extend(self, chars: str, probs) -> None:
        self.body.append_text(tinted(chars, probs))
        self._redraw()

    def _redraw(self) -> None:
        self.update(Text.assemble(Text(self.header, HEADER_STYLE), "\n", self.prompt, self.body))


class SamplesPane(VerticalScroll):
    """The newest samples last; it follows new text unless the person has scrolled up."""

    def on_mount(self) -> None:
        self.border_title = "Samples"
        self.border_subtitle = tint_legend()
        self.anchor()  # stay at the newest text until the person scrolls up

    @property
    def entries(self) -> list[SampleEntry]:
        return list(self.query(SampleEntry))

    def add_entry(self, header: str, prompt: Text | None = None, text: str = "", probs=(),
                  number: int | None = None) -> SampleEntry:
        entry = SampleEntry(header, prompt, number)
        if text:
            entry.body = tinted(text, probs)
        self.mount(entry)
        self._prune()
        return entry

    def note(self, message: str) -> None:
        """A line from the app rather than the model (a hint, a restart)."""
        self.mount(Static(Text(message, HEADER_STYLE), classes="note"))
        self._prune()

    def clear(self) -> None:
        """A new model: what the old one wrote is not its."""
        self.remove_children()

    def on_sampled(self, message: Sampled) -> None:
        if not self.is_attached:  # the app is closing
            return
        sample = message.event
        self.add_entry(f"step {sample.step} · T {sample.temperature:.2f}", text=sample.text, probs=sample.probs)

    def on_continued(self, message: Continued) -> None:
        for entry in self.query(SampleEntry):
            if entry.number == message.event.number:
                entry.extend(message.event.sample.text, message.event.sample.probs)

    def _prune(self) -> None:
        for old in list(self.children)[:-MAX_ENTRIES]:
            old.remove()
