"""The header line: which model, and what training is doing right now (step, epoch, speed, state)."""

from __future__ import annotations

from dataclasses import dataclass

from rich.style import Style
from rich.text import Text
from textual.widgets import Static

STATE_STYLES = {
    "training": Style(color="black", bgcolor="green3", bold=True),
    "paused": Style(color="black", bgcolor="yellow3", bold=True),
    "loading": Style(color="black", bgcolor="grey70", bold=True),
    "failed": Style(color="white", bgcolor="red3", bold=True),
}


@dataclass(frozen=True)
class Status:
    model: str  # e.g. "LSTM 1×64 · python"
    step: int
    epoch: int
    chars_per_sec: float | None
    state: str  # a key of STATE_STYLES
    temperature: float
    unsaved: bool


def rate(chars_per_sec: float | None) -> str:
    if chars_per_sec is None:
        return "– chars/s"
    if chars_per_sec >= 1e6:
        return f"{chars_per_sec / 1e6:.1f}M chars/s"
    if chars_per_sec >= 1e3:
        return f"{chars_per_sec / 1e3:.1f}k chars/s"
    return f"{chars_per_sec:.0f} chars/s"


class StatusLine(Static):
    DEFAULT_CSS = """
    StatusLine { dock: top; height: 1; background: $panel; color: $foreground; }
    """

    def show(self, status: Status) -> None:
        self.status = status
        left = Text.assemble((" rnntui ", Style(bold=True, reverse=True)), "  ", status.model,
                             (" · unsaved" if status.unsaved else "", Style(color="grey62", italic=True)))
        right = Text.assemble(
            (f"step {status.step}", Style(bold=True)),
            f" · epoch {status.epoch} · {rate(status.chars_per_sec)} · T {status.temperature:.2f} ",
            (f" {status.state} ", STATE_STYLES.get(status.state, Style())),
        )
        # Right part first: step and state matter more than the model's name when space is short.
        room = max(0, self.size.width - right.cell_len - 1)
        left.truncate(room, overflow="ellipsis")
        line = left + Text(" " * (self.size.width - left.cell_len - right.cell_len)) + right
        self.update(line, layout=False)  # one line, always: a layout pass would repaint the whole screen

    def on_resize(self) -> None:
        if hasattr(self, "status"):
            self.show(self.status)
