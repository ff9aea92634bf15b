"""The public board reads' fast lane: the three board GETs answered before FastAPI's routing
and parameter solving, with the answers their endpoints give.

Board reads are most of the API's traffic. FastAPI's route matching and its validation of
each query parameter cost more CPU than a read the board cache answers, and about a third
of one that goes to Redis. ``BoardReadLane`` (an ASGI middleware inside the app's request
ids, logs, metrics, security headers and error pages, which apply as to any request; the
body guard and static compression, inside it, leave a request without a body as it is)
takes a request only when it is plainly one of those reads, with parameters that FastAPI
would accept as they are:

* GET, no ``root_path``, and no body (no Content-Length but 0, no Transfer-Encoding);
* path ``<prefix>/games/<slug>/leaderboards/teams``, ``.../players`` or
  ``.../teams/<code>/around``: a slug of 1-64 of ``a-z``, ``0-9`` and ``-``, a code as a
  game file spells one (``game.definition.CODE_PATTERN``);
* in the query string (parsed as Starlette parses it), each of the endpoint's parameters
  at most once, spelled plainly: ``by`` total, average or distance; ``kind`` empty, ``all``
  or a team kind; ``limit`` 1-100, ``offset`` 0-999999999 and ``n`` 1-50, in decimal
  digits without a sign or a leading zero. Other parameters are ignored, as FastAPI
  ignores them.

Anything else goes on to FastAPI untouched, which answers it as it always has (422 for a
bad value, 404, 405...). A taken request is answered by its endpoint's own code
(``api.leaderboard.*_answer``: the same body and headers), a domain error (503: the boards
cannot be read) as the app's handler answers it (``api.errors.domain_error_response``), and
the scope gets what FastAPI's router would have put there (``route``, ``endpoint``,
``path_params``), so logs and metrics name the same route. The routes stay FastAPI's: they
document the API (OpenAPI) and answer whatever the lane passes on.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from functools import partial
from typing import get_args
from urllib.parse import parse_qsl

from fastapi.routing import APIRoute
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from api import leaderboard
from api.app_state import AppState, state_of
from api.errors import domain_error_response
from game.definition import CODE_PATTERN
from kernel.errors import TaptrailError
from kernel.vocabulary import TEAM_KINDS

# A read the lane answers: FastAPI's route for it, its path parameters, and its answer.
Read = tuple[APIRoute, dict[str, str], Callable[[AppState], Awaitable[Response]]]

_BYS = frozenset(get_args(leaderboard.TeamBy))
# ``kind`` as the endpoints read it (``api.leaderboard._kind``): empty or "all" is every team.
_KINDS: dict[str, str | None] = {"": None, "all": None, **{k: k for k in TEAM_KINDS}}
_BAD = "?"  # not a kind: the lane passes the request on
_DIGITS = re.compile(r"0|[1-9][0-9]{0,8}")
_CODE = CODE_PATTERN.removeprefix("^").removesuffix("$")


def _number(value: str | None, default: int, low: int = 0, high: int = 999_999_999) -> int | None:
    """A plainly written whole number in [low, high] (``default`` when absent), else None."""
    if value is None:
        return default
    if _DIGITS.fullmatch(value) is None:
        return None
    number = int(value)
    return number if low <= number <= high else None


def _by(value: str | None) -> str | None:
    if value is None:
        return "total"
    return value if value in _BYS else None


def _kind(value: str | None) -> str | None:
    if value is None:
        return None
    return _KINDS.get(value, _BAD)


def _query(raw: bytes, names: tuple[str, ...]) -> dict[str, str] | None:
    """The endpoint's parameters from a query string; None if one is given twice."""
    found: dict[str, str] = {}
    if not raw:
        return found
    # As Starlette's QueryParams parses it, so the lane reads the values FastAPI would.
    for name, value in parse_qsl(raw.decode("latin-1"), keep_blank_values=True):
        if name in names:
            if name in found:
                return None  # FastAPI takes one of them: not worth copying which
            found[name] = value
    return found


def _no_body(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"transfer-encoding" or (name == b"content-length" and value != b"0"):
            return False
    return True


class BoardReadLane:
    """See the module docstring. ``prefix``: where the API's routers are mounted."""

    def __init__(self, app: ASGIApp, *, prefix: str) -> None:
        self.app = app
        games = re.escape(prefix) + r"/games/(?P<slug>[a-z0-9-]{1,64})/leaderboards/"
        self.path = re.compile(
            games + r"(?:(?P<board>teams|players)|teams/(?P<code>" + _CODE + r")/around)"
        )
        endpoints = (leaderboard.team_board, leaderboard.player_board, leaderboard.team_around)
        self.routes = {
            route.endpoint: route
            for route in leaderboard.router.routes
            if isinstance(route, APIRoute) and route.endpoint in endpoints
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        read = self.take(scope) if scope["type"] == "http" else None
        if read is None:
            await self.app(scope, receive, send)
            return
        route, path_params, answer = read
        scope.update(route=route, endpoint=route.endpoint, path_params=path_params)
        try:
            response = await answer(state_of(scope["app"]))
        except TaptrailError as exc:
            response = domain_error_response(exc)
        await response(scope, receive, send)

    def take(self, scope: Scope) -> Read | None:
        """The route, path parameters and answer of a board read the lane answers, or None."""
        if scope["method"] != "GET" or scope.get("root_path") or not _no_body(scope):
            return None
        match = self.path.fullmatch(scope["path"])
        if match is None:
            return None
        slug, board, code = match.group("slug", "board", "code")
        raw = scope["query_string"]
        if board == "players":
            q = _query(raw, ("limit", "offset"))
            if q is None:
                return None
            limit, offset = _number(q.get("limit"), 20, 1, 100), _number(q.get("offset"), 0)
            if limit is None or offset is None:
                return None
            answer = partial(leaderboard.player_board_answer, slug=slug, limit=limit, offset=offset)
            return self.routes[leaderboard.player_board], {"slug": slug}, answer
        if board == "teams":
            q = _query(raw, ("by", "kind", "limit", "offset"))
            if q is None:
                return None
            by, kind = _by(q.get("by")), _kind(q.get("kind"))
            limit, offset = _number(q.get("limit"), 20, 1, 100), _number(q.get("offset"), 0)
            if by is None or kind is _BAD or limit is None or offset is None:
                return None
            answer = partial(
                leaderboard.team_board_answer,
                slug=slug,
                by=by,
                kind=kind,
                limit=limit,
                offset=offset,
            )
            return self.routes[leaderboard.team_board], {"slug": slug}, answer
        q = _query(raw, ("by", "kind", "n"))
        if q is None:
            return None
        by, kind, n = _by(q.get("by")), _kind(q.get("kind")), _number(q.get("n"), 3, 1, 50)
        if by is None or kind is _BAD or n is None:
            return None
        answer = partial(
            leaderboard.team_around_answer, slug=slug, code=code, by=by, kind=kind, n=n
        )
        return self.routes[leaderboard.team_around], {"slug": slug, "code": code}, answer
