"""The `rnntui` command: the TUI with no subcommand, headless commands otherwise.

Textual is imported only when the TUI starts, so `rnntui train` and
`rnntui --help` start fast and run on machines without a terminal UI.
"""

from __future__ import annotations

from typing import Optional

import typer

from rnntui.cli.common import app, terminal_ui_signals

# Each module adds its command to `app`.
from rnntui.cli import corpora, evaluate, explain, gradcheck, lab, learn, plot, sample, serve, train  # noqa: E402,F401


def _print_version(asked: bool) -> None:
    if asked:
        from importlib.metadata import version

        typer.echo(f"rnntui {version('rnntui')}")
        raise typer.Exit()


@app.callback(invoke_without_command=True)
def launch(
    ctx: typer.Context,
    checkpoint: Optional[str] = typer.Option(None, "--checkpoint", help="Open a saved model, paused, with its history."),
    corpus: str = typer.Option("python", "--corpus", help="Corpus name or path of a UTF-8 text file."),
    version: bool = typer.Option(False, "--version", is_eager=True, callback=_print_version, help="Print the version and exit."),
) -> None:
    """Watch a recurrent network learn to write, live. Run with no command to open the playground."""
    if ctx.invoked_subcommand is not None:
        return
    terminal_ui_signals()
    from rnntui.tui.app import run_app

    run_app(corpus=corpus, checkpoint=checkpoint)


def main() -> None:
    """The `rnntui` process; rnntui/__main__.py is where it starts, before these imports."""
    from rnntui.__main__ import main as start

    start()
