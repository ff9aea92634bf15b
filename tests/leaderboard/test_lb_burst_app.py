"""Bursts through the whole app (both backends): every board read of a hall full of phones
opening the board at once is answered, also with a deliberately small Redis pool."""

from __future__ import annotations

import asyncio

import httpx
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from api.app_state import state_of
from taptrail.server import create_app
from tests.integration.live_town import live_game, load, walk

BURST = 400


async def _burst(client: httpx.AsyncClient, slug: str) -> list[httpx.Response]:
    url = f"/api/v1/games/{slug}/leaderboards/teams?by=average"
    return await asyncio.gather(*(client.get(url) for _ in range(BURST)))


async def _town(client: httpx.AsyncClient, token: str, slug: str) -> dict[str, object]:
    data = live_game(slug)
    await load(client, token, data)
    await walk(client, data, [1, 2, 4, 5])
    # The board is already open somewhere (the hall screen): the game is known.
    first = await client.get(f"/api/v1/games/{slug}/leaderboards/teams?by=average")
    assert first.status_code == 200, first.text
    assert first.json()["entries"][0]["points"] > 0
    body: dict[str, object] = first.json()
    return body


async def test_400_concurrent_board_reads_all_answer_200(
    client: httpx.AsyncClient, organiser_token: str, slug: str
) -> None:
    board = await _town(client, organiser_token, slug)
    answers = await _burst(client, slug)
    assert [r.status_code for r in answers] == [200] * BURST, {r.text for r in answers}
    assert all(r.json() == board for r in answers)


async def test_a_small_redis_pool_still_answers_every_read(
    app: FastAPI, client: httpx.AsyncClient, organiser_token: str, slug: str
) -> None:
    board = await _town(client, organiser_token, slug)
    settings = state_of(app).settings.model_copy(
        update={"redis_max_connections": 5, "redis_pool_timeout_s": 30.0, "periodic_jobs": False}
    )

    small = create_app(settings)
    async with (
        LifespanManager(small, startup_timeout=60, shutdown_timeout=60),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=small), base_url="http://t") as c,
    ):
        if state_of(small).redis is not None:
            assert state_of(small).redis.connection_pool.max_connections == 5
        answers = await _burst(c, slug)
    assert [r.status_code for r in answers] == [200] * BURST, {r.text for r in answers}
    assert all(r.json() == board for r in answers)
