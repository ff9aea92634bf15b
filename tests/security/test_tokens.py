"""Bearer tokens: expiry, last use, listing and revocation (API and command line), logout."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner, Result
from fastapi import FastAPI
from sqlalchemy import select, update

from accounts.models import ApiToken
from accounts.tokens import (
    PLAYER_TOKEN_MARGIN,
    STAFF_TOKEN_LIFETIME,
    create_token,
)
from api.app_state import state_of
from game.models import Game, Team
from kernel.db import utcnow
from kernel.settings import get_settings
from kernel.tokens import hash_token
from taptrail.cli import main
from tests.helpers import auth
from tests.security.world import definition, nickname

TOKENS = "/api/v1/admin/tokens"


@pytest.fixture
async def town(app: FastAPI, client: httpx.AsyncClient, organiser_token: str, slug: str) -> int:
    for s in (slug, slug + "-b"):
        response = await client.put(
            f"/api/v1/admin/games/{s}", json=definition(s), headers=auth(organiser_token)
        )
        assert response.status_code == 200, response.text
    return await _game_id(app, slug)


async def _token(app: FastAPI, **kwargs: object) -> tuple[int, str]:
    async with state_of(app).sessionmaker() as s:
        value = await create_token(s, **kwargs)  # type: ignore[arg-type]
        await s.commit()
        row = await s.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(value)))
    assert row is not None
    return row.id, value


async def _row(app: FastAPI, token_id: int) -> ApiToken:
    async with state_of(app).sessionmaker() as s:
        row = await s.get(ApiToken, token_id)
    assert row is not None
    return row


async def _team_id(app: FastAPI, game_id: int) -> int:
    async with state_of(app).sessionmaker() as s:
        team = await s.scalar(select(Team.id).where(Team.game_id == game_id, Team.code == "SCH1"))
    assert team is not None
    return team


def _near(when: datetime | None, target: datetime) -> bool:
    return when is not None and abs((when - target).total_seconds()) < 120


async def test_an_expired_token_is_refused_with_a_reason(
    app: FastAPI, client: httpx.AsyncClient, town: int
) -> None:
    _, value = await _token(
        app, role="organiser", game_id=town, expires_at=utcnow() - timedelta(minutes=1)
    )
    response = await client.get(TOKENS, headers=auth(value))
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]
    assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_a_revoked_token_is_refused_with_a_reason(
    app: FastAPI, client: httpx.AsyncClient, town: int
) -> None:
    token_id, value = await _token(app, role="organiser", game_id=town)
    async with state_of(app).sessionmaker() as s:
        await s.execute(update(ApiToken).where(ApiToken.id == token_id).values(revoked_at=utcnow()))
        await s.commit()
    response = await client.get(TOKENS, headers=auth(value))
    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]


async def test_tokens_expire_by_default(
    app: FastAPI, client: httpx.AsyncClient, town: int, slug: str
) -> None:
    token_id, _ = await _token(app, role="evaluator", game_id=town)
    assert _near((await _row(app, token_id)).expires_at, utcnow() + STAFF_TOKEN_LIFETIME)
    registered = await client.post(
        f"/api/v1/games/{slug}/registrations",
        json={"nickname": nickname(), "age_band": "25-44", "gender": "female"},
    )
    assert registered.status_code == 201, registered.text
    async with state_of(app).sessionmaker() as s:
        ends_at = await s.scalar(select(Game.ends_at).where(Game.id == town))
        row = await s.scalar(
            select(ApiToken).where(ApiToken.token_hash == hash_token(registered.json()["token"]))
        )
    assert ends_at is not None and row is not None
    assert row.expires_at == ends_at + PLAYER_TOKEN_MARGIN


async def test_last_use_is_recorded_at_most_once_a_minute(
    app: FastAPI, client: httpx.AsyncClient, town: int
) -> None:
    token_id, value = await _token(app, role="organiser", game_id=town)
    assert (await _row(app, token_id)).last_used_at is None
    assert (await client.get(TOKENS, headers=auth(value))).status_code == 200
    first = (await _row(app, token_id)).last_used_at
    assert _near(first, utcnow())
    assert (await client.get(TOKENS, headers=auth(value))).status_code == 200
    assert (await _row(app, token_id)).last_used_at == first
    # Two minutes later the next use is recorded.
    earlier = utcnow() - timedelta(minutes=2)
    async with state_of(app).sessionmaker() as s:
        await s.execute(
            update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=earlier)
        )
        await s.commit()
    assert (await client.get(TOKENS, headers=auth(value))).status_code == 200
    later = (await _row(app, token_id)).last_used_at
    assert later is not None and later > earlier + timedelta(minutes=1)


async def test_organisers_list_the_tokens_of_their_games(
    app: FastAPI, client: httpx.AsyncClient, organiser_token: str, town: int, slug: str
) -> None:
    other = await _game_id(app, slug + "-b")
    own_id, own = await _token(app, role="organiser", game_id=town, label="town hall")
    manager_id, manager = await _token(
        app, role="team_manager", game_id=town, team_id=await _team_id(app, town)
    )
    foreign_id, _ = await _token(app, role="evaluator", game_id=other)

    listed = await client.get(TOKENS, headers=auth(own))
    assert listed.status_code == 200, listed.text
    tokens = {t["id"]: t for t in listed.json()["tokens"]}
    assert {own_id, manager_id} <= set(tokens)
    assert foreign_id not in tokens
    assert all(t["game"] == slug for t in tokens.values())
    entry = tokens[manager_id]
    assert entry["role"] == "team_manager" and entry["team"] == "SCH1"
    assert set(entry) == {
        "id",
        "role",
        "game",
        "team",
        "player_id",
        "label",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
        "active",
    }
    assert tokens[own_id]["label"] == "town hall" and tokens[own_id]["active"] is True
    # Never a token or its hash.
    for secret in (own, manager, hash_token(own), hash_token(manager)):
        assert secret not in listed.text

    everything = await client.get(TOKENS, headers=auth(organiser_token))
    ids = {t["id"] for t in everything.json()["tokens"]}
    assert {own_id, manager_id, foreign_id} <= ids
    only_b = await client.get(TOKENS, params={"game": slug + "-b"}, headers=auth(organiser_token))
    assert {t["id"] for t in only_b.json()["tokens"]} == {foreign_id}
    refused = await client.get(TOKENS, params={"game": slug + "-b"}, headers=auth(own))
    assert refused.status_code == 403

    # Players' tokens are listed when asked for.
    registered = await client.post(
        f"/api/v1/games/{slug}/registrations",
        json={"nickname": nickname(), "age_band": "25-44", "gender": "female"},
    )
    player_id = registered.json()["player_id"]
    assert player_id not in {t["player_id"] for t in tokens.values()}
    players = await client.get(TOKENS, params={"role": "player"}, headers=auth(own))
    assert [t["player_id"] for t in players.json()["tokens"]] == [player_id]


async def _game_id(app: FastAPI, slug: str) -> int:
    async with state_of(app).sessionmaker() as s:
        gid = await s.scalar(select(Game.id).where(Game.slug == slug))
    assert gid is not None
    return gid


async def test_organisers_revoke_tokens_of_their_games(
    app: FastAPI, client: httpx.AsyncClient, organiser_token: str, town: int, slug: str
) -> None:
    other = await _game_id(app, slug + "-b")
    _, own = await _token(app, role="organiser", game_id=town)
    manager_id, manager = await _token(
        app, role="team_manager", game_id=town, team_id=await _team_id(app, town)
    )
    foreign_id, foreign = await _token(app, role="evaluator", game_id=other)
    all_games_id, _ = await _token(app, role="organiser")

    assert (await client.get("/api/v1/teams/me", headers=auth(manager))).status_code == 200
    revoked = await client.delete(f"{TOKENS}/{manager_id}", headers=auth(own))
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["active"] is False and revoked.json()["revoked_at"] is not None
    refused = await client.get("/api/v1/teams/me", headers=auth(manager))
    assert refused.status_code == 401 and "revoked" in refused.json()["detail"]
    # Revoking again changes nothing.
    again = await client.delete(f"{TOKENS}/{manager_id}", headers=auth(own))
    assert again.json()["revoked_at"] == revoked.json()["revoked_at"]

    for out_of_scope in (foreign_id, all_games_id):
        answer = await client.delete(f"{TOKENS}/{out_of_scope}", headers=auth(own))
        assert answer.status_code == 403, answer.text
    assert (await client.delete(f"{TOKENS}/999999999", headers=auth(own))).status_code == 404
    # An organiser of every game revokes any token.
    assert (
        await client.delete(f"{TOKENS}/{foreign_id}", headers=auth(organiser_token))
    ).status_code == 200
    assert (await _row(app, foreign_id)).revoked_at is not None
    assert (await _row(app, all_games_id)).revoked_at is None
    assert foreign  # its value was never needed to revoke it


async def test_a_player_logs_out(
    app: FastAPI, client: httpx.AsyncClient, town: int, slug: str
) -> None:
    body = {"nickname": nickname(), "age_band": "25-44", "gender": "female"}
    registered = (await client.post(f"/api/v1/games/{slug}/registrations", json=body)).json()
    token = registered["token"]
    async with state_of(app).sessionmaker() as s:
        second = await create_token(
            s, role="player", game_id=town, player_id=registered["player_id"]
        )
        await s.commit()
    assert (await client.get("/api/v1/me", headers=auth(token))).status_code == 200
    out = await client.post("/api/v1/me/logout", headers=auth(token))
    assert out.status_code == 204, out.text
    after = await client.get("/api/v1/me", headers=auth(token))
    assert after.status_code == 401 and "revoked" in after.json()["detail"]
    # Only the calling token: the player's other device stays signed in.
    assert (await client.get("/api/v1/me", headers=auth(second))).status_code == 200


# ------------------------------------------------------------------------------ command line


@pytest.fixture
def cli(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("TAPTRAIL_DATABASE_URL", database_url)
    monkeypatch.setenv("TAPTRAIL_SECRET_KEY_FILE", str(tmp_path / "key"))
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


async def _run(cli: CliRunner, args: list[str]) -> Result:
    """The command runs its own event loop: in a thread, beside the tests' loop."""
    return await asyncio.to_thread(cli.invoke, main, args)


