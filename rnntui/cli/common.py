"""What every command shares: the Typer app, its one error boundary, and range checks for options."""

from __future__ import annotations

import contextlib
import errno
import math
import signal
import sys
from pathlib import Path
from typing import Callable, Optional

import typer
from typer.core import TyperGroup

from rnntui.errors import RnntuiError

# Exit statuses, as shells report them: 2 is a bad option (Typer's own), 128 + n a stop by signal n.
EXIT_ERROR, EXIT_INTERRUPTED, EXIT_TERMINATED, EXIT_PIPE_CLOSED = 1, 130, 143, 141


class Terminated(BaseException):
    """SIGTERM, raised where the process is so the boundary can end it in one line (see rnntui/__main__.py)."""


@contextlib.contextmanager
def fail_cleanly():
    """The one boundary around every command: whatever goes wrong ends in one line and an exit status.

    A user's error, a failed write (a full disk, a closed standard output), a model too big for
    memory: one line on stderr, status 1. Ctrl-C: 130, SIGTERM: 143, worded as the stops they
    are. A reader that closes the pipe (`| head`) asked for no more: no line, 141.
    """
    try:
        yield
        # Output still buffered fails here, inside the boundary, not at interpreter exit.
        if sys.stdout is not None:
            sys.stdout.flush()
    except (typer.Exit, typer.Abort, typer.TyperException):
        raise  # Typer's own ways of ending: already said, or a usage error (2)
    except RnntuiError as error:
        _end(str(error), EXIT_ERROR)
    except KeyboardInterrupt:
        _end("stopped by Ctrl-C", EXIT_INTERRUPTED, error=False)
    except Terminated:
        _end("stopped by SIGTERM", EXIT_TERMINATED, error=False)
    except MemoryError as error:
        _end(f"not enough memory{': ' + str(error) if str(error) else ''}; try smaller sizes", EXIT_ERROR)
    except OSError as error:
        if error.errno == errno.EPIPE:
            raise typer.Exit(EXIT_PIPE_CLOSED) from None
        where = f"{error.filename}: " if error.filename else "cannot write output: "
        _end(where + (error.strerror or str(error)), EXIT_ERROR)


def _end(message: str, status: int, error: bool = True) -> None:
    (error_line if error else note_line)(message)
    raise typer.Exit(status) from None


class BoundedGroup(TyperGroup):
    """The app's command group: every command, and the playground, runs inside fail_cleanly."""

    def invoke(self, ctx):
        with fail_cleanly():
            return super().invoke(ctx)


app = typer.Typer(
    name="rnntui",
    cls=BoundedGroup,
    add_completion=False,
    no_args_is_help=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def terminal_ui_signals() -> None:
    """Before a Textual app starts: SIGTERM ends the process, as it always has.

    A Textual event loop would swallow the exception SIGTERM raises for the headless
    commands (rnntui/__main__.py) and keep running. A signal the caller ignores stays ignored.
    """
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_IGN:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def error_line(message: str) -> None:
    _line(f"rnntui: error: {message}")


def note_line(message: str) -> None:
    """What is not a failure: a requested stop, a save that did not need to happen."""
    _line(f"rnntui: {message}")


def _line(text: str) -> None:
    if sys.stderr is None:  # stderr closed: the exit status is all a caller gets
        return
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.write(text + "\n")
        sys.stderr.flush()


def corpus_file(corpus: str | None) -> Path | None:
    """The corpus as a file the command reads, when it is one (a named corpus is not the user's file)."""
    if corpus is None:
        return None
    from rnntui.data.corpus import corpus_names

    candidate = Path(corpus).expanduser()
    return candidate if candidate.is_file() and corpus not in corpus_names() else None


# Integer ranges are Typer's min/max, declared with each option (the bounds: train/config.py).
TEMPERATURE_HELP = "Sampling temperature: 0 (or anything below 1e-6) is greedy; below 1 is safer, above 1 wilder."


# Float ranges, which Typer's min/max cannot say in full: they let NaN through and have no open
# bounds. Every float option takes one of these; a bad value is a usage error (exit 2).
def bounded(low: float | None = None, *, above: float | None = None, below: float | None = None) -> Callable:
    def check(value: float | None) -> float | None:
        if value is None:
            return value
        if not math.isfinite(value):
            raise typer.BadParameter("must be a finite number")
        if low is not None and value < low:
            raise typer.BadParameter(f"must be at least {low:g}")
        if above is not None and not value > above:
            raise typer.BadParameter(f"must be above {above:g}")
        if below is not None and not value < below:
            raise typer.BadParameter(f"must be below {below:g}")
        return value

    return check


finite = bounded()
non_negative = bounded(0)
positive = bounded(above=0)
fraction = bounded(0, below=1)


def text_or_corpus(text: Optional[Path], corpus: Optional[str]) -> str:
    """The body of `--text FILE` or of `--corpus NAME`, exactly one of them given."""
    from rnntui.data.corpus import load_corpus, read_text_file
    from rnntui.errors import RnntuiError

    if (text is None) == (corpus is None):
        raise RnntuiError("give exactly one of --text FILE or --corpus NAME")
    return read_text_file(text) if text is not None else load_corpus(corpus).text
