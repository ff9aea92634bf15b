"""Test helpers for scoring: make a game, insert taps the way an upload does, read results.

Taps are inserted without the reader endpoint: lock the holders, insert ``Tap`` rows (outcome
null), then score them, all in the caller's transaction (the caller commits).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from fastapi import FastAPI
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.app_state import state_of
from game.models import Checkpoint, HolderTotal, Tap, Team, TeamTotal
from game.totals import TotalsDelta
from harness.game_files import game_file
from kernel.scope import OPERATOR
from organising.service import load_definition
from people.models import Card
from scoring import locks
from scoring.incremental import score_holders

LONDON = ZoneInfo("Europe/London")
_serial = itertools.count(1)


def local(day: int, hh: int, mm: int, ss: int = 0, month: int = 5) -> datetime:
    """A Europe/London wall-clock time in May 2027 (inside the test games' period)."""
    return datetime(2027, month, day, hh, mm, ss, tzinfo=LONDON)


@dataclass
class TestGame:
    __test__ = False
    game_id: int
    slug: str
    checkpoints: dict[str, int]
    cards: dict[str, tuple[int, int, str]]  # number -> (card id, holder id, uid)
    teams: dict[str, int]

    def holder(self, number: str) -> int:
        return self.cards[number][1]


@dataclass(frozen=True)
class T:
    """A tap to insert: card number, checkpoint code, corrected time, optional source key."""

    card: str
    checkpoint: str
    at: datetime
    key: str | None = None


async def make_game(app: FastAPI, slug: str, **overrides: Any) -> TestGame:
    data = game_file(slug, **overrides)
    async with state_of(app).sessionmaker() as s:
        result = await load_definition(
            s, yaml.safe_dump(data), box=state_of(app).secret_box, actor="test", scope=OPERATOR
        )
        await s.commit()
        return await describe(s, result.game_id, slug)


async def describe(session: AsyncSession, game_id: int, slug: str) -> TestGame:
    cps = {
        c.code: c.id
        for c in await session.scalars(select(Checkpoint).where(Checkpoint.game_id == game_id))
    }
    cards = {
        c.number: (c.id, c.holder_id, c.uid)
        for c in await session.scalars(select(Card).where(Card.game_id == game_id))
    }
    teams = {
        t.code: t.id for t in await session.scalars(select(Team).where(Team.game_id == game_id))
    }
    return TestGame(game_id, slug, cps, cards, teams)


async def insert_taps(
    session: AsyncSession, game: TestGame, taps: Sequence[T], *, score: bool = True
) -> TotalsDelta:
    """Locks the taps' holders, inserts the taps, scores them (caller commits)."""
    holder_ids = sorted({game.holder(t.card) for t in taps})
    await locks.lock_holders(session, holder_ids)
    rows = []
    for t in taps:
        card_id, holder_id, uid = game.cards[t.card]
        rows.append(
            {
                "game_id": game.game_id,
                "source": "reader",
                "source_key": t.key or f"test/{game.slug}/{next(_serial):08d}",
                "reader_id": None,
                "card_id": card_id,
                "holder_id": holder_id,
                "checkpoint_id": game.checkpoints[t.checkpoint],
                "card_uid": uid,
                "tapped_at_raw": t.at,
                "tapped_at": t.at,
            }
        )
    if rows:
        await session.execute(insert(Tap), rows)
    if not score:
        return TotalsDelta()
    return await score_holders(session, game.game_id, holder_ids)


async def outcomes(session: AsyncSession, game: TestGame, card: str) -> list[tuple[str, int]]:
    """(outcome, points) of a holder's taps in scoring order."""
    rows = await session.execute(
        select(Tap.outcome, Tap.points, Tap.tapped_at, Tap.checkpoint_id, Tap.source_key)
        .where(Tap.game_id == game.game_id, Tap.holder_id == game.holder(card))
        .order_by(Tap.tapped_at, Tap.source_key)
    )
    return [(r.outcome, r.points) for r in rows]


async def holder_total(session: AsyncSession, game: TestGame, card: str) -> HolderTotal | None:
    return await session.scalar(
        select(HolderTotal)
        .where(HolderTotal.game_id == game.game_id, HolderTotal.holder_id == game.holder(card))
        .execution_options(populate_existing=True)
    )


async def team_total(session: AsyncSession, game: TestGame, team: str) -> TeamTotal | None:
    return await session.scalar(
        select(TeamTotal)
        .where(TeamTotal.game_id == game.game_id, TeamTotal.team_id == game.teams[team])
        .execution_options(populate_existing=True)
    )
