"""The family site in headless Chromium (Debian's /usr/bin/chromium) against a real server
on each backend (SQLite with in-process boards, PostgreSQL with Redis).

- A parent's journey at phone width (390 px), in English and in Welsh: an account, two
  children's cards and an adult's, points after the boxes upload taps, a team change, a
  lost card replaced, a survey answered for a child, the data downloaded as JSON and CSV,
  the account deleted. Every page
  on the way (and the forms' error states) is checked with axe-core at 390 and 1280 px and
  for sideways scrolling at 390 px (on SQLite: the pages do not depend on the backend).
- Signing in and registering a card with the keyboard alone.

Screenshots go to /tmp/family-shots/ for a person to look at."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from harness.game_files import COM1_JOIN_CODE, A, offset
from tests.browser import require_chromium
from tests.family.browser_support import (
    PASSWORD,
    PHONE,
    Checker,
    Server,
    serve,
)

pytestmark = pytest.mark.browser

require_chromium()  # with TAPTRAIL_REQUIRE_SERVICES=1 a missing Chromium fails

from playwright.sync_api import Browser, Page  # noqa: E402


@pytest.fixture(scope="module")
def server(
    backend: str, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    with serve(backend, database_url, tmp_path_factory.mktemp(f"family-{backend}")) as running:
        yield running


def _submit(page: Page, form: str) -> None:
    page.click(f"form[action='{form}'] button[type=submit]")
    page.wait_for_load_state()


def _add_card(
    page: Page, slug: str, card: int, nickname: str, age: str, team: str = "", **extra: str
) -> None:
    page.goto(page.url.split("/family")[0].split("/games")[0] + f"/family/add?game={slug}")
    page.fill("#card_number", f"{card:07d}")
    page.fill("#activation_code", extra.get("code", f"K{card:03d}"))
    page.fill("#nickname", nickname)
    page.check(f"input[name=age_band][value='{age}']")
    page.check("input[name=gender][value=prefer_not_to_say]")
    if team:
        page.select_option("#team", team)
    if "join_code" in extra:
        page.fill("#join_code", extra["join_code"])
    if extra.get("public"):
        page.check("#public")
    _submit(page, "/family/add")


def _player_link(page: Page, nickname: str) -> str:
    section = page.locator("section.tt-card", has_text=nickname)
    href = section.locator("a[href^='/family/players/']:not([href$='/check-in'])").get_attribute(
        "href"
    )
    assert href
    return href


def _points(page: Page, nickname: str) -> str:
    return page.locator("section.tt-card", has_text=nickname).locator(".tt-points").inner_text()


WORDS = {
    "en": {"replaced": "replaced", "done": "Done", "problem": "There is a problem"},
    "cy": {"replaced": "wedi’i newid", "done": "Wedi’i wneud", "problem": "Mae problem"},
}


@pytest.mark.parametrize("lang", ["en", "cy"])
def test_a_parents_journey_on_a_phone(browser: Browser, server: Server, lang: str) -> None:
    url = server.url
    slug = server.load_game()
    context = browser.new_context(viewport=PHONE, bypass_csp=True, accept_downloads=True)
    page = context.new_page()
    # The pages are the same on both backends: axe and screenshots once, on SQLite.
    check = Checker(page, f"{server.backend}-{lang}", active=server.backend == "sqlite")
    page.goto(url + "/")
    if lang == "cy":
        page.click("a[hreflang=cy]")
        page.wait_for_load_state()
    assert page.get_attribute("html", "lang") == lang
    check("games")
    page.click(f"a[href='/games/{slug}']")
    check("game")
    page.goto(url + "/privacy")
    check("privacy")
    page.goto(url + "/cookies")
    check("cookies")
    page.click("footer a[href='/family/accessibility']")
    assert page.get_attribute("html", "lang") == lang
    check("accessibility")
    page.goto(url + "/family/sign-in")
    _submit(page, "/family/sign-in")
    check("sign-in-error")
    page.goto(url + "/family/create")
    check("create")
    _submit(page, "/family/create")
    check("create-error")
    email = f"parent-{uuid.uuid4().hex[:8]}@example.org"
    page.check("input[name=kind][value=email]")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.fill("#confirm", PASSWORD)
    _submit(page, "/family/create")
    assert page.url.endswith("/family/?notice=created")
    check("home-empty")
    page.goto(url + "/family/add")
    check("add-choose-game")
    # A wrong activation code: named, and the good values kept.
    _add_card(page, slug, 4, "Swift Kestrel", "5-11", code="K999")
    assert page.input_value("#nickname") == "Swift Kestrel"
    assert WORDS[lang]["problem"] in page.content()
    check("add-error")
    _add_card(page, slug, 4, "Swift Kestrel", "5-11", "SCH1", public="yes")
    assert "notice=added" in page.url
    _add_card(page, slug, 5, "Bold Heron", "12-15", "SCH1")
    _add_card(page, slug, 6, "Walking Dad", "25-44", "COM1", join_code=COM1_JOIN_CODE)
    assert "notice=added" in page.url
    # The boxes upload a journey of Swift Kestrel's card: A, B, C = 20 points.
    start = datetime.now(UTC) - timedelta(hours=2)
    server.upload(slug, 4, [("A", start), ("B", start + timedelta(minutes=15))])
    server.upload(slug, 4, [("C", start + timedelta(minutes=40))])
    for _ in range(50):
        page.goto(url + "/family/")
        if _points(page, "Swift Kestrel") == "20":
            break
        page.wait_for_timeout(200)
    assert _points(page, "Swift Kestrel") == "20"
    assert page.locator("section.tt-card").count() == 3
    check("home")
    kid = _player_link(page, "Swift Kestrel")
    dad = _player_link(page, "Walking Dad")
    page.goto(url + kid)
    assert "Alpha" in page.content() and "Charlie" in page.content()
    check("player")
    # Change team.
    page.select_option("#team", "COM1")
    page.fill("#join_code", COM1_JOIN_CODE)
    _submit(page, f"{kid}/team")
    assert "notice=team" in page.url and "Canal Walkers" in page.content()
    check("player-team-changed")
    # A lost card: a mistake first, then card 7.
    _submit(page, f"{kid}/card")
    check("player-card-error")
    page.fill("#new_card_number", "0000007")
    page.fill("#new_activation_code", "K007")
    _submit(page, f"{kid}/card")
    assert "notice=replaced" in page.url
    assert "0000007" in page.content() and WORDS[lang]["replaced"] in page.content()
    assert page.locator(".tt-points").inner_text() == "20"
    # The survey: a parent answers for the child, who is not asked the adults' questions.
    page.click(f"a[href='{kid}/surveys/1']")
    assert page.locator("input[name=life_satisfaction]").count() == 0
    assert page.is_checked("input[name=answered_by][value=parent_or_carer]")
    # A scale's answers sit in a row: "3 days" beside "2 days", even on a phone.
    boxes = [page.locator(f"label[for='activity_days-{i}']").bounding_box() for i in (3, 4)]
    assert boxes[0] and boxes[1] and abs(boxes[0]["y"] - boxes[1]["y"]) < 5
    check("survey")
    page.check("input[name=activity_days][value='3']")
    page.check("input[name=belonging][value=prefer_not_to_say]")
    _submit(page, f"{kid}/surveys/1")
    assert "notice=survey" in page.url
    check("survey-saved")
    page.goto(url + dad + "/surveys/1")
    assert page.locator("input[name=life_satisfaction]").count() == 12
    _submit(page, f"{dad}/surveys/1")
    check("survey-error")
    page.goto(url + kid + "/remove")
    check("remove")
    page.goto(url + "/family/players/2147483000")
    check("not-found")
    # The data, downloaded.
    page.goto(url + "/family/data")
    check("data")
    with page.expect_download() as got:
        page.click("a[href='/family/data.json']")
    data = json.loads(Path(got.value.path()).read_text())
    assert data["account"]["email"] == email
    assert {p["nickname"] for p in data["players"]} == {
        "Swift Kestrel",
        "Bold Heron",
        "Walking Dad",
    }
    kestrel = next(p for p in data["players"] if p["nickname"] == "Swift Kestrel")
    assert [a["answers"]["activity_days"] for a in kestrel["survey_answers"]] == [3]
    with page.expect_download() as got:
        page.click("a[href='/family/data.csv']")
    rows = Path(got.value.path()).read_text().splitlines()
    assert rows[0].startswith("game,player_id,nickname") and len(rows) == 1 + 3 + 2
    # Signing out and in again.
    page.goto(url + "/family/sign-out")
    check("sign-out")
    _submit(page, "/family/sign-out")
    check("signed-out")
    page.fill("#name", email)
    page.fill("#password", "not the password at all")
    _submit(page, "/family/sign-in")
    check("sign-in-wrong")
    page.fill("#password", PASSWORD)
    _submit(page, "/family/sign-in")
    assert page.url.endswith("/family/")
    # Deleting the account.
    page.goto(url + "/family/delete")
    check("delete")
    _submit(page, "/family/delete")
    assert "notice=deleted" in page.url
    check("deleted")
    page.goto(url + "/family/")
    assert "/family/sign-in" in page.url
    # A player of 13 or over: an account code and a recovery code, no e-mail address.
    page.goto(url + "/family/create")
    page.check("input[name=kind][value=code]")
    page.check("#age_13")
    page.fill("#password", PASSWORD)
    page.fill("#confirm", PASSWORD)
    _submit(page, "/family/create")
    assert re.fullmatch(r"[A-Z0-9-]+", page.inner_text("#account-code").strip())
    check("codes")
    page.goto(url + "/family/recover")
    check("recover")
    context.close()
    assert check.found == []
    assert check.errors == []


def _tab_to(page: Page, element_id: str, limit: int = 30) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == element_id:
            return
    raise AssertionError(f"Tab never reached #{element_id}")


def test_signing_in_and_registering_a_card_with_the_keyboard_alone(
    browser: Browser, server: Server
) -> None:
    url = server.url
    slug = server.load_game()
    email = f"keys-{uuid.uuid4().hex[:8]}@example.org"
    setup = browser.new_context(viewport=PHONE)
    maker = setup.new_page()
    maker.goto(url + "/family/create")
    maker.check("input[name=kind][value=email]")
    maker.fill("#email", email)
    maker.fill("#password", PASSWORD)
    maker.fill("#confirm", PASSWORD)
    _submit(maker, "/family/create")
    setup.close()

    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.goto(f"{url}/family/sign-in")
    _tab_to(page, "name", limit=10)
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "password"
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{url}/family/")
    # From the game's page, its "Register a card" button, then the form.
    page.goto(f"{url}/games/{slug}")
    for _ in range(20):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.getAttribute('href')") == (
            f"/family/add?game={slug}"
        ):
            break
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/family/add\?game=.*"))
    _tab_to(page, "card_number")
    page.keyboard.type("0000008")
    page.keyboard.press("Tab")
    page.keyboard.type("K008")
    page.keyboard.press("Tab")
    page.keyboard.type("Quiet Fox")
    page.keyboard.press("Tab")  # the first age band
    page.keyboard.press("ArrowDown")  # 5 to 11
    page.keyboard.press("Tab")  # the first gender
    page.keyboard.press("ArrowUp")  # wraps to the last: prefer not to say
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "team"
    page.keyboard.press("ArrowDown")  # the first team in the list
    _tab_to(page, "public")
    page.keyboard.press("Space")
    _tab_to(page, "show_nickname")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.type") == "submit"
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*notice=added"))
    assert "Quiet Fox" in page.content()
    card: Any = page.locator("section.tt-card", has_text="Quiet Fox")
    assert card.count() == 1
    context.close()


CHECKIN_WORDS = {
    "en": {"started": "your journey has started", "far": "from the nearest box", "using": "Using"},
    "cy": {"started": "mae eich taith wedi dechrau", "far": "o’r blwch agosaf", "using": "Wrthi"},
}


@pytest.mark.parametrize("lang", ["en", "cy"])
def test_a_teenager_checks_in_by_phone(browser: Browser, server: Server, lang: str) -> None:
    """A 13-year-old without a card registers to play by phone, then checks in with an
    emulated position: refused too far away, counted at the box; the sign shows while the
    location is being found; location refused by the browser is explained."""

    url = server.url
    slug = server.load_game()
    far = offset(*A, 200, 0)
    context = browser.new_context(
        viewport=PHONE,
        geolocation={"latitude": far[0], "longitude": far[1], "accuracy": 10},
        permissions=["geolocation"],
        bypass_csp=True,  # for axe; the page's own script is from this server
    )
    # The position comes a moment after it is asked for, as on a real phone.
    context.add_init_script(
        """(() => { const get = navigator.geolocation.getCurrentPosition.bind(
        navigator.geolocation); navigator.geolocation.getCurrentPosition = (ok, bad, o) =>
        setTimeout(() => get(ok, bad, o), 700); })()"""
    )
    page = context.new_page()
    check = Checker(page, f"{server.backend}-{lang}-checkin", active=server.backend == "sqlite")
    page.goto(url + "/family/create")
    if lang == "cy":
        page.click("a[hreflang=cy]")
        page.wait_for_load_state()
    page.check("input[name=kind][value=code]")
    page.check("#age_13")
    page.fill("#password", PASSWORD)
    page.fill("#confirm", PASSWORD)
    _submit(page, "/family/create")
    page.goto(url + f"/family/add?game={slug}")
    page.click("a[href$='kind=phone']")
    page.wait_for_load_state()
    assert page.locator("#card_number").count() == 0
    check("add-phone")
    page.fill("#nickname", "Nimble Hare")
    page.check("input[name=age_band][value='12-15']")
    page.check("input[name=gender][value=prefer_not_to_say]")
    _submit(page, "/family/add")
    check("add-phone-error")  # 12 to 15 without "13 or over"
    page.check("#age_13_or_over")
    _submit(page, "/family/add")
    assert "notice=added" in page.url
    page.click("a[href$='/check-in']")
    page.wait_for_load_state()
    check("checkin")
    page.click("#checkin-button")
    page.wait_for_function("document.getElementById('checkin-status').textContent.length > 0")
    assert page.locator("#checkin-status").is_visible()
    assert CHECKIN_WORDS[lang]["using"] in page.inner_text("#checkin-status")
    page.wait_for_selector("#checkin-result")
    assert CHECKIN_WORDS[lang]["far"] in page.inner_text("#checkin-result")
    assert "200" in page.inner_text("#checkin-result")
    check("checkin-too-far")
    context.set_geolocation({"latitude": A[0], "longitude": A[1], "accuracy": 8})
    page.click("#checkin-button")
    page.wait_for_url(re.compile(r".*/check-in$"))
    page.wait_for_selector(".govuk-panel #checkin-result, #checkin-result.govuk-panel")
    assert CHECKIN_WORDS[lang]["started"] in page.inner_text("#checkin-result")
    check("checkin-counted")
    # The browser refuses location: nothing is sent, and the page says what to do.
    context.clear_permissions()
    page.goto(page.url)
    page.click("#checkin-button")
    page.wait_for_selector(".tt-locating--problem")
    assert page.locator(".tt-locating--problem").is_visible()
    check("checkin-denied")
    context.close()
    assert check.found == []
    assert check.errors == []
