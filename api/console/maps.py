"""Maps on console pages (Leaflet 1.9.4, vendored): the tile source and the page's CSP.

Tiles come from ``TAPTRAIL_MAP_TILES_URL``, the setting the public map page uses too
(OpenStreetMap by default, shown with its attribution); ``none`` turns them off and the map
draws the boxes on a blank background. Only a page with a map allows images from the tile
host. The map is an enhancement: every page lists its boxes in a table or a list of
checkboxes (the no-JavaScript and screen-reader version), and the script only draws what
that list says: each entry carries its box's ``data-lat`` and ``data-lon``.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from api import pages
from api.app_state import app_state
from api.console import web

LEAFLET = f"{web.ASSETS}/vendor/leaflet-1.9.4"
CHART_JS = f"{web.ASSETS}/vendor/chart.js-4.6.1/chart.umd.min.js"
ATTRIBUTION = "© OpenStreetMap contributors"


def tiles_url(request: Request) -> str | None:
    return pages.tiles_url(app_state(request))


def allow_tiles(response: Response, url: str | None) -> Response:
    """Lets the page load the map's tiles (images from the tile host), nothing else."""
    if url:
        sources = pages.tile_sources(url)
        csp = web.CSP.replace("img-src 'self' data:", f"img-src 'self' data: {sources}")
        response.headers["Content-Security-Policy"] = csp
    return response
