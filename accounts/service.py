"""Issuing, listing and revoking tokens for a scope named by slugs and codes.

A scope is an organiser's: ``None`` for an organiser of every game (every token), or a
game id (that game's tokens only). Listings never carry a token's value or its hash.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts import repository as repo
from accounts.models import ApiToken
from accounts.tokens import STAFF_ROLES, Expiry, create_token
from game.models import Game, Team
from kernel import audit
from kernel.errors import Forbidden, NotFound

ALL_GAMES = None


@dataclass(frozen=True)
class TokenInfo:
    id: int
    role: str
    game: str | None
    team: str | None
    player_id: int | None
    label: str | None
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None
    active: bool


def _info(row: ApiToken, game: str | None, team: str | None, now: datetime) -> TokenInfo:
    active = row.revoked_at is None and (row.expires_at is None or row.expires_at > now)
    return TokenInfo(
        id=row.id,
        role=row.role,
        game=game,
        team=team,
        player_id=row.player_id,
        label=row.label,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        active=active,
    )


async def create_cli_token(
    session: AsyncSession,
    *,
    role: str,
    game_slug: str | None,
    team_code: str | None,
    label: str | None,
    expires_at: Expiry = "default",
) -> str:
    game_id: int | None = None
    team_id: int | None = None
    if game_slug is not None:
        game = await session.scalar(select(Game).where(Game.slug == game_slug))
        if game is None:
            raise ValueError(f"no game '{game_slug}'")
        game_id = game.id
    if role == "team_manager":
        if game_id is None or team_code is None:
            raise ValueError("a team_manager token needs --game and --team")
        team = await session.scalar(
            select(Team).where(Team.game_id == game_id, Team.code == team_code)
        )
        if team is None:
            raise ValueError(f"no team '{team_code}' in {game_slug}")
        team_id = team.id
    elif team_code is not None:
        raise ValueError("--team only goes with --role team_manager")
    if role == "evaluator" and game_id is None:
        raise ValueError("an evaluator token needs --game")
    value = await create_token(
        session, role=role, game_id=game_id, team_id=team_id, label=label, expires_at=expires_at
    )
    audit.record(
        session, actor="cli", action="token.create", game_id=game_id, role=role, team=team_code
    )
    return value


async def list_tokens(
    session: AsyncSession,
    *,
    scope: int | None,
    game_id: int | None = None,
    roles: Sequence[str] = STAFF_ROLES,
    limit: int = 200,
    now: datetime,
) -> list[TokenInfo]:
    """Tokens of ``game_id`` (None: all in the scope) with these roles, newest first."""
    if scope is not ALL_GAMES:
        if game_id is not None and game_id != scope:
            raise Forbidden("this organiser token is for another game")
        game_id = scope
    rows = await repo.list_tokens(session, game_id=game_id, roles=roles, limit=limit)
    return [_info(row, game, team, now) for row, game, team in rows]


async def revoke_token(
    session: AsyncSession, token_id: int, *, scope: int | None, actor: str, now: datetime
) -> TokenInfo:
    """Revokes a token of the scope from now on (a revoked token stays revoked as it was)."""
    row = await repo.token(session, token_id)
    if row is None:
        raise NotFound(f"no token {token_id}")
    if scope is not ALL_GAMES and row.game_id != scope:
        raise Forbidden("this token is not one of this organiser's game")
    if row.revoked_at is None:
        row.revoked_at = now
        audit.record(
            session, actor=actor, action="token.revoke", game_id=row.game_id, token=token_id
        )
        await session.flush()
    game, team = await repo.names(session, row)
    return _info(row, game, team, now)


async def log_out(session: AsyncSession, token_id: int, *, now: datetime) -> None:
    """Revokes the calling token only: the player's other devices stay signed in."""
    row = await repo.token(session, token_id)
    if row is not None and row.revoked_at is None:
        row.revoked_at = now
        await session.flush()
