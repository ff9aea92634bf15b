"""Request-scoped dependencies: one database session per request, the server's clock
(``Now``), the caller's identity.

A route needs a bearer token exactly when its dependencies include :func:`get_principal`
(``Caller``); ``api.body_guard`` asks :func:`request_needs_bearer` and checks the token
(:func:`check_bearer`) before the request's body is read. Whichever finds the principal
first keeps it in the request scope for the other (one look-up a request).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import Headers
from starlette.types import Scope

from accounts.tokens import Principal, authenticate, record_use, use_is_stale
from api.app_state import app_state, state_of
from game.models import Game
from kernel.db import utcnow
from kernel.errors import Forbidden, NotFound, Unauthorized
from organising import repository as game_repo

# Row ids in paths: the tables' id columns are INTEGER (32 bits on PostgreSQL), so a larger
# number names no row. Checked here (422 naming the parameter), not by the database (500).
MAX_ROW_ID = 2**31 - 1
RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description=f"A row id (1 to {MAX_ROW_ID})")]

bearer = HTTPBearer(auto_error=False, description="A token from `taptrail token create`")


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with app_state(request).sessionmaker() as session:
        yield session


Session = Annotated[AsyncSession, Depends(get_session)]


async def server_now() -> datetime:
    """The server's clock, read once as a request starts (every ``Now`` of a request gets
    the same reading). Tests set the time with ``app.dependency_overrides[server_now]``.
    Async although it awaits nothing: FastAPI runs a plain function dependency in a worker
    thread, two thread hand-offs on every request."""
    return utcnow()


Now = Annotated[datetime, Depends(server_now)]


PRINCIPAL_KEY = "taptrail.principal"  # in the request scope, set by check_bearer


async def principal_from(session: AsyncSession, authorization: str | None) -> Principal:
    """The principal of an ``Authorization`` header's bearer token; Unauthorized saying why
    if there is none, or it is unknown, revoked or expired."""
    scheme, _, token = (authorization or "").strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("a bearer token is required")
    return await authenticate(session, token, now=utcnow())


async def get_principal(
    request: Request,
    session: Session,
    # Declared for the OpenAPI document's security scheme; the header is read below.
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """The caller of a valid token (401 saying why otherwise). Its last use is recorded
    when the recorded one is over a minute old, in a transaction of its own before the
    request's work: most requests do not write for it at all."""
    principal = request.scope.get(PRINCIPAL_KEY)
    if not isinstance(principal, Principal):
        principal = await principal_from(session, request.headers.get("authorization"))
        request.scope[PRINCIPAL_KEY] = principal  # an endpoint reading its body: no re-check
    now = utcnow()
    if use_is_stale(principal, now):
        async with app_state(request).writing():
            await record_use(session, principal.token_id, now)
            await session.commit()
    return principal


async def check_bearer(scope: Scope) -> str | None:
    """For ``api.body_guard``: None when the request's bearer token is valid (its principal
    is kept in the scope for ``get_principal``), else why not."""
    if isinstance(scope.get(PRINCIPAL_KEY), Principal):
        return None  # the endpoint has authenticated the caller already
    try:
        async with state_of(scope["app"]).sessionmaker() as session:
            principal = await principal_from(session, Headers(scope=scope).get("authorization"))
    except Unauthorized as exc:
        return exc.detail
    scope[PRINCIPAL_KEY] = principal
    return None


def _depends_on(dependant: Dependant, call: Callable[..., object]) -> bool:
    return any(d.call is call or _depends_on(d, call) for d in dependant.dependencies)


def route_needs_bearer(route: object) -> bool:
    """Whether a route's endpoint takes the caller from a bearer token (``Caller``)."""
    return isinstance(route, APIRoute) and _depends_on(route.dependant, get_principal)


def request_needs_bearer(scope: Scope) -> bool:
    """For ``api.body_guard``: does the route the router chose for this request need a
    bearer token? (Asked when the body is first read, after routing.)"""
    return route_needs_bearer(scope.get("route"))


Caller = Annotated[Principal, Depends(get_principal)]


async def game_or_404(session: AsyncSession, slug: str) -> Game:
    game = await game_repo.game_by_slug(session, slug)
    if game is None:
        raise NotFound(f"no game '{slug}'")
    return game


def require_organiser(principal: Principal, game: Game | None) -> None:
    """Organisers of every game (game_id null) or of this game."""
    if principal.role != "organiser":
        raise Forbidden("this needs an organiser token")
    if principal.game_id is not None and (game is None or principal.game_id != game.id):
        raise Forbidden("this organiser token is for another game")


def require_evaluator(principal: Principal, game: Game) -> None:
    if principal.role != "evaluator" or principal.game_id != game.id:
        raise Forbidden("this needs an evaluator token for this game")


def require_player(principal: Principal) -> int:
    if principal.role != "player" or principal.player_id is None:
        raise Forbidden("this needs a player token")
    return principal.player_id
