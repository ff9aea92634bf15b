"""The live socket over real uvicorn servers: one on the memory runtime, two sharing Redis."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.leaderboard.conftest import KEY_PREFIX
from tests.leaderboard.lb_app import DEMO
from tests.leaderboard.lb_server import LiveServer

LIVE = f"/api/v1/games/{DEMO}/live"


@pytest.fixture(scope="module")
def memory_server() -> Iterator[LiveServer]:
    server = LiveServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def redis_servers(redis_url: str) -> Iterator[tuple[LiveServer, LiveServer]]:
    env = {"LB_TEST_REDIS_URL": redis_url, "LB_TEST_KEY_PREFIX": f"{KEY_PREFIX}-live"}
    a, b = LiveServer(env), LiveServer(env)
    a.start()
    b.start()
    yield a, b
    a.stop()
    b.stop()


async def recv(ws: ClientConnection, wait_s: float = 4.0) -> dict[str, Any]:
    msg: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), wait_s))
    return msg


async def publish(server: LiveServer, body: dict[str, Any]) -> int:
    async with httpx.AsyncClient(base_url=server.url) as c:
        r = await c.post(f"/_test/apply/{DEMO}", json=body)
        r.raise_for_status()
        version: int = r.json()["version"]
        return version


async def test_socket_gets_snapshots_then_updates(memory_server: LiveServer) -> None:
    url = f"{memory_server.ws_url}{LIVE}?boards=teams-total,players"
    async with connect(url) as ws:
        first, second = await recv(ws), await recv(ws)
        assert {first["board"], second["board"]} == {"teams-total", "players"}
        version = await publish(memory_server, {"teams": [{"code": "SHUTTLE", "points": 5000}]})
        msg = await recv(ws)
        assert msg["board"] == "teams-total" and msg["version"] == version
        assert msg["entries"][0]["team"] == "SHUTTLE"


async def test_kind_filter_on_the_socket(memory_server: LiveServer) -> None:
    async with connect(f"{memory_server.ws_url}{LIVE}?boards=teams-average&kind=family") as ws:
        msg = await recv(ws)
        assert msg["kind"] == "family" and {e["kind"] for e in msg["entries"]} == {"family"}


@pytest.mark.parametrize(
    ("path", "code"),
    [
        (f"{LIVE}?boards=teams-speed", 4422),
        (f"{LIVE}?kind=club", 4422),
        ("/api/v1/games/nowhere/live", 4404),
    ],
)
async def test_socket_refuses_bad_requests(memory_server: LiveServer, path: str, code: int) -> None:
    async with connect(f"{memory_server.ws_url}{path}") as ws:
        with pytest.raises(ConnectionClosed) as closed:
            await recv(ws)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == code


async def test_kicked_socket_is_closed_for_reconnect(memory_server: LiveServer) -> None:
    async with connect(f"{memory_server.ws_url}{LIVE}") as ws:
        await recv(ws)
        async with httpx.AsyncClient(base_url=memory_server.url) as c:
            assert (await c.post("/_test/kick")).json()["closed"] >= 1
        with pytest.raises(ConnectionClosed) as closed:
            await recv(ws)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1012


async def test_shutdown_closes_sockets() -> None:
    server = LiveServer()
    await asyncio.to_thread(server.start)
    try:
        async with connect(f"{server.ws_url}{LIVE}") as ws:
            await recv(ws)
            stopping = asyncio.create_task(asyncio.to_thread(server.stop))
            with pytest.raises(ConnectionClosed) as closed:
                await recv(ws, wait_s=10)
            await stopping
        # uvicorn closes open sockets with 1012 before the lifespan ends; the runtime's own
        # shutdown uses 1001. Either way the client is told to come back.
        assert closed.value.rcvd is not None and closed.value.rcvd.code in (1001, 1012)
    finally:
        await asyncio.to_thread(server.stop)


async def test_change_on_one_process_reaches_sockets_on_another(
    redis_servers: tuple[LiveServer, LiveServer],
) -> None:
    writer, reader = redis_servers
    async with (
        connect(f"{reader.ws_url}{LIVE}?boards=teams-distance") as on_reader,
        connect(f"{writer.ws_url}{LIVE}?boards=teams-distance") as on_writer,
    ):
        snapshot = await recv(on_reader)
        await recv(on_writer)
        version = await publish(writer, {"teams": [{"code": "WHEELERS", "distance_m": 900_000}]})
        for ws in (on_reader, on_writer):
            msg = await recv(ws)
            assert msg["version"] == version > snapshot["version"]
            assert msg["entries"][0]["team"] == "WHEELERS"
