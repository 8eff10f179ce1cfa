"""`rnntui serve` in a real browser: headless Chromium, driven over the DevTools protocol.

The browser loads the page, its terminal connects, and what the app draws
arrives over the page's websocket; the test reads those frames (the bytes the
browser's terminal renders) and types into the page as a person would.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cdp import DEADLINE, Browser

CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium installed (Debian: apt-get install chromium)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children(pid: int) -> list[str]:
    """Command lines of the server's child processes (its visitors' apps)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            parent = int(stat[stat.rindex(")") + 2:].split()[1])
            if parent == pid:
                found.append((entry / "cmdline").read_bytes().replace(b"\0", b" ").decode())
        except (OSError, ValueError):
            continue
    return found


@pytest.fixture
def server(tmp_path):
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "rnntui", "serve", "--port", str(port), "--max-visitors", "1", "--corpus", "fables"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )
    banner = process.stdout.readline()  # the first line says where to point a browser
    yield process, port, banner
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=30)


@pytest.fixture
def chromium(tmp_path):
    process = subprocess.Popen(
        [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--remote-debugging-port=0",
         f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1200,900", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )
    for line in process.stderr:
        if line.startswith("DevTools listening on "):
            url = line.split(" on ", 1)[1].strip()
            break
    else:
        raise AssertionError("Chromium did not start")
    yield url
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


async def test_each_visitor_gets_an_app_of_their_own_and_a_waiting_room_past_the_limit(server, chromium):
    import aiohttp

    process, port, banner = server
    assert f"http://127.0.0.1:{port}" in banner
    async with aiohttp.ClientSession() as http, http.ws_connect(chromium, max_msg_size=0) as ws:
        browser = Browser(ws)
        first, first_target = await browser.open(f"http://127.0.0.1:{port}/")
        await first.wait_for(r"step 0\b", "the playground, paused at step 0")
        await first.click_centre()
        await first.press(" ", "Space", " ")  # space starts training
        await first.wait_for(r"step [1-9]", "training to start after a key press in the browser")

        second, _ = await browser.open(f"http://127.0.0.1:{port}/")
        await second.wait_for(r"rnntui is full", "the waiting room")
        apps = [c for c in children(process.pid) if "-m rnntui.web.visitor rnntui --corpus" in c]
        assert len(apps) == 1, apps

        await browser.call("Target.closeTarget", targetId=first_target)
        await second.wait_for(r"step 0\b", "the second visitor's own playground once the first left")
        deadline = time.monotonic() + DEADLINE
        while len([c for c in children(process.pid) if "-m rnntui.web.visitor rnntui --corpus" in c]) != 1:
            assert time.monotonic() < deadline, children(process.pid)
            await asyncio.sleep(0.1)
        browser.reader.cancel()
