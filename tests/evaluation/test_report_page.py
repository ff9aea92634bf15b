"""The evaluation report page in headless Chromium (Debian's /usr/bin/chromium), served by a
real uvicorn process on a prepared SQLite database (the Burnley demo town)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet

from harness.servers import app_env, app_server
from tests.browser import ARGS, CHROMIUM, require_chromium
from tests.evaluation.report_town import SLUG, prepare

pytestmark = pytest.mark.browser

SHOT = Path("/tmp/taptrail-report.png")
PRINT_SHOT = Path("/tmp/taptrail-report-print.png")
ROOT = Path(__file__).resolve().parents[2]
REPORT_WAIT_MS = 30_000

require_chromium()

from playwright.sync_api import Browser, ConsoleMessage, Page, expect, sync_playwright  # noqa: E402


@dataclass
class Server:
    url: str
    token: str


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("report")
    key = Fernet.generate_key().decode()
    # in a thread of its own: the test session's event loop may be running here
    with ThreadPoolExecutor(1) as pool:
        token = pool.submit(asyncio.run, prepare(folder / "report.db", key)).result()
    env = app_env(
        database_url=f"sqlite+aiosqlite:///{folder / 'report.db'}",
        secret_key=key,
        periodic_jobs="false",
    )
    with app_server(env, folder / "server.log") as url:
        yield Server(url, token)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    problems: list[str] = []
    pg.on("pageerror", lambda exc: problems.append(str(exc)))

    def on_console(message: ConsoleMessage) -> None:
        # the wrong-token test provokes a 401 on purpose; anything else is a problem
        if message.type == "error" and "401" not in message.text:
            problems.append(message.text)

    pg.on("console", on_console)
    yield pg
    context.close()
    assert problems == []


def test_token_is_asked_for_and_a_wrong_one_refused(page: Page, server: Server) -> None:
    page.goto(f"{server.url}/games/{SLUG}/report")
    expect(page.locator("#token-panel")).to_be_visible()
    expect(page.locator("#report")).to_be_hidden()
    page.fill("#token-input", "tt_not-a-real-token")
    page.click("#token-form button[type=submit]")
    expect(page.locator("#token-error")).to_contain_text("not valid")
    expect(page.locator("#report")).to_be_hidden()
    assert page.evaluate(f"sessionStorage.getItem('taptrail-report-token:{SLUG}')") is None


def test_report_renders_charts_tables_and_suppression(page: Page, server: Server) -> None:
    page.goto(f"{server.url}/games/{SLUG}/report")
    page.fill("#token-input", server.token)
    page.click("#token-form button[type=submit]")
    # the first report of the server imports its statistics libraries: slow on a busy machine
    expect(page.locator("body")).to_have_attribute("data-state", "ready", timeout=REPORT_WAIT_MS)
    expect(page.locator("#title")).to_contain_text("Burnley Beat the Street (demo)")
    expect(page.locator("#area-text")).to_contain_text("Burnley (E07000117)")

    uptake = page.locator("section.uptake")
    expect(uptake.locator("svg rect")).to_have_count(10)  # 5 quintiles x (players, residents)
    expect(uptake.locator("table tbody tr")).to_have_count(7)
    expect(uptake.locator(".headline")).to_contain_text("most deprived 20%")
    expect(uptake.locator("p.sii")).to_contain_text("Slope index of inequality")

    activity = page.locator("section.activity")
    expect(activity.locator("h3")).to_have_count(2)
    expect(activity.locator("figure svg")).to_have_count(4)
    expect(activity.locator(".headline").first).to_contain_text("people answered both surveys")
    # the six-month follow-up has few answers: suppressed cells are shown as * with a note
    suppressed = page.locator("td .suppressed")
    assert suppressed.count() > 0
    expect(suppressed.first).to_have_text("*")
    expect(suppressed.first).to_have_attribute("title", "Suppressed to protect privacy")
    expect(page.locator("#notes-list")).to_contain_text("hidden to protect privacy")
    # nothing between 1 and 7 people is shown below whole-game level in the tables
    for cell in page.locator(
        "section.uptake tbody tr:not(.total) td:nth-child(2)"
    ).all_inner_texts():
        assert cell == "*" or cell == "0" or int(cell.replace(",", "")) >= 10, cell

    # the token stays in this tab only, and a reload keeps the report
    assert page.evaluate(f"sessionStorage.getItem('taptrail-report-token:{SLUG}')") == server.token
    page.reload()
    expect(page.locator("body")).to_have_attribute("data-state", "ready")

    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=str(SHOT), full_page=True)
    page.screenshot(path="/tmp/taptrail-report-top.png")
    page.emulate_media(media="print")
    page.screenshot(path=str(PRINT_SHOT), full_page=True)
    page.emulate_media(media="screen")

    with page.expect_download() as download:
        page.click("#download-csv")
    assert download.value.suggested_filename == f"{SLUG}-evaluation.csv"

    page.click("#forget")
    expect(page.locator("#token-panel")).to_be_visible()
    assert page.evaluate(f"sessionStorage.getItem('taptrail-report-token:{SLUG}')") is None


def _open_report(page: Page, server: Server) -> None:
    page.goto(f"{server.url}/games/{SLUG}/report")
    page.fill("#token-input", server.token)
    page.click("#token-form button[type=submit]")
    expect(page.locator("body")).to_have_attribute("data-state", "ready")


def _numbers(texts: list[str]) -> list[str]:
    return [t for t in texts if any(c.isdigit() for c in t)]


def test_every_reaim_and_instrument_section_shows_numbers(page: Page, server: Server) -> None:
    _open_report(page, server)
    expect(page.locator("#reaim .card")).to_have_count(5)
    for card in page.locator("#reaim .card .value").all_inner_texts():
        assert any(c.isdigit() for c in card), card
    for cls in ("reach", "ons4", "loneliness", "maintenance", "active-days", "adoption"):
        section = page.locator(f"section.{cls}")
        expect(section).to_have_count(1)
        cells = section.locator("td").all_inner_texts()
        assert len(_numbers(cells)) >= 5, (cls, cells[:20])
    expect(page.locator("section.ons4 h3")).to_have_count(4)
    expect(page.locator("section.implementation .headline")).to_contain_text("40 boxes")
    reach = page.locator("section.reach")
    expect(reach.locator("tbody tr")).to_have_count(5)
    # below whole-game level nothing between 1 and 7 people in the new tables either
    for cls in ("maintenance", "active-days"):
        first_counts = page.locator(f"section.{cls} tbody tr:not(.total) td:nth-child(2)")
        for cell in first_counts.all_inner_texts():
            assert cell in ("*", "0", "–") or int(cell.replace(",", "")) >= 10, (cls, cell)


def test_charts_download_as_svg_and_png(page: Page, server: Server) -> None:
    _open_report(page, server)
    figure = page.locator("section.uptake figure.chart").first
    with page.expect_download() as svg_download:
        figure.get_by_role("button", name="Download chart (SVG)").click()
    assert svg_download.value.suggested_filename.endswith(".svg")
    text = Path(svg_download.value.path()).read_text(encoding="utf-8")
    assert text.startswith("<svg") and "http://www.w3.org/2000/svg" in text and "<rect" in text
    with page.expect_download() as png_download:
        figure.get_by_role("button", name="Download chart (PNG)").click()
    assert png_download.value.suggested_filename.endswith(".png")
    assert Path(png_download.value.path()).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # every chart has its buttons, and print hides them with the other controls
    charts = page.locator("figure.chart").count()
    assert page.locator(".chart-tools").count() == charts > 10
    page.emulate_media(media="print")
    expect(page.locator(".chart-tools").first).to_be_hidden()
    expect(page.locator("nav.actions")).to_be_hidden()
    expect(page.locator("section.ons4 table").first).to_be_visible()
    assert (
        page.locator("figure.chart").first.evaluate("e => getComputedStyle(e).breakInside")
        == "avoid"
    )


def test_a_token_in_the_address_is_never_taken(page: Page, server: Server) -> None:
    page.goto(f"{server.url}/games/{SLUG}/report?token={server.token}")
    expect(page.locator("body")).to_have_attribute("data-state", "token")
    expect(page.locator("#token-panel")).to_be_visible()
    expect(page.locator("#report")).to_be_hidden()
    assert "token" not in page.url  # dropped from the address bar and history, unread
    assert page.evaluate(f"sessionStorage.getItem('taptrail-report-token:{SLUG}')") is None
    response = httpx.get(f"{server.url}/games/{SLUG}/report", timeout=5)
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert httpx.get(f"{server.url}/games/no-such-town/report", timeout=5).status_code == 404


def test_the_token_goes_only_in_a_header(page: Page, server: Server) -> None:
    sent: list[tuple[str, str | None]] = []
    page.on("request", lambda r: sent.append((r.url, r.headers.get("authorization"))))
    page.goto(f"{server.url}/games/{SLUG}/report")
    page.fill("#token-input", server.token)
    page.press("#token-input", "Enter")
    expect(page.locator("body")).to_have_attribute("data-state", "ready", timeout=REPORT_WAIT_MS)
    assert f"{server.url}/games/{SLUG}/report" == page.url
    assert sent and all(server.token not in url for url, _ in sent), sent
    with_token = [url for url, header in sent if header == f"Bearer {server.token}"]
    assert with_token and all("/reports/evaluation" in url for url in with_token), sent
