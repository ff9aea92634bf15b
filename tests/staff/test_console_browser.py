"""The console in headless Chromium (Debian's /usr/bin/chromium) against a real server:
axe-core finds no violation on any page at desktop (1280) and phone (390) widths, and
signing in works with the keyboard alone. The first organiser is made with
``taptrail user create``; invitation and reset links come from the console itself.
Screenshots go to /tmp/taptrail-console/ for a person to look at."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.game_files import game_file
from tests.browser import ARGS, CHROMIUM, require_chromium
from tests.staff.staff_helpers import PASSWORD, console_server

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
AXE = Path(__file__).parent / "assets" / "axe-core-4.14.1" / "axe.min.js"
SHOTS = Path("/tmp/taptrail-console")
EMAIL = "first.organiser@example.org"
SLUG = "console-town"

require_chromium()

from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright  # noqa: E402


@dataclass
class Server:
    url: str


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with console_server(tmp_path_factory.mktemp("console"), game_file(SLUG), EMAIL) as url:
        yield Server(url)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def _axe(page: Page, name: str) -> list[str]:
    """axe-core's violations on the page (WCAG 2.2 A and AA and best practice), and a
    screenshot of it."""
    SHOTS.mkdir(exist_ok=True)
    width = page.viewport_size["width"] if page.viewport_size else 0
    page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        """async () => (await axe.run(document, {runOnly: {type: "tag", values:
        ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]}})).violations
        .map(v => v.id + ": " + v.nodes.map(n => n.target.join(" ")).join(", "))"""
    )
    return [f"{name} at {width}px: {line}" for line in json.loads(json.dumps(result))]


def _sign_in(page: Page, url: str, email: str = EMAIL, password: str = PASSWORD) -> None:
    page.goto(f"{url}/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/console/.*"))


@pytest.mark.parametrize("width", [1280, 390])
def test_every_console_page_has_no_axe_violations(
    browser: Browser, server: Server, width: int
) -> None:
    url = server.url
    context = browser.new_context(viewport={"width": width, "height": 900}, bypass_csp=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # The forms answer a mistake with its 4xx status on purpose; anything else is a problem.
    expected = re.compile(r"status of (401|403|422)")

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error" and not expected.search(message.text):
            errors.append(message.text)

    page.on("console", on_console)
    found: list[str] = []

    def visit(path: str, name: str) -> None:
        page.goto(url + path)
        found.extend(_axe(page, name))

    visit("/accessibility", "accessibility")
    visit("/reset", "reset-request")
    page.fill("#email", "nobody@example.org")
    page.click("button[type=submit]")
    found.extend(_axe(page, "reset-sent"))
    visit("/login", "login")
    page.fill("#email", EMAIL)
    page.fill("#password", "not the password at all")
    page.click("button[type=submit]")
    found.extend(_axe(page, "login-error"))
    _sign_in(page, url)
    found.extend(_axe(page, "home"))
    assert SLUG in page.content()
    visit("/console/staff", "staff")
    invitee = f"invitee-{width}@example.org"
    page.fill("#email", invitee)
    page.check("#role-evaluator")
    page.select_option("#game", SLUG)
    page.click("form[action='/console/staff/invitations'] button[type=submit]")
    page.wait_for_url(re.compile(r".*notice=.*"))
    found.extend(_axe(page, "staff-invited"))
    invite_link = page.input_value("input[id^=invite-]")
    page.fill("#email", "")
    page.check("#role-team_manager")
    page.select_option("#game", SLUG)
    page.click("form[action='/console/staff/invitations'] button[type=submit]")
    found.extend(_axe(page, "staff-error"))
    # The campaigns page: a mistake, an upcoming campaign, a back-dated one to confirm.
    visit(f"/console/games/{SLUG}/campaigns", "campaigns")
    page.click("form[action$='/campaigns'] button[type=submit]")
    found.extend(_axe(page, "campaigns-error"))
    page.fill("#name", f"Parks week {width}")
    page.fill("#starts_date", "2027-05-10")
    page.fill("#ends_date", "2027-05-17")
    page.check("#tags")
    page.click("form[action$='/campaigns'] button[type=submit]")
    page.wait_for_url(re.compile(r".*notice=created"))
    found.extend(_axe(page, "campaigns-added"))
    page.fill("#name", f"Since November {width}")
    page.fill("#starts_date", "2026-11-01")
    page.fill("#ends_date", "2027-05-31")
    page.check("#tags")
    page.click("form[action$='/campaigns'] button[type=submit]")
    found.extend(_axe(page, "campaigns-confirm"))
    page.click("form:has(input[name=confirm]) button[type=submit]")
    page.wait_for_url(re.compile(r".*notice=created"))
    found.extend(_axe(page, "campaigns-running"))
    visit("/console/account", "account")
    start = page.locator("form[action='/console/account/totp/start'] button")
    if start.count():  # the other width's run may have started it already
        start.click()
    found.extend(_axe(page, "account-totp-setup"))
    page.fill("#label", "hall screen")
    page.click("form[action='/console/account/tokens'] button")
    found.extend(_axe(page, "account-new-token"))
    visit("/logout", "logout")
    # The invited person's pages.
    other = browser.new_context(viewport={"width": width, "height": 900}, bypass_csp=True)
    guest = other.new_page()
    guest.goto(invite_link)
    found.extend(_axe(guest, "invite"))
    guest.fill("#password", "short")
    guest.fill("#confirm", "short")
    guest.click("button[type=submit]")
    found.extend(_axe(guest, "invite-error"))
    guest.fill("#password", "evaluator sturdy kettle 8")
    guest.fill("#confirm", "evaluator sturdy kettle 8")
    guest.click("button[type=submit]")
    guest.wait_for_url(re.compile(r".*/console/$"))
    guest.goto(url + "/console/staff")
    found.extend(_axe(guest, "forbidden"))
    # A reset link made by the organiser.
    page.goto(url + "/console/staff")
    page.click(f"xpath=//tr[td[text()='{invitee}']]//form[contains(@action,'reset-link')]/button")
    found.extend(_axe(page, "staff-reset-link"))
    reset_link = page.input_value("#reset-link")
    guest.goto(reset_link)
    found.extend(_axe(guest, "reset"))
    other.close()
    context.close()
    assert found == []
    assert errors == [], errors


def test_signing_in_with_the_keyboard_alone(browser: Browser, server: Server) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{server.url}/login")
    # Skip link, the header's home link, then the form.
    for _ in range(3):
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "email"
    page.keyboard.type(EMAIL)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{server.url}/console/")
    assert "Your games" in page.content()
    # And signing out, by keyboard: Tab to "Sign out" in the header menu, then the button.
    for _ in range(6):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == "Sign out":
            break
    page.keyboard.press("Enter")
    page.wait_for_url(f"{server.url}/logout")
    page.keyboard.press("Tab")
    for _ in range(8):
        if page.evaluate("document.activeElement.tagName") == "BUTTON":
            break
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/login\?notice=signed_out"))
    context.close()


def test_adding_a_campaign_with_the_keyboard_alone(browser: Browser, server: Server) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    _sign_in(page, server.url)

    def tab_to(check: str, limit: int = 60) -> None:
        for _ in range(limit):
            page.keyboard.press("Tab")
            if page.evaluate(check):
                return
        raise AssertionError(f"never reached by Tab: {check}")

    # From the console home, the game's Campaigns link.
    tab_to("document.activeElement.textContent.trim().startsWith('Campaigns')")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{server.url}/console/games/{SLUG}/campaigns")
    tab_to("document.activeElement.id === 'name'")
    page.keyboard.type("Keyboard parks")
    page.keyboard.press("Tab")  # multiplier, 2 already
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "starts_date"
    page.keyboard.type("07/06/2027")
    page.keyboard.press("Tab")  # the start time, midnight already
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "ends_date"
    page.keyboard.type("14/06/2027")
    tab_to("document.activeElement.id === 'tags'", limit=6)
    page.keyboard.press("Space")
    tab_to("document.activeElement.tagName === 'BUTTON'", limit=6)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*notice=created"))
    upcoming = page.content().split('id="upcoming"')[1].split('id="past"')[0]
    assert "Keyboard parks" in upcoming and "Mon 7 Jun 2027 00:00" in upcoming
    context.close()
