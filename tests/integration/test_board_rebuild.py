"""Boards are derived data: wiped mid-game, they come back identical from the database."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI

from api.app_state import state_of
from leaderboard.rebuild import rebuild_from_settings
from organising.repository import game_by_slug
from tests.integration.live_town import live_game, load, walk


async def _boards(client: httpx.AsyncClient, slug: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for by in ("total", "average", "distance"):
        response = await client.get(f"/api/v1/games/{slug}/leaderboards/teams?by={by}")
        assert response.status_code == 200, response.text
        out[by] = response.json()["entries"]
    out["players"] = (await client.get(f"/api/v1/games/{slug}/leaderboards/players")).json()[
        "entries"
    ]
    return out


async def _wipe(app: FastAPI, slug: str) -> None:
    runtime = state_of(app)
    if runtime.redis is not None:
        prefix = runtime.settings.redis_prefix
        keys = [k async for k in runtime.redis.scan_iter(match=f"{prefix}:{{{slug}}}:*")]
        assert keys, "the game's boards should be in Redis"
        await runtime.redis.delete(*keys)
    else:
        await state_of(app).leaderboard.store.delete(slug)
    assert not await state_of(app).leaderboard.store.exists(slug)


async def test_boards_come_back_identical_after_a_wipe(
    app: FastAPI, client: httpx.AsyncClient, organiser_token: str, slug: str
) -> None:
    data = live_game(slug)
    await load(client, organiser_token, data)
    await walk(client, data, [1, 2, 4, 5, 6])
    before = await _boards(client, slug)
    assert before["total"][0]["points"] > 0
    assert [e["nickname"] for e in before["players"]] != []

    await _wipe(app, slug)
    await state_of(app).repair_boards()  # what a starting server or the repair loop does
    assert await _boards(client, slug) == before


async def test_cli_rebuild_swaps_in_identical_boards(
    app: FastAPI, client: httpx.AsyncClient, organiser_token: str, slug: str, backend: str
) -> None:
    data = live_game(slug)
    await load(client, organiser_token, data)
    await walk(client, data, [1, 3, 7])
    before = await _boards(client, slug)
    settings = state_of(app).settings
    if backend == "postgres":
        await _wipe(app, slug)
        assert await rebuild_from_settings(settings, slug) > 0
    else:
        # In-process boards belong to the server: it rebuilds them from the database.
        async with state_of(app).sessionmaker() as session:
            game = await game_by_slug(session, slug)
        await _wipe(app, slug)
        await state_of(app).after_game_change(game.id)
    assert await _boards(client, slug) == before
