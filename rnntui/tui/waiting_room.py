"""What a visitor past the server's limit sees until a place frees: one line, no broken page."""

from __future__ import annotations

import sys

from textual.app import App, ComposeResult
from textual.widgets import Static


class WaitingRoom(App):
    CSS = "Screen { align: center middle; } Static { width: auto; }"

    def __init__(self, places: int):
        super().__init__()
        self.places = places

    def compose(self) -> ComposeResult:
        yield Static(
            f"rnntui is full: {self.places} visitors are training models right now.\n"
            "Please wait: the playground opens here as soon as one of them leaves."
        )


if __name__ == "__main__":
    WaitingRoom(int(sys.argv[1])).run()
