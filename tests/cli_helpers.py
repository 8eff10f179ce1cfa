"""Running the real `rnntui` command, in-process or as a child process."""

from __future__ import annotations

import os
import subprocess
import sys

from typer.testing import CliRunner

from rnntui.cli import app

TINY = ["--hidden", "16", "--embed", "8", "--batch", "4", "--seq-len", "16", "--eval-every", "5", "-q"]


def run(*args: str, input: str | None = None):
    """In-process: the result has exit_code, stdout and stderr."""
    return CliRunner().invoke(app, [str(a) for a in args], input=input)


def spawn(*args: str, cwd, **kwargs) -> subprocess.Popen:
    """A real child process, as a user's shell would start it."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.Popen(
        [sys.executable, "-m", "rnntui", *map(str, args)], cwd=cwd, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs,
    )
