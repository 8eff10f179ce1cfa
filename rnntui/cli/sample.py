"""`rnntui sample`: stream a checkpoint's continuation of a prompt."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from rnntui.cli.common import TEMPERATURE_HELP, app, non_negative


@app.command()
def sample(
    checkpoint: Path = typer.Option(..., help="A checkpoint written by `rnntui train` or the playground."),
    prompt: str = typer.Option("", help="Text to continue (the model reads it first)."),
    stdin: bool = typer.Option(False, "--stdin", help="Read the prompt from standard input."),
    length: int = typer.Option(500, min=0, help="Characters to generate."),
    temperature: float = typer.Option(0.8, callback=non_negative, help=TEMPERATURE_HELP),
    top_k: int = typer.Option(0, min=0, help="Draw only from the k likeliest characters; 0 = all."),
    seed: Optional[int] = typer.Option(None, min=0, help="Fix the draw."),
    unknown: str = typer.Option("error", help="A prompt character outside the vocabulary: error, or skip it with a warning."),
) -> None:
    """Generate text from a trained model, streamed as it is produced."""
    import numpy as np

    from rnntui.errors import RnntuiError, UnknownCharacterError
    from rnntui.train.sampling import generate
    from rnntui.train.model_file import load_model

    if unknown not in ("error", "skip"):
        raise RnntuiError("--unknown must be error or skip")
    if stdin and prompt:
        raise typer.BadParameter("give the prompt as --prompt TEXT or on --stdin, not both", param_hint="--stdin")
    model, vocab = load_model(checkpoint)
    text = _read_stdin() if stdin else prompt
    missing = vocab.unknown_chars(text)
    if missing and unknown == "skip":
        shown = ", ".join(f"{c!r}" for c in missing)
        typer.echo(f"rnntui: warning: skipped characters outside the vocabulary: {shown}", err=True)
    try:
        ids = vocab.encode(text, unknown=unknown)
    except UnknownCharacterError as error:
        raise RnntuiError(f"{error}; --unknown skip leaves such characters out") from None
    out = sys.stdout
    out.write(text)
    out.flush()
    for char, _ in generate(model, vocab, ids, length, temperature, top_k, np.random.default_rng(seed)):
        out.write(char)
        out.flush()
    out.write("\n")


def _read_stdin() -> str:
    """The prompt from standard input, which may be closed or hold bytes that are not UTF-8."""
    from rnntui.errors import RnntuiError

    if sys.stdin is None:
        raise RnntuiError("--stdin: standard input is closed")
    data = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read()
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise RnntuiError(f"--stdin: the prompt is not UTF-8 text (byte {e.start} is 0x{data[e.start]:02x})") from None
