"""A game's map for families (``/games/{slug}/boxes``): the boxes on a Leaflet map over
the configured street tiles, and the same boxes as a list, which is the page without
JavaScript and for screen readers.

- Tiles come from ``TAPTRAIL_MAP_TILES_URL`` (none: no street map, the boxes on a plain
  background). They are fetched by the visitor's browser from the tile server, so the
  page's Content-Security-Policy allows images from that server only, and the map names
  the tiles' source (OpenStreetMap's attribution for its tiles).
- Each box is marked as in a park (tag ``park``), with bonus points now (a campaign on
  now that covers it: its boxes or tags, or every box), or not in the game at the moment;
  a box's name shows when its marker is tapped or reached with the keyboard.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.responses import Response

from api import pages
from api.app_state import app_state
from api.console import web as console_web
from api.deps import Session
from api.family import web
from game.models import Campaign, Checkpoint
from people import family_repository as repo

router = APIRouter(include_in_schema=False)
Slug = Annotated[str, PathParam(min_length=1, max_length=64)]
LEAFLET = f"{console_web.ASSETS}/vendor/leaflet-1.9.4"


@dataclass(frozen=True)
class Box:
    name: str
    lat: float
    lon: float
    park: bool
    active: bool
    bonus: str | None  # the campaign's name


def covers(campaign: Campaign, box: Checkpoint) -> bool:
    codes, tags = campaign.checkpoint_codes or [], campaign.checkpoint_tags or []
    if not codes and not tags:
        return True
    return box.code in codes or any(t in tags for t in box.tags or [])


def boxes_of(checkpoints: list[Checkpoint], campaigns: list[Campaign], now: datetime) -> list[Box]:
    on = [c for c in campaigns if c.starts_at <= now < c.ends_at]
    found = []
    for cp in checkpoints:
        active = (cp.active_from is None or cp.active_from <= now) and (
            cp.active_to is None or now < cp.active_to
        )
        bonus = next((c.name for c in on if covers(c, cp)), None) if active else None
        found.append(Box(cp.name, cp.lat, cp.lon, "park" in (cp.tags or []), active, bonus))
    return found


def _csp(tiles: str | None) -> str:
    if not tiles:
        return console_web.CSP
    parts = urlsplit(tiles.replace("{s}", "a"))
    hosts = f"{parts.scheme}://{parts.netloc}"
    if "{s}" in tiles:
        hosts += f" {parts.scheme}://*.{parts.netloc.split('.', 1)[1]}"
    return console_web.CSP.replace("img-src 'self' data:", f"img-src 'self' data: {hosts}")


@router.get("/games/{slug}/boxes")
async def game_map(request: Request, session: Session, slug: Slug) -> Response:
    game = await repo.game_by_slug(session, slug)
    if game is None:
        p = web.page(request)
        raise web.FamilyPageProblem(
            404, p._("Page not found"), p._("There is no game at this address.")
        )
    p = web.page(request, game.languages)
    now = web.now(request)
    tiles = pages.tiles_url(app_state(request))
    campaigns = list(await repo.campaigns_ending_after(session, game.id, now))
    boxes = boxes_of(list(await repo.checkpoints(session, game.id)), campaigns, now)
    response = p.render(
        "map.html",
        signed=await web.current(request, session),
        title=p._("Map of the boxes"),
        game=game,
        boxes=boxes,
        campaigns=[c for c in campaigns if c.starts_at <= now],
        tiles=tiles or "",
        osm="openstreetmap.org" in (tiles or ""),
        leaflet=LEAFLET,
    )
    response.headers["Content-Security-Policy"] = _csp(tiles)
    return response
