"""Make the README's pictures: the playground after some training, and a finished lab race.

    python docs/screenshots.py        # writes docs/playground.svg and docs/lab.svg

Both are real runs with fixed seeds, driven the way the tests drive the app.
"""

from __future__ import annotations

import asyncio
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


if __name__ == "__main__":
    asyncio.run(playground())
    asyncio.run(lab())
