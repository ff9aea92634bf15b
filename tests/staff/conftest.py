"""Fixtures shared by the console's tests.

- ``clock_back``: for modules whose games set the server's clock.
- ``console_server``: the one real server the browser tests use, per backend (SQLite with
  in-process boards, PostgreSQL with Redis), on the session's migrated test database, with
  map tiles off. Each browser module adds its own game and organiser (``add_game``) from a
  module fixture; ``sweeps`` says whether this backend's run is the one that checks pages
  with axe-core (SQLite: the pages do not depend on the backend, the journeys do).
- ``browser``: Debian's Chromium through Playwright, one per test (Playwright's loop runs
  while it is open, and the backends' async fixtures cannot be set up or torn down then).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml
from cryptography.fernet import Fernet
from fastapi import FastAPI

from api.deps import server_now
from harness.servers import app_env, app_server
from tests.conftest import REDIS_PREFIX, REDIS_URL
from tests.staff.staff_helpers import PASSWORD

if TYPE_CHECKING:
    from playwright.sync_api import Browser

CHROMIUM = os.environ.get("TAPTRAIL_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def clock_back(app: FastAPI) -> Iterator[None]:
    """For modules whose games set the server's clock: later tests get the real one back."""
    yield
    app.dependency_overrides.pop(server_now, None)


@dataclass
class ConsoleServer:
    url: str
    env: dict[str, str]
    folder: Path
    backend: str

    @property
    def sweeps(self) -> bool:
        """Whether this run checks pages with axe-core (one sweep per page and width)."""
        return self.backend == "sqlite"

    def cli(self, *args: str, stdin: str | None = None) -> str:
        """``taptrail`` on this server's database; its standard output."""
        done = subprocess.run(
            [sys.executable, "-m", "taptrail.cli", *args],
            cwd=ROOT,
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def add_game(self, data: dict[str, Any], organiser: str) -> None:
        """Loads a game file and makes an organiser of that game (the first organiser, made
        with ``taptrail user create`` as an operator would)."""
        slug = data["game"]["slug"]
        path = self.folder / f"{slug}.yaml"
        path.write_text(yaml.safe_dump(data))
        self.cli("game", "load", str(path))
        args = ["--email", organiser, "--role", "organiser", "--game", slug, "--password-stdin"]
        self.cli("user", "create", *args, stdin=PASSWORD)


@pytest.fixture(scope="session")
def console_server(
    backend: str, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ConsoleServer]:
    folder = tmp_path_factory.mktemp(f"console-{backend}")
    env = app_env(
        database_url=database_url,
        secret_key=Fernet.generate_key().decode(),
        periodic_jobs="false",
        map_tiles_url="none",  # no requests to a tile server from the tests
    )
    if backend == "postgres":
        env["TAPTRAIL_REDIS_URL"] = REDIS_URL
        env["TAPTRAIL_REDIS_PREFIX"] = REDIS_PREFIX
    with app_server(env, folder / "server.log") as url:
        yield ConsoleServer(url, env, folder, backend)


@pytest.fixture
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium not installed at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()
