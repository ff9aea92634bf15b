"""Helpers for the boxes-and-taps tests: signed requests, a loaded test town, checks."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import yaml
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from checkpoints.models import Tap, TapRejection
from checkpoints.signing import SIGNATURE_HEADER, sign
from tests.factories import game_file
from tests.helpers import auth

NOW = datetime(2027, 5, 3, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


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


async def load_town(
    client: httpx.AsyncClient, token: str, slug: str, **overrides: Any
) -> Town:
    data = game_file(slug, **overrides)
    response = await client.put(
        f"/api/v1/admin/games/{slug}",
        content=yaml.safe_dump(data, sort_keys=False),
        headers={**auth(token), "content-type": "application/yaml"},
    )
    assert response.status_code == 200, response.text
    return Town(slug, token, data)


def tap(seq: int, card: int | str, at: datetime) -> dict[str, Any]:
    return {"seq": seq, "card_uid": uid(card) if isinstance(card, int) else card, "tapped_at": iso(at)}


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
    from game.models import Game

    rows = await session.execute(
        select(Tap)
        .join(Game, Game.id == Tap.game_id)
        .where(Game.slug == slug)
        .order_by(Tap.source_key)
    )
    return list(rows.scalars())


async def stored_rejections(session: AsyncSession, slug: str) -> list[Any]:
    from game.models import Game

    rows = await session.execute(
        select(TapRejection)
        .join(Game, Game.id == TapRejection.game_id)
        .where(Game.slug == slug)
        .order_by(TapRejection.source_key, TapRejection.content_key)
    )
    return list(rows.scalars())
