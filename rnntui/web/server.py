"""The playground in a browser: every visitor gets an app process of their own, up to a limit.

A page connects a terminal in the browser to a websocket; behind each
websocket runs one `rnntui` process (the playground, with its lessons and
its lab), which draws into that terminal. Each process trains with one BLAS
thread, so a few visitors share a small machine fairly. Past the limit a
visitor is not turned away with a broken page: their terminal shows a
waiting room until a place frees, and then the playground starts in it.
"""

from __future__ import annotations

import asyncio
import logging
import shlex
import socket
import sys

from aiohttp import web
from textual_serve.app_service import AppService
from textual_serve.server import Server, to_int

log = logging.getLogger("textual-serve")

# Each visitor's process computes on one core: BLAS libraries read these when they start.
ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


class VisitorApp(AppService):
    """One visitor's app process, limited to one BLAS thread."""

    def _build_environment(self, width: int = 80, height: int = 24) -> dict[str, str]:
        return {**super()._build_environment(width, height), **ONE_THREAD}


class Seat:
    """What a websocket's messages reach: the visitor's current app (the waiting room, then the playground)."""

    def __init__(self, width: int, height: int):
        self.app: AppService | None = None
        self.size = (width, height)

    async def sit(self, app: AppService) -> None:
        """Start `app` at the terminal's size, then let messages reach it. Until its process runs it
        has no input to write to, so a resize that comes meanwhile only updates the size, sent after."""
        size = self.size
        await app.start(*size)
        self.app = app
        if self.size != size:
            await app.set_terminal_size(*self.size)

    async def send_bytes(self, data: bytes) -> None:
        if self.app is not None:
            await self.app.send_bytes(data)

    async def set_terminal_size(self, width: int, height: int) -> None:
        self.size = (width, height)
        if self.app is not None:
            await self.app.set_terminal_size(width, height)

    async def blur(self) -> None:
        if self.app is not None:
            await self.app.blur()

    async def focus(self) -> None:
        if self.app is not None:
            await self.app.focus()


class ClassroomServer(Server):
    def __init__(self, corpus: str, host: str, port: int, max_visitors: int):
        # `exec`: the shell gives way to the app, whose parent is then this server; the visitor
        # module ends the app if this server dies without stopping it (visitor.py).
        visitor = f"exec {shlex.quote(sys.executable)} -m rnntui.web.visitor"
        super().__init__(f"{visitor} rnntui --corpus {shlex.quote(corpus)}", host=host, port=port, title="rnntui")
        self.max_visitors = max_visitors
        self.places = asyncio.Semaphore(max_visitors)
        self.waiting_command = f"{visitor} rnntui.tui.waiting_room {max_visitors}"

    def serve(self, debug: bool = False) -> None:
        # Bind once first, so a taken port is said before the banner claims to be serving.
        with socket.create_server((self.host, self.port)):
            pass
        super().serve(debug)

    async def on_startup(self, app: web.Application) -> None:
        self.console.print(f"rnntui is serving the playground at {self.public_url}", highlight=False)
        self.console.print(f"open it in a browser; up to {self.max_visitors} visitors at once; Ctrl+C stops", highlight=False)

    def _app(self, command: str, websocket: web.WebSocketResponse, closes_page: bool = True) -> VisitorApp:
        async def keep_open() -> None:  # the waiting room's exit hands the page on; it must not close it
            pass

        return VisitorApp(
            command, write_bytes=websocket.send_bytes, write_str=websocket.send_str,
            close=websocket.close if closes_page else keep_open,
            download_manager=self.download_manager, debug=self.debug,
        )

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        websocket = web.WebSocketResponse(heartbeat=15)
        seat = Seat(to_int(request.query.get("width", "80"), 80), to_int(request.query.get("height", "24"), 24))
        await websocket.prepare(request)
        messages = asyncio.create_task(self._process_messages(websocket, seat))
        seated = False
        try:
            if self.places.locked():
                await seat.sit(self._app(self.waiting_command, websocket, closes_page=False))
                place = asyncio.create_task(self.places.acquire())
                await asyncio.wait({place, messages}, return_when=asyncio.FIRST_COMPLETED)
                if not place.done():  # the visitor left while waiting
                    place.cancel()
                    return websocket
                seated = True
                waiting, seat.app = seat.app, None
                await waiting.stop()
            else:
                await self.places.acquire()
                seated = True
            await seat.sit(self._app(self.command, websocket))
            await messages
        except asyncio.CancelledError:
            await websocket.close()
        except Exception as error:  # one visitor's failure must not stop the server for the others
            log.exception(error)
        finally:
            messages.cancel()
            if seat.app is not None:
                await seat.app.stop()
            if seated:
                self.places.release()
        return websocket
