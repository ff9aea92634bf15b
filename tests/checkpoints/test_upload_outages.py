"""Reader uploads when things fail: a database outage or an unreachable database is a 503
with nothing stored, a deadlock is retried, and scores are published only after the commit
(docs/reader-protocol.md; both backends)."""

from __future__ import annotations

import httpx
import pytest
from asgi_lifespan import LifespanManager
from cryptography.fernet import Fernet
from fastapi import FastAPI
from sqlalchemy.exc import DBAPIError, OperationalError

import checkpoints.ingestion as ingestion
from api.app_state import state_of
from kernel.settings import Settings
from taptrail.server import create_app
from tests.checkpoints.cp_helpers import (
    NOW,
    Town,
    at,
    body,
    ledger,
    post_signed,
    reader_row,
    rejections,
    tap,
    upload,
)

# ---------------------------------------------------------------- outages


async def test_a_database_outage_is_503_with_nothing_stored(
    app: FastAPI, client: httpx.AsyncClient, town: Town, monkeypatch: pytest.MonkeyPatch
) -> None:

    async def broken(*args: object, **kwargs: object) -> None:
        raise OperationalError("SELECT 1", {}, ConnectionResetError("server closed the connection"))

    # Fails after the taps were inserted, in the same transaction.
    monkeypatch.setattr(ingestion.repo, "add_reader_days", broken)
    taps = [tap(1, 1, at(0)), tap(2, "BAD", at(1))]
    r = await upload(client, town, "A", taps, sent_at=NOW)
    assert r.status_code == 503
    assert r.json()["error"] == "unavailable"
    assert await ledger(app, town.slug) == {}
    assert await rejections(app, town.slug) == []
    assert (await reader_row(app, town.reader("A"))).last_upload_at is None
    monkeypatch.undo()
    r = await upload(client, town, "A", taps, sent_at=NOW)
    assert r.status_code == 200 and r.json()["accepted"] == 1


async def test_a_deadlock_is_retried_transparently(
    app: FastAPI, client: httpx.AsyncClient, town: Town, monkeypatch: pytest.MonkeyPatch
) -> None:

    real = ingestion.repo.add_reader_days
    calls = {"n": 0}

    class Deadlock(Exception):
        sqlstate = "40P01"

    async def flaky(*args: object, **kwargs: object) -> object:
        calls["n"] += 1
        if calls["n"] == 1:
            raise DBAPIError("UPDATE holder_totals", {}, Deadlock("deadlock detected"))
        return await real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ingestion.repo, "add_reader_days", flaky)
    r = await upload(client, town, "A", [tap(1, 1, at(0))], sent_at=NOW)
    assert r.status_code == 200 and r.json()["accepted"] == 1
    assert calls["n"] == 2
    assert len(await ledger(app, town.slug)) == 1


async def test_scores_are_published_only_after_the_commit(
    app: FastAPI, client: httpx.AsyncClient, town: Town, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[int, int, int]] = []
    real = state_of(app).publish_scores

    async def publish(game_id: int, delta: object) -> None:
        # Another connection must already see the taps this delta comes from.
        seen.append((game_id, len(await ledger(app, town.slug)), delta.points_moved))  # type: ignore[attr-defined]
        await real(game_id, delta)

    monkeypatch.setattr(state_of(app), "publish_scores", publish)
    await upload(client, town, "A", [tap(1, 1, at(0))], sent_at=NOW)
    await upload(client, town, "B", [tap(1, 1, at(15))], sent_at=NOW)
    gid = seen[0][0]
    assert seen == [(gid, 1, 0), (gid, 2, 10)]


async def test_an_unreachable_database_is_503(backend: str) -> None:
    url = (
        "sqlite+aiosqlite:////nonexistent-dir/taptrail.db"
        if backend == "sqlite"
        else "postgresql+asyncpg://postgres@127.0.0.1:1/nowhere"
    )
    settings = Settings(database_url=url, secret_key=app_key(), redis_url=None)
    broken = create_app(settings)
    async with LifespanManager(broken):
        transport = httpx.ASGITransport(app=broken)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            raw = body([tap(1, 1, at(0))], sent_at=NOW)
            r = await post_signed(c, "/api/v1/readers/R-X/taps", raw, "s" * 43)
    assert r.status_code == 503
    assert r.json()["error"] == "unavailable"


def app_key() -> str:
    return Fernet.generate_key().decode()
