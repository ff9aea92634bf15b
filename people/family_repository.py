"""SQL for family accounts, their sessions and members (people/family.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from game.models import Campaign, Checkpoint, Game, Tap
from people.family_models import FamilyAccount, FamilyMember, FamilySession
from people.models import Player


async def account(session: AsyncSession, account_id: int) -> FamilyAccount | None:
    return await session.get(FamilyAccount, account_id)


async def account_by_email(session: AsyncSession, email: str) -> FamilyAccount | None:
    return await session.scalar(select(FamilyAccount).where(FamilyAccount.email == email))


async def account_by_code(session: AsyncSession, code: str) -> FamilyAccount | None:
    return await session.scalar(select(FamilyAccount).where(FamilyAccount.account_code == code))


async def session_by_hash(session: AsyncSession, id_hash: str) -> FamilySession | None:
    return await session.scalar(select(FamilySession).where(FamilySession.id_hash == id_hash))


async def delete_session(session: AsyncSession, session_id: int) -> None:
    await session.execute(delete(FamilySession).where(FamilySession.id == session_id))


async def delete_sessions(session: AsyncSession, account_id: int) -> None:
    await session.execute(delete(FamilySession).where(FamilySession.account_id == account_id))


async def touch_session(session: AsyncSession, session_id: int, at: datetime) -> None:
    await session.execute(
        update(FamilySession).where(FamilySession.id == session_id).values(last_seen_at=at)
    )


async def members(session: AsyncSession, account_id: int) -> Sequence[Player]:
    """The account's players who are not erased, in the order they were added."""
    return (
        await session.scalars(
            select(Player)
            .join(FamilyMember, FamilyMember.player_id == Player.id)
            .where(FamilyMember.account_id == account_id, Player.erased_at.is_(None))
            .order_by(FamilyMember.id)
        )
    ).all()


async def member(session: AsyncSession, account_id: int, player_id: int) -> Player | None:
    return await session.scalar(
        select(Player)
        .join(FamilyMember, FamilyMember.player_id == Player.id)
        .where(
            FamilyMember.account_id == account_id,
            FamilyMember.player_id == player_id,
            Player.erased_at.is_(None),
        )
    )


async def delete_member(session: AsyncSession, player_id: int) -> None:
    await session.execute(delete(FamilyMember).where(FamilyMember.player_id == player_id))


async def delete_account(session: AsyncSession, account_id: int) -> None:
    await session.execute(delete(FamilyMember).where(FamilyMember.account_id == account_id))
    await session.execute(delete(FamilySession).where(FamilySession.account_id == account_id))
    await session.execute(delete(FamilyAccount).where(FamilyAccount.id == account_id))


# ------------------------------------------------------------------------------ games


async def games(session: AsyncSession) -> Sequence[Game]:
    return (await session.scalars(select(Game).order_by(Game.starts_at.desc(), Game.name))).all()


async def game_by_slug(session: AsyncSession, slug: str) -> Game | None:
    return await session.scalar(select(Game).where(Game.slug == slug))


async def campaigns_ending_after(
    session: AsyncSession, game_id: int, moment: datetime
) -> Sequence[Campaign]:
    return (
        await session.scalars(
            select(Campaign)
            .where(Campaign.game_id == game_id, Campaign.ends_at > moment)
            .order_by(Campaign.starts_at, Campaign.name)
        )
    ).all()


async def checkpoints(session: AsyncSession, game_id: int) -> Sequence[Checkpoint]:
    return (
        await session.scalars(
            select(Checkpoint).where(Checkpoint.game_id == game_id).order_by(Checkpoint.name)
        )
    ).all()


async def visited_checkpoint_ids(session: AsyncSession, game_id: int, holder_id: int) -> set[int]:
    """The boxes where the holder has a tap that counted (not out of the game)."""
    rows = await session.scalars(
        select(Tap.checkpoint_id)
        .where(
            Tap.game_id == game_id,
            Tap.holder_id == holder_id,
            Tap.outcome.is_not(None),
            Tap.outcome != "out_of_game",
        )
        .distinct()
    )
    return set(rows.all())
