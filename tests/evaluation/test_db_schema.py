"""The 0005 migration creates exactly the evaluation models' tables (both dialects)."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from fastapi import FastAPI

import taptrail.models  # noqa: F401 - every domain's tables
from api.app_state import state_of
from kernel.db import Base

EVALUATION_TABLES = {
    "lsoa_areas",
    "postcode_lookup",
    "survey_waves",
    "survey_responses",
    "evaluation_areas",
    "evaluation_projects",
}


def _table_of(diff: Any) -> str | None:
    if isinstance(diff, list):  # column modifications come as lists of tuples
        return _table_of(diff[0])
    for item in diff[1:]:
        name = getattr(item, "name", None)
        table = getattr(item, "table", None)
        if table is not None and getattr(table, "name", None):
            return str(table.name)
        if isinstance(item, str) and item in EVALUATION_TABLES:
            return item
        if name in EVALUATION_TABLES:
            return str(name)
    return None


async def test_migration_matches_the_models(app: FastAPI) -> None:
    assert set(Base.metadata.tables) >= EVALUATION_TABLES

    def compare(connection: Any) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, Base.metadata)

    async with state_of(app).engine.connect() as conn:
        diffs = await conn.run_sync(compare)
    ours = [d for d in diffs if _table_of(d) in EVALUATION_TABLES]
    assert ours == []
