"""Helpers for the people tests: a game around today, registrations, taps, totals."""

from __future__ import annotations

import itertools
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from click.testing import CliRunner
from fastapi import FastAPI
from sqlalchemy import insert, select

from accounts.tokens import create_token
from api.app_state import state_of
from game.models import Checkpoint, HolderTotal, Tap, Team, TeamTotal
from harness.game_files import game_file
from kernel.db import utcnow
from kernel.settings import Settings, get_settings
from names.blocklist import is_offensive
from organising.repository import game_by_slug
from people.models import Card, Player
from scoring import locks
from scoring.incremental import score_holders
from scoring.ledger import ledger_mismatches
from taptrail.cli import main
from tests.helpers import auth

_serial = itertools.count(1)


@dataclass
class PGame:
    id: int
    slug: str
    organiser: str


def number(i: int) -> str:
    return f"{i:07d}"


def code(i: int) -> str:
    return f"K{i:03d}"


def random_postcode() -> str:
    """A plausible-looking postcode that no lookup holds ('Q' starts no real area)."""
    letters = "ABDEFGHJLNPQRSTUWXYZ"
    return (
        f"Q{random.choice(letters)}{random.randint(1, 9)} "
        f"{random.randint(0, 9)}{random.choice(letters)}{random.choice(letters)}"
    )


def random_word(n: int = 8) -> str:
    """Random consonants (no "v", which the blocklist reads as "u"), never a word the
    blocklist refuses: a few runs of consonants are ("fxqqq", "xxxxx")."""
    while True:
        word = "".join(random.choice("bdfghjkmnpqrwxz") for _ in range(n))
        if not is_offensive(word):
            return word


async def load_game(
    client: httpx.AsyncClient,
    app: FastAPI,
    token: str,
    slug: str,
    *,
    starts: datetime | None = None,
    ends: datetime | None = None,
    extra_cards: Sequence[dict[str, Any]] = (),
    **rules: Any,
) -> PGame:
    """The factory town, running from 20 days ago to 20 days ahead unless told otherwise."""
    now = utcnow()
    data = game_file(slug)
    data["game"]["starts_at"] = (starts or now - timedelta(days=20)).isoformat()
    data["game"]["ends_at"] = (ends or now + timedelta(days=20)).isoformat()
    data["game"]["rules"].update(rules)
    data["cards"].extend(extra_cards)
    response = await client.put(f"/api/v1/admin/games/{slug}", json=data, headers=auth(token))
    assert response.status_code == 200, response.text
    async with state_of(app).sessionmaker() as s:
        game = await game_by_slug(s, slug)
        assert game is not None
        return PGame(game.id, slug, token)


def form(card: int | None = None, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "nickname": f"Kestrel {random_word(5)}",
        "age_band": "5-11",
        "gender": "prefer_not_to_say",
    }
    if card is not None:
        body["card_number"] = number(card)
        body["activation_code"] = code(card)
    body.update(fields)
    return body


async def register(client: httpx.AsyncClient, slug: str, **fields: Any) -> dict[str, Any]:
    response = await client.post(f"/api/v1/games/{slug}/registrations", json=fields)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def journey(start: datetime) -> list[tuple[str, datetime]]:
    """A 08:00 B 08:15 C 08:40: start, leg, leg = 20 points, 1.6 km (worked example 1)."""
    return [
        ("A", start),
        ("B", start + timedelta(minutes=15)),
        ("C", start + timedelta(minutes=40)),
    ]


async def add_taps(
    app: FastAPI, game: PGame, card_number: str, taps: Sequence[tuple[str, datetime]]
) -> None:
    """Inserts taps of a card the way an upload does (for its current holder) and scores."""
    async with state_of(app).writing(), state_of(app).sessionmaker() as s:
        card = await s.scalar(
            select(Card).where(Card.game_id == game.id, Card.number == card_number)
        )
        assert card is not None
        checkpoints = {
            c.code: c.id
            for c in await s.scalars(select(Checkpoint).where(Checkpoint.game_id == game.id))
        }
        await locks.lock_holders(s, [card.holder_id])
        await s.execute(
            insert(Tap),
            [
                {
                    "game_id": game.id,
                    "source": "reader",
                    "source_key": f"test/{uuid.uuid4().hex[:8]}/{next(_serial)}",
                    "card_id": card.id,
                    "holder_id": card.holder_id,
                    "checkpoint_id": checkpoints[cp],
                    "card_uid": card.uid,
                    "tapped_at_raw": at,
                    "tapped_at": at,
                }
                for cp, at in taps
            ],
        )
        await score_holders(s, game.id, [card.holder_id])
        await s.commit()


async def team_points(app: FastAPI, game: PGame) -> dict[str, int]:
    async with state_of(app).sessionmaker() as s:
        rows = await s.execute(
            select(Team.code, TeamTotal.points)
            .outerjoin(TeamTotal, (TeamTotal.team_id == Team.id) & (TeamTotal.game_id == game.id))
            .where(Team.game_id == game.id)
        )
        return {code_: points or 0 for code_, points in rows}


async def card_holder_points(app: FastAPI, game: PGame, card_number: str) -> int:
    async with state_of(app).sessionmaker() as s:
        card = await s.scalar(
            select(Card).where(Card.game_id == game.id, Card.number == card_number)
        )
        assert card is not None
        total = await s.get(HolderTotal, (game.id, card.holder_id))
        return total.points if total else 0


async def player_row(app: FastAPI, player_id: int) -> Player:
    async with state_of(app).sessionmaker() as s:
        player = await s.get(Player, player_id)
        assert player is not None
        return player


async def assert_ledger(app: FastAPI, game: PGame) -> None:
    async with state_of(app).sessionmaker() as s:
        assert await ledger_mismatches(s, game.id) == []


async def token_for(
    app: FastAPI, role: str, game: PGame | None = None, team: str | None = None
) -> str:
    async with state_of(app).sessionmaker() as s:
        team_id = None
        if team is not None:
            assert game is not None
            team_id = await s.scalar(
                select(Team.id).where(Team.game_id == game.id, Team.code == team)
            )
        value = await create_token(s, role=role, game_id=game.id if game else None, team_id=team_id)
        await s.commit()
        return value


def client_at(app: FastAPI, host: str) -> httpx.AsyncClient:
    """A client whose requests come from ``host`` (what the rate limits count by)."""
    transport = httpx.ASGITransport(app=app, client=(host, 50000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


def run_cli(settings: Settings, *args: str) -> Any:
    """Runs ``taptrail ARGS`` against the test database (call it in a thread)."""

    env = {"TAPTRAIL_DATABASE_URL": settings.database_url}
    if settings.redis_url:
        env["TAPTRAIL_REDIS_URL"] = settings.redis_url
        env["TAPTRAIL_REDIS_PREFIX"] = settings.redis_prefix
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(main, list(args), env=env)
    finally:
        get_settings.cache_clear()
