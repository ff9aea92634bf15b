"""Public leaderboards: team and player boards, around-me views and the live socket.

Mounted under /api/v1. Reads the application's state (``api.app_state``): its
``leaderboard`` (a LeaderboardRuntime) and ``game_exists(slug)``.
Public boards are read through the runtime's short-lived cache (``leaderboard.board_cache``):
identical reads of one process within a second share one store read, so a hall of phones
opening a board at once costs one read; a store that cannot be reached answers 503.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, WebSocket
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.websockets import WebSocketDisconnect

from api import board_json
from api.app_state import AppState, app_state
from api.errors import ErrorOut
from kernel.errors import Unavailable
from kernel.vocabulary import TEAM_KINDS, TeamKind
from leaderboard.fanout import Subscription
from leaderboard.models import BOARD_NAMES, BoardPage, TeamEntry
from leaderboard.runtime import LeaderboardRuntime

router = APIRouter(tags=["leaderboards"])

TeamBy = Literal["total", "average", "distance"]

# Close codes of the live socket besides the standard ones.
WS_GAME_NOT_FOUND = 4404
WS_BAD_REQUEST = 4422
WS_TRY_AGAIN_LATER = 1013

_TEAM_EXAMPLE: dict[str, Any] = {
    "rank": 1,
    "team": "ST-MARYS",
    "name": "St Mary's Primary",
    "kind": "school",
    "points": 1240,
    "active_members": 31,
    "average": 40.0,
    "distance_km": 182.4,
    "eligible": True,
}
_PLAYER_EXAMPLE: dict[str, Any] = {
    "rank": 1,
    "nickname": "Swift Fox",
    "points": 320,
    "distance_km": 41.7,
}


class TeamEntryOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_TEAM_EXAMPLE]})

    rank: int = Field(description="Competition rank: equal scores share a rank (1, 2, 2, 4)")
    team: str = Field(description="Team code")
    name: str
    kind: TeamKind
    points: int
    active_members: int = Field(description="Holders with at least one counted tap")
    average: float = Field(description="points / active_members, 2 decimals")
    distance_km: float
    eligible: bool = Field(
        description="Has enough active members for the average board; ineligible teams are "
        "listed after all eligible ones there"
    )


class PlayerEntryOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_PLAYER_EXAMPLE]})

    rank: int
    nickname: str
    points: int
    distance_km: float


class TeamBoardOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "game": "burnley-2027",
                    "by": "total",
                    "kind": "school",
                    "total": 24,
                    "entries": [_TEAM_EXAMPLE],
                }
            ]
        }
    )

    game: str
    by: TeamBy
    kind: TeamKind | None
    total: int = Field(description="Teams on this board (with the kind filter)")
    entries: list[TeamEntryOut]


class TeamAroundOut(TeamBoardOut):
    team: str = Field(description="The team the entries surround")


class PlayerBoardOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"game": "burnley-2027", "total": 812, "entries": [_PLAYER_EXAMPLE]}]
        }
    )

    game: str
    total: int = Field(description="Public players on the board")
    entries: list[PlayerEntryOut]


_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorOut}}
Slug = Annotated[str, Path(min_length=1, max_length=64, examples=["burnley-2027"])]
Limit = Annotated[int, Query(ge=1, le=100, description="Entries per page (1-100)")]
Offset = Annotated[int, Query(ge=0, description="Entries to skip")]
KindParam = Annotated[
    str | None,
    Query(
        description="Only teams of this kind (school, community, workplace, family, other); "
        "empty or 'all' for every team",
        examples=["school"],
    ),
]

# Boards are read far more often than games come and go: remember games that exist for a
# short while so a board read costs no database query.
_EXISTS_TTL_S = 30.0
_known_games: dict[tuple[int, str], float] = {}
# Look-ups under way: a burst of first reads of a game makes one query, not one each.
_looking_up: dict[tuple[int, str], asyncio.Task[bool]] = {}


def _runtime(state: AppState) -> LeaderboardRuntime:
    return state.leaderboard


async def game_exists(state: AppState, slug: str) -> bool:
    hook = state.game_exists
    key = (id(hook), slug)
    if _known_games.get(key, 0.0) > time.monotonic():
        return True
    task = _looking_up.get(key)
    if task is None:
        task = asyncio.create_task(_look_up(hook, slug))
        _looking_up[key] = task
        task.add_done_callback(lambda _: _looking_up.pop(key, None))
    # Shielded: a client hanging up does not cancel the look-up the others wait for.
    if not await asyncio.shield(task):
        return False
    if len(_known_games) > 10_000:
        _known_games.clear()
    _known_games[key] = time.monotonic() + _EXISTS_TTL_S
    return True


async def _look_up(hook: Callable[[str], Awaitable[bool]], slug: str) -> bool:
    return await hook(slug)


def _not_found(detail: str) -> JSONResponse:
    return JSONResponse({"error": "not_found", "detail": detail}, status_code=404)


def _kind(value: str | None) -> str | None:
    if value in (None, "", "all"):
        return None
    if value not in TEAM_KINDS:
        raise RequestValidationError(
            [
                {
                    "type": "literal_error",
                    "loc": ("query", "kind"),
                    "msg": f"Input should be one of: {', '.join(TEAM_KINDS)}",
                    "input": value,
                }
            ]
        )
    return value


class _EncodedJSON(JSONResponse):
    """A JSON answer whose body was encoded already (the same headers as JSONResponse)."""

    def render(self, content: Any) -> bytes:
        assert isinstance(content, bytes)
        return content


# Entries come from the store already in their documented shape, so an answer skips the
# response model's validation and is written straight to JSON (``api.board_json``: the
# bytes JSONResponse would make); its body is encoded once per shared read (the cache keeps
# it beside the page), so the hall's phones reading one board cost no encoding each.
def _team_body(
    slug: str, by: str, kind: str | None, page: BoardPage[TeamEntry], team: str | None = None
) -> bytes:
    return board_json.team_board(slug, by, kind, page.total, page.entries, team)


@router.get(
    "/games/{slug}/leaderboards/teams",
    response_model=TeamBoardOut,
    responses=_NOT_FOUND,
    summary="Team leaderboard: total points, average per active member, or distance",
)
async def team_board(
    request: Request,
    slug: Slug,
    by: TeamBy = "total",
    kind: KindParam = None,
    limit: Limit = 20,
    offset: Offset = 0,
) -> Any:
    kind = _kind(kind)
    return await team_board_answer(app_state(request), slug, by, kind, limit, offset)


@router.get(
    "/games/{slug}/leaderboards/players",
    response_model=PlayerBoardOut,
    responses=_NOT_FOUND,
    summary="Player leaderboard: points, then distance (public players, by nickname)",
)
async def player_board(request: Request, slug: Slug, limit: Limit = 20, offset: Offset = 0) -> Any:
    return await player_board_answer(app_state(request), slug, limit, offset)


@router.get(
    "/games/{slug}/leaderboards/teams/{code}/around",
    response_model=TeamAroundOut,
    responses=_NOT_FOUND,
    summary="A team with the n teams either side of it on a board",
)
async def team_around(
    request: Request,
    slug: Slug,
    code: str,
    by: TeamBy = "total",
    kind: KindParam = None,
    n: Annotated[int, Query(ge=1, le=50, description="Entries either side")] = 3,
) -> Any:
    kind = _kind(kind)
    return await team_around_answer(app_state(request), slug, code, by, kind, n)


# The endpoints' answers for parameters already validated (``kind`` through ``_kind``):
# shared by the FastAPI routes above and the board reads' fast lane (``api.board_lane``).
async def team_board_answer(
    state: AppState, slug: str, by: str, kind: str | None, limit: int, offset: int
) -> Response:
    if not await game_exists(state, slug):
        return _not_found(f"No game '{slug}'.")
    body = await _runtime(state).reads.teams_encoded(
        slug, by, kind, limit, offset, lambda page: _team_body(slug, by, kind, page)
    )
    return _EncodedJSON(body)


async def player_board_answer(state: AppState, slug: str, limit: int, offset: int) -> Response:
    if not await game_exists(state, slug):
        return _not_found(f"No game '{slug}'.")
    body = await _runtime(state).reads.players_encoded(
        slug,
        limit,
        offset,
        lambda page: board_json.player_board(slug, page.total, page.entries),
    )
    return _EncodedJSON(body)


async def team_around_answer(
    state: AppState, slug: str, code: str, by: str, kind: str | None, n: int
) -> Response:
    if not await game_exists(state, slug):
        return _not_found(f"No game '{slug}'.")
    body = await _runtime(state).reads.team_around_encoded(
        slug,
        by,
        code,
        n,
        kind,
        lambda page: None if page is None else _team_body(slug, by, kind, page, code),
    )
    if body is None:
        return _not_found(f"Team '{code}' is not on this board.")
    return _EncodedJSON(body)


async def player_around(
    state: AppState, slug: str, holder: str, n: int = 3
) -> PlayerBoardOut | None:
    """For a player's own view: them with n public players either side (None unless public).

    ``holder`` is the store's holder key (str of the holder id). Call with
    ``app_state(request)`` after authenticating the player.
    """
    page = await _runtime(state).store.player_around(slug, holder, n)
    if page is None:
        return None
    return PlayerBoardOut.model_validate(
        {"game": slug, "total": page.total, "entries": [e.as_dict() for e in page.entries]}
    )


def parse_views(boards: str | None, kind: str | None) -> list[tuple[str, str | None]]:
    """``boards`` is a comma-separated list (default teams-total); ``kind`` filters team boards."""
    names = [b.strip() for b in (boards or "teams-total").split(",") if b.strip()]
    if not names or any(b not in BOARD_NAMES for b in names):
        raise ValueError(f"boards must be a comma-separated list of {', '.join(BOARD_NAMES)}")
    k = None if kind in (None, "", "all") else kind
    if k is not None and k not in TEAM_KINDS:
        raise ValueError(f"kind must be one of {', '.join(TEAM_KINDS)}")
    return [(b, None if b == "players" else k) for b in dict.fromkeys(names)]


@router.websocket("/games/{slug}/live")
async def live(websocket: WebSocket, slug: str) -> None:
    """Live boards: ``?boards=teams-total,teams-average,teams-distance,players&kind=school``.

    On connect, one snapshot message per board; then at most one message per board per
    second while it changes: ``{"type": "leaderboard", "board", "kind", "version",
    "entries"}``. Closes with 4404 for an unknown game, 4422 for bad parameters and 1013
    (try again later) when the boards cannot be read.
    """
    await websocket.accept()
    params = websocket.query_params
    try:
        views = parse_views(params.get("boards"), params.get("kind"))
    except ValueError as exc:
        await websocket.close(WS_BAD_REQUEST, str(exc)[:120])
        return
    if not await game_exists(app_state(websocket), slug):
        await websocket.close(WS_GAME_NOT_FOUND, "unknown game")
        return
    broadcaster = _runtime(app_state(websocket)).broadcaster
    try:
        sub = await broadcaster.subscribe(slug, views)
    except Unavailable:
        # Logged once per failed read by the cache; the client reconnects shortly.
        await websocket.close(WS_TRY_AGAIN_LATER, "boards unavailable, try again")
        return
    try:
        await _pump(websocket, sub)
    finally:
        broadcaster.unsubscribe(sub)


async def _pump(websocket: WebSocket, sub: Subscription) -> None:
    async def send() -> None:
        while (message := await sub.get()) is not None:
            await websocket.send_text(message)

    async def receive() -> None:
        # Clients only need to be heard hanging up; anything they send is ignored.
        while True:
            msg = await websocket.receive()
            if msg["type"] == "websocket.disconnect":
                return

    sender, receiver = asyncio.create_task(send()), asyncio.create_task(receive())
    try:
        await asyncio.wait((sender, receiver), return_when=asyncio.FIRST_COMPLETED)
    finally:
        sender.cancel()
        receiver.cancel()
        await asyncio.gather(sender, receiver, return_exceptions=True)
    if receiver.cancelled() and sub.closed:
        # Closed by the server (shutdown or kick): say so, and the client reconnects.
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):
            await websocket.close(sub.close_code or 1000)
