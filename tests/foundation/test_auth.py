"""Bearer tokens and roles: 401 without or with a bad token, 403 without the right."""

from __future__ import annotations

import httpx
import yaml
from sqlalchemy import select

from accounts.models import ApiToken
from accounts.tokens import create_token
from api.app_state import state_of
from harness.game_files import game_file
from kernel.tokens import hash_token
from organising.repository import game_by_slug
from tests.helpers import auth


async def _put(client: httpx.AsyncClient, headers: dict, slug: str) -> httpx.Response:
    return await client.put(
        f"/api/v1/admin/games/{slug}",
        content=yaml.safe_dump(game_file(slug)),
        headers={**headers, "content-type": "application/yaml"},
    )


async def test_no_token_is_401(client: httpx.AsyncClient, slug: str) -> None:
    response = await _put(client, {}, slug)
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"


async def test_bad_token_is_401(client: httpx.AsyncClient, slug: str) -> None:
    response = await _put(client, auth("tt_not-a-real-token"), slug)
    assert response.status_code == 401


async def test_roles(app, client: httpx.AsyncClient, slug: str, organiser_token: str) -> None:
    assert (await _put(client, auth(organiser_token), slug)).status_code == 200
    assert (await _put(client, auth(organiser_token), slug + "-b")).status_code == 200
    async with state_of(app).sessionmaker() as s:
        game = await game_by_slug(s, slug)
        evaluator = await create_token(s, role="evaluator", game_id=game.id)
        other_game = await game_by_slug(s, slug + "-b")
        other_organiser = await create_token(s, role="organiser", game_id=other_game.id)
        own_organiser = await create_token(s, role="organiser", game_id=game.id)
        await s.commit()
    assert (await _put(client, auth(evaluator), slug)).status_code == 403
    forbidden = await _put(client, auth(other_organiser), slug)
    assert forbidden.status_code == 403
    assert forbidden.json()["detail"] == "this organiser token is for another game"
    assert (await _put(client, auth(own_organiser), slug)).status_code == 200
    # A game-scoped organiser cannot create a new game.
    assert (await _put(client, auth(own_organiser), slug + "-c")).status_code == 403


async def test_tokens_are_stored_only_as_hashes(app, organiser_token: str) -> None:

    async with state_of(app).sessionmaker() as s:
        rows = (await s.scalars(select(ApiToken.token_hash))).all()
    assert hash_token(organiser_token) in rows
    assert organiser_token not in rows
