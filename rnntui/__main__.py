"""The process: `rnntui` and `python -m rnntui` start here, before anything heavy is imported.

Ctrl-C or SIGTERM during the imports (the first fraction of a second) would otherwise print an
import traceback; until the app is ready, either ends the process at once with one line. After
that they become exceptions the commands' one boundary (cli/common.py) turns into a line and
130 or 143. Standard output is made safe to write before any command runs: what its encoding
cannot show is escaped, and a closed one fails a write with a clear error instead of dropping it.
"""

from __future__ import annotations

import errno
import io
import os
import signal
import sys

EXIT_STATUS = {signal.SIGINT: 130, signal.SIGTERM: 143}


def main() -> None:
    # A signal the caller set to be ignored (nohup, a background job) stays ignored throughout.
    starting = {s: signal.getsignal(s) for s in EXIT_STATUS}
    for s, previous in starting.items():
        if previous is not signal.SIG_IGN:
            signal.signal(s, _stop_while_starting)
    _safe_stdout()
    from rnntui.cli import app
    from rnntui.cli.common import Terminated

    def terminate(_signum, _frame):
        raise Terminated

    signal.signal(signal.SIGINT, starting[signal.SIGINT])
    if starting[signal.SIGTERM] is not signal.SIG_IGN:
        signal.signal(signal.SIGTERM, terminate)
    try:
        app(prog_name="rnntui")
    finally:
        _quiet_broken_stdout()


def _stop_while_starting(signum, _frame) -> None:
    word = "Ctrl-C" if signum == signal.SIGINT else "SIGTERM"
    try:
        os.write(2, f"rnntui: stopped by {word} while starting\n".encode())
    except OSError:
        pass
    os._exit(EXIT_STATUS[signum])


class _ClosedOutput(io.RawIOBase):
    """Standard output that was closed before rnntui started: writing to it is an error, not a no-op.

    Once that error has been reported, the rest is dropped (`reported`), so the interpreter's own
    flush at exit has nothing to complain about."""

    reported = False

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        if self.reported:
            return len(data)
        raise OSError(errno.EBADF, "standard output is closed")


def _safe_stdout() -> None:
    if sys.stdout is None:
        sys.stdout = io.TextIOWrapper(io.BufferedWriter(_ClosedOutput()), encoding="utf-8", line_buffering=True)
    elif isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(errors="backslashreplace")


def _quiet_broken_stdout() -> None:
    # Once a write to stdout failed (a full disk, a closed pipe) and was reported, the interpreter
    # would try the buffered rest again at exit and print its own complaint: point fd 1 elsewhere.
    try:
        if sys.stdout is not None:
            sys.stdout.flush()
    except (OSError, ValueError):
        raw = getattr(getattr(sys.stdout, "buffer", None), "raw", None)
        if isinstance(raw, _ClosedOutput):
            raw.reported = True
            return
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):
            pass


if __name__ == "__main__":
    main()
