"""The hall board page in headless Chromium (Debian's /usr/bin/chromium)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.browser import ARGS, CHROMIUM, require_chromium
from tests.leaderboard.lb_app import DEMO
from tests.leaderboard.lb_server import LiveServer

pytestmark = pytest.mark.browser

BOARD_SHOT = Path("/tmp/taptrail-board.png")

require_chromium()

from playwright.sync_api import Browser, Page, expect, sync_playwright  # noqa: E402


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    s = LiveServer()
    s.start()
    yield s
    s.stop()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1920, "height": 1080})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    yield pg
    context.close()
    assert errors == []


def publish(server: LiveServer, body: dict) -> None:
    httpx.post(f"{server.url}/_test/apply/{DEMO}", json=body, timeout=5).raise_for_status()


def test_board_updates_live_and_reconnects(page: Page, server: LiveServer) -> None:
    page.goto(f"{server.url}/games/{DEMO}/board")
    status = page.locator("#status")
    expect(status).to_have_attribute("data-state", "live")
    rows = page.locator("#board .row")
    expect(rows).to_have_count(10)
    expect(page.locator("#game-name")).to_have_text("Burnley Beats")
    expect(rows.first.locator(".name")).to_have_text("St Mary's Primary")
    expect(rows.nth(2).locator(".rank")).to_have_text("3")
    expect(rows.nth(3).locator(".rank")).to_have_text("3")  # tied with the row above
    expect(page.locator("#banner")).to_be_hidden()

    publish(server, {"teams": [{"code": "HOLY-TRIN", "points": 100}]})
    expect(rows.first.locator(".name")).to_have_text("Holy Trinity C of E")
    expect(rows.first.locator(".value")).to_contain_text("1,280")
    page.screenshot(path=str(BOARD_SHOT))

    server.stop()
    expect(page.locator("#banner")).to_be_visible(timeout=5000)
    expect(page.locator("#banner-text")).to_contain_text("reconnecting")
    expect(status).to_have_attribute("data-state", "down")
    page.screenshot(path="/tmp/taptrail-board-disconnected.png")

    server.start()  # a fresh in-memory server: its snapshot is the seed again
    expect(status).to_have_attribute("data-state", "live", timeout=15000)
    expect(page.locator("#banner")).to_be_hidden()
    expect(rows.first.locator(".name")).to_have_text("St Mary's Primary")
    publish(server, {"teams": [{"code": "CASTERTON", "points": 1000}]})
    expect(rows.first.locator(".name")).to_have_text("Casterton Primary Academy")


def test_board_pauses_and_announces_a_new_leader_politely(page: Page, server: LiveServer) -> None:
    page.goto(f"{server.url}/games/{DEMO}/board")
    expect(page.locator("#status")).to_have_attribute("data-state", "live")
    rows = page.locator("#board .row")
    expect(rows).to_have_count(10)
    leader = rows.first.locator(".name").inner_text()
    assert leader != "Holy Trinity C of E"
    expect(page.locator("#updated")).to_contain_text("Updated")
    assert re.search(r"\bv\d", page.inner_text("#updated")) is None  # no internal version
    assert page.locator("#board").get_attribute("aria-live") is None
    expect(page.locator("#announce")).to_have_attribute("aria-live", "polite")
    expect(page.locator("#announce")).to_have_text("")
    # Paused: the board stays as it is; resumed: the latest scores, announced once.
    page.get_by_role("button", name="Pause updates").click()
    expect(page.locator("#pause")).to_have_attribute("aria-pressed", "true")
    publish(server, {"teams": [{"code": "HOLY-TRIN", "points": 100000}]})
    page.wait_for_timeout(700)
    expect(rows.first.locator(".name")).to_have_text(leader)
    page.get_by_role("button", name="Resume updates").click()
    expect(rows.first.locator(".name")).to_have_text("Holy Trinity C of E")
    expect(page.locator("#announce")).to_contain_text("Holy Trinity C of E is now first")


def test_board_tabs_and_escaping(page: Page, server: LiveServer) -> None:
    page.goto(f"{server.url}/games/{DEMO}/board?by=average")
    expect(page.locator("#status")).to_have_attribute("data-state", "live")
    expect(page.locator("#board-title")).to_have_text("Points per active member")
    expect(page.locator("#board .row.ineligible").first).to_be_visible()
    page.get_by_role("button", name="Families").click()
    expect(page.locator("#board .row .name")).to_have_text(["The Smiths <script>"])
    assert "kind=family" in page.url
    page.get_by_role("button", name="Players").click()
    expect(page.locator("#kind-tabs")).to_be_hidden()
    expect(page.locator("#board .row .name").first).to_have_text("Swift Fox")
    expect(page.locator("#board")).not_to_contain_text("Secret Squirrel")
