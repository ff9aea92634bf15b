"""Scratch PostgreSQL databases for the benchmarks: create, load a town, drop; and the
scratch game's boards in Redis, deleted at the end."""

from __future__ import annotations

import argparse
import json
import math
import os
from typing import Any

import asyncpg

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432"


def add_database_args(parser: argparse.ArgumentParser) -> None:
    """``--pg`` (default TAPTRAIL_BENCH_PG, else the local server) and ``--keep``."""
    parser.add_argument(
        "--pg",
        default=os.environ.get("TAPTRAIL_BENCH_PG", DEFAULT_PG),
        help="PostgreSQL server URL such as postgresql://user@host:port (or TAPTRAIL_BENCH_PG)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")


async def create_database(pg: str, name: str) -> None:
    conn = await asyncpg.connect(f"{pg}/postgres")
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def drop_database(pg: str, name: str) -> None:
    conn = await asyncpg.connect(f"{pg}/postgres")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def delete_boards(redis_url: str, slug: str) -> None:
    """Deletes a scratch game's boards (under the server's default key prefix)."""
    from leaderboard.redis_store import RedisStore

    store = RedisStore.from_url(redis_url, key_prefix="tt")
    try:
        await store.delete(slug)
    finally:
        await store.close()


async def load_town(url: str, key: str, definition: dict[str, Any]) -> None:
    """Migrates the database at ``url`` and loads a game definition into it."""
    from kernel.db import make_engine, make_sessionmaker
    from kernel.scope import OPERATOR
    from kernel.secrets_box import SecretBox
    from organising.service import load_definition
    from taptrail.migrate import upgrade

    engine = make_engine(url)
    try:
        await upgrade(engine)
        async with make_sessionmaker(engine)() as session:
            # JSON: parsing a town's card stock as YAML takes far longer.
            await load_definition(
                session, json.dumps(definition), box=SecretBox(key), actor="bench", scope=OPERATOR
            )
            await session.commit()
    finally:
        await engine.dispose()


def grid_checkpoints(count: int) -> list[dict[str, Any]]:
    """``count`` checkpoints CP0000… on a square grid about 400 m apart; every 7th a park."""
    side = math.ceil(math.sqrt(count))
    lat0, lon0, step_lat, step_lon = 53.78, -2.26, 0.0036, 0.0061  # about 400 m
    return [
        {
            "code": f"CP{i:04d}",
            "name": f"Box {i}",
            "lat": round(lat0 + (i // side) * step_lat, 6),
            "lon": round(lon0 + (i % side) * step_lon, 6),
            "tags": ["park"] if i % 7 == 0 else [],
        }
        for i in range(count)
    ]
