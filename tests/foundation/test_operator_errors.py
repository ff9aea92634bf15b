"""Every command fails with one line an operator can act on, and a non-zero exit status.

Each case runs the real ``taptrail`` command in a child process with a broken setting and
checks that standard error holds exactly one line, starting ``error:``, naming the cause
and what to do, with no traceback (unless ``--debug`` asks for one).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from pathlib import Path

import asyncpg
import pytest

from harness.servers import free_port
from tests.conftest import PG_HOST, PG_PORT, PG_USER, require_backend

ROOT = Path(__file__).resolve().parents[2]


def taptrail(tmp_path: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TAPTRAIL_")}
    return subprocess.run(
        [sys.executable, "-c", "from taptrail.cli import main; main()", *args],
        cwd=tmp_path,
        env={**clean, "PYTHONPATH": str(ROOT), "TAPTRAIL_SECRET_KEY_FILE": "k.key", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode != 0, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def pg(database: str = "postgres", user: str = PG_USER, scheme: str = "postgresql") -> str:
    return f"{scheme}://{user}@{PG_HOST}:{PG_PORT}/{database}"


def test_unreachable_database(tmp_path: Path) -> None:
    port = free_port()
    url = f"postgresql://postgres@127.0.0.1:{port}/taptrail"
    line = one_line(taptrail(tmp_path, {"TAPTRAIL_DATABASE_URL": url}, "db", "upgrade"))
    assert f"127.0.0.1:{port}" in line and "cannot reach" in line


def test_missing_role(tmp_path: Path) -> None:
    require_backend("postgres")
    url = pg(user="no_such_role")
    line = one_line(taptrail(tmp_path, {"TAPTRAIL_DATABASE_URL": url}, "db", "upgrade"))
    assert 'role "no_such_role" does not exist' in line and "CREATE ROLE" in line


def test_missing_database(tmp_path: Path) -> None:
    require_backend("postgres")
    url = pg(database="no_such_database")
    line = one_line(taptrail(tmp_path, {"TAPTRAIL_DATABASE_URL": url}, "db", "upgrade"))
    assert 'database "no_such_database" does not exist' in line and "createdb" in line


def test_unknown_url_scheme(tmp_path: Path) -> None:
    env = {"TAPTRAIL_DATABASE_URL": "mysql://root@127.0.0.1/taptrail"}
    line = one_line(taptrail(tmp_path, env, "db", "upgrade"))
    assert "TAPTRAIL_DATABASE_URL" in line and "mysql" in line and "postgresql://" in line


@pytest.mark.parametrize("scheme", ["postgres", "postgresql"])
def test_plain_postgres_urls_are_accepted(tmp_path: Path, scheme: str) -> None:
    require_backend("postgres")

    name = f"taptrail_scheme_{uuid.uuid4().hex[:8]}"

    async def run(sql: str) -> None:
        conn = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, database="postgres")
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run(f'CREATE DATABASE "{name}"'))
    try:
        env = {"TAPTRAIL_DATABASE_URL": pg(database=name, scheme=scheme)}
        result = taptrail(tmp_path, env, "db", "upgrade")
        assert result.returncode == 0, result.stderr
        assert "database is up to date" in result.stdout
    finally:
        asyncio.run(run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_unreachable_redis(tmp_path: Path) -> None:
    env = {
        "TAPTRAIL_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'x.db'}",
        "TAPTRAIL_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
    }
    line = one_line(taptrail(tmp_path, env, "serve", "--port", str(free_port())))
    assert "Redis" in line and "TAPTRAIL_REDIS_URL" in line


def test_invalid_log_level_is_refused(tmp_path: Path) -> None:
    line = one_line(taptrail(tmp_path, {"TAPTRAIL_LOG_LEVEL": "verbose"}, "db", "upgrade"))
    assert "TAPTRAIL_LOG_LEVEL" in line and "verbose" in line and "INFO" in line


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    env = {"TAPTRAIL_DATABASE_URL": f"postgresql://postgres@127.0.0.1:{free_port()}/x"}
    result = taptrail(tmp_path, env, "--debug", "db", "upgrade")
    assert result.returncode != 0
    assert "Traceback" in result.stderr