async def test_the_command_line_creates_lists_and_revokes(
    app: FastAPI, client: httpx.AsyncClient, cli: CliRunner, town: int, slug: str
) -> None:
    created = await _run(
        cli,
        ["token", "create", "--role", "evaluator", "--game", slug, "--expires-in", "7"],
    )
    assert created.exit_code == 0, created.output
    value = created.output.strip().splitlines()[-1]
    async with state_of(app).sessionmaker() as s:
        row = await s.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(value)))
    assert row is not None and _near(row.expires_at, utcnow() + timedelta(days=7))

    forever = await _run(
        cli,
        ["token", "create", "--role", "organiser", "--game", slug, "--expires-in", "never"],
    )
    assert forever.exit_code == 0, forever.output
    forever_value = forever.output.strip().splitlines()[-1]
    async with state_of(app).sessionmaker() as s:
        never = await s.scalar(
            select(ApiToken).where(ApiToken.token_hash == hash_token(forever_value))
        )
    assert never is not None and never.expires_at is None
    bad = await _run(cli, ["token", "create", "--role", "organiser", "--expires-in", "0"])
    assert bad.exit_code != 0 and "--expires-in" in bad.output

    listed = await _run(cli, ["token", "list", "--game", slug])
    assert listed.exit_code == 0, listed.output
    lines = {line.split()[0]: line for line in listed.output.splitlines()[1:] if line.strip()}
    assert str(row.id) in lines and str(never.id) in lines
    assert "evaluator" in lines[str(row.id)] and "never" in lines[str(never.id)]
    assert value not in listed.output and row.token_hash not in listed.output

    revoked = await _run(cli, ["token", "revoke", str(row.id)])
    assert revoked.exit_code == 0, revoked.output
    assert f"token {row.id}" in revoked.output
    assert (await _row(app, row.id)).revoked_at is not None
    refused = await client.get(
        f"/api/v1/admin/games/{slug}/evaluation-projects", headers=auth(value)
    )
    assert refused.status_code == 401
    missing = await _run(cli, ["token", "revoke", "999999999"])
    assert missing.exit_code != 0 and "no token 999999999" in missing.output
