"""The family site's public pages: the games of this installation (``/``), a game's home
(``/games/{slug}``), the language switch, the privacy and cookie notices, the site's
accessibility statement (``/family/accessibility``; ``/accessibility`` is the console's),
and the site's static files and web-app manifest. Nothing here needs an account."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, Response

from api.deps import Now, Session
from api.family import i18n, web
from game.models import Game
from people import family_repository as repo
from people import views

router = APIRouter(include_in_schema=False)

# The site's own files, and the vendored libraries its pages use (each in a folder named
# with its version, so a file's address never serves two contents).
_FILES = {p.name: p for p in (web.STATIC / "family").glob("*") if p.is_file()} | {
    p.relative_to(web.STATIC).as_posix(): p
    for folder in (web.GOVUK, web.LEAFLET)
    for p in (web.STATIC / "vendor" / folder.rsplit("/", 1)[1]).rglob("*")
    if p.is_file()
}
_MEDIA = {
    ".css": "text/css",
    ".js": "text/javascript",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}
FOREVER = "public, max-age=31536000, immutable"
Slug = Annotated[str, PathParam(min_length=1, max_length=64)]
YEAR = 365 * 24 * 3600


def local(moment: datetime, game: Game) -> datetime:
    return moment.astimezone(ZoneInfo(game.timezone))


@router.get(web.ASSETS + "/{name:path}")
async def family_asset(request: Request, name: str) -> Response:
    """A static file. Cached for a year when its address cannot serve another content: a
    vendored library's versioned folder, or ``?v=`` the file's current fingerprint."""
    path = _FILES.get(name)
    if path is None or path.suffix not in _MEDIA:
        return Response("not found", status_code=404, media_type="text/plain")
    lasting = name.startswith("vendor/") or request.query_params.get("v") == web.fingerprint(name)
    cache = FOREVER if lasting else "public, max-age=3600"
    return FileResponse(path, media_type=_MEDIA[path.suffix], headers={"Cache-Control": cache})


@router.get("/manifest.webmanifest")
async def manifest(request: Request) -> Response:
    p = web.page(request)
    body = {
        "name": p._("Taptrail: walk, cycle and tap"),
        "short_name": "Taptrail",
        "lang": p.language,
        "start_url": "/family/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#0b0c0c",
        "icons": [{"src": web.asset("icon.svg"), "sizes": "any", "type": "image/svg+xml"}],
    }
    return Response(
        json.dumps(body, ensure_ascii=False),
        media_type="application/manifest+json",
        headers={"Cache-Control": "public, max-age=3600"},
    )


@router.get("/language/{code}")
async def switch_language(request: Request, code: str) -> Response:
    """The language switch: remembers the choice in a strictly necessary cookie."""
    target = web.safe_next(request.query_params.get("next"), "/")
    response = web.redirect(target)
    if code in i18n.LANGUAGES:
        web.set_cookie(request, response, i18n.COOKIE, code, max_age=YEAR)
    return response


@router.get("/")
async def games_list(request: Request, session: Session, now: Now) -> Response:
    p = web.page(request)
    signed = await web.current(request, session, now)
    games = await repo.games(session)
    return p.render(
        "games.html",
        signed=signed,
        title=p._("Games you can play"),
        on=[g for g in games if g.ends_at > now],
        past=[g for g in games if g.ends_at <= now],
    )


@router.get("/games/{slug}")
async def game_home(request: Request, session: Session, slug: Slug, now: Now) -> Response:
    game = await repo.game_by_slug(session, slug)
    if game is None:
        p = web.page(request)
        raise web.FamilyPageProblem(
            404, p._("Page not found"), p._("There is no game at this address.")
        )
    p = web.page(request, game.languages)
    signed = await web.current(request, session, now)
    campaigns = await repo.campaigns_ending_after(session, game.id, now)
    teams = await views.list_teams(session, game.id, "school")
    return p.render(
        "game.html",
        signed=signed,
        title=game.name,
        game=game,
        starts=local(game.starts_at, game),
        ends=local(game.ends_at, game),
        started=game.starts_at <= now,
        ended=game.ends_at <= now,
        campaigns_now=[(c, local(c.ends_at, game)) for c in campaigns if c.starts_at <= now],
        campaigns_next=[
            (c, local(c.starts_at, game), local(c.ends_at, game))
            for c in campaigns
            if c.starts_at > now
        ],
        schools=teams,
        boxes=len(await repo.checkpoints(session, game.id)),
    )


@router.get("/privacy")
async def privacy(request: Request, session: Session, now: Now) -> Response:
    p = web.page(request)
    return p.render(
        "privacy.html", signed=await web.current(request, session, now), title=p._("Privacy notice")
    )


@router.get("/cookies")
async def cookies(request: Request, session: Session, now: Now) -> Response:
    p = web.page(request)
    return p.render(
        "cookies.html", signed=await web.current(request, session, now), title=p._("Cookies")
    )


@router.get("/family/accessibility")
async def accessibility(request: Request, session: Session, now: Now) -> Response:
    p = web.page(request)
    return p.render(
        "accessibility.html",
        signed=await web.current(request, session, now),
        title=p._("Accessibility statement"),
    )
