"""`rnntui corpora`: what can be trained on, with sizes and vocabularies."""

from __future__ import annotations

import typer

from rnntui.cli.common import app


@app.command()
def corpora() -> None:
    """List the named corpora (any UTF-8 text file works too)."""
    from rich.console import Console
    from rich.table import Table

    from rnntui.data.corpus import list_corpora

    table = Table("name", "characters", "vocabulary", "description")
    for row in list_corpora():
        size = f"{row.length:,}" if row.length is not None else "-"
        vocab = f"{row.vocab_size:,}" if row.vocab_size is not None else "-"
        table.add_row(row.name, size, vocab, row.description)
    Console().print(table)
    typer.echo("Or pass the path of any UTF-8 text file as --corpus.")
