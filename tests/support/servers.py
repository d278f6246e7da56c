"""Run a Sanic app on a free loopback port in a background thread, for tests."""

from __future__ import annotations

import asyncio
import threading
from typing import Any, Optional

from sanic import Sanic

from tools.stack import free_port


class BackgroundApp:
    """Start `app` with its listeners on 127.0.0.1:<free port>; stop it on `close()`."""

    def __init__(self, app: Sanic) -> None:
        # Sanic rewrites its protocol class once per process unless in test mode, which
        # breaks a second app in the same process.
        Sanic.test_mode = True
        self.app = app
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.loop = asyncio.new_event_loop()
        self._server: Optional[Any] = None
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> "BackgroundApp":
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(timeout=30)
        return self

    async def _start(self) -> None:
        self._server = await self.app.create_server(
            host="127.0.0.1", port=self.port, return_asyncio_server=True, access_log=False
        )
        await self._server.startup()
        await self._server.before_start()
        await self._server.after_start()

    def run(self, coroutine: Any, timeout: float = 30) -> Any:
        """Run a coroutine on the server's loop (e.g. to inspect app state)."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=timeout)

    def __exit__(self, *_exc: Any) -> None:
        async def stop() -> None:
            await self._server.before_stop()
            self._server.close()
            await self._server.wait_closed()
            await self._server.after_stop()

        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(timeout=30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
