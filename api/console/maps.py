"""Maps on console pages (Leaflet 1.9.4, vendored): the tile source and the page's CSP.

Tiles come from ``TAPTRAIL_CONSOLE_MAP_TILES_URL`` (OpenStreetMap by default, shown with its
attribution); ``none`` (or empty) turns them off and the map draws the boxes on a blank
background. Only a page with a map allows images from the tile host. The map is an
enhancement: every page lists its boxes in a table (the no-JavaScript and screen-reader
version), and the script only draws what that table says: each row carries its box's
``data-lat`` and ``data-lon``.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import Request
from fastapi.responses import Response

from api.console import web

LEAFLET = f"{web.ASSETS}/vendor/leaflet-1.9.4"
CHART_JS = f"{web.ASSETS}/vendor/chart.js-4.6.1/chart.umd.min.js"
OFF = {"", "none", "off", "false", "no"}
ATTRIBUTION = "© OpenStreetMap contributors"


def tiles_url(request: Request) -> str | None:
    value = str(getattr(request.app.state.settings, "console_map_tiles_url", "") or "")
    if value.strip().lower() in OFF or not value.startswith("https://"):
        return None
    return value


def tile_hosts(url: str) -> str:
    """The CSP sources of a tile template (``{s}`` stands for any subdomain)."""
    parts = urlsplit(url.replace("{s}", "a"))
    if "{s}" in url:
        return f"{parts.scheme}://*.{parts.netloc.split('.', 1)[1]}"
    return f"{parts.scheme}://{parts.netloc}"


def allow_tiles(response: Response, url: str | None) -> Response:
    """Lets the page load the map's tiles (images from the tile host), nothing else."""
    if url:
        csp = web.CSP.replace("img-src 'self' data:", f"img-src 'self' data: {tile_hosts(url)}")
        response.headers["Content-Security-Policy"] = csp
    return response
