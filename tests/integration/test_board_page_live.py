"""The school-hall board of a real server changes when a box's upload is scored."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from harness.servers import ROOT, ServerProcess
from tests.browser import ARGS, CHROMIUM, require_chromium
from tests.integration.live_town import live_game, load, walk

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, str]]:
    require_chromium()
    folder = tmp_path_factory.mktemp("live-board")
    env = {
        "TAPTRAIL_DATABASE_URL": f"sqlite+aiosqlite:///{folder / 'board.db'}",
        "TAPTRAIL_SECRET_KEY_FILE": str(folder / "key"),
        "TAPTRAIL_PERIODIC_JOBS": "false",
    }
    server = ServerProcess(env, folder)
    server.start()
    token = (
        subprocess.run(
            [sys.executable, "-m", "taptrail.cli", "token", "create", "--role", "organiser"],
            cwd=ROOT,
            env=server.env,
            capture_output=True,
            text=True,
            check=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    yield server, token
    server.stop()


def test_board_changes_when_a_tap_is_scored(server: tuple[ServerProcess, str]) -> None:
    from playwright.sync_api import expect, sync_playwright

    proc, token = server
    data = live_game("live-board")

    async def setup() -> None:
        async with httpx.AsyncClient(base_url=proc.url, timeout=30) as client:
            await load(client, token, data)

    async def tap() -> None:
        async with httpx.AsyncClient(base_url=proc.url, timeout=30) as client:
            await walk(client, data, [1, 2, 3])

    asyncio.run(setup())
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1920, "height": 1080})
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(f"{proc.url}/games/live-board/board")
        expect(page.locator("#status")).to_have_attribute("data-state", "live")
        rows = page.locator("#board .row")
        expect(rows).to_have_count(2)
        expect(rows.first.locator(".value")).to_contain_text("0")

        # Playwright's sync API owns this thread's loop: upload from another thread.
        with ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, tap()).result()  # 3 school fobs A → B → C: 60 points
        expect(rows.first.locator(".name")).to_have_text("Alpha Primary", timeout=10_000)
        expect(rows.first.locator(".value")).to_contain_text("60", timeout=10_000)
        page.screenshot(path="/tmp/taptrail-board-live.png")
        browser.close()
    assert errors == []
