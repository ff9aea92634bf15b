"""Backups restore, and an upgrade from the previous release loses nothing (PostgreSQL).

- A game in play is backed up with ``pg_dump``, restored with ``pg_restore`` into a fresh
  database, and the restored installation has the same totals, a clean ledger check and
  the same boards once they are rebuilt (as docs/deploying/backups.md says to do).
- A database populated by release 0.1.0 (``data/release-0.1.0.sql``, schema revision 0011)
  is upgraded to the newest schema: every row is still there, the ledger still checks, the
  boards rebuild to the same standings, and its boxes' secrets still verify.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from accounts.tokens import create_token
from api.app_state import state_of
from api.deps import server_now
from kernel.db import make_engine
from kernel.settings import Settings
from taptrail.migrate import upgrade
from taptrail.server import create_app
from tests.checkpoints.cp_helpers import body, load_town, post_signed, tap, upload
from tests.conftest import PG_HOST, PG_PORT, PG_USER, TEST_SECRET_KEY, require_backend
from tests.helpers import auth

DATA = Path(__file__).parent / "data"
RELEASE_010 = DATA / "release-0.1.0.sql"
RELEASE_010_KEY = next(
    line.rsplit(" ", 1)[1]
    for line in RELEASE_010.read_text(encoding="utf-8").splitlines()
    if "test key (Fernet)" in line
)
BOARDS = ("teams?by=total", "teams?by=average", "teams?by=distance", "players")


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, database="postgres")
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture
async def fresh_database() -> AsyncIterator[str]:
    require_backend("postgres")
    name = f"taptrail_restore_{uuid.uuid4().hex[:8]}"
    await _admin(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _run(command: list[str]) -> None:
    subprocess.run(command, check=True, capture_output=True)


def _url(name: str) -> str:
    return f"postgresql+asyncpg://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"


async def _started(url: str, key: str) -> FastAPI:
    return create_app(
        Settings(database_url=url, secret_key=key, redis_url=None, periodic_jobs=False)
    )


async def _boards(client: httpx.AsyncClient, slug: str) -> dict[str, object]:
    out = {}
    for board in BOARDS:
        answer = await client.get(f"/api/v1/games/{slug}/leaderboards/{board}")
        assert answer.status_code == 200, answer.text
        body = answer.json()
        body.pop("version", None)
        out[board] = body
    return out


async def _ledger_ok(client: httpx.AsyncClient, slug: str, token: str) -> bool:
    answer = await client.get(f"/api/v1/admin/games/{slug}/ledger-check", headers=auth(token))
    assert answer.status_code == 200, answer.text
    return bool(answer.json()["ok"])


async def _organiser(app: FastAPI) -> str:
    async with state_of(app).sessionmaker() as s:
        token = await create_token(s, role="organiser", label="restore test")
        await s.commit()
    return token


async def test_a_backup_restores_with_the_same_totals_and_boards(
    backend: str,
    app: FastAPI,
    client: httpx.AsyncClient,
    organiser_token: str,
    slug: str,
    settings: Settings,
    fresh_database: str,
    tmp_path: Path,
) -> None:
    if backend != "postgres":
        pytest.skip("pg_dump and pg_restore are PostgreSQL's")
    assert shutil.which("pg_dump") and shutil.which("pg_restore")
    now = datetime(2027, 5, 3, 9, 0, tzinfo=UTC)
    app.dependency_overrides[server_now] = lambda: now
    try:
        town = await load_town(client, organiser_token, slug)
        start = now - timedelta(hours=1)
        for seq, (code, minutes) in enumerate([("A", 0), ("B", 15), ("C", 40)], start=1):
            for card in (1, 4, 6):
                answer = await upload(
                    client,
                    town,
                    code,
                    [tap(seq * 10 + card, card, start + timedelta(minutes=minutes + card))],
                    sent_at=now,
                )
                assert answer.status_code == 200, answer.text
    finally:
        app.dependency_overrides.pop(server_now, None)
    assert await _ledger_ok(client, slug, organiser_token)
    before = await _boards(client, slug)
    assert before["teams?by=total"]["entries"], before  # type: ignore[index]

    source = settings.database_url.rsplit("/", 1)[1]
    dump = tmp_path / "taptrail.dump"
    plain = f"postgresql://{PG_USER}@{PG_HOST}:{PG_PORT}"
    await asyncio.to_thread(
        _run, ["pg_dump", "--format=custom", f"--file={dump}", f"{plain}/{source}"]
    )
    await asyncio.to_thread(
        _run, ["pg_restore", "--no-owner", f"--dbname={plain}/{fresh_database}", str(dump)]
    )

    restored = await _started(_url(fresh_database), TEST_SECRET_KEY)
    async with LifespanManager(restored, startup_timeout=60, shutdown_timeout=60):
        transport = httpx.ASGITransport(app=restored)
        async with httpx.AsyncClient(transport=transport, base_url="http://restored") as rc:
            token = await _organiser(restored)
            # In-process boards: the restored server builds them from the database.
            assert await _ledger_ok(rc, slug, token)
            assert await _boards(rc, slug) == before


async def test_an_upgrade_from_the_previous_release_loses_nothing(fresh_database: str) -> None:
    engine = make_engine(_url(fresh_database))
    try:
        await upgrade(engine, "0011")
    finally:
        await engine.dispose()
    conn = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, database=fresh_database)
    try:
        await conn.execute("DELETE FROM alembic_version")  # the fixture says 0011 itself
        await conn.execute(RELEASE_010.read_text(encoding="utf-8"))
        await conn.execute("SET search_path TO public")  # pg_dump's script empties it
        tables = [
            r["tablename"]
            for r in await conn.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                "AND tablename <> 'alembic_version'"
            )
        ]
        counts = {t: await conn.fetchval(f'SELECT count(*) FROM "{t}"') for t in tables}
    finally:
        await conn.close()
    assert counts["taps"] == 40 and counts["players"] == 2

    engine = make_engine(_url(fresh_database))
    try:
        await upgrade(engine, "head")
    finally:
        await engine.dispose()
    conn = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, database=fresh_database)
    try:
        after = {t: await conn.fetchval(f'SELECT count(*) FROM "{t}"') for t in tables}
    finally:
        await conn.close()
    assert after == counts

    upgraded = await _started(_url(fresh_database), RELEASE_010_KEY)
    async with LifespanManager(upgraded, startup_timeout=60, shutdown_timeout=60):
        transport = httpx.ASGITransport(app=upgraded)
        async with httpx.AsyncClient(transport=transport, base_url="http://upgraded") as uc:
            token = await _organiser(upgraded)
            slug = "release-010"
            assert await _ledger_ok(uc, slug, token)
            teams = (await _boards(uc, slug))["teams?by=total"]["entries"]  # type: ignore[index]
            standings = [
                (t["team"], t["points"], t["distance_km"], t["active_members"]) for t in teams
            ]
            assert standings == [("SCH1", 120, 8.0, 3), ("COM1", 20, 1.6, 1)]
            # The boxes' secrets, sealed by release 0.1.0, still verify.
            now = datetime(2027, 5, 3, 12, 30, tzinfo=UTC)
            upgraded.dependency_overrides[server_now] = lambda: now
            raw = body([tap(999, 1, now - timedelta(minutes=1))], sent_at=now)
            answer = await post_signed(
                uc, f"/api/v1/readers/R-{slug}-A/taps", raw, f"{slug}-A-" + "s" * 32
            )
            assert answer.status_code == 200 and answer.json()["accepted"] == 1, answer.text


def test_the_fixture_is_release_010s_schema() -> None:
    assert "INSERT INTO public.alembic_version VALUES ('0011');" in RELEASE_010.read_text()
