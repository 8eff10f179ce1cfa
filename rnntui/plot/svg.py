"""Figures: what a painter drew, recorded by a Rich console and exported as SVG, colours and all.

The console writes to a string, never to the terminal, and is told it has
true colour, so a figure is the same whether the command runs in a terminal,
a pipe or a test.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from rich.console import Console, RenderableType

FIGURE_WIDTH = 100  # columns: a chart's default width, about a slide's at a readable size


def figure_console(width: int = FIGURE_WIDTH) -> Console:
    """A console that records what is printed to it, `width` columns wide."""
    return Console(
        record=True, width=width, file=io.StringIO(), force_terminal=True, color_system="truecolor", highlight=False,
    )


def to_svg(console: Console, title: str) -> str:
    """Everything printed to a figure console, as one SVG document."""
    return console.export_svg(title=title)


def svg_of(rows: Sequence[RenderableType], title: str, width: int = FIGURE_WIDTH) -> str:
    """Lines (a painter's Rich Text) or any renderables, one after another, as an SVG document."""
    console = figure_console(width)
    for row in rows:
        console.print(row, no_wrap=True, crop=True, overflow="crop")
    return to_svg(console, title)
