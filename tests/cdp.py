"""A minimal Chromium DevTools-protocol client: open tabs, read their terminal's websocket frames, press keys.

Used by tests/test_serve.py and by docs/screenshots.py (the browser picture).
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import re
import time

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\x1b[=>]")
DEADLINE = 90.0  # seconds: a busy two-core machine starts a browser and an app process slowly


class Page:
    """One browser tab: the text its terminal received, and key presses into it."""

    def __init__(self, browser: Browser, session: str):
        self.browser, self.session = browser, session
        self.received = ""

    def screen(self) -> str:
        return ANSI.sub("", self.received)

    async def wait_for(self, pattern: str, what: str, seconds: float = DEADLINE) -> None:
        deadline = time.monotonic() + seconds
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
