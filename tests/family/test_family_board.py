"""The hall board (``/games/{slug}/board``) in headless Chromium on each backend, in English
and in Welsh: the language from the switch on the board itself (or ``Accept-Language``),
the team of ``?team=CODE`` highlighted, the live rows and every word the script writes in
the page's language; axe-core at 1280 and 390 px. Screenshots in /tmp/family-shots/."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from tests.browser import require_chromium
from tests.family.browser_support import PHONE, WIDE, Checker, Server, serve

pytestmark = pytest.mark.browser

require_chromium()  # with TAPTRAIL_REQUIRE_SERVICES=1 a missing Chromium fails

from playwright.sync_api import Browser, expect  # noqa: E402

WORDS = {
    "en": {"live": "Live", "title": "Team points", "pause": "Pause updates", "unit": "pts"},
    "cy": {
        "live": "Byw",
        "title": "Pwyntiau’r timau",
        "pause": "Oedi’r diweddariadau",
        "unit": "pwynt",
    },
}


@pytest.fixture(scope="module")
def server(
    backend: str, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    with serve(backend, database_url, tmp_path_factory.mktemp(f"board-{backend}")) as running:
        yield running


@pytest.mark.parametrize("lang", ["en", "cy"])
def test_the_hall_board_in_each_language(browser: Browser, server: Server, lang: str) -> None:
    slug = server.load_game()
    start = datetime.now(UTC) - timedelta(hours=3)
    server.upload(slug, 1, [("A", start), ("B", start + timedelta(minutes=15))])
    context = browser.new_context(viewport=WIDE, bypass_csp=True)  # axe is added to the page
    page = context.new_page()
    check = Checker(page, f"{server.backend}-{lang}-board", active=True)
    board = f"{server.url}/games/{slug}/board?team=SCH1"
    page.goto(board)
    if lang == "cy":  # the board's own switch, back to the same board and team
        page.click("a[hreflang=cy]")
        page.wait_for_load_state()
        assert page.url == board
    assert page.get_attribute("html", "lang") == lang
    words = WORDS[lang]
    expect(page.locator("#status-text")).to_have_text(words["live"])
    expect(page.locator("#board-title")).to_have_text(words["title"])
    rows = page.locator("#board .row")
    expect(rows.first).to_be_visible()
    mine = page.locator("#board .row.mine")
    expect(mine).to_have_count(1)
    assert mine.get_attribute("aria-current") == "true"
    expect(rows.first.locator(".unit")).to_have_text(words["unit"])
    expect(page.locator("#pause")).to_have_text(words["pause"])
    expect(page.locator("#updated")).not_to_be_empty()
    if lang == "cy":
        shown = page.inner_text("body")
        english = re.findall(r"\b(Live|Updated|active members?|Pause|Leaderboard|pts)\b", shown)
        assert english == [], english
    check("board")
    page.set_viewport_size(PHONE)
    page.screenshot(path=f"/tmp/family-shots/{server.backend}-{lang}-board-390-top.png")
    context.close()
    print("\n".join(check.found))
    assert check.found == []
    assert check.errors == []
