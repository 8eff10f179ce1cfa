"""What every command shares: the Typer app and the rule that user errors end in one line."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Optional

import typer

from rnntui.errors import RnntuiError

app = typer.Typer(
    name="rnntui",
    add_completion=False,
    no_args_is_help=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def error_line(message: str) -> None:
    sys.stderr.write(f"rnntui: error: {message}\n")


@contextlib.contextmanager
def fail_cleanly():
    """Turn a user's error into one line on stderr and exit status 1; never a traceback."""
    try:
        yield
    except RnntuiError as error:
        error_line(str(error))
        raise typer.Exit(1) from None
    except BrokenPipeError:  # `rnntui sample ... | head` is fine
        raise typer.Exit(0) from None


# Half-open ranges, which Typer's min/max cannot say; a bad value is a usage error (exit 2).
def fraction(value: float) -> float:
    if not 0 <= value < 1:
        raise typer.BadParameter("must be at least 0 and below 1")
    return value


def positive(value: float) -> float:
    if not value > 0:
        raise typer.BadParameter("must be positive")
    return value


def text_or_corpus(text: Optional[Path], corpus: Optional[str]) -> str:
    """The body of `--text FILE` or of `--corpus NAME`, exactly one of them given."""
    from rnntui.data.corpus import load_corpus, read_text_file
    from rnntui.errors import RnntuiError

    if (text is None) == (corpus is None):
        raise RnntuiError("give exactly one of --text FILE or --corpus NAME")
    return read_text_file(text) if text is not None else load_corpus(corpus).text
