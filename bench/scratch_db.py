"""Scratch PostgreSQL databases for the benchmarks: create, load a town, drop."""

from __future__ import annotations

import json
from typing import Any

import asyncpg


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


async def load_town(url: str, key: str, definition: dict[str, Any]) -> None:
    """Migrates the database at ``url`` and loads a game definition into it."""
    from game.service import load_definition
    from taptrail.db import make_engine, make_sessionmaker
    from taptrail.migrate import upgrade
    from taptrail.secrets_box import SecretBox

    engine = make_engine(url)
    try:
        await upgrade(engine)
        async with make_sessionmaker(engine)() as session:
            # JSON: parsing a town's card stock as YAML takes far longer.
            await load_definition(
                session, json.dumps(definition), box=SecretBox(key), actor="bench"
            )
            await session.commit()
    finally:
        await engine.dispose()
