"""Bearer tokens: random, shown once, stored as SHA-256 (they carry 256 bits of entropy).

Every token has an expiry (null: never) and a last use. Defaults: staff tokens
(organiser, team manager, evaluator) expire after ``STAFF_TOKEN_LIFETIME``; a player's
token ``PLAYER_TOKEN_MARGIN`` after their game ends (after the six-month follow-up
survey). ``authenticate`` refuses unknown, revoked and expired tokens with a sentence
saying which. The last use is recorded at most once per ``USE_RESOLUTION`` per token
(``use_is_stale``/``record_use``), so reading requests do not each write.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from accounts import repository as repo
from accounts.models import ApiToken
from kernel.db import utcnow
from kernel.errors import Unauthorized
from kernel.scope import GameScope
from kernel.tokens import hash_token, new_token

STAFF_TOKEN_LIFETIME = timedelta(days=90)
PLAYER_TOKEN_MARGIN = timedelta(days=270)
USE_RESOLUTION = timedelta(minutes=1)
STAFF_ROLES = ("organiser", "team_manager", "evaluator")

Expiry = datetime | None | Literal["default"]


@dataclass(frozen=True, slots=True)
class Principal:
    token_id: int
    role: str
    game_id: int | None
    team_id: int | None
    player_id: int | None
    last_used_at: datetime | None = None

    @property
    def actor(self) -> str:
        return f"token:{self.token_id}:{self.role}"

    @property
    def scope(self) -> GameScope:
        """The games this caller may change as an organiser (none for other roles)."""
        if self.role != "organiser":
            return GameScope.of()
        return GameScope.every_game() if self.game_id is None else GameScope.of(self.game_id)


async def default_expiry(
    session: AsyncSession, role: str, game_id: int | None, now: datetime
) -> datetime:
    if role == "player" and game_id is not None:
        ends_at = await repo.game_ends_at(session, game_id)
        if ends_at is not None:
            return max(ends_at, now) + PLAYER_TOKEN_MARGIN
    return now + STAFF_TOKEN_LIFETIME


async def create_token(
    session: AsyncSession,
    *,
    role: str,
    game_id: int | None = None,
    team_id: int | None = None,
    player_id: int | None = None,
    label: str | None = None,
    expires_at: Expiry = "default",
) -> str:
    """A new token (the only time its value exists); ``expires_at`` None: never."""
    now = utcnow()
    if expires_at == "default":
        expires_at = await default_expiry(session, role, game_id, now)
    token = new_token()
    session.add(
        ApiToken(
            token_hash=hash_token(token),
            role=role,
            game_id=game_id,
            team_id=team_id,
            player_id=player_id,
            label=label,
            created_at=now,
            expires_at=expires_at,
        )
    )
    await session.flush()
    return token


async def authenticate(session: AsyncSession, token: str, *, now: datetime) -> Principal:
    row = await repo.token_by_hash(session, hash_token(token))
    if row is None:
        raise Unauthorized("the token is not valid")
    if row.revoked_at is not None:
        raise Unauthorized(f"the token was revoked on {row.revoked_at:%Y-%m-%d %H:%M} UTC")
    if row.expires_at is not None and row.expires_at <= now:
        raise Unauthorized(
            f"the token expired on {row.expires_at:%Y-%m-%d %H:%M} UTC: ask for a new one"
        )
    return Principal(row.id, row.role, row.game_id, row.team_id, row.player_id, row.last_used_at)


def use_is_stale(principal: Principal, now: datetime) -> bool:
    """Is the recorded last use older than ``USE_RESOLUTION`` (or missing)?"""
    last = principal.last_used_at
    return last is None or now - last >= USE_RESOLUTION


async def record_use(session: AsyncSession, token_id: int, now: datetime) -> None:
    await repo.record_use(session, token_id, now, unless_since=now - USE_RESOLUTION)
