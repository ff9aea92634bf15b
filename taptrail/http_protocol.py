"""The HTTP protocol ``taptrail serve`` runs: uvicorn's (httptools), sending an answer's head
and the body that follows it in one write.

uvicorn writes the status line and headers when the app starts its answer, and the body
when the app sends it: two writes, so two segments on the wire and, on a busy machine, a
client woken for the head and again for the body (about 10 % of a board read's p99 in
``bench/bench_leaderboard_reads.py``). ``JoinedWrites`` holds a write that comes alone
until the next write, which then goes out together with it at once, or until the end of
the event loop's step (``loop.call_soon``), whichever comes first. So an answer whose body
follows its head in the same step (every JSON answer) is one write, and nothing written
waits longer than the step it was written in; the order of the bytes is kept, closing the
connection sends what is held first, and aborting it drops it, as it drops the transport's
own buffer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class JoinedWrites(asyncio.Transport):
    """A transport that joins a write with the next one of the same event-loop step."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self._transport = transport
        self._loop = loop
        self._held: bytes | None = None

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._held is not None:
            held, self._held = self._held, None
            self._transport.write(held + bytes(data))
        elif data:
            self._held = bytes(data)
            self._loop.call_soon(self._flush)

    def writelines(self, list_of_data: Iterable[bytes | bytearray | memoryview]) -> None:
        self.write(b"".join(list_of_data))

    def _flush(self) -> None:
        if self._held is not None:
            held, self._held = self._held, None
            if not self._transport.is_closing():
                self._transport.write(held)

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def abort(self) -> None:
        self._held = None
        self._transport.abort()

    def write_eof(self) -> None:
        self._flush()
        self._transport.write_eof()

    def can_write_eof(self) -> bool:
        return self._transport.can_write_eof()

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + len(self._held or b"")

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return self._transport.get_write_buffer_limits()

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self._transport.set_write_buffer_limits(high, low)

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def is_reading(self) -> bool:
        return self._transport.is_reading()

    def pause_reading(self) -> None:
        self._transport.pause_reading()

    def resume_reading(self) -> None:
        self._transport.resume_reading()

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self._transport.set_protocol(protocol)

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._transport.get_protocol()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._transport.get_extra_info(name, default)


class JoinedWritesHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol writing through ``JoinedWrites`` (``uvicorn.run(http=)``);
    a connection upgraded to a WebSocket keeps the same transport."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(JoinedWrites(transport, self.loop))
