"""Request-scoped dependencies: one database session per request, the caller's identity."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from game import repository as game_repo
from game.models import Game
from taptrail.auth.tokens import Principal, authenticate, record_use, use_is_stale
from taptrail.db import utcnow
from taptrail.errors import Forbidden, NotFound, Unauthorized

bearer = HTTPBearer(auto_error=False, description="A token from `taptrail token create`")


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.sessionmaker() as session:
        yield session


Session = Annotated[AsyncSession, Depends(get_session)]


async def get_principal(
    request: Request,
    session: Session,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """The caller of a valid token (401 saying why otherwise). Its last use is recorded
    when the recorded one is over a minute old, in a transaction of its own before the
    request's work: most requests do not write for it at all."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("a bearer token is required")
    now = utcnow()
    principal = await authenticate(session, credentials.credentials, now=now)
    if use_is_stale(principal, now):
        async with request.app.state.writing():
            await record_use(session, principal.token_id, now)
            await session.commit()
    return principal


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
