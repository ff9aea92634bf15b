"""Tokens: organisers list and revoke the tokens of their games; a player logs out.

A token's value is shown once, when it is created (``taptrail token create``, a
registration); nothing here ever answers with a token or its hash.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from accounts import service
from accounts.tokens import STAFF_ROLES, Principal
from api.deps import Caller, Session, game_or_404, require_organiser, require_player
from api.errors import error_responses
from api.transaction import Tx
from kernel.db import utcnow
from kernel.errors import Forbidden

router = APIRouter(tags=["tokens"])

_DESCRIBED = {
    401: "No token, or a token that is not valid, was revoked or has expired",
    403: "Not an organiser, or the token or game is not one of this organiser's",
    404: "No such game or token",
}


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    return error_responses(_DESCRIBED, *codes)


class TokenOut(BaseModel):
    """A token as listed: never its value or hash."""

    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": 12,
                    "role": "team_manager",
                    "game": "burnley-2027",
                    "team": "ST-MARYS",
                    "player_id": None,
                    "label": "Mrs Khan's class",
                    "created_at": "2027-04-20T09:00:00Z",
                    "last_used_at": "2027-05-03T15:31:00Z",
                    "expires_at": "2027-07-19T09:00:00Z",
                    "revoked_at": None,
                    "active": True,
                }
            ]
        },
    )

    id: int
    role: Literal["organiser", "team_manager", "evaluator", "player"]
    game: str | None = Field(description="The game's slug; null: every game (organisers)")
    team: str | None = Field(description="The team's code (team managers)")
    player_id: int | None = Field(description="The player (players' tokens)")
    label: str | None
    created_at: datetime
    last_used_at: datetime | None = Field(description="Recorded to the minute; null: never")
    expires_at: datetime | None = Field(description="null: never")
    revoked_at: datetime | None
    active: bool = Field(description="Neither revoked nor expired")


class TokensOut(BaseModel):
    tokens: list[TokenOut]


def _organiser(caller: Principal) -> int | None:
    """The caller's scope: None for an organiser of every game, else their game's id."""
    if caller.role != "organiser":
        raise Forbidden("this needs an organiser token")
    return caller.game_id


@router.get(
    "/admin/tokens",
    response_model=TokensOut,
    responses=_errors(401, 403, 404),
    summary="Tokens of the organiser's game(s), newest first: never their values",
    description="An organiser of one game sees that game's tokens; an organiser of every "
    "game sees all (or one game's with `game`). Staff tokens by default; `role=player` "
    "lists players' tokens.",
)
async def list_tokens(
    session: Session,
    caller: Caller,
    game: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    role: Annotated[
        Literal["organiser", "team_manager", "evaluator", "player"] | None, Query()
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> TokensOut:
    scope = _organiser(caller)
    game_id = None
    if game is not None:
        found = await game_or_404(session, game)
        require_organiser(caller, found)
        game_id = found.id
    tokens = await service.list_tokens(
        session,
        scope=scope,
        game_id=game_id,
        roles=STAFF_ROLES if role is None else (role,),
        limit=limit,
        now=utcnow(),
    )
    return TokensOut(tokens=[TokenOut.model_validate(t) for t in tokens])


@router.delete(
    "/admin/tokens/{token_id}",
    response_model=TokenOut,
    responses=_errors(401, 403, 404),
    summary="Revoke a token of the organiser's game(s) from now on (again: no change)",
)
async def revoke_token(
    token_id: Annotated[int, Path(ge=1, le=2**31 - 1, description="From the token list")],
    request: Request,
    session: Session,
    tx: Tx,
    caller: Caller,
) -> TokenOut:
    scope = _organiser(caller)
    async with tx.write():
        info = await service.revoke_token(
            session, token_id, scope=scope, actor=caller.actor, now=utcnow()
        )
    return TokenOut.model_validate(info)


@router.post(
    "/me/logout",
    status_code=204,
    responses=_errors(401, 403),
    summary="Log out: the calling player token stops working (the player's other devices stay)",
)
async def log_out(request: Request, session: Session, tx: Tx, caller: Caller) -> Response:
    require_player(caller)
    async with tx.write():
        await service.log_out(session, caller.token_id, now=utcnow())
    return Response(status_code=204)
