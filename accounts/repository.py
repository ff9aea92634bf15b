"""Token storage: look-up by hash, recording use, listing in a scope, revoking.

Rows are never deleted here (a revoked token stays listed as revoked); a game's tokens go
with the game (``ON DELETE CASCADE``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.models import ApiToken
from game.models import Game, Team


async def token_by_hash(session: AsyncSession, token_hash: str) -> ApiToken | None:
    row: ApiToken | None = await session.scalar(
        select(ApiToken).where(ApiToken.token_hash == token_hash)
    )
    return row


async def token(session: AsyncSession, token_id: int) -> ApiToken | None:
    return await session.get(ApiToken, token_id)


async def game_ends_at(session: AsyncSession, game_id: int) -> datetime | None:
    ends_at: datetime | None = await session.scalar(select(Game.ends_at).where(Game.id == game_id))
    return ends_at


async def record_use(
    session: AsyncSession, token_id: int, at: datetime, *, unless_since: datetime
) -> None:
    """Sets the last use to ``at`` unless one was recorded at or after ``unless_since`` (by
    another request or server process meanwhile)."""
    await session.execute(
        update(ApiToken)
        .where(
            ApiToken.id == token_id,
            or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at < unless_since),
        )
        .values(last_used_at=at)
        .execution_options(synchronize_session=False)
    )


async def list_tokens(
    session: AsyncSession, *, game_id: int | None, roles: Sequence[str], limit: int
) -> Sequence[tuple[ApiToken, str | None, str | None]]:
    """Tokens with these roles, newest first, with their game's slug and team's code.
    ``game_id`` None: every token (including those for every game)."""
    query = (
        select(ApiToken, Game.slug, Team.code)
        .outerjoin(Game, Game.id == ApiToken.game_id)
        .outerjoin(Team, Team.id == ApiToken.team_id)
        .where(ApiToken.role.in_(list(roles)))
        .order_by(ApiToken.id.desc())
        .limit(limit)
    )
    if game_id is not None:
        query = query.where(ApiToken.game_id == game_id)
    rows = (await session.execute(query)).all()
    return [(row[0], row[1], row[2]) for row in rows]


async def names(session: AsyncSession, row: ApiToken) -> tuple[str | None, str | None]:
    """The slug of a token's game and the code of its team."""
    slug = await session.scalar(select(Game.slug).where(Game.id == row.game_id))
    code = await session.scalar(select(Team.code).where(Team.id == row.team_id))
    return slug, code
