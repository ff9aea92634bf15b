"""The hall board page (``/games/{slug}/board``) in the visitor's language.

The page is ``templates/board.html``: its words are translated on the server like the
family pages' (the game's ``languages``, the switch's cookie, then ``Accept-Language``:
``i18n.choose``), and the words its script puts on screen as the board changes are given to
the script as JSON (``WORDS``, translated, in a ``<script type="application/json">``, which
is data, never run). ``%(name)s`` in a word is filled in by the script.

The board's script and stylesheet are served by ``api/pages.py``. A strict
Content-Security-Policy backs up the script's text-only DOM: scripts and styles from this
server only, and connections (the JSON API, the live socket) only to the page's own origin:
in CSP Level 3 'self' also covers ws:/wss: to the same host and port, which is what the
board's socket uses.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from api import pages
from api.app_state import AppState, app_state
from api.family import i18n, web
from api.family.i18n import N_
from api.leaderboard import game_exists
from people import family_repository as repo

router = APIRouter(include_in_schema=False)
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; frame-ancestors 'self'"
)

# The words the board's script shows, by the key it uses.
WORDS = {
    "kind.school": N_("School"),
    "kind.community": N_("Community"),
    "kind.workplace": N_("Workplace"),
    "kind.family": N_("Family"),
    "kind.other": N_("Other"),
    "title.total": N_("Team points"),
    "title.average": N_("Points per active member"),
    "title.distance": N_("Distance travelled"),
    "title.players": N_("Top players"),
    "status.live": N_("Live"),
    "status.connecting": N_("Connecting…"),
    "status.offline": N_("Offline"),
    "banner.missing": N_("Game not found"),
    "banner.down": N_("Disconnected"),
    "banner.now": N_("%(what)s — reconnecting…"),
    "banner.soon": N_("%(what)s — reconnecting in %(seconds)s s…"),
    "unit.points": N_("pts"),
    "unit.km": N_("km"),
    "unit.per_member": N_("per member"),
    "members.one": N_("%(count)s active member"),
    "members.other": N_("%(count)s active members"),
    "not_eligible": N_("not yet eligible"),
    "note.average": N_("Faded teams need more active members before they can rank."),
    "updated": N_("Updated %(time)s"),
    "first": N_("%(name)s is now first: %(value)s %(unit)s"),
    "pause": N_("Pause updates"),
    "resume": N_("Resume updates"),
    "page_title": N_("%(game)s — Leaderboard"),
}
# The team kinds' tabs, in order; their names also follow the board's title.
KINDS = (
    ("", N_("All")),
    ("school", N_("Schools")),
    ("community", N_("Community")),
    ("workplace", N_("Workplaces")),
    ("family", N_("Families")),
    ("other", N_("Other")),
)


async def languages_of(state: AppState, slug: str) -> list[str] | None:
    """The game's languages (None: the default, English and Welsh): from
    ``state.game_languages`` when the application provides it, else from the database."""
    if state.game_languages is not None:
        return await state.game_languages(slug)
    async with state.sessionmaker() as session:
        game = await repo.game_by_slug(session, slug)
    return game.languages if game is not None else None


def render(
    request: Request, slug: str, languages: Sequence[str] | None, values: dict[str, Any]
) -> HTMLResponse:
    """The board page in the request's language; ``values``: the page's addresses."""
    p = web.page(request, list(languages) if languages else None)
    words = {key: p.word(text) for key, text in WORDS.items()}
    words |= {f"kinds.{code}": p.word(name) for code, name in KINDS if code}
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    text = web.render_bare(
        p.language,
        "board.html",
        lang=p.language,
        languages=[(code, i18n.NAMES[code]) for code in p.offered],
        here=here,
        kinds=[(code, p.word(name)) for code, name in KINDS],
        # JSON inside a script element: "<" escaped so that no text can end the element.
        words=json.dumps(words, ensure_ascii=False).replace("<", "\\u003c"),
        **values,
    )
    return HTMLResponse(text, headers={"Content-Language": p.language})


def _missing(slug: str) -> HTMLResponse:
    body = (
        "<!doctype html><meta charset=utf-8><title>Not found</title>"
        f"<p>There is no game called “{html.escape(slug)}”.</p>"
    )
    return HTMLResponse(body, status_code=404)


@router.get("/games/{slug}/board", response_class=HTMLResponse)
async def board_page(request: Request, slug: str) -> Response:
    """Live leaderboard for a school-hall screen (?by=average&kind=school&rows=10&rotate=20,
    ?team=CODE to highlight a team's row)."""
    state = app_state(request)
    if not await game_exists(state, slug):
        return _missing(slug)
    root = request.scope.get("root_path", "")
    values = {
        "slug": slug,
        "api": root + pages.DEFAULT_API_BASE,
        "assets": root + pages.ASSET_ROUTE,
    }
    response = render(request, slug, await languages_of(state, slug), values)
    response.headers["Content-Security-Policy"] = CSP
    return response
