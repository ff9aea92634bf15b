"""Test fixtures: every database test runs on both backends.

- ``sqlite``: embedded SQLite (aiosqlite) with in-process leaderboards and fan-out.
- ``postgres``: PostgreSQL (asyncpg) with Redis.

A fresh database is created per run and migrated once. Tests are isolated by game: each
test makes its own game with a unique slug, and every table that grows with play is
scoped by game, so tests see only their own rows while still exercising real commits,
real locking and real concurrency.

With TAPTRAIL_REQUIRE_SERVICES=1 (CI) an unreachable PostgreSQL or Redis fails the run;
otherwise its backend is skipped and the summary says so loudly.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import asyncpg
import httpx
import pytest
from asgi_lifespan import LifespanManager
from cryptography.fernet import Fernet
from fastapi import FastAPI

from accounts.tokens import create_token
from api.app_state import state_of
from kernel.db import make_engine
from kernel.settings import Settings
from taptrail.migrate import upgrade
from taptrail.server import create_app

PG_HOST = os.environ.get("TAPTRAIL_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("TAPTRAIL_TEST_PG_PORT", "5432"))
PG_USER = os.environ.get("TAPTRAIL_TEST_PG_USER", "postgres")
REDIS_URL = os.environ.get("TAPTRAIL_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
# Each test process has keys of its own on the shared Redis: game ids restart at 1 in every
# test database, and test processes may run side by side (pytest -n).
REDIS_PREFIX = f"tttest-{os.getpid()}-{uuid.uuid4().hex[:6]}"
REQUIRE = os.environ.get("TAPTRAIL_REQUIRE_SERVICES") == "1"
TEST_SECRET_KEY = Fernet.generate_key().decode()

_left_out: dict[str, str] = {}
_ran: dict[str, int] = {}


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def service_missing(backend: str) -> str | None:
    if backend != "postgres":
        return None
    missing = []
    if not _reachable(PG_HOST, PG_PORT):
        missing.append(f"PostgreSQL at {PG_HOST}:{PG_PORT}")
    redis_host = REDIS_URL.split("//", 1)[1].split(":")[0]
    redis_port = int(REDIS_URL.rsplit(":", 1)[1].split("/")[0])
    if not _reachable(redis_host, redis_port):
        missing.append(f"Redis at {redis_host}:{redis_port}")
    return ", ".join(missing) or None


def require_backend(backend: str) -> None:
    missing = service_missing(backend)
    if missing is None:
        return
    if REQUIRE:
        pytest.fail(f"TAPTRAIL_REQUIRE_SERVICES=1 and {missing} is unreachable", pytrace=False)
    _left_out[backend] = missing
    pytest.skip(f"{missing} unreachable: the {backend} backend is left out")


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    require_backend(name)
    return name


async def _create_pg_database() -> str:
    name = f"taptrail_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    conn = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, database="postgres")
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return name


async def _drop_pg_database(name: str) -> None:
    conn = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, database="postgres")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture(scope="session")
async def database_url(
    backend: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    pg_name = None
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'taptrail.db'}"
    else:
        pg_name = await _create_pg_database()
        url = f"postgresql+asyncpg://{PG_USER}@{PG_HOST}:{PG_PORT}/{pg_name}"
    engine = make_engine(url)
    await upgrade(engine)
    await engine.dispose()
    yield url
    if pg_name is not None:
        await _drop_pg_database(pg_name)


@pytest.fixture(scope="session")
def settings(backend: str, database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        database_url=database_url,
        redis_url=REDIS_URL if backend == "postgres" else None,
        redis_prefix=REDIS_PREFIX,
        secret_key=TEST_SECRET_KEY,
        secret_key_file=str(tmp_path_factory.mktemp("key") / "taptrail.key"),
        periodic_jobs=False,
        map_tiles_url=None,  # no requests to a tile server from the tests
    )


@pytest.fixture(scope="session", autouse=True)
def _forget_redis_keys() -> Iterator[None]:
    """Deletes this test process's keys from the shared Redis when the run ends."""
    yield
    redis_host = REDIS_URL.split("//", 1)[1].split(":")[0]
    if not _reachable(redis_host, int(REDIS_URL.rsplit(":", 1)[1].split("/")[0])):
        return
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        keys = list(client.scan_iter(match=f"{REDIS_PREFIX}*", count=1000))
        for start in range(0, len(keys), 1000):
            client.delete(*keys[start : start + 1000])
    finally:
        client.close()


@pytest.fixture(scope="session")
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with LifespanManager(application, startup_timeout=60, shutdown_timeout=60):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.fixture
async def session(app: FastAPI) -> AsyncIterator[Any]:
    async with state_of(app).sessionmaker() as s:
        yield s


@pytest.fixture
def slug() -> str:
    return f"t-{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def organiser_token(app: FastAPI) -> str:
    async with state_of(app).sessionmaker() as s:
        value = await create_token(s, role="organiser", label="tests")
        await s.commit()
    return value


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and "backend" in callspec.params:
            item.user_properties.append(("backend", callspec.params["backend"]))


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" and report.passed:
        for key, value in report.user_properties:
            if key == "backend":
                _ran[str(value)] = _ran.get(str(value), 0) + 1


def pytest_terminal_summary(terminalreporter: Any) -> None:
    labels = {"sqlite": "SQLite + in-process", "postgres": "PostgreSQL + Redis"}
    for name in ("sqlite", "postgres"):
        terminalreporter.write_line(
            f"backend {labels[name]}: {_ran.get(name, 0)} database tests passed"
        )
    for name, missing in _left_out.items():
        terminalreporter.write_line(
            f"!!! LEFT OUT: the {labels[name]} backend did not run ({missing} unreachable) !!!",
            red=True,
            bold=True,
        )
