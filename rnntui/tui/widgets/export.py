"""Figures from the screen: one pane, or the whole screen, as it is drawn now, to an SVG file.

The screen's lines are taken as the screen's compositor renders them (what
Textual's own screenshot prints), cut to the pane's region, and recorded by
the same Rich console the headless `rnntui plot` uses, so a pane saved here and
a figure made there look alike.
"""

from __future__ import annotations

from pathlib import Path

from rich.segment import Segment, Segments
from textual.app import App
from textual.widget import Widget

from rnntui.errors import OutputError
from rnntui.files import write_atomically
from rnntui.plot.svg import figure_console, to_svg


def screen_svg(app: App, title: str, widget: Widget | None = None) -> str:
    """The screen, or only `widget`'s region of it (its border included), as an SVG document."""
    # The compositor is private, but it is what App.export_screenshot prints; a widget's own
    # render would miss what is drawn over it (a border title, a scrollbar).
    strips = app.screen._compositor.render_strips()
    region = widget.region if widget is not None else app.screen.region
    console = figure_console(region.width)
    for strip in strips[region.y: region.bottom]:
        cut = strip.crop(region.x, region.right)
        console.print(Segments([*cut, Segment.line()]), end="")
    return to_svg(console, title)


def free_path(folder: Path, stem: str) -> Path:
    """`stem`.svg in `folder`, or `stem`-2.svg, -3, ...: an export never replaces an earlier one."""
    path, number = folder / f"{stem}.svg", 1
    while path.exists():
        number += 1
        path = folder / f"{stem}-{number}.svg"
    return path


def export_svg(app: App, stem: str, title: str, widget: Widget | None = None, folder: Path | None = None) -> Path:
    """Write the figure to a new file in `folder` (the current one); OutputError says why it could not."""
    if folder is None:
        try:
            folder = Path.cwd()
        except OSError as error:  # the folder the app started in was removed meanwhile
            raise OutputError(f"cannot write in the current folder: {error.strerror or error}") from None
    path = free_path(folder, stem)
    return write_atomically(path, screen_svg(app, title, widget).encode())
