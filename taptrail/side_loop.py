"""An event loop in a thread of its own, for work that must not queue behind requests.

A server process's event loop runs every request, WebSocket and background job in turn;
a coroutine that awaits the database fifteen times waits for its turn fifteen times. The
scorer's transactions (``game.scorer``) run here instead: the thread takes the GIL when a
database answer arrives, within Python's switch interval, whatever the main loop is doing.

Objects bound to an event loop (database engines, locks) must be created and used on one
side only: ``run`` hands a coroutine over and awaits its result from the caller's loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def _new_loop() -> asyncio.AbstractEventLoop:
    with contextlib.suppress(ImportError):
        import uvloop

        return uvloop.new_event_loop()
    return asyncio.new_event_loop()


class SideLoop:
    def __init__(self, name: str) -> None:
        self.loop = _new_loop()
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_forever()
        finally:
            pending = asyncio.all_tasks(self.loop)
            for task in pending:
                task.cancel()
            if pending:
                self.loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            self.loop.close()

    async def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Runs ``coro`` on this loop; cancelling the caller cancels it there too."""
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self.loop))

    async def close(self, timeout_s: float = 10.0) -> None:
        if self.loop.is_closed() or not self._thread.is_alive():
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        await asyncio.to_thread(self._thread.join, timeout_s)
