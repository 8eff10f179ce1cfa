"""`rnntui serve`: the playground as a web page, one app process per visitor."""

from __future__ import annotations

import typer

from rnntui.cli.common import app
from rnntui.errors import RnntuiError


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on; 0.0.0.0 lets other machines in."),
    port: int = typer.Option(8000, min=1, max=65535, help="Port to listen on."),
    max_visitors: int = typer.Option(4, "--max-visitors", min=1, max=256, help="App processes at once; more visitors wait."),
    corpus: str = typer.Option("python", "--corpus", help="Corpus each visitor's playground opens on."),
) -> None:
    """Serve the playground in a browser: every visitor gets their own app, with one BLAS thread."""
    from rnntui.web.server import ClassroomServer

    try:
        ClassroomServer(corpus, host, port, max_visitors).serve()
    except OSError as error:  # the port is taken, or the address is not this machine's
        raise RnntuiError(f"cannot serve on {host}:{port}: {error.strerror or error}") from None
