"""Make the README's pictures: the playground after some training, a finished lab race, and the playground in a browser.

    python docs/screenshots.py            # writes docs/playground.svg and docs/lab.svg
    python docs/screenshots.py browser    # writes docs/browser.png (needs Chromium)

All are real runs, driven the way the tests drive the app; the SVGs use fixed seeds.
"""

from __future__ import annotations

import asyncio
import base64
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from textual.app import App

from rnntui.tui.app import PlaygroundApp
from rnntui.tui.lab.screen import LabScreen
from rnntui.tui.playground.shared_trainer import PLAYGROUND_CONFIG, new_trainer

HERE = Path(__file__).parent


async def wait_for(pilot, condition, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        await pilot.pause(0.2)


async def playground() -> None:
    app = PlaygroundApp(new_trainer(PLAYGROUND_CONFIG.with_changes(corpus="fables", seed=0)))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.5)
        app.simulate_key("space")
        await wait_for(pilot, lambda: app.trainer.step >= 400, 120)
        app.simulate_key("space")
        await pilot.pause(3)
        app.save_screenshot(str(HERE / "playground.svg"))


class LabOnly(App):
    def on_mount(self) -> None:
        self.push_screen(LabScreen())


async def lab() -> None:
    app = LabOnly()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.5)
        app.simulate_key("space")
        screen = app.screen
        await wait_for(pilot, lambda: not screen.running and screen.step > 0, 300)
        await pilot.pause(1)
        app.save_screenshot(str(HERE / "lab.svg"))


async def browser() -> None:
    """`rnntui serve` in headless Chromium, some 300 steps into training, as docs/browser.png."""
    import aiohttp

    sys.path.insert(0, str(HERE.parent / "tests"))
    from cdp import Browser

    chromium = next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)
    if chromium is None:
        raise SystemExit("no Chromium installed (Debian: apt-get install chromium)")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with tempfile.TemporaryDirectory() as scratch:
        children = []
        try:
            server = subprocess.Popen(
                [sys.executable, "-m", "rnntui", "serve", "--port", str(port), "--max-visitors", "1", "--corpus", "fables"],
                cwd=scratch, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
            )
            children.append(server)
            server.stdout.readline()  # the banner: the server is listening
            chrome = subprocess.Popen(
                [chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--remote-debugging-port=0",
                 f"--user-data-dir={scratch}/profile", "--window-size=1280,860", "about:blank"],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True,
            )
            children.append(chrome)
            devtools = next(line.split(" on ", 1)[1].strip() for line in chrome.stderr
                            if line.startswith("DevTools listening on "))
            async with aiohttp.ClientSession() as http, http.ws_connect(devtools, max_msg_size=0) as ws:
                cdp = Browser(ws)
                page, _ = await cdp.open(f"http://127.0.0.1:{port}/")
                await page.wait_for(r"Loss", "the playground", 60)
                await page.click_centre()
                await page.press(" ", "Space", " ")  # space starts training
                await page.wait_for(r"\bstep (?:[3-9]\d\d|\d{4,})\b", "300 steps of training", 300)
                page.received = ""  # only what the app draws from here on
                await page.press(" ", "Space", " ")  # and pauses it, for a still picture
                await page.wait_for(r"paused", "the pause", 30)
                await asyncio.sleep(2)
                shot = await cdp.call("Page.captureScreenshot", session=page.session, format="png")
                (HERE / "browser.png").write_bytes(base64.b64decode(shot["data"]))
                steps = re.findall(r"\bstep (\d+)", page.screen())
                print(f"docs/browser.png at step {steps[-1] if steps else '?'}")
                cdp.reader.cancel()
        finally:
            for child in reversed(children):
                os.killpg(child.pid, signal.SIGKILL if child is not server else signal.SIGTERM)
                child.wait(timeout=30)


if __name__ == "__main__":
    if sys.argv[1:] == ["browser"]:
        asyncio.run(browser())
    else:
        asyncio.run(playground())
        asyncio.run(lab())
