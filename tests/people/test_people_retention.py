"""Contact e-mails are deleted email_retention_days after the game ends; old attempts go."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from api.app_state import state_of
from kernel.audit import AuditRecord
from kernel.db import utcnow
from kernel.settings import Settings
from people import privacy
from people.models import RegistrationAttempt
from tests.people.people_helpers import PGame, form, load_game, player_row, register, run_cli


async def _games(
    client: httpx.AsyncClient, app: FastAPI, token: str, slug: str
) -> tuple[PGame, PGame, PGame]:
    now = utcnow()
    expired = await load_game(
        client,
        app,
        token,
        slug + "-old",
        starts=now - timedelta(days=60),
        ends=now - timedelta(days=31),
        email_retention_days=30,
    )
    kept = await load_game(
        client,
        app,
        token,
        slug + "-recent",
        starts=now - timedelta(days=60),
        ends=now - timedelta(days=29),
        email_retention_days=30,
    )
    running = await load_game(client, app, token, slug + "-now", email_retention_days=0)
    return expired, kept, running


async def test_purge_expired_emails(
    client: httpx.AsyncClient, app: FastAPI, organiser_token: str, slug: str
) -> None:
    games = await _games(client, app, organiser_token, slug)
    players = [
        await register(client, g.slug, **form(4, email=f"prize{i}@example.org"))
        for i, g in enumerate(games)
    ]
    async with state_of(app).writing(), state_of(app).sessionmaker() as s:
        deleted = await privacy.purge_expired_emails(s, utcnow())
        await s.commit()
    assert deleted >= 1
    emails = [(await player_row(app, p["player_id"])).email for p in players]
    assert emails == [None, "prize1@example.org", "prize2@example.org"]
    async with state_of(app).sessionmaker() as s:
        audit = await s.scalar(
            select(AuditRecord).where(
                AuditRecord.game_id == games[0].id, AuditRecord.action == "people.purge_emails"
            )
        )
        assert audit is not None and audit.detail == {"emails": 1}

    # The day the recent game's retention runs out, its e-mails go too.
    async with state_of(app).writing(), state_of(app).sessionmaker() as s:
        await privacy.purge_expired_emails(s, utcnow() + timedelta(days=2))
        await s.commit()
    assert (await player_row(app, players[1]["player_id"])).email is None
    assert (await player_row(app, players[2]["player_id"])).email == "prize2@example.org"


async def test_cli_purge_emails(
    client: httpx.AsyncClient, app: FastAPI, organiser_token: str, slug: str, settings: Settings
) -> None:
    expired, kept, _ = await _games(client, app, organiser_token, slug)
    gone = await register(client, expired.slug, **form(5, email="cli.gone@example.org"))
    stays = await register(client, kept.slug, **form(5, email="cli.stays@example.org"))
    result = await asyncio.to_thread(run_cli, settings, "people", "purge-emails")
    assert result.exit_code == 0, result.output
    assert "contact e-mail(s) deleted" in result.output
    assert (await player_row(app, gone["player_id"])).email is None
    assert (await player_row(app, stays["player_id"])).email == "cli.stays@example.org"


async def test_housekeeping_forgets_old_attempts(app: FastAPI, game: PGame) -> None:
    now = utcnow()
    async with state_of(app).writing(), state_of(app).sessionmaker() as s:
        for age in (timedelta(days=2), timedelta(minutes=5)):
            s.add(
                RegistrationAttempt(
                    game_id=game.id, card_key="0000001", client_key="x", created_at=now - age
                )
            )
        await s.commit()
    async with state_of(app).writing(), state_of(app).sessionmaker() as s:
        report = await privacy.housekeeping(s, now)
        await s.commit()
    assert report.attempts_deleted >= 1
    async with state_of(app).sessionmaker() as s:
        left = (
            await s.scalars(
                select(RegistrationAttempt.created_at).where(RegistrationAttempt.game_id == game.id)
            )
        ).all()
    assert left == [now - timedelta(minutes=5)]
