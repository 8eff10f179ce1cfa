"""A served visitor's process ends with the server that started it, even when that server is killed outright."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc")

# The "server": starts a visitor that would train for hours, says its pid, and waits to be killed.
SERVER = """
import subprocess, sys, time
visitor = subprocess.Popen([sys.executable, "-m", "rnntui.web.visitor", "rnntui", "train", "--corpus", "fables",
                            "--hidden", "8", "--embed", "4", "--batch", "2", "--seq-len", "8", "--steps", "100000000",
                            "-q", "--out", sys.argv[1]], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
print(visitor.pid, flush=True)
time.sleep(600)
"""


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_for(condition, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_a_visitor_ends_when_its_server_is_killed_outright(tmp_path):
    out = tmp_path / "run.safetensors"
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(out)], stdout=subprocess.PIPE, text=True)
    try:
        visitor = int(server.stdout.readline())
        wait_for(lambda: out.exists(), "the visitor to train and save")  # it runs, and has taken steps
        server.kill()  # SIGKILL: the server stops nothing on its way out
        server.wait(timeout=30)
        wait_for(lambda: not alive(visitor), "the visitor to end with its server")
    finally:
        if server.poll() is None:
            server.kill()
        try:
            os.kill(visitor, signal.SIGKILL)
        except (OSError, UnboundLocalError):
            pass
