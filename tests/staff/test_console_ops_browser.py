"""The game pages of the console (Overview, Set-up, Boxes) in headless Chromium against a
real server on each backend: axe-core finds no violation at 1280 and 390 px (on SQLite), the
map and chart scripts run without errors, and a box's secret is rotated with the keyboard
alone. Screenshots go to /tmp/taptrail-console/ for a person to look at."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, ConsoleMessage

from harness.game_files import game_file
from tests.staff.browser_helpers import SHOTS, axe, sign_in, tab_to
from tests.staff.conftest import ConsoleServer

pytestmark = pytest.mark.browser

EMAIL = "ops.organiser@example.org"
SLUG = "ops-town"


@pytest.fixture(scope="module")
def server(console_server: ConsoleServer) -> ConsoleServer:
    console_server.add_game(game_file(SLUG), EMAIL)
    return console_server


@pytest.mark.parametrize("width", [1280, 390])
def test_the_game_pages_have_no_axe_violations(
    browser: Browser,
    server: ConsoleServer,
    width: int,
) -> None:
    url = server.url
    context = browser.new_context(viewport={"width": width, "height": 900}, bypass_csp=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    expected = re.compile(r"status of (422)")  # the forms' mistakes, on purpose

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error" and not expected.search(message.text):
            errors.append(message.text)

    page.on("console", on_console)
    found: list[str] = []
    sign_in(page, url, EMAIL)
    game = f"{url}/console/games/{SLUG}"

    page.goto(game)
    found.extend(axe(page, "ops-overview", server))
    page.goto(game + "/boxes")
    page.wait_for_selector("#box-map .leaflet-interactive")  # the map drew the boxes
    assert page.locator("#box-map .leaflet-interactive").count() == 4
    found.extend(axe(page, "ops-boxes", server))
    page.emulate_media(media="print")
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"ops-boxes-print-{width}.png"), full_page=True)
    assert not page.locator("#box-map").is_visible()
    page.emulate_media(media="screen")
    page.click(f"a[href$='/boxes/R-{SLUG}-B']")
    found.extend(axe(page, "ops-box", server))
    page.click("form[action$='/disable'] button")
    found.extend(axe(page, "ops-box-confirm", server))
    page.goto(f"{game}/boxes/R-{SLUG}-B")
    page.fill("#lat", "not a place")
    page.click("form[action$='/place'] button")
    found.extend(axe(page, "ops-box-place-error", server))
    page.fill("#lat", "53.7")
    page.click("form[action$='/place'] button")
    assert "Move this box's place?" in page.content()
    found.extend(axe(page, "ops-box-place-confirm", server))
    page.goto(game + "/setup")
    found.extend(axe(page, "ops-setup", server))
    text = page.input_value("#file")
    page.fill("#file", text.replace("points_per_leg: 10", "points_per_leg: -1"))
    page.click("form:has(#file) button[type=submit]")
    found.extend(axe(page, "ops-setup-error", server))
    page.fill("#file", text.replace("name: Bravo", f"name: Bravo {width}"))
    page.click("form:has(#file) button[type=submit]")
    assert "Check the changes before you apply them" in page.content()
    found.extend(axe(page, "ops-setup-preview", server))
    page.click("form:has(input[name=confirm]) button[type=submit]")
    page.wait_for_url(re.compile(r".*notice=applied"))
    found.extend(axe(page, "ops-setup-applied", server))
    context.close()
    assert found == []
    assert errors == [], errors


def test_rotating_a_secret_with_the_keyboard_alone(
    browser: Browser,
    server: ConsoleServer,
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    sign_in(page, server.url, EMAIL)

    # From the console home, the game's Boxes link, then box C's page.
    tab_to(page, "document.activeElement.textContent.trim().startsWith('Boxes')")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{server.url}/console/games/{SLUG}/boxes")
    tab_to(page, f"document.activeElement.textContent.trim() === 'R-{SLUG}-C'")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{server.url}/console/games/{SLUG}/boxes/R-{SLUG}-C")
    tab_to(page, "document.activeElement.textContent.trim() === 'Rotate the secret'")
    page.keyboard.press("Enter")
    page.wait_for_selector("#confirm")
    assert "Rotate this box's secret?" in page.content()
    tab_to(
        page,
        "document.activeElement.textContent.trim() === 'Rotate the secret'"
        " && document.activeElement.closest('form').querySelector('input[name=confirm]')",
    )
    page.keyboard.press("Enter")
    page.wait_for_selector("#new-secret")
    secret = page.input_value("#new-secret")
    assert len(secret) >= 32
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "ops-box-secret-1280.png"), full_page=True)
    context.close()
