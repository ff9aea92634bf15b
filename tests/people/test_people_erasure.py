"""Erasure on request: personal data goes, earned points stay with the teams anonymously."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from accounts.models import ApiToken
from api.app_state import state_of
from game.models import Tap
from geo.deprivation import Deprivation
from harness.game_files import COM1_JOIN_CODE
from kernel.audit import AuditRecord
from kernel.db import utcnow
from kernel.settings import Settings
from people.models import Player, TeamMembership
from tests.helpers import auth
from tests.people.conftest import FakeLookup
from tests.people.people_helpers import (
    PGame,
    add_taps,
    assert_ledger,
    card_holder_points,
    form,
    journey,
    load_game,
    number,
    player_row,
    random_postcode,
    register,
    run_cli,
    team_points,
    token_for,
)


@pytest.fixture
def survey_hook(app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Stands in for what the evaluation domain removes (survey answers)."""
    erased: list[int] = []

    class Answers:
        async def erase_player_data(self, session: Any, player: Player) -> list[str]:
            erased.append(player.id)
            return ["evaluation.erasure: 3 record(s)"]

    monkeypatch.setattr(state_of(app), "player_data_eraser", Answers())
    return erased


async def _registered_with_points(
    client: httpx.AsyncClient, app: FastAPI, game: PGame, lookup: FakeLookup
) -> dict[str, Any]:
    postcode = random_postcode()
    lookup.known[postcode] = Deprivation("found", "E01555555", 1, "england")
    player = await register(
        client,
        game.slug,
        **form(
            4,
            nickname="Erase Me",
            team="COM1",
            join_code=COM1_JOIN_CODE,
            public=True,
            email="erase.me@example.org",
            postcode=postcode,
            gender="boy",
        ),
    )
    await add_taps(app, game, number(4), journey(utcnow() - timedelta(days=2)))
    return player


async def test_erasure_removes_personal_data_and_keeps_points(
    client: httpx.AsyncClient,
    app: FastAPI,
    game: PGame,
    lookup: FakeLookup,
    survey_hook: list[int],
) -> None:
    player = await _registered_with_points(client, app, game, lookup)
    pid = player["player_id"]
    before_teams = await team_points(app, game)
    assert before_teams == {"SCH1": 0, "COM1": 20}
    board = f"/api/v1/games/{game.slug}/leaderboards/players"
    # A 5-11 year old: the board shows the name the game made up for them.
    assert player["shown_as"] in (await client.get(board)).text

    response = await client.delete(
        f"/api/v1/admin/games/{game.slug}/players/{pid}", headers=auth(game.organiser)
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["player_id"] == pid and body["tokens_revoked"] == 1
    assert "evaluation.erasure: 3 record(s)" in body["removed"]
    assert survey_hook == [pid]

    row = await player_row(app, pid)
    assert row.erased_at is not None
    assert (row.nickname, row.nickname_key, row.email, row.gender) == (None, None, None, None)
    assert (row.lsoa_code, row.imd_decile, row.imd_nation) == (None, None, None)
    assert row.public is False and row.deprivation_status == "erased"
    # The points stay: holder, taps, memberships and totals.
    assert await team_points(app, game) == before_teams
    assert await card_holder_points(app, game, number(4)) == 20
    async with state_of(app).sessionmaker() as s:
        taps = await s.scalar(
            select(func.count()).where(Tap.game_id == game.id, Tap.holder_id == row.holder_id)
        )
        assert taps == 3
        memberships = await s.scalar(
            select(func.count()).where(TeamMembership.holder_id == row.holder_id)
        )
        assert memberships == 1
        tokens = (await s.scalars(select(ApiToken).where(ApiToken.player_id == pid))).all()
        assert tokens and all(t.revoked_at is not None for t in tokens)
        audit = await s.scalar(
            select(AuditRecord).where(
                AuditRecord.game_id == game.id, AuditRecord.action == "player.erase"
            )
        )
        assert audit is not None
        assert audit.actor.startswith("token:") and audit.detail["player_id"] == pid
        assert "Erase Me" not in str(audit.detail) and "erase.me" not in str(audit.detail)
    await assert_ledger(app, game)
    assert player["shown_as"] not in (await client.get(board)).text
    teams_board = (await client.get(f"/api/v1/games/{game.slug}/leaderboards/teams")).json()
    assert {e["team"]: e["points"] for e in teams_board["entries"]}["COM1"] == 20

    # The token no longer works; the nickname is free again; erasing twice is a conflict.
    assert (await client.get("/api/v1/me", headers=auth(player["token"]))).status_code == 401
    await register(client, game.slug, **form(5, nickname="Erase Me"))
    again = await client.delete(
        f"/api/v1/admin/games/{game.slug}/players/{pid}", headers=auth(game.organiser)
    )
    assert again.status_code == 409
    # The card stops scoring for the anonymous holder.
    await add_taps(app, game, number(4), journey(utcnow() + timedelta(minutes=5)))
    assert await team_points(app, game) == before_teams


async def test_erasure_is_for_this_games_organisers(
    client: httpx.AsyncClient, app: FastAPI, game: PGame, organiser_token: str
) -> None:
    player = await register(client, game.slug, **form(4))
    other = await load_game(client, app, organiser_token, game.slug + "-x")
    path = f"/api/v1/admin/games/{game.slug}/players/{player['player_id']}"
    for token in (
        player["token"],
        await token_for(app, "team_manager", game, "SCH1"),
        await token_for(app, "evaluator", game),
        await token_for(app, "organiser", other),
    ):
        assert (await client.delete(path, headers=auth(token))).status_code == 403
    assert (await client.delete(path)).status_code == 401
    # A player of another game is not found through this game.
    elsewhere = await register(client, other.slug, **form(4))
    wrong_game = f"/api/v1/admin/games/{game.slug}/players/{elsewhere['player_id']}"
    assert (await client.delete(wrong_game, headers=auth(game.organiser))).status_code == 404
    assert (await player_row(app, player["player_id"])).erased_at is None


async def test_cli_erase(
    client: httpx.AsyncClient,
    app: FastAPI,
    game: PGame,
    lookup: FakeLookup,
    settings: Settings,
    survey_hook: list[int],
) -> None:
    player = await _registered_with_points(client, app, game, lookup)
    pid = player["player_id"]
    board = f"/api/v1/games/{game.slug}/leaderboards/players"
    assert player["shown_as"] in (await client.get(board)).text
    result = await asyncio.to_thread(run_cli, settings, "player", "erase", game.slug, str(pid))
    assert result.exit_code == 0, result.output
    assert f"player {pid} erased" in result.output
    row = await player_row(app, pid)
    assert row.erased_at is not None and row.email is None and row.nickname is None
    assert await team_points(app, game) == {"SCH1": 0, "COM1": 20}
    async with state_of(app).sessionmaker() as s:
        audit = await s.scalar(
            select(AuditRecord).where(
                AuditRecord.game_id == game.id, AuditRecord.action == "player.erase"
            )
        )
        assert audit is not None and audit.actor == "cli"
    if settings.redis_url:  # shared boards are rebuilt by the command at once
        assert player["nickname"] not in (await client.get(board)).text
    again = await asyncio.to_thread(run_cli, settings, "player", "erase", game.slug, str(pid))
    assert again.exit_code != 0 and "already erased" in again.output
    missing = await asyncio.to_thread(run_cli, settings, "player", "erase", "no-such-game", "1")
    assert missing.exit_code != 0
