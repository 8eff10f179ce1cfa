"""`rnntui serve` in a real browser: headless Chromium, driven over the DevTools protocol.

The browser loads the page, its terminal connects, and what the app draws
arrives over the page's websocket; the test reads those frames (the bytes the
browser's terminal renders) and types into the page as a person would.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium installed (Debian: apt-get install chromium)")

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\x1b[=>]")
DEADLINE = 90.0  # seconds: a busy two-core machine starts a browser and an app process slowly


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


class Page:
    """One browser tab: the text its terminal received, and key presses into it."""

    def __init__(self, browser: Browser, session: str):
        self.browser, self.session = browser, session
        self.received = ""

    def screen(self) -> str:
        return ANSI.sub("", self.received)

    async def wait_for(self, pattern: str, what: str) -> None:
        deadline = time.monotonic() + DEADLINE
        while not re.search(pattern, self.screen()):
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; the page showed {self.screen()[-400:]!r}")
            await asyncio.sleep(0.1)

    async def press(self, key: str, code: str, text: str = "") -> None:
        for kind in ("keyDown", "keyUp"):
            await self.browser.call("Input.dispatchKeyEvent", session=self.session,
                                    type=kind, key=key, code=code, text=text if kind == "keyDown" else "")

    async def click_centre(self) -> None:
        for kind in ("mousePressed", "mouseReleased"):
            await self.browser.call("Input.dispatchMouseEvent", session=self.session,
                                    type=kind, x=400, y=300, button="left", clickCount=1)


class Browser:
    """A minimal DevTools-protocol client over one websocket."""

    def __init__(self, ws):
        self.ws = ws
        self.ids = itertools.count(1)
        self.pending: dict[int, asyncio.Future] = {}
        self.pages: dict[str, Page] = {}
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for message in self.ws:
            data = json.loads(message.data)
            if "id" in data and data["id"] in self.pending:
                self.pending.pop(data["id"]).set_result(data)
            elif data.get("method") == "Network.webSocketFrameReceived" and data.get("sessionId") in self.pages:
                response = data["params"]["response"]
                payload = response["payloadData"]
                if response["opcode"] == 2:
                    payload = base64.b64decode(payload).decode("utf-8", "replace")
                self.pages[data["sessionId"]].received += payload

    async def call(self, method: str, session: str | None = None, **params) -> dict:
        ident = next(self.ids)
        self.pending[ident] = asyncio.get_running_loop().create_future()
        message = {"id": ident, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        await self.ws.send_str(json.dumps(message))
        reply = await asyncio.wait_for(self.pending[ident], DEADLINE)
        if "error" in reply:
            raise AssertionError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    async def open(self, url: str) -> tuple[Page, str]:
        target = (await self.call("Target.createTarget", url="about:blank"))["targetId"]
        session = (await self.call("Target.attachToTarget", targetId=target, flatten=True))["sessionId"]
        page = self.pages[session] = Page(self, session)
        await self.call("Network.enable", session=session)
        await self.call("Page.navigate", session=session, url=url)
        return page, target


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
        apps = [c for c in children(process.pid) if "-m rnntui --corpus" in c]
        assert len(apps) == 1, apps

        await browser.call("Target.closeTarget", targetId=first_target)
        await second.wait_for(r"step 0\b", "the second visitor's own playground once the first left")
        deadline = time.monotonic() + DEADLINE
        while len([c for c in children(process.pid) if "-m rnntui --corpus" in c]) != 1:
            assert time.monotonic() < deadline, children(process.pid)
            await asyncio.sleep(0.1)
        browser.reader.cancel()
