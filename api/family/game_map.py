"""A game's map for families (``/games/{slug}/boxes``): the boxes on a Leaflet map over
the configured street tiles, and the same boxes as a list, which is the page without
JavaScript and for screen readers.

- Tiles come from ``TAPTRAIL_MAP_TILES_URL`` (none: no street map, the boxes on a plain
  background). They are fetched by the visitor's browser from the tile server, so the
  page's Content-Security-Policy allows images from that server only, and the map names
  the map data's source with OpenStreetMap's attribution (linked to its copyright page),
  as the setting promises for any tile server.
- Each box is marked as in a park (tag ``park``), with bonus points now (a campaign on
  now that covers it: its boxes or tags, or every box), or not in the game at the moment;
  a box's name shows when its marker is tapped or reached with the keyboard.

This is the game's one map page: the older ``/games/{slug}/map`` redirects here for good
(301), so links and bookmarks to it keep working.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.responses import RedirectResponse, Response

from api import pages
from api.app_state import app_state
from api.console import web as console_web
from api.deps import Now, Session
from api.family import web
from game.models import Campaign, Checkpoint
from people import family_repository as repo

router = APIRouter(include_in_schema=False)
Slug = Annotated[str, PathParam(min_length=1, max_length=64)]


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
    hosts = pages.tile_sources(tiles)
    return console_web.CSP.replace("img-src 'self' data:", f"img-src 'self' data: {hosts}")


def _missing(request: Request) -> web.FamilyPageProblem:
    p = web.page(request)
    return web.FamilyPageProblem(
        404, p._("Page not found"), p._("There is no game at this address.")
    )


@router.get("/games/{slug}/map")
async def old_map(request: Request, session: Session, slug: Slug) -> Response:
    """The map's former address: moved permanently to ``/games/{slug}/boxes``."""
    game = await repo.game_by_slug(session, slug)
    if game is None:
        raise _missing(request)
    root = request.scope.get("root_path", "")
    return RedirectResponse(f"{root}/games/{game.slug}/boxes", status_code=301)


@router.get("/games/{slug}/boxes")
async def game_map(request: Request, session: Session, slug: Slug, now: Now) -> Response:
    game = await repo.game_by_slug(session, slug)
    if game is None:
        raise _missing(request)
    p = web.page(request, game.languages)
    tiles = pages.tiles_url(app_state(request))
    campaigns = list(await repo.campaigns_ending_after(session, game.id, now))
    boxes = boxes_of(list(await repo.checkpoints(session, game.id)), campaigns, now)
    response = p.render(
        "map.html",
        signed=await web.current(request, session, now),
        title=p._("Map of the boxes"),
        game=game,
        boxes=boxes,
        campaigns=[c for c in campaigns if c.starts_at <= now],
        tiles=tiles or "",
        leaflet=web.LEAFLET,
    )
    response.headers["Content-Security-Policy"] = _csp(tiles)
    return response
