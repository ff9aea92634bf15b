"""Bearer tokens: random, shown once, stored as SHA-256 (they carry 256 bits of entropy)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from taptrail.auth.models import ApiToken
from taptrail.auth.scope import GameScope

PREFIX = "tt_"


def new_token() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Principal:
    token_id: int
    role: str
    game_id: int | None
    team_id: int | None
    player_id: int | None

    @property
    def actor(self) -> str:
        return f"token:{self.token_id}:{self.role}"

    @property
    def scope(self) -> GameScope:
        """The games this caller may change as an organiser (none for other roles)."""
        if self.role != "organiser":
            return GameScope.of()
        return GameScope.every_game() if self.game_id is None else GameScope.of(self.game_id)


async def create_token(
    session: AsyncSession,
    *,
    role: str,
    game_id: int | None = None,
    team_id: int | None = None,
    player_id: int | None = None,
    label: str | None = None,
) -> str:
    token = new_token()
    session.add(
        ApiToken(
            token_hash=hash_token(token),
            role=role,
            game_id=game_id,
            team_id=team_id,
            player_id=player_id,
            label=label,
        )
    )
    await session.flush()
    return token


async def authenticate(session: AsyncSession, token: str) -> Principal | None:
    row = await session.scalar(
        select(ApiToken).where(
            ApiToken.token_hash == hash_token(token), ApiToken.revoked_at.is_(None)
        )
    )
    if row is None:
        return None
    return Principal(row.id, row.role, row.game_id, row.team_id, row.player_id)
