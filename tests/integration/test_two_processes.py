"""Two server processes behind one Redis: a tap scored by one reaches sockets on the other."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect

from harness.servers import ServerProcess
from kernel.settings import Settings
from tests.integration.live_town import live_game, load, walk


@pytest.fixture
def two_servers(
    backend: str, settings: Settings, tmp_path: Path
) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    if backend != "postgres":
        pytest.skip("in-process boards serve one process; fan-out across processes needs Redis")
    env = {
        "TAPTRAIL_DATABASE_URL": settings.database_url,
        "TAPTRAIL_REDIS_URL": str(settings.redis_url),
        "TAPTRAIL_REDIS_PREFIX": settings.redis_prefix,
        "TAPTRAIL_SECRET_KEY": str(settings.secret_key),
        "TAPTRAIL_PERIODIC_JOBS": "false",
    }
    servers = (ServerProcess(env, tmp_path), ServerProcess(env, tmp_path))
    try:
        for server in servers:
            server.start()
        yield servers
    finally:
        for server in servers:
            server.stop()


async def test_update_reaches_a_socket_on_the_other_process(
    two_servers: tuple[ServerProcess, ServerProcess], organiser_token: str, slug: str
) -> None:
    writer, watcher = two_servers
    data = live_game(slug)
    async with httpx.AsyncClient(base_url=writer.url, timeout=30) as client:
        await load(client, organiser_token, data)
        url = f"{watcher.ws_url}/api/v1/games/{slug}/live?boards=teams-total"
        async with connect(url) as socket:
            first = json.loads(await asyncio.wait_for(socket.recv(), 10))
            assert first["type"] == "leaderboard" and first["board"] == "teams-total"
            assert all(e["points"] == 0 for e in first["entries"])

            await walk(client, data, [1, 2])  # cards 1-2 are SCH1's fobs: 20 points each

            async def school_points() -> list[int]:
                # Each upload is scored right after its answer: the board may show the
                # first card's points before both cards' points.
                seen: list[int] = []
                while not seen or seen[-1] < 40:
                    message = json.loads(await socket.recv())
                    points = {e["team"]: e["points"] for e in message["entries"]}
                    if points.get("SCH1"):
                        seen.append(points["SCH1"])
                return seen

            seen = await asyncio.wait_for(school_points(), 15)
            assert seen[-1] == 40 and all(p in (20, 40) for p in seen), seen
