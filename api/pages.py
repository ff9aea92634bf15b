"""The hall board's static files (``/static/leaderboard/``) and the map tile setting that
every map page reads (``tiles_url``, ``tile_sources`` for a page's CSP).

The board page itself is ``api/family/board.py``, in the visitor's language among the
game's; its rows come from the JSON API and the live socket, and its script inserts text
into the DOM only as text.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from fastapi import APIRouter
from fastapi.responses import FileResponse, Response

from api.app_state import AppState

router = APIRouter(include_in_schema=False)

STATIC_DIR = Path(__file__).parent / "static"
ASSET_ROUTE = "/static/leaderboard"
_ASSETS = {p.name: p for p in STATIC_DIR.glob("*") if p.suffix in {".js", ".css", ".svg"}}
_MEDIA = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}
DEFAULT_API_BASE = "/api/v1"


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


@router.get(ASSET_ROUTE + "/{name}")
async def asset(name: str) -> Response:
    path = _ASSETS.get(name)
    if path is None:
        return Response("not found", status_code=404, media_type="text/plain")
    return FileResponse(
        path, media_type=_MEDIA[path.suffix], headers={"Cache-Control": "public, max-age=300"}
    )
