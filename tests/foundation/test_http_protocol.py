"""taptrail serve's HTTP protocol (taptrail/http_protocol.py): an answer's head and body in
one write, every byte in order, and answers, streams and WebSockets as uvicorn's own."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket
from websockets.asyncio.client import connect

from harness.servers import serving
from taptrail.http_protocol import JoinedWrites, JoinedWritesHttpProtocol


class Recorded(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, bytes]] = []
        self.closing = False

    def write(self, data: Any) -> None:
        self.calls.append(("write", bytes(data)))

    def close(self) -> None:
        self.calls.append(("close", b""))
        self.closing = True

    def abort(self) -> None:
        self.calls.append(("abort", b""))
        self.closing = True

    def is_closing(self) -> bool:
        return self.closing

    def get_write_buffer_size(self) -> int:
        return 0


async def test_a_write_and_the_next_of_the_same_step_go_out_as_one() -> None:
    real = Recorded()
    t = JoinedWrites(real, asyncio.get_running_loop())
    t.write(b"HTTP/1.1 200 OK\r\n\r\n")
    assert real.calls == [] and t.get_write_buffer_size() == 19
    t.write(b'{"a":1}')
    assert real.calls == [("write", b'HTTP/1.1 200 OK\r\n\r\n{"a":1}')]
    await asyncio.sleep(0)
    assert len(real.calls) == 1  # nothing left over


async def test_a_write_alone_goes_out_at_the_end_of_its_step() -> None:
    real = Recorded()
    t = JoinedWrites(real, asyncio.get_running_loop())
    t.write(b"chunk 1")
    t.write(b"")  # nothing to join or to send
    await asyncio.sleep(0)
    assert real.calls == [("write", b"chunk 1")]
    t.write(b"chunk 2")
    t.write(b"chunk 3")
    t.write(b"chunk 4")
    await asyncio.sleep(0)
    assert [data for _, data in real.calls] == [b"chunk 1", b"chunk 2chunk 3", b"chunk 4"]


async def test_closing_sends_what_is_held_first_and_aborting_drops_it() -> None:
    real = Recorded()
    t = JoinedWrites(real, asyncio.get_running_loop())
    t.write(b"last words")
    t.close()
    await asyncio.sleep(0)
    assert real.calls == [("write", b"last words"), ("close", b"")]

    real = Recorded()
    t = JoinedWrites(real, asyncio.get_running_loop())
    t.write(b"never sent")
    t.abort()
    await asyncio.sleep(0)
    assert real.calls == [("abort", b"")]


async def _json(request: Request) -> JSONResponse:
    return JSONResponse({"path": request.url.path, "n": int(request.query_params.get("n", 0))})


async def _stream(request: Request) -> StreamingResponse:
    async def parts() -> AsyncIterator[bytes]:
        for i in range(5):
            yield f"part {i}\n".encode()
            await asyncio.sleep(0.01)

    return StreamingResponse(parts(), media_type="text/plain")


async def _echo(websocket: WebSocket) -> None:
    await websocket.accept()
    while True:
        text = await websocket.receive_text()
        await websocket.send_text(f"echo {text}")


@pytest.fixture
async def server() -> AsyncIterator[str]:
    app = Starlette(
        routes=[
            Route("/json", _json),
            Route("/stream", _stream),
            WebSocketRoute("/ws", _echo),
        ]
    )
    async with serving(app, http=JoinedWritesHttpProtocol) as address:
        yield address


async def test_answers_streams_and_websockets_through_the_protocol(server: str) -> None:
    async with httpx.AsyncClient(base_url=f"http://{server}") as client:
        for n in range(20):  # one kept-alive connection, answer after answer
            r = await client.get("/json", params={"n": n})
            assert r.status_code == 200 and r.json() == {"path": "/json", "n": n}
        assert (await client.get("/missing")).status_code == 404
        head = await client.head("/json")
        assert head.status_code == 200 and head.content == b""
        stream = await client.get("/stream")
        assert stream.text == "".join(f"part {i}\n" for i in range(5))
    async with connect(f"ws://{server}/ws") as ws:
        for text in ("one", "two"):
            await ws.send(text)
            assert await asyncio.wait_for(ws.recv(), 5) == f"echo {text}"


class Spied(JoinedWritesHttpProtocol):
    """Records what reaches the connection's own transport (the test's asyncio loop's)."""

    writes: list[bytes] = []

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        write = transport.write

        def spy(data: Any) -> None:
            Spied.writes.append(bytes(data))
            write(data)

        transport.write = spy  # type: ignore[method-assign]
        super().connection_made(transport)


async def test_an_answer_is_one_write() -> None:
    app = Starlette(routes=[Route("/json", _json)])
    async with serving(app, http=Spied) as address:
        Spied.writes.clear()
        async with httpx.AsyncClient(base_url=f"http://{address}") as client:
            for n in range(3):
                assert (await client.get("/json", params={"n": n})).json()["n"] == n
        assert len(Spied.writes) == 3
        for n, data in enumerate(Spied.writes):
            head, _, body = data.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 200") and body == b'{"path":"/json","n":%d}' % n
