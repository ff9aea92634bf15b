"""Migration 0013 on a database with games in it: every team but schools gets a join code."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from kernel.db import make_engine, make_sessionmaker
from taptrail.migrate import upgrade
from tests.conftest import PG_HOST, PG_PORT, PG_USER, _create_pg_database, _drop_pg_database


@pytest.fixture
async def fresh_engine(backend: str, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    name = None
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'before.db'}"
    else:
        name = await _create_pg_database()
        url = f"postgresql+asyncpg://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"
    engine = make_engine(url)
    try:
        yield engine
    finally:
        await engine.dispose()
        if name is not None:
            await _drop_pg_database(name)


async def test_existing_teams_get_join_codes(fresh_engine: AsyncEngine) -> None:
    await upgrade(fresh_engine, "0012")
    async with make_sessionmaker(fresh_engine)() as s:
        ids = []
        for slug in ("before-a", "before-b"):
            # Raw SQL: the ORM model may have columns that later migrations add.
            row = await s.execute(
                text(
                    "INSERT INTO games (slug, name, timezone, starts_at, ends_at, "
                    "journey_window_minutes, points_per_leg, max_speed_kmh, "
                    "min_members_for_average, checkin_radius_m, daytime_start_hour, "
                    "daytime_end_hour, email_retention_days, scoring_version, created_at, "
                    "updated_at) VALUES (:s, :s, 'Europe/London', :a, :b, 60, 10, 25, 5, 40, "
                    "7, 21, 90, 1, :a, :a) RETURNING id"
                ),
                {
                    "s": slug,
                    "a": datetime(2027, 5, 1, tzinfo=UTC),
                    "b": datetime(2027, 6, 1, tzinfo=UTC),
                },
            )
            game_id = row.scalar_one()
            ids.append(game_id)
        for game_id in ids:
            for code, kind in (("S", "school"), ("C", "community"), ("F", "family")):
                await s.execute(
                    text("INSERT INTO teams (game_id, code, name, kind) VALUES (:g, :c, :c, :k)"),
                    {"g": game_id, "c": code, "k": kind},
                )
        await s.commit()

    await upgrade(fresh_engine, "0013")

    async with fresh_engine.connect() as conn:
        rows = (
            await conn.execute(text("SELECT game_id, kind, join_code FROM teams ORDER BY id"))
        ).all()
    assert [r.join_code is None for r in rows] == [True, False, False] * 2
    codes = [r.join_code for r in rows if r.join_code is not None]
    assert all(re.fullmatch(r"[ABCDEFGHJKMNPQRSTUVWXYZ23456789]{8}", c) for c in codes)
    assert len(set(codes)) == 4
