"""The migrations build exactly the schema the models describe, on both dialects."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from fastapi import FastAPI

import taptrail.models  # noqa: F401
from api.app_state import state_of
from kernel.db import Base


async def test_models_and_migrations_agree(app: FastAPI) -> None:
    def diff(connection: Any) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        return list(compare_metadata(context, Base.metadata))

    async with state_of(app).engine.connect() as conn:
        differences = await conn.run_sync(diff)
    assert differences == []
