"""Helpers for the evaluation DB/API tests: games, players inserted directly, reference areas
with codes unique to the test, survey answers, daily activity and tokens."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import insert, select

from accounts.tokens import create_token
from api.app_state import state_of
from evaluation import repository as repo
from evaluation.models import SurveyResponse
from game.instruments import NATURE_KEYS
from game.models import HolderDay, HolderTotal, Team
from harness.game_files import game_file
from organising.repository import game_by_slug
from people.models import Holder, Player
from tests.helpers import auth

DATA = Path(__file__).parent / "data"


@dataclass
class EGame:
    id: int
    slug: str
    organiser: str
    teams: dict[str, int] = field(default_factory=dict)


async def make_game(
    client: httpx.AsyncClient, app: FastAPI, token: str, slug: str, **overrides: Any
) -> EGame:
    data = game_file(slug, **overrides)
    response = await client.put(f"/api/v1/admin/games/{slug}", json=data, headers=auth(token))
    assert response.status_code == 200, response.text
    return await existing_game(app, slug, token)


async def existing_game(app: FastAPI, slug: str, token: str) -> EGame:
    async with state_of(app).sessionmaker() as s:
        game = await game_by_slug(s, slug)
        assert game is not None
        teams = {t.code: t.id for t in await s.scalars(select(Team).where(Team.game_id == game.id))}
        return EGame(game.id, slug, token, teams)


def codes(prefix: str, n: int) -> list[str]:
    """``n`` codes unique to this test, e.g. E01X3fa9c001 (never a real ONS code)."""
    tag = uuid.uuid4().hex[:5].upper()
    return [f"{prefix}X{tag}{i:03d}" for i in range(n)]


async def add_areas(
    app: FastAPI,
    lad: str,
    deciles_and_populations: Sequence[tuple[int, int | None]],
    *,
    nation: str = "england",
    edition: str = "2025",
) -> list[str]:
    """Areas in district ``lad``; returns their codes in the given order."""
    area_codes = codes("E01", len(deciles_and_populations))
    rows = [
        {
            "code": code,
            "name": f"Test {code}",
            "lad_code": lad,
            "lad_name": f"District {lad}",
            "nation": nation,
            "edition": edition,
            "imd_score": 10.0,
            "imd_rank": 100 + i,
            "imd_decile": decile,
            "population": population,
        }
        for i, (code, (decile, population)) in enumerate(
            zip(area_codes, deciles_and_populations, strict=True)
        )
    ]
    async with state_of(app).writing(), state_of(app).sessionmaker() as s:
        await repo.upsert_lsoa_areas(s, rows)
        await s.commit()
    return area_codes


@dataclass
class P:
    """A player to insert: their neighbourhood and the quasi-identifiers."""

    lsoa: str | None = None
    decile: int | None = None
    nation: str | None = "england"
    age_band: str | None = "25-44"
    gender: str | None = "female"
    team: str | None = None
    nickname: str | None = None
    email: str | None = None


async def add_players(app: FastAPI, game: EGame, players: Sequence[P]) -> list[tuple[int, int]]:
    """Inserts holders and players directly; returns (player id, holder id) in order."""
    out: list[tuple[int, int]] = []
    async with state_of(app).writing(), state_of(app).sessionmaker() as s:
        holders = [Holder(game_id=game.id) for _ in players]
        s.add_all(holders)
        await s.flush()
        rows = []
        for holder, p in zip(holders, players, strict=True):
            row = Player(
                game_id=game.id,
                holder_id=holder.id,
                nickname=p.nickname,
                nickname_key=p.nickname.casefold() if p.nickname else None,
                age_band=p.age_band,
                gender=p.gender,
                team_id=game.teams[p.team] if p.team else None,
                email=p.email,
                lsoa_code=p.lsoa,
                imd_decile=p.decile,
                imd_nation=p.nation if p.decile is not None else None,
                deprivation_status="found" if p.decile is not None else "not_given",
            )
            rows.append(row)
        s.add_all(rows)
        await s.flush()
        out = [(r.id, r.holder_id) for r in rows]
        await s.commit()
    return out


def answer(
    player_id: int,
    wave: int,
    game_id: int,
    *,
    activity: int | None = None,
    belonging: str | None = None,
    nature: Sequence[int | None] = (),
    answered_by: str = "self",
    declined: Sequence[str] = (),
    on: date = date(2027, 5, 1),
) -> dict[str, Any]:
    items = list(nature) + [None] * (6 - len(nature))
    return {
        "game_id": game_id,
        "player_id": player_id,
        "wave": wave,
        "answered_by": answered_by,
        "activity_days": activity,
        "belonging": belonging,
        **dict(zip(NATURE_KEYS, items, strict=True)),
        "declined": list(declined),
        "answered_on": on,
    }


async def add_answers(app: FastAPI, rows: Sequence[dict[str, Any]]) -> None:
    if not rows:
        return
    async with state_of(app).writing(), state_of(app).sessionmaker() as s:
        await s.execute(insert(SurveyResponse), list(rows))
        await s.commit()


async def add_days(
    app: FastAPI, game_id: int, holder_id: int, days: int, *, start: date = date(2027, 5, 1)
) -> None:
    """``days`` days of activity (day i: i+1 taps, i legs, 10*i points, 800*i m) and totals."""
    rows = [
        {
            "game_id": game_id,
            "holder_id": holder_id,
            "local_date": start + timedelta(days=i),
            "taps": i + 1,
            "counted_taps": i + 1,
            "legs": i,
            "points": 10 * i,
            "distance_m": 800.0 * i,
        }
        for i in range(days)
    ]
    async with state_of(app).writing(), state_of(app).sessionmaker() as s:
        if rows:
            await s.execute(insert(HolderDay), rows)
        await s.execute(
            insert(HolderTotal),
            [
                {
                    "game_id": game_id,
                    "holder_id": holder_id,
                    "taps": sum(r["taps"] for r in rows),
                    "counted_taps": sum(r["taps"] for r in rows),
                    "legs": sum(r["legs"] for r in rows),
                    "points": sum(r["points"] for r in rows),
                    "distance_m": sum(r["distance_m"] for r in rows),
                }
            ],
        )
        await s.commit()


async def token(
    app: FastAPI, role: str, *, game_id: int | None = None, player_id: int | None = None
) -> str:
    async with state_of(app).writing(), state_of(app).sessionmaker() as s:
        value = await create_token(s, role=role, game_id=game_id, player_id=player_id)
        await s.commit()
    return value
