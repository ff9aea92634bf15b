"""Fixtures for fault tests: private Redis and PostgreSQL, real server processes.

Nothing here touches the shared services on 127.0.0.1:5432/6379. ``private_pg`` is one
throw-away cluster for the session (each test gets its own database in it);
``private_redis`` is a fresh ``redis-server`` per test. ``fault_env`` migrates a new
database, creates an organiser token and gives the environment for ``taptrail serve``;
``servers`` starts processes on it and stops (or kills) them at the end. Every fixture
cleans up in ``finally``, also when the test fails.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy.ext.asyncio import AsyncEngine

from accounts.tokens import create_token
from harness.servers import ServerProcess
from harness.services import PrivatePostgres, PrivateRedis, ServiceUnavailable
from kernel.db import make_engine, make_sessionmaker
from taptrail.migrate import upgrade

REQUIRE = os.environ.get("TAPTRAIL_REQUIRE_SERVICES") == "1"


def _unavailable(exc: ServiceUnavailable) -> None:
    if REQUIRE:
        pytest.fail(f"TAPTRAIL_REQUIRE_SERVICES=1 and {exc}", pytrace=False)
    pytest.skip(f"fault tests left out: {exc}")


@pytest.fixture(scope="session")
def private_pg() -> Iterator[PrivatePostgres]:
    try:
        pg = PrivatePostgres()
    except ServiceUnavailable as exc:
        _unavailable(exc)
        raise
    try:
        pg.start()
        yield pg
    finally:
        pg.close()


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    try:
        redis = PrivateRedis()
    except ServiceUnavailable as exc:
        _unavailable(exc)
        raise
    try:
        redis.start()
        yield redis
    finally:
        redis.close()


@dataclass
class FaultEnv:
    pg: PrivatePostgres
    redis: PrivateRedis
    database_url: str
    secret_key: str
    token: str
    db: AsyncEngine  # the test's own connections to the database, for checks
    log_dir: Path

    @property
    def env(self) -> dict[str, str]:
        return {
            "TAPTRAIL_DATABASE_URL": self.database_url,
            "TAPTRAIL_REDIS_URL": self.redis.url,
            "TAPTRAIL_SECRET_KEY": self.secret_key,
            "TAPTRAIL_PERIODIC_JOBS": "false",
            "TAPTRAIL_LOG_LEVEL": "WARNING",
            "TAPTRAIL_DB_POOL_SIZE": "5",
        }


@pytest.fixture
async def fault_env(
    private_pg: PrivatePostgres, private_redis: PrivateRedis, tmp_path: Path
) -> AsyncIterator[FaultEnv]:
    private_pg.start()  # a previous test may have left it stopped
    url = await private_pg.create_database(f"faults_{uuid.uuid4().hex[:10]}")
    db = make_engine(url, pool_size=2)
    try:
        await upgrade(db)
        async with make_sessionmaker(db)() as session:
            token = await create_token(session, role="organiser", label="fault tests")
            await session.commit()
        yield FaultEnv(
            private_pg, private_redis, url, Fernet.generate_key().decode(), token, db, tmp_path
        )
    finally:
        await db.dispose()


@pytest.fixture
def servers(fault_env: FaultEnv) -> Iterator[Callable[[int], list[ServerProcess]]]:
    """``servers(n)`` starts n ``taptrail serve`` processes on the test's database and
    Redis; all are stopped at the end, killed if they do not stop."""
    started: list[ServerProcess] = []

    def start(n: int) -> list[ServerProcess]:
        batch = [ServerProcess(fault_env.env, fault_env.log_dir) for _ in range(n)]
        started.extend(batch)
        # Start-up is mostly imports: start them side by side.
        with ThreadPoolExecutor(n) as pool:
            list(pool.map(lambda proc: proc.start(wait_s=90), batch))
        return batch

    try:
        yield start
    finally:
        for proc in started:
            proc.stop(wait_s=10)
