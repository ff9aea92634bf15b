"""The game pages of the console (Overview, Set-up, Boxes) in headless Chromium against a
real server: axe-core finds no violation at 1280 and 390 px, the map and chart scripts run
without errors, and a box's secret is rotated with the keyboard alone. Screenshots go to
/tmp/taptrail-console-ops/ for a person to look at."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.game_files import game_file
from tests.staff.staff_helpers import console_server
from tests.staff.test_console_browser import EMAIL, Server, _axe, _sign_in
from tests.staff.test_console_browser import browser as browser  # noqa: F401 (fixture)

pytestmark = pytest.mark.browser

SLUG = "ops-town"
SHOTS = Path("/tmp/taptrail-console-ops")

from playwright.sync_api import Browser, ConsoleMessage, Page  # noqa: E402


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with console_server(tmp_path_factory.mktemp("console-ops"), game_file(SLUG), EMAIL) as url:
        yield Server(url)


def _shot_axe(page: Page, name: str) -> list[str]:
    found = _axe(page, name)
    SHOTS.mkdir(exist_ok=True)
    width = page.viewport_size["width"] if page.viewport_size else 0
    page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
    return found


@pytest.mark.parametrize("width", [1280, 390])
def test_the_game_pages_have_no_axe_violations(
    browser: Browser,  # noqa: F811
    server: Server,
    width: int,
) -> None:
    url = server.url
    context = browser.new_context(viewport={"width": width, "height": 900}, bypass_csp=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    expected = re.compile(r"status of (422)")

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error" and not expected.search(message.text):
            errors.append(message.text)

    page.on("console", on_console)
    found: list[str] = []
    _sign_in(page, url)
    game = f"{url}/console/games/{SLUG}"

    page.goto(game)
    found.extend(_shot_axe(page, "overview"))
    page.goto(game + "/boxes")
    page.wait_for_selector("#box-map .leaflet-interactive")  # the map drew the boxes
    assert page.locator("#box-map .leaflet-interactive").count() == 4
    found.extend(_shot_axe(page, "boxes"))
    page.emulate_media(media="print")
    page.screenshot(path=str(SHOTS / f"boxes-print-{width}.png"), full_page=True)
    assert not page.locator("#box-map").is_visible()
    page.emulate_media(media="screen")
    page.click(f"a[href$='/boxes/R-{SLUG}-B']")
    found.extend(_shot_axe(page, "box"))
    page.click("form[action$='/disable'] button")
    found.extend(_shot_axe(page, "box-confirm"))
    page.goto(game + "/setup")
    found.extend(_shot_axe(page, "setup"))
    text = page.input_value("#file")
    page.fill("#file", text.replace("points_per_leg: 10", "points_per_leg: -1"))
    page.click("form:has(#file) button[type=submit]")
    found.extend(_shot_axe(page, "setup-error"))
    page.fill("#file", text.replace("name: Bravo", f"name: Bravo {width}"))
    page.click("form:has(#file) button[type=submit]")
    assert "Check the changes before you apply them" in page.content()
    found.extend(_shot_axe(page, "setup-preview"))
    page.click("form:has(input[name=confirm]) button[type=submit]")
    page.wait_for_url(re.compile(r".*notice=applied"))
    found.extend(_shot_axe(page, "setup-applied"))
    context.close()
    assert found == []
    assert errors == [], errors


def test_rotating_a_secret_with_the_keyboard_alone(
    browser: Browser,  # noqa: F811
    server: Server,
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    _sign_in(page, server.url)

    def tab_to(check: str, limit: int = 80) -> None:
        for _ in range(limit):
            page.keyboard.press("Tab")
            if page.evaluate(check):
                return
        raise AssertionError(f"never reached by Tab: {check}")

    # From the console home, the game's Boxes link, then box C's page.
    tab_to("document.activeElement.textContent.trim().startsWith('Boxes')")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{server.url}/console/games/{SLUG}/boxes")
    tab_to(f"document.activeElement.textContent.trim() === 'R-{SLUG}-C'")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{server.url}/console/games/{SLUG}/boxes/R-{SLUG}-C")
    tab_to("document.activeElement.textContent.trim() === 'Rotate the secret'")
    page.keyboard.press("Enter")
    page.wait_for_selector("#confirm")
    assert "Rotate this box's secret?" in page.content()
    tab_to(
        "document.activeElement.textContent.trim() === 'Rotate the secret'"
        " && document.activeElement.closest('form').querySelector('input[name=confirm]')"
    )
    page.keyboard.press("Enter")
    page.wait_for_selector("#new-secret")
    secret = page.input_value("#new-secret")
    assert len(secret) >= 32
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "box-secret-1280.png"), full_page=True)
    context.close()
