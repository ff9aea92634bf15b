"""Pooled PostgreSQL connections are pinged at checkout only after sitting idle
(``kernel.db.IDLE_PING_S``): an idle connection the server dropped is replaced before use,
and a connection in steady use costs no extra round trip."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from kernel import db
from tests.conftest import require_backend


@pytest.fixture
async def engine(backend: str, database_url: str):  # type: ignore[no-untyped-def]
    if backend != "postgres":
        pytest.skip("SQLite has no server to drop a connection")
    require_backend(backend)
    engine = db.make_engine(database_url, pool_size=1)
    yield engine
    await engine.dispose()


async def _backend_pid(engine: db.AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(text("SELECT pg_backend_pid()")))


async def test_an_idle_connection_the_server_dropped_is_replaced_before_use(
    engine: db.AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = await _backend_pid(engine)
    admin = db.make_engine(str(engine.url.render_as_string(hide_password=False)))
    try:
        async with admin.connect() as other:
            assert await other.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
    finally:
        await admin.dispose()
    monkeypatch.setattr(db, "IDLE_PING_S", 0.0)  # it counts as idle now
    assert await _backend_pid(engine) != first  # pinged, found dead, replaced: no error


async def test_a_connection_in_steady_use_is_not_pinged(
    engine: db.AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _backend_pid(engine)  # the pool's connection exists and was checked in
    async with engine.connect() as conn:
        adapter: Any = type((await conn.get_raw_connection()).dbapi_connection)
    pings: list[object] = []
    real = adapter.ping

    def counting(self: object) -> None:
        pings.append(self)
        real(self)

    monkeypatch.setattr(adapter, "ping", counting)
    monkeypatch.setattr(db, "IDLE_PING_S", 3600.0)
    for _ in range(3):
        await _backend_pid(engine)
    assert pings == []  # checked in moments ago: no round trip before use
    monkeypatch.setattr(db, "IDLE_PING_S", 0.0)
    for _ in range(2):
        await _backend_pid(engine)
    assert len(pings) == 2  # idle (by the threshold): pinged at each checkout
