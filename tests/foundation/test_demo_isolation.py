"""`taptrail demo` never touches the database or Redis named in the environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from taptrail.cli import main

ROOT = Path(__file__).resolve().parents[2]


def _prepare(tmp_path: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """prepare_demo in a child process (it sets process-wide settings), in ``tmp_path``."""
    code = (
        "import sys; from taptrail.demo_runner import prepare_demo; "
        "settings, _ = prepare_demo('127.0.0.1', 8000, *sys.argv[1:]); "
        "print(settings.database_url); print(settings.redis_url)"
    )
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_demo_ignores_the_configured_database_and_redis(tmp_path: Path) -> None:
    real = tmp_path / "production.db"
    result = _prepare(
        tmp_path,
        {
            "TAPTRAIL_DATABASE_URL": f"sqlite+aiosqlite:///{real}",
            "TAPTRAIL_REDIS_URL": "redis://127.0.0.1:6379/9",
        },
    )
    assert result.returncode == 0, result.stderr
    database_url, redis_url = result.stdout.split()[-2:]
    assert database_url == "sqlite+aiosqlite:///./taptrail-demo.db"
    assert redis_url == "None"
    assert not real.exists(), "the demo created or wrote the configured database"
    assert (tmp_path / "taptrail-demo.db").exists()


def test_demo_uses_another_database_only_when_told_explicitly(tmp_path: Path) -> None:
    chosen = tmp_path / "my-demo.db"
    result = _prepare(tmp_path, {}, f"sqlite+aiosqlite:///{chosen}")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-2] == f"sqlite+aiosqlite:///{chosen}"
    assert chosen.exists()


@pytest.mark.parametrize("flag", ["--database-url", "--redis-url", "--port"])
def test_demo_command_documents_its_choices(flag: str) -> None:

    help_text = CliRunner().invoke(main, ["demo", "--help"]).output
    assert flag in help_text
