"""SQL for staff accounts, console sessions, invitations, resets and sign-in failures."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.models import ApiToken
from accounts.staff.models import (
    StaffInvitation,
    StaffPasswordReset,
    StaffSession,
    StaffSignInFailure,
    StaffUser,
)
from game.models import Game, Team

# ---------------------------------------------------------------- users


async def user_by_email(session: AsyncSession, email: str) -> StaffUser | None:
    return await session.scalar(select(StaffUser).where(StaffUser.email == email))


async def user_by_id(session: AsyncSession, user_id: int) -> StaffUser | None:
    return await session.get(StaffUser, user_id)


async def users_in(session: AsyncSession, game_id: int | None) -> Sequence[StaffUser]:
    """Every account (``game_id`` None) or the accounts of one game."""
    query = select(StaffUser).order_by(StaffUser.email)
    if game_id is not None:
        query = query.where(StaffUser.game_id == game_id)
    return (await session.scalars(query)).all()


async def delete_user(session: AsyncSession, user_id: int) -> None:
    await session.execute(delete(StaffUser).where(StaffUser.id == user_id))


# ---------------------------------------------------------------- games and teams


async def game_by_slug(session: AsyncSession, slug: str) -> Game | None:
    return await session.scalar(select(Game).where(Game.slug == slug))


async def games(session: AsyncSession, game_id: int | None) -> Sequence[Game]:
    query = select(Game).order_by(Game.starts_at.desc(), Game.slug)
    if game_id is not None:
        query = query.where(Game.id == game_id)
    return (await session.scalars(query)).all()


async def team_in_game(session: AsyncSession, game_id: int, code: str) -> Team | None:
    return await session.scalar(select(Team).where(Team.game_id == game_id, Team.code == code))


async def team_by_id(session: AsyncSession, team_id: int) -> Team | None:
    return await session.get(Team, team_id)


async def game_slugs(session: AsyncSession, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = await session.execute(select(Game.id, Game.slug).where(Game.id.in_(ids)))
    return {game_id: slug for game_id, slug in rows.all()}


async def team_codes(session: AsyncSession, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = await session.execute(select(Team.id, Team.code).where(Team.id.in_(ids)))
    return {team_id: code for team_id, code in rows.all()}


# ---------------------------------------------------------------- sessions


async def session_by_hash(session: AsyncSession, id_hash: str) -> StaffSession | None:
    return await session.scalar(select(StaffSession).where(StaffSession.id_hash == id_hash))


async def delete_session(session: AsyncSession, session_id: int) -> None:
    await session.execute(delete(StaffSession).where(StaffSession.id == session_id))


async def delete_sessions_of(
    session: AsyncSession, user_id: int, *, keep: int | None = None
) -> int:
    query = delete(StaffSession).where(StaffSession.user_id == user_id)
    if keep is not None:
        query = query.where(StaffSession.id != keep)
    result = await session.execute(query)
    return int(getattr(result, "rowcount", 0) or 0)


async def touch_session(session: AsyncSession, session_id: int, now: datetime) -> None:
    await session.execute(
        update(StaffSession).where(StaffSession.id == session_id).values(last_seen_at=now)
    )


# ---------------------------------------------------------------- invitations and resets


async def invitation_by_hash(session: AsyncSession, token_hash: str) -> StaffInvitation | None:
    return await session.scalar(
        select(StaffInvitation).where(StaffInvitation.token_hash == token_hash)
    )


async def pending_invitations(
    session: AsyncSession, game_id: int | None, now: datetime
) -> Sequence[StaffInvitation]:
    query = (
        select(StaffInvitation)
        .where(StaffInvitation.accepted_at.is_(None), StaffInvitation.expires_at > now)
        .order_by(StaffInvitation.created_at.desc())
    )
    if game_id is not None:
        query = query.where(StaffInvitation.game_id == game_id)
    return (await session.scalars(query)).all()


async def invitation_by_id(session: AsyncSession, invitation_id: int) -> StaffInvitation | None:
    return await session.get(StaffInvitation, invitation_id)


async def delete_invitation(session: AsyncSession, invitation_id: int) -> None:
    await session.execute(delete(StaffInvitation).where(StaffInvitation.id == invitation_id))


async def reset_by_hash(session: AsyncSession, token_hash: str) -> StaffPasswordReset | None:
    return await session.scalar(
        select(StaffPasswordReset).where(StaffPasswordReset.token_hash == token_hash)
    )


async def delete_resets_of(session: AsyncSession, user_id: int) -> None:
    await session.execute(delete(StaffPasswordReset).where(StaffPasswordReset.user_id == user_id))


# ---------------------------------------------------------------- sign-in failures


async def failures(
    session: AsyncSession, since: datetime, *, client: str, account_key: str | None = None
) -> tuple[int, datetime | None, datetime | None]:
    """How many failures since ``since`` (for the account from the client, or from the
    client for any account), and the first and last of them."""
    query = select(
        func.count(StaffSignInFailure.id),
        func.min(StaffSignInFailure.created_at),
        func.max(StaffSignInFailure.created_at),
    ).where(StaffSignInFailure.client == client, StaffSignInFailure.created_at >= since)
    if account_key is not None:
        query = query.where(StaffSignInFailure.account_key == account_key)
    count, first, last = (await session.execute(query)).one()
    return int(count), first, last


def add_failure(session: AsyncSession, account_key: str, client: str, now: datetime) -> None:
    session.add(StaffSignInFailure(account_key=account_key, client=client, created_at=now))


async def clear_failures(session: AsyncSession, account_key: str, client: str) -> None:
    await session.execute(
        delete(StaffSignInFailure).where(
            StaffSignInFailure.account_key == account_key, StaffSignInFailure.client == client
        )
    )


async def purge_before(session: AsyncSession, before: datetime) -> None:
    """Forgets failures, sessions and links that no longer serve anything."""
    await session.execute(delete(StaffSignInFailure).where(StaffSignInFailure.created_at < before))
    await session.execute(
        delete(StaffPasswordReset).where(
            or_(StaffPasswordReset.expires_at < before, StaffPasswordReset.used_at.is_not(None))
        )
    )


# ---------------------------------------------------------------- API tokens


async def tokens_of(session: AsyncSession, user_id: int) -> Sequence[ApiToken]:
    return (
        await session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == user_id)
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        )
    ).all()


async def link_token(session: AsyncSession, token_hash: str, user_id: int) -> None:
    await session.execute(
        update(ApiToken).where(ApiToken.token_hash == token_hash).values(user_id=user_id)
    )


async def revoke_token(session: AsyncSession, token_id: int, user_id: int, now: datetime) -> bool:
    result = await session.execute(
        update(ApiToken)
        .where(ApiToken.id == token_id, ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return bool(getattr(result, "rowcount", 0))
