"""The Help desk, People, Draws, My team and Evaluation pages in headless Chromium (Debian's
/usr/bin/chromium) against a real server on each backend: axe-core finds no violation at 1280
and 390 px (on SQLite); finding a card and replacing it works with the keyboard alone; a
teacher invited by an organiser signs up and sees only their team; an evaluator downloads the
data package. Screenshots go to /tmp/taptrail-console/ for a person to look at."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from harness.game_files import game_file
from tests.staff.browser_helpers import SHOTS, axe, sign_in, tab_to
from tests.staff.conftest import ConsoleServer

pytestmark = pytest.mark.browser

EMAIL = "people.organiser@example.org"
SLUG = "people-town"


@pytest.fixture(scope="module")
def server(console_server: ConsoleServer) -> ConsoleServer:
    data = game_file(
        SLUG,
        players=[
            {"card": "0000001", "nickname": "Swift Fox", "age_band": "5-11", "team": "SCH1"},
            {"card": "0000002", "nickname": "Blue Heron", "age_band": "5-11", "team": "SCH1"},
            {"card": "0000004", "nickname": "Canal Kate", "age_band": "25-44", "team": "COM1"},
        ],
    )
    data["game"]["starts_at"] = "2026-01-05T00:00:00+00:00"  # days in the past can be drawn
    data["game"]["ends_at"] = "2030-01-05T00:00:00+00:00"
    console_server.add_game(data, EMAIL)
    out = console_server.folder / "people-export"
    console_server.cli("export", SLUG, "--project", "study", "--create", "--out", str(out))
    return console_server


def _invite(page: Page, url: str, email: str, role: str, team: str = "") -> str:
    page.goto(url + "/console/staff")
    page.fill("#email", email)
    page.check(f"#role-{role}")
    page.select_option("#game", SLUG)
    if team:
        page.fill("#team", team)
    page.click("form[action='/console/staff/invitations'] button[type=submit]")
    page.wait_for_url(re.compile(r".*notice=.*"))
    return page.locator("input[id^=invite-]").last.input_value()


def _accept(page: Page, link: str, password: str) -> None:
    page.goto(link)
    page.fill("#password", password)
    page.fill("#confirm", password)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/console/$"))


@pytest.mark.parametrize("width", [1280, 390])
def test_the_pages_have_no_axe_violations_and_the_journeys_work(
    browser: Browser, server: ConsoleServer, width: int
) -> None:
    url, base = server.url, f"{server.url}/console/games/{SLUG}"
    shots = f"people-{width}"
    context = browser.new_context(viewport={"width": width, "height": 900}, bypass_csp=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    found: list[str] = []

    def visit(page: Page, path: str, name: str) -> None:
        page.goto(path)
        found.extend(axe(page, f"{shots}-{name}", server))

    sign_in(page, url, EMAIL)
    found.extend(axe(page, f"{shots}-home", server))
    visit(page, base + "/help-desk?card=1", "helpdesk")
    visit(page, base + "/help-desk?card=999", "helpdesk-missing")
    visit(page, base + "/people", "people")
    visit(page, base + "/people?find=swift", "people-found")
    visit(page, base + "/people/teams/SCH1", "people-team")
    page.goto(base + "/people?find=0000002")
    page.click("#found a")
    found.extend(axe(page, f"{shots}-player", server))
    page.click("form[action$='/erase'] button[type=submit]")
    found.extend(axe(page, f"{shots}-player-error", server))
    visit(page, base + "/draws", "draws")
    page.fill("#date", "06/01/2026")
    page.click("form[action$='/draws/run'] button[type=submit]")
    found.extend(axe(page, f"{shots}-draws-run", server))
    page.fill("#date", "01/01/2035")
    page.click("form[action$='/draws/run'] button[type=submit]")
    found.extend(axe(page, f"{shots}-draws-error", server))
    visit(page, base + "/evaluation", "evaluation-organiser")

    # A teacher invited by the organiser signs up and sees only their team.
    teacher_link = _invite(page, url, f"teacher-{width}@example.org", "team_manager", "SCH1")
    teacher_ctx = browser.new_context(viewport={"width": width, "height": 900}, bypass_csp=True)
    teacher = teacher_ctx.new_page()
    _accept(teacher, teacher_link, "teacher sturdy kettle 8")
    teacher.goto(url + "/console/my-team")
    teacher.wait_for_url(url + "/console/my-team")
    found.extend(axe(teacher, f"{shots}-my-team", server))
    text = teacher.content()
    assert "Alpha Primary" in text and "Swift Fox" in text and "Canal Kate" not in text
    teacher.goto(base + "/people")
    assert "This page is for organisers" in teacher.content()
    teacher.goto(url + "/console/my-team")
    teacher.click("a:has-text('Open the live board')")
    teacher.wait_for_url(re.compile(r".*/board\?kind=school&team=SCH1"))
    teacher.wait_for_selector("li.row.mine", timeout=10000)
    teacher_ctx.close()

    # An evaluator invited by the organiser reads the report and downloads the package.
    evaluator_link = _invite(page, url, f"evaluator-{width}@example.org", "evaluator")
    ev_ctx = browser.new_context(
        viewport={"width": width, "height": 900}, bypass_csp=True, accept_downloads=True
    )
    evaluator = ev_ctx.new_page()
    _accept(evaluator, evaluator_link, "evaluator sturdy kettle 8")
    visit(evaluator, base + "/evaluation", "evaluation-evaluator")
    with evaluator.expect_download() as download:
        evaluator.click("a:has-text('Data package, CSV')")
    saved = Path(download.value.path())
    with zipfile.ZipFile(saved) as archive:
        assert "datapackage.json" in archive.namelist()
    evaluator.goto(base + "/evaluation/report")
    evaluator.wait_for_selector("#report:not([hidden])", timeout=15000)
    SHOTS.mkdir(exist_ok=True)
    evaluator.screenshot(path=str(SHOTS / f"{shots}-report.png"), full_page=True)
    assert evaluator.locator("#token-panel").is_hidden()
    ev_ctx.close()
    context.close()
    assert found == []
    assert errors == [], errors


def test_finding_and_replacing_a_card_with_the_keyboard_alone(
    browser: Browser, server: ConsoleServer
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    sign_in(page, server.url, EMAIL)

    tab_to(page, "document.activeElement.textContent.trim().startsWith('Help desk')")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{server.url}/console/games/{SLUG}/help-desk")
    tab_to(page, "document.activeElement.id === 'card'")
    page.keyboard.type("5")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*help-desk\?card=5"))
    assert "Card 0000005" in page.content()
    tab_to(page, "document.activeElement.id === 'new_card'")
    page.keyboard.type("6")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*notice=replaced.*"))
    assert "Card 0000006" in page.content() and "0000005" in page.content()
    context.close()
