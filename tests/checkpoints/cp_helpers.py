"""Helpers for the boxes-and-taps tests: signed requests, a loaded test town, checks."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import yaml
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.app_state import state_of
from checkpoints.models import Reader, TapRejection
from checkpoints.signing import SIGNATURE_HEADER, sign
from game.models import Checkpoint, Game, HolderTotal, Tap, Team
from harness.game_files import game_file
from people.models import Card
from scoring import engine
from scoring.ledger import totals_match_ledger
from tests.helpers import Clock as Clock  # re-exported for the suite
from tests.helpers import auth

NOW = datetime(2027, 5, 3, 9, 0, tzinfo=UTC)
T0 = NOW - timedelta(minutes=50)  # 08:10 UTC on a Monday of the game


def at(minutes: float) -> datetime:
    """``minutes`` after T0."""
    return T0 + timedelta(minutes=minutes)


def uid(i: int) -> str:
    """UID of the factory town's card number i."""
    return f"04{i:012X}"


def iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass
class Town:
    slug: str
    token: str
    data: dict[str, Any]

    def reader(self, code: str) -> str:
        return f"R-{self.slug}-{code}"

    def secret(self, code: str) -> str:
        return f"{self.slug}-{code}-" + "s" * 32


async def load_town(client: httpx.AsyncClient, token: str, slug: str, **overrides: Any) -> Town:
    data = game_file(slug, **overrides)
    response = await client.put(
        f"/api/v1/admin/games/{slug}",
        content=yaml.safe_dump(data, sort_keys=False),
        headers={**auth(token), "content-type": "application/yaml"},
    )
    assert response.status_code == 200, response.text
    return Town(slug, token, data)


def tap(seq: int, card: int | str, at: datetime) -> dict[str, Any]:
    return {
        "seq": seq,
        "card_uid": uid(card) if isinstance(card, int) else card,
        "tapped_at": iso(at),
    }


def body(taps: list[dict[str, Any]], *, sent_at: datetime, boot: int = 0) -> bytes:
    return json.dumps({"sent_at": iso(sent_at), "boot": boot, "taps": taps}).encode()


async def post_signed(
    client: httpx.AsyncClient, path: str, raw: bytes, secret: str | None
) -> httpx.Response:
    headers = {"content-type": "application/json"}
    if secret is not None:
        headers[SIGNATURE_HEADER] = sign(secret, raw)
    return await client.post(path, content=raw, headers=headers)


async def upload(
    client: httpx.AsyncClient,
    town: Town,
    code: str,
    taps: list[dict[str, Any]],
    *,
    sent_at: datetime,
    boot: int = 0,
) -> httpx.Response:
    raw = body(taps, sent_at=sent_at, boot=boot)
    return await post_signed(
        client, f"/api/v1/readers/{town.reader(code)}/taps", raw, town.secret(code)
    )


async def stored_taps(session: AsyncSession, slug: str) -> list[Any]:
    rows = await session.execute(
        select(Tap)
        .join(Game, Game.id == Tap.game_id)
        .where(Game.slug == slug)
        .order_by(Tap.source_key)
    )
    return list(rows.scalars())


async def stored_rejections(session: AsyncSession, slug: str) -> list[Any]:
    rows = await session.execute(
        select(TapRejection)
        .join(Game, Game.id == TapRejection.game_id)
        .where(Game.slug == slug)
        .order_by(TapRejection.source_key, TapRejection.content_key)
    )
    return list(rows.scalars())


async def reader_row(app: Any, reader_id: str) -> Any:
    async with state_of(app).sessionmaker() as s:
        return await s.get(Reader, reader_id)


async def game_id_of(app: Any, slug: str) -> int:
    async with state_of(app).sessionmaker() as s:
        value = await s.scalar(select(Game.id).where(Game.slug == slug))
    assert value is not None
    return int(value)


async def ledger(app: Any, slug: str) -> dict[str, tuple[Any, ...]]:
    """Stored taps by source key: card, checkpoint code, times and scoring outcome."""

    async with state_of(app).sessionmaker() as s:
        rows = await s.execute(
            select(Tap, Checkpoint.code)
            .join(Game, Game.id == Tap.game_id)
            .join(Checkpoint, Checkpoint.id == Tap.checkpoint_id)
            .where(Game.slug == slug)
        )
        return {
            t.source_key: (
                t.card_uid,
                code,
                t.tapped_at_raw,
                t.tapped_at,
                t.outcome,
                t.points,
                round(t.distance_m, 3),
                t.team_id,
                t.local_date,
            )
            for t, code in rows
        }


async def rejections(app: Any, slug: str) -> list[tuple[str | None, str]]:
    async with state_of(app).sessionmaker() as s:
        return sorted((r.source_key, r.reason) for r in await stored_rejections(s, slug))


async def holder_points(app: Any, slug: str) -> dict[str, int]:
    """Stored total points per card number."""

    async with state_of(app).sessionmaker() as s:
        rows = await s.execute(
            select(Card.number, HolderTotal.points)
            .join(Game, Game.id == Card.game_id)
            .join(
                HolderTotal,
                (HolderTotal.holder_id == Card.holder_id) & (HolderTotal.game_id == Game.id),
            )
            .where(Game.slug == slug)
        )
        return {number: points for number, points in rows if points}


async def totals_consistent(app: Any, slug: str) -> bool:
    gid = await game_id_of(app, slug)
    async with state_of(app).sessionmaker() as s:
        return await totals_match_ledger(s, gid)


def engine_outcomes(
    town: Town, taps: list[tuple[str, str, str, datetime]], team_ids: dict[str, int]
) -> dict[str, tuple[str, int, float, int | None]]:
    """The pure engine on (source key, checkpoint code, card UID, true time), independent of
    the database: what the stored outcomes must be."""

    g = town.data["game"]
    rules = engine.Rules(
        starts_at=datetime.fromisoformat(g["starts_at"]),
        ends_at=datetime.fromisoformat(g["ends_at"]),
        timezone=g["timezone"],
        journey_window_minutes=g["rules"]["journey_window_minutes"],
        points_per_leg=g["rules"]["points_per_leg"],
        max_speed_kmh=g["rules"]["max_speed_kmh"],
        max_points_per_day=g["rules"].get("max_points_per_day"),
    )
    ctx = engine.GameContext(
        rules=rules,
        checkpoints={
            c["code"]: engine.Checkpoint(c["code"], c["lat"], c["lon"], frozenset(c["tags"]))
            for c in town.data["checkpoints"]
        },
        campaigns=[],
    )
    teams = {c["uid"]: team_ids.get(c.get("team", "")) for c in town.data["cards"]}
    by_card: dict[str, list[engine.Tap]] = defaultdict(list)
    for key, code, card_uid, when in taps:
        by_card[card_uid].append(engine.Tap(key=key, checkpoint_code=code, tapped_at=when))
    out: dict[str, tuple[str, int, float, int | None]] = {}
    for card_uid, card_taps in by_card.items():
        holder = engine.Holder(
            team_periods=(engine.TeamPeriod(valid_from=None, team_id=teams[card_uid]),)
        )
        for o in engine.score_holder(card_taps, holder, ctx):
            out[o.key] = (o.outcome, o.points, round(o.distance_m, 3), o.team_id)
    return out


async def team_ids(app: Any, slug: str) -> dict[str, int]:
    async with state_of(app).sessionmaker() as s:
        rows = await s.execute(
            select(Team.code, Team.id).join(Game, Game.id == Team.game_id).where(Game.slug == slug)
        )
        return {code: tid for code, tid in rows}
