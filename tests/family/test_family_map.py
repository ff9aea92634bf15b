"""The family map of a game's boxes in headless Chromium, on each backend, with street tiles
from a local HTTPS tile server started by the test (the tile setting takes any
``https://…/{z}/{x}/{y}.png`` template; OpenStreetMap is only the default).

- With tiles: the map asks the tile server for ``/{z}/{x}/{y}.png`` tiles under the page's
  real Content-Security-Policy, draws them, names OpenStreetMap with a link to its copyright
  page; a box's name shows on tap and by keyboard; axe at 390 and 1280 px, in English and
  Welsh; screenshots in /tmp/family-shots/.
- With tiles configured off (``none``): no tile is requested, no attribution, the boxes on
  a plain background with a note saying so.
- Without JavaScript the list of boxes is the page."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests.browser import require_chromium
from tests.family.browser_support import (
    PHONE,
    SHOTS,
    TILE_PATH,
    Checker,
    Server,
    TileServer,
    serve,
    tile_server,
)

pytestmark = pytest.mark.browser

require_chromium()  # with TAPTRAIL_REQUIRE_SERVICES=1 a missing Chromium fails

from playwright.sync_api import Browser, Page  # noqa: E402

ATTRIBUTION = {"en": "© OpenStreetMap contributors", "cy": "© cyfranwyr OpenStreetMap"}
COPYRIGHT = "https://www.openstreetmap.org/copyright"
# Anything but this machine is refused: no tile ever comes from the internet in a test.
ELSEWHERE = re.compile(r"^https?://(?!127\.0\.0\.1[:/])")


@pytest.fixture(scope="module")
def tiles(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TileServer]:
    with tile_server(tmp_path_factory.mktemp("tiles")) as running:
        yield running


@pytest.fixture(scope="module")
def server(
    backend: str, database_url: str, tiles: TileServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp(f"family-map-{backend}")
    with serve(backend, database_url, folder, {"TAPTRAIL_MAP_TILES_URL": tiles.template}) as s:
        yield s


def _open_map(page: Page, url: str, slug: str, lang: str) -> None:
    page.goto(f"{url}/games/{slug}")
    if lang == "cy":
        page.click("a[hreflang=cy]")
        page.wait_for_load_state()
    page.click(f"a[href='/games/{slug}/boxes']")
    page.wait_for_selector(".leaflet-marker-icon")


@pytest.mark.parametrize("lang", ["en", "cy"])
def test_the_map_shows_street_tiles_from_the_tile_server(
    browser: Browser, server: Server, tiles: TileServer, lang: str
) -> None:
    slug = server.load_game()
    asked_before = len(tiles.requested)
    # The page's own Content-Security-Policy (not bypassed) must let the tiles in.
    context = browser.new_context(viewport=PHONE, ignore_https_errors=True)
    context.route(ELSEWHERE, lambda route: route.abort())
    page = context.new_page()
    _open_map(page, server.url, slug, lang)
    page.wait_for_function(
        "() => { const t = document.querySelectorAll('img.leaflet-tile-loaded');"
        " return t.length >= 4 && [...t].every(i => i.complete && i.naturalWidth === 256); }"
    )
    asked = tiles.requested[asked_before:]
    assert len(asked) >= 4 and all(TILE_PATH.match(path) for path in asked), asked
    zooms = {int(TILE_PATH.match(path)[1]) for path in asked}  # type: ignore[index]
    assert zooms and all(10 <= z <= 16 for z in zooms), zooms
    drawn = page.locator("img.leaflet-tile-loaded").first.get_attribute("src") or ""
    assert drawn.startswith(tiles.template.split("{z}")[0]), drawn
    credit = page.locator(f".leaflet-control-attribution a[href='{COPYRIGHT}']")
    assert credit.is_visible() and credit.inner_text() == ATTRIBUTION[lang]
    assert page.locator(".tt-map-note").count() == 0
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{server.backend}-{lang}-map-tiles-390.png"))
    context.close()


@pytest.mark.parametrize("lang", ["en", "cy"])
def test_the_map_of_the_boxes_on_a_phone(browser: Browser, server: Server, lang: str) -> None:
    """The map with Leaflet at 390 px: a box's name on tap and by keyboard, the list below;
    without JavaScript the list is the page."""
    url = server.url
    slug = server.load_game()
    # CSP bypassed only so that axe can be added to the page.
    context = browser.new_context(viewport=PHONE, bypass_csp=True, ignore_https_errors=True)
    context.route(ELSEWHERE, lambda route: route.abort())
    page = context.new_page()
    check = Checker(page, f"{server.backend}-{lang}-map", active=server.backend == "sqlite")
    _open_map(page, url, slug, lang)
    assert page.locator(".leaflet-marker-icon").count() == 4
    assert page.locator("li.tt-box").count() == 4
    page.click(".leaflet-marker-icon[title='Park gate']")
    assert "Park gate" in page.inner_text(".leaflet-popup-content")
    page.wait_for_selector("img.leaflet-tile-loaded")
    check("map")
    # By keyboard: Tab reaches a marker, Enter shows its name.
    page.reload()
    page.wait_for_selector(".leaflet-marker-icon")
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('leaflet-marker-icon')"):
            break
    name = page.evaluate("document.activeElement.title")
    assert name
    page.keyboard.press("Enter")
    page.wait_for_selector(".leaflet-popup-content")
    assert name in page.inner_text(".leaflet-popup-content")
    box = page.locator("#map").bounding_box()
    assert box and box["width"] <= 390 and box["height"] >= 280
    context.close()
    assert check.found == []
    assert check.errors == []
    # Without JavaScript: no map, the list of boxes.
    bare = browser.new_context(viewport=PHONE, java_script_enabled=False)
    plain = bare.new_page()
    plain.goto(f"{url}/games/{slug}/boxes")
    assert not plain.locator("#map").is_visible()
    assert plain.locator("li.tt-box").count() == 4
    bare.close()


def test_no_tile_is_requested_when_tiles_are_off(
    browser: Browser,
    server: Server,
    tiles: TileServer,
    backend: str,
    database_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    folder = tmp_path_factory.mktemp(f"family-no-tiles-{backend}")
    with serve(backend, database_url, folder, {"TAPTRAIL_MAP_TILES_URL": "none"}) as off:
        slug = server.load_game()  # the same database: the game is on both servers
        asked_before = len(tiles.requested)
        context = browser.new_context(viewport=PHONE, ignore_https_errors=True)
        context.route(ELSEWHERE, lambda route: route.abort())
        page = context.new_page()
        images: list[str] = []
        page.on("request", lambda r: images.append(r.url) if r.resource_type == "image" else None)
        _open_map(page, off.url, slug, "en")
        page.wait_for_load_state("networkidle")
        assert page.locator(".leaflet-marker-icon").count() == 4
        assert page.locator(".leaflet-tile").count() == 0
        assert page.locator(f"a[href='{COPYRIGHT}']").count() == 0
        assert page.locator(".tt-map-note").is_visible()
        assert tiles.requested[asked_before:] == []
        assert not [u for u in images if TILE_PATH.search(u.split("127.0.0.1", 1)[-1])]
        policy = page.evaluate(
            "fetch(location.href).then(r => r.headers.get('content-security-policy'))"
        )
        assert "img-src 'self' data:;" in policy
        SHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{backend}-map-no-tiles-390.png"))
        context.close()
