"""Pages without a front-end build: a live board for a hall screen and a checkpoint map.

The HTML is a static file with a few escaped values filled in (slug, API base, tile URL);
everything else comes from the JSON API and the live socket, and scripts insert text into
the DOM only as text. A strict Content-Security-Policy backs that up: scripts and styles
from this server only, and connections (the JSON API, the live socket) only to the page's
own origin: in CSP Level 3 'self' also covers ws:/wss: to the same host and port, which is
what the board's socket uses.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

from api.app_state import AppState, app_state
from api.leaderboard import game_exists

router = APIRouter(include_in_schema=False)

STATIC_DIR = Path(__file__).parent / "static"
ASSET_ROUTE = "/static/leaderboard"
_ASSETS = {p.name: p for p in STATIC_DIR.glob("*") if p.suffix in {".js", ".css", ".svg"}}
_MEDIA = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}
API_BASE = "/api/v1"


def tiles_url(state: AppState) -> str | None:
    """The map tile template (``TAPTRAIL_MAP_TILES_URL``, validated by the settings), or None
    when tiles are off."""
    return state.settings.map_tiles_url or None


def tile_sources(url: str) -> str:
    """The CSP sources of a tile template: its host, and any subdomain when it has ``{s}``."""
    parts = urlsplit(url.replace("{s}", "a"))
    sources = f"{parts.scheme}://{parts.netloc}"
    if "{s}" in url:
        sources += f" {parts.scheme}://*.{parts.netloc.split('.', 1)[1]}"
    return sources


def _csp(tiles_url: str | None) -> str:
    img = "'self' data:"
    if tiles_url:
        img += " " + tile_sources(tiles_url)
    return (
        "default-src 'none'; script-src 'self'; style-src 'self'; "
        f"img-src {img}; connect-src 'self'; base-uri 'none'; frame-ancestors 'self'"
    )


def _page(request: Request, template: str, slug: str, tiles_url: str | None = None) -> Response:
    root = request.scope.get("root_path", "")
    values: dict[str, Any] = {
        "slug": slug,
        "api": root + API_BASE,
        "assets": root + ASSET_ROUTE,
        "tiles": tiles_url or "",
    }
    text = (STATIC_DIR / template).read_text(encoding="utf-8")
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", html.escape(str(value), quote=True))
    return HTMLResponse(text, headers={"Content-Security-Policy": _csp(tiles_url)})


def _missing(slug: str) -> HTMLResponse:
    body = (
        "<!doctype html><meta charset=utf-8><title>Not found</title>"
        f"<p>There is no game called “{html.escape(slug)}”.</p>"
    )
    return HTMLResponse(body, status_code=404)


@router.get("/games/{slug}/board", response_class=HTMLResponse)
async def board_page(request: Request, slug: str) -> Response:
    """Live leaderboard for a school-hall screen (?by=average&kind=school&rows=10&rotate=20)."""
    if not await game_exists(app_state(request), slug):
        return _missing(slug)
    return _page(request, "board.html", slug)


@router.get("/games/{slug}/map", response_class=HTMLResponse)
async def map_page(request: Request, slug: str) -> Response:
    """Checkpoints on a map; OpenStreetMap-style tiles behind them when configured."""
    if not await game_exists(app_state(request), slug):
        return _missing(slug)
    return _page(request, "map.html", slug, tiles_url(app_state(request)))


@router.get(ASSET_ROUTE + "/{name}")
async def asset(name: str) -> Response:
    path = _ASSETS.get(name)
    if path is None:
        return Response("not found", status_code=404, media_type="text/plain")
    return FileResponse(
        path, media_type=_MEDIA[path.suffix], headers={"Cache-Control": "public, max-age=300"}
    )
