"""The console in headless Chromium (Debian's /usr/bin/chromium) against a real server on
each backend: axe-core finds no violation on any page at desktop (1280) and phone (390)
widths (on SQLite; the journeys run on both), signing in and adding a campaign work with the
keyboard alone, and boxes are picked for a campaign by clicking the map. The first organiser
is made with ``taptrail user create``; invitation and reset links come from the console
itself. Screenshots go to /tmp/taptrail-console/ for a person to look at."""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, ConsoleMessage

from harness.game_files import game_file
from tests.staff.browser_helpers import SHOTS, axe, sign_in, tab_to
from tests.staff.conftest import ConsoleServer
from tests.staff.staff_helpers import PASSWORD

pytestmark = pytest.mark.browser

EMAIL = "first.organiser@example.org"
SLUG = "console-town"
LONDON = ZoneInfo("Europe/London")


@pytest.fixture(scope="module")
def server(console_server: ConsoleServer) -> ConsoleServer:
    console_server.add_game(game_file(SLUG), EMAIL)
    return console_server


@pytest.mark.parametrize("width", [1280, 390])
def test_every_console_page_has_no_axe_violations(
    browser: Browser, server: ConsoleServer, width: int
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
        found.extend(axe(page, name, server))

    visit("/accessibility", "accessibility")
    visit("/reset", "reset-request")
    page.fill("#email", "nobody@example.org")
    page.click("button[type=submit]")
    found.extend(axe(page, "reset-sent", server))
    visit("/login", "login")
    page.fill("#email", EMAIL)
    page.fill("#password", "not the password at all")
    page.click("button[type=submit]")
    found.extend(axe(page, "login-error", server))
    sign_in(page, url, EMAIL)
    found.extend(axe(page, "home", server))
    assert SLUG in page.content()
    visit("/console/staff", "staff")
    invitee = f"invitee-{width}@example.org"
    page.fill("#email", invitee)
    page.check("#role-evaluator")
    page.select_option("#game", SLUG)
    page.click("form[action='/console/staff/invitations'] button[type=submit]")
    page.wait_for_url(re.compile(r".*notice=.*"))
    found.extend(axe(page, "staff-invited", server))
    invite_link = page.input_value("input[id^=invite-]")
    page.fill("#email", "")
    page.check("#role-team_manager")
    page.select_option("#game", SLUG)
    page.click("form[action='/console/staff/invitations'] button[type=submit]")
    found.extend(axe(page, "staff-error", server))
    # The campaigns page: a mistake, an upcoming campaign, a back-dated one to confirm.
    visit(f"/console/games/{SLUG}/campaigns", "campaigns")
    page.click("form[action$='/campaigns'] button[type=submit]")
    found.extend(axe(page, "campaigns-error", server))
    page.fill("#name", f"Parks week {width}")
    page.fill("#starts_date", "2027-05-10")
    page.fill("#ends_date", "2027-05-17")
    page.check("#tags")
    page.click("form[action$='/campaigns'] button[type=submit]")
    page.wait_for_url(re.compile(r".*notice=created"))
    found.extend(axe(page, "campaigns-added", server))
    page.fill("#name", f"Since November {width}")
    page.fill("#starts_date", "2026-11-01")
    page.fill("#ends_date", "2027-05-31")
    page.check("#tags")
    page.click("form[action$='/campaigns'] button[type=submit]")
    found.extend(axe(page, "campaigns-confirm", server))
    page.click("form:has(input[name=confirm]) button[type=submit]")
    page.wait_for_url(re.compile(r".*notice=created"))
    found.extend(axe(page, "campaigns-running", server))
    visit("/console/account", "account")
    start = page.locator("form[action='/console/account/totp/start'] button")
    if start.count():  # the other width's run may have started it already
        start.click()
    found.extend(axe(page, "account-totp-setup", server))
    page.fill("#label", "hall screen")
    page.click("form[action='/console/account/tokens'] button")
    found.extend(axe(page, "account-new-token", server))
    visit("/logout", "logout")
    # The invited person's pages.
    other = browser.new_context(viewport={"width": width, "height": 900}, bypass_csp=True)
    guest = other.new_page()
    guest.goto(invite_link)
    found.extend(axe(guest, "invite", server))
    guest.fill("#password", "short")
    guest.fill("#confirm", "short")
    guest.click("button[type=submit]")
    found.extend(axe(guest, "invite-error", server))
    guest.fill("#password", "evaluator sturdy kettle 8")
    guest.fill("#confirm", "evaluator sturdy kettle 8")
    guest.click("button[type=submit]")
    guest.wait_for_url(re.compile(r".*/console/$"))
    guest.goto(url + "/console/staff")
    found.extend(axe(guest, "forbidden", server))
    # A reset link made by the organiser.
    page.goto(url + "/console/staff")
    page.click(f"xpath=//tr[td[text()='{invitee}']]//form[contains(@action,'reset-link')]/button")
    found.extend(axe(page, "staff-reset-link", server))
    reset_link = page.input_value("#reset-link")
    guest.goto(reset_link)
    found.extend(axe(guest, "reset", server))
    other.close()
    context.close()
    assert found == []
    assert errors == [], errors


def test_signing_in_with_the_keyboard_alone(browser: Browser, server: ConsoleServer) -> None:
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


def test_adding_a_campaign_with_the_keyboard_alone(browser: Browser, server: ConsoleServer) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    sign_in(page, server.url, EMAIL)

    # From the console home, the game's Campaigns link.
    tab_to(page, "document.activeElement.textContent.trim().startsWith('Campaigns')")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{server.url}/console/games/{SLUG}/campaigns")
    tab_to(page, "document.activeElement.id === 'name'")
    page.keyboard.type("Keyboard parks")
    page.keyboard.press("Tab")  # multiplier, 2 already
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "starts_date"
    page.keyboard.type("07/06/2027")
    page.keyboard.press("Tab")  # the start time, midnight already
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "ends_date"
    page.keyboard.type("14/06/2027")
    tab_to(page, "document.activeElement.id === 'tags'", limit=6)
    page.keyboard.press("Space")
    # And one more box from the list (the map is for the mouse): open its group, tick it.
    tab_to(page, "document.activeElement.textContent.includes('Boxes without a tag')", limit=12)
    page.keyboard.press("Enter")
    tab_to(page, "document.activeElement.id === 'box-B'", limit=4)
    page.keyboard.press("Space")
    tab_to(page, "document.activeElement.tagName === 'BUTTON'", limit=6)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*notice=created"))
    upcoming = page.content().split('id="upcoming"')[1].split('id="past"')[0]
    assert "Keyboard parks" in upcoming and "Mon 7 Jun 2027 00:00" in upcoming
    assert "Boxes tagged park; boxes B" in upcoming
    context.close()


def test_picking_boxes_on_the_campaign_map(browser: Browser, server: ConsoleServer) -> None:
    """Clicking a box on the map ticks its checkbox (and opens its group), clicking it again
    unticks it, and the campaign made from the form has the boxes picked."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    sign_in(page, server.url, EMAIL)
    page.goto(f"{server.url}/console/games/{SLUG}/campaigns")
    markers = page.locator("#box-map .leaflet-interactive")
    markers.first.wait_for()  # the map drew the boxes, one marker per checkbox
    boxes = page.locator("#box-picker input[type=checkbox]")
    assert markers.count() == boxes.count() == 4
    assert page.locator("#box-map-hint").is_visible()
    codes = [boxes.nth(i).get_attribute("name") for i in range(4)]
    assert codes == ["box-P", "box-A", "box-B", "box-C"]  # tagged park first, then the rest

    def look(i: int) -> tuple[str | None, str | None]:
        path = markers.nth(i)
        return path.get_attribute("fill-opacity"), path.get_attribute("stroke-dasharray")

    unpicked = look(1)
    assert not page.is_checked("#box-A") and not page.locator("#box-A").is_visible()
    markers.nth(1).click()  # Alpha
    assert page.is_checked("#box-A") and page.locator("#box-A").is_visible()
    assert look(1) != unpicked and look(1)[1] is None  # filled, not dashed
    markers.nth(3).click()  # Charlie
    markers.nth(2).click()  # Bravo, then not after all
    markers.nth(2).click()
    assert [page.is_checked(f"#box-{c}") for c in "ABCP"] == [True, False, True, False]
    assert page.get_by_text("Boxes without a tag (3, 2 picked)").is_visible()
    assert look(2) == unpicked
    # Ticking in the list fills the marker too.
    page.locator("#box-picker summary").first.click()
    page.check("#box-P")
    assert look(0)[1] is None
    page.uncheck("#box-P")
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "campaigns-map-1280.png"), full_page=True)
    page.fill("#name", "Map picked week")
    page.fill("#starts_date", "2027-08-02")
    page.fill("#ends_date", "2027-08-09")
    page.click("form[action$='/campaigns'] button[type=submit]")
    page.wait_for_url(re.compile(r".*notice=created"))
    upcoming = page.content().split('id="upcoming"')[1].split('id="past"')[0]
    assert "Map picked week" in upcoming and "boxes A, C" in upcoming
    context.close()


OFFICER = "council.officer@example.org"
PARKS = "parks-town"


@pytest.fixture(scope="module")
def parks_game(server: ConsoleServer) -> str:
    """A game running now (from a month ago to two months ahead), for a council officer."""
    data = game_file(PARKS)
    today = datetime.now(LONDON).date()
    data["game"]["name"] = "Parks Town Walks"
    data["game"]["starts_at"] = f"{today - timedelta(days=30)}T00:00:00+00:00"
    data["game"]["ends_at"] = f"{today + timedelta(days=60)}T00:00:00+00:00"
    server.add_game(data, OFFICER)
    return PARKS


def test_a_newcomer_adds_a_double_points_week_in_the_parks_next_week(
    browser: Browser, server: ConsoleServer, parks_game: str
) -> None:
    """The council officer's task from the Overview, as someone who has never seen the
    console: only what is on the screen (roles and visible names; no address typed, no CSS
    selector), each step counted. docs/running-a-game/console.md records the count."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    sign_in(page, server.url, OFFICER)
    page.get_by_role("link", name="Overview of Parks Town Walks").click()
    page.get_by_role("heading", name="Overview").wait_for()
    page.wait_for_load_state("load")
    loads: list[str] = []
    page.on("load", lambda p: loads.append(p.url))
    steps: list[str] = []

    def step(what: str) -> None:
        steps.append(what)

    today = datetime.now(LONDON).date()
    monday = today + timedelta(days=7 - today.weekday())  # what a calendar says
    starts, ends = monday.strftime("%d/%m/%Y"), (monday + timedelta(days=7)).strftime("%d/%m/%Y")
    started = time.monotonic()

    page.get_by_role("navigation", name="Pages of Parks Town Walks").get_by_role(
        "link", name="Campaigns"
    ).click()
    step("choose Campaigns in the game's pages")
    page.get_by_role("link", name="Add a campaign").click()
    step("choose Add a campaign")
    page.get_by_label("Name").fill("Double points in the parks")
    step("type a name")
    starts_group = page.get_by_role("group", name="Starts")
    # The page names next week's dates, so nothing has to be worked out.
    assert f"Next week starts on {monday:%A %-d %B}: date {starts}" in starts_group.inner_text()
    starts_group.get_by_label("Date").fill(starts)
    step("type the start date shown")
    ends_group = page.get_by_role("group", name="Ends")
    assert f"date {ends}" in ends_group.inner_text()
    ends_group.get_by_label("Date").fill(ends)
    step("type the end date shown")
    assert page.get_by_label("Points multiplier").input_value() == "2"  # double already
    page.get_by_label("Every box tagged park").check()
    step("tick Every box tagged park")
    page.get_by_role("button", name="Add campaign").click()
    step("choose Add campaign")
    page.get_by_text("The campaign has been added.").wait_for()
    elapsed = time.monotonic() - started

    upcoming = page.get_by_role("table", name="Upcoming campaigns")
    row = upcoming.get_by_role("row", name=re.compile("Double points in the parks"))
    assert f"{monday:%a %-d %b %Y} 00:00" in row.inner_text()
    assert "×2" in row.inner_text() and "Boxes tagged park" in row.inner_text()
    if server.sweeps:
        SHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SHOTS / "newcomer-done-1280.png"), full_page=True)
    # Two pages after the Overview (Campaigns, and Campaigns again with the new one), seven
    # steps, none of them a typed address; the machine's own time is far under two minutes.
    assert len(loads) == 2, loads
    assert len(steps) == 7, steps
    assert elapsed < 30
    context.close()
